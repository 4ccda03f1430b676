"""A SOQL parser and evaluator for the queries a tap sends about Account.

Supported: ``SELECT f1, f2, ... | COUNT() FROM Account [WHERE cond] [ORDER BY f [ASC|DESC]
[NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]``. Conditions: ``= != <> < <= > >=``,
``[NOT] IN (...)``, ``LIKE``, ``INCLUDES``/``EXCLUDES`` (multipicklists), ``AND``/``OR``/
``NOT``, parentheses; as in Salesforce, ``AND`` and ``OR`` cannot be mixed at one level
without parentheses. Literals: strings with SOQL escapes, numbers, ``true``/``false``,
``null``, unquoted dates, datetimes and times.

Comparison rules (Salesforce's): text compares case-insensitively; Ids compare by their
18-character form; ``!=`` and ``NOT IN`` also match nulls (two-valued logic); ``<``, ``>``
etc. never match a null. Errors raise ``SoqlError`` with Salesforce's error code and a
message located like Salesforce's (``ERROR at Row:1:Column:N``).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from tests.emulator.data import FIELDS_BY_LOWER, FieldInfo
from tests.emulator.describe import TEXT_TYPES
from tests.emulator.ids import to18

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_QUERY_LENGTH: Final = 100_000
MAX_LITERAL_LENGTH: Final = 4_000
MAX_OFFSET: Final = 2_000
_KEYWORDS: Final = frozenset(
    {
        "select",
        "from",
        "where",
        "and",
        "or",
        "not",
        "in",
        "like",
        "includes",
        "excludes",
        "order",
        "by",
        "asc",
        "desc",
        "nulls",
        "first",
        "last",
        "limit",
        "offset",
        "true",
        "false",
        "null",
    }
)
_SIMPLE_ESCAPES: Final = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}
_NUMBER_TYPES: Final = {
    "int": "integer",
    "long": "long",
    "double": "double",
    "currency": "currency",
    "percent": "percent",
}
_DATETIME_RE: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}:\d{2})"
)
_DATE_RE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![\dT:])")
_TIME_RE: Final = re.compile(r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?Z")
_NUMBER_RE: Final = re.compile(r"[+-]?\d+(?:\.\d+)?")
_IDENT_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_OPERATORS: Final = ("<=", ">=", "!=", "<>", "=", "<", ">")
_NO_SUCH_COLUMN: Final = (
    "No such column '{name}' on entity 'Account'. If you are attempting to use a custom "
    "field, be sure to append the '__c' after the custom field name. Please reference your "
    "WSDL or the describe call for the appropriate names."
)


class SoqlError(Exception):
    """A query Salesforce would refuse: HTTP 400 with ``[{"message", "errorCode"}]``."""

    def __init__(self, error_code: str, message: str) -> None:
        """Keep the error code and message."""
        super().__init__(message)
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token."""

    kind: str  # ident string number date datetime time op comma lparen rparen eof
    text: str
    pos: int
    value: Any = None

    @property
    def keyword(self) -> str | None:
        """The lowercase keyword this identifier spells, if it is one."""
        if self.kind == "ident" and self.text.lower() in _KEYWORDS:
            return self.text.lower()
        return None


@dataclass(frozen=True, slots=True)
class DateTimeLiteral:
    """A datetime literal, as epoch milliseconds."""

    ms: int


@dataclass(frozen=True, slots=True)
class DateLiteral:
    """A date literal, ``YYYY-MM-DD``."""

    text: str


@dataclass(frozen=True, slots=True)
class TimeLiteral:
    """A time literal, milliseconds since midnight."""

    ms: int


@dataclass(frozen=True, slots=True)
class StringLiteral:
    """A quoted string: its raw body (escapes undecoded)."""

    raw: str


# ----------------------------------------------------------------------------- AST
@dataclass(frozen=True, slots=True)
class Compare:
    """``field op value``."""

    field: FieldInfo
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class InList:
    """``field [NOT] IN (values)``."""

    field: FieldInfo
    values: tuple[Any, ...]
    negate: bool


