"""SMB1 wire messages against hand-built bytes ([MS-CIFS] 2.2, [MS-SMB] 2.2).

Expected bytes are written out field by field from the spec layouts, not
produced by the code under test.  Offsets are from the SMB header start.
"""
from __future__ import annotations

import hashlib
import random
import struct

import pytest

from smb import smb_constants as c
from smb import smb_structs as s
from smb.exceptions import ProtocolError


def hdr(cmd: int, status: int = 0, flags: int = 0x18, flags2: int = 0xC801, tid: int = 1,
        pid: int = 0x1234, uid: int = 0x0800, mid: int = 7, sig: bytes = b"\x00" * 8) -> bytes:
    """SMB header bytes, [MS-CIFS] 2.2.3.1, written out field by field."""
    return (b"\xffSMB" + bytes([cmd]) + status.to_bytes(4, "little") + bytes([flags])
            + flags2.to_bytes(2, "little") + b"\x00\x00" + sig + b"\x00\x00"
            + tid.to_bytes(2, "little") + pid.to_bytes(2, "little") + uid.to_bytes(2, "little")
            + mid.to_bytes(2, "little"))


def rhdr(cmd: int, **kw: int) -> bytes:
    kw.setdefault("flags", 0x98)
    return hdr(cmd, **kw)


H = s.Smb1Header(flags=0x18, flags2=0xC801, tid=1, pid_low=0x1234, uid=0x0800, mid=7)
RH = s.Smb1Header(flags=0x98, flags2=0xC801, tid=1, pid_low=0x1234, uid=0x0800, mid=7)


def u16(text: str) -> bytes:
    return text.encode("utf-16-le")


def assert_only_protocol_error_on_truncation(msg: bytes, parse) -> None:
    for length in range(len(msg)):
        with pytest.raises(ProtocolError):
            parse(msg[:length])


# ---------------------------------------------------------------- header and framing


def test_header_pack_and_unpack_exact() -> None:
    h = s.Smb1Header(command=0x72, status=0xC0000016, flags=0x98, flags2=0xC807,
                     pid_high=0xBEEF, security_features=b"12345678", tid=0x0102,
                     pid_low=0x0304, uid=0x0506, mid=0x0708)
    raw = (b"\xffSMB\x72" + b"\x16\x00\x00\xc0" + b"\x98" + b"\x07\xc8" + b"\xef\xbe"
           + b"12345678" + b"\x00\x00" + b"\x02\x01" + b"\x04\x03" + b"\x06\x05" + b"\x08\x07")
    assert h.pack() == raw
    assert len(raw) == 32
    assert s.Smb1Header.unpack_from(raw) == h
    assert s.Smb1Header.unpack_from(b"xx" + raw + b"tail", 2) == h
    assert h.is_reply and h.unicode and h.pid == 0xBEEF0304


def test_header_rejects_bad_protocol_and_short_input() -> None:
    raw = hdr(0x72)
    with pytest.raises(ProtocolError):
        s.Smb1Header.unpack_from(b"\xfeSMB" + raw[4:])
    assert_only_protocol_error_on_truncation(raw, s.Smb1Header.unpack_from)
    with pytest.raises(ProtocolError):
        s.Smb1Header.unpack_from(raw, 40)


def test_build_and_parse_message() -> None:
    msg = s.build_message(s.replace(H, command=0x2B), b"\x01\x00", b"ping")
    assert msg == hdr(0x2B) + b"\x01" + b"\x01\x00" + b"\x04\x00" + b"ping"
    header, words, data = s.parse_message(msg)
    assert header.command == 0x2B
    assert bytes(words) == b"\x01\x00" and bytes(data) == b"ping"
    assert isinstance(data, memoryview)
    header2, words2, data2 = s.parse_message(msg + b"trailing")
    assert (header2, bytes(words2), bytes(data2)) == (header, b"\x01\x00", b"ping")
    assert_only_protocol_error_on_truncation(msg, s.parse_message)
    # ByteCount larger than the buffer.
    with pytest.raises(ProtocolError):
        s.parse_message(msg[:-6] + b"\x05\x00" + b"ping")


def test_build_message_rejects_odd_words() -> None:
    with pytest.raises(ValueError):
        s.build_message(H, b"\x01", b"")


# ---------------------------------------------------------------- NEGOTIATE


def test_negotiate_request_exact() -> None:
    req = s.NegotiateRequest(("NT LM 0.12", "SMB 2.002", "SMB 2.???"))
    expected = (hdr(0x72) + b"\x00" + b"\x22\x00" + b"\x02NT LM 0.12\x00"
                + b"\x02SMB 2.002\x00" + b"\x02SMB 2.???\x00")
    assert req.pack(H) == expected


def test_build_negotiate_request_flags() -> None:
    msg = s.build_negotiate_request(["NT LM 0.12"], extended_security=False)
    header, words, data = s.parse_message(msg)
    assert header.command == 0x72 and not header.is_reply
    assert header.flags2 & c.SMB_FLAGS2_UNICODE and header.flags2 & c.SMB_FLAGS2_NT_STATUS
    assert not header.flags2 & c.SMB_FLAGS2_EXTENDED_SECURITY
    assert bytes(data) == b"\x02NT LM 0.12\x00"
    ext = s.parse_message(s.build_negotiate_request())[0]
    assert ext.flags2 & c.SMB_FLAGS2_EXTENDED_SECURITY


NEG_WORDS_EXT = (b"\x00\x00" + b"\x03" + b"\x32\x00" + b"\x01\x00" + b"\x04\x11\x00\x00"
                 + b"\x00\x00\x01\x00" + b"\x00\x00\x00\x00" + b"\xfd\xe3\x00\x80"
                 + b"\xbe\xba\xfe\xca\x0d\xf0\xd9\x01" + b"\xc4\xff" + b"\x00")
GUID = bytes(range(0x10, 0x20))
NEG_EXT = rhdr(0x72) + b"\x11" + NEG_WORDS_EXT + b"\x14\x00" + GUID + b"\x60\x02\xa0\x00"


def test_negotiate_response_extended_security() -> None:
    resp = s.NegotiateResponse.unpack_from(NEG_EXT)
    assert resp.dialect_index == 0 and resp.security_mode == 3
    assert resp.max_mpx_count == 50 and resp.max_number_vcs == 1
    assert resp.max_buffer_size == 4356 and resp.max_raw_size == 65536
    assert resp.capabilities == 0x8000E3FD and resp.extended_security
    assert resp.system_time == 0x01D9F00DCAFEBABE and resp.server_time_zone == -60
    assert resp.server_guid == GUID and resp.security_blob == b"\x60\x02\xa0\x00"
    assert resp.pack(RH) == NEG_EXT
    assert s.NegotiateResponse.unpack_from(NEG_EXT + b"junk") == resp
    assert_only_protocol_error_on_truncation(NEG_EXT, s.NegotiateResponse.unpack_from)


def test_negotiate_response_challenge_form_unicode_unaligned() -> None:
    words = bytearray(NEG_WORDS_EXT)
    words[19:23] = b"\xfd\xe3\x00\x00"  # no CAP_EXTENDED_SECURITY
    words[-1] = 8                      # ChallengeLength
    # data at 69: challenge (8) then the names at 77, unaligned, as servers send them.
    data = bytes(range(1, 9)) + u16("WG\x00") + u16("SRV\x00")
    raw = rhdr(0x72) + b"\x11" + bytes(words) + len(data).to_bytes(2, "little") + data
    resp = s.NegotiateResponse.unpack_from(raw)
    assert not resp.extended_security
    assert resp.challenge == bytes(range(1, 9))
    assert (resp.domain_name, resp.server_name) == ("WG", "SRV")
    assert resp.pack(RH) == raw
    assert_only_protocol_error_on_truncation(raw, s.NegotiateResponse.unpack_from)


