"""``tap-salesforce-accounts-connect``: the interactive "Connect to Salesforce → Allow" step.

It runs the OAuth 2.0 web server flow with PKCE (S256) against a Connected App or External
Client App, receives the
browser's redirect on a one-shot local HTTP server, exchanges the authorization code and writes
``client_id``, ``refresh_token``, ``instance_url`` and ``login_url`` into the config file
(atomically, mode 0600). ``--revoke`` revokes the refresh token in the config file and removes it.

Choices:

- Callback: ``http://localhost:8765/callback`` by default (``--port`` changes the port). Salesforce
  compares the ``redirect_uri`` with the Connected App's Callback URL character for character, so
  that exact URL must be listed in the app. The server listens on 127.0.0.1 only.
- ``scope=api refresh_token``: the least the tap needs. Salesforce grants the intersection with
  the app's scopes and issues a refresh token only when ``refresh_token`` (alias
  ``offline_access``) is asked for and allowed by the app.
- ``prompt=login consent``: the browser is often logged in to another org or as another user; this
  makes the person log in as the integration user on purpose and see the Allow page.
- Waits 300 seconds for the browser; Ctrl-C stops at once.

Exit codes (each error is one line on stderr: ``tap-salesforce-accounts-connect: error: …``):

====  ==========================================================================================
0     connected, or token revoked
1     unexpected error (a bug)
2     usage or configuration: missing ``client_id``, unreadable config file, a ``login_url``
      that is malformed, plain ``http://`` to another machine, a Lightning page host or not a
      Salesforce login host (the tap's own check), callback port in use, nothing to revoke,
      config file not writable
3     OAuth refused: access denied in the browser, ``state`` mismatch, ``invalid_client_id``,
      ``invalid_client``, ``invalid_grant``, no refresh token issued, revocation refused
9     the login host cannot be reached (or answers 5xx), or the browser did not come back
      within the wait
130   interrupted (Ctrl-C)
====  ==========================================================================================

No secret (refresh token, access token, client secret, PKCE verifier, authorization code) is ever
printed or logged.
"""

from tap_salesforce_accounts.connect.cli import main, run_connect
from tap_salesforce_accounts.connect.flow import ConnectOptions
from tap_salesforce_accounts.connect.pkce import code_challenge, new_code_verifier

__all__ = ["ConnectOptions", "code_challenge", "main", "new_code_verifier", "run_connect"]
