"""Query and record routes: ``query``/``queryAll`` with cursors, records by Id and External ID."""

from __future__ import annotations

import re
import time
from typing import Any, Final

from tests.emulator import engine
from tests.emulator.data import FIELDS_BY_LOWER
from tests.emulator.describe import NUMBER_TYPES
from tests.emulator.ids import make_id, to18
from tests.emulator.soql import SoqlError, parse
from tests.emulator.state import Cursor, OrgState
from tests.emulator.wire import (
    NOT_FOUND,
    Request,
    Response,
    error,
    json_bytes,
)

DEFAULT_BATCH: Final = 2_000
MIN_BATCH: Final = 200
_LOCATOR_RE: Final = re.compile(r"(01g[A-Za-z0-9]{15})-(\d+)")


class QueryRoutes(OrgState):
    """SOQL queries with cursors, and single records by Id or External ID."""

    def query(self, request: Request, version: str, *, include_deleted: bool) -> Response:
        """``GET .../query?q=`` and ``.../queryAll?q=``."""
        soql = request.params.get("q")
        log: dict[str, Any] = {"soql": soql}
        if soql is None:
            response = error(400, "MALFORMED_QUERY", "A query string has to be specified")
            response.log = log
            return response
        try:
            parsed = parse(soql, hidden=self.hidden_fields)
        except SoqlError as exc:
            response = error(400, exc.error_code, exc.message)
            response.log = log
            return response
        log["literals"] = parsed.literals
        indexes = engine.execute(parsed, self.data, include_deleted=include_deleted)
        if parsed.count_only:
            body = json_bytes({"totalSize": len(indexes), "done": True, "records": []})
            return Response(200, body, log=log)
        batch = _batch_size(request.headers.get("sforce-query-options", ""))
        renderer = self.renderer(parsed.fields, version, "json")
        resource = "queryAll" if include_deleted else "query"
        cursor = Cursor(indexes, renderer, batch, version, resource)
        locator = None
        if len(indexes) > batch:
            with self.lock:
                self.cursor_counter += 1
                locator = make_id("01g", 90_000 + self.cursor_counter)
                cursor.locator = locator
                self.cursors[locator] = cursor
                while len(self.cursors) > self.cursors_per_user:
                    self.cursors.popitem(last=False)
        return self._page(cursor, locator, 0, log)

    def query_more(self, request: Request, token: str) -> Response:
        """``GET .../query/01g...-2000``: the next page of a cursor."""
        del request
        match = _LOCATOR_RE.fullmatch(token)
        with self.lock:
            self.query_more_calls += 1
            every = self.faults.locator
            faulted = every is not None and self.query_more_calls % every == 0
            cursor = self.cursors.get(match.group(1)) if match else None
            if match is not None and cursor is not None:
                now = time.monotonic()
                if faulted or now - cursor.used_at >= self.cursor_idle_seconds:
                    del self.cursors[match.group(1)]
                    cursor = None
                else:
                    cursor.used_at = now
        if match is None or cursor is None:
            return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        offset = int(match.group(2))
        if offset > len(cursor.indexes):
            return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor, match.group(1), offset, {})

    def _page(
        self, cursor: Cursor, locator: str | None, offset: int, log: dict[str, Any]
    ) -> Response:
        del locator
        with cursor.lock:
            prefetched = cursor.prefetch
            cursor.prefetch = None
        body = None
        if prefetched is not None and prefetched[0] == offset:
            try:
                body = prefetched[1].result()
            except Exception:  # noqa: BLE001 - render again below, and raise there
                body = None
        if body is None:
            body = cursor.page_body(offset)
        end = min(len(cursor.indexes), offset + cursor.batch)
        if cursor.locator is not None and end < len(cursor.indexes):
            try:
                future = self.executor.submit(cursor.page_body, end)
            except RuntimeError:  # shut down
                pass
            else:
                with cursor.lock:
                    cursor.prefetch = (end, future)
        response = Response(200, body, log=log)
        with self.lock:
            self.query_pages += 1
            number = self.query_pages
            faults = self.faults
        if faults.drop and number % faults.drop == 0:
            response.fault = "drop"
        elif faults.malformed and number % faults.malformed == 0:
            response.body = body[: max(1, len(body) // 2)]
        return response

    # ------------------------------------------------------------------ records
    def _fields_param(self, request: Request) -> tuple[str, ...] | Response:
        raw = request.params.get("fields")
        readable = self.readable_fields()
        if not raw:
            return readable
        names: list[str] = []
        for part in raw.split(","):
            name = part.strip()
            if not name:
                continue
            info = FIELDS_BY_LOWER.get(name.lower())
            if info is None or info.name in self.hidden_fields:
                return error(
                    400, "INVALID_FIELD", f"No such column '{name}' on sobject of type Account"
                )
            if info.name not in names:
                names.append(info.name)
        return tuple(names) or readable

    def _record_response(self, request: Request, version: str, index: int) -> Response:
        fields = self._fields_param(request)
        if isinstance(fields, Response):
            return fields
        body = self.renderer(fields, version, "json").render(index)
        return Response(200, body)

    def sobject(self, request: Request, version: str, segment: str) -> Response:
        """``GET .../sobjects/Account/{Id}``."""
        index = self._index_from_id(segment)
        if isinstance(index, Response):
            return index
        return self._record_response(request, version, index)

    def _index_from_id(self, segment: str) -> int | Response:
        full = to18(segment)
        if full is None:
            return error(400, "MALFORMED_ID", f"Account ID: id value of incorrect type: {segment}")
        if not full.startswith("001"):
            return error(400, "MALFORMED_ID", f"Account ID: id value of incorrect type: {segment}")
        index = self.data.index_of_id(full)
        if index is None or not self.data.exists(index):
            return error(404, "NOT_FOUND", NOT_FOUND)
        return index

    def by_external_id(  # noqa: PLR0911
        self, request: Request, version: str, field_name: str, value: str | None
    ) -> Response:
        """``GET .../sobjects/Account/{Field}/{value}`` (and a blob: ``.../{Id}/Logo__c``)."""
        info = FIELDS_BY_LOWER.get(field_name.lower())
        blob = FIELDS_BY_LOWER.get((value or "").lower())
        if to18(field_name) is not None and blob is not None and blob.type == "base64":
            index = self._index_from_id(field_name)
            if isinstance(index, Response):
                return index
            if self.data.value(index, blob.name) is None:
                return error(404, "NOT_FOUND", NOT_FOUND)
            return Response(200, _logo_png(index), "image/png", kind="other")
        if (
            info is None
            or info.name in self.hidden_fields
            or not (info.external_id or info.name == "Id")
        ):
            return error(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field_name}",
            )
        if value is None:
            return error(404, "NOT_FOUND", NOT_FOUND)
        if info.name == "Id":
            return self.sobject(request, version, value)
        if info.type in NUMBER_TYPES:
            return self._by_number(request, version, info.name, value)
        matches = self._external_matches(info.name, value)
        if not matches:
            return error(404, "NOT_FOUND", NOT_FOUND)
        if len(matches) > 1:
            ids = [self.data.record_id(i) for i in matches]
            urls = [f"/services/data/v{version}/sobjects/Account/{rid}" for rid in ids]
            return Response(300, json_bytes(urls))
        return self._record_response(request, version, matches[0])

    def _by_number(self, request: Request, version: str, name: str, value: str) -> Response:
        # Salesforce's answer to text in a numeric External ID's path is unverified.
        try:
            number = float(value)
        except ValueError:
            return error(
                400,
                "INVALID_FIELD",
                f"value of filter criterion for field '{name}' must be of type double",
            )
        index = engine.member_index(self.data, number)
        if index is None or not self.data.exists(index):
            return error(404, "NOT_FOUND", NOT_FOUND)
        return self._record_response(request, version, index)

    def _external_matches(self, name: str, value: str) -> list[int]:
        data = self.data
        folded = value.lower()
        if name == "Customer_Key__c":
            index = engine.customer_key_index(data, value)
            candidates = [] if index is None else [index]
        else:
            candidates = engine.legacy_candidates(value, data.count)
        out = []
        for index in candidates:
            if not data.exists(index):
                continue
            current = data.value(index, name)
            if isinstance(current, str) and current.lower() == folded:
                out.append(index)
        return out


def _batch_size(options: str) -> int:
    for part in options.split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize":
            try:
                return max(MIN_BATCH, min(DEFAULT_BATCH, int(value.strip())))
            except ValueError:
                return DEFAULT_BATCH
    return DEFAULT_BATCH


def _logo_png(index: int) -> bytes:
    """A tiny valid PNG (1x1 pixel) whose colour depends on the index."""
    import struct  # noqa: PLC0415
    import zlib  # noqa: PLC0415

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    pixel = bytes([0, index % 256, (index * 7) % 256, (index * 13) % 256])
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixel))
        + chunk(b"IEND", b"")
    )