def test_negotiate_response_challenge_form_oem() -> None:
    words = bytearray(NEG_WORDS_EXT)
    words[19:23] = b"\xf9\xe3\x00\x00"
    words[-1] = 8
    data = b"C" * 8 + b"WG\x00SRV\x00"
    raw = rhdr(0x72, flags2=0x4001) + b"\x11" + bytes(words) + b"\x0f\x00" + data
    resp = s.NegotiateResponse.unpack_from(raw)
    assert (resp.domain_name, resp.server_name) == ("WG", "SRV")


def test_negotiate_response_no_dialect_and_bad_challenge_length() -> None:
    resp = s.NegotiateResponse.unpack_from(rhdr(0x72) + b"\x01\xff\xff\x00\x00")
    assert resp.dialect_index == 0xFFFF
    words = bytearray(NEG_WORDS_EXT)
    words[19:23] = b"\xfd\xe3\x00\x00"
    words[-1] = 9
    with pytest.raises(ProtocolError):
        s.NegotiateResponse.unpack_from(rhdr(0x72) + b"\x11" + bytes(words) + b"\x02\x00ab")
    with pytest.raises(ProtocolError):  # extended form shorter than the GUID
        s.NegotiateResponse.unpack_from(rhdr(0x72) + b"\x11" + NEG_WORDS_EXT + b"\x02\x00ab")
    with pytest.raises(ProtocolError):  # wrong command
        s.NegotiateResponse.unpack_from(rhdr(0x73) + NEG_EXT[33:])


# ---------------------------------------------------------------- SESSION_SETUP_ANDX

SS_EXT_REQ = (hdr(0x73) + b"\x0c"
              + b"\xff\x00\x00\x00" + b"\xff\xff" + b"\x32\x00" + b"\x00\x00"
              + b"\x00\x00\x00\x00" + b"\x04\x00" + b"\x00\x00\x00\x00" + b"\xd4\x00\x00\x80"
              + b"\x1f\x00" + b"\xa1\xa2\xa3\xa4" + b"\x00" + u16("Unix\x00")
              + u16("smbwire\x00"))


def test_session_setup_extended_request_exact() -> None:
    req = s.SessionSetupAndXRequest(security_blob=b"\xa1\xa2\xa3\xa4", max_buffer_size=0xFFFF,
                                    max_mpx_count=50, capabilities=0x800000D4)
    assert req.pack(H) == SS_EXT_REQ


def test_session_setup_ntlm_request_exact() -> None:
    req = s.SessionSetupAndXNtlmRequest(
        oem_password=b"\x11\x12\x13", unicode_password=b"\x21\x22\x23", account_name="bob",
        primary_domain="WG", max_buffer_size=4356, max_mpx_count=10, vc_number=1,
        session_key=0x11223344, capabilities=0xD4, native_os="OS", native_lanman="LM")
    # data starts at 61; the passwords end at 67 (odd), so one pad byte precedes the name.
    data = (b"\x11\x12\x13\x21\x22\x23" + b"\x00" + u16("bob\x00") + u16("WG\x00")
            + u16("OS\x00") + u16("LM\x00"))
    expected = (hdr(0x73) + b"\x0d" + b"\xff\x00\x00\x00" + b"\x04\x11" + b"\x0a\x00"
                + b"\x01\x00" + b"\x44\x33\x22\x11" + b"\x03\x00" + b"\x03\x00"
                + b"\x00\x00\x00\x00" + b"\xd4\x00\x00\x00"
                + len(data).to_bytes(2, "little") + data)
    assert req.pack(H) == expected
    assert "\\x11" not in repr(req)


def test_session_setup_ntlm_request_ascii_variant() -> None:
    req = s.SessionSetupAndXNtlmRequest(oem_password=b"P" * 24, account_name="bob",
                                        primary_domain="WG", native_os="OS",
                                        native_lanman="LM")
    msg = req.pack(s.replace(H, flags2=0x4001))
    assert msg.endswith(b"P" * 24 + b"bob\x00WG\x00OS\x00LM\x00")


SS_EXT_RESP = (rhdr(0x73, status=0xC0000016) + b"\x04" + b"\xff\x00\x00\x00" + b"\x01\x00"
               + b"\x03\x00" + b"\x19\x00" + b"\xb1\xb2\xb3" + u16("Unix\x00")
               + u16("Samba\x00"))


def test_session_setup_extended_response() -> None:
    resp = s.SessionSetupAndXResponse.unpack_from(SS_EXT_RESP)
    assert resp.extended and resp.is_guest and resp.action == 1
    assert resp.security_blob == b"\xb1\xb2\xb3"
    assert (resp.native_os, resp.native_lanman, resp.primary_domain) == ("Unix", "Samba", "")
    assert resp.pack(s.replace(RH, status=0xC0000016)) == SS_EXT_RESP
    assert s.SessionSetupAndXResponse.unpack_from(SS_EXT_RESP + b"\x00" * 7) == resp
    assert_only_protocol_error_on_truncation(SS_EXT_RESP, s.SessionSetupAndXResponse.unpack_from)


def test_session_setup_ntlm_response_with_pad_and_missing_terminator() -> None:
    # data starts at 41 (odd): one pad byte, then three strings; the last lacks its NUL.
    data = b"\x00" + u16("Unix\x00") + u16("Samba\x00") + u16("WORKGROUP")
    raw = (rhdr(0x73) + b"\x03" + b"\xff\x00\x00\x00" + b"\x00\x00"
           + len(data).to_bytes(2, "little") + data)
    resp = s.SessionSetupAndXResponse.unpack_from(raw)
    assert not resp.extended and not resp.is_guest
    assert (resp.native_os, resp.native_lanman, resp.primary_domain) == (
        "Unix", "Samba", "WORKGROUP")


def test_session_setup_response_bad_blob_length() -> None:
    raw = bytearray(SS_EXT_RESP)
    raw[39:41] = b"\x40\x00"  # SecurityBlobLength 64 > ByteCount
    with pytest.raises(ProtocolError):
        s.SessionSetupAndXResponse.unpack_from(bytes(raw))
    with pytest.raises(ProtocolError):  # WordCount 0 (an error response)
        s.SessionSetupAndXResponse.unpack_from(rhdr(0x73) + b"\x00\x00\x00")


# ---------------------------------------------------------------- TREE_CONNECT_ANDX


def test_tree_connect_request_exact() -> None:
    req = s.TreeConnectAndXRequest("\\\\SRV\\share")
    data = b"\x00" + u16("\\\\SRV\\share\x00") + b"?????\x00"
    expected = (hdr(0x75) + b"\x04" + b"\xff\x00\x00\x00" + b"\x00\x00" + b"\x01\x00"
                + len(data).to_bytes(2, "little") + data)
    assert req.pack(H) == expected


