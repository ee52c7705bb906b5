"""SMB2 wire messages against hand-built bytes ([MS-SMB2] 2.2).

Expected bytes are written field by field (``le(value, width)``) from the
spec's layouts, independently of the struct formats in the module.
"""
from __future__ import annotations

import random

import pytest

from smb.exceptions import ProtocolError
from smb import smb2_constants as c
from smb.smb2_structs import (
    HEADER_STRUCT,
    CancelRequest,
    CloseRequest,
    CloseResponse,
    CreateRequest,
    CreateResponse,
    EchoRequest,
    EchoResponse,
    EncryptionCapabilities,
    ErrorResponse,
    FlushRequest,
    FlushResponse,
    IoctlRequest,
    IoctlResponse,
    LeaseBreakNotification,
    LogoffRequest,
    LogoffResponse,
    NegotiateContext,
    NegotiateRequest,
    NegotiateResponse,
    NetnameContext,
    OplockBreakAcknowledgment,
    OplockBreakNotification,
    PreauthIntegrityCapabilities,
    QueryDirectoryRequest,
    QueryDirectoryResponse,
    QueryInfoRequest,
    QueryInfoResponse,
    ReadRequest,
    ReadResponse,
    SessionSetupRequest,
    SessionSetupResponse,
    SetInfoRequest,
    SetInfoResponse,
    SigningCapabilities,
    Smb2Header,
    TransformHeader,
    TreeConnectRequest,
    TreeConnectResponse,
    TreeDisconnectRequest,
    TreeDisconnectResponse,
    ValidateNegotiateInfoRequest,
    ValidateNegotiateInfoResponse,
    WriteRequest,
    WriteResponse,
    is_error_response,
)


def le(value: int, width: int) -> bytes:
    return value.to_bytes(width, "little")


def u16(s: str) -> bytes:
    return s.encode("utf-16-le")


FILE_ID = bytes(range(0x10, 0x20))
GUID = bytes(range(16))
# A response header: we only need 64 bytes in front of the body; the body
# parsers do not look at it, so make it obviously "not zero".
RESP_HEADER = bytes.fromhex(
    "fe534d42" "4000" "0100" "00000000" "0000" "0100" "01000000" "00000000"
    "0100000000000000" "fffe0000" "01000000" "0100000000000000") + b"\xee" * 16
assert len(RESP_HEADER) == 64


def msg(body: bytes) -> bytes:
    return RESP_HEADER + body


def assert_truncations_fail(parse, full: bytes, minimal: int) -> None:
    """Every prefix shorter than ``minimal`` must raise ProtocolError."""
    for n in range(minimal):
        with pytest.raises(ProtocolError):
            parse(full[:n])


# ---------------------------------------------------------------------------
# header

SYNC_HEADER = bytes.fromhex(
    "fe534d42"            # ProtocolId
    "4000"                # StructureSize 64
    "0100"                # CreditCharge 1
    "00000000"            # Status
    "0500"                # Command CREATE
    "1f00"                # CreditRequest 31
    "08000000"            # Flags SIGNED
    "00000000"            # NextCommand
    "0700000000000000"    # MessageId 7
    "fffe0000"            # Reserved/ProcessId 0xFEFF
    "44332211"            # TreeId
    "0807060504030201"    # SessionId
) + bytes(range(0xA0, 0xB0))  # Signature

ASYNC_HEADER = bytes.fromhex(
    "fe534d42" "4000" "0000"
    "03010000"            # STATUS_PENDING
    "0800"                # READ
    "0100"                # CreditResponse 1
    "03000000"            # SERVER_TO_REDIR | ASYNC_COMMAND
    "00000000"
    "0900000000000000"    # MessageId 9
    "0100000008000000"    # AsyncId 0x0000000800000001
    "1122334455667788"    # SessionId
) + b"\0" * 16


def test_header_pack_sync():
    h = Smb2Header(c.Smb2Command.CREATE, credit_charge=1, credits=31, flags=c.Smb2Flags.SIGNED,
                   message_id=7, tree_id=0x11223344, session_id=0x0102030405060708,
                   signature=bytes(range(0xA0, 0xB0)))
    assert h.pack() == SYNC_HEADER
    assert HEADER_STRUCT.size == 64


def test_header_pack_async_puts_async_id_over_pid_and_tid():
    h = Smb2Header(c.Smb2Command.READ, status=0x103, credits=1, flags=3, message_id=9,
                   async_id=0x0000000800000001, tree_id=0xDEAD, session_id=0x8877665544332211)
    assert h.pack() == ASYNC_HEADER


def test_header_pack_into():
    h = Smb2Header.unpack_from(SYNC_HEADER)
    buf = bytearray(b"\x55" * 70)
    h.pack_into(buf, 3)
    assert bytes(buf[3:67]) == SYNC_HEADER
    assert buf[:3] == b"\x55" * 3 and buf[67:] == b"\x55" * 3


