"""The emulator's own Account describe: the standard Account fields, custom fields of every type.

Field entries carry the full key set of a real describe (57 keys). The field list is built
once; ``describe(version, base_url)`` wraps it in the object-level keys with version-specific
URLs.
"""

from __future__ import annotations

import base64
import copy
from typing import Any, Final

from tests.emulator.ids import make_id

# Summer '14 (31.0) to Winter '27 (68.0).
API_VERSIONS: Final = tuple(f"{v}.0" for v in range(31, 69))
DEFAULT_VERSION: Final = "62.0"
# Describe metadata was last changed at this time (the answer's Last-Modified header).
DESCRIBE_LAST_MODIFIED: Final = "Mon, 03 Mar 2025 09:30:00 GMT"

# Describe types whose values are text (compared and sorted as text by SOQL).
TEXT_TYPES: Final = frozenset(
    {
        "string",
        "picklist",
        "multipicklist",
        "combobox",
        "textarea",
        "email",
        "phone",
        "url",
        "encryptedstring",
        "datacategorygroupreference",
    }
)
# Describe types whose values are numbers.
NUMBER_TYPES: Final = frozenset({"int", "long", "double", "currency", "percent"})
_SOAP: Final = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "long": "xsd:long",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "time": "xsd:time",
    "base64": "xsd:base64Binary",
    "address": "urn:address",
    "location": "urn:location",
    "anyType": "xsd:anyType",
    "complexvalue": "urn:JsonNode",
    "json": "urn:JsonNode",
}


def picklist(*values: str, default: str | None = None) -> list[dict[str, Any]]:
    """Build picklistValues entries.

    Args:
        *values: the values, which are also their labels.
        default: the value marked as default, if any.

    Returns:
        The describe's picklistValues list.
    """
    return [
        {"active": True, "defaultValue": v == default, "label": v, "validFor": None, "value": v}
        for v in values
    ]


def _field(name: str, label: str, ftype: str, **changes: Any) -> dict[str, Any]:  # noqa: C901, PLR0912
    """Build one describe field entry with the defaults a real org gives a field of that type."""
    custom = name.endswith(("__c", "__s"))
    entry: dict[str, Any] = {
        "aggregatable": False,
        "aiPredictionField": False,
        "autoNumber": False,
        "byteLength": 0,
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": True,
        "custom": custom,
        "defaultValue": None,
        "defaultValueFormula": None,
        "defaultedOnCreate": False,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": False,
        "extraTypeInfo": None,
        "filterable": True,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": False,
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": False,
        "inlineHelpText": None,
        "label": label,
        "length": 0,
        "mask": None,
        "maskType": None,
        "name": name,
        "nameField": False,
        "namePointing": False,
        "nillable": True,
        "permissionable": custom,
        "picklistValues": [],
        "polymorphicForeignKey": False,
        "precision": 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": [],
        "relationshipName": None,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": False,
        "scale": 0,
        "searchPrefilterable": False,
        "soapType": _SOAP.get(ftype, "xsd:string"),
        "sortable": True,
        "type": ftype,
        "unique": False,
        "updateable": True,
        "writeRequiresMasterRead": False,
    }
    length = changes.pop("length", None)
    if ftype in {"id", "reference"}:
        entry.update(length=18, byteLength=18, aggregatable=True, groupable=True)
    elif ftype in TEXT_TYPES:
        default_length = {
            "picklist": 255 if custom else 40,
            "multipicklist": 4099,
            "combobox": 255,
            "email": 80,
            "phone": 40,
            "url": 255,
            "encryptedstring": 175,
            "datacategorygroupreference": 80,
        }.get(ftype, 255)
        size = length or default_length
        entry.update(length=size, byteLength=size * 3, aggregatable=True, groupable=True)
        if ftype == "multipicklist":
            entry.update(aggregatable=False, groupable=False, sortable=False)
        if ftype == "textarea" and size > 255:
            entry.update(aggregatable=False, groupable=False, filterable=False, sortable=False)
            entry["extraTypeInfo"] = "plaintextarea"
    elif ftype == "boolean":
        entry.update(groupable=True, nillable=False, defaultValue=False, defaultedOnCreate=True)
    elif ftype in {"int", "long"}:
        entry.update(aggregatable=True, groupable=True, digits=18 if ftype == "long" else 9)
    elif ftype in {"double", "currency", "percent"}:
        entry.update(aggregatable=True, precision=18, scale=2 if ftype != "double" else 0)
    elif ftype in {"date", "time"}:
        entry.update(aggregatable=True, groupable=ftype == "date")
    elif ftype == "datetime":
        entry.update(aggregatable=True)
    elif ftype in {"address", "location"}:
        entry.update(sortable=False, createable=False, updateable=False, queryByDistance=True)
    else:  # base64, anyType, complexvalue, json
        entry.update(filterable=False, sortable=False)
        if ftype == "base64":
            entry.update(length=length or 32_000_000, byteLength=length or 32_000_000)
    if ftype in {"picklist", "multipicklist", "combobox"}:
        entry["picklistValues"] = changes.pop("values", [])
    entry.update(changes)
    return entry


