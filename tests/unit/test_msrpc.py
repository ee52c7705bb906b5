"""DCE/RPC for listShares ([C706] 12, [MS-RPCE] 2.2.2, [MS-SRVS] 3.1.4.8):
exact bytes built by hand from the specs."""
from __future__ import annotations

import random
import struct

import pytest

from smb import _msrpc
from smb._msrpc import (
    STYPE_DISKTREE,
    STYPE_IPC,
    STYPE_SPECIAL,
    RpcResponseAssembler,
    build_bind,
    build_net_share_enum_all,
    parse_bind_ack,
    parse_net_share_enum_all_response,
)
from smb.exceptions import OperationFailure, ProtocolError


def h(text: str) -> bytes:
    """Hex with spaces, newlines and '#' comments allowed."""
    lines = [line.split("#", 1)[0] for line in text.splitlines()]
    return bytes.fromhex("".join(lines).replace(" ", ""))


def u(text: str) -> bytes:
    return text.encode("utf-16-le")


# ---- BIND -----------------------------------------------------------------

BIND = h("""
05 00 0b 03 10000000 4800 0000 01000000  # v5.0, BIND, FIRST|LAST, LE drep, frag 72, auth 0, call 1
b810 b810 00000000                       # max_xmit 4280, max_recv 4280, new association
01 00 0000                               # one context element
0000 01 00                               # context id 0, one transfer syntax
c84f324b 7016 d301 1278 5a47bf6ee188     # 4b324fc8-1670-01d3-1278-5a47bf6ee188
0300 0000                                # SRVSVC v3.0
045d888a eb1c c911 9fe8 08002b104860     # 8a885d04-1ceb-11c9-9fe8-08002b104860
02000000                                 # NDR v2
""")


def test_build_bind_exact_bytes() -> None:
    assert build_bind() == BIND
    assert len(BIND) == 72


def test_build_bind_parameters() -> None:
    pdu = build_bind(call_id=7, max_xmit_frag=1024, max_recv_frag=2048)
    assert pdu[12:16] == h("07000000")
    assert pdu[16:20] == h("0004 0008")
    assert pdu[20:] == BIND[20:]


BIND_ACK = h("""
05 00 0c 03 10000000 4400 0000 01000000  # BIND_ACK, frag 68, call 1
b810 b810 f0530000                       # max frags, assoc group 0x53f0
0d00 5c504950455c73727673766300 00       # sec_addr "\\PIPE\\srvsvc\\0", pad to 4
01 00 0000                               # one result
0000 0000                                # acceptance
045d888a eb1c c911 9fe8 08002b104860 02000000
""")


def test_parse_bind_ack_accepted() -> None:
    assert len(BIND_ACK) == 68
    assert parse_bind_ack(BIND_ACK) is None
    assert parse_bind_ack(bytearray(BIND_ACK), call_id=1) is None


def test_parse_bind_ack_wrong_call_id() -> None:
    with pytest.raises(ProtocolError):
        parse_bind_ack(BIND_ACK, call_id=2)


def test_parse_bind_ack_rejected() -> None:
    # provider rejection, abstract syntax not supported, null transfer syntax
    rejected = BIND_ACK[:44] + h("0200 0100") + bytes(20)
    with pytest.raises(OperationFailure) as info:
        parse_bind_ack(rejected)
    assert "abstract syntax not supported" in str(info.value)
    assert "provider rejection" in str(info.value)


def test_parse_bind_ack_other_transfer_syntax() -> None:
    other = BIND_ACK[:48] + bytes(16) + h("01000000")
    with pytest.raises(ProtocolError):
        parse_bind_ack(other)


def test_parse_bind_nak() -> None:
    nak = h("05 00 0d 03 10000000 1500 0000 01000000 0400 01 05 00")
    with pytest.raises(OperationFailure) as info:
        parse_bind_ack(nak)
    assert "protocol version not supported" in str(info.value)


@pytest.mark.parametrize("n", range(len(BIND_ACK)))
def test_bind_ack_truncated(n: int) -> None:
    # Truncated, and also truncated with frag_length patched to match.
    with pytest.raises(ProtocolError):
        parse_bind_ack(BIND_ACK[:n])
    if n >= 16:
        patched = BIND_ACK[:8] + struct.pack("<H", n) + BIND_ACK[10:n]
        with pytest.raises(ProtocolError):
            parse_bind_ack(patched)


