"""SMB2/3 wire messages ([MS-SMB2] section 2.2): pack and unpack, nothing else.

Conventions shared by every class here:

* A request's ``pack()`` returns the message *body*, starting at its
  StructureSize.  Offsets inside it are counted from the start of the SMB2
  header, so the body is assumed to sit at offset 64 (``SMB2_HEADER_SIZE``).
* A response's ``unpack_from(buf, offset=64)`` takes the whole SMB2 message
  (``buf[0]`` is the 0xFE of the header) and the offset of the body.  It checks
  StructureSize and every offset/length against ``len(buf)``; a variable part
  comes back as a ``memoryview`` slice of ``buf`` (no copy), strings as ``str``.
  Any malformed input raises :class:`~smb.exceptions.MalformedResponse` (a :class:`~smb.exceptions.ProtocolError`).
* Strings are UTF-16LE, GUIDs and FileIds raw 16-byte ``bytes``, times raw
  FILETIME integers.
"""
from __future__ import annotations

import datetime as _dt
import re
import struct
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

from smb import _reexport
from smb.utils import convertEpochToFILETIME, convertFILETIMEtoEpoch
from smb.exceptions import MalformedResponse, ProtocolError
from smb.smb2_constants import (
    SMB2_HEADER_SIZE,
    SMB2_NO_FILE_ID,
    SMB2_PROTOCOL_ID,
    SMB2_TRANSFORM_PROTOCOL_ID,
    Dialect,
    NegotiateContextType,
    Smb2Flags,
)

__all__ = [
    "ProtocolError",
    "convertFILETIMEtoEpoch",
    "HEADER_STRUCT",
    "TRANSFORM_HEADER_STRUCT",
    "Smb2Header",
    "NegotiateContext",
    "PreauthIntegrityCapabilities",
    "EncryptionCapabilities",
    "SigningCapabilities",
    "NetnameContext",
    "NegotiateRequest",
    "NegotiateResponse",
    "SessionSetupRequest",
    "SessionSetupResponse",
    "LogoffRequest",
    "LogoffResponse",
    "TreeConnectRequest",
    "TreeConnectResponse",
    "TreeDisconnectRequest",
    "TreeDisconnectResponse",
    "CreateRequest",
    "CreateResponse",
    "TimewarpToken",
    "pack_create_contexts",
    "parse_create_contexts",
    "DurableHandleRequest",
    "DurableHandleReconnect",
    "DurableHandleRequestV2",
    "DurableHandleReconnectV2",
    "DurableHandleResponseV2",
    "DHANDLE_FLAG_PERSISTENT",
    "split_timewarp",
    "CloseRequest",
    "CloseResponse",
    "FlushRequest",
    "FlushResponse",
    "ReadRequest",
    "ReadResponse",
    "WriteRequest",
    "WriteResponse",
    "QueryDirectoryRequest",
    "QueryDirectoryResponse",
    "QueryInfoRequest",
    "QueryInfoResponse",
    "SetInfoRequest",
    "SetInfoResponse",
    "IoctlRequest",
    "IoctlResponse",
    "EchoRequest",
    "EchoResponse",
    "CancelRequest",
    "ErrorResponse",
    "TransformHeader",
    "ValidateNegotiateInfoRequest",
    "ValidateNegotiateInfoResponse",
    "ResumeKeyResponse",
    "CopyChunk",
    "CopyChunkCopy",
    "CopyChunkResponse",
    "OplockBreakNotification",
    "OplockBreakAcknowledgment",
    "LeaseBreakNotification",
    "is_error_response",
    "NO_FILE_ID",
]

Buffer = Union[bytes, bytearray, memoryview]

_EMPTY = memoryview(b"")
_ASYNC = int(Smb2Flags.ASYNC_COMMAND)

# ---------------------------------------------------------------------------
# helpers


def _align8(n: int) -> int:
    return (n + 7) & ~7


def _unpack_fixed(st: struct.Struct, buf: Buffer, offset: int, structure_size: int,
                  what: str) -> tuple:
    """Unpack the fixed part of a body and check its StructureSize."""
    if offset < 0 or offset + st.size > len(buf):
        raise MalformedResponse(
            f"{what}: body needs {st.size} bytes at offset {offset}, message has {len(buf)}")
    try:
        fields = st.unpack_from(buf, offset)
    except struct.error as err:  # pragma: no cover - guarded by the length check
        raise MalformedResponse(f"{what}: {err}") from err
    if fields[0] != structure_size:
        raise MalformedResponse(f"{what}: StructureSize {fields[0]}, expected {structure_size}")
    return fields


def _view(buf: Buffer, data_offset: int, length: int, min_offset: int, what: str) -> memoryview:
    """Slice a variable part, checked against the fixed part and the message end."""
    if length == 0:
        return _EMPTY
    if data_offset < min_offset or data_offset + length > len(buf):
        raise MalformedResponse(
            f"{what}: buffer at {data_offset} length {length} outside "
            f"[{min_offset}, {len(buf)})")
    return memoryview(buf)[data_offset:data_offset + length]


def _decode(data: Buffer, what: str) -> str:
    try:
        return bytes(data).decode("utf-16-le")
    except UnicodeDecodeError as err:
        raise MalformedResponse(f"{what}: invalid UTF-16LE string") from err


def _file_id(file_id: bytes) -> bytes:
    if len(file_id) != 16:
        raise ValueError("a FileId is 16 bytes")
    return bytes(file_id)


def _unpack_empty(buf: Buffer, offset: int, structure_size: int, what: str) -> None:
    _unpack_fixed(_EMPTY_BODY if structure_size != 2 else _TINY_BODY, buf, offset,
                  structure_size, what)


# StructureSize + Reserved: LOGOFF, TREE_DISCONNECT, FLUSH response, ECHO, CANCEL.
_EMPTY_BODY = struct.Struct("<HH")
_TINY_BODY = struct.Struct("<H")

# ---------------------------------------------------------------------------
# 2.2.1 header

HEADER_STRUCT = struct.Struct("<4sHHIHHIIQIIQ16s")
"""The sync SMB2 header ([MS-SMB2] 2.2.1.2). For an async header the two
``I`` fields after MessageId are the low and high halves of AsyncId."""


