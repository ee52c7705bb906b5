"""The little DCE/RPC that ``listShares`` needs: bind to SRVSVC and call
NetrShareEnum at level 1.

Connection-oriented PDUs are specified in [C706] chapter 12 with the
extensions of [MS-RPCE] 2.2.2; the call itself in [MS-SRVS] 3.1.4.8; its
arguments are NDR-encoded ([C706] chapter 14).  Everything here is pure: the
caller moves the bytes over the ``srvsvc`` named pipe.

Only the little-endian, ASCII, IEEE data representation is produced and
accepted (it is what Windows and Samba use); anything else is a
:class:`~smb.exceptions.MalformedResponse` (a :class:`~smb.exceptions.ProtocolError`).
"""
from __future__ import annotations

import enum
import struct
import uuid
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

from smb.exceptions import MalformedResponse, OperationFailure, ProtocolError

__all__ = [
    "PduType",
    "PfcFlags",
    "ShareType",
    "PduHeader",
    "RpcResponseAssembler",
    "build_bind",
    "parse_bind_ack",
    "build_request",
    "build_net_share_enum_all",
    "parse_net_share_enum_all_response",
    "SRVSVC_UUID",
    "SRVSVC_VERSION",
    "NDR_UUID",
    "NDR_VERSION",
    "OPNUM_NETR_SHARE_ENUM",
    "STYPE_DISKTREE",
    "STYPE_PRINTQ",
    "STYPE_DEVICE",
    "STYPE_IPC",
    "STYPE_CLUSTER_FS",
    "STYPE_CLUSTER_SOFS",
    "STYPE_CLUSTER_DFS",
    "STYPE_TEMPORARY",
    "STYPE_SPECIAL",
    "STYPE_MASK",
    "MAX_RESPONSE_SIZE",
]

Buffer = Union[bytes, bytearray, memoryview]


class PduType(enum.IntEnum):
    """``PTYPE`` of the common header, [C706] 12.1 (connection-oriented ones)."""

    REQUEST = 0
    RESPONSE = 2
    FAULT = 3
    BIND = 11
    BIND_ACK = 12
    BIND_NAK = 13
    ALTER_CONTEXT = 14
    ALTER_CONTEXT_RESP = 15
    SHUTDOWN = 17
    CO_CANCEL = 18
    ORPHANED = 19


class PfcFlags(enum.IntFlag):
    """``pfc_flags`` of the common header, [C706] 12.6.3.1, [MS-RPCE] 2.2.2.3."""

    FIRST_FRAG = 0x01
    LAST_FRAG = 0x02
    PENDING_CANCEL = 0x04
    CONC_MPX = 0x10
    DID_NOT_EXECUTE = 0x20
    MAYBE = 0x40
    OBJECT_UUID = 0x80


class ShareType(enum.IntEnum):
    """Base share types (low byte of ``shi1_type``), [MS-SRVS] 2.2.2.4."""

    DISKTREE = 0
    PRINTQ = 1
    DEVICE = 2
    IPC = 3


STYPE_DISKTREE = 0x00000000
STYPE_PRINTQ = 0x00000001
STYPE_DEVICE = 0x00000002
STYPE_IPC = 0x00000003
STYPE_MASK = 0x000000FF
STYPE_CLUSTER_FS = 0x02000000
STYPE_CLUSTER_SOFS = 0x04000000
STYPE_CLUSTER_DFS = 0x08000000
STYPE_TEMPORARY = 0x40000000
STYPE_SPECIAL = 0x80000000

SRVSVC_UUID = uuid.UUID("4b324fc8-1670-01d3-1278-5a47bf6ee188")
SRVSVC_VERSION = (3, 0)  # major, minor
NDR_UUID = uuid.UUID("8a885d04-1ceb-11c9-9fe8-08002b104860")
NDR_VERSION = 2
OPNUM_NETR_SHARE_ENUM = 15

