"""All the cryptography of the library, as pure functions.

Everything here is a thin, typed layer over pycryptodome and the standard
library (``hmac``/``hashlib``); the AES of signing and encryption on the
transfer path runs through OpenSSL instead when the optional ``cryptography``
package is installed (``pip install smbwire[fast]``, see :func:`use_backend`).  Inputs may be ``bytes``, ``bytearray`` or
``memoryview``; outputs are always ``bytes``.

Two primitives are written by hand on purpose:

* ``hashlib.new("md4")`` is unavailable under OpenSSL 3, so MD4 comes from
  pycryptodome.
* pycryptodome's SP800-108 KDF refuses labels containing NUL bytes, and every
  SMB 3.x label ends in one (``b"SMB2AESCMAC\\x00"``), so the counter-mode KDF
  of [MS-SMB2] 3.1.4.2 is the few lines of :func:`smb3_kdf`.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import struct
from typing import Any, List, Sequence, Tuple, Union

from Crypto.Cipher import AES, ARC4, DES
from Crypto.Hash import CMAC
from Crypto.Hash import MD4 as _MD4

from smb.exceptions import ProtocolError

__all__ = [
    "BytesLike",
    "md4",
    "md5",
    "sha512",
    "des_encrypt_block",
    "expand_des_key",
    "rc4",
    "RC4Stream",
    "hmac_md5",
    "hmac_sha256",
    "aes_cmac",
    "aes_gmac",
    "aes_ccm_encrypt",
    "aes_ccm_decrypt",
    "aes_gcm_encrypt",
    "aes_gcm_decrypt",
    "aes_cts_encrypt",
    "aes_cts_decrypt",
    "smb3_kdf",
    "preauth_hash_update",
    "aes_cmac_parts",
    "aes_gmac_parts",
    "aead_encrypt_parts",
    "aead_decrypt_into",
    "use_backend",
    "fast_backend_available",
]

BytesLike = Union[bytes, bytearray, memoryview]

_TAG_SIZE = 16
_AES_KEY_SIZES = (16, 32)
_KDF_COUNTER = struct.Struct(">I")


def _bytes(data: BytesLike) -> bytes:
    return data if isinstance(data, bytes) else bytes(data)

# Bulk data (messages, payloads) goes to pycryptodome and hashlib as given:
# both read any contiguous buffer, so large reads and writes are not copied.


# --------------------------------------------------------------------------
# Hashes and MACs
# --------------------------------------------------------------------------

def md4(data: BytesLike) -> bytes:
    """MD4 digest (RFC 1320); the NT one-way function of [MS-NLMP] 3.3.1."""
    return _MD4.new(_bytes(data)).digest()


def md5(data: BytesLike) -> bytes:
    """MD5 digest (RFC 1321)."""
    return hashlib.md5(_bytes(data)).digest()


def sha512(data: BytesLike) -> bytes:
    """SHA-512 digest; the preauth integrity hash of [MS-SMB2] 3.2.5.2."""
    return hashlib.sha512(data).digest()


def hmac_md5(key: BytesLike, data: BytesLike) -> bytes:
    """HMAC-MD5 (RFC 2104), used throughout [MS-NLMP]."""
    return hmac.new(_bytes(key), _bytes(data), hashlib.md5).digest()


def hmac_sha256(key: BytesLike, data: BytesLike) -> bytes:
    """HMAC-SHA256 (full 32 bytes); SMB 2.0.2/2.1 signing keeps the first 16."""
    return hmac.new(_bytes(key), _bytes(data), hashlib.sha256).digest()


def aes_cmac(key: BytesLike, data: BytesLike) -> bytes:
    """AES-CMAC (RFC 4493), the SMB 3.x signing algorithm; 16-byte tag."""
    mac = CMAC.new(_bytes(key), ciphermod=AES)
    mac.update(data)
    return mac.digest()


def aes_gmac(key: BytesLike, nonce12: BytesLike, data: BytesLike) -> bytes:
    """AES-GMAC: GCM over an empty plaintext with ``data`` as the AAD.

    SMB 3.1.1 AES-GMAC signing ([MS-SMB2] 3.1.4.1) uses a 12-byte nonce built
    from the message id and the request/cancel flags.
    """
    _check_aes_key(key)
    nonce = _bytes(nonce12)
    if len(nonce) != 12:
        raise ValueError("AES-GMAC nonce must be 12 bytes")
    cipher = AES.new(_bytes(key), AES.MODE_GCM, nonce=nonce, mac_len=_TAG_SIZE)
    cipher.update(data)
    return cipher.digest()


def preauth_hash_update(previous: BytesLike, message: BytesLike) -> bytes:
    """Next SMB 3.1.1 preauth integrity hash value: SHA-512(previous || message).

    [MS-SMB2] 3.2.5.2 / 3.3.5.4; the chain starts with 64 zero bytes.
    """
    h = hashlib.sha512(previous)
    h.update(message)
    return h.digest()


def smb3_kdf(key: BytesLike, label: bytes, context: bytes, length: int = 16) -> bytes:
    """SP800-108 KDF in counter mode with HMAC-SHA256, r = 32 ([MS-SMB2] 3.1.4.2).

    ``label`` and ``context`` are passed exactly as the spec writes them
    (including their trailing NUL, e.g. ``b"SMB2AESCMAC\\x00"``); the KDF adds
    the 0x00 separator itself.  ``length`` is in bytes (16 or 32).
    """
    if length <= 0:
        raise ValueError("KDF output length must be positive")
    k = _bytes(key)
    fixed = _bytes(label) + b"\x00" + _bytes(context) + _KDF_COUNTER.pack(length * 8)
    out = bytearray()
    counter = 1
    while len(out) < length:
        out += hmac.new(k, _KDF_COUNTER.pack(counter) + fixed, hashlib.sha256).digest()
        counter += 1
    return bytes(out[:length])


# --------------------------------------------------------------------------
# DES and RC4 (NTLM)
# --------------------------------------------------------------------------

def expand_des_key(key7: BytesLike) -> bytes:
    """Spread 56 key bits over 8 bytes, 7 bits each, with odd parity in bit 0.

    [MS-NLMP] 6 (DES), as used by LMOWFv1 and DESL.
    """
    raw = _bytes(key7)
    if len(raw) != 7:
        raise ValueError("DES key material must be 7 bytes")
    bits = int.from_bytes(raw, "big")
    out = bytearray(8)
    for i in range(8):
        septet = (bits >> (49 - 7 * i)) & 0x7F
        byte = septet << 1
        if bin(byte).count("1") % 2 == 0:
            byte |= 1
        out[i] = byte
    return bytes(out)


def des_encrypt_block(key7: BytesLike, block: BytesLike) -> bytes:
    """DES-ECB encryption of one 8-byte block under a 7-byte key."""
    data = _bytes(block)
    if len(data) != 8:
        raise ValueError("DES block must be 8 bytes")
    return DES.new(expand_des_key(key7), DES.MODE_ECB).encrypt(data)


def rc4(key: BytesLike, data: BytesLike) -> bytes:
    """One-shot RC4 (RC4K in [MS-NLMP] 6)."""
    return ARC4.new(_bytes(key)).encrypt(_bytes(data))


class RC4Stream:
    """A keyed RC4 keystream whose state carries across calls.

    NTLM session security ([MS-NLMP] 3.4) keeps one such handle per direction
    for the life of the security context.
    """

    __slots__ = ("_cipher",)

    def __init__(self, key: BytesLike) -> None:
        self._cipher = ARC4.new(_bytes(key))

    def update(self, data: BytesLike) -> bytes:
        """XOR ``data`` with the next ``len(data)`` keystream bytes."""
        return self._cipher.encrypt(_bytes(data))

    def __repr__(self) -> str:
        return "<RC4Stream>"


# --------------------------------------------------------------------------
# AES AEAD (SMB 3.x encryption, [MS-SMB2] 3.1.4.3)
# --------------------------------------------------------------------------

def _check_aes_key(key: BytesLike) -> None:
    if len(key) not in _AES_KEY_SIZES:
        raise ValueError("AES key must be 16 or 32 bytes")


def aes_ccm_encrypt(key: BytesLike, nonce11: BytesLike, aad: BytesLike,
                    plaintext: BytesLike) -> Tuple[bytes, bytes]:
    """AES-CCM encryption with a 16-byte tag; returns ``(ciphertext, tag)``.

    SMB uses an 11-byte nonce (the first 11 bytes of the TRANSFORM_HEADER
    Nonce field).
    """
    _check_aes_key(key)
    cipher = AES.new(_bytes(key), AES.MODE_CCM, nonce=_bytes(nonce11), mac_len=_TAG_SIZE)
    cipher.update(aad)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    return ciphertext, tag


def aes_ccm_decrypt(key: BytesLike, nonce11: BytesLike, aad: BytesLike,
                    ciphertext: BytesLike, tag: BytesLike) -> bytes:
    """AES-CCM decryption; raises :class:`ProtocolError` when the tag is wrong."""
    _check_aes_key(key)
    cipher = AES.new(_bytes(key), AES.MODE_CCM, nonce=_bytes(nonce11), mac_len=_TAG_SIZE)
    cipher.update(aad)
    try:
        return cipher.decrypt_and_verify(ciphertext, _bytes(tag))
    except ValueError as err:
        raise ProtocolError("AES-CCM decryption failed: bad signature") from err


def aes_gcm_encrypt(key: BytesLike, nonce12: BytesLike, aad: BytesLike,
                    plaintext: BytesLike) -> Tuple[bytes, bytes]:
    """AES-GCM encryption with a 16-byte tag; returns ``(ciphertext, tag)``."""
    _check_aes_key(key)
    cipher = AES.new(_bytes(key), AES.MODE_GCM, nonce=_bytes(nonce12), mac_len=_TAG_SIZE)
    cipher.update(aad)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    return ciphertext, tag


def aes_gcm_decrypt(key: BytesLike, nonce12: BytesLike, aad: BytesLike,
                    ciphertext: BytesLike, tag: BytesLike) -> bytes:
    """AES-GCM decryption; raises :class:`ProtocolError` when the tag is wrong."""
    _check_aes_key(key)
    cipher = AES.new(_bytes(key), AES.MODE_GCM, nonce=_bytes(nonce12), mac_len=_TAG_SIZE)
    cipher.update(aad)
    try:
        return cipher.decrypt_and_verify(ciphertext, _bytes(tag))
    except ValueError as err:
        raise ProtocolError("AES-GCM decryption failed: bad signature") from err


# --------------------------------------------------------------------------
# Scatter/gather variants for the transfer hot path: a message made of
# several buffers (header, body, payload) is authenticated or encrypted
# piece by piece, so an 8 MiB payload is never concatenated just to be MACed.
# --------------------------------------------------------------------------

def hmac_sha256_parts(key: BytesLike, parts: "Sequence[BytesLike]") -> bytes:
    """HMAC-SHA256 over the concatenation of ``parts``."""
    mac = hmac.new(_bytes(key), None, hashlib.sha256)
    for part in parts:
        mac.update(part)
    return mac.digest()


def _pc_aes_cmac_parts(key: BytesLike, parts: "Sequence[BytesLike]") -> bytes:
    """AES-CMAC over the concatenation of ``parts``."""
    mac = CMAC.new(_bytes(key), ciphermod=AES)
    for part in parts:
        mac.update(part)
    return mac.digest()


def _pc_aes_gmac_parts(key: BytesLike, nonce12: BytesLike, parts: "Sequence[BytesLike]") -> bytes:
    """AES-GMAC over the concatenation of ``parts`` (all of it authenticated data)."""
    _check_aes_key(key)
    cipher = AES.new(_bytes(key), AES.MODE_GCM, nonce=_bytes(nonce12), mac_len=_TAG_SIZE)
    for part in parts:
        cipher.update(part)
    return cipher.digest()


def _aead(ccm: bool, key: BytesLike, nonce: BytesLike, aad: BytesLike, length: int) -> object:
    _check_aes_key(key)
    if ccm:
        # pycryptodome's stubs omit msg_len, which CCM needs to stream pieces.
        cipher = AES.new(_bytes(key), AES.MODE_CCM, nonce=_bytes(nonce), mac_len=_TAG_SIZE,  # type: ignore[call-overload]
                         msg_len=length, assoc_len=len(aad))
    else:
        cipher = AES.new(_bytes(key), AES.MODE_GCM, nonce=_bytes(nonce), mac_len=_TAG_SIZE)
    cipher.update(aad)
    return cipher


def _pc_aead_encrypt_parts(ccm: bool, key: BytesLike, nonce: BytesLike, aad: BytesLike,
                       parts: "Sequence[BytesLike]") -> "Tuple[List[bytes], bytes]":
    """AES-CCM (``ccm=True``, 11-byte nonce) or AES-GCM (12-byte nonce) over the
    concatenation of ``parts``; returns ``(ciphertext pieces, tag)``."""
    cipher = _aead(ccm, key, nonce, aad, sum(len(p) for p in parts))
    out = [cipher.encrypt(part) for part in parts]  # type: ignore[attr-defined]
    return out, cipher.digest()  # type: ignore[attr-defined]


def _pc_aead_decrypt_into(ccm: bool, key: BytesLike, nonce: BytesLike, aad: BytesLike,
                      ciphertext: BytesLike, tag: BytesLike, output: memoryview) -> None:
    """Decrypt ``ciphertext`` into ``output`` (same length) and verify ``tag``.

    Raises :class:`ProtocolError` when the tag is wrong; ``output`` must not
    be used then.
    """
    cipher = _aead(ccm, key, nonce, aad, len(ciphertext))
    cipher.decrypt(ciphertext, output=output)  # type: ignore[attr-defined]
    try:
        cipher.verify(_bytes(tag))  # type: ignore[attr-defined]
    except ValueError as err:
        raise ProtocolError("SMB3 decryption failed: bad signature") from err


# --------------------------------------------------------------------------
# The same four hot-path functions over OpenSSL, through the optional
# ``cryptography`` package (extra ``fast``): AES-GCM runs several times faster
# there than in pycryptodome.  Identical results; which one runs is
# :data:`backend`, chosen at import (``cryptography`` when it imports) and
# switchable with :func:`use_backend` or ``SMBWIRE_CRYPTO=pycryptodome``.
# --------------------------------------------------------------------------

def _os_aes_cmac_parts(key: BytesLike, parts: "Sequence[BytesLike]") -> bytes:
    mac = _ossl.CMAC(_ossl.AES(_bytes(key)))
    for part in parts:
        mac.update(part)
    return bytes(mac.finalize())


def _os_aes_gmac_parts(key: BytesLike, nonce12: BytesLike, parts: "Sequence[BytesLike]") -> bytes:
    _check_aes_key(key)
    if sum(len(part) for part in parts) <= _GMAC_JOIN_LIMIT:
        # Small messages (most signed ones): a keyed AESGCM kept per signing key costs
        # a microsecond a tag; a fresh Cipher context costs ten.
        key_bytes = _bytes(key)
        sealer = _gmac_sealers.get(key_bytes)
        if sealer is None:
            if len(_gmac_sealers) >= 16:
                _gmac_sealers.clear()
            sealer = _gmac_sealers[key_bytes] = _ossl.AESGCM(key_bytes)
        return bytes(sealer.encrypt(_bytes(nonce12), b"", b"".join(parts))[-_TAG_SIZE:])
    enc = _ossl.Cipher(_ossl.AES(_bytes(key)), _ossl.GCM(_bytes(nonce12))).encryptor()
    for part in parts:
        enc.authenticate_additional_data(part)
    enc.finalize()
    return bytes(enc.tag)


def _os_aead_encrypt_parts(ccm: bool, key: BytesLike, nonce: BytesLike, aad: BytesLike,
                           parts: "Sequence[BytesLike]") -> "Tuple[List[bytes], bytes]":
    _check_aes_key(key)
    if ccm:
        # OpenSSL's CCM is one-shot: the pieces are joined (one copy), the tag split off.
        sealed = _ossl.AESCCM(_bytes(key), tag_length=_TAG_SIZE).encrypt(_bytes(nonce), b"".join(parts),
                                                                          _bytes(aad))
        return [sealed[:-_TAG_SIZE]], sealed[-_TAG_SIZE:]
    enc = _ossl.Cipher(_ossl.AES(_bytes(key)), _ossl.GCM(_bytes(nonce))).encryptor()
    enc.authenticate_additional_data(aad)
    # Output in slices: a fresh multi-MiB buffer per message costs more in page faults
    # than OpenSSL takes to encrypt it; slices of this size come from reused heap memory.
    out = []
    for part in parts:
        view = memoryview(part)
        for start in range(0, len(view), _OSSL_SLICE):
            out.append(enc.update(view[start:start + _OSSL_SLICE]))
    tail = enc.finalize()
    if tail:
        out.append(tail)
    return out, bytes(enc.tag)


def _os_aead_decrypt_into(ccm: bool, key: BytesLike, nonce: BytesLike, aad: BytesLike,
                          ciphertext: BytesLike, tag: BytesLike, output: memoryview) -> None:
    _check_aes_key(key)
    try:
        if ccm:
            output[:] = _ossl.AESCCM(_bytes(key), tag_length=_TAG_SIZE).decrypt(
                _bytes(nonce), b"".join((ciphertext, tag)), _bytes(aad))
            return
        dec = _ossl.Cipher(_ossl.AES(_bytes(key)), _ossl.GCM(_bytes(nonce), _bytes(tag))).decryptor()
        dec.authenticate_additional_data(aad)
        # Straight into ``output``: update_into wants 15 bytes of room past the data, so
        # all but the last 15 bytes go in place and those few are copied.
        size = len(ciphertext)
        head = max(0, size - 15)
        if head:
            dec.update_into(memoryview(ciphertext)[:head], output)
        output[head:] = dec.update(memoryview(ciphertext)[head:])
        dec.finalize()
    except _ossl.InvalidTag as err:
        raise ProtocolError("SMB3 decryption failed: bad signature") from err


_OSSL_SLICE = 256 * 1024
_GMAC_JOIN_LIMIT = 64 * 1024
_gmac_sealers: dict = {}


class _OpenSSL:
    """The pieces of ``cryptography`` used above, imported once."""

    def __init__(self) -> None:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers import Cipher
        from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM
        from cryptography.hazmat.primitives.ciphers.algorithms import AES as _AES
        from cryptography.hazmat.primitives.ciphers.modes import GCM
        from cryptography.hazmat.primitives.cmac import CMAC as _CMAC
        self.InvalidTag = InvalidTag
        self.Cipher = Cipher
        self.AESCCM = AESCCM
        self.AESGCM = AESGCM
        self.AES = _AES
        self.GCM = GCM
        self.CMAC = _CMAC


_ossl: Any = None
_BACKENDS = {
    "pycryptodome": (_pc_aes_cmac_parts, _pc_aes_gmac_parts, _pc_aead_encrypt_parts, _pc_aead_decrypt_into),
    "cryptography": (_os_aes_cmac_parts, _os_aes_gmac_parts, _os_aead_encrypt_parts, _os_aead_decrypt_into),
}
#: Which library runs the hot-path AES (``"cryptography"`` or ``"pycryptodome"``).
backend = "pycryptodome"
aes_cmac_parts = _pc_aes_cmac_parts
aes_gmac_parts = _pc_aes_gmac_parts
aead_encrypt_parts = _pc_aead_encrypt_parts
aead_decrypt_into = _pc_aead_decrypt_into


def fast_backend_available() -> bool:
    """True when the ``cryptography`` package (OpenSSL) can be used."""
    global _ossl
    if _ossl is None:
        try:
            _ossl = _OpenSSL()
        except ImportError:
            return False
    return True


def use_backend(name: str) -> None:
    """Run AES-CMAC, AES-GMAC and AES-CCM/GCM of signing and encryption with
    ``"cryptography"`` (OpenSSL; ``ImportError`` when it is not installed) or
    ``"pycryptodome"``.  Affects every connection from then on."""
    global backend, aes_cmac_parts, aes_gmac_parts, aead_encrypt_parts, aead_decrypt_into
    if name not in _BACKENDS:
        raise ValueError("unknown crypto backend %r (cryptography or pycryptodome)" % (name,))
    if name == "cryptography" and not fast_backend_available():
        raise ImportError("the cryptography package is not installed (pip install smbwire[fast])")
    aes_cmac_parts, aes_gmac_parts, aead_encrypt_parts, aead_decrypt_into = _BACKENDS[name]
    backend = name


def _choose_backend() -> None:
    wanted = os.environ.get("SMBWIRE_CRYPTO", "").strip().lower()
    if wanted == "pycryptodome":
        return
    if fast_backend_available():
        use_backend("cryptography")
    elif wanted == "cryptography":
        raise ImportError("SMBWIRE_CRYPTO=cryptography, but the cryptography package is not installed")


_choose_backend()


# --------------------------------------------------------------------------
# AES-CBC with ciphertext stealing (Kerberos, [RFC 3962] 5 and [RFC 8009] 5)
# --------------------------------------------------------------------------

_AES_BLOCK = 16


def _check_cts_args(key: BytesLike, iv: BytesLike, data: BytesLike) -> None:
    if len(key) not in _AES_KEY_SIZES:
        raise ValueError("AES key must be 16 or 32 bytes")
    if len(iv) != _AES_BLOCK:
        raise ValueError("AES-CTS IV must be 16 bytes")
    if len(data) < _AES_BLOCK:
        raise ValueError("AES-CTS input must be at least one block")


def aes_cts_encrypt(key: BytesLike, iv: BytesLike, data: BytesLike) -> bytes:
    """AES-CBC with ciphertext stealing, as Kerberos uses it ([RFC 3962] 5).

    The output is as long as the input (at least 16 bytes).  Exactly one
    block is plain CBC of that block.  Otherwise the final, possibly partial,
    block is zero-filled, the whole is CBC-encrypted, and the last two
    ciphertext blocks are swapped, the (now last) one cut to the length of
    the final plaintext block; a whole number of blocks is therefore CBC with
    the last two blocks swapped.
    """
    _check_cts_args(key, iv, data)
    cipher = AES.new(_bytes(key), AES.MODE_CBC, iv=_bytes(iv))
    size = len(data)
    if size == _AES_BLOCK:
        return cipher.encrypt(data)
    tail = size % _AES_BLOCK or _AES_BLOCK
    out = cipher.encrypt(_bytes(data) + bytes(_AES_BLOCK - tail))
    return out[:-2 * _AES_BLOCK] + out[-_AES_BLOCK:] + out[-2 * _AES_BLOCK:-_AES_BLOCK][:tail]


def aes_cts_decrypt(key: BytesLike, iv: BytesLike, data: BytesLike) -> bytes:
    """Inverse of :func:`aes_cts_encrypt` ([RFC 3962] 5, [RFC 2040] 8 with
    the errata of [RFC 3962] appendix A).  No integrity check: callers MAC."""
    _check_cts_args(key, iv, data)
    raw = _bytes(data)
    k = _bytes(key)
    size = len(raw)
    if size == _AES_BLOCK:
        return AES.new(k, AES.MODE_CBC, iv=_bytes(iv)).decrypt(raw)
    tail = size % _AES_BLOCK or _AES_BLOCK
    split = size - _AES_BLOCK - tail
    last_full = raw[split:split + _AES_BLOCK]      # encrypts the zero-filled last block
    stolen = raw[split + _AES_BLOCK:]              # head of the next-to-last cipher block
    # Decrypting the full block gives (last plaintext || zeros) XOR the
    # next-to-last cipher block: its tail restores the stolen bytes.
    mixed = AES.new(k, AES.MODE_ECB).decrypt(last_full)
    prev_block = stolen + mixed[tail:]
    last_plain = bytes(a ^ b for a, b in zip(mixed[:tail], stolen))
    front = AES.new(k, AES.MODE_CBC, iv=_bytes(iv)).decrypt(raw[:split] + prev_block)
    return front + last_plain