@pytest.mark.parametrize("data", [
    BIND_ACK + b"\0",  # trailing bytes
    b"\x04" + BIND_ACK[1:],  # RPC version 4
    BIND_ACK[:4] + h("00000000") + BIND_ACK[8:],  # big-endian drep
    BIND_ACK[:2] + b"\x02" + BIND_ACK[3:],  # a RESPONSE
    BIND_ACK[:40] + h("00 00 0000") + BIND_ACK[44:],  # n_results 0
    BIND_ACK[:40] + h("05 00 0000") + BIND_ACK[44:],  # 5 results in room for 1
    BIND_ACK[:24] + h("ff00") + BIND_ACK[26:],  # sec_addr longer than the PDU
    BIND_ACK[:10] + h("4000") + BIND_ACK[12:],  # auth_length larger than the PDU
], ids=["trailing", "version4", "big-endian", "response", "no-results", "too-many-results",
        "sec-addr-long", "auth-length"])
def test_bind_ack_malformed(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_bind_ack(data)


# ---- REQUEST NetrShareEnum ----------------------------------------------

REQUEST = h("""
05 00 00 03 10000000 6000 0000 02000000  # REQUEST, FIRST|LAST, frag 96, call 2
48000000 0000 0f00                       # alloc_hint 72, context 0, opnum 15
00000200                                 # ServerName: unique pointer
0c000000 00000000 0c000000               # max_count 12, offset 0, actual_count 12
""") + u("\\\\127.0.0.1\0") + h("""
01000000 01000000                        # Level 1, union discriminant 1
04000200                                 # SHARE_INFO_1_CONTAINER* (unique)
00000000 00000000                        # EntriesRead 0, Buffer null
ffffffff                                 # PreferedMaximumLength
08000200 00000000                        # ResumeHandle -> 0
""")


def test_build_net_share_enum_all_exact_bytes() -> None:
    assert build_net_share_enum_all("\\\\127.0.0.1") == REQUEST


def test_build_net_share_enum_all_alignment_and_nulls() -> None:
    # "\\ab" + NUL is 5 characters: 10 bytes, padded by 2 to the next DWORD.
    pdu = build_net_share_enum_all("\\\\ab", call_id=9, resume_handle=None, max_buffer=0x1000)
    stub = pdu[24:]
    assert pdu[12:16] == h("09000000")
    assert stub == (h("00000200 05000000 00000000 05000000") + u("\\\\ab\0") + h("0000")
                    + h("01000000 01000000 04000200 00000000 00000000")
                    + h("00100000 00000000"))
    assert struct.unpack_from("<H", pdu, 8)[0] == len(pdu)
    assert struct.unpack_from("<I", pdu, 16)[0] == len(stub)
    nameless = build_net_share_enum_all(None)[24:]
    assert nameless[:4] == h("00000000") and nameless[4:8] == h("01000000")


# ---- RESPONSE stub ------------------------------------------------------------

def cv_string(text: str) -> bytes:
    """A [string] wchar_t* referent, with its alignment padding."""
    n = len(text) + 1
    data = struct.pack("<III", n, 0, n) + u(text + "\0")
    return data + b"\0" * (-len(data) % 4)


STUB = (
    h("""
    01000000 01000000        # Level 1, discriminant 1
    00000200                 # SHARE_INFO_1_CONTAINER*
    03000000 04000200        # EntriesRead 3, Buffer*
    03000000                 # conformant array: max_count 3
    08000200 00000000 0c000200   # data: name*, STYPE_DISKTREE, remark*
    10000200 03000080 14000200   # IPC$: name*, STYPE_IPC|STYPE_SPECIAL, remark*
    18000200 00000000 1c000200   # public
    """)
    + h("05000000 00000000 05000000") + u("data\0") + h("0000")
    + h("0b000000 00000000 0b000000") + u("Data share\0") + h("0000")
    + h("05000000 00000000 05000000") + u("IPC$\0") + h("0000")
    + h("0c000000 00000000 0c000000") + u("IPC Service\0")
    + h("07000000 00000000 07000000") + u("public\0") + h("0000")
    + h("01000000 00000000 01000000") + u("\0") + h("0000")
    + h("""
    03000000                 # TotalEntries
    20000200 00000000        # ResumeHandle* -> 0
    00000000                 # WERROR_OK
    """)
)
EXPECTED = [
    ("data", STYPE_DISKTREE, "Data share"),
    ("IPC$", STYPE_IPC | STYPE_SPECIAL, "IPC Service"),
    ("public", STYPE_DISKTREE, ""),
]


def test_parse_share_enum_response() -> None:
    shares = parse_net_share_enum_all_response(STUB)
    assert shares == EXPECTED
    assert shares[1][1] == 0x80000003
    assert parse_net_share_enum_all_response(memoryview(bytearray(STUB))) == EXPECTED


def test_parse_share_enum_response_empty_and_null_pointers() -> None:
    empty = h("01000000 01000000 00000200 00000000 00000000 00000000 00000000 00000000")
    assert parse_net_share_enum_all_response(empty) == []
    null_container = h("01000000 01000000 00000000 00000000 00000000 00000000")
    assert parse_net_share_enum_all_response(null_container) == []
    # An entry whose name and remark pointers are null.
    null_strings = h("01000000 01000000 00000200 01000000 04000200 01000000"
                     "00000000 01000000 00000000 01000000 00000000 00000000")
    assert parse_net_share_enum_all_response(null_strings) == [("", 1, "")]


def test_share_enum_werror() -> None:
    denied = STUB[:-4] + h("05000000")
    with pytest.raises(OperationFailure) as info:
        parse_net_share_enum_all_response(denied)
    assert info.value.status == 5
    assert "ERROR_ACCESS_DENIED" in str(info.value)


def test_share_enum_every_truncation() -> None:
    for n in range(len(STUB)):
        with pytest.raises(ProtocolError):
            parse_net_share_enum_all_response(STUB[:n])


OFFSET_STRINGS = 24 + 36  # end of the fixed array


@pytest.mark.parametrize("name, stub", [
    ("trailing bytes", STUB + b"\0\0\0\0"),
    ("level 2", h("02000000") + STUB[4:]),
    ("discriminant mismatch", STUB[:4] + h("02000000") + STUB[8:]),
    ("entries bigger than data", STUB[:12] + h("ffffff0f") + STUB[16:20] + h("ffffff0f") + STUB[24:]),
    ("max_count != EntriesRead", STUB[:20] + h("02000000") + STUB[24:]),
    ("entries with null buffer", STUB[:12] + h("03000000 00000000")),
    ("actual_count > max_count", STUB[:OFFSET_STRINGS] + h("05000000 00000000 06000000")
     + STUB[OFFSET_STRINGS + 12:]),
    ("offset + actual > max_count", STUB[:OFFSET_STRINGS] + h("05000000 01000000 05000000")
     + STUB[OFFSET_STRINGS + 12:]),
    ("huge string", STUB[:OFFSET_STRINGS] + h("ffffffff 00000000 ffffff7f")
     + STUB[OFFSET_STRINGS + 12:]),
    ("padding missing", STUB[:OFFSET_STRINGS + 22] + STUB[OFFSET_STRINGS + 24:]),
    ("odd alignment", b"\0" + STUB),
    ("lone surrogate", STUB[:OFFSET_STRINGS + 12] + h("00d8") + STUB[OFFSET_STRINGS + 14:]),
])
def test_share_enum_malformed(name: str, stub: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_net_share_enum_all_response(stub)


def test_share_enum_random_corruption() -> None:
    rng = random.Random(4321)
    for _ in range(3000):
        data = bytearray(STUB)
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            parse_net_share_enum_all_response(bytes(data))
        except (ProtocolError, OperationFailure):
            pass


# ---- response PDUs and reassembly --------------------------------------------

def response_pdu(stub: bytes, flags: int, call_id: int = 2, alloc_hint: int = 0) -> bytes:
    header = struct.pack("<BBBB4sHHI", 5, 0, 2, flags, b"\x10\0\0\0", 24 + len(stub), 0, call_id)
    return header + struct.pack("<IHBB", alloc_hint or len(stub), 0, 0, 0) + stub


def test_single_fragment_response() -> None:
    pdu = response_pdu(STUB, 0x03)
    assert pdu[:24] == h("05 00 02 03 10000000") + struct.pack("<H", 24 + len(STUB)) + h(
        "0000 02000000") + struct.pack("<I", len(STUB)) + h("0000 00 00")
    asm = RpcResponseAssembler(call_id=2)
    asm.feed(pdu)
    assert asm.done
    assert asm.stub_data == STUB
    assert parse_net_share_enum_all_response(asm.stub_data) == EXPECTED


def two_fragments() -> bytes:
    cut = 50
    return (response_pdu(STUB[:cut], 0x01, alloc_hint=len(STUB))
            + response_pdu(STUB[cut:], 0x02, alloc_hint=len(STUB) - cut))


def test_two_fragments_reassembled() -> None:
    asm = RpcResponseAssembler(call_id=2)
    data = two_fragments()
    first_len = 24 + 50
    asm.feed(data[:first_len])
    assert not asm.done
    asm.feed(data[first_len:])
    assert asm.done
    assert asm.stub_data == STUB
    assert parse_net_share_enum_all_response(asm.stub_data) == EXPECTED


def test_two_fragments_fed_byte_by_byte() -> None:
    asm = RpcResponseAssembler()
    data = two_fragments()
    for i in range(len(data)):
        assert not asm.done
        asm.feed(data[i:i + 1])
    assert asm.done
    assert asm.stub_data == STUB


def test_every_prefix_is_incomplete_not_an_error() -> None:
    data = two_fragments()
    for n in range(len(data)):
        asm = RpcResponseAssembler()
        asm.feed(data[:n])
        assert not asm.done


def test_response_with_auth_trailer() -> None:
    # Stub "ABCDEF", 2 bytes of auth padding, sec_trailer (pad length 2), 16-byte verifier.
    stub = b"ABCDEF"
    trailer = h("0a 06 02 00 00000000") + bytes(16)
    body = stub + b"\0\0" + trailer
    pdu = (struct.pack("<BBBB4sHHI", 5, 0, 2, 3, b"\x10\0\0\0", 24 + len(body), 16, 2)
           + struct.pack("<IHBB", len(stub), 0, 0, 0) + body)
    asm = RpcResponseAssembler()
    asm.feed(pdu)
    assert asm.done and asm.stub_data == stub


FAULT = h("""
05 00 03 23 10000000 2000 0000 02000000  # FAULT, FIRST|LAST|DID_NOT_EXECUTE, frag 32, call 2
20000000 0000 00 00                      # alloc_hint 32, context 0, cancel_count 0
0200011c 00000000                        # status nca_s_op_rng_error, reserved
""")


def test_fault_pdu() -> None:
    asm = RpcResponseAssembler(call_id=2)
    with pytest.raises(OperationFailure) as info:
        asm.feed(FAULT)
    assert info.value.status == 0x1C010002
    assert "0x1c010002" in str(info.value)
    with pytest.raises(ProtocolError):
        asm.feed(b"more")


def test_fault_after_first_fragment() -> None:
    asm = RpcResponseAssembler()
    asm.feed(response_pdu(STUB[:40], 0x01))
    with pytest.raises(OperationFailure):
        asm.feed(FAULT[:10])
        asm.feed(FAULT[10:])


@pytest.mark.parametrize("name, data", [
    ("truncated fault", FAULT[:8] + h("1a00") + FAULT[10:26]),
    ("wrong call id", response_pdu(STUB, 0x03, call_id=3)),
    ("bind ack instead", BIND_ACK[:12] + h("02000000") + BIND_ACK[16:]),
    ("first fragment lacks FIRST_FRAG", response_pdu(STUB, 0x02)),
    ("second fragment has FIRST_FRAG", response_pdu(STUB[:8], 0x01) + response_pdu(STUB[8:], 0x03)),
    ("data after last fragment", response_pdu(STUB, 0x03) + b"\x05"),
    ("frag_length below header", h("05 00 02 03 10000000 0800 0000 02000000")),
    ("response frag_length 20", h("05 00 02 03 10000000 1400 0000 02000000 00000000")),
    ("big-endian drep", response_pdu(STUB, 0x03)[:4] + h("00000000") + response_pdu(STUB, 0x03)[8:]),
    ("auth_length too big", response_pdu(STUB, 0x03)[:10] + h("ffff") + response_pdu(STUB, 0x03)[12:]),
])
def test_assembler_malformed(name: str, data: bytes) -> None:
    asm = RpcResponseAssembler(call_id=2)
    with pytest.raises(ProtocolError):
        asm.feed(data)


def test_auth_padding_larger_than_stub() -> None:
    body = b"AB" + h("0a 06 ff 00 00000000") + bytes(16)
    pdu = (struct.pack("<BBBB4sHHI", 5, 0, 2, 3, b"\x10\0\0\0", 24 + len(body), 16, 2)
           + struct.pack("<IHBB", 2, 0, 0, 0) + body)
    with pytest.raises(ProtocolError):
        RpcResponseAssembler().feed(pdu)


def test_assembler_size_cap() -> None:
    asm = RpcResponseAssembler(max_size=100)
    asm.feed(response_pdu(b"x" * 40, 0x01))
    with pytest.raises(ProtocolError):
        asm.feed(response_pdu(b"y" * 40, 0x02))
    assert _msrpc.MAX_RESPONSE_SIZE == 16 * 1024 * 1024


def test_assembler_cap_counts_unparsed_bytes() -> None:
    # Many small fragments, never the last one: the cap still ends it.
    asm = RpcResponseAssembler(max_size=1000)
    asm.feed(response_pdu(b"a" * 8, 0x01))
    with pytest.raises(ProtocolError):
        for _ in range(100):
            asm.feed(response_pdu(b"a" * 8, 0x00))


def test_share_type_constants() -> None:
    assert (_msrpc.STYPE_DISKTREE, _msrpc.STYPE_PRINTQ, _msrpc.STYPE_DEVICE, _msrpc.STYPE_IPC) == (0, 1, 2, 3)
    assert _msrpc.STYPE_SPECIAL == 0x80000000
    assert _msrpc.STYPE_TEMPORARY == 0x40000000
    assert _msrpc.ShareType.IPC == 3


# ---- bytes captured from Samba 4.17.12 on loopback (smbclient -L, guest) -----

SAMBA_BIND_ACK = bytes.fromhex(
    "05000c03100000004400000001000000b810b810aae700000d005c706970"
    "655c73727673766300000100000000000000045d888aeb1cc9119fe80800"
    "2b10486002000000"
)
SAMBA_SHARE_ENUM_RESPONSE = bytes.fromhex(
    "0500020310000000380100000200000020010000000000000100000001000000"
    "0c0002000300000010000200030000001400020000000000180002001c000200"
    "0000000020000200240002000300008028000200050000000000000005000000"
    "6400610074006100000000000b000000000000000b0000004400610074006100"
    "2000730068006100720065000000000007000000000000000700000070007500"
    "62006c0069006300000000000100000000000000010000000000000005000000"
    "0000000005000000490050004300240000000000230000000000000023000000"
    "4900500043002000530065007200760069006300650020002800530061006d00"
    "62006100200034002e00310037002e00310032002d0044006500620069006100"
    "6e00290000000000030000002c0002000000000000000000"
)


def test_samba_bind_ack() -> None:
    assert parse_bind_ack(SAMBA_BIND_ACK, call_id=1) is None


def test_samba_share_enum_response() -> None:
    asm = RpcResponseAssembler(call_id=2)
    asm.feed(SAMBA_SHARE_ENUM_RESPONSE[:100])
    assert not asm.done
    asm.feed(SAMBA_SHARE_ENUM_RESPONSE[100:])
    assert asm.done
    assert parse_net_share_enum_all_response(asm.stub_data) == [
        ("data", STYPE_DISKTREE, "Data share"),
        ("public", STYPE_DISKTREE, ""),
        ("IPC$", STYPE_IPC | STYPE_SPECIAL, "IPC Service (Samba 4.17.12-Debian)"),
    ]
