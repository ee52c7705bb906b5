"""pysmb's SMB2 message model: ``SMB2Message`` with ``Structure`` payloads.

``SMB2Message(SMB2CreateRequest(...)).encode()`` gives the 64-byte header
plus the request body; ``SMB2Message().decode(buf)`` parses a received
message, sets the header fields and decodes the payload chosen by command,
with pysmb 1.2.15's field names.  Bodies are packed and parsed by the struct
classes of :mod:`smb.smb2_structs` (one layout per message, in one place);
``smb.smb2_structs`` re-exports the names below through its module
``__getattr__``.

Decoding treats the peer as hostile: anything malformed raises
:class:`~smb.exceptions.MalformedResponse`.  Times in decoded payloads are
POSIX seconds (pysmb's convention), converted from FILETIME.

References: [MS-SMB2] 2.2.1 (header), 2.2.3 - 2.2.40 (commands).
"""
from __future__ import annotations

import logging
import os
import struct
from typing import Any, ClassVar, Dict, Optional, Type, Union

from smb import smb2_structs as S2
from smb.exceptions import MalformedResponse, ProtocolError
from smb.nt_status import NtStatus
from smb.smb2_constants import SMB2_HEADER_SIZE, SMB2_PROTOCOL_ID, Smb2Command, Smb2Flags
from smb.smb2_constants import SessionFlags
from smb.utils import convertFILETIMEtoEpoch

__all__ = list(S2.PYSMB_MESSAGE_NAMES)

Buffer = Union[bytes, bytearray, memoryview]

#: Statuses whose response still carries a normal body (so the payload is decoded).
_BODY_STATUSES = frozenset({0, NtStatus.MORE_PROCESSING_REQUIRED, NtStatus.BUFFER_OVERFLOW})


# --------------------------------------------------------------------------- message


