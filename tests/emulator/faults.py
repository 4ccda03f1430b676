"""Fault injection: the ``--fail`` spec.

Grammar: comma-separated items, each one of

- ``expire:K``: every access token stops working after K authenticated REST calls (the next
  call answers 401 ``INVALID_SESSION_ID``);
- ``503:K[:S]``: every K-th REST call answers 503 ``SERVER_UNAVAILABLE`` (with
  ``Retry-After: S`` when S is given);
- ``429:K[:S]``: every K-th REST call answers 429 ``REQUEST_LIMIT_EXCEEDED`` (concurrent
  request limit; ``Retry-After: S`` when given);
- ``slow:MS``: every REST call waits MS milliseconds first; ``slow:K:MS``: every K-th does;
- ``drop:K``: every K-th query page (``query``/``queryAll``/``nextRecordsUrl``) sends its
  headers and half its body, then closes the connection;
- ``malformed:K``: every K-th query page answers 200 with a truncated JSON body;
- ``bulk-hangup:K``: every K-th Bulk API 2.0 job creation creates the job, then closes the
  connection without answering (as a timeout or a dropped connection leaves a client);
- ``login503:K``: every K-th token request answers 503 with an HTML maintenance page, as
  login hosts do during maintenance windows;
- ``login429:K[:S]``: every K-th token request answers 429 (``Retry-After: S`` when given);
- ``loginhang:K``: every K-th token request is read and never answered (until the client
  hangs up or the emulator stops);
- ``logindrop:K``: every K-th token request gets its connection closed without an answer;
- ``locator:K``: every K-th ``nextRecordsUrl`` call finds its cursor expired (400
  ``INVALID_QUERY_LOCATOR``, the cursor is gone), as an idle or evicted cursor does;
- ``304:K``: every K-th REST call answers ``304 Not Modified`` with no body, conditional or
  not (a cache in front of the org that answers requests it should not).

Counting is deterministic: REST calls are numbered 1, 2, 3... in arrival order (the
versions list, OAuth and the admin API are not counted), query pages, ``nextRecordsUrl``
calls, job creations and token requests (``POST /services/oauth2/token``) likewise; a call
is hit when its number is a multiple of K. Setting a new spec restarts the counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Faults:
    """A parsed fail spec."""

    spec: str = ""
    expire: int | None = None
    unavailable: int | None = None
    unavailable_retry_after: int | None = None
    too_many: int | None = None
    too_many_retry_after: int | None = None
    slow_ms: int = 0
    slow_every: tuple[tuple[int, int], ...] = field(default_factory=tuple)
    drop: int | None = None
    malformed: int | None = None
    bulk_hangup: int | None = None
    login_unavailable: int | None = None
    login_too_many: int | None = None
    login_too_many_retry_after: int | None = None
    login_hang: int | None = None
    login_drop: int | None = None
    locator: int | None = None
    not_modified: int | None = None

    def login_fault(self, token_request: int) -> str | None:
        """The fault token request number ``token_request`` meets: 503, 429, hang, drop."""
        for name, every in (
            ("503", self.login_unavailable),
            ("429", self.login_too_many),
            ("hang", self.login_hang),
            ("drop", self.login_drop),
        ):
            if every and token_request % every == 0:
                return name
        return None

    def slow_for(self, call_number: int) -> int:
        """Milliseconds REST call number ``call_number`` must wait."""
        extra = sum(ms for every, ms in self.slow_every if call_number % every == 0)
        return self.slow_ms + extra


_ONE_NUMBER = {
    "expire": "expire",
    "drop": "drop",
    "malformed": "malformed",
    "bulk-hangup": "bulk_hangup",
    "login503": "login_unavailable",
    "loginhang": "login_hang",
    "logindrop": "login_drop",
    "locator": "locator",
    "304": "not_modified",
}
_WITH_RETRY_AFTER = {"503": "unavailable", "429": "too_many", "login429": "login_too_many"}


def _positive(text: str, item: str) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"not a number in fail spec item {item!r}"
        raise ValueError(msg) from None
    if value < 1:
        msg = f"numbers must be >= 1 in fail spec item {item!r}"
        raise ValueError(msg)
    return value


def parse_fail_spec(spec: str) -> Faults:
    """Parse a fail spec (see the module docstring).

    Args:
        spec: e.g. ``"expire:5,503:7,drop:3"``; empty for no faults.

    Returns:
        The faults.

    Raises:
        ValueError: an unknown or malformed item.
    """
    values: dict[str, object] = {}
    slow_every: list[tuple[int, int]] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        name, *args = item.split(":")
        numbers = [_positive(arg, item) for arg in args]
        if name in _ONE_NUMBER and len(numbers) == 1:
            values[_ONE_NUMBER[name]] = numbers[0]
        elif name in _WITH_RETRY_AFTER and len(numbers) in {1, 2}:
            key = _WITH_RETRY_AFTER[name]
            values[key] = numbers[0]
            if len(numbers) == 2:
                values[f"{key}_retry_after"] = numbers[1]
        elif name == "slow" and len(numbers) == 1:
            values["slow_ms"] = numbers[0]
        elif name == "slow" and len(numbers) == 2:
            slow_every.append((numbers[0], numbers[1]))
        else:
            msg = f"unknown fail spec item {item!r}"
            raise ValueError(msg)
    return Faults(spec=spec, slow_every=tuple(slow_every), **values)  # type: ignore[arg-type]
