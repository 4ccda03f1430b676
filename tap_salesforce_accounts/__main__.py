"""``python -m tap_salesforce_accounts``: the tap's command line."""

from tap_salesforce_accounts.tap import TapSalesforceAccounts

TapSalesforceAccounts.cli()
