"""pysmb's helper modules, against published known answers.

Sources: RFC 1320 A.5 (MD4), FIPS 81 appendix B/C (DES ECB and CBC, key
0123456789ABCDEF, "Now is the time for all "), the classic FIPS 46 worked
example (key 133457799BBCDFF1), NIST SP 800-67 (TDEA "The qufck brown fox
jump"), RFC 6229 (RC4, 40-bit key 0102030405), FIPS 180-2 appendix B
(SHA-256), RFC 1321 A.5 (MD5), RFC 1001 14.1 (NetBIOS names, "FRED" and scope
"NETBIOS.COM"), [MS-NLMP] 4.2.2 (NTLMv1 with password "Password"), and the
SPNEGO tokens of the Windows SMB 3.1.1 capture published in [MS-SMB2]
appendix A.
"""
from __future__ import annotations

import pytest
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import tag, univ

from nmb.utils import decode_name, encode_name
from smb import crypto, ntlm, securityblob
from smb.exceptions import ProtocolError
from smb.strategy import DataFaultToleranceStrategy, DataStrategy, DataStrategyBase
from smb.utils import U32 as u32_module
from smb.utils import md4, pyDes, rc4, sha256
from smb.utils.U32 import U32, norm


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# -- U32 ----------------------------------------------------------------------

def test_u32_wraps_modulo_2_32() -> None:
    assert (U32(0) - U32(1)).v == 0xFFFFFFFF
    assert (U32(0xFFFFFFFF) + 1).v == 0
    assert (U32(0x80000000) << 1).v == 0
    assert (U32(0x12345678) >> 4).v == 0x01234567
    assert (~U32(5)).v == 0xFFFFFFFA
    assert (U32(0x10000) * U32(0x10000)).v == 0
    assert (U32(0xF0) & 0x3C).v == 0x30 and (0x0F | U32(0xF0)).v == 0xFF and (U32(6) ^ U32(3)).v == 5
    assert (-U32(1)).v == 0xFFFFFFFF
    assert (5 - U32(7)).v == 0xFFFFFFFE and (3 + U32(0xFFFFFFFF)).v == 2 and (3 * U32(0x80000000)).v == 0x80000000
    assert U32(-1).v == 0xFFFFFFFF and U32(2 ** 40 + 7).v == 7
    assert norm(-5) == 0xFFFFFFFB and norm(2 ** 32 + 5) == 5
    assert u32_module.C == 2 ** 36


def test_u32_value_protocol() -> None:
    word = U32(5)
    assert word == U32(5) and word == 5 and word != 6 and U32(3) < word
    assert int(word) == 5 and hex(word) == "0x5" and str(word) == "0x5"
    assert word.truth() == 5 and not U32(0) and bool(word)
    word.set(0x1_0000_0007)
    assert word.v == 7
    assert len({U32(1), U32(1), U32(2)}) == 2


# -- MD4 (RFC 1320 A.5) -----------------------------------------------------------