class SMB2Message:
    """One SMB2 message, pysmb-style: header fields, ``data`` (the body) and a
    ``payload``.

    ``credit_charge`` is CreditCharge; ``credit_re`` (also ``credit_request``)
    CreditRequest/CreditResponse; ``pid`` the ProcessId of a sync header
    (0 becomes this process's id on ``encode``), ``tid`` its TreeId;
    ``async_id`` is used instead when ``flags`` has SMB2_FLAGS_ASYNC_COMMAND.
    """

    HEADER_STRUCT_FORMAT: ClassVar[str] = "<4sHHIHHI"
    HEADER_STRUCT_SIZE: ClassVar[int] = struct.calcsize(HEADER_STRUCT_FORMAT)
    SYNC_HEADER_STRUCT_FORMAT: ClassVar[str] = "<IQIIQ16s"
    SYNC_HEADER_STRUCT_SIZE: ClassVar[int] = struct.calcsize(SYNC_HEADER_STRUCT_FORMAT)
    ASYNC_HEADER_STRUCT_FORMAT: ClassVar[str] = "<IQQQ16s"
    ASYNC_HEADER_STRUCT_SIZE: ClassVar[int] = struct.calcsize(ASYNC_HEADER_STRUCT_FORMAT)
    HEADER_SIZE: ClassVar[int] = SMB2_HEADER_SIZE
    log: ClassVar[logging.Logger] = logging.getLogger("SMB.SMB2Message")
    protocol: ClassVar[int] = 2

    payload: Optional["Structure"]

    def __init__(self, payload: Optional["Structure"] = None) -> None:
        self.reset()
        if payload is not None:
            self.payload = payload
            payload.initMessage(self)

    def reset(self) -> None:
        """Clear every field (pysmb's ``reset``)."""
        self.raw_data: bytes = b""
        self.command = 0
        self.status = 0
        self.flags = 0
        self.next_command_offset = 0
        self.mid = 0
        self.session_id = 0
        self.signature = b"\x00" * 16
        self.payload = None
        self.data: bytes = b""
        self.credit_charge = 0
        self.credit_re = 0
        self.async_id = 0
        self.pid = 0
        self.tid = 0
        # SMB1 fields pysmb's SMB2Message also carries (unused by SMB2).
        self.flags2 = 0
        self.uid = 0
        self.security = 0
        self.parameters_data: bytes = b""

    @property
    def credit_request(self) -> int:
        return self.credit_re

    @credit_request.setter
    def credit_request(self, value: int) -> None:
        self.credit_re = value

    @property
    def isAsync(self) -> bool:
        return bool(self.flags & Smb2Flags.ASYNC_COMMAND)

    @property
    def isReply(self) -> bool:
        return bool(self.flags & Smb2Flags.SERVER_TO_REDIR)

    def encode(self) -> bytes:
        """Header and body (no transport framing)."""
        if self.payload is not None:
            self.payload.prepare(self)
        if not self.pid and not self.isAsync:
            self.pid = os.getpid() & 0xFFFFFFFF
        if len(self.signature) != 16:
            raise ValueError("signature must be 16 bytes")
        header = S2.Smb2Header(
            command=self.command, credit_charge=self.credit_charge,
            status=int(self.status) & 0xFFFFFFFF, credits=self.credit_re, flags=self.flags,
            next_command=self.next_command_offset, message_id=self.mid,
            async_id=self.async_id, tree_id=self.tid, session_id=self.session_id,
            signature=bytes(self.signature), process_id=self.pid)
        raw = header.pack() + bytes(self.data)
        self.raw_data = raw
        return raw

    def decode(self, buf: Buffer) -> int:
        """Parse one message (the first of a compound); returns its length.

        Raises :class:`~smb.exceptions.MalformedResponse` for anything malformed.
        """
        mv = memoryview(buf)
        if mv.ndim != 1 or mv.format != "B":
            mv = mv.cast("B")
        if len(mv) < SMB2_HEADER_SIZE:
            raise MalformedResponse("Not enough data to decode SMB2 header", bytes(mv[:64]))
        if bytes(mv[:4]) != SMB2_PROTOCOL_ID:
            raise MalformedResponse("Invalid 4-byte SMB2 protocol field", bytes(mv[:64]))
        header = S2.Smb2Header.unpack_from(mv)
        end = len(mv)
        if header.next_command:
            if header.next_command < SMB2_HEADER_SIZE or header.next_command > len(mv):
                raise MalformedResponse(
                    f"NextCommand {header.next_command} outside a {len(mv)}-byte message")
            end = header.next_command
        self.reset()
        self.raw_data = bytes(mv[:end])
        self.command = header.command
        self.status = header.status
        self.flags = header.flags
        self.next_command_offset = header.next_command
        self.mid = header.message_id
        self.session_id = header.session_id
        self.signature = bytes(header.signature)
        self.credit_charge = header.credit_charge
        self.credit_re = header.credits
        self.async_id = header.async_id
        self.pid = header.process_id
        self.tid = header.tree_id
        self.data = self.raw_data[SMB2_HEADER_SIZE:]
        payload_class = _RESPONSES.get(self.command)
        if payload_class is not None:
            self.payload = payload_class()
            if self.status in _BODY_STATUSES:
                self.payload.decode(self)
            elif self.command == Smb2Command.SESSION_SETUP:
                # pysmb decodes a failed SESSION_SETUP too (its ERROR body reads
                # as an empty security buffer); the status is what matters then.
                try:
                    self.payload.decode(self)
                except MalformedResponse:
                    self.payload = payload_class()
        return end


# --------------------------------------------------------------------------- payload base


class Structure:
    """Base of pysmb's SMB2 payloads: requests ``initMessage`` (set the command)
    and ``prepare`` (set ``message.data``); responses ``decode(message)``."""

    COMMAND: ClassVar[int] = -1

    def initMessage(self, message: SMB2Message) -> None:
        if self.COMMAND >= 0:
            message.command = self.COMMAND

    def prepare(self, message: SMB2Message) -> None:
        """Fill ``message.data`` with the body (requests)."""

    def decode(self, message: SMB2Message) -> None:
        """Set this payload's fields from ``message`` (responses)."""

    def __repr__(self) -> str:
        fields = ", ".join("%s=%r" % (k, v) for k, v in sorted(vars(self).items())
                           if not isinstance(v, (bytes, bytearray, memoryview)) or len(v) <= 32)
        return "%s(%s)" % (type(self).__name__, fields)


class _Request(Structure):
    def _struct(self) -> Any:
        raise NotImplementedError

    def prepare(self, message: SMB2Message) -> None:
        message.data = self._struct().pack()


class _Response(Structure):
    _STRUCT: ClassVar[Any]

    def decode(self, message: SMB2Message) -> None:
        self._set(self._STRUCT.unpack_from(message.raw_data, SMB2_HEADER_SIZE))

    def _set(self, parsed: Any) -> None:
        """Copy what pysmb's payload has from the parsed struct (none for empty bodies)."""


