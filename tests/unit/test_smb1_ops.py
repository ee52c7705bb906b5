"""Offline tests of :class:`smb._smb1_ops.Smb1Dialect`: exact request bytes, hostile responses.

The server side is scripted here with ``struct`` and the wire classes of
``smb.smb_structs`` (which have their own exact-byte tests); the NTLMv1 response
is the known answer of [MS-NLMP] 4.2.2.2.1.
"""
from __future__ import annotations

import io
import struct
from typing import Any, List

import pytest

from smb import smb_constants as C
from smb import smb_structs as S
from smb._smb1_ops import Smb1Dialect
from smb.base import SMB, SIGN_WHEN_REQUIRED
from smb.exceptions import MalformedResponse, NotConnectedError, OperationFailure, ProtocolError

PID = 0x1234
UID = 0x0800
TID = 7
FID = 0x4000
CHALLENGE = bytes.fromhex("0123456789abcdef")
# [MS-NLMP] 4.2.2.2.1: NTLMv1 NTChallengeResponse for password "Password", challenge above.
NTLMV1_RESPONSE = bytes.fromhex("67c43011f30298a2ad35ece64f16331c44bdbed927841f94")
SERVER_CAPS = (C.CAP_UNICODE | C.CAP_STATUS32 | C.CAP_NT_SMBS | C.CAP_LARGE_FILES
               | C.CAP_LARGE_READX | C.CAP_LARGE_WRITEX)
FLAGS2 = C.SMB_FLAGS2_UNICODE | C.SMB_FLAGS2_NT_STATUS | C.SMB_FLAGS2_LONG_NAMES | C.SMB_FLAGS2_IS_LONG_NAME


def reply_header(mid: int, tid: int = 0, uid: int = 0, status: int = 0, command: int = 0) -> S.Smb1Header:
    return S.Smb1Header(command=command, status=status, flags=C.SMB_FLAGS_REPLY, flags2=FLAGS2,
                        pid_low=PID, tid=tid, uid=uid, mid=mid)


def negotiate_response(security_mode: int = C.NEGOTIATE_USER_SECURITY | C.NEGOTIATE_ENCRYPT_PASSWORDS) -> bytes:
    neg = S.NegotiateResponse(dialect_index=0, security_mode=security_mode, max_mpx_count=50,
                              max_number_vcs=1, max_buffer_size=65535, max_raw_size=65536,
                              capabilities=SERVER_CAPS, challenge=CHALLENGE, domain_name="WORKGROUP",
                              server_name="SERVER")
    return neg.pack(reply_header(0))


def new_core(**kwargs: Any) -> SMB:
    core = SMB("User", "Password", "CLIENT", "SERVER", domain="Domain", use_ntlm_v2=False,
               is_direct_tcp=True, rand=lambda n: b"\x11" * n, **kwargs)
    core.dialect = Smb1Dialect(core, negotiate_response())
    return core


def sent(core: SMB) -> List[bytes]:
    """The SMB messages queued so far, framing header checked and removed."""
    out = []
    for frame in core.frames_to_send():
        raw = b"".join(bytes(p) for p in frame)
        assert struct.unpack(">I", raw[:4])[0] == len(raw) - 4
        out.append(raw[4:])
    return out


def feed(core: SMB, message: bytes) -> None:
    core.receive_frame(memoryview(bytearray(message)))


def logged_on(core: SMB) -> Any:
    op = core.start(core.dialect.session_setup())
    (request,) = sent(core)
    mid = S.Smb1Header.unpack_from(request).mid
    feed(core, S.SessionSetupAndXResponse(action=0, native_os="Unix", native_lanman="Samba",
                                          extended=False).pack(reply_header(mid, uid=UID)))
    assert op.done and op.outcome() is True
    return request


# ---------------------------------------------------------------- exact bytes