#: Upper bound on the bytes one response may take, fragments included.
MAX_RESPONSE_SIZE = 16 * 1024 * 1024

_RPC_VERS = 5
_RPC_VERS_MINOR = 0
# Little-endian integers, ASCII characters, IEEE floats ([C706] 14.1).
_DREP = b"\x10\x00\x00\x00"

_COMMON = struct.Struct("<BBBB4sHHI")  # rpc_vers, minor, PTYPE, pfc_flags, drep, frag_length, auth_length, call_id
_BIND_BODY = struct.Struct("<HHIBBH")  # max_xmit_frag, max_recv_frag, assoc_group_id, n_context_elem, reserved, reserved2
_CONTEXT_ELEM = struct.Struct("<HBB16sHH16sI")  # p_cont_id, n_transfer_syn, reserved, abstract uuid+ver, transfer uuid+ver
_REQUEST_BODY = struct.Struct("<IHH")  # alloc_hint, p_cont_id, opnum
_RESPONSE_BODY = struct.Struct("<IHBB")  # alloc_hint, p_cont_id, cancel_count, reserved
_FAULT_STATUS = struct.Struct("<I")
_RESULT = struct.Struct("<HH16sI")  # result, reason, transfer syntax uuid + version
_SEC_TRAILER_SIZE = 8
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")

_REQUEST_HEADER_SIZE = _COMMON.size + _REQUEST_BODY.size  # 24
_RESPONSE_HEADER_SIZE = _COMMON.size + _RESPONSE_BODY.size  # 24
_FAULT_MIN_SIZE = _RESPONSE_HEADER_SIZE + _FAULT_STATUS.size  # 28; MS-RPCE adds 4 reserved bytes

_BIND_RESULTS = {
    0: "acceptance",
    1: "user rejection",
    2: "provider rejection",
    3: "negotiate ack",
}
_BIND_ACK_REASONS = {
    0: "reason not specified",
    1: "abstract syntax not supported",
    2: "proposed transfer syntaxes not supported",
    3: "local limit exceeded",
}
_BIND_NAK_REASONS = {
    0: "reason not specified",
    1: "temporary congestion",
    2: "local limit exceeded",
    3: "called paddr unknown",
    4: "protocol version not supported",
    5: "default context not supported",
    6: "user data not readable",
    7: "no psap available",
    8: "authentication type not recognized",
    9: "invalid checksum",
}
_FAULT_NAMES = {
    0x00000005: "access denied",
    0x000006F7: "bad stub data (nca_s_fault_ndr)",
    0x1C00001A: "context mismatch",
    0x1C00001B: "remote out of memory",
    0x1C010002: "operation number out of range (nca_s_op_rng_error)",
    0x1C010003: "unknown interface (nca_s_unknown_if)",
    0x1C01000B: "protocol error (nca_s_proto_error)",
}
_WERROR_NAMES = {
    0x00000005: "ERROR_ACCESS_DENIED",
    0x00000008: "ERROR_NOT_ENOUGH_MEMORY",
    0x00000057: "ERROR_INVALID_PARAMETER",
    0x0000007C: "ERROR_INVALID_LEVEL",
    0x000000EA: "ERROR_MORE_DATA",
    0x0000084B: "NERR_BufTooSmall",
}


