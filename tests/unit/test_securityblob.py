"""SPNEGO blob tests with exact bytes.

The client tokens and the server's final token come from the SMB 3.1.1 test
vectors Microsoft published (Windows 10 client and server, appendix A.1);
the NEGOTIATE hint is the one in that capture (NEGOEX + NTLMSSP) and a
Samba-style NegTokenInit2 with negHints.
"""
from __future__ import annotations

import pytest

from smb import securityblob as sb
from smb.exceptions import ProtocolError


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


def tlv(tag: int, body: bytes) -> bytes:
    """Minimal DER TLV writer, independent of pyasn1."""
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


NTLMSSP_OID_DER = h("060a2b06010401823702020a")
NEGOEX_OID_DER = h("060a2b06010401823702021e")

# NEGOTIATE_MESSAGE from the capture, and the SPNEGO token Windows wrapped it in.
NTLM_NEGOTIATE = h("4E544C4D5353500001000000978208E200000000000000000000000000000000060380250000000F")
WINDOWS_NEGOTIATE_TOKEN = h("""604806062B0601050502A03E303CA00E300C060A2B06010401823702020AA22A0428""") \
    + NTLM_NEGOTIATE

# Server's accept-incomplete reply carrying the CHALLENGE_MESSAGE.
CHALLENGE_TOKEN = h("""
    A181B03081ADA0030A0101A10C060A2B06010401823702020AA281970481944E544C4D53535000020000
    000C000C003800000015828AE25FC0CB7F886E93D6000000000000000050005000440000000A00922700
    00000F53005500540033003100310002000C0053005500540033003100310001000C0053005500540033
    003100310004000C0053005500540033003100310003000C0053005500540033003100310007000800248D
    5C6CCDAED00100000000""")

# Server's final accept-completed reply with its mechListMIC.
FINAL_TOKEN = h("A11B3019A0030A0100A3120410010000003932A87523AB660100000000")

# The whole NEGOTIATE response of appendix A.2; its security buffer is at 0x80, 0x140 long.
NEGOTIATE_RESPONSE = h("""
    FE534D4240000100000000000000010001000000000000000000000000000000FFFE000000000000
    000000000000000000000000000000000000000000000000410001001103020039CBCAF329714942
    BDCE5D60F09AB3FB27000000000080000000800000008000D04C8443CCAED00109094AB095AED001
    80004001C00100006082013C06062B0601050502A08201303082012CA01A3018060A2B0601040182
    3702021E060A2B06010401823702020AA282010C048201084E45474F455854530100000000000000
    60000000700000007F7CC0FD06D6362D02DDE1CF343BFE2973007DCF55CA793E082B7A257DEFE6E8
    E18291ABF112C0599108C772F55CBB2A000000000000000060000000010000000000000000000000
    5C33530DEAF90D4DB2EC4AE3786EC3084E45474F4558545303000000010000004000000098000000
    7F7CC0FD06D6362D02DDE1CF343BFE295C33530DEAF90D4DB2EC4AE3786EC3084000000058000000
    3056A05430523027802530233121301F06035504031318546F6B656E205369676E696E6720507562
    6C6963204B65793027802530233121301F06035504031318546F6B656E205369676E696E67205075
    626C6963204B6579010026000000000001002000010088AFA422ECC239CB16F30BA641AE4B6EE79F
    5A4AF74FE18A301E9790515D07F70000020004000000000001000100""")
WINDOWS_HINT = NEGOTIATE_RESPONSE[0x80:0x80 + 0x140]


def test_constants() -> None:
    assert (sb.RESULT_ACCEPT_COMPLETED, sb.RESULT_ACCEPT_INCOMPLETE, sb.RESULT_REJECT,
            sb.RESULT_REQUEST_MIC) == (0, 1, 2, 3)
    assert sb.MECH_TYPES_DER == tlv(0x30, NTLMSSP_OID_DER)


def test_negotiate_token_is_byte_identical_to_windows() -> None:
    assert sb.generateNegotiateSecurityBlob(NTLM_NEGOTIATE) == WINDOWS_NEGOTIATE_TOKEN


def test_negotiate_token_long_form_lengths() -> None:
    payload = bytes(range(256)) * 2
    expected = tlv(0x60, h("06062b0601050502") + tlv(0xA0, tlv(0x30,
        tlv(0xA0, tlv(0x30, NTLMSSP_OID_DER)) + tlv(0xA2, tlv(0x04, payload)))))
    assert sb.generateNegotiateSecurityBlob(payload) == expected


def test_auth_token_exact_bytes() -> None:
    ntlm_auth = b"NTLMSSP\x00\x03\x00\x00\x00" + bytes(200)
    assert sb.generateAuthSecurityBlob(ntlm_auth) == \
        tlv(0xA1, tlv(0x30, tlv(0xA2, tlv(0x04, ntlm_auth))))
    mic = h("010000003932A87523AB660100000000")
    assert sb.generateAuthSecurityBlob(ntlm_auth, mech_list_mic=mic) == \
        tlv(0xA1, tlv(0x30, tlv(0xA2, tlv(0x04, ntlm_auth)) + tlv(0xA3, tlv(0x04, mic))))