def test_header_unpack_sync_and_async():
    h = Smb2Header.unpack_from(SYNC_HEADER + b"trailing")
    assert (h.command, h.credit_charge, h.status, h.credits, h.flags, h.next_command,
            h.message_id, h.process_id, h.tree_id, h.session_id, h.async_id) == (
        5, 1, 0, 31, 8, 0, 7, 0xFEFF, 0x11223344, 0x0102030405060708, 0)
    assert h.signature == bytes(range(0xA0, 0xB0))
    a = Smb2Header.unpack_from(ASYNC_HEADER)
    assert (a.async_id, a.tree_id, a.status, a.flags) == (0x0000000800000001, 0, 0x103, 3)
    assert a.pack() == ASYNC_HEADER
    # at an offset inside a larger buffer (compound / after framing)
    assert Smb2Header.unpack_from(b"\0\0\0\0" + SYNC_HEADER, 4) == h


def test_header_rejects_bad_input():
    assert_truncations_fail(Smb2Header.unpack_from, SYNC_HEADER, 64)
    with pytest.raises(ProtocolError):
        Smb2Header.unpack_from(b"\xffSMB" + SYNC_HEADER[4:])
    with pytest.raises(ProtocolError):
        Smb2Header.unpack_from(b"\xfdSMB" + SYNC_HEADER[4:])
    with pytest.raises(ProtocolError):
        Smb2Header.unpack_from(SYNC_HEADER[:4] + b"\x41\x00" + SYNC_HEADER[6:])
    with pytest.raises(ProtocolError):
        Smb2Header.unpack_from(SYNC_HEADER, 1)


# ---------------------------------------------------------------------------
# negotiate

def test_negotiate_request_spec_example_4_3():
    # [MS-SMB2] 4.3: one dialect 0x0202, SecurityMode signing enabled, no caps,
    # zero GUID, StartTime 0.
    req = NegotiateRequest((c.Dialect.SMB_2_0_2,), c.SecurityMode.SIGNING_ENABLED, 0, b"\0" * 16)
    assert req.pack() == (le(36, 2) + le(1, 2) + le(1, 2) + le(0, 2) + le(0, 4) + b"\0" * 16
                          + le(0, 8) + le(0x0202, 2))


def _preauth_ctx_bytes(salt: bytes) -> bytes:
    data = le(1, 2) + le(len(salt), 2) + le(1, 2) + salt
    return le(1, 2) + le(len(data), 2) + le(0, 4) + data


def test_negotiate_request_311_contexts_aligned():
    salt = b"\xaa" * 32
    dialects = (0x0202, 0x0210, 0x0300, 0x0302, 0x0311)
    req = NegotiateRequest(
        dialects, 1, c.GlobalCapabilities.DFS | c.GlobalCapabilities.ENCRYPTION, GUID,
        (PreauthIntegrityCapabilities((c.HashAlgorithm.SHA_512,), salt).to_context(),
         EncryptionCapabilities((c.Cipher.AES_128_GCM, c.Cipher.AES_128_CCM)).to_context(),
         SigningCapabilities((c.SigningAlgorithm.AES_CMAC,)).to_context(),
         NetnameContext("srv").to_context()))
    # 64 + 36 + 10 = 110 -> contexts at 112 (0x70) after 2 bytes of padding.
    expected = (le(36, 2) + le(5, 2) + le(1, 2) + le(0, 2) + le(0x41, 4) + GUID
                + le(0x70, 4) + le(4, 2) + le(0, 2)
                + b"".join(le(d, 2) for d in dialects) + b"\0\0"
                + _preauth_ctx_bytes(salt) + b"\0\0"                       # 46 -> 48
                + le(2, 2) + le(6, 2) + le(0, 4) + le(2, 2) + le(2, 2) + le(1, 2)
                + b"\0\0"                                                  # 14 -> 16
                + le(8, 2) + le(4, 2) + le(0, 4) + le(1, 2) + le(1, 2)
                + b"\0\0\0\0"                                              # 12 -> 16
                + le(5, 2) + le(6, 2) + le(0, 4) + u16("srv"))             # no pad at end
    assert req.pack() == expected


def test_negotiate_request_drops_contexts_without_311():
    ctx = EncryptionCapabilities((1,)).to_context()
    body = NegotiateRequest((0x0202, 0x0210), 1, 0, GUID, (ctx,)).pack()
    assert len(body) == 36 + 4
    assert body[28:36] == b"\0" * 8


def _negotiate_response_311(sb_off=0x80, ctx_off=0x88, ctx_count=2) -> bytes:
    salt = bytes(range(32))
    body = (le(65, 2) + le(3, 2) + le(0x0311, 2) + le(ctx_count, 2) + GUID
            + le(0x2F, 4) + le(0x800000, 4) + le(0x800000, 4) + le(0x800000, 4)
            + le(0x01D0000000000001, 8) + le(0, 8) + le(sb_off, 2) + le(4, 2) + le(ctx_off, 4))
    body += b"\x60\x02\x30\x00" + b"\0" * 4
    body += _preauth_ctx_bytes(salt) + b"\0\0"
    body += le(2, 2) + le(4, 2) + le(0, 4) + le(1, 2) + le(2, 2)
    return msg(body)