def test_tree_connect_responses() -> None:
    # Extended (7 words): "A:" at 49, NativeFileSystem at 52 (even, no pad).
    data = b"A:\x00" + u16("NTFS\x00")
    raw = (rhdr(0x75) + b"\x07" + b"\xff\x00\x00\x00" + b"\x01\x00" + b"\xff\x01\x1f\x00"
           + b"\xa9\x00\x12\x00" + len(data).to_bytes(2, "little") + data)
    resp = s.TreeConnectAndXResponse.unpack_from(raw)
    assert resp == s.TreeConnectAndXResponse(1, "A:", "NTFS", 0x001F01FF, 0x001200A9)
    assert resp.pack(RH) == raw
    assert_only_protocol_error_on_truncation(raw, s.TreeConnectAndXResponse.unpack_from)
    # Plain (3 words): "IPC" ends at 47 (odd) so a pad byte precedes the Unicode name.
    data = b"IPC\x00" + b"\x00" + u16("\x00")
    raw = (rhdr(0x75) + b"\x03" + b"\xff\x00\x00\x00" + b"\x00\x00"
           + len(data).to_bytes(2, "little") + data)
    resp = s.TreeConnectAndXResponse.unpack_from(raw)
    assert resp == s.TreeConnectAndXResponse(0, "IPC", "")
    assert resp.pack(RH) == raw


# ---------------------------------------------------------------- small commands


@pytest.mark.parametrize("message, expected", [
    (s.LogoffAndXRequest(), hdr(0x74) + b"\x02\xff\x00\x00\x00\x00\x00"),
    (s.TreeDisconnectRequest(), hdr(0x71) + b"\x00\x00\x00"),
    (s.CloseRequest(0x4000), hdr(0x04) + b"\x03\x00\x40\x00\x00\x00\x00\x00\x00"),
    (s.EchoRequest(b"ping"), hdr(0x2B) + b"\x01\x01\x00\x04\x00ping"),
    # data at 37: BufferFormat, then the name at 38 (even).
    (s.DeleteRequest("\\a.txt", 0x06),
     hdr(0x06) + b"\x01\x06\x00\x0f\x00\x04" + u16("\\a.txt\x00")),
    # the second BufferFormat sits at 44, so a pad byte goes before the new name.
    (s.RenameRequest("\\a", "\\b", 0x16),
     hdr(0x07) + b"\x01\x16\x00\x0f\x00\x04" + u16("\\a\x00") + b"\x04\x00" + u16("\\b\x00")),
    (s.NtRenameRequest("\\a", "\\b", search_attributes=0x16),
     hdr(0xA5) + b"\x04\x16\x00\x04\x01\x00\x00\x00\x00\x0f\x00\x04" + u16("\\a\x00")
     + b"\x04\x00" + u16("\\b\x00")),
    (s.CreateDirectoryRequest("\\d"), hdr(0x00) + b"\x00\x07\x00\x04" + u16("\\d\x00")),
    (s.DeleteDirectoryRequest("\\d"), hdr(0x01) + b"\x00\x07\x00\x04" + u16("\\d\x00")),
])
def test_small_requests_exact(message, expected: bytes) -> None:
    assert message.pack(H) == expected


@pytest.mark.parametrize("cls, cmd", [
    (s.CloseResponse, 0x04), (s.TreeDisconnectResponse, 0x71), (s.DeleteResponse, 0x06),
    (s.RenameResponse, 0x07), (s.NtRenameResponse, 0xA5), (s.CreateDirectoryResponse, 0x00),
    (s.DeleteDirectoryResponse, 0x01),
])
def test_empty_responses(cls, cmd: int) -> None:
    raw = rhdr(cmd) + b"\x00\x00\x00"
    assert cls.unpack_from(raw) == cls()
    assert cls().pack(RH) == raw
    assert_only_protocol_error_on_truncation(raw, cls.unpack_from)
    with pytest.raises(ProtocolError):
        cls.unpack_from(rhdr(cmd) + b"\x01\x00\x00\x00\x00")


def test_logoff_and_echo_responses() -> None:
    raw = rhdr(0x74) + b"\x02\xff\x00\x00\x00\x00\x00"
    assert s.LogoffAndXResponse.unpack_from(raw) == s.LogoffAndXResponse()
    raw = rhdr(0x2B) + b"\x01\x01\x00\x04\x00ping"
    assert s.EchoResponse.unpack_from(raw) == s.EchoResponse(1, b"ping")
    assert s.EchoResponse(1, b"ping").pack(RH) == raw


# ---------------------------------------------------------------- NT_CREATE_ANDX


def test_nt_create_request_exact() -> None:
    req = s.NtCreateAndXRequest("\\a.txt", desired_access=0x00020089, share_access=7,
                                create_disposition=1, create_options=0x40)
    words = (b"\xff\x00\x00\x00" + b"\x00" + b"\x0c\x00" + b"\x00\x00\x00\x00"
             + b"\x00\x00\x00\x00" + b"\x89\x00\x02\x00" + b"\x00" * 8 + b"\x00\x00\x00\x00"
             + b"\x07\x00\x00\x00" + b"\x01\x00\x00\x00" + b"\x40\x00\x00\x00"
             + b"\x02\x00\x00\x00" + b"\x00")
    # data at 83 (odd): pad, then the name.
    expected = hdr(0xA2) + b"\x18" + words + b"\x0f\x00" + b"\x00" + u16("\\a.txt\x00")
    assert req.pack(H) == expected


NTC_WORDS = (b"\xff\x00\x00\x00" + b"\x00" + b"\x00\x40" + b"\x01\x00\x00\x00"
             + (1).to_bytes(8, "little") + (2).to_bytes(8, "little")
             + (3).to_bytes(8, "little") + (4).to_bytes(8, "little") + b"\x20\x00\x00\x00"
             + (4096).to_bytes(8, "little") + (1234).to_bytes(8, "little") + b"\x00\x00"
             + b"\x00\x00" + b"\x00")


def test_nt_create_response_normal() -> None:
    raw = rhdr(0xA2) + b"\x22" + NTC_WORDS + b"\x00\x00"
    resp = s.NtCreateAndXResponse.unpack_from(raw)
    assert resp.fid == 0x4000 and resp.create_disposition == 1
    assert (resp.create_time, resp.last_access_time, resp.last_write_time,
            resp.change_time) == (1, 2, 3, 4)
    assert resp.ext_file_attributes == 0x20 and resp.allocation_size == 4096
    assert resp.end_of_file == 1234 and not resp.directory and not resp.extended
    assert resp.pack(RH) == raw
    assert_only_protocol_error_on_truncation(raw, s.NtCreateAndXResponse.unpack_from)


def test_nt_create_response_extended_with_wordcount_42() -> None:
    ext = GUID + (0x99).to_bytes(8, "little") + b"\xff\x01\x1f\x00" + b"\xa9\x00\x12\x00"
    raw = rhdr(0xA2) + b"\x2a" + NTC_WORDS + ext + b"\x00\x00"
    resp = s.NtCreateAndXResponse.unpack_from(raw)
    assert resp.extended and resp.volume_guid == GUID and resp.file_id == 0x99
    assert resp.maximal_access_rights == 0x001F01FF
    assert resp.guest_maximal_access_rights == 0x001200A9
    assert resp.end_of_file == 1234
    assert resp.pack(RH) == raw
    assert_only_protocol_error_on_truncation(raw, s.NtCreateAndXResponse.unpack_from)


# ---------------------------------------------------------------- READ_ANDX / WRITE_ANDX