def test_auth_token_round_trip() -> None:
    token = sb.generateAuthSecurityBlob(b"NTLMSSP\x00abc", mech_list_mic=b"\x01" * 16)
    assert sb.decode_neg_token_resp(token) == (None, b"NTLMSSP\x00abc", b"\x01" * 16)


def test_decode_challenge_token() -> None:
    result, token = sb.decodeChallengeSecurityBlob(CHALLENGE_TOKEN)
    assert result == sb.RESULT_ACCEPT_INCOMPLETE
    assert token == CHALLENGE_TOKEN[-0x94:]
    assert token.startswith(b"NTLMSSP\x00\x02\x00\x00\x00")


def test_decode_final_token() -> None:
    assert sb.decodeAuthResponseSecurityBlob(FINAL_TOKEN) == sb.RESULT_ACCEPT_COMPLETED
    assert sb.decode_neg_token_resp(FINAL_TOKEN) == (
        0, None, h("010000003932A87523AB660100000000"))


def test_decode_reject_and_request_mic() -> None:
    reject = tlv(0xA1, tlv(0x30, tlv(0xA0, h("0a0102"))))
    assert sb.decodeAuthResponseSecurityBlob(reject) == sb.RESULT_REJECT
    request_mic = tlv(0xA1, tlv(0x30, tlv(0xA0, h("0a0103"))))
    assert sb.decode_neg_token_resp(request_mic) == (sb.RESULT_REQUEST_MIC, None, None)


def test_challenge_without_response_token_is_an_error() -> None:
    with pytest.raises(ProtocolError):
        sb.decodeChallengeSecurityBlob(tlv(0xA1, tlv(0x30, tlv(0xA0, h("0a0101")))))


def test_final_without_neg_state_is_an_error() -> None:
    with pytest.raises(ProtocolError):
        sb.decodeAuthResponseSecurityBlob(tlv(0xA1, tlv(0x30, tlv(0xA3, tlv(0x04, bytes(16))))))


def test_other_mechanism_is_refused() -> None:
    kerberos = h("06092a864886f712010202")
    token = tlv(0xA1, tlv(0x30, tlv(0xA0, h("0a0101")) + tlv(0xA1, kerberos)
                       + tlv(0xA2, tlv(0x04, b"krb"))))
    with pytest.raises(ProtocolError):
        sb.decodeChallengeSecurityBlob(token)


def test_windows_negotiate_hint() -> None:
    assert sb.decode_server_negotiate_hint(WINDOWS_HINT) == [
        "1.3.6.1.4.1.311.2.2.30", "1.3.6.1.4.1.311.2.2.10"]


def test_samba_negotiate_hint_with_neg_hints() -> None:
    mech_types = tlv(0x30, h("06092a864886f712010202") + h("06092a864882f712010202")
                     + NTLMSSP_OID_DER)
    hints = tlv(0xA3, tlv(0x30, tlv(0xA0, tlv(0x1B, b"not_defined_in_RFC4178@please_ignore"))))
    blob = tlv(0x60, h("06062b0601050502") + tlv(0xA0, tlv(0x30, tlv(0xA0, mech_types) + hints)))
    assert sb.decode_server_negotiate_hint(blob) == [
        "1.2.840.113554.1.2.2", "1.2.840.48018.1.2.2", "1.3.6.1.4.1.311.2.2.10"]


def test_empty_negotiate_hint() -> None:
    assert sb.decode_server_negotiate_hint(b"") == []
    no_mechs = tlv(0x60, h("06062b0601050502") + tlv(0xA0, tlv(0x30, b"")))
    assert sb.decode_server_negotiate_hint(no_mechs) == []


def test_non_spnego_hint_is_refused() -> None:
    blob = tlv(0x60, h("06092a864886f712010202") + tlv(0xA0, tlv(0x30, b"")))
    with pytest.raises(ProtocolError):
        sb.decode_server_negotiate_hint(blob)


@pytest.mark.parametrize("bad", [
    b"\x00",
    b"\xa1",
    b"\xa1\x05\x30\x03",
    b"\xa1\x84\xff\xff\xff\xff\x30",
    FINAL_TOKEN[:-3],
    b"\x04\x03abc",
    WINDOWS_NEGOTIATE_TOKEN,            # an init token where a response is expected
])
def test_garbage_response_raises_protocol_error(bad: bytes) -> None:
    with pytest.raises(ProtocolError):
        sb.decode_neg_token_resp(bad)
    with pytest.raises(ProtocolError):
        sb.decodeAuthResponseSecurityBlob(bad)


@pytest.mark.parametrize("bad", [b"\x60", b"\x60\x03\x06\x01", FINAL_TOKEN, WINDOWS_HINT[:40],
                                 b"\x30\x00"])
def test_garbage_hint_raises_protocol_error(bad: bytes) -> None:
    with pytest.raises(ProtocolError):
        sb.decode_server_negotiate_hint(bad)


def test_every_truncation_and_bit_flip_is_handled() -> None:
    for blob, decode in ((CHALLENGE_TOKEN, sb.decodeChallengeSecurityBlob),
                         (WINDOWS_HINT, sb.decode_server_negotiate_hint)):
        for cut in range(len(blob)):
            try:
                decode(blob[:cut])
            except ProtocolError:
                pass
        for pos in range(0, len(blob), 3):
            buf = bytearray(blob)
            buf[pos] ^= 0xA5
            try:
                decode(bytes(buf))
            except ProtocolError:
                pass
