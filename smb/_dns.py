"""Just enough DNS to find a realm's KDCs: SRV queries ([RFC 1035], [RFC 2782]), IO-free.

:func:`srv_query` builds a query datagram, :func:`parse_srv_response` reads the answer.  The
answer is untrusted: every length and compression pointer is bounds-checked, pointer chains
are limited, and anything malformed raises :class:`~smb.exceptions.KerberosError` (the only
user of this module is KDC discovery).
"""
from __future__ import annotations

import struct
from typing import List, Tuple

from .exceptions import KerberosError

__all__ = ["srv_query", "parse_srv_response", "TYPE_SRV"]

TYPE_SRV = 33
CLASS_IN = 1
_HEADER = struct.Struct(">HHHHHH")
_RR = struct.Struct(">HHIH")
_SRV = struct.Struct(">HHH")
_MAX_POINTERS = 16
_MAX_RECORDS = 64


def _encode_name(name: str) -> bytes:
    out = bytearray()
    for label in name.rstrip(".").split("."):
        raw = label.encode("idna") if label else b""
        if not raw or len(raw) > 63:
            raise ValueError("bad DNS name %r" % name)
        out += bytes([len(raw)]) + raw
    if len(out) > 254:
        raise ValueError("DNS name %r is too long" % name)
    return bytes(out) + b"\0"


def srv_query(txn_id: int, name: str) -> bytes:
    """A recursive SRV query for ``name`` (e.g. ``_kerberos._tcp.EXAMPLE.COM``)."""
    return _HEADER.pack(txn_id & 0xFFFF, 0x0100, 1, 0, 0, 0) + _encode_name(name) + struct.pack(
        ">HH", TYPE_SRV, CLASS_IN)


def _read_name(data: bytes, pos: int) -> Tuple[str, int]:
    """The name at ``pos`` and the position after it (pointers followed, bounded)."""
    labels: List[str] = []
    end = -1
    jumps = 0
    total = 0
    while True:
        if pos >= len(data):
            raise KerberosError("malformed DNS answer (name runs past the end)")
        length = data[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(data):
                raise KerberosError("malformed DNS answer (cut pointer)")
            jumps += 1
            if jumps > _MAX_POINTERS:
                raise KerberosError("malformed DNS answer (pointer loop)")
            if end < 0:
                end = pos + 2
            pos = ((length & 0x3F) << 8) | data[pos + 1]
            continue
        if length & 0xC0:
            raise KerberosError("malformed DNS answer (bad label type)")
        pos += 1
        if length == 0:
            break
        if pos + length > len(data):
            raise KerberosError("malformed DNS answer (label runs past the end)")
        total += length + 1
        if total > 255:
            raise KerberosError("malformed DNS answer (name too long)")
        labels.append(data[pos:pos + length].decode("ascii", "replace"))
        pos += length
    return ".".join(labels), (end if end >= 0 else pos)


def parse_srv_response(data: bytes, txn_id: int) -> List[Tuple[str, int]]:
    """``(target, port)`` of the SRV answers, by priority then weight (highest first).

    An empty list for NXDOMAIN or no answers; :class:`KerberosError` for a malformed
    datagram or one that is not the answer to ``txn_id``.
    """
    data = bytes(data)
    if len(data) < _HEADER.size:
        raise KerberosError("malformed DNS answer (short header)")
    ident, flags, qdcount, ancount, _ns, _ar = _HEADER.unpack_from(data, 0)
    if ident != txn_id & 0xFFFF or not flags & 0x8000:
        raise KerberosError("DNS answer to another query")
    if flags & 0x000F == 3:
        return []
    if flags & 0x000F:
        raise KerberosError("DNS server error %d" % (flags & 0x000F))
    if qdcount > 4 or ancount > _MAX_RECORDS:
        raise KerberosError("malformed DNS answer (too many records)")
    pos = _HEADER.size
    for _ in range(qdcount):
        _, pos = _read_name(data, pos)
        pos += 4
    found: List[Tuple[int, int, str, int]] = []
    for _ in range(ancount):
        _, pos = _read_name(data, pos)
        if pos + _RR.size > len(data):
            raise KerberosError("malformed DNS answer (cut record)")
        rtype, rclass, _ttl, rdlength = _RR.unpack_from(data, pos)
        pos += _RR.size
        if pos + rdlength > len(data):
            raise KerberosError("malformed DNS answer (record data runs past the end)")
        if rtype == TYPE_SRV and rclass == CLASS_IN:
            if rdlength < _SRV.size + 1:
                raise KerberosError("malformed DNS answer (short SRV record)")
            priority, weight, port = _SRV.unpack_from(data, pos)
            target, _ = _read_name(data[:pos + rdlength], pos + _SRV.size)
            if target and target != ".":
                found.append((priority, -weight, target, port))
        pos += rdlength
    return [(target, port) for _, _, target, port in sorted(found)]