def test_read_request_exact_small_and_large() -> None:
    req = s.ReadAndXRequest(0x4000, 0x1_0000_0010, 4096)
    expected = (hdr(0x2E) + b"\x0c" + b"\xff\x00\x00\x00" + b"\x00\x40" + b"\x10\x00\x00\x00"
                + b"\x00\x10" + b"\x00\x00" + b"\x00\x00\x00\x00" + b"\x00\x00"
                + b"\x01\x00\x00\x00" + b"\x00\x00")
    assert req.pack(H) == expected
    big = s.ReadAndXRequest(0x4000, 0, 0x10005).pack(H)
    assert big[33 + 10:33 + 12] == b"\x05\x00"              # MaxCountOfBytesToReturn
    assert big[33 + 14:33 + 18] == b"\x01\x00\x00\x00"      # MaxCountHigh
    with pytest.raises(ValueError):
        s.ReadAndXRequest(1, 0, 0x20000, timeout=5).pack(H)


def test_read_response_small() -> None:
    raw = (rhdr(0x2E) + b"\x0c" + b"\xff\x00\x00\x00" + b"\x00\x00" + b"\x00\x00"
           + b"\x00\x00" + b"\x05\x00" + b"\x3c\x00" + b"\x00\x00" + b"\x00" * 8
           + b"\x06\x00" + b"\x00hello")
    resp = s.ReadAndXResponse.unpack_from(raw)
    assert isinstance(resp.data, memoryview) and bytes(resp.data) == b"hello"
    assert resp.pack(RH) == raw
    assert s.ReadAndXResponse.unpack_from(raw + b"\x00" * 9).data == b"hello"
    assert_only_protocol_error_on_truncation(raw, s.ReadAndXResponse.unpack_from)


def test_read_response_large_uses_data_length_high() -> None:
    payload = bytes(range(256)) * 256 + b"xyz"  # 0x10003 bytes
    raw = (rhdr(0x2E) + b"\x0c" + b"\xff\x00\x00\x00" + b"\x00\x00" * 3 + b"\x03\x00"
           + b"\x3c\x00" + b"\x01\x00" + b"\x00" * 8 + b"\x04\x00" + b"\x00" + payload)
    resp = s.ReadAndXResponse.unpack_from(raw)
    assert len(resp.data) == 0x10003 and resp.data == payload
    assert resp.data.obj is raw  # a view into the received message, not a copy
    assert s.ReadAndXResponse(memoryview(payload)).pack(RH) == raw
    with pytest.raises(ProtocolError):
        s.ReadAndXResponse.unpack_from(raw[:-1])


@pytest.mark.parametrize("data_offset", [0, 20, 58, 0xFFFF])
def test_read_response_bad_data_offset(data_offset: int) -> None:
    raw = (rhdr(0x2E) + b"\x0c" + b"\xff\x00\x00\x00" + b"\x00\x00" * 3 + b"\x05\x00"
           + data_offset.to_bytes(2, "little") + b"\x00\x00" + b"\x00" * 8 + b"\x06\x00"
           + b"\x00hello")
    with pytest.raises(ProtocolError):
        s.ReadAndXResponse.unpack_from(raw)


def test_write_request_exact_and_prefix() -> None:
    req = s.WriteAndXRequest(0x4000, 0x2_0000_0008, b"abc")
    prefix = (hdr(0x2F) + b"\x0e" + b"\xff\x00\x00\x00" + b"\x00\x40" + b"\x08\x00\x00\x00"
              + b"\x00\x00\x00\x00" + b"\x00\x00" + b"\x00\x00" + b"\x00\x00" + b"\x03\x00"
              + b"\x40\x00" + b"\x02\x00\x00\x00" + b"\x04\x00" + b"\x00")
    assert req.pack_prefix(H) == prefix
    assert len(prefix) == 64  # data lands 4-byte aligned at DataOffset 64
    assert req.pack(H) == prefix + b"abc"


def test_write_request_large() -> None:
    data = b"\x5a" * 0x10001
    req = s.WriteAndXRequest(1, 0, memoryview(data))
    prefix = req.pack_prefix(H)
    assert prefix[33 + 18:33 + 20] == b"\x01\x00"   # DataLengthHigh
    assert prefix[33 + 20:33 + 22] == b"\x01\x00"   # DataLength
    assert prefix[-3:-1] == b"\x02\x00"             # ByteCount: low 16 bits of pad + data
    assert req.pack(H) == prefix + data


def test_write_response() -> None:
    raw = rhdr(0x2F) + b"\x06\xff\x00\x00\x00\x03\x00\xff\xff\x01\x00\x00\x00\x00\x00"
    resp = s.WriteAndXResponse.unpack_from(raw)
    assert resp == s.WriteAndXResponse(0x10003, 0xFFFF)
    assert resp.pack(RH) == raw
    assert_only_protocol_error_on_truncation(raw, s.WriteAndXResponse.unpack_from)


# ---------------------------------------------------------------- AndX chains


def test_build_andx_chain_session_setup_and_tree_connect() -> None:
    chain = s.build_andx_chain(H, [
        s.SessionSetupAndXRequest(security_blob=b"\xa1\xa2\xa3\xa4", max_buffer_size=0xFFFF,
                                  max_mpx_count=50, capabilities=0x800000D4),
        s.TreeConnectAndXRequest("\\\\SRV\\IPC$"),
    ])
    # First block as alone, except AndXCommand = 0x75 and AndXOffset = 90.
    first = bytearray(SS_EXT_REQ)
    first[33] = 0x75
    first[35:37] = b"\x5a\x00"
    assert chain[:90] == bytes(first)
    data = b"\x00" + u16("\\\\SRV\\IPC$\x00") + b"?????\x00"
    assert chain[90:] == (b"\x04\xff\x00\x00\x00\x00\x00\x01\x00"
                          + len(data).to_bytes(2, "little") + data)
    header, blocks = s.parse_blocks(chain)
    assert [b.command for b in blocks] == [0x73, 0x75]
    assert blocks[1].offset == 90
    with pytest.raises(ValueError):
        s.build_andx_chain(H, [s.CloseRequest(1), s.CloseRequest(2)])


def _create_read_chain(andx2: bytes = b"\xff\x00\x00\x00") -> bytes:
    words1 = bytearray(NTC_WORDS)
    words1[0] = 0x2E
    words1[2:4] = (103).to_bytes(2, "little")
    # READ_ANDX block at 103: data right after ByteCount at 130.
    block2 = (b"\x0c" + andx2 + b"\x00\x00" * 3 + b"\x03\x00" + b"\x82\x00" + b"\x00\x00"
              + b"\x00" * 8 + b"\x03\x00" + b"xyz")
    return rhdr(0xA2) + b"\x22" + bytes(words1) + b"\x00\x00" + block2


def test_parse_andx_chain_create_and_read() -> None:
    raw = _create_read_chain()
    header, blocks = s.parse_blocks(raw)
    assert [(b.command, b.offset) for b in blocks] == [(0xA2, 32), (0x2E, 103)]
    assert s.NtCreateAndXResponse.from_block(blocks[0]).fid == 0x4000
    assert s.ReadAndXResponse.from_block(blocks[1]).data == b"xyz"
    with pytest.raises(ProtocolError):
        s.ReadAndXResponse.from_block(blocks[0])
    rebuilt = s.build_andx_chain(RH, [
        s.NtCreateAndXResponse.from_block(blocks[0]),
        s.ReadAndXResponse(memoryview(b"xyz"))])
    _, again = s.parse_blocks(rebuilt)
    assert s.ReadAndXResponse.from_block(again[1]).data == b"xyz"
    assert_only_protocol_error_on_truncation(raw, s.parse_blocks)