def test_negotiate_response_311():
    m = _negotiate_response_311()
    assert len(m) == 64 + 64 + 8 + 46 + 2 + 12
    r = NegotiateResponse.unpack_from(m)
    assert (r.security_mode, r.dialect_revision, r.server_guid, r.capabilities,
            r.max_transact_size, r.max_read_size, r.max_write_size, r.system_time,
            r.server_start_time) == (3, 0x0311, GUID, 0x2F, 0x800000, 0x800000, 0x800000,
                                     0x01D0000000000001, 0)
    assert bytes(r.security_buffer) == b"\x60\x02\x30\x00"
    assert isinstance(r.security_buffer, memoryview)
    assert [x.context_type for x in r.negotiate_contexts] == [1, 2]
    pre = PreauthIntegrityCapabilities.from_context(r.negotiate_contexts[0])
    assert pre == PreauthIntegrityCapabilities((1,), bytes(range(32)))
    assert EncryptionCapabilities.from_context(r.negotiate_contexts[1]).ciphers == (2,)
    assert NegotiateResponse.unpack_from(m + b"\0" * 9) == r
    assert_truncations_fail(NegotiateResponse.unpack_from, m, len(m))


def test_negotiate_response_21_ignores_reserved_context_fields():
    body = (le(65, 2) + le(1, 2) + le(0x0210, 2) + le(7, 2) + GUID + le(7, 4) + le(65536, 4) * 3
            + le(0, 8) * 2 + le(0x80, 2) + le(2, 2) + le(0xFFFFFFFF, 4) + b"\xa1\x00")
    r = NegotiateResponse.unpack_from(msg(body))
    assert r.dialect_revision == 0x0210 and r.negotiate_contexts == ()
    assert bytes(r.security_buffer) == b"\xa1\x00"


@pytest.mark.parametrize("kwargs", [
    {"sb_off": 0x40},          # overlaps the fixed part
    {"sb_off": 0x10},          # overlaps the header
    {"sb_off": 0xFFFF},        # past the end
    {"ctx_off": 0x20},         # contexts over the header
    {"ctx_off": 0x7FFFFFFF},   # contexts past the end
    {"ctx_count": 3},          # more contexts than there are bytes
])
def test_negotiate_response_hostile_offsets(kwargs):
    with pytest.raises(ProtocolError):
        NegotiateResponse.unpack_from(_negotiate_response_311(**kwargs))


def test_context_helpers_round_trip_and_reject_garbage():
    for helper in (PreauthIntegrityCapabilities((1, 2), b"salt"), EncryptionCapabilities((4, 3)),
                   SigningCapabilities((2, 1, 0)), NetnameContext("server.example")):
        assert type(helper).from_context(helper.to_context()) == helper
    assert NetnameContext.from_context(NegotiateContext(5, u16("srv\0"))).name == "srv"
    bad = [
        (PreauthIntegrityCapabilities, NegotiateContext(1, le(2, 2) + le(0, 2) + le(1, 2))),
        (PreauthIntegrityCapabilities, NegotiateContext(1, le(1, 2) + le(9, 2) + le(1, 2))),
        (PreauthIntegrityCapabilities, NegotiateContext(1, b"\x01")),
        (EncryptionCapabilities, NegotiateContext(2, le(3, 2) + le(1, 2))),
        (EncryptionCapabilities, NegotiateContext(2, b"")),
        (SigningCapabilities, NegotiateContext(8, le(1, 2))),
        (EncryptionCapabilities, NegotiateContext(8, le(1, 2) + le(1, 2))),  # wrong type
        (NetnameContext, NegotiateContext(5, b"abc")),                      # odd UTF-16
        (NetnameContext, NegotiateContext(5, b"\x00\xd8")),                 # lone surrogate
    ]
    for helper, ctx in bad:
        with pytest.raises(ProtocolError):
            helper.from_context(ctx)


# ---------------------------------------------------------------------------
# session setup, logoff, tree connect

def test_session_setup_request():
    blob = b"NTLMSSP\0\x01\x00\x00\x00"
    body = SessionSetupRequest(blob, security_mode=1, capabilities=1).pack()
    assert body == (le(25, 2) + b"\x00" + b"\x01" + le(1, 4) + le(0, 4) + le(0x58, 2)
                    + le(len(blob), 2) + le(0, 8) + blob)
    bound = SessionSetupRequest(blob, flags=1, security_mode=2, channel=0,
                                previous_session_id=0x1122).pack()
    assert bound[2:4] == b"\x01\x02" and bound[16:24] == le(0x1122, 8)


def test_session_setup_response():
    m = msg(le(9, 2) + le(1, 2) + le(0x48, 2) + le(4, 2) + b"\xa1\x07\x30\x05")
    r = SessionSetupResponse.unpack_from(m)
    assert r.session_flags == c.SessionFlags.IS_GUEST
    assert bytes(r.security_buffer) == b"\xa1\x07\x30\x05"
    assert SessionSetupResponse.unpack_from(m + b"xyz") == r
    assert_truncations_fail(SessionSetupResponse.unpack_from, m, len(m))
    empty = SessionSetupResponse.unpack_from(msg(le(9, 2) + le(0, 2) + le(0, 2) + le(0, 2)))
    assert bytes(empty.security_buffer) == b""
    for off, length in ((0x40, 4), (0x47, 4), (0x48, 5), (0x10, 4), (0xFFFF, 1)):
        with pytest.raises(ProtocolError):
            SessionSetupResponse.unpack_from(
                msg(le(9, 2) + le(0, 2) + le(off, 2) + le(length, 2) + b"abcd"))


