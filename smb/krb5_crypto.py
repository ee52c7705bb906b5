"""Kerberos 5 encryption and checksum profiles, as pure functions.

The framework is [RFC 3961]: every encryption type (etype) defines
string-to-key, random-to-key, encryption with integrity, a keyed checksum
and a pseudo-random function, each keyed by a *usage number* so that one
base key yields unrelated keys for unrelated purposes.  Implemented here:

========  ==============================  ===========  ==================
etype     name                            checksum     spec
========  ==============================  ===========  ==================
18        aes256-cts-hmac-sha1-96         16           [RFC 3962]
17        aes128-cts-hmac-sha1-96         15           [RFC 3962]
20        aes256-cts-hmac-sha384-192      20           [RFC 8009]
19        aes128-cts-hmac-sha256-128      19           [RFC 8009]
23        rc4-hmac                        -138         [RFC 4757]
========  ==============================  ===========  ==================

Nothing here does IO, keeps state or logs.  Randomness (confounders, new
keys) comes from ``os.urandom`` unless the caller passes its own bytes.

Errors:

* :class:`~smb.exceptions.KerberosError` for everything that depends on
  data from the network: a MAC that does not verify, a ciphertext too short
  to hold its confounder and MAC, string-to-key parameters that are
  malformed or ask for more than :data:`MAX_PBKDF2_ITERATIONS` iterations,
  a key of the wrong length for its etype, and an etype or checksum type
  this module does not implement (DES, 3DES, rc4-hmac-exp, Camellia or an
  unknown number), so one ``except KerberosError`` covers a KDC reply.
* :class:`~smb.exceptions.UnsupportedFeature` for an operation its etype
  does not define: :func:`prf` and :func:`derive_key` for rc4-hmac.
* ``ValueError`` for a caller's mistake: a confounder or random input of the
  wrong length, a usage number outside 0..2**32-1.

Messages name etypes and lengths, never key bytes; :class:`Key`'s repr
hides its contents.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import struct
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Tuple

from smb.crypto import BytesLike, aes_cts_decrypt, aes_cts_encrypt, hmac_md5, md4, md5, rc4
from smb.exceptions import KerberosError, UnsupportedFeature

__all__ = [
    "Key",
    "ETYPE_AES128_CTS_HMAC_SHA1_96",
    "ETYPE_AES256_CTS_HMAC_SHA1_96",
    "ETYPE_AES128_CTS_HMAC_SHA256_128",
    "ETYPE_AES256_CTS_HMAC_SHA384_192",
    "ETYPE_RC4_HMAC",
    "CKSUM_HMAC_SHA1_96_AES128",
    "CKSUM_HMAC_SHA1_96_AES256",
    "CKSUM_HMAC_SHA256_128_AES128",
    "CKSUM_HMAC_SHA384_192_AES256",
    "CKSUM_HMAC_MD5",
    "SUPPORTED_ETYPES",
    "MAX_PBKDF2_ITERATIONS",
    "string_to_key",
    "random_to_key",
    "random_key",
    "encrypt",
    "decrypt",
    "checksum_type_for",
    "make_checksum",
    "verify_checksum",
    "nfold",
    "derive_key",
    "prf",
    "etype_name",
    "key_size",
]

ETYPE_AES128_CTS_HMAC_SHA1_96 = 17
ETYPE_AES256_CTS_HMAC_SHA1_96 = 18
ETYPE_AES128_CTS_HMAC_SHA256_128 = 19
ETYPE_AES256_CTS_HMAC_SHA384_192 = 20
ETYPE_RC4_HMAC = 23

CKSUM_HMAC_SHA1_96_AES128 = 15
CKSUM_HMAC_SHA1_96_AES256 = 16
CKSUM_HMAC_SHA256_128_AES128 = 19
CKSUM_HMAC_SHA384_192_AES256 = 20
CKSUM_HMAC_MD5 = -138

#: The etypes this module implements, strongest first: the order a client
#: offers them in (AES with SHA-1 before SHA-2 because far more KDCs, every
#: Active Directory among them, have keys of those types).
SUPPORTED_ETYPES: Tuple[int, ...] = (
    ETYPE_AES256_CTS_HMAC_SHA1_96,
    ETYPE_AES128_CTS_HMAC_SHA1_96,
    ETYPE_AES256_CTS_HMAC_SHA384_192,
    ETYPE_AES128_CTS_HMAC_SHA256_128,
    ETYPE_RC4_HMAC,
)

#: The most PBKDF2 iterations string-to-key will run.  The count arrives in
#: the KDC's ETYPE-INFO2 s2kparams, unauthenticated, so a spoofed reply could
#: otherwise pin the CPU for hours (RFC 3962 8 asks for a limit of at least
#: 50,000; real KDCs use 4,096 or 32,768).
MAX_PBKDF2_ITERATIONS = 10_000_000

_USAGE = struct.Struct(">I")
_USAGE_LE = struct.Struct("<I")
_ITERATIONS = struct.Struct(">I")
_KDF_COUNTER_ONE = b"\x00\x00\x00\x01"

# Suffixes of the RFC 3961 5.3 derivation constant usage || suffix.
_KC = 0x99   # checksum key
_KE = 0xAA   # encryption key
_KI = 0x55   # integrity key

_AES_BLOCK = 16
_ZERO_IV = bytes(_AES_BLOCK)

# Names of etypes we know of but do not implement, for messages only
# ([RFC 3961] 8, [RFC 4757], [RFC 6803]).
_OTHER_ETYPE_NAMES: Dict[int, str] = {
    1: "des-cbc-crc",
    2: "des-cbc-md4",
    3: "des-cbc-md5",
    16: "des3-cbc-sha1",
    24: "rc4-hmac-exp",
    25: "camellia128-cts-cmac",
    26: "camellia256-cts-cmac",
}


@dataclass(frozen=True)
class Key:
    """A protocol key: its etype and its raw bytes.

    The repr shows the etype and the length, never the bytes.  A key of an
    etype this module implements must have that etype's length (else
    :class:`KerberosError`: such keys come from KDC replies); a key of
    another etype may be held (a keytab lists DES keys too) but not used.
    """

    etype: int
    contents: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.contents, bytes):
            object.__setattr__(self, "contents", bytes(self.contents))
        profile = _PROFILES.get(self.etype)
        if profile is not None and len(self.contents) != profile.key_bytes:
            raise KerberosError("a %s key must be %d bytes, not %d"
                                % (profile.name, profile.key_bytes, len(self.contents)))

    def __repr__(self) -> str:
        return "Key(etype=%d (%s), <%d bytes>)" % (self.etype, etype_name(self.etype), len(self.contents))


# --------------------------------------------------------------------------
# Shared building blocks
# --------------------------------------------------------------------------

def nfold(data: bytes, nbytes: int) -> bytes:
    """The n-fold operation of [RFC 3961] 5.1, to ``nbytes`` bytes.

    The input is repeated up to the least common multiple of both lengths,
    each copy rotated 13 bits further right than the one before; the result
    is cut into ``nbytes``-byte pieces that are added with ones'-complement
    (end-around carry) addition.
    """
    if not data:
        raise ValueError("n-fold of an empty string")
    if nbytes <= 0:
        raise ValueError("n-fold output length must be positive")
    in_len = len(data)
    in_bits = in_len * 8
    in_mask = (1 << in_bits) - 1
    value = int.from_bytes(data, "big")
    a, b = in_len, nbytes
    while b:
        a, b = b, a % b
    total_len = in_len * nbytes // a
    repeated = 0
    for i in range(total_len // in_len):
        shift = (13 * i) % in_bits
        rotated = ((value >> shift) | (value << (in_bits - shift))) & in_mask
        repeated = (repeated << in_bits) | rotated
    out_bits = nbytes * 8
    out_mask = (1 << out_bits) - 1
    acc = 0
    while repeated:
        acc += repeated & out_mask
        repeated >>= out_bits
    while acc >> out_bits:
        acc = (acc & out_mask) + (acc >> out_bits)
    return acc.to_bytes(nbytes, "big")


def _check_usage(usage: int) -> None:
    if not 0 <= usage <= 0xFFFFFFFF:
        raise ValueError("key usage must be an unsigned 32-bit number")


def _usage_constant(usage: int, suffix: int) -> bytes:
    """The derivation constant of [RFC 3961] 5.3: usage (big-endian) || suffix."""
    _check_usage(usage)
    return _USAGE.pack(usage) + bytes((suffix,))


def _iterations(params: Optional[bytes], default: int) -> int:
    """The PBKDF2 iteration count from s2kparams ([RFC 3962] 4, [RFC 8009] 4)."""
    if params is None:
        return default
    if len(params) != 4:
        raise KerberosError("AES string-to-key parameters must be 4 bytes, not %d" % len(params))
    count = _ITERATIONS.unpack(bytes(params))[0]
    if count == 0:
        count = 1 << 32  # RFC 3962 4: zero stands for 2**32
    if count > MAX_PBKDF2_ITERATIONS:
        raise KerberosError("refusing a string-to-key iteration count of %d (limit %d)"
                            % (count, MAX_PBKDF2_ITERATIONS))
    return count


def _utf8(password: str) -> bytes:
    try:
        return password.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError("the password is not valid Unicode") from err


def _check_confounder(confounder: Optional[bytes], size: int) -> bytes:
    if confounder is None:
        return os.urandom(size)
    if len(confounder) != size:
        raise ValueError("the confounder must be %d bytes" % size)
    return bytes(confounder)


# --------------------------------------------------------------------------
# The profiles
# --------------------------------------------------------------------------

class _Profile:
    """One etype's operations; keys passed in are already length-checked."""

    etype = 0
    name = ""
    key_bytes = 0
    cksumtype = 0
    mac_bytes = 0

    def string_to_key(self, password: str, salt: bytes, params: Optional[bytes]) -> bytes:
        raise NotImplementedError

    def derive(self, key: bytes, constant: bytes) -> bytes:
        raise UnsupportedFeature("%s defines no key derivation" % self.name)

    def encrypt(self, key: bytes, usage: int, plaintext: BytesLike, confounder: Optional[bytes]) -> bytes:
        raise NotImplementedError

    def decrypt(self, key: bytes, usage: int, ciphertext: BytesLike) -> bytes:
        raise NotImplementedError

    def checksum(self, key: bytes, usage: int, data: BytesLike) -> bytes:
        raise NotImplementedError

    def prf(self, key: bytes, data: BytesLike) -> bytes:
        raise UnsupportedFeature("%s defines no pseudo-random function here" % self.name)

    def _short(self, what: str) -> KerberosError:
        return KerberosError("%s %s is too short" % (self.name, what))

    def _bad_mac(self) -> KerberosError:
        return KerberosError("%s integrity check failed (wrong key or tampered data)" % self.name)