MD4_SUITE = [
    (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
    (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
    (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
    (b"message digest", "d9130a8164549fe818874806e1c7014b"),
    (b"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
    (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "043f8582f241db351ce627e153e7f0e4"),
    (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
]


@pytest.mark.parametrize("data,digest", MD4_SUITE)
def test_md4_rfc1320_suite(data: bytes, digest: str) -> None:
    m = md4.MD4()
    m.update(data)
    assert m.digest() == h(digest)
    assert m.digest() == h(digest)            # digest() does not finalise the object
    assert md4.new(data).hexdigest() == digest


@pytest.mark.parametrize("chunk", [1, 3, 63, 64, 65])
def test_md4_any_chunking(chunk: int) -> None:
    data = bytes(range(256)) * 3
    m = md4.MD4()
    for i in range(0, len(data), chunk):
        m.update(data[i:i + chunk])
    assert m.digest() == crypto.md4(data)


def test_md4_state_attributes() -> None:
    m = md4.MD4()
    # RFC 1320 3.3: the initial words A, B, C, D.
    assert [m.A.v, m.B.v, m.C.v, m.D.v] == [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    assert isinstance(m.A, U32) and m.buf == [0] * 64
    m.update(b"a" * 70)
    # One block compressed, 6 bytes waiting, 560 bits so far.
    assert (m.count.v, m.len1.v, m.len2.v) == (6, 560, 0)
    assert m.buf[:6] == [0x61] * 6
    assert m.A.v != 0x67452301


def test_md4_copy_str_and_state_independence() -> None:
    m = md4.MD4()
    m.update("ab")                            # a str is one byte per character, as in pysmb
    copy = m.make_copy()
    copy.update(b"c")
    assert copy.hexdigest() == "a448017aaf21d8525fc10ae87aa6729d"
    assert m.digest() == crypto.md4(b"ab")
    m.update(bytearray(b"c"))
    assert m.digest() == copy.digest()


def test_md4_rfc_functions() -> None:
    # RFC 1320 3.4, bit by bit: F = if x then y else z, G = majority, H = parity.
    assert md4.F(0b1100, 0b1010, 0b0110) == 0b1010 | (0b0110 & ~0b1100)
    assert md4.G(0b1100, 0b1010, 0b0110) == 0b1110
    assert md4.H(0b1100, 0b1010, 0b0110) == 0b0000
    assert md4.F(U32(0xFFFFFFFF), U32(1), U32(2)) == U32(1)
    assert md4.ROL(0x80000001, 1) == 3 and md4.ROL(U32(0x80000001), 4) == U32(0x18)
    X = [U32(i) for i in range(16)]
    # (1 + F(2,3,4) + X[1]) <<< 3 = (1 + 6 + 1) << 3
    assert md4.f1(U32(1), U32(2), U32(3), U32(4), 1, 3, X) == U32(0x40)
    assert md4.f2(0, 0, 0, 0, 0, 0, [0] * 16) == 0x5A827999
    assert md4.f3(0, 0, 0, 0, 0, 0, [0] * 16) == 0x6ED9EBA1


# -- DES (pyDes interface) ------------------------------------------------------------

FIPS81_KEY = h("0123456789abcdef")
FIPS81_IV = h("1234567890abcdef")
FIPS81_PLAIN = b"Now is the time for all "
FIPS81_ECB = h("3fa40e8a984d4815 6a271787ab8883f9 893d51ec4b563b53")
FIPS81_CBC = h("e5c7cdde872bf27c 43e934008c389c0f 683788499a7c05f6")


def test_des_constants() -> None:
    assert (pyDes.ECB, pyDes.CBC, pyDes.PAD_NORMAL, pyDes.PAD_PKCS5) == (0, 1, 1, 2)
    assert (pyDes.des.ENCRYPT, pyDes.des.DECRYPT) == (0, 1)


def test_des_fips46_worked_example() -> None:
    assert pyDes.des(h("133457799bbcdff1")).encrypt(h("0123456789abcdef")) == h("85e813540f0ab405")


def test_des_ecb_fips81() -> None:
    cipher = pyDes.des(FIPS81_KEY)
    assert cipher.encrypt(FIPS81_PLAIN) == FIPS81_ECB
    assert cipher.decrypt(FIPS81_ECB) == FIPS81_PLAIN
    assert cipher.crypt(FIPS81_PLAIN, pyDes.des.ENCRYPT) == FIPS81_ECB
    assert cipher.crypt(FIPS81_ECB, pyDes.des.DECRYPT) == FIPS81_PLAIN
    # pyDes took ASCII str keys and data too.
    assert pyDes.des("12345678").encrypt(FIPS81_PLAIN.decode()) == pyDes.des(b"12345678").encrypt(FIPS81_PLAIN)
    assert cipher.encrypt(bytearray(FIPS81_PLAIN)) == cipher.encrypt(memoryview(FIPS81_PLAIN)) == FIPS81_ECB


def test_des_cbc_fips81_restarts_from_iv() -> None:
    cipher = pyDes.des(FIPS81_KEY, pyDes.CBC, FIPS81_IV)
    assert cipher.encrypt(FIPS81_PLAIN) == FIPS81_CBC
    assert cipher.encrypt(FIPS81_PLAIN) == FIPS81_CBC      # pyDes: each call starts at the IV
    assert cipher.decrypt(FIPS81_CBC) == FIPS81_PLAIN
    assert cipher.getIV() == FIPS81_IV and cipher.getMode() == pyDes.CBC
    with pytest.raises(ValueError):
        pyDes.des(FIPS81_KEY, pyDes.CBC).encrypt(FIPS81_PLAIN)     # CBC needs an IV
    with pytest.raises(ValueError):
        pyDes.des(FIPS81_KEY, pyDes.CBC, b"short")


def test_des_pad_normal() -> None:
    cipher = pyDes.des(FIPS81_KEY)
    with pytest.raises(ValueError):
        cipher.encrypt(b"Now is")                          # not a multiple of 8, no pad char
    padded = cipher.encrypt(b"Now is", pad=b"*")
    assert padded == cipher.encrypt(b"Now is**")
    assert cipher.decrypt(padded, pad=b"*") == b"Now is"
    assert cipher.decrypt(padded) == b"Now is**"
    with_pad = pyDes.des(FIPS81_KEY, pad="*")
    assert with_pad.getPadding() == b"*"
    assert with_pad.encrypt(b"Now is") == padded and with_pad.decrypt(padded) == b"Now is"
    # Only the last block is stripped.
    two = with_pad.encrypt(b"Now*****" + b"********")
    assert with_pad.decrypt(two) == b"Now*****"


def test_des_pad_pkcs5() -> None:
    cipher = pyDes.des(FIPS81_KEY, padmode=pyDes.PAD_PKCS5)
    assert cipher.encrypt(b"Now is") == pyDes.des(FIPS81_KEY).encrypt(b"Now is\x02\x02")
    full = cipher.encrypt(FIPS81_PLAIN)
    assert full == FIPS81_ECB + pyDes.des(FIPS81_KEY).encrypt(b"\x08" * 8)
    assert cipher.decrypt(full) == FIPS81_PLAIN
    assert cipher.decrypt(full, padmode=pyDes.PAD_NORMAL) == FIPS81_PLAIN + b"\x08" * 8
    assert pyDes.des(FIPS81_KEY).encrypt(b"", padmode=pyDes.PAD_PKCS5) == cipher.encrypt(b"")
    with pytest.raises(ValueError):
        cipher.decrypt(FIPS81_ECB)                           # last byte 0x53 is no padding
    with pytest.raises(ValueError):
        pyDes.des(FIPS81_KEY, pad=b"*", padmode=pyDes.PAD_PKCS5)
    with pytest.raises(ValueError):
        cipher.encrypt(b"Now is", pad=b"*")


def test_des_key_checks() -> None:
    with pytest.raises(ValueError):
        pyDes.des(b"1234567")
    with pytest.raises(ValueError):
        pyDes.des("1234567\u00e9")
    cipher = pyDes.des(b"abcdefgh")
    cipher.setKey(FIPS81_KEY)
    assert cipher.getKey() == FIPS81_KEY and cipher.encrypt(FIPS81_PLAIN) == FIPS81_ECB
    assert cipher.key_size == 8


def test_triple_des() -> None:
    key = h("0123456789abcdef 23456789abcdef01 456789abcdef0123")
    assert pyDes.triple_des(key).encrypt(b"The qufck brown fox jump") == \
        h("a826fd8ce53b855f cce21c8112256fe6 68d5c05dd9b6b900")     # SP 800-67
    # Keys whose EDE collapses to one DES give that DES (pycryptodome refuses them).
    assert pyDes.triple_des(FIPS81_KEY * 3).encrypt(FIPS81_PLAIN) == FIPS81_ECB
    assert pyDes.triple_des(FIPS81_KEY * 2, pyDes.CBC, FIPS81_IV).encrypt(FIPS81_PLAIN) == FIPS81_CBC
    other = key[8:16]
    assert pyDes.triple_des(FIPS81_KEY * 2 + other).encrypt(FIPS81_PLAIN) == \
        pyDes.des(other).encrypt(FIPS81_PLAIN)                     # K1 == K2: E(K3)
    assert pyDes.triple_des(FIPS81_KEY + other * 2).encrypt(FIPS81_PLAIN) == FIPS81_ECB   # K2 == K3: E(K1)
    # A 16-byte key is K1 K2 K1; in CBC without an IV the IV is the key's first 8 bytes.
    two_key = pyDes.triple_des(key[:16], pyDes.CBC)
    assert two_key.getIV() == key[:8] and two_key.key_size == 16
    assert two_key.encrypt(FIPS81_PLAIN) == pyDes.triple_des(key[:16] + key[:8], pyDes.CBC, key[:8]).encrypt(
        FIPS81_PLAIN)
    assert two_key.decrypt(two_key.encrypt(b"abc", pad=b"\x00"), pad=b"\x00") == b"abc"
    with pytest.raises(ValueError):
        pyDes.triple_des(key[:8])


# -- RC4 (RFC 6229) ---------------------------------------------------------------

def test_rc4_rfc6229_40_bit_key() -> None:
    stream = rc4.RC4_encrypt(h("0102030405"), bytes(32))
    assert stream == h("b2396305f03dc027ccc3524a0a1118a8 6982944f18fc82d589c403a47a0d0919")
    assert rc4.RC4_encrypt(h("0102030405"), stream) == bytes(32)
    assert ntlm.RC4_encrypt is rc4.RC4_encrypt
    # Key bytes past the 256th never enter the key schedule.
    long_key = bytes(range(256)) + b"ignored"
    assert rc4.RC4_encrypt(long_key, bytes(512)) == rc4.RC4_encrypt(long_key[:256], bytes(512))
    assert rc4.RC4_encrypt(long_key, bytes(512)) != rc4.RC4_encrypt(long_key[:255], bytes(512))
    with pytest.raises(ValueError):
        rc4.RC4_encrypt(b"", b"abc")


# -- SHA-256 (FIPS 180-2 B.1, B.2) --------------------------------------------------

def test_sha256_fips180() -> None:
    assert sha256.sha256(b"abc").hexdigest() == \
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    two_block = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
    m = sha256.new()
    m.update(two_block[:10])
    copy = m.copy()
    m.update(two_block[10:].encode())
    assert m.digest() == h("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    assert copy.digest() != m.digest()
    assert (sha256.blocksize, sha256.digest_size) == (1, 32)
    assert (sha256.sha256.block_size, sha256.sha256.blocksize, sha256.sha256.digest_size) == (64, 1, 32)


# -- smb.strategy ---------------------------------------------------------------------

def test_data_strategies() -> None:
    assert DataStrategyBase.DATABYTES_CODEC == "UTF-16LE"
    good = "caf\u00e9".encode("utf-16-le")
    assert DataStrategy.data_bytes_decode(good) == "caf\u00e9"
    assert DataFaultToleranceStrategy.data_bytes_decode(good) == "caf\u00e9"
    # An unpaired high surrogate and a trailing odd byte.
    bad = b"a\x00" + b"\x00\xd8" + b"b\x00" + b"c"
    with pytest.raises(UnicodeDecodeError):
        DataStrategy.data_bytes_decode(bad)
    assert DataFaultToleranceStrategy.data_bytes_decode(bad) == "ab"
    assert DataFaultToleranceStrategy().data_bytes_decode(memoryview(good)) == "caf\u00e9"


# -- NetBIOS names (RFC 1001 14.1) ------------------------------------------------------

FRED = b"\x20EGFCEFEECACACACACACACACACACACACA"


def test_encode_name_rfc1001() -> None:
    assert encode_name("FRED", 0x20) == FRED + b"\x00"
    assert encode_name(b"FRED", 0x20, None) == FRED + b"\x00"
    assert encode_name("FRED", 0x20, "NETBIOS.COM") == FRED + b"\x07NETBIOS\x03COM\x00"
    assert encode_name("*", 0x00) == b"\x20CK" + b"AA" * 15 + b"\x00"
    assert encode_name("WORKGROUP", 0x1B)[1:33].endswith(b"CABL")
    assert encode_name("ABCDEFGHIJKLMNOPQ", 0x20) == encode_name("ABCDEFGHIJKLMNO", 0x20)
    with pytest.raises(ValueError):
        encode_name("FRED", 0x120)


def test_decode_name() -> None:
    assert decode_name(FRED + b"\x00") == (34, "FRED" + " " * 12, "")
    assert decode_name(FRED + b"\x07NETBIOS\x03COM\x00trailing") == (46, "FRED" + " " * 12, "NETBIOS.COM")
    assert decode_name((FRED + b"\x00").decode("latin-1"))[1] == "FRED" + " " * 12
    assert decode_name(encode_name("*", 0))[1] == "*" + "\x00" * 15
    assert decode_name(encode_name("WORKGROUP", 0x1B))[1] == "WORKGROUP      \x1b"
    for bad in (b"", b"\x20EGFC", b"\x05abcde\x00", b"\x20" + b"Z" * 32 + b"\x00", b"\xc0\x0c"):
        with pytest.raises(ProtocolError):
            decode_name(bad)


# -- smb.ntlm's pysmb helpers ([MS-NLMP] 4.2.2, "Password") ---------------------------------

NTOWF_V1 = h("a4f49c406510bdcab6824ee7c30fd852")
LMOWF_V1 = h("e52cac67419a9a224a3b108f3fa6cb6d")
SERVER_CHALLENGE = h("0123456789abcdef")


def test_desl_ms_nlmp_4_2_2() -> None:
    assert ntlm.DESL(NTOWF_V1, SERVER_CHALLENGE) == h("67c43011f30298a2ad35ece64f16331c44bdbed927841f94")
    assert ntlm.DESL(LMOWF_V1, SERVER_CHALLENGE) == h("98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13")
    # Only K[0:16] is used (the NT hash is often passed zero-padded to 21 bytes).
    assert ntlm.DESL(NTOWF_V1 + bytes(5), SERVER_CHALLENGE) == ntlm.DESL(NTOWF_V1, SERVER_CHALLENGE)
    with pytest.raises(ValueError):
        ntlm.DESL(NTOWF_V1[:15], SERVER_CHALLENGE)
    with pytest.raises(ValueError):
        ntlm.DESL(NTOWF_V1, SERVER_CHALLENGE[:7])


def test_expand_des_key() -> None:
    # 0x0123456789abcd as 7-bit groups: 0000000 1001000 1101000 1010110 0111100
    # 0100110 1010111 1001101; each shifted left one, parity bit left 0.
    assert ntlm.expandDesKey(h("0123456789abcd")) == h("0090d0ac784cae9a")
    assert ntlm.expandDesKey(b"\xff" * 7) == b"\xfe" * 8
    assert ntlm.expandDesKey(h("0123456789abcdef")) == h("0090d0ac784cae9a")    # extra bytes unused
    # DES ignores the parity bits: same cipher as the parity-correct key.
    key7 = LMOWF_V1[:7]
    assert ntlm.des(ntlm.expandDesKey(key7)).encrypt(b"KGS!@#$%") == crypto.des_encrypt_block(key7, b"KGS!@#$%")
    with pytest.raises(ValueError):
        ntlm.expandDesKey(b"123456")


def test_ntlm_md4_md5_des_aliases() -> None:
    nt = ntlm.MD4()
    nt.update("Password".encode("utf-16-le"))
    assert nt.digest() == NTOWF_V1                                      # [MS-NLMP] 4.2.2.1.2
    md5 = ntlm.MD5(b"abc")
    assert md5.hexdigest() == "900150983cd24fb0d6963f7d28e17f72"          # RFC 1321 A.5
    md5.update(b"d")
    assert md5.digest() == crypto.md5(b"abcd")
    assert ntlm.des is pyDes.des and ntlm.MD4 is md4.MD4


# -- SPNEGO type classes (Windows tokens from [MS-SMB2] appendix A) ---------------------------

NTLM_NEGOTIATE = h("4E544C4D5353500001000000978208E200000000000000000000000000000000060380250000000F")
WINDOWS_NEGOTIATE_TOKEN = h("604806062B0601050502A03E303CA00E300C060A2B06010401823702020AA22A0428") \
    + NTLM_NEGOTIATE
CHALLENGE_TOKEN = h("""
    A181B03081ADA0030A0101A10C060A2B06010401823702020AA281970481944E544C4D53535000020000
    000C000C003800000015828AE25FC0CB7F886E93D6000000000000000050005000440000000A00922700
    00000F53005500540033003100310002000C0053005500540033003100310001000C0053005500540033
    003100310004000C0053005500540033003100310003000C0053005500540033003100310007000800248D
    5C6CCDAED00100000000""")
FINAL_TOKEN = h("A11B3019A0030A0100A3120410010000003932A87523AB660100000000")


def test_spnego_context_token_pysmb_style() -> None:
    token, rest = decoder.decode(WINDOWS_NEGOTIATE_TOKEN, asn1Spec=securityblob.ContextToken())
    assert rest == b""
    assert str(token.getComponentByName("thisMech")) == "1.3.6.1.5.5.2"
    init = token.getComponentByName("innerContextToken").getComponentByName("negTokenInit")
    assert [str(oid) for oid in init.getComponentByName("mechTypes")] == ["1.3.6.1.4.1.311.2.2.10"]
    assert bytes(init.getComponentByName("mechToken")) == NTLM_NEGOTIATE
    assert encoder.encode(token) == WINDOWS_NEGOTIATE_TOKEN


def test_spnego_neg_token_targ_pysmb_style() -> None:
    token, _ = decoder.decode(CHALLENGE_TOKEN, asn1Spec=securityblob.NegotiationToken())
    targ = token.getComponentByName("negTokenTarg")
    assert int(targ.getComponentByName("negResult")) == securityblob.RESULT_ACCEPT_INCOMPLETE
    assert str(targ.getComponentByName("supportedMech")) == securityblob.NTLMSSP_OID
    challenge = bytes(targ.getComponentByName("responseToken"))
    assert challenge[:12] == b"NTLMSSP\x00\x02\x00\x00\x00"
    assert ntlm.decodeChallengeMessage(challenge)[0] == h("5FC0CB7F886E93D6")

    final, _ = decoder.decode(FINAL_TOKEN, asn1Spec=securityblob.NegotiationToken())
    targ = final.getComponent()
    assert targ.getComponentByName("negResult") == 0
    assert targ.getComponentByName("negResult").prettyPrint() == "accept_completed"
    assert bytes(targ.getComponentByName("mechListMIC")) == h("010000003932A87523AB660100000000")


def test_spnego_types_encode_like_the_module() -> None:
    def ctx(number: int) -> tag.Tag:
        return tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, number)

    targ = securityblob.NegTokenTarg().subtype(explicitTag=ctx(1))
    targ["responseToken"] = univ.OctetString(b"NTLMSSP\x00\x03\x00\x00\x00").subtype(explicitTag=ctx(2))
    token = securityblob.NegotiationToken()
    token["negTokenTarg"] = targ
    assert encoder.encode(token) == securityblob.generateAuthSecurityBlob(b"NTLMSSP\x00\x03\x00\x00\x00")
    flags = securityblob.ContextFlags("'1000001'B")
    assert flags.namedValues["integFlag"] == 6
    assert securityblob.NegResultEnumerated("request_mic") == 3
    assert securityblob.MechTypeList.componentType.isSameTypeWith(univ.ObjectIdentifier())
