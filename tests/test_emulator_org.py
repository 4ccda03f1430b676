"""The emulator where real orgs surprise clients: stray 304s, expiring cursors, numeric
External IDs and fields hidden by field-level security."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.emulator import CLIENT_ID, REFRESH_TOKEN, Emulator

if TYPE_CHECKING:
    from collections.abc import Iterator

V = "/services/data/v68.0"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(accounts=900, seed=3) as emulator:
        yield emulator


@pytest.fixture
def http(emu: Emulator) -> Iterator[requests.Session]:
    with requests.Session() as session:
        answer = session.post(
            f"{emu.url}/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": CLIENT_ID,
                "refresh_token": REFRESH_TOKEN,
            },
        )
        session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield session


def get(http: requests.Session, emu: Emulator, path: str, **kw: Any) -> requests.Response:
    return http.get(emu.url + path, **kw)


def error_of(answer: requests.Response) -> dict[str, Any]:
    (entry,) = answer.json()
    assert isinstance(entry, dict)
    return entry


def test_fault_304_answers_any_call_not_modified(emu: Emulator, http: requests.Session) -> None:
    emu.configure(fail="304:2")
    answers = [get(http, emu, f"{V}/limits") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 304, 200, 304]
    assert answers[1].content == b""


# ----------------------------------------------------------------------------- cursors
def open_cursor(http: requests.Session, emu: Emulator) -> str:
    answer = get(
        http,
        emu,
        f"{V}/query",
        params={"q": "SELECT Id FROM Account"},
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    assert answer.status_code == 200
    next_url: str = answer.json()["nextRecordsUrl"]
    return next_url


def assert_expired(answer: requests.Response) -> None:
    assert answer.status_code == 400
    assert error_of(answer) == {
        "message": "invalid query locator",
        "errorCode": "INVALID_QUERY_LOCATOR",
    }


def test_a_user_keeps_ten_cursors_open_and_a_new_one_drops_the_oldest(
    emu: Emulator, http: requests.Session
) -> None:
    cursors = [open_cursor(http, emu) for _ in range(11)]
    assert emu.config()["open_cursors"] == 10
    assert_expired(get(http, emu, cursors[0]))
    for cursor in cursors[1:]:
        assert get(http, emu, cursor).status_code == 200


def test_an_idle_cursor_expires(emu: Emulator, http: requests.Session) -> None:
    used = open_cursor(http, emu)
    assert emu.config()["cursor_idle_seconds"] == 900
    emu.configure(cursor_idle_seconds=0)  # every cursor has now been idle long enough
    assert_expired(get(http, emu, used))
    assert_expired(get(http, emu, used))  # gone for good


def test_expire_cursors_and_the_locator_fault(emu: Emulator, http: requests.Session) -> None:
    first, second = open_cursor(http, emu), open_cursor(http, emu)
    assert emu.expire_cursors() == 2
    assert_expired(get(http, emu, first))
    assert_expired(get(http, emu, second))

    emu.configure(fail="locator:2")
    cursor = open_cursor(http, emu)
    page = get(http, emu, cursor)
    assert page.status_code == 200
    assert_expired(get(http, emu, page.json()["nextRecordsUrl"]))
    assert emu.config()["open_cursors"] == 0


# ----------------------------------------------------------------------------- field security
def test_a_hidden_field_is_gone_everywhere_but_the_describe_date_stays(
    emu: Emulator, http: requests.Session
) -> None:
    before = get(http, emu, f"{V}/sobjects/Account/describe")
    assert "Discount__c" in {f["name"] for f in before.json()["fields"]}
    assert emu.hide_fields("discount__c") == ["Discount__c"]

    revalidated = get(
        http,
        emu,
        f"{V}/sobjects/Account/describe",
        headers={"If-Modified-Since": before.headers["Last-Modified"]},
    )
    assert revalidated.status_code == 304
    after = get(http, emu, f"{V}/sobjects/Account/describe")
    assert after.headers["Last-Modified"] == before.headers["Last-Modified"]
    names = [f["name"] for f in after.json()["fields"]]
    assert "Discount__c" not in names
    assert len(names) == len(before.json()["fields"]) - 1

    refused = get(http, emu, f"{V}/query", params={"q": "SELECT Id, Discount__c FROM Account"})
    assert refused.status_code == 400
    assert error_of(refused)["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Discount__c'" in error_of(refused)["message"]
    record_id = get(http, emu, f"{V}/query", params={"q": "SELECT Id FROM Account"}).json()[
        "records"
    ][0]["Id"]
    with_fields = get(http, emu, f"{V}/sobjects/Account/{record_id}?fields=Id,Discount__c")
    assert error_of(with_fields)["errorCode"] == "INVALID_FIELD"
    whole = get(http, emu, f"{V}/sobjects/Account/{record_id}").json()
    assert "Discount__c" not in whole
    assert "Seats__c" in whole

    assert emu.hide_fields() == []
    assert get(http, emu, f"{V}/query", params={"q": "SELECT Discount__c FROM Account"}).ok


# ----------------------------------------------------------------------------- numeric External ID
def test_a_numeric_external_id_compares_only_unquoted(
    emu: Emulator, http: requests.Session
) -> None:
    describe = get(http, emu, f"{V}/sobjects/Account/describe").json()
    (member,) = [f for f in describe["fields"] if f["name"] == "Member_Number__c"]
    assert (member["type"], member["externalId"], member["unique"], member["scale"]) == (
        "double",
        True,
        True,
        0,
    )

    def query(where: str) -> requests.Response:
        return get(
            http,
            emu,
            f"{V}/query",
            params={"q": f"SELECT Id, Member_Number__c FROM Account WHERE {where}"},  # noqa: S608
        )

    (found,) = query("Member_Number__c = 100015").json()["records"]
    assert found["Member_Number__c"] == 100015.0
    refused = query("Member_Number__c = '100015'")
    assert refused.status_code == 400
    assert error_of(refused)["errorCode"] == "INVALID_FIELD"
    assert (
        "must be of type double and should not be enclosed in quotes"
        in (error_of(refused)["message"])
    )

    by_path = get(http, emu, f"{V}/sobjects/Account/Member_Number__c/100015")
    assert by_path.json()["Id"] == found["Id"]
    assert get(http, emu, f"{V}/sobjects/Account/Member_Number__c/99").status_code == 404
    text = get(http, emu, f"{V}/sobjects/Account/Member_Number__c/abc")
    assert text.status_code == 400
    assert error_of(text)["errorCode"] == "INVALID_FIELD"
