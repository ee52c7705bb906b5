"""Kerberos logons against the suite's Samba AD DC (``addc`` fixture, tests/addc_server.py).

Every test talks to the real KDC and the DC's own smbd: password logons with each etype the
DC issues, a ccache made by MIT ``kinit``, a keytab from ``samba-tool domain exportkeytab``,
refusals (wrong password, unknown user, expired ticket, clock skew), mutual authentication
with a tampered AP-REP, signing and encryption keyed from Kerberos on every dialect, and
``smbclient --use-kerberos=required`` reading what we wrote.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import time
import uuid
from typing import Any, Iterator

import pytest

from smb import krb5, krb5_files, krb5_kdc
from smb import krb5_crypto as kc
from smb.exceptions import KerberosError
from smb.SMBConnection import SMBConnection
from tests.faultproxy import FaultProxy, smb2_command

DIALECTS = ["NT1", "SMB2_02", "SMB2_10", "SMB3_00", "SMB3_02", "SMB3_11"]


def _conn(dc: Any, user: str = "alice", password: Any = None, **kwargs: Any) -> SMBConnection:
    kwargs.setdefault("use_kerberos", True)
    kwargs.setdefault("kdc", dc.kdc)
    return SMBConnection(user, dc.users.get(user, "") if password is None else password, "krbclient",
                         "dc1", domain=dc.realm, is_direct_tcp=True, **kwargs)


def _roundtrip(conn: SMBConnection, size: int = 3 * 1024 * 1024 + 17) -> str:
    name = "krb-%s.bin" % uuid.uuid4().hex[:10]
    data = os.urandom(size)
    assert conn.storeFile("data", name, io.BytesIO(data)) == size
    out = io.BytesIO()
    conn.retrieveFile("data", name, out)
    assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest()
    return name


@contextlib.contextmanager
def _protocol(dc: Any, dialect: str) -> Iterator[None]:
    """The session DC limited to one dialect for the block (restored after)."""
    dc.set_option("server min protocol", dialect)
    dc.set_option("server max protocol", dialect)
    try:
        yield
    finally:
        dc.set_option("server min protocol", None)
        dc.set_option("server max protocol", None)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_password_logon_signs_with_kerberos_keys_on_every_dialect(addc, dialect) -> None:
    with _protocol(addc, dialect):
        conn = _conn(addc)
        try:
            assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
            assert conn.is_using_smb2 is (dialect != "NT1")
            # The DC requires signing: every response was verified with the Kerberos-derived key.
            assert conn.is_signing_active is True
            _roundtrip(conn)
            ticket = conn.kerberos_settings.tickets[-1]
            assert ticket.server.components == ("cifs", "dc1.smbtest.lan")
            assert ticket.key.etype == kc.ETYPE_AES256_CTS_HMAC_SHA1_96
        finally:
            conn.close()


@pytest.mark.parametrize("etype", [kc.ETYPE_AES256_CTS_HMAC_SHA1_96, kc.ETYPE_AES128_CTS_HMAC_SHA1_96,
                                   kc.ETYPE_RC4_HMAC])
def test_each_etype_the_dc_issues(addc, etype) -> None:
    conn = _conn(addc, kerberos_etypes=(etype,))
    try:
        assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
        assert conn.kerberos_settings.tickets[-1].key.etype == etype
        _roundtrip(conn, 100_000)
    finally:
        conn.close()


def test_rc4_refused_by_the_dc_is_reported(addc) -> None:
    addc.set_option("kdc supported enctypes", "aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96")
    try:
        conn = _conn(addc, kerberos_etypes=(kc.ETYPE_RC4_HMAC,))
        with pytest.raises(KerberosError) as info:
            conn.connect(addc.host, addc.smb_port, timeout=30)
        assert info.value.code == 14 and "encryption type" in str(info.value)
    finally:
        addc.set_option("kdc supported enctypes", None)


def test_encryption_on_311_with_kerberos_keys(addc) -> None:
    conn = _conn(addc, encrypt=True)
    try:
        assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
        assert conn.dialect.session.encrypt_data is True
        _roundtrip(conn)
    finally:
        conn.close()


@pytest.mark.parametrize("cipher,cipher_id", [("AES-256-GCM", 4), ("AES-256-CCM", 3)])
def test_aes256_ciphers_use_the_full_kerberos_key(addc, cipher, cipher_id) -> None:
    """[MS-SMB2] 3.2.5.3.1: the 256-bit cipher keys come from the whole 32-byte session key
    (a key from only its first 16 bytes would not decrypt a single response)."""
    addc.set_option("server smb3 encryption algorithms", cipher)
    try:
        conn = _conn(addc, encrypt=True)
        try:
            assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
            assert conn.dialect.cipher == cipher_id
            assert len(conn.kerberos_settings.tickets[-1].key.contents) == 32
            _roundtrip(conn, 200_000)
        finally:
            conn.close()
    finally:
        addc.set_option("server smb3 encryption algorithms", None)


def test_ccache_from_mit_kinit(addc, tmp_path) -> None:
    path = addc.kinit("alice", addc.users["alice"], str(tmp_path / "cc"))
    conn = SMBConnection("", "", "krbclient", "dc1", is_direct_tcp=True, use_kerberos=True,
                         kdc=addc.kdc, kerberos_ccache=path)
    try:
        assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
        _roundtrip(conn, 10_000)
    finally:
        conn.close()
    # Only the TGS exchange ran: the TGT came from the cache, the user from its principal.
    assert conn.kerberos_settings.tickets[-1].client.components == ("alice",)


def test_ccache_from_krb5ccname_without_a_password(addc, tmp_path, monkeypatch) -> None:
    path = addc.kinit("bob", addc.users["bob"], str(tmp_path / "cc"))
    monkeypatch.setenv("KRB5CCNAME", "FILE:" + path)
    conn = SMBConnection("", "", "krbclient", "dc1", is_direct_tcp=True, use_kerberos=True, kdc=addc.kdc)
    try:
        assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
        assert conn.kerberos_settings.tickets[-1].client.components == ("bob",)
    finally:
        conn.close()


def test_keytab_from_samba_tool(addc, tmp_path) -> None:
    path = addc.export_keytab("alice@" + addc.realm, str(tmp_path / "alice.keytab"))
    conn = _conn(addc, password="", keytab=path)
    try:
        assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
        _roundtrip(conn, 10_000)
    finally:
        conn.close()


def test_wrong_password(addc) -> None:
    conn = _conn(addc, password="not-" + addc.users["alice"])
    with pytest.raises(KerberosError) as info:
        conn.connect(addc.host, addc.smb_port, timeout=30)
    assert info.value.code == 24 and "wrong password" in str(info.value)
    assert addc.users["alice"] not in str(info.value)


def test_negotiate_falls_back_to_ntlm_and_reports_the_refusal(addc) -> None:
    # Kerberos fails (wrong password), so does NTLM: a refused logon is False, no exception.
    conn = _conn(addc, password="not-" + addc.users["alice"], use_kerberos=False, auth="negotiate")
    assert conn.connect(addc.host, addc.smb_port, timeout=30) is False


def test_negotiate_without_a_kdc_uses_ntlm(addc) -> None:
    conn = _conn(addc, use_kerberos=False, auth="negotiate", kdc="127.0.0.1:9")  # nobody there
    try:
        assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
        assert conn.kerberos_settings.tickets == []
    finally:
        conn.close()


def test_kerberos_only_never_falls_back(addc) -> None:
    conn = _conn(addc, kdc="127.0.0.1:9")
    with pytest.raises(KerberosError, match="no KDC answered"):
        conn.connect(addc.host, addc.smb_port, timeout=10)


def test_unknown_user(addc) -> None:
    conn = _conn(addc, user="nobody-" + uuid.uuid4().hex[:6], password="x")
    with pytest.raises(KerberosError) as info:
        conn.connect(addc.host, addc.smb_port, timeout=30)
    assert info.value.code == 6 and "unknown user" in str(info.value)


def test_expired_ticket_in_the_ccache_is_not_used(addc, tmp_path) -> None:
    path = addc.kinit("alice", addc.users["alice"], str(tmp_path / "cc"))
    with open(path, "rb") as fh:
        cache = krb5_files.read_ccache(fh.read())
    past = int(time.time()) - 3600
    for cred in cache.credentials:
        cred.endtime = past
    with open(path, "wb") as fh:
        fh.write(krb5_files.write_ccache(cache))
    conn = SMBConnection("", "", "krbclient", "dc1", is_direct_tcp=True, use_kerberos=True,
                         kdc=addc.kdc, kerberos_ccache=path)
    with pytest.raises(KerberosError, match="no valid ticket"):
        conn.connect(addc.host, addc.smb_port, timeout=30)


def test_clock_skew_is_reported_with_both_times(addc) -> None:
    client = krb5.Principal(("alice",), addc.realm)
    ahead = lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)  # noqa: E731
    exchange = krb5.AsExchange(client, addc.users["alice"], clock=ahead)
    host, port = addc.host, addc.kdc_port
    deadline = time.monotonic() + 20
    with pytest.raises(KerberosError) as info:
        reply = krb5_kdc.send_to_kdc(exchange.request(), [(host, port)], deadline, krb5.error_code_of)
        while exchange.receive(reply) is None:
            reply = krb5_kdc.send_to_kdc(exchange.request(), [(host, port)], deadline, krb5.error_code_of)
    assert info.value.code == 37
    assert "clock skew" in str(info.value) and "KDC time" in str(info.value)


def test_tampered_ap_rep_fails_mutual_authentication(addc) -> None:
    proxy = FaultProxy(addc.host, addc.smb_port, time_limit=60).start()
    tampered = []

    def flip_session_setup_answer(payload: bytes) -> Any:
        # The final SESSION_SETUP response (STATUS_SUCCESS) ends with the security
        # buffer, whose last bytes are the AP-REP's integrity checksum.
        if smb2_command(payload) == 1 and payload[8:12] == b"\0\0\0\0" and not tampered:
            tampered.append(True)
            return payload[:-1] + bytes([payload[-1] ^ 0x01])
        return None

    proxy.on_server_frame = flip_session_setup_answer
    try:
        conn = _conn(addc)
        with pytest.raises(KerberosError, match="AP-REP"):
            conn.connect(proxy.host, proxy.port, timeout=30)
        assert tampered == [True]
    finally:
        proxy.stop()
    assert proxy.errors == []


def test_smbclient_with_kerberos_reads_what_we_wrote(addc) -> None:
    conn = _conn(addc)
    try:
        assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
        name = "krb-x-%s.txt" % uuid.uuid4().hex[:8]
        conn.storeFile("data", name, io.BytesIO(b"written over Kerberos\n"))
    finally:
        conn.close()
    result = addc.smbclient("data", "get %s /dev/stdout" % name)
    assert result.returncode == 0, result.stderr
    assert "written over Kerberos" in result.stdout


def test_tickets_are_reused_by_the_next_connect(addc) -> None:
    conn = _conn(addc)
    try:
        assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
        first = list(conn.kerberos_settings.tickets)
        conn.close()
        assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
        assert conn.kerberos_settings.tickets == first
    finally:
        conn.close()


def test_no_secrets_in_debug_logs(addc, caplog) -> None:
    caplog.set_level("DEBUG")
    conn = _conn(addc)
    try:
        assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
        key = conn.kerberos_settings.tickets[-1].key.contents
    finally:
        conn.close()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert addc.users["alice"] not in text
    assert key.hex() not in text and repr(key) not in text


def test_tickets_saved_to_a_ccache_that_mit_klist_reads(addc, tmp_path) -> None:
    saved = str(tmp_path / "saved-cc")
    conn = _conn(addc, save_ccache=saved)
    try:
        assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
    finally:
        conn.close()
    assert os.stat(saved).st_mode & 0o777 == 0o600
    listing = addc.klist(saved)
    assert listing.returncode == 0, listing.stderr
    assert "krbtgt/SMBTEST.LAN@SMBTEST.LAN" in listing.stdout
    assert "cifs/dc1.smbtest.lan@SMBTEST.LAN" in listing.stdout
    # ... and smbwire logs on from it, without a password.
    again = SMBConnection("", "", "krbclient", "dc1", is_direct_tcp=True, use_kerberos=True,
                          kdc="127.0.0.1:9", kerberos_ccache=saved)
    try:
        assert again.connect(addc.host, addc.smb_port, timeout=30) is True
    finally:
        again.close()


def test_kdc_found_through_dns_srv_when_asked(addc, tmp_path, monkeypatch) -> None:
    """``kdc='dns'``: the realm's ``_kerberos`` SRV records, from a name server on loopback."""
    import socket
    import struct
    import threading

    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 0))
    dns.settimeout(0.2)
    asked = []
    stop = threading.Event()

    def serve() -> None:
        target = b"".join(bytes([len(p)]) + p.encode() for p in addc.host.split(".")) + b"\0"
        while not stop.is_set():
            try:
                query, peer = dns.recvfrom(512)
            except OSError:
                continue
            question = query[12:]
            asked.append(question)
            rdata = struct.pack(">HHH", 0, 0, addc.kdc_port) + target
            reply = (query[:2] + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0) + question
                     + b"\xc0\x0c" + struct.pack(">HHIH", 33, 1, 60, len(rdata)) + rdata)
            dns.sendto(reply, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n")
    monkeypatch.setattr(krb5_kdc, "RESOLV_CONF", str(resolv))
    monkeypatch.setattr(krb5_kdc, "DNS_PORT", dns.getsockname()[1])
    try:
        conn = _conn(addc, kdc="dns")
        try:
            assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
        finally:
            conn.close()
    finally:
        stop.set()
        thread.join(2)
        dns.close()
    assert asked and b"\x09_kerberos\x04_udp\x07SMBTEST\x03LAN\x00" in asked[0]


def test_kdc_and_realm_from_krb5_config_and_negotiate_by_default(addc, monkeypatch) -> None:
    """No auth=, no kdc=: the realm (domain) and the KDC come from $KRB5_CONFIG, so the
    default is negotiate, and Kerberos is what logs on."""
    monkeypatch.setenv("KRB5_CONFIG", addc.krb5_conf)
    conn = SMBConnection("alice", addc.users["alice"], "krbclient", "dc1", domain=addc.realm, is_direct_tcp=True)
    try:
        assert conn.kerberos_settings.mode(True) == "negotiate"
        assert conn.connect(addc.host, addc.smb_port, timeout=30) is True
        assert conn.kerberos_settings.tickets  # Kerberos was used, not NTLM
    finally:
        conn.close()


@pytest.mark.parametrize("dialect", ["NT1", "SMB3_11"])
def test_asyncio_driver_logs_on_with_kerberos(addc, dialect) -> None:
    """The asyncio connection runs the same logon procedure: the KDC exchanges in a worker
    thread, then SESSION_SETUP with the ticket; signing with the Kerberos key is verified."""
    import asyncio

    from smb import aio

    async def main() -> None:
        conn = aio.SMBConnection("alice", addc.users["alice"], "krbclient", "dc1", domain=addc.realm,
                                 is_direct_tcp=True, use_kerberos=True, kdc=addc.kdc)
        assert await conn.connect(addc.host, addc.smb_port, timeout=30) is True
        async with conn:
            assert conn.is_signing_active is True
            assert conn.kerberos_settings.tickets[-1].server.components == ("cifs", "dc1.smbtest.lan")
            name = "krb-aio-%s.bin" % uuid.uuid4().hex[:10]
            data = os.urandom(1024 * 1024 + 5)
            await conn.storeFile("data", name, io.BytesIO(data))
            out = io.BytesIO()
            await conn.retrieveFile("data", name, out)
            assert out.getvalue() == data
            await conn.deleteFile("data", name)
        wrong = aio.SMBConnection("alice", "not-" + addc.users["alice"], "krbclient", "dc1", domain=addc.realm,
                                  is_direct_tcp=True, use_kerberos=True, kdc=addc.kdc)
        with pytest.raises(KerberosError):
            await wrong.connect(addc.host, addc.smb_port, timeout=30)

    with _protocol(addc, dialect):
        asyncio.run(main())


def test_twisted_driver_logs_on_with_kerberos(addc, twisted_reactor) -> None:
    from twisted.internet.threads import blockingCallFromThread

    from tests.integration.twisted_logon import twisted_logon

    factory = twisted_logon(twisted_reactor, addc.host, addc.smb_port, "alice", addc.users["alice"], "krbclient",
                            "dc1", addc.realm, is_direct_tcp=True, use_kerberos=True, kdc=addc.kdc)
    try:
        assert factory.isReady and factory.instance.is_signing_active
        assert factory.instance.kerberos_settings.tickets
        name = "krb-tw-%s.bin" % uuid.uuid4().hex[:10]
        data = os.urandom(100_000)
        blockingCallFromThread(twisted_reactor, factory.storeFile, "data", name, io.BytesIO(data))
        out = io.BytesIO()
        blockingCallFromThread(twisted_reactor, factory.retrieveFile, "data", name, out)
        assert out.getvalue() == data
        blockingCallFromThread(twisted_reactor, factory.deleteFiles, "data", name)
    finally:
        blockingCallFromThread(twisted_reactor, factory.closeConnection)
