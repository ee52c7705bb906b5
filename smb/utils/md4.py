"""pysmb-compatible MD4 (``smb.utils.md4``): a small pure-Python RFC 1320.

pysmb's object exposed its working state (``A``-``D`` as :class:`U32`, the
block buffer, the byte count and the bit length), so this one computes MD4
itself rather than hiding pycryptodome's opaque state behind those names.
The library proper hashes with :func:`smb.crypto.md4` (pycryptodome), which
is much faster; this module is for code written against pysmb.

Module-level names are RFC 1320 3.4's: ``F``, ``G``, ``H`` are the auxiliary
functions, ``f1``/``f2``/``f3`` the operation of rounds 1, 2 and 3, ``ROL``
the left rotation.  They accept ``int`` or :class:`U32` words.
"""
from __future__ import annotations

import struct
from typing import List, Optional, Sequence, TypeVar, Union

from .U32 import U32

__all__ = ["MD4", "new", "U32", "F", "G", "H", "ROL", "f1", "f2", "f3"]

_MASK = 0xFFFFFFFF
_BLOCK = 64
_WORDS = struct.Struct("<16I")
_STATE = struct.Struct("<4I")
_LENGTH = struct.Struct("<Q")

# RFC 1320 3.3: the initial state, words A to D.
_INIT = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
# RFC 1320 3.4: the constants added in rounds 2 and 3.
_ROUND2 = 0x5A827999
_ROUND3 = 0x6ED9EBA1

W = TypeVar("W", int, U32)
Data = Union[str, bytes, bytearray, memoryview]


def F(x: W, y: W, z: W) -> W:
    """RFC 1320 round 1 function: if x then y else z, bit by bit."""
    return (x & y) | (~x & z)


def G(x: W, y: W, z: W) -> W:
    """RFC 1320 round 2 function: the majority of x, y, z, bit by bit."""
    return (x & y) | (x & z) | (y & z)


def H(x: W, y: W, z: W) -> W:
    """RFC 1320 round 3 function: parity."""
    return x ^ y ^ z


def ROL(x: W, n: int) -> W:
    """Rotate the 32-bit word ``x`` left by ``n`` bits (``x`` is first reduced to 32 bits)."""
    x = x & _MASK
    return ((x << n) | (x >> (32 - n))) & _MASK


def f1(a: W, b: W, c: W, d: W, k: int, s: int, X: Sequence[W]) -> W:
    """Round 1 operation ``[abcd k s]``: a = (a + F(b,c,d) + X[k]) <<< s."""
    return ROL(a + F(b, c, d) + X[k], s)


def f2(a: W, b: W, c: W, d: W, k: int, s: int, X: Sequence[W]) -> W:
    """Round 2 operation: a = (a + G(b,c,d) + X[k] + 5A827999) <<< s."""
    return ROL(a + G(b, c, d) + X[k] + _ROUND2, s)


def f3(a: W, b: W, c: W, d: W, k: int, s: int, X: Sequence[W]) -> W:
    """Round 3 operation: a = (a + H(b,c,d) + X[k] + 6ED9EBA1) <<< s."""
    return ROL(a + H(b, c, d) + X[k] + _ROUND3, s)


def _as_bytes(data: Data) -> bytes:
    # pysmb took a str one byte per character; code points above 255 cannot
    # be such a byte and raise UnicodeEncodeError.
    if isinstance(data, str):
        return data.encode("latin-1")
    return bytes(data)