@pytest.mark.parametrize("andx2", [
    b"\x2e\x00\x67\x00",   # READ_ANDX block pointing at itself (a loop)
    b"\x2e\x00\x20\x00",   # pointing back at the first block
    b"\x2e\x00\x70\x00",   # inside its own parameter words
    b"\x2e\x00\xff\x7f",   # past the end of the message
])
def test_parse_andx_chain_rejects_bad_offsets(andx2: bytes) -> None:
    with pytest.raises(ProtocolError):
        s.parse_blocks(_create_read_chain(andx2))


def test_parse_andx_chain_backwards_from_first_block() -> None:
    raw = bytearray(_create_read_chain())
    raw[35:37] = b"\x21\x00"
    with pytest.raises(ProtocolError):
        s.parse_blocks(bytes(raw))


def test_parse_andx_chain_length_is_capped() -> None:
    raw = bytearray(rhdr(0x74))
    for i in range(12):
        nxt = len(raw) + 7
        raw += b"\x02\x74\x00" + nxt.to_bytes(2, "little") + b"\x00\x00"
    raw += b"\x02\xff\x00\x00\x00\x00\x00"
    with pytest.raises(ProtocolError):
        s.parse_blocks(bytes(raw))


# ---------------------------------------------------------------- transaction requests


def test_transact_nmpipe_request_exact() -> None:
    req = s.TransactionRequest(setup=(c.TRANS_TRANSACT_NMPIPE, 0x4000), data=b"RPC!",
                               max_data_count=4280)
    words = (b"\x00\x00" + b"\x04\x00" + b"\x00\x00" + b"\xb8\x10" + b"\x00" + b"\x00"
             + b"\x00\x00" + b"\x00\x00\x00\x00" + b"\x00\x00" + b"\x00\x00" + b"\x54\x00"
             + b"\x04\x00" + b"\x54\x00" + b"\x02" + b"\x00" + b"\x26\x00" + b"\x00\x40")
    # data at 67: pad, "\PIPE\" (68..81), Pad1 to 84, no parameters, data at 84.
    data = b"\x00" + u16("\\PIPE\\\x00") + b"\x00\x00" + b"RPC!"
    assert req.pack(H) == hdr(0x25) + b"\x10" + words + b"\x15\x00" + data


def test_find_first2_request_exact() -> None:
    params = s.FindFirst2Params("\\*", search_attributes=0x16, search_count=100, flags=2,
                                information_level=0x104).pack()
    assert params == (b"\x16\x00\x64\x00\x02\x00\x04\x01\x00\x00\x00\x00"
                      + u16("\\*\x00"))
    req = s.Transaction2Request(setup=(c.TRANS2_FIND_FIRST2,), parameters=params,
                                max_parameter_count=10, max_data_count=16644)
    words = (b"\x12\x00" + b"\x00\x00" + b"\x0a\x00" + b"\x04\x41" + b"\x00\x00" + b"\x00\x00"
             + b"\x00\x00\x00\x00" + b"\x00\x00" + b"\x12\x00" + b"\x44\x00" + b"\x00\x00"
             + b"\x56\x00" + b"\x01\x00" + b"\x01\x00")
    # data at 65: pad + empty Unicode name (65..67), parameters at 68.
    data = b"\x00\x00\x00" + params
    assert req.pack(H) == hdr(0x32) + b"\x0f" + words + b"\x15\x00" + data


def test_nt_transact_ioctl_request_exact() -> None:
    setup = s.NtIoctlSetup(0x00144064, 0x4001).pack()
    assert setup == b"\x64\x40\x14\x00\x01\x40\x01\x00"
    assert s.NtIoctlSetup.unpack_from(setup) == s.NtIoctlSetup(0x00144064, 0x4001, True, 0)
    req = s.NtTransactRequest(c.NT_TRANSACT_IOCTL, setup=setup, max_data_count=16)
    words = (b"\x00" + b"\x00\x00" + b"\x00" * 4 * 2 + b"\x00\x00\x00\x00"
             + b"\x10\x00\x00\x00" + b"\x00\x00\x00\x00" + b"\x54\x00\x00\x00"
             + b"\x00\x00\x00\x00" + b"\x54\x00\x00\x00" + b"\x04" + b"\x02\x00" + setup)
    assert req.pack(H) == hdr(0xA0) + b"\x17" + words + b"\x03\x00" + b"\x00\x00\x00"


def test_query_security_desc_request_exact() -> None:
    params = s.QuerySecurityDescParams(0x4001, 7).pack()
    assert params == b"\x01\x40\x00\x00\x07\x00\x00\x00"
    assert s.QuerySecurityDescParams.unpack_from(params) == s.QuerySecurityDescParams(0x4001, 7)
    req = s.NtTransactRequest(c.NT_TRANSACT_QUERY_SECURITY_DESC, parameters=params,
                              max_parameter_count=4, max_data_count=4096)
    words = (b"\x00" + b"\x00\x00" + b"\x08\x00\x00\x00" + b"\x00\x00\x00\x00"
             + b"\x04\x00\x00\x00" + b"\x00\x10\x00\x00" + b"\x08\x00\x00\x00"
             + b"\x4c\x00\x00\x00" + b"\x00\x00\x00\x00" + b"\x54\x00\x00\x00" + b"\x00"
             + b"\x06\x00")
    assert req.pack(H) == hdr(0xA0) + b"\x13" + words + b"\x0b\x00" + b"\x00\x00\x00" + params
    assert s.QuerySecurityDescResponseParams.unpack_from(b"\x10\x00\x00\x00").length_needed == 16
    with pytest.raises(ProtocolError):
        s.QuerySecurityDescResponseParams.unpack_from(b"\x10\x00")


@pytest.mark.parametrize("params, expected", [
    (s.FindNext2Params(0x0101, "", 50, 0x104, 0, 0x0A),
     b"\x01\x01\x32\x00\x04\x01\x00\x00\x00\x00\x0a\x00\x00\x00"),
    (s.QueryPathInformationParams(1018, "\\a"), b"\xfa\x03\x00\x00\x00\x00" + u16("\\a\x00")),
    (s.SetPathInformationParams(1004, "\\a"), b"\xec\x03\x00\x00\x00\x00" + u16("\\a\x00")),
    (s.QueryFileInformationParams(0x4000, 1018), b"\x00\x40\xfa\x03"),
    (s.SetFileInformationParams(0x4000, 1013), b"\x00\x40\xf5\x03\x00\x00"),
    (s.QueryFsInformationParams(1007), b"\xef\x03"),
    (s.QueryPathInformationParams(0x107, "\\a", unicode=False),
     b"\x07\x01\x00\x00\x00\x00\\a\x00"),
])
def test_trans2_parameter_blocks(params, expected: bytes) -> None:
    assert params.pack() == expected


