"""NetBIOS name service / session service: exact bytes, hostile input, and the
blocking resolver against a fake UDP responder on 127.0.0.1."""
from __future__ import annotations

import ast
import logging
import os
import random
import socket
import struct
import threading
import time
from typing import Callable, List, Optional, Tuple

import pytest

from smb.exceptions import NotConnectedError, ProtocolError
from nmb import base as nmb_base
from nmb.base import (
    NBNS,
    NEGATIVE_SESSION_RESPONSE,
    POSITIVE_SESSION_RESPONSE,
    RETARGET_SESSION_RESPONSE,
    SESSION_KEEPALIVE,
    SESSION_MESSAGE,
    SESSION_REQUEST,
    build_session_keepalive,
    build_session_request,
    parse_negative_session_response,
    parse_retarget_response,
)
from nmb.NetBIOS import NetBIOS
from nmb.nmb_structs import (
    NameQueryRequest,
    NameQueryResponse,
    NBNSHeader,
    NodeName,
    NodeStatusRequest,
    NodeStatusResponse,
    decode_netbios_name,
    encode_netbios_name,
)

HERE = os.path.dirname(os.path.abspath(__file__))
NMB_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), "nmb")

# RFC 1001 14.1 / RFC 1002 4.1: "FRED" padded with spaces, suffix 0x20.
FRED_32 = b"EGFCEFEECACACACACACACACACACACACA"
FRED = b"\x20" + FRED_32 + b"\x00"
STAR = b"\x20CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00"


# --------------------------------------------------------------------------- name encoding

class TestNameEncoding:
    def test_fred_rfc_example(self) -> None:
        assert encode_netbios_name("FRED") == FRED

    def test_fred_with_scope_rfc1002_example(self) -> None:
        assert encode_netbios_name("FRED", 0x20, "NETBIOS.COM") == (
            b"\x20" + FRED_32 + b"\x07NETBIOS\x03COM\x00")

    def test_lower_case_is_upper_cased(self) -> None:
        assert encode_netbios_name("fred") == FRED

    def test_suffix_is_16th_byte(self) -> None:
        assert encode_netbios_name("FRED", 0x00) == b"\x20" + FRED_32[:30] + b"AA\x00"
        assert encode_netbios_name("WORKGROUP", 0x1B) == (
            b"\x20FHEPFCELEHFCEPFFFACACACACACACABL\x00")

    def test_smbserver(self) -> None:
        assert encode_netbios_name("*SMBSERVER") == b"\x20CKFDENECFDEFFCFGEFFCCACACACACACA\x00"

    def test_wildcard_padded_with_nul(self) -> None:
        assert encode_netbios_name("*", 0x00) == STAR

    def test_long_name_truncated_to_15(self) -> None:
        assert encode_netbios_name("A" * 20) == encode_netbios_name("A" * 15)

    def test_bad_suffix_and_scope(self) -> None:
        with pytest.raises(ValueError):
            encode_netbios_name("FRED", 0x100)
        with pytest.raises(ValueError):
            encode_netbios_name("FRED", 0x20, "A" * 64 + ".COM")

    def test_decode_roundtrip(self) -> None:
        data = b"xx" + encode_netbios_name("FRED", 0x20, "NETBIOS.COM") + b"trailing"
        assert decode_netbios_name(data, 2) == ("FRED", 0x20, "NETBIOS.COM", 2 + 46)
        assert decode_netbios_name(STAR) == ("*", 0x00, "", len(STAR))

    def test_decode_compression_pointer(self) -> None:
        data = FRED + b"\xc0\x00" + b"tail"
        assert decode_netbios_name(data, len(FRED)) == ("FRED", 0x20, "", len(FRED) + 2)

    def test_decode_truncated_at_every_length(self) -> None:
        full = encode_netbios_name("FRED", 0x20, "NETBIOS.COM")
        for cut in range(len(full)):
            with pytest.raises(ProtocolError):
                decode_netbios_name(full[:cut])

    def test_decode_pointer_to_itself(self) -> None:
        with pytest.raises(ProtocolError):
            decode_netbios_name(b"\xc0\x00")

    def test_decode_pointer_loop_backwards(self) -> None:
        # label "A" at 0, then a pointer back to 0: each jump points backwards,
        # the name never ends; must fail, not hang.
        with pytest.raises(ProtocolError):
            decode_netbios_name(b"\x01A\xc0\x00", 0)

    def test_decode_forward_pointer_rejected(self) -> None:
        with pytest.raises(ProtocolError):
            decode_netbios_name(b"\xc0\x02" + FRED)

    def test_decode_bad_labels(self) -> None:
        with pytest.raises(ProtocolError):  # not half-ASCII
            decode_netbios_name(b"\x20" + b"Z" * 32 + b"\x00")
        with pytest.raises(ProtocolError):  # first label must be 32 bytes
            decode_netbios_name(b"\x04FRED\x00")
        with pytest.raises(ProtocolError):  # reserved label type 01
            decode_netbios_name(b"\x40" + FRED)
        with pytest.raises(ProtocolError):
            decode_netbios_name(FRED, 1000)


