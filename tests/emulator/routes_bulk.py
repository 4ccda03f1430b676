"""Bulk API 2.0 query job routes."""

from __future__ import annotations

import json
from typing import Any

from tests.emulator import bulk, engine
from tests.emulator.soql import SoqlError, parse
from tests.emulator.state import OrgState
from tests.emulator.wire import (
    Request,
    Response,
    error,
    json_bytes,
)


class BulkRoutes(OrgState):
    """Bulk API 2.0 query jobs: create, list, poll, abort, delete, results."""

    def bulk_create(self, request: Request, version: str) -> Response:  # noqa: PLR0911
        """``POST .../jobs/query``."""
        try:
            payload = json.loads(request.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return error(
                400, "JSON_PARSER_ERROR", "The request body is not valid JSON", "bulk_create"
            )
        if not isinstance(payload, dict):
            return error(
                400, "JSON_PARSER_ERROR", "The request body must be a JSON object", "bulk_create"
            )
        operation = payload.get("operation")
        soql = payload.get("query")
        log: dict[str, Any] = {"soql": soql if isinstance(soql, str) else None}
        if operation not in {"query", "queryAll"}:
            response = error(400, "INVALIDJOB", f"Invalid operation: {operation}", "bulk_create")
            response.log = log
            return response
        if not isinstance(soql, str) or not soql.strip():
            response = error(400, "INVALIDJOB", "A query must be specified", "bulk_create")
            response.log = log
            return response
        try:
            self.bulk.check_access()
            parsed = parse(soql, hidden=self.hidden_fields)
            log["literals"] = parsed.literals
            bulk.check_bulk_query(parsed)
        except SoqlError as exc:
            response = error(400, exc.error_code, exc.message, "bulk_create")
            response.log = log
            return response
        except bulk.BulkError as exc:
            response = error(exc.status, exc.error_code, exc.message, "bulk_create")
            response.log = log
            return response
        indexes = engine.execute(parsed, self.data, include_deleted=operation == "queryAll")
        renderer = self.renderer(parsed.fields, version, "csv")
        chunked = not parsed.order and parsed.limit is None
        job = self.bulk.add(operation, soql, version, indexes, renderer, chunked=chunked)
        response = Response(200, json_bytes(job.info(full=False)), kind="bulk_create", log=log)
        with self.lock:
            self.bulk_creates += 1
            number = self.bulk_creates
            faults = self.faults
        if faults.bulk_hangup and number % faults.bulk_hangup == 0:
            # The job exists, but its creator never hears of it (a timeout, a dropped line).
            response.fault = "hangup"
        return response

    def bulk_list(self) -> Response:
        """``GET .../jobs/query``."""
        records = [job.info(full=False) for job in list(self.bulk.jobs.values())]
        body = {"done": True, "records": records, "nextRecordsUrl": None}
        return Response(200, json_bytes(body), kind="bulk_poll")

    def bulk_poll(self, job_id: str) -> Response:
        """``GET .../jobs/query/{id}``."""
        try:
            job = self.bulk.poll(job_id)
        except bulk.BulkError as exc:
            return error(exc.status, exc.error_code, exc.message, "bulk_poll")
        return Response(200, json_bytes(job.info(full=True)), kind="bulk_poll")

    def bulk_abort(self, request: Request, job_id: str) -> Response:
        """``PATCH .../jobs/query/{id}`` with ``{"state": "Aborted"}``."""
        try:
            payload = json.loads(request.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return error(
                400, "JSON_PARSER_ERROR", "The request body is not valid JSON", "bulk_poll"
            )
        if not isinstance(payload, dict) or payload.get("state") != "Aborted":
            return error(400, "INVALIDJOBSTATE", "Only the state Aborted can be set", "bulk_poll")
        try:
            job = self.bulk.abort(job_id)
        except bulk.BulkError as exc:
            return error(exc.status, exc.error_code, exc.message, "bulk_poll")
        return Response(200, json_bytes(job.info(full=False)), kind="bulk_poll")

    def bulk_delete(self, job_id: str) -> Response:
        """``DELETE .../jobs/query/{id}``."""
        try:
            self.bulk.delete(job_id)
        except bulk.BulkError as exc:
            return error(exc.status, exc.error_code, exc.message, "bulk_poll")
        return Response(204, b"", None, kind="bulk_poll")

    def bulk_results(self, request: Request, job_id: str) -> Response:
        """``GET .../jobs/query/{id}/results?locator=&maxRecords=``."""
        max_records = None
        raw = request.params.get("maxRecords")
        if raw is not None:
            try:
                max_records = int(raw)
            except ValueError:
                max_records = 0
            if max_records < 1:
                return error(400, "INVALIDJOB", f"Invalid maxRecords: {raw}")
        try:
            job = self.bulk.get(job_id)
            body, next_locator, count = bulk.results_chunk(
                job, request.params.get("locator"), max_records
            )
        except bulk.BulkError as exc:
            return error(exc.status, exc.error_code, exc.message)
        headers = [("Sforce-Locator", next_locator), ("Sforce-NumberOfRecords", str(count))]
        return Response(200, body, "text/csv", headers)