def _system(entry: dict[str, Any]) -> dict[str, Any]:
    entry.update(createable=False, updateable=False, nillable=False, defaultedOnCreate=True)
    return entry


def _ref(name: str, label: str, target: str, relationship: str, **kw: Any) -> dict[str, Any]:
    return _field(
        name, label, "reference", referenceTo=[target], relationshipName=relationship, **kw
    )


COUNTRIES: Final = (
    ("US", "United States"),
    ("CA", "Canada"),
    ("GB", "United Kingdom"),
    ("FR", "France"),
    ("DE", "Germany"),
    ("CH", "Switzerland"),
    ("ES", "Spain"),
    ("JP", "Japan"),
    ("CN", "China"),
    ("AU", "Australia"),
    ("BR", "Brazil"),
    ("IN", "India"),
    ("MX", "Mexico"),
    ("NL", "Netherlands"),
)
STATES: Final = (
    ("US", "CA", "California"),
    ("US", "NY", "New York"),
    ("US", "TX", "Texas"),
    ("US", "IL", "Illinois"),
    ("US", "WA", "Washington"),
    ("CA", "ON", "Ontario"),
    ("CA", "QC", "Quebec"),
    ("AU", "NSW", "New South Wales"),
    ("AU", "VIC", "Victoria"),
    ("BR", "SP", "São Paulo"),
    ("IN", "MH", "Maharashtra"),
    ("MX", "CMX", "Ciudad de México"),
    ("CN", "31", "Shanghai"),
    ("JP", "13", "Tokyo"),
)