def test_empty_bodies():
    four = le(4, 2) + le(0, 2)
    for req in (LogoffRequest(), TreeDisconnectRequest(), EchoRequest(), CancelRequest()):
        assert req.pack() == four
    for resp in (LogoffResponse, TreeDisconnectResponse, FlushResponse, EchoResponse):
        assert resp.unpack_from(msg(four)) == resp()
        assert_truncations_fail(resp.unpack_from, msg(four), 68)
        with pytest.raises(ProtocolError):
            resp.unpack_from(msg(le(2, 2) + le(0, 2)))
    assert SetInfoResponse.unpack_from(msg(le(2, 2))) == SetInfoResponse()
    assert_truncations_fail(SetInfoResponse.unpack_from, msg(le(2, 2)), 66)
    with pytest.raises(ProtocolError):
        SetInfoResponse.unpack_from(msg(four))


def test_tree_connect_request():
    path = "\\\\127.0.0.1\\IPC$"
    assert TreeConnectRequest(path).pack() == (le(9, 2) + le(0, 2) + le(0x48, 2)
                                               + le(2 * len(path), 2) + u16(path))


def test_tree_connect_response():
    m = msg(le(16, 2) + b"\x01\x00" + le(0x8000, 4) + le(0x8, 4) + le(0x001F01FF, 4))
    r = TreeConnectResponse.unpack_from(m)
    assert r == TreeConnectResponse(c.ShareType.DISK, c.ShareFlags.ENCRYPT_DATA,
                                    c.ShareCapabilities.DFS, 0x001F01FF)
    assert TreeConnectResponse.unpack_from(m + b"\0") == r
    assert_truncations_fail(TreeConnectResponse.unpack_from, m, len(m))


# ---------------------------------------------------------------------------
# create, close, flush

def _create_fixed(name_len: int, ctx_off: int = 0, ctx_len: int = 0) -> bytes:
    return (le(57, 2) + b"\x00" + b"\x00" + le(2, 4) + le(0, 8) + le(0, 8)
            + le(0x00120089, 4) + le(0, 4) + le(7, 4) + le(1, 4) + le(0x40, 4)
            + le(0x78, 2) + le(name_len, 2) + le(ctx_off, 4) + le(ctx_len, 4))


def test_create_request():
    name = "dir\\a.txt"
    req = CreateRequest(name, 0x00120089, share_access=7, create_disposition=1,
                        create_options=0x40)
    assert req.pack() == _create_fixed(18) + u16(name)


def test_create_request_empty_name_has_one_byte_buffer():
    req = CreateRequest("", 0x00120089, share_access=7, create_options=0x40)
    assert req.pack() == _create_fixed(0) + b"\0"
    assert len(req.pack()) == 57


def test_create_request_contexts_are_8_aligned():
    req = CreateRequest("a", 0x00120089, share_access=7, create_options=0x40,
                        create_contexts=b"CTXDATA!")
    # name at 0x78 (2 bytes) -> contexts at 0x80 after 6 bytes of padding
    assert req.pack() == _create_fixed(2, 0x80, 8) + u16("a") + b"\0" * 6 + b"CTXDATA!"


def _create_response(ctx_off: int = 0, ctx_len: int = 0, extra: bytes = b"") -> bytes:
    return msg(le(89, 2) + b"\x01" + b"\x00" + le(1, 4)
               + le(0x01D0000000000001, 8) + le(0x01D0000000000002, 8)
               + le(0x01D0000000000003, 8) + le(0x01D0000000000004, 8)
               + le(4096, 8) + le(1234, 8) + le(0x20, 4) + le(0, 4) + FILE_ID
               + le(ctx_off, 4) + le(ctx_len, 4) + extra)


def test_create_response():
    m = _create_response()
    r = CreateResponse.unpack_from(m)
    assert r == CreateResponse(1, 0, 1, 0x01D0000000000001, 0x01D0000000000002,
                               0x01D0000000000003, 0x01D0000000000004, 4096, 1234, 0x20,
                               FILE_ID, memoryview(b""))
    assert CreateResponse.unpack_from(m + b"\0") == r
    assert_truncations_fail(CreateResponse.unpack_from, m, len(m))
    with_ctx = _create_response(0x98, 8, b"CONTEXTS")
    assert bytes(CreateResponse.unpack_from(with_ctx).create_contexts) == b"CONTEXTS"
    assert_truncations_fail(CreateResponse.unpack_from, with_ctx, len(with_ctx))
    for off in (0x90, 0x20, 0x99, 0xFFFFFFF0):
        with pytest.raises(ProtocolError):
            CreateResponse.unpack_from(_create_response(off, 8, b"CONTEXTS"))


