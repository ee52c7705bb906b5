"""The blocking KDC transport (smb.krb5_kdc.send_to_kdc) against tiny KDC stand-ins on
127.0.0.1: UDP first, TCP for big requests and after KRB_ERR_RESPONSE_TOO_BIG, the next KDC
when one is silent, one deadline, capped TCP lengths; and the settings' name resolution."""
from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Callable, List, Optional, Tuple

import pytest

from smb import krb5_kdc
from smb.exceptions import KerberosError
from smb.krb5_kdc import KerberosSettings, send_to_kdc

TOO_BIG = b"TOO-BIG"


def _code(reply: bytes) -> Optional[int]:
    return 52 if reply == TOO_BIG else None


class StandIn:
    """A UDP and a TCP listener on one port; ``answer(transport, request) -> bytes | None``."""

    def __init__(self, answer: Callable[[str, bytes], Optional[bytes]], tcp_header: Optional[bytes] = None) -> None:
        self.answer = answer
        self.tcp_header = tcp_header
        self.seen: List[Tuple[str, bytes]] = []
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp.listen(4)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._udp, daemon=True), threading.Thread(target=self._tcp, daemon=True)]
        for t in self.threads:
            t.start()

    def _udp(self) -> None:
        self.udp.settimeout(0.1)
        while not self.stop.is_set():
            try:
                data, peer = self.udp.recvfrom(65536)
            except OSError:
                continue
            self.seen.append(("udp", data))
            reply = self.answer("udp", data)
            if reply is not None:
                self.udp.sendto(reply, peer)

    def _tcp(self) -> None:
        self.tcp.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                header = conn.recv(4)
                (length,) = struct.unpack(">I", header)
                data = b""
                while len(data) < length:
                    data += conn.recv(length - len(data))
                self.seen.append(("tcp", data))
                reply = self.answer("tcp", data)
                if reply is None:
                    time.sleep(3)
                    continue
                conn.sendall((self.tcp_header if self.tcp_header is not None else struct.pack(">I", len(reply)))
                             + reply)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(2)
        self.tcp.close()
        self.udp.close()


