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
  connection without answering (as a timeout or a dropped connection leaves a client).

Counting is deterministic: REST calls are numbered 1, 2, 3... in arrival order (the
versions list, OAuth and the admin API are not counted), query pages and job creations
likewise; a call is
hit when its number is a multiple of K. Setting a new spec restarts both counters.
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

    def slow_for(self, call_number: int) -> int:
        """Milliseconds REST call number ``call_number`` must wait."""
        extra = sum(ms for every, ms in self.slow_every if call_number % every == 0)
        return self.slow_ms + extra


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
        if name in {"expire", "drop", "malformed", "bulk-hangup"} and len(args) == 1:
            values[name.replace("-", "_")] = _positive(args[0], item)
        elif name in {"503", "429"} and len(args) in {1, 2}:
            key = "unavailable" if name == "503" else "too_many"
            values[key] = _positive(args[0], item)
            if len(args) == 2:
                values[f"{key}_retry_after"] = _positive(args[1], item)
        elif name == "slow" and len(args) == 1:
            values["slow_ms"] = _positive(args[0], item)
        elif name == "slow" and len(args) == 2:
            slow_every.append((_positive(args[0], item), _positive(args[1], item)))
        else:
            msg = f"unknown fail spec item {item!r}"
            raise ValueError(msg)
    return Faults(spec=spec, slow_every=tuple(slow_every), **values)  # type: ignore[arg-type]
