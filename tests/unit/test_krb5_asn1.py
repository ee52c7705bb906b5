"""Kerberos ASN.1 ([RFC 4120] 5, [MS-KILE] 2.2): exact DER, strict decoding, fuzzing.

The expected encodings are built here with a few lines of TLV arithmetic that know nothing of
pyasn1 (and a few are spelled out in hex), so a tagging mistake in ``smb.krb5_asn1`` cannot
hide behind a round trip.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import signal
import struct
import threading
import tracemalloc
from contextlib import contextmanager
from typing import Any, Iterator, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smb import krb5_asn1 as A
from smb.exceptions import KerberosError

EXAMPLES = int(os.environ.get("SMBWIRE_FUZZ_EXAMPLES", "300"))


# ----------------------------------------------------------------------------- independent DER


def tlv(tag: int, *parts: bytes) -> bytes:
    body = b"".join(parts)
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = b"\x81" + bytes([n])
    else:
        length = b"\x82" + n.to_bytes(2, "big")
    return bytes([tag]) + length + body


def ctx(n: int, *parts: bytes) -> bytes:
    return tlv(0xA0 | n, *parts)


def app(n: int, *parts: bytes) -> bytes:
    return tlv(0x60 | n, *parts)


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, *parts)


def integer(v: int) -> bytes:
    size = ((v if v >= 0 else ~v).bit_length() + 8) // 8
    return tlv(0x02, v.to_bytes(size, "big", signed=True))


def gstr(s: str) -> bytes:
    return tlv(0x1B, s.encode("utf-8"))


def octets(b: bytes) -> bytes:
    return tlv(0x04, b)


def gtime(s: str) -> bytes:
    return tlv(0x18, s.encode("ascii"))


def flags32(v: int) -> bytes:
    return tlv(0x03, b"\x00" + v.to_bytes(4, "big"))


def pname(name_type: int, *components: str) -> bytes:
    return seq(ctx(0, integer(name_type)), ctx(1, seq(*(gstr(c) for c in components))))


def enc_data(etype: int, cipher: bytes, kvno: Any = None) -> bytes:
    parts = [ctx(0, integer(etype))]
    if kvno is not None:
        parts.append(ctx(1, integer(kvno)))
    parts.append(ctx(2, octets(cipher)))
    return seq(*parts)


def ticket_der(realm: str = "EXAMPLE.COM") -> bytes:
    return app(1, seq(ctx(0, integer(5)), ctx(1, gstr(realm)), ctx(2, pname(2, "krbtgt", realm)),
                      ctx(3, enc_data(18, b"\xAA" * 16, 2))))


def krb_error_der(code: int = 25, e_data: Any = None, e_text: Any = None) -> bytes:
    parts = [ctx(0, integer(5)), ctx(1, integer(30)), ctx(4, gtime("20240501120000Z")), ctx(5, integer(7)),
             ctx(6, integer(code)), ctx(9, gstr("EXAMPLE.COM")), ctx(10, pname(2, "krbtgt", "EXAMPLE.COM"))]
    if e_text is not None:
        parts.append(ctx(11, gstr(e_text)))
    if e_data is not None:
        parts.append(ctx(12, octets(e_data)))
    return app(30, seq(*parts))


def etype_info2_der() -> bytes:
    return seq(seq(ctx(0, integer(18)), ctx(1, gstr("EXAMPLE.COMalice"))),
               seq(ctx(0, integer(17)), ctx(1, gstr("EXAMPLE.COMalice")), ctx(2, octets(b"\x00\x00\x10\x00"))),
               seq(ctx(0, integer(23))))


def method_data_der() -> bytes:
    # KDC_ERR_PREAUTH_REQUIRED e-data: PA-ENC-TIMESTAMP (empty) and PA-ETYPE-INFO2.
    return seq(seq(ctx(1, integer(2)), ctx(2, octets(b""))),
               seq(ctx(1, integer(19)), ctx(2, octets(etype_info2_der()))))


def as_rep_der() -> bytes:
    padata = seq(seq(ctx(1, integer(19)), ctx(2, octets(seq(seq(ctx(0, integer(18)),
                                                                ctx(1, gstr("EXAMPLE.COMalice"))))))))
    return app(11, seq(ctx(0, integer(5)), ctx(1, integer(11)), ctx(2, padata), ctx(3, gstr("EXAMPLE.COM")),
                       ctx(4, pname(1, "alice")), ctx(5, ticket_der()), ctx(6, enc_data(18, b"\xBB" * 40, 3))))


def enc_kdc_rep_part_body() -> bytes:
    return seq(ctx(0, seq(ctx(0, integer(18)), ctx(1, octets(b"\x11" * 32)))),
               ctx(1, seq(seq(ctx(0, integer(0)), ctx(1, gtime("20240501120000Z"))))),
               ctx(2, integer(0x7FFFFFFF)),
               ctx(4, flags32(0x40E10000)),
               ctx(5, gtime("20240501120000Z")),
               ctx(7, gtime("20240501220000Z")),
               ctx(8, gtime("20240508120000Z")),
               ctx(9, gstr("EXAMPLE.COM")),
               ctx(10, pname(2, "krbtgt", "EXAMPLE.COM")))


# ----------------------------------------------------------------------------- exact encodings


def test_principal_name_exact_der() -> None:
    expected = bytes.fromhex("300fa003020101a10830061b0475736572")
    assert A.encode(A.principal_name(A.NT_PRINCIPAL, ["user"])) == expected
    assert expected == pname(1, "user")
    back = A.decode(expected, A.PrincipalName)
    assert int(back["name-type"]) == 1 and [str(c) for c in back["name-string"]] == ["user"]


def test_pa_enc_ts_enc_exact_der() -> None:
    ts = A.PA_ENC_TS_ENC()
    ts["patimestamp"] = A.kerberos_time(dt.datetime(2024, 1, 2, 3, 4, 5, 999999))
    ts["pausec"] = 123456
    expected = bytes.fromhex("301aa011180f32303234303130323033303430355aa105020301e240")
    assert A.encode(ts) == expected
    assert A.encode(A.decode(expected, A.PA_ENC_TS_ENC())) == expected


def test_flags_and_pac_request_exact_der() -> None:
    assert A.encode(A.kdc_options("forwardable", "renewable", "canonicalize")) == bytes.fromhex("03050040810000")
    assert A.encode(A.kdc_options()) == bytes.fromhex("03050000000000")
    assert A.encode(A.ap_options("mutual-required")) == bytes.fromhex("03050020000000")
    assert A.encode(A.pac_request(True)) == bytes.fromhex("3005a0030101ff")
    assert A.encode(A.pac_request(False)) == bytes.fromhex("3005a003010100")
    with pytest.raises(ValueError):
        A.kdc_options("no-such-option")


def _as_req() -> Any:
    req = A.AS_REQ()
    req["pvno"] = 5
    req["msg-type"] = A.AS_REQ_TYPE
    padata = req["padata"]
    padata[0] = A.pa_data(A.PA_PAC_REQUEST, A.encode(A.pac_request(True)))
    body = A.KDC_REQ_BODY()
    body["kdc-options"] = A.kdc_options("forwardable", "renewable", "canonicalize")
    body["cname"] = A.principal_name(A.NT_PRINCIPAL, ["alice"])
    body["realm"] = "EXAMPLE.COM"
    body["sname"] = A.principal_name(A.NT_SRV_INST, ["krbtgt", "EXAMPLE.COM"])
    body["till"] = A.kerberos_time(dt.datetime(2037, 9, 13, 2, 48, 5, tzinfo=dt.timezone.utc))
    body["nonce"] = 0x12345678
    etypes = body["etype"]
    for i, etype in enumerate((18, 17, 23)):
        etypes[i] = etype
    req["req-body"] = body
    return req


def test_as_req_skeleton_exact_der() -> None:
    body = seq(ctx(0, flags32(0x40810000)), ctx(1, pname(1, "alice")), ctx(2, gstr("EXAMPLE.COM")),
               ctx(3, pname(2, "krbtgt", "EXAMPLE.COM")), ctx(5, gtime("20370913024805Z")),
               ctx(7, integer(0x12345678)), ctx(8, seq(integer(18), integer(17), integer(23))))
    padata = seq(seq(ctx(1, integer(128)), ctx(2, octets(bytes.fromhex("3005a0030101ff")))))
    expected = app(10, seq(ctx(1, integer(5)), ctx(2, integer(10)), ctx(3, padata), ctx(4, body)))
    der = A.encode(_as_req())
    assert der == expected
    assert der[:2] == b"\x6a\x81"  # [APPLICATION 10], constructed
    assert A.message_type(der) == A.AS_REQ_TYPE == 10
    back = A.decode(der, A.AS_REQ)
    assert A.encode(back) == der
    assert str(back["req-body"]["realm"]) == "EXAMPLE.COM"
    assert [int(e) for e in back["req-body"]["etype"]] == [18, 17, 23]
    assert A.padata_entries(back["padata"]) == [(128, bytes.fromhex("3005a0030101ff"))]


def test_tgs_req_uses_application_12() -> None:
    req = _as_req()
    tgs = A.TGS_REQ()
    tgs["pvno"] = 5
    tgs["msg-type"] = A.TGS_REQ_TYPE
    tgs["req-body"] = req["req-body"]
    der = A.encode(tgs)
    assert der[0] == 0x6C and A.message_type(der) == 12
    with pytest.raises(KerberosError):
        A.decode(der, A.AS_REQ)


def test_krb_error_with_method_data_and_etype_info2() -> None:
    der = krb_error_der(25, method_data_der(), "pre-auth required")
    assert der[0] == 0x7E and A.message_type(der) == A.KRB_ERROR_TYPE == 30
    err = A.decode(der, A.KRB_ERROR())
    assert A.encode(err) == der
    code, text, e_data = A.krb_error_fields(err)
    assert (code, text, e_data) == (25, "pre-auth required", method_data_der())
    assert A.ERROR_NAMES[code] == "KDC_ERR_PREAUTH_REQUIRED"
    assert A.parse_kerberos_time(err["stime"]) == dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
    assert not err["ctime"].isValue and not err["crealm"].isValue
    info = A.etype_info2_from_error(err)
    assert info == [A.EtypeInfo(18, b"EXAMPLE.COMalice"), A.EtypeInfo(17, b"EXAMPLE.COMalice", b"\x00\x00\x10\x00"),
                    A.EtypeInfo(23)]
    method = A.decode(e_data, A.METHOD_DATA)
    assert A.padata_entries(method)[0] == (A.PA_ENC_TIMESTAMP, b"")


def test_krb_error_built_with_helpers_matches_hand_encoding() -> None:
    err = A.KRB_ERROR()
    err["pvno"] = 5
    err["msg-type"] = 30
    err["stime"] = "20240501120000Z"
    err["susec"] = 7
    err["error-code"] = 25
    err["realm"] = "EXAMPLE.COM"
    err["sname"] = A.principal_name(2, ["krbtgt", "EXAMPLE.COM"])
    err["e-data"] = method_data_der()
    assert A.encode(err) == krb_error_der(25, method_data_der())


def test_etype_info_fallback_and_absent_e_data() -> None:
    old = seq(seq(ctx(1, integer(11)), ctx(2, octets(seq(seq(ctx(0, integer(23)), ctx(1, octets(b"\xffsalt"))))))))
    err = A.decode(krb_error_der(25, old), A.KRB_ERROR)
    assert A.etype_info2_from_error(err) == [A.EtypeInfo(23, b"\xffsalt")]
    err = A.decode(krb_error_der(24), A.KRB_ERROR)
    assert A.etype_info2_from_error(err) == []
    assert A.krb_error_fields(err) == (24, "", b"")
    with pytest.raises(KerberosError):
        A.etype_info2_from_error(A.decode(krb_error_der(25, b"\x30\x05junk"), A.KRB_ERROR))


def test_krb_error_ntstatus_from_kerb_error_data() -> None:
    ext = struct.pack("<III", 0xC0000072, 0, 1)  # STATUS_ACCOUNT_DISABLED
    e_data = seq(ctx(1, integer(3)), ctx(2, octets(ext)))
    err = A.decode(krb_error_der(18, e_data), A.KRB_ERROR)
    assert A.krb_error_ntstatus(err) == 0xC0000072
    assert A.krb_error_ntstatus(A.decode(krb_error_der(25, method_data_der()), A.KRB_ERROR)) is None
    assert A.krb_error_ntstatus(A.decode(krb_error_der(18), A.KRB_ERROR)) is None


def test_as_rep_decodes_and_reencodes() -> None:
    der = as_rep_der()
    assert A.message_type(der) == A.AS_REP_TYPE
    rep = A.decode(der, A.AS_REP)
    assert A.encode(rep) == der
    assert str(rep["crealm"]) == "EXAMPLE.COM"
    assert int(rep["enc-part"]["kvno"]) == 3 and bytes(rep["enc-part"]["cipher"]) == b"\xBB" * 40
    assert A.encode(rep["ticket"]) == ticket_der()
    assert A.etype_info2_from_padata(rep["padata"]) == [A.EtypeInfo(18, b"EXAMPLE.COMalice")]
    with pytest.raises(KerberosError):
        A.decode(der, A.TGS_REP)


def test_enc_kdc_rep_part_either_tag() -> None:
    for tag_number, cls in ((25, A.EncASRepPart), (26, A.EncTGSRepPart)):
        der = app(tag_number, enc_kdc_rep_part_body())
        part = A.decode_enc_kdc_rep_part(der)
        assert isinstance(part, cls)
        assert A.encode(part) == der
        assert bytes(part["key"]["keyvalue"]) == b"\x11" * 32
        assert int(part["nonce"]) == 0x7FFFFFFF
        flags = A.flags_to_int(part["flags"])
        assert flags == 0x40E10000
        assert A.flag_names(flags) == ["forwardable", "renewable", "initial", "pre-authent", "enc-pa-rep"]
        assert not part["starttime"].isValue
    with pytest.raises(KerberosError):
        A.decode_enc_kdc_rep_part(app(27, enc_kdc_rep_part_body()))
    with pytest.raises(KerberosError):
        A.decode_enc_kdc_rep_part(b"\x00garbage")


def test_ap_req_with_decoded_ticket_and_ap_rep() -> None:
    ap = A.AP_REQ()
    ap["pvno"] = 5
    ap["msg-type"] = A.AP_REQ_TYPE
    ap["ap-options"] = A.ap_options("mutual-required")
    ap["ticket"] = A.decode(ticket_der(), A.Ticket())  # an untagged value into the [3] field
    ap["authenticator"] = A.encrypted_data(18, b"\xCC" * 8)
    expected = app(14, seq(ctx(0, integer(5)), ctx(1, integer(14)), ctx(2, flags32(0x20000000)),
                           ctx(3, ticket_der()), ctx(4, enc_data(18, b"\xCC" * 8))))
    assert A.encode(ap) == expected
    rep = app(15, seq(ctx(0, integer(5)), ctx(1, integer(15)), ctx(2, enc_data(18, b"\xDD" * 8))))
    assert A.message_type(rep) == A.AP_REP_TYPE
    assert bytes(A.decode(rep, A.AP_REP)["enc-part"]["cipher"]) == b"\xDD" * 8


def test_authenticator_and_enc_ap_rep_part() -> None:
    auth = A.Authenticator()
    auth["authenticator-vno"] = 5
    auth["crealm"] = "EXAMPLE.COM"
    auth["cname"] = A.principal_name(1, ["alice"])
    auth["cksum"] = A.checksum(0x8003, b"\x10\x00\x00\x00" + b"\x00" * 20)
    auth["cusec"] = 999999
    auth["ctime"] = "20240501120000Z"
    auth["subkey"] = A.encryption_key(18, b"\x22" * 32)
    auth["seq-number"] = 0xFFFFFFFF
    expected = app(2, seq(ctx(0, integer(5)), ctx(1, gstr("EXAMPLE.COM")), ctx(2, pname(1, "alice")),
                          ctx(3, seq(ctx(0, integer(0x8003)), ctx(1, octets(b"\x10\x00\x00\x00" + b"\x00" * 20)))),
                          ctx(4, integer(999999)), ctx(5, gtime("20240501120000Z")),
                          ctx(6, seq(ctx(0, integer(18)), ctx(1, octets(b"\x22" * 32)))),
                          ctx(7, integer(0xFFFFFFFF))))
    assert A.encode(auth) == expected
    part = app(27, seq(ctx(0, gtime("20240501120000Z")), ctx(1, integer(5)),
                       ctx(2, seq(ctx(0, integer(18)), ctx(1, octets(b"\x33" * 32)))), ctx(3, integer(1))))
    back = A.decode(part, A.EncAPRepPart)
    assert bytes(back["subkey"]["keyvalue"]) == b"\x33" * 32 and int(back["seq-number"]) == 1


def test_enc_ticket_part_and_pa_enc_timestamp_type() -> None:
    pac = seq(seq(ctx(0, integer(128)), ctx(1, octets(b"PAC"))))
    authz = seq(seq(ctx(0, integer(1)), ctx(1, octets(pac))))
    part = app(3, seq(ctx(0, flags32(0x50800000)), ctx(1, seq(ctx(0, integer(23)), ctx(1, octets(b"k" * 16)))),
                      ctx(2, gstr("EXAMPLE.COM")), ctx(3, pname(1, "alice")),
                      ctx(4, seq(ctx(0, integer(1)), ctx(1, octets(b"")))), ctx(5, gtime("20240501120000Z")),
                      ctx(7, gtime("20240501220000Z")), ctx(10, authz)))
    value = A.decode(part, A.EncTicketPart)
    assert A.encode(value) == part
    relevant = A.decode(bytes(value["authorization-data"][0]["ad-data"]), A.AD_IF_RELEVANT)
    assert int(relevant[0]["ad-type"]) == A.AD_WIN2K_PAC and bytes(relevant[0]["ad-data"]) == b"PAC"
    ts = A.decode(enc_data(18, b"x", 1), A.PA_ENC_TIMESTAMP_ASN1)
    assert isinstance(ts, A.EncryptedData) and A.PA_ENC_TIMESTAMP == 2


# ----------------------------------------------------------------------------- numbers


def test_constants() -> None:
    for code, name in ((6, "KDC_ERR_C_PRINCIPAL_UNKNOWN"), (14, "KDC_ERR_ETYPE_NOSUPP"), (18, "KDC_ERR_CLIENT_REVOKED"),
                       (23, "KDC_ERR_KEY_EXPIRED"), (24, "KDC_ERR_PREAUTH_FAILED"), (25, "KDC_ERR_PREAUTH_REQUIRED"),
                       (32, "KRB_AP_ERR_TKT_EXPIRED"), (37, "KRB_AP_ERR_SKEW"), (41, "KRB_AP_ERR_MODIFIED"),
                       (52, "KRB_ERR_RESPONSE_TOO_BIG"), (68, "KDC_ERR_WRONG_REALM")):
        assert A.ERROR_NAMES[code] == name
    assert A.error_name(24) == "KDC_ERR_PREAUTH_FAILED (Pre-authentication information was invalid)"
    assert A.error_name(9999) == "KRB error 9999"
    usages = (A.KU_PA_ENC_TIMESTAMP, A.KU_TICKET, A.KU_AS_REP_ENC_PART, A.KU_TGS_REQ_AUTH_CKSUM,
              A.KU_TGS_REQ_AUTH, A.KU_TGS_REP_ENC_PART_SESSION, A.KU_TGS_REP_ENC_PART_SUBKEY,
              A.KU_AP_REQ_AUTH_CKSUM, A.KU_AP_REQ_AUTH, A.KU_AP_REP_ENC_PART)
    assert usages == (1, 2, 3, 6, 7, 8, 9, 10, 11, 12)
    padata_types = (A.PA_TGS_REQ, A.PA_ENC_TIMESTAMP, A.PA_ETYPE_INFO, A.PA_ETYPE_INFO2, A.PA_PAC_REQUEST)
    assert padata_types == (1, 2, 11, 19, 128)
    assert (A.NT_PRINCIPAL, A.NT_SRV_INST, A.NT_SRV_HST, A.NT_ENTERPRISE) == (1, 2, 3, 10)
    assert [A.KDC_OPTION_BITS[n] for n in ("forwardable", "renewable", "canonicalize", "renewable-ok")] == [1, 8, 15, 27]
    assert A.AP_OPTION_BITS["mutual-required"] == 2


def test_times() -> None:
    assert A.kerberos_time(dt.datetime(1999, 12, 31, 23, 59, 59)) == "19991231235959Z"
    plus2 = dt.timezone(dt.timedelta(hours=2))
    assert A.kerberos_time(dt.datetime(2024, 1, 1, 1, 0, 0, tzinfo=plus2)) == "20231231230000Z"
    assert A.parse_kerberos_time("20240229000000Z") == dt.datetime(2024, 2, 29, tzinfo=dt.timezone.utc)
    for bad in ("20230229000000Z", "2024010100000Z", "20240101000000", "20240101000000.5Z", "x", "",
                "20241301000000Z", "２０２４0101000000Z"):
        with pytest.raises(KerberosError):
            A.parse_kerberos_time(bad)
    with pytest.raises(KerberosError):
        A.parse_kerberos_time(A.KerberosTime())  # no value


def test_flags_to_int_pads_and_truncates() -> None:
    from pyasn1.type import univ
    assert A.flags_to_int(univ.BitString("'01'B")) == 0x40000000
    assert A.flags_to_int(univ.BitString(binValue="0" * 31 + "1" + "1" * 8)) == 1
    assert A.flags_to_int(univ.BitString(binValue="")) == 0
    assert A.flags_to_int(A.kerberos_flags(0xDEADBEEF)) == 0xDEADBEEF
    with pytest.raises(ValueError):
        A.kerberos_flags(1 << 32)


# ----------------------------------------------------------------------------- strict decoding


def test_message_type_is_safe_on_garbage() -> None:
    assert A.message_type(b"") == -1
    assert A.message_type(b"\x30\x00") == -1  # universal SEQUENCE
    assert A.message_type(b"\x4b\x00") == -1  # APPLICATION 11, primitive
    assert A.message_type(b"\x7f\x81\x00") == 128  # high-tag-number form
    assert A.message_type(b"\x7f\x81") == -1
    assert A.message_type(b"\x7f\xff\xff\xff\xff\xff\xff") == -1
    assert A.message_type(None) == -1
    assert A.message_type("\x7e") == -1
    assert A.message_type(memoryview(krb_error_der())) == 30
    assert A.message_type(bytearray(as_rep_der())) == 11


@pytest.mark.parametrize("data, why", [
    (krb_error_der() + b"\x00", "trailing"),
    (krb_error_der()[:-1], "truncated"),
    (b"", "empty"),
    (b"\x7e\x80" + krb_error_der()[3:] + b"\x00\x00", "indefinite"),
    (krb_error_der()[:1] + b"\x84\xff\xff\xff\xff" + krb_error_der()[3:], "huge length"),
])
def test_decode_refuses(data: bytes, why: str) -> None:
    with pytest.raises(KerberosError, match="malformed KRB_ERROR"):
        A.decode(data, A.KRB_ERROR)


def test_decode_refuses_semantic_errors() -> None:
    good = krb_error_der()
    bad_pvno = good.replace(ctx(0, integer(5)), ctx(0, integer(4)), 1)
    bad_type = good.replace(ctx(1, integer(30)), ctx(1, integer(31)), 1)
    no_realm = app(30, seq(ctx(0, integer(5)), ctx(1, integer(30)), ctx(4, gtime("20240501120000Z")),
                           ctx(5, integer(7)), ctx(6, integer(25)), ctx(10, pname(2, "krbtgt", "X"))))
    big_code = good.replace(ctx(6, integer(25)), ctx(6, integer(2 ** 31)), 1)
    bad_usec = good.replace(ctx(5, integer(7)), ctx(5, integer(1000000)), 1)
    not_utf8 = good.replace(gstr("EXAMPLE.COM"), tlv(0x1B, b"\xff\xfe"), 1)
    fraction = good.replace(gtime("20240501120000Z"), gtime("20240501120000.5Z"), 1)
    local = good.replace(gtime("20240501120000Z"), gtime("202405011200000"), 1)
    for data in (bad_pvno, bad_type, no_realm, big_code, bad_usec, not_utf8, fraction, local):
        assert data != good
        with pytest.raises(KerberosError):
            A.decode(data, A.KRB_ERROR)
    with pytest.raises(KerberosError, match="incomplete"):
        A.decode(b"\x30\x00", A.ETYPE_INFO2)  # SIZE (1..MAX)
    assert len(A.decode(b"\x30\x00", A.ETYPE_INFO)) == 0
    assert str(A.decode(gstr("R"), A.Realm)) == "R"
    with pytest.raises(KerberosError, match="not bytes"):
        A.decode(12, A.KRB_ERROR)
    with pytest.raises(KerberosError, match="not bytes"):
        A.decode("text", A.KRB_ERROR)


def test_decode_caps_size_and_values() -> None:
    with pytest.raises(KerberosError, match="limit"):
        A.decode(b"\x30\x84" + (A.MAX_MESSAGE).to_bytes(4, "big") + b"\x00" * A.MAX_MESSAGE, A.METHOD_DATA)
    many = seq(*([seq(ctx(1, integer(2)), ctx(2, octets(b"")))] * (A.MAX_NODES // 5 + 1)))
    assert len(many) < A.MAX_MESSAGE
    with pytest.raises(KerberosError, match="ASN.1 values"):
        A.decode(many, A.METHOD_DATA)
    few = seq(*([seq(ctx(1, integer(2)), ctx(2, octets(b"")))] * 100))
    assert len(A.decode(few, A.METHOD_DATA)) == 100


def test_encode_reports_missing_fields() -> None:
    err = A.KRB_ERROR()
    err["pvno"] = 5
    with pytest.raises(KerberosError, match="cannot encode KRB_ERROR"):
        A.encode(err)


# ----------------------------------------------------------------------------- fuzzing

SPECS = [A.AS_REP, A.TGS_REP, A.KRB_ERROR, A.AP_REP, A.AP_REQ, A.AS_REQ, A.Ticket, A.EncASRepPart,
         A.EncTGSRepPart, A.EncAPRepPart, A.EncTicketPart, A.Authenticator, A.METHOD_DATA, A.ETYPE_INFO2,
         A.ETYPE_INFO, A.PA_ENC_TS_ENC, A.KERB_PA_PAC_REQUEST, A.KERB_ERROR_DATA, A.TYPED_DATA,
         A.AD_IF_RELEVANT, A.PrincipalName]


def seeds() -> List[bytes]:
    return [krb_error_der(25, method_data_der(), "x"), as_rep_der(), app(25, enc_kdc_rep_part_body()),
            A.encode(_as_req()), ticket_der(), etype_info2_der(), method_data_der()]


class Hang(BaseException):
    pass


@contextmanager
def no_hang(seconds: float = 10.0) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise Hang("decoder still running after %.0f s" % seconds)

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def feed(data: bytes) -> None:
    """The contract: a value or KerberosError, for every spec and helper."""
    with no_hang():
        A.message_type(data)
        for spec in SPECS:
            try:
                value = A.decode(data, spec)
            except KerberosError:
                continue
            A.encode(value)
        for fn in (A.decode_enc_kdc_rep_part,):
            try:
                fn(data)
            except KerberosError:
                pass
        try:
            err = A.decode(data, A.KRB_ERROR)
        except KerberosError:
            return
        A.krb_error_fields(err)
        A.krb_error_ntstatus(err)
        try:
            A.etype_info2_from_error(err)
        except KerberosError:
            pass


def mutate(seed: bytes, rng: random.Random) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(6)
        pos = rng.randrange(len(data)) if data else 0
        if kind == 0 and data:
            data[pos] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del data[pos:]
        elif kind == 2:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif kind == 3 and data:
            del data[pos:pos + rng.randint(1, 8)]
        elif kind == 4 and data:
            data[pos] = rng.choice((0x80, 0x81, 0x84, 0xFF, 0x00, 0x7F))
        else:
            data[pos:pos + 4] = rng.choice((b"\x84\xff\xff\xff", b"\x84\x7f\xff\xff", b"\x83\x10\x00\x00", b"\x80"))
    return bytes(data)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_fuzz_random_bytes(data: bytes) -> None:
    feed(data)
    feed(b"\x7e" + data)
    feed(b"\x6b" + data)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(seeds()) - 1), st.randoms(use_true_random=False))
def test_fuzz_mutated_messages(index: int, rng: random.Random) -> None:
    feed(mutate(seeds()[index], rng))


def test_every_truncation_is_refused() -> None:
    for seed in seeds():
        for cut in range(len(seed)):
            for spec in (A.KRB_ERROR, A.AS_REP, A.EncASRepPart, A.AS_REQ, A.Ticket, A.METHOD_DATA):
                with pytest.raises(KerberosError):
                    A.decode(seed[:cut], spec)


def test_huge_length_claims_stay_small() -> None:
    """Overwrite each length octet of the seeds with a 4 GiB claim: no big allocation."""
    tracemalloc.start()
    try:
        for seed in seeds():
            for pos in range(1, len(seed)):
                data = seed[:pos] + b"\x84\xff\xff\xff\xf0" + seed[pos + 1:]
                tracemalloc.reset_peak()
                feed(data)
                assert tracemalloc.get_traced_memory()[1] < 4 * 1024 * 1024
    finally:
        tracemalloc.stop()


def test_deep_nesting_is_refused_quickly() -> None:
    data = b""
    for _ in range(2000):
        data = seq(data) if len(data) < 60000 else data
    feed(data)
    nested = b"\x30\x80" * 5000 + b"\x00\x00" * 5000
    feed(nested)
