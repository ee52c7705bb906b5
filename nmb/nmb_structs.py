"""NetBIOS name service and session service wire formats (no IO).

Name encoding follows RFC 1001 14.1 and RFC 1002 4.1; the name service packets
RFC 1002 4.2; the session service packets RFC 1002 4.3.  Everything that reads
bytes from the network treats them as hostile: a malformed packet raises
:class:`~smb.exceptions.ProtocolError` and nothing else.
"""
from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field
from typing import List, Optional, Tuple, Union

from smb._framing import Framer
from smb.exceptions import NotConnectedError, ProtocolError

from .nmb_constants import (
    CLASS_IN,
    OPCODE_MASK,
    OPCODE_SHIFT,
    RCODE_MASK,
    SESSION_ERROR_MESSAGES,
    HeaderFlags,
    NameFlags,
    NBFlags,
    Opcode,
    RCode,
    RRType,
    SessionPacketType,
)

__all__ = [
    "encode_netbios_name",
    "decode_netbios_name",
    "NBNSHeader",
    "NameQueryRequest",
    "NodeStatusRequest",
    "AddrEntry",
    "NameQueryResponse",
    "NodeName",
    "NodeStatus",
    "NodeStatusResponse",
    "build_session_request",
    "build_session_keepalive",
    "parse_negative_session_response",
    "parse_retarget_response",
    "NMBError",
    "NotConnectedError",
    "NMBSessionMessage",
    "DirectTCPSessionMessage",
]

Buffer = Union[bytes, bytearray, memoryview]

_NAME_LEN = 15          # the name proper; the 16th byte is the suffix
_ENCODED_LEN = 32       # RFC 1001 14.1: every byte becomes two letters 'A'..'P'
_MAX_LABEL = 63         # RFC 1002 4.1 (as in DNS): 6-bit label length
_MAX_NAME_BYTES = 255   # RFC 1002 4.1: the whole compressed-name representation
_MAX_POINTER_JUMPS = 8  # a real packet needs one; more is an attack or garbage

_HEADER = struct.Struct(">HHHHHH")
_QUESTION_TAIL = struct.Struct(">HH")
_RR_TAIL = struct.Struct(">HHIH")
_ADDR_ENTRY = struct.Struct(">H4s")
_NODE_NAME = struct.Struct(">15sBH")
_SESSION_HEADER = struct.Struct(">BBH")
_RETARGET = struct.Struct(">4sH")

_UNIT_ID_LEN = 6
# RFC 1002 4.2.18: the STATISTICS block that follows the name table.
_STATISTICS_LEN = 46


def _check_suffix(suffix: int) -> None:
    if not 0 <= suffix <= 0xFF:
        raise ValueError(f"NetBIOS name suffix out of range: {suffix!r}")


def _raw_name(name: str, suffix: int) -> bytes:
    """The 16 unencoded bytes: name upper-cased and padded, then the suffix.

    The special name ``*`` (the node status wildcard, RFC 1002 4.2.17) is
    padded with NULs instead of spaces.  Longer names are cut at 15 bytes, as
    NetBIOS implementations do.
    """
    _check_suffix(suffix)
    if name == "*":
        return b"*" + b"\x00" * (_NAME_LEN - 1) + bytes((suffix,))
    raw = name.upper().encode("latin-1")[:_NAME_LEN]
    return raw.ljust(_NAME_LEN, b" ") + bytes((suffix,))


def _half_ascii(raw: bytes) -> bytes:
    """RFC 1001 14.1 first-level encoding: each nibble plus ord('A')."""
    out = bytearray(len(raw) * 2)
    for i, byte in enumerate(raw):
        out[2 * i] = 0x41 + (byte >> 4)
        out[2 * i + 1] = 0x41 + (byte & 0x0F)
    return bytes(out)


def _encode_scope(scope: str) -> bytes:
    if not scope:
        return b""
    out = bytearray()
    for label in scope.strip(".").split("."):
        data = label.encode("ascii")
        if not data or len(data) > _MAX_LABEL:
            raise ValueError(f"bad NetBIOS scope label in {scope!r}")
        out.append(len(data))
        out += data
    return bytes(out)