def test_close_and_flush_requests():
    assert CloseRequest(FILE_ID, c.CloseFlags.POSTQUERY_ATTRIB).pack() == (
        le(24, 2) + le(1, 2) + le(0, 4) + FILE_ID)
    assert FlushRequest(FILE_ID).pack() == le(24, 2) + le(0, 2) + le(0, 4) + FILE_ID
    with pytest.raises(ValueError):
        CloseRequest(b"short").pack()


def test_close_response():
    m = msg(le(60, 2) + le(1, 2) + le(0, 4) + le(11, 8) + le(12, 8) + le(13, 8) + le(14, 8)
            + le(8192, 8) + le(5000, 8) + le(0x80, 4))
    r = CloseResponse.unpack_from(m)
    assert r == CloseResponse(1, 11, 12, 13, 14, 8192, 5000, 0x80)
    assert_truncations_fail(CloseResponse.unpack_from, m, len(m))


# ---------------------------------------------------------------------------
# read, write

def test_read_request():
    req = ReadRequest(FILE_ID, offset=0x10000, length=0x10000, minimum_count=1)
    assert req.pack() == (le(49, 2) + b"\x50" + b"\x00" + le(0x10000, 4) + le(0x10000, 8)
                          + FILE_ID + le(1, 4) + le(0, 4) + le(0, 4) + le(0, 2) + le(0, 2)
                          + b"\0")


def _read_response(data_off=0x50, length=5, data=b"hello") -> bytes:
    return msg(le(17, 2) + bytes([data_off]) + b"\x00" + le(length, 4) + le(0, 4) + le(0, 4)
               + data)


def test_read_response():
    m = _read_response()
    r = ReadResponse.unpack_from(m)
    assert bytes(r.data) == b"hello" and r.data_remaining == 0
    assert isinstance(r.data, memoryview)
    assert bytes(ReadResponse.data_view(m)) == b"hello"
    assert bytes(ReadResponse.data_view(m + b"trailer")) == b"hello"
    assert_truncations_fail(ReadResponse.unpack_from, m, len(m))
    assert_truncations_fail(ReadResponse.data_view, m, len(m))
    # no copy: the view shares memory with the receive buffer
    buf = bytearray(m)
    view = ReadResponse.data_view(buf)
    buf[0x50] = ord("J")
    assert bytes(view) == b"Jello"


@pytest.mark.parametrize("data_off,length", [(0x40, 5), (0x4F, 5), (0x00, 5), (0x50, 6),
                                             (0xFF, 5)])
def test_read_response_hostile(data_off, length):
    m = _read_response(data_off, length)
    with pytest.raises(ProtocolError):
        ReadResponse.unpack_from(m)
    with pytest.raises(ProtocolError):
        ReadResponse.data_view(m)
    with pytest.raises(ProtocolError):
        ReadResponse.data_view(msg(le(9, 2) + b"\0" * 14))


def test_write_request():
    fixed = (le(49, 2) + le(0x70, 2) + le(5, 4) + le(0x123456789, 8) + FILE_ID
             + le(0, 4) + le(0, 4) + le(0, 2) + le(0, 2) + le(0, 4))
    req = WriteRequest(FILE_ID, 0x123456789, b"hello")
    assert req.pack_prefix() == fixed
    assert req.pack() == fixed + b"hello"
    view = memoryview(b"xhellox")[1:6]
    assert WriteRequest(FILE_ID, 0x123456789, view).pack() == fixed + b"hello"
    empty = WriteRequest(FILE_ID, 0, b"")
    assert empty.pack()[4:8] == le(0, 4) and len(empty.pack()) == 49


def test_write_response():
    m = msg(le(17, 2) + le(0, 2) + le(65536, 4) + le(0, 4) + le(0, 2) + le(0, 2))
    assert WriteResponse.unpack_from(m) == WriteResponse(65536, 0)
    assert_truncations_fail(WriteResponse.unpack_from, m, len(m))


# ---------------------------------------------------------------------------
# query directory / query info / set info

def test_query_directory_request():
    req = QueryDirectoryRequest(FILE_ID, c.FileInfoClass.FileIdBothDirectoryInformation,
                                flags=c.QueryDirectoryFlags.RESTART_SCANS)
    assert req.pack() == (le(33, 2) + b"\x25" + b"\x01" + le(0, 4) + FILE_ID + le(0x60, 2)
                          + le(2, 2) + le(65536, 4) + u16("*"))


@pytest.mark.parametrize("cls", [QueryDirectoryResponse, QueryInfoResponse])
def test_output_buffer_responses(cls):
    m = msg(le(9, 2) + le(0x48, 2) + le(6, 4) + b"abcdef")
    r = cls.unpack_from(m)
    assert bytes(r.buffer) == b"abcdef"
    assert cls.unpack_from(m + b"\0\0") == r
    assert_truncations_fail(cls.unpack_from, m, len(m))
    for off, length in ((0x40, 6), (0x47, 6), (0x48, 7), (0, 1), (0xFFFF, 1)):
        with pytest.raises(ProtocolError):
            cls.unpack_from(msg(le(9, 2) + le(off, 2) + le(length, 4) + b"abcdef"))


