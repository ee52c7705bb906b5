"""The test AD DC itself, checked with MIT Kerberos and Samba's own client only (no smbwire).

If these fail, every Kerberos integration test is suspect; if these pass, a failing smbwire
Kerberos test points at smbwire.
"""
from __future__ import annotations

import ipaddress
import os
import subprocess

import pytest

from tests.addc_server import ADDCServer
from tests.samba_server import _listening_inodes, pid_alive

AES_ONLY = "aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96"


def _output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def _smbclient(dc: ADDCServer, *args: str, env=None) -> subprocess.CompletedProcess:
    """smbclient spelled out here, not through the harness's helper."""
    argv = ["smbclient", "-s", "/dev/null", "//%s/data" % dc.hostname, "-I", dc.host,
            "-p", str(dc.smb_port), "--use-kerberos=required", *args]
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=env or dc.env(), timeout=60, check=False)


def test_start_time_and_addresses(addc: ADDCServer, record_property) -> None:
    record_property("addc_start_seconds", round(addc.start_seconds, 3))
    record_property("addc_provision_seconds", round(addc.provision_seconds, 3))
    record_property("addc_launch_seconds", round(addc.launch_seconds, 3))
    print("AD DC %s: start %.2f s (provision %.2f s, copy %.2f s, samba until SMB+KDC answer "
          "%.2f s)" % (addc, addc.start_seconds, addc.provision_seconds, addc.copy_seconds,
                       addc.launch_seconds))
    assert addc.running
    assert ipaddress.ip_address(addc.host) in ipaddress.ip_network("127.0.0.0/8")
    assert addc.realm == "SMBTEST.LAN" and addc.domain == "SMBTEST"
    assert addc.spn == "cifs/dc1.smbtest.lan"
    assert _listening_inodes(addc.smb_port) and _listening_inodes(addc.kdc_port)
    assert os.path.isfile(addc.krb5_conf)
    with open(addc.krb5_conf, encoding="ascii") as fh:
        assert "kdc = %s:%d" % (addc.host, addc.kdc_port) in fh.read()


def test_hostname_resolves_through_nss_wrapper(addc: ADDCServer) -> None:
    result = subprocess.run(["getent", "hosts", addc.hostname], env=addc.env(),
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, _output(result)
    assert result.stdout.split()[0] == addc.host


def test_kinit_gets_a_tgt(addc: ADDCServer, tmp_path) -> None:
    ccache = addc.kinit("alice", addc.users["alice"], str(tmp_path / "ccache"))
    listing = addc.klist(ccache, "-e")
    assert listing.returncode == 0, _output(listing)
    assert "Default principal: alice@SMBTEST.LAN" in listing.stdout
    assert "krbtgt/SMBTEST.LAN@SMBTEST.LAN" in listing.stdout
    assert "aes256-cts-hmac-sha1-96" in listing.stdout


def test_second_user(addc: ADDCServer, tmp_path) -> None:
    ccache = addc.kinit("bob", addc.users["bob"], str(tmp_path / "ccache"))
    assert "Default principal: bob@SMBTEST.LAN" in addc.klist(ccache).stdout


def test_kinit_wrong_password_fails(addc: ADDCServer, tmp_path) -> None:
    with pytest.raises(subprocess.CalledProcessError) as info:
        addc.kinit("alice", "not-the-password", str(tmp_path / "ccache"))
    assert "Password incorrect" in info.value.stderr or "Preauthentication" in info.value.stderr


def test_smbclient_kerberos_with_password(addc: ADDCServer, tmp_path) -> None:
    payload = os.urandom(5000)
    (tmp_path / "up.bin").write_bytes(payload)
    result = _smbclient(addc, "-U", "alice@SMBTEST.LAN%" + addc.users["alice"],
                        "-c", "lcd %s; put up.bin; ls" % tmp_path)
    assert result.returncode == 0, _output(result)
    assert "up.bin" in result.stdout
    with open(os.path.join(addc.share_path("data"), "up.bin"), "rb") as fh:
        assert fh.read() == payload


def test_smbclient_kerberos_with_ccache(addc: ADDCServer, tmp_path) -> None:
    ccache = addc.kinit("bob", addc.users["bob"], str(tmp_path / "ccache"))
    result = _smbclient(addc, "--use-krb5-ccache=FILE:" + ccache, "-c", "ls",
                        env=addc.env(ccache))
    assert result.returncode == 0, _output(result)
    # smbclient got a service ticket for the DC's SPN into the cache.
    assert "cifs/dc1.smbtest.lan@SMBTEST.LAN" in addc.klist(ccache).stdout


def test_smbclient_wrong_password_fails(addc: ADDCServer) -> None:
    result = _smbclient(addc, "-U", "alice@SMBTEST.LAN%not-the-password", "-c", "ls")
    assert result.returncode != 0
    assert "NT_STATUS_LOGON_FAILURE" in _output(result) or "Preauth" in _output(result)


def test_export_keytab(addc: ADDCServer, tmp_path) -> None:
    keytab = addc.export_keytab(addc.spn, str(tmp_path / "cifs.keytab"))
    assert os.path.getsize(keytab) > 0
    listing = subprocess.run(["klist", "-k", "-e", keytab], capture_output=True, text=True,
                             timeout=30, check=False)
    assert listing.returncode == 0, _output(listing)
    assert "cifs/dc1.smbtest.lan@SMBTEST.LAN" in listing.stdout
    assert "aes256-cts-hmac-sha1-96" in listing.stdout


def test_set_option_refuses_rc4(addc: ADDCServer, tmp_path) -> None:
    ccache = str(tmp_path / "ccache")
    addc.kinit("alice", addc.users["alice"], ccache, enctypes=["arcfour-hmac"])
    assert "arcfour-hmac" in addc.klist(ccache, "-e").stdout
    try:
        addc.set_option("kdc supported enctypes", AES_ONLY)
        addc.kinit("alice", addc.users["alice"], ccache, enctypes=["arcfour-hmac"],
                   check=False)
        assert addc.last_kinit is not None and addc.last_kinit.returncode != 0
        assert "encryption type" in addc.last_kinit.stderr
    finally:
        addc.set_option("kdc supported enctypes", None)
    addc.kinit("alice", addc.users["alice"], ccache, enctypes=["arcfour-hmac"])


def test_second_dc_side_by_side_stops_cleanly(addc: ADDCServer, tmp_path) -> None:
    """Another DC from the same provisioned tree, on its own address; stop leaves nothing."""
    other = ADDCServer()
    try:
        other.start()
        assert other.host != addc.host
        print("second DC: start %.2f s (provision %.2f s, copy %.2f s)"
              % (other.start_seconds, other.provision_seconds, other.copy_seconds))
        ccache = other.kinit("alice", other.users["alice"], str(tmp_path / "ccache"))
        result = _smbclient(other, "--use-krb5-ccache=FILE:" + ccache, "-c", "ls",
                            env=other.env(ccache))
        assert result.returncode == 0, _output(result)
        pids = list(other.pids)
        assert len(pids) >= 3  # samba, smbd, winbindd at least
        assert all(pid_alive(pid) for pid in pids[:1])
        tmpdir = other.tmpdir
    finally:
        other.stop()
    assert not other.running
    assert [pid for pid in pids if pid_alive(pid)] == []
    assert not os.path.exists(tmpdir)
    assert not _listening_inodes(other.smb_port)
    # The session's DC is untouched.
    assert addc.running
