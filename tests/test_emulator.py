"""The Salesforce emulator over real HTTP: OAuth, REST, Bulk API 2.0, faults, admin API."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import secrets
import time
import urllib.error
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.emulator import (
    CLIENT_ID,
    CLIENT_SECRET,
    ORG_ID,
    REFRESH_TOKEN,
    SHARED_LEGACY_INDEXES,
    SHARED_LEGACY_REF,
    SPECIAL_CUSTOMER_KEYS,
    USER_ID,
    USERNAME,
    Dataset,
    Emulator,
    EmulatorProcess,
    config_for,
)
from tests.emulator.data import ALL_FIELD_NAMES

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ACCOUNTS = 2500
SEED = 1
V = "/services/data/v62.0"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOCATOR_RE = re.compile(r"/services/data/v62\.0/query/01g[A-Za-z0-9]{15}-(\d+)")
FULL_SELECT = "SELECT " + ", ".join(ALL_FIELD_NAMES) + " FROM Account"  # noqa: S608


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(accounts=ACCOUNTS, seed=SEED) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def data() -> Dataset:
    return Dataset(ACCOUNTS, SEED)


def get_token(http: requests.Session, url: str, **extra: str) -> dict[str, Any]:
    form = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "refresh_token": REFRESH_TOKEN,
        **extra,
    }
    answer = http.post(f"{url}/services/oauth2/token", data=form)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


@pytest.fixture(scope="module")
def auth(emu: Emulator, http: requests.Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(http, emu.url)['access_token']}"}


def rest(
    http: requests.Session, emu: Emulator, auth: dict[str, str], path: str, **kw: Any
) -> requests.Response:
    headers = {**auth, **kw.pop("headers", {})}
    return http.get(f"{emu.url}{V}{path}", headers=headers, **kw)


def soql(
    http: requests.Session, emu: Emulator, auth: dict[str, str], query: str, **kw: Any
) -> requests.Response:
    return rest(http, emu, auth, "/query", params={"q": query}, **kw)


def error_of(answer: requests.Response) -> dict[str, Any]:
    body = answer.json()
    assert isinstance(body, list)
    assert len(body) == 1
    entry: dict[str, Any] = body[0]
    return entry


def all_pages(
    http: requests.Session, emu: Emulator, auth: dict[str, str], first: requests.Response
) -> list[dict[str, Any]]:
    assert first.status_code == 200, first.text
    page = first.json()
    records = list(page["records"])
    while not page["done"]:
        url = page["nextRecordsUrl"]
        assert LOCATOR_RE.fullmatch(url), url
        answer = http.get(emu.url + url, headers=auth)
        assert answer.status_code == 200
        page = answer.json()
        records.extend(page["records"])
    return records


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


# ----------------------------------------------------------------------------- basics
def test_versions_list_needs_no_auth(emu: Emulator, http: requests.Session) -> None:
    answer = http.get(f"{emu.url}/services/data/")
    assert answer.status_code == 200
    assert "Sforce-Limit-Info" not in answer.headers
    versions = answer.json()
    assert versions[0] == {"label": "Summer '14", "url": "/services/data/v31.0", "version": "31.0"}
    assert versions[-1] == {"label": "Winter '27", "url": "/services/data/v68.0", "version": "68.0"}
    assert answer.headers["Content-Length"] == str(len(answer.content))


def test_config_for(emu: Emulator) -> None:
    assert config_for(emu.url) == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        "login_url": emu.url,
    }


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc"])
def test_rest_needs_a_valid_token(
    emu: Emulator, http: requests.Session, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    answer = http.get(f"{emu.url}{V}/limits", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert answer.headers["Sforce-Limit-Info"].startswith("api-usage=")


@pytest.mark.parametrize("version", ["v30.0", "v69.0", "v62.5", "62.0", "vx"])
def test_unknown_versions_are_not_found(
    emu: Emulator, http: requests.Session, auth: dict[str, str], version: str
) -> None:
    answer = http.get(f"{emu.url}/services/data/{version}/limits", headers=auth)
    assert answer.status_code == 404
    assert error_of(answer) == {
        "errorCode": "NOT_FOUND",
        "message": "The requested resource does not exist",
    }


@pytest.mark.parametrize("version", ["31.0", "48.0", "68.0"])
def test_every_version_in_range_works(
    emu: Emulator, http: requests.Session, auth: dict[str, str], version: str
) -> None:
    answer = http.get(f"{emu.url}/services/data/v{version}/sobjects/Account/describe", headers=auth)
    assert answer.status_code == 200
    assert answer.json()["urls"]["sobject"] == f"/services/data/v{version}/sobjects/Account"


def test_unknown_resources_and_methods(
    emu: Emulator, http: requests.Session, auth: dict[str, str]
) -> None:
    answer = rest(http, emu, auth, "/nothing/here")
    assert answer.status_code == 404
    assert error_of(answer)["errorCode"] == "NOT_FOUND"
    answer = http.post(f"{emu.url}{V}/sobjects/Account/describe", headers=auth, data="{}")
    assert answer.status_code == 405
    assert error_of(answer) == {
        "message": "HTTP Method 'POST' not allowed. Allowed are GET,HEAD",
        "errorCode": "METHOD_NOT_ALLOWED",
    }
    assert http.get(f"{emu.url}/nowhere").status_code == 404
    assert rest(http, emu, auth, "/sobjects/Contact/describe").status_code == 404


def test_limit_header_counts_calls(
    emu: Emulator, http: requests.Session, auth: dict[str, str]
) -> None:
    first = rest(http, emu, auth, "/limits")
    second = rest(http, emu, auth, "/limits")
    used_1, max_1 = first.headers["Sforce-Limit-Info"].removeprefix("api-usage=").split("/")
    used_2, _ = second.headers["Sforce-Limit-Info"].removeprefix("api-usage=").split("/")
    assert int(used_2) == int(used_1) + 1
    limits = second.json()
    assert limits["DailyApiRequests"] == {"Max": int(max_1), "Remaining": int(max_1) - int(used_2)}


def test_api_limit_exceeded() -> None:
    with Emulator(accounts=10, api_limit=3) as emulator, requests.Session() as http:
        headers = {"Authorization": f"Bearer {get_token(http, emulator.url)['access_token']}"}
        statuses = [
            http.get(f"{emulator.url}{V}/limits", headers=headers).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 403]
        answer = http.get(f"{emulator.url}{V}/limits", headers=headers)
        assert answer.json() == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
        assert answer.headers["Sforce-Limit-Info"] == "api-usage=3/3"
        emulator.configure(api_usage=0, api_limit=10)
        assert http.get(f"{emulator.url}{V}/limits", headers=headers).status_code == 200


# ----------------------------------------------------------------------------- OAuth
def test_refresh_token_grant_answer(emu: Emulator, http: requests.Session) -> None:
    answer = get_token(http, emu.url, client_secret=CLIENT_SECRET)
    assert set(answer) == {
        "access_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    }
    assert answer["instance_url"] == emu.url
    assert answer["id"] == f"{emu.url}/id/{ORG_ID}/{USER_ID}"
    assert answer["token_type"] == "Bearer"
    assert abs(int(answer["issued_at"]) - time.time() * 1000) < 60_000
    identity = http.get(answer["id"], headers={"Authorization": f"Bearer {answer['access_token']}"})
    assert identity.json()["username"] == USERNAME


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (
            {"grant_type": "refresh_token", "client_id": "other", "refresh_token": REFRESH_TOKEN},
            "invalid_client_id",
        ),
        (
            {
                "grant_type": "refresh_token",
                "client_id": CLIENT_ID,
                "client_secret": "bad",
                "refresh_token": REFRESH_TOKEN,
            },
            "invalid_client",
        ),
        (
            {"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": "bad"},
            "invalid_grant",
        ),
        ({"grant_type": "refresh_token", "client_id": CLIENT_ID}, "invalid_request"),
        ({"grant_type": "password", "client_id": CLIENT_ID}, "unsupported_grant_type"),
        ({"client_id": CLIENT_ID}, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "client_id": CLIENT_ID}, "invalid_client"),
        (
            {
                "grant_type": "authorization_code",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "code": "nope",
                "redirect_uri": "http://localhost/cb",
            },
            "invalid_grant",
        ),
        ({"grant_type": JWT_GRANT}, "invalid_request"),
    ],
)
def test_oauth_errors(
    emu: Emulator, http: requests.Session, form: dict[str, str], error: str
) -> None:
    answer = http.post(f"{emu.url}/services/oauth2/token", data=form)
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    if error == "invalid_grant" and form.get("refresh_token") == "bad":
        assert body["error_description"] == "expired access/refresh token"


def test_client_credentials(emu: Emulator, http: requests.Session) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    answer = http.post(f"{emu.url}/services/oauth2/token", data=form).json()
    assert "refresh_token" not in answer
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    assert http.get(f"{emu.url}{V}/limits", headers=headers).status_code == 200


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def _authorize(
    http: requests.Session,
    url: str,
    challenge: str,
    redirect: str = "http://localhost:8765/callback",
) -> str:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": redirect,
        "state": "xyz 1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = http.get(f"{url}/services/oauth2/authorize", params=params, allow_redirects=False)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    query = parse_qs(location.query)
    assert query["state"] == ["xyz 1"]
    return query["code"][0]


def test_web_server_flow_with_pkce(emu: Emulator, http: requests.Session) -> None:
    verifier, challenge = _pkce()
    code = _authorize(http, emu.url, challenge)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": "http://localhost:8765/callback",
        "code_verifier": verifier,
    }
    answer = http.post(f"{emu.url}/services/oauth2/token", data=form)
    assert answer.status_code == 200
    refresh = answer.json()["refresh_token"]
    again = http.post(f"{emu.url}/services/oauth2/token", data=form)
    assert again.json()["error"] == "invalid_grant"  # single use
    assert get_token(http, emu.url, refresh_token=refresh)["access_token"]
    # a wrong verifier and a wrong redirect_uri
    _, other_challenge = _pkce()
    code = _authorize(http, emu.url, other_challenge)
    bad = http.post(f"{emu.url}/services/oauth2/token", data={**form, "code": code}).json()
    assert bad == {"error": "invalid_grant", "error_description": "invalid code verifier"}
    code = _authorize(http, emu.url, challenge)
    bad = http.post(
        f"{emu.url}/services/oauth2/token",
        data={**form, "code": code, "redirect_uri": "http://evil/cb"},
    ).json()
    assert bad["error"] == "invalid_grant"
    answer = http.get(
        f"{emu.url}/services/oauth2/authorize",
        params={"response_type": "code", "client_id": "x", "redirect_uri": "http://a"},
        allow_redirects=False,
    )
    assert answer.json()["error"] == "invalid_client_id"


def test_revoke(emu: Emulator, http: requests.Session) -> None:
    token = get_token(http, emu.url)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert http.get(f"{emu.url}{V}/limits", headers=headers).status_code == 200
    answer = http.post(f"{emu.url}/services/oauth2/revoke", data={"token": token})
    assert (answer.status_code, answer.content) == (200, b"")
    assert http.get(f"{emu.url}{V}/limits", headers=headers).status_code == 401
    answer = http.post(f"{emu.url}/services/oauth2/revoke", data={"token": "unknown"})
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "unsupported_token_type",
        "error_description": "this token type is not supported",
    }


def test_revoking_a_refresh_token_ends_its_sessions(http: requests.Session) -> None:
    with Emulator(accounts=5) as emulator:
        verifier, challenge = _pkce()
        code = _authorize(http, emulator.url, challenge)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": CLIENT_ID,
            "redirect_uri": "http://localhost:8765/callback",
            "code_verifier": verifier,
        }
        refresh = http.post(f"{emulator.url}/services/oauth2/token", data=form).json()[
            "refresh_token"
        ]
        access = get_token(http, emulator.url, refresh_token=refresh)["access_token"]
        assert (
            http.post(f"{emulator.url}/services/oauth2/revoke", data={"token": refresh}).status_code
            == 200
        )
        assert (
            http.get(
                f"{emulator.url}{V}/limits", headers={"Authorization": f"Bearer {access}"}
            ).status_code
            == 401
        )
        answer = http.post(
            f"{emulator.url}/services/oauth2/token",
            data={"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": refresh},
        )
        assert answer.json()["error"] == "invalid_grant"


def test_refresh_token_rotation(http: requests.Session) -> None:
    with Emulator(accounts=5, rotate_refresh_tokens=True) as emulator:
        first = get_token(http, emulator.url)
        assert first["refresh_token"] != REFRESH_TOKEN
        answer = http.post(
            f"{emulator.url}/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": CLIENT_ID,
                "refresh_token": REFRESH_TOKEN,
            },
        )
        assert answer.json()["error"] == "invalid_grant"
        second = get_token(http, emulator.url, refresh_token=first["refresh_token"])
        assert second["refresh_token"] not in {first["refresh_token"], REFRESH_TOKEN}


def _assertion(private: bytes, **claims: Any) -> str:
    payload = {
        "iss": CLIENT_ID,
        "sub": USERNAME,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 120,
        **claims,
    }
    return jwt.encode(payload, private, algorithm="RS256")


def test_jwt_bearer(http: requests.Session, rsa_keys: tuple[bytes, str]) -> None:
    private, public = rsa_keys
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with Emulator(accounts=5) as emulator:
        url = f"{emulator.url}/services/oauth2/token"

        def grant(assertion: str) -> dict[str, Any]:
            answer = http.post(url, data={"grant_type": JWT_GRANT, "assertion": assertion})
            result: dict[str, Any] = answer.json()
            return result

        assert grant(_assertion(private)) == {
            "error": "invalid_grant",
            "error_description": "invalid assertion",
        }
        emulator.configure(jwt_public_key_pem=public)
        answer = grant(_assertion(private))
        assert answer["token_type"] == "Bearer"
        assert "refresh_token" not in answer
        assert "access_token" in grant(_assertion(private, aud=emulator.url))
        assert "access_token" in grant(_assertion(private, aud="https://test.salesforce.com"))
        assert grant(_assertion(private, aud="https://example.com")) == {
            "error": "invalid_grant",
            "error_description": "audience is invalid",
        }
        assert (
            grant(_assertion(private, exp=int(time.time()) - 5))["error_description"]
            == "expired authorization code"
        )
        assert (
            grant(_assertion(private, exp=int(time.time()) + 3600))["error_description"]
            == "invalid assertion"
        )
        assert grant(_assertion(other))["error_description"] == "invalid assertion"
        assert grant(_assertion(private, iss="other"))["error"] == "invalid_client_id"
        assert grant(_assertion(private, sub="someone@else"))["error"] == "invalid_grant"
        assert grant("not.a.jwt")["error_description"] == "invalid assertion"


def test_jwt_public_key_from_the_command_line(
    tmp_path: Path, http: requests.Session, rsa_keys: tuple[bytes, str]
) -> None:
    private, public = rsa_keys
    with EmulatorProcess(
        accounts=5, jwt_public_key_pem=public, log_path=tmp_path / "log.jsonl"
    ) as process:
        answer = http.post(
            f"{process.url}/services/oauth2/token",
            data={"grant_type": JWT_GRANT, "assertion": _assertion(private)},
        )
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        assert (
            http.get(
                f"{process.url}{V}/limits", headers={"Authorization": f"Bearer {token}"}
            ).status_code
            == 200
        )
        kinds = [entry["kind"] for entry in process.requests()]
        assert kinds == ["token", "limits"]
        assert token not in json.dumps(process.requests())
    lines = (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["token", "limits"]
    assert "assertion" not in lines[0] or "<redacted>" in lines[0]
    assert token not in "".join(lines)


def test_command_line_rejects_a_bad_fail_spec() -> None:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    done = subprocess.run(
        [sys.executable, "-m", "tests.emulator", "--port", "0", "--fail", "nope:1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "fail spec" in done.stderr


def test_request_log_never_holds_secrets(emu: Emulator, http: requests.Session) -> None:
    token = get_token(http, emu.url, client_secret=CLIENT_SECRET)["access_token"]
    http.get(f"{emu.url}/services/oauth2/revoke", params={"token": token})
    text = json.dumps(emu.requests())
    for secret in (token, CLIENT_SECRET, REFRESH_TOKEN):
        assert secret not in text
    assert "<redacted>" in text


# ----------------------------------------------------------------------------- describe
def test_describe_and_if_modified_since(
    emu: Emulator, http: requests.Session, auth: dict[str, str]
) -> None:
    answer = rest(http, emu, auth, "/sobjects/Account/describe")
    assert answer.status_code == 200
    body = answer.json()
    assert body["name"] == "Account"
    assert body["urls"]["uiDetailTemplate"] == emu.url + "/{ID}"
    modified = answer.headers["Last-Modified"]
    same = rest(
        http, emu, auth, "/sobjects/Account/describe", headers={"If-Modified-Since": modified}
    )
    assert (same.status_code, same.content) == (304, b"")
    assert "Sforce-Limit-Info" in same.headers
    older = rest(
        http,
        emu,
        auth,
        "/sobjects/Account/describe",
        headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"},
    )
    assert older.status_code == 200
    assert emu.requests()[-1]["if_modified_since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert rest(http, emu, auth, "/sobjects/account/describe").status_code == 200


def test_other_resources(emu: Emulator, http: requests.Session, auth: dict[str, str]) -> None:
    assert rest(http, emu, auth, "").json()["query"] == f"{V}/query"
    assert rest(http, emu, auth, "/sobjects").json()["sobjects"][0]["name"] == "Account"
    assert rest(http, emu, auth, "/sobjects/Account").json()["objectDescribe"]["keyPrefix"] == "001"


# ----------------------------------------------------------------------------- query
def test_query_pages_and_totals(
    emu: Emulator, http: requests.Session, auth: dict[str, str], data: Dataset
) -> None:
    live = sum(1 for i in range(ACCOUNTS) if not data.value(i, "IsDeleted"))
    first = soql(http, emu, auth, "SELECT Id, Name FROM Account ORDER BY SystemModstamp, Id")
    page = first.json()
    assert page["totalSize"] == live
    assert page["done"] is False
    assert len(page["records"]) == 2000
    assert LOCATOR_RE.fullmatch(page["nextRecordsUrl"]).group(1) == "2000"  # type: ignore[union-attr]
    records = all_pages(http, emu, auth, first)
    assert len(records) == live
    assert len({r["Id"] for r in records}) == live
    assert list(records[0]) == ["attributes", "Id", "Name"]
    assert emu.requests()[-1]["kind"] == "query_more"


@pytest.mark.parametrize(
    ("asked", "size"),
    [("batchSize=500", 500), ("batchSize=10", 200), ("batchSize=9000", 2000), ("junk", 2000)],
)
def test_batch_size_option(
    emu: Emulator, http: requests.Session, auth: dict[str, str], asked: str, size: int
) -> None:
    first = soql(http, emu, auth, "SELECT Id FROM Account", headers={"Sforce-Query-Options": asked})
    assert len(first.json()["records"]) == size
    assert len(all_pages(http, emu, auth, first)) == first.json()["totalSize"]


def test_unknown_locator(emu: Emulator, http: requests.Session, auth: dict[str, str]) -> None:
    for locator in ("01gXXXXXXXXXXXXXXX-2000", "garbage"):
        answer = rest(http, emu, auth, f"/query/{locator}")
        assert answer.status_code == 400
        assert error_of(answer) == {
            "message": "invalid query locator",
            "errorCode": "INVALID_QUERY_LOCATOR",
        }


def test_query_hides_deleted_rows_and_query_all_shows_them(
    emu: Emulator, http: requests.Session, auth: dict[str, str], data: Dataset
) -> None:
    deleted = sorted(data.record_id(i) for i in range(ACCOUNTS) if data.value(i, "IsDeleted"))
    query = "SELECT Id, IsDeleted FROM Account WHERE IsDeleted = true"
    assert soql(http, emu, auth, query).json()["totalSize"] == 0
    answer = rest(http, emu, auth, "/queryAll", params={"q": query})
    assert sorted(r["Id"] for r in answer.json()["records"]) == deleted
    assert all(r["IsDeleted"] is True for r in answer.json()["records"])
    assert emu.requests()[-1]["kind"] == "query"


def test_query_fields_in_select_order_with_describe_spelling(
    emu: Emulator, http: requests.Session, auth: dict[str, str]
) -> None:
    answer = soql(
        http,
        emu,
        auth,
        "select customer_key__c, NAME, id, billingaddress from account "
        "where customer_key__c = 'cust-000123'",
    )
    (record,) = answer.json()["records"]
    assert list(record) == ["attributes", "Customer_Key__c", "Name", "Id", "BillingAddress"]
    assert record["Customer_Key__c"] == "CUST-000123"


def test_full_select_matches_the_record_endpoint(
    emu: Emulator, http: requests.Session, auth: dict[str, str]
) -> None:
    answer = soql(http, emu, auth, FULL_SELECT + " WHERE Customer_Key__c = 'CUST-000042'")
    (record,) = answer.json()["records"]
    single = rest(http, emu, auth, f"/sobjects/Account/{record['Id']}").json()
    assert single == record
    assert list(single) == ["attributes", *ALL_FIELD_NAMES]


def test_count_limit_offset(emu: Emulator, http: requests.Session, auth: dict[str, str]) -> None:
    count = soql(http, emu, auth, "SELECT COUNT() FROM Account WHERE Industry = 'Energy'").json()
    assert count["records"] == []
    ids = [
        r["Id"]
        for r in soql(
            http, emu, auth, "SELECT Id FROM Account WHERE Industry = 'Energy' ORDER BY Id"
        ).json()["records"]
    ]
    assert count["totalSize"] == len(ids)
    limited = soql(
        http,
        emu,
        auth,
        "SELECT Id FROM Account WHERE Industry = 'Energy' ORDER BY Id LIMIT 5 OFFSET 2",
    ).json()
    assert [r["Id"] for r in limited["records"]] == ids[2:7]
    assert limited["totalSize"] == 5


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("SELECT Foo FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE Description = 'x'", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE Id = 'xyz'", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Account WHERE Name = 'bad \\q escape'", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name = '" + "x" * 4001 + "'", "MALFORMED_QUERY"),
        ("SELECT Id FROM", "MALFORMED_QUERY"),
    ],
)
def test_query_errors_over_http(
    emu: Emulator, http: requests.Session, auth: dict[str, str], query: str, code: str
) -> None:
    answer = soql(http, emu, auth, query)
    assert answer.status_code == 400
    entry = error_of(answer)
    assert entry["errorCode"] == code
    assert "ERROR at Row:1:Column:" in entry["message"]


def test_missing_query_and_too_long_uri(
    emu: Emulator, http: requests.Session, auth: dict[str, str]
) -> None:
    answer = rest(http, emu, auth, "/query")
    assert answer.status_code == 400
    assert error_of(answer)["errorCode"] == "MALFORMED_QUERY"
    long_query = (
        "SELECT Id FROM Account WHERE Name IN ("  # noqa: S608
        + ",".join(f"'n{i:05d}'" for i in range(2000))
        + ")"
    )
    answer = soql(http, emu, auth, long_query)
    assert answer.status_code == 414
    assert answer.headers["Content-Type"].startswith("text/plain")


def test_literals_in_the_log_round_trip(
    emu: Emulator, http: requests.Session, auth: dict[str, str]
) -> None:
    values = ["O'Brien", 'say "hi"', "back\\slash", "new\nline", "東京 🚀", "50%_off"]

    def quote_soql(value: str) -> str:
        table = {"\\": "\\\\", "'": "\\'", "\n": "\\n", '"': '\\"'}
        return "'" + "".join(table.get(c, c) for c in value) + "'"

    query = (
        "SELECT Id FROM Account WHERE Name IN (" + ", ".join(quote_soql(v) for v in values) + ")"  # noqa: S608
    )
    assert soql(http, emu, auth, query).status_code == 200
    entry = emu.requests()[-1]
    assert entry["literals"] == values
    assert entry["soql"] == query
    assert entry["params"]["q"] == query


def test_special_names_are_found_by_their_quoted_literal(
    emu: Emulator, http: requests.Session, auth: dict[str, str], data: Dataset
) -> None:
    for index in data.special_name_indexes(limit=8):
        name = data.value(index, "Name")
        quoted = (
            "'"
            + "".join(
                {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", '"': '\\"'}.get(c, c)
                for c in name
            )
            + "'"
        )
        records = soql(
            http,
            emu,
            auth,
            f"SELECT Id, Name FROM Account WHERE Name = {quoted}",  # noqa: S608
        ).json()["records"]
        assert data.record_id(index) in {r["Id"] for r in records} or data.value(index, "IsDeleted")
        assert all(r["Name"] == name for r in records)


# ----------------------------------------------------------------------------- sobjects
def test_record_by_id(
    emu: Emulator, http: requests.Session, auth: dict[str, str], data: Dataset
) -> None:
    rid = data.record_id(77)
    full = rest(http, emu, auth, f"/sobjects/Account/{rid}")
    assert full.status_code == 200
    assert full.json()["attributes"] == {"type": "Account", "url": f"{V}/sobjects/Account/{rid}"}
    short = rest(http, emu, auth, f"/sobjects/Account/{rid[:15]}", params={"fields": "name,Id"})
    assert list(short.json()) == ["attributes", "Name", "Id"]
    assert short.json()["Id"] == rid
    bad = rest(http, emu, auth, f"/sobjects/Account/{rid}", params={"fields": "Id,Nope"})
    assert bad.status_code == 400
    assert error_of(bad)["errorCode"] == "INVALID_FIELD"


def test_record_by_id_errors(
    emu: Emulator, http: requests.Session, auth: dict[str, str], data: Dataset
) -> None:
    deleted = next(i for i in range(ACCOUNTS) if data.value(i, "IsDeleted"))
    not_found = {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
    answer = rest(http, emu, auth, f"/sobjects/Account/{data.record_id(deleted)}")
    assert (answer.status_code, error_of(answer)) == (404, not_found)
    answer = rest(http, emu, auth, f"/sobjects/Account/{data.record_id(ACCOUNTS + 50)}")
    assert (answer.status_code, error_of(answer)) == (404, not_found)
    lowered = data.record_id(3)[:15].lower()
    assert rest(http, emu, auth, f"/sobjects/Account/{lowered}").json().get("Id") != data.record_id(
        3
    )
    for bad in ("xyz", "001D000000IRFmaIAA", "003000000000001AAA"):
        answer = rest(http, emu, auth, f"/sobjects/Account/{bad}")
        assert answer.status_code == 400
        assert error_of(answer) == {
            "errorCode": "MALFORMED_ID",
            "message": f"Account ID: id value of incorrect type: {bad}",
        }


def test_records_by_customer_key_including_special_keys(
    emu: Emulator, http: requests.Session, auth: dict[str, str], data: Dataset
) -> None:
    for index, key in [*SPECIAL_CUSTOMER_KEYS.items(), (123, "cust-000123")]:
        # dots are encoded too, or clients remove the dot segments "." and ".."
        encoded = quote(key, safe="").replace(".", "%2E")
        answer = rest(
            http,
            emu,
            auth,
            f"/sobjects/Account/Customer_Key__c/{encoded}",
            params={"fields": "Id,Customer_Key__c"},
        )
        assert answer.status_code == 200, (key, answer.text)
        assert answer.json()["Id"] == data.record_id(index)
        assert answer.json()["Customer_Key__c"].lower() == key.lower()
    assert emu.requests()[-1]["kind"] == "sobject_by_external_id"


def test_external_id_lookup_answers(
    emu: Emulator, http: requests.Session, auth: dict[str, str], data: Dataset
) -> None:
    several = rest(http, emu, auth, f"/sobjects/Account/Legacy_Ref__c/{SHARED_LEGACY_REF}")
    assert several.status_code == 300
    assert several.json() == [
        f"{V}/sobjects/Account/{data.record_id(i)}" for i in SHARED_LEGACY_INDEXES
    ]
    answer = rest(http, emu, auth, "/sobjects/Account/Customer_Key__c/NO-SUCH-KEY")
    assert (answer.status_code, error_of(answer)["errorCode"]) == (404, "NOT_FOUND")
    for field in ("Name", "Nope__c", "Tax_Number__c"):
        answer = rest(http, emu, auth, f"/sobjects/Account/{field}/x")
        assert answer.status_code == 404
        assert error_of(answer) == {
            "errorCode": "NOT_FOUND",
            "message": f"Provided external ID field does not exist or is not accessible: {field}",
        }
    by_id = rest(
        http, emu, auth, f"/sobjects/Account/Id/{data.record_id(9)}", params={"fields": "Name"}
    )
    assert by_id.json()["Name"] == data.value(9, "Name")
    legacy = rest(http, emu, auth, "/sobjects/Account/legacy_ref__c/leg-0000500")
    assert legacy.status_code in {200, 404}
    if legacy.status_code == 200:
        assert legacy.json()["Id"] == data.record_id(500)


def test_logo_blob(
    emu: Emulator, http: requests.Session, auth: dict[str, str], data: Dataset
) -> None:
    index = next(
        i for i in range(ACCOUNTS) if data.value(i, "Logo__c") and not data.value(i, "IsDeleted")
    )
    record = rest(http, emu, auth, f"/sobjects/Account/{data.record_id(index)}").json()
    blob = http.get(emu.url + record["Logo__c"], headers=auth)
    assert blob.status_code == 200
    assert blob.content.startswith(b"\x89PNG")


# ----------------------------------------------------------------------------- Bulk API 2.0
def _bulk_job(
    http: requests.Session,
    emu: Emulator,
    auth: dict[str, str],
    query: str,
    operation: str = "query",
) -> requests.Response:
    return http.post(
        f"{emu.url}{V}/jobs/query", headers=auth, json={"operation": operation, "query": query}
    )


def test_bulk_query_job(emu: Emulator, http: requests.Session, auth: dict[str, str]) -> None:
    fields = [
        f
        for f in ALL_FIELD_NAMES
        if f not in {"BillingAddress", "ShippingAddress", "Location__c", "Logo__c"}
    ]
    query = "SELECT " + ", ".join(fields) + " FROM Account WHERE Industry != 'Energy'"  # noqa: S608
    created = _bulk_job(http, emu, auth, query)
    assert created.status_code == 200
    job = created.json()
    assert job["id"].startswith("750")
    assert (
        job["state"],
        job["operation"],
        job["object"],
        job["contentType"],
        job["columnDelimiter"],
        job["lineEnding"],
    ) == (
        "UploadComplete",
        "query",
        "Account",
        "CSV",
        "COMMA",
        "LF",
    )
    early = http.get(f"{emu.url}{V}/jobs/query/{job['id']}/results", headers=auth)
    assert early.status_code == 412
    states = [
        http.get(f"{emu.url}{V}/jobs/query/{job['id']}", headers=auth).json()["state"]
        for _ in range(3)
    ]
    assert states == ["InProgress", "JobComplete", "JobComplete"]
    info = http.get(f"{emu.url}{V}/jobs/query/{job['id']}", headers=auth).json()
    rows: list[list[str]] = []
    locator = None
    chunks = 0
    while True:
        params = {"maxRecords": "1000"} | ({"locator": locator} if locator else {})
        answer = http.get(
            f"{emu.url}{V}/jobs/query/{job['id']}/results", headers=auth, params=params
        )
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("text/csv")
        table = list(csv.reader(io.StringIO(answer.content.decode())))
        assert table[0] == fields
        assert int(answer.headers["Sforce-NumberOfRecords"]) == len(table) - 1
        rows.extend(table[1:])
        chunks += 1
        locator = answer.headers["Sforce-Locator"]
        assert emu.requests()[-1]["kind"] == "bulk_results"
        if locator == "null":
            break
    assert chunks == 3
    rest_total = soql(http, emu, auth, "SELECT Id FROM Account WHERE Industry != 'Energy'").json()[
        "totalSize"
    ]
    assert len(rows) == rest_total == info["numberRecordsProcessed"]
    assert re.fullmatch(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z", rows[0][fields.index("CreatedDate")]
    )
    assert rows[0][fields.index("IsDeleted")] == "false"


def test_bulk_errors_and_query_all(
    emu: Emulator, http: requests.Session, auth: dict[str, str], data: Dataset
) -> None:
    compound = _bulk_job(http, emu, auth, "SELECT Id, BillingAddress FROM Account")
    assert compound.status_code == 400
    assert "compound" in error_of(compound)["message"]
    bad = _bulk_job(http, emu, auth, "SELECT Nope FROM Account")
    assert (bad.status_code, error_of(bad)["errorCode"]) == (400, "INVALID_FIELD")
    assert (
        _bulk_job(http, emu, auth, "SELECT Id FROM Account", operation="delete").status_code == 400
    )
    assert http.get(f"{emu.url}{V}/jobs/query/750000000000000AAA", headers=auth).status_code == 404
    job = _bulk_job(
        http,
        emu,
        auth,
        "SELECT Id, IsDeleted FROM Account WHERE IsDeleted = true",
        operation="queryAll",
    ).json()
    for _ in range(2):
        http.get(f"{emu.url}{V}/jobs/query/{job['id']}", headers=auth)
    text = http.get(f"{emu.url}{V}/jobs/query/{job['id']}/results", headers=auth).content.decode()
    deleted = sum(1 for i in range(ACCOUNTS) if data.value(i, "IsDeleted"))
    assert text.count('"true"') == deleted
    aborted = _bulk_job(http, emu, auth, "SELECT Id FROM Account").json()
    answer = http.patch(
        f"{emu.url}{V}/jobs/query/{aborted['id']}", headers=auth, json={"state": "Aborted"}
    )
    assert answer.json()["state"] == "Aborted"
    assert http.delete(f"{emu.url}{V}/jobs/query/{aborted['id']}", headers=auth).status_code == 204
    assert http.get(f"{emu.url}{V}/jobs/query/{aborted['id']}", headers=auth).status_code == 404


# ----------------------------------------------------------------------------- faults
def test_fault_expire(http: requests.Session) -> None:
    with Emulator(accounts=5, fail="expire:2") as emulator:
        headers = {"Authorization": f"Bearer {get_token(http, emulator.url)['access_token']}"}
        statuses = [
            http.get(f"{emulator.url}{V}/limits", headers=headers).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 401]
        headers = {"Authorization": f"Bearer {get_token(http, emulator.url)['access_token']}"}
        assert http.get(f"{emulator.url}{V}/limits", headers=headers).status_code == 200


def test_fault_503_429_and_slow(http: requests.Session) -> None:
    with Emulator(accounts=5, fail="503:3:7") as emulator:
        headers = {"Authorization": f"Bearer {get_token(http, emulator.url)['access_token']}"}
        answers = [http.get(f"{emulator.url}{V}/limits", headers=headers) for _ in range(6)]
        assert [a.status_code for a in answers] == [200, 200, 503, 200, 200, 503]
        assert error_of(answers[2])["errorCode"] == "SERVER_UNAVAILABLE"
        assert answers[2].headers["Retry-After"] == "7"
        emulator.configure(fail="429:2")
        answers = [http.get(f"{emulator.url}{V}/limits", headers=headers) for _ in range(2)]
        assert [a.status_code for a in answers] == [200, 429]
        emulator.configure(fail="slow:2:150")
        started = time.perf_counter()
        http.get(f"{emulator.url}{V}/limits", headers=headers)
        fast = time.perf_counter() - started
        started = time.perf_counter()
        http.get(f"{emulator.url}{V}/limits", headers=headers)
        assert time.perf_counter() - started >= 0.15 > fast
        assert emulator.config()["fail"] == "slow:2:150"


def test_fault_drop_and_malformed_pages() -> None:
    with Emulator(accounts=700, fail="drop:2,malformed:5") as emulator, requests.Session() as http:
        headers = {"Authorization": f"Bearer {get_token(http, emulator.url)['access_token']}"}
        options = {**headers, "Sforce-Query-Options": "batchSize=200"}
        first = http.get(
            f"{emulator.url}{V}/query", params={"q": "SELECT Id FROM Account"}, headers=options
        )
        next_url = first.json()["nextRecordsUrl"]
        outcomes = ["ok"]
        for _ in range(5):
            try:
                answer = http.get(emulator.url + next_url, headers=headers)
            except requests.exceptions.RequestException:
                outcomes.append("drop")
                continue
            try:
                json.loads(answer.content)
            except json.JSONDecodeError:
                outcomes.append("malformed")
            else:
                outcomes.append("ok")
        assert outcomes == ["ok", "drop", "ok", "drop", "malformed", "drop"]


def test_latency(http: requests.Session) -> None:
    with Emulator(accounts=5, latency_ms=120) as emulator:
        started = time.perf_counter()
        http.get(f"{emulator.url}/services/data/")
        assert time.perf_counter() - started >= 0.12
        # The admin API is never delayed: with a minute of latency it still answers.
        emulator.configure(latency_ms=60_000)
        assert emulator.config()["latency_ms"] == 60_000


# ----------------------------------------------------------------------------- admin API
def test_admin_touch_delete_insert(http: requests.Session) -> None:
    with Emulator(accounts=300) as emulator:
        headers = {"Authorization": f"Bearer {get_token(http, emulator.url)['access_token']}"}

        def query(q: str) -> list[dict[str, Any]]:
            answer = http.get(f"{emulator.url}{V}/query", params={"q": q}, headers=headers)
            records: list[dict[str, Any]] = answer.json()["records"]
            return records

        before = query("SELECT Id, SystemModstamp FROM Account ORDER BY SystemModstamp, Id")
        touched = emulator.touch(3)
        assert len(touched["ids"]) == 3
        stamp = touched["system_modstamp"]
        assert stamp > max(r["SystemModstamp"] for r in before)
        since = query(
            "SELECT Id, LastModifiedDate, SystemModstamp FROM Account "  # noqa: S608
            f"WHERE SystemModstamp >= {stamp[:19]}Z ORDER BY SystemModstamp, Id"
        )
        assert [r["Id"] for r in since] == touched["ids"]
        assert all(r["LastModifiedDate"] == r["SystemModstamp"] == stamp for r in since)
        target = before[10]["Id"]
        again = emulator.touch(ids=[target])
        assert again["ids"] == [target]
        assert again["system_modstamp"] > stamp
        gone = emulator.delete([target])
        assert gone["ids"] == [target]
        assert (
            http.get(f"{emulator.url}{V}/sobjects/Account/{target}", headers=headers).status_code
            == 404
        )
        all_rows = http.get(
            f"{emulator.url}{V}/queryAll",
            params={"q": f"SELECT Id, IsDeleted FROM Account WHERE Id = '{target}'"},  # noqa: S608
            headers=headers,
        ).json()
        assert all_rows["records"][0]["IsDeleted"] is True
        added = emulator.insert(4)
        assert len(added["ids"]) == 4
        assert query("SELECT COUNT() FROM Account") == []
        newest = query("SELECT Id FROM Account ORDER BY SystemModstamp DESC, Id DESC LIMIT 4")
        assert sorted(r["Id"] for r in newest) == added["ids"]
        with pytest.raises(urllib.error.HTTPError, match="400"):
            emulator.delete(["001000000000000AAA"])
        emulator.reset()
        assert (
            http.get(f"{emulator.url}{V}/sobjects/Account/{target}", headers=headers).status_code
            == 200
        )
        assert [e["kind"] for e in emulator.requests()] == ["sobject"]


def test_admin_log_entries(emu: Emulator, http: requests.Session, auth: dict[str, str]) -> None:
    emu.reset_log()
    soql(http, emu, auth, "SELECT Id FROM Account WHERE Name = 'x' LIMIT 1")
    (entry,) = emu.requests()
    assert set(entry) == {
        "ts",
        "method",
        "path",
        "params",
        "status",
        "kind",
        "grant_type",
        "soql",
        "literals",
        "if_modified_since",
        "bytes",
        "duration_ms",
    }
    assert (entry["method"], entry["path"], entry["status"], entry["kind"], entry["literals"]) == (
        "GET",
        f"{V}/query",
        200,
        "query",
        ["x"],
    )
    assert entry["bytes"] > 0
    assert entry["duration_ms"] >= 0
    config = emu.config()
    assert config["accounts"] == ACCOUNTS
    with pytest.raises(urllib.error.HTTPError, match="400"):
        emu.configure(nope=1)


def test_emulator_process_cli() -> None:
    with EmulatorProcess(accounts=50, seed=3) as process, requests.Session() as http:
        assert process.url.startswith("http://127.0.0.1:")
        token = get_token(http, process.url)["access_token"]
        answer = http.get(
            f"{process.url}{V}/query",
            params={"q": "SELECT Id FROM Account"},
            headers={"Authorization": f"Bearer {token}"},
        )
        expected = Dataset(50, 3)
        assert {r["Id"] for r in answer.json()["records"]} == {
            expected.record_id(i) for i in range(50) if not expected.value(i, "IsDeleted")
        }
        assert process.touch(2)["ids"]
        subprocess_handle = process.process
    assert subprocess_handle is not None
    assert subprocess_handle.returncode == 0