@dataclass(frozen=True)
class PduHeader:
    """The 16-byte common header of every connection-oriented PDU, [C706] 12.6.1."""

    ptype: int
    pfc_flags: int
    frag_length: int
    auth_length: int
    call_id: int

    SIZE = _COMMON.size

    def pack(self) -> bytes:
        return _COMMON.pack(_RPC_VERS, _RPC_VERS_MINOR, self.ptype, self.pfc_flags, _DREP,
                            self.frag_length, self.auth_length, self.call_id)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "PduHeader":
        """Parse and check the header; the fragment it announces may extend
        past ``buf``."""
        if offset < 0 or len(buf) - offset < _COMMON.size:
            raise MalformedResponse("RPC PDU header truncated")
        (vers, minor, ptype, flags, drep, frag_length, auth_length,
         call_id) = _COMMON.unpack_from(buf, offset)
        if (vers, minor) != (_RPC_VERS, _RPC_VERS_MINOR):
            raise MalformedResponse("RPC version %d.%d is not 5.0" % (vers, minor))
        if drep[0] != _DREP[0]:
            raise MalformedResponse("unsupported RPC data representation %s" % bytes(drep).hex())
        if frag_length < _COMMON.size:
            raise MalformedResponse("RPC frag_length %d is smaller than the header" % frag_length)
        if auth_length and auth_length + _SEC_TRAILER_SIZE > frag_length - _COMMON.size:
            raise MalformedResponse("RPC auth_length %d does not fit in a %d-byte fragment"
                                % (auth_length, frag_length))
        return cls(ptype, flags, frag_length, auth_length, call_id)


def _whole_pdu(data: Buffer, what: str) -> Tuple[PduHeader, memoryview]:
    view = memoryview(data)
    header = PduHeader.unpack_from(view)
    if header.frag_length != len(view):
        raise MalformedResponse("%s: frag_length %d but %d bytes" % (what, header.frag_length, len(view)))
    return header, view


def build_bind(call_id: int = 1, max_xmit_frag: int = 4280, max_recv_frag: int = 4280) -> bytes:
    """BIND PDU ([C706] 12.6.4.3) offering one presentation context: SRVSVC
    v3.0 over NDR v2, context id 0, no authentication, new association."""
    context = _CONTEXT_ELEM.pack(0, 1, 0,
                                 SRVSVC_UUID.bytes_le, SRVSVC_VERSION[0], SRVSVC_VERSION[1],
                                 NDR_UUID.bytes_le, NDR_VERSION)
    body = _BIND_BODY.pack(max_xmit_frag, max_recv_frag, 0, 1, 0, 0) + context
    header = PduHeader(PduType.BIND, PfcFlags.FIRST_FRAG | PfcFlags.LAST_FRAG,
                       _COMMON.size + len(body), 0, call_id)
    return header.pack() + body


def parse_bind_ack(data: Buffer, call_id: Optional[int] = None) -> None:
    """Check the answer to :func:`build_bind`: one whole BIND_ACK
    ([C706] 12.6.4.4) or BIND_NAK ([C706] 12.6.4.5) PDU.

    Returns ``None`` when the SRVSVC/NDR context was accepted.  A rejected
    context or a BIND_NAK raises :class:`OperationFailure`; malformed input
    (and a ``call_id`` different from the one given) :class:`ProtocolError`.
    """
    header, view = _whole_pdu(data, "bind answer")
    if call_id is not None and header.call_id != call_id:
        raise MalformedResponse("bind answer for call_id %d, expected %d" % (header.call_id, call_id))
    if header.ptype == PduType.BIND_NAK:
        if len(view) < _COMMON.size + 2:
            raise MalformedResponse("BIND_NAK truncated")
        (reason,) = _U16.unpack_from(view, _COMMON.size)
        raise OperationFailure("RPC bind to SRVSVC refused (BIND_NAK): %s (%d)"
                               % (_BIND_NAK_REASONS.get(reason, "unknown reason"), reason))
    if header.ptype != PduType.BIND_ACK:
        raise MalformedResponse("expected BIND_ACK, got PDU type %d" % header.ptype)
    end = len(view) - (header.auth_length + _SEC_TRAILER_SIZE if header.auth_length else 0)

    pos = _COMMON.size + 8  # max_xmit_frag, max_recv_frag, assoc_group_id
    if pos + 2 > end:
        raise MalformedResponse("BIND_ACK truncated")
    (sec_addr_length,) = _U16.unpack_from(view, pos)
    pos += 2 + sec_addr_length
    pos += -pos % 4  # the result list is 4-aligned from the start of the PDU
    if pos + 4 > end:
        raise MalformedResponse("BIND_ACK truncated before its result list")
    n_results = view[pos]
    pos += 4
    if n_results < 1:
        raise MalformedResponse("BIND_ACK carries no presentation context result")
    if pos + n_results * _RESULT.size > end:
        raise MalformedResponse("BIND_ACK claims %d results in %d bytes" % (n_results, end - pos))
    # We offered one context (id 0): its result is the first one.
    result, reason, syntax, syntax_version = _RESULT.unpack_from(view, pos)
    if result != 0:
        raise OperationFailure("RPC bind to SRVSVC rejected: %s, %s (result %d, reason %d)"
                               % (_BIND_RESULTS.get(result, "unknown result"),
                                  _BIND_ACK_REASONS.get(reason, "unknown reason"), result, reason))
    if bytes(syntax) != NDR_UUID.bytes_le or syntax_version != NDR_VERSION:
        raise MalformedResponse("BIND_ACK accepted a transfer syntax we did not offer")