def encode_netbios_name(name: str, suffix: int = 0x20, scope: str = "") -> bytes:
    """Encode a NetBIOS name for the wire (RFC 1001 14.1, RFC 1002 4.1).

    The name is upper-cased, space-padded to 15 bytes, followed by ``suffix``,
    half-ASCII encoded into a 32-byte label, then the scope's labels and the
    terminating zero-length label.  ``encode_netbios_name("FRED", 0x20)`` gives
    ``b" EGFCEFEECACACACACACACACACACACACA\\0"``.
    """
    encoded = bytes((_ENCODED_LEN,)) + _half_ascii(_raw_name(name, suffix)) + _encode_scope(scope) + b"\x00"
    if len(encoded) > _MAX_NAME_BYTES:
        raise ValueError(f"NetBIOS name with scope is too long: {len(encoded)} bytes")
    return encoded


def _decode_half_ascii(label: bytes) -> bytes:
    out = bytearray(len(label) // 2)
    for i in range(len(out)):
        hi = label[2 * i] - 0x41
        lo = label[2 * i + 1] - 0x41
        if not (0 <= hi <= 0x0F and 0 <= lo <= 0x0F):
            raise ProtocolError("NetBIOS name is not half-ASCII encoded", bytes(label))
        out[i] = (hi << 4) | lo
    return bytes(out)


def decode_netbios_name(buf: Buffer, offset: int = 0) -> Tuple[str, int, str, int]:
    """Decode an encoded NetBIOS name at ``offset`` (RFC 1002 4.1).

    Returns ``(name, suffix, scope, next_offset)``: the name without its
    padding, the 16th byte, the dotted scope (``""`` when none) and the offset
    just after the name as it sits at ``offset`` (after a compression pointer,
    if the name ends in one).  Compression pointers must point backwards and
    are followed at most a few times, so a pointer loop cannot hang us.
    """
    data = memoryview(buf)
    size = len(data)
    if offset < 0:
        raise ProtocolError("negative name offset")
    pos = offset
    end: Optional[int] = None
    labels: List[bytes] = []
    total = 0
    jumps = 0
    while True:
        if pos >= size:
            raise ProtocolError("NetBIOS name truncated")
        length = data[pos]
        kind = length & 0xC0
        if kind == 0xC0:
            if pos + 1 >= size:
                raise ProtocolError("NetBIOS name pointer truncated")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if end is None:
                end = pos + 2
            jumps += 1
            if jumps > _MAX_POINTER_JUMPS or target >= pos:
                raise ProtocolError("NetBIOS name compression pointer loops or points forward")
            pos = target
            continue
        if kind:
            raise ProtocolError(f"reserved NetBIOS label type 0x{length:02x}")
        if length == 0:
            pos += 1
            break
        if pos + 1 + length > size:
            raise ProtocolError("NetBIOS name label truncated")
        total += 1 + length
        if total > _MAX_NAME_BYTES:
            raise ProtocolError("NetBIOS name too long")
        labels.append(bytes(data[pos + 1:pos + 1 + length]))
        pos += 1 + length
    if end is None:
        end = pos
    if not labels or len(labels[0]) != _ENCODED_LEN:
        raise ProtocolError("NetBIOS name does not start with a 32-byte label")
    raw = _decode_half_ascii(labels[0])
    name = raw[:_NAME_LEN].decode("latin-1").rstrip(" \x00")
    scope = ".".join(label.decode("latin-1") for label in labels[1:])
    return name, raw[_NAME_LEN], scope, end


def _ip_to_bytes(ip: str) -> bytes:
    return ipaddress.IPv4Address(ip).packed


def _bytes_to_ip(data: bytes) -> str:
    return str(ipaddress.IPv4Address(bytes(data)))


@dataclass(frozen=True)
class NBNSHeader:
    """RFC 1002 4.2.1.1 name service packet header (12 bytes)."""

    trn_id: int
    flags: int = 0
    qdcount: int = 0
    ancount: int = 0
    nscount: int = 0
    arcount: int = 0

    STRUCT = _HEADER

    @classmethod
    def build(cls, trn_id: int, opcode: int = Opcode.QUERY, nm_flags: int = 0, rcode: int = 0,
              response: bool = False, **counts: int) -> "NBNSHeader":
        word = (int(opcode) << OPCODE_SHIFT) & OPCODE_MASK
        word |= int(nm_flags) & ~(OPCODE_MASK | RCODE_MASK | HeaderFlags.RESPONSE) & 0xFFFF
        word |= int(rcode) & RCODE_MASK
        if response:
            word |= HeaderFlags.RESPONSE
        return cls(trn_id & 0xFFFF, word, **counts)

    @property
    def is_response(self) -> bool:
        return bool(self.flags & HeaderFlags.RESPONSE)

    @property
    def opcode(self) -> int:
        return (self.flags & OPCODE_MASK) >> OPCODE_SHIFT

    @property
    def rcode(self) -> int:
        return self.flags & RCODE_MASK

    @property
    def nm_flags(self) -> HeaderFlags:
        return HeaderFlags(self.flags & ~(OPCODE_MASK | RCODE_MASK | HeaderFlags.RESPONSE) & 0xFFFF)

    def pack(self) -> bytes:
        return _HEADER.pack(self.trn_id, self.flags, self.qdcount, self.ancount,
                            self.nscount, self.arcount)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "NBNSHeader":
        if offset < 0 or len(buf) - offset < _HEADER.size:
            raise ProtocolError("name service packet shorter than its 12-byte header")
        return cls(*_HEADER.unpack_from(buf, offset))


def _skip_questions(buf: Buffer, pos: int, count: int) -> int:
    for _ in range(count):
        pos = decode_netbios_name(buf, pos)[3]
        if pos + _QUESTION_TAIL.size > len(buf):
            raise ProtocolError("question section truncated")
        pos += _QUESTION_TAIL.size
    return pos


@dataclass(frozen=True)
class _ResourceRecord:
    name: str
    suffix: int
    scope: str
    rr_type: int
    rr_class: int
    ttl: int
    rdata: bytes


def _parse_rr(buf: Buffer, pos: int) -> Tuple[_ResourceRecord, int]:
    """RFC 1002 4.2.1.3 resource record at ``pos``; returns it and the next offset."""
    name, suffix, scope, pos = decode_netbios_name(buf, pos)
    if pos + _RR_TAIL.size > len(buf):
        raise ProtocolError("resource record header truncated")
    rr_type, rr_class, ttl, rdlength = _RR_TAIL.unpack_from(buf, pos)
    pos += _RR_TAIL.size
    if pos + rdlength > len(buf):
        raise ProtocolError(f"RDLENGTH {rdlength} exceeds the packet")
    rdata = bytes(buf[pos:pos + rdlength])
    return _ResourceRecord(name, suffix, scope, rr_type, rr_class, ttl, rdata), pos + rdlength


def _pack_rr(name: str, suffix: int, scope: str, rr_type: int, ttl: int, rdata: bytes) -> bytes:
    return (encode_netbios_name(name, suffix, scope)
            + _RR_TAIL.pack(rr_type, CLASS_IN, ttl, len(rdata)) + rdata)


@dataclass(frozen=True)
class NameQueryRequest:
    """RFC 1002 4.2.12 NAME QUERY REQUEST.

    RD is always set; the B flag only when the request is broadcast.
    """

    trn_id: int
    name: str
    suffix: int = 0x20
    scope: str = ""
    broadcast: bool = False

    def pack(self) -> bytes:
        nm_flags = HeaderFlags.RECURSION_DESIRED
        if self.broadcast:
            nm_flags |= HeaderFlags.BROADCAST
        header = NBNSHeader.build(self.trn_id, Opcode.QUERY, nm_flags, qdcount=1)
        return (header.pack() + encode_netbios_name(self.name, self.suffix, self.scope)
                + _QUESTION_TAIL.pack(RRType.NB, CLASS_IN))


@dataclass(frozen=True)
class NodeStatusRequest:
    """RFC 1002 4.2.17 NODE STATUS REQUEST for the wildcard name ``*``.

    Node status is always asked of one node directly, so no NM_FLAGS are set.
    """

    trn_id: int
    name: str = "*"
    suffix: int = 0x00
    scope: str = ""

    def pack(self) -> bytes:
        header = NBNSHeader.build(self.trn_id, Opcode.QUERY, 0, qdcount=1)
        return (header.pack() + encode_netbios_name(self.name, self.suffix, self.scope)
                + _QUESTION_TAIL.pack(RRType.NBSTAT, CLASS_IN))


@dataclass(frozen=True)
class AddrEntry:
    """RFC 1002 4.2.13 ADDR_ENTRY: NB_FLAGS and NB_ADDRESS (6 bytes)."""

    flags: int
    ip: str

    STRUCT = _ADDR_ENTRY

    @property
    def is_group(self) -> bool:
        return bool(self.flags & NBFlags.GROUP)

    def pack(self) -> bytes:
        return _ADDR_ENTRY.pack(self.flags, _ip_to_bytes(self.ip))

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "AddrEntry":
        if offset < 0 or len(buf) - offset < _ADDR_ENTRY.size:
            raise ProtocolError("ADDR_ENTRY truncated")
        flags, addr = _ADDR_ENTRY.unpack_from(buf, offset)
        return cls(flags, _bytes_to_ip(addr))


def _response_header(buf: Buffer, offset: int) -> NBNSHeader:
    header = NBNSHeader.unpack_from(buf, offset)
    if not header.is_response:
        raise ProtocolError("name service packet is not a response")
    if header.opcode != Opcode.QUERY:
        raise ProtocolError(f"not a query response (opcode {header.opcode})")
    return header


@dataclass(frozen=True)
class NameQueryResponse:
    """RFC 1002 4.2.13 POSITIVE / 4.2.14 NEGATIVE NAME QUERY RESPONSE.

    A negative response (RCODE != 0) carries no address entries.
    """

    trn_id: int
    flags: int
    name: str = ""
    suffix: int = 0x20
    scope: str = ""
    ttl: int = 0
    entries: Tuple[AddrEntry, ...] = ()

    @property
    def rcode(self) -> int:
        return self.flags & RCODE_MASK

    @property
    def is_positive(self) -> bool:
        return self.rcode == RCode.OK and bool(self.entries)

    @property
    def ips(self) -> List[str]:
        return [entry.ip for entry in self.entries]

    @classmethod
    def positive(cls, trn_id: int, name: str, ips: List[str], suffix: int = 0x20, scope: str = "",
                 ttl: int = 0, nb_flags: int = 0) -> "NameQueryResponse":
        flags = NBNSHeader.build(trn_id, Opcode.QUERY,
                                 HeaderFlags.AUTHORITATIVE_ANSWER | HeaderFlags.RECURSION_DESIRED,
                                 response=True).flags
        return cls(trn_id, flags, name, suffix, scope, ttl,
                   tuple(AddrEntry(nb_flags, ip) for ip in ips))

    def pack(self) -> bytes:
        if self.rcode != RCode.OK:
            header = NBNSHeader(self.trn_id, self.flags)
            return header.pack() + _pack_rr(self.name, self.suffix, self.scope, RRType.NULL, 0, b"")
        header = NBNSHeader(self.trn_id, self.flags, ancount=1)
        rdata = b"".join(entry.pack() for entry in self.entries)
        return header.pack() + _pack_rr(self.name, self.suffix, self.scope, RRType.NB, self.ttl, rdata)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "NameQueryResponse":
        try:
            return cls._unpack(buf, offset)
        except (struct.error, IndexError, ValueError) as err:
            raise ProtocolError(f"malformed name query response: {err}") from err

    @classmethod
    def _unpack(cls, buf: Buffer, offset: int) -> "NameQueryResponse":
        header = _response_header(buf, offset)
        if header.rcode != RCode.OK:
            # RFC 1002 4.2.14 keeps ANCOUNT at 0 yet appends a NULL record;
            # the RCODE alone answers the question, so the rest is not read.
            return cls(header.trn_id, header.flags)
        pos = _skip_questions(buf, offset + _HEADER.size, header.qdcount)
        if header.ancount == 0:
            # e.g. a REDIRECT NAME QUERY RESPONSE (RFC 1002 4.2.15): no addresses.
            return cls(header.trn_id, header.flags)
        record, _ = _parse_rr(buf, pos)
        if record.rr_type != RRType.NB:
            raise ProtocolError(f"name query answer has RR_TYPE 0x{record.rr_type:04x}, not NB")
        if len(record.rdata) % _ADDR_ENTRY.size:
            raise ProtocolError(f"RDLENGTH {len(record.rdata)} is not a multiple of 6")
        entries = tuple(AddrEntry.unpack_from(record.rdata, i)
                        for i in range(0, len(record.rdata), _ADDR_ENTRY.size))
        return cls(header.trn_id, header.flags, record.name, record.suffix, record.scope,
                   record.ttl, entries)


@dataclass(frozen=True)
class NodeName:
    """One NODE_NAME entry of a node status response (RFC 1002 4.2.18)."""

    name: str
    suffix: int
    flags: int
    is_group: bool

    STRUCT = _NODE_NAME

    @classmethod
    def make(cls, name: str, suffix: int, flags: int) -> "NodeName":
        return cls(name, suffix, flags, bool(flags & NameFlags.GROUP))

    def pack(self) -> bytes:
        raw = self.name.encode("latin-1")[:_NAME_LEN].ljust(_NAME_LEN, b" ")
        return _NODE_NAME.pack(raw, self.suffix, self.flags)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "NodeName":
        if offset < 0 or len(buf) - offset < _NODE_NAME.size:
            raise ProtocolError("NODE_NAME entry truncated")
        raw, suffix, flags = _NODE_NAME.unpack_from(buf, offset)
        return cls.make(raw.decode("latin-1").rstrip(" \x00"), suffix, flags)


@dataclass(frozen=True)
class NodeStatus:
    """What a node status query tells about a host: its name table, the
    workgroup (or domain) it belongs to, and its MAC address (the UNIT_ID)."""

    names: List[NodeName] = field(default_factory=list)
    workgroup: Optional[str] = None
    mac: str = "00:00:00:00:00:00"


def _guess_workgroup(names: Tuple[NodeName, ...]) -> Optional[str]:
    """The workgroup is the group name with suffix 0x00; failing that the
    browser election group (0x1E) or a master browser / domain master name."""
    for wanted_suffix, wanted_group in ((0x00, True), (0x1E, True), (0x1D, False), (0x1B, False)):
        for entry in names:
            if entry.suffix == wanted_suffix and entry.is_group == wanted_group and entry.name:
                return entry.name
    return None


@dataclass(frozen=True)
class NodeStatusResponse:
    """RFC 1002 4.2.18 NODE STATUS RESPONSE: the name table and STATISTICS.

    Only the UNIT_ID (first 6 bytes of STATISTICS, the MAC address) is
    interpreted; a response cut short before the statistics gives a zero MAC.
    """

    trn_id: int
    flags: int
    names: Tuple[NodeName, ...] = ()
    statistics: bytes = b""
    name: str = "*"
    suffix: int = 0x00
    scope: str = ""

    @property
    def rcode(self) -> int:
        return self.flags & RCODE_MASK

    @property
    def unit_id(self) -> bytes:
        return self.statistics[:_UNIT_ID_LEN].ljust(_UNIT_ID_LEN, b"\x00")

    @property
    def mac(self) -> str:
        return ":".join(f"{b:02x}" for b in self.unit_id)

    @property
    def workgroup(self) -> Optional[str]:
        return _guess_workgroup(self.names)

    def node_status(self) -> NodeStatus:
        return NodeStatus(list(self.names), self.workgroup, self.mac)

    @classmethod
    def build(cls, trn_id: int, names: List[NodeName], unit_id: bytes = b"\x00" * 6) -> "NodeStatusResponse":
        flags = NBNSHeader.build(trn_id, Opcode.QUERY, HeaderFlags.AUTHORITATIVE_ANSWER,
                                 response=True).flags
        stats = unit_id[:_UNIT_ID_LEN].ljust(_UNIT_ID_LEN, b"\x00").ljust(_STATISTICS_LEN, b"\x00")
        return cls(trn_id, flags, tuple(names), stats)

    def pack(self) -> bytes:
        if len(self.names) > 0xFF:
            raise ValueError("a node status response holds at most 255 names")
        rdata = bytes((len(self.names),)) + b"".join(n.pack() for n in self.names) + self.statistics
        header = NBNSHeader(self.trn_id, self.flags, ancount=1)
        return header.pack() + _pack_rr(self.name, self.suffix, self.scope, RRType.NBSTAT, 0, rdata)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "NodeStatusResponse":
        try:
            return cls._unpack(buf, offset)
        except (struct.error, IndexError, ValueError) as err:
            raise ProtocolError(f"malformed node status response: {err}") from err

    @classmethod
    def _unpack(cls, buf: Buffer, offset: int) -> "NodeStatusResponse":
        header = _response_header(buf, offset)
        if header.rcode != RCode.OK:
            return cls(header.trn_id, header.flags)
        if header.ancount == 0:
            raise ProtocolError("node status response without an answer")
        pos = _skip_questions(buf, offset + _HEADER.size, header.qdcount)
        record, _ = _parse_rr(buf, pos)
        if record.rr_type != RRType.NBSTAT:
            raise ProtocolError(f"node status answer has RR_TYPE 0x{record.rr_type:04x}, not NBSTAT")
        rdata = record.rdata
        if not rdata:
            raise ProtocolError("node status answer has no NUM_NAMES")
        count = rdata[0]
        table_end = 1 + count * _NODE_NAME.size
        if table_end > len(rdata):
            raise ProtocolError(f"NUM_NAMES {count} does not fit in RDLENGTH {len(rdata)}")
        names = tuple(NodeName.unpack_from(rdata, 1 + i * _NODE_NAME.size) for i in range(count))
        return cls(header.trn_id, header.flags, names, rdata[table_end:],
                   record.name, record.suffix, record.scope)


# --- session service (RFC 1002 4.3) -----------------------------------------------------------

def build_session_request(called_name: str, calling_name: str, called_suffix: int = 0x20,
                          calling_suffix: int = 0x00) -> bytes:
    """RFC 1002 4.3.2 SESSION REQUEST, complete with its 4-byte header.

    ``called_name`` is the server's NetBIOS name (or ``*SMBSERVER``),
    ``calling_name`` ours; both are second-level encoded without scope.
    """
    body = (encode_netbios_name(called_name, called_suffix)
            + encode_netbios_name(calling_name, calling_suffix))
    return _SESSION_HEADER.pack(SessionPacketType.SESSION_REQUEST, 0, len(body)) + body


def build_session_keepalive() -> bytes:
    """RFC 1002 4.3.7 SESSION KEEP ALIVE (header only)."""
    return _SESSION_HEADER.pack(SessionPacketType.SESSION_KEEPALIVE, 0, 0)


def _session_trailer(payload: Buffer, packet_type: int, size: int) -> bytes:
    """The trailer of a fixed-size session packet; a complete packet (with its
    4-byte header) is accepted too."""
    data = bytes(payload)
    if len(data) == size + _SESSION_HEADER.size and data[0] == packet_type:
        length = ((data[1] & 0x01) << 16) | int.from_bytes(data[2:4], "big")
        if length == size:
            return data[_SESSION_HEADER.size:]
    if len(data) < size:
        raise ProtocolError(f"session packet 0x{packet_type:02x} trailer too short: {len(data)} bytes",
                            data)
    return data[:size]


def parse_negative_session_response(payload: Buffer) -> Tuple[int, str]:
    """RFC 1002 4.3.4 NEGATIVE SESSION RESPONSE -> ``(error_code, message)``.

    ``payload`` is the trailer after the 4-byte header (the whole packet is
    accepted too).  Unknown codes get a generic message, not an exception.
    """
    code = _session_trailer(payload, SessionPacketType.NEGATIVE_SESSION_RESPONSE, 1)[0]
    message = SESSION_ERROR_MESSAGES.get(code, f"Unknown session error code 0x{code:02x}")
    return code, message


def parse_retarget_response(payload: Buffer) -> Tuple[str, int]:
    """RFC 1002 4.3.5 SESSION RETARGET RESPONSE -> ``(ip, port)``.

    ``payload`` is the trailer after the 4-byte header (the whole packet is
    accepted too).
    """
    trailer = _session_trailer(payload, SessionPacketType.RETARGET_SESSION_RESPONSE, _RETARGET.size)
    addr, port = _RETARGET.unpack(trailer)
    return _bytes_to_ip(addr), port


# --------------------------------------------------------------------------- pysmb's session packet objects


class NMBError(ProtocolError):
    """A NetBIOS session service packet that cannot be decoded (pysmb's name)."""


class NMBSessionMessage:
    """One NetBIOS session service packet ([RFC 1002] 4.3.1), pysmb's parser object.

    :meth:`decode` reads the packet starting at ``data[offset]`` into
    ``type``, ``flags`` and ``data`` and returns how many bytes it used, or 0
    when the packet is not complete yet.  The header is parsed by
    :class:`smb._framing.Framer`, the one place framing is read.
    """

    HEADER_STRUCT_FORMAT = ">BBH"
    HEADER_STRUCT_SIZE = 4
    _netbios = True

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the last packet decoded."""
        self.type = 0
        self.flags = 0
        self.data: Buffer = b""

    def decode(self, data: Buffer, offset: int) -> int:
        mv = memoryview(data)
        if offset < 0 or len(mv) - offset < self.HEADER_STRUCT_SIZE:
            return 0
        header = bytes(mv[offset:offset + self.HEADER_STRUCT_SIZE])
        try:
            packet_type, length = Framer(netbios=self._netbios).parse_header(header)
        except ProtocolError as err:
            raise NMBError(str(err), header) from None
        end = offset + self.HEADER_STRUCT_SIZE + length
        if len(mv) < end:
            return 0
        self.type = packet_type
        self.flags = header[1] if self._netbios else 0
        self.data = bytes(mv[offset + self.HEADER_STRUCT_SIZE:end])
        return end - offset


class DirectTCPSessionMessage(NMBSessionMessage):
    """The direct-TCP (port 445) form: a zero byte and a 24-bit length ([MS-SMB2] 2.1)."""

    HEADER_STRUCT_FORMAT = ">I"
    HEADER_STRUCT_SIZE = 4
    _netbios = False
