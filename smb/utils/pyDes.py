"""pyDes's interface (``smb.utils.pyDes``) over pycryptodome's DES and 3DES.

pysmb shipped the pure-Python pyDes; code written against it constructs
``des(key, mode, IV, pad, padmode)`` or ``triple_des(...)`` and calls
``encrypt``/``decrypt``.  The same calls work here, with the cipher itself
done by pycryptodome (FIPS 46-3 DES, ECB and CBC).

Behaviour kept from pyDes:

* keys, IVs and data may be ``bytes``-like or an ASCII ``str``;
* every ``encrypt``/``decrypt`` call in CBC mode starts from the configured
  IV (no chaining across calls);
* ``PAD_NORMAL`` with a pad character pads the last block with it on
  encryption and strips it from the end of the last block on decryption;
  without one, data must be a multiple of 8 bytes;
* ``PAD_PKCS5`` pads with RFC 8018 6.1.1 padding; a pad character cannot be
  combined with it;
* ``triple_des`` takes a 16-byte (K1 K2 K1) or 24-byte key and, in CBC mode
  without an IV, uses the first 8 key bytes as the IV.

Deliberate differences: an unknown mode or a pad that is not one byte raises
``ValueError``, and a ``PAD_PKCS5`` decryption whose padding is malformed
raises ``ValueError`` instead of returning a truncated string.
"""
from __future__ import annotations

from typing import Any, List, Optional, Union

from Crypto.Cipher import DES, DES3

__all__ = ["ECB", "CBC", "PAD_NORMAL", "PAD_PKCS5", "des", "triple_des"]

#: Electronic code book mode.
ECB = 0
#: Cipher block chaining mode.
CBC = 1

#: Pad with the instance's (or the call's) pad character, if any.
PAD_NORMAL = 1
#: PKCS#5 padding (RFC 8018 6.1.1).
PAD_PKCS5 = 2

_BLOCK = 8

Text = Union[str, bytes, bytearray, memoryview]


def _as_bytes(value: Text, what: str) -> bytes:
    if isinstance(value, str):
        try:
            return value.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("pyDes can only work with encoded strings, not Unicode (%s)" % what) from None
    return bytes(value)


def _clear_parity(key: bytes) -> bytes:
    return bytes(b & 0xFE for b in key)


class _DesBase:
    """What ``des`` and ``triple_des`` share: mode, IV and padding."""

    block_size = _BLOCK

    def __init__(self, mode: int = ECB, IV: Optional[Text] = None, pad: Optional[Text] = None,
                 padmode: int = PAD_NORMAL) -> None:
        self._key = b""
        self._mode = ECB
        self._iv: Optional[bytes] = None
        self._padding: Optional[bytes] = None
        self._padmode = PAD_NORMAL
        self.setMode(mode)
        if IV is not None:
            self.setIV(IV)
        if pad is not None and padmode == PAD_PKCS5:
            raise ValueError("Cannot use a pad character with PAD_PKCS5")
        self.setPadMode(padmode)
        if pad is not None:
            self.setPadding(pad)

    # -- settings --------------------------------------------------------------

    def getKey(self) -> bytes:
        """The key as given."""
        return self._key

    def getMode(self) -> int:
        """``ECB`` or ``CBC``."""
        return self._mode

    def setMode(self, mode: int) -> None:
        """Choose ``ECB`` or ``CBC``."""
        if mode not in (ECB, CBC):
            raise ValueError("mode must be ECB or CBC, not %r" % (mode,))
        self._mode = mode

    def getPadding(self) -> Optional[bytes]:
        """The pad character for ``PAD_NORMAL``, or ``None``."""
        return self._padding

    def setPadding(self, pad: Optional[Text]) -> None:
        """Set (or clear with ``None``) the one-byte pad character."""
        if pad is None:
            self._padding = None
            return
        raw = _as_bytes(pad, "pad")
        if len(raw) != 1:
            raise ValueError("the pad character must be exactly one byte")
        self._padding = raw

    def getPadMode(self) -> int:
        """``PAD_NORMAL`` or ``PAD_PKCS5``."""
        return self._padmode

    def setPadMode(self, mode: int) -> None:
        """Choose ``PAD_NORMAL`` or ``PAD_PKCS5``."""
        if mode not in (PAD_NORMAL, PAD_PKCS5):
            raise ValueError("padmode must be PAD_NORMAL or PAD_PKCS5, not %r" % (mode,))
        self._padmode = mode

    def getIV(self) -> Optional[bytes]:
        """The CBC initial value, or ``None``."""
        return self._iv

    def setIV(self, IV: Text) -> None:
        """Set the 8-byte CBC initial value."""
        raw = _as_bytes(IV, "IV") if IV is not None else b""
        if len(raw) != _BLOCK:
            raise ValueError("Invalid Initial Value (IV), must be %d bytes" % _BLOCK)
        self._iv = raw

    # -- the cipher --------------------------------------------------------------

    def _new_cipher(self) -> Any:
        raise NotImplementedError

    def _cipher(self) -> Any:
        if self._mode == CBC and self._iv is None:
            raise ValueError("For CBC mode, you must supply the Initial Value (IV) for ciphering")
        return self._new_cipher()

    def _padded(self, data: bytes, pad: Optional[Text], padmode: Optional[int]) -> bytes:
        mode = self._padmode if padmode is None else padmode
        if mode == PAD_PKCS5:
            if pad is not None:
                raise ValueError("Cannot use a pad character with PAD_PKCS5")
            count = _BLOCK - len(data) % _BLOCK
            return data + bytes((count,)) * count
        if mode != PAD_NORMAL:
            raise ValueError("padmode must be PAD_NORMAL or PAD_PKCS5, not %r" % (mode,))
        if len(data) % _BLOCK == 0:
            return data
        char = self._padding if pad is None else _as_bytes(pad, "pad")
        if not char:
            raise ValueError("Data must be a multiple of 8 bytes in length. "
                             "Use padmode=PAD_PKCS5 or set the pad character.")
        if len(char) != 1:
            raise ValueError("the pad character must be exactly one byte")
        return data + char * (_BLOCK - len(data) % _BLOCK)

    def _unpadded(self, data: bytes, pad: Optional[Text], padmode: Optional[int]) -> bytes:
        mode = self._padmode if padmode is None else padmode
        if not data:
            return data
        if mode == PAD_PKCS5:
            if pad is not None:
                raise ValueError("Cannot use a pad character with PAD_PKCS5")
            count = data[-1]
            if not 1 <= count <= _BLOCK or data[-count:] != bytes((count,)) * count:
                raise ValueError("bad PKCS#5 padding")
            return data[:-count]
        char = self._padding if pad is None else _as_bytes(pad, "pad")
        if not char:
            return data
        # Only the last block can hold padding; earlier blocks are left alone.
        return data[:-_BLOCK] + data[-_BLOCK:].rstrip(char)

    def encrypt(self, data: Text, pad: Optional[Text] = None, padmode: Optional[int] = None) -> bytes:
        """Pad (per ``pad``/``padmode`` or the instance's settings) and encrypt."""
        plain = self._padded(_as_bytes(data, "data"), pad, padmode)
        return bytes(self._cipher().encrypt(plain))

    def decrypt(self, data: Text, pad: Optional[Text] = None, padmode: Optional[int] = None) -> bytes:
        """Decrypt and remove padding (per ``pad``/``padmode`` or the instance's settings)."""
        cipher_text = _as_bytes(data, "data")
        if len(cipher_text) % _BLOCK:
            raise ValueError("Invalid data length, data must be a multiple of 8 bytes")
        return self._unpadded(bytes(self._cipher().decrypt(cipher_text)), pad, padmode)

    def _mode_args(self) -> List[Any]:
        if self._mode == CBC:
            return [DES.MODE_CBC, self._iv]
        return [DES.MODE_ECB]


