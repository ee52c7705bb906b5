"""Domain-based DFS: the referral requests a client sends to a domain controller (domain,
DC and sysvol referrals, [MS-DFSC] 3.1.4.1 and 3.3.5) against the suite's Samba AD DC, and
the redirect of a share the server does not host (STATUS_BAD_NETWORK_NAME, a domain-based
namespace whose root is elsewhere) to the root targets a referral names, with a scripted
server (Samba's AD DC hosts its only domain-based namespaces, SYSVOL and NETLOGON, itself,
so it never turns a client away from them).
"""
from __future__ import annotations

import struct
from typing import Any, List, Optional

import pytest

from smb.exceptions import OperationFailure
from smb.nt_status import NtStatus
from smb.SMBConnection import SMBConnection
from tests.fakeserver import TREE_CONNECT, FakeSmbServer
from tests.integration.test_dfs_hostile import _connect as _fake_connect
from tests.integration.test_dfs_hostile import _ioctl_response, _v3_referral, refusing

pytestmark = pytest.mark.integration

IOCTL = 11


# ---------------------------------------------------------------- a namespace the server does not host


def _root_referral(dfs_path: str, target: str, consumed: Optional[int] = None) -> bytes:
    """RESP_GET_DFS_REFERRAL: one V3 root-target entry for ``dfs_path`` -> ``target``."""
    if consumed is None:
        consumed = len(dfs_path.encode("utf-16-le"))
    return _v3_referral(target, consumed, dfs_path, root=True)


def _namespace_script(answer_referrals: bool, seen: List[str], extended: bool = True,
                      codes: Optional[List[int]] = None, consumed: Optional[int] = None) -> dict:
    """Share FILES does not exist on this server (a domain-based namespace whose root
    target is this server's share SHARE); the referral names that target, or fails (as
    on a server that is not a DC)."""
    tree_connect = refusing(4, lambda unc: unc.endswith("\\files"), NtStatus.BAD_NETWORK_NAME)

    def ioctl(conn: Any, req: Any) -> List[Any]:
        ctl_code, = struct.unpack_from("<I", req.body, 4)
        in_off, in_len = struct.unpack_from("<II", req.body, 24)
        request = req.msg[in_off:in_off + in_len]
        # REQ_GET_DFS_REFERRAL: level, name; the _EX form: level, flags, data length, name length, name.
        name = (request[2:] if ctl_code == 0x00060194 else request[10:]).decode("utf-16-le").rstrip("\0")
        if codes is not None:
            codes.append(ctl_code)
        if ctl_code == 0x000601B0 and not extended:
            return [conn.error(req, NtStatus.NOT_SUPPORTED)]
        seen.append(name)
        if not answer_referrals:
            return [conn.error(req, 0xC0000225)]  # STATUS_NOT_FOUND: this server has no such referral
        return [_ioctl_response(conn, req, _root_referral("\\corp.example\\files", "\\127.0.0.1\\share", consumed))]

    return {TREE_CONNECT: tree_connect, IOCTL: ioctl}


def _connect(server: FakeSmbServer, **kwargs: Any) -> SMBConnection:
    return _fake_connect(server, "corp.example", **kwargs)


def test_a_share_the_server_lacks_is_followed_to_its_root_target() -> None:
    seen: List[str] = []
    with FakeSmbServer(files={"report.txt": b"from the root target"}, script=_namespace_script(True, seen)) as server:
        conn = _connect(server)
        try:
            names = sorted(f.filename for f in conn.listPath("files", "/"))
            assert names == [".", "..", "report.txt"]
            # The root referral asked for the path under the namespace; the target is this server's
            # other share, so no second connection is made.
            assert seen == ["\\corp.example\\files"]
            assert conn._dfs_peers == {}
            import io
            out = io.BytesIO()
            conn.retrieveFile("files", "report.txt", out)
            assert out.getvalue() == b"from the root target"
            assert len(seen) == 1  # the cached referral served the later calls
            assert conn.getDfsReferral("\\\\corp.example\\files\\x") == ["\\\\127.0.0.1\\share\\x"]
        finally:
            conn.close()
    assert server.errors == []