# --------------------------------------------------------------------------- packets

def test_name_query_request_unicast_bytes() -> None:
    packet = NameQueryRequest(0x1234, "fred").pack()
    assert packet == bytes.fromhex("1234 0100 0001 0000 0000 0000") + FRED + b"\x00\x20\x00\x01"


def test_name_query_request_broadcast_bytes() -> None:
    packet = NameQueryRequest(0x1234, "FRED", broadcast=True).pack()
    assert packet == bytes.fromhex("1234 0110 0001 0000 0000 0000") + FRED + b"\x00\x20\x00\x01"


def test_node_status_request_bytes() -> None:
    assert NodeStatusRequest(0xBEEF).pack() == (
        bytes.fromhex("beef 0000 0001 0000 0000 0000") + STAR + b"\x00\x21\x00\x01")


def _positive_response(trn_id: int = 0x1234) -> bytes:
    return (struct.pack(">6H", trn_id, 0x8500, 0, 1, 0, 0) + FRED
            + bytes.fromhex("0020 0001 000493e0 000c")
            + bytes.fromhex("0000 c0a8010a 8000 0a000001"))


def test_positive_name_query_response() -> None:
    reply = NameQueryResponse.unpack_from(_positive_response())
    assert reply.trn_id == 0x1234
    assert reply.is_positive and reply.rcode == 0
    assert reply.ips == ["192.168.1.10", "10.0.0.1"]
    assert [e.is_group for e in reply.entries] == [False, True]
    assert (reply.name, reply.suffix, reply.ttl) == ("FRED", 0x20, 300000)
    assert reply.pack() == _positive_response()


def test_positive_response_fed_with_trailing_data_and_offset() -> None:
    data = b"\xff" * 3 + _positive_response() + b"garbage"
    assert NameQueryResponse.unpack_from(data, 3).ips == ["192.168.1.10", "10.0.0.1"]


NEGATIVE = (bytes.fromhex("1234 8503 0000 0000 0000 0000") + FRED
            + bytes.fromhex("000a 0001 00000000 0000"))


def test_negative_name_query_response() -> None:
    reply = NameQueryResponse.unpack_from(NEGATIVE)
    assert reply.rcode == 3
    assert not reply.is_positive
    assert reply.ips == []


def _node_status_response(trn_id: int = 0x4321, count: Optional[int] = None) -> bytes:
    entries = [
        (b"SMBWIRETEST    ", 0x20, 0x0400),
        (b"SMBWIRETEST    ", 0x00, 0x0400),
        (b"WORKGROUP      ", 0x00, 0x8400),
        (b"WORKGROUP      ", 0x1E, 0x8400),
    ]
    table = b"".join(n + bytes((s,)) + struct.pack(">H", f) for n, s, f in entries)
    stats = bytes.fromhex("001122aabbcc") + b"\x00" * 40
    rdata = bytes((len(entries) if count is None else count,)) + table + stats
    return (struct.pack(">6H", trn_id, 0x8400, 0, 1, 0, 0) + STAR
            + b"\x00\x21\x00\x01\x00\x00\x00\x00" + struct.pack(">H", len(rdata)) + rdata)


def test_node_status_response() -> None:
    reply = NodeStatusResponse.unpack_from(_node_status_response())
    assert reply.trn_id == 0x4321
    assert [(n.name, n.suffix, n.flags, n.is_group) for n in reply.names] == [
        ("SMBWIRETEST", 0x20, 0x0400, False),
        ("SMBWIRETEST", 0x00, 0x0400, False),
        ("WORKGROUP", 0x00, 0x8400, True),
        ("WORKGROUP", 0x1E, 0x8400, True),
    ]
    assert reply.mac == "00:11:22:aa:bb:cc"
    assert reply.workgroup == "WORKGROUP"
    status = reply.node_status()
    assert status.workgroup == "WORKGROUP" and status.mac == "00:11:22:aa:bb:cc"
    assert nmb_base.host_names(status.names) == ["SMBWIRETEST"]


