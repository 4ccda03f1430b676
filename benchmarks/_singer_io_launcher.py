"""Run singer-io's ``tap-salesforce`` against the emulator (runs in that tap's own venv).

The tap hard-codes its login host (``https://login.salesforce.com``, or
``https://test.salesforce.com`` for sandboxes); every other URL comes from the token
answer's ``instance_url``. So this launcher rewrites those two hosts to the emulator's URL
(environment variable ``BENCH_LOGIN_URL``) in ``requests.Session.request``, then calls the
tap's own ``main()`` with the remaining arguments. Nothing else is changed.

Usage: ``BENCH_LOGIN_URL=http://127.0.0.1:P python _singer_io_launcher.py --config c.json ...``
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

HARD_CODED_HOSTS = ("https://login.salesforce.com", "https://test.salesforce.com")


def _patch_requests(login_url: str) -> None:
    sessions = importlib.import_module("requests.sessions")
    original = sessions.Session.request

    def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        for host in HARD_CODED_HOSTS:
            if url.startswith(host):
                url = login_url + url[len(host) :]
                break
        return original(self, method, url, *args, **kwargs)

    sessions.Session.request = request


def main() -> None:
    """Patch the login host, then run ``tap_salesforce.main()`` with our arguments."""
    _patch_requests(os.environ["BENCH_LOGIN_URL"].rstrip("/"))
    sys.argv = ["tap-salesforce", *sys.argv[1:]]
    importlib.import_module("tap_salesforce").main()


if __name__ == "__main__":
    main()