def test_query_info_request():
    req = QueryInfoRequest(c.InfoType.FILE, c.FileInfoClass.FileAllInformation, FILE_ID)
    assert req.pack() == (le(41, 2) + b"\x01" + b"\x12" + le(65536, 4) + le(0, 2) + le(0, 2)
                          + le(0, 4) + le(0, 4) + le(0, 4) + FILE_ID + b"\0")
    sec = QueryInfoRequest(c.InfoType.SECURITY, 0, FILE_ID, 4096,
                           additional_information=7, input_buffer=b"abcd")
    assert sec.pack() == (le(41, 2) + b"\x03" + b"\x00" + le(4096, 4) + le(0x68, 2) + le(0, 2)
                          + le(4, 4) + le(7, 4) + le(0, 4) + FILE_ID + b"abcd")


def test_set_info_request():
    req = SetInfoRequest(c.InfoType.FILE, c.FileInfoClass.FileDispositionInformation,
                         FILE_ID, b"\x01")
    assert req.pack() == (le(33, 2) + b"\x01" + b"\x0d" + le(1, 4) + le(0x60, 2) + le(0, 2)
                          + le(0, 4) + FILE_ID + b"\x01")


# ---------------------------------------------------------------------------
# ioctl

def test_ioctl_request_validate_negotiate():
    vni = ValidateNegotiateInfoRequest(0x7F, GUID, 1, (0x0202, 0x0210, 0x0300, 0x0302))
    inp = vni.pack()
    assert inp == le(0x7F, 4) + GUID + le(1, 2) + le(4, 2) + le(0x0202, 2) + le(0x0210, 2) + \
        le(0x0300, 2) + le(0x0302, 2)
    req = IoctlRequest(c.Fsctl.VALIDATE_NEGOTIATE_INFO, b"\xff" * 16, inp, max_output_response=24)
    assert req.pack() == (le(57, 2) + le(0, 2) + le(0x00140204, 4) + b"\xff" * 16
                          + le(0x78, 4) + le(len(inp), 4) + le(0, 4) + le(0, 4) + le(0, 4)
                          + le(24, 4) + le(1, 4) + le(0, 4) + inp)


def test_ioctl_request_without_input():
    req = IoctlRequest(c.Fsctl.SRV_ENUMERATE_SNAPSHOTS, FILE_ID, max_output_response=16)
    body = req.pack()
    assert len(body) == 57 and body[24:32] == le(0, 4) + le(0, 4)


def _ioctl_response(in_off=0x70, in_len=0, out_off=0x70, out_len=4, payload=b"WXYZ") -> bytes:
    return msg(le(49, 2) + le(0, 2) + le(0x00144064, 4) + FILE_ID + le(in_off, 4)
               + le(in_len, 4) + le(out_off, 4) + le(out_len, 4) + le(0, 4) + le(0, 4)
               + payload)


def test_ioctl_response():
    m = _ioctl_response()
    r = IoctlResponse.unpack_from(m)
    assert (r.ctl_code, r.file_id, bytes(r.input), bytes(r.output), r.flags) == (
        0x00144064, FILE_ID, b"", b"WXYZ", 0)
    assert_truncations_fail(IoctlResponse.unpack_from, m, len(m))
    both = IoctlResponse.unpack_from(_ioctl_response(0x70, 2, 0x72, 2))
    assert bytes(both.input) == b"WX" and bytes(both.output) == b"YZ"
    for kw in ({"out_off": 0x6F}, {"out_off": 0x71}, {"out_len": 5}, {"in_off": 0x40, "in_len": 1},
               {"in_off": 0x74, "in_len": 1}, {"out_off": 0xFFFFFFFF}):
        with pytest.raises(ProtocolError):
            IoctlResponse.unpack_from(_ioctl_response(**kw))


def test_validate_negotiate_info_response():
    out = le(0x7F, 4) + GUID + le(3, 2) + le(0x0302, 2)
    assert ValidateNegotiateInfoResponse.unpack_from(out) == ValidateNegotiateInfoResponse(
        0x7F, GUID, 3, 0x0302)
    assert ValidateNegotiateInfoResponse.unpack_from(memoryview(b"..." + out), 3).dialect == 0x0302
    assert_truncations_fail(ValidateNegotiateInfoResponse.unpack_from, out, len(out))


# ---------------------------------------------------------------------------
# error response

