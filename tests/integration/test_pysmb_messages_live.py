"""pysmb's message classes against a real Samba, over a bare TCP socket.

Direct TCP transport ([MS-SMB2] 2.1): each message is preceded by a zero byte
and a 24-bit big-endian length.  The SMB1 NEGOTIATE built by
``SMBMessage(ComNegotiateRequest())`` offers NT LM 0.12 and SMB 2.002; the
answer decodes into ``ComNegotiateResponse`` (SMB1) or, when the server picks
SMB2, raises ``SMB2ProtocolHeaderError`` and decodes as an ``SMB2Message``.
Then a proper SMB2 NEGOTIATE (our ``smb2_structs.NegotiateRequest``) and an
SMB2 ECHO built with ``SMB2Message(SMB2EchoRequest())``.
"""
from __future__ import annotations

import socket
import struct
from typing import Any

from smb import smb2_structs as S2
from smb.smb2_structs import SMB2EchoRequest, SMB2Message
from smb.smb_structs import ComNegotiateRequest, SMB2ProtocolHeaderError, SMBMessage


def _send(sock: socket.socket, message: bytes) -> None:
    sock.sendall(b"\x00" + struct.pack(">I", len(message))[1:] + message)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    return bytes(buf)


def _recv(sock: socket.socket) -> bytes:
    head = _recv_exact(sock, 4)
    assert head[0] == 0
    return _recv_exact(sock, int.from_bytes(head[1:], "big"))


def _connect(server: Any) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=10)
    sock.settimeout(10)
    return sock


def test_smb1_negotiate_nt1_only(samba_factory: Any) -> None:
    server = samba_factory(min_protocol="NT1", max_protocol="NT1")
    with _connect(server) as sock:
        request = SMBMessage(ComNegotiateRequest())
        request.mid = 1
        _send(sock, request.encode())
        reply = SMBMessage()
        reply.decode(_recv(sock))
    assert reply.isReply and reply.command == 0x72 and reply.mid == 1
    assert not reply.status.hasError
    payload = reply.payload
    assert type(payload).__name__ == "ComNegotiateResponse"
    assert payload.dialect_index == 0  # NT LM 0.12
    assert payload.supportsExtendedSecurity and len(payload.server_guid) == 16
    assert payload.security_blob[:1] == b"\x60"  # SPNEGO NegTokenInit
    assert payload.max_buffer_size > 0


def _echo(sock: socket.socket, mid: int) -> SMB2Message:
    echo = SMB2Message(SMB2EchoRequest())
    echo.mid = mid
    echo.credit_charge = 1
    echo.credit_re = 1
    _send(sock, echo.encode())
    pong = SMB2Message()
    pong.decode(_recv(sock))
    return pong


def _check_pong(pong: SMB2Message, mid: int) -> None:
    assert pong.isReply and pong.command == 0x0D and pong.mid == mid
    assert pong.status == 0
    assert type(pong.payload).__name__ == "SMB2EchoResponse"


def test_smb1_negotiate_answered_in_smb2_then_echo(samba: Any) -> None:
    """The server picks SMB 2.002 from pysmb's dialect list and answers in SMB2
    ([MS-SMB2] 3.3.5.3.1); the connection is then SMB 2.0.2, ECHO works."""
    with _connect(samba) as sock:
        _send(sock, SMBMessage(ComNegotiateRequest()).encode())
        answer = _recv(sock)
        try:
            SMBMessage().decode(answer)
        except SMB2ProtocolHeaderError:
            pass
        else:
            raise AssertionError("a server allowing SMB2 should answer SMB 2.002 in SMB2")
        first = SMB2Message()
        assert first.decode(answer) == len(answer)
        assert first.isReply and first.command == 0 and first.status == 0
        assert first.payload.dialect_revision == 0x0202
        assert first.payload.security_blob[:1] == b"\x60"
        _check_pong(_echo(sock, 1), 1)


def test_smb2_negotiate_then_echo(samba: Any) -> None:
    with _connect(samba) as sock:
        negotiate = SMB2Message()
        negotiate.command = 0
        negotiate.credit_re = 1
        negotiate.data = S2.NegotiateRequest((0x0202, 0x0210), 1, 0, b"\x11" * 16).pack()
        _send(sock, negotiate.encode())
        reply = SMB2Message()
        reply.decode(_recv(sock))
        assert reply.status == 0 and reply.mid == 0 and reply.isReply
        assert type(reply.payload).__name__ == "SMB2NegotiateResponse"
        assert reply.payload.dialect_revision == 0x0210
        assert reply.payload.max_read_size >= 65536
        assert len(reply.payload.server_guid) == 16
        _check_pong(_echo(sock, 1), 1)
