"""The Account stream: REST query paging, incremental by SystemModstamp, Bulk API 2.0 jobs."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from singer_sdk import Stream, metrics
from singer_sdk.exceptions import InvalidStreamSortException
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import Metadata, MetadataMapping, RecordMessage, SchemaMessage
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from typing_extensions import override

from tap_salesforce_accounts import bulk, progress, rest_pages, resume, schema, soql
from tap_salesforce_accounts.client import MAX_URL_LENGTH, decode_json
from tap_salesforce_accounts.exceptions import (
    BulkJobFailedError,
    BulkRefusedError,
    ConfigError,
    InvalidQueryError,
    SalesforceAPIError,
)
from tap_salesforce_accounts.on_demand import OnDemandLookups, _project
from tap_salesforce_accounts.readahead import read_ahead
from tap_salesforce_accounts.sdk_private import utc_now
from tap_salesforce_accounts.settings import (
    DEFAULT_API_TYPE,
    DEFAULT_BULK_THRESHOLD,
    DEFAULT_LATE_COMMIT_MARGIN,
    read_number,
)
from tap_salesforce_accounts.writer import SingerJsonlWriter

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator, Sequence

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_salesforce_accounts.client import SalesforceClient

logger = logging.getLogger(__name__)

STREAM_NAME: Final = "Account"
REPLICATION_KEY: Final = "SystemModstamp"
PAGE_SIZE: Final = 2000


class AccountStream(OnDemandLookups, Stream):
    """Salesforce Accounts, incremental by ``SystemModstamp``.

    REST reads are ordered by ``SystemModstamp, Id``, so each STATE's bookmark can resume.
    Bulk API 2.0 rows come in no order; their bookmark moves only at the job's end, so
    every STATE the stream writes is one a run can resume from (``is_sorted``).

    Records are converted once per field list by a compiled converter (only datetimes
    need rewriting), so the SDK's generic type conformance is turned off.
    """

    name = STREAM_NAME
    primary_keys = ("Id",)
    replication_key = REPLICATION_KEY
    is_sorted = True
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(
        self,
        tap: Tap,
        client: SalesforceClient,
        description: schema.ObjectDescription,
    ) -> None:
        """Build the stream from the org's Account describe."""
        self.client = client
        self.description = description
        self._latest_bookmark: str | None = None
        self._progress: progress.ProgressCounter | None = None
        self._bookmark_pending = False
        # The Bulk API 2.0 job to delete if the run fails or stops; while its rows are
        # written (in no order) the bookmark waits.
        self._bulk_job: bulk.QueryJob | None = None
        self._withhold_bookmark = False
        self._bulk_refused: BulkRefusedError | None = None
        self._queryable = frozenset(schema.queryable_fields(description))
        self._schema_messages: list[SchemaMessage] | None = None
        self._converter: (
            tuple[tuple[str, ...], Callable[[dict[str, Any]], dict[str, Any]]] | None
        ) = None
        super().__init__(tap, schema=schema.to_json_schema(description), name=STREAM_NAME)
        self.path = client.data_path("query")

    # -- selection -------------------------------------------------------------------------

    @property
    @override
    def metadata(self) -> MetadataMapping:
        """The SDK's metadata, with the fields no query may select marked unsupported."""
        if self._metadata is None:
            metadata = super().metadata
            if self._tap_input_catalog is None:
                for name in self.schema["properties"]:
                    if name not in self._queryable:
                        entry = metadata[("properties", name)]
                        entry.inclusion = Metadata.InclusionType.UNSUPPORTED
                        entry.selected_by_default = False
            return metadata
        return self._metadata

    def selected_fields(self) -> list[str]:
        """The schema properties selected in the catalog, in describe order."""
        mask = self.mask
        return [
            name
            for name in self.schema["properties"]
            if name in self._queryable
            and (mask.get(("properties", name), True) or name in self.primary_keys)
        ]

    @property
    def include_deleted(self) -> bool:
        """Whether deleted Accounts are read too (``queryAll``)."""
        return bool(self.config.get("include_deleted"))

    # -- extraction ------------------------------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Every Account changed since the bookmark (or ``start_date``), oldest first."""
        where = self._window_clause(context)
        fields = self.selected_fields()
        records = self._records(fields, where)
        try:
            # A field the user cannot read fails the query (or the Bulk job) before any record.
            first = next(records, None)
        except InvalidQueryError as exc:
            records = self._records(self._readable_after_refresh(exc, fields), where)
            first = next(records, None)
        if first is not None:
            yield first
            yield from records

    def _records(self, fields: Sequence[str], where: str | None) -> Iterator[dict[str, Any]]:
        order_by = (REPLICATION_KEY, "Id")
        if self._use_bulk(where):
            records = self._bulk_records(fields, where)
            if records is not None:
                yield from records
                return
        statement = soql.select(fields, where=where, order_by=order_by)
        if not self._fits_in_url(statement):
            # Salesforce caps a REST request's URI near 16 KB; a Bulk API 2.0 query travels
            # in a POST body, so a wide org's every field still gets read.
            if self._bulk_refused is None:
                self.logger.warning(
                    "Selecting %s fields makes the REST query URL too long; reading through "
                    "Bulk API 2.0 instead (base64 fields are not read by Bulk).",
                    len(fields),
                )
                records = self._bulk_records(fields, where)
                if records is not None:
                    yield from records
                    return
            raise self._too_wide(fields, statement)
        yield from self._rest_records(fields, where, order_by)

    def _rest_records(
        self, fields: Sequence[str], where: str | None, order_by: Sequence[str]
    ) -> Iterator[Any]:
        def statement(extra: str | None) -> str:
            condition = soql.and_(where or "", extra) if extra else where
            return soql.select(fields, where=condition, order_by=order_by)

        convert: Callable[[Any], Any] = schema.make_record_converter(self.description, fields)
        decoder: Callable[[bytes], Any] = decode_json
        if self._writes_unmapped():
            reader = rest_pages.make_record_reader(self.description, fields)
            if reader is not None:
                # Only the writer reads these records: text stays as Salesforce sent it.
                decoder, convert = rest_pages.decode_answer, reader

        def pages(query: str) -> Iterator[list[Any]]:
            return self._query_pages(query, decoder=decoder)

        return resume.records(pages, statement, convert)

    def _window_clause(self, context: Context | None) -> str | None:
        """``SystemModstamp >= <bookmark> AND SystemModstamp < <server time - margin>``.

        SystemModstamp is taken when a transaction writes, before it commits: a record of a
        long transaction becomes visible after queries that already covered its stamp, and
        a bookmark past it would miss it for good. Reading only up to a margin before the
        org's clock leaves such records to the next run, by which time they have committed.
        """
        parts = []
        since = self._since(context)
        if since is not None:
            # >=, not >: records sharing the bookmark's timestamp may not all have been
            # delivered; a few repeats (at-least-once) beat a lost Account.
            parts.append(soql.ge(REPLICATION_KEY, since))
        margin = read_number(
            self.config,
            "late_commit_margin_seconds",
            DEFAULT_LATE_COMMIT_MARGIN,
            low=0,
            low_inclusive=True,
        )
        until = None
        if margin:
            until = dt.datetime.fromtimestamp(int(self.client.server_time() - margin), dt.UTC)
            parts.append(soql.lt(REPLICATION_KEY, until))
        self.logger.info(
            "Reading Accounts with %s >= %s and < %s",
            REPLICATION_KEY,
            since.isoformat() if since else "the first",
            until.isoformat() if until else "now",
        )
        return soql.and_(*parts) if parts else None

    def _since(self, context: Context | None) -> dt.datetime | None:
        start = self.get_starting_replication_key_value(context)
        if not start:
            return None
        try:
            since = schema.parse_datetime(str(start)).astimezone(dt.UTC)
        except ValueError:
            msg = (
                f"the bookmark or start_date {str(start)[:40]!r} is not a datetime: fix the "
                "state's replication_key_value or start_date (e.g. 2024-01-01T00:00:00Z)."
            )
            raise ConfigError(msg) from None
        state = self.get_context_state(context)
        if state.get("replication_key_value"):
            # Bookmarks are compared as text with the records' values, so one written in
            # another RFC 3339 form ("Z", another offset) is put in the records' form.
            state["replication_key_value"] = since.isoformat(timespec="milliseconds")
        return since

    def _use_bulk(self, where: str | None) -> bool:
        api_type = str(self.config.get("api_type") or DEFAULT_API_TYPE)
        if api_type != "auto":
            return api_type == "bulk"
        # One small call decides: Bulk API 2.0 pays a job's setup and polling, which only
        # large extractions earn back.
        threshold = int(
            read_number(
                self.config, "bulk_threshold", DEFAULT_BULK_THRESHOLD, low=0, low_inclusive=True
            )
        )
        resource = "queryAll" if self.include_deleted else "query"
        answer = self.client.get_json(
            self.client.data_path(resource),
            params={"q": soql.select_count(where=where)},
        )
        count = int(answer.get("totalSize", 0))
        self._expect(count)
        use_bulk = count >= threshold
        self.logger.info(
            "api_type auto: %s Accounts to read, %s (threshold %s)",
            count,
            "Bulk API 2.0" if use_bulk else "REST",
            threshold,
        )
        return use_bulk

    def _bulk_records(
        self, fields: Sequence[str], where: str | None
    ) -> Iterator[dict[str, Any]] | None:
        """Records through a Bulk API 2.0 query job, or None if refused or failed."""
        columns, compounds = schema.bulk_select_fields(self.description, fields)
        # No ORDER BY or LIMIT: either turns automatic PK chunking off, and a large org's
        # job then runs out of time. The rows come chunk by chunk, in no order.
        statement = soql.select(columns, where=where)
        job = bulk.QueryJob(self.client, statement, include_deleted=self.include_deleted)
        self._bulk_job = job
        try:
            job.start()
            self._expect(job.wait().get("numberRecordsProcessed"))
        except (BulkRefusedError, BulkJobFailedError) as exc:
            self.close_bulk_job()
            self._bulk_job = None
            if isinstance(exc, BulkRefusedError):
                self._bulk_refused = exc
            self.logger.warning("%s; reading over REST instead.", exc.message)
            return None
        except BaseException:
            self.close_bulk_job()
            raise
        return self._bulk_rows(job, fields, compounds)

    def _bulk_rows(
        self, job: bulk.QueryJob, fields: Sequence[str], compounds: Sequence[str]
    ) -> Iterator[dict[str, Any]]:
        self._withhold_bookmark = True
        try:
            yield from bulk.records(
                job,
                self.description,
                fields,
                compounds,
                raw_numbers=self._writes_unmapped(),
            )
        finally:
            self.close_bulk_job()
        # Every row of the job is written: the highest SystemModstamp seen is the bookmark.
        self._withhold_bookmark = False
        self._bulk_job = None

    def _too_wide(self, fields: Sequence[str], statement: str) -> SalesforceAPIError:
        """The error of a selection neither REST (URI length) nor Bulk API 2.0 can read."""
        excess = len(urlencode({"q": statement})) - len("q=") - self._url_budget()
        # URL-encoded, ", " becomes "%2C+": four characters per separator.
        drop = soql.fields_to_drop(
            fields, excess=excess, keep=(*self.primary_keys, REPLICATION_KEY), separator_cost=4
        )
        refused = self._bulk_refused
        bulk_said = (
            f"Bulk API 2.0 refused the job ({refused.error_code or refused.status})"
            if refused is not None
            else "the Bulk API 2.0 job failed"
        )
        msg = (
            f"selecting {len(fields)} fields makes the REST query URL too long and {bulk_said}: "
            f"deselect these {len(drop)} fields in the catalog: {', '.join(drop)}."
        )
        return SalesforceAPIError(msg, error_code="URI_TOO_LONG")

    def close_bulk_job(self) -> None:
        """Delete the open Bulk API 2.0 job, if any (aborting it if it still runs)."""
        job = self._bulk_job
        if job is not None:
            job.close()

    def _query_pages(
        self,
        statement: str,
        *,
        ahead: bool = True,
        decoder: Callable[[bytes], Any] = decode_json,
    ) -> Generator[list[Any], None, None]:
        """Pages of a REST query; with ``ahead``, the next one downloads while one is written."""
        path = self._query_path()
        headers = {"Sforce-Query-Options": f"batchSize={PAGE_SIZE}"}

        def pages() -> Iterator[list[Any]]:
            answer = self.client.get_json(
                path, params={"q": statement}, headers=headers, decoder=decoder
            )
            self._expect(answer.get("totalSize"))
            yield answer.get("records", [])
            # Follow nextRecordsUrl as Salesforce gives it, with no parameters.
            while not answer.get("done", True) and answer.get("nextRecordsUrl"):
                answer = self.client.get_json(
                    answer["nextRecordsUrl"], headers=headers, decoder=decoder
                )
                yield answer.get("records", [])

        yield from read_ahead(pages(), name="query-pages") if ahead else pages()

    def _query_path(self) -> str:
        return self.client.data_path("queryAll" if self.include_deleted else "query")

    def _url_budget(self) -> int:
        """Characters left for a query string under Salesforce's URI limit."""
        return MAX_URL_LENGTH - len(self.client.url_for(self._query_path())) - len("?q=")

    def _fits_in_url(self, statement: str) -> bool:
        return len(urlencode({"q": statement})) - len("q=") <= self._url_budget()

    # -- progress ------------------------------------------------------------------------

    @override
    def get_record_counter(
        self, *, endpoint: str | None = None, log_interval: float = metrics.DEFAULT_LOG_INTERVAL
    ) -> metrics.Counter:
        """The SDK's record counter, also logging progress lines and a summary."""
        self._progress = progress.ProgressCounter(
            self.name,
            self.logger,
            self.client,
            lambda: self._latest_bookmark or self.stream_state.get("replication_key_value"),
            interval=progress.interval_seconds(),
        )
        return self._progress

    def _expect(self, total: object) -> None:
        if self._progress is not None:
            self._progress.expect(total)

    def write_first_record(self) -> dict[str, Any] | None:
        """The connection test: SCHEMA and the first Account of an extraction, no STATE.

        One small query (``LIMIT 1``) whatever ``api_type`` says: a test runs no Bulk job.
        """
        fields = self.selected_fields()
        order_by = (REPLICATION_KEY, "Id")
        statement = soql.select(fields, order_by=order_by, limit=1)
        wide = not self._fits_in_url(statement)
        if wide:
            statement = soql.select(["Id"], order_by=order_by, limit=1)
        self._write_schema_message()
        rows = self._first_page(statement)
        record = None
        if rows:
            row = self._read_in_chunks(str(rows[0]["Id"]), fields) if wide else rows[0]
            record = self._record_converter(fields)(_project(row, fields))
            self._write_record_message(record)
        writer = self._tap.message_writer
        if isinstance(writer, SingerJsonlWriter):
            writer.flush()
        return record

    # -- fields the user lost ---------------------------------------------------------------

    def _readable_after_refresh(self, error: InvalidQueryError, fields: Sequence[str]) -> list[str]:
        """After ``INVALID_FIELD``: describe afresh; the selected fields the user can still read.

        Raises:
            InvalidQueryError: ``error`` again, when every selected field is still readable.
        """
        if error.error_code != "INVALID_FIELD":
            raise error
        self.description = schema.ObjectDescription.from_describe(self.client.refresh_describe())
        self._queryable = frozenset(schema.queryable_fields(self.description))
        self._converter = None
        gone = [name for name in fields if name not in self._queryable]
        if not gone:
            raise error
        self.logger.warning(
            "The user can no longer read %s (field-level security changed): reading the other "
            "fields; run discovery again to update the catalog.",
            ", ".join(gone),
        )
        return [name for name in fields if name in self._queryable]

    # -- the per-record hot path ---------------------------------------------------------

    def _writes_unmapped(self) -> bool:
        """Whether records go unchanged to the tap's own writer (no stream map reads them)."""
        maps = self.stream_maps
        return (
            isinstance(self._tap.message_writer, SingerJsonlWriter)
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
        )

    @override
    def _process_record(
        self,
        record: dict[str, Any],
        child_context: Context | None = None,
        partition_context: Context | None = None,
    ) -> None:
        # The Account stream has no partitions to stamp on records and no child streams
        # to sync, which is all the SDK's per-record step does.
        return

    @override
    def _write_record_message(self, record: dict[str, Any]) -> None:
        # Records hold only the selected fields, already typed by the compiled converter,
        # so the SDK's per-record selection pass and type conformance are skipped; with
        # the tap's own writer no message object is built either.
        writer = self._tap.message_writer
        if isinstance(writer, SingerJsonlWriter):
            extracted = utc_now()
            for stream_map in self.stream_maps:
                mapped = stream_map.transform(record)
                if mapped is not None:
                    writer.write_record(
                        stream_map.stream_alias, mapped, self._stream_version, extracted
                    )
        else:
            for message in self._generate_record_messages(record):
                self._tap.write_message(message)
        self.state_manager.is_flushed = False

    @override
    def _generate_record_messages(
        self, record: dict[str, Any]
    ) -> Generator[RecordMessage, None, None]:
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=utc_now(),
                )

    @override
    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        # The bookmark only matters when a STATE message is written, so each record just
        # checks the order and is remembered; the SDK's state is updated before writing.
        if self.replication_method != REPLICATION_INCREMENTAL:
            return
        value = latest_record.get(REPLICATION_KEY)
        if value is None:
            return
        latest = self._latest_bookmark
        if self._withhold_bookmark:
            # Bulk API 2.0 rows arrive in no order: keep the highest value seen.
            if latest is None or value > latest:
                self._latest_bookmark = value
            self._bookmark_pending = True
            return
        if latest is not None and value < latest and self.check_sorted:
            msg = (
                f"Unsorted data detected in stream. Latest value {value!r} is smaller than "
                f"previous max {latest!r}."
            )
            raise InvalidStreamSortException(msg)
        self._latest_bookmark = value
        self._bookmark_pending = True

    def apply_pending_bookmark(self) -> None:
        """Move the last record's ``SystemModstamp`` into the SDK's state.

        While a Bulk API 2.0 job's rows are being written the bookmark stays where the run
        began: rows not yet written may be older than the highest one written, so a STATE
        then must let an interrupted run read the job's whole window again.
        """
        if self._bookmark_pending and not self._withhold_bookmark:
            self._bookmark_pending = False
            super()._increment_stream_state({REPLICATION_KEY: self._latest_bookmark})

    @override
    def _write_state_message(self) -> None:
        self.apply_pending_bookmark()
        super()._write_state_message()
        # The SDK skips a STATE equal to the last one written; the records before it must
        # reach the target all the same.
        writer = self._tap.message_writer
        if isinstance(writer, SingerJsonlWriter):
            writer.flush()

    @override
    def _finalize_state(self, state: dict[str, Any] | None = None) -> None:
        self.apply_pending_bookmark()
        super()._finalize_state(state)

    def write_one(self, record: dict[str, Any]) -> None:
        """Write SCHEMA and one RECORD message, and no STATE (the bookmark stays put)."""
        # Building the SCHEMA message copies the whole schema; a warm lookup reuses it.
        if self._schema_messages is None:
            self._schema_messages = list(self._generate_schema_messages())
        for schema_message in self._schema_messages:
            self._tap.write_message(schema_message)
        for message in self._generate_record_messages(record):
            self._tap.write_message(message)