class _AesSha1(_Profile):
    """aes{128,256}-cts-hmac-sha1-96: the simplified profile of [RFC 3961] 5.3
    with the parameters of [RFC 3962] 6."""

    mac_bytes = 12

    def __init__(self, etype: int, name: str, key_bytes: int, cksumtype: int) -> None:
        self.etype = etype
        self.name = name
        self.key_bytes = key_bytes
        self.cksumtype = cksumtype

    def derive(self, key: bytes, constant: bytes) -> bytes:
        # DK = random-to-key(DR(key, constant)); DR chains AES over the
        # n-folded constant until there are enough bytes ([RFC 3961] 5.1).
        # random-to-key is the identity for AES ([RFC 3962] 4).
        cipher_input = nfold(constant, _AES_BLOCK)
        out = b""
        while len(out) < self.key_bytes:
            cipher_input = aes_cts_encrypt(key, _ZERO_IV, cipher_input)
            out += cipher_input
        return out[:self.key_bytes]

    def string_to_key(self, password: str, salt: bytes, params: Optional[bytes]) -> bytes:
        count = _iterations(params, 4096)
        tkey = hashlib.pbkdf2_hmac("sha1", _utf8(password), bytes(salt), count, self.key_bytes)
        return self.derive(tkey, b"kerberos")

    def _mac(self, key: bytes, data: BytesLike) -> bytes:
        return hmac.new(key, data, hashlib.sha1).digest()[:self.mac_bytes]

    def encrypt(self, key: bytes, usage: int, plaintext: BytesLike, confounder: Optional[bytes]) -> bytes:
        ke = self.derive(key, _usage_constant(usage, _KE))
        ki = self.derive(key, _usage_constant(usage, _KI))
        message = _check_confounder(confounder, _AES_BLOCK) + bytes(plaintext)
        return aes_cts_encrypt(ke, _ZERO_IV, message) + self._mac(ki, message)

    def decrypt(self, key: bytes, usage: int, ciphertext: BytesLike) -> bytes:
        if len(ciphertext) < _AES_BLOCK + self.mac_bytes:
            raise self._short("ciphertext")
        ke = self.derive(key, _usage_constant(usage, _KE))
        ki = self.derive(key, _usage_constant(usage, _KI))
        raw = bytes(ciphertext)
        message = aes_cts_decrypt(ke, _ZERO_IV, raw[:-self.mac_bytes])
        # RFC 3961 MACs the plaintext, so the check can only follow decryption.
        if not hmac.compare_digest(self._mac(ki, message), raw[-self.mac_bytes:]):
            raise self._bad_mac()
        return message[_AES_BLOCK:]

    def checksum(self, key: bytes, usage: int, data: BytesLike) -> bytes:
        return self._mac(self.derive(key, _usage_constant(usage, _KC)), data)

    def prf(self, key: bytes, data: BytesLike) -> bytes:
        # [RFC 3962] 6 / [RFC 3961] 5.3: E(DK(key, "prf"), truncate16(SHA-1(data))).
        digest = hashlib.sha1(data).digest()[:_AES_BLOCK]
        return aes_cts_encrypt(self.derive(key, b"prf"), _ZERO_IV, digest)


