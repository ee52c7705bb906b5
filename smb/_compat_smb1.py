"""pysmb's SMB1 message model: ``SMBMessage`` with ``Payload`` subclasses.

pysmb scripts (and subclasses of pysmb's classes) build a message as
``SMBMessage(ComNTCreateAndxRequest(...))``, read ``message.encode()`` and
parse a reply with ``message.decode(buf)``, which picks the response payload
by command and sets its fields.  These classes keep that shape, with pysmb's
names, on top of :mod:`smb.smb_structs`: every command block is laid out by
the struct classes there (``pack_block``), every response is parsed by them
(``from_block``), so the wire format lives in one place.  ``smb.smb_structs``
re-exports the names below through its module ``__getattr__``.

Field semantics follow pysmb 1.2.15; where pysmb wrote something other than
[MS-CIFS] asks for (e.g. a Transaction2 DataOffset pointing at the pad byte),
the spec wins.  Decoding treats the peer as hostile: anything malformed
raises :class:`~smb.exceptions.MalformedResponse`.

References: [MS-CIFS] 2.2.3 (header, blocks), 2.2.4 (commands); [MS-SMB] 2.2.
"""
from __future__ import annotations

import importlib
import logging
import os
import struct
from typing import Any, ClassVar, Dict, Optional, Tuple, Type, Union

from smb import smb_constants as c
from smb import smb_structs as S
from smb.exceptions import MalformedResponse, SMBError
from smb.nt_status import NtStatus
from smb.smb_structs import Smb1Status

__all__ = list(S.PYSMB_MESSAGE_NAMES)

Buffer = Union[bytes, bytearray, memoryview]

#: The dialect strings of the opening NEGOTIATE (pysmb's values, as bytes).
DIALECTS = [c.DIALECT_NT_LM_012.encode("ascii")]
DIALECTS2 = [c.DIALECT_SMB_2_002.encode("ascii")]
#: Indices of those dialects in the NEGOTIATE request (DIALECTS + DIALECTS2).
NT_LAN_MANAGER_DIALECT = 0
SMB2_DIALECT = 1

#: Header defaults pysmb puts in every request it builds.
_REQUEST_FLAGS = c.SMB_FLAGS_CASE_INSENSITIVE | c.SMB_FLAGS_CANONICALIZED_PATHS
_REQUEST_FLAGS2 = (c.SMB_FLAGS2_UNICODE | c.SMB_FLAGS2_NT_STATUS | c.SMB_FLAGS2_IS_LONG_NAME
                   | c.SMB_FLAGS2_LONG_NAMES)

#: Statuses whose response still carries a normal body (so the payload is decoded).
_BODY_STATUSES = frozenset({0, NtStatus.MORE_PROCESSING_REQUIRED, NtStatus.BUFFER_OVERFLOW})

_U16 = struct.Struct("<H")
_U16X2 = struct.Struct("<HH")
_U32X2 = struct.Struct("<II")


def __getattr__(attr: str) -> Any:
    # DataFaultToleranceStrategy lives in smb.strategy (kept apart from the
    # message classes); resolve it only when asked so that no import cycle
    # forms and a missing module costs nothing until then.
    if attr == "DataFaultToleranceStrategy":
        try:
            module = importlib.import_module("smb.strategy")
        except ImportError as err:
            raise AttributeError(attr) from err
        return getattr(module, attr)
    raise AttributeError("module %r has no attribute %r" % (__name__, attr))


class SMB2ProtocolHeaderError(MalformedResponse):
    """An SMB2 message arrived where an SMB1 one was expected (pysmb's name:
    the server chose SMB2 in answer to an SMB1 NEGOTIATE)."""

    def __init__(self, message: str = "received an SMB2 message, not an SMB1 one",
                 data: Optional[bytes] = None) -> None:
        super().__init__(message, data)


# --------------------------------------------------------------------------- message


