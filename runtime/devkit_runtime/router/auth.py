"""Caller authentication: endpoint keys and HMAC-signed expiring tokens.

The router never holds a key in clear: the config carries SHA-256 hashes, and a presented
key is hashed and compared with :func:`hmac.compare_digest` against each. Tokens are
``base64url(payload) "." base64url(HMAC-SHA256(secret, base64url(payload)))`` with payload
``{"endpoint": NAME, "exp": UNIX_SECONDS}``; the host side signs them with the same
functions (``devkit.router.tokens``), so the format lives in one place. Nothing here logs a
key or token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time

from devkit_runtime.router.config import AuthConfig


def key_hash(key: str) -> str:
    """The hex SHA-256 of a key, as the config stores it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def sign_token(secret: bytes, endpoint: str, expires_at: int) -> str:
    payload = json.dumps({"endpoint": endpoint, "exp": expires_at}, separators=(",", ":"))
    body = _b64(payload.encode("utf-8"))
    return f"{body}.{_b64(_signature(secret, body))}"


def verify_token(secret: bytes, endpoint: str, token: str, now: float | None = None) -> str:
    """Return "" when ``token`` is valid for ``endpoint``, else the reason it is not."""
    body, _, signature = token.partition(".")
    try:
        presented = base64.urlsafe_b64decode(_pad(signature))
        claims = json.loads(base64.urlsafe_b64decode(_pad(body)))
    except (binascii.Error, ValueError):
        return "the token is malformed"
    if not hmac.compare_digest(presented, _signature(secret, body)):
        return "the token signature is invalid"
    if not isinstance(claims, dict) or claims.get("endpoint") != endpoint:
        return "the token was issued for another endpoint"
    if float(claims.get("exp", 0)) <= (time.time() if now is None else now):
        return "the token has expired; get a new one with `devkit token`"
    return ""


# Decisions remembered per distinct Authorization header (see Authenticator.check_raw).
DECISIONS_KEPT = 256


class Authenticator:
    """Checks the ``Authorization`` header against one config's auth settings."""

    def __init__(self, auth: AuthConfig, endpoint: str) -> None:
        self._auth = auth
        self._endpoint = endpoint
        self._open = auth.mode == "none"
        # raw header -> (refusal or "", wall time until which it holds)
        self._decided: dict[bytes | None, tuple[str, float]] = {}

    @property
    def required(self) -> bool:
        return self._auth.mode != "none"

    def check(self, authorization: str | None) -> str:
        """Return "" when the caller may pass, else a sentence for the 401 body."""
        if not self.required:
            return ""
        scheme, _, credential = (authorization or "").partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            return ("Missing credentials: send 'Authorization: Bearer <key or token>' "
                    "(see `devkit keys` or `devkit token`).")
        if self._auth.mode == "key":
            return self._check_key(credential)
        reason = verify_token(self._auth.token_secret, self._endpoint, credential)
        return f"Invalid token: {reason}." if reason else ""

    def check_raw(self, authorization: bytes | None) -> str:
        """:meth:`check` of the header's raw bytes, remembered per distinct header.

        Clients send the same key or token on every request, and hashing it (or checking
        a token's HMAC) was the larger part of the router's own work per request. A
        decision depends only on the header and this config (an Authenticator lives as
        long as one config generation, so a key rotation starts afresh), except a token's
        expiry: a token's "pass" holds until its ``exp``. The dict is bounded (emptied
        when full), so headers that never repeat cost what they cost before. Lookup is by
        the whole header (Python's randomised hash, then equality), so it reveals nothing
        about a key's bytes that the hash-and-compare did not."""
        if self._open:
            return ""
        decided = self._decided.get(authorization)
        if decided is not None and (decided[1] == _FOREVER or decided[1] > time.time()):
            return decided[0]
        text = None if authorization is None else authorization.decode("latin-1")
        refusal = self.check(text)
        if len(self._decided) >= DECISIONS_KEPT:
            self._decided.clear()
        self._decided[authorization] = (refusal, self._valid_until(text, refusal))
        return refusal

    def _valid_until(self, authorization: str | None, refusal: str) -> float:
        """Until when a decision holds: a token's pass until it expires, else forever
        (a refused token stays refused: expired, forged or for another endpoint)."""
        if self._auth.mode != "aml_token" or refusal:
            return _FOREVER
        token = (authorization or "").partition(" ")[2].strip()
        claims = json.loads(base64.urlsafe_b64decode(_pad(token.partition(".")[0])))
        return float(claims.get("exp", 0))

    def _check_key(self, key: str) -> str:
        presented = key_hash(key)
        # Compare against every hash, without stopping early, so timing reveals nothing.
        matched = False
        for expected in self._auth.key_sha256:
            matched |= hmac.compare_digest(presented, expected)
        return "" if matched else "Invalid key: use a current key from `devkit keys`."


_FOREVER = float("inf")


def _signature(secret: bytes, body: str) -> bytes:
    return hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _pad(text: str) -> bytes:
    return (text + "=" * (-len(text) % 4)).encode("ascii")