def test_find_response_parameters() -> None:
    raw = b"\x01\x01\x03\x00\x01\x00\x00\x00\x50\x00"
    assert s.FindFirst2ResponseParams.unpack_from(raw) == s.FindFirst2ResponseParams(
        0x0101, 3, 1, 0, 0x50)
    assert s.FindFirst2ResponseParams(0x0101, 3, 1, 0, 0x50).pack() == raw
    assert s.FindNext2ResponseParams.unpack_from(raw[2:]) == s.FindNext2ResponseParams(
        3, 1, 0, 0x50)
    assert_only_protocol_error_on_truncation(raw, s.FindFirst2ResponseParams.unpack_from)
    assert_only_protocol_error_on_truncation(raw[2:], s.FindNext2ResponseParams.unpack_from)


# ---------------------------------------------------------------- transaction responses


TRANS2_RESP = (rhdr(0x32) + b"\x0a" + b"\x0a\x00" + b"\x06\x00" + b"\x00\x00" + b"\x0a\x00"
               + b"\x38\x00" + b"\x00\x00" + b"\x06\x00" + b"\x44\x00" + b"\x00\x00" + b"\x00"
               + b"\x00" + b"\x13\x00" + b"\x00" + b"P" * 10 + b"\x00\x00" + b"D" * 6)


def test_transaction_response_single_exact() -> None:
    part = s.TransactionResponsePart(0x32, 10, 6, b"P" * 10, 0, b"D" * 6, 0)
    assert part.pack(RH) == TRANS2_RESP
    asm = s.TransactionAssembler(c.SMB_COM_TRANSACTION2)
    assert asm.feed(TRANS2_RESP)
    assert asm.result() == s.TransactionResponse(b"", b"P" * 10, b"D" * 6)
    assert_only_protocol_error_on_truncation(TRANS2_RESP, s.TransactionResponsePart.unpack_from)


def _part(command: int, tp: int, td: int, params: bytes, pdisp: int, data: bytes, ddisp: int,
          setup: bytes = b"") -> bytes:
    return s.TransactionResponsePart(command, tp, td, params, pdisp, data, ddisp,
                                     setup).pack(RH)


@pytest.mark.parametrize("command", [c.SMB_COM_TRANSACTION, c.SMB_COM_TRANSACTION2,
                                     c.SMB_COM_NT_TRANSACT])
def test_transaction_reassembly_from_three_fragments_out_of_order(command: int) -> None:
    params, data = b"0123456789", bytes(range(200))
    frags = [
        _part(command, 10, 200, b"", 0, data[100:200], 100, b"\x01\x00"),
        _part(command, 10, 200, params[:4], 0, data[:60], 0, b"\x01\x00"),
        _part(command, 10, 200, params[4:], 4, data[60:100], 60, b"\x01\x00"),
    ]
    asm = s.TransactionAssembler(command)
    assert not asm.feed(frags[0])
    assert not asm.feed(frags[1])
    assert asm.feed(frags[2]) and asm.complete
    result = asm.result()
    assert result == s.TransactionResponse(b"\x01\x00", params, data)
    assert result.setup_words == (1,)
    with pytest.raises(ProtocolError):  # nothing may follow a complete response
        asm.feed(frags[0])


def test_nt_transact_response_exact() -> None:
    # 18 words; data at 71, Pad1 to 72, parameters (4), data at 76.
    raw = (rhdr(0xA0) + b"\x12" + b"\x00\x00\x00" + b"\x04\x00\x00\x00" + b"\x03\x00\x00\x00"
           + b"\x04\x00\x00\x00" + b"\x48\x00\x00\x00" + b"\x00\x00\x00\x00"
           + b"\x03\x00\x00\x00" + b"\x4c\x00\x00\x00" + b"\x00\x00\x00\x00" + b"\x00"
           + b"\x08\x00" + b"\x00" + b"\x30\x00\x00\x00" + b"SD!")
    asm = s.TransactionAssembler(c.SMB_COM_NT_TRANSACT)
    assert asm.feed(raw)
    assert asm.result() == s.TransactionResponse(b"", b"\x30\x00\x00\x00", b"SD!")
    assert _part(0xA0, 4, 3, b"\x30\x00\x00\x00", 0, b"SD!", 0) == raw


@pytest.mark.parametrize("fragments", [
    # overlapping data displacements
    [(10, 8, b"", 0, b"abcd", 0), (10, 8, b"", 0, b"efgh", 2)],
    # a piece that runs past the total
    [(0, 6, b"", 0, b"abcd", 4)],
    # the total grows in a later response
    [(0, 6, b"", 0, b"abc", 0), (0, 8, b"", 0, b"def", 3)],
    # the total shrinks below what was received
    [(0, 8, b"", 0, b"efgh", 4), (0, 6, b"", 0, b"ab", 0)],
    # overlapping parameter displacements
    [(8, 0, b"abcd", 0, b"", 0), (8, 0, b"abcd", 3, b"", 0)],
    # same piece twice
    [(0, 8, b"", 0, b"abcd", 0), (0, 8, b"", 0, b"abcd", 0)],
])
def test_transaction_hostile_displacements(fragments) -> None:
    asm = s.TransactionAssembler(c.SMB_COM_TRANSACTION2)
    with pytest.raises(ProtocolError):
        for tp, td, params, pdisp, data, ddisp in fragments:
            asm.feed(_part(0x32, tp, td, params, pdisp, data, ddisp))


def test_transaction_size_cap_and_wrong_command() -> None:
    asm = s.TransactionAssembler(c.SMB_COM_TRANSACTION2, max_size=16 * 1024 * 1024)
    with pytest.raises(ProtocolError):
        asm.feed(_part(0x32, 0, 0xFFFF, b"", 0, b"x", 0))  # fine under the cap
        asm.feed(_part(0x32, 0, 0xFFFF, b"", 0, b"x", 0))  # overlap
    nt = s.TransactionAssembler(c.SMB_COM_NT_TRANSACT)
    with pytest.raises(ProtocolError):
        nt.feed(_part(0xA0, 0, 16 * 1024 * 1024 + 1, b"", 0, b"x", 0))
    with pytest.raises(ProtocolError):
        nt.feed(TRANS2_RESP)
    with pytest.raises(ProtocolError):
        s.TransactionAssembler(c.SMB_COM_TRANSACTION2).result()


@pytest.mark.parametrize("patch_at, value", [
    (33 + 8, b"\x10\x00"),    # ParameterOffset inside the header
    (33 + 8, b"\xf0\x00"),    # ParameterOffset past the end
    (33 + 14, b"\xff\x00"),   # DataOffset past the end
    (33 + 12, b"\x20\x00"),   # DataCount past the end
])
def test_transaction_offsets_outside_message(patch_at: int, value: bytes) -> None:
    raw = bytearray(TRANS2_RESP)
    raw[patch_at:patch_at + 2] = value
    with pytest.raises(ProtocolError):
        s.TransactionAssembler(c.SMB_COM_TRANSACTION2).feed(bytes(raw))


def test_transaction_setup_count_must_match_word_count() -> None:
    raw = bytearray(TRANS2_RESP)
    raw[33 + 18] = 2  # SetupCount 2 but WordCount 10
    with pytest.raises(ProtocolError):
        s.TransactionResponsePart.unpack_from(bytes(raw))
    with pytest.raises(ProtocolError):  # interim response (WordCount 0)
        s.TransactionResponsePart.unpack_from(rhdr(0x32) + b"\x00\x00\x00")


# ---------------------------------------------------------------- FIND data


