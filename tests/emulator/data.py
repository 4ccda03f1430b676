"""Deterministic Account records, generated lazily from ``(seed, index)``.

Nothing is stored per record: a record's values come from one of ``PROFILE_COUNT`` profiles
(picked by a hash of the index) plus fields computed from the index itself (Id, Name, keys,
timestamps). Changes made through the admin API (touch, delete, insert) live in small side
tables. This keeps a million records in a few megabytes and lets pages be rendered from
pre-encoded per-profile templates (see ``render.py``).

Record layout facts that tests rely on:

- Ids: ``make_id("001", id_base(seed) + index)``; Ids sort in index order.
- ``SystemModstamp`` never decreases with the index; in every block of 100 records the first
  four share one timestamp. ``CreatedDate <= LastModifiedDate <= SystemModstamp``.
- About 1% of the records are deleted: the indexes ``50 + seed % 40 + 101 * k``.
- ``Customer_Key__c`` is ``CUST-000123`` (the index, zero-padded to 6), except the indexes of
  ``SPECIAL_CUSTOMER_KEYS``, whose keys exercise URL-path encoding.
- ``Legacy_Ref__c`` (External ID, not unique): indexes 20, 21, 22 share ``LEG-SHARED-001``;
  from index 100 on, the pairs ``100k+40, 100k+41`` share ``LEG-DUP-<k>``.
- ``Member_Number__c`` (numeric External ID, unique): ``MEMBER_BASE + index`` as a double.
- Names come from the profiles; about 1 record in 37 has a name from ``SPECIAL_NAMES``
  (quotes, backslashes, ``%``, ``_``, accents, CJK, emoji); ``special_name_indexes()``
  lists them.
"""

from __future__ import annotations

import bisect
import calendar
import random
import threading
import time
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from tests.emulator import describe as desc
from tests.emulator.ids import fast_make_id, id_number, make_id

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

PROFILE_COUNT: Final = 512
BASE_SECONDS: Final = calendar.timegm((2021, 1, 4, 9, 0, 0, 0, 0, 0))
BASE_MS: Final = BASE_SECONDS * 1000
SPAN_SECONDS: Final = 3 * 365 * 86400
ORG_ID: Final = "00D000000000001EAA"
USER_ID: Final = "005000000000001AAA"
USERNAME: Final = "integration@emulator.example"
USER_IDS: Final = (
    USER_ID,
    make_id("005", 2),
    make_id("005", 3),
    make_id("005", 4),
    make_id("005", 5),
    make_id("005", 6),
)

# index -> Customer_Key__c value exercising URL-path encoding.
SPECIAL_CUSTOMER_KEYS: Final[dict[int, str]] = {
    1: "CUST/SLASH/001",
    2: "CUST?QUERY=1&x=2",
    3: "CUST#HASH",
    4: "CUST%PERCENT%25",
    6: "CUST WITH SPACE",
    7: "..",
    8: "CUST-ÜNÏCÖDÉ-東京-🚀",
    9: "CUST'QUOTE\"DOUBLE\\BACK",
    10: "CUST+PLUS;SEMI,COMMA",
    11: ".",
}
# Member_Number__c of record 0; record i has MEMBER_BASE + i.
MEMBER_BASE: Final = 100_000
SHARED_LEGACY_REF: Final = "LEG-SHARED-001"
SHARED_LEGACY_INDEXES: Final = (20, 21, 22)
SPECIAL_NAMES: Final = (
    "O'Brien & Sons",
    'The "Quoted" Company',
    "Back\\slash Trading",
    "100% Natural_Foods",
    "Café Zürich Ålesund",
    "株式会社 東京テクノロジー",
    "上海贸易有限公司",
    "Rocket 🚀 Labs",
    "Smile 😀 & Co",
    "Tab\tSeparated Ltd",
    "Ünïcödé Gmbh — Straße",
    "_Under_score_ %Percent%",
    "Line\nBreak Industries",
    "Ñandú S.A. de C.V.",
    "Crème Brûlée Café",
    "Ελληνική Εταιρεία",
    "Quote's \\ and \" mix \\n not a newline",
)