def test_session_setup_ntlmv1_exact_bytes():
    core = new_core()
    request = logged_on(core)
    words = struct.pack("<BBHHHHIHHII", 0xFF, 0, 0, 0xFFFF, 50, 0, 0, 24, 24, 0,
                        C.CAP_UNICODE | C.CAP_LARGE_FILES | C.CAP_NT_SMBS | C.CAP_STATUS32 | C.CAP_NT_FIND
                        | C.CAP_LARGE_READX | C.CAP_LARGE_WRITEX)
    # 32 + 1 + 26 + 2 + 48 = 109: odd, so one pad byte before the first Unicode string.
    strings = b"\x00" + "".join(s + "\0" for s in ("User", "Domain", "Unix", "smbwire")).encode("utf-16-le")
    data = NTLMV1_RESPONSE + NTLMV1_RESPONSE + strings
    expected = (b"\xffSMB" + bytes([0x73]) + b"\0\0\0\0" + bytes([0x18]) + struct.pack("<H", FLAGS2)
                + b"\0\0" + b"\0" * 8 + b"\0\0" + struct.pack("<HHHH", 0, PID, 0, 1)
                + bytes([13]) + words + struct.pack("<H", len(data)) + data)
    assert request == expected
    assert core.has_authenticated and core.dialect.session.uid == UID
    assert not core.dialect.session.signing_required


def test_failed_logon_returns_false():
    core = new_core()
    op = core.start(core.dialect.session_setup())
    (request,) = sent(core)
    mid = S.Smb1Header.unpack_from(request).mid
    feed(core, S.build_message(reply_header(mid, status=0xC000006D, command=C.SMB_COM_SESSION_SETUP_ANDX),
                               b"", b""))
    assert op.done and op.outcome() is False
    assert not core.has_authenticated


def _connect_tree(core: SMB) -> None:
    (tc,) = sent(core)
    h = S.Smb1Header.unpack_from(tc)
    assert h.command == C.SMB_COM_TREE_CONNECT_ANDX and h.uid == UID
    feed(core, S.TreeConnectAndXResponse(optional_support=1, service="A:", native_file_system="NTFS")
         .pack(reply_header(h.mid, tid=TID, uid=UID)))


def _answer_chained_open(core: SMB, size: int, first: bytes) -> bytes:
    """Answer the NT_CREATE_ANDX + READ_ANDX chain with an open of ``size``
    bytes and ``first`` as the chained READ's data; return the request."""
    (chain,) = sent(core)
    h, blocks = S.parse_blocks(chain)
    assert [blk.command for blk in blocks] == [C.SMB_COM_NT_CREATE_ANDX, C.SMB_COM_READ_ANDX]
    assert h.tid == TID
    feed(core, S.build_andx_chain(reply_header(h.mid, tid=TID, uid=UID), [
        S.NtCreateAndXResponse(fid=FID, create_disposition=1, ext_file_attributes=0x20, end_of_file=size),
        S.ReadAndXResponse(data=memoryview(first))]))
    return chain


def test_read_exact_bytes_and_data_written_in_order():
    core = new_core()
    logged_on(core)
    out = io.BytesIO()
    op = core.start(core.dialect.retrieve("share", "dir\\f.txt", out, 0, -1, None))
    _connect_tree(core)
    chain = _answer_chained_open(core, 10, b"0123456789")
    # The chained READ_ANDX: last in the chain, FID left to the server (0xFFFF),
    # offset 0, at most 60 KiB.
    words = struct.pack("<BBHHIHHIHI", 0xFF, 0, 0, 0xFFFF, 0, 60 * 1024, 0, 0, 0, 0)
    assert bytes(S.parse_blocks(chain)[1][1].words) == words
    (close,) = sent(core)
    h = S.Smb1Header.unpack_from(close)
    assert h.command == C.SMB_COM_CLOSE and close[33:35] == struct.pack("<H", FID)
    feed(core, S.CloseResponse().pack(reply_header(h.mid, tid=TID, uid=UID)))
    assert op.outcome() == (0x20, 10)
    assert out.getvalue() == b"0123456789"


