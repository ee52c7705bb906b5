"""The GSS-API Kerberos mechanism's framing ([RFC 4121], [RFC 2743] 3.1), IO-free.

* :func:`wrap_initial` / :func:`unwrap_initial`: the InitialContextToken
  header (``0x60``, length, mechanism OID) with the two-byte TOK_ID of
  RFC 4121 4.1 (AP-REQ ``01 00``, AP-REP ``02 00``, KRB-ERROR ``03 00``);
* :func:`authenticator_checksum`: the 0x8003 checksum of RFC 4121 4.1.1 that
  carries the context flags in the AP-REQ authenticator;
* :func:`make_mic` / :func:`verify_mic`: MIC tokens (RFC 4121 4.2.6.1), used
  for SPNEGO's mechListMIC.
"""
from __future__ import annotations

import hmac
import struct
from typing import Tuple

from . import krb5_crypto as kc
from .exceptions import KerberosError

__all__ = [
    "KRB5_OID_DER", "TOK_AP_REQ", "TOK_AP_REP", "TOK_ERROR",
    "GSS_C_DELEG_FLAG", "GSS_C_MUTUAL_FLAG", "GSS_C_REPLAY_FLAG", "GSS_C_SEQUENCE_FLAG",
    "GSS_C_CONF_FLAG", "GSS_C_INTEG_FLAG", "CHECKSUM_GSSAPI",
    "wrap_initial", "unwrap_initial", "authenticator_checksum", "make_mic", "verify_mic",
]

#: DER of the OID 1.2.840.113554.1.2.2 (tag, length, value).
KRB5_OID_DER = bytes.fromhex("06092a864886f712010202")
#: The same mechanism under Microsoft's OID 1.2.840.48018.1.2.2 ([MS-KILE]).
MS_KRB5_OID_DER = bytes.fromhex("06092a864882f712010202")

TOK_AP_REQ = b"\x01\x00"
TOK_AP_REP = b"\x02\x00"
TOK_ERROR = b"\x03\x00"
TOK_MIC = b"\x04\x04"

GSS_C_DELEG_FLAG = 1
GSS_C_MUTUAL_FLAG = 2
GSS_C_REPLAY_FLAG = 4
GSS_C_SEQUENCE_FLAG = 8
GSS_C_CONF_FLAG = 16
GSS_C_INTEG_FLAG = 32
#: Checksum type of the authenticator checksum (RFC 4121 4.1.1).
CHECKSUM_GSSAPI = 0x8003

#: RFC 4121 2: key usages of the per-message tokens.
KG_USAGE_ACCEPTOR_SIGN = 23
KG_USAGE_INITIATOR_SIGN = 25

_FLAG_SENT_BY_ACCEPTOR = 0x01
_FLAG_ACCEPTOR_SUBKEY = 0x04

#: Largest token accepted from a server.
MAX_TOKEN = 256 * 1024


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def wrap_initial(tok_id: bytes, message: bytes, oid_der: bytes = KRB5_OID_DER) -> bytes:
    """``0x60 len OID TOK_ID message``: an InitialContextToken (RFC 2743 3.1)."""
    inner = oid_der + tok_id + message
    return b"\x60" + _der_length(len(inner)) + inner


def unwrap_initial(token: bytes) -> Tuple[bytes, bytes]:
    """``(tok_id, message)`` of a framed Kerberos token (either OID).

    Raises :class:`KerberosError` for anything that is not one.
    """
    data = bytes(token)
    if len(data) > MAX_TOKEN:
        raise KerberosError("GSS token of %d bytes is too large" % len(data))
    if len(data) < 2 or data[0] != 0x60:
        raise KerberosError("not a GSS-API initial context token")
    first = data[1]
    pos = 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or len(data) < pos + count:
            raise KerberosError("bad length in a GSS-API token")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    else:
        length = first
    if pos + length != len(data):
        raise KerberosError("GSS-API token length does not match its size")
    for oid in (KRB5_OID_DER, MS_KRB5_OID_DER):
        if data[pos:pos + len(oid)] == oid:
            pos += len(oid)
            break
    else:
        raise KerberosError("GSS-API token for a mechanism other than Kerberos 5")
    if len(data) < pos + 2:
        raise KerberosError("GSS-API token without a TOK_ID")
    return data[pos:pos + 2], data[pos + 2:]


def authenticator_checksum(flags: int) -> bytes:
    """The 0x8003 checksum value: Lgth 16, zero channel bindings, ``flags``
    (little-endian, as RFC 4121 4.1.1 says).  Delegation is never asked for."""
    if flags & GSS_C_DELEG_FLAG:
        raise ValueError("credential delegation is not supported")
    return struct.pack("<I", 16) + b"\0" * 16 + struct.pack("<I", flags)


def _mic_header(acceptor: bool, acceptor_subkey: bool, seq: int) -> bytes:
    flags = (_FLAG_SENT_BY_ACCEPTOR if acceptor else 0) | (_FLAG_ACCEPTOR_SUBKEY if acceptor_subkey else 0)
    return TOK_MIC + bytes([flags]) + b"\xff" * 5 + struct.pack(">Q", seq)


def make_mic(key: kc.Key, message: bytes, seq: int, acceptor: bool = False,
             acceptor_subkey: bool = False) -> bytes:
    """A MIC token over ``message`` (RFC 4121 4.2.6.1)."""
    if key.etype == kc.ETYPE_RC4_HMAC:
        raise KerberosError("MIC tokens with rc4-hmac keys (RFC 4757 framing) are not supported")
    header = _mic_header(acceptor, acceptor_subkey, seq)
    usage = KG_USAGE_ACCEPTOR_SIGN if acceptor else KG_USAGE_INITIATOR_SIGN
    cksum = kc.make_checksum(kc.checksum_type_for(key.etype), key, usage, bytes(message) + header)
    return header + cksum


def verify_mic(key: kc.Key, message: bytes, token: bytes, from_acceptor: bool = True) -> None:
    """Check a MIC token the peer made over ``message``; raises :class:`KerberosError`."""
    token = bytes(token)
    if len(token) < 16 or token[:2] != TOK_MIC or token[3:8] != b"\xff" * 5:
        raise KerberosError("malformed MIC token")
    flags = token[2]
    if bool(flags & _FLAG_SENT_BY_ACCEPTOR) != from_acceptor:
        raise KerberosError("MIC token sent in the wrong direction")
    if key.etype == kc.ETYPE_RC4_HMAC:
        raise KerberosError("MIC tokens with rc4-hmac keys (RFC 4757 framing) are not supported")
    usage = KG_USAGE_ACCEPTOR_SIGN if from_acceptor else KG_USAGE_INITIATOR_SIGN
    expected = kc.make_checksum(kc.checksum_type_for(key.etype), key, usage, bytes(message) + token[:16])
    if not hmac.compare_digest(expected, token[16:]):
        raise KerberosError("MIC token does not verify")
