"""The hook service's Prometheus metrics: lookups, their latency, Salesforce requests, API usage.

Each service has its own registry, so that several services in one process (the tests) keep
their counts apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from tap_salesforce_accounts.hook.result import LookupResult

PREFIX: Final = "tap_salesforce_accounts_hook"
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
# From a warm lookup on a near org (tens of milliseconds) to the longest deadlines.
LATENCY_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)


class Metrics:
    """The counters of one service, and their text exposition."""

    def __init__(self) -> None:
        """Register the metrics in a registry of their own."""
        # The *_created samples only repeat the process start time.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        self.lookups = Counter(
            f"{PREFIX}_lookups",
            "Lookups answered, by the status of the answer.",
            ["status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_lookup_duration_seconds",
            "Time to answer a lookup, Salesforce included.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.salesforce_requests = Counter(
            f"{PREFIX}_salesforce_requests",
            "HTTP requests sent to Salesforce by lookups (token and describe included).",
            registry=self.registry,
        )
        self.api_used = Gauge(
            f"{PREFIX}_api_usage_used",
            "The org's API requests used today, as Salesforce last reported them.",
            registry=self.registry,
        )
        self.api_limit = Gauge(
            f"{PREFIX}_api_usage_limit",
            "The org's daily API request limit, as Salesforce last reported it.",
            registry=self.registry,
        )
        self.in_flight = Gauge(
            f"{PREFIX}_lookups_in_flight",
            "Lookups being answered now.",
            registry=self.registry,
        )
        self.ready = Gauge(
            f"{PREFIX}_ready",
            "1 when the token and the describe are warm.",
            registry=self.registry,
        )
        for status in ("ok", "not_found", "error", "stale"):
            self.lookups.labels(status)

    def observe(self, result: LookupResult) -> None:
        """Count one answered lookup."""
        self.lookups.labels(result.status).inc()
        self.latency.observe(result.duration_ms / 1000)
        if result.salesforce_calls:
            self.salesforce_requests.inc(result.salesforce_calls)
        usage = result.api_usage
        if usage is not None:
            self.api_used.set(usage.used)
            self.api_limit.set(usage.limit)

    def exposition(self) -> bytes:
        """The Prometheus text format."""
        return generate_latest(self.registry)