class MD4:
    """Incremental MD4 with pysmb's state attributes and ``hashlib``'s methods.

    ``A``, ``B``, ``C``, ``D``: the chaining state; ``buf``: the 64-byte block
    being filled (a list of ints, valid up to ``count``); ``count``: bytes in
    ``buf``; ``len1``/``len2``: low/high 32 bits of the message length in bits.
    """

    __slots__ = ("A", "B", "C", "D", "buf", "count", "len1", "len2")

    digest_size = 16
    block_size = 64
    name = "md4"

    def __init__(self, data: Optional[Data] = None) -> None:
        self.A = U32(_INIT[0])
        self.B = U32(_INIT[1])
        self.C = U32(_INIT[2])
        self.D = U32(_INIT[3])
        self.buf: List[int] = [0] * _BLOCK
        self.count = U32(0)
        self.len1 = U32(0)
        self.len2 = U32(0)
        if data is not None:
            self.update(data)

    def update(self, str: Data) -> None:  # noqa: A002 - pysmb's parameter name
        """Feed more data: bytes-like, or a ``str`` of code points 0-255."""
        raw = _as_bytes(str)
        bits = ((self.len2.v << 32) | self.len1.v) + 8 * len(raw)
        self.len1 = U32(bits)
        self.len2 = U32(bits >> 32)      # RFC 1320 3.2: the length is taken mod 2**64
        pos = 0
        fill = self.count.v
        if fill:
            take = min(_BLOCK - fill, len(raw))
            self.buf[fill:fill + take] = raw[:take]
            fill += take
            pos = take
            if fill == _BLOCK:
                self._compress(bytes(self.buf))
                fill = 0
        while len(raw) - pos >= _BLOCK:
            self._compress(raw[pos:pos + _BLOCK])
            pos += _BLOCK
        if pos < len(raw):
            rest = raw[pos:]
            self.buf[:len(rest)] = rest
            fill = len(rest)
        self.count = U32(fill)

    def _compress(self, block: bytes) -> None:
        """RFC 1320 3.4: process one 16-word block (plain ints for speed)."""
        X = _WORDS.unpack(block)
        a, b, c, d = self.A.v, self.B.v, self.C.v, self.D.v
        for k in (0, 4, 8, 12):
            a = f1(a, b, c, d, k, 3, X)
            d = f1(d, a, b, c, k + 1, 7, X)
            c = f1(c, d, a, b, k + 2, 11, X)
            b = f1(b, c, d, a, k + 3, 19, X)
        for k in (0, 1, 2, 3):
            a = f2(a, b, c, d, k, 3, X)
            d = f2(d, a, b, c, k + 4, 5, X)
            c = f2(c, d, a, b, k + 8, 9, X)
            b = f2(b, c, d, a, k + 12, 13, X)
        for k in (0, 2, 1, 3):
            a = f3(a, b, c, d, k, 3, X)
            d = f3(d, a, b, c, k + 8, 9, X)
            c = f3(c, d, a, b, k + 4, 11, X)
            b = f3(b, c, d, a, k + 12, 15, X)
        self.A = self.A + a
        self.B = self.B + b
        self.C = self.C + c
        self.D = self.D + d

    def digest(self) -> bytes:
        """The 16-byte digest of everything fed so far (the object stays usable)."""
        final = self.make_copy()
        bits = (self.len2.v << 32) | self.len1.v
        # RFC 1320 3.1-3.2: a 1 bit, zeros up to 56 mod 64 bytes, the 64-bit length.
        pad = (55 - self.count.v) % _BLOCK
        final.update(b"\x80" + b"\x00" * pad + _LENGTH.pack(bits))
        return _STATE.pack(final.A.v, final.B.v, final.C.v, final.D.v)

    def hexdigest(self) -> str:
        """The digest as 32 lowercase hex characters."""
        return self.digest().hex()

    def make_copy(self) -> "MD4":
        """An independent object with the same state."""
        clone = MD4()
        clone.A, clone.B, clone.C, clone.D = U32(self.A), U32(self.B), U32(self.C), U32(self.D)
        clone.buf = list(self.buf)
        clone.count, clone.len1, clone.len2 = U32(self.count), U32(self.len1), U32(self.len2)
        return clone

    #: ``hashlib``'s name for :meth:`make_copy`.
    copy = make_copy


#: pysmb's ``md4.new`` is the class itself.
new = MD4