@dataclass(frozen=True, slots=True)
class Like:
    """``field LIKE pattern``."""

    field: FieldInfo
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Includes:
    """``field INCLUDES|EXCLUDES ('a;b', 'c')``: any group whose values are all present."""

    field: FieldInfo
    groups: tuple[frozenset[str], ...]
    negate: bool


@dataclass(frozen=True, slots=True)
class BoolOp:
    """``AND`` / ``OR`` of conditions."""

    op: str
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """``NOT cond``."""

    item: Node


Node = Compare | InList | Like | Includes | BoolOp | Not


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One ORDER BY entry."""

    field: FieldInfo
    descending: bool
    nulls_first: bool


@dataclass(slots=True)
class Query:
    """A parsed query."""

    fields: tuple[str, ...]
    count_only: bool
    where: Node | None
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    literals: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- errors
def _located(query: str, pos: int, text: str) -> str:
    """Salesforce's error text: the line, a caret under the position, row and column."""
    pos = max(0, min(pos, len(query)))
    row = query.count("\n", 0, pos) + 1
    line_start = query.rfind("\n", 0, pos) + 1
    line_end = query.find("\n", pos)
    line = query[line_start : line_end if line_end >= 0 else len(query)]
    column = pos - line_start + 1
    shown_from = max(0, column - 1 - 60)
    snippet = line[shown_from : column - 1 + 60]
    caret = " " * (column - 1 - shown_from) + "^"
    return f"\n{snippet}\n{caret}\nERROR at Row:{row}:Column:{column}\n{text}"


def _error(query: str, pos: int, code: str, text: str) -> SoqlError:
    return SoqlError(code, _located(query, pos, text))


# ----------------------------------------------------------------------------- lexer
def tokenize(query: str) -> list[Token]:
    """Split a query into tokens.

    Raises:
        SoqlError: an unterminated string or a character SOQL does not know.
    """
    tokens: list[Token] = []
    pos = 0
    length = len(query)
    while pos < length:
        char = query[pos]
        if char.isspace():
            pos += 1
            continue
        if char == "'":
            end = pos + 1
            while end < length and query[end] != "'":
                end += 2 if query[end] == "\\" else 1
            if end >= length:
                raise _error(query, pos, "MALFORMED_QUERY", "unterminated string literal")
            raw = query[pos + 1 : end]
            tokens.append(Token("string", query[pos : end + 1], pos, StringLiteral(raw)))
            pos = end + 1
            continue
        if char in ",()":
            kind = {",": "comma", "(": "lparen", ")": "rparen"}[char]
            tokens.append(Token(kind, char, pos))
            pos += 1
            continue
        if char.isdigit() or (char in "+-" and pos + 1 < length and query[pos + 1].isdigit()):
            token = _literal_token(query, pos)
            tokens.append(token)
            pos += len(token.text)
            continue
        matched_op = next((op for op in _OPERATORS if query.startswith(op, pos)), None)
        if matched_op is not None:
            tokens.append(Token("op", matched_op, pos))
            pos += len(matched_op)
            continue
        ident = _IDENT_RE.match(query, pos)
        if ident is not None:
            tokens.append(Token("ident", ident.group(), pos))
            pos = ident.end()
            continue
        raise _error(query, pos, "MALFORMED_QUERY", f"unexpected token: '{char}'")
    tokens.append(Token("eof", "<EOF>", length))
    return tokens


