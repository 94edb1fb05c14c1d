"""Key and token auth at the router, over real HTTP."""

from __future__ import annotations

import time

import httpx
from devkit_runtime.router.auth import (
    DECISIONS_KEPT,
    Authenticator,
    key_hash,
    sign_token,
    verify_token,
)
from devkit_runtime.router.config import AuthConfig
from router_helpers import deployment_entry


def test_key_mode_accepts_either_key_and_refuses_the_rest(upstreams, router) -> None:
    blue = upstreams("blue")
    auth = {"mode": "key", "key_sha256": [key_hash("primary-k"), key_hash("secondary-k")]}
    proc = router([deployment_entry("blue", [blue], 100)], auth=auth)
    for key in ("primary-k", "secondary-k"):
        ok = httpx.post(f"{proc.url}/score", content="{}",
                        headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200
    assert "authorization" not in blue.last_headers  # keys never reach the model
    missing = httpx.post(f"{proc.url}/score", content="{}")
    wrong = httpx.post(f"{proc.url}/score", content="{}",
                       headers={"Authorization": "Bearer nope"})
    assert missing.status_code == wrong.status_code == 401
    assert "Authorization: Bearer" in missing.json()["message"]
    assert "devkit keys" in wrong.json()["message"]
    assert blue.count == 2


def test_token_mode_accepts_a_valid_token_until_it_expires(upstreams, router) -> None:
    blue = upstreams("blue")
    secret = b"s3cret-for-tests"
    proc_auth = {"mode": "aml_token", "token_secret_file": "token.secret"}
    proc = router([deployment_entry("blue", [blue], 100)], auth=proc_auth,
                  files={"token.secret": secret})
    # Expiry is judged against the router's clock: one token well inside its lifetime,
    # one already past it (no sleep: a loaded machine must not turn the first one stale).
    token = sign_token(secret, "test-ep", int(time.time()) + 60)
    ok = httpx.post(f"{proc.url}/score", content="{}",
                    headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    stale = sign_token(secret, "test-ep", int(time.time()) - 1)
    expired = httpx.post(f"{proc.url}/score", content="{}",
                         headers={"Authorization": f"Bearer {stale}"})
    assert expired.status_code == 401
    assert "expired" in expired.json()["message"]
    other = sign_token(secret, "other-ep", int(time.time()) + 60)
    assert httpx.post(f"{proc.url}/score", content="{}",
                      headers={"Authorization": f"Bearer {other}"}).status_code == 401


def test_verify_token_reasons() -> None:
    token = sign_token(b"k", "ep", 2_000)
    assert verify_token(b"k", "ep", token, now=1_000) == ""
    assert "expired" in verify_token(b"k", "ep", token, now=3_000)
    assert "signature" in verify_token(b"other", "ep", token, now=1_000)
    assert "another endpoint" in verify_token(b"k", "ep2", token, now=1_000)
    assert "malformed" in verify_token(b"k", "ep", "%%%.###", now=1_000)
    body, _, sig = token.partition(".")
    assert verify_token(b"k", "ep", f"{body}x.{sig}", now=1_000) != ""


def test_decisions_are_remembered_per_header_whatever_the_traffic() -> None:
    """The router remembers each distinct header's decision; the same header keeps its
    answer, and a flood of distinct ones (the bound) changes no answer."""
    auth = Authenticator(AuthConfig(mode="key", key_sha256=(key_hash("k"),)), "ep")
    for _ in range(2):
        assert auth.check_raw(b"Bearer k") == ""
        assert "Invalid key" in auth.check_raw(b"Bearer nope")
        assert "Missing credentials" in auth.check_raw(None)
        assert "Missing credentials" in auth.check_raw(b"Basic k")
    for n in range(DECISIONS_KEPT * 2 + 1):
        assert auth.check_raw(b"Bearer guess-%d" % n) != ""
    assert auth.check_raw(b"Bearer k") == ""
    open_auth = Authenticator(AuthConfig(mode="none"), "ep")
    assert open_auth.check_raw(None) == open_auth.check_raw(b"Bearer x") == ""


def test_a_token_expires_on_time(upstreams, router) -> None:
    """Accepted until its ``exp`` second, refused from then on, judged on the clock this
    machine shares with the router (polled; no sleep past the expiry)."""
    blue = upstreams("blue")
    secret = b"s3cret-for-tests"
    proc = router([deployment_entry("blue", [blue], 100)],
                  auth={"mode": "aml_token", "token_secret_file": "token.secret"},
                  files={"token.secret": secret})
    expires = int(time.time()) + 2
    token = {"Authorization": f"Bearer {sign_token(secret, 'test-ep', expires)}"}
    seen: list[tuple[float, float, int]] = []  # (sent, answered, status)
    while not seen or seen[-1][2] == 200:
        sent = time.time()
        status = httpx.post(f"{proc.url}/score", content="{}", headers=token).status_code
        seen.append((sent, time.time(), status))
        assert sent < expires + 5, "still accepted 5 s past its expiry"
        time.sleep(0.05)
    assert {s for _, _, s in seen} == {200, 401} and seen[0][2] == 200
    assert all(sent < expires for sent, _, s in seen if s == 200)  # never accepted late
    assert seen[-1][1] >= expires  # refused only once it expired