@pytest.fixture
def stand_ins():
    made: List[StandIn] = []

    def make(answer, **kw) -> StandIn:
        s = StandIn(answer, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_small_requests_go_over_udp(stand_ins) -> None:
    kdc = stand_ins(lambda transport, req: b"reply-" + transport.encode() + b"-" + req)
    reply = send_to_kdc(b"hello", [("127.0.0.1", kdc.port)], time.monotonic() + 5, _code)
    assert reply == b"reply-udp-hello" and kdc.seen == [("udp", b"hello")]


def test_big_requests_go_over_tcp(stand_ins) -> None:
    kdc = stand_ins(lambda transport, req: transport.encode())
    big = b"x" * (krb5_kdc.UDP_LIMIT + 1)
    assert send_to_kdc(big, [("127.0.0.1", kdc.port)], time.monotonic() + 5, _code) == b"tcp"
    assert [t for t, _ in kdc.seen] == ["tcp"]


def test_response_too_big_switches_to_tcp(stand_ins) -> None:
    kdc = stand_ins(lambda transport, req: TOO_BIG if transport == "udp" else b"whole reply")
    assert send_to_kdc(b"req", [("127.0.0.1", kdc.port)], time.monotonic() + 5, _code) == b"whole reply"
    assert [t for t, _ in kdc.seen] == ["udp", "tcp"]


def test_a_silent_kdc_leaves_time_for_the_next(stand_ins) -> None:
    silent = stand_ins(lambda transport, req: None)
    good = stand_ins(lambda transport, req: b"from the second")
    started = time.monotonic()
    reply = send_to_kdc(b"req", [("127.0.0.1", silent.port), ("127.0.0.1", good.port)],
                        time.monotonic() + 20, _code)
    assert reply == b"from the second"
    assert time.monotonic() - started < 20  # one silent KDC costs an attempt, not the deadline
    assert silent.seen and good.seen


def test_nobody_answers_within_the_deadline(stand_ins) -> None:
    silent = stand_ins(lambda transport, req: None)
    with pytest.raises(KerberosError, match="no KDC answered"):
        send_to_kdc(b"req", [("127.0.0.1", silent.port)], time.monotonic() + 1.0, _code)


def test_no_kdc_known() -> None:
    with pytest.raises(KerberosError, match="no KDC known"):
        send_to_kdc(b"req", [], time.monotonic() + 1, _code)


@pytest.mark.parametrize("header", [struct.pack(">I", 0x80000010), struct.pack(">I", 64 * 1024 * 1024)])
def test_hostile_tcp_lengths_are_refused_before_allocating(stand_ins, header) -> None:
    kdc = stand_ins(lambda transport, req: b"x" * 16, tcp_header=header)
    with pytest.raises(KerberosError):
        send_to_kdc(b"x" * 2000, [("127.0.0.1", kdc.port)], time.monotonic() + 5, _code)


# ---------------------------------------------------------------- where settings come from


def _settings(tmp_path, conf: str = "", **kwargs) -> KerberosSettings:
    path = tmp_path / "krb5.conf"
    path.write_text(conf)
    kwargs.setdefault("username", "alice")
    kwargs.setdefault("domain", "")
    return KerberosSettings(kwargs.pop("auth", None), kwargs.pop("username"), kwargs.pop("domain"),
                            krb5_conf=str(path), **kwargs)


def test_realm_from_user_domain_or_conf(tmp_path) -> None:
    assert _settings(tmp_path, username="bob@corp.example").realm() == "CORP.EXAMPLE"
    assert _settings(tmp_path, domain="corp.example").realm() == "CORP.EXAMPLE"
    assert _settings(tmp_path, domain="WORKGROUP").realm() == ""
    conf = "[libdefaults]\n default_realm = LAB.TEST\n"
    assert _settings(tmp_path, conf, domain="WORKGROUP").realm() == "LAB.TEST"


def test_mode_defaults_to_ntlm_without_a_kdc_and_to_negotiate_with_one(tmp_path) -> None:
    assert _settings(tmp_path, domain="corp.example").mode(True) == "ntlm"
    assert _settings(tmp_path, domain="corp.example", kdc="127.0.0.1").mode(True) == "negotiate"
    conf = "[realms]\n CORP.EXAMPLE = {\n  kdc = 127.0.0.9:1088\n }\n"
    s = _settings(tmp_path, conf, domain="corp.example")
    assert s.mode(True) == "negotiate" and s.kdcs("CORP.EXAMPLE") == [("127.0.0.9", 1088)]
    assert _settings(tmp_path, auth="kerberos").mode(True) == "kerberos"
    with pytest.raises(ValueError):
        _settings(tmp_path, auth="basic")


def test_kdc_addresses(tmp_path) -> None:
    s = _settings(tmp_path, domain="x.test", kdc=["10.0.0.1", "kdc.x.test:1088", "[::1]:750"])
    assert s.kdcs("X.TEST") == [("10.0.0.1", 88), ("kdc.x.test", 1088), ("::1", 750)]


def test_service_principal_from_the_name_connected_to(tmp_path) -> None:
    s = _settings(tmp_path, domain="corp.example")
    assert str(s.server_principal("FS1.Corp.Example", "fs1", "CORP.EXAMPLE")) == "cifs/fs1.corp.example@CORP.EXAMPLE"
    assert str(s.server_principal("10.1.2.3", "FS1", "CORP.EXAMPLE")) == "cifs/fs1.corp.example@CORP.EXAMPLE"
    assert str(s.server_principal("10.1.2.3", "fs1.other.example", "CORP.EXAMPLE")) == \
        "cifs/fs1.other.example@CORP.EXAMPLE"
    given = _settings(tmp_path, domain="corp.example", service_principal="cifs/alias.corp.example")
    assert str(given.server_principal("10.1.2.3", "", "CORP.EXAMPLE")) == "cifs/alias.corp.example@CORP.EXAMPLE"
    with pytest.raises(KerberosError):
        s.server_principal("10.1.2.3", "", "CORP.EXAMPLE")


def test_ccache_from_krb5ccname_only_without_other_credentials(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KRB5CCNAME", "FILE:/tmp/some-cc")
    s = _settings(tmp_path, domain="corp.example")
    assert s.ccache_path(have_password=False) == "/tmp/some-cc"
    assert s.ccache_path(have_password=True) is None
    monkeypatch.setenv("KRB5CCNAME", "KEYRING:persistent:1000")
    assert s.ccache_path(have_password=False) is None


def test_dns_is_asked_only_when_told(tmp_path) -> None:
    assert not _settings(tmp_path, domain="corp.example").dns_asked()  # MIT's default true is not "asked"
    assert _settings(tmp_path, domain="corp.example", kdc="dns").dns_asked()
    conf = "[libdefaults]\n dns_lookup_kdc = true\n"
    s = _settings(tmp_path, conf, domain="corp.example")
    assert s.dns_asked() and s.mode(True) == "negotiate"
    assert s.find_kdcs("CORP.EXAMPLE", time.monotonic()) == []  # deadline already passed: no query


def test_nameservers_from_resolv_conf(tmp_path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text("# comment\nsearch x\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\n"
                    "nameserver 1.1.1.1\nnameserver 2.2.2.2\n")
    assert krb5_kdc.nameservers(str(path)) == ["127.0.0.53", "fe80::1", "1.1.1.1"]
    assert krb5_kdc.nameservers(str(tmp_path / "missing")) == []