@dataclass(frozen=True)
class Smb2Header:
    """SMB2 packet header, sync or async form ([MS-SMB2] 2.2.1).

    ``credits`` is CreditRequest in a request and CreditResponse in a
    response.  With ``Smb2Flags.ASYNC_COMMAND`` in ``flags`` bytes 32..40 carry
    ``async_id``; otherwise ProcessId (Reserved) and ``tree_id``.
    """

    command: int
    credit_charge: int = 0
    status: int = 0
    credits: int = 0
    flags: int = 0
    next_command: int = 0
    message_id: int = 0
    async_id: int = 0
    tree_id: int = 0
    session_id: int = 0
    signature: bytes = b"\0" * 16
    process_id: int = 0xFEFF

    size = SMB2_HEADER_SIZE

    def _middle(self) -> Tuple[int, int]:
        if self.flags & _ASYNC:
            return self.async_id & 0xFFFFFFFF, self.async_id >> 32
        return self.process_id, self.tree_id

    def pack(self) -> bytes:
        a, b = self._middle()
        return HEADER_STRUCT.pack(
            SMB2_PROTOCOL_ID, 64, self.credit_charge, self.status, self.command,
            self.credits, self.flags, self.next_command, self.message_id, a, b,
            self.session_id, self.signature)

    def pack_into(self, buf: Union[bytearray, memoryview], offset: int = 0) -> None:
        """Write the 64 header bytes into ``buf`` at ``offset`` (no allocation)."""
        a, b = self._middle()
        HEADER_STRUCT.pack_into(
            buf, offset, SMB2_PROTOCOL_ID, 64, self.credit_charge, self.status,
            self.command, self.credits, self.flags, self.next_command, self.message_id,
            a, b, self.session_id, self.signature)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "Smb2Header":
        if offset < 0 or offset + 64 > len(buf):
            raise MalformedResponse(f"SMB2 header: need 64 bytes at {offset}, have {len(buf)}")
        (proto, size, charge, status, command, credits, flags, next_command,
         message_id, a, b, session_id, signature) = HEADER_STRUCT.unpack_from(buf, offset)
        if proto != SMB2_PROTOCOL_ID:
            raise MalformedResponse(f"SMB2 header: bad protocol id {proto!r}")
        if size != 64:
            raise MalformedResponse(f"SMB2 header: StructureSize {size}, expected 64")
        if flags & _ASYNC:
            return cls(command, charge, status, credits, flags, next_command, message_id,
                       a | (b << 32), 0, session_id, signature, 0)
        return cls(command, charge, status, credits, flags, next_command, message_id,
                   0, b, session_id, signature, a)


# ---------------------------------------------------------------------------
# 2.2.2 error response