def test_node_status_response_pack_roundtrip() -> None:
    names = [NodeName.make("HOST", 0x20, 0x0400), NodeName.make("GRP", 0x00, 0x8400)]
    built = NodeStatusResponse.build(7, names, bytes.fromhex("0a0b0c0d0e0f"))
    parsed = NodeStatusResponse.unpack_from(built.pack())
    assert list(parsed.names) == names
    assert parsed.mac == "0a:0b:0c:0d:0e:0f"


@pytest.mark.parametrize("make", [_positive_response, _node_status_response],
                         ids=["name-query", "node-status"])
def test_responses_truncated_at_every_length(make: Callable[[], bytes]) -> None:
    full = make()
    parser = NameQueryResponse if make is _positive_response else NodeStatusResponse
    for cut in range(len(full)):
        with pytest.raises(ProtocolError):
            parser.unpack_from(full[:cut])


def test_counts_larger_than_data() -> None:
    with pytest.raises(ProtocolError, match="NUM_NAMES"):
        NodeStatusResponse.unpack_from(_node_status_response(count=200))
    # ANCOUNT 1 but no answer record
    with pytest.raises(ProtocolError):
        NameQueryResponse.unpack_from(struct.pack(">6H", 1, 0x8500, 0, 1, 0, 0))
    # QDCOUNT 65535 with nothing behind it
    with pytest.raises(ProtocolError):
        NameQueryResponse.unpack_from(struct.pack(">6H", 1, 0x8500, 0xFFFF, 1, 0, 0) + FRED)
    # RDLENGTH larger than the datagram
    bad = bytearray(_positive_response())
    bad[12 + len(FRED) + 8:12 + len(FRED) + 10] = b"\x01\x00"
    with pytest.raises(ProtocolError, match="RDLENGTH"):
        NameQueryResponse.unpack_from(bytes(bad))


def test_malformed_answers() -> None:
    # RDLENGTH not a multiple of 6
    odd = (struct.pack(">6H", 1, 0x8500, 0, 1, 0, 0) + FRED
           + bytes.fromhex("0020 0001 00000000 0005 0000c0a801"))
    with pytest.raises(ProtocolError):
        NameQueryResponse.unpack_from(odd)
    # name query answered with an NBSTAT record / node status with an NB record
    with pytest.raises(ProtocolError):
        NameQueryResponse.unpack_from(_node_status_response())
    with pytest.raises(ProtocolError):
        NodeStatusResponse.unpack_from(_positive_response())
    # a request is not a response
    with pytest.raises(ProtocolError):
        NameQueryResponse.unpack_from(NameQueryRequest(1, "FRED").pack())
    # pointer loop inside a response
    loop = struct.pack(">6H", 1, 0x8500, 0, 1, 0, 0) + b"\xc0\x0c" + b"\x00" * 10
    with pytest.raises(ProtocolError):
        NameQueryResponse.unpack_from(loop)


def test_fuzzed_responses_raise_only_protocol_error() -> None:
    rng = random.Random(1002)
    seeds = [_positive_response(), _node_status_response(), NEGATIVE]
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            del data[rng.randrange(len(data)):]
        for parser in (NameQueryResponse, NodeStatusResponse):
            try:
                parser.unpack_from(bytes(data))
            except ProtocolError:
                pass


def test_header_fields() -> None:
    header = NBNSHeader.unpack_from(bytes.fromhex("1234 8583 0000 0001 0000 0000"))
    assert header.is_response and header.opcode == 0 and header.rcode == 3
    assert header.nm_flags == 0x0580
    with pytest.raises(ProtocolError):
        NBNSHeader.unpack_from(b"\x12\x34\x85")


# --------------------------------------------------------------------------- NBNS matching

def _counter(start: int) -> Callable[[], int]:
    values = iter(range(start, start + 1000))
    return lambda: next(values)


