"""Bulk API 2.0 query jobs: create once, poll with backoff, read CSV pages, then delete.

Salesforce keeps a job and its results for about 7 days and counts every job against a
daily allowance, so a job is deleted once read, and aborted first when given up.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from typing import TYPE_CHECKING, Any, Final

from tap_salesforce_accounts import bulk_rows, schema
from tap_salesforce_accounts.exceptions import (
    ApiLimitError,
    BulkJobFailedError,
    BulkRefusedError,
    SalesforceAPIError,
    SessionExpiredError,
    TapSalesforceError,
    UnavailableError,
)
from tap_salesforce_accounts.readahead import read_ahead

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from tap_salesforce_accounts.client import SalesforceClient

logger = logging.getLogger(__name__)

# Records per results request: big enough to need few calls, small enough that one
# page (held as text while it is parsed) stays a few tens of MB.
RESULTS_PAGE_RECORDS: Final = 10_000
POLL_FIRST_SECONDS: Final = 0.5
POLL_MAX_SECONDS: Final = 10.0
JOB_TIMEOUT_SECONDS: Final = 6 * 3600.0
FINAL_STATES: Final = frozenset({"JobComplete", "Failed", "Aborted"})
# Cleanup calls are quick and must not hold up a run that is stopping.
CLEANUP_TIMEOUT_SECONDS: Final = 10.0


def _is_refusal(error: SalesforceAPIError) -> bool:
    # Any 4xx but an expired session, a spent allowance or a rate limit: orgs and users
    # without Bulk access answer 400 or 403 with codes that vary (FUNCTIONALITY_NOT_ENABLED,
    # API_DISABLED_FOR_ORG, ...), as does a field Bulk cannot select.
    status = error.status or 0
    transient = (ApiLimitError, SessionExpiredError, UnavailableError)
    return 400 <= status < 500 and not isinstance(error, transient)  # noqa: PLR2004


class QueryJob:
    """One Bulk API 2.0 query job.

    Args:
        client: the org's client.
        statement: the SOQL query (no compound fields: Bulk cannot select them).
        include_deleted: run as ``queryAll`` to read deleted rows too.
        sleep: how to wait between polls.
        clock: a monotonic clock.
    """

    def __init__(  # noqa: PLR0913
        self,
        client: SalesforceClient,
        statement: str,
        *,
        include_deleted: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = JOB_TIMEOUT_SECONDS,
    ) -> None:
        """Prepare the job; :meth:`start` creates it."""
        self._client = client
        self._sleep = sleep
        self._clock = clock
        self._timeout = timeout
        self._body = {
            "operation": "queryAll" if include_deleted else "query",
            "query": statement,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        self.id: str | None = None
        self.state = "New"
        self.closed = False

    def start(self) -> None:
        """Create the job in Salesforce."""
        client = self._client
        # Not sent again without an answer: a POST that reached Salesforce created a job,
        # and a second one would start a second job over the same rows.
        try:
            info = client.request(
                "POST",
                client.data_path("jobs/query"),
                json_body=self._body,
                decode=True,
                resend=False,
            )
        except SalesforceAPIError as exc:
            if not _is_refusal(exc):
                raise
            msg = f"Bulk API 2.0 refused the query job: {exc.message}"
            raise BulkRefusedError(msg, status=exc.status, error_code=exc.error_code) from None
        self.id = str(info["id"])
        self.state = str(info.get("state") or "UploadComplete")
        logger.info("Created Bulk API 2.0 query job %s", self.id)

    @property
    def path(self) -> str:
        """The job's resource path."""
        return self._client.data_path(f"jobs/query/{self.id}")

    def wait(self) -> dict[str, Any]:
        """Poll until ``JobComplete``, backing off from 0.5 s to 10 s between polls.

        Raises:
            BulkJobFailedError: the job failed, was aborted, or outlived the timeout.
        """
        started = self._clock()
        delay = POLL_FIRST_SECONDS
        while True:
            info: dict[str, Any] = self._client.get_json(self.path)
            state = info.get("state")
            self.state = str(state)
            if state == "JobComplete":
                logger.info(
                    "Bulk job %s complete: %s records",
                    self.id,
                    info.get("numberRecordsProcessed"),
                )
                return info
            if state in {"Failed", "Aborted"}:
                reason = info.get("errorMessage") or "no reason given"
                msg = f"Bulk API 2.0 query job {self.id} ended {state} ({reason})"
                raise BulkJobFailedError(msg, error_code=str(state))
            if self._clock() - started > self._timeout:
                msg = f"Bulk API 2.0 query job {self.id} did not finish in {self._timeout:.0f}s"
                raise BulkJobFailedError(msg, error_code="Timeout")
            self._sleep(delay)
            delay = min(POLL_MAX_SECONDS, delay * 2)

    def result_pages(self) -> Iterator[tuple[list[str], Iterator[list[str]]]]:
        """Each results page as its CSV header and rows, the next page downloading meanwhile."""
        for content in read_ahead(self._result_bodies(), name="bulk-results"):
            # Rows are parsed as they are read from the page's bytes: no decoded copy.
            reader = csv.reader(io.TextIOWrapper(io.BytesIO(content), encoding="utf-8", newline=""))
            header = next(reader, None)
            if header is not None:
                yield header, reader

    def _result_bodies(self) -> Iterator[bytes]:
        locator = ""
        while True:
            params = {"maxRecords": str(RESULTS_PAGE_RECORDS)}
            if locator:
                params["locator"] = locator
            response = self._client.get(f"{self.path}/results", params=params)
            locator = response.headers.get("Sforce-Locator", "null")
            yield response.content
            # The last page says so with the literal string "null".
            if not locator or locator == "null":
                return

    def close(self) -> None:
        """Delete the job (aborting it first if it still runs); never raises a tap error.

        Called once its results are read, and when the run fails or is stopped.
        """
        if self.closed or self.id is None:
            return
        self.closed = True
        try:
            if self.state not in FINAL_STATES:
                self._abort()
            self._client.request(
                "DELETE", self.path, ok=frozenset({204}), timeout=CLEANUP_TIMEOUT_SECONDS
            )
            logger.info("Deleted Bulk API 2.0 query job %s", self.id)
        except TapSalesforceError as exc:
            logger.warning(
                "Could not delete Bulk API 2.0 query job %s (%s); Salesforce removes it "
                "after 7 days.",
                self.id,
                exc.message,
            )

    def _abort(self) -> None:
        try:
            self._client.request(
                "PATCH",
                self.path,
                json_body={"state": "Aborted"},
                timeout=CLEANUP_TIMEOUT_SECONDS,
            )
        except SalesforceAPIError as exc:
            # A job that ended meanwhile cannot be aborted (INVALIDJOBSTATE): delete it.
            if exc.status != 400:  # noqa: PLR2004
                raise
        else:
            logger.info("Aborted Bulk API 2.0 query job %s", self.id)
        self.state = "Aborted"


def records(
    job: QueryJob,
    description: schema.ObjectDescription,
    fields: Sequence[str],
    compounds: Sequence[str],
    *,
    raw_numbers: bool = False,
) -> Iterator[dict[str, Any]]:
    """The job's rows as records of ``fields``, typed as REST records are.

    With ``raw_numbers``, numbers stay the text Salesforce sent and the rows are converted
    a batch at a time (:mod:`bulk_rows`): records for the tap's own writer only.
    """
    if raw_numbers:
        read: Callable[[Iterable[list[str]]], Iterator[Any]] | None = None
        for header, rows in job.result_pages():
            if read is None:
                read = bulk_rows.make_batch_reader(description, header, compounds, fields)
            yield from read(rows)
        return
    convert: Callable[[list[str]], dict[str, Any]] | None = None
    for header, rows in job.result_pages():
        if convert is None:
            convert = schema.make_csv_row_converter(description, header, compounds, fields)
        yield from map(convert, rows)