class SMBMessage:
    """One SMB1 message, pysmb-style: header fields, ``parameters_data``
    (the parameter words), ``data`` (the bytes block) and a ``payload``.

    ``encode()`` asks the payload to ``prepare`` the words and bytes and
    returns the message (no NetBIOS framing); ``decode(buf)`` parses a
    received one, sets the header fields and decodes the payload chosen by
    its command.  ``status`` is a :class:`~smb.smb_structs.Smb1Status`;
    ``security`` the 8-byte SecuritySignature as an int (bytes accepted).
    """

    #: pysmb's header layout (the 32 header bytes plus WordCount).
    HEADER_STRUCT_FORMAT: ClassVar[str] = "<4sBIBHHQxxHHHHB"
    HEADER_STRUCT_SIZE: ClassVar[int] = struct.calcsize(HEADER_STRUCT_FORMAT)
    log: ClassVar[logging.Logger] = logging.getLogger("SMB.SMBMessage")
    protocol: ClassVar[int] = 1

    payload: Optional["Payload"]

    def __init__(self, payload: Optional["Payload"] = None) -> None:
        self.reset()
        if payload is not None:
            self.payload = payload
            payload.initMessage(self)

    def reset(self) -> None:
        """Clear every field (pysmb's ``reset``)."""
        self.raw_data: bytes = b""
        self.command = 0
        self.status: Any = Smb1Status(0)
        self.flags = 0
        self.flags2 = 0
        self.pid = 0
        self.tid = 0
        self.uid = 0
        self.mid = 0
        self.security: Union[int, bytes] = 0
        self.parameters_data: bytes = b""
        self.data: bytes = b""
        self.payload = None

    @property
    def isReply(self) -> bool:
        return bool(self.flags & c.SMB_FLAGS_REPLY)

    @property
    def hasExtendedSecurity(self) -> bool:
        return bool(self.flags2 & c.SMB_FLAGS2_EXTENDED_SECURITY)

    @property
    def isAsync(self) -> bool:
        """SMB1 has no asynchronous messages (pysmb's property, always False)."""
        return False

    @property
    def is_unicode(self) -> bool:
        return bool(self.flags2 & c.SMB_FLAGS2_UNICODE)

    def _header(self) -> S.Smb1Header:
        security = self.security
        if isinstance(security, (bytes, bytearray, memoryview)):
            sec = bytes(security)
            if len(sec) != 8:
                raise ValueError("security (the SMB1 signature) must be 8 bytes")
        else:
            sec = struct.pack("<Q", int(security) & 0xFFFFFFFFFFFFFFFF)
        status = getattr(self.status, "internal_value", self.status)
        return S.Smb1Header(command=self.command, status=int(status) & 0xFFFFFFFF,
                            flags=self.flags, flags2=self.flags2,
                            pid_high=(self.pid >> 16) & 0xFFFF, security_features=sec,
                            tid=self.tid, pid_low=self.pid & 0xFFFF, uid=self.uid,
                            mid=self.mid)

    def encode(self) -> bytes:
        """The whole message, header first.  A ``pid`` of 0 becomes this process's id."""
        if self.payload is not None:
            self.payload.prepare(self)
        if not self.pid:
            self.pid = os.getpid() & 0xFFFF
        words, data = bytes(self.parameters_data), bytes(self.data)
        if len(data) > 0xFFFF:
            # A large WRITE_ANDX (CAP_LARGE_WRITEX): ByteCount holds the low 16 bits.
            if len(words) & 1 or len(words) > 510:
                raise ValueError("parameter words must be an even number of bytes, at most 510")
            raw = b"".join((self._header().pack(), bytes((len(words) // 2,)), words,
                            _U16.pack(len(data) & 0xFFFF), data))
        else:
            raw = S.build_message(self._header(), words, data)
        self.raw_data = raw
        return raw

    def decode(self, buf: Buffer) -> int:
        """Parse one received message; returns the bytes its first block spans.

        Raises :class:`SMB2ProtocolHeaderError` for an SMB2 message and
        :class:`~smb.exceptions.MalformedResponse` for anything malformed.
        """
        mv = memoryview(buf)
        if mv.ndim != 1 or mv.format != "B":
            mv = mv.cast("B")
        if len(mv) >= 4 and bytes(mv[:4]) == b"\xfeSMB":
            raise SMB2ProtocolHeaderError()
        if len(mv) < S.HEADER_SIZE + 3:
            raise MalformedResponse("Not enough data to decode SMB header", bytes(mv[:64]))
        header, words, data = S.parse_message(mv)
        self.reset()
        self.raw_data = bytes(mv)
        self.command = header.command
        self.status = Smb1Status(header.status,
                                 bool(header.flags2 & c.SMB_FLAGS2_NT_STATUS))
        self.flags = header.flags
        self.flags2 = header.flags2
        self.pid = header.pid
        self.tid = header.tid
        self.uid = header.uid
        self.mid = header.mid
        self.security = struct.unpack("<Q", header.security_features)[0]
        self.parameters_data = bytes(words)
        self.data = bytes(data)
        payload_class = _RESPONSES.get(self.command)
        if payload_class is not None:
            self.payload = payload_class()
            if int(self.status) in _BODY_STATUSES:
                self.payload.decode(self)
        return S.HEADER_SIZE + 1 + len(words) + 2 + len(data)


def _first_block(message: SMBMessage, command: int) -> S.AndXBlock:
    """The first command block of ``message.raw_data``, checked to be ``command``."""
    _, blocks = S.parse_blocks(message.raw_data)
    block = blocks[0]
    if block.command != command:
        raise MalformedResponse(f"expected command 0x{command:02x}, got 0x{block.command:02x}")
    return block


# --------------------------------------------------------------------------- payload base


class Payload:
    """Base of pysmb's SMB1 payloads.

    A request fills the message: ``initMessage`` sets the command and the
    header flags, ``prepare`` the parameter words and data bytes.  A
    response's ``decode(message)`` sets its fields from a decoded message.
    """

    DEFAULT_ANDX_PARAM_HEADER: ClassVar[bytes] = struct.pack(
        "<BBH", c.SMB_COM_NO_ANDX_COMMAND, 0, 0)
    DEFAULT_ANDX_PARAM_SIZE: ClassVar[int] = 4
    COMMAND: ClassVar[int] = -1

    def initMessage(self, message: SMBMessage) -> None:
        """Set the command and pysmb's default request flags."""
        if self.COMMAND >= 0:
            message.command = self.COMMAND
        message.flags = _REQUEST_FLAGS
        message.flags2 = _REQUEST_FLAGS2
        if S.SUPPORT_EXTENDED_SECURITY:
            message.flags2 |= c.SMB_FLAGS2_EXTENDED_SECURITY

    def prepare(self, message: SMBMessage) -> None:
        """Fill ``message.parameters_data`` and ``message.data`` (requests)."""

    def decode(self, message: SMBMessage) -> None:
        """Set this payload's fields from ``message`` (responses)."""

    def __repr__(self) -> str:
        fields = ", ".join("%s=%r" % (k, v) for k, v in sorted(vars(self).items())
                           if not isinstance(v, (bytes, bytearray, memoryview)) or len(v) <= 32)
        return "%s(%s)" % (type(self).__name__, fields)


class _StructRequest(Payload):
    """A request laid out by one of :mod:`smb.smb_structs`' message classes."""

    def _struct(self) -> Any:
        raise NotImplementedError

    def prepare(self, message: SMBMessage) -> None:
        words, data = self._struct().pack_block(S.HEADER_SIZE, message.is_unicode)
        message.parameters_data = bytes(words)
        message.data = bytes(data)


class _StructResponse(Payload):
    """A response parsed by one of :mod:`smb.smb_structs`' message classes."""

    _STRUCT: ClassVar[Any]

    def decode(self, message: SMBMessage) -> None:
        block = _first_block(message, self.COMMAND)
        self._set(self._STRUCT.from_block(block))

    def _set(self, parsed: Any) -> None:
        raise NotImplementedError


def _name_bytes(value: Union[str, bytes, bytearray]) -> bytes:
    return value.encode("latin-1") if isinstance(value, str) else bytes(value)


# --------------------------------------------------------------------------- NEGOTIATE


class ComNegotiateRequest(_StructRequest):
    """[MS-CIFS] 2.2.4.52.1: NT LM 0.12, plus SMB 2.002 when ``SUPPORT_SMB2`` is set."""

    COMMAND = c.SMB_COM_NEGOTIATE

    def _struct(self) -> S.NegotiateRequest:
        dialects = list(DIALECTS) + (list(DIALECTS2) if S.SUPPORT_SMB2 else [])
        return S.NegotiateRequest(tuple(d.decode("ascii") for d in dialects))


class ComNegotiateResponse(_StructResponse):
    """[MS-CIFS] 2.2.4.52.2 / [MS-SMB] 2.2.4.5.2.

    Fields: ``dialect_index``, ``security_mode``, ``max_mpx_count``,
    ``max_number_vcs``, ``max_buffer_size``, ``max_raw_size``,
    ``session_key``, ``capabilities``, ``system_time`` (FILETIME),
    ``server_time_zone``, ``challenge_length``; then ``server_guid`` and
    ``security_blob`` (extended security) or ``challenge`` and ``domain``.
    """

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._NEGOTIATE_WORDS.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._NEGOTIATE_WORDS.size
    COMMAND = c.SMB_COM_NEGOTIATE
    _STRUCT = S.NegotiateResponse

    @property
    def supportsExtendedSecurity(self) -> bool:
        return bool(getattr(self, "capabilities", 0) & c.CAP_EXTENDED_SECURITY)

    def _set(self, parsed: S.NegotiateResponse) -> None:
        self.dialect_index = parsed.dialect_index
        if parsed.dialect_index == c.NEGOTIATE_NO_DIALECT:
            return
        self.security_mode = parsed.security_mode
        self.max_mpx_count = parsed.max_mpx_count
        self.max_number_vcs = parsed.max_number_vcs
        self.max_buffer_size = parsed.max_buffer_size
        self.max_raw_size = parsed.max_raw_size
        self.session_key = parsed.session_key
        self.capabilities = parsed.capabilities
        self.system_time = parsed.system_time
        # pysmb reads ServerTimeZone unsigned.
        self.server_time_zone = parsed.server_time_zone & 0xFFFF
        self.challenge_length = len(parsed.challenge)
        if parsed.extended_security:
            self.server_guid = parsed.server_guid
            self.security_blob = parsed.security_blob
        else:
            self.challenge = parsed.challenge
            self.domain = parsed.domain_name
            self.server_name = parsed.server_name


# --------------------------------------------------------------------------- SESSION_SETUP_ANDX


#: pysmb's SESSION_SETUP_ANDX constants: MaxBufferSize, MaxMpxCount.
_MAX_BUFFER_SIZE = 16644
_MAX_MPX_COUNT = 10


class ComSessionSetupAndxRequest__WithSecurityExtension(_StructRequest):
    """[MS-SMB] 2.2.4.6.1 SESSION_SETUP_ANDX with a security blob (WordCount 12)."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._SESSION_SETUP_EXT_WORDS.format
    COMMAND = c.SMB_COM_SESSION_SETUP_ANDX
    CAPABILITIES: ClassVar[int] = (c.CAP_EXTENDED_SECURITY | c.CAP_STATUS32 | c.CAP_NT_SMBS
                                   | c.CAP_UNICODE)

    def __init__(self, session_key: int, security_blob: bytes) -> None:
        self.session_key = session_key
        self.security_blob = security_blob

    def _struct(self) -> S.SessionSetupAndXRequest:
        return S.SessionSetupAndXRequest(
            bytes(self.security_blob), max_buffer_size=_MAX_BUFFER_SIZE,
            max_mpx_count=_MAX_MPX_COUNT, vc_number=1, session_key=self.session_key,
            capabilities=self.CAPABILITIES, native_os="", native_lanman="")

    def __repr__(self) -> str:
        return "%s(session_key=0x%x)" % (type(self).__name__, self.session_key)


class ComSessionSetupAndxRequest__NoSecurityExtension(_StructRequest):
    """[MS-CIFS] 2.2.4.53.1 SESSION_SETUP_ANDX, NT LM 0.12 form (WordCount 13).

    ``password`` is the (LM or NT) response; it goes into UnicodePassword
    when ``is_unicode``, else into OEMPassword, as pysmb sends it.
    """

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._SESSION_SETUP_NTLM_WORDS.format
    COMMAND = c.SMB_COM_SESSION_SETUP_ANDX
    CAPABILITIES: ClassVar[int] = c.CAP_STATUS32 | c.CAP_LARGE_FILES | c.CAP_UNICODE

    def __init__(self, session_key: int, username: str, password: bytes, is_unicode: bool,
                 domain: str) -> None:
        self.session_key = session_key
        self.username = username
        self.password = password
        self.is_unicode = is_unicode
        self.domain = domain

    def initMessage(self, message: SMBMessage) -> None:
        super().initMessage(message)
        if not self.is_unicode:
            message.flags2 &= ~c.SMB_FLAGS2_UNICODE

    def _struct(self) -> S.SessionSetupAndXNtlmRequest:
        password = _name_bytes(self.password)
        return S.SessionSetupAndXNtlmRequest(
            oem_password=b"" if self.is_unicode else password,
            unicode_password=password if self.is_unicode else b"",
            account_name=self.username, primary_domain=self.domain,
            max_buffer_size=_MAX_BUFFER_SIZE, max_mpx_count=_MAX_MPX_COUNT, vc_number=0,
            session_key=self.session_key, capabilities=self.CAPABILITIES,
            native_os="pysmb", native_lanman="")

    def __repr__(self) -> str:
        # The password field holds an authentication response: keep it out of logs.
        return "%s(username=%r, domain=%r)" % (type(self).__name__, self.username, self.domain)


class ComSessionSetupAndxResponse(_StructResponse):
    """[MS-CIFS] 2.2.4.53.2 / [MS-SMB] 2.2.4.6.2: ``action`` and, with
    extended security, ``security_blob``; also ``native_os``,
    ``native_lanman`` and ``primary_domain``."""

    NOSECURE_PARAMETER_STRUCT_FORMAT: ClassVar[str] = S._SESSION_SETUP_RESP.format
    NOSECURE_PARAMETER_STRUCT_SIZE: ClassVar[int] = S._SESSION_SETUP_RESP.size
    SECURE_PARAMETER_STRUCT_FORMAT: ClassVar[str] = S._SESSION_SETUP_RESP_EXT.format
    SECURE_PARAMETER_STRUCT_SIZE: ClassVar[int] = S._SESSION_SETUP_RESP_EXT.size
    COMMAND = c.SMB_COM_SESSION_SETUP_ANDX
    _STRUCT = S.SessionSetupAndXResponse

    def _set(self, parsed: S.SessionSetupAndXResponse) -> None:
        self.action = parsed.action
        if parsed.extended:
            self.security_blob = parsed.security_blob
        self.native_os = parsed.native_os
        self.native_lanman = parsed.native_lanman
        self.primary_domain = parsed.primary_domain


# --------------------------------------------------------------------------- TREE_CONNECT_ANDX


class ComTreeConnectAndxRequest(Payload):
    """[MS-CIFS] 2.2.4.55.1 / [MS-SMB] 2.2.4.7.1; asks for the extended response
    and extended signatures, and sets TREE_CONNECT_ANDX_DISCONNECT_TID when the
    message has a ``tid``, as pysmb does."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._TREE_CONNECT_WORDS.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._TREE_CONNECT_WORDS.size
    COMMAND = c.SMB_COM_TREE_CONNECT_ANDX

    def __init__(self, path: str, service: str, password: str = "") -> None:
        self.path = path
        self.service = service
        self.password = password

    def prepare(self, message: SMBMessage) -> None:
        flags = c.TREE_CONNECT_ANDX_EXTENDED_SIGNATURES | c.TREE_CONNECT_ANDX_EXTENDED_RESPONSE
        if message.tid:
            # A message that still carries a TID asks the server to drop that tree first.
            flags |= c.TREE_CONNECT_ANDX_DISCONNECT_TID
        request = S.TreeConnectAndXRequest(self.path, self.service,
                                           _name_bytes(self.password) + b"\x00", flags=flags)
        words, data = request.pack_block(S.HEADER_SIZE, message.is_unicode)
        message.parameters_data = words
        message.data = data


class ComTreeConnectAndxResponse(_StructResponse):
    """[MS-CIFS] 2.2.4.55.2 / [MS-SMB] 2.2.4.7.2: ``optional_support``, ``service``,
    ``native_file_system``."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._TREE_CONNECT_RESP.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._TREE_CONNECT_RESP.size
    COMMAND = c.SMB_COM_TREE_CONNECT_ANDX
    _STRUCT = S.TreeConnectAndXResponse

    def _set(self, parsed: S.TreeConnectAndXResponse) -> None:
        self.optional_support = parsed.optional_support
        self.service = parsed.service
        self.native_file_system = parsed.native_file_system


# --------------------------------------------------------------------------- NT_CREATE_ANDX


class ComNTCreateAndxRequest(_StructRequest):
    """[MS-CIFS] 2.2.4.64.1 NT_CREATE_ANDX request."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._NT_CREATE_WORDS.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._NT_CREATE_WORDS.size
    COMMAND = c.SMB_COM_NT_CREATE_ANDX

    def __init__(self, filename: str, flags: int = 0, root_fid: int = 0, access_mask: int = 0,
                 allocation_size: int = 0, ext_attr: int = 0, share_access: int = 0,
                 create_disp: int = 0, create_options: int = 0, impersonation: int = 0,
                 security_flags: int = 0) -> None:
        self.filename = filename
        self.flags = flags
        self.root_fid = root_fid
        self.access_mask = access_mask
        self.allocation_size = allocation_size
        self.ext_attr = ext_attr
        self.share_access = share_access
        self.create_disp = create_disp
        self.create_options = create_options
        self.impersonation = impersonation
        self.security_flags = security_flags

    def _struct(self) -> S.NtCreateAndXRequest:
        return S.NtCreateAndXRequest(
            self.filename, desired_access=self.access_mask, share_access=self.share_access,
            create_disposition=self.create_disp, create_options=self.create_options,
            ext_file_attributes=self.ext_attr, flags=self.flags,
            root_directory_fid=self.root_fid, allocation_size=self.allocation_size,
            impersonation_level=self.impersonation, security_flags=self.security_flags)


class ComNTCreateAndxResponse(_StructResponse):
    """[MS-CIFS] 2.2.4.64.2 / [MS-SMB] 2.2.4.9.2: pysmb's ``oplock_level`` and
    ``fid``, plus ``create_disp``, the four FILETIMEs, ``file_attributes``,
    ``allocation_size``, ``file_size``, ``resource_type`` and ``is_directory``."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._NT_CREATE_RESP.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._NT_CREATE_RESP.size
    COMMAND = c.SMB_COM_NT_CREATE_ANDX
    _STRUCT = S.NtCreateAndXResponse

    def _set(self, parsed: S.NtCreateAndXResponse) -> None:
        self.oplock_level = parsed.oplock_level
        self.fid = parsed.fid
        self.create_disp = parsed.create_disposition
        self.create_time = parsed.create_time
        self.lastaccess_time = parsed.last_access_time
        self.lastwrite_time = parsed.last_write_time
        self.change_time = parsed.change_time
        self.file_attributes = parsed.ext_file_attributes
        self.allocation_size = parsed.allocation_size
        self.file_size = parsed.end_of_file
        self.resource_type = parsed.resource_type
        self.is_directory = parsed.directory


# --------------------------------------------------------------------------- OPEN_ANDX


#: [MS-CIFS] 2.2.4.41.1 request words after the AndX header: Flags, AccessMode,
#: SearchAttrs, FileAttrs, CreationTime, OpenMode, AllocationSize, Timeout, Reserved.
_OPEN_ANDX_WORDS = struct.Struct("<BBHHHHHIHII4s")
#: [MS-CIFS] 2.2.4.41.2 response words: AndX, FID, FileAttrs, LastWriteTime,
#: FileDataSize, AccessRights, ResourceType, NMPipeStatus, OpenResults, Reserved.
_OPEN_ANDX_RESP = struct.Struct("<BBHHHIIHHHH6s")


class ComOpenAndxRequest(Payload):
    """[MS-CIFS] 2.2.4.41.1 OPEN_ANDX request (the pre-NT open)."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = _OPEN_ANDX_WORDS.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = _OPEN_ANDX_WORDS.size
    COMMAND = c.SMB_COM_OPEN_ANDX

    def __init__(self, filename: str, access_mode: int, open_mode: int, flags: int = 0,
                 search_attributes: int = 0, file_attributes: int = 0, create_time: int = 0,
                 timeout: int = 0) -> None:
        self.filename = filename
        self.access_mode = access_mode
        self.open_mode = open_mode
        self.flags = flags
        self.search_attributes = search_attributes
        self.file_attributes = file_attributes
        self.create_time = create_time
        self.timeout = timeout

    def prepare(self, message: SMBMessage) -> None:
        words = _OPEN_ANDX_WORDS.pack(
            c.SMB_COM_NO_ANDX_COMMAND, 0, 0, self.flags, self.access_mode,
            self.search_attributes, self.file_attributes, self.create_time, self.open_mode,
            0, self.timeout, b"\x00" * 4)
        start = S.HEADER_SIZE + 1 + len(words) + 2
        message.parameters_data = words
        message.data = S._enc_str(self.filename, start, message.is_unicode)


class ComOpenAndxResponse(Payload):
    """[MS-CIFS] 2.2.4.41.2 (15 words) or [MS-SMB] 2.2.4.1.2 extended (19 words):
    ``fid``, ``file_attributes``, ``last_write_time`` (UTIME), ``file_data_size``,
    ``access_rights``, ``resource_type``, ``open_results``."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = _OPEN_ANDX_RESP.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = _OPEN_ANDX_RESP.size
    COMMAND = c.SMB_COM_OPEN_ANDX

    def decode(self, message: SMBMessage) -> None:
        block = _first_block(message, self.COMMAND)
        if len(block.words) not in (_OPEN_ANDX_RESP.size, _OPEN_ANDX_RESP.size + 8):
            raise MalformedResponse(
                f"OPEN_ANDX response: WordCount {len(block.words) // 2} unexpected")
        (_, _, _, fid, attrs, last_write, size, access, rtype, _, results,
         _) = _OPEN_ANDX_RESP.unpack_from(block.words, 0)
        self.fid = fid
        self.file_attributes = attrs
        self.last_write_time = last_write
        self.file_data_size = size
        self.access_rights = access
        self.resource_type = rtype
        self.open_results = results


# --------------------------------------------------------------------------- READ / WRITE


class ComReadAndxRequest(_StructRequest):
    """[MS-CIFS] 2.2.4.42.1 READ_ANDX request (12 words, 64-bit offset)."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._READ_WORDS.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._READ_WORDS.size
    COMMAND = c.SMB_COM_READ_ANDX

    def __init__(self, fid: int, offset: int, max_return_bytes_count: int,
                 min_return_bytes_count: int, timeout: int = 0, remaining: int = 0) -> None:
        self.fid = fid
        self.offset = offset
        self.max_return_bytes_count = max_return_bytes_count
        self.min_return_bytes_count = min_return_bytes_count
        self.timeout = timeout
        self.remaining = remaining

    def _struct(self) -> S.ReadAndXRequest:
        return S.ReadAndXRequest(self.fid, self.offset, self.max_return_bytes_count,
                                 self.min_return_bytes_count, self.timeout, self.remaining)


class ComReadAndxResponse(_StructResponse):
    """[MS-CIFS] 2.2.4.42.2: ``data_length`` and ``data`` (found via DataOffset)."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._READ_RESP.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._READ_RESP.size
    COMMAND = c.SMB_COM_READ_ANDX
    _STRUCT = S.ReadAndXResponse

    def _set(self, parsed: S.ReadAndXResponse) -> None:
        self.data = bytes(parsed.data)
        self.data_length = len(self.data)
        self.available = parsed.available


class ComWriteAndxRequest(_StructRequest):
    """[MS-CIFS] 2.2.4.43.1 WRITE_ANDX request; Remaining is the data length, as
    pysmb sends it."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._WRITE_WORDS.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._WRITE_WORDS.size
    COMMAND = c.SMB_COM_WRITE_ANDX

    def __init__(self, fid: int, data_bytes: bytes, offset: int, write_mode: int = 0,
                 timeout: int = 0) -> None:
        self.fid = fid
        self.data_bytes = data_bytes
        self.offset = offset
        self.write_mode = write_mode
        self.timeout = timeout

    def _struct(self) -> S.WriteAndXRequest:
        return S.WriteAndXRequest(self.fid, self.offset, self.data_bytes, self.write_mode,
                                  len(self.data_bytes) & 0xFFFF, self.timeout)


class ComWriteAndxResponse(_StructResponse):
    """[MS-CIFS] 2.2.4.43.2: ``count`` (with CountHigh) and ``available``."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._WRITE_RESP.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._WRITE_RESP.size
    COMMAND = c.SMB_COM_WRITE_ANDX
    _STRUCT = S.WriteAndXResponse

    def _set(self, parsed: S.WriteAndXResponse) -> None:
        self.count = parsed.count
        self.available = parsed.available


# --------------------------------------------------------------------------- CLOSE, paths, ECHO


class ComCloseRequest(_StructRequest):
    """[MS-CIFS] 2.2.4.5.1 CLOSE; pysmb's default LastTimeModified 0xFFFFFFFF
    leaves the time alone."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = "<HI"
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = 6
    COMMAND = c.SMB_COM_CLOSE

    def __init__(self, fid: int, last_modified_time: int = 0xFFFFFFFF) -> None:
        self.fid = fid
        self.last_modified_time = last_modified_time

    def _struct(self) -> S.CloseRequest:
        return S.CloseRequest(self.fid, self.last_modified_time)


class ComDeleteRequest(_StructRequest):
    """[MS-CIFS] 2.2.4.7.1 DELETE."""

    COMMAND = c.SMB_COM_DELETE

    def __init__(self, filename_pattern: str, search_attributes: int = 0) -> None:
        self.filename_pattern = filename_pattern
        self.search_attributes = search_attributes

    def _struct(self) -> S.DeleteRequest:
        return S.DeleteRequest(self.filename_pattern, self.search_attributes)


class ComRenameRequest(_StructRequest):
    """[MS-CIFS] 2.2.4.8.1 RENAME."""

    COMMAND = c.SMB_COM_RENAME

    def __init__(self, old_path: str, new_path: str, search_attributes: int = 0) -> None:
        self.old_path = old_path
        self.new_path = new_path
        self.search_attributes = search_attributes

    def _struct(self) -> S.RenameRequest:
        return S.RenameRequest(self.old_path, self.new_path, self.search_attributes)


class ComCreateDirectoryRequest(_StructRequest):
    """[MS-CIFS] 2.2.4.1.1 CREATE_DIRECTORY."""

    COMMAND = c.SMB_COM_CREATE_DIRECTORY

    def __init__(self, path: str) -> None:
        self.path = path

    def _struct(self) -> S.CreateDirectoryRequest:
        return S.CreateDirectoryRequest(self.path)


class ComDeleteDirectoryRequest(_StructRequest):
    """[MS-CIFS] 2.2.4.2.1 DELETE_DIRECTORY."""

    COMMAND = c.SMB_COM_DELETE_DIRECTORY

    def __init__(self, path: str) -> None:
        self.path = path

    def _struct(self) -> S.DeleteDirectoryRequest:
        return S.DeleteDirectoryRequest(self.path)


class ComEchoRequest(_StructRequest):
    """[MS-CIFS] 2.2.4.39.1 ECHO."""

    COMMAND = c.SMB_COM_ECHO

    def __init__(self, echo_data: bytes = b"", echo_count: int = 1) -> None:
        self.echo_data = echo_data
        self.echo_count = echo_count

    def _struct(self) -> S.EchoRequest:
        return S.EchoRequest(bytes(self.echo_data), self.echo_count)


class ComEchoResponse(_StructResponse):
    """[MS-CIFS] 2.2.4.39.2: ``sequence_number`` and ``data``."""

    COMMAND = c.SMB_COM_ECHO
    _STRUCT = S.EchoResponse

    def _set(self, parsed: S.EchoResponse) -> None:
        self.sequence_number = parsed.sequence_number
        self.data = parsed.data


# --------------------------------------------------------------------------- transactions


def _setup_words(setup_bytes: bytes) -> Tuple[int, ...]:
    raw = bytes(setup_bytes)
    if len(raw) & 1:
        raise ValueError("setup_bytes must be whole 16-bit words")
    return struct.unpack("<%dH" % (len(raw) // 2), raw)


class _TransactionRequestBase(_StructRequest):
    """TotalParameterCount / TotalDataCount: pysmb lets the caller announce
    more than this request carries (the rest in secondary requests); they
    default to the lengths sent.  They are the first fields of the words."""

    _TOTALS: ClassVar[struct.Struct] = _U16X2
    _TOTALS_AT: ClassVar[int] = 0
    total_params_count: int
    total_data_count: int
    params_bytes: bytes
    data_bytes: bytes

    def prepare(self, message: SMBMessage) -> None:
        super().prepare(message)
        words = bytearray(message.parameters_data)
        self._TOTALS.pack_into(words, self._TOTALS_AT,
                               self.total_params_count or len(self.params_bytes),
                               self.total_data_count or len(self.data_bytes))
        message.parameters_data = bytes(words)


class ComTransactionRequest(_TransactionRequestBase):
    """[MS-CIFS] 2.2.4.33.1 TRANSACTION (named pipes, RAP)."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._TRANS_WORDS.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._TRANS_WORDS.size
    COMMAND = c.SMB_COM_TRANSACTION

    def __init__(self, max_params_count: int, max_data_count: int, max_setup_count: int,
                 total_params_count: int = 0, total_data_count: int = 0,
                 params_bytes: bytes = b"", data_bytes: bytes = b"", setup_bytes: bytes = b"",
                 flags: int = 0, timeout: int = 0, name: str = "\\PIPE\\") -> None:
        self.max_params_count = max_params_count
        self.max_data_count = max_data_count
        self.max_setup_count = max_setup_count
        self.total_params_count = total_params_count
        self.total_data_count = total_data_count
        self.params_bytes = params_bytes
        self.data_bytes = data_bytes
        self.setup_bytes = setup_bytes
        self.flags = flags
        self.timeout = timeout
        self.name = name

    def _struct(self) -> S.TransactionRequest:
        return S.TransactionRequest(
            _setup_words(self.setup_bytes), bytes(self.params_bytes), bytes(self.data_bytes),
            self.name, self.max_params_count, self.max_data_count, self.max_setup_count,
            self.flags, self.timeout)


class ComTransaction2Request(_TransactionRequestBase):
    """[MS-CIFS] 2.2.4.46.1 TRANSACTION2 (``setup_bytes`` holds the subcommand)."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._TRANS_WORDS.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._TRANS_WORDS.size
    COMMAND = c.SMB_COM_TRANSACTION2

    def __init__(self, max_params_count: int, max_data_count: int, max_setup_count: int,
                 total_params_count: int = 0, total_data_count: int = 0,
                 params_bytes: bytes = b"", data_bytes: bytes = b"", setup_bytes: bytes = b"",
                 flags: int = 0, timeout: int = 0) -> None:
        self.max_params_count = max_params_count
        self.max_data_count = max_data_count
        self.max_setup_count = max_setup_count
        self.total_params_count = total_params_count
        self.total_data_count = total_data_count
        self.params_bytes = params_bytes
        self.data_bytes = data_bytes
        self.setup_bytes = setup_bytes
        self.flags = flags
        self.timeout = timeout

    def _struct(self) -> S.Transaction2Request:
        return S.Transaction2Request(
            _setup_words(self.setup_bytes), bytes(self.params_bytes), bytes(self.data_bytes),
            self.max_params_count, self.max_data_count, self.max_setup_count, self.flags,
            self.timeout)


class ComNTTransactRequest(_TransactionRequestBase):
    """[MS-CIFS] 2.2.4.62.1 NT_TRANSACT (``setup_bytes`` raw, whole words)."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._NT_TRANS_WORDS.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._NT_TRANS_WORDS.size
    COMMAND = c.SMB_COM_NT_TRANSACT
    # MaxSetupCount (1 byte) and Reserved1 (2 bytes) come before the totals.
    _TOTALS = _U32X2
    _TOTALS_AT = 3

    def __init__(self, function: int, max_params_count: int, max_data_count: int,
                 max_setup_count: int, total_params_count: int = 0, total_data_count: int = 0,
                 params_bytes: bytes = b"", setup_bytes: bytes = b"",
                 data_bytes: bytes = b"") -> None:
        self.function = function
        self.max_params_count = max_params_count
        self.max_data_count = max_data_count
        self.max_setup_count = max_setup_count
        self.total_params_count = total_params_count
        self.total_data_count = total_data_count
        self.params_bytes = params_bytes
        self.setup_bytes = setup_bytes
        self.data_bytes = data_bytes

    def _struct(self) -> S.NtTransactRequest:
        return S.NtTransactRequest(
            self.function, bytes(self.setup_bytes), bytes(self.params_bytes),
            bytes(self.data_bytes), self.max_params_count, self.max_data_count,
            self.max_setup_count)


class _TransactionResponseBase(Payload):
    """One response message of a transaction: ``total_params_count``,
    ``total_data_count``, ``setup_bytes``, ``params_bytes``, ``data_bytes``
    (this message's pieces; ``params_displacement``/``data_displacement``
    say where they go in the whole)."""

    def decode(self, message: SMBMessage) -> None:
        block = _first_block(message, self.COMMAND)
        part = S.TransactionResponsePart.from_block(block)
        self.total_params_count = part.total_parameter_count
        self.total_data_count = part.total_data_count
        self.setup_bytes = bytes(part.setup)
        self.params_bytes = bytes(part.parameters)
        self.params_displacement = part.parameter_displacement
        self.data_bytes = bytes(part.data)
        self.data_displacement = part.data_displacement


class ComTransactionResponse(_TransactionResponseBase):
    """[MS-CIFS] 2.2.4.33.2 TRANSACTION response."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._TRANS_RESP.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._TRANS_RESP.size
    COMMAND = c.SMB_COM_TRANSACTION


class ComTransaction2Response(_TransactionResponseBase):
    """[MS-CIFS] 2.2.4.46.2 TRANSACTION2 response."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._TRANS_RESP.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._TRANS_RESP.size
    COMMAND = c.SMB_COM_TRANSACTION2


class ComNTTransactResponse(_TransactionResponseBase):
    """[MS-CIFS] 2.2.4.62.2 NT_TRANSACT response."""

    PAYLOAD_STRUCT_FORMAT: ClassVar[str] = S._NT_TRANS_RESP.format
    PAYLOAD_STRUCT_SIZE: ClassVar[int] = S._NT_TRANS_RESP.size
    COMMAND = c.SMB_COM_NT_TRANSACT


#: command -> the payload class ``SMBMessage.decode`` gives a response.
_RESPONSES: Dict[int, Type[Payload]] = {
    cls.COMMAND: cls for cls in (
        ComNegotiateResponse, ComSessionSetupAndxResponse, ComTreeConnectAndxResponse,
        ComNTCreateAndxResponse, ComOpenAndxResponse, ComReadAndxResponse,
        ComWriteAndxResponse, ComEchoResponse, ComTransactionResponse,
        ComTransaction2Response, ComNTTransactResponse)
}