def test_nbns_fresh_ids_and_matching() -> None:
    nbns = NBNS(trn_id_source=_counter(0x1234))
    trn_id, packet = nbns.build_name_query("FRED", broadcast=False)
    assert trn_id == 0x1234 and packet == NameQueryRequest(0x1234, "FRED").pack()
    other_id, _ = nbns.build_node_status_query()
    assert other_id == 0x1235
    assert nbns.receive(_positive_response(0x9999)) is None          # not ours
    assert nbns.receive(packet) is None                              # our own request echoed
    wack = bytearray(_positive_response(0x1234))
    wack[2:4] = b"\xbc\x00"                                          # opcode 7 (WACK)
    assert nbns.receive(bytes(wack)) is None
    reply = nbns.receive(_positive_response(0x1234))
    assert isinstance(reply, NameQueryResponse) and reply.ips[0] == "192.168.1.10"
    status = nbns.receive(_node_status_response(0x1235))
    assert isinstance(status, NodeStatusResponse)
    nbns.forget(0x1234)
    assert nbns.receive(_positive_response(0x1234)) is None
    with pytest.raises(ProtocolError):                               # ours, but malformed
        nbns.receive(_positive_response(0x1235))


def test_nbns_random_ids_differ() -> None:
    nbns = NBNS()
    ids = {nbns.build_name_query("X")[0] for _ in range(50)}
    assert len(ids) == 50


def test_nbns_pysmb_compat_methods() -> None:
    nbns = NBNS()
    assert nbns.prepareNameQuery(0x1234, "FRED", True) == NameQueryRequest(0x1234, "FRED", broadcast=True).pack()
    assert nbns.decodePacket(_positive_response()) == (0x1234, ["192.168.1.10", "10.0.0.1"])
    assert nbns.decodePacket(NEGATIVE) == (0x1234, None)
    assert nbns.prepareNetNameQuery(0xBEEF) == NodeStatusRequest(0xBEEF).pack()
    assert nbns.decodeIPQueryPacket(_node_status_response()) == (0x4321, ["SMBWIRETEST"])


# --------------------------------------------------------------------------- session service

SERVER_20 = b"\x20FDEFFCFGEFFC" + b"CA" * 10 + b"\x00"
CLIENT_00 = b"\x20EDEMEJEFEOFE" + b"CA" * 9 + b"AA\x00"


def test_session_request_bytes() -> None:
    assert build_session_request("server", "client") == b"\x81\x00\x00\x44" + SERVER_20 + CLIENT_00
    smbserver = build_session_request("*SMBSERVER", "CLIENT", 0x20, 0x00)
    assert smbserver[4:] == b"\x20CKFDENECFDEFFCFGEFFCCACACACACACA\x00" + CLIENT_00


def test_session_constants() -> None:
    assert (SESSION_MESSAGE, SESSION_REQUEST, POSITIVE_SESSION_RESPONSE, NEGATIVE_SESSION_RESPONSE,
            RETARGET_SESSION_RESPONSE, SESSION_KEEPALIVE) == (0x00, 0x81, 0x82, 0x83, 0x84, 0x85)
    assert build_session_keepalive() == b"\x85\x00\x00\x00"
    assert nmb_base.NotConnectedError is NotConnectedError


@pytest.mark.parametrize("code,message", [
    (0x80, "Not listening on called name"),
    (0x81, "Not listening for calling name"),
    (0x82, "Called name not present"),
    (0x83, "Called name present, but insufficient resources"),
    (0x8F, "Unspecified error"),
])
def test_negative_session_response(code: int, message: str) -> None:
    assert parse_negative_session_response(bytes((code,))) == (code, message)
    assert parse_negative_session_response(b"\x83\x00\x00\x01" + bytes((code,))) == (code, message)


def test_negative_session_response_bad() -> None:
    with pytest.raises(ProtocolError):
        parse_negative_session_response(b"")
    code, message = parse_negative_session_response(b"\x42")
    assert code == 0x42 and "0x42" in message


def test_retarget_response() -> None:
    assert parse_retarget_response(bytes.fromhex("0a000001008b")) == ("10.0.0.1", 139)
    assert parse_retarget_response(bytes.fromhex("84000006 7f000002 01bd")) == ("127.0.0.2", 445)
    for cut in range(6):
        with pytest.raises(ProtocolError):
            parse_retarget_response(bytes.fromhex("0a000001008b")[:cut])


