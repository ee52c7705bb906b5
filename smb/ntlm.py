"""NTLMSSP client: messages, responses, keys and session security ([MS-NLMP]).

Two layers live here:

* pysmb's public functions (``generateNegotiateMessage``,
  ``generateAuthenticateMessage``, ``decodeChallengeMessage``,
  ``generateChallengeResponseV1``/``V2``) and its ``NTLM_*`` flag names, with
  the same arguments and return shapes.
* :class:`NtlmContext`, the client security context the protocol core drives:
  NEGOTIATE -> CHALLENGE -> AUTHENTICATE, with NTLMv2 (MIC, server
  timestamp), NTLMv1 with and without extended session security, anonymous
  logon, key exchange, and the GSS_GetMIC needed for the SPNEGO mechListMIC.

Passwords, hashes and keys are never logged.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import os
import struct
import time
import zlib
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from smb import crypto
from smb.exceptions import ProtocolError
from smb.utils import md4 as _md4
from smb.utils import pyDes as _pyDes
from smb.utils import rc4 as _rc4

__all__ = [
    "NegotiateFlags", "AvId", "NTLM_FLAGS",
    "generateNegotiateMessage", "generateAuthenticateMessage", "decodeChallengeMessage",
    "generateChallengeResponseV1", "generateChallengeResponseV2",
    "lm_hash", "nt_hash", "ntowf_v2", "desl",
    "ChallengeMessage", "parse_av_pairs", "build_av_pairs",
    "NtlmSecurity", "NtlmContext",
]

log = logging.getLogger("SMB.ntlm")

NTLMSSP_SIGNATURE = b"NTLMSSP\x00"
NEGOTIATE_MESSAGE_TYPE = 1
CHALLENGE_MESSAGE_TYPE = 2
AUTHENTICATE_MESSAGE_TYPE = 3


class NegotiateFlags(enum.IntFlag):
    """NegotiateFlags, [MS-NLMP] 2.2.2.5."""

    NEGOTIATE_UNICODE = 0x00000001
    NEGOTIATE_OEM = 0x00000002
    REQUEST_TARGET = 0x00000004
    NEGOTIATE_SIGN = 0x00000010
    NEGOTIATE_SEAL = 0x00000020
    NEGOTIATE_DATAGRAM = 0x00000040
    NEGOTIATE_LM_KEY = 0x00000080
    NEGOTIATE_NTLM = 0x00000200
    ANONYMOUS = 0x00000800
    NEGOTIATE_OEM_DOMAIN_SUPPLIED = 0x00001000
    NEGOTIATE_OEM_WORKSTATION_SUPPLIED = 0x00002000
    NEGOTIATE_ALWAYS_SIGN = 0x00008000
    TARGET_TYPE_DOMAIN = 0x00010000
    TARGET_TYPE_SERVER = 0x00020000
    TARGET_TYPE_SHARE = 0x00040000
    NEGOTIATE_EXTENDED_SESSIONSECURITY = 0x00080000
    NEGOTIATE_IDENTIFY = 0x00100000
    REQUEST_NON_NT_SESSION_KEY = 0x00400000
    NEGOTIATE_TARGET_INFO = 0x00800000
    NEGOTIATE_VERSION = 0x02000000
    NEGOTIATE_128 = 0x20000000
    NEGOTIATE_KEY_EXCH = 0x40000000
    NEGOTIATE_56 = 0x80000000


# pysmb's flat names for the same bits (including its names for the unused ones).
NTLM_NegotiateUnicode = 0x00000001
NTLM_NegotiateOEM = 0x00000002
NTLM_RequestTarget = 0x00000004
NTLM_Unknown9 = 0x00000008
NTLM_NegotiateSign = 0x00000010
NTLM_NegotiateSeal = 0x00000020
NTLM_NegotiateDatagram = 0x00000040
NTLM_NegotiateLanManagerKey = 0x00000080
NTLM_Unknown8 = 0x00000100
NTLM_NegotiateNTLM = 0x00000200
NTLM_NegotiateNTOnly = 0x00000400
NTLM_Anonymous = 0x00000800
NTLM_NegotiateOemDomainSupplied = 0x00001000
NTLM_NegotiateOemWorkstationSupplied = 0x00002000
NTLM_Unknown6 = 0x00004000
NTLM_NegotiateAlwaysSign = 0x00008000
NTLM_TargetTypeDomain = 0x00010000
NTLM_TargetTypeServer = 0x00020000
NTLM_TargetTypeShare = 0x00040000
NTLM_NegotiateExtendedSecurity = 0x00080000
NTLM_NegotiateIdentify = 0x00100000
NTLM_Unknown5 = 0x00200000
NTLM_RequestNonNTSessionKey = 0x00400000
NTLM_NegotiateTargetInfo = 0x00800000
NTLM_Unknown4 = 0x01000000
NTLM_NegotiateVersion = 0x02000000
NTLM_Unknown3 = 0x04000000
NTLM_Unknown2 = 0x08000000
NTLM_Unknown1 = 0x10000000
NTLM_Negotiate128 = 0x20000000
NTLM_NegotiateKeyExchange = 0x40000000
NTLM_Negotiate56 = 0x80000000

#: The flags this client asks for in its NEGOTIATE_MESSAGE.
NTLM_FLAGS = int(
    NegotiateFlags.NEGOTIATE_UNICODE
    | NegotiateFlags.REQUEST_TARGET
    | NegotiateFlags.NEGOTIATE_SIGN
    | NegotiateFlags.NEGOTIATE_NTLM
    | NegotiateFlags.NEGOTIATE_ALWAYS_SIGN
    | NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY
    | NegotiateFlags.NEGOTIATE_TARGET_INFO
    | NegotiateFlags.NEGOTIATE_VERSION
    | NegotiateFlags.NEGOTIATE_128
    | NegotiateFlags.NEGOTIATE_KEY_EXCH
)


class AvId(enum.IntEnum):
    """AV_PAIR AvId values, [MS-NLMP] 2.2.2.1."""

    MsvAvEOL = 0x0000
    MsvAvNbComputerName = 0x0001
    MsvAvNbDomainName = 0x0002
    MsvAvDnsComputerName = 0x0003
    MsvAvDnsDomainName = 0x0004
    MsvAvDnsTreeName = 0x0005
    MsvAvFlags = 0x0006
    MsvAvTimestamp = 0x0007
    MsvAvSingleHost = 0x0008
    MsvAvTargetName = 0x0009
    MsvAvChannelBindings = 0x000A


#: MsvAvFlags bit: the AUTHENTICATE_MESSAGE carries a MIC ([MS-NLMP] 2.2.2.1).
AV_FLAG_MIC_PRESENT = 0x00000002

# Version structure ([MS-NLMP] 2.2.2.10): 6.1 build 7601, NTLMSSP revision 15.
CLIENT_VERSION = struct.pack("<BBH3xB", 6, 1, 7601, 0x0F)

_NEGOTIATE = struct.Struct("<8sII HHI HHI 8s")          # 40 bytes
_CHALLENGE_MIN = struct.Struct("<8sI HHI I 8s")         # 32 bytes
_CHALLENGE_TARGET_INFO = struct.Struct("<8x HHI")       # 16 bytes at offset 32
_AUTHENTICATE = struct.Struct("<8sI HHI HHI HHI HHI HHI HHI I")   # 64 bytes
_AV_HEADER = struct.Struct("<HH")
_SIGNATURE = struct.Struct("<I8sI")

_MIC_OFFSET = _AUTHENTICATE.size + len(CLIENT_VERSION)    # 72
_MIC_SIZE = 16

_CLIENT_SIGN_MAGIC = b"session key to client-to-server signing key magic constant\x00"
_SERVER_SIGN_MAGIC = b"session key to server-to-client signing key magic constant\x00"
_CLIENT_SEAL_MAGIC = b"session key to client-to-server sealing key magic constant\x00"
_SERVER_SEAL_MAGIC = b"session key to server-to-client sealing key magic constant\x00"


# --------------------------------------------------------------------------
# One-way functions and responses ([MS-NLMP] 3.3)
# --------------------------------------------------------------------------

def nt_hash(password: str) -> bytes:
    """NTOWFv1: MD4 of the UTF-16LE password ([MS-NLMP] 3.3.1)."""
    return crypto.md4(password.encode("utf-16-le"))


def lm_hash(password: str) -> bytes:
    """LMOWFv1: the LAN Manager hash ([MS-NLMP] 3.3.1).

    The password is upper-cased, taken as at most 14 OEM bytes and NUL padded;
    each half keys DES over the constant ``KGS!@#$%``.
    """
    oem = password.upper().encode("ascii", "replace")[:14].ljust(14, b"\x00")
    magic = b"KGS!@#$%"
    return crypto.des_encrypt_block(oem[:7], magic) + crypto.des_encrypt_block(oem[7:], magic)


def ntowf_v2(password: str, user: str, domain: str) -> bytes:
    """NTOWFv2 (= LMOWFv2): HMAC_MD5(NT hash, UTF-16LE(upper(user) + domain))."""
    return crypto.hmac_md5(nt_hash(password), (user.upper() + domain).encode("utf-16-le"))


def desl(key16: bytes, data8: bytes) -> bytes:
    """DESL ([MS-NLMP] 6): three DES encryptions of ``data8`` under a 16-byte key
    split 7/7/2 (the last part zero padded); 24 bytes out."""
    if len(key16) != 16:
        raise ValueError("DESL key must be 16 bytes")
    return (crypto.des_encrypt_block(key16[0:7], data8)
            + crypto.des_encrypt_block(key16[7:14], data8)
            + crypto.des_encrypt_block(key16[14:16] + b"\x00" * 5, data8))


def _ntlmv2_temp(timestamp: bytes, client_challenge: bytes, target_info: bytes) -> bytes:
    # NTLMv2_CLIENT_CHALLENGE ([MS-NLMP] 2.2.2.7 and 3.3.2): RespType,
    # HiRespType, Z(6), TimeStamp, ChallengeFromClient, Z(4), AvPairs, Z(4).
    return (b"\x01\x01" + b"\x00" * 6 + timestamp + client_challenge + b"\x00" * 4
            + target_info + b"\x00" * 4)


def _ntlmv2_responses(response_key: bytes, server_challenge: bytes, client_challenge: bytes,
                      timestamp: bytes, target_info: bytes) -> Tuple[bytes, bytes, bytes]:
    temp = _ntlmv2_temp(timestamp, client_challenge, target_info)
    nt_proof = crypto.hmac_md5(response_key, server_challenge + temp)
    nt_response = nt_proof + temp
    lm_response = crypto.hmac_md5(response_key, server_challenge + client_challenge) + client_challenge
    session_base_key = crypto.hmac_md5(response_key, nt_proof)
    return nt_response, lm_response, session_base_key


def _check_challenge(value: bytes, what: str) -> bytes:
    value = bytes(value)
    if len(value) != 8:
        raise ValueError("%s must be 8 bytes" % what)
    return value


def generateChallengeResponseV2(password: str, user: str, server_challenge: bytes,
                                server_info: bytes, domain: str = "",
                                client_challenge: Optional[bytes] = None
                                ) -> Tuple[bytes, bytes, bytes]:
    """NTLMv2 and LMv2 responses ([MS-NLMP] 3.3.2), pysmb-compatible.

    ``server_info`` is the CHALLENGE_MESSAGE TargetInfo (AV pairs).  The
    timestamp is the server's MsvAvTimestamp when it sent one, else zero (as
    pysmb always did).  Returns ``(nt_response, lm_response, session_base_key)``.
    """
    server_challenge = _check_challenge(server_challenge, "server challenge")
    if client_challenge is None:
        client_challenge = os.urandom(8)
    client_challenge = _check_challenge(client_challenge, "client challenge")
    server_info = bytes(server_info)
    timestamp = b"\x00" * 8
    for av_id, value in parse_av_pairs(server_info):
        if av_id == AvId.MsvAvTimestamp and len(value) == 8:
            timestamp = value
    return _ntlmv2_responses(ntowf_v2(password, user, domain), server_challenge,
                             client_challenge, timestamp, server_info)


def generateChallengeResponseV1(password: str, server_challenge: bytes,
                                has_extended_security: bool = False,
                                client_challenge: Optional[bytes] = None
                                ) -> Tuple[bytes, bytes, bytes]:
    """NTLMv1 responses ([MS-NLMP] 3.3.1), pysmb-compatible.

    With ``has_extended_security`` the NTLM2 session response is produced
    (LM response = client challenge + Z(16)).  Returns
    ``(nt_response, lm_response, session_base_key)``.
    """
    server_challenge = _check_challenge(server_challenge, "server challenge")
    nt_key = nt_hash(password)
    if has_extended_security:
        if client_challenge is None:
            client_challenge = os.urandom(8)
        client_challenge = _check_challenge(client_challenge, "client challenge")
        nt_response = desl(nt_key, crypto.md5(server_challenge + client_challenge)[:8])
        lm_response = client_challenge + b"\x00" * 16
    else:
        nt_response = desl(nt_key, server_challenge)
        lm_response = desl(lm_hash(password), server_challenge)
    return nt_response, lm_response, crypto.md4(nt_key)


def _v1_key_exchange_key(flags: int, session_base_key: bytes, lm_key: bytes,
                         server_challenge: bytes, lm_response: bytes) -> bytes:
    """KXKEY for NTLMv1 ([MS-NLMP] 3.4.5.1)."""
    if flags & NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY:
        return crypto.hmac_md5(session_base_key, server_challenge + lm_response[:8])
    if flags & NegotiateFlags.NEGOTIATE_LM_KEY:
        return (crypto.des_encrypt_block(lm_key[:7], lm_response[:8])
                + crypto.des_encrypt_block(lm_key[7:8] + b"\xbd" * 6, lm_response[:8]))
    if flags & NegotiateFlags.REQUEST_NON_NT_SESSION_KEY:
        return lm_key[:8] + b"\x00" * 8
    return session_base_key


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------

def parse_av_pairs(data: bytes) -> List[Tuple[int, bytes]]:
    """Split a TargetInfo buffer into ``(AvId, value)`` pairs ([MS-NLMP] 2.2.2.1).

    Stops at MsvAvEOL (not included).  A pair running past the end of the
    buffer raises :class:`ProtocolError`; a missing EOL is tolerated.
    """
    view = memoryview(data)
    pairs: List[Tuple[int, bytes]] = []
    offset = 0
    while offset < len(view):
        if offset + _AV_HEADER.size > len(view):
            raise ProtocolError("NTLM AV_PAIR header truncated")
        av_id, av_len = _AV_HEADER.unpack_from(view, offset)
        offset += _AV_HEADER.size
        if av_id == AvId.MsvAvEOL:
            break
        if offset + av_len > len(view):
            raise ProtocolError("NTLM AV_PAIR value runs past the TargetInfo buffer")
        pairs.append((av_id, bytes(view[offset:offset + av_len])))
        offset += av_len
    return pairs


def build_av_pairs(pairs: List[Tuple[int, bytes]]) -> bytes:
    """Encode AV pairs and terminate them with MsvAvEOL."""
    out = bytearray()
    for av_id, value in pairs:
        out += _AV_HEADER.pack(av_id, len(value)) + value
    out += _AV_HEADER.pack(AvId.MsvAvEOL, 0)
    return bytes(out)


def _field(view: memoryview, length: int, offset: int, what: str) -> bytes:
    if length == 0:
        return b""
    if offset > len(view) or length > len(view) - offset:
        raise ProtocolError("NTLM %s field lies outside the message" % what)
    return bytes(view[offset:offset + length])


@dataclass(frozen=True)
class ChallengeMessage:
    """CHALLENGE_MESSAGE, [MS-NLMP] 2.2.1.2."""

    flags: int
    server_challenge: bytes
    target_name: bytes = b""
    target_info: bytes = b""
    version: bytes = b""

    @classmethod
    def unpack_from(cls, buf: bytes, offset: int = 0) -> "ChallengeMessage":
        view = memoryview(buf)[offset:]
        if len(view) < _CHALLENGE_MIN.size:
            raise ProtocolError("NTLM CHALLENGE_MESSAGE is truncated (%d bytes)" % len(view))
        (signature, msg_type, name_len, _name_max, name_offset, flags,
         server_challenge) = _CHALLENGE_MIN.unpack_from(view, 0)
        if signature != NTLMSSP_SIGNATURE:
            raise ProtocolError("not an NTLMSSP message")
        if msg_type != CHALLENGE_MESSAGE_TYPE:
            raise ProtocolError("expected NTLM CHALLENGE_MESSAGE, got type %d" % msg_type)
        target_name = _field(view, name_len, name_offset, "TargetName")
        target_info = b""
        version = b""
        # Old servers end the message after ServerChallenge; the TargetInfo
        # fields only exist when the payload starts past them.
        payload_start = name_offset if name_len else len(view)
        if len(view) >= _CHALLENGE_MIN.size + _CHALLENGE_TARGET_INFO.size:
            info_len, _info_max, info_offset = _CHALLENGE_TARGET_INFO.unpack_from(
                view, _CHALLENGE_MIN.size)
            if flags & NegotiateFlags.NEGOTIATE_TARGET_INFO:
                target_info = _field(view, info_len, info_offset, "TargetInfo")
                if info_len:
                    payload_start = min(payload_start, info_offset)
            if (flags & NegotiateFlags.NEGOTIATE_VERSION and len(view) >= 56
                    and payload_start >= 56):
                version = bytes(view[48:56])
        return cls(flags=flags, server_challenge=bytes(server_challenge),
                   target_name=target_name, target_info=target_info, version=version)

    def pack(self) -> bytes:
        """Encode (used by tests and fake servers)."""
        header_size = 56
        name_offset = header_size
        info_offset = name_offset + len(self.target_name)
        head = _CHALLENGE_MIN.pack(NTLMSSP_SIGNATURE, CHALLENGE_MESSAGE_TYPE,
                                   len(self.target_name), len(self.target_name), name_offset,
                                   self.flags, self.server_challenge)
        tail = _CHALLENGE_TARGET_INFO.pack(len(self.target_info), len(self.target_info),
                                           info_offset)
        version = (self.version or b"\x00" * 8)[:8].ljust(8, b"\x00")
        return head + tail + version + self.target_name + self.target_info


def _negotiate_message(flags: int) -> bytes:
    # [MS-NLMP] 2.2.1.1: no domain or workstation is supplied.
    return _NEGOTIATE.pack(NTLMSSP_SIGNATURE, NEGOTIATE_MESSAGE_TYPE, flags,
                           0, 0, 0, 0, 0, 0, CLIENT_VERSION)


def _authenticate_message(flags: int, lm_response: bytes, nt_response: bytes, domain: bytes,
                          user: bytes, workstation: bytes, encrypted_session_key: bytes,
                          with_mic: bool) -> bytes:
    """AUTHENTICATE_MESSAGE, [MS-NLMP] 2.2.1.3, with the MIC field zeroed."""
    header = _AUTHENTICATE.size + len(CLIENT_VERSION) + (_MIC_SIZE if with_mic else 0)
    # Payload in the order Windows and the [MS-NLMP] 4.2 examples use.
    payload = bytearray()
    fields = []
    for blob in (domain, user, workstation, lm_response, nt_response, encrypted_session_key):
        fields.append((len(blob), header + len(payload)))
        payload += blob
    (dom, usr, wks, lm, nt, key) = fields
    head = _AUTHENTICATE.pack(
        NTLMSSP_SIGNATURE, AUTHENTICATE_MESSAGE_TYPE,
        lm[0], lm[0], lm[1], nt[0], nt[0], nt[1], dom[0], dom[0], dom[1],
        usr[0], usr[0], usr[1], wks[0], wks[0], wks[1], key[0], key[0], key[1], flags)
    version = CLIENT_VERSION if flags & NegotiateFlags.NEGOTIATE_VERSION else b"\x00" * 8
    mic = b"\x00" * _MIC_SIZE if with_mic else b""
    return head + version + mic + bytes(payload)


def generateNegotiateMessage() -> bytes:
    """NEGOTIATE_MESSAGE with :data:`NTLM_FLAGS` ([MS-NLMP] 2.2.1.1)."""
    return _negotiate_message(NTLM_FLAGS)


def generateAuthenticateMessage(challenge_flags: int, nt_response: bytes, lm_response: bytes,
                                request_session_key: bytes, user: str,
                                domain: str = "WORKGROUP",
                                workstation: str = "LOCALHOST") -> Tuple[bytes, bytes]:
    """AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.3), pysmb-compatible.

    ``request_session_key`` is the key exchange key.  When the challenge flags
    include KEY_EXCH a random exported session key is generated and sent
    RC4-encrypted under it.  Returns ``(message, exported_session_key)``: the
    second item is the key to sign with.
    """
    flags = int(challenge_flags) & ~int(NegotiateFlags.NEGOTIATE_VERSION)
    if flags & NegotiateFlags.NEGOTIATE_KEY_EXCH:
        exported = os.urandom(16)
        encrypted = crypto.rc4(request_session_key, exported)
    else:
        exported = bytes(request_session_key)
        encrypted = b""
    encoding = "utf-16-le" if flags & NegotiateFlags.NEGOTIATE_UNICODE else "ascii"
    message = _authenticate_message(
        flags, bytes(lm_response), bytes(nt_response), domain.encode(encoding, "replace"),
        user.encode(encoding, "replace"), workstation.encode(encoding, "replace"),
        encrypted, with_mic=False)
    return message, exported


def decodeChallengeMessage(ntlm_data: bytes) -> Tuple[bytes, int, bytes]:
    """Parse a CHALLENGE_MESSAGE; returns ``(server_challenge, flags, target_info)``.

    Raises :class:`ProtocolError` on anything malformed.
    """
    msg = ChallengeMessage.unpack_from(ntlm_data)
    return msg.server_challenge, msg.flags, msg.target_info


# --------------------------------------------------------------------------
# Session security ([MS-NLMP] 3.4)
# --------------------------------------------------------------------------

def _sign_key(flags: int, exported: bytes, magic: bytes) -> bytes:
    if flags & NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY:
        return crypto.md5(exported + magic)
    return b""


def _seal_key(flags: int, exported: bytes, magic: bytes) -> bytes:
    """SEALKEY ([MS-NLMP] 3.4.5.3)."""
    if flags & NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY:
        if flags & NegotiateFlags.NEGOTIATE_128:
            base = exported
        elif flags & NegotiateFlags.NEGOTIATE_56:
            base = exported[:7]
        else:
            base = exported[:5]
        return crypto.md5(base + magic)
    if flags & NegotiateFlags.NEGOTIATE_LM_KEY:
        if flags & NegotiateFlags.NEGOTIATE_56:
            return exported[:7] + b"\xa0"
        return exported[:5] + b"\xe5\x38\xb0"
    return exported


class NtlmSecurity:
    """NTLM session security for one established context ([MS-NLMP] 3.4).

    Holds the signing keys, the two RC4 sealing handles and the sequence
    numbers; ``is_client`` picks which direction is "ours".
    """

    def __init__(self, flags: int, exported_session_key: bytes, is_client: bool = True) -> None:
        self.flags = int(flags)
        key = bytes(exported_session_key)
        client_sign = _sign_key(self.flags, key, _CLIENT_SIGN_MAGIC)
        server_sign = _sign_key(self.flags, key, _SERVER_SIGN_MAGIC)
        client_seal = _seal_key(self.flags, key, _CLIENT_SEAL_MAGIC)
        server_seal = _seal_key(self.flags, key, _SERVER_SEAL_MAGIC)
        if self.flags & NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY:
            client_handle = crypto.RC4Stream(client_seal)
            server_handle = crypto.RC4Stream(server_seal)
        else:
            # Without ESS both directions share one RC4 state ([MS-NLMP] 3.4.5.3).
            client_handle = server_handle = crypto.RC4Stream(client_seal)
        if is_client:
            self._out_sign, self._in_sign = client_sign, server_sign
            self._out_handle, self._in_handle = client_handle, server_handle
        else:
            self._out_sign, self._in_sign = server_sign, client_sign
            self._out_handle, self._in_handle = server_handle, client_handle
        self._out_seq = 0
        self._in_seq = 0
        self.client_signing_key = client_sign
        self.server_signing_key = server_sign
        self.client_sealing_key = client_seal
        self.server_sealing_key = server_seal

    def _mac(self, handle: crypto.RC4Stream, sign_key: bytes, seq: int, message: bytes) -> bytes:
        """MAC ([MS-NLMP] 3.4.4.1 and 3.4.4.2) -> 16-byte NTLMSSP_MESSAGE_SIGNATURE."""
        if self.flags & NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY:
            seq_bytes = struct.pack("<I", seq)
            checksum = crypto.hmac_md5(sign_key, seq_bytes + message)[:8]
            if self.flags & NegotiateFlags.NEGOTIATE_KEY_EXCH:
                checksum = handle.update(checksum)
            return _SIGNATURE.pack(1, checksum, seq)
        # NTLMv1 signature: RandomPad, CRC32 and SeqNum all pass through RC4;
        # the RandomPad goes out as zero ([MS-NLMP] 4.2.2.4 shows 00000000).
        handle.update(b"\x00" * 4)
        crc = handle.update(struct.pack("<I", zlib.crc32(message) & 0xFFFFFFFF))
        seq_enc = handle.update(struct.pack("<I", seq))
        return struct.pack("<I4x", 1) + crc + seq_enc

    def sign(self, message: bytes) -> bytes:
        """GSS_GetMIC: signature of ``message`` in our direction."""
        sig = self._mac(self._out_handle, self._out_sign, self._out_seq, bytes(message))
        self._out_seq += 1
        return sig

    def verify(self, message: bytes, signature: bytes) -> bool:
        """GSS_VerifyMIC: check the peer's signature (constant-time compare)."""
        expected = self._mac(self._in_handle, self._in_sign, self._in_seq, bytes(message))
        self._in_seq += 1
        return hmac.compare_digest(expected, bytes(signature))

    def seal(self, message: bytes) -> Tuple[bytes, bytes]:
        """GSS_WrapEx with confidentiality: ``(sealed_message, signature)``."""
        sealed = self._out_handle.update(bytes(message))
        signature = self._mac(self._out_handle, self._out_sign, self._out_seq, bytes(message))
        self._out_seq += 1
        return sealed, signature

    def unseal(self, sealed: bytes, signature: bytes) -> bytes:
        """GSS_UnwrapEx: decrypt and verify; :class:`ProtocolError` on a bad MAC."""
        message = self._in_handle.update(bytes(sealed))
        expected = self._mac(self._in_handle, self._in_sign, self._in_seq, message)
        self._in_seq += 1
        if not hmac.compare_digest(expected, bytes(signature)):
            raise ProtocolError("NTLM message signature mismatch")
        return message

    def __repr__(self) -> str:
        return "<NtlmSecurity flags=0x%08x>" % self.flags


