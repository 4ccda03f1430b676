"""On-demand mode: the one Account whose index field equals a value, in one round trip."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote as url_quote
from urllib.parse import urlencode

from tap_salesforce_accounts import ids, lookup_value, soql
from tap_salesforce_accounts.client import MAX_URL_LENGTH, decode_json
from tap_salesforce_accounts.exceptions import (
    AccountNotFoundError,
    InvalidLookupValueError,
    InvalidQueryError,
    MultipleAccountsError,
)
from tap_salesforce_accounts.schema import check_index_field, make_record_converter

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Mapping, Sequence

    from tap_salesforce_accounts.client import SalesforceClient
    from tap_salesforce_accounts.schema import FieldInfo, ObjectDescription


class OnDemandLookups:
    """The Account stream's lookups; the stream provides what is declared here."""

    description: ObjectDescription
    client: SalesforceClient
    _converter: tuple[tuple[str, ...], Callable[[dict[str, Any]], dict[str, Any]]] | None

    if TYPE_CHECKING:

        @property
        def schema(self) -> dict[str, Any]:
            """The stream's JSON Schema."""

        @property
        def include_deleted(self) -> bool:
            """Whether deleted Accounts are read too."""

        def selected_fields(self) -> list[str]:
            """The selected fields."""

        def _query_pages(
            self, statement: str, *, ahead: bool = True
        ) -> Generator[list[dict[str, Any]], None, None]: ...

        def _fits_in_url(self, statement: str) -> bool: ...

        def _url_budget(self) -> int: ...

        def _readable_after_refresh(
            self, error: InvalidQueryError, fields: Sequence[str]
        ) -> list[str]: ...

    def lookup(self, value: str, index_field: str = "Id") -> dict[str, Any]:
        """The one Account whose ``index_field`` equals ``value``, in one round trip.

        Raises:
            AccountNotFoundError: no Account matches.
            MultipleAccountsError: several Accounts match.
            InvalidLookupValueError: the value is empty, too long, a malformed Id, or not of
                the index field's type (a number field's value must be a number).
            IndexFieldError: the field cannot identify one Account.
        """
        field = check_index_field(self.description, index_field)
        if value == "":
            msg = f"the lookup value is empty: give the {field.name} of one Account."
            raise InvalidLookupValueError(msg)
        literal: lookup_value.Literal
        if field.name == "Id":
            value = literal = ids.normalize_account_id(value)
        else:
            # A number or date field compares only with a literal of its type, and no text
            # over 4,000 characters compares at all: such values are refused before any call.
            literal = lookup_value.convert(field, value)
            soql.quote(literal)
        fields = self.selected_fields()
        try:
            record = self._read_one(field, value, literal, fields)
        except InvalidQueryError as exc:
            fields = self._readable_after_refresh(exc, fields)
            field = check_index_field(self.description, index_field)
            record = self._read_one(field, value, literal, fields)
        return self._record_converter(fields)(_project(record, fields))

    def _read_one(
        self,
        field: FieldInfo,
        value: str,
        literal: lookup_value.Literal,
        fields: Sequence[str],
    ) -> dict[str, Any]:
        if self.include_deleted:
            # Deleted Accounts are reachable only through queryAll.
            return self._lookup_by_query(field.name, value, literal, fields)
        if field.name == "Id":
            return self._lookup_by_path(f"sobjects/Account/{value}", value, fields)
        segment = lookup_value.path_segment(literal)
        if field.external_id and _path_safe(segment):
            resource = f"sobjects/Account/{field.name}/{url_quote(segment, safe='')}"
            return self._lookup_by_path(resource, value, fields)
        return self._lookup_by_query(field.name, value, literal, fields)

    def _lookup_by_path(self, resource: str, value: str, fields: Sequence[str]) -> dict[str, Any]:
        path = self.client.data_path(resource)
        params = None
        if len(fields) < len(self.schema["properties"]):
            params = {"fields": ",".join(fields)}
            if len(self.client.url_for(path)) + len(urlencode(params)) > MAX_URL_LENGTH:
                params = None  # read every field and keep the selected ones
        response = self.client.get(path, params=params, ok=frozenset({200, 300, 404}))
        if response.status_code == 404:  # noqa: PLR2004
            raise AccountNotFoundError(_not_found(value))
        body = decode_json(response.content)
        if response.status_code == 300:  # noqa: PLR2004
            count = len(body) if isinstance(body, list) else "several"
            msg = f"{count} Accounts match {ids.shown(value)}: the index field must identify one."
            raise MultipleAccountsError(msg)
        return body  # type: ignore[no-any-return]

    def _lookup_by_query(
        self, field: str, value: str, literal: lookup_value.Literal, fields: Sequence[str]
    ) -> dict[str, Any]:
        where = soql.eq(field, literal)
        statement = soql.select(fields, where=where, limit=2)
        wide = not self._fits_in_url(statement)
        if wide:
            statement = soql.select(["Id"], where=where, limit=2)
        records = self._first_page(statement)
        if not records:
            raise AccountNotFoundError(_not_found(value))
        if len(records) > 1:
            msg = (
                f"several Accounts have {field} = {ids.shown(value)}: "
                "the index field must identify one."
            )
            raise MultipleAccountsError(msg)
        if wide:
            return self._read_in_chunks(str(records[0]["Id"]), fields)
        return records[0]

    def _first_page(self, statement: str) -> list[dict[str, Any]]:
        pages = self._query_pages(statement, ahead=False)
        try:
            return next(pages)
        finally:
            pages.close()

    def _read_in_chunks(self, account_id: str, fields: Sequence[str]) -> dict[str, Any]:
        """One Account's fields in as many queries as the URI limit needs (wide orgs)."""
        where = soql.eq("Id", account_id)
        overhead = len(urlencode({"q": soql.select(["Id"], where=where)}))
        # URL-encoded, ", " becomes "%2C+": four characters per separator.
        chunks = soql.split_fields(fields, budget=self._url_budget() - overhead, separator_cost=4)
        record: dict[str, Any] = {}
        for chunk in chunks:
            rows = self._first_page(soql.select(chunk, where=where))
            if not rows:
                raise AccountNotFoundError(_not_found(account_id))
            record.update(rows[0])
        return record

    def _record_converter(
        self, fields: Sequence[str]
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        key = tuple(fields)
        cached = self._converter
        if cached is None or cached[0] != key:
            cached = (key, make_record_converter(self.description, fields))
            self._converter = cached
        return cached[1]


def _project(record: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {name: record.get(name) for name in fields}


def _path_safe(value: str) -> bool:
    # Salesforce resolves the External ID path before decoding it: a "/" (even as %2F),
    # "." or ".." segment can route elsewhere, so such values go through SOQL instead.
    return "/" not in value and "\\" not in value and value not in {".", ".."}


def _not_found(value: str) -> str:
    return (
        f"no Account matches {ids.shown(value)}: check the value and index_field "
        "(deleted Accounts are found only with include_deleted)."
    )
