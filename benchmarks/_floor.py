"""The raw floor of the extraction benchmark, run as a child: ``python -m benchmarks._floor``.

``requests`` + a JSON decode of every page + one JSON line per record, following
``nextRecordsUrl``: the same SOQL as the tap's full extraction (every describe field,
``ORDER BY SystemModstamp, Id``, 2,000-record pages), no typing, no Singer envelope, one
thread. orjson by default (the floor of record: the fastest plain Python reaches here);
``--json`` uses the standard library's ``json`` module instead.

    python -m benchmarks._floor CONFIG.json [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from benchmarks._common import Org

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

PAGE_SIZE: Final = 2000


def main(argv: Sequence[str] | None = None) -> int:
    """Extract every Account to stdout, one JSON line per record."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks._floor", description=__doc__)
    parser.add_argument("config", type=Path, help="a tap config (login_url and credentials)")
    parser.add_argument("--json", action="store_true", help="the standard json module")
    args = parser.parse_args(argv)
    org = Org.login(json.loads(args.config.read_text()))
    describe = org.get_json("sobjects/Account/describe")
    fields = [field["name"] for field in describe["fields"]]
    statement = f"SELECT {', '.join(fields)} FROM Account ORDER BY SystemModstamp, Id"  # noqa: S608
    headers = {"Sforce-Query-Options": f"batchSize={PAGE_SIZE}"}
    url: str | None = org.url("query")
    params: dict[str, str] | None = {"q": statement}
    out = sys.stdout.buffer
    decode: Callable[[bytes], Any]
    encode: Callable[[Any], bytes]
    if args.json:
        decode = json.loads
        dumps = json.dumps

        def encode(record: Any) -> bytes:  # noqa: ANN401
            return dumps(record).encode()

    else:
        import orjson  # noqa: PLC0415  (only this variant needs it)

        decode, encode = orjson.loads, orjson.dumps
    while url:
        response = org.session.get(url, params=params, headers=headers, timeout=120)
        response.raise_for_status()
        page = decode(response.content)
        for record in page["records"]:
            out.write(encode(record))
            out.write(b"\n")
        next_url = None if page.get("done", True) else page.get("nextRecordsUrl")
        url, params = (org.url(next_url), None) if next_url else (None, None)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