class des(_DesBase):
    """Single DES with pyDes's constructor: ``des(key, mode=ECB, IV=None, pad=None, padmode=PAD_NORMAL)``.

    ``key`` is 8 bytes (the parity bits are ignored).
    """

    ENCRYPT = 0x00
    DECRYPT = 0x01

    def __init__(self, key: Text, mode: int = ECB, IV: Optional[Text] = None, pad: Optional[Text] = None,
                 padmode: int = PAD_NORMAL) -> None:
        # pyDes kept its 16 round keys (``Kn``), the block halves (``L``, ``R``)
        # and the last output block (``final``) as bit lists.  pycryptodome
        # holds the key schedule here, so these stay empty; they exist so that
        # code touching them does not break.
        self.key_size = 8
        self.Kn: List[List[int]] = []
        self.L: List[int] = []
        self.R: List[int] = []
        self.final: List[int] = []
        super().__init__(mode, IV, pad, padmode)
        self.setKey(key)

    def setKey(self, key: Text) -> None:
        """Set the 8-byte key."""
        raw = _as_bytes(key, "key")
        if len(raw) != self.key_size:
            raise ValueError("Invalid DES key size. Key must be exactly 8 bytes long.")
        self._key = raw

    def _new_cipher(self) -> Any:
        return DES.new(self._key, *self._mode_args())

    def crypt(self, data: Text, crypt_type: int) -> bytes:
        """Encrypt (``des.ENCRYPT``) or decrypt (``des.DECRYPT``) without padding rules:
        data to encrypt is padded with the pad character if one is set."""
        raw = _as_bytes(data, "data")
        if crypt_type == des.ENCRYPT:
            return self.encrypt(raw, padmode=PAD_NORMAL)
        if crypt_type == des.DECRYPT:
            if len(raw) % _BLOCK:
                raise ValueError("Invalid data length, data must be a multiple of 8 bytes")
            return bytes(self._cipher().decrypt(raw))
        raise ValueError("crypt_type must be des.ENCRYPT or des.DECRYPT")


class triple_des(_DesBase):
    """Triple DES (EDE) with pyDes's constructor; ``key`` is 16 (K1 K2 K1) or 24 bytes."""

    def __init__(self, key: Text, mode: int = ECB, IV: Optional[Text] = None, pad: Optional[Text] = None,
                 padmode: int = PAD_NORMAL) -> None:
        self.key_size = 24
        super().__init__(mode, IV, pad, padmode)
        self.setKey(key)

    def setKey(self, key: Text) -> None:
        """Set the 16- or 24-byte key; in CBC mode with no IV yet, the IV
        becomes the key's first 8 bytes (as pyDes did)."""
        raw = _as_bytes(key, "key")
        if len(raw) not in (16, 24):
            raise ValueError("Invalid triple DES key size. Key must be either 16 or 24 bytes long")
        self.key_size = len(raw)
        self._key = raw
        if self._mode == CBC and self._iv is None:
            self._iv = raw[:_BLOCK]

    def _new_cipher(self) -> Any:
        key = self._key
        try:
            return DES3.new(key, *self._mode_args())
        except ValueError:
            # pycryptodome refuses keys whose EDE collapses to one DES
            # (K1 == K2, or K2 == K3); pyDes accepted them.  The collapse is
            # exact, so single DES under the surviving key gives the same bytes.
            k1, k2 = key[0:8], key[8:16]
            k3 = key[16:24] if len(key) == 24 else k1
            single = k3 if _clear_parity(k1) == _clear_parity(k2) else k1
            return DES.new(single, *self._mode_args())