def test_io_free_modules_import_no_io() -> None:
    for module in ("base.py", "nmb_structs.py", "nmb_constants.py"):
        with open(os.path.join(NMB_DIR, module), encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
        assert not imported & {"socket", "select", "selectors", "threading", "time", "asyncio"}, module


# --------------------------------------------------------------------------- fake responder

class FakeResponder:
    """A UDP name server on 127.0.0.1 driven by a script: ``script(request, addr, sock)``."""

    def __init__(self, script: Callable[[bytes, Tuple[str, int], socket.socket], None],
                 bind: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((bind, 0))
        self.port = self.sock.getsockname()[1]
        self.requests: List[bytes] = []
        self.errors: List[BaseException] = []
        self._script = script
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            self.requests.append(data)
            try:
                self._script(data, addr, self.sock)
            except BaseException as err:  # surfaced by the test, not lost in the thread
                self.errors.append(err)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        assert not self.errors, self.errors


@pytest.fixture
def responder():
    made: List[FakeResponder] = []

    def make(script: Callable[[bytes, Tuple[str, int], socket.socket], None],
             bind: str = "127.0.0.1") -> FakeResponder:
        fake = FakeResponder(script, bind)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.close()


def _trn_id(request: bytes) -> int:
    return struct.unpack_from(">H", request)[0]


def _junk_for(request: bytes) -> List[bytes]:
    trn_id = _trn_id(request)
    return [
        b"junk",                                                   # too short
        _positive_response((trn_id + 1) & 0xFFFF),                 # someone else's answer
        request,                                                   # a request with our id
        _positive_response(trn_id)[:40],                           # ours, truncated
        struct.pack(">6H", trn_id, 0x8500, 0, 1, 0, 0) + b"\xc0\x0c",  # ours, pointer loop
    ]


def test_query_name_ignores_junk_and_takes_late_answer(responder) -> None:
    def script(request: bytes, addr: Tuple[str, int], sock: socket.socket) -> None:
        if len(responder_state) == 0:
            responder_state.append(1)
            for junk in _junk_for(request):
                sock.sendto(junk, addr)
            time.sleep(0.4)
            answer = NameQueryResponse.positive(_trn_id(request), "FRED", ["10.1.2.3", "10.1.2.4"])
            sock.sendto(answer.pack(), addr)

    responder_state: List[int] = []
    fake = responder(script)
    with NetBIOS(broadcast=False) as nb:
        began = time.monotonic()
        ips = nb.queryName("fred", "127.0.0.1", port=fake.port, timeout=5)
        elapsed = time.monotonic() - began
    assert ips == ["10.1.2.3", "10.1.2.4"]
    assert 0.35 < elapsed < 2.0
    request = fake.requests[0]
    header = NBNSHeader.unpack_from(request)
    assert header.flags == 0x0100                      # unicast: RD only, no B flag
    assert decode_netbios_name(request, 12)[:2] == ("FRED", 0x20)


def test_query_name_with_only_junk_times_out_on_deadline(responder) -> None:
    stop = threading.Event()

    def script(request: bytes, addr: Tuple[str, int], sock: socket.socket) -> None:
        def spam() -> None:
            # keep unrelated traffic coming so a per-packet timeout would never expire
            # (bounded, so a broken deadline fails the test instead of hanging it)
            give_up = time.monotonic() + 3.0
            while not stop.is_set() and time.monotonic() < give_up:
                for junk in _junk_for(request):
                    sock.sendto(junk, addr)
                stop.wait(0.05)
        threading.Thread(target=spam, daemon=True).start()

    fake = responder(script)
    try:
        with NetBIOS(broadcast=False) as nb:
            began = time.monotonic()
            assert nb.queryName("FRED", "127.0.0.1", port=fake.port, timeout=1.0) is None
            elapsed = time.monotonic() - began
    finally:
        stop.set()
    assert 0.95 <= elapsed < 1.4


def test_query_name_silence_times_out(responder) -> None:
    fake = responder(lambda request, addr, sock: None)
    with NetBIOS(broadcast=False) as nb:
        began = time.monotonic()
        assert nb.queryName("FRED", "127.0.0.1", port=fake.port, timeout=0.5) is None
        assert 0.45 <= time.monotonic() - began < 0.9


def test_query_name_negative_unicast_returns_none_at_once(responder) -> None:
    def script(request: bytes, addr: Tuple[str, int], sock: socket.socket) -> None:
        sock.sendto(struct.pack(">H", _trn_id(request)) + NEGATIVE[2:], addr)

    fake = responder(script)
    with NetBIOS(broadcast=False) as nb:
        began = time.monotonic()
        assert nb.queryName("NOSUCH", "127.0.0.1", port=fake.port, timeout=5) is None
        assert time.monotonic() - began < 1.0


def test_query_name_broadcast_sets_b_flag(responder) -> None:
    def script(request: bytes, addr: Tuple[str, int], sock: socket.socket) -> None:
        sock.sendto(NameQueryResponse.positive(_trn_id(request), "FRED", ["127.0.0.9"]).pack(), addr)

    fake = responder(script, bind="")
    with NetBIOS(broadcast=True) as nb:
        ips = nb.queryName("FRED", "127.255.255.255", port=fake.port, timeout=3)
    assert ips == ["127.0.0.9"]
    assert NBNSHeader.unpack_from(fake.requests[0]).flags == 0x0110


def test_broadcast_instance_unicast_query_has_no_b_flag(responder) -> None:
    def script(request: bytes, addr: Tuple[str, int], sock: socket.socket) -> None:
        sock.sendto(NameQueryResponse.positive(_trn_id(request), "FRED", ["127.0.0.9"]).pack(), addr)

    fake = responder(script)
    with NetBIOS(broadcast=True) as nb:
        assert nb.queryName("FRED", "127.0.0.1", port=fake.port, timeout=3) == ["127.0.0.9"]
    assert NBNSHeader.unpack_from(fake.requests[0]).flags == 0x0100


def test_node_status_and_ip_for_name(responder) -> None:
    def script(request: bytes, addr: Tuple[str, int], sock: socket.socket) -> None:
        for junk in _junk_for(request):
            sock.sendto(junk, addr)
        sock.sendto(_node_status_response(_trn_id(request)), addr)

    fake = responder(script)
    with NetBIOS(broadcast=False) as nb:
        status = nb.queryNodeStatus("127.0.0.1", port=fake.port, timeout=3)
        names = nb.queryIPForName("127.0.0.1", port=fake.port, timeout=3)
    assert status is not None
    assert status.workgroup == "WORKGROUP"
    assert status.mac == "00:11:22:aa:bb:cc"
    assert [(n.name, n.suffix, n.is_group) for n in status.names][:3] == [
        ("SMBWIRETEST", 0x20, False), ("SMBWIRETEST", 0x00, False), ("WORKGROUP", 0x00, True)]
    assert names == ["SMBWIRETEST"]
    for request in fake.requests:
        header = NBNSHeader.unpack_from(request)
        assert header.flags == 0
        assert request[-4:] == b"\x00\x21\x00\x01"


def test_resend_after_lost_datagram(responder, monkeypatch) -> None:
    import nmb.base as nmb_base
    monkeypatch.setattr(nmb_base, "RETRY_INTERVAL", 0.2)  # the core's retransmission policy

    def script(request: bytes, addr: Tuple[str, int], sock: socket.socket) -> None:
        if len(fake.requests) >= 2:  # drop the first copy
            sock.sendto(NameQueryResponse.positive(_trn_id(request), "FRED", ["10.0.0.7"]).pack(), addr)

    fake = responder(script)
    with NetBIOS(broadcast=False) as nb:
        assert nb.queryName("FRED", "127.0.0.1", port=fake.port, timeout=3) == ["10.0.0.7"]
    assert len(fake.requests) == 2 and fake.requests[0] == fake.requests[1]


def test_malformed_reply_logged_at_debug(responder, caplog) -> None:
    def script(request: bytes, addr: Tuple[str, int], sock: socket.socket) -> None:
        sock.sendto(_positive_response(_trn_id(request))[:30], addr)

    fake = responder(script)
    with caplog.at_level(logging.DEBUG, logger="NMB.NetBIOS"):
        with NetBIOS(broadcast=False) as nb:
            assert nb.queryName("FRED", "127.0.0.1", port=fake.port, timeout=0.3) is None
    assert any("malformed" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


def test_closed_and_argument_errors() -> None:
    nb = NetBIOS(broadcast=False)
    with pytest.raises(ValueError):
        nb.queryName("FRED")
    nb.close()
    nb.close()
    with pytest.raises(NotConnectedError):
        nb.queryName("FRED", "127.0.0.1", timeout=0.1)
    with pytest.raises(NotConnectedError):
        nb.queryIPForName("127.0.0.1", timeout=0.1)
