"""``python -m tap_salesforce_accounts.connect``."""

import sys

from tap_salesforce_accounts.connect.cli import main

sys.exit(main())
