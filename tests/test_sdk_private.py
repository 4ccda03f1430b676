"""The singer-sdk's private names: each still exists, and the list is complete."""

from __future__ import annotations

from singer_sdk import Stream, Tap

from tap_salesforce_accounts.sdk_private import OVERRIDDEN
from tap_salesforce_accounts.streams import AccountStream
from tap_salesforce_accounts.tap import TapSalesforceAccounts

SDK_CLASSES = {"Tap": Tap, "Stream": Stream}
OURS = {"Tap": TapSalesforceAccounts, "Stream": AccountStream}


def defined_in(cls: type, name: str) -> bool:
    return any(name in vars(klass) for klass in cls.__mro__)


def test_every_listed_private_method_exists_in_the_sdk() -> None:
    for sdk_name, names in OVERRIDDEN.items():
        for name in names:
            assert defined_in(SDK_CLASSES[sdk_name], name), f"{sdk_name}.{name}"


def test_the_list_names_every_private_method_the_tap_overrides() -> None:
    for sdk_name, sdk_class in SDK_CLASSES.items():
        overridden = {
            name
            for name in vars(OURS[sdk_name])
            if name.startswith("_")
            and not name.startswith("__")
            and name != "_abc_impl"  # set on every abstract class
            and defined_in(sdk_class, name)
        }
        assert overridden == set(OVERRIDDEN[sdk_name]), sdk_name