# ------------------------------------------------------------------ NEGOTIATE, SESSION_SETUP


class SMB2NegotiateResponse(_Response):
    """[MS-SMB2] 2.2.4: ``security_mode``, ``dialect_revision``, ``server_guid``,
    ``capabilities``, ``max_transact_size``, ``max_read_size``,
    ``max_write_size``, ``system_time`` and ``server_start_time`` (POSIX
    seconds), ``security_blob``; also ``negotiate_contexts`` (3.1.1)."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._NEGOTIATE_RESP.format
    STRUCTURE_SIZE: ClassVar[int] = S2._NEGOTIATE_RESP.size
    COMMAND = Smb2Command.NEGOTIATE
    _STRUCT = S2.NegotiateResponse

    def _set(self, parsed: S2.NegotiateResponse) -> None:
        self.security_mode = parsed.security_mode
        self.dialect_revision = parsed.dialect_revision
        self.server_guid = bytes(parsed.server_guid)
        self.capabilities = parsed.capabilities
        self.max_transact_size = parsed.max_transact_size
        self.max_read_size = parsed.max_read_size
        self.max_write_size = parsed.max_write_size
        self.system_time = convertFILETIMEtoEpoch(parsed.system_time)
        self.server_start_time = convertFILETIMEtoEpoch(parsed.server_start_time)
        self.security_blob = bytes(parsed.security_buffer)
        self.negotiate_contexts = parsed.negotiate_contexts


class SMB2SessionSetupRequest(_Request):
    """[MS-SMB2] 2.2.5 SESSION_SETUP (SecurityMode: signing enabled)."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._SESSION_SETUP_REQ.format
    STRUCTURE_SIZE: ClassVar[int] = S2._SESSION_SETUP_REQ.size
    COMMAND = Smb2Command.SESSION_SETUP

    def __init__(self, security_blob: bytes) -> None:
        self.security_blob = security_blob

    def _struct(self) -> S2.SessionSetupRequest:
        return S2.SessionSetupRequest(bytes(self.security_blob), flags=0, security_mode=1)

    def __repr__(self) -> str:
        return "SMB2SessionSetupRequest(<%d-byte security blob>)" % len(self.security_blob)


class SMB2SessionSetupResponse(_Response):
    """[MS-SMB2] 2.2.6: ``session_flags`` and ``security_blob``."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._SESSION_SETUP_RESP.format
    STRUCTURE_SIZE: ClassVar[int] = S2._SESSION_SETUP_RESP.size
    COMMAND = Smb2Command.SESSION_SETUP
    _STRUCT = S2.SessionSetupResponse

    @property
    def isGuestSession(self) -> bool:
        return bool(getattr(self, "session_flags", 0) & SessionFlags.IS_GUEST)

    @property
    def isAnonymousSession(self) -> bool:
        return bool(getattr(self, "session_flags", 0) & SessionFlags.IS_NULL)

    def _set(self, parsed: S2.SessionSetupResponse) -> None:
        self.session_flags = parsed.session_flags
        self.security_blob = bytes(parsed.security_buffer)


# --------------------------------------------------------------------------- TREE_CONNECT


class SMB2TreeConnectRequest(_Request):
    """[MS-SMB2] 2.2.9 TREE_CONNECT; ``path`` is ``\\\\server\\share``."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._TREE_CONNECT_REQ.format
    STRUCTURE_SIZE: ClassVar[int] = S2._TREE_CONNECT_REQ.size
    COMMAND = Smb2Command.TREE_CONNECT

    def __init__(self, path: str) -> None:
        self.path = path

    def _struct(self) -> S2.TreeConnectRequest:
        return S2.TreeConnectRequest(self.path)


