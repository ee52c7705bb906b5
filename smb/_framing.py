"""Transport framing: the one place where stream bytes become SMB frames.

Two framings share one 4-byte header ([MS-SMB2] 2.1, [RFC 1002] 4.3.1):

* direct TCP (port 445): a zero byte, then a 24-bit big-endian length;
* NetBIOS session service (port 139): a packet type, a flags byte whose low
  bit extends the 16-bit length to 17 bits, then the length.  Only
  SESSION MESSAGE packets carry SMB; keep-alives are skipped here.

When reading NetBIOS frames we accept the 24-bit form as well: Samba and
Windows send it for large SMB2 messages, and the extra bits are reserved
(zero) in every RFC-conforming packet, so reading them costs nothing.
"""
from __future__ import annotations

import struct
from typing import Optional, Tuple

from .exceptions import ProtocolError

__all__ = ["Framer", "HEADER_SIZE", "SESSION_MESSAGE", "SESSION_KEEPALIVE"]

HEADER_SIZE = 4
SESSION_MESSAGE = 0x00
SESSION_KEEPALIVE = 0x85

_HEADER = struct.Struct(">I")
#: Largest NetBIOS session message length we ever send ([RFC 1002] 4.3.1).
NETBIOS_MAX_SEND = 0x1FFFF
#: Largest direct-TCP frame length ([MS-SMB2] 2.1: 24 bits).
DIRECT_TCP_MAX = 0xFFFFFF


class Framer:
    """Encode frame headers and decode them, with a cap on frame size.

    ``max_frame`` bounds what a peer may announce before we allocate a
    buffer for it; the core raises it after NEGOTIATE to fit the largest
    read response (plus encryption overhead) the server may send.
    """

    __slots__ = ("netbios", "max_frame", "_buf")

    def __init__(self, netbios: bool, max_frame: int = 1024 * 1024) -> None:
        self.netbios = netbios
        self.max_frame = max_frame
        self._buf = bytearray()

    def header(self, length: int) -> bytes:
        """The 4-byte header for an SMB message of ``length`` bytes."""
        limit = NETBIOS_MAX_SEND if self.netbios else DIRECT_TCP_MAX
        if length > limit:
            raise ValueError("frame of %d bytes exceeds the %s limit" %
                             (length, "NetBIOS" if self.netbios else "direct TCP"))
        return _HEADER.pack(length)

    def parse_header(self, header: bytes) -> Tuple[int, int]:
        """Decode a 4-byte header into ``(packet_type, length)``.

        Raises :class:`ProtocolError` for an unknown packet type on direct
        TCP or a length above ``max_frame``.
        """
        if len(header) != HEADER_SIZE:
            raise ProtocolError("truncated frame header")
        packet_type = header[0]
        length = _HEADER.unpack(header)[0] & 0xFFFFFF
        if not self.netbios and packet_type != 0:
            raise ProtocolError("bad direct-TCP frame header 0x%02X" % packet_type)
        if packet_type != SESSION_MESSAGE:
            # Control packets (keep-alive, session responses) are small.
            length &= 0x1FFFF
        if length > self.max_frame:
            raise ProtocolError("peer announced a %d-byte frame (limit %d)" % (length, self.max_frame))
        return packet_type, length

    def frame(self, payload: bytes) -> bytes:
        """Prefix ``payload`` with its header (convenience; the hot path sends pieces)."""
        return self.header(len(payload)) + payload

    # -- stream mode, for sans-IO users who hand us arbitrary byte chunks --
    def feed(self, data: bytes) -> None:
        """Append received stream bytes."""
        self._buf += data

    def pending(self) -> bytes:
        """The buffered bytes that do not make a complete frame yet."""
        return bytes(self._buf)

    def next_frame(self) -> Optional[Tuple[int, bytes]]:
        """Return the next complete ``(packet_type, payload)`` or None."""
        if len(self._buf) < HEADER_SIZE:
            return None
        packet_type, length = self.parse_header(bytes(self._buf[:HEADER_SIZE]))
        end = HEADER_SIZE + length
        if len(self._buf) < end:
            return None
        payload = bytes(self._buf[HEADER_SIZE:end])
        del self._buf[:end]
        return packet_type, payload
