"""Run a parsed query over the dataset: which record indexes match, in which order.

Fast paths keep big orgs cheap: ``Id`` / ``Customer_Key__c`` equality or ``IN`` in a top-level
``AND`` go straight to the matching records; the usual incremental shape (``WHERE
SystemModstamp >= X ORDER BY SystemModstamp, Id``, or no ORDER BY) is a binary search in the
natural (SystemModstamp, Id) order, which needs no per-record work but skipping deleted rows;
a selective condition on profile-level fields (``Name = 'x'``, ``Industry IN (...)``) is
evaluated on the 512 profiles, then on their records only. Anything else is a scan with the
compiled predicate, then a stable sort.
"""

from __future__ import annotations

import bisect
import re
from array import array
from typing import TYPE_CHECKING, Any, Final

from tests.emulator.data import (
    MEMBER_BASE,
    PROFILE_FIELDS,
    SHARED_LEGACY_INDEXES,
    SHARED_LEGACY_REF,
    SPECIAL_CUSTOMER_KEYS,
    Dataset,
)
from tests.emulator.soql import (
    BoolOp,
    Compare,
    InList,
    Node,
    Not,
    OrderItem,
    Query,
    compile_predicate,
    sort_key,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

_CUSTOMER_KEY_RE: Final = re.compile(r"cust-(\d{6,})", re.IGNORECASE)
_SPECIAL_BY_FOLDED: Final = {key.lower(): index for index, key in SPECIAL_CUSTOMER_KEYS.items()}
_STAMP_OPS: Final = frozenset({">=", ">", "<=", "<", "="})
_PROFILE_FIELD_SET: Final = frozenset(PROFILE_FIELDS)
# Below this many records a plain scan is as quick as the profile shortcut.
_PROFILE_SCAN_MIN: Final = 5_000


def conjuncts(where: Node | None) -> list[Node]:
    """The top-level AND items of a condition (the condition itself when not an AND)."""
    if where is None:
        return []
    if isinstance(where, BoolOp) and where.op == "and":
        return list(where.items)
    return [where]


def customer_key_index(data: Dataset, value: str) -> int | None:
    """Index of the record whose Customer_Key__c equals ``value`` (case-insensitively)."""
    folded = value.lower()
    special = _SPECIAL_BY_FOLDED.get(folded)
    if special is not None:
        return special if special < data.count else None
    match = _CUSTOMER_KEY_RE.fullmatch(value)
    if match is None:
        return None
    index = int(match.group(1))
    if f"{index:06d}" != match.group(1) or index in SPECIAL_CUSTOMER_KEYS or index >= data.count:
        return None
    return index


def member_index(data: Dataset, value: float) -> int | None:
    """Index of the record whose Member_Number__c equals ``value``."""
    index = value - MEMBER_BASE
    if index != int(index) or not 0 <= index < data.count:
        return None
    return int(index)


def _fields_of(node: Node) -> set[str]:
    if isinstance(node, BoolOp):
        return set().union(*(_fields_of(item) for item in node.items))
    if isinstance(node, Not):
        return _fields_of(node.item)
    return {node.field.name}


def _profile_candidates(data: Dataset, items: list[Node]) -> list[int] | None:
    """Records of the profiles a selective conjunct on profile fields keeps (plus changed ones).

    A conjunct that reads only profile-level fields has one value per profile, so it can be
    evaluated on the 512 profiles instead of on every record.
    """
    profiles = data.profiles

    def by_profile(name: str) -> Callable[[int], Any]:
        return lambda profile: profiles[profile][name]

    for item in items:
        if not _fields_of(item) <= _PROFILE_FIELD_SET:
            continue
        predicate = compile_predicate(item, by_profile)
        kept = [p for p in range(len(profiles)) if predicate(p)]
        if len(kept) * 4 > len(profiles):
            continue
        members = data.profile_members()
        found: set[int] = set(data.overrides)
        for profile in kept:
            found.update(members[profile])
        return sorted(found)
    return None


def legacy_candidates(value: str, count: int) -> list[int]:
    """Indexes whose Legacy_Ref__c may equal ``value`` (to be checked: some are null)."""
    folded = value.lower()
    if folded == SHARED_LEGACY_REF.lower():
        return [i for i in SHARED_LEGACY_INDEXES if i < count]
    if folded.startswith("leg-dup-") and folded[8:].isdigit():
        block = int(folded[8:])
        return [i for i in (block * 100 + 40, block * 100 + 41) if i < count]
    if folded.startswith("leg-") and folded[4:].isdigit():
        index = int(folded[4:])
        return [index] if index < count else []
    return []


def _candidates(data: Dataset, items: list[Node]) -> list[int] | None:
    """Indexes a conjunct pins the result to, or None when no conjunct does."""
    pinned = _pinned(data, items)
    if pinned is not None or data.count < _PROFILE_SCAN_MIN:
        return pinned
    return _profile_candidates(data, items)


def _pinned(data: Dataset, items: list[Node]) -> list[int] | None:
    """Indexes an ``Id`` or ``Customer_Key__c`` equality pins the result to."""
    for item in items:
        values: tuple[Any, ...]
        if isinstance(item, Compare) and item.op == "=":
            values = (item.value,)
        elif isinstance(item, InList) and not item.negate:
            values = item.values
        else:
            continue
        name = item.field.name
        if name == "Id":
            found = [data.index_of_id(v) for v in values if v is not None]
        elif name == "Customer_Key__c":
            found = [customer_key_index(data, v) for v in values if v is not None]
        elif name == "Legacy_Ref__c":
            found = [i for v in values if v is not None for i in legacy_candidates(v, data.count)]
        elif name == "Member_Number__c":
            found = [member_index(data, v) for v in values if v is not None]
        else:
            continue
        return sorted({i for i in found if i is not None})
    return None


def _order_kind(order: tuple[OrderItem, ...]) -> str | None:
    """``natural``/``natural_desc``/``id``/``id_desc`` when a cheap order fits, else None."""
    names = tuple((item.field.name, item.descending) for item in order)
    if names in {(), (("SystemModstamp", False),), (("SystemModstamp", False), ("Id", False))}:
        return "natural"
    if names in {(("SystemModstamp", True),), (("SystemModstamp", True), ("Id", True))}:
        return "natural_desc"
    if names == (("Id", False),):
        return "id"
    if names == (("Id", True),):
        return "id_desc"
    return None


def _stamp_bounds(
    data: Dataset, seq: Sequence[int], items: list[Node]
) -> tuple[Sequence[int], list[Node]]:
    """Apply SystemModstamp comparisons by binary search on a stamp-ordered sequence."""
    rest: list[Node] = []
    low, high = 0, len(seq)
    stamp = data.stamp
    for item in items:
        if (
            isinstance(item, Compare)
            and item.field.name == "SystemModstamp"
            and item.op in _STAMP_OPS
            and item.value is not None
        ):
            value = item.value
            if item.op in {">=", "="}:
                low = max(low, bisect.bisect_left(seq, value, lo=low, hi=high, key=stamp))
            elif item.op == ">":
                low = max(low, bisect.bisect_right(seq, value, lo=low, hi=high, key=stamp))
            if item.op in {"<=", "="}:
                high = min(high, bisect.bisect_right(seq, value, lo=low, hi=high, key=stamp))
            elif item.op == "<":
                high = min(high, bisect.bisect_left(seq, value, lo=low, hi=high, key=stamp))
            high = max(low, high)
        else:
            rest.append(item)
    return seq[low:high], rest


def _sorted(data: Dataset, indexes: list[int], order: tuple[OrderItem, ...]) -> list[int]:
    """Sort by ORDER BY items (stable, from the natural (SystemModstamp, Id) order)."""
    result = sorted(indexes, key=lambda i: (data.stamp(i), i))
    for item in reversed(order):
        get = data.getter(item.field.name)
        info = item.field
        null_rank = 0 if item.nulls_first != item.descending else 1

        def key(
            index: int, get: Any = get, info: Any = info, null_rank: int = null_rank
        ) -> tuple[int, Any]:
            value = get(index)
            if value is None:
                return (null_rank, 0)
            return (1 - null_rank, sort_key(info, value))

        result.sort(key=key, reverse=item.descending)
    return result


def execute(query: Query, data: Dataset, *, include_deleted: bool) -> Sequence[int]:
    """Return the indexes of the matching records, in result order, LIMIT/OFFSET applied.

    Args:
        query: the parsed query.
        data: the dataset.
        include_deleted: True for ``queryAll`` (deleted rows match too).

    Returns:
        A sequence of record indexes (a ``range`` or an ``array``).
    """
    with data.lock:
        items = conjuncts(query.where)
        deleted = data.deleted
        candidates = _candidates(data, items)
        kind = _order_kind(query.order)
        result: Sequence[int]
        if candidates is not None or kind is None:
            if candidates is None:
                pool: Sequence[int] = data.natural_order()
                pool, items = _stamp_bounds(data, pool, items)
            else:
                pool = candidates
            matches = _filter(data, pool, items, include_deleted=include_deleted)
            result = _sorted(data, matches, query.order)
        else:
            seq: Sequence[int]
            if kind.startswith("natural"):
                seq, items = _stamp_bounds(data, data.natural_order(), items)
            else:
                seq = range(data.count)
            if items or (deleted and not include_deleted):
                seq = _filter(data, seq, items, include_deleted=include_deleted)
            if kind.endswith("_desc"):
                seq = seq[::-1]
            result = seq
        start = query.offset or 0
        end = None if query.limit is None else start + query.limit
        sliced = result[start:end]
        if isinstance(sliced, range):
            return sliced
        return array("i", sliced)


def _filter(
    data: Dataset, seq: Sequence[int], items: list[Node], *, include_deleted: bool
) -> list[int]:
    deleted = data.deleted
    if items:
        predicate = compile_predicate(BoolOp("and", tuple(items)), data.getter)
        if include_deleted:
            return [i for i in seq if predicate(i)]
        return [i for i in seq if i not in deleted and predicate(i)]
    if include_deleted:
        return list(seq)
    return [i for i in seq if i not in deleted]