def test_a_root_referral_may_not_consume_more_than_was_sent() -> None:
    from smb.exceptions import MalformedResponse
    seen: List[str] = []
    # "\\corp.example\\files" is 19 characters (38 bytes); claiming 21 would silently eat
    # "\\x" of the caller's path "x/y" (the call would land on \\127.0.0.1\\share\\y).
    script = _namespace_script(True, seen, consumed=42)
    with FakeSmbServer(files={"a.txt": b"a"}, script=script) as server:
        conn = _connect(server)
        try:
            with pytest.raises(MalformedResponse, match="consumed 42 bytes of a 38-byte request"):
                conn.listPath("files", "x/y")
            assert conn.echo(b"alive") == b"alive"
        finally:
            conn.close()
    assert server.errors == []


def test_smb2_1_sends_the_plain_referral_request_only() -> None:
    seen: List[str] = []
    codes: List[int] = []
    script = _namespace_script(True, seen, extended=False, codes=codes)
    with FakeSmbServer(files={"a.txt": b"a"}, script=script) as server:  # it speaks SMB 2.1
        conn = _connect(server)
        try:
            assert conn.getDfsReferral("\\\\corp.example\\files") == ["\\\\127.0.0.1\\share"]
            assert conn.getDfsReferral("\\\\corp.example\\files\\y") == ["\\\\127.0.0.1\\share\\y"]
        finally:
            conn.close()
    assert codes == [0x00060194, 0x00060194]  # FSCTL_DFS_GET_REFERRALS_EX is SMB 3.x only
    assert server.errors == []


def test_a_share_without_a_referral_keeps_its_own_error() -> None:
    seen: List[str] = []
    with FakeSmbServer(files={}, script=_namespace_script(False, seen)) as server:
        conn = _connect(server)
        try:
            with pytest.raises(OperationFailure) as info:
                conn.listPath("files", "/")
            assert info.value.status == NtStatus.BAD_NETWORK_NAME
            assert seen == ["\\corp.example\\files"]
            assert conn.echo(b"alive") == b"alive"
        finally:
            conn.close()
        conn = _connect(server, dfs=False)
        try:
            with pytest.raises(OperationFailure) as info:
                conn.listPath("files", "/")
            assert info.value.status == NtStatus.BAD_NETWORK_NAME
            assert seen == ["\\corp.example\\files"]  # dfs=False: no referral asked
        finally:
            conn.close()
    assert server.errors == []


# ---------------------------------------------------------------- the AD DC


@pytest.fixture(params=["SMB3_11", "SMB3_11-encrypted"])
def dc_conn(request: pytest.FixtureRequest, addc: Any) -> Any:
    # The AD DC speaks SMB2 and later only (Samba's default for a DC): no NT1 here.
    conn = SMBConnection("alice", addc.users["alice"], "client", addc.netbios_name, domain=addc.domain,
                         is_direct_tcp=True, encrypt=request.param.endswith("encrypted"))
    assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
    yield conn
    conn.close()


def test_domain_referral_lists_the_domain_in_both_forms(dc_conn: Any, addc: Any) -> None:
    domains = [d.lower() for d in dc_conn.getDfsDomains()]
    assert addc.domain.lower() in domains and addc.realm.lower() in domains
    # Over SMB 3.x the extended request went first; Samba 4.17 refuses it
    # (STATUS_FS_DRIVER_REQUIRED) and the plain one answered.
    ops = dc_conn._dialect_ops()
    assert ops.dialect >= 0x0300 and ops.dfs_ex_refused is True


def test_dc_referral_lists_the_dc_in_the_form_asked(dc_conn: Any, addc: Any) -> None:
    assert [n.lower() for n in dc_conn.getDfsDomainControllers(addc.realm)] == [addc.hostname.lower()]
    assert [n.lower() for n in dc_conn.getDfsDomainControllers(addc.domain)] == [addc.netbios_name.lower()]
    with pytest.raises(OperationFailure):
        dc_conn.getDfsDomainControllers("no-such-domain.example")


def test_sysvol_referral_names_the_dc(dc_conn: Any, addc: Any) -> None:
    targets = dc_conn.getDfsReferral("\\\\%s\\SYSVOL" % addc.realm)
    assert [t.lower() for t in targets] == [("\\\\%s\\sysvol" % addc.hostname).lower()]
    with pytest.raises(OperationFailure):  # a DC answers sysvol referrals of two components only
        dc_conn.getDfsReferral("\\\\%s\\SYSVOL\\%s" % (addc.realm, addc.realm))
    netlogon = dc_conn.getDfsReferral("\\\\%s\\NETLOGON" % addc.domain)
    assert [t.lower() for t in netlogon] == [("\\\\%s\\netlogon" % addc.netbios_name).lower()]
