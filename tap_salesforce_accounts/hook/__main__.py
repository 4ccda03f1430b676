"""``python -m tap_salesforce_accounts.hook``: the session hook's command line."""

from __future__ import annotations

import sys

from tap_salesforce_accounts.hook.cli import main

sys.exit(main())
