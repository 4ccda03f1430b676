"""The emulated org's state: data, tokens, faults, usage, cursors, Bulk jobs, renderers, the log."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from tests.emulator import bulk
from tests.emulator.data import (
    ALL_FIELD_NAMES,
    Dataset,
)
from tests.emulator.faults import Faults, parse_fail_spec
from tests.emulator.oauth import TokenStore
from tests.emulator.render import Renderer

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from tests.emulator.wire import (
        Request,
        Response,
    )

# Salesforce keeps about 10 query cursors open per user, dropping the oldest, and closes one
# left idle about 15 minutes (exact limits unverified). The emulated org has one API user.
CURSORS_PER_USER: Final = 10
CURSOR_IDLE_SECONDS: Final = 900.0
MAX_RENDERERS: Final = 32
MAX_LOG_ENTRIES: Final = 100_000
DEFAULT_API_LIMIT: Final = 1_000_000
_REDACTED_PARAMS: Final = frozenset(
    {
        "token",
        "code",
        "client_secret",
        "refresh_token",
        "access_token",
        "assertion",
        "code_verifier",
        "password",
    }
)


@dataclass
class Cursor:
    """A query's remaining rows (REST ``nextRecordsUrl``).

    While the client reads one page, the next one is rendered in the background
    (``prefetch``), so paging costs the client little more than the transfer.
    """

    indexes: Sequence[int]
    renderer: Renderer
    batch: int
    version: str
    resource: str
    locator: str | None = None
    used_at: float = field(default_factory=time.monotonic)
    prefetch: tuple[int, Future[bytes]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def page_body(self, offset: int) -> bytes:
        """The JSON page starting at row ``offset``."""
        total = len(self.indexes)
        end = min(total, offset + self.batch)
        render = self.renderer.render
        records = [render(i) for i in self.indexes[offset:end]]
        if end < total:
            next_url = f"/services/data/v{self.version}/{self.resource}/{self.locator}-{end}"
            head = f'{{"totalSize":{total},"done":false,"nextRecordsUrl":"{next_url}","records":['
        else:
            head = f'{{"totalSize":{total},"done":true,"records":['
        if not records:
            return head.encode() + b"]}"
        records[0] = head.encode() + records[0]
        records[-1] += b"]}"
        return b",".join(records)


class OrgState:
    """The emulated org's data and every piece of server state, shared by the route mixins."""

    def __init__(
        self,
        *,
        accounts: int = 500,
        seed: int = 1,
        latency_ms: float = 0,
        fail: str = "",
        log_path: str | Path | None = None,
        api_limit: int = DEFAULT_API_LIMIT,
        rotate_refresh_tokens: bool = False,
        jwt_public_key_pem: str | None = None,
        external_client_app: bool = False,
    ) -> None:
        """Build the org (see ``Emulator`` for the arguments)."""
        self.accounts = accounts
        self.seed = seed
        self.initial: dict[str, Any] = {
            "latency_ms": latency_ms,
            "fail": fail,
            "api_limit": api_limit,
            "rotate_refresh_tokens": rotate_refresh_tokens,
            "jwt_public_key_pem": jwt_public_key_pem,
            "external_client_app": external_client_app,
        }
        self.lock = threading.RLock()
        self.tokens = TokenStore(
            rotate_refresh_tokens=rotate_refresh_tokens,
            jwt_public_key_pem=jwt_public_key_pem,
            external_client_app=external_client_app,
        )
        self.log_path = str(log_path) if log_path else None
        self.log: deque[dict[str, Any]] = deque(maxlen=MAX_LOG_ENTRIES)
        self._log_file_lock = threading.Lock()
        self._describe_cache: dict[tuple[str, str, frozenset[str]], bytes] = {}
        self._renderers: OrderedDict[tuple[tuple[str, ...], str, str], Renderer] = OrderedDict()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="emulator-prefetch")
        self._reset_state(fail=fail, latency_ms=latency_ms, api_limit=api_limit)

    def close(self) -> None:
        """Stop the background page renderer."""
        self.executor.shutdown(wait=False, cancel_futures=True)

    def _reset_state(self, *, fail: str, latency_ms: float, api_limit: int) -> None:
        self.data = Dataset(self.accounts, self.seed)
        self.faults: Faults = parse_fail_spec(fail)
        self.latency_ms = latency_ms
        self.api_limit = api_limit
        self.api_usage = 0
        self.rest_calls = 0
        self.query_pages = 0
        self.bulk_creates = 0
        self.token_requests = 0
        self.cursors: OrderedDict[str, Cursor] = OrderedDict()
        self.cursor_counter = 0
        self.cursors_per_user = CURSORS_PER_USER
        self.cursor_idle_seconds = CURSOR_IDLE_SECONDS
        self.query_more_calls = 0
        # Fields the integration user lost read access to (field-level security).
        self.hidden_fields: frozenset[str] = frozenset()
        self.bulk = bulk.BulkJobs(seed=self.seed)
        self.clock_offset = 0.0
        self._renderers.clear()

    def now(self) -> float:
        """The org's clock (epoch seconds): the wall clock moved by ``clock_offset_seconds``."""
        return time.time() + self.clock_offset

    # ------------------------------------------------------------------ request log
    def record(self, request: Request, response: Response, started: float) -> None:
        """Add one request log entry (memory, and the JSON-lines file when configured)."""
        params = {
            k: ("<redacted>" if k in _REDACTED_PARAMS else v) for k, v in request.params.items()
        }
        entry: dict[str, Any] = {
            "ts": started,
            "method": request.method,
            "path": request.path,
            "params": params,
            "status": response.status,
            "kind": response.kind,
            "grant_type": None,
            "soql": None,
            "literals": [],
            "if_modified_since": request.headers.get("if-modified-since"),
            "bytes": len(response.body),
            "duration_ms": round((time.perf_counter() - request.clock) * 1000, 3),
        }
        entry.update(response.log)
        self.log.append(entry)
        if self.log_path:
            line = json.dumps(entry, ensure_ascii=False) + "\n"
            with self._log_file_lock, open(self.log_path, "a", encoding="utf-8") as handle:  # noqa: PTH123
                handle.write(line)

    def limit_header(self) -> tuple[str, str]:
        """``Sforce-Limit-Info: api-usage=U/MAX``."""
        return ("Sforce-Limit-Info", f"api-usage={self.api_usage}/{self.api_limit}")

    def readable_fields(self) -> tuple[str, ...]:
        """Every field the user can read, in describe order."""
        hidden = self.hidden_fields
        return tuple(name for name in ALL_FIELD_NAMES if name not in hidden)

    def renderer(self, fields: tuple[str, ...], version: str, fmt: str) -> Renderer:
        """A cached renderer for a select list."""
        key = (fields, version, fmt)
        with self.lock:
            found = self._renderers.get(key)
            if found is not None:
                self._renderers.move_to_end(key)
                return found
            created = Renderer(self.data, fields, version, "json" if fmt == "json" else "csv")
            self._renderers[key] = created
            while len(self._renderers) > MAX_RENDERERS:
                self._renderers.popitem(last=False)
            return created