def _both_entry(next_offset: int, index: int, name: str, short: str, eof: int,
                attrs: int) -> bytes:
    name_b, short_b = u16(name), u16(short)
    return (next_offset.to_bytes(4, "little") + index.to_bytes(4, "little")
            + (11).to_bytes(8, "little") + (12).to_bytes(8, "little")
            + (13).to_bytes(8, "little") + (14).to_bytes(8, "little")
            + eof.to_bytes(8, "little") + (4096).to_bytes(8, "little")
            + attrs.to_bytes(4, "little") + len(name_b).to_bytes(4, "little")
            + (0).to_bytes(4, "little") + bytes([len(short_b)]) + b"\x00"
            + short_b.ljust(24, b"\x00") + name_b)


FIND_DATA = (_both_entry(104, 1, "a.txt", "A.TXT", 1234, 0x20)
             + _both_entry(0, 2, "dir", "", 0, 0x10))


def test_parse_find_file_both_directory_info() -> None:
    assert len(_both_entry(0, 0, "a.txt", "", 0, 0)) == 104
    entries = s.parse_find_file_both_directory_info(FIND_DATA)
    assert entries == [
        s.FileBothDirectoryInfo(1, 11, 12, 13, 14, 1234, 4096, 0x20, 0, "A.TXT", "a.txt"),
        s.FileBothDirectoryInfo(2, 11, 12, 13, 14, 0, 4096, 0x10, 0, "", "dir"),
    ]
    assert s.pack_find_file_both_directory_info(entries) == FIND_DATA
    assert s.parse_find_file_both_directory_info(b"") == []
    # Cut exactly after the first entry, its NextEntryOffset lands on the end of the
    # data, which is how Samba marks the last entry.
    assert s.parse_find_file_both_directory_info(FIND_DATA[:104]) == entries[:1]
    for length in range(1, len(FIND_DATA)):
        if length != 104:
            with pytest.raises(ProtocolError):
                s.parse_find_file_both_directory_info(FIND_DATA[:length])