_M64: Final = (1 << 64) - 1
_NAME_A: Final = (
    "Acme",
    "Blue",
    "Northern",
    "Golden",
    "Silver",
    "Pacific",
    "Atlantic",
    "Summit",
    "Pioneer",
    "Vertex",
    "Nimbus",
    "Quantum",
    "Evergreen",
    "Redwood",
    "Harbor",
    "Granite",
    "Falcon",
    "Orion",
    "Sterling",
    "Coastal",
    "Prairie",
    "Alpine",
    "Urban",
    "Bright",
    "Crescent",
    "Liberty",
    "Maple",
    "Oak",
    "Cedar",
    "River",
    "Lakeside",
    "Sunrise",
    "Polar",
    "Emerald",
    "Sapphire",
    "Copper",
    "Iron",
    "Nova",
    "Apex",
    "Zenith",
    "Meridian",
    "Horizon",
    "Beacon",
    "Keystone",
    "Unity",
    "Global",
    "United",
    "First",
    "Grand",
    "Royal",
    "Mosaic",
    "Cobalt",
    "Tidal",
    "Solar",
    "Lunar",
    "Stellar",
    "Arctic",
    "Desert",
    "Highland",
    "Valley",
    "Canyon",
    "Delta",
    "Sierra",
    "Echo",
)
_NAME_B: Final = (
    "Logistics",
    "Energy",
    "Foods",
    "Pharma",
    "Systems",
    "Analytics",
    "Robotics",
    "Textiles",
    "Motors",
    "Airlines",
    "Telecom",
    "Insurance",
    "Capital",
    "Bank",
    "Media",
    "Health",
    "Labs",
    "Networks",
    "Software",
    "Hardware",
    "Retail",
    "Outfitters",
    "Builders",
    "Consulting",
    "Partners",
    "Ventures",
    "Shipping",
    "Mining",
    "Chemicals",
    "Apparel",
    "Studios",
    "Hotels",
    "Farms",
    "Brewing",
    "Devices",
    "Semiconductors",
    "Biotech",
    "Solutions",
    "Dynamics",
    "Industries",
)
_SUFFIXES: Final = (
    "Inc.",
    "LLC",
    "Ltd",
    "GmbH",
    "S.A.",
    "K.K.",
    "Group",
    "Holdings",
    "& Co.",
    "plc",
    "AG",
    "Pty Ltd",
    "SARL",
    "B.V.",
    "Corp.",
    "",
)
# (city, state, state code, postal code, country, country code, latitude, longitude)
_PLACES: Final = (
    ("San Francisco", "California", "CA", "94105", "United States", "US", 37.789, -122.401),
    ("New York", "New York", "NY", "10013", "United States", "US", 40.7208, -74.0012),
    ("Austin", "Texas", "TX", "78701", "United States", "US", 30.2672, -97.7431),
    ("Chicago", "Illinois", "IL", "60601", "United States", "US", 41.8857, -87.6219),
    ("Seattle", "Washington", "WA", "98101", "United States", "US", 47.6101, -122.3344),
    ("Toronto", "Ontario", "ON", "M5V 2T6", "Canada", "CA", 43.6426, -79.3871),
    ("Montréal", "Quebec", "QC", "H2Y 1C6", "Canada", "CA", 45.5048, -73.5569),
    ("London", None, None, "EC1A 1BB", "United Kingdom", "GB", 51.5194, -0.0977),
    ("Gateshead", None, None, "NE26 3HS", "United Kingdom", "GB", 54.9526, -1.6033),
    ("Paris", None, None, "75008", "France", "FR", 48.8738, 2.295),
    ("Köln", None, None, "50667", "Germany", "DE", 50.9413, 6.9583),
    ("Zürich", None, None, "8001", "Switzerland", "CH", 47.3769, 8.5417),
    ("Málaga", None, None, "29015", "Spain", "ES", 36.7213, -4.4214),
    ("Tokyo", "Tokyo", "13", "100-0005", "Japan", "JP", 35.6812, 139.7671),
    ("Shanghai", "Shanghai", "31", "200120", "China", "CN", 31.2397, 121.4998),
    ("Sydney", "New South Wales", "NSW", "2000", "Australia", "AU", -33.8688, 151.2093),
    ("Melbourne", "Victoria", "VIC", "3000", "Australia", "AU", -37.8136, 144.9631),
    ("São Paulo", "São Paulo", "SP", "01310-100", "Brazil", "BR", -23.5614, -46.6559),
    ("Mumbai", "Maharashtra", "MH", "400001", "India", "IN", 18.9388, 72.8354),
    ("Ciudad de México", "Ciudad de México", "CMX", "06500", "Mexico", "MX", 19.4326, -99.1332),
    ("Amsterdam", None, None, "1012 JS", "Netherlands", "NL", 52.3731, 4.8926),
)
_REGION_OF: Final = {
    "US": "North America",
    "CA": "North America",
    "MX": "LATAM",
    "BR": "LATAM",
    "JP": "APAC",
    "CN": "APAC",
    "AU": "APAC",
    "IN": "APAC",
}
_STREETS: Final = (
    "Market Street",
    "Broadway",
    "Congress Avenue",
    "Michigan Avenue",
    "Pike Street",
    "King Street West",
    "Rue Saint-Paul",
    "Cheapside",
    "Kings Park, 17th Avenue, Team Valley Trading Estate",
    "Avenue des Champs-Élysées",
    "Hohe Straße",
    "Bahnhofstrasse",
    "Calle Larios",
    "丸の内 1-9-1",
    "陆家嘴环路 1000号",
    "George Street",
    "Collins Street",
    "Avenida Paulista",
    "Marine Drive",
    "Paseo de la Reforma",
    "Damrak",
)
_DESCRIPTIONS: Final = (
    "Key account in the region; renewal due next quarter.",
    "Customer since 2015.\nPrefers e-mail contact.\nSee notes from the QBR.",
    'Said: "we\'ll expand to 3 more sites" — follow up in Q3.',
    "Path on the file share: C:\\Accounts\\2023\\contract.pdf",
    "Discount of 15% approved; SKU code AB_12_X (underscores matter).",
    "Wildcards in text: 50%_off and 100% sure; LIKE '%' should not match literally.",
    "多言語の説明: 東京本社と大阪支店。",
    "Emoji support check 🎉🚀👍 and a flag 🇫🇷.",
    "Tabs\tand\ttabs; carriage\r\nreturn line endings.",
    "Backslash-n literally: \\n, backslash-u literally: \\u0041, quote: \\'",
    "Ünïcödé façade naïve résumé coöperate.",
    "Control-ish characters: form\ffeed and back\bspace.",
    "Single quote ' and double quote \" and backslash \\ together.",
    "Long description. " * 120,
    "SELECT Id FROM Account WHERE Name = 'not an injection'",
    "</script><b>html-looking</b> & ampersands &amp; entities",
)
_RICH_TEXT: Final = (
    "<p>Strategic account since <b>2019</b>.</p>",
    '<p>Contacts:</p><ul><li>Jane &amp; John</li><li>O\'Neil</li></ul><a href="https://www.example.com/a?b=1&amp;c=2">portal</a>',
    "<p>日本語の<i>リッチテキスト</i> 🚀</p>",
)
_CHANNEL_FREE_TEXT: Final = ("Carrier pigeon 🐦", "Fax (legacy)", "Slack: #acme-support")
_SITES: Final = ("Headquarters", "Branch", "Warehouse, Dock 7", "Plant #2", "Remote")
_SIC: Final = (
    ("7372", "Prepackaged Software"),
    ("2834", "Pharmaceutical Preparations"),
    ("4911", "Electric Services"),
    ("6022", "State Commercial Banks"),
    ("5812", "Eating Places"),
    ("3711", "Motor Vehicles & Passenger Car Bodies"),
    ("4437", "Marine Cargo Handling"),
)
_NAICS: Final = (
    ("511210", "Software Publishers"),
    ("325412", "Pharmaceutical Preparation Manufacturing"),
    ("221122", "Electric Power Distribution"),
    ("522110", "Commercial Banking"),
    ("722511", "Full-Service Restaurants"),
)
_DATA_CATEGORIES: Final = (
    "Products:Hardware",
    "Products:Software",
    "Geography:Europe",
    "Geography:APAC",
)
_NOTES_LINES: Final = (
    "Call notes:",
    "- asked about API limits (15,000/day)",
    "- wants SSO with SAML 2.0",
    "- budget: $250k; decision in 'Q4'",
    "- escalate to \\\\legal\\\\ if needed",
    "- 中文备注",
)

