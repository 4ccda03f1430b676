"""Singer messages as JSON lines on stdout, encoded by msgspec, written in large batches."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, BinaryIO, Final

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecWriter, enc_hook
from singer_sdk.singerlib import RecordMessage, SchemaMessage

from tap_salesforce_accounts.exceptions import StdoutClosedError

if TYPE_CHECKING:
    import datetime as dt

    from singer_sdk.singerlib.encoding.simple import Message

# Lines are gathered until this many bytes, then written with one call.
FLUSH_BYTES: Final = 1 << 20
_NEWLINE: Final = 10
_SCHEMA_LINES_KEPT: Final = 8


class SingerJsonlWriter(MsgSpecWriter):
    """The SDK's msgspec writer, batching RECORD lines into large writes.

    RECORD lines are gathered in memory and written once a megabyte has built up; any
    other message (SCHEMA, STATE) first writes what was gathered, then itself, then
    flushes, so a target sees each STATE only after the records it covers. Decimals are
    written as JSON numbers, keeping every digit of currency values.

    Args:
        stream: where lines go (stdout's binary buffer by default).
    """

    def __init__(self, stream: BinaryIO | None = None) -> None:
        """Write to ``stream`` or stdout."""
        super().__init__()
        self._stream = stream
        self._pending = bytearray()
        self._schema_lines: dict[int, tuple[SchemaMessage, bytes]] = {}
        self._encoder = msgspec.json.Encoder(enc_hook=enc_hook, decimal_format="number")

    @property
    def output(self) -> BinaryIO:
        """The binary stream messages go to."""
        return self._stream if self._stream is not None else sys.stdout.buffer

    def write_message(self, message: Message) -> None:
        """Write one message; anything but a RECORD is written and flushed at once."""
        if isinstance(message, RecordMessage):
            self._append(message.to_dict())
            return
        if self._pending and self._pending[-1] != _NEWLINE:
            # A STATE written from a signal handler can arrive between a RECORD line and
            # its newline: end that line first.
            self._pending.append(_NEWLINE)
        if isinstance(message, SchemaMessage):
            # Warm lookups write the same SCHEMA message each time; its dict form is a
            # deep copy of the whole schema, so the encoded line is kept.
            cached = self._schema_lines.get(id(message))
            if cached is None or cached[0] is not message:
                if len(self._schema_lines) >= _SCHEMA_LINES_KEPT:
                    self._schema_lines.clear()
                line = self._encoder.encode(message.to_dict()) + b"\n"
                cached = self._schema_lines[id(message)] = (message, line)
            self._pending += cached[1]
        else:
            self._append(message.to_dict())
        self.flush()

    def write_record(
        self,
        stream: str,
        record: dict[str, Any],
        version: int | None,
        time_extracted: dt.datetime,
    ) -> None:
        """Write a RECORD message without building a message object (the hot path)."""
        message: dict[str, Any] = {
            "type": "RECORD",
            "stream": stream,
            "record": record,
            "time_extracted": time_extracted,
        }
        if version is not None:
            message["version"] = version
        self._append(message)

    def _append(self, message: dict[str, Any]) -> None:
        pending = self._pending
        self._encoder.encode_into(message, pending, -1)
        pending.append(_NEWLINE)
        if len(pending) >= FLUSH_BYTES:
            self._write(pending)
            pending.clear()

    def flush(self) -> None:
        """Write every gathered line and flush the stream.

        Raises:
            StdoutClosedError: the reader went away; nothing more is written.
        """
        if self._pending:
            self._write(self._pending)
            self._pending.clear()
        try:
            self.output.flush()
        except BrokenPipeError:
            raise StdoutClosedError from None

    def _write(self, data: bytearray) -> None:
        try:
            self.output.write(data)
        except BrokenPipeError:
            # Lines not written stay unwritten: a STATE is never sent without the
            # records before it, and no more lines follow a closed pipe.
            self._pending.clear()
            raise StdoutClosedError from None
