"""Salesforce record Ids: the 15/18-character forms, their checksum, and Account Id checks.

A Salesforce Id is 15 case-sensitive ASCII letters and digits: ``001D000000IRFma`` and
``001d000000irfma`` are two different, equally well-formed records. Because many tools
(spreadsheets, SQL collations, some CRMs) compare text without regard to case, Salesforce
also has an 18-character form that appends a 3-character checksum of the letter case; the
API always returns that form. The first three characters are the object's key prefix,
``001`` for Account.

Every check here is pure and cheap; it runs before any request so that a malformed value
costs no round trip to Salesforce.

>>> normalize_account_id("001D000000IRFma")
'001D000000IRFmaIAH'
>>> normalize_account_id("001D000000IRFmaIAH")
'001D000000IRFmaIAH'
>>> is_account_id("003D000000IRFmaIAH")
False
"""

from __future__ import annotations

from tap_salesforce_accounts.exceptions import MalformedIdError

ACCOUNT_KEY_PREFIX = "001"
"""The key prefix of every Account Id."""

ID15_LENGTH = 15
ID18_LENGTH = 18
_CHUNK = 5

# Each 5-character chunk of the 15-character Id yields one checksum character: bit j is set
# when character j of the chunk is an uppercase A-Z, and the 5-bit number picks from here.
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

# Key prefixes people paste by mistake most often, to say what the value is instead.
_KNOWN_PREFIXES = {
    "003": "Contact",
    "005": "User",
    "006": "Opportunity",
    "00Q": "Lead",
    "500": "Case",
    "00D": "Organization",
    "00G": "Group",
    "00e": "Profile",
    "012": "RecordType",
    "01t": "Product2",
    "701": "Campaign",
    "800": "Contract",
    "801": "Order",
}

_SHOWN_MAX = 40


def shown(value: str) -> str:
    """The value as it may appear in a message: repr-escaped and at most ~40 characters."""
    if len(value) <= _SHOWN_MAX:
        return repr(value)
    return f"{value[:_SHOWN_MAX]!r}... ({len(value)} characters)"


def _is_id_text(value: str) -> bool:
    """Whether every character is an ASCII letter or digit (and there is at least one)."""
    return value.isascii() and value.isalnum()


def _chunk_checksum(chunk: str) -> str:
    bits = sum(1 << j for j, char in enumerate(chunk) if "A" <= char <= "Z")
    return _CHECKSUM_ALPHABET[bits]


def checksum(id15: str) -> str:
    """Compute the 3-character case checksum of a 15-character Id.

    Args:
        id15: A 15-character Id (ASCII letters and digits).

    Returns:
        The suffix that turns ``id15`` into its 18-character form.

    Raises:
        MalformedIdError: ``id15`` is not 15 ASCII letters and digits.

    >>> checksum("001D000000IRFma")
    'IAH'
    >>> checksum("001d000000irfma")
    'AAA'
    """
    if len(id15) != ID15_LENGTH or not _is_id_text(id15):
        msg = (
            f"Cannot compute an Id checksum of {shown(id15)}: "
            "it needs exactly 15 ASCII letters and digits."
        )
        raise MalformedIdError(msg)
    return "".join(_chunk_checksum(id15[i : i + _CHUNK]) for i in range(0, ID15_LENGTH, _CHUNK))


def _check_shape(value: str, what: str) -> None:
    """Raise unless ``value`` is 15 or 18 ASCII letters and digits, with a precise reason."""
    if not value:
        msg = f"The {what} is empty: pass the 15- or 18-character Id from Salesforce."
        raise MalformedIdError(msg)
    if value != value.strip() or any(char.isspace() for char in value):
        msg = (
            f"The {what} {shown(value)} contains whitespace: "
            "remove the spaces or line breaks around or inside it."
        )
        raise MalformedIdError(msg)
    if not _is_id_text(value):
        bad = next(char for char in value if not (char.isascii() and char.isalnum()))
        msg = (
            f"The {what} {shown(value)} contains {bad!r}: "
            "an Id has only ASCII letters and digits; copy it again from Salesforce."
        )
        raise MalformedIdError(msg)
    if len(value) not in {ID15_LENGTH, ID18_LENGTH}:
        msg = (
            f"The {what} {shown(value)} has {len(value)} characters: "
            "an Id has 15 or 18; copy the whole Id from Salesforce."
        )
        raise MalformedIdError(msg)


def _canonical_18(value: str, what: str) -> str:
    """The 18-character Id with the letter case its checksum encodes.

    The suffix exists so that 18-character Ids survive case-insensitive tools: Salesforce
    accepts them in any case, so the case of the first 15 characters is restored from it.
    """
    suffix = value[ID15_LENGTH:].upper()
    restored = []
    for index, char in enumerate(suffix):
        bits = _CHECKSUM_ALPHABET.find(char)
        chunk = value[index * _CHUNK : (index + 1) * _CHUNK]
        if bits < 0:
            break
        for position, letter in enumerate(chunk):
            upper = bool(bits >> position & 1)
            if upper and not letter.isalpha():
                break
            restored.append(letter.upper() if upper else letter.lower())
    canonical = "".join(restored)
    if len(canonical) != ID15_LENGTH or checksum(canonical) != suffix:
        msg = (
            f"The {what} {shown(value)} fails its checksum: the last 3 characters do not "
            "match the first 15; copy the Id again from Salesforce."
        )
        raise MalformedIdError(msg)
    return canonical + suffix


def normalize_account_id(value: str) -> str:
    """Check that ``value`` is an Account Id and return its 18-character form.

    Nothing is stripped, and a 15-character Id keeps its case: changing it would name
    another record. An 18-character Id gets the case its checksum encodes.

    Args:
        value: What the user passed as an Account Id.

    Returns:
        The 18-character Account Id.

    Raises:
        MalformedIdError: Empty, whitespace, a character other than an ASCII letter or
            digit, a length other than 15 or 18, a key prefix other than ``001``, or an
            18-character Id whose checksum does not match.

    >>> normalize_account_id("001D000000IRFma")
    '001D000000IRFmaIAH'
    >>> normalize_account_id("003D000000IRFma")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tap_salesforce_accounts.exceptions.MalformedIdError: ... its prefix '003' is a Contact Id; ...
    """
    what = "Account Id"
    _check_shape(value, what)
    prefix = value[: len(ACCOUNT_KEY_PREFIX)]
    if prefix != ACCOUNT_KEY_PREFIX:
        kind = _KNOWN_PREFIXES.get(prefix)
        known = f" is a {kind} Id" if kind else " is not Account's"
        msg = (
            f"The {what} {shown(value)} is not an Account Id: its prefix {prefix!r}{known}; "
            f"Account Ids start with {ACCOUNT_KEY_PREFIX!r}."
        )
        raise MalformedIdError(msg)
    if len(value) == ID18_LENGTH:
        return _canonical_18(value, what)
    return value + checksum(value)


def is_account_id(value: object) -> bool:
    """Whether ``value`` is a well-formed 15- or 18-character Account Id.

    >>> is_account_id("001D000000IRFma"), is_account_id("001d000000irfma")
    (True, True)
    >>> is_account_id("001D000000IRFma9AH"), is_account_id(None)
    (False, False)
    """
    if not isinstance(value, str):
        return False
    try:
        normalize_account_id(value)
    except MalformedIdError:
        return False
    return True
