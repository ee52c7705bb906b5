"""The test Samba itself, checked with Samba's own client only (no smbwire code involved).

If these fail, every other integration test is suspect; if these pass, a failing smbwire
integration test points at smbwire.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest

from tests.samba_server import (HELLO_TEXT, SNAPSHOT_FILE, SambaServer, nbns_name_query,
                                pid_alive, processes_naming)

DIALECTS = ["NT1", "SMB2_02", "SMB2_10", "SMB3_00", "SMB3_02", "SMB3_11"]


def _output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def _roundtrip(server: SambaServer, share: str, tmp_path, *, user: bool = True,
               protocol=None, extra=()) -> None:
    """put a file, check it on disk, get it back, compare."""
    payload = os.urandom(70000) + b"end"
    name = "up-%s-%s.bin" % (share, os.urandom(4).hex())
    (tmp_path / name).write_bytes(payload)
    server.smbclient(share, "lcd %s; put %s; get %s back.bin" % (tmp_path, name, name),
                     user=user, protocol=protocol, extra=extra)
    with open(os.path.join(server.share_path(share), name), "rb") as fh:
        assert fh.read() == payload
    assert (tmp_path / "back.bin").read_bytes() == payload


def test_share_list(samba: SambaServer) -> None:
    out = samba.smbclient(None).stdout
    listed = {line.split()[0] for line in out.splitlines() if line.startswith("\t") and line.split()}
    assert {"data", "public", "readonly", "snapshots", "IPC$"} <= listed


def test_user_put_get_on_data(samba: SambaServer, tmp_path) -> None:
    _roundtrip(samba, "data", tmp_path)


def test_guest_put_get_on_public(samba: SambaServer, tmp_path) -> None:
    _roundtrip(samba, "public", tmp_path, user=False)


def test_guest_refused_on_data(samba: SambaServer) -> None:
    result = samba.smbclient("data", "ls", user=False, check=False)
    assert result.returncode != 0
    assert "NT_STATUS_ACCESS_DENIED" in _output(result)


def test_wrong_password_refused(samba: SambaServer) -> None:
    result = subprocess.run(
        ["smbclient", "-s", "/dev/null", "//%s/data" % samba.host, "-p", str(samba.port),
         "-U", "%s%%not-the-password" % samba.user, "-c", "ls"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "NT_STATUS_LOGON_FAILURE" in _output(result)


def test_readonly_share(samba: SambaServer, tmp_path) -> None:
    (tmp_path / "new.txt").write_bytes(b"should not land")
    result = samba.smbclient("readonly", "lcd %s; put new.txt" % tmp_path, check=False)
    assert result.returncode != 0
    assert "NT_STATUS_ACCESS_DENIED" in _output(result)
    assert not os.path.exists(os.path.join(samba.share_path("readonly"), "new.txt"))
    samba.smbclient("readonly", "lcd %s; get hello.txt" % tmp_path)
    assert (tmp_path / "hello.txt").read_bytes() == HELLO_TEXT


@pytest.mark.parametrize("protocol", ["NT1", "SMB3_11"])
def test_snapshots_are_listed_and_served(samba: SambaServer, tmp_path, protocol: str) -> None:
    out = samba.smbclient("snapshots", "allinfo %s" % SNAPSHOT_FILE, protocol=protocol).stdout
    tokens = [SambaServer.gmt_token(when) for when in samba.snapshot_times]
    assert len(tokens) == 2
    for token in tokens:
        assert token in out
    for index, token in enumerate(tokens):
        local = tmp_path / ("snap%d.txt" % index)
        samba.smbclient("snapshots", "get %s\\%s %s" % (token, SNAPSHOT_FILE, local),
                        protocol=protocol)
        assert local.read_bytes() == SambaServer.snapshot_text(index)
    listing = samba.smbclient("snapshots", "ls %s\\*" % tokens[0], protocol=protocol).stdout
    assert SNAPSHOT_FILE in listing


@pytest.mark.parametrize("dialect", DIALECTS)
def test_forced_dialect(samba_factory, tmp_path, dialect: str) -> None:
    server = samba_factory(min_protocol=dialect, max_protocol=dialect)
    _roundtrip(server, "data", tmp_path, protocol=dialect)
    # The server really is pinned: a client that stops one dialect lower is turned away.
    lower = DIALECTS.index(dialect) - 1
    if lower >= 0:
        refused = server.smbclient("data", "ls", protocol=DIALECTS[lower], check=False)
    else:
        refused = server.smbclient("data", "ls", check=False)  # smbclient's minimum is SMB2_02
    assert refused.returncode != 0
    assert "protocol negotiation failed" in _output(refused)


def test_netbios_session_port(samba: SambaServer) -> None:
    for protocol in ("NT1", "SMB3_11"):
        samba.smbclient("data", "ls", protocol=protocol, port=samba.netbios_port)


def test_ntlmv1_accepted_unless_disabled(samba: SambaServer, samba_factory) -> None:
    v1 = ["--option=client ntlmv2 auth=no"]
    samba.smbclient("data", "ls", protocol="NT1", extra=v1)
    strict = samba_factory(ntlm_auth=False)
    refused = strict.smbclient("data", "ls", protocol="NT1", extra=v1, check=False)
    assert refused.returncode != 0
    assert "NT_STATUS_LOGON_FAILURE" in _output(refused)
    strict.smbclient("data", "ls", protocol="NT1")


def test_signing_mandatory(samba_factory, tmp_path) -> None:
    server = samba_factory(signing="mandatory")
    for protocol in ("NT1", "SMB2_10", "SMB3_11"):
        _roundtrip(server, "data", tmp_path, protocol=protocol, extra=["--client-protection=sign"])
    # SMB1 lets a client refuse signing; a mandatory server must then turn it away.
    refused = server.smbclient("data", "ls", protocol="NT1",
                               extra=["--option=client signing=disabled"], check=False)
    assert refused.returncode != 0


def test_encryption_required(samba_factory, tmp_path) -> None:
    server = samba_factory(encrypt="required")
    for protocol in ("SMB3_00", "SMB3_11"):
        _roundtrip(server, "data", tmp_path, protocol=protocol,
                   extra=["--client-protection=encrypt"])
    below = server.smbclient("data", "ls", protocol="SMB2_10", check=False)
    assert below.returncode != 0 and "NT_STATUS_ACCESS_DENIED" in _output(below)
    guest = server.smbclient("public", "ls", user=False, extra=["--client-protection=encrypt"],
                             check=False)
    assert guest.returncode != 0 and "NT_STATUS_ACCESS_DENIED" in _output(guest)


def test_nmbd_answers_name_query(samba: SambaServer) -> None:
    if not samba.nmbd_running:
        pytest.skip("nmbd is not running on this host")
    assert samba.nmb_port > 0
    assert nbns_name_query(samba.netbios_name, samba.nmb_ip, samba.nmb_port) == [samba.nmb_ip]
    assert nbns_name_query("NO-SUCH-NAME", samba.nmb_ip, samba.nmb_port, timeout=0.5) == []
    # The session service is reachable at the address the name service hands out.
    samba.smbclient("data", "ls", host=samba.nmb_ip)


def test_stop_leaves_nothing_behind() -> None:
    server = SambaServer().start()
    try:
        assert server.start_seconds < 5, server.start_seconds
        server.smbclient(None)  # makes smbd spawn samba-dcerpcd, which leaves our session
        helpers = processes_naming(server.conf_path)
        assert any(pid_alive(pid) for pid in helpers)
        tmpdir, port = server.tmpdir, server.port
    finally:
        server.stop()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(pid_alive(pid) for pid in helpers):
        time.sleep(0.05)
    assert not [pid for pid in helpers if pid_alive(pid)]
    assert not os.path.exists(tmpdir)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