def build_request(opnum: int, stub: bytes, call_id: int, context_id: int = 0) -> bytes:
    """A single-fragment REQUEST PDU, [C706] 12.6.4.9."""
    frag_length = _REQUEST_HEADER_SIZE + len(stub)
    if frag_length > 0xFFFF:
        raise ValueError("stub too large for one fragment")
    header = PduHeader(PduType.REQUEST, PfcFlags.FIRST_FRAG | PfcFlags.LAST_FRAG, frag_length, 0, call_id)
    return header.pack() + _REQUEST_BODY.pack(len(stub), context_id, opnum) + stub


class _NdrWriter:
    """Just enough NDR marshalling for NetrShareEnum's [in] arguments."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self._next_referent = 0x00020000

    def align(self, n: int) -> None:
        self.buf += b"\0" * (-len(self.buf) % n)

    def u32(self, value: int) -> None:
        self.align(4)
        self.buf += _U32.pack(value)

    def referent(self) -> None:
        """A non-null unique pointer: any non-zero id will do, this is the
        sequence Windows uses."""
        self.u32(self._next_referent)
        self._next_referent += 4

    def wide_string(self, text: str) -> None:
        """A [string] wchar_t* referent: conformant varying array including the NUL."""
        encoded = (text + "\0").encode("utf-16-le")
        count = len(encoded) // 2
        self.u32(count)  # max_count
        self.u32(0)  # offset
        self.u32(count)  # actual_count
        self.buf += encoded


def build_net_share_enum_all(server_name: Optional[str], call_id: int = 2, level: int = 1,
                             resume_handle: Optional[int] = 0, max_buffer: int = 0xFFFFFFFF) -> bytes:
    """REQUEST PDU calling NetrShareEnum (opnum 15, [MS-SRVS] 3.1.4.8).

    ``server_name`` is sent as given (e.g. ``"\\\\\\\\127.0.0.1"``, i.e. two
    backslashes and the host); ``None`` sends a null pointer.  The
    InfoStruct asks for ``level`` with an empty container; ``resume_handle``
    ``None`` sends a null pointer.
    """
    w = _NdrWriter()
    # [in, string, unique] SRVSVC_HANDLE ServerName
    if server_name is None:
        w.u32(0)
    else:
        w.referent()
        w.wide_string(server_name)
    # [in, out] LPSHARE_ENUM_STRUCT InfoStruct (a [ref] pointer: no wire id).
    w.u32(level)  # Level
    w.u32(level)  # union discriminant
    w.referent()  # SHARE_INFO_x_CONTAINER*, its referent follows the struct
    w.u32(0)  # EntriesRead
    w.u32(0)  # Buffer: null
    # [in] DWORD PreferedMaximumLength
    w.u32(max_buffer)
    # [in, out, unique] DWORD* ResumeHandle
    if resume_handle is None:
        w.u32(0)
    else:
        w.referent()
        w.u32(resume_handle)
    return build_request(OPNUM_NETR_SHARE_ENUM, bytes(w.buf), call_id)


class RpcResponseAssembler:
    """Collects the RESPONSE fragments of one call ([C706] 12.6.4.10).

    Feed it bytes as they arrive, in chunks of any size; ``done`` turns true
    with the fragment that has PFC_LAST_FRAG, and ``stub_data`` then holds the
    stub data of all fragments, concatenated.  A FAULT PDU raises
    :class:`OperationFailure` with the fault status as ``status``; anything
    malformed, more than ``max_size`` bytes in total or bytes after the last
    fragment raise :class:`ProtocolError`.
    """

    def __init__(self, call_id: Optional[int] = None, max_size: int = MAX_RESPONSE_SIZE) -> None:
        self.call_id = call_id
        self.max_size = max_size
        self.done = False
        self._pending = bytearray()
        self._stub = bytearray()
        self._received = 0
        self._fragments = 0
        self._broken = False

    @property
    def stub_data(self) -> bytes:
        return bytes(self._stub)

    def feed(self, data: Buffer) -> None:
        if self._broken:
            raise MalformedResponse("RPC response already failed")
        if not data:
            return
        if self.done:
            self._broken = True
            raise MalformedResponse("data after the last RPC response fragment")
        self._received += len(data)
        if self._received > self.max_size:
            self._broken = True
            raise MalformedResponse("RPC response larger than %d bytes" % self.max_size)
        self._pending += data
        try:
            while len(self._pending) >= PduHeader.SIZE:
                header = PduHeader.unpack_from(self._pending)
                if len(self._pending) < header.frag_length:
                    break
                fragment = bytes(self._pending[:header.frag_length])
                del self._pending[:header.frag_length]
                self._take(header, fragment)
                if self.done:
                    if self._pending:
                        raise MalformedResponse("%d bytes after the last RPC response fragment"
                                            % len(self._pending))
                    break
        except (ProtocolError, OperationFailure):
            self._broken = True
            raise

    def _take(self, header: PduHeader, fragment: bytes) -> None:
        if self.call_id is not None and header.call_id != self.call_id:
            raise MalformedResponse("RPC fragment for call_id %d, expected %d" % (header.call_id, self.call_id))
        if header.ptype == PduType.FAULT:
            if len(fragment) < _FAULT_MIN_SIZE:
                raise MalformedResponse("RPC FAULT PDU truncated")
            (status,) = _FAULT_STATUS.unpack_from(fragment, _RESPONSE_HEADER_SIZE)
            raise OperationFailure("RPC call failed: fault %#010x (%s)"
                                   % (status, _FAULT_NAMES.get(status, "unknown fault")), status=status)
        if header.ptype != PduType.RESPONSE:
            raise MalformedResponse("expected an RPC RESPONSE, got PDU type %d" % header.ptype)
        first = bool(header.pfc_flags & PfcFlags.FIRST_FRAG)
        if first != (self._fragments == 0):
            raise MalformedResponse("RPC response fragment %d %s PFC_FIRST_FRAG"
                                % (self._fragments, "has" if first else "lacks"))
        if header.frag_length < _RESPONSE_HEADER_SIZE:
            raise MalformedResponse("RPC RESPONSE fragment of %d bytes" % header.frag_length)
        stub_end = header.frag_length
        if header.auth_length:
            # Stub, auth padding, sec_trailer, auth value ([MS-RPCE] 2.2.2.11).
            trailer = stub_end - header.auth_length - _SEC_TRAILER_SIZE
            stub_end = trailer - fragment[trailer + 2]  # auth_pad_length
            if stub_end < _RESPONSE_HEADER_SIZE:
                raise MalformedResponse("RPC auth padding larger than the stub")
        self._stub += fragment[_RESPONSE_HEADER_SIZE:stub_end]
        self._fragments += 1
        if header.pfc_flags & PfcFlags.LAST_FRAG:
            self.done = True


class _NdrReader:
    """Bounds-checked NDR unmarshalling (little-endian) over a stub."""

    def __init__(self, data: Buffer) -> None:
        self.view = memoryview(data)
        self.pos = 0

    @property
    def remaining(self) -> int:
        return len(self.view) - self.pos

    def align(self, n: int) -> None:
        pad = -self.pos % n
        if pad > self.remaining:
            raise MalformedResponse("NDR stub truncated in alignment padding at offset %d" % self.pos)
        self.pos += pad

    def u32(self) -> int:
        self.align(4)
        if self.remaining < 4:
            raise MalformedResponse("NDR stub truncated at offset %d" % self.pos)
        (value,) = _U32.unpack_from(self.view, self.pos)
        self.pos += 4
        return int(value)

    def wide_string(self) -> str:
        """A conformant varying string of UTF-16 units; the final NUL is dropped."""
        max_count = self.u32()
        offset = self.u32()
        actual_count = self.u32()
        if actual_count > max_count or offset > max_count - actual_count:
            raise MalformedResponse("NDR string: offset %d + actual_count %d exceed max_count %d"
                                % (offset, actual_count, max_count))
        size = 2 * actual_count
        if size > self.remaining:
            raise MalformedResponse("NDR string of %d characters truncated" % actual_count)
        raw = bytes(self.view[self.pos:self.pos + size])
        self.pos += size
        try:
            text = raw.decode("utf-16-le")
        except UnicodeDecodeError as err:
            raise MalformedResponse("NDR string is not valid UTF-16", raw) from err
        if text.endswith("\0"):
            text = text[:-1]
        return text


def parse_net_share_enum_all_response(stub: Buffer) -> List[Tuple[str, int, str]]:
    """Decode the stub of a NetrShareEnum response at level 1
    ([MS-SRVS] 3.1.4.8, 2.2.4.24 SHARE_INFO_1_CONTAINER, 2.2.4.23 SHARE_INFO_1).

    Returns ``[(name, type, comment), ...]``.  A non-zero WERROR raises
    :class:`OperationFailure` whose ``status`` is that WERROR; malformed NDR
    raises :class:`ProtocolError`.
    """
    r = _NdrReader(stub)
    level = r.u32()
    discriminant = r.u32()
    if level != 1 or discriminant != 1:
        raise MalformedResponse("NetrShareEnum answered level %d/%d, asked for 1" % (level, discriminant))
    shares: List[Tuple[str, int, str]] = []
    if r.u32():  # SHARE_INFO_1_CONTAINER*
        entries_read = r.u32()
        if r.u32():  # LPSHARE_INFO_1 Buffer
            max_count = r.u32()
            if max_count != entries_read:
                raise MalformedResponse("SHARE_INFO_1 array of %d for EntriesRead %d" % (max_count, entries_read))
            # Each fixed part takes 12 bytes: refuse a count the stub cannot hold
            # before building anything from it.
            if max_count > r.remaining // 12:
                raise MalformedResponse("SHARE_INFO_1 array of %d entries in %d bytes" % (max_count, r.remaining))
            fixed = [(r.u32(), r.u32(), r.u32()) for _ in range(max_count)]
            # The strings follow the array, in pointer order ([C706] 14.3.12.3).
            for name_ref, share_type, remark_ref in fixed:
                name = r.wide_string() if name_ref else ""
                remark = r.wide_string() if remark_ref else ""
                shares.append((name, share_type, remark))
        elif entries_read:
            raise MalformedResponse("EntriesRead %d with a null buffer" % entries_read)
    r.u32()  # TotalEntries
    if r.u32():  # ResumeHandle*
        r.u32()
    werror = r.u32()
    if r.remaining:
        raise MalformedResponse("%d bytes after the NetrShareEnum response" % r.remaining)
    if werror:
        raise OperationFailure("NetrShareEnum failed: %s (%#010x)"
                               % (_WERROR_NAMES.get(werror, "WERROR"), werror), status=werror)
    return shares
