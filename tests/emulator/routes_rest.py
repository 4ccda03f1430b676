"""REST metadata routes: version resources, limits, global describe, the Account describe."""

from __future__ import annotations

import email.utils
from typing import Any

from tests.emulator.describe import DESCRIBE_LAST_MODIFIED, describe
from tests.emulator.state import OrgState
from tests.emulator.wire import (
    Request,
    Response,
    json_bytes,
)


class MetadataRoutes(OrgState):
    """Resources of a version, limits, the global and Account describes."""

    def resources(self, version: str) -> Response:
        """``GET /services/data/vNN.N``: the resources of a version."""
        prefix = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "limits", "jobs")
        return Response(200, json_bytes({name: f"{prefix}/{name}" for name in names}))

    def limits(self) -> Response:
        """``GET .../limits``."""
        with self.lock:
            usage, limit = self.api_usage, self.api_limit
            jobs = len(self.bulk.jobs)

        def pair(maximum: int, used: int = 0) -> dict[str, int]:
            return {"Max": maximum, "Remaining": max(0, maximum - used)}

        return Response(
            200,
            json_bytes(
                {
                    "ActiveScratchOrgs": pair(3),
                    "ConcurrentAsyncGetReportInstances": pair(200),
                    "DailyApiRequests": pair(limit, usage),
                    "DailyAsyncApexExecutions": pair(250000),
                    "DailyBulkApiBatches": pair(15000),
                    "DailyBulkV2QueryFileStorageMB": pair(976562),
                    "DailyBulkV2QueryJobs": pair(10000, jobs),
                    "DataStorageMB": pair(5, 1),
                    "FileStorageMB": pair(20),
                    "HourlyTimeBasedWorkflow": pair(1000),
                }
            ),
        )

    def global_describe(self, version: str) -> Response:
        """``GET .../sobjects``: the one object of this org."""
        info = self._object_summary(version)
        return Response(
            200, json_bytes({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [info]})
        )

    def sobject_info(self, version: str) -> Response:
        """``GET .../sobjects/Account``."""
        return Response(
            200, json_bytes({"objectDescribe": self._object_summary(version), "recentItems": []})
        )

    @staticmethod
    def _object_summary(version: str) -> dict[str, Any]:
        full = describe(version)
        keep = [
            "activateable",
            "createable",
            "custom",
            "customSetting",
            "deletable",
            "deprecatedAndHidden",
            "feedEnabled",
            "keyPrefix",
            "label",
            "labelPlural",
            "layoutable",
            "mergeable",
            "mruEnabled",
            "name",
            "queryable",
            "replicateable",
            "retrieveable",
            "searchable",
            "triggerable",
            "undeletable",
            "updateable",
        ]
        summary = {key: full[key] for key in keep}
        summary["urls"] = {
            k: v for k, v in full["urls"].items() if k in {"sobject", "describe", "rowTemplate"}
        }
        return summary

    def describe(self, request: Request, version: str) -> Response:
        """``GET .../sobjects/Account/describe`` with Last-Modified / If-Modified-Since."""
        headers = [("Last-Modified", DESCRIBE_LAST_MODIFIED)]
        since = request.headers.get("if-modified-since")
        if since:
            try:
                since_time = email.utils.parsedate_to_datetime(since)
                modified = email.utils.parsedate_to_datetime(DESCRIBE_LAST_MODIFIED)
                if since_time.tzinfo is not None and since_time >= modified:
                    return Response(304, b"", None, headers)
            except (TypeError, ValueError):
                pass
        # Field-level security changes the answer, not its Last-Modified date.
        hidden = self.hidden_fields
        key = (version, request.base_url, hidden)
        body = self._describe_cache.get(key)
        if body is None:
            full = describe(version, request.base_url)
            full["fields"] = [f for f in full["fields"] if f["name"] not in hidden]
            body = self._describe_cache[key] = json_bytes(full)
        return Response(200, body, headers=headers)
