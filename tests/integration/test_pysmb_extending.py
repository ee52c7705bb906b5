"""pysmb's "extending" API against the real Samba: a subclass of ``smb.base.SMB``
supplies ``write(data)``, feeds received bytes to ``feedData(data)`` and learns
the logon's end from ``onAuthOK`` / ``onAuthFailed``, as a network framework
(Twisted, asyncio, a select loop) would drive it.  The event loop here is a
plain socket loop written in the test.

Also: the pysmb state attributes scripts read on a connection (``is_signing_active``,
``has_negotiated``, ``auth_result``, ...), and pysmb's message fields on the
messages an ``OperationFailure`` carries, on every dialect.
"""
from __future__ import annotations

import socket
import time
from typing import List, Optional

import pytest

from nmb.base import NMBSession
from smb import smb_structs
from smb.base import SMB
from smb.exceptions import OperationFailure
from smb.nt_status import NtStatus
from smb.SMBConnection import SIGN_WHEN_REQUIRED, SMBConnection

DIALECTS = ["NT1", "SMB2_02", "SMB2_10", "SMB3_00", "SMB3_02", "SMB3_11"]


class LoopSMB(SMB):
    """A subclass in the shape pysmb's docs describe: write() and callbacks only."""

    def __init__(self, sock: socket.socket, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sock = sock
        self.events: List[str] = []
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += len(data)
        self.sock.sendall(data)

    def onAuthOK(self) -> None:
        self.events.append("auth-ok")

    def onAuthFailed(self) -> None:
        self.events.append("auth-failed")

    def onNMBSessionOK(self) -> None:
        self.events.append("session-ok")
        super().onNMBSessionOK()


def _drive(client: LoopSMB, timeout: float = 20) -> None:
    """Feed the socket's bytes, in small uneven chunks, until the logon ends."""
    deadline = time.monotonic() + timeout
    sizes = [1, 7, 64, 4096]
    n = 0
    while not any(e.startswith("auth-") for e in client.events):
        client.sock.settimeout(max(0.1, deadline - time.monotonic()))
        data = client.sock.recv(sizes[n % len(sizes)])
        n += 1
        if not data:
            raise AssertionError("server closed the connection; events %r" % client.events)
        client.feedData(data)
        if time.monotonic() > deadline:
            raise AssertionError("logon did not finish; events %r" % client.events)


def _logon(srv, netbios: bool, password: Optional[str] = None, **kwargs) -> LoopSMB:
    port = srv.netbios_port if netbios else srv.port
    sock = socket.create_connection((srv.host, port), timeout=10)
    client = LoopSMB(sock, srv.user, srv.password if password is None else password, "EXTENDER",
                     srv.netbios_name, is_direct_tcp=not netbios, **kwargs)
    if netbios:
        client.requestNMBSession()
    else:
        client.onNMBSessionOK()
    _drive(client)
    return client


@pytest.mark.parametrize("netbios", [False, True], ids=["direct", "netbios"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_subclass_logs_on_through_write_and_feedData(samba_factory, dialect, netbios) -> None:
    srv = samba_factory(min_protocol=dialect, max_protocol=dialect)
    client = _logon(srv, netbios)
    try:
        assert client.events == ["session-ok", "auth-ok"]
        assert client.has_authenticated and client.has_negotiated
        assert client.is_using_smb2 is (dialect != "NT1")
        assert client.written > 0 and client.data_buf == b""
        if dialect == "NT1":
            assert client.uid != 0 and client.session_id == 0
            assert client.max_buffer_size > 0 and client.max_mpx_count > 0
        else:
            assert client.session_id != 0 and client.uid == 0
            assert client.max_transact_size >= 65536
        assert client.max_read_size > 0 and client.max_write_size > 0
        if dialect == "NT1":
            assert client.capabilities & 0x4  # CAP_UNICODE
        else:
            assert client.security_mode & 0x1  # SMB2_NEGOTIATE_SIGNING_ENABLED
    finally:
        client.sock.close()


@pytest.mark.parametrize("dialect", ["NT1", "SMB3_11"])
def test_subclass_hears_a_refused_logon(samba_factory, dialect) -> None:
    srv = samba_factory(min_protocol=dialect, max_protocol=dialect)
    client = _logon(srv, netbios=False, password="wrong-" + srv.password)
    try:
        assert client.events == ["session-ok", "auth-failed"]
        assert not client.has_authenticated
    finally:
        client.sock.close()


def test_nmbsession_subclass_gets_a_session_from_smbd(samba) -> None:
    """``nmb.base.NMBSession`` on its own: SESSION REQUEST answered positively."""
    events: List[str] = []
    sock = socket.create_connection((samba.host, samba.netbios_port), timeout=10)

    class Session(NMBSession):
        def write(self, data: bytes) -> None:
            sock.sendall(data)

        def onNMBSessionOK(self) -> None:
            events.append("ok")

        def onNMBSessionFailed(self) -> None:
            events.append("failed")

    try:
        session = Session("EXTENDER", samba.netbios_name)
        session.requestNMBSession()
        while not events:
            session.feedData(sock.recv(1))
        assert events == ["ok"]
        assert session.data_nmb.type == 0x82
    finally:
        sock.close()


# ------------------------------------------------------------------ pysmb's state attributes


@pytest.mark.parametrize("dialect", DIALECTS)
def test_connection_attributes_have_pysmb_meaning(samba_factory, dialect) -> None:
    srv = samba_factory(min_protocol=dialect, max_protocol=dialect, signing="mandatory")
    conn = SMBConnection(srv.user, srv.password, "pytest-client", srv.netbios_name,
                         sign_options=SIGN_WHEN_REQUIRED, is_direct_tcp=True)
    assert conn.auth_result is None and conn.is_busy is False
    assert conn.has_negotiated is False and conn.is_signing_active is False
    try:
        assert conn.connect(srv.host, srv.port, timeout=30) is True
        assert conn.auth_result is True and conn.is_busy is False
        assert conn.is_signing_active is True
        assert conn.signing_session_key is not None and len(conn.signing_session_key) == 16
        assert conn.is_using_smb2 is (dialect != "NT1")
        conn.listPath("data", "/")
        assert "data" in conn.connected_trees and conn.connected_trees["data"] != 0
        assert conn.mid > 0
        assert conn.smb_message is not None
        assert conn.sign_options == SIGN_WHEN_REQUIRED and conn.is_direct_tcp is True
        assert conn.use_ntlm_v2 is True and conn.domain == ""
    finally:
        conn.close()


def test_refused_logon_sets_auth_result_false(samba) -> None:
    conn = SMBConnection(samba.user, "not-" + samba.password, "pytest-client", samba.netbios_name,
                         is_direct_tcp=True)
    assert conn.connect(samba.host, samba.port, timeout=30) is False
    assert conn.auth_result is False


@pytest.mark.parametrize("dialect", DIALECTS)
def test_operation_failure_messages_have_pysmb_fields(samba_factory, dialect, monkeypatch) -> None:
    srv = samba_factory(min_protocol=dialect, max_protocol=dialect)
    conn = SMBConnection(srv.user, srv.password, "pytest-client", srv.netbios_name, is_direct_tcp=True)
    try:
        assert conn.connect(srv.host, srv.port, timeout=30) is True
        with pytest.raises(OperationFailure) as info:
            conn.getAttributes("data", "no-such-file-here.txt")
        msg = info.value.smb_messages[-1]
        assert msg.protocol == (1 if dialect == "NT1" else 2)
        assert msg.status == NtStatus.OBJECT_NAME_NOT_FOUND
        if dialect == "NT1":
            assert msg.status.internal_value == NtStatus.OBJECT_NAME_NOT_FOUND
            assert msg.status.is_ntstatus is True and msg.status.hasError
            assert msg.uid == conn.uid and msg.flags2 & 0x4000
        assert msg.tid == conn.connected_trees["data"]
        assert msg.mid > 0 and isinstance(msg.pid, int) and isinstance(msg.flags, int)
        assert msg.command in (smb_structs.c.SMB_COM_TRANSACTION2, smb_structs.c.SMB_COM_NT_CREATE_ANDX, 0x05)
        assert len(msg.raw_data) >= (32 if dialect == "NT1" else 64)
    finally:
        conn.close()