def _literal_token(query: str, pos: int) -> Token:
    """A number, date, datetime or time literal starting at ``pos``."""
    match = _DATETIME_RE.match(query, pos)
    if match is not None:
        return Token("datetime", match.group(), pos, _datetime_value(query, pos, match))
    match = _DATE_RE.match(query, pos)
    if match is not None:
        year, month, day = (int(g) for g in match.groups())
        _check_date(query, pos, year, month, day)
        return Token("date", match.group(), pos, DateLiteral(match.group()))
    match = _TIME_RE.match(query, pos)
    if match is not None:
        hour, minute, second = (int(g) for g in match.groups()[:3])
        millis = int(match.group(4) or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise _error(query, pos, "MALFORMED_QUERY", f"invalid time: {match.group()}")
        ms = ((hour * 60 + minute) * 60 + second) * 1000 + millis
        return Token("time", match.group(), pos, TimeLiteral(ms))
    match = _NUMBER_RE.match(query, pos)
    if match is None:  # pragma: no cover - the caller saw a digit
        raise _error(query, pos, "MALFORMED_QUERY", "unexpected token")
    text = match.group()
    end = match.end()
    if end < len(query) and (query[end].isalnum() or query[end] in "_:-."):
        bad = re.match(r"[\w:.+-]+", query[pos:])
        shown = bad.group() if bad else text
        raise _error(query, pos, "MALFORMED_QUERY", f"unexpected token: '{shown}'")
    value: int | float = float(text) if "." in text else int(text)
    return Token("number", text, pos, value)


def _check_date(query: str, pos: int, year: int, month: int, day: int) -> None:
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]) or year < 1700:
        raise _error(query, pos, "MALFORMED_QUERY", "invalid date literal")


def _datetime_value(query: str, pos: int, match: re.Match[str]) -> DateTimeLiteral:
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    _check_date(query, pos, year, month, day)
    if hour > 23 or minute > 59 or second > 59:
        raise _error(query, pos, "MALFORMED_QUERY", "invalid datetime literal")
    fraction = match.group(7) or "0"
    millis = int(fraction.ljust(3, "0"))
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    zone = match.group(8)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 23 or zone_minutes > 59:
            raise _error(query, pos, "MALFORMED_QUERY", "invalid datetime literal")
        seconds -= sign * (zone_hours * 3600 + zone_minutes * 60)
    return DateTimeLiteral(seconds * 1000 + millis)


def decode_string(raw: str, *, like: bool = False) -> tuple[str, list[tuple[str, str]]]:  # noqa: C901
    """Decode the body of a SOQL string literal.

    Args:
        raw: the characters between the quotes.
        like: True for a LIKE pattern, where ``\\%`` and ``\\_`` are also escapes and
            unescaped ``%`` and ``_`` are wildcards.

    Returns:
        The decoded text (for a LIKE pattern: with ``\\%``/``\\_`` kept as written), and the
        pattern pieces ``(kind, text)`` with kind ``lit``, ``any`` or ``one``.

    Raises:
        ValueError: an invalid escape (message names it).
    """
    out: list[str] = []
    pieces: list[tuple[str, str]] = []
    index = 0
    length = len(raw)
    while index < length:
        char = raw[index]
        if char != "\\":
            out.append(char)
            if like and char == "%":
                pieces.append(("any", ""))
            elif like and char == "_":
                pieces.append(("one", ""))
            else:
                pieces.append(("lit", char))
            index += 1
            continue
        if index + 1 >= length:
            msg = "\\"
            raise ValueError(msg)
        escape = raw[index + 1]
        if escape in _SIMPLE_ESCAPES:
            decoded = _SIMPLE_ESCAPES[escape]
            index += 2
        elif escape == "u":
            digits = raw[index + 2 : index + 6]
            if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                msg = "\\u" + digits
                raise ValueError(msg)
            decoded = chr(int(digits, 16))
            index += 6
        elif like and escape in "%_":
            out.append("\\" + escape)
            pieces.append(("lit", escape))
            index += 2
            continue
        else:
            msg = "\\" + escape
            raise ValueError(msg)
        out.append(decoded)
        pieces.append(("lit", decoded))
    text = _join_surrogates("".join(out))
    if like:
        pieces = _merge_surrogate_pieces(pieces)
    return text, pieces


def _join_surrogates(text: str) -> str:
    """Combine UTF-16 surrogate pairs (from ``\\uD83D\\uDE80``) into one character."""
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "strict")