ADDRESS_PARTS: Final = (
    ("city", "City"),
    ("country", "Country"),
    ("countryCode", "CountryCode"),
    ("geocodeAccuracy", "GeocodeAccuracy"),
    ("latitude", "Latitude"),
    ("longitude", "Longitude"),
    ("postalCode", "PostalCode"),
    ("state", "State"),
    ("stateCode", "StateCode"),
    ("street", "Street"),
)
LOCATION_PARTS: Final = (
    ("latitude", "Location__Latitude__s"),
    ("longitude", "Location__Longitude__s"),
)

# Fields computed from the index (not taken from a profile).
VAR_FIELDS: Final = (
    "Id",
    "IsDeleted",
    "MasterRecordId",
    "ParentId",
    "AccountNumber",
    "PhotoUrl",
    "CreatedDate",
    "LastModifiedDate",
    "SystemModstamp",
    "Customer_Key__c",
    "Legacy_Ref__c",
    "Tax_Number__c",
    "Account_Seq__c",
    "Logo__c",
    "Member_Number__c",
)
VAR_POSITION: Final = {name: n for n, name in enumerate(VAR_FIELDS)}


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """What the emulator needs to know about one describe field."""

    name: str
    type: str
    filterable: bool
    sortable: bool
    compound_name: str | None
    external_id: bool
    case_sensitive: bool
    position: int

    @property
    def is_compound(self) -> bool:
        """True for address and location fields."""
        return self.type in {"address", "location"}


FIELD_INFO: Final = tuple(
    FieldInfo(
        name=f["name"],
        type=f["type"],
        filterable=f["filterable"],
        sortable=f["sortable"],
        compound_name=f["compoundFieldName"],
        external_id=f["externalId"],
        case_sensitive=f["caseSensitive"],
        position=n,
    )
    for n, f in enumerate(desc.FIELDS)
)
FIELDS_BY_NAME: Final = {f.name: f for f in FIELD_INFO}
FIELDS_BY_LOWER: Final = {f.name.lower(): f for f in FIELD_INFO}
ALL_FIELD_NAMES: Final = tuple(f.name for f in FIELD_INFO)
COMPOUND_PARTS: Final = {
    f.name: tuple((key, f"{f.name[: -len('Address')]}{suffix}") for key, suffix in ADDRESS_PARTS)
    if f.type == "address"
    else LOCATION_PARTS
    for f in FIELD_INFO
    if f.is_compound
}
PROFILE_FIELDS: Final = tuple(
    f.name for f in FIELD_INFO if f.name not in VAR_POSITION and not f.is_compound
)


def describe(
    version: str = desc.DEFAULT_VERSION, base_url: str = "http://127.0.0.1"
) -> dict[str, Any]:
    """Return the emulator's Account describe (see ``describe.describe``).

    Args:
        version: the API version used in the describe's URLs.
        base_url: the org URL used in the UI templates.

    Returns:
        The describe as a fresh dict.
    """
    return desc.describe(version, base_url)


def id_base(seed: int) -> int:
    """Return the Id counter of record 0 for a seed."""
    return 1_000 + (seed % 997) * 10_000_000


def mix(value: int) -> int:
    """Return a well-mixed 64-bit hash of an integer (splitmix64 finalizer)."""
    value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9 & _M64
    value = (value ^ (value >> 27)) * 0x94D049BB133111EB & _M64
    return value ^ (value >> 31)


def seconds_to_ms(seconds: int) -> int:
    """Convert epoch seconds to epoch milliseconds."""
    return seconds * 1000