def test_error_response():
    m = msg(le(9, 2) + b"\x00" + b"\x00" + le(0, 4) + b"\x00")
    assert is_error_response(m)
    r = ErrorResponse.unpack_from(m)
    assert (r.error_context_count, r.byte_count, bytes(r.error_data)) == (0, 0, b"")
    # the one pad byte may be missing
    assert ErrorResponse.unpack_from(m[:-1]) == r
    assert_truncations_fail(ErrorResponse.unpack_from, m, 72)
    data = b"\x10\x00\x00\x00SYMLINKDATA!"
    m2 = msg(le(9, 2) + b"\x01" + b"\x00" + le(len(data), 4) + data)
    r2 = ErrorResponse.unpack_from(m2)
    assert (r2.error_context_count, r2.byte_count, bytes(r2.error_data)) == (1, 16, data)
    assert_truncations_fail(ErrorResponse.unpack_from, m2, len(m2))
    with pytest.raises(ProtocolError):
        ErrorResponse.unpack_from(msg(le(9, 2) + b"\0\0" + le(0xFFFFFFFF, 4) + b"x"))
    with pytest.raises(ProtocolError):
        ErrorResponse.unpack_from(msg(le(17, 2) + b"\0\0" + le(0, 4) + b"x"))
    assert not is_error_response(msg(le(17, 2)))
    assert not is_error_response(RESP_HEADER + b"\x09")


# ---------------------------------------------------------------------------
# transform header

TRANSFORM = (b"\xfdSMB" + bytes(range(0x20, 0x30))
             + bytes(range(0x40, 0x4B)) + b"\0" * 5
             + le(0x1234, 4) + le(0, 2) + le(1, 2) + le(0x0102030405060708, 8))


def test_transform_header():
    th = TransformHeader(bytes(range(0x20, 0x30)), bytes(range(0x40, 0x4B)) + b"\0" * 5,
                         0x1234, c.TransformFlags.ENCRYPTED, 0x0102030405060708)
    assert th.pack() == TRANSFORM and len(TRANSFORM) == 52
    assert th.aad() == TRANSFORM[20:52]
    assert TransformHeader.unpack_from(TRANSFORM + b"ciphertext") == th
    assert_truncations_fail(TransformHeader.unpack_from, TRANSFORM, 52)
    with pytest.raises(ProtocolError):
        TransformHeader.unpack_from(b"\xfeSMB" + TRANSFORM[4:])


# ---------------------------------------------------------------------------
# oplock / lease break

def test_oplock_break():
    body = le(24, 2) + b"\x01" + b"\x00" + le(0, 4) + FILE_ID
    assert OplockBreakNotification.unpack_from(msg(body)) == OplockBreakNotification(1, FILE_ID)
    assert OplockBreakAcknowledgment(1, FILE_ID).pack() == body
    assert_truncations_fail(OplockBreakNotification.unpack_from, msg(body), 88)


def test_lease_break():
    key = bytes(range(0x60, 0x70))
    body = (le(44, 2) + le(2, 2) + le(1, 4) + key + le(7, 4) + le(1, 4) + le(0, 4) * 3)
    r = LeaseBreakNotification.unpack_from(msg(body))
    assert r == LeaseBreakNotification(2, 1, key, 7, 1)
    assert_truncations_fail(LeaseBreakNotification.unpack_from, msg(body), 108)


# ---------------------------------------------------------------------------
# constants

def test_constants_values_and_aliases():
    assert c.SMB2_COM_NEGOTIATE == 0 and c.SMB2_COM_OPLOCK_BREAK == 0x12
    assert c.Smb2Flags.REPLAY_OPERATION == 0x20000000
    assert c.Dialect.WILDCARD == 0x02FF and c.SMB2_DIALECT_311 == 0x0311
    assert c.Fsctl.PIPE_TRANSCEIVE == 0x0011C017 and c.FSCTL_DFS_GET_REFERRALS == 0x00060194
    assert c.FileInfoClass.FileIdFullDirectoryInformation == 38
    assert c.OplockLevel.LEASE == 0xFF and c.ShareFlags.ENCRYPT_DATA == 0x8000
    assert c.SMB2_HEADER_SIZE == 64 and c.SMB2_TRANSFORM_PROTOCOL_ID == b"\xfdSMB"


# ---------------------------------------------------------------------------
# mutation fuzz: any byte flip is parsed or rejected with ProtocolError only

FUZZ_CASES = [
    (Smb2Header.unpack_from, SYNC_HEADER),
    (NegotiateResponse.unpack_from, _negotiate_response_311()),
    (SessionSetupResponse.unpack_from, msg(le(9, 2) + le(1, 2) + le(0x48, 2) + le(4, 2) + b"abcd")),
    (TreeConnectResponse.unpack_from, msg(le(16, 2) + b"\x01\x00" + le(0, 12))),
    (CreateResponse.unpack_from, _create_response(0x98, 8, b"CONTEXTS")),
    (ReadResponse.unpack_from, _read_response()),
    (ReadResponse.data_view, _read_response()),
    (IoctlResponse.unpack_from, _ioctl_response(0x70, 2, 0x72, 2)),
    (QueryInfoResponse.unpack_from, msg(le(9, 2) + le(0x48, 2) + le(6, 4) + b"abcdef")),
    (ErrorResponse.unpack_from, msg(le(9, 2) + b"\x01\x00" + le(4, 4) + b"abcd")),
    (TransformHeader.unpack_from, TRANSFORM),
]


@pytest.mark.parametrize("parse,good", FUZZ_CASES)
def test_mutations_only_raise_protocol_error(parse, good):
    rng = random.Random(1234)
    for _ in range(400):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        cut = rng.choice((len(data), rng.randrange(len(data) + 1)))
        try:
            parse(bytes(data[:cut]))
        except ProtocolError:
            pass