class _AesSha2(_Profile):
    """aes128-cts-hmac-sha256-128 and aes256-cts-hmac-sha384-192 ([RFC 8009])."""

    def __init__(self, etype: int, name: str, key_bytes: int, cksumtype: int,
                 hash_name: str, mac_bytes: int) -> None:
        self.etype = etype
        self.name = name
        self.key_bytes = key_bytes
        self.cksumtype = cksumtype
        self.hash_name = hash_name
        self.mac_bytes = mac_bytes
        self.prf_bytes = hashlib.new(hash_name).digest_size

    def kdf(self, key: bytes, label: bytes, context: BytesLike, nbytes: int) -> bytes:
        """KDF-HMAC-SHA2 of [RFC 8009] 3: one round of the SP 800-108 counter
        KDF, since every output fits in one hash."""
        mac = hmac.new(key, _KDF_COUNTER_ONE + label + b"\x00", self.hash_name)
        mac.update(context)
        mac.update(_USAGE.pack(nbytes * 8))
        return mac.digest()[:nbytes]

    def derive(self, key: bytes, constant: bytes) -> bytes:
        # Kc and Ki are as long as the MAC, everything else (Ke, the
        # string-to-key "kerberos" step) as long as the key ([RFC 8009] 5).
        if len(constant) == 5 and constant[4] in (_KC, _KI):
            return self.kdf(key, constant, b"", self.mac_bytes)
        return self.kdf(key, constant, b"", self.key_bytes)

    def string_to_key(self, password: str, salt: bytes, params: Optional[bytes]) -> bytes:
        count = _iterations(params, 32768)
        saltp = self.name.encode("ascii") + b"\x00" + bytes(salt)
        tkey = hashlib.pbkdf2_hmac(self.hash_name, _utf8(password), saltp, count, self.key_bytes)
        return self.kdf(tkey, b"kerberos", b"", self.key_bytes)

    def _mac(self, key: bytes, *parts: BytesLike) -> bytes:
        mac = hmac.new(key, None, self.hash_name)
        for part in parts:
            mac.update(part)
        return mac.digest()[:self.mac_bytes]

    def encrypt(self, key: bytes, usage: int, plaintext: BytesLike, confounder: Optional[bytes]) -> bytes:
        ke = self.derive(key, _usage_constant(usage, _KE))
        ki = self.derive(key, _usage_constant(usage, _KI))
        message = _check_confounder(confounder, _AES_BLOCK) + bytes(plaintext)
        sealed = aes_cts_encrypt(ke, _ZERO_IV, message)
        return sealed + self._mac(ki, _ZERO_IV, sealed)

    def decrypt(self, key: bytes, usage: int, ciphertext: BytesLike) -> bytes:
        if len(ciphertext) < _AES_BLOCK + self.mac_bytes:
            raise self._short("ciphertext")
        ke = self.derive(key, _usage_constant(usage, _KE))
        ki = self.derive(key, _usage_constant(usage, _KI))
        raw = bytes(ciphertext)
        sealed = raw[:-self.mac_bytes]
        # Encrypt-then-MAC: nothing is decrypted before the MAC verifies.
        if not hmac.compare_digest(self._mac(ki, _ZERO_IV, sealed), raw[-self.mac_bytes:]):
            raise self._bad_mac()
        return aes_cts_decrypt(ke, _ZERO_IV, sealed)[_AES_BLOCK:]

    def checksum(self, key: bytes, usage: int, data: BytesLike) -> bytes:
        return self._mac(self.derive(key, _usage_constant(usage, _KC)), data)

    def prf(self, key: bytes, data: BytesLike) -> bytes:
        # [RFC 8009] 5: KDF-HMAC-SHA2(key, "prf", data, 256 or 384 bits).
        return self.kdf(key, b"prf", data, self.prf_bytes)


