"""Known-answer tests for smb.crypto.

Sources: RFC 1320 (MD4), RFC 4493 (AES-CMAC), the GCM specification test
cases (McGrew/Viega, as used by NIST), RFC 6229 (RC4), the FIPS 81 / classic
DES example, and the SMB 3.1.1 test vectors Microsoft published with
[MS-SMB2] ("SMB 3.1.1 Encryption in Windows 10", appendix A.1 AES-GCM and
A.2 AES-CCM; "Encryption in SMB 3.0: a protocol perspective").
"""
from __future__ import annotations

import pytest

from smb import crypto
from smb.exceptions import ProtocolError
from smb.utils import convertEpochToFILETIME, convertFILETIMEtoEpoch
from smb.utils.md4 import MD4, new as md4_new


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# -- MD4 (RFC 1320 A.5) ------------------------------------------------------

MD4_VECTORS = [
    (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
    (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
    (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
    (b"message digest", "d9130a8164549fe818874806e1c7014b"),
    (b"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
    (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "043f8582f241db351ce627e153e7f0e4"),
    (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
]


@pytest.mark.parametrize("data,digest", MD4_VECTORS)
def test_md4_rfc1320(data: bytes, digest: str) -> None:
    assert crypto.md4(data) == h(digest)
    assert crypto.md4(bytearray(data)) == h(digest)
    assert crypto.md4(memoryview(data)) == h(digest)


@pytest.mark.parametrize("data,digest", MD4_VECTORS)
def test_md4_class_pysmb_compatible(data: bytes, digest: str) -> None:
    m = MD4()
    m.update(data[:3])
    m.update(data[3:].decode("ascii"))   # pysmb accepted str too
    assert m.digest() == h(digest)
    assert m.hexdigest() == digest
    assert md4_new(data).digest() == h(digest)


def test_md4_copy_is_independent() -> None:
    m = MD4()
    m.update(b"ab")
    c = m.copy()
    c.update(b"c")
    assert c.hexdigest() == "a448017aaf21d8525fc10ae87aa6729d"
    assert m.digest() == crypto.md4(b"ab")
    assert m.make_copy().digest() == crypto.md4(b"ab")


def test_md5_and_sha512() -> None:
    assert crypto.md5(b"abc") == h("900150983cd24fb0d6963f7d28e17f72")
    assert crypto.sha512(b"abc")[:16] == h("ddaf35a193617abacc417349ae204131")


def test_hmac_md5_rfc2202_case2() -> None:
    assert crypto.hmac_md5(b"Jefe", b"what do ya want for nothing?") == \
        h("750c783e6ab0b503eaa86e310a5db738")


def test_hmac_sha256_rfc4231_case2() -> None:
    assert crypto.hmac_sha256(b"Jefe", b"what do ya want for nothing?") == h(
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


# -- DES ---------------------------------------------------------------------

def _pack_des_key(key8: bytes) -> bytes:
    """Drop the parity bit of each byte of an 8-byte DES key -> 7 bytes."""
    bits = 0
    for byte in key8:
        bits = (bits << 7) | (byte >> 1)
    return bits.to_bytes(7, "big")


def test_des_classic_vector() -> None:
    # Key 0123456789ABCDEF, "Now is t" -> 3FA40E8A984D4815.
    key7 = _pack_des_key(h("0123456789abcdef"))
    assert crypto.des_encrypt_block(key7, b"Now is t") == h("3fa40e8a984d4815")


def test_des_key_expansion_sets_odd_parity() -> None:
    expanded = crypto.expand_des_key(_pack_des_key(h("0123456789abcdef")))
    assert expanded == h("0123456789abcdef")          # that key already has odd parity
    assert crypto.expand_des_key(b"\x00" * 7) == b"\x01" * 8
    assert crypto.expand_des_key(b"\xff" * 7) == b"\xfe" * 8


def test_des_rejects_wrong_sizes() -> None:
    with pytest.raises(ValueError):
        crypto.des_encrypt_block(b"\x00" * 8, b"\x00" * 8)
    with pytest.raises(ValueError):
        crypto.des_encrypt_block(b"\x00" * 7, b"\x00" * 7)


# -- RC4 ---------------------------------------------------------------------

def test_rc4_vectors() -> None:
    assert crypto.rc4(b"Key", b"Plaintext") == h("bbf316e8d940af0ad3")
    # RFC 6229, 40-bit key 0x0102030405, keystream offset 0.
    assert crypto.rc4(h("0102030405"), bytes(16)) == h("b2396305f03dc027ccc3524a0a1118a8")


def test_rc4_stream_keeps_state() -> None:
    stream = crypto.RC4Stream(h("0102030405"))
    out = stream.update(bytes(5)) + stream.update(bytearray(11))
    assert out == h("b2396305f03dc027ccc3524a0a1118a8")


# -- AES-CMAC (RFC 4493 section 4) -------------------------------------------

CMAC_KEY = h("2b7e151628aed2a6abf7158809cf4f3c")
CMAC_MSG = h("""6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
                30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710""")


@pytest.mark.parametrize("length,tag", [
    (0, "bb1d6929e95937287fa37d129b756746"),
    (16, "070a16b46b4d4144f79bdd9dd04a287c"),
    (40, "dfa66747de9ae63030ca32611497c827"),
    (64, "51f0bebf7e3b9d92fc49741779363cfe"),
])
def test_aes_cmac_rfc4493(length: int, tag: str) -> None:
    assert crypto.aes_cmac(CMAC_KEY, CMAC_MSG[:length]) == h(tag)


# -- AES-GCM / GMAC (GCM spec test cases 1, 2, 13, 14) ------------------------

def test_aes_gcm_128_zero_vectors() -> None:
    ct, tag = crypto.aes_gcm_encrypt(bytes(16), bytes(12), b"", b"")
    assert (ct, tag) == (b"", h("58e2fccefa7e3061367f1d57a4e7455a"))
    ct, tag = crypto.aes_gcm_encrypt(bytes(16), bytes(12), b"", bytes(16))
    assert ct == h("0388dace60b6a392f328c2b971b2fe78")
    assert tag == h("ab6e47d42cec13bdf53a67b21257bddf")
    assert crypto.aes_gcm_decrypt(bytes(16), bytes(12), b"", ct, tag) == bytes(16)


def test_aes_gcm_256_zero_vectors() -> None:
    _, tag = crypto.aes_gcm_encrypt(bytes(32), bytes(12), b"", b"")
    assert tag == h("530f8afbc74536b9a963b4f1c4cb738b")
    ct, tag = crypto.aes_gcm_encrypt(bytes(32), bytes(12), b"", bytes(16))
    assert ct == h("cea7403d4d606b6e074ec5d3baf39d18")
    assert tag == h("d0d1c8a799996bf0265b98b5d48ab919")


def test_aes_gmac_is_gcm_tag_over_aad_only() -> None:
    assert crypto.aes_gmac(bytes(16), bytes(12), b"") == h("58e2fccefa7e3061367f1d57a4e7455a")
    aad = b"SMB2 header bytes"
    _, tag = crypto.aes_gcm_encrypt(bytes(16), bytes(12), aad, b"")
    assert crypto.aes_gmac(bytes(16), bytes(12), aad) == tag
    assert crypto.aes_gmac(bytes(16), bytes(12), aad + b"!") != tag


def test_aes_gmac_rejects_bad_nonce() -> None:
    with pytest.raises(ValueError):
        crypto.aes_gmac(bytes(16), bytes(11), b"")


def test_aes_rejects_bad_key_size() -> None:
    with pytest.raises(ValueError):
        crypto.aes_gcm_encrypt(bytes(24), bytes(12), b"", b"x")
    with pytest.raises(ValueError):
        crypto.aes_ccm_encrypt(bytes(15), bytes(11), b"", b"x")


# -- SMB 3.1.1 test vectors (Microsoft, appendix A.1: AES-128-GCM) ----------

SESSION_KEY_GCM = h("419FDDF34C1E001909D362AE7FB6AF79")
PREAUTH_GCM = h("""B23F3CBFD69487D9832B79B1594A367CDD950909B774C3A4C412B4FCEA9EDDDBA7DB256BA2EA30E9
                   77F11F9B113247578E0E915C6D2A513B8F2FCA5707DC8770""")


def test_smb311_kdf_gcm_session() -> None:
    kdf = crypto.smb3_kdf
    assert kdf(SESSION_KEY_GCM, b"SMBSigningKey\x00", PREAUTH_GCM) == h("8765949DFEAEE105CE9118B45BE988F0")
    assert kdf(SESSION_KEY_GCM, b"SMBC2SCipherKey\x00", PREAUTH_GCM) == h("A2F5E80E5D59103034F32E52F698E5EC")
    assert kdf(SESSION_KEY_GCM, b"SMBS2CCipherKey\x00", PREAUTH_GCM) == h("748C50868C90F302962A5C35F5F9A8BF")
    assert kdf(SESSION_KEY_GCM, b"SMBAppKey\x00", PREAUTH_GCM) == h("099D610789FBE82055B313601C3E8CC4")


def test_smb311_kdf_ccm_session() -> None:
    session_key = h("07B7F69C1E2581662DF6987E88F9E891")
    preauth = h("""DECF98A420718718F22090D3580FCC5E484BD310FA1268210C6E86335A8891E767F5BCD99FA5A785
                   9D665AD07A73EA94E1BCDB7CFA69A6962A28A244138340B1""")
    kdf = crypto.smb3_kdf
    assert kdf(session_key, b"SMBSigningKey\x00", preauth) == h("3DCC82C5795AE27F383242761078C59B")
    assert kdf(session_key, b"SMBC2SCipherKey\x00", preauth) == h("DFAAA31AAE40A2485D47AC4DF09FDA1D")
    assert kdf(session_key, b"SMBS2CCipherKey\x00", preauth) == h("95C544AEF6072680DA1CE49A68A97FA6")
    assert kdf(session_key, b"SMBAppKey\x00", preauth) == h("7A2F0F73EC2D530879B2913BBFCE242F")


def test_smb30_kdf() -> None:
    # "Encryption in SMB 3.0: a protocol perspective".
    session_key = h("B4546771B515F766A86735532DD6C4F0")
    assert crypto.smb3_kdf(session_key, b"SMB2AESCCM\x00", b"ServerIn \x00") == \
        h("261B72350558F2E9DCF613070383EDBF")
    assert crypto.smb3_kdf(session_key, b"SMB2AESCCM\x00", b"ServerOut\x00") == \
        h("8FE2B57EC34D2DB5B1A9727F526BBDB5")


def test_smb3_kdf_long_output_and_prefix_property() -> None:
    long_key = crypto.smb3_kdf(SESSION_KEY_GCM, b"L\x00", b"C", 32)
    assert len(long_key) == 32
    # L is part of the PRF input, so a 16-byte key is not a prefix of a 32-byte one.
    assert crypto.smb3_kdf(SESSION_KEY_GCM, b"L\x00", b"C", 16) != long_key[:16]
    with pytest.raises(ValueError):
        crypto.smb3_kdf(SESSION_KEY_GCM, b"L", b"C", 0)


def test_preauth_hash_chain() -> None:
    # Appendix A.2: NEGOTIATE request hashed onto the all-zero initial value.
    negotiate = h("""
        FE534D4240000100000000000000010000000000000000000000000000000000FFFE000000000000
        00000000000000000000000000000000000000000000000024000500010000006600000078EA16AC
        6877C34A95F7160F73EA377270000000020000000202100200030203110300000100260000000000
        0100200001001A05A92392E1554C072AE7B186EE7DC02CB90BEF2E639CCC94B7A9DC7B3934420000
        0200060000000000020001000200""")
    assert crypto.preauth_hash_update(bytes(64), negotiate) == h("""
        A3A8A769FEA693B3D037406EF945E115D2B7A4A9318564D2CAAA4B1FE0EC36D8D92A4802619EDCF2
        9E2410534D2D3749E71F76ADF5212F959210D291097A6355""")
    # Appendix A.1: first SESSION_SETUP request on top of the connection hash.
    previous = h("""
        ABE4DA6E875F6FB05033AF04DCC38C92888B4E13D1EAB7AA05CADE142064974CB3EAB0782600549B
        A27207AA213B0D190B9950FA36D45BE32A888BFEE8389B74""")
    setup = h("""
        FE534D4240000100000000000100800000000000000000000100000000000000FFFE000000000000
        00000000000000000000000000000000000000000000000019000001010000000000000058004A00
        0000000000000000604806062B0601050502A03E303CA00E300C060A2B06010401823702020AA22A
        04284E544C4D5353500001000000978208E200000000000000000000000000000000060380250000
        000F""")
    assert crypto.preauth_hash_update(previous, memoryview(setup)) == h("""
        A5E8AB87E2ADB8FA5F4545D20F1FD2019D66CCD0F4DFD1F762F1DFC8DCB15B98D0BD1F1450F6A0AF
        C70F80B353C2D959217681949CF22DF35F31257A281C6A80""")


def _zero_signature(packet: bytes) -> bytes:
    return packet[:48] + bytes(16) + packet[64:]


def test_smb3_signing_aes_cmac() -> None:
    # Final SESSION_SETUP responses of appendix A.1 and A.2, signed by the server.
    response = h("""
        FE534D4240000100000000000100800009000000000000000200000000000000FFFE000000000000
        25000000001000006B85A4519A0F3EEA35BA946DD3AFE6B80900000048001D00A11B3019A0030A01
        00A3120410010000003932A87523AB660100000000""")
    assert crypto.aes_cmac(h("8765949DFEAEE105CE9118B45BE988F0"), _zero_signature(response)) == \
        response[48:64]
    response = h("""
        FE534D4240000100000000000100800009000000000000000200000000000000FFFE000000000000
        21000000001000003676196AEE8CA17E5D50A53642EF2BE40900000048001D00A11B3019A0030A01
        00A3120410010000000F57444342A2717E00000000""")
    assert crypto.aes_cmac(h("3DCC82C5795AE27F383242761078C59B"), _zero_signature(response)) == \
        h("3676196AEE8CA17E5D50A53642EF2BE4")


def test_smb2_signing_hmac_sha256() -> None:
    message = h("""fe534d42400001002801 00c00b000700 0900000000000000 0400000000000000
                   fffe000001000000 0100000000040000 fbd284340324c62fbebb65dd1051f3ae
                   0900000000000000ff""")
    key = h("D38354CC374339F0524F789146789921")
    assert crypto.hmac_sha256(key, _zero_signature(message))[:16] == message[48:64]


def _transform_aad(nonce16: bytes, size: int, session_id: int) -> bytes:
    # TRANSFORM_HEADER minus ProtocolId and Signature ([MS-SMB2] 2.2.41).
    return nonce16 + size.to_bytes(4, "little") + b"\x00\x00" + b"\x01\x00" + \
        session_id.to_bytes(8, "little")


GCM_WRITE = h("""
    FE534D4240000100000000000900010008000000000000000500000000000000FFFE000001000000
    25000000001000000000000000000000000000000000000031007000170000000000000000000000
    0600000004000000010000000400000000000000000000007000000000000000536D623320656E63
    72797074696F6E2074657374696E67""")
GCM_WRITE_ENCRYPTED = h("""
    6ECDD2A7AFC7B47763057A041B8FD4DAFFE990B70C9E09D36C084E02D14EF247F8BDE38ACF6256F8
    B1D3B56F77FBDEB312FEA5E92CBCC1ED8FB2EBBFAA75E49A4A394BB44576545567C24D4C014D47C9
    FBDFDAFD2C4F9B72F8D256452620A299F48E29E53D6B61D1C13A19E91AF013F00D17E3ABC2FC3D36
    C8C1B6B93973253852DBD442E46EE8""")


def test_smb311_aes128_gcm_encrypt() -> None:
    nonce = h("C7D6822D269CAF48904C664C")
    aad = _transform_aad(nonce + bytes(4), len(GCM_WRITE), 0x100000000025)
    ct, tag = crypto.aes_gcm_encrypt(h("A2F5E80E5D59103034F32E52F698E5EC"), nonce, aad, GCM_WRITE)
    assert ct == GCM_WRITE_ENCRYPTED
    assert tag == h("BD73D97D2BC9001BCAFAC0FDFF5FEEBC")


def test_smb311_aes128_gcm_decrypt_and_tamper() -> None:
    transformed = h("""
        FD534D42ACBE1CB7ED343ADF1725EF144D90D4B0E06831DD2E8EB7B4000000000000000050000000
        00000100250000000010000026BBBF949983A6C1C796559D0F2C510CB651D1F7B6AC8DED32A2A0B8
        F2D793A815C6F6B848D69767A215841A42D400AE6DDB5F0B44173A014973321FDD7950DA6179159B
        82E03C9E18A050FF0EA1C967""")
    key = h("748C50868C90F302962A5C35F5F9A8BF")
    tag, aad, ct = transformed[4:20], transformed[20:52], transformed[52:]
    plain = crypto.aes_gcm_decrypt(key, transformed[20:32], aad, ct, tag)
    assert plain == h("""
        FE534D4240000100000000000900010001000000000000000500000000000000FFFE000001000000
        25000000001000000000000000000000000000000000000011000000170000000000000000000000""")
    with pytest.raises(ProtocolError):
        crypto.aes_gcm_decrypt(key, transformed[20:32], aad, ct, bytes(16))
    bad_ct = bytearray(ct)
    bad_ct[0] ^= 1
    with pytest.raises(ProtocolError):
        crypto.aes_gcm_decrypt(key, transformed[20:32], aad, bytes(bad_ct), tag)
    with pytest.raises(ProtocolError):
        crypto.aes_gcm_decrypt(key, transformed[20:32], aad[:-1] + b"\x01", ct, tag)


def test_smb311_aes128_ccm_encrypt() -> None:
    plaintext = h("""
        FE534D4240000100000000000900010008000000000000000500000000000000FFFE000001000000
        21000000001000000000000000000000000000000000000031007000170000000000000000000000
        0500000004000000010000000400000000000000000000007000000000000000536D623320656E63
        72797074696F6E2074657374696E67""")
    nonce = h("9F6F1EAAD7E9F24AACD38F")
    aad = _transform_aad(nonce + bytes(5), len(plaintext), 0x100000000021)
    ct, tag = crypto.aes_ccm_encrypt(h("DFAAA31AAE40A2485D47AC4DF09FDA1D"), nonce, aad, plaintext)
    assert ct == h("""
        56A74778199A9D2B6E9C3A376FD88D27680694FED253A313BEB07381AE8689F973ACDB8D716E4477
        803BCE53A92E1B81FA3E965AD9AF2C89C08CE66A344664453B8FC88118EDC9814CF58E92AA465E6E
        FB09958A9FDAD96FBD55B36A710C30D5E7C64AD7B9449F9F17EDD024FE8BA79154F340A82740D1D5
        180C69B0A2DE6A4BA893BD55D3210E""")
    assert tag == h("E89551D666DAB8993488F5A97103116C")


def test_smb311_aes128_ccm_decrypt_and_tamper() -> None:
    transformed = h("""
        FD534D42DD33EC41A927DD51476FE887C2D3C136D96831DD2E8EB7B4000000000000000050000000
        000001002100000000100000F783157E0F6F1C055D746753CA16D20C21088E2A67564E056C2F68A7
        F14F226C3BD809B7A2D52E5FE4ECF49821BC6001733430CF174E2764B3CCB213AAD8BB9FBAF6C15E
        13D9120965390E004A96A3F7""")
    key = h("95C544AEF6072680DA1CE49A68A97FA6")
    tag, aad, ct = transformed[4:20], transformed[20:52], transformed[52:]
    plain = crypto.aes_ccm_decrypt(key, transformed[20:31], aad, ct, tag)
    assert plain == h("""
        FE534D4240000100000000000900010001000000000000000500000000000000FFFE000001000000
        21000000001000000000000000000000000000000000000011000000170000000000000000000000""")
    with pytest.raises(ProtocolError):
        crypto.aes_ccm_decrypt(key, transformed[20:31], aad, ct, tag[:15] + b"\x00")


def test_aes256_ccm_and_gcm_round_trip() -> None:
    key = bytes(range(32))
    for encrypt, decrypt, nonce in ((crypto.aes_ccm_encrypt, crypto.aes_ccm_decrypt, bytes(11)),
                                    (crypto.aes_gcm_encrypt, crypto.aes_gcm_decrypt, bytes(12))):
        ct, tag = encrypt(key, nonce, b"aad", b"secret message")
        assert len(tag) == 16 and ct != b"secret message"
        assert decrypt(key, nonce, b"aad", ct, tag) == b"secret message"
        # A 256-bit key really is used as such: the 128-bit half gives another result.
        assert encrypt(key[:16], nonce, b"aad", b"secret message") != (ct, tag)
        with pytest.raises(ProtocolError):
            decrypt(key, nonce, b"aaD", ct, tag)


# -- smb.utils time conversion -----------------------------------------------

def test_filetime_conversion_known_values() -> None:
    assert convertFILETIMEtoEpoch(116444736000000000) == 0.0
    # davenport NTLM example: 1055844000 s after the epoch = 0x01c334b736d39000.
    assert convertEpochToFILETIME(1055844000) == 0x01C334B736D39000
    assert convertFILETIMEtoEpoch(0x01C334B736D39000) == 1055844000.0
    assert convertEpochToFILETIME(1055844000.0) == 0x01C334B736D39000
    assert convertFILETIMEtoEpoch(116444736000000001) == 1e-7
    # Rounds to the nearest tick instead of truncating 0.3 * 1e7 = 2999999.99...
    assert convertEpochToFILETIME(0.3) == 116444736000000000 + 3000000
    assert convertEpochToFILETIME(-1.5) == 116444736000000000 - 15000000
    assert isinstance(convertEpochToFILETIME(1.25), int)


def test_filetime_round_trip_is_exact_where_a_float_can_hold_100ns() -> None:
    # A double holds 100 ns exactly while |seconds| * 1e7 < 2**53 (about 28 years
    # either side of 1970); there the round trip must be lossless.
    epoch = 116444736000000000
    for ticks in (epoch, epoch + 1, epoch - 1, epoch + 10**14 + 7, epoch + 2**52 - 3,
                  epoch - 2**52 + 3):
        assert convertEpochToFILETIME(convertFILETIMEtoEpoch(ticks)) == ticks


def test_bulk_inputs_may_be_memoryview_slices() -> None:
    key, aad = bytes(16), memoryview(b"header-bytes")
    buf = bytearray(b"\x00" * 7 + b"payload" * 20 + b"\xff" * 3)
    view = memoryview(buf)[7:-3]
    ct, tag = crypto.aes_gcm_encrypt(key, bytes(12), aad, view)
    assert (ct, tag) == crypto.aes_gcm_encrypt(key, bytes(12), bytes(aad), bytes(view))
    assert crypto.aes_gcm_decrypt(key, bytes(12), aad, memoryview(ct), memoryview(tag)) == bytes(view)
    ct, tag = crypto.aes_ccm_encrypt(key, bytes(11), aad, view)
    assert crypto.aes_ccm_decrypt(key, bytes(11), bytearray(aad), memoryview(ct), tag) == bytes(view)
    assert crypto.aes_cmac(key, view) == crypto.aes_cmac(key, bytes(view))
    assert crypto.preauth_hash_update(bytes(64), view) == crypto.sha512(bytes(64) + bytes(view))
