"""Singer messages as JSON lines on stdout, encoded by msgspec, flushed per batch."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, BinaryIO

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import RecordMessage

if TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message


class SingerJsonlWriter(MsgSpecWriter):
    """The SDK's msgspec writer, without a flush per RECORD.

    Records are buffered and flushed with every other message (SCHEMA, STATE), so a
    target sees each STATE only after the records it covers. Decimals are written as
    JSON numbers, keeping every digit of currency values.

    Args:
        stream: where lines go (stdout's binary buffer by default).
    """

    def __init__(self, stream: BinaryIO | None = None) -> None:
        """Write to ``stream`` or stdout."""
        super().__init__()
        self._stream = stream

    @property
    def output(self) -> BinaryIO:
        """The binary stream messages go to."""
        return self._stream if self._stream is not None else sys.stdout.buffer

    def write_message(self, message: Message) -> None:
        """Write one message; flush unless it is a RECORD."""
        output = self.output
        output.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            output.flush()

    def flush(self) -> None:
        """Flush buffered records."""
        self.output.flush()