class SMB2TreeConnectResponse(_Response):
    """[MS-SMB2] 2.2.10: ``share_type``, ``share_flags``, ``capabilities``,
    ``maximal_access``."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._TREE_CONNECT_RESP.format
    STRUCTURE_SIZE: ClassVar[int] = S2._TREE_CONNECT_RESP.size
    COMMAND = Smb2Command.TREE_CONNECT
    _STRUCT = S2.TreeConnectResponse

    def _set(self, parsed: S2.TreeConnectResponse) -> None:
        self.share_type = parsed.share_type
        self.share_flags = parsed.share_flags
        self.capabilities = parsed.capabilities
        self.maximal_access = parsed.maximal_access


# --------------------------------------------------------------------------- CREATE, CLOSE


class SMB2CreateRequest(_Request):
    """[MS-SMB2] 2.2.13 CREATE; ``create_context_data`` is the packed context chain."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._CREATE_REQ.format
    STRUCTURE_SIZE: ClassVar[int] = S2._CREATE_REQ.size
    COMMAND = Smb2Command.CREATE

    def __init__(self, filename: str, file_attributes: int = 0, access_mask: int = 0,
                 share_access: int = 0, create_disp: int = 0, create_options: int = 0,
                 impersonation: int = 0, oplock: int = 0,
                 create_context_data: bytes = b"") -> None:
        self.filename = filename
        self.file_attributes = file_attributes
        self.access_mask = access_mask
        self.share_access = share_access
        self.create_disp = create_disp
        self.create_options = create_options
        self.impersonation = impersonation
        self.oplock = oplock
        self.create_context_data = create_context_data

    def _struct(self) -> S2.CreateRequest:
        return S2.CreateRequest(
            self.filename, self.access_mask, file_attributes=self.file_attributes,
            share_access=self.share_access, create_disposition=self.create_disp,
            create_options=self.create_options, requested_oplock_level=self.oplock,
            impersonation_level=self.impersonation,
            create_contexts=bytes(self.create_context_data))


class SMB2CreateResponse(_Response):
    """[MS-SMB2] 2.2.14: ``oplock``, ``create_action``, ``create_time``,
    ``lastaccess_time``, ``lastwrite_time``, ``change_time`` (POSIX seconds),
    ``allocation_size``, ``file_size``, ``file_attributes``, ``fid`` (16 bytes);
    also ``create_context_data``."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._CREATE_RESP.format
    STRUCTURE_SIZE: ClassVar[int] = S2._CREATE_RESP.size
    COMMAND = Smb2Command.CREATE
    _STRUCT = S2.CreateResponse

    def _set(self, parsed: S2.CreateResponse) -> None:
        self.oplock = parsed.oplock_level
        self.create_action = parsed.create_action
        self.create_time = convertFILETIMEtoEpoch(parsed.creation_time)
        self.lastaccess_time = convertFILETIMEtoEpoch(parsed.last_access_time)
        self.lastwrite_time = convertFILETIMEtoEpoch(parsed.last_write_time)
        self.change_time = convertFILETIMEtoEpoch(parsed.change_time)
        self.allocation_size = parsed.allocation_size
        self.file_size = parsed.end_of_file
        self.file_attributes = parsed.file_attributes
        self.fid = bytes(parsed.file_id)
        self.create_context_data = bytes(parsed.create_contexts)


class SMB2CloseRequest(_Request):
    """[MS-SMB2] 2.2.15 CLOSE."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._CLOSE_REQ.format
    STRUCTURE_SIZE: ClassVar[int] = S2._CLOSE_REQ.size
    COMMAND = Smb2Command.CLOSE

    def __init__(self, fid: bytes, flags: int = 0) -> None:
        self.fid = fid
        self.flags = flags

    def _struct(self) -> S2.CloseRequest:
        return S2.CloseRequest(bytes(self.fid), self.flags)


class SMB2CloseResponse(_Response):
    """[MS-SMB2] 2.2.16 (checked; pysmb's payload has no fields)."""

    COMMAND = Smb2Command.CLOSE
    _STRUCT = S2.CloseResponse


# --------------------------------------------------------------------------- READ, WRITE


class SMB2ReadRequest(_Request):
    """[MS-SMB2] 2.2.19 READ (Padding 0, as pysmb sends it)."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._READ_REQ.format
    STRUCTURE_SIZE: ClassVar[int] = S2._READ_REQ.size
    COMMAND = Smb2Command.READ

    def __init__(self, fid: bytes, read_offset: int, read_len: int,
                 min_read_len: int = 0) -> None:
        self.fid = fid
        self.read_offset = read_offset
        self.read_len = read_len
        self.min_read_len = min_read_len

    def _struct(self) -> S2.ReadRequest:
        return S2.ReadRequest(bytes(self.fid), self.read_offset, self.read_len,
                              minimum_count=self.min_read_len, padding=0)


class SMB2ReadResponse(_Response):
    """[MS-SMB2] 2.2.20: ``data_length`` and ``data``."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._READ_RESP.format
    STRUCTURE_SIZE: ClassVar[int] = S2._READ_RESP.size
    COMMAND = Smb2Command.READ
    _STRUCT = S2.ReadResponse

    def _set(self, parsed: S2.ReadResponse) -> None:
        self.data = bytes(parsed.data)
        self.data_length = len(self.data)
        self.data_remaining = parsed.data_remaining


