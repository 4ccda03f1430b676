"""Pure: a lookup value converted by its index field's describe type.

SOQL compares a number, date or datetime field only with an unquoted literal of that type
(a quoted number is refused: "must be of type double and should not be enclosed in quotes"),
so the text a caller passes is converted first; text fields take it as it is.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Final

from tap_salesforce_accounts import ids
from tap_salesforce_accounts.exceptions import InvalidLookupValueError

if TYPE_CHECKING:
    from tap_salesforce_accounts.schema import FieldInfo

WHOLE_TYPES: Final = frozenset({"int", "long"})
# A double holds magnitudes up to about 1.8e308: a number past that is no value of the field.
_MAX_EXPONENT: Final = 308
NUMBER_TYPES: Final = frozenset({"double", "currency", "percent"})

Literal = str | int | Decimal | date | datetime


def convert(field: FieldInfo, value: str) -> Literal:
    """``value`` as the type of ``field``: an int, Decimal, date, datetime, or the text itself.

    Raises:
        InvalidLookupValueError: the value is not valid for the field's type.

    >>> from tap_salesforce_accounts.schema import FieldInfo
    >>> member = FieldInfo.from_describe({"name": "Member__c", "type": "double", "scale": 0})
    >>> convert(member, " 0100015 ")
    Decimal('100015')
    >>> convert(member, "1.5E3")
    Decimal('1.5E+3')
    """
    kind = field.kind
    if kind in WHOLE_TYPES or kind in NUMBER_TYPES:
        number = _number(value)
        if number is None or (kind in WHOLE_TYPES and number != number.to_integral_value()):
            what = "a whole number" if kind in WHOLE_TYPES else "a number"
            raise _refused(field, value, f"{what} such as 12345")
        return int(number) if kind in WHOLE_TYPES else number
    if kind == "date":
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise _refused(field, value, "a date such as 2024-01-31") from None
    if kind == "datetime":
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _refused(field, value, "a datetime such as 2024-01-31T12:00:00Z") from None
        if parsed.tzinfo is None:
            raise _refused(field, value, "a datetime with its offset, such as 2024-01-31T12:00:00Z")
        return parsed
    return value


def path_segment(literal: Literal) -> str:
    """The literal as an External ID path segment: numbers in plain digits.

    >>> path_segment(Decimal("1.5E+3")), path_segment(Decimal("100015")), path_segment(7)
    ('1500', '100015', '7')
    """
    if isinstance(literal, Decimal):
        return format(literal.normalize(), "f")
    if isinstance(literal, date):
        return literal.isoformat()
    return str(literal)


def _number(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or (number and abs(number.adjusted()) > _MAX_EXPONENT):
        return None
    return number


def _refused(field: FieldInfo, value: str, expected: str) -> InvalidLookupValueError:
    return InvalidLookupValueError(
        f"the lookup value {ids.shown(value)} is not valid for {field.name}, a {field.kind} "
        f"field: give {expected}."
    )