def test_reads_are_pipelined_and_reassembled_in_order():
    core = new_core()
    logged_on(core)
    chunk = core.dialect.max_read
    size = 3 * chunk + 5
    content = bytes(range(256)) * (size // 256 + 1)
    first = 60 * 1024
    out = io.BytesIO()
    op = core.start(core.dialect.retrieve("share", "big", out, 0, -1, None))
    _connect_tree(core)
    _answer_chained_open(core, size, content[:first])
    reads = sent(core)
    assert len(reads) == 3  # the rest, all in flight at once
    offsets = []
    for r in reads:
        _, words, _ = S.parse_message(r)
        offsets.append(struct.unpack_from("<I", words, 6)[0])
    assert offsets == [first, first + chunk, first + 2 * chunk]
    for r, off in reversed(list(zip(reads, offsets))):  # answered last first
        mid = S.Smb1Header.unpack_from(r).mid
        piece = content[off:min(off + chunk, size)]
        feed(core, S.ReadAndXResponse(data=memoryview(piece)).pack(reply_header(mid, tid=TID, uid=UID)))
    (close,) = sent(core)
    feed(core, S.CloseResponse().pack(reply_header(S.Smb1Header.unpack_from(close).mid, tid=TID, uid=UID)))
    assert op.outcome()[1] == size
    assert out.getvalue() == content[:size]


# ---------------------------------------------------------------- hostile responses

def _echo(core: SMB) -> Any:
    op = core.start(core.dialect.echo(b"ping"))
    (request,) = sent(core)
    return op, request


def test_truncated_response_breaks_the_connection():
    core = new_core()
    logged_on(core)
    op, request = _echo(core)
    good = S.EchoResponse(data=b"ping").pack(reply_header(S.Smb1Header.unpack_from(request).mid))
    with pytest.raises(ProtocolError):
        feed(core, good[:20])
    assert core.broken is not None
    assert op.done and isinstance(op.error, NotConnectedError)


def test_byte_count_past_the_end_is_rejected():
    core = new_core()
    logged_on(core)
    op, request = _echo(core)
    good = S.EchoResponse(data=b"ping").pack(reply_header(S.Smb1Header.unpack_from(request).mid))
    feed(core, good[:-2])  # ByteCount says 4, only 2 bytes follow: the operation parses it
    with pytest.raises(MalformedResponse):
        op.outcome()
    # The frame itself was whole: only that operation fails, the connection goes on.
    assert core.broken is None
    op, request = _echo(core)
    feed(core, S.EchoResponse(data=b"ping").pack(reply_header(S.Smb1Header.unpack_from(request).mid)))
    assert op.outcome() == b"ping"


def test_response_to_a_mid_never_sent():
    core = new_core()
    logged_on(core)
    _, request = _echo(core)
    mid = S.Smb1Header.unpack_from(request).mid
    with pytest.raises(ProtocolError):
        feed(core, S.EchoResponse(data=b"ping").pack(reply_header(mid + 5)))


def test_message_without_reply_flag():
    core = new_core()
    logged_on(core)
    _, request = _echo(core)
    hdr = S.Smb1Header(flags2=FLAGS2, pid_low=PID, mid=S.Smb1Header.unpack_from(request).mid)
    with pytest.raises(ProtocolError):
        feed(core, S.EchoResponse(data=b"ping").pack(hdr))


def _signing_core() -> SMB:
    core = new_core()
    logged_on(core)
    # As after an extended-security logon: MAC key active, next request is sequence 2.
    core.dialect._mac_key = b"K" * 16
    core.dialect._next_seq = 2
    return core


def _sign(message: bytes, seq: int, key: bytes = b"K" * 16) -> bytes:
    sig = S.smb1_signature(key, message, seq)
    return message[:S.SIGNATURE_OFFSET] + sig + message[S.SIGNATURE_OFFSET + 8:]


def test_requests_are_signed_with_sequence_numbers():
    core = _signing_core()
    _, first = _echo(core)
    assert S.smb1_verify_signature(b"K" * 16, first, 2)
    assert S.Smb1Header.unpack_from(first).flags2 & C.SMB_FLAGS2_SMB_SECURITY_SIGNATURE
    feed(core, _sign(S.EchoResponse(data=b"ping").pack(reply_header(S.Smb1Header.unpack_from(first).mid)), 3))
    op, second = _echo(core)
    assert S.smb1_verify_signature(b"K" * 16, second, 4)
    feed(core, _sign(S.EchoResponse(data=b"ping").pack(reply_header(S.Smb1Header.unpack_from(second).mid)), 5))
    assert op.outcome() == b"ping"


@pytest.mark.parametrize("how", ["flipped-bit", "wrong-sequence", "unsigned"])
def test_bad_signature_is_a_protocol_error(how):
    core = _signing_core()
    op, request = _echo(core)
    response = S.EchoResponse(data=b"ping").pack(reply_header(S.Smb1Header.unpack_from(request).mid))
    if how == "flipped-bit":
        signed = bytearray(_sign(response, 3))
        signed[-1] ^= 1
        response = bytes(signed)
    elif how == "wrong-sequence":
        response = _sign(response, 2)
    with pytest.raises(ProtocolError):
        feed(core, response)
    assert core.broken is not None and op.done


def test_operation_failure_carries_status_and_response():
    core = new_core()
    logged_on(core)
    op = core.start(core.dialect.create_directory("share", "a\\b"))
    (tc,) = sent(core)
    feed(core, S.TreeConnectAndXResponse(service="A:").pack(
        reply_header(S.Smb1Header.unpack_from(tc).mid, tid=TID, uid=UID)))
    (mkdir,) = sent(core)
    assert "\\a\\b".encode("utf-16-le") in mkdir
    h = reply_header(S.Smb1Header.unpack_from(mkdir).mid, tid=TID, uid=UID, status=0xC0000035,
                     command=C.SMB_COM_CREATE_DIRECTORY)
    feed(core, S.build_message(h, b"", b""))
    with pytest.raises(OperationFailure) as info:
        op.outcome()
    assert info.value.status == 0xC0000035
    assert "a\\b" in str(info.value) and "OBJECT_NAME_COLLISION" in str(info.value)
    assert info.value.args[1][0].status == 0xC0000035
    assert core.broken is None


def test_transaction_response_in_two_parts_is_reassembled():
    core = new_core()
    logged_on(core)
    op = core.start(core.dialect.set_basic_info("share", "f", "setLastWriteTime", last_write_time=1))
    (tc,) = sent(core)
    feed(core, S.TreeConnectAndXResponse(service="A:").pack(
        reply_header(S.Smb1Header.unpack_from(tc).mid, tid=TID, uid=UID)))
    (trans,) = sent(core)
    mid = S.Smb1Header.unpack_from(trans).mid
    hdr = reply_header(mid, tid=TID, uid=UID)
    part1 = S.TransactionResponsePart(C.SMB_COM_TRANSACTION2, 2, 4, parameters=b"\0\0", data=b"ab")
    part2 = S.TransactionResponsePart(C.SMB_COM_TRANSACTION2, 2, 4, data=b"cd", data_displacement=2)
    feed(core, part1.pack(hdr))
    assert not op.done
    feed(core, part2.pack(hdr))
    assert op.done and op.outcome() is None


def test_negotiate_without_unicode_is_refused():
    neg = S.NegotiateResponse(dialect_index=0, security_mode=3, max_mpx_count=50, max_buffer_size=4356,
                              capabilities=C.CAP_STATUS32, challenge=CHALLENGE).pack(reply_header(0))
    core = SMB("u", "p", "c", "s", is_direct_tcp=True, sign_options=SIGN_WHEN_REQUIRED)
    from smb.exceptions import UnsupportedFeature
    with pytest.raises(UnsupportedFeature):
        Smb1Dialect(core, neg)


def test_limits_follow_capabilities_and_transport():
    core = new_core()
    assert core.dialect.max_read == 1024 * 1024 and core.dialect.max_write == 0x1E000
    netbios = SMB("u", "p", "c", "s", is_direct_tcp=False)
    d = Smb1Dialect(netbios, negotiate_response())
    assert d.max_read == d.max_write == 0x1E000
    assert netbios.framer.max_frame >= d.max_read + 64