# --------------------------------------------------------------------------
# The client context
# --------------------------------------------------------------------------

def _filetime_now(now: Callable[[], float]) -> bytes:
    seconds = now()
    ticks = int(round(seconds * 10_000_000)) + 116444736000000000
    return struct.pack("<Q", ticks)


@dataclass
class _Exchange:
    negotiate: bytes = b""
    challenge: bytes = b""
    authenticate: bytes = b""


class NtlmContext:
    """Client side of one NTLMSSP authentication ([MS-NLMP] 3.1.5).

    Usage: send :meth:`negotiate_message`, feed the server's CHALLENGE to
    :meth:`authenticate_message` and send the result.  Afterwards
    :attr:`session_key` is the exported session key (SMB signing / SMB3 KDF
    input) and :meth:`mech_list_mic` signs the SPNEGO mechanism list.

    ``rand(n)`` supplies the client challenge and the random session key;
    ``now()`` returns POSIX seconds for the NTLMv2 timestamp when the server
    sent none.  Both are injectable for tests.
    """

    def __init__(self, username: str, password: str, domain: str = "", workstation: str = "",
                 use_ntlm_v2: bool = True, rand: Callable[[int], bytes] = os.urandom,
                 now: Optional[Callable[[], float]] = None) -> None:
        self.username = username or ""
        self._password = password or ""
        self.domain = domain or ""
        self.workstation = workstation or ""
        self.use_ntlm_v2 = use_ntlm_v2
        self._rand = rand
        self._now = now if now is not None else time.time
        self.anonymous = self.username == "" and self._password == ""
        self.negotiated_flags = 0
        self.session_key = b""
        self.mic_sent = False
        self.target_info = b""
        self.security: Optional[NtlmSecurity] = None
        self._msgs = _Exchange()

    def __repr__(self) -> str:
        # Never show the password.
        return "<NtlmContext user=%r domain=%r v2=%s>" % (self.username, self.domain,
                                                           self.use_ntlm_v2)

    def _random(self, n: int) -> bytes:
        value = bytes(self._rand(n))
        if len(value) != n:
            raise ValueError("rand(%d) returned %d bytes" % (n, len(value)))
        return value

    # -- messages ----------------------------------------------------------

    def negotiate_message(self) -> bytes:
        """The NEGOTIATE_MESSAGE to send first."""
        self._msgs.negotiate = _negotiate_message(NTLM_FLAGS)
        return self._msgs.negotiate

    def authenticate_message(self, challenge: bytes) -> bytes:
        """Process the server's CHALLENGE_MESSAGE and return the AUTHENTICATE_MESSAGE.

        Hostile or malformed input raises :class:`ProtocolError`.
        """
        challenge = bytes(challenge)
        msg = ChallengeMessage.unpack_from(challenge)
        if not self._msgs.negotiate:
            self.negotiate_message()
        self._msgs.challenge = challenge

        flags = NTLM_FLAGS & msg.flags
        # The target type bits are informational; keep the ones the server set.
        flags |= msg.flags & (NegotiateFlags.TARGET_TYPE_DOMAIN | NegotiateFlags.TARGET_TYPE_SERVER)
        if not msg.flags & NegotiateFlags.NEGOTIATE_UNICODE and msg.flags & NegotiateFlags.NEGOTIATE_OEM:
            flags |= NegotiateFlags.NEGOTIATE_OEM
        unicode = bool(flags & NegotiateFlags.NEGOTIATE_UNICODE)

        with_mic = False
        if self.anonymous:
            # [MS-NLMP] 3.2.5.1.2: empty NT response, one zero byte of LM response.
            flags |= NegotiateFlags.ANONYMOUS
            nt_response, lm_response = b"", b"\x00"
            key_exchange_key = b"\x00" * 16
        elif self.use_ntlm_v2:
            nt_response, lm_response, key_exchange_key, with_mic = self._ntlm_v2(msg)
        else:
            nt_response, lm_response, key_exchange_key = self._ntlm_v1(msg, flags)

        if flags & NegotiateFlags.NEGOTIATE_KEY_EXCH:
            exported = self._random(16)
            encrypted_key = crypto.rc4(key_exchange_key, exported)
        else:
            exported = key_exchange_key
            encrypted_key = b""

        encoding = "utf-16-le" if unicode else "ascii"
        auth = _authenticate_message(
            flags, lm_response, nt_response,
            self.domain.encode(encoding, "replace"), self.username.encode(encoding, "replace"),
            self.workstation.encode(encoding, "replace"), encrypted_key, with_mic)
        if with_mic:
            mic = crypto.hmac_md5(exported, self._msgs.negotiate + challenge + auth)
            auth = auth[:_MIC_OFFSET] + mic + auth[_MIC_OFFSET + _MIC_SIZE:]
        self._msgs.authenticate = auth
        self.negotiated_flags = int(flags)
        self.session_key = exported
        self.mic_sent = with_mic
        self.security = NtlmSecurity(flags, exported, is_client=True)
        log.debug("NTLM authenticate built: v2=%s flags=0x%08x mic=%s anonymous=%s",
                  self.use_ntlm_v2, flags, with_mic, self.anonymous)
        return auth

    def _ntlm_v2(self, msg: ChallengeMessage) -> Tuple[bytes, bytes, bytes, bool]:
        pairs = parse_av_pairs(msg.target_info)
        server_time: Optional[bytes] = None
        av_flags = 0
        kept: List[Tuple[int, bytes]] = []
        for av_id, value in pairs:
            if av_id == AvId.MsvAvTimestamp:
                if len(value) != 8:
                    raise ProtocolError("MsvAvTimestamp must be 8 bytes")
                server_time = value
            if av_id == AvId.MsvAvFlags:
                if len(value) != 4:
                    raise ProtocolError("MsvAvFlags must be 4 bytes")
                av_flags = struct.unpack("<I", value)[0]
                continue
            kept.append((av_id, value))
        with_mic = server_time is not None
        if with_mic:
            av_flags |= AV_FLAG_MIC_PRESENT
        if av_flags:
            kept.append((AvId.MsvAvFlags, struct.pack("<I", av_flags)))
        target_info = build_av_pairs(kept)
        self.target_info = target_info
        timestamp = server_time if server_time is not None else _filetime_now(self._now)
        client_challenge = self._random(8)
        response_key = ntowf_v2(self._password, self.username, self.domain)
        nt_response, lm_response, session_base_key = _ntlmv2_responses(
            response_key, msg.server_challenge, client_challenge, timestamp, target_info)
        if server_time is not None:
            # [MS-NLMP] 3.1.5.1.2: with a server timestamp the LMv2 response is Z(24).
            lm_response = b"\x00" * 24
        return nt_response, lm_response, session_base_key, with_mic

    def _ntlm_v1(self, msg: ChallengeMessage, flags: int) -> Tuple[bytes, bytes, bytes]:
        nt_key = nt_hash(self._password)
        session_base_key = crypto.md4(nt_key)
        if flags & NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY:
            client_challenge = self._random(8)
            nt_response = desl(nt_key, crypto.md5(msg.server_challenge + client_challenge)[:8])
            lm_response = client_challenge + b"\x00" * 16
        else:
            nt_response = desl(nt_key, msg.server_challenge)
            # NoLMResponseNTLMv1: repeat the NT response rather than expose the LM hash.
            lm_response = nt_response
        key_exchange_key = _v1_key_exchange_key(flags, session_base_key, b"",
                                                msg.server_challenge, lm_response)
        return nt_response, lm_response, key_exchange_key

    # -- SPNEGO mechListMIC ------------------------------------------------

    def mech_list_mic(self, mech_types_der: bytes) -> bytes:
        """GSS_GetMIC over the DER MechTypeList, client keys, sequence 0."""
        if self.security is None:
            raise ValueError("authentication has not been performed")
        return self.security.sign(bytes(mech_types_der))

    def verify_mech_list_mic(self, mech_types_der: bytes, mic: bytes) -> bool:
        """Check the server's mechListMIC (server keys, sequence 0)."""
        if self.security is None:
            raise ValueError("authentication has not been performed")
        if len(mic) != 16:
            return False
        return self.security.verify(bytes(mech_types_der), bytes(mic))