class _Rc4Hmac(_Profile):
    """rc4-hmac ([RFC 4757]; [MS-KILE] 3.1.5.2)."""

    etype = ETYPE_RC4_HMAC
    name = "rc4-hmac"
    key_bytes = 16
    cksumtype = CKSUM_HMAC_MD5
    mac_bytes = 16
    confounder_bytes = 8

    @staticmethod
    def message_type(usage: int) -> bytes:
        """The RFC 4757 message type T for a usage, little-endian.

        RFC 4757 keeps the RFC 4120 numbers except for the AS-REP encrypted
        part, which Windows encrypts with T = 8 (the TGS-REP's number), not 3.
        """
        _check_usage(usage)
        return _USAGE_LE.pack(8 if usage == 3 else usage)

    def string_to_key(self, password: str, salt: bytes, params: Optional[bytes]) -> bytes:
        # K = MD4(UTF-16LE(password)), the NT hash; no salt, no parameters.
        if params:
            raise KerberosError("rc4-hmac takes no string-to-key parameters")
        try:
            unicode_password = password.encode("utf-16-le")
        except UnicodeEncodeError as err:
            raise ValueError("the password is not valid Unicode") from err
        return md4(unicode_password)

    def encrypt(self, key: bytes, usage: int, plaintext: BytesLike, confounder: Optional[bytes]) -> bytes:
        k1 = hmac_md5(key, self.message_type(usage))
        message = _check_confounder(confounder, self.confounder_bytes) + bytes(plaintext)
        mac = hmac_md5(k1, message)
        return mac + rc4(hmac_md5(k1, mac), message)

    def decrypt(self, key: bytes, usage: int, ciphertext: BytesLike) -> bytes:
        if len(ciphertext) < self.mac_bytes + self.confounder_bytes:
            raise self._short("ciphertext")
        k1 = hmac_md5(key, self.message_type(usage))
        raw = bytes(ciphertext)
        mac = raw[:self.mac_bytes]
        message = rc4(hmac_md5(k1, mac), raw[self.mac_bytes:])
        if not hmac.compare_digest(hmac_md5(k1, message), mac):
            raise self._bad_mac()
        return message[self.confounder_bytes:]

    def checksum(self, key: bytes, usage: int, data: BytesLike) -> bytes:
        # RFC 4757 4: HMAC(HMAC(K, "signaturekey\0"), MD5(T || data)).
        ksign = hmac_md5(key, b"signaturekey\x00")
        return hmac_md5(ksign, md5(self.message_type(usage) + bytes(data)))


