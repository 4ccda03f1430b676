"""Admin routes (``/__emulator/...``): test control, not part of Salesforce's API."""

from __future__ import annotations

import json
from typing import Any

from tests.emulator import bulk
from tests.emulator.data import FIELDS_BY_LOWER
from tests.emulator.faults import parse_fail_spec
from tests.emulator.render import format_datetime
from tests.emulator.state import DEFAULT_API_LIMIT, OrgState
from tests.emulator.wire import (
    Request,
    Response,
    json_bytes,
)


class AdminRoutes(OrgState):
    """``/__emulator/...``: configuration, reset, the request log, data changes."""

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply admin config changes; return the resulting config.

        Raises:
            ValueError: an unknown key or a bad value.
        """
        known = {
            "fail",
            "latency_ms",
            "api_limit",
            "api_usage",
            "rotate_refresh_tokens",
            "jwt_public_key_pem",
            "external_client_app",
            "expire_all_tokens",
            "bulk_polls_to_complete",
            "bulk_chunk_rows",
            "bulk_sorted_max_rows",
            "bulk_refusal",
            "clock_offset_seconds",
            "cursors_per_user",
            "cursor_idle_seconds",
        }
        unknown = set(changes) - known
        if unknown:
            msg = f"unknown config keys: {sorted(unknown)}"
            raise ValueError(msg)
        with self.lock:
            if "fail" in changes:
                self.faults = parse_fail_spec(str(changes["fail"] or ""))
                self.rest_calls = 0
                self.query_pages = 0
                self.bulk_creates = 0
                self.token_requests = 0
                self.query_more_calls = 0
            if "latency_ms" in changes:
                self.latency_ms = float(changes["latency_ms"])
            if "api_limit" in changes:
                self.api_limit = int(changes["api_limit"])
            if "api_usage" in changes:
                self.api_usage = int(changes["api_usage"])
            self._configure_tokens(changes)
            self._configure_bulk(changes)
            if "clock_offset_seconds" in changes:
                self.clock_offset = float(changes["clock_offset_seconds"])
            self._configure_cursors(changes)
            return self.config()

    def _configure_tokens(self, changes: dict[str, Any]) -> None:
        tokens = self.tokens
        if "rotate_refresh_tokens" in changes:
            tokens.rotate_refresh_tokens = bool(changes["rotate_refresh_tokens"])
        if "external_client_app" in changes:
            tokens.external_client_app = bool(changes["external_client_app"])
        if "jwt_public_key_pem" in changes:
            tokens.jwt_public_key_pem = changes["jwt_public_key_pem"] or None
        if changes.get("expire_all_tokens"):
            tokens.expire_all()

    def _configure_bulk(self, changes: dict[str, Any]) -> None:
        jobs = self.bulk
        if "bulk_polls_to_complete" in changes:
            jobs.polls_to_complete = max(1, int(changes["bulk_polls_to_complete"]))
        if "bulk_chunk_rows" in changes:
            jobs.chunk_rows = max(1, int(changes["bulk_chunk_rows"]))
        if "bulk_sorted_max_rows" in changes:
            value = changes["bulk_sorted_max_rows"]
            jobs.sorted_max_rows = None if value is None else int(value)
        if "bulk_refusal" in changes:
            refusal = changes["bulk_refusal"] or None
            if refusal is not None and refusal not in bulk.REFUSALS:
                msg = f"bulk_refusal must be one of {sorted(bulk.REFUSALS)} or null"
                raise ValueError(msg)
            jobs.refusal = refusal

    def _configure_cursors(self, changes: dict[str, Any]) -> None:
        if "cursors_per_user" in changes:
            self.cursors_per_user = max(1, int(changes["cursors_per_user"]))
        if "cursor_idle_seconds" in changes:
            self.cursor_idle_seconds = max(0.0, float(changes["cursor_idle_seconds"]))

    def config(self) -> dict[str, Any]:
        """The current admin-visible configuration and counters."""
        return {
            "fail": self.faults.spec,
            "latency_ms": self.latency_ms,
            "api_limit": self.api_limit,
            "api_usage": self.api_usage,
            "rotate_refresh_tokens": self.tokens.rotate_refresh_tokens,
            "jwt_public_key_configured": bool(self.tokens.jwt_public_key_pem),
            "external_client_app": self.tokens.external_client_app,
            "bulk_polls_to_complete": self.bulk.polls_to_complete,
            "bulk_chunk_rows": self.bulk.chunk_rows,
            "bulk_sorted_max_rows": self.bulk.sorted_max_rows,
            "bulk_refusal": self.bulk.refusal,
            "clock_offset_seconds": self.clock_offset,
            "bulk_creates": self.bulk_creates,
            "bulk_jobs": len(self.bulk.jobs),
            "cursors_per_user": self.cursors_per_user,
            "cursor_idle_seconds": self.cursor_idle_seconds,
            "open_cursors": len(self.cursors),
            "accounts": self.data.count,
            "deleted": len(self.data.deleted),
            "seed": self.seed,
            "rest_calls": self.rest_calls,
            "query_pages": self.query_pages,
        }

    def reset(self) -> None:
        """Back to the state at start: data, faults, usage, cursors, jobs, log (tokens stay)."""
        with self.lock:
            initial = self.initial
            self._reset_state(
                fail=str(initial["fail"]),
                latency_ms=float(initial["latency_ms"] or 0),
                api_limit=int(initial["api_limit"] or DEFAULT_API_LIMIT),
            )
            self.tokens.rotate_refresh_tokens = bool(initial["rotate_refresh_tokens"])
            self.tokens.jwt_public_key_pem = initial["jwt_public_key_pem"]
            self.tokens.external_client_app = bool(initial["external_client_app"])
            self.log.clear()

    def admin(self, request: Request) -> Response:  # noqa: C901, PLR0911
        """``/__emulator/...``: test control (no auth, not counted)."""
        name = request.path.removeprefix("/__emulator/").rstrip("/")
        payload: Any = {}
        if request.method == "POST" and request.body:
            try:
                payload = json.loads(request.body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return _admin_error("body is not JSON")
        if not isinstance(payload, dict):
            return _admin_error("body must be a JSON object")
        if name == "requests" and request.method == "GET":
            return Response(200, json_bytes(list(self.log)), kind="admin")
        if name == "reset-log" and request.method == "POST":
            self.log.clear()
            return Response(200, b"{}", kind="admin")
        if name in {"reset", "expire-cursors"} and request.method == "POST":
            return self._admin_action(name)
        if name == "config":
            if request.method == "GET":
                return Response(200, json_bytes(self.config()), kind="admin")
            if request.method == "POST":
                try:
                    return Response(200, json_bytes(self.configure(payload)), kind="admin")
                except (ValueError, TypeError) as exc:
                    return _admin_error(str(exc))
        if name in {"touch", "delete", "insert", "field-security"} and request.method == "POST":
            try:
                return self._admin_change(name, payload)
            except (ValueError, TypeError) as exc:
                return _admin_error(str(exc))
        return Response(
            404,
            json_bytes({"error": f"unknown admin call {request.method} {request.path}"}),
            kind="admin",
        )

    def _admin_action(self, name: str) -> Response:
        if name == "reset":
            self.reset()
            return Response(200, b"{}", kind="admin")
        with self.lock:
            expired = len(self.cursors)
            self.cursors.clear()
        return Response(200, json_bytes({"expired": expired}), kind="admin")

    def _field_security(self, payload: dict[str, Any]) -> Response:
        """Hide fields from the integration user, as a permission change does.

        The describe's Last-Modified stays put: a client revalidating its cached describe
        hears 304 and still believes in the hidden fields.
        """
        hidden: set[str] = set()
        for name in payload.get("hidden") or []:
            info = FIELDS_BY_LOWER.get(str(name).lower())
            if info is None or info.name in {"Id", "SystemModstamp"}:
                msg = f"cannot hide field: {name}"
                raise ValueError(msg)
            hidden.add(info.name)
        with self.lock:
            self.hidden_fields = frozenset(hidden)
        return Response(200, json_bytes({"hidden": sorted(hidden)}), kind="admin")

    def _admin_change(self, name: str, payload: dict[str, Any]) -> Response:
        if name == "field-security":
            return self._field_security(payload)
        data = self.data
        stamp_at = None
        if payload.get("age_seconds") is not None:
            # A change whose SystemModstamp lies this far before the org's "now": with
            # insert, a record that commits late (its transaction ran that long).
            stamp_at = int(self.now() - float(payload["age_seconds"])) * 1000
        if name == "insert":
            indexes, stamp = data.insert(int(payload.get("count", 1)), stamp_at=stamp_at)
        else:
            ids = payload.get("ids")
            targets: list[int] | None = None
            if ids is not None:
                targets = []
                for rid in ids:
                    index = data.index_of_id(str(rid))
                    if index is None:
                        msg = f"unknown Account Id: {rid}"
                        raise ValueError(msg)
                    targets.append(index)
            if name == "delete":
                if targets is None:
                    msg = "delete needs ids"
                    raise ValueError(msg)
                indexes, stamp = data.delete(targets)
            else:
                indexes, stamp = data.touch(
                    targets, int(payload.get("count", 0)), stamp_at=stamp_at
                )
        body = {
            "ids": [data.record_id(i) for i in indexes],
            "system_modstamp": format_datetime(stamp),
        }
        return Response(200, json_bytes(body), kind="admin")


def _admin_error(message: str) -> Response:
    return Response(400, json_bytes({"error": message}), kind="admin")
