"""NTLMSSP tests: every known answer of [MS-NLMP] section 4.2, plus message
encoding/decoding round trips and hostile CHALLENGE messages."""
from __future__ import annotations

import struct

import pytest

from smb import crypto, ntlm
from smb.exceptions import ProtocolError
from smb.ntlm import AvId, NegotiateFlags as F, NtlmContext, NtlmSecurity


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# [MS-NLMP] 4.2.1 common values.
USER, DOMAIN, PASSWORD, WORKSTATION = "User", "Domain", "Password", "COMPUTER"
RANDOM_SESSION_KEY = b"\x55" * 16
CLIENT_CHALLENGE = b"\xaa" * 8
SERVER_CHALLENGE = h("0123456789abcdef")
PLAINTEXT = "Plaintext".encode("utf-16-le")

# [MS-NLMP] 4.2.4 target info: MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server".
TARGET_INFO = h("02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000")

# [MS-NLMP] 4.2.4.3 CHALLENGE_MESSAGE and AUTHENTICATE_MESSAGE.
SPEC_V2_CHALLENGE = h("""
    4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400
    240044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e00
    01000c0053006500720076006500720000000000""")
SPEC_V2_AUTHENTICATE = h("""
    4e544c4d535350000300000018001800 6c00000054005400840000000c000c00
    48000000080008005400000010001000 5c00000010001000d8000000358288e2
    0501280a0000000f44006f006d006100 69006e00550073006500720043004f00
    4d005000550054004500520086c35097 ac9cec102554764a57cccc19aaaaaaaa
    aaaaaaaa68cd0ab851e51c96aabc927b ebef6a1c010100000000000000000000
    00000000aaaaaaaaaaaaaaaa00000000 02000c0044006f006d00610069006e00
    01000c00530065007200760065007200 0000000000000000c5dad2544fc97990
    94ce1ce90bc9d03e""")


def fixed_rand(n: int) -> bytes:
    return {8: CLIENT_CHALLENGE, 16: RANDOM_SESSION_KEY}[n]


EPOCH_OF_FILETIME_ZERO = -11644473600.0


# -- one-way functions --------------------------------------------------------

def test_owf_values() -> None:
    assert ntlm.lm_hash(PASSWORD) == h("e52cac67419a9a224a3b108f3fa6cb6d")     # 4.2.2.1.1
    assert ntlm.nt_hash(PASSWORD) == h("a4f49c406510bdcab6824ee7c30fd852")     # 4.2.2.1.2
    assert ntlm.ntowf_v2(PASSWORD, USER, DOMAIN) == h("0c868a403bfd7a93a3001ef22ef02e3f")  # 4.2.4.1.1
    assert ntlm.ntowf_v2(PASSWORD, "user", DOMAIN) == ntlm.ntowf_v2(PASSWORD, USER, DOMAIN)
    assert ntlm.ntowf_v2(PASSWORD, USER, "domain") != ntlm.ntowf_v2(PASSWORD, USER, DOMAIN)


# -- 4.2.2 NTLMv1 -------------------------------------------------------------

V1_FLAGS = 0xE2028233


def test_ntlmv1_responses_4_2_2() -> None:
    nt, lm, session_base_key = ntlm.generateChallengeResponseV1(PASSWORD, SERVER_CHALLENGE)
    assert nt == h("67c43011f30298a2ad35ece64f16331c44bdbed927841f94")
    assert lm == h("98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13")
    assert session_base_key == h("d87262b0cde4b1cb7499becccdf10784")


@pytest.mark.parametrize("extra_flag,kxkey,encrypted", [
    (0, "d87262b0cde4b1cb7499becccdf10784", "518822b1b3f350c8958682ecbb3e3cb7"),
    (F.NEGOTIATE_LM_KEY, "b09e379f7fbecb1eaf0afdcb0383c8a0", "4cd7bb57d697ef9b549f02b8f9b37864"),
    (F.REQUEST_NON_NT_SESSION_KEY, "e52cac67419a9a220000000000000000",
     "7452ca55c225a1ca04b48fae32cf56fc"),
])
def test_ntlmv1_key_exchange_4_2_2(extra_flag: int, kxkey: str, encrypted: str) -> None:
    _nt, lm, session_base_key = ntlm.generateChallengeResponseV1(PASSWORD, SERVER_CHALLENGE)
    key = ntlm._v1_key_exchange_key(V1_FLAGS | extra_flag, session_base_key,
                                    ntlm.lm_hash(PASSWORD), SERVER_CHALLENGE, lm)
    assert key == h(kxkey)
    assert crypto.rc4(key, RANDOM_SESSION_KEY) == h(encrypted)