def test_timewarp_token_context_bytes() -> None:
    # [MS-SMB2] 2.2.13.2: Next=0, NameOffset=16, NameLength=4, Reserved, DataOffset=24,
    # DataLength=8, "TWrp", 4 pad bytes, then the FILETIME (2.2.13.2.7).
    from smb.smb2_structs import TimewarpToken
    packed = TimewarpToken(0x0102030405060708).pack()
    assert packed == (bytes.fromhex("00000000" "1000" "0400" "0000" "1800" "08000000") + b"TWrp" + b"\0" * 4
                      + bytes.fromhex("0807060504030201"))


def test_split_timewarp_takes_the_gmt_component_out() -> None:
    from smb.smb2_structs import split_timewarp
    # 2024-01-02 03:04:05 UTC as a FILETIME.
    when = (1704164645 * 10_000_000) + 116444736000000000
    assert split_timewarp("@GMT-2024.01.02-03.04.05\\report.txt") == ("report.txt", when)
    assert split_timewarp("a\\@GMT-2024.01.02-03.04.05\\b") == ("a\\b", when)
    assert split_timewarp("@GMT-2024.01.02-03.04.05") == ("", when)
    for plain in ("a\\b", "@GMT-2024.13.02-03.04.05\\x", "x@GMT-2024.01.02-03.04.05", "@GMT-2024.01.02-03.04.05x"):
        assert split_timewarp(plain) == (plain, None)


# ---------------------------------------------------------------------------
# durable handle create contexts ([MS-SMB2] 2.2.13.2.3/.4/.11/.12, 2.2.14.2.12)

def test_durable_handle_contexts_chain_bytes() -> None:
    from smb.smb2_structs import (DurableHandleReconnectV2, DurableHandleRequest, DurableHandleRequestV2,
                                  TimewarpToken, pack_create_contexts)
    guid = bytes(range(16))
    fid = bytes(range(0x40, 0x50))
    # DHnQ: 16 reserved zero bytes; the next context 8-aligned after it (16+4 pad to 24, +16 = 40).
    chain = pack_create_contexts([DurableHandleRequest().context(), TimewarpToken(7).context()])
    assert chain[:24] == bytes.fromhex("28000000" "1000" "0400" "0000" "1800" "10000000") + b"DHnQ" + b"\0" * 4
    assert chain[24:40] == b"\0" * 16
    assert chain[40:] == TimewarpToken(7).pack()
    # DH2Q: Timeout, Flags (PERSISTENT = 2), 8 reserved bytes, CreateGuid.
    name, data = DurableHandleRequestV2(guid, 5000, 2).context()
    assert name == b"DH2Q" and data == bytes.fromhex("88130000" "02000000") + b"\0" * 8 + guid
    # DH2C: FileId, CreateGuid, Flags.
    name, data = DurableHandleReconnectV2(fid, guid, 0).context()
    assert name == b"DH2C" and data == fid + guid + b"\0" * 4 and len(data) == 36


def test_create_response_contexts_parse_and_reject_hostile_chains() -> None:
    from smb.smb2_structs import (DurableHandleRequest, DurableHandleResponseV2, pack_create_contexts,
                                  parse_create_contexts)
    chain = pack_create_contexts([(b"DH2Q", bytes.fromhex("60ea0000" "00000000")), DurableHandleRequest().context()])
    parsed = parse_create_contexts(chain, "test")
    assert [name for name, _ in parsed] == [b"DH2Q", b"DHnQ"]
    answer = DurableHandleResponseV2.unpack(parsed[0][1])
    assert (answer.timeout, answer.flags) == (60000, 0)
    assert parse_create_contexts(b"", "test") == []
    bad = [
        chain[:10],                                              # header cut short
        b"\x04\0\0\0" + chain[4:],                               # Next smaller than a header
        b"\xf8\0\0\0" + chain[4:],                               # Next past the end
        chain[:4] + b"\x10\0\xff\0" + chain[8:],                 # name runs past its context
        chain[:10] + b"\x18\0\xff\0\0\0" + chain[16:],           # data runs past its context
    ]
    for blob in bad:
        with pytest.raises(ProtocolError):
            parse_create_contexts(blob, "test")
    many = pack_create_contexts([(b"AAAA", b"")] * 33)
    with pytest.raises(ProtocolError, match="more than 32"):
        parse_create_contexts(many, "test")
    with pytest.raises(ProtocolError):
        DurableHandleResponseV2.unpack(b"\0" * 7)


@pytest.mark.parametrize("seed", range(200))
def test_create_context_parser_never_raises_anything_else(seed: int) -> None:
    from smb.smb2_structs import DurableHandleRequest, pack_create_contexts, parse_create_contexts
    rng = random.Random(seed)
    data = bytearray(pack_create_contexts([DurableHandleRequest().context(), (b"MxAc", b"\1" * 8)]))
    for _ in range(rng.randrange(1, 6)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    try:
        parse_create_contexts(bytes(data[:rng.randrange(len(data) + 1)]), "fuzz")
    except ProtocolError:
        pass
