"""Transport framing ([MS-SMB2] 2.1, [RFC 1002] 4.3.1) and the SMB2 credit window
([MS-SMB2] 3.2.4.1.5): exact header bytes, limits, stream reassembly, charges."""
from __future__ import annotations

import pytest

from smb._credits import CREDIT_UNIT, CreditWindow
from smb._framing import Framer
from smb.base import SMB
from smb.exceptions import ProtocolError

# ---------------------------------------------------------------------------- headers


@pytest.mark.parametrize("netbios, length, expected", [
    (False, 0, b"\x00\x00\x00\x00"),
    (False, 0x123456, b"\x00\x12\x34\x56"),
    (False, 0xFFFFFF, b"\x00\xff\xff\xff"),
    (True, 5, b"\x00\x00\x00\x05"),
    (True, 0xFFFF, b"\x00\x00\xff\xff"),
    (True, 0x10000, b"\x00\x01\x00\x00"),   # the E bit (17th length bit) in the flags byte
    (True, 0x1FFFF, b"\x00\x01\xff\xff"),
])
def test_header_exact_bytes(netbios: bool, length: int, expected: bytes) -> None:
    assert Framer(netbios=netbios).header(length) == expected


def test_netbios_send_limit_is_17_bits() -> None:
    with pytest.raises(ValueError):
        Framer(netbios=True).header(0x20000)


def test_direct_tcp_send_limit_is_24_bits() -> None:
    framer = Framer(netbios=False)
    assert framer.header(0x20000) == b"\x00\x02\x00\x00"
    with pytest.raises(ValueError):
        framer.header(0x1000000)


def test_frame_prefixes_payload() -> None:
    assert Framer(netbios=False).frame(b"\xfeSMB") == b"\x00\x00\x00\x04\xfeSMB"


@pytest.mark.parametrize("netbios", [False, True])
def test_parse_header_session_message(netbios: bool) -> None:
    framer = Framer(netbios=netbios, max_frame=0x200000)
    assert framer.parse_header(b"\x00\x00\x01\x00") == (0, 256)
    # 24-bit lengths are read on both transports (Samba sends them on 139 too).
    assert framer.parse_header(b"\x00\x10\x00\x00") == (0, 0x100000)


def test_parse_header_caps_at_max_frame() -> None:
    framer = Framer(netbios=False, max_frame=1000)
    assert framer.parse_header(b"\x00\x00\x03\xe8") == (0, 1000)
    with pytest.raises(ProtocolError):
        framer.parse_header(b"\x00\x00\x03\xe9")
    with pytest.raises(ProtocolError):
        framer.parse_header(b"\x00\xff\xff\xff")


def test_parse_header_bad_type_on_direct_tcp() -> None:
    with pytest.raises(ProtocolError):
        Framer(netbios=False).parse_header(b"\x85\x00\x00\x00")
    with pytest.raises(ProtocolError):
        Framer(netbios=False).parse_header(b"\x01\x00\x00\x10")


def test_parse_header_netbios_control_packets() -> None:
    framer = Framer(netbios=True)
    assert framer.parse_header(b"\x85\x00\x00\x00") == (0x85, 0)        # keep-alive
    assert framer.parse_header(b"\x83\x00\x00\x01") == (0x83, 1)        # negative session response


def test_parse_header_truncated() -> None:
    with pytest.raises(ProtocolError):
        Framer(netbios=False).parse_header(b"\x00\x00\x01")


# ---------------------------------------------------------------------------- stream mode

FRAME_A = b"\x00\x00\x00\x05hello"
FRAME_B = b"\x00\x00\x00\x03abc"
KEEPALIVE = b"\x85\x00\x00\x00"


def _drain(framer: Framer) -> list:
    out = []
    while True:
        item = framer.next_frame()
        if item is None:
            return out
        out.append(item)


@pytest.mark.parametrize("netbios", [False, True])
def test_stream_whole(netbios: bool) -> None:
    framer = Framer(netbios=netbios)
    framer.feed(FRAME_A + FRAME_B)
    assert _drain(framer) == [(0, b"hello"), (0, b"abc")]


@pytest.mark.parametrize("netbios", [False, True])
def test_stream_byte_by_byte(netbios: bool) -> None:
    framer = Framer(netbios=netbios)
    got = []
    stream = FRAME_A + FRAME_B
    for i in range(len(stream)):
        framer.feed(stream[i:i + 1])
        item = framer.next_frame()
        if item is not None:
            got.append((i, item))
    assert got == [(len(FRAME_A) - 1, (0, b"hello")), (len(stream) - 1, (0, b"abc"))]


