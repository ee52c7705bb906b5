"""GSS-API Kerberos framing (RFC 2743 3.1, RFC 4121 4.1 / 4.1.1 / 4.2.6.1), exact bytes."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smb import krb5_crypto as kc
from smb import krb5_gss as gss
from smb.exceptions import KerberosError


def test_initial_token_framing() -> None:
    token = gss.wrap_initial(gss.TOK_AP_REQ, b"\x6e\x00")
    # 0x60, length 15, OID 1.2.840.113554.1.2.2, TOK_ID 01 00, the message
    assert token == bytes.fromhex("600f06092a864886f71201020201006e00")
    assert gss.unwrap_initial(token) == (b"\x01\x00", b"\x6e\x00")


def test_long_form_length_and_the_microsoft_oid() -> None:
    body = b"\x6f" + b"z" * 300
    token = gss.wrap_initial(gss.TOK_AP_REP, body, gss.MS_KRB5_OID_DER)
    assert token[:4] == b"\x60\x82\x01\x3a"  # 11 + 2 + 301 = 314 = 0x13a
    assert gss.unwrap_initial(token) == (b"\x02\x00", body)


@pytest.mark.parametrize("bad", [
    b"", b"\x61\x00", b"\x60", b"\x60\x85\x00\x00\x00\x00\x01",      # wrong tag, short, 5 length bytes
    b"\x60\x05\x06\x03\x2a\x03\x04",                                  # another mechanism
    bytes.fromhex("600b06092a864886f712010202"),                      # no TOK_ID
    bytes.fromhex("601006092a864886f71201020201006e00"),              # length says more than there is
])
def test_malformed_tokens(bad: bytes) -> None:
    with pytest.raises(KerberosError):
        gss.unwrap_initial(bad)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_garbage_raises_only_kerberos_error(data: bytes) -> None:
    try:
        gss.unwrap_initial(b"\x60" + data)
    except KerberosError:
        pass


def test_authenticator_checksum_layout() -> None:
    value = gss.authenticator_checksum(gss.GSS_C_MUTUAL_FLAG | gss.GSS_C_INTEG_FLAG)
    assert value == struct.pack("<I", 16) + b"\0" * 16 + struct.pack("<I", 0x22)
    with pytest.raises(ValueError):
        gss.authenticator_checksum(gss.GSS_C_DELEG_FLAG)


@pytest.mark.parametrize("etype", [17, 18, 19, 20])
def test_mic_token_roundtrip_and_tamper(etype: int) -> None:
    key = kc.random_key(etype, lambda n: bytes(range(n)))
    message = b"\x30\x0b\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"
    token = gss.make_mic(key, message, seq=7, acceptor=True, acceptor_subkey=True)
    assert token[:2] == b"\x04\x04" and token[2] == 0x05 and token[3:8] == b"\xff" * 5
    assert token[8:16] == struct.pack(">Q", 7)
    gss.verify_mic(key, message, token, from_acceptor=True)
    with pytest.raises(KerberosError, match="wrong direction"):
        gss.verify_mic(key, message, token, from_acceptor=False)
    with pytest.raises(KerberosError):
        gss.verify_mic(key, message + b"x", token)
    for i in range(len(token)):
        broken = token[:i] + bytes([token[i] ^ 0x40]) + token[i + 1:]
        with pytest.raises(KerberosError):
            gss.verify_mic(key, message, broken)


def test_mic_with_rc4_is_refused_not_faked() -> None:
    key = kc.random_key(23, lambda n: b"\x01" * n)
    with pytest.raises(KerberosError, match="rc4"):
        gss.make_mic(key, b"m", 0)