class SMB2WriteRequest(_Request):
    """[MS-SMB2] 2.2.21 WRITE."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._WRITE_REQ.format
    STRUCTURE_SIZE: ClassVar[int] = S2._WRITE_REQ.size
    COMMAND = Smb2Command.WRITE

    def __init__(self, fid: bytes, data: bytes, offset: int, remaining_len: int = 0,
                 flags: int = 0) -> None:
        self.fid = fid
        self.data = data
        self.offset = offset
        self.remaining_len = remaining_len
        self.flags = flags

    def _struct(self) -> S2.WriteRequest:
        return S2.WriteRequest(bytes(self.fid), self.offset, bytes(self.data), self.flags,
                               self.remaining_len)

    def __repr__(self) -> str:
        return "SMB2WriteRequest(offset=%d, <%d bytes>)" % (self.offset, len(self.data))


class SMB2WriteResponse(_Response):
    """[MS-SMB2] 2.2.22: ``count`` (and ``remaining``)."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._WRITE_RESP.format
    STRUCTURE_SIZE: ClassVar[int] = S2._WRITE_RESP.size
    COMMAND = Smb2Command.WRITE
    _STRUCT = S2.WriteResponse

    def _set(self, parsed: S2.WriteResponse) -> None:
        self.count = parsed.count
        self.remaining = parsed.remaining


# --------------------------------------------------------------------------- IOCTL, ECHO


class SMB2IoctlRequest(_Request):
    """[MS-SMB2] 2.2.31 IOCTL (no output buffer sent; MaxInputResponse 0)."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._IOCTL_REQ.format
    STRUCTURE_SIZE: ClassVar[int] = S2._IOCTL_REQ.size
    COMMAND = Smb2Command.IOCTL

    def __init__(self, fid: bytes, ctlcode: int, flags: int, in_data: bytes,
                 max_out_size: int = 65536) -> None:
        self.fid = fid
        self.ctlcode = ctlcode
        self.flags = flags
        self.in_data = in_data
        self.max_out_size = max_out_size

    def _struct(self) -> S2.IoctlRequest:
        return S2.IoctlRequest(self.ctlcode, bytes(self.fid), bytes(self.in_data),
                               max_output_response=self.max_out_size, max_input_response=0,
                               flags=self.flags)


class SMB2IoctlResponse(_Response):
    """[MS-SMB2] 2.2.32: ``ctlcode``, ``fid``, ``flags``, ``in_data``, ``out_data``."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._IOCTL_RESP.format
    STRUCTURE_SIZE: ClassVar[int] = S2._IOCTL_RESP.size
    COMMAND = Smb2Command.IOCTL
    _STRUCT = S2.IoctlResponse

    def _set(self, parsed: S2.IoctlResponse) -> None:
        self.ctlcode = parsed.ctl_code
        self.fid = bytes(parsed.file_id)
        self.flags = parsed.flags
        self.in_data = bytes(parsed.input)
        self.out_data = bytes(parsed.output)


class SMB2EchoRequest(_Request):
    """[MS-SMB2] 2.2.28 ECHO."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._EMPTY_BODY.format
    STRUCTURE_SIZE: ClassVar[int] = S2._EMPTY_BODY.size
    COMMAND = Smb2Command.ECHO

    def _struct(self) -> S2.EchoRequest:
        return S2.EchoRequest()


class SMB2EchoResponse(_Response):
    """[MS-SMB2] 2.2.29 (checked; no fields)."""

    COMMAND = Smb2Command.ECHO
    _STRUCT = S2.EchoResponse


# ------------------------------------------------------- QUERY_DIRECTORY, QUERY_INFO, SET_INFO


class SMB2QueryDirectoryRequest(_Request):
    """[MS-SMB2] 2.2.33 QUERY_DIRECTORY (FileIndex 0)."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._QUERY_DIRECTORY_REQ.format
    STRUCTURE_SIZE: ClassVar[int] = S2._QUERY_DIRECTORY_REQ.size
    COMMAND = Smb2Command.QUERY_DIRECTORY

    def __init__(self, fid: bytes, filename: str, info_class: int, flags: int,
                 output_buf_len: int) -> None:
        self.fid = fid
        self.filename = filename
        self.info_class = info_class
        self.flags = flags
        self.output_buf_len = output_buf_len

    def _struct(self) -> S2.QueryDirectoryRequest:
        return S2.QueryDirectoryRequest(bytes(self.fid), self.info_class, self.flags, 0,
                                        self.output_buf_len, self.filename)