class Dataset:
    """The org's Accounts: base records from ``(seed, index)``, plus admin changes.

    Values are typed internally: datetimes are epoch milliseconds (int), dates
    ``YYYY-MM-DD`` strings, times milliseconds since midnight, Ids 18-character strings,
    compound fields are not stored (built from their parts).
    """

    def __init__(self, accounts: int = 500, seed: int = 1) -> None:
        """Create the dataset.

        Args:
            accounts: how many records exist at start.
            seed: the seed every value derives from.
        """
        self.seed = seed
        self.base_count = max(0, accounts)
        self.count = self.base_count
        self.lock = threading.RLock()
        self._salt = mix(seed * 0x9E3779B97F4A7C15 & _M64)
        self._id_base = id_base(seed)
        self._step = max(1, SPAN_SECONDS // max(1, self.base_count))
        start = 50 + seed % 40
        self.deleted: set[int] = set(range(start, self.base_count, 101))
        self.overrides: dict[int, dict[str, Any]] = {}
        self.inserted_stamps: list[int] = []
        self.touched: dict[int, int] = {}
        self.clock_ms = (
            seconds_to_ms(self._base_stamp_seconds(self.base_count - 1)) if accounts else 0
        )
        self.clock_ms = max(self.clock_ms, seconds_to_ms(BASE_SECONDS))
        self.mutations = 0
        self._members: tuple[int, list[array[int]]] | None = None
        self.profiles = [self._make_profile(p) for p in range(PROFILE_COUNT)]
        self._profile_columns = {name: [p[name] for p in self.profiles] for name in PROFILE_FIELDS}

    # ----------------------------------------------------------------- hashing, ids, stamps
    def profile_of(self, index: int) -> int:
        """Return the profile number of a record."""
        return ((index * 2654435761 + self._salt) & 0xFFFFFFFF) >> 23

    def record_id(self, index: int) -> str:
        """Return the 18-character Id of a record index."""
        return fast_make_id("001", self._id_base + index)

    def index_of_id(self, record_id: str) -> int | None:
        """Return the index of an existing record from its 15- or 18-character Id."""
        number = id_number(record_id, "001")
        if number is None:
            return None
        index = number - self._id_base
        if 0 <= index < self.count:
            return index
        return None

    def _base_stamp_seconds(self, index: int) -> int:
        if index < 0:
            return BASE_SECONDS
        group = index // 4
        if group % 25 == 0:
            return BASE_SECONDS + self._step * 4 * group
        return BASE_SECONDS + self._step * index

    def base_stamp(self, index: int) -> int:
        """SystemModstamp (ms) of a record before any touch; never decreases with the index."""
        if index < self.base_count:
            return seconds_to_ms(self._base_stamp_seconds(index))
        return self.inserted_stamps[index - self.base_count]

    def stamp(self, index: int) -> int:
        """Current SystemModstamp (ms) of a record."""
        touched = self.touched.get(index)
        return touched if touched is not None else self.base_stamp(index)

    # ----------------------------------------------------------------- variable fields
    def var_row(self, index: int) -> tuple[Any, ...]:
        """Return the values of ``VAR_FIELDS`` for a record (before overrides).

        This is the reference; ``render.Renderer`` has a faster copy of these rules that
        writes JSON or CSV directly (tests check that both agree).
        """
        p = self.profiles[self.profile_of(index)]
        rid = self.record_id(index)
        deleted = index in self.deleted
        sm = self.base_stamp(index)
        created, lastmod = self.created_and_modified(index, sm, p)
        special = SPECIAL_CUSTOMER_KEYS.get(index)
        parent = None
        offset = p["_parent_offset"]
        if offset and index >= offset:
            parent = self.record_id(index - offset)
        master = self.record_id(index - 1) if deleted and index > 0 and index % 2 == 0 else None
        return (
            rid,
            deleted,
            master,
            parent,
            f"AC{index:07d}" if p["_has_account_number"] else None,
            f"/services/images/photo/{rid}" if p["_has_photo"] else None,
            created,
            lastmod,
            sm,
            special if special is not None else f"CUST-{index:06d}",
            self.legacy_ref(index, p),
            self.tax_number(index),
            f"A-{index + 1:07d}",
            rid if p["_has_logo"] else None,
            float(MEMBER_BASE + index),
        )

    def created_and_modified(
        self, index: int, stamp: int, profile: dict[str, Any]
    ) -> tuple[int, int]:
        """CreatedDate and LastModifiedDate (ms) of a record whose SystemModstamp is ``stamp``."""
        if index >= self.base_count:
            return stamp, stamp
        created = max(BASE_MS, stamp - profile["_age_ms"])
        return created, max(created, stamp - profile["_lag_ms"])

    @staticmethod
    def legacy_ref(index: int, profile: dict[str, Any]) -> str | None:
        """Legacy_Ref__c of a record: shared by a few, null for some, else LEG-<index>."""
        if index in SHARED_LEGACY_INDEXES:
            return SHARED_LEGACY_REF
        if index >= 100 and index % 100 in {40, 41}:
            return f"LEG-DUP-{index // 100:05d}"
        if profile["_legacy_null"]:
            return None
        return f"LEG-{index:07d}"

    def tax_number(self, index: int) -> str:
        """Tax_Number__c: unique per record (a bijection of the index)."""
        return f"TN{(index * 7919 + 104729 * self.seed) % 1_000_000_000:09d}"

    # ----------------------------------------------------------------- profiles
    def _make_profile(self, number: int) -> dict[str, Any]:  # noqa: PLR0915
        r = random.Random(f"{self.seed}:profile:{number}")  # noqa: S311

        def maybe(share: float, value: Any) -> Any:
            return value if r.random() < share else None

        def ts(low: int, high: int) -> int:
            return seconds_to_ms(r.randrange(low, high))

        p: dict[str, Any] = {}
        if number % 37 == 5:
            p["Name"] = SPECIAL_NAMES[(number // 37) % len(SPECIAL_NAMES)]
        else:
            suffix = r.choice(_SUFFIXES)
            p["Name"] = f"{r.choice(_NAME_A)} {r.choice(_NAME_B)} {suffix}".rstrip()
        p["_age_ms"] = r.choice((0, 0, 3_600_000, 86_400_000, r.randrange(1, 400) * 86_400_000))
        p["_lag_ms"] = 0 if r.random() < 0.7 else min(p["_age_ms"], r.randrange(1, 90) * 86_400_000)
        p["_parent_offset"] = r.randrange(1, 200) if r.random() < 0.1 else 0
        p["_has_account_number"] = r.random() < 0.85
        p["_has_photo"] = r.random() < 0.7
        p["_has_logo"] = r.random() < 0.25
        p["_legacy_null"] = r.random() < 0.1
        p["Type"] = maybe(0.9, r.choice(desc.ACCOUNT_TYPES))
        p["RecordTypeId"] = r.choice(desc.RECORD_TYPE_IDS)
        billing = r.choice(_PLACES) if r.random() < 0.9 else None
        shipping_roll = r.random()
        if shipping_roll < 0.4:
            shipping = billing
        elif shipping_roll < 0.7:
            shipping = r.choice(_PLACES)
        else:
            shipping = None
        for prefix, place in (("Billing", billing), ("Shipping", shipping)):
            self._place(r, p, prefix, place)
        p["Phone"] = maybe(0.85, f"+1 ({r.randrange(200, 999)}) 555-{r.randrange(0, 10000):04d}")
        if billing is not None and billing[5] != "US" and p["Phone"] is not None:
            p["Phone"] = (
                f"+{r.randrange(30, 99)} {r.randrange(10, 99)} {r.randrange(1_000_000, 9_999_999)}"
            )
        p["Fax"] = maybe(0.3, f"+1 ({r.randrange(200, 999)}) 555-{r.randrange(0, 10000):04d}")
        word = r.choice(_NAME_A).lower()
        p["Website"] = maybe(
            0.8,
            r.choice(
                (
                    f"https://www.{word}{number}.example.com",
                    f"www.{word}-{number}.example.org",
                    f"http://{word}.example.net/home?ref=crm&lang=fr",
                )
            ),
        )
        sic = r.choice(_SIC)
        has_sic = r.random() < 0.5
        p["Sic"] = sic[0] if has_sic else None
        p["SicDesc"] = sic[1] if has_sic else None
        p["Industry"] = maybe(0.9, r.choice(desc.INDUSTRIES))
        revenue = maybe(0.7, float(round(10 ** r.uniform(4.5, 10.5), -3)))
        employees = maybe(0.8, int(10 ** r.uniform(0, 5.7)))
        p["AnnualRevenue"] = revenue
        p["NumberOfEmployees"] = employees
        p["Ownership"] = maybe(0.6, r.choice(desc.OWNERSHIP))
        p["TickerSymbol"] = maybe(
            0.2, "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(r.randrange(2, 5)))
        )
        p["Description"] = maybe(0.7, r.choice(_DESCRIPTIONS))
        p["Rating"] = maybe(0.5, r.choice(desc.RATINGS))
        p["Site"] = maybe(0.3, r.choice(_SITES))
        p["OwnerId"] = r.choice(USER_IDS)
        p["CreatedById"] = r.choice(USER_IDS)
        p["LastModifiedById"] = r.choice(USER_IDS)
        p["LastActivityDate"] = maybe(
            0.5,
            time.strftime(
                "%Y-%m-%d", time.gmtime(r.randrange(BASE_SECONDS, BASE_SECONDS + SPAN_SECONDS))
            ),
        )
        p["LastViewedDate"] = maybe(0.2, ts(BASE_SECONDS, BASE_SECONDS + SPAN_SECONDS))
        p["LastReferencedDate"] = p["LastViewedDate"] if r.random() < 0.8 else None
        partner = r.random() < 0.1
        p["IsPartner"] = partner
        p["IsCustomerPortal"] = r.random() < 0.05
        p["ChannelProgramName"] = "Global Partner Program" if partner else None
        p["ChannelProgramLevelName"] = r.choice(("Gold", "Silver", "Platinum")) if partner else None
        p["Jigsaw"] = maybe(0.05, str(r.randrange(10**7, 10**8)))
        p["JigsawCompanyId"] = maybe(0.05, str(r.randrange(10**5, 10**6)))
        p["CleanStatus"] = r.choice(desc.CLEAN_STATUS) if r.random() < 0.3 else "Pending"
        p["AccountSource"] = maybe(0.6, r.choice(desc.ACCOUNT_SOURCES))
        p["DunsNumber"] = maybe(0.4, f"{r.randrange(0, 10**9):09d}")
        p["Tradestyle"] = maybe(0.2, f"{r.choice(_NAME_A)} Brands")
        naics = r.choice(_NAICS)
        has_naics = r.random() < 0.4
        p["NaicsCode"] = naics[0] if has_naics else None
        p["NaicsDesc"] = naics[1] if has_naics else None
        p["YearStarted"] = maybe(0.5, str(r.randrange(1850, 2024)))
        p["DandbCompanyId"] = maybe(0.1, make_id("06E", 5000 + number))
        p["OperatingHoursId"] = maybe(0.1, make_id("0OH", 10 + number % 5))
        country = billing[5] if billing else None
        p["Region__c"] = maybe(0.9, _REGION_OF.get(country or "", "EMEA"))
        chosen = sorted(r.sample(range(len(desc.SEGMENTS)), r.randrange(1, 4)))
        p["Segments__c"] = maybe(0.7, ";".join(desc.SEGMENTS[k] for k in chosen))
        p["Preferred_Channel__c"] = maybe(
            0.6, r.choice(desc.CHANNELS) if r.random() < 0.8 else r.choice(_CHANNEL_FREE_TEXT)
        )
        p["SLA__c"] = maybe(0.6, r.choice(desc.SLA_LEVELS))
        p["Billing_Email__c"] = maybe(0.7, f"billing+{word}.{number}@{word}-{number}.example.com")
        p["Support_Portal__c"] = maybe(
            0.4, f"https://support.example.com/portal/{number}?lang=en&q=a%20b"
        )
        p["Discount__c"] = maybe(0.5, round(r.uniform(0, 35), 2))
        p["Lifetime_Value__c"] = maybe(0.6, round(r.uniform(0, 5_000_000), 2))
        p["Seats__c"] = maybe(0.6, float(r.randrange(1, 5000)))
        p["Event_Count__c"] = maybe(
            0.6,
            r.choice((r.randrange(0, 10**6), r.randrange(10**9, 10**13), 9_007_199_254_740_993)),
        )
        p["Is_Active__c"] = r.random() < 0.8
        p["Support_Hours_Start__c"] = maybe(
            0.6, r.choice((7, 8, 9, 13)) * 3_600_000 + r.choice((0, 30)) * 60_000
        )
        p["Contract_End__c"] = maybe(
            0.6,
            time.strftime(
                "%Y-%m-%d",
                time.gmtime(
                    r.randrange(BASE_SECONDS + SPAN_SECONDS // 2, BASE_SECONDS + 2 * SPAN_SECONDS)
                ),
            ),
        )
        p["Last_Sync__c"] = maybe(
            0.5, ts(BASE_SECONDS, BASE_SECONDS + SPAN_SECONDS) + r.randrange(0, 1000)
        )
        p["Revenue_Per_Employee__c"] = formula_revenue_per_employee(revenue, employees)
        p["Primary_Contact__c"] = maybe(0.5, make_id("003", 7000 + number))
        if billing is not None and r.random() < 0.5:
            p["Location__Latitude__s"] = round(billing[6] + r.uniform(-0.05, 0.05), 6)
            p["Location__Longitude__s"] = round(billing[7] + r.uniform(-0.05, 0.05), 6)
        else:
            p["Location__Latitude__s"] = p["Location__Longitude__s"] = None
        p["Extra_Data__c"] = maybe(0.5, r.choice(("free text", "42", 42, True, 3.5, "2024-01-02")))
        p["Secret_Code__c"] = maybe(0.5, f"XXXXXXX{r.randrange(0, 10000):04d}")
        p["Config__c"] = maybe(
            0.4,
            {
                "tier": r.choice(("gold", "silver")),
                "limits": {"users": r.randrange(5, 500)},
                "features": r.sample(["sso", "api", "audit", "sandbox"], 2),
            },
        )
        p["Metadata__c"] = maybe(
            0.4,
            {
                "source": r.choice(("import", "web", "api")),
                "tags": r.sample(["vip", "beta", "emea", "churn-risk"], 2),
                "score": round(r.random(), 3),
            },
        )
        p["Data_Category__c"] = maybe(0.3, r.choice(_DATA_CATEGORIES))
        p["Profile__c"] = maybe(0.3, r.choice(_RICH_TEXT))
        p["Notes__c"] = maybe(
            0.25, "\n".join(r.choice(_NOTES_LINES) for _ in range(r.randrange(1, 40)))
        )
        missing = [name for name in PROFILE_FIELDS if name not in p]
        if missing:  # pragma: no cover - a programming error
            msg = f"profile lacks {missing}"
            raise AssertionError(msg)
        return p

    @staticmethod
    def _place(
        r: random.Random, p: dict[str, Any], prefix: str, place: tuple[Any, ...] | None
    ) -> None:
        if place is None:
            for _, suffix in ADDRESS_PARTS:
                p[f"{prefix}{suffix}"] = None
            return
        city, state, state_code, postal, country, country_code, lat, lon = place
        street = f"{r.randrange(1, 2000)} {r.choice(_STREETS)}"
        if r.random() < 0.2:
            street = f"Suite {r.randrange(100, 999)}\n{street}"
        geocoded = r.random() < 0.6
        p[f"{prefix}Street"] = street
        p[f"{prefix}City"] = city
        p[f"{prefix}State"] = state
        p[f"{prefix}StateCode"] = state_code
        p[f"{prefix}PostalCode"] = postal if r.random() < 0.9 else None
        p[f"{prefix}Country"] = country
        p[f"{prefix}CountryCode"] = country_code
        p[f"{prefix}Latitude"] = round(lat + r.uniform(-0.01, 0.01), 6) if geocoded else None
        p[f"{prefix}Longitude"] = round(lon + r.uniform(-0.01, 0.01), 6) if geocoded else None
        p[f"{prefix}GeocodeAccuracy"] = r.choice(("Address", "Street", "Zip")) if geocoded else None

    # ----------------------------------------------------------------- reading
    def value(self, index: int, name: str) -> Any:
        """Return one field's typed value (compound fields as dicts or None)."""
        override = self.overrides.get(index)
        if override is not None and name in override:
            return override[name]
        if name in VAR_POSITION:
            if name == "IsDeleted":
                return index in self.deleted
            if name == "SystemModstamp":
                return self.stamp(index)
            return self.var_row(index)[VAR_POSITION[name]]
        parts = COMPOUND_PARTS.get(name)
        if parts is not None:
            return compound_value({key: self.value(index, part) for key, part in parts})
        return self._profile_columns[name][self.profile_of(index)]

    def getter(self, name: str) -> Callable[[int], Any]:
        """Return a fast ``index -> typed value`` function for one field."""
        overrides = self.overrides
        if name == "IsDeleted":
            deleted = self.deleted
            return deleted.__contains__
        if name == "SystemModstamp":
            return self.stamp
        if name == "Id":
            return self.record_id
        cheap = self._cheap_var_getter(name)
        if cheap is not None:
            return cheap
        if name in VAR_POSITION or name in COMPOUND_PARTS:
            return lambda index: self.value(index, name)
        column = self._profile_columns[name]
        profile_of = self.profile_of

        def get(index: int) -> Any:
            override = overrides.get(index)
            if override is not None and name in override:
                return override[name]
            return column[profile_of(index)]

        return get

    def _cheap_var_getter(self, name: str) -> Callable[[int], Any] | None:  # noqa: C901
        """Getters of index-computed fields that skip ``var_row`` (scans over big orgs)."""
        profiles = self.profiles
        profile_of = self.profile_of
        compute: Callable[[int], Any]
        if name == "Customer_Key__c":

            def compute(index: int) -> Any:
                special = SPECIAL_CUSTOMER_KEYS.get(index)
                return special if special is not None else f"CUST-{index:06d}"

        elif name == "Legacy_Ref__c":

            def compute(index: int) -> Any:
                return self.legacy_ref(index, profiles[profile_of(index)])

        elif name == "Tax_Number__c":
            compute = self.tax_number
        elif name == "Member_Number__c":

            def compute(index: int) -> Any:
                return float(MEMBER_BASE + index)

        elif name == "Account_Seq__c":

            def compute(index: int) -> Any:
                return f"A-{index + 1:07d}"

        elif name == "AccountNumber":

            def compute(index: int) -> Any:
                return (
                    f"AC{index:07d}" if profiles[profile_of(index)]["_has_account_number"] else None
                )

        elif name in {"CreatedDate", "LastModifiedDate"}:
            position = 0 if name == "CreatedDate" else 1

            def compute(index: int) -> Any:
                stamp = self.base_stamp(index)
                return self.created_and_modified(index, stamp, profiles[profile_of(index)])[
                    position
                ]

        else:
            return None
        overrides = self.overrides

        def get(index: int) -> Any:
            override = overrides.get(index)
            if override is not None and name in override:
                return override[name]
            return compute(index)

        return get

    def record(self, index: int) -> dict[str, Any]:
        """Return every field's typed value (compound fields included), in describe order."""
        row = self.var_row(index)
        profile = self.profiles[self.profile_of(index)]
        values: dict[str, Any] = {}
        override = self.overrides.get(index) or {}
        for info in FIELD_INFO:
            name = info.name
            if name in override:
                values[name] = override[name]
            elif name in VAR_POSITION:
                values[name] = row[VAR_POSITION[name]]
            elif info.is_compound:
                values[name] = None
            else:
                values[name] = profile[name]
        values["IsDeleted"] = index in self.deleted
        values["SystemModstamp"] = self.stamp(index)
        for name, parts in COMPOUND_PARTS.items():
            values[name] = compound_value({key: values[part] for key, part in parts})
        return values

    def special_name_indexes(self, limit: int = 100) -> list[int]:
        """Indexes (ascending, at most ``limit``) of records named from ``SPECIAL_NAMES``."""
        special = set(SPECIAL_NAMES)
        out: list[int] = []
        for index in range(self.count):
            if self.profiles[self.profile_of(index)]["Name"] in special:
                out.append(index)
                if len(out) >= limit:
                    break
        return out

    def profile_members(self) -> list[array[int]]:
        """For each profile, the indexes of its records (ascending); computed once per count."""
        with self.lock:
            cached = self._members
            if cached is not None and cached[0] == self.count:
                return cached[1]
            members = [array("i") for _ in self.profiles]
            profile_of = self.profile_of
            for index in range(self.count):
                members[profile_of(index)].append(index)
            self._members = (self.count, members)
            return members

    def exists(self, index: int, *, include_deleted: bool = False) -> bool:
        """True when the index is a record (not deleted, unless asked)."""
        return 0 <= index < self.count and (include_deleted or index not in self.deleted)

    # ----------------------------------------------------------------- ordering
    def natural_order(self) -> list[int]:
        """All record indexes in (SystemModstamp, Id) order, deleted ones included."""
        with self.lock:
            count = self.count
            touched = sorted(self.touched.items(), key=lambda item: (item[1], item[0]))
            if not touched:
                return list(range(count))
            touched_set = set(self.touched)
            out: list[int] = []
            position = 0
            for index, stamp in touched:
                # untouched records ordered before (stamp, index)
                end = self._first_after(stamp, index, position, count)
                out.extend(i for i in range(position, end) if i not in touched_set)
                position = end
                out.append(index)
            out.extend(i for i in range(position, count) if i not in touched_set)
            return out

    def _first_after(self, stamp: int, index: int, low: int, high: int) -> int:
        """First untouched-order position whose (base stamp, index) is after (stamp, index)."""
        return low + bisect.bisect_right(_KeyView(self, low, high), (stamp, index))

    def first_with_stamp_at_least(self, stamp_ms: int, *, strict: bool = False) -> int:
        """Smallest index whose base stamp is >= (or > when strict) ``stamp_ms``."""
        view = _StampView(self, self.count)
        if strict:
            return bisect.bisect_right(view, stamp_ms)
        return bisect.bisect_left(view, stamp_ms)

    # ----------------------------------------------------------------- admin changes
    def _next_clock(self) -> int:
        latest = max(self.clock_ms, self.base_stamp(self.count - 1) if self.count else 0)
        self.clock_ms = latest + 1000
        return self.clock_ms

    def _clock_at(self, stamp: int) -> int:
        """Use an explicit stamp (whole seconds); later plain changes still move past it."""
        stamp -= stamp % 1000
        self.clock_ms = max(self.clock_ms, stamp)
        return stamp

    def touch(
        self,
        indexes: Iterable[int] | None = None,
        count: int = 0,
        *,
        stamp_at: int | None = None,
    ) -> tuple[list[int], int]:
        """Change one field of some records and move their SystemModstamp past every other.

        Args:
            indexes: the records to touch; when None, ``count`` deterministically chosen
                live records.
            count: how many records to choose when ``indexes`` is None.
            stamp_at: their new SystemModstamp (ms) instead of the next tick.

        Returns:
            The touched indexes and their new SystemModstamp (ms).
        """
        with self.lock:
            self.mutations += 1
            if indexes is None:
                r = random.Random(f"{self.seed}:touch:{self.mutations}")  # noqa: S311
                live = self.count - len(self.deleted)
                wanted = min(count, live)
                chosen: set[int] = set()
                while len(chosen) < wanted:
                    candidate = r.randrange(self.count)
                    if candidate not in self.deleted:
                        chosen.add(candidate)
                targets = sorted(chosen)
            else:
                targets = sorted(set(indexes))
            stamp = self._next_clock() if stamp_at is None else self._clock_at(stamp_at)
            for index in targets:
                employees = self.value(index, "NumberOfEmployees")
                employees = 1 if employees is None else employees + 1
                override = self.overrides.setdefault(index, {})
                override.update(
                    {
                        "NumberOfEmployees": employees,
                        "Revenue_Per_Employee__c": formula_revenue_per_employee(
                            self.value(index, "AnnualRevenue"), employees
                        ),
                        "Description": f"Updated by the emulator (change {self.mutations}).",
                        "LastModifiedDate": stamp,
                        "SystemModstamp": stamp,
                    }
                )
                self.touched[index] = stamp
            return targets, stamp

    def delete(self, indexes: Iterable[int]) -> tuple[list[int], int]:
        """Mark records deleted (IsDeleted true, new SystemModstamp)."""
        with self.lock:
            self.mutations += 1
            stamp = self._next_clock()
            targets = sorted(set(indexes))
            for index in targets:
                self.deleted.add(index)
                override = self.overrides.setdefault(index, {})
                override["SystemModstamp"] = stamp
                self.touched[index] = stamp
            return targets, stamp

    def insert(self, count: int, *, stamp_at: int | None = None) -> tuple[list[int], int]:
        """Append new records; they share one new SystemModstamp (``stamp_at`` if given).

        A ``stamp_at`` before other records' stamps is a late commit: the records become
        visible now with a SystemModstamp taken when their transaction began.
        """
        with self.lock:
            self.mutations += 1
            stamp = self._next_clock()
            first = self.count
            self.inserted_stamps.extend([stamp] * count)
            self.count += count
            created = list(range(first, self.count))
            if stamp_at is None:
                return created, stamp
            # Base stamps must not decrease with the index: an earlier stamp is an override.
            stamp = self._clock_at(stamp_at)
            for index in created:
                self.overrides[index] = {
                    "CreatedDate": stamp,
                    "LastModifiedDate": stamp,
                    "SystemModstamp": stamp,
                }
                self.touched[index] = stamp
            return created, stamp


class _StampView:
    """A sequence view of base stamps by index, for bisect."""

    def __init__(self, data: Dataset, length: int) -> None:
        self._data = data
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> int:
        return self._data.base_stamp(index)


class _KeyView:
    """A sequence view of (base stamp, index) over [low, high), for bisect."""

    def __init__(self, data: Dataset, low: int, high: int) -> None:
        self._data = data
        self._low = low
        self._high = high

    def __len__(self) -> int:
        return self._high - self._low

    def __getitem__(self, offset: int) -> tuple[int, int]:
        index = self._low + offset
        return (self._data.base_stamp(index), index)


def formula_revenue_per_employee(revenue: float | None, employees: int | None) -> float | None:
    """The formula field Revenue_Per_Employee__c: AnnualRevenue / NumberOfEmployees, 2 places."""
    if revenue is None or not employees:
        return None
    return round(revenue / employees, 2)


def compound_value(parts: dict[str, Any]) -> dict[str, Any] | None:
    """A compound value, or None when every part is null."""
    if all(v is None for v in parts.values()):
        return None
    return parts
