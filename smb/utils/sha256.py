"""pysmb's ``smb.utils.sha256`` module: a ``sha256`` hash object over ``hashlib``.

pysmb carried a pure-Python SHA-256 (FIPS 180-4) with the old ``sha`` module
interface; this keeps that interface (``sha256(m)``, ``new(m)``,
``update``/``digest``/``hexdigest``/``copy``, the ``blocksize`` and
``digest_size`` values) and lets ``hashlib`` do the hashing.
"""
from __future__ import annotations

import hashlib
from typing import Any, Optional, Union

__all__ = ["sha256", "new", "blocksize", "digest_size"]

Data = Union[str, bytes, bytearray, memoryview]

#: The old ``sha``-module convention: the input unit is one byte.
blocksize = 1
#: Bytes in a digest.
digest_size = 32


def _as_bytes(m: Data) -> bytes:
    # A str is taken one byte per character, as pysmb's Python 2 heritage had it.
    if isinstance(m, str):
        return m.encode("latin-1")
    return bytes(m)


class sha256:
    """Incremental SHA-256 (FIPS 180-4)."""

    #: Bytes per compression block.
    block_size = 64
    #: The ``sha``-module input unit, as at module level.
    blocksize = 1
    #: Bytes in a digest.
    digest_size = 32
    name = "sha256"

    def __init__(self, m: Optional[Data] = None) -> None:
        self._h: Any = hashlib.sha256()
        if m is not None:
            self.update(m)

    def update(self, m: Data) -> None:
        """Feed more data: bytes-like, or a ``str`` of code points 0-255."""
        self._h.update(_as_bytes(m))

    def digest(self) -> bytes:
        """The 32-byte digest so far (the object stays usable)."""
        return bytes(self._h.digest())

    def hexdigest(self) -> str:
        """The digest as 64 lowercase hex characters."""
        return str(self._h.hexdigest())

    def copy(self) -> "sha256":
        """An independent object with the same state."""
        clone = sha256()
        clone._h = self._h.copy()
        return clone


def new(m: Optional[Data] = None) -> sha256:
    """``sha256.new(m)`` as in pysmb."""
    return sha256(m)