_PROFILES: Dict[int, _Profile] = {
    p.etype: p for p in (
        _AesSha1(ETYPE_AES128_CTS_HMAC_SHA1_96, "aes128-cts-hmac-sha1-96", 16, CKSUM_HMAC_SHA1_96_AES128),
        _AesSha1(ETYPE_AES256_CTS_HMAC_SHA1_96, "aes256-cts-hmac-sha1-96", 32, CKSUM_HMAC_SHA1_96_AES256),
        _AesSha2(ETYPE_AES128_CTS_HMAC_SHA256_128, "aes128-cts-hmac-sha256-128", 16,
                 CKSUM_HMAC_SHA256_128_AES128, "sha256", 16),
        _AesSha2(ETYPE_AES256_CTS_HMAC_SHA384_192, "aes256-cts-hmac-sha384-192", 32,
                 CKSUM_HMAC_SHA384_192_AES256, "sha384", 24),
        _Rc4Hmac(),
    )
}

_CKSUM_PROFILES: Dict[int, _Profile] = {p.cksumtype: p for p in _PROFILES.values()}


def _profile(etype: int) -> _Profile:
    profile = _PROFILES.get(etype)
    if profile is None:
        raise KerberosError("unsupported encryption type %d (%s)" % (etype, etype_name(etype)))
    return profile


