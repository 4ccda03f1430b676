"""The emulator's Bulk API 2.0 as large orgs behave, and its clock (late commits)."""

from __future__ import annotations

import csv
import email.utils
import io
import time
import urllib.error
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.emulator import CLIENT_ID, REFRESH_TOKEN, Emulator

if TYPE_CHECKING:
    from collections.abc import Iterator

V = "/services/data/v62.0"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(accounts=1200, seed=3) as emulator:
        yield emulator


@pytest.fixture
def http(emu: Emulator) -> Iterator[requests.Session]:
    with requests.Session() as session:
        token = session.post(
            f"{emu.url}/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": CLIENT_ID,
                "refresh_token": REFRESH_TOKEN,
            },
            timeout=10,
        ).json()["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        yield session


def create(http: requests.Session, emu: Emulator, query: str) -> requests.Response:
    return http.post(
        f"{emu.url}{V}/jobs/query", json={"operation": "query", "query": query}, timeout=10
    )


def poll_until_final(http: requests.Session, emu: Emulator, job_id: str) -> dict[str, Any]:
    for _ in range(10):
        info: dict[str, Any] = http.get(f"{emu.url}{V}/jobs/query/{job_id}", timeout=10).json()
        if info["state"] in {"JobComplete", "Failed", "Aborted"}:
            return info
    pytest.fail(f"job {job_id} never ended")


def result_ids(http: requests.Session, emu: Emulator, query: str) -> list[str]:
    created = create(http, emu, query)
    assert created.status_code == 200, created.text
    job_id = created.json()["id"]
    assert poll_until_final(http, emu, job_id)["state"] == "JobComplete"
    ids: list[str] = []
    locator = ""
    while locator != "null":
        params = {"maxRecords": "500"} | ({"locator": locator} if locator else {})
        answer = http.get(f"{emu.url}{V}/jobs/query/{job_id}/results", params=params, timeout=10)
        ids += [row[0] for row in list(csv.reader(io.StringIO(answer.text)))[1:]]
        locator = answer.headers["Sforce-Locator"]
    return ids


def rest_ids(http: requests.Session, emu: Emulator, query: str) -> list[str]:
    answer = http.get(f"{emu.url}{V}/query", params={"q": query}, timeout=10).json()
    ids = [r["Id"] for r in answer["records"]]
    while not answer["done"]:
        answer = http.get(emu.url + answer["nextRecordsUrl"], timeout=10).json()
        ids += [r["Id"] for r in answer["records"]]
    return ids


def test_results_without_order_by_come_in_shuffled_id_chunks(
    emu: Emulator, http: requests.Session
) -> None:
    emu.touch(count=30)  # touched records move to the end of the SystemModstamp order
    natural = rest_ids(http, emu, "SELECT Id FROM Account ORDER BY SystemModstamp, Id")
    unordered = result_ids(http, emu, "SELECT Id, SystemModstamp FROM Account")
    assert sorted(unordered) == sorted(natural)
    assert unordered != natural
    # The rows are the Id-ordered chunks of 250, the chunks in no order.
    in_id_order = sorted(unordered)
    chunks = {c[0]: c for c in (in_id_order[i : i + 250] for i in range(0, len(unordered), 250))}
    position, starts = 0, []
    while position < len(unordered):
        chunk = chunks[unordered[position]]
        assert unordered[position : position + len(chunk)] == chunk
        starts.append(chunk[0])
        position += len(chunk)
    assert starts != sorted(starts)
    ordered = result_ids(http, emu, "SELECT Id FROM Account ORDER BY SystemModstamp, Id")
    assert ordered == natural


def test_shuffle_is_deterministic_per_seed() -> None:
    def first_job_ids(seed: int) -> list[str]:
        with Emulator(accounts=1000, seed=seed) as emulator, requests.Session() as session:
            token = session.post(
                f"{emulator.url}/services/oauth2/token",
                data={
                    "grant_type": "refresh_token",
                    "client_id": CLIENT_ID,
                    "refresh_token": REFRESH_TOKEN,
                },
                timeout=10,
            ).json()["access_token"]
            session.headers["Authorization"] = f"Bearer {token}"
            ids = result_ids(session, emulator, "SELECT Id FROM Account")
            index = {rid: i for i, rid in enumerate(sorted(ids))}
            return [str(index[rid]) for rid in ids]

    assert first_job_ids(5) == first_job_ids(5)
    assert first_job_ids(5) != first_job_ids(6)


def test_large_org_times_out_a_sorted_or_limited_bulk_query(
    emu: Emulator, http: requests.Session
) -> None:
    emu.configure(bulk_sorted_max_rows=1000)
    for query in ("SELECT Id FROM Account ORDER BY Id", "SELECT Id FROM Account LIMIT 1100"):
        job = create(http, emu, query).json()
        info = poll_until_final(http, emu, job["id"])
        assert info["state"] == "Failed"
        assert "QUERY_TIMEOUT" in info["errorMessage"]
    small = create(http, emu, "SELECT Id FROM Account ORDER BY Id LIMIT 10").json()
    assert poll_until_final(http, emu, small["id"])["state"] == "JobComplete"
    assert len(result_ids(http, emu, "SELECT Id FROM Account")) > 1000
    logged = [r["soql"] for r in emu.requests() if r["kind"] == "bulk_create"]
    assert "SELECT Id FROM Account ORDER BY Id" in logged


@pytest.mark.parametrize(
    ("refusal", "status"),
    [
        ("API_DISABLED_FOR_ORG", 403),
        ("FUNCTIONALITY_NOT_ENABLED", 400),
        ("INSUFFICIENT_ACCESS", 403),
    ],
)
def test_bulk_refused_at_job_creation_while_rest_works(
    refusal: str, status: int, emu: Emulator, http: requests.Session
) -> None:
    emu.configure(bulk_refusal=refusal)
    answer = create(http, emu, "SELECT Id FROM Account")
    assert answer.status_code == status
    assert answer.json()[0]["errorCode"] == refusal
    assert len(rest_ids(http, emu, "SELECT Id FROM Account")) > 0
    assert emu.config()["bulk_jobs"] == 0
    with pytest.raises(urllib.error.HTTPError):
        emu.configure(bulk_refusal="NOPE")


def test_a_running_job_cannot_be_deleted_until_aborted(
    emu: Emulator, http: requests.Session
) -> None:
    emu.configure(bulk_polls_to_complete=100)
    job = create(http, emu, "SELECT Id FROM Account").json()
    path = f"{emu.url}{V}/jobs/query/{job['id']}"
    refused = http.delete(path, timeout=10)
    assert (refused.status_code, refused.json()[0]["errorCode"]) == (400, "API_ERROR")
    assert http.patch(path, json={"state": "Aborted"}, timeout=10).json()["state"] == "Aborted"
    assert http.delete(path, timeout=10).status_code == 204


def test_bulk_hangup_creates_the_job_and_never_answers(
    emu: Emulator, http: requests.Session
) -> None:
    emu.configure(fail="bulk-hangup:1")
    with pytest.raises(requests.ConnectionError):
        create(http, emu, "SELECT Id FROM Account")
    assert emu.config()["bulk_jobs"] == 1
    listed = http.get(f"{emu.url}{V}/jobs/query", timeout=10).json()["records"]
    assert len(listed) == 1


def test_late_commit_is_stamped_before_the_org_clock(emu: Emulator, http: requests.Session) -> None:
    emu.configure(clock_offset_seconds=-86_400)
    answer = http.get(f"{emu.url}{V}/limits", timeout=10)
    server_now = email.utils.parsedate_to_datetime(answer.headers["Date"]).timestamp()
    assert abs(server_now - (time.time() - 86_400)) < 120
    late = emu.insert(1, age_seconds=600)
    recent = emu.touch(1, age_seconds=5)
    rows = http.get(
        f"{emu.url}{V}/query",
        params={"q": "SELECT Id, CreatedDate, SystemModstamp FROM Account ORDER BY SystemModstamp"},
        timeout=10,
    ).json()["records"]
    by_id = {r["Id"]: r for r in rows}
    late_row = by_id[late["ids"][0]]
    assert late_row["SystemModstamp"] == late_row["CreatedDate"] == late["system_modstamp"]
    assert [r["Id"] for r in rows[-2:]] == [late["ids"][0], recent["ids"][0]]
    # A plain change still moves past every other record.
    plain = emu.touch(1)
    assert plain["system_modstamp"] > recent["system_modstamp"]
