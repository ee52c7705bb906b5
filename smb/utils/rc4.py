"""pysmb's ``smb.utils.rc4.RC4_encrypt``, over :func:`smb.crypto.rc4`."""
from __future__ import annotations

from typing import Union

from smb import crypto

__all__ = ["RC4_encrypt"]

BytesLike = Union[bytes, bytearray, memoryview]

# The RC4 key schedule reads key[i % len(key)] for i < 256 only, so key bytes
# past the 256th never matter; pycryptodome refuses such keys, pysmb did not.
_KEY_SCHEDULE_BYTES = 256


def RC4_encrypt(key: BytesLike, data: BytesLike) -> bytes:
    """RC4 (encryption and decryption are the same) of ``data`` under ``key``.

    ``key`` must not be empty.
    """
    raw_key = bytes(key)[:_KEY_SCHEDULE_BYTES]
    if not raw_key:
        raise ValueError("RC4 key must not be empty")
    return crypto.rc4(raw_key, data)
