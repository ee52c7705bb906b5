"""pysmb-compatible MD4 hash object (``smb.utils.md4.MD4``).

A thin wrapper over pycryptodome's MD4 (RFC 1320); ``hashlib.new("md4")`` is
not available under OpenSSL 3.
"""
from __future__ import annotations

from typing import Optional, Union

from Crypto.Hash import MD4 as _MD4

__all__ = ["MD4", "new"]


class MD4:
    """Incremental MD4 with the ``hashlib``-style interface pysmb exposed."""

    digest_size = 16
    block_size = 64
    name = "md4"

    def __init__(self, data: Union[str, bytes, bytearray, memoryview, None] = None) -> None:
        self._h = _MD4.new()
        if data is not None:
            self.update(data)

    def update(self, data: Union[str, bytes, bytearray, memoryview]) -> None:
        """Feed more data.  A ``str`` is taken one byte per character
        (code points 0-255), as pysmb did."""
        if isinstance(data, str):
            data = data.encode("latin-1")
        self._h.update(bytes(data))

    def digest(self) -> bytes:
        """The 16-byte digest of everything fed so far (the object stays usable)."""
        return self._h.digest()

    def hexdigest(self) -> str:
        """The digest as 32 lowercase hex characters."""
        return self._h.hexdigest()

    def copy(self) -> "MD4":
        """An independent object with the same state."""
        clone = MD4.__new__(MD4)
        clone._h = self._h.copy()
        return clone

    #: pysmb's name for :meth:`copy`.
    make_copy = copy


def new(data: Optional[Union[str, bytes]] = None) -> MD4:
    """``md4.new()`` as in pysmb."""
    return MD4(data)