def _keyed(key: Key) -> Tuple[_Profile, bytes]:
    # Key.__post_init__ has already checked the length of a supported etype.
    return _profile(key.etype), key.contents


def _checksum_profile(cksumtype: int, key: Key) -> _Profile:
    profile = _CKSUM_PROFILES.get(cksumtype)
    if profile is None:
        raise KerberosError("unsupported checksum type %d" % cksumtype)
    if key.etype != profile.etype:
        raise KerberosError("checksum type %d needs a %s key, not %s"
                            % (cksumtype, profile.name, etype_name(key.etype)))
    return profile


# --------------------------------------------------------------------------
# The public functions
# --------------------------------------------------------------------------

def etype_name(etype: int) -> str:
    """The [RFC 3961] 8 name of an etype (``"aes256-cts-hmac-sha1-96"``);
    ``"unknown-<n>"`` for a number we have no name for."""
    profile = _PROFILES.get(etype)
    if profile is not None:
        return profile.name
    return _OTHER_ETYPE_NAMES.get(etype, "unknown-%d" % etype)


def key_size(etype: int) -> int:
    """The protocol key length of ``etype``, in bytes (16 or 32); also the
    random-to-key input length, since every etype here has a dense key space."""
    return _profile(etype).key_bytes


def checksum_type_for(etype: int) -> int:
    """The keyed checksum type that goes with ``etype`` ([RFC 3961] 3, the
    "required checksum mechanism")."""
    return _profile(etype).cksumtype


def string_to_key(etype: int, password: str, salt: bytes, params: Optional[bytes] = None) -> Key:
    """The long-term key for ``password`` ([RFC 3961] 3).

    AES with SHA-1 ([RFC 3962] 4): PBKDF2-HMAC-SHA1 over the UTF-8 password
    and ``salt`` (usually realm || principal name, or the KDC's ETYPE-INFO2
    salt), then DK(tkey, "kerberos").  AES with SHA-2 ([RFC 8009] 4):
    PBKDF2 with SHA-256/384 over the salt ``etype-name || 0x00 || salt``,
    then KDF-HMAC-SHA2(tkey, "kerberos").  ``params`` is the 4-byte
    big-endian iteration count (default 4,096 for SHA-1 and 32,768 for
    SHA-2); counts above :data:`MAX_PBKDF2_ITERATIONS` raise
    :class:`KerberosError`.  rc4-hmac ([RFC 4757] 2): MD4(UTF-16LE(password)),
    the salt is ignored and ``params`` must be empty.
    """
    profile = _profile(etype)
    return Key(etype, profile.string_to_key(password, salt, params))


def random_to_key(etype: int, data: bytes) -> Key:
    """A key from :func:`key_size` random bytes; the identity for every etype here."""
    profile = _profile(etype)
    if len(data) != profile.key_bytes:
        raise ValueError("%s random-to-key takes %d bytes" % (profile.name, profile.key_bytes))
    return Key(etype, bytes(data))


