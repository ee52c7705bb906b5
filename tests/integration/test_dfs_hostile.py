"""Hostile DFS referrals from a scripted server (tests/fakeserver.py): a path answered with
STATUS_PATH_NOT_COVERED, then a referral response that lies (counts past the buffer, offsets
outside it, zero length, a target pointing back at the same link).  The call fails with our
exception, nothing is written anywhere else, and the connection stays usable."""
from __future__ import annotations

import struct
from typing import Any, List

import pytest

from smb.exceptions import MalformedResponse, OperationFailure
from smb.nt_status import NtStatus
from smb.SMBConnection import SMBConnection
from tests.fakeserver import FakeSmbServer

CREATE, IOCTL = 5, 11


def _utf16z(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def _v3_referral(target: str, consumed: int, dfs_path: str = "\\fake\\share\\link", root: bool = False) -> bytes:
    """A well-formed RESP_GET_DFS_REFERRAL with one version-3 entry (offsets from the entry):
    a link target, or with ``root`` a root target (ServerType 1, ReferralServers set)."""
    fixed = 34  # Version, Size, ServerType, Flags, TTL, 3 offsets, ServiceSiteGuid(16)
    path = _utf16z(dfs_path)
    addr = _utf16z(target)
    entry = struct.pack("<HHHHIHHH", 3, fixed, 1 if root else 0, 0, 300, fixed, fixed, fixed + len(path)) + b"\0" * 16
    return struct.pack("<HHI", consumed, 1, 0x3 if root else 0x2) + entry + path + addr


HOSTILE = {
    "huge count": struct.pack("<HHI", 20, 0xFFFF, 0),
    "zero length": b"",
    "entry size past the buffer": struct.pack("<HHI", 20, 1, 0) + struct.pack("<HHHHIHHH", 3, 0x7FFF, 0, 0, 0, 0, 0, 0),
    "offset outside the buffer": struct.pack("<HHI", 20, 1, 0) + struct.pack("<HHHHIHHH", 3, 34, 0, 0, 300, 34,
                                                                           34, 0xFFF0) + b"\0" * 16,
    "unterminated string": (struct.pack("<HHI", 20, 1, 0) + struct.pack("<HHHHIHHH", 3, 34, 0, 0, 300, 34, 34, 34)
                            + b"\0" * 16 + "\\x".encode("utf-16-le")),
    "version 9": struct.pack("<HHI", 20, 1, 0) + struct.pack("<HHHH", 9, 8, 0, 0),
}


def _ioctl_response(conn: Any, req: Any, output: bytes) -> bytes:
    body = struct.pack("<HHI16sIIIIII", 49, 0, 0x00060194, b"\xff" * 16, 0, 0, 64 + 48, len(output), 0, 0)
    return conn.respond(req, body + output)


def refusing(name_field: int, refused: Any, status: int) -> Any:
    """A fake-server handler answering ``status`` to requests whose name (UTF-16, its offset
    and length at ``name_field`` of the body) ``refused(name)`` picks; the rest as usual."""
    def handler(conn: Any, req: Any) -> List[Any]:
        name_off, name_len = struct.unpack_from("<HH", req.body, name_field)
        if refused(req.msg[name_off:name_off + name_len].decode("utf-16-le").lower()):
            return [conn.error(req, status)]
        return conn.server.default(conn, req)
    return handler


def _script(referral: bytes) -> dict:
    create = refusing(44, lambda name: name.startswith("link"), NtStatus.PATH_NOT_COVERED)

    def ioctl(conn: Any, req: Any) -> List[Any]:
        return [_ioctl_response(conn, req, referral)]

    return {CREATE: create, IOCTL: ioctl}


def _connect(server: FakeSmbServer, remote_name: str = "fake", **kwargs: Any) -> SMBConnection:
    conn = SMBConnection("u", "p", "client", remote_name, is_direct_tcp=True, **kwargs)
    assert conn.connect(server.host, server.port, timeout=10) is True
    return conn


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_referral_fails_the_call_only(kind: str) -> None:
    with FakeSmbServer(files={"ok.txt": b"fine"}, script=_script(HOSTILE[kind])) as server:
        conn = _connect(server)
        try:
            with pytest.raises(MalformedResponse, match="DFS referral"):
                conn.listPath("share", "link/x")
            assert conn.echo(b"still here") == b"still here"
            assert conn._dfs_peers == {}
        finally:
            conn.close()


def test_a_referral_back_to_the_same_link_is_reported_as_a_loop() -> None:
    referral = _v3_referral("\\fake\\share\\link", len(_utf16z("\\fake\\share\\link")) - 2)
    with FakeSmbServer(files={}, script=_script(referral)) as server:
        conn = _connect(server)
        try:
            with pytest.raises(OperationFailure, match="referrals"):
                conn.listPath("share", "link/x")
            assert conn.echo(b"ok") == b"ok"
        finally:
            conn.close()