@pytest.mark.parametrize("data", [
    _both_entry(10, 1, "a.txt", "", 0, 0) + _both_entry(0, 2, "b", "", 0, 0),   # too short
    _both_entry(112, 1, "a.txt", "", 0, 0),                                     # past end
    _both_entry(0, 1, "a.txt", "", 0, 0)[:60] + b"\xff\x00\x00\x00"
    + _both_entry(0, 1, "a.txt", "", 0, 0)[64:],                                # name length
    _both_entry(0, 1, "a.txt", "", 0, 0)[:68] + b"\x1a"
    + _both_entry(0, 1, "a.txt", "", 0, 0)[69:],                                # short len 26
    _both_entry(0, 1, "a.txt", "", 0, 0)[:60] + b"\x09\x00\x00\x00"
    + _both_entry(0, 1, "a.txt", "", 0, 0)[64:],                                # odd UTF-16
])
def test_parse_find_entries_hostile(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        s.parse_find_file_both_directory_info(data)


# ---------------------------------------------------------------- information classes


def test_info_class_helpers() -> None:
    basic = s.FileBasicInformation(1, 2, 3, 4, 0x20)
    raw = (b"\x01" + b"\x00" * 7 + b"\x02" + b"\x00" * 7 + b"\x03" + b"\x00" * 7 + b"\x04"
           + b"\x00" * 7 + b"\x20\x00\x00\x00" + b"\x00\x00\x00\x00")
    assert basic.pack() == raw
    assert s.FileBasicInformation.unpack_from(raw) == basic
    assert s.pack_file_rename_information("\\b", True) == (
        b"\x01\x00\x00\x00" + b"\x00\x00\x00\x00" + b"\x04\x00\x00\x00" + u16("\\b"))
    assert s.pack_file_disposition_information() == b"\x01"
    assert s.pack_file_end_of_file_information(0x1234) == b"\x34\x12" + b"\x00" * 6
    full = struct.pack("<QQQII", 100, 50, 40, 8, 512)
    assert s.FileFsFullSizeInformation.unpack_from(full) == s.FileFsFullSizeInformation(
        100, 50, 40, 8, 512)
    assert s.FileFsSizeInformation.unpack_from(full[:8] + full[16:]) == s.FileFsSizeInformation(
        100, 40, 8, 512)
    assert_only_protocol_error_on_truncation(full, s.FileFsFullSizeInformation.unpack_from)


def test_file_all_information() -> None:
    name = u16("\\dir\\a.txt")
    raw = (raw_basic := struct.pack("<QQQQII", 1, 2, 3, 4, 0x20, 0)) + struct.pack(
        "<QQIBBH", 4096, 1234, 1, 0, 0, 0) + struct.pack("<Q", 77) + struct.pack(
        "<I", 0) + struct.pack("<I", 0x12019F) + struct.pack("<Q", 0) + struct.pack(
        "<I", 0) + struct.pack("<I", 0) + struct.pack("<I", len(name)) + name
    assert len(raw_basic) == 40 and len(raw) == 100 + len(name)
    info = s.FileAllInformation.unpack_from(raw)
    assert (info.creation_time, info.file_attributes, info.allocation_size, info.end_of_file,
            info.number_of_links, info.index_number, info.access_flags, info.file_name) == (
        1, 0x20, 4096, 1234, 1, 77, 0x12019F, "\\dir\\a.txt")
    assert not info.directory and not info.delete_pending
    with pytest.raises(ProtocolError):
        s.FileAllInformation.unpack_from(raw[:99])


# ---------------------------------------------------------------- signing


def test_smb1_signature_known_answer() -> None:
    mac_key = bytes(range(16)) + bytes(range(100, 124))
    msg = bytearray(s.build_message(s.replace(H, command=0x2B, flags2=0xC805), b"\x01\x00",
                                    b"ping"))
    msg[14:22] = b"\xaa" * 8
    expected = hashlib.md5(mac_key + bytes(msg[:14]) + b"\x05\x00\x00\x00\x00\x00\x00\x00"
                           + bytes(msg[22:])).digest()[:8]
    sig = s.smb1_signature(mac_key, bytes(msg), 5)
    assert sig == expected
    # The result does not depend on what the signature field held.
    assert s.smb1_signature(mac_key, bytes(msg[:14]) + b"\x00" * 8 + bytes(msg[22:]), 5) == sig
    assert s.smb1_signature(mac_key, bytes(msg), 6) != sig
    msg[14:22] = sig
    assert s.smb1_verify_signature(mac_key, bytes(msg), 5)
    assert not s.smb1_verify_signature(mac_key, bytes(msg), 4)
    with pytest.raises(ProtocolError):
        s.smb1_signature(mac_key, b"\xffSMB", 0)


# ---------------------------------------------------------------- module surface and fuzz


def test_pysmb_module_flags_and_reexports() -> None:
    from smb import exceptions
    assert s.SUPPORT_SMB2 is True and s.SUPPORT_SMB2x is True
    assert s.SUPPORT_EXTENDED_SECURITY is True
    assert s.ProtocolError is exceptions.ProtocolError
    assert s.OperationFailure is exceptions.OperationFailure
    assert s.UnsupportedFeature is exceptions.UnsupportedFeature
    assert c.SMB_COM_NT_CREATE_ANDX == c.SMBCommand.NT_CREATE_ANDX == 0xA2
    assert c.CAP_EXTENDED_SECURITY == c.Capabilities.EXTENDED_SECURITY
    assert c.SMB_FILE_ALL_INFORMATION == c.PassthroughLevel.FILE_ALL_INFORMATION == 1018


SAMPLES = [
    (NEG_EXT, s.NegotiateResponse),
    (SS_EXT_RESP, s.SessionSetupAndXResponse),
    (rhdr(0xA2) + b"\x22" + NTC_WORDS + b"\x00\x00", s.NtCreateAndXResponse),
    (TRANS2_RESP, s.TransactionResponsePart),
    (_create_read_chain(), s.parse_blocks),
    (rhdr(0x2E) + b"\x0c\xff\x00\x00\x00" + b"\x00\x00" * 3 + b"\x05\x00\x3c\x00\x00\x00"
     + b"\x00" * 8 + b"\x06\x00\x00hello", s.ReadAndXResponse),
]


def _parse(target, raw: bytes) -> None:
    if isinstance(target, type):
        target.unpack_from(raw)
    else:
        target(raw)


def test_random_mutations_raise_only_protocol_error() -> None:
    rng = random.Random(1234)
    for raw, target in SAMPLES:
        for _ in range(300):
            mutated = bytearray(raw)
            for _ in range(rng.randint(1, 4)):
                pos = rng.randrange(len(mutated))
                mutated[pos] = rng.randrange(256)
            try:
                _parse(target, bytes(mutated))
            except ProtocolError:
                pass
        for _ in range(100):
            cut = bytes(raw[:rng.randrange(len(raw))])
            with pytest.raises(ProtocolError):
                _parse(target, cut)


# ---------------------------------------------------------------- captures from our own Samba
# Samba 4.17 (server max protocol = NT1), anonymous guest session, share "pub" holding
# hello.txt ("hello world\n").  Requests were made without extended security.

CAP_NEGOTIATE = bytes.fromhex(
    "ff534d4272000000008803c00000000000000000000000000000000000000100110000033200010004410000"
    "000001006e600000fdf300004bda38b08b7bdd010000082400879c7630f17a93245400450053005400570047"
    "0000004300410050005300520056000000")
CAP_SESSION_SETUP = bytes.fromhex(
    "ff534d4273000000008803c00000000000000000000000000000341293a5020003ff00000000005100005700"
    "69006e0064006f0077007300200036002e0031000000530061006d0062006100200034002e00310037002e00"
    "310032002d00440065006200690061006e0000005400450053005400570047000000")
CAP_TREE_CONNECT = bytes.fromhex(
    "ff534d4275000000008803c0000000000000000000000000b30c341293a5030007ff0000000100ff011f0000"
    "0000000d00413a004e005400460053000000")
CAP_CREATE_READ = bytes.fromhex(
    "ff534d42a2000000008803c0000000000000000000000000b30c341293a504002a2e00880000ae0c01000000"
    "facaaa918b7bdd01909645998b7bdd01facaaa918b7bdd01facaaa918b7bdd01800000000010000000000000"
    "0c000000000000000000070000000000000000000000000000000000000000000000000000a9001200000000"
    "000000000cff000000ffff000000000c00a400000000000000000000000d000068656c6c6f20776f726c640a")
CAP_FIND_FIRST2 = bytes.fromhex(
    "ff534d4232000000008803c0000000000000000000000000b30c341293a505000a0a00340100000a00380000"
    "003401440000000000410100ffff030001000000c40000006000000000000000facaaa918b7bdd0190964599"
    "8b7bdd01facaaa918b7bdd01facaaa918b7bdd01000000000000000000000000000000001000000002000000"
    "0000000000000000000000000000000000000000000000000000000000002e006400000000000000d06b0cb0"
    "8b7bdd01793726b08b7bdd01d06b0cb08b7bdd01d06b0cb08b7bdd0100000000000000000000000000000000"
    "10000000040000000000000000000000000000000000000000000000000000000000000000002e002e000000"
    "7000000000000000facaaa918b7bdd01909645998b7bdd01facaaa918b7bdd01facaaa918b7bdd010c000000"
    "0000000000100000000000008000000012000000000000000000000000000000000000000000000000000000"
    "000000000000680065006c006c006f002e00740078007400")


def test_samba_capture_negotiate_without_extended_security() -> None:
    resp = s.NegotiateResponse.unpack_from(CAP_NEGOTIATE)
    assert resp.dialect_index == 0 and not resp.extended_security
    assert resp.security_mode == 3 and resp.max_buffer_size == 16644
    assert len(resp.challenge) == 8
    assert (resp.domain_name, resp.server_name) == ("TESTWG", "CAPSRV")
    assert resp.pack(s.Smb1Header.unpack_from(CAP_NEGOTIATE)) == CAP_NEGOTIATE


def test_samba_capture_session_setup_and_tree_connect() -> None:
    ss = s.SessionSetupAndXResponse.unpack_from(CAP_SESSION_SETUP)
    assert not ss.extended and ss.action == 0
    assert (ss.native_os, ss.native_lanman, ss.primary_domain) == (
        "Windows 6.1", "Samba 4.17.12-Debian", "TESTWG")
    assert ss.pack(s.Smb1Header.unpack_from(CAP_SESSION_SETUP)) == CAP_SESSION_SETUP
    tc = s.TreeConnectAndXResponse.unpack_from(CAP_TREE_CONNECT)
    assert tc == s.TreeConnectAndXResponse(1, "A:", "NTFS", 0x001F01FF, 0)
    assert tc.pack(s.Smb1Header.unpack_from(CAP_TREE_CONNECT)) == CAP_TREE_CONNECT


def test_samba_capture_extended_create_chained_with_read() -> None:
    header, blocks = s.parse_blocks(CAP_CREATE_READ)
    assert [(b.command, b.offset) for b in blocks] == [(0xA2, 32), (0x2E, 136)]
    create = s.NtCreateAndXResponse.from_block(blocks[0])
    assert create.extended and create.fid == 0x0CAE and create.end_of_file == 12
    assert create.maximal_access_rights == 0x001200A9
    assert s.ReadAndXResponse.from_block(blocks[1]).data == b"hello world\n"


def test_samba_capture_find_first2() -> None:
    asm = s.TransactionAssembler(c.SMB_COM_TRANSACTION2)
    assert asm.feed(CAP_FIND_FIRST2)
    result = asm.result()
    params = s.FindFirst2ResponseParams.unpack_from(result.parameters)
    assert (params.search_count, params.end_of_search, params.last_name_offset) == (3, 1, 196)
    entries = s.parse_find_file_both_directory_info(result.data)
    assert [(e.file_name, e.end_of_file, e.ext_file_attributes) for e in entries] == [
        (".", 0, 0x10), ("..", 0, 0x10), ("hello.txt", 12, 0x80)]


def test_file_all_information_short_layout_as_samba_sends_it() -> None:
    # [MS-CIFS] 2.2.8.3.10 layout: Samba's answer to level 1018 over SMB1.
    name = u16("\\hello.txt")
    raw = (struct.pack("<QQQQII", 1, 2, 3, 4, 0x80, 0) + struct.pack("<QQIBBH", 4096, 12, 1, 0, 0, 0)
           + struct.pack("<II", 0, len(name)) + name)
    assert len(raw) == 92
    info = s.FileAllInformation.unpack_from(raw)
    assert (info.file_attributes, info.allocation_size, info.end_of_file, info.number_of_links,
            info.file_name) == (0x80, 4096, 12, 1, "\\hello.txt")