# --------------------------------------------------------------------------
# pysmb's module-level crypto helpers (kept for code that imported them from
# smb.ntlm; the library itself uses smb.crypto)
# --------------------------------------------------------------------------

#: pysmb's MD4 hash object (``smb.utils.md4.MD4``).
MD4 = _md4.MD4
#: pyDes's single-DES class (``smb.utils.pyDes.des``).
des = _pyDes.des
#: One-shot RC4 (``smb.utils.rc4.RC4_encrypt``).
RC4_encrypt = _rc4.RC4_encrypt


def MD5(s: bytes) -> "hashlib._Hash":
    """A ``hashlib`` MD5 object over ``s`` (pysmb returned the object, not the digest)."""
    return hashlib.md5(bytes(s))


def expandDesKey(key: bytes) -> bytes:
    """The 8-byte DES key made of the first 7 bytes of ``key``, 7 bits per byte.

    As pysmb did, the low (parity) bit of every byte is left 0; DES ignores it.
    """
    if len(key) < 7:
        raise ValueError("DES key material must be at least 7 bytes")
    return bytes(b & 0xFE for b in crypto.expand_des_key(bytes(key[:7])))


def DESL(K: bytes, D: bytes) -> bytes:
    """DESL(K, D) of [MS-NLMP] 6: ``D`` (8 bytes) encrypted under K[0:7], K[7:14]
    and K[14:16] + Z(5); 24 bytes.  ``K`` needs at least 16 bytes (the rest is unused)."""
    if len(K) < 16:
        raise ValueError("DESL key must be at least 16 bytes")
    return desl(bytes(K[:16]), bytes(D))