def test_ntlmv1_gss_wrap_4_2_2_4() -> None:
    security = NtlmSecurity(V1_FLAGS, RANDOM_SESSION_KEY)
    sealed, signature = security.seal(PLAINTEXT)
    assert sealed == h("56fe04d861f9319af0d7238a2e3b4d457fb8")
    assert signature == h("01000000 00000000 09dcd1df 2e459d36")


# -- 4.2.3 NTLMv1 with client challenge (extended session security) ---------

ESS_FLAGS = 0x820A8233


def test_ntlmv1_ess_responses_4_2_3() -> None:
    nt, lm, session_base_key = ntlm.generateChallengeResponseV1(
        PASSWORD, SERVER_CHALLENGE, has_extended_security=True, client_challenge=CLIENT_CHALLENGE)
    assert lm == h("aaaaaaaaaaaaaaaa00000000000000000000000000000000")
    assert nt == h("7537f803ae367128ca458204bde7caf81e97ed2683267232")
    assert session_base_key == h("d87262b0cde4b1cb7499becccdf10784")
    key = ntlm._v1_key_exchange_key(ESS_FLAGS, session_base_key, b"", SERVER_CHALLENGE, lm)
    assert key == h("eb93429a8bd952f8b89c55b87f475edc")


def test_ntlmv1_ess_keys_and_gss_wrap_4_2_3_4() -> None:
    # No KEY_EXCH in these flags: the exported session key is the KXKEY.
    security = NtlmSecurity(ESS_FLAGS, h("eb93429a8bd952f8b89c55b87f475edc"))
    assert security.client_signing_key == h("60e799be5c72fc92922ae8ebe961fb8d")
    assert security.client_sealing_key == h("04dd7f014d8504d265a25cc86a3a7c06")
    sealed, signature = security.seal(PLAINTEXT)
    assert sealed == h("a02372f6530273f3aa1eb90190ce5200c99d")
    assert signature == h("01000000ff2aeb52f681793a00000000")


# -- 4.2.4 NTLMv2 ---------------------------------------------------------------

V2_FLAGS = 0xE28A8233