class _OutputBufferResponse(_Response):
    def _set(self, parsed: Any) -> None:
        self.data = bytes(parsed.buffer)
        self.data_length = len(self.data)


class SMB2QueryDirectoryResponse(_OutputBufferResponse):
    """[MS-SMB2] 2.2.34: ``data_length`` and ``data`` (the directory entries)."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._OUTPUT_BUFFER_RESP.format
    STRUCTURE_SIZE: ClassVar[int] = S2._OUTPUT_BUFFER_RESP.size
    COMMAND = Smb2Command.QUERY_DIRECTORY
    _STRUCT = S2.QueryDirectoryResponse


class SMB2QueryInfoRequest(_Request):
    """[MS-SMB2] 2.2.37 QUERY_INFO."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._QUERY_INFO_REQ.format
    STRUCTURE_SIZE: ClassVar[int] = S2._QUERY_INFO_REQ.size
    COMMAND = Smb2Command.QUERY_INFO

    def __init__(self, fid: bytes, flags: int, additional_info: int, info_type: int,
                 file_info_class: int, input_buf: bytes, output_buf_len: int) -> None:
        self.fid = fid
        self.flags = flags
        self.additional_info = additional_info
        self.info_type = info_type
        self.file_info_class = file_info_class
        self.input_buf = input_buf
        self.output_buf_len = output_buf_len

    def _struct(self) -> S2.QueryInfoRequest:
        return S2.QueryInfoRequest(self.info_type, self.file_info_class, bytes(self.fid),
                                   self.output_buf_len, self.additional_info, self.flags,
                                   bytes(self.input_buf or b""))


class SMB2QueryInfoResponse(_OutputBufferResponse):
    """[MS-SMB2] 2.2.38: ``data_length`` and ``data``."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._OUTPUT_BUFFER_RESP.format
    STRUCTURE_SIZE: ClassVar[int] = S2._OUTPUT_BUFFER_RESP.size
    COMMAND = Smb2Command.QUERY_INFO
    _STRUCT = S2.QueryInfoResponse


class SMB2SetInfoRequest(_Request):
    """[MS-SMB2] 2.2.39 SET_INFO."""

    STRUCTURE_FORMAT: ClassVar[str] = S2._SET_INFO_REQ.format
    STRUCTURE_SIZE: ClassVar[int] = S2._SET_INFO_REQ.size
    COMMAND = Smb2Command.SET_INFO

    def __init__(self, fid: bytes, additional_info: int, info_type: int, file_info_class: int,
                 data: bytes) -> None:
        self.fid = fid
        self.additional_info = additional_info
        self.info_type = info_type
        self.file_info_class = file_info_class
        self.data = data

    def _struct(self) -> S2.SetInfoRequest:
        return S2.SetInfoRequest(self.info_type, self.file_info_class, bytes(self.fid),
                                 bytes(self.data), self.additional_info)


class SMB2SetInfoResponse(_Response):
    """[MS-SMB2] 2.2.40 (checked; no fields)."""

    COMMAND = Smb2Command.SET_INFO
    _STRUCT = S2.SetInfoResponse


#: command -> the payload class ``SMB2Message.decode`` gives a response.
_RESPONSES: Dict[int, Type[Structure]] = {
    int(cls.COMMAND): cls for cls in (
        SMB2NegotiateResponse, SMB2SessionSetupResponse, SMB2TreeConnectResponse,
        SMB2CreateResponse, SMB2CloseResponse, SMB2ReadResponse, SMB2WriteResponse,
        SMB2IoctlResponse, SMB2EchoResponse, SMB2QueryDirectoryResponse,
        SMB2QueryInfoResponse, SMB2SetInfoResponse)
}
