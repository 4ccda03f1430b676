"""PKCE (RFC 7636, S256) and the URL of Salesforce's Allow page."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Final
from urllib.parse import quote, urlencode

AUTHORIZE_PATH: Final = "/services/oauth2/authorize"
SCOPE: Final = "api refresh_token"
PROMPT: Final = "login consent"


def new_code_verifier() -> str:
    """A PKCE code verifier: 128 characters of the unreserved URL alphabet (RFC 7636)."""
    return secrets.token_urlsafe(96)


def code_challenge(verifier: str) -> str:
    """The S256 code challenge: base64url of the verifier's SHA-256, without padding.

    >>> code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
    """
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    login_url: str, client_id: str, callback: str, *, state: str, challenge: str
) -> str:
    """The URL of Salesforce's Allow page for the web server flow with PKCE."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": callback,
            "scope": SCOPE,
            "prompt": PROMPT,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        quote_via=quote,
    )
    return f"{login_url}{AUTHORIZE_PATH}?{query}"