def _valid_for(controller_index: int) -> str:
    """Base64 bitmap of a dependent picklist value valid for one controlling value."""
    bitmap = bytearray(4)
    bitmap[controller_index // 8] |= 0x80 >> (controller_index % 8)
    return base64.b64encode(bytes(bitmap)).decode()


def _country_values() -> list[dict[str, Any]]:
    return [
        {"active": True, "defaultValue": False, "label": name, "validFor": None, "value": code}
        for code, name in COUNTRIES
    ]


def _state_values() -> list[dict[str, Any]]:
    positions = {code: n for n, (code, _) in enumerate(COUNTRIES)}
    return [
        {
            "active": True,
            "defaultValue": False,
            "label": name,
            "validFor": _valid_for(positions[country]),
            "value": code,
        }
        for country, code, name in STATES
    ]


GEOCODE_ACCURACY: Final = (
    "Address",
    "NearAddress",
    "Block",
    "Street",
    "ExtendedZip",
    "Zip",
    "Neighborhood",
    "City",
    "County",
    "State",
    "Unknown",
)
ACCOUNT_TYPES: Final = (
    "Prospect",
    "Customer - Direct",
    "Customer - Channel",
    "Channel Partner / Reseller",
    "Installation Partner",
    "Technology Partner",
    "Other",
)
INDUSTRIES: Final = (
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
)
OWNERSHIP: Final = ("Public", "Private", "Subsidiary", "Other")
RATINGS: Final = ("Hot", "Warm", "Cold")
CLEAN_STATUS: Final = (
    "Matched",
    "Different",
    "Acknowledged",
    "NotFound",
    "Inactive",
    "Pending",
    "SelectMatch",
    "Skipped",
)
ACCOUNT_SOURCES: Final = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
REGIONS: Final = ("North America", "EMEA", "APAC", "LATAM")
SEGMENTS: Final = ("SMB", "Mid-Market", "Enterprise", "Public Sector", "Non-Profit", "Startup")
CHANNELS: Final = ("Email", "Phone", "Chat", "In Person")
SLA_LEVELS: Final = ("Gold", "Silver", "Platinum", "Bronze")
RECORD_TYPE_IDS: Final = (make_id("012", 1001), make_id("012", 1002))
MASTER_RECORD_TYPE_ID: Final = "012000000000000AAA"


def _address(prefix: str, label: str) -> list[dict[str, Any]]:
    compound = f"{prefix}Address"
    parts = [
        _field(f"{prefix}Street", f"{label} Street", "textarea", length=255),
        _field(f"{prefix}City", f"{label} City", "string", length=40),
        _field(f"{prefix}State", f"{label} State/Province", "string", length=80),
        _field(f"{prefix}PostalCode", f"{label} Zip/Postal Code", "string", length=20),
        _field(f"{prefix}Country", f"{label} Country", "string", length=80),
        _field(
            f"{prefix}StateCode",
            f"{label} State/Province Code",
            "picklist",
            length=10,
            values=_state_values(),
            controllerName=f"{prefix}CountryCode",
            dependentPicklist=True,
            restrictedPicklist=True,
        ),
        _field(
            f"{prefix}CountryCode",
            f"{label} Country Code",
            "picklist",
            length=10,
            values=_country_values(),
            restrictedPicklist=True,
        ),
        _field(f"{prefix}Latitude", f"{label} Latitude", "double", precision=18, scale=15),
        _field(f"{prefix}Longitude", f"{label} Longitude", "double", precision=18, scale=15),
        _field(
            f"{prefix}GeocodeAccuracy",
            f"{label} Geocode Accuracy",
            "picklist",
            length=40,
            values=picklist(*GEOCODE_ACCURACY),
            restrictedPicklist=True,
        ),
    ]
    for part in parts:
        part["compoundFieldName"] = compound
    return [*parts, _field(compound, f"{label} Address", "address")]


def _standard_fields() -> list[dict[str, Any]]:
    return [
        _system(
            _field(
                "Id",
                "Account ID",
                "id",
                idLookup=True,
                createable=False,
                updateable=False,
            )
        ),
        _system(_field("IsDeleted", "Deleted", "boolean")),
        _ref(
            "MasterRecordId",
            "Master Record ID",
            "Account",
            "MasterRecord",
            createable=False,
            updateable=False,
        ),
        _field(
            "Name",
            "Account Name",
            "string",
            nillable=False,
            nameField=True,
            compoundFieldName="Name",
            extraTypeInfo="switchablepersonname",
        ),
        _field("Type", "Account Type", "picklist", length=40, values=picklist(*ACCOUNT_TYPES)),
        _ref("RecordTypeId", "Record Type ID", "RecordType", "RecordType"),
        _ref("ParentId", "Parent Account ID", "Account", "Parent"),
        *_address("Billing", "Billing"),
        *_address("Shipping", "Shipping"),
        _field("Phone", "Account Phone", "phone"),
        _field("Fax", "Account Fax", "phone"),
        _field("AccountNumber", "Account Number", "string", length=40),
        _field("Website", "Website", "url"),
        _field(
            "PhotoUrl",
            "Photo URL",
            "url",
            createable=False,
            updateable=False,
        ),
        _field("Sic", "SIC Code", "string", length=20),
        _field("Industry", "Industry", "picklist", length=40, values=picklist(*INDUSTRIES)),
        _field("AnnualRevenue", "Annual Revenue", "currency", scale=0),
        _field("NumberOfEmployees", "Employees", "int", digits=8),
        _field("Ownership", "Ownership", "picklist", length=40, values=picklist(*OWNERSHIP)),
        _field("TickerSymbol", "Ticker Symbol", "string", length=20),
        _field("Description", "Account Description", "textarea", length=32000),
        _field("Rating", "Account Rating", "picklist", length=40, values=picklist(*RATINGS)),
        _field("Site", "Account Site", "string", length=80),
        _ref("OwnerId", "Owner ID", "User", "Owner", nillable=False, defaultedOnCreate=True),
        _system(_field("CreatedDate", "Created Date", "datetime")),
        _system(_ref("CreatedById", "Created By ID", "User", "CreatedBy")),
        _system(_field("LastModifiedDate", "Last Modified Date", "datetime")),
        _system(_ref("LastModifiedById", "Last Modified By ID", "User", "LastModifiedBy")),
        _system(_field("SystemModstamp", "System Modstamp", "datetime")),
        _field("LastActivityDate", "Last Activity", "date", createable=False, updateable=False),
        _field(
            "LastViewedDate", "Last Viewed Date", "datetime", createable=False, updateable=False
        ),
        _field(
            "LastReferencedDate",
            "Last Referenced Date",
            "datetime",
            createable=False,
            updateable=False,
        ),
        _system(_field("IsPartner", "Partner Account", "boolean", createable=False)),
        _system(_field("IsCustomerPortal", "Customer Portal Account", "boolean")),
        _field(
            "ChannelProgramName",
            "Channel Program Name",
            "string",
            filterable=False,
            sortable=False,
            groupable=False,
            aggregatable=False,
            createable=False,
            updateable=False,
        ),
        _field(
            "ChannelProgramLevelName",
            "Channel Program Level Name",
            "string",
            filterable=False,
            sortable=False,
            groupable=False,
            aggregatable=False,
            createable=False,
            updateable=False,
        ),
        _field("Jigsaw", "Data.com Key", "string", length=20),
        _field(
            "JigsawCompanyId",
            "Jigsaw Company ID",
            "string",
            length=20,
            relationshipName="JigsawCompany",
            createable=False,
            updateable=False,
        ),
        _field(
            "CleanStatus",
            "Clean Status",
            "picklist",
            length=40,
            values=picklist(*CLEAN_STATUS),
            restrictedPicklist=True,
        ),
        _field(
            "AccountSource",
            "Account Source",
            "picklist",
            length=40,
            values=picklist(*ACCOUNT_SOURCES),
        ),
        _field("DunsNumber", "D-U-N-S Number", "string", length=9),
        _field("Tradestyle", "Tradestyle", "string", length=255),
        _field("NaicsCode", "NAICS Code", "string", length=8),
        _field("NaicsDesc", "NAICS Description", "string", length=120),
        _field("YearStarted", "Year Started", "string", length=4),
        _field("SicDesc", "SIC Description", "string", length=80),
        _ref("DandbCompanyId", "D&B Company ID", "DandBCompany", "DandbCompany"),
        _ref("OperatingHoursId", "Operating Hour ID", "OperatingHours", "OperatingHours"),
    ]


def _custom_fields() -> list[dict[str, Any]]:
    location = "Location__c"
    return [
        _field(
            "Customer_Key__c",
            "Customer Key",
            "string",
            length=80,
            externalId=True,
            unique=True,
            idLookup=True,
            inlineHelpText="The customer's key in the billing system (External ID, unique).",
        ),
        _field(
            "Legacy_Ref__c",
            "Legacy Reference",
            "string",
            length=40,
            externalId=True,
            idLookup=True,
            inlineHelpText="Reference in the retired CRM; merged accounts may share one.",
        ),
        _field("Tax_Number__c", "Tax Number", "string", length=20, unique=True),
        _field(
            "Member_Number__c",
            "Member Number",
            "double",
            precision=18,
            scale=0,
            externalId=True,
            unique=True,
            idLookup=True,
            inlineHelpText="The customer's number in the loyalty program (numeric External ID).",
        ),
        _field(
            "Account_Seq__c",
            "Account Sequence",
            "string",
            length=30,
            autoNumber=True,
            createable=False,
            updateable=False,
            nillable=False,
            defaultedOnCreate=True,
            displayFormat=None,
        ),
        _field("Region__c", "Region", "picklist", values=picklist(*REGIONS)),
        _field("Segments__c", "Segments", "multipicklist", values=picklist(*SEGMENTS)),
        _field("Preferred_Channel__c", "Preferred Channel", "combobox", values=picklist(*CHANNELS)),
        _field("SLA__c", "SLA", "picklist", values=picklist(*SLA_LEVELS)),
        _field("Billing_Email__c", "Billing Email", "email"),
        _field("Support_Portal__c", "Support Portal", "url"),
        _field("Discount__c", "Discount", "percent", precision=5, scale=2),
        _field("Lifetime_Value__c", "Lifetime Value", "currency", precision=16, scale=2),
        _field("Seats__c", "Seats", "double", precision=6, scale=0),
        _field("Event_Count__c", "Event Count", "long", digits=18),
        _field("Is_Active__c", "Active", "boolean"),
        _field("Support_Hours_Start__c", "Support Hours Start", "time"),
        _field("Contract_End__c", "Contract End", "date"),
        _field("Last_Sync__c", "Last Sync", "datetime"),
        _field(
            "Revenue_Per_Employee__c",
            "Revenue per Employee",
            "double",
            precision=18,
            scale=2,
            calculated=True,
            calculatedFormula="AnnualRevenue / NumberOfEmployees",
            createable=False,
            updateable=False,
        ),
        _ref("Primary_Contact__c", "Primary Contact", "Contact", "Primary_Contact__r"),
        _field("Logo__c", "Logo", "base64"),
        _field(
            "Location__Latitude__s",
            "Location (Latitude)",
            "double",
            precision=9,
            scale=6,
            compoundFieldName=location,
        ),
        _field(
            "Location__Longitude__s",
            "Location (Longitude)",
            "double",
            precision=9,
            scale=6,
            compoundFieldName=location,
        ),
        _field(location, "Location", "location", displayLocationInDecimal=True),
        _field("Extra_Data__c", "Extra Data", "anyType"),
        _field(
            "Secret_Code__c",
            "Secret Code",
            "encryptedstring",
            encrypted=True,
            filterable=False,
            sortable=False,
            groupable=False,
            aggregatable=False,
            mask="X",
            maskType="lastFour",
        ),
        _field("Config__c", "Configuration", "complexvalue"),
        _field("Metadata__c", "Metadata", "json"),
        _field(
            "Data_Category__c",
            "Data Category",
            "datacategorygroupreference",
            filterable=False,
            sortable=False,
            groupable=False,
            aggregatable=False,
        ),
        _field(
            "Profile__c",
            "Profile",
            "textarea",
            length=32768,
            extraTypeInfo="richtextarea",
            htmlFormatted=True,
        ),
        _field("Notes__c", "Notes", "textarea", length=131072),
    ]


def _build_fields() -> list[dict[str, Any]]:
    fields = _standard_fields() + _custom_fields()
    for entry in fields:
        entry.pop("displayFormat", None)
    return fields


FIELDS: Final = _build_fields()

_CHILDREN: Final = (
    ("Account", "ParentId", "ChildAccounts", False),
    ("AccountContactRelation", "AccountId", "AccountContactRelations", True),
    ("AccountTeamMember", "AccountId", "AccountTeamMembers", True),
    ("Asset", "AccountId", "Assets", False),
    ("Attachment", "ParentId", "Attachments", True),
    ("Case", "AccountId", "Cases", False),
    ("Contact", "AccountId", "Contacts", False),
    ("Contract", "AccountId", "Contracts", True),
    ("Event", "WhatId", "Events", False),
    ("Note", "ParentId", "Notes", True),
    ("Opportunity", "AccountId", "Opportunities", False),
    ("Order", "AccountId", "Orders", True),
    ("Task", "WhatId", "Tasks", False),
    ("User", "AccountId", "Users", False),
)


def describe(version: str = DEFAULT_VERSION, base_url: str = "http://127.0.0.1") -> dict[str, Any]:
    """Return the Account describe as Salesforce answers ``GET .../sobjects/Account/describe``.

    Args:
        version: the API version of the request, used in the URLs (``"62.0"``).
        base_url: the org's URL, used in the UI templates.

    Returns:
        A fresh dict (callers may change it).
    """
    prefix = f"/services/data/v{version}/sobjects/Account"
    return {
        "actionOverrides": [],
        "activateable": False,
        "childRelationships": [
            {
                "cascadeDelete": cascade,
                "childSObject": child,
                "deprecatedAndHidden": False,
                "field": field,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": relationship,
                "restrictedDelete": False,
            }
            for child, field, relationship, cascade in _CHILDREN
        ],
        "compactLayoutable": True,
        "createable": True,
        "custom": False,
        "customSetting": False,
        "deepCloneable": False,
        "defaultImplementation": None,
        "deletable": True,
        "deprecatedAndHidden": False,
        "extendedBy": None,
        "extendsInterfaces": None,
        "feedEnabled": True,
        "fields": copy.deepcopy(FIELDS),
        "hasSubtypes": False,
        "implementedBy": None,
        "implementsInterfaces": None,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": "001",
        "label": "Account",
        "labelPlural": "Accounts",
        "layoutable": True,
        "listviewable": None,
        "lookupLayoutable": None,
        "mergeable": True,
        "mruEnabled": True,
        "name": "Account",
        "namedLayoutInfos": [],
        "networkScopeFieldName": None,
        "queryable": True,
        "recordTypeInfos": [
            {
                "active": True,
                "available": True,
                "defaultRecordTypeMapping": n == 0,
                "developerName": name,
                "master": False,
                "name": name.replace("_", " "),
                "recordTypeId": rtid,
                "urls": {"layout": f"{prefix}/describe/layouts/{rtid}"},
            }
            for n, (name, rtid) in enumerate(
                zip(("Business", "Partner_Org"), RECORD_TYPE_IDS, strict=True)
            )
        ]
        + [
            {
                "active": True,
                "available": True,
                "defaultRecordTypeMapping": False,
                "developerName": "Master",
                "master": True,
                "name": "Master",
                "recordTypeId": MASTER_RECORD_TYPE_ID,
                "urls": {"layout": f"{prefix}/describe/layouts/{MASTER_RECORD_TYPE_ID}"},
            }
        ],
        "replicateable": True,
        "retrieveable": True,
        "searchLayoutable": True,
        "searchable": True,
        "supportedScopes": [
            {"label": "All accounts", "name": "everything"},
            {"label": "My accounts", "name": "mine"},
            {"label": "My team's accounts", "name": "team"},
        ],
        "triggerable": True,
        "undeletable": True,
        "updateable": True,
        "urls": {
            "approvalLayouts": f"{prefix}/describe/approvalLayouts",
            "compactLayouts": f"{prefix}/describe/compactLayouts",
            "defaultValues": f"{prefix}/defaultValues?recordTypeId&fields",
            "describe": f"{prefix}/describe",
            "layouts": f"{prefix}/describe/layouts",
            "listviews": f"{prefix}/listviews",
            "quickActions": f"{prefix}/quickActions",
            "rowTemplate": f"{prefix}/{{ID}}",
            "sobject": prefix,
            "uiDetailTemplate": f"{base_url}/{{ID}}",
            "uiEditTemplate": f"{base_url}/{{ID}}/e",
            "uiNewRecord": f"{base_url}/001/e",
        },
    }