def _merge_surrogate_pieces(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for kind, value in pieces:
        if merged and kind == "lit" and merged[-1][0] == "lit" and "\udc00" <= value <= "\udfff":
            previous = merged[-1][1]
            if "\ud800" <= previous[-1:] <= "\udbff":
                merged[-1] = ("lit", _join_surrogates(previous + value))
                continue
        merged.append((kind, value))
    return merged


# ----------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, query: str, hidden: frozenset[str]) -> None:
        self.query = query
        self.hidden = hidden
        self.tokens = tokenize(query)
        self.index = 0
        self.literals: list[str] = []

    # -- token helpers
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def unexpected(self, token: Token | None = None) -> SoqlError:
        token = token or self.current
        return _error(self.query, token.pos, "MALFORMED_QUERY", f"unexpected token: '{token.text}'")

    def expect_keyword(self, word: str) -> Token:
        token = self.current
        if token.keyword != word:
            raise self.unexpected()
        return self.advance()

    def at_keyword(self, *words: str) -> bool:
        return self.current.keyword in words

    # -- grammar
    def parse(self) -> Query:
        self.expect_keyword("select")
        fields, count_only = self.select_list()
        self.expect_keyword("from")
        object_token = self.advance()
        if object_token.kind != "ident" or object_token.keyword is not None:
            raise self.unexpected(object_token)
        if object_token.text.lower() != "account":
            raise _error(
                self.query,
                object_token.pos,
                "INVALID_TYPE",
                f"sObject type '{object_token.text}' is not supported. If you are attempting "
                "to use a custom object, be sure to append the '__c' after the entity name. "
                "Please reference your WSDL or the describe call for the appropriate names.",
            )
        where = None
        if self.at_keyword("where"):
            self.advance()
            where = self.condition()
        order: tuple[OrderItem, ...] = ()
        if self.at_keyword("order"):
            self.advance()
            self.expect_keyword("by")
            order = self.order_list()
        limit = offset = None
        if self.at_keyword("limit"):
            self.advance()
            limit = self.integer()
        if self.at_keyword("offset"):
            offset_token = self.advance()
            offset = self.integer()
            if offset > MAX_OFFSET:
                raise _error(
                    self.query,
                    offset_token.pos,
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    f"Maximum SOQL offset allowed is {MAX_OFFSET}",
                )
        if self.current.kind != "eof":
            raise self.unexpected()
        return Query(fields, count_only, where, order, limit, offset, self.literals)

    def integer(self) -> int:
        token = self.advance()
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            raise self.unexpected(token)
        return token.value

    def select_list(self) -> tuple[tuple[str, ...], bool]:
        first = self.current
        if (
            first.kind == "ident"
            and first.text.lower() == "count"
            and self.tokens[self.index + 1].kind == "lparen"
        ):
            self.advance()
            self.advance()
            if self.current.kind != "rparen":
                raise _error(
                    self.query,
                    self.current.pos,
                    "MALFORMED_QUERY",
                    "the emulator supports COUNT() only, without a field",
                )
            self.advance()
            return (), True
        names: list[str] = []
        seen: set[str] = set()
        while True:
            token = self.advance()
            if token.kind != "ident" or token.keyword is not None:
                raise self.unexpected(token)
            if self.current.kind == "lparen":
                raise _error(
                    self.query,
                    token.pos,
                    "MALFORMED_QUERY",
                    f"the emulator does not support the function {token.text}()",
                )
            info = self.resolve(token)
            if info.name in seen:
                raise _error(
                    self.query,
                    token.pos,
                    "MALFORMED_QUERY",
                    f"duplicate field selected: {info.name}",
                )
            seen.add(info.name)
            names.append(info.name)
            if self.current.kind != "comma":
                break
            self.advance()
        return tuple(names), False

    def resolve(self, token: Token) -> FieldInfo:
        if "." in token.text:
            relationship = token.text.split(".", 1)[0]
            raise _error(
                self.query,
                token.pos,
                "INVALID_FIELD",
                f"Didn't understand relationship '{relationship}' in field path. If you are "
                "attempting to use a custom relationship, be sure to append the '__r' after the "
                "custom relationship name. Please reference your WSDL or the describe call for "
                "the appropriate names.",
            )
        info = FIELDS_BY_LOWER.get(token.text.lower())
        if info is None or info.name in self.hidden:
            raise _error(
                self.query, token.pos, "INVALID_FIELD", _NO_SUCH_COLUMN.format(name=token.text)
            )
        return info

    def order_list(self) -> tuple[OrderItem, ...]:
        items: list[OrderItem] = []
        while True:
            token = self.advance()
            if token.kind != "ident" or token.keyword is not None:
                raise self.unexpected(token)
            info = self.resolve(token)
            if not info.sortable:
                raise _error(
                    self.query,
                    token.pos,
                    "INVALID_FIELD",
                    f"field '{info.name}' can not be sorted in a query call",
                )
            descending = False
            if self.at_keyword("asc", "desc"):
                descending = self.advance().keyword == "desc"
            nulls_first = not descending
            if self.at_keyword("nulls"):
                self.advance()
                if not self.at_keyword("first", "last"):
                    raise self.unexpected()
                nulls_first = self.advance().keyword == "first"
            items.append(OrderItem(info, descending, nulls_first))
            if self.current.kind != "comma":
                return tuple(items)
            self.advance()

    def condition(self) -> Node:
        items = [self.term()]
        joiner: str | None = None
        while self.at_keyword("and", "or"):
            token = self.current
            word = str(token.keyword)
            if joiner is not None and word != joiner:
                raise self.unexpected(token)
            joiner = word
            self.advance()
            items.append(self.term())
        if joiner is None:
            return items[0]
        return BoolOp(joiner, tuple(items))

    def term(self) -> Node:
        if self.at_keyword("not"):
            self.advance()
            return Not(self.term())
        if self.current.kind == "lparen":
            self.advance()
            node = self.condition()
            if self.current.kind != "rparen":
                raise self.unexpected()
            self.advance()
            return node
        return self.simple()

    def simple(self) -> Node:  # noqa: C901
        token = self.advance()
        if token.kind != "ident" or token.keyword is not None:
            raise self.unexpected(token)
        info = self.resolve(token)
        if not info.filterable or info.is_compound:
            raise _error(
                self.query,
                token.pos,
                "INVALID_FIELD",
                f"field '{info.name}' can not be filtered in a query call",
            )
        operator_token = self.current
        if operator_token.kind == "op":
            self.advance()
            op = "!=" if operator_token.text == "<>" else operator_token.text
            value = self.value_for(info, self.advance())
            if op not in {"=", "!="} and info.type == "multipicklist":
                raise _error(
                    self.query,
                    operator_token.pos,
                    "INVALID_QUERY_FILTER_OPERATOR",
                    f"invalid operator on multipicklist field: {info.name}",
                )
            return Compare(info, op, value)
        word = operator_token.keyword
        negate = False
        if word == "not":
            self.advance()
            if not self.at_keyword("in"):
                raise self.unexpected()
            word = "in"
            negate = True
        if word == "in":
            self.advance()
            return InList(info, self.value_list(info), negate)
        if word == "like":
            self.advance()
            return self.like(info, self.advance())
        if word in {"includes", "excludes"}:
            self.advance()
            if info.type != "multipicklist":
                raise _error(
                    self.query,
                    operator_token.pos,
                    "INVALID_QUERY_FILTER_OPERATOR",
                    "INCLUDES or EXCLUDES operator only valid on multipicklist field",
                )
            groups = tuple(
                frozenset(part.strip().lower() for part in str(v).split(";") if part.strip())
                for v in self.value_list(info)
                if v is not None
            )
            return Includes(info, groups, negate=word == "excludes")
        raise self.unexpected(operator_token)

    def value_list(self, info: FieldInfo) -> tuple[Any, ...]:
        if self.current.kind != "lparen":
            raise self.unexpected()
        self.advance()
        if self.at_keyword("select"):
            raise _error(
                self.query,
                self.current.pos,
                "MALFORMED_QUERY",
                "the emulator does not support semi-joins",
            )
        values: list[Any] = []
        while True:
            values.append(self.value_for(info, self.advance()))
            if self.current.kind == "rparen":
                self.advance()
                return tuple(values)
            if self.current.kind != "comma":
                raise self.unexpected()
            self.advance()

    def string_text(self, token: Token, *, like: bool = False) -> tuple[str, list[tuple[str, str]]]:
        literal = token.value
        if not isinstance(literal, StringLiteral):  # pragma: no cover - callers check
            raise self.unexpected(token)
        try:
            text, pieces = decode_string(literal.raw, like=like)
        except ValueError as exc:
            raise _error(
                self.query,
                token.pos,
                "MALFORMED_QUERY",
                f"Invalid string literal '{token.text}'. Illegal escape sequence '{exc}'",
            ) from None
        except UnicodeDecodeError:
            raise _error(
                self.query,
                token.pos,
                "MALFORMED_QUERY",
                f"Invalid string literal '{token.text}'. Unpaired surrogate in a \\u escape",
            ) from None
        if len(text) > MAX_LITERAL_LENGTH:
            raise _error(
                self.query,
                token.pos,
                "MALFORMED_QUERY",
                f"String literal is too long: {len(text)} characters, the maximum in a WHERE "
                f"clause is {MAX_LITERAL_LENGTH}",
            )
        self.literals.append(text)
        return text, pieces

    def like(self, info: FieldInfo, token: Token) -> Like:
        if info.type in {"id", "reference"}:
            raise _error(
                self.query,
                token.pos,
                "INVALID_QUERY_FILTER_OPERATOR",
                "invalid operator on id field",
            )
        if info.type not in TEXT_TYPES:
            raise _error(
                self.query,
                token.pos,
                "INVALID_QUERY_FILTER_OPERATOR",
                f"invalid operator on field: {info.name}",
            )
        if token.kind != "string":
            raise self.type_error(info, token)
        _, pieces = self.string_text(token, like=True)
        regex = "".join(
            ".*" if kind == "any" else "." if kind == "one" else re.escape(value)
            for kind, value in pieces
        )
        return Like(info, re.compile(regex, re.IGNORECASE | re.DOTALL))

    def type_error(self, info: FieldInfo, token: Token) -> SoqlError:
        expected = _expected_type(info)
        quoting = (
            "should be enclosed in quotes"
            if expected == "string"
            else "should not be enclosed in quotes"
        )
        return _error(
            self.query,
            token.pos,
            "INVALID_FIELD",
            f"value of filter criterion for field '{info.name}' must be of type {expected} "
            f"and {quoting}",
        )

    def value_for(self, info: FieldInfo, token: Token) -> Any:  # noqa: C901, PLR0911, PLR0912
        """Check a literal against the field's type; return the comparable value."""
        if token.keyword == "null":
            return None
        ftype = info.type
        if ftype in {"id", "reference"}:
            if token.kind != "string":
                raise self.type_error(info, token)
            text, _ = self.string_text(token)
            full = to18(text)
            if full is None:
                raise _error(
                    self.query,
                    token.pos,
                    "INVALID_QUERY_FILTER_OPERATOR",
                    f"invalid ID field: {text}",
                )
            return full
        if ftype in TEXT_TYPES:
            if token.kind != "string":
                raise self.type_error(info, token)
            text, _ = self.string_text(token)
            return text
        if ftype == "boolean":
            if token.keyword not in {"true", "false"}:
                raise self.type_error(info, token)
            return token.keyword == "true"
        if ftype in _NUMBER_TYPES:
            if token.kind != "number":
                raise self.type_error(info, token)
            return token.value
        if ftype == "datetime":
            if token.kind != "datetime":
                raise self.type_error(info, token)
            return token.value.ms
        if ftype == "date":
            if token.kind != "date":
                raise self.type_error(info, token)
            return token.value.text
        if ftype == "time":
            if token.kind != "time":
                raise self.type_error(info, token)
            return token.value.ms
        raise _error(
            self.query,
            token.pos,
            "INVALID_FIELD",
            f"field '{info.name}' can not be filtered in a query call",
        )


def _expected_type(info: FieldInfo) -> str:
    if info.type in TEXT_TYPES or info.type in {"id", "reference"}:
        return "string"
    if info.type == "datetime":
        return "dateTime"
    return _NUMBER_TYPES.get(info.type, info.type)


def parse(query: str, *, hidden: frozenset[str] = frozenset()) -> Query:
    """Parse a SOQL query about Account.

    Args:
        query: the SOQL text.
        hidden: fields the user cannot read (field-level security): to the query they do
            not exist.

    Returns:
        The parsed query; ``literals`` holds every decoded string literal of the WHERE
        clause, in order.

    Raises:
        SoqlError: a query Salesforce would refuse.
    """
    if len(query) > MAX_QUERY_LENGTH:
        msg = f"SOQL statements cannot be longer than {MAX_QUERY_LENGTH:,} characters."
        raise SoqlError("MALFORMED_QUERY", msg)  # noqa: EM101
    if not query.strip():
        msg = _located(query, 0, "unexpected token: '<EOF>'")
        raise SoqlError("MALFORMED_QUERY", msg)  # noqa: EM101
    return _Parser(query, hidden).parse()


# ----------------------------------------------------------------------------- evaluation
def _fold(value: Any, info: FieldInfo) -> Any:
    if isinstance(value, str) and info.type in TEXT_TYPES:
        return value.lower()
    return value


def compile_predicate(  # noqa: PLR0911
    node: Node, getter: Callable[[str], Callable[[int], Any]]
) -> Callable[[int], bool]:
    """Compile a condition into ``index -> bool``.

    Args:
        node: the parsed condition.
        getter: returns the ``index -> typed value`` function of a field name.

    Returns:
        The predicate.
    """
    if isinstance(node, BoolOp):
        parts = [compile_predicate(item, getter) for item in node.items]
        if node.op == "and":
            return lambda index: all(part(index) for part in parts)
        return lambda index: any(part(index) for part in parts)
    if isinstance(node, Not):
        inner = compile_predicate(node.item, getter)
        return lambda index: not inner(index)
    get = getter(node.field.name)
    info = node.field
    if isinstance(node, Like):
        regex = node.regex
        return lambda index: (
            (value := get(index)) is not None and regex.fullmatch(value) is not None
        )
    if isinstance(node, Includes):
        groups = node.groups

        def includes(index: int) -> bool:
            value = get(index)
            present = frozenset(v.lower() for v in value.split(";")) if value else frozenset()
            hit = any(group <= present for group in groups)
            return hit != node.negate

        return includes
    if isinstance(node, InList):
        if info.type == "multipicklist":
            wanted = {_multi_key(v) for v in node.values}
            return lambda index: (_multi_key(get(index)) in wanted) != node.negate
        folded = {_fold(v, info) for v in node.values}
        return lambda index: (_fold(get(index), info) in folded) != node.negate
    return _compare(node, get)


def _multi_key(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset(part.strip().lower() for part in str(value).split(";") if part.strip())


def _compare(node: Compare, get: Callable[[int], Any]) -> Callable[[int], bool]:  # noqa: PLR0911
    info = node.field
    op = node.op
    if info.type == "multipicklist":
        wanted_set = _multi_key(node.value)
        if op == "=":
            return lambda index: _multi_key(get(index)) == wanted_set
        return lambda index: _multi_key(get(index)) != wanted_set
    wanted = _fold(node.value, info)
    text = info.type in TEXT_TYPES
    if op == "=":
        if text:
            return lambda index: _fold(get(index), info) == wanted
        return lambda index: get(index) == wanted
    if op == "!=":
        if text:
            return lambda index: _fold(get(index), info) != wanted
        return lambda index: get(index) != wanted
    if wanted is None:
        return lambda _index: False
    compare = _RELATIONS[op]

    def relation(index: int) -> bool:
        value = get(index)
        if value is None:
            return False
        return bool(compare(_fold(value, info), wanted))

    return relation


_RELATIONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def sort_key(info: FieldInfo, value: Any) -> Any:
    """The ORDER BY key of a non-null value (text sorts case-insensitively)."""
    if info.type == "boolean":
        return int(value)
    return _fold(value, info)
