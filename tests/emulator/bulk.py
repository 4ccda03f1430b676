"""Bulk API 2.0 query jobs: create, poll, results (CSV), abort, delete.

A job's rows are fixed when it is created (the same SOQL engine as REST). Its state moves
``UploadComplete -> InProgress -> JobComplete`` one step per poll (``GET .../jobs/query/{id}``);
``polls_to_complete`` (admin config ``bulk_polls_to_complete``, default 2) sets how many polls
it takes. Results come in chunks of ``maxRecords`` rows (default ``DEFAULT_MAX_RECORDS``); the
locator is the base64 of the next row offset, as Salesforce's look.

As in Salesforce, a query without ``ORDER BY`` or ``LIMIT`` is split into Id ranges
(automatic PK chunking) processed in parallel: its rows come chunk by chunk in no defined
order (here: chunks of ``chunk_rows`` Ids, shuffled by a generator seeded from the org's seed
and the job's number). ``ORDER BY`` or ``LIMIT`` turns chunking off, and a large org's job
then runs out of time: with ``sorted_max_rows`` set, such a job matching more rows ends
``Failed``. ``refusal`` makes job creation fail as in an org or for a user without Bulk API.
"""

from __future__ import annotations

import base64
import binascii
import random
import threading
import time
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from tests.emulator.data import FIELDS_BY_NAME, USER_ID
from tests.emulator.ids import make_id
from tests.emulator.render import Renderer, format_datetime

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tests.emulator.soql import Query

DEFAULT_MAX_RECORDS: Final = 10_000
DEFAULT_CHUNK_ROWS: Final = 250
MAX_JOBS: Final = 200
FINAL_STATES: Final = frozenset({"JobComplete", "Failed", "Aborted"})
# What a job that ran out of time says (the REST QUERY_TIMEOUT text).
TIMEOUT_MESSAGE: Final = "QUERY_TIMEOUT: Your query request was running for too long."
# How an org or user without Bulk API access is answered (codes as seen; unverified).
REFUSALS: Final = {
    "API_DISABLED_FOR_ORG": (403, "API is not enabled for this Organization or Partner"),
    "FUNCTIONALITY_NOT_ENABLED": (400, "Bulk API 2.0 is not enabled for this organization"),
    "INSUFFICIENT_ACCESS": (403, "The user does not have access to Bulk API query jobs"),
}


class BulkError(Exception):
    """A Bulk API error answer: status and ``[{"errorCode", "message"}]``."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        """Keep the answer's parts."""
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message


@dataclass
class BulkJob:
    """One query job."""

    id: str
    operation: str
    query: str
    version: str
    created_ms: int
    indexes: Sequence[int]
    renderer: Renderer
    state: str = "UploadComplete"
    polls: int = 0
    modified_ms: int = 0
    fail_reason: str | None = None

    def info(self, *, full: bool) -> dict[str, Any]:
        """The job info JSON (``full`` adds the fields of a poll answer)."""
        answer: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": "Account",
            "createdById": USER_ID,
            "createdDate": format_datetime(self.created_ms),
            "systemModstamp": format_datetime(self.modified_ms or self.created_ms),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
        }
        if full:
            answer["jobType"] = "V2Query"
        answer["lineEnding"] = "LF"
        answer["columnDelimiter"] = "COMMA"
        if full:
            done = self.state == "JobComplete"
            answer["numberRecordsProcessed"] = len(self.indexes) if done else 0
            answer["retries"] = 0
            answer["totalProcessingTime"] = 250 if done else 0
            answer["isPkChunkingSupported"] = False
            if self.state == "Failed":
                answer["errorMessage"] = self.fail_reason
        return answer