def test_ntlmv2_responses_4_2_4() -> None:
    nt, lm, session_base_key = ntlm.generateChallengeResponseV2(
        PASSWORD, USER, SERVER_CHALLENGE, TARGET_INFO, DOMAIN, client_challenge=CLIENT_CHALLENGE)
    assert lm == h("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
    assert nt[:16] == h("68cd0ab851e51c96aabc927bebef6a1c")
    assert nt[16:] == h("0101000000000000 0000000000000000 aaaaaaaaaaaaaaaa 00000000") \
        + TARGET_INFO + b"\x00" * 4
    assert session_base_key == h("8de40ccadbc14a82f15cb0ad0de95ca3")
    assert crypto.rc4(session_base_key, RANDOM_SESSION_KEY) == h("c5dad2544fc9799094ce1ce90bc9d03e")


def test_ntlmv2_keys_and_gss_wrap_4_2_4_4() -> None:
    client = NtlmSecurity(V2_FLAGS, RANDOM_SESSION_KEY, is_client=True)
    assert client.client_signing_key == h("4788dc861b4782f35d43fd98fe1a2d39")
    assert client.client_sealing_key == h("59f600973cc4960a25480a7c196e4c58")
    sealed, signature = client.seal(PLAINTEXT)
    assert sealed == h("54e50165bf1936dc996020c1811b0f06fb5f")
    assert signature == h("010000007fb38ec5c55d497600000000")
    # The other direction, as the server produces it.
    server = NtlmSecurity(V2_FLAGS, RANDOM_SESSION_KEY, is_client=False)
    sealed, signature = server.seal(PLAINTEXT)
    assert sealed == h("160871b730ba74e946c453d7465b54278dd0")
    assert signature == h("01000000b298b847ce7c580700000000")
    # ... and the client unwraps it.
    assert NtlmSecurity(V2_FLAGS, RANDOM_SESSION_KEY).unseal(sealed, signature) == PLAINTEXT
    with pytest.raises(ProtocolError):
        NtlmSecurity(V2_FLAGS, RANDOM_SESSION_KEY).unseal(sealed, signature[:-1] + b"\x01")


def test_decode_spec_challenge_message() -> None:
    server_challenge, flags, target_info = ntlm.decodeChallengeMessage(SPEC_V2_CHALLENGE)
    assert server_challenge == SERVER_CHALLENGE
    assert flags == V2_FLAGS
    assert target_info == TARGET_INFO
    msg = ntlm.ChallengeMessage.unpack_from(SPEC_V2_CHALLENGE)
    assert msg.target_name == "Server".encode("utf-16-le")
    assert msg.version == h("060070170000000f")
    assert ntlm.parse_av_pairs(target_info) == [
        (AvId.MsvAvNbDomainName, "Domain".encode("utf-16-le")),
        (AvId.MsvAvNbComputerName, "Server".encode("utf-16-le")),
    ]


def test_context_reproduces_spec_authenticate_message() -> None:
    ctx = NtlmContext(USER, PASSWORD, DOMAIN, WORKSTATION, rand=fixed_rand,
                      now=lambda: EPOCH_OF_FILETIME_ZERO)
    ctx.negotiate_message()
    auth = ctx.authenticate_message(SPEC_V2_CHALLENGE)
    # Identical to the spec's bytes except NegotiateFlags (ours: what both sides
    # asked for) and our Version.
    assert auth[:60] == SPEC_V2_AUTHENTICATE[:60]
    assert auth[72:] == SPEC_V2_AUTHENTICATE[72:]
    assert ctx.negotiated_flags == struct.unpack_from("<I", auth, 60)[0]
    assert ctx.negotiated_flags == int(
        F.NEGOTIATE_UNICODE | F.NEGOTIATE_SIGN | F.NEGOTIATE_NTLM | F.NEGOTIATE_ALWAYS_SIGN
        | F.TARGET_TYPE_SERVER | F.NEGOTIATE_EXTENDED_SESSIONSECURITY | F.NEGOTIATE_TARGET_INFO
        | F.NEGOTIATE_VERSION | F.NEGOTIATE_128 | F.NEGOTIATE_KEY_EXCH)
    assert ctx.session_key == RANDOM_SESSION_KEY
    assert not ctx.mic_sent and not ctx.anonymous


# -- the pysmb-compatible encoders ----------------------------------------------

def test_generate_negotiate_message() -> None:
    msg = ntlm.generateNegotiateMessage()
    assert msg == b"NTLMSSP\x00" + h("01000000") + struct.pack("<I", ntlm.NTLM_FLAGS) \
        + bytes(16) + h("0601b11d0000000f")
    assert ntlm.NTLM_FLAGS == 0x62888215


def _auth_fields(auth: bytes) -> dict:
    names = ["lm", "nt", "domain", "user", "workstation", "key"]
    out = {}
    for i, name in enumerate(names):
        length, _max, offset = struct.unpack_from("<HHI", auth, 12 + 8 * i)
        out[name] = auth[offset:offset + length]
    out["flags"] = struct.unpack_from("<I", auth, 60)[0]
    return out


def test_generate_authenticate_message_round_trip() -> None:
    nt, lm, key = ntlm.generateChallengeResponseV2(
        PASSWORD, USER, SERVER_CHALLENGE, TARGET_INFO, DOMAIN, client_challenge=CLIENT_CHALLENGE)
    auth, exported = ntlm.generateAuthenticateMessage(V2_FLAGS, nt, lm, key, USER, DOMAIN,
                                                      WORKSTATION)
    fields = _auth_fields(auth)
    assert fields["nt"] == nt and fields["lm"] == lm
    assert fields["user"] == b"U\x00s\x00e\x00r\x00"
    assert fields["domain"] == "Domain".encode("utf-16-le")
    assert fields["workstation"] == "COMPUTER".encode("utf-16-le")
    assert fields["flags"] == V2_FLAGS & ~F.NEGOTIATE_VERSION
    assert crypto.rc4(key, fields["key"]) == exported and len(exported) == 16

    auth, exported = ntlm.generateAuthenticateMessage(
        V2_FLAGS & ~F.NEGOTIATE_KEY_EXCH, nt, lm, key, USER)
    fields = _auth_fields(auth)
    assert exported == key and fields["key"] == b""
    assert fields["domain"] == "WORKGROUP".encode("utf-16-le")
    assert fields["workstation"] == "LOCALHOST".encode("utf-16-le")


# -- the context: MIC, v1, anonymous, session security --------------------------

def _challenge(flags: int = V2_FLAGS, target_info: bytes = TARGET_INFO) -> bytes:
    return ntlm.ChallengeMessage(flags=flags, server_challenge=SERVER_CHALLENGE,
                                 target_name="Server".encode("utf-16-le"),
                                 target_info=target_info, version=h("0a0063450000000f")).pack()


SERVER_TIME = struct.pack("<Q", 0x01D9AB0123456789)
TARGET_INFO_WITH_TIME = ntlm.build_av_pairs([
    (AvId.MsvAvNbDomainName, "Domain".encode("utf-16-le")),
    (AvId.MsvAvNbComputerName, "Server".encode("utf-16-le")),
    (AvId.MsvAvTimestamp, SERVER_TIME),
])


def _server_check_v2(auth: bytes, challenge: bytes) -> bytes:
    """An independent server-side check of an NTLMv2 AUTHENTICATE; returns the
    exported session key it recovers."""
    fields = _auth_fields(auth)
    assert fields["user"].decode("utf-16-le") == USER
    response_key = crypto.hmac_md5(crypto.md4(PASSWORD.encode("utf-16-le")),
                                   (USER.upper() + DOMAIN).encode("utf-16-le"))
    nt = fields["nt"]
    assert crypto.hmac_md5(response_key, SERVER_CHALLENGE + nt[16:]) == nt[:16]
    session_base_key = crypto.hmac_md5(response_key, nt[:16])
    return crypto.rc4(session_base_key, fields["key"])


def test_context_ntlmv2_with_server_timestamp_sends_mic() -> None:
    challenge = _challenge(target_info=TARGET_INFO_WITH_TIME)
    ctx = NtlmContext(USER, PASSWORD, DOMAIN, WORKSTATION, rand=fixed_rand,
                      now=lambda: pytest.fail("the server timestamp must be used"))
    negotiate = ctx.negotiate_message()
    auth = ctx.authenticate_message(challenge)
    fields = _auth_fields(auth)
    assert ctx.mic_sent
    assert fields["lm"] == bytes(24)                       # Z(24) when a timestamp is present
    temp = fields["nt"][16:]
    assert temp[8:16] == SERVER_TIME
    assert temp[16:24] == CLIENT_CHALLENGE
    pairs = dict(ntlm.parse_av_pairs(temp[28:]))
    assert pairs[AvId.MsvAvFlags] == struct.pack("<I", ntlm.AV_FLAG_MIC_PRESENT)
    assert pairs[AvId.MsvAvTimestamp] == SERVER_TIME
    assert temp.endswith(b"\x00" * 8)                      # MsvAvEOL then Z(4)
    # Payload starts after the 88-byte header (64 + Version + MIC).
    assert min(struct.unpack_from("<I", auth, 16 + 8 * i)[0] for i in range(6)) == 88
    exported = _server_check_v2(auth, challenge)
    assert exported == ctx.session_key == RANDOM_SESSION_KEY
    mic = crypto.hmac_md5(exported, negotiate + challenge + auth[:72] + bytes(16) + auth[88:])
    assert auth[72:88] == mic


def test_context_ntlmv2_without_timestamp_uses_clock() -> None:
    ctx = NtlmContext(USER, PASSWORD, DOMAIN, rand=fixed_rand, now=lambda: 1055844000.0)
    auth = ctx.authenticate_message(_challenge())
    temp = _auth_fields(auth)["nt"][16:]
    assert temp[8:16] == h("0090d336b734c301")
    assert not ctx.mic_sent
    assert _auth_fields(auth)["lm"] == h("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")


def test_context_mech_list_mic_matches_server_side() -> None:
    ctx = NtlmContext(USER, PASSWORD, DOMAIN, rand=fixed_rand)
    ctx.authenticate_message(_challenge(target_info=TARGET_INFO_WITH_TIME))
    mech_types = h("300c060a2b06010401823702020a")
    mic = ctx.mech_list_mic(mech_types)
    assert len(mic) == 16 and mic[:4] == b"\x01\x00\x00\x00" and mic[12:] == bytes(4)
    # The checksum is HMAC_MD5(client signing key, seq 0 || message)[:8], RC4-sealed (KEY_EXCH).
    security = NtlmSecurity(ctx.negotiated_flags, RANDOM_SESSION_KEY)
    raw = crypto.hmac_md5(security.client_signing_key, bytes(4) + mech_types)[:8]
    assert crypto.rc4(security.client_sealing_key, raw) == mic[4:12]
    server = NtlmSecurity(ctx.negotiated_flags, RANDOM_SESSION_KEY, is_client=False)
    assert server.verify(mech_types, mic)
    server_mic = NtlmSecurity(ctx.negotiated_flags, RANDOM_SESSION_KEY, is_client=False).sign(mech_types)
    assert ctx.verify_mech_list_mic(mech_types, server_mic)


def test_context_rejects_wrong_server_mic() -> None:
    ctx = NtlmContext(USER, PASSWORD, DOMAIN, rand=fixed_rand)
    ctx.authenticate_message(_challenge(target_info=TARGET_INFO_WITH_TIME))
    wrong = NtlmSecurity(ctx.negotiated_flags, b"\x66" * 16, is_client=False).sign(b"x")
    assert not ctx.verify_mech_list_mic(b"x", wrong)
    assert not ctx.verify_mech_list_mic(b"x", b"short")


def test_mic_before_authentication_is_an_error() -> None:
    with pytest.raises(ValueError):
        NtlmContext(USER, PASSWORD).mech_list_mic(b"x")


def test_context_ntlmv1_with_ess() -> None:
    ctx = NtlmContext(USER, PASSWORD, DOMAIN, use_ntlm_v2=False, rand=fixed_rand)
    auth = ctx.authenticate_message(_challenge(flags=V2_FLAGS))
    fields = _auth_fields(auth)
    assert fields["nt"] == h("7537f803ae367128ca458204bde7caf81e97ed2683267232")
    assert fields["lm"] == CLIENT_CHALLENGE + bytes(16)
    kxkey = h("eb93429a8bd952f8b89c55b87f475edc")
    assert crypto.rc4(kxkey, fields["key"]) == ctx.session_key == RANDOM_SESSION_KEY
    assert ctx.negotiated_flags & F.NEGOTIATE_EXTENDED_SESSIONSECURITY


def test_context_ntlmv1_without_ess() -> None:
    flags = V2_FLAGS & ~F.NEGOTIATE_EXTENDED_SESSIONSECURITY
    ctx = NtlmContext(USER, PASSWORD, DOMAIN, use_ntlm_v2=False, rand=fixed_rand)
    auth = ctx.authenticate_message(_challenge(flags=flags))
    fields = _auth_fields(auth)
    assert fields["nt"] == h("67c43011f30298a2ad35ece64f16331c44bdbed927841f94")
    assert fields["lm"] == fields["nt"]        # the LM hash is never exposed
    assert crypto.rc4(h("d87262b0cde4b1cb7499becccdf10784"), fields["key"]) == RANDOM_SESSION_KEY
    assert not ctx.negotiated_flags & F.NEGOTIATE_EXTENDED_SESSIONSECURITY


def test_context_anonymous() -> None:
    ctx = NtlmContext("", "", rand=fixed_rand)
    assert ctx.anonymous
    auth = ctx.authenticate_message(_challenge(target_info=TARGET_INFO_WITH_TIME))
    fields = _auth_fields(auth)
    assert fields["nt"] == b"" and fields["lm"] == b"\x00"
    assert fields["user"] == b""
    assert fields["flags"] & F.ANONYMOUS
    assert not ctx.mic_sent
    assert crypto.rc4(bytes(16), fields["key"]) == ctx.session_key


def test_context_guest_with_unknown_user_is_an_ordinary_logon() -> None:
    ctx = NtlmContext("nosuchuser", "whatever", rand=fixed_rand)
    assert not ctx.anonymous
    auth = ctx.authenticate_message(_challenge())
    assert len(_auth_fields(auth)["nt"]) > 24
    assert "whatever" not in repr(ctx)


def test_oem_server_gets_oem_strings() -> None:
    flags = (V2_FLAGS & ~F.NEGOTIATE_UNICODE) | F.NEGOTIATE_OEM
    ctx = NtlmContext(USER, PASSWORD, DOMAIN, WORKSTATION, rand=fixed_rand)
    fields = _auth_fields(ctx.authenticate_message(_challenge(flags=flags)))
    assert fields["user"] == b"User" and fields["domain"] == b"Domain"
    assert not fields["flags"] & F.NEGOTIATE_UNICODE


# -- hostile CHALLENGE messages --------------------------------------------------

def _patch(msg: bytes, offset: int, fmt: str, *values: int) -> bytes:
    buf = bytearray(msg)
    struct.pack_into(fmt, buf, offset, *values)
    return bytes(buf)


@pytest.mark.parametrize("bad", [
    b"",
    b"NTLMSSP\x00",
    SPEC_V2_CHALLENGE[:31],
    b"NTLMSSX\x00" + SPEC_V2_CHALLENGE[8:],
    _patch(SPEC_V2_CHALLENGE, 8, "<I", 3),                       # wrong message type
    _patch(SPEC_V2_CHALLENGE, 12, "<HHI", 12, 12, 0xFFFFFFF0),    # TargetName offset outside
    _patch(SPEC_V2_CHALLENGE, 40, "<HHI", 0x24, 0x24, 0x70),      # TargetInfo runs past the end
    _patch(SPEC_V2_CHALLENGE, 40, "<HHI", 0xFFFF, 0xFFFF, 0x44),
    SPEC_V2_CHALLENGE[:-10],                                     # truncated inside TargetInfo
])
def test_malformed_challenge_raises_protocol_error(bad: bytes) -> None:
    with pytest.raises(ProtocolError):
        ntlm.decodeChallengeMessage(bad)
    with pytest.raises(ProtocolError):
        NtlmContext(USER, PASSWORD, rand=fixed_rand).authenticate_message(bad)


def test_malformed_av_pairs_raise_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        ntlm.parse_av_pairs(b"\x02\x00")
    with pytest.raises(ProtocolError):
        ntlm.parse_av_pairs(b"\x02\x00\x10\x00abc")
    bad_time = ntlm.build_av_pairs([(AvId.MsvAvTimestamp, b"\x00" * 7)])
    with pytest.raises(ProtocolError):
        NtlmContext(USER, PASSWORD, rand=fixed_rand).authenticate_message(
            _challenge(target_info=bad_time))
    bad_flags = ntlm.build_av_pairs([(AvId.MsvAvFlags, b"\x00")])
    with pytest.raises(ProtocolError):
        NtlmContext(USER, PASSWORD, rand=fixed_rand).authenticate_message(
            _challenge(target_info=bad_flags))


def test_every_truncation_and_bit_flip_is_handled() -> None:
    for cut in range(len(SPEC_V2_CHALLENGE)):
        try:
            NtlmContext(USER, PASSWORD, rand=fixed_rand).authenticate_message(
                SPEC_V2_CHALLENGE[:cut])
        except ProtocolError:
            pass
    for pos in range(len(SPEC_V2_CHALLENGE)):
        buf = bytearray(SPEC_V2_CHALLENGE)
        buf[pos] ^= 0xFF
        try:
            NtlmContext(USER, PASSWORD, rand=fixed_rand).authenticate_message(bytes(buf))
        except ProtocolError:
            pass


def test_minimal_old_style_challenge_is_accepted() -> None:
    # 32-byte CHALLENGE without TargetInfo fields (pre-NTLMv2 servers).
    old = b"NTLMSSP\x00" + struct.pack("<IHHII", 2, 0, 0, 32, 0x00008201) + SERVER_CHALLENGE
    assert ntlm.decodeChallengeMessage(old) == (SERVER_CHALLENGE, 0x00008201, b"")
    ctx = NtlmContext(USER, PASSWORD, use_ntlm_v2=False, rand=fixed_rand)
    fields = _auth_fields(ctx.authenticate_message(old))
    assert fields["nt"] == h("67c43011f30298a2ad35ece64f16331c44bdbed927841f94")
