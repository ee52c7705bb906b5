"""pysmb's NetBIOS name helpers (``nmb.utils``), over :mod:`nmb.nmb_structs`.

:func:`encode_name` is RFC 1001 14.1 first-level encoding plus the scope
labels of RFC 1002 4.1; :func:`decode_name` reverses it.  Both call the one
codec in :mod:`nmb.nmb_structs`, which also builds the name service packets.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

from .nmb_structs import decode_netbios_name, encode_netbios_name

__all__ = ["encode_name", "decode_name"]

Text = Union[str, bytes, bytearray, memoryview]

_ENCODED_LEN = 32   # RFC 1001 14.1: 16 bytes, two letters each


def _text(value: Text) -> str:
    if isinstance(value, str):
        return value
    return bytes(value).decode("latin-1")


def encode_name(name: Text, type: int, scope: Optional[Text] = None) -> bytes:  # noqa: A002
    """The wire form of NetBIOS name ``name`` with suffix ``type`` (0-255).

    The name is upper-cased, cut or space-padded to 15 bytes (``"*"`` is
    NUL-padded), followed by ``type``, half-ASCII encoded into one 32-byte
    label, then ``scope``'s dotted labels and the closing zero byte:
    ``encode_name("FRED", 0x20)`` is ``b" EGFCEFEECACACACACACACACACACACACA\\0"``.
    """
    return encode_netbios_name(_text(name), type, _text(scope) if scope else "")


def decode_name(name: Text) -> Tuple[int, str, str]:
    """Decode an encoded NetBIOS name at the start of ``name``.

    Returns ``(length, name16, scope)`` as pysmb did: the bytes the name took
    (closing zero included), the 16 decoded characters (padding and suffix
    character kept, one character per byte) and the dotted scope (``""`` if
    none).  Malformed input raises :class:`~smb.exceptions.ProtocolError`.
    """
    data = name.encode("latin-1") if isinstance(name, str) else bytes(name)
    _stripped, _suffix, scope, end = decode_netbios_name(data, 0)
    # decode_netbios_name has checked that a 32-letter 'A'-'P' label starts at
    # byte 1 (at offset 0 no compression pointer can resolve); it strips the
    # padding, so the 16 raw characters are read back from the label here.
    label = data[1:1 + _ENCODED_LEN]
    raw = bytes(((label[i] - 0x41) << 4) | (label[i + 1] - 0x41) for i in range(0, _ENCODED_LEN, 2))
    return end, raw.decode("latin-1"), scope
