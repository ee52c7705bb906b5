"""No silent guest fallback: the suite's Samba has ``map to guest = Bad User``, so an unknown
account is logged on as guest instead of refused.  A client that named an account must not
take that for a logon (no signing key, someone else's rights): ``connect()`` returns False,
unless ``allow_guest_fallback=True``.  ``isGuest`` tells which session one got.
"""
from __future__ import annotations

import logging
from typing import Any

import pytest

from smb.SMBConnection import SMBConnection
from tests.integration.common import server_for

pytestmark = pytest.mark.integration


@pytest.fixture(params=["NT1", "SMB2_02", "SMB3_11"])
def srv(request: pytest.FixtureRequest, samba_factory: Any) -> Any:
    from smb import smb_structs
    if request.param == "NT1":
        saved = smb_structs.SUPPORT_SMB2
        smb_structs.SUPPORT_SMB2 = False
        request.addfinalizer(lambda: setattr(smb_structs, "SUPPORT_SMB2", saved))
    return server_for(samba_factory, request.param)


def _conn(srv: Any, user: str, password: str, **kwargs: Any) -> SMBConnection:
    return SMBConnection(user, password, "pytest-client", srv.netbios_name, is_direct_tcp=True, **kwargs)


def test_unknown_account_mapped_to_guest_is_refused(srv: Any, caplog: pytest.LogCaptureFixture) -> None:
    conn = _conn(srv, "nosuchuser4711", "whatever")
    with caplog.at_level(logging.WARNING):
        assert conn.connect(srv.host, srv.port, timeout=30) is False
    assert conn.guest_refused and conn.auth_result is False and conn.sock is None
    assert any("guest session" in r.getMessage() and "nosuchuser4711" in r.getMessage() for r in caplog.records)
    assert "whatever" not in caplog.text


def test_guest_fallback_when_allowed(srv: Any) -> None:
    conn = _conn(srv, "nosuchuser4711", "whatever", allow_guest_fallback=True)
    try:
        assert conn.connect(srv.host, srv.port, timeout=30) is True
        assert conn.isGuest and not conn.guest_refused
        assert any(f.filename == "." for f in conn.listPath("public", "/"))  # a guest share works
    finally:
        conn.close()


def test_the_real_account_is_not_a_guest(srv: Any) -> None:
    conn = _conn(srv, srv.user, srv.password)
    try:
        assert conn.connect(srv.host, srv.port, timeout=30) is True
        assert not conn.isGuest
    finally:
        conn.close()


def test_asking_for_guest_or_anonymous_gets_it(srv: Any) -> None:
    for user in ("guest", ""):
        conn = _conn(srv, user, "")
        try:
            assert conn.connect(srv.host, srv.port, timeout=30) is True, user
            assert conn.isGuest, user
        finally:
            conn.close()


def test_a_wrong_password_is_still_a_plain_refusal(srv: Any) -> None:
    conn = _conn(srv, srv.user, "wrong-password")
    assert conn.connect(srv.host, srv.port, timeout=30) is False
    assert not conn.guest_refused