def random_key(etype: int, rand: Callable[[int], bytes] = os.urandom) -> Key:
    """A fresh random key (a session key or a subkey); ``rand`` is injectable for tests."""
    return random_to_key(etype, rand(key_size(etype)))


def encrypt(key: Key, usage: int, plaintext: bytes, confounder: Optional[bytes] = None) -> bytes:
    """Encrypt and integrity-protect ``plaintext`` under ``key`` for ``usage``.

    The result is the ``cipher`` of an EncryptedData.  AES ([RFC 3962],
    [RFC 8009]): CTS(Ke, confounder || plaintext) || MAC, 16-byte
    confounder.  rc4-hmac ([RFC 4757] 5): HMAC-MD5 || RC4(confounder ||
    plaintext), 8-byte confounder.  ``confounder`` is random unless given
    (tests pass the RFC's).
    """
    profile, raw = _keyed(key)
    _check_usage(usage)
    return profile.encrypt(raw, usage, plaintext, confounder)


def decrypt(key: Key, usage: int, ciphertext: bytes) -> bytes:
    """Inverse of :func:`encrypt`; verifies the MAC in constant time.

    Raises :class:`KerberosError` when the ciphertext is too short to hold
    the confounder and MAC, or when the MAC does not verify (wrong key,
    wrong usage or tampering).
    """
    profile, raw = _keyed(key)
    _check_usage(usage)
    return profile.decrypt(raw, usage, ciphertext)


def make_checksum(cksumtype: int, key: Key, usage: int, data: bytes) -> bytes:
    """The keyed checksum ``cksumtype`` of ``data`` ([RFC 3961] 4).

    hmac-sha1-96-aes128/256 (15, 16): HMAC-SHA1 under Kc, 12 bytes.
    hmac-sha256-128-aes128 (19), hmac-sha384-192-aes256 (20): HMAC-SHA2
    under Kc, 16 and 24 bytes.  hmac-md5 (-138, [RFC 4757] 4): 16 bytes.
    The key's etype must be the checksum type's.
    """
    profile = _checksum_profile(cksumtype, key)
    _check_usage(usage)
    return profile.checksum(key.contents, usage, data)


def verify_checksum(cksumtype: int, key: Key, usage: int, data: bytes, cksum: bytes) -> bool:
    """True when ``cksum`` is the checksum of ``data``; compared in constant time.

    An unknown checksum type or a key of the wrong etype raises
    :class:`KerberosError` rather than answering False.
    """
    expected = make_checksum(cksumtype, key, usage, data)
    return hmac.compare_digest(expected, bytes(cksum))


def derive_key(etype: int, key: bytes, constant: bytes) -> bytes:
    """DK(key, constant) for the AES etypes.

    [RFC 3961] 5.1 (AES with SHA-1): AES-encrypt the 16-byte n-fold of
    ``constant``, chained until there are key-length bytes.  [RFC 8009] 3
    (AES with SHA-2): KDF-HMAC-SHA2(key, constant, k) where k is the MAC
    length for a usage constant ending in 0x99 (Kc) or 0x55 (Ki) and the key
    length otherwise (Ke, ``b"kerberos"``).  rc4-hmac has no key derivation:
    :class:`UnsupportedFeature`.
    """
    profile = _profile(etype)
    if len(key) != profile.key_bytes:
        raise ValueError("a %s key must be %d bytes" % (profile.name, profile.key_bytes))
    if not constant:
        raise ValueError("the derivation constant must not be empty")
    return profile.derive(bytes(key), bytes(constant))


def prf(key: Key, data: bytes) -> bytes:
    """The [RFC 3961] 3 pseudo-random function of ``key`` over ``data``.

    AES with SHA-1 ([RFC 3962] 6): 16 bytes; aes128-cts-hmac-sha256-128 and
    aes256-cts-hmac-sha384-192 ([RFC 8009] 5): 32 and 48 bytes.  rc4-hmac
    defines none in [RFC 4757]: :class:`UnsupportedFeature`.
    """
    profile, raw = _keyed(key)
    return profile.prf(raw, data)