def test_stream_trailing_partial_frame_stays_buffered() -> None:
    framer = Framer(netbios=False)
    framer.feed(FRAME_A + FRAME_B[:5])
    assert _drain(framer) == [(0, b"hello")]
    framer.feed(FRAME_B[5:])
    assert _drain(framer) == [(0, b"abc")]


def test_stream_empty_frame() -> None:
    framer = Framer(netbios=False)
    framer.feed(b"\x00\x00\x00\x00" + FRAME_B)
    assert _drain(framer) == [(0, b""), (0, b"abc")]


def test_stream_keepalives_do_not_desync() -> None:
    framer = Framer(netbios=True)
    framer.feed(KEEPALIVE + FRAME_A + KEEPALIVE + KEEPALIVE + FRAME_B)
    frames = _drain(framer)
    assert [f for f in frames if f[0] == 0] == [(0, b"hello"), (0, b"abc")]
    assert all(f == (0x85, b"") for f in frames if f[0] != 0)


def test_stream_oversized_frame_rejected_from_header_alone() -> None:
    framer = Framer(netbios=False, max_frame=64)
    framer.feed(b"\x00\x00\x00\x41")     # 65 bytes announced, nothing else sent yet
    with pytest.raises(ProtocolError):
        framer.next_frame()


def test_stream_bad_type_on_direct_tcp() -> None:
    framer = Framer(netbios=False)
    framer.feed(KEEPALIVE)
    with pytest.raises(ProtocolError):
        framer.next_frame()


def test_core_receive_data_skips_keepalives() -> None:
    # A keep-alive before NEGOTIATE is no SMB data: the core must not complain.
    core = SMB("u", "p", "me", "srv", is_direct_tcp=False)
    core.receive_data(KEEPALIVE + KEEPALIVE)
    assert core.broken is None


def test_core_receive_data_before_negotiate_breaks() -> None:
    core = SMB("u", "p", "me", "srv", is_direct_tcp=True)
    with pytest.raises(ProtocolError):
        core.receive_data(FRAME_A)
    assert isinstance(core.broken, ProtocolError)


# ---------------------------------------------------------------------------- credits


def test_credit_window_initial_state() -> None:
    w = CreditWindow()
    assert (w.next_message_id, w.available, w.large_mtu) == (0, 1, False)


@pytest.mark.parametrize("size", [0, 1, CREDIT_UNIT, CREDIT_UNIT + 1, 8 * 1024 * 1024])
def test_charge_without_large_mtu_is_always_one(size: int) -> None:
    assert CreditWindow().charge_for(size) == 1


@pytest.mark.parametrize("size, charge", [
    (0, 1), (1, 1), (65536, 1), (65537, 2), (131072, 2), (131073, 3),
    (1024 * 1024, 16), (8 * 1024 * 1024, 128), (8 * 1024 * 1024 + 1, 129),
])
def test_charge_with_large_mtu_one_per_started_64k(size: int, charge: int) -> None:
    w = CreditWindow()
    w.large_mtu = True
    assert w.charge_for(size) == charge


def test_take_advances_message_id_by_charge() -> None:
    w = CreditWindow()
    assert w.take(1) == 0
    assert (w.next_message_id, w.available) == (1, 0)
    w.grant(10)
    assert w.available == 10
    assert w.take(3) == 1
    assert w.take(1) == 4
    assert (w.next_message_id, w.available) == (5, 6)


def test_take_beyond_available_raises_and_changes_nothing() -> None:
    w = CreditWindow()
    w.take(1)
    with pytest.raises(ProtocolError):
        w.take(1)
    w.grant(2)
    assert not w.can_send(3)
    assert w.can_send(2)
    with pytest.raises(ProtocolError):
        w.take(3)
    assert (w.next_message_id, w.available) == (1, 2)


def test_grant_zero_keeps_window() -> None:
    w = CreditWindow()
    w.grant(0)
    assert w.available == 1


@pytest.mark.parametrize("available, charge, expected", [
    (1, 1, 256),       # far below the target: ask for a big step (capped at 256)
    (1, 300, 300),     # never less than the request's own charge
    (500, 1, 12),      # close to the target: ask just for the gap
    (512, 1, 1),       # at the target: replace what we spend
    (900, 4, 4),       # above the target
])
def test_request_for(available: int, charge: int, expected: int) -> None:
    w = CreditWindow(target=512)
    w.available = available
    assert w.request_for(charge) == expected