@dataclass
class BulkJobs:
    """Every job of the org."""

    seed: int = 1
    polls_to_complete: int = 2
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    sorted_max_rows: int | None = None
    refusal: str | None = None
    jobs: dict[str, BulkJob] = field(default_factory=dict)
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check_access(self) -> None:
        """Refuse job creation when Bulk API is configured off.

        Raises:
            BulkError: the configured refusal.
        """
        if self.refusal is not None:
            status, message = REFUSALS[self.refusal]
            raise BulkError(status, self.refusal, message)

    def add(
        self,
        operation: str,
        query: str,
        version: str,
        indexes: Sequence[int],
        renderer: Renderer,
        *,
        chunked: bool,
    ) -> BulkJob:
        """Register a new job (``chunked``: no ORDER BY or LIMIT, so PK chunking applies)."""
        with self.lock:
            self.counter += 1
            job_id = make_id("750", 40_000 + self.counter)
            now = int(time.time()) * 1000
            fail_reason = None
            if chunked:
                rng = random.Random(f"{self.seed}:bulk:{self.counter}")  # noqa: S311
                indexes = shuffled_chunks(indexes, self.chunk_rows, rng)
            elif self.sorted_max_rows is not None and len(indexes) > self.sorted_max_rows:
                fail_reason = TIMEOUT_MESSAGE
            job = BulkJob(
                job_id,
                operation,
                query,
                version,
                now,
                indexes,
                renderer,
                modified_ms=now,
                fail_reason=fail_reason,
            )
            self.jobs[job_id] = job
            while len(self.jobs) > MAX_JOBS:
                del self.jobs[next(iter(self.jobs))]
            return job

    def get(self, job_id: str) -> BulkJob:
        """Find a job.

        Raises:
            BulkError: 404 for an unknown job.
        """
        job = self.jobs.get(job_id)
        if job is None:
            raise BulkError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def poll(self, job_id: str) -> BulkJob:
        """Answer one poll: the job moves one step towards JobComplete."""
        with self.lock:
            job = self.get(job_id)
            if job.state in {"UploadComplete", "InProgress"}:
                job.polls += 1
                if job.polls < self.polls_to_complete:
                    job.state = "InProgress"
                else:
                    job.state = "Failed" if job.fail_reason else "JobComplete"
                job.modified_ms = int(time.time()) * 1000
            return job

    def abort(self, job_id: str) -> BulkJob:
        """Abort a job that has not completed.

        Raises:
            BulkError: the job is already complete.
        """
        with self.lock:
            job = self.get(job_id)
            if job.state in FINAL_STATES:
                raise BulkError(
                    400, "INVALIDJOBSTATE", f"Job is already in a final state: {job.state}"
                )
            job.state = "Aborted"
            job.modified_ms = int(time.time()) * 1000
            return job

    def delete(self, job_id: str) -> None:
        """Delete a job in a final state.

        Raises:
            BulkError: the job is still running (abort it first).
        """
        with self.lock:
            job = self.get(job_id)
            if job.state not in FINAL_STATES:
                raise BulkError(
                    400,
                    "API_ERROR",
                    "Error encountered when deleting the job because the job is not terminated",
                )
            del self.jobs[job_id]


def shuffled_chunks(indexes: Sequence[int], chunk_rows: int, rng: random.Random) -> array[int]:
    """Rows as PK chunking delivers them: Id ranges in Id order, the ranges in random order."""
    # Ids sort in index order.
    by_id = sorted(indexes)
    chunks = [by_id[start : start + chunk_rows] for start in range(0, len(by_id), chunk_rows)]
    rng.shuffle(chunks)
    return array("i", (index for chunk in chunks for index in chunk))


def check_bulk_query(query: Query) -> None:
    """Refuse what Bulk API 2.0 queries cannot do: COUNT(), OFFSET, compound and binary fields.

    Raises:
        BulkError: 400 ``INVALIDJOB`` or ``FUNCTIONALITY_NOT_ENABLED``.
    """
    if query.count_only:
        raise BulkError(
            400, "INVALIDJOB", "Aggregate queries are not supported in Bulk API query jobs"
        )
    if query.offset is not None:
        raise BulkError(400, "INVALIDJOB", "OFFSET is not supported in Bulk API query jobs")
    for name in query.fields:
        ftype = FIELDS_BY_NAME[name].type
        if ftype in {"address", "location"}:
            raise BulkError(
                400,
                "FUNCTIONALITY_NOT_ENABLED",
                f"Selecting compound data not supported in Bulk Query: {name}",
            )
        if ftype == "base64":
            raise BulkError(
                400,
                "FUNCTIONALITY_NOT_ENABLED",
                f"Binary field not supported in Bulk Query: {name}",
            )


def encode_locator(offset: int) -> str:
    """Salesforce-style locator: base64 of the next row offset, no padding."""
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int:
    """Row offset of a locator.

    Raises:
        BulkError: 400 for a locator the emulator never made.
    """
    try:
        padded = locator + "=" * (-len(locator) % 4)
        text = base64.b64decode(padded, validate=True).decode()
        offset = int(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BulkError(400, "INVALID_QUERY_LOCATOR", f"Invalid locator: {locator}") from None
    if offset < 0 or encode_locator(offset) != locator.rstrip("="):
        raise BulkError(400, "INVALID_QUERY_LOCATOR", f"Invalid locator: {locator}")
    return offset


def results_chunk(
    job: BulkJob, locator: str | None, max_records: int | None
) -> tuple[bytes, str, int]:
    """Render one results chunk.

    Returns:
        The CSV body, the next locator (``"null"`` at the end) and the row count.

    Raises:
        BulkError: 412 before JobComplete, 400 for a bad locator.
    """
    if job.state != "JobComplete":
        raise BulkError(
            412,
            "PRECONDITION_FAILED",
            f"The job is not complete; its state is {job.state}. "
            "Get results once it is JobComplete.",
        )
    start = decode_locator(locator) if locator else 0
    total = len(job.indexes)
    if start > total:
        raise BulkError(400, "INVALID_QUERY_LOCATOR", f"Invalid locator: {locator}")
    size = max_records or DEFAULT_MAX_RECORDS
    end = min(total, start + size)
    render = job.renderer.render
    lines = [job.renderer.header()]
    lines.extend(render(i) for i in job.indexes[start:end])
    body = b"\n".join(lines) + b"\n"
    next_locator = encode_locator(end) if end < total else "null"
    return body, next_locator, end - start