def is_error_response(buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> bool:
    """True if the body at ``offset`` has the ERROR response's StructureSize 9.

    (SESSION_SETUP, QUERY_DIRECTORY and QUERY_INFO responses also have
    StructureSize 9; the caller decides by command and status.)
    """
    return len(buf) >= offset + 2 and buf[offset] == 9 and buf[offset + 1] == 0


_ERROR = struct.Struct("<HBBI")


@dataclass(frozen=True)
class ErrorResponse:
    """SMB2 ERROR Response ([MS-SMB2] 2.2.2).

    ``error_data`` is ByteCount bytes after the fixed part (error contexts for
    3.1.1, or e.g. the symbolic link error response of 2.2.2.2.1).  The single
    padding byte the spec puts there when ByteCount is 0 may be absent.
    """

    error_context_count: int
    byte_count: int
    error_data: memoryview

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "ErrorResponse":
        _, count, _, byte_count = _unpack_fixed(_ERROR, buf, offset, 9, "ERROR response")
        data = _view(buf, offset + 8, byte_count, offset + 8, "ERROR response ErrorData")
        return cls(count, byte_count, data)


# ---------------------------------------------------------------------------
# 2.2.3 / 2.2.4 negotiate

_CONTEXT_HEADER = struct.Struct("<HHI")


@dataclass(frozen=True)
class NegotiateContext:
    """One SMB2 NEGOTIATE_CONTEXT: type and raw data ([MS-SMB2] 2.2.3.1)."""

    context_type: int
    data: bytes

    def pack(self) -> bytes:
        """Context header + data, without trailing padding."""
        if len(self.data) > 0xFFFF:
            raise ValueError("negotiate context data too long")
        return _CONTEXT_HEADER.pack(self.context_type, len(self.data), 0) + bytes(self.data)


def _pack_contexts(contexts: Tuple[NegotiateContext, ...]) -> bytes:
    """Contexts, each starting 8-byte aligned (the first one is assumed aligned)."""
    out = bytearray()
    for i, ctx in enumerate(contexts):
        if i:
            out += b"\0" * (_align8(len(out)) - len(out))
        out += ctx.pack()
    return bytes(out)


def _parse_contexts(buf: Buffer, pos: int, count: int, min_offset: int,
                    what: str) -> Tuple[NegotiateContext, ...]:
    if count and (pos < min_offset or pos > len(buf)):
        raise MalformedResponse(f"{what}: NegotiateContextOffset {pos} outside the message")
    result = []
    for i in range(count):
        if i:
            pos = _align8(pos)
        if pos + 8 > len(buf):
            raise MalformedResponse(f"{what}: negotiate context {i} truncated")
        ctype, length, _ = _CONTEXT_HEADER.unpack_from(buf, pos)
        pos += 8
        if pos + length > len(buf):
            raise MalformedResponse(f"{what}: negotiate context {i} data truncated")
        result.append(NegotiateContext(ctype, bytes(buf[pos:pos + length])))
        pos += length
    return tuple(result)


def _expect_context(ctx: NegotiateContext, ctype: int, what: str) -> bytes:
    if ctx.context_type != ctype:
        raise MalformedResponse(f"{what}: context type {ctx.context_type}, expected {ctype}")
    return ctx.data


def _u16_list(data: bytes, pos: int, count: int, what: str) -> Tuple[int, ...]:
    end = pos + 2 * count
    if end > len(data):
        raise MalformedResponse(f"{what}: list of {count} truncated")
    return struct.unpack_from(f"<{count}H", data, pos)


@dataclass(frozen=True)
class PreauthIntegrityCapabilities:
    """SMB2_PREAUTH_INTEGRITY_CAPABILITIES ([MS-SMB2] 2.2.3.1.1)."""

    hash_algorithms: tuple
    salt: bytes

    def to_context(self) -> NegotiateContext:
        n = len(self.hash_algorithms)
        data = struct.pack(f"<HH{n}H", n, len(self.salt), *self.hash_algorithms) + bytes(self.salt)
        return NegotiateContext(NegotiateContextType.PREAUTH_INTEGRITY_CAPABILITIES, data)

    @classmethod
    def from_context(cls, ctx: NegotiateContext) -> "PreauthIntegrityCapabilities":
        what = "PREAUTH_INTEGRITY_CAPABILITIES"
        data = _expect_context(ctx, NegotiateContextType.PREAUTH_INTEGRITY_CAPABILITIES, what)
        if len(data) < 4:
            raise MalformedResponse(f"{what}: truncated")
        count, salt_len = struct.unpack_from("<HH", data)
        algs = _u16_list(data, 4, count, what)
        start = 4 + 2 * count
        if start + salt_len > len(data):
            raise MalformedResponse(f"{what}: salt truncated")
        return cls(algs, bytes(data[start:start + salt_len]))


def _list_context(ctype: int, values: tuple) -> NegotiateContext:
    """A context whose data is a 16-bit count followed by 16-bit ids."""
    return NegotiateContext(ctype, struct.pack("<H%dH" % len(values), len(values), *values))


def _parse_list_context(ctx: NegotiateContext, ctype: int, what: str) -> Tuple[int, ...]:
    data = _expect_context(ctx, ctype, what)
    if len(data) < 2:
        raise MalformedResponse(f"{what}: truncated")
    (count,) = struct.unpack_from("<H", data)
    return _u16_list(data, 2, count, what)


@dataclass(frozen=True)
class EncryptionCapabilities:
    """SMB2_ENCRYPTION_CAPABILITIES ([MS-SMB2] 2.2.3.1.2)."""

    ciphers: tuple

    def to_context(self) -> NegotiateContext:
        return _list_context(NegotiateContextType.ENCRYPTION_CAPABILITIES, self.ciphers)

    @classmethod
    def from_context(cls, ctx: NegotiateContext) -> "EncryptionCapabilities":
        return cls(_parse_list_context(ctx, NegotiateContextType.ENCRYPTION_CAPABILITIES,
                                       "ENCRYPTION_CAPABILITIES"))


@dataclass(frozen=True)
class SigningCapabilities:
    """SMB2_SIGNING_CAPABILITIES ([MS-SMB2] 2.2.3.1.7)."""

    algorithms: tuple

    def to_context(self) -> NegotiateContext:
        return _list_context(NegotiateContextType.SIGNING_CAPABILITIES, self.algorithms)

    @classmethod
    def from_context(cls, ctx: NegotiateContext) -> "SigningCapabilities":
        return cls(_parse_list_context(ctx, NegotiateContextType.SIGNING_CAPABILITIES, "SIGNING_CAPABILITIES"))


@dataclass(frozen=True)
class NetnameContext:
    """SMB2_NETNAME_NEGOTIATE_CONTEXT_ID: the server name ([MS-SMB2] 2.2.3.1.4).

    Sent without a terminating NUL; one received with a NUL is accepted.
    """

    name: str

    def to_context(self) -> NegotiateContext:
        return NegotiateContext(NegotiateContextType.NETNAME_NEGOTIATE_CONTEXT_ID,
                                self.name.encode("utf-16-le"))

    @classmethod
    def from_context(cls, ctx: NegotiateContext) -> "NetnameContext":
        what = "NETNAME_NEGOTIATE_CONTEXT_ID"
        data = _expect_context(ctx, NegotiateContextType.NETNAME_NEGOTIATE_CONTEXT_ID, what)
        return cls(_decode(data, what).rstrip("\0"))


_NEGOTIATE_REQ = struct.Struct("<HHHHI16sIHH")


@dataclass(frozen=True)
class NegotiateRequest:
    """SMB2 NEGOTIATE Request ([MS-SMB2] 2.2.3).

    Negotiate contexts are sent only when 3.1.1 is among ``dialects``; they
    start 8-byte aligned after the dialect list, NegotiateContextOffset
    counted from the header.  Otherwise those 8 bytes are ClientStartTime (0).
    """

    dialects: tuple
    security_mode: int
    capabilities: int
    client_guid: bytes
    negotiate_contexts: tuple = ()

    def pack(self) -> bytes:
        if len(self.client_guid) != 16:
            raise ValueError("ClientGuid is 16 bytes")
        n = len(self.dialects)
        dialects = struct.pack(f"<{n}H", *self.dialects)
        contexts: tuple = ()
        if Dialect.SMB_3_1_1 in self.dialects:
            contexts = tuple(self.negotiate_contexts)
        ctx_offset = 0
        tail = b""
        if contexts:
            end = SMB2_HEADER_SIZE + _NEGOTIATE_REQ.size + len(dialects)
            ctx_offset = _align8(end)
            tail = b"\0" * (ctx_offset - end) + _pack_contexts(contexts)
        return _NEGOTIATE_REQ.pack(36, n, self.security_mode, 0, self.capabilities,
                                   bytes(self.client_guid), ctx_offset, len(contexts),
                                   0) + dialects + tail


_NEGOTIATE_RESP = struct.Struct("<HHHH16sIIIIQQHHI")


@dataclass(frozen=True)
class NegotiateResponse:
    """SMB2 NEGOTIATE Response ([MS-SMB2] 2.2.4).

    ``negotiate_contexts`` is read only when the dialect is 3.1.1.
    """

    security_mode: int
    dialect_revision: int
    server_guid: bytes
    capabilities: int
    max_transact_size: int
    max_read_size: int
    max_write_size: int
    system_time: int
    server_start_time: int
    security_buffer: memoryview
    negotiate_contexts: tuple = ()

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "NegotiateResponse":
        what = "NEGOTIATE response"
        (_, mode, dialect, ctx_count, guid, caps, max_trans, max_read, max_write,
         systime, start, sb_off, sb_len, ctx_off) = _unpack_fixed(
            _NEGOTIATE_RESP, buf, offset, 65, what)
        min_offset = offset + _NEGOTIATE_RESP.size
        sec = _view(buf, sb_off, sb_len, min_offset, what + " SecurityBuffer")
        contexts: tuple = ()
        if dialect == Dialect.SMB_3_1_1 and ctx_count:
            contexts = _parse_contexts(buf, ctx_off, ctx_count, min_offset, what)
        return cls(mode, dialect, guid, caps, max_trans, max_read, max_write, systime,
                   start, sec, contexts)


# ---------------------------------------------------------------------------
# 2.2.5 / 2.2.6 session setup

_SESSION_SETUP_REQ = struct.Struct("<HBBIIHHQ")


@dataclass(frozen=True)
class SessionSetupRequest:
    """SMB2 SESSION_SETUP Request ([MS-SMB2] 2.2.5)."""

    security_buffer: bytes
    flags: int = 0
    security_mode: int = 1
    capabilities: int = 0
    channel: int = 0
    previous_session_id: int = 0

    def pack(self) -> bytes:
        n = len(self.security_buffer)
        if n > 0xFFFF:
            raise ValueError("security buffer too long for SESSION_SETUP")
        off = SMB2_HEADER_SIZE + _SESSION_SETUP_REQ.size if n else 0
        return _SESSION_SETUP_REQ.pack(25, self.flags, self.security_mode, self.capabilities,
                                       self.channel, off, n, self.previous_session_id) + (
            bytes(self.security_buffer) if n else b"\0")


_SESSION_SETUP_RESP = struct.Struct("<HHHH")


@dataclass(frozen=True)
class SessionSetupResponse:
    """SMB2 SESSION_SETUP Response ([MS-SMB2] 2.2.6)."""

    session_flags: int
    security_buffer: memoryview

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "SessionSetupResponse":
        what = "SESSION_SETUP response"
        _, flags, sb_off, sb_len = _unpack_fixed(_SESSION_SETUP_RESP, buf, offset, 9, what)
        return cls(flags, _view(buf, sb_off, sb_len, offset + 8, what + " SecurityBuffer"))


# ---------------------------------------------------------------------------
# 2.2.7 - 2.2.12 logoff, tree connect, tree disconnect


@dataclass(frozen=True)
class LogoffRequest:
    """SMB2 LOGOFF Request ([MS-SMB2] 2.2.7)."""

    def pack(self) -> bytes:
        return _EMPTY_BODY.pack(4, 0)


@dataclass(frozen=True)
class LogoffResponse:
    """SMB2 LOGOFF Response ([MS-SMB2] 2.2.8)."""

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "LogoffResponse":
        _unpack_empty(buf, offset, 4, "LOGOFF response")
        return cls()


_TREE_CONNECT_REQ = struct.Struct("<HHHH")


@dataclass(frozen=True)
class TreeConnectRequest:
    """SMB2 TREE_CONNECT Request ([MS-SMB2] 2.2.9), e.g. path ``\\\\server\\share``."""

    path: str
    flags: int = 0

    def pack(self) -> bytes:
        raw = self.path.encode("utf-16-le")
        if len(raw) > 0xFFFF:
            raise ValueError("tree connect path too long")
        off = SMB2_HEADER_SIZE + _TREE_CONNECT_REQ.size if raw else 0
        return _TREE_CONNECT_REQ.pack(9, self.flags, off, len(raw)) + (raw or b"\0")


_TREE_CONNECT_RESP = struct.Struct("<HBBIII")


@dataclass(frozen=True)
class TreeConnectResponse:
    """SMB2 TREE_CONNECT Response ([MS-SMB2] 2.2.10)."""

    share_type: int
    share_flags: int
    capabilities: int
    maximal_access: int

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "TreeConnectResponse":
        _, stype, _, flags, caps, access = _unpack_fixed(
            _TREE_CONNECT_RESP, buf, offset, 16, "TREE_CONNECT response")
        return cls(stype, flags, caps, access)


@dataclass(frozen=True)
class TreeDisconnectRequest:
    """SMB2 TREE_DISCONNECT Request ([MS-SMB2] 2.2.11)."""

    def pack(self) -> bytes:
        return _EMPTY_BODY.pack(4, 0)


@dataclass(frozen=True)
class TreeDisconnectResponse:
    """SMB2 TREE_DISCONNECT Response ([MS-SMB2] 2.2.12)."""

    @classmethod
    def unpack_from(cls, buf: Buffer,
                    offset: int = SMB2_HEADER_SIZE) -> "TreeDisconnectResponse":
        _unpack_empty(buf, offset, 4, "TREE_DISCONNECT response")
        return cls()


# ---------------------------------------------------------------------------
# 2.2.13 / 2.2.14 create

_CREATE_REQ = struct.Struct("<HBBIQQIIIIIHHII")


@dataclass(frozen=True)
class CreateRequest:
    """SMB2 CREATE Request ([MS-SMB2] 2.2.13).

    ``create_contexts`` is the already packed chain of SMB2_CREATE_CONTEXT
    structures; it is placed 8-byte aligned after the name.  An empty name
    still gets the one-byte buffer the spec requires.
    """

    name: str
    desired_access: int
    file_attributes: int = 0
    share_access: int = 0
    create_disposition: int = 1
    create_options: int = 0
    requested_oplock_level: int = 0
    impersonation_level: int = 2
    create_contexts: bytes = b""

    def pack(self) -> bytes:
        raw = self.name.encode("utf-16-le")
        if len(raw) > 0xFFFF:
            raise ValueError("create name too long")
        name_off = SMB2_HEADER_SIZE + _CREATE_REQ.size
        ctx_off = 0
        tail = raw
        if self.create_contexts:
            ctx_off = _align8(name_off + len(raw))
            tail = raw + b"\0" * (ctx_off - name_off - len(raw)) + bytes(self.create_contexts)
        if not tail:
            tail = b"\0"
        return _CREATE_REQ.pack(
            57, 0, self.requested_oplock_level, self.impersonation_level, 0, 0,
            self.desired_access, self.file_attributes, self.share_access,
            self.create_disposition, self.create_options, name_off, len(raw), ctx_off,
            len(self.create_contexts)) + tail


_CREATE_CONTEXT = struct.Struct("<IHHHHI")
_GMT_TOKEN = re.compile(r"@GMT-(\d{4})\.(\d{2})\.(\d{2})-(\d{2})\.(\d{2})\.(\d{2})\Z")


@dataclass(frozen=True)
class TimewarpToken:
    """SMB2_CREATE_TIMEWARP_TOKEN ("TWrp", [MS-SMB2] 2.2.13.2.7): open the
    previous version of a file taken at ``timestamp`` (a FILETIME)."""

    timestamp: int

    def context(self) -> Tuple[bytes, bytes]:
        """(name, data) of the SMB2_CREATE_CONTEXT."""
        return b"TWrp", struct.pack("<Q", self.timestamp)

    def pack(self) -> bytes:
        """The whole SMB2_CREATE_CONTEXT (2.2.13.2), alone in its chain."""
        return pack_create_contexts([self.context()])


def pack_create_contexts(contexts: List[Tuple[bytes, bytes]]) -> bytes:
    """A chain of SMB2_CREATE_CONTEXT structures ([MS-SMB2] 2.2.13.2) from
    (name, data) pairs: each context 8-byte aligned, its data too, Next
    pointing at the following one (0 in the last)."""
    out = b""
    for index, (name, data) in enumerate(contexts):
        name_off = _CREATE_CONTEXT.size
        data_off = _align8(name_off + len(name)) if data else 0
        size = (data_off + len(data)) if data else name_off + len(name)
        last = index == len(contexts) - 1
        nxt = 0 if last else _align8(size)
        body = (_CREATE_CONTEXT.pack(nxt, name_off, len(name), 0, data_off, len(data)) + name
                + (b"\0" * (data_off - name_off - len(name)) + data if data else b""))
        out += body if last else body + b"\0" * (nxt - size)
    return out


def parse_create_contexts(buf: Buffer, what: str) -> List[Tuple[bytes, memoryview]]:
    """The (name, data) pairs of a CREATE response's context chain, each
    offset and length checked against the chain; at most 32 contexts."""
    view = memoryview(buf)
    out: List[Tuple[bytes, memoryview]] = []
    pos = 0
    while len(view):
        if len(out) == 32:
            raise MalformedResponse(what + ": more than 32 create contexts")
        if pos + _CREATE_CONTEXT.size > len(view):
            raise MalformedResponse(what + ": create context header past the end")
        nxt, name_off, name_len, _, data_off, data_len = _CREATE_CONTEXT.unpack_from(view, pos)
        end = len(view) if nxt == 0 else pos + nxt
        if nxt and (nxt < _CREATE_CONTEXT.size or nxt % 8 or end > len(view)):
            raise MalformedResponse(what + ": bad Next %d in a create context" % nxt)
        if name_off + name_len > end - pos or name_off < _CREATE_CONTEXT.size and name_len:
            raise MalformedResponse(what + ": create context name outside its context")
        if data_len and (data_off < _CREATE_CONTEXT.size or data_off + data_len > end - pos):
            raise MalformedResponse(what + ": create context data outside its context")
        name = bytes(view[pos + name_off:pos + name_off + name_len])
        out.append((name, view[pos + data_off:pos + data_off + data_len] if data_len else _EMPTY))
        if nxt == 0:
            break
        pos = end
    return out


DHANDLE_FLAG_PERSISTENT = 0x00000002


@dataclass(frozen=True)
class DurableHandleRequest:
    """SMB2_CREATE_DURABLE_HANDLE_REQUEST ("DHnQ", [MS-SMB2] 2.2.13.2.3), SMB 2.x."""

    def context(self) -> Tuple[bytes, bytes]:
        return b"DHnQ", b"\0" * 16


@dataclass(frozen=True)
class DurableHandleReconnect:
    """SMB2_CREATE_DURABLE_HANDLE_RECONNECT ("DHnC", [MS-SMB2] 2.2.13.2.4)."""

    file_id: bytes

    def context(self) -> Tuple[bytes, bytes]:
        return b"DHnC", _file_id(self.file_id)


_DH2Q = struct.Struct("<II8s16s")
_DH2C = struct.Struct("<16s16sI")
_DH2Q_RESP = struct.Struct("<II")


@dataclass(frozen=True)
class DurableHandleRequestV2:
    """SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2 ("DH2Q", [MS-SMB2] 2.2.13.2.11), SMB 3.x.
    ``timeout`` in milliseconds (0: the server's default)."""

    create_guid: bytes
    timeout: int = 0
    flags: int = 0

    def context(self) -> Tuple[bytes, bytes]:
        return b"DH2Q", _DH2Q.pack(self.timeout, self.flags, b"\0" * 8, self.create_guid)


@dataclass(frozen=True)
class DurableHandleReconnectV2:
    """SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2 ("DH2C", [MS-SMB2] 2.2.13.2.12)."""

    file_id: bytes
    create_guid: bytes
    flags: int = 0

    def context(self) -> Tuple[bytes, bytes]:
        return b"DH2C", _DH2C.pack(_file_id(self.file_id), self.create_guid, self.flags)


@dataclass(frozen=True)
class DurableHandleResponseV2:
    """SMB2_CREATE_DURABLE_HANDLE_RESPONSE_V2 ([MS-SMB2] 2.2.14.2.12)."""

    timeout: int
    flags: int

    @classmethod
    def unpack(cls, data: Buffer) -> "DurableHandleResponseV2":
        if len(data) < _DH2Q_RESP.size:
            raise MalformedResponse("DH2Q response context of %d bytes" % len(data))
        return cls(*_DH2Q_RESP.unpack_from(data, 0))


def split_timewarp(path: str) -> Tuple[str, Optional[int]]:
    """Take an ``@GMT-YYYY.MM.DD-HH.MM.SS`` component out of an SMB2 path.

    SMB1 servers read the token inside the path; over SMB2 it travels as a
    TWrp create context instead.  Returns the path without the token and the
    token's time as a FILETIME (None when the path has no token; only the
    first one counts, as on Windows).
    """
    parts = path.split("\\")
    for index, part in enumerate(parts):
        match = _GMT_TOKEN.match(part)
        if match is None:
            continue
        try:
            y, mo, d, h, mi, sec = (int(g) for g in match.groups())
            when = _dt.datetime(y, mo, d, h, mi, sec, tzinfo=_dt.timezone.utc)
        except ValueError:
            return path, None      # not a real time: an ordinary name
        rest = parts[:index] + parts[index + 1:]
        return "\\".join(rest), convertEpochToFILETIME(when.timestamp())
    return path, None


_CREATE_RESP = struct.Struct("<HBBIQQQQQQII16sII")


@dataclass(frozen=True)
class CreateResponse:
    """SMB2 CREATE Response ([MS-SMB2] 2.2.14)."""

    oplock_level: int
    flags: int
    create_action: int
    creation_time: int
    last_access_time: int
    last_write_time: int
    change_time: int
    allocation_size: int
    end_of_file: int
    file_attributes: int
    file_id: bytes
    create_contexts: memoryview

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "CreateResponse":
        what = "CREATE response"
        (_, oplock, flags, action, ctime, atime, wtime, chtime, alloc, eof, attrs, _,
         file_id, ctx_off, ctx_len) = _unpack_fixed(_CREATE_RESP, buf, offset, 89, what)
        ctx = _view(buf, ctx_off, ctx_len, offset + _CREATE_RESP.size,
                    what + " CreateContexts")
        return cls(oplock, flags, action, ctime, atime, wtime, chtime, alloc, eof, attrs,
                   file_id, ctx)


# ---------------------------------------------------------------------------
# 2.2.15 - 2.2.18 close, flush

_CLOSE_REQ = struct.Struct("<HHI16s")


@dataclass(frozen=True)
class CloseRequest:
    """SMB2 CLOSE Request ([MS-SMB2] 2.2.15)."""

    file_id: bytes
    flags: int = 0

    def pack(self) -> bytes:
        return _CLOSE_REQ.pack(24, self.flags, 0, _file_id(self.file_id))


_CLOSE_RESP = struct.Struct("<HHIQQQQQQI")


@dataclass(frozen=True)
class CloseResponse:
    """SMB2 CLOSE Response ([MS-SMB2] 2.2.16); the attributes are valid only
    with ``CloseFlags.POSTQUERY_ATTRIB``."""

    flags: int
    creation_time: int
    last_access_time: int
    last_write_time: int
    change_time: int
    allocation_size: int
    end_of_file: int
    file_attributes: int

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "CloseResponse":
        (_, flags, _, ctime, atime, wtime, chtime, alloc, eof, attrs) = _unpack_fixed(
            _CLOSE_RESP, buf, offset, 60, "CLOSE response")
        return cls(flags, ctime, atime, wtime, chtime, alloc, eof, attrs)


@dataclass(frozen=True)
class FlushRequest:
    """SMB2 FLUSH Request ([MS-SMB2] 2.2.17)."""

    file_id: bytes

    def pack(self) -> bytes:
        return _CLOSE_REQ.pack(24, 0, 0, _file_id(self.file_id))


@dataclass(frozen=True)
class FlushResponse:
    """SMB2 FLUSH Response ([MS-SMB2] 2.2.18)."""

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "FlushResponse":
        _unpack_empty(buf, offset, 4, "FLUSH response")
        return cls()


# ---------------------------------------------------------------------------
# 2.2.19 - 2.2.22 read, write

_READ_REQ = struct.Struct("<HBBIQ16sIIIHH")


@dataclass(frozen=True)
class ReadRequest:
    """SMB2 READ Request ([MS-SMB2] 2.2.19), with the one-byte Buffer.

    ``padding`` asks the server to place the data that far from the header
    start (0x50: right after the 16-byte response body).
    """

    file_id: bytes
    offset: int
    length: int
    minimum_count: int = 0
    padding: int = 0x50
    flags: int = 0
    remaining_bytes: int = 0

    def pack(self) -> bytes:
        return _READ_REQ.pack(49, self.padding, self.flags, self.length, self.offset,
                              _file_id(self.file_id), self.minimum_count, 0,
                              self.remaining_bytes, 0, 0) + b"\0"


_READ_RESP = struct.Struct("<HBBIII")


@dataclass(frozen=True)
class ReadResponse:
    """SMB2 READ Response ([MS-SMB2] 2.2.20)."""

    data: memoryview
    data_remaining: int

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "ReadResponse":
        what = "READ response"
        _, data_off, _, length, remaining, _ = _unpack_fixed(_READ_RESP, buf, offset, 17, what)
        return cls(_view(buf, data_off, length, offset + 16, what + " data"), remaining)

    @classmethod
    def data_view(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> memoryview:
        """Only the data, as a slice of ``buf``: the hot path of a download."""
        if offset < 0 or offset + 16 > len(buf):
            raise MalformedResponse("READ response: truncated body")
        size, data_off, _, length, _, _ = _READ_RESP.unpack_from(buf, offset)
        if size != 17:
            raise MalformedResponse(f"READ response: StructureSize {size}, expected 17")
        return _view(buf, data_off, length, offset + 16, "READ response data")


_WRITE_REQ = struct.Struct("<HHIQ16sIIHHI")


@dataclass(frozen=True)
class WriteRequest:
    """SMB2 WRITE Request ([MS-SMB2] 2.2.21); the data follows the 48-byte
    fixed part (DataOffset 0x70)."""

    file_id: bytes
    offset: int
    data: Buffer
    flags: int = 0
    remaining_bytes: int = 0

    def pack_prefix(self) -> bytes:
        """The 48-byte fixed part only, so the data can be sent without a copy."""
        return _WRITE_REQ.pack(49, SMB2_HEADER_SIZE + _WRITE_REQ.size, len(self.data),
                               self.offset, _file_id(self.file_id), 0,
                               self.remaining_bytes, 0, 0, self.flags)

    def pack(self) -> bytes:
        """Fixed part + data (one zero byte of Buffer when there is no data)."""
        return self.pack_prefix() + (bytes(self.data) if len(self.data) else b"\0")


_WRITE_RESP = struct.Struct("<HHIIHH")


@dataclass(frozen=True)
class WriteResponse:
    """SMB2 WRITE Response ([MS-SMB2] 2.2.22)."""

    count: int
    remaining: int

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "WriteResponse":
        _, _, count, remaining, _, _ = _unpack_fixed(
            _WRITE_RESP, buf, offset, 17, "WRITE response")
        return cls(count, remaining)


# ---------------------------------------------------------------------------
# 2.2.31 / 2.2.32 ioctl

_IOCTL_REQ = struct.Struct("<HHI16sIIIIIIII")


@dataclass(frozen=True)
class IoctlRequest:
    """SMB2 IOCTL Request ([MS-SMB2] 2.2.31).

    The input buffer follows the fixed part (InputOffset 0x78); no output
    buffer is sent (OutputOffset/OutputCount 0).  Use ``SMB2_NO_FILE_ID``
    (16 x 0xFF) for FSCTL_VALIDATE_NEGOTIATE_INFO.
    """

    ctl_code: int
    file_id: bytes
    input: bytes = b""
    max_output_response: int = 65536
    max_input_response: int = 0
    flags: int = 1

    def pack(self) -> bytes:
        n = len(self.input)
        in_off = SMB2_HEADER_SIZE + _IOCTL_REQ.size if n else 0
        return _IOCTL_REQ.pack(57, 0, self.ctl_code, _file_id(self.file_id), in_off, n,
                               self.max_input_response, 0, 0, self.max_output_response,
                               self.flags, 0) + (bytes(self.input) if n else b"\0")


_IOCTL_RESP = struct.Struct("<HHI16sIIIIII")


@dataclass(frozen=True)
class IoctlResponse:
    """SMB2 IOCTL Response ([MS-SMB2] 2.2.32)."""

    ctl_code: int
    file_id: bytes
    input: memoryview
    output: memoryview
    flags: int

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "IoctlResponse":
        what = "IOCTL response"
        (_, _, code, file_id, in_off, in_len, out_off, out_len, flags, _) = _unpack_fixed(
            _IOCTL_RESP, buf, offset, 49, what)
        min_offset = offset + _IOCTL_RESP.size
        inp = _view(buf, in_off, in_len, min_offset, what + " input")
        out = _view(buf, out_off, out_len, min_offset, what + " output")
        return cls(code, file_id, inp, out, flags)


_VALIDATE_NEGOTIATE = struct.Struct("<I16sHH")


@dataclass(frozen=True)
class ValidateNegotiateInfoRequest:
    """VALIDATE_NEGOTIATE_INFO request, the IOCTL input ([MS-SMB2] 2.2.31.4)."""

    capabilities: int
    guid: bytes
    security_mode: int
    dialects: tuple

    def pack(self) -> bytes:
        if len(self.guid) != 16:
            raise ValueError("Guid is 16 bytes")
        n = len(self.dialects)
        return _VALIDATE_NEGOTIATE.pack(self.capabilities, bytes(self.guid),
                                        self.security_mode, n) + struct.pack(
            f"<{n}H", *self.dialects)


@dataclass(frozen=True)
class ValidateNegotiateInfoResponse:
    """VALIDATE_NEGOTIATE_INFO response, the IOCTL output ([MS-SMB2] 2.2.32.6)."""

    capabilities: int
    guid: bytes
    security_mode: int
    dialect: int

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "ValidateNegotiateInfoResponse":
        if offset < 0 or offset + 24 > len(buf):
            raise MalformedResponse("VALIDATE_NEGOTIATE_INFO response: truncated")
        caps, guid, mode, dialect = _VALIDATE_NEGOTIATE.unpack_from(buf, offset)
        return cls(caps, guid, mode, dialect)


_RESUME_KEY = struct.Struct("<24sI")


@dataclass(frozen=True)
class ResumeKeyResponse:
    """SRV_REQUEST_RESUME_KEY response, the IOCTL output of
    FSCTL_SRV_REQUEST_RESUME_KEY ([MS-SMB2] 2.2.32.3): the 24-byte key that
    names the source open in a SRV_COPYCHUNK_COPY, and an opaque context."""

    resume_key: bytes
    context: bytes = b""

    def pack(self) -> bytes:
        if len(self.resume_key) != 24:
            raise ValueError("ResumeKey is 24 bytes")
        return _RESUME_KEY.pack(bytes(self.resume_key), len(self.context)) + bytes(self.context)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "ResumeKeyResponse":
        what = "SRV_REQUEST_RESUME_KEY response"
        if offset < 0 or offset + _RESUME_KEY.size > len(buf):
            raise MalformedResponse(f"{what}: need {_RESUME_KEY.size} bytes at {offset}, have {len(buf)}")
        key, context_length = _RESUME_KEY.unpack_from(buf, offset)
        start = offset + _RESUME_KEY.size
        if context_length > len(buf) - start:
            raise MalformedResponse(f"{what}: ContextLength {context_length} past the end of the buffer")
        return cls(key, bytes(buf[start:start + context_length]))


_COPYCHUNK_COPY = struct.Struct("<24sII")
_COPYCHUNK = struct.Struct("<QQII")


@dataclass(frozen=True)
class CopyChunk:
    """One SRV_COPYCHUNK range ([MS-SMB2] 2.2.31.1.1)."""

    source_offset: int
    target_offset: int
    length: int


@dataclass(frozen=True)
class CopyChunkCopy:
    """SRV_COPYCHUNK_COPY, the IOCTL input of FSCTL_SRV_COPYCHUNK(_WRITE)
    ([MS-SMB2] 2.2.31.1): the source's resume key and the ranges to copy."""

    source_key: bytes
    chunks: Tuple[CopyChunk, ...]

    def pack(self) -> bytes:
        if len(self.source_key) != 24:
            raise ValueError("SourceKey is 24 bytes")
        parts = [_COPYCHUNK_COPY.pack(bytes(self.source_key), len(self.chunks), 0)]
        parts.extend(_COPYCHUNK.pack(c.source_offset, c.target_offset, c.length, 0) for c in self.chunks)
        return b"".join(parts)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "CopyChunkCopy":
        what = "SRV_COPYCHUNK_COPY"
        if offset < 0 or offset + _COPYCHUNK_COPY.size > len(buf):
            raise MalformedResponse(f"{what}: need {_COPYCHUNK_COPY.size} bytes at {offset}, have {len(buf)}")
        key, count, _ = _COPYCHUNK_COPY.unpack_from(buf, offset)
        start = offset + _COPYCHUNK_COPY.size
        # Checked before allocating: a hostile count cannot make us build a huge tuple.
        if count > (len(buf) - start) // _COPYCHUNK.size:
            raise MalformedResponse(f"{what}: ChunkCount {count} past the end of the buffer")
        chunks = tuple(CopyChunk(*_COPYCHUNK.unpack_from(buf, start + i * _COPYCHUNK.size)[:3])
                       for i in range(count))
        return cls(key, chunks)


_COPYCHUNK_RESP = struct.Struct("<III")


@dataclass(frozen=True)
class CopyChunkResponse:
    """SRV_COPYCHUNK_RESPONSE, the IOCTL output of FSCTL_SRV_COPYCHUNK(_WRITE)
    ([MS-SMB2] 2.2.32.1).  With STATUS_INVALID_PARAMETER the three fields are
    the server's limits instead: most chunks per request, largest chunk, most
    bytes per request ([MS-SMB2] 3.3.5.15.6.2)."""

    chunks_written: int
    chunk_bytes_written: int
    total_bytes_written: int

    def pack(self) -> bytes:
        return _COPYCHUNK_RESP.pack(self.chunks_written, self.chunk_bytes_written, self.total_bytes_written)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "CopyChunkResponse":
        if offset < 0 or offset + _COPYCHUNK_RESP.size > len(buf):
            raise MalformedResponse(f"SRV_COPYCHUNK_RESPONSE: need 12 bytes at {offset}, have {len(buf)}")
        return cls(*_COPYCHUNK_RESP.unpack_from(buf, offset))


# ---------------------------------------------------------------------------
# 2.2.28 - 2.2.30 echo, cancel


@dataclass(frozen=True)
class EchoRequest:
    """SMB2 ECHO Request ([MS-SMB2] 2.2.28)."""

    def pack(self) -> bytes:
        return _EMPTY_BODY.pack(4, 0)


@dataclass(frozen=True)
class EchoResponse:
    """SMB2 ECHO Response ([MS-SMB2] 2.2.29)."""

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "EchoResponse":
        _unpack_empty(buf, offset, 4, "ECHO response")
        return cls()


@dataclass(frozen=True)
class CancelRequest:
    """SMB2 CANCEL Request ([MS-SMB2] 2.2.30)."""

    def pack(self) -> bytes:
        return _EMPTY_BODY.pack(4, 0)


# ---------------------------------------------------------------------------
# 2.2.33 - 2.2.40 query directory, query info, set info

_QUERY_DIRECTORY_REQ = struct.Struct("<HBBI16sHHI")


@dataclass(frozen=True)
class QueryDirectoryRequest:
    """SMB2 QUERY_DIRECTORY Request ([MS-SMB2] 2.2.33)."""

    file_id: bytes
    file_information_class: int
    flags: int = 0
    file_index: int = 0
    output_buffer_length: int = 65536
    file_name: str = "*"

    def pack(self) -> bytes:
        raw = self.file_name.encode("utf-16-le")
        if len(raw) > 0xFFFF:
            raise ValueError("search pattern too long")
        off = SMB2_HEADER_SIZE + _QUERY_DIRECTORY_REQ.size if raw else 0
        return _QUERY_DIRECTORY_REQ.pack(
            33, self.file_information_class, self.flags, self.file_index,
            _file_id(self.file_id), off, len(raw), self.output_buffer_length) + (raw or b"\0")


_OUTPUT_BUFFER_RESP = struct.Struct("<HHI")


@dataclass(frozen=True)
class QueryDirectoryResponse:
    """SMB2 QUERY_DIRECTORY Response ([MS-SMB2] 2.2.34)."""

    buffer: memoryview

    @classmethod
    def unpack_from(cls, buf: Buffer,
                    offset: int = SMB2_HEADER_SIZE) -> "QueryDirectoryResponse":
        what = "QUERY_DIRECTORY response"
        _, off, length = _unpack_fixed(_OUTPUT_BUFFER_RESP, buf, offset, 9, what)
        return cls(_view(buf, off, length, offset + 8, what + " buffer"))


_QUERY_INFO_REQ = struct.Struct("<HBBIHHIII16s")


@dataclass(frozen=True)
class QueryInfoRequest:
    """SMB2 QUERY_INFO Request ([MS-SMB2] 2.2.37)."""

    info_type: int
    file_info_class: int
    file_id: bytes
    output_buffer_length: int = 65536
    additional_information: int = 0
    flags: int = 0
    input_buffer: bytes = b""

    def pack(self) -> bytes:
        n = len(self.input_buffer)
        off = SMB2_HEADER_SIZE + _QUERY_INFO_REQ.size if n else 0
        return _QUERY_INFO_REQ.pack(
            41, self.info_type, self.file_info_class, self.output_buffer_length, off, 0, n,
            self.additional_information, self.flags, _file_id(self.file_id)) + (
            bytes(self.input_buffer) if n else b"\0")


@dataclass(frozen=True)
class QueryInfoResponse:
    """SMB2 QUERY_INFO Response ([MS-SMB2] 2.2.38)."""

    buffer: memoryview

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "QueryInfoResponse":
        what = "QUERY_INFO response"
        _, off, length = _unpack_fixed(_OUTPUT_BUFFER_RESP, buf, offset, 9, what)
        return cls(_view(buf, off, length, offset + 8, what + " buffer"))


_SET_INFO_REQ = struct.Struct("<HBBIHHI16s")


@dataclass(frozen=True)
class SetInfoRequest:
    """SMB2 SET_INFO Request ([MS-SMB2] 2.2.39)."""

    info_type: int
    file_info_class: int
    file_id: bytes
    buffer: bytes
    additional_information: int = 0

    def pack(self) -> bytes:
        n = len(self.buffer)
        return _SET_INFO_REQ.pack(
            33, self.info_type, self.file_info_class, n,
            SMB2_HEADER_SIZE + _SET_INFO_REQ.size, 0, self.additional_information,
            _file_id(self.file_id)) + (bytes(self.buffer) if n else b"\0")


@dataclass(frozen=True)
class SetInfoResponse:
    """SMB2 SET_INFO Response ([MS-SMB2] 2.2.40)."""

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = SMB2_HEADER_SIZE) -> "SetInfoResponse":
        _unpack_empty(buf, offset, 2, "SET_INFO response")
        return cls()


# ---------------------------------------------------------------------------
# 2.2.23 / 2.2.24 oplock and lease breaks

_OPLOCK_BREAK = struct.Struct("<HBBI16s")


@dataclass(frozen=True)
class OplockBreakNotification:
    """SMB2 Oplock Break Notification, server to client ([MS-SMB2] 2.2.23.1)."""

    oplock_level: int
    file_id: bytes

    @classmethod
    def unpack_from(cls, buf: Buffer,
                    offset: int = SMB2_HEADER_SIZE) -> "OplockBreakNotification":
        _, level, _, _, file_id = _unpack_fixed(
            _OPLOCK_BREAK, buf, offset, 24, "OPLOCK_BREAK notification")
        return cls(level, file_id)


@dataclass(frozen=True)
class OplockBreakAcknowledgment:
    """SMB2 Oplock Break Acknowledgment, client to server ([MS-SMB2] 2.2.24.1)."""

    oplock_level: int
    file_id: bytes

    def pack(self) -> bytes:
        return _OPLOCK_BREAK.pack(24, self.oplock_level, 0, 0, _file_id(self.file_id))


_LEASE_BREAK = struct.Struct("<HHI16sIIIII")


@dataclass(frozen=True)
class LeaseBreakNotification:
    """SMB2 Lease Break Notification ([MS-SMB2] 2.2.23.2)."""

    new_epoch: int
    flags: int
    lease_key: bytes
    current_lease_state: int
    new_lease_state: int

    @classmethod
    def unpack_from(cls, buf: Buffer,
                    offset: int = SMB2_HEADER_SIZE) -> "LeaseBreakNotification":
        _, epoch, flags, key, current, new, _, _, _ = _unpack_fixed(
            _LEASE_BREAK, buf, offset, 44, "lease break notification")
        return cls(epoch, flags, key, current, new)


# ---------------------------------------------------------------------------
# 2.2.41 transform header

TRANSFORM_HEADER_STRUCT = struct.Struct("<4s16s16sIHHQ")


@dataclass(frozen=True)
class TransformHeader:
    """SMB2 TRANSFORM_HEADER of an encrypted message ([MS-SMB2] 2.2.41).

    ``flags`` is Flags (3.1.1) / EncryptionAlgorithm (3.0, 3.0.2): 1 either
    way.  ``nonce`` is the full 16-byte field (CCM uses the first 11 bytes,
    GCM the first 12; the rest is zero).
    """

    signature: bytes
    nonce: bytes
    original_message_size: int
    flags: int
    session_id: int

    size = 52

    def pack(self) -> bytes:
        if len(self.signature) != 16 or len(self.nonce) != 16:
            raise ValueError("TRANSFORM_HEADER signature and nonce are 16 bytes")
        return TRANSFORM_HEADER_STRUCT.pack(
            SMB2_TRANSFORM_PROTOCOL_ID, bytes(self.signature), bytes(self.nonce),
            self.original_message_size, 0, self.flags, self.session_id)

    def aad(self) -> bytes:
        """Bytes 20..52 (Nonce through SessionId): the authenticated data."""
        return self.pack()[20:]

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "TransformHeader":
        if offset < 0 or offset + 52 > len(buf):
            raise MalformedResponse(f"TRANSFORM_HEADER: need 52 bytes at {offset}, have {len(buf)}")
        proto, sig, nonce, size, _, flags, session_id = TRANSFORM_HEADER_STRUCT.unpack_from(
            buf, offset)
        if proto != SMB2_TRANSFORM_PROTOCOL_ID:
            raise MalformedResponse(f"TRANSFORM_HEADER: bad protocol id {proto!r}")
        return cls(sig, nonce, size, flags, session_id)


NO_FILE_ID = SMB2_NO_FILE_ID
"""FileId for IOCTLs not addressed to an open ([MS-SMB2] 2.2.31)."""


#: pysmb's message classes and values, defined in smb._compat_smb2 (resolved lazily
#: through ``__getattr__`` below; listed here for ``from ... import *``).
PYSMB_MESSAGE_NAMES = (
    "ProtocolError", "convertFILETIMEtoEpoch",
    "SMB2Message", "Structure",
    "SMB2NegotiateResponse",
    "SMB2SessionSetupRequest", "SMB2SessionSetupResponse",
    "SMB2TreeConnectRequest", "SMB2TreeConnectResponse",
    "SMB2CreateRequest", "SMB2CreateResponse",
    "SMB2CloseRequest", "SMB2CloseResponse",
    "SMB2ReadRequest", "SMB2ReadResponse",
    "SMB2WriteRequest", "SMB2WriteResponse",
    "SMB2IoctlRequest", "SMB2IoctlResponse",
    "SMB2EchoRequest", "SMB2EchoResponse",
    "SMB2QueryDirectoryRequest", "SMB2QueryDirectoryResponse",
    "SMB2QueryInfoRequest", "SMB2QueryInfoResponse",
    "SMB2SetInfoRequest", "SMB2SetInfoResponse",
)

# -- pysmb's star-imported names (see smb._reexport) ----------------------------------------------
_PYSMB_SOURCES = ('smb.smb2_constants', 'smb.smb_constants', 'smb._compat_smb2')
__all__ = _reexport.star_all(__all__ + list(PYSMB_MESSAGE_NAMES), ['smb.smb2_constants', 'smb.smb_constants'])
__getattr__ = _reexport.finder(__name__, _PYSMB_SOURCES)


def __dir__() -> List[str]:
    return _reexport.public_names(__name__)
