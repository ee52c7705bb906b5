"""SMB1 (NT LM 0.12) wire messages: pack and unpack, nothing else.

Every message is a small frozen dataclass.  A request knows how to lay out its
parameter words and data bytes once it is told where its block starts
(``pack_block(offset, unicode)``); a response is parsed from an
:class:`AndXBlock` (``from_block``) or from a whole message
(``unpack_from(buf, offset=0)``).  Offsets inside SMB1 messages (AndXOffset,
DataOffset, ParameterOffset, Unicode alignment) are always counted from the
first byte of the SMB header, never from the transport frame.

Parsers treat the peer as hostile: every offset and length is checked before
it is used, and malformed input raises :class:`MalformedResponse` (a :class:`ProtocolError`) only.

References: [MS-CIFS] 2.2 (messages), [MS-SMB] 2.2 (the NT LM 0.12 extensions
Windows and Samba use), the CIFS draft (Leach/Naik 1997) section 4.
"""
from __future__ import annotations

import bisect
import hmac
import struct
from dataclasses import dataclass, field, replace
from typing import ClassVar, List, Optional, Sequence, Tuple, Type, TypeVar, Union

from smb import _reexport
from smb import smb_constants as c
from smb.crypto import md5
from smb.exceptions import MalformedResponse, OperationFailure, ProtocolError, SMBError, UnsupportedFeature
from . import fscc
# The pass-through information levels share their layout with SMB2 ([MS-FSCC]).
from .fscc import FileBasicInformation, FileFsFullSizeInformation, FileFsSizeInformation  # noqa: F401

__all__ = [
    "SUPPORT_SMB2", "SUPPORT_SMB2x", "SUPPORT_EXTENDED_SECURITY",
    "ProtocolError", "OperationFailure", "UnsupportedFeature", "SMBError",
    "Smb1Header", "Smb1Status", "AndXBlock", "build_message", "build_request", "build_andx_chain",
    "parse_message", "parse_blocks", "smb1_signature", "smb1_verify_signature",
    "NegotiateRequest", "NegotiateResponse", "build_negotiate_request",
    "SessionSetupAndXRequest", "SessionSetupAndXNtlmRequest", "SessionSetupAndXResponse",
    "TreeConnectAndXRequest", "TreeConnectAndXResponse",
    "LogoffAndXRequest", "LogoffAndXResponse",
    "TreeDisconnectRequest", "TreeDisconnectResponse",
    "NtCreateAndXRequest", "NtCreateAndXResponse",
    "CloseRequest", "CloseResponse",
    "ReadAndXRequest", "ReadAndXResponse",
    "WriteAndXRequest", "WriteAndXResponse",
    "EchoRequest", "EchoResponse",
    "DeleteRequest", "DeleteResponse", "RenameRequest", "RenameResponse",
    "NtRenameRequest", "NtRenameResponse",
    "CreateDirectoryRequest", "CreateDirectoryResponse",
    "DeleteDirectoryRequest", "DeleteDirectoryResponse",
    "TransactionRequest", "Transaction2Request", "NtTransactRequest",
    "TransactionResponsePart", "TransactionResponse", "TransactionAssembler",
    "FindFirst2Params", "FindFirst2ResponseParams", "FindNext2Params", "FindNext2ResponseParams",
    "QueryPathInformationParams", "SetPathInformationParams",
    "QueryFileInformationParams", "SetFileInformationParams", "QueryFsInformationParams",
    "FileBothDirectoryInfo", "parse_find_file_both_directory_info",
    "pack_find_file_both_directory_info",
    "FileBasicInformation", "FileAllInformation", "FileFsSizeInformation",
    "FileFsFullSizeInformation", "pack_file_rename_information",
    "pack_file_disposition_information", "pack_file_end_of_file_information",
    "QuerySecurityDescParams", "QuerySecurityDescResponseParams", "NtIoctlSetup",
]

# pysmb's module flags: users set them before connect() to steer negotiation.
SUPPORT_SMB2 = True
SUPPORT_SMB2x = True
SUPPORT_EXTENDED_SECURITY = True

Buffer = Union[bytes, bytearray, memoryview]

HEADER_SIZE = 32
#: Bytes of the header before SecurityFeatures (the signature field).
SIGNATURE_OFFSET = 14
#: No AndX chain we build or accept is longer than this.
MAX_ANDX_CHAIN = 8
#: Cap on a reassembled transaction (parameters and data each).
MAX_TRANSACTION_SIZE = 16 * 1024 * 1024

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")

#: Commands whose parameter words start with AndXCommand/AndXReserved/AndXOffset.
ANDX_COMMANDS = frozenset({
    c.SMB_COM_LOCKING_ANDX, c.SMB_COM_OPEN_ANDX, c.SMB_COM_READ_ANDX, c.SMB_COM_WRITE_ANDX,
    c.SMB_COM_SESSION_SETUP_ANDX, c.SMB_COM_LOGOFF_ANDX, c.SMB_COM_TREE_CONNECT_ANDX,
    c.SMB_COM_NT_CREATE_ANDX,
})


# --------------------------------------------------------------------------- helpers


def _view(buf: Buffer, offset: int = 0) -> memoryview:
    """A flat byte view of ``buf`` from ``offset`` (no copy)."""
    mv = memoryview(buf)
    if mv.ndim != 1 or mv.format != "B":
        mv = mv.cast("B")
    if offset < 0 or offset > len(mv):
        raise MalformedResponse(f"offset {offset} outside a buffer of {len(mv)} bytes")
    return mv[offset:] if offset else mv


def _u16(mv: memoryview, pos: int) -> int:
    return int(_U16.unpack_from(mv, pos)[0])


def _enc_str(text: str, offset: int, unicode: bool, align: bool = True) -> bytes:
    """Encode a NUL-terminated SMB_STRING that starts at ``offset`` (from the header).

    Unicode strings are word-aligned relative to the header start: a pad byte
    is inserted when ``offset`` is odd (CIFS draft 3.x "Unicode strings").
    The OEM form is ASCII.
    """
    if unicode:
        pad = b"\x00" if (align and offset & 1) else b""
        return pad + text.encode("utf-16-le", "surrogatepass") + b"\x00\x00"
    return text.encode("ascii") + b"\x00"


def _dec_str(mv: memoryview, pos: int, end: int, unicode: bool,
             align: bool = True) -> Tuple[str, int]:
    """Decode a NUL-terminated string at ``pos`` in the message, bounded by ``end``.

    Returns ``(text, position after the terminator)``.  A string cut off by
    ``end`` without a terminator is returned as far as it goes (servers omit
    the terminator of the last informational string); a string that is
    missing altogether decodes as ``""``.  Never raises on bad UTF-16: lone
    surrogates are kept (``surrogatepass``) so that names round-trip.
    """
    end = min(end, len(mv))
    if unicode:
        if align and pos & 1:
            pos += 1
        if pos >= end:
            return "", end
        raw = bytes(mv[pos:end])
        idx = raw.find(b"\x00\x00")
        while idx != -1 and idx & 1:
            idx = raw.find(b"\x00\x00", idx + 1)
        if idx == -1:
            body = raw[: len(raw) & ~1]
            return body.decode("utf-16-le", "surrogatepass"), end
        return raw[:idx].decode("utf-16-le", "surrogatepass"), pos + idx + 2
    if pos >= end:
        return "", end
    raw = bytes(mv[pos:end])
    idx = raw.find(b"\x00")
    if idx == -1:
        return raw.decode("latin-1"), end
    return raw[:idx].decode("latin-1"), pos + idx + 1


def _dec_name(raw: Buffer, unicode: bool) -> str:
    """Decode a length-counted (not terminated) name; odd UTF-16 length is an error."""
    if unicode:
        if len(raw) & 1:
            raise MalformedResponse("odd length for a UTF-16 name")
        return bytes(raw).decode("utf-16-le", "surrogatepass")
    return bytes(raw).decode("latin-1")


def _enc_name(text: str, unicode: bool) -> bytes:
    return text.encode("utf-16-le", "surrogatepass") if unicode else text.encode("ascii")


def _pad_to(pos: int, align: int) -> int:
    return (-pos) % align


def _check_words(block: "AndXBlock", *sizes: int) -> None:
    if len(block.words) not in sizes:
        raise MalformedResponse(
            f"command 0x{block.command:02x}: WordCount {len(block.words) // 2} unexpected")


# --------------------------------------------------------------------------- header


_HEADER = struct.Struct("<4sBIBHH8sHHHHH")


@dataclass(frozen=True)
class Smb1Header:
    """[MS-CIFS] 2.2.3.1 the 32-byte SMB header (with [MS-SMB] 2.2.3.1 PIDHigh/signature)."""

    command: int = 0
    status: int = 0
    flags: int = 0
    flags2: int = 0
    pid_high: int = 0
    security_features: bytes = b"\x00" * 8
    tid: int = 0
    pid_low: int = 0
    uid: int = 0
    mid: int = 0

    size: ClassVar[int] = HEADER_SIZE

    @property
    def is_reply(self) -> bool:
        return bool(self.flags & c.SMB_FLAGS_REPLY)

    @property
    def unicode(self) -> bool:
        return bool(self.flags2 & c.SMB_FLAGS2_UNICODE)

    @property
    def pid(self) -> int:
        return (self.pid_high << 16) | self.pid_low

    def pack(self) -> bytes:
        if len(self.security_features) != 8:
            raise ValueError("security_features must be 8 bytes")
        return _HEADER.pack(c.SMB1_PROTOCOL_ID, self.command, self.status, self.flags,
                            self.flags2, self.pid_high, bytes(self.security_features), 0,
                            self.tid, self.pid_low, self.uid, self.mid)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "Smb1Header":
        mv = _view(buf, offset)
        if len(mv) < HEADER_SIZE:
            raise MalformedResponse(f"SMB1 header needs {HEADER_SIZE} bytes, got {len(mv)}")
        (proto, command, status, flags, flags2, pid_high, sec, _reserved, tid, pid_low,
         uid, mid) = _HEADER.unpack_from(mv, 0)
        if proto != c.SMB1_PROTOCOL_ID:
            raise MalformedResponse("not an SMB1 message (bad protocol id)", bytes(mv[:4]))
        return cls(command, status, flags, flags2, pid_high, sec, tid, pid_low, uid, mid)


class Smb1Status(int):
    """The status of a received SMB1 message: an ``int`` (the NTSTATUS, or the
    DOS error class and code packed as the header holds them) that also has
    the fields of pysmb's status object, ``internal_value`` and
    ``is_ntstatus``, and its ``hasError`` property."""

    is_ntstatus: bool

    def __new__(cls, value: int, is_ntstatus: bool = True) -> "Smb1Status":
        self = super().__new__(cls, value)
        self.is_ntstatus = is_ntstatus
        return self

    @property
    def internal_value(self) -> int:
        """The status as a plain ``int`` (pysmb's field)."""
        return int(self)

    @property
    def hasError(self) -> bool:
        """True unless the status is 0 (success); a property, as in pysmb."""
        return int(self) != 0

    def __repr__(self) -> str:
        return "Smb1Status(0x%08X)" % int(self)

    __str__ = int.__repr__

    def __reduce__(self) -> Tuple[type, Tuple[int, bool]]:
        return (Smb1Status, (int(self), self.is_ntstatus))


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class AndXBlock:
    """One command block of a message: WordCount, words, ByteCount, bytes.

    A message without chaining has exactly one block (at offset 32).  ``offset``
    is the position of the WordCount byte from the header start; ``message`` is
    the whole message (header first), so that the offsets a block carries can
    be resolved.  [MS-CIFS] 2.2.3.2 / 2.2.3.3, AndX chaining 2.2.3.4.
    """

    command: int
    offset: int
    words: memoryview
    data: memoryview
    message: memoryview = field(repr=False)
    unicode: bool = True
    is_reply: bool = True

    @property
    def data_offset(self) -> int:
        """Offset (from the header) of the first byte after ByteCount."""
        return self.offset + 1 + len(self.words) + 2

    @property
    def data_end(self) -> int:
        return self.data_offset + len(self.data)


def _words_length(command: int, is_reply: bool, word_count: int) -> int:
    # [MS-SMB] 2.2.4.9.2: the extended NT_CREATE_ANDX response carries 50 words
    # while its WordCount says 42 (Windows and Samba both send it that way).
    if command == c.SMB_COM_NT_CREATE_ANDX and is_reply and word_count == 42:
        return 100
    return word_count * 2


def _block_at(mv: memoryview, pos: int, command: int, unicode: bool,
              is_reply: bool) -> AndXBlock:
    if pos >= len(mv):
        raise MalformedResponse(f"command block at {pos} is past the end of the message")
    nbytes = _words_length(command, is_reply, mv[pos])
    words_end = pos + 1 + nbytes
    if words_end + 2 > len(mv):
        raise MalformedResponse("message truncated inside the parameter words")
    byte_count = _u16(mv, words_end)
    data_start = words_end + 2
    if data_start + byte_count > len(mv):
        raise MalformedResponse(
            f"ByteCount {byte_count} runs past the end of the message ({len(mv)} bytes)")
    return AndXBlock(command, pos, mv[pos + 1:words_end], mv[data_start:data_start + byte_count],
                     mv, unicode, is_reply)


def parse_blocks(buf: Buffer, offset: int = 0) -> Tuple[Smb1Header, List[AndXBlock]]:
    """Parse a message and walk its AndX chain.  [MS-CIFS] 2.2.3.4

    Returns the header and the blocks in order (one for non-AndX commands).
    Every AndXOffset must point past the ByteCount of the block holding it
    (so offsets only move forward and a chain cannot loop), and the chain is
    capped at :data:`MAX_ANDX_CHAIN` blocks.
    """
    mv = _view(buf, offset)
    header = Smb1Header.unpack_from(mv)
    block = _block_at(mv, HEADER_SIZE, header.command, header.unicode, header.is_reply)
    blocks = [block]
    while block.command in ANDX_COMMANDS and len(block.words) >= 4:
        next_command = block.words[0]
        if next_command == c.SMB_COM_NO_ANDX_COMMAND:
            break
        next_offset = _u16(block.words, 2)
        if next_offset < block.data_offset:
            raise MalformedResponse(
                f"AndXOffset {next_offset} does not move forward (block at {block.offset})")
        if len(blocks) >= MAX_ANDX_CHAIN:
            raise MalformedResponse("AndX chain too long")
        block = _block_at(mv, next_offset, next_command, header.unicode, header.is_reply)
        blocks.append(block)
    return header, blocks


def parse_message(buf: Buffer, offset: int = 0) -> Tuple[Smb1Header, memoryview, memoryview]:
    """Parse ``header, words, data`` of a message's first block.  [MS-CIFS] 2.2.3

    WordCount and ByteCount are validated against the buffer; ``words`` and
    ``data`` are views into ``buf`` (no copy).  Trailing bytes are ignored.
    """
    mv = _view(buf, offset)
    header = Smb1Header.unpack_from(mv)
    block = _block_at(mv, HEADER_SIZE, header.command, header.unicode, header.is_reply)
    return header, block.words, block.data


def build_message(header: Smb1Header, word_params: bytes, data: bytes,
                  word_count: Optional[int] = None) -> bytes:
    """Header + WordCount + words + ByteCount + bytes.  [MS-CIFS] 2.2.3

    ``word_count`` overrides the WordCount byte for the one message that
    lies about it (the extended NT_CREATE_ANDX response).
    """
    if len(word_params) & 1 or len(word_params) > 510:
        raise ValueError("parameter words must be an even number of bytes, at most 510")
    if len(data) > 0xFFFF:
        raise ValueError("data block longer than 65535 bytes")
    wc = len(word_params) // 2 if word_count is None else word_count
    return b"".join((header.pack(), bytes((wc,)), word_params, _U16.pack(len(data)), data))


class _Message:
    """Shared behaviour of the message classes (not a dataclass itself)."""

    COMMAND: ClassVar[int]

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        """Words and data of this command for a block whose WordCount is at ``offset``."""
        raise NotImplementedError

    def wire_word_count(self, words: bytes) -> int:
        return len(words) // 2

    def pack(self, header: Smb1Header) -> bytes:
        """The whole message with ``header`` (its command is set from the class)."""
        return build_request(header, self)


def build_request(header: Smb1Header, message: _Message) -> bytes:
    """One message: ``header`` (command taken from ``message``) plus its block."""
    hdr = replace(header, command=message.COMMAND)
    words, data = message.pack_block(HEADER_SIZE, hdr.unicode)
    return build_message(hdr, words, data, message.wire_word_count(words))


def build_andx_chain(header: Smb1Header, messages: Sequence[_Message]) -> bytes:
    """Chain several commands in one message.  [MS-CIFS] 2.2.3.4

    Every message but the last must be an AndX command; its AndXCommand and
    AndXOffset are filled in here, the last one's are left at 0xFF / 0.
    Offsets are from the start of the SMB header.
    """
    if not messages:
        raise ValueError("empty AndX chain")
    if len(messages) > MAX_ANDX_CHAIN:
        raise ValueError("AndX chain too long")
    hdr = replace(header, command=messages[0].COMMAND)
    out = bytearray(hdr.pack())
    prev_words_at = -1
    for index, msg in enumerate(messages):
        if index < len(messages) - 1 and msg.COMMAND not in ANDX_COMMANDS:
            raise ValueError(f"command 0x{msg.COMMAND:02x} cannot be followed in an AndX chain")
        pos = len(out)
        if pos > 0xFFFF:
            raise ValueError("AndX chain does not fit 16-bit offsets")
        words, data = msg.pack_block(pos, hdr.unicode)
        if len(data) > 0xFFFF:
            raise ValueError("data block longer than 65535 bytes")
        if prev_words_at >= 0:
            out[prev_words_at] = msg.COMMAND
            out[prev_words_at + 2:prev_words_at + 4] = _U16.pack(pos)
        out.append(msg.wire_word_count(words))
        out += words
        out += _U16.pack(len(data))
        out += data
        prev_words_at = pos + 1
    return bytes(out)


_R = TypeVar("_R", bound="_Response")


class _Response(_Message):
    """Responses parse from a block; ``unpack_from`` parses a message's first block."""

    @classmethod
    def _from_block(cls: Type[_R], block: AndXBlock) -> _R:
        raise NotImplementedError

    @classmethod
    def from_block(cls: Type[_R], block: AndXBlock) -> _R:
        if block.command != cls.COMMAND:
            raise MalformedResponse(
                f"expected command 0x{cls.COMMAND:02x}, got 0x{block.command:02x}")
        try:
            return cls._from_block(block)
        except (struct.error, IndexError, UnicodeDecodeError, ValueError) as err:
            raise MalformedResponse(f"malformed {cls.__name__}: {err}") from err

    @classmethod
    def unpack_from(cls: Type[_R], buf: Buffer, offset: int = 0) -> _R:
        mv = _view(buf, offset)
        header = Smb1Header.unpack_from(mv)
        block = _block_at(mv, HEADER_SIZE, header.command, header.unicode, header.is_reply)
        return cls.from_block(block)


_ANDX_NONE = struct.Struct("<BBH").pack(c.SMB_COM_NO_ANDX_COMMAND, 0, 0)


# --------------------------------------------------------------------------- NEGOTIATE


@dataclass(frozen=True)
class NegotiateRequest(_Message):
    """[MS-CIFS] 2.2.4.52.1 SMB_COM_NEGOTIATE request: the dialect strings (always OEM)."""

    dialects: Tuple[str, ...] = (c.DIALECT_NT_LM_012,)
    COMMAND: ClassVar[int] = c.SMB_COM_NEGOTIATE

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        data = b"".join(b"\x02" + d.encode("ascii") + b"\x00" for d in self.dialects)
        return b"", data


_NEGOTIATE_WORDS = struct.Struct("<HBHHIIIIQhB")


@dataclass(frozen=True)
class NegotiateResponse(_Response):
    """[MS-CIFS] 2.2.4.52.2 NT LM 0.12 response; [MS-SMB] 2.2.4.5.2 extended-security form.

    With CAP_EXTENDED_SECURITY the bytes are ServerGUID + SecurityBlob;
    otherwise Challenge + DomainName + ServerName.  A response with
    WordCount 1 (no dialect accepted) parses with only ``dialect_index`` set.
    """

    dialect_index: int
    security_mode: int = 0
    max_mpx_count: int = 0
    max_number_vcs: int = 0
    max_buffer_size: int = 0
    max_raw_size: int = 0
    session_key: int = 0
    capabilities: int = 0
    system_time: int = 0
    server_time_zone: int = 0
    challenge: bytes = b""
    domain_name: str = ""
    server_name: str = ""
    server_guid: bytes = b""
    security_blob: bytes = b""
    COMMAND: ClassVar[int] = c.SMB_COM_NEGOTIATE

    @property
    def extended_security(self) -> bool:
        return bool(self.capabilities & c.CAP_EXTENDED_SECURITY)

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        if self.extended_security:
            if len(self.server_guid) != 16:
                raise ValueError("server_guid must be 16 bytes")
            data = self.server_guid + self.security_blob
            challenge_length = 0
        else:
            if len(self.challenge) > 255:
                raise ValueError("challenge too long")
            challenge_length = len(self.challenge)
            pos = offset + 1 + _NEGOTIATE_WORDS.size + 2 + challenge_length
            # Samba and Windows put these names right after the challenge, unaligned.
            domain = _enc_str(self.domain_name, pos, unicode, align=False)
            server = _enc_str(self.server_name, pos + len(domain), unicode, align=False)
            data = self.challenge + domain + server
        words = _NEGOTIATE_WORDS.pack(
            self.dialect_index, self.security_mode, self.max_mpx_count, self.max_number_vcs,
            self.max_buffer_size, self.max_raw_size, self.session_key, self.capabilities,
            self.system_time, self.server_time_zone, challenge_length)
        return words, data

    @classmethod
    def _from_block(cls, block: AndXBlock) -> "NegotiateResponse":
        if len(block.words) == 2:
            return cls(_u16(block.words, 0))
        _check_words(block, _NEGOTIATE_WORDS.size)
        (dialect_index, security_mode, max_mpx, max_vcs, max_buf, max_raw, session_key, caps,
         system_time, tz, challenge_length) = _NEGOTIATE_WORDS.unpack_from(block.words, 0)
        data = block.data
        common = dict(dialect_index=dialect_index, security_mode=security_mode,
                      max_mpx_count=max_mpx, max_number_vcs=max_vcs, max_buffer_size=max_buf,
                      max_raw_size=max_raw, session_key=session_key, capabilities=caps,
                      system_time=system_time, server_time_zone=tz)
        if caps & c.CAP_EXTENDED_SECURITY:
            if len(data) < 16:
                raise MalformedResponse("NEGOTIATE response too short for ServerGUID")
            return cls(server_guid=bytes(data[:16]), security_blob=bytes(data[16:]), **common)
        if challenge_length > len(data):
            raise MalformedResponse("ChallengeLength runs past ByteCount")
        pos = block.data_offset + challenge_length
        domain, pos = _dec_str(block.message, pos, block.data_end, block.unicode, align=False)
        server, pos = _dec_str(block.message, pos, block.data_end, block.unicode, align=False)
        return cls(challenge=bytes(data[:challenge_length]), domain_name=domain,
                   server_name=server, **common)


def build_negotiate_request(dialects: Sequence[str] = (c.DIALECT_NT_LM_012,),
                            extended_security: bool = True, mid: int = 0,
                            pid: int = 0) -> bytes:
    """The whole opening SMB1 NEGOTIATE message (Unicode, NT status codes).

    [MS-CIFS] 2.2.4.52.1; SMB2 dialect strings may be among ``dialects``
    ([MS-SMB2] 3.2.4.2.1).  ``extended_security`` sets SMB_FLAGS2_EXTENDED_SECURITY.
    """
    flags2 = (c.SMB_FLAGS2_UNICODE | c.SMB_FLAGS2_NT_STATUS | c.SMB_FLAGS2_LONG_NAMES
              | c.SMB_FLAGS2_IS_LONG_NAME)
    if extended_security:
        flags2 |= c.SMB_FLAGS2_EXTENDED_SECURITY
    header = Smb1Header(flags=c.SMB_FLAGS_CASE_INSENSITIVE | c.SMB_FLAGS_CANONICALIZED_PATHS,
                        flags2=flags2, pid_high=(pid >> 16) & 0xFFFF, pid_low=pid & 0xFFFF,
                        mid=mid)
    return NegotiateRequest(tuple(dialects)).pack(header)


# --------------------------------------------------------------------------- SESSION_SETUP_ANDX


_SESSION_SETUP_EXT_WORDS = struct.Struct("<BBHHHHIHII")
_SESSION_SETUP_NTLM_WORDS = struct.Struct("<BBHHHHIHHII")


@dataclass(frozen=True)
class SessionSetupAndXRequest(_Message):
    """[MS-SMB] 2.2.4.6.1 SESSION_SETUP_ANDX request, extended-security form (WordCount 12)."""

    security_blob: bytes = field(repr=False)  # NTLMSSP tokens stay out of logs
    max_buffer_size: int = 0xFFFF
    max_mpx_count: int = 50
    vc_number: int = 0
    session_key: int = 0
    capabilities: int = 0
    native_os: str = "Unix"
    native_lanman: str = "smbwire"
    COMMAND: ClassVar[int] = c.SMB_COM_SESSION_SETUP_ANDX

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        if len(self.security_blob) > 0xFFFF:
            raise ValueError("security blob too long")
        words = _SESSION_SETUP_EXT_WORDS.pack(
            c.SMB_COM_NO_ANDX_COMMAND, 0, 0, self.max_buffer_size, self.max_mpx_count,
            self.vc_number, self.session_key, len(self.security_blob), 0, self.capabilities)
        pos = offset + 1 + len(words) + 2 + len(self.security_blob)
        native_os = _enc_str(self.native_os, pos, unicode)
        lanman = _enc_str(self.native_lanman, pos + len(native_os), unicode)
        return words, self.security_blob + native_os + lanman


@dataclass(frozen=True)
class SessionSetupAndXNtlmRequest(_Message):
    """[MS-CIFS] 2.2.4.53.1 SESSION_SETUP_ANDX request, NT LM 0.12 form (WordCount 13).

    ``oem_password`` / ``unicode_password`` carry the LM and NT responses
    (OEMPassword / UnicodePassword in the spec).
    """

    oem_password: bytes = b""
    unicode_password: bytes = b""
    account_name: str = ""
    primary_domain: str = ""
    max_buffer_size: int = 0xFFFF
    max_mpx_count: int = 50
    vc_number: int = 0
    session_key: int = 0
    capabilities: int = 0
    native_os: str = "Unix"
    native_lanman: str = "smbwire"
    COMMAND: ClassVar[int] = c.SMB_COM_SESSION_SETUP_ANDX

    def __repr__(self) -> str:
        # Password fields hold authentication responses: keep them out of logs.
        return (f"SessionSetupAndXNtlmRequest(account_name={self.account_name!r}, "
                f"primary_domain={self.primary_domain!r}, capabilities=0x{self.capabilities:x})")

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        if len(self.oem_password) > 0xFFFF or len(self.unicode_password) > 0xFFFF:
            raise ValueError("password field too long")
        words = _SESSION_SETUP_NTLM_WORDS.pack(
            c.SMB_COM_NO_ANDX_COMMAND, 0, 0, self.max_buffer_size, self.max_mpx_count,
            self.vc_number, self.session_key, len(self.oem_password),
            len(self.unicode_password), 0, self.capabilities)
        out = bytearray(self.oem_password + self.unicode_password)
        base = offset + 1 + len(words) + 2
        for text in (self.account_name, self.primary_domain, self.native_os, self.native_lanman):
            out += _enc_str(text, base + len(out), unicode)
        return words, bytes(out)


_SESSION_SETUP_RESP = struct.Struct("<BBHH")
_SESSION_SETUP_RESP_EXT = struct.Struct("<BBHHH")


@dataclass(frozen=True)
class SessionSetupAndXResponse(_Response):
    """[MS-CIFS] 2.2.4.53.2 (WordCount 3) and [MS-SMB] 2.2.4.6.2 (WordCount 4) response.

    ``extended`` is True for the extended-security form, which carries
    ``security_blob``.  ``action & SMB_SETUP_GUEST`` tells a guest logon.
    """

    action: int = 0
    security_blob: bytes = b""
    native_os: str = ""
    native_lanman: str = ""
    primary_domain: str = ""
    extended: bool = True
    COMMAND: ClassVar[int] = c.SMB_COM_SESSION_SETUP_ANDX

    @property
    def is_guest(self) -> bool:
        return bool(self.action & c.SMB_SETUP_GUEST)

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        if self.extended:
            words = _SESSION_SETUP_RESP_EXT.pack(c.SMB_COM_NO_ANDX_COMMAND, 0, 0, self.action,
                                                 len(self.security_blob))
            out = bytearray(self.security_blob)
            strings: Tuple[str, ...] = (self.native_os, self.native_lanman)
            if self.primary_domain:
                strings += (self.primary_domain,)
        else:
            words = _SESSION_SETUP_RESP.pack(c.SMB_COM_NO_ANDX_COMMAND, 0, 0, self.action)
            out = bytearray()
            strings = (self.native_os, self.native_lanman, self.primary_domain)
        base = offset + 1 + len(words) + 2
        for text in strings:
            out += _enc_str(text, base + len(out), unicode)
        return words, bytes(out)

    @classmethod
    def _from_block(cls, block: AndXBlock) -> "SessionSetupAndXResponse":
        _check_words(block, _SESSION_SETUP_RESP.size, _SESSION_SETUP_RESP_EXT.size)
        extended = len(block.words) == _SESSION_SETUP_RESP_EXT.size
        blob = b""
        if extended:
            _, _, _, action, blob_length = _SESSION_SETUP_RESP_EXT.unpack_from(block.words, 0)
            if blob_length > len(block.data):
                raise MalformedResponse("SecurityBlobLength runs past ByteCount")
            blob = bytes(block.data[:blob_length])
        else:
            _, _, _, action = _SESSION_SETUP_RESP.unpack_from(block.words, 0)
        pos = block.data_offset + len(blob)
        native_os, pos = _dec_str(block.message, pos, block.data_end, block.unicode)
        lanman, pos = _dec_str(block.message, pos, block.data_end, block.unicode)
        domain, pos = _dec_str(block.message, pos, block.data_end, block.unicode)
        return cls(action, blob, native_os, lanman, domain, extended)


# --------------------------------------------------------------------------- TREE_CONNECT_ANDX


_TREE_CONNECT_WORDS = struct.Struct("<BBHHH")


@dataclass(frozen=True)
class TreeConnectAndXRequest(_Message):
    """[MS-CIFS] 2.2.4.55.1 TREE_CONNECT_ANDX request: ``path`` is ``\\\\server\\share``.

    With user-level security the password is a single NUL byte.  The service
    string is always OEM (``?????`` = any type).
    """

    path: str
    service: str = "?????"
    password: bytes = field(default=b"\x00", repr=False)
    flags: int = 0
    COMMAND: ClassVar[int] = c.SMB_COM_TREE_CONNECT_ANDX

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        words = _TREE_CONNECT_WORDS.pack(c.SMB_COM_NO_ANDX_COMMAND, 0, 0, self.flags,
                                         len(self.password))
        pos = offset + 1 + len(words) + 2 + len(self.password)
        path = _enc_str(self.path, pos, unicode)
        return words, self.password + path + self.service.encode("ascii") + b"\x00"


_TREE_CONNECT_RESP = struct.Struct("<BBHH")
_TREE_CONNECT_RESP_EXT = struct.Struct("<BBHHII")


@dataclass(frozen=True)
class TreeConnectAndXResponse(_Response):
    """[MS-CIFS] 2.2.4.55.2 response (WordCount 3); [MS-SMB] 2.2.4.7.2 extended (WordCount 7)."""

    optional_support: int = 0
    service: str = ""
    native_file_system: str = ""
    maximal_share_access_rights: Optional[int] = None
    guest_maximal_share_access_rights: Optional[int] = None
    COMMAND: ClassVar[int] = c.SMB_COM_TREE_CONNECT_ANDX

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        if self.maximal_share_access_rights is not None:
            words = _TREE_CONNECT_RESP_EXT.pack(
                c.SMB_COM_NO_ANDX_COMMAND, 0, 0, self.optional_support,
                self.maximal_share_access_rights, self.guest_maximal_share_access_rights or 0)
        else:
            words = _TREE_CONNECT_RESP.pack(c.SMB_COM_NO_ANDX_COMMAND, 0, 0,
                                            self.optional_support)
        service = self.service.encode("ascii") + b"\x00"
        pos = offset + 1 + len(words) + 2 + len(service)
        return words, service + _enc_str(self.native_file_system, pos, unicode)

    @classmethod
    def _from_block(cls, block: AndXBlock) -> "TreeConnectAndXResponse":
        _check_words(block, _TREE_CONNECT_RESP.size, _TREE_CONNECT_RESP_EXT.size)
        maximal = guest = None
        if len(block.words) == _TREE_CONNECT_RESP_EXT.size:
            _, _, _, support, maximal, guest = _TREE_CONNECT_RESP_EXT.unpack_from(block.words, 0)
        else:
            _, _, _, support = _TREE_CONNECT_RESP.unpack_from(block.words, 0)
        service, pos = _dec_str(block.message, block.data_offset, block.data_end, False)
        fs_name, pos = _dec_str(block.message, pos, block.data_end, block.unicode)
        return cls(support, service, fs_name, maximal, guest)


# --------------------------------------------------------------------------- LOGOFF / TREE_DISCONNECT


@dataclass(frozen=True)
class LogoffAndXRequest(_Message):
    """[MS-CIFS] 2.2.4.54.1 LOGOFF_ANDX request (WordCount 2, no bytes)."""

    COMMAND: ClassVar[int] = c.SMB_COM_LOGOFF_ANDX

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return _ANDX_NONE, b""


@dataclass(frozen=True)
class LogoffAndXResponse(_Response):
    """[MS-CIFS] 2.2.4.54.2 LOGOFF_ANDX response (WordCount 2, no bytes)."""

    COMMAND: ClassVar[int] = c.SMB_COM_LOGOFF_ANDX

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return _ANDX_NONE, b""

    @classmethod
    def _from_block(cls, block: AndXBlock) -> "LogoffAndXResponse":
        _check_words(block, 4)
        return cls()


class _Empty(_Response):
    """A command block with WordCount 0 and ByteCount 0."""

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return b"", b""

    @classmethod
    def _from_block(cls: Type[_R], block: AndXBlock) -> _R:
        _check_words(block, 0)
        return cls()


@dataclass(frozen=True)
class TreeDisconnectRequest(_Empty):
    """[MS-CIFS] 2.2.4.51.1 TREE_DISCONNECT request (the TID is in the header)."""

    COMMAND: ClassVar[int] = c.SMB_COM_TREE_DISCONNECT


@dataclass(frozen=True)
class TreeDisconnectResponse(_Empty):
    """[MS-CIFS] 2.2.4.51.2 TREE_DISCONNECT response."""

    COMMAND: ClassVar[int] = c.SMB_COM_TREE_DISCONNECT


# --------------------------------------------------------------------------- NT_CREATE_ANDX


_NT_CREATE_WORDS = struct.Struct("<BBHBHIIIQIIIIIB")
_NT_CREATE_RESP = struct.Struct("<BBHBHIQQQQIQQHHB")
_NT_CREATE_RESP_EXT = struct.Struct("<16sQII")


@dataclass(frozen=True)
class NtCreateAndXRequest(_Message):
    """[MS-CIFS] 2.2.4.64.1 / [MS-SMB] 2.2.4.9.1 NT_CREATE_ANDX request."""

    file_name: str
    desired_access: int = c.GENERIC_READ
    share_access: int = c.FILE_SHARE_READ
    create_disposition: int = c.FILE_OPEN
    create_options: int = 0
    ext_file_attributes: int = 0
    flags: int = 0
    root_directory_fid: int = 0
    allocation_size: int = 0
    impersonation_level: int = c.SEC_IMPERSONATE
    security_flags: int = 0
    COMMAND: ClassVar[int] = c.SMB_COM_NT_CREATE_ANDX

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        # NameLength counts the name bytes without the terminator, as Windows sends it.
        name_length = len(_enc_name(self.file_name, unicode))
        words = _NT_CREATE_WORDS.pack(
            c.SMB_COM_NO_ANDX_COMMAND, 0, 0, 0, name_length, self.flags,
            self.root_directory_fid, self.desired_access, self.allocation_size,
            self.ext_file_attributes, self.share_access, self.create_disposition,
            self.create_options, self.impersonation_level, self.security_flags)
        pos = offset + 1 + len(words) + 2
        return words, _enc_str(self.file_name, pos, unicode)


@dataclass(frozen=True)
class NtCreateAndXResponse(_Response):
    """[MS-CIFS] 2.2.4.64.2 response (34 words) and [MS-SMB] 2.2.4.9.2 extended form.

    The extended form has 50 words on the wire but WordCount 42; ``volume_guid``
    is not None exactly for the extended form.
    """

    oplock_level: int = 0
    fid: int = 0
    create_disposition: int = 0
    create_time: int = 0
    last_access_time: int = 0
    last_write_time: int = 0
    change_time: int = 0
    ext_file_attributes: int = 0
    allocation_size: int = 0
    end_of_file: int = 0
    resource_type: int = 0
    nm_pipe_status: int = 0
    directory: bool = False
    volume_guid: Optional[bytes] = None
    file_id: int = 0
    maximal_access_rights: int = 0
    guest_maximal_access_rights: int = 0
    COMMAND: ClassVar[int] = c.SMB_COM_NT_CREATE_ANDX

    @property
    def extended(self) -> bool:
        return self.volume_guid is not None

    def wire_word_count(self, words: bytes) -> int:
        return 42 if self.extended else len(words) // 2

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        words = _NT_CREATE_RESP.pack(
            c.SMB_COM_NO_ANDX_COMMAND, 0, 0, self.oplock_level, self.fid,
            self.create_disposition, self.create_time, self.last_access_time,
            self.last_write_time, self.change_time, self.ext_file_attributes,
            self.allocation_size, self.end_of_file, self.resource_type, self.nm_pipe_status,
            int(self.directory))
        if self.volume_guid is not None:
            words += _NT_CREATE_RESP_EXT.pack(self.volume_guid, self.file_id,
                                              self.maximal_access_rights,
                                              self.guest_maximal_access_rights)
        return words, b""

    @classmethod
    def _from_block(cls, block: AndXBlock) -> "NtCreateAndXResponse":
        _check_words(block, _NT_CREATE_RESP.size, _NT_CREATE_RESP.size + _NT_CREATE_RESP_EXT.size)
        (_, _, _, oplock, fid, disposition, ctime, atime, wtime, chtime, attrs, alloc, eof,
         rtype, pipe_status, directory) = _NT_CREATE_RESP.unpack_from(block.words, 0)
        ext: Tuple[Optional[bytes], int, int, int] = (None, 0, 0, 0)
        if len(block.words) > _NT_CREATE_RESP.size:
            ext = _NT_CREATE_RESP_EXT.unpack_from(block.words, _NT_CREATE_RESP.size)
        return cls(oplock, fid, disposition, ctime, atime, wtime, chtime, attrs, alloc, eof,
                   rtype, pipe_status, bool(directory), *ext)


# --------------------------------------------------------------------------- CLOSE


@dataclass(frozen=True)
class CloseRequest(_Message):
    """[MS-CIFS] 2.2.4.5.1 CLOSE request; ``last_time_modified`` 0 leaves the time alone."""

    fid: int
    last_time_modified: int = 0
    COMMAND: ClassVar[int] = c.SMB_COM_CLOSE

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return struct.pack("<HI", self.fid, self.last_time_modified), b""


@dataclass(frozen=True)
class CloseResponse(_Empty):
    """[MS-CIFS] 2.2.4.5.2 CLOSE response."""

    COMMAND: ClassVar[int] = c.SMB_COM_CLOSE


# --------------------------------------------------------------------------- READ_ANDX


_READ_WORDS = struct.Struct("<BBHHIHHIHI")
_READ_RESP = struct.Struct("<BBHHHHHHH8s")


@dataclass(frozen=True)
class ReadAndXRequest(_Message):
    """[MS-CIFS] 2.2.4.42.1 READ_ANDX (12 words, 64-bit offset); [MS-SMB] 2.2.4.2.1.

    A ``max_count`` above 0xFFFF (CAP_LARGE_READX, files only) puts its upper
    16 bits in MaxCountHigh, which shares the field with the pipe ``timeout``.
    """

    fid: int
    offset: int
    max_count: int
    min_count: int = 0
    timeout: int = 0
    remaining: int = 0
    COMMAND: ClassVar[int] = c.SMB_COM_READ_ANDX

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        if not 0 <= self.max_count <= 0xFFFFFFFF:
            raise ValueError("max_count out of range")
        if self.max_count > 0xFFFF:
            if self.timeout:
                raise ValueError("a large read cannot carry a timeout")
            timeout_or_high = self.max_count >> 16
        else:
            timeout_or_high = self.timeout
        words = _READ_WORDS.pack(
            c.SMB_COM_NO_ANDX_COMMAND, 0, 0, self.fid, self.offset & 0xFFFFFFFF,
            self.max_count & 0xFFFF, min(self.min_count, 0xFFFF), timeout_or_high,
            self.remaining, self.offset >> 32)
        return words, b""


@dataclass(frozen=True)
class ReadAndXResponse(_Response):
    """[MS-CIFS] 2.2.4.42.2 / [MS-SMB] 2.2.4.2.2 READ_ANDX response.

    The length is DataLengthHigh << 16 | DataLength and the data is found at
    DataOffset (from the header), not through ByteCount, which cannot count a
    large read.  ``data`` is a memoryview into the received message.
    """

    data: memoryview = field(default_factory=lambda: memoryview(b""))
    available: int = 0
    data_compaction_mode: int = 0
    COMMAND: ClassVar[int] = c.SMB_COM_READ_ANDX

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        length = len(self.data)
        start = offset + 1 + _READ_RESP.size + 2
        pad = 1 if start & 1 else 0  # the data starts word-aligned, as servers send it
        words = _READ_RESP.pack(c.SMB_COM_NO_ANDX_COMMAND, 0, 0, self.available,
                                self.data_compaction_mode, 0, length & 0xFFFF, start + pad,
                                length >> 16, b"\x00" * 8)
        return words, b"\x00" * pad + bytes(self.data)

    def pack(self, header: Smb1Header) -> bytes:
        # Large reads: ByteCount holds only the low 16 bits of the length.
        hdr = replace(header, command=self.COMMAND)
        words, data = self.pack_block(HEADER_SIZE, hdr.unicode)
        return b"".join((hdr.pack(), bytes((len(words) // 2,)), words,
                         _U16.pack(len(data) & 0xFFFF), data))

    @classmethod
    def _from_block(cls, block: AndXBlock) -> "ReadAndXResponse":
        _check_words(block, _READ_RESP.size)
        (_, _, _, available, compaction, _, length_low, data_offset, length_high,
         _) = _READ_RESP.unpack_from(block.words, 0)
        length = (length_high << 16) | length_low
        if length and (data_offset < block.data_offset
                       or data_offset + length > len(block.message)):
            raise MalformedResponse(
                f"READ_ANDX data (offset {data_offset}, length {length}) outside the message")
        data = block.message[data_offset:data_offset + length] if length else memoryview(b"")
        return cls(data, available, compaction)


# --------------------------------------------------------------------------- WRITE_ANDX


_WRITE_WORDS = struct.Struct("<BBHHIIHHHHHI")
_WRITE_RESP = struct.Struct("<BBHHHHH")


@dataclass(frozen=True)
class WriteAndXRequest(_Message):
    """[MS-CIFS] 2.2.4.43.1 WRITE_ANDX (14 words, 64-bit offset); [MS-SMB] 2.2.4.3.1.

    Data above 0xFFFF bytes (CAP_LARGE_WRITEX) uses DataLengthHigh; ByteCount
    then holds only the low 16 bits.  ``pack_prefix`` returns everything
    before the data so that the caller can send the data buffer as is.
    """

    fid: int
    offset: int
    data: Buffer = b""
    write_mode: int = 0
    remaining: int = 0
    timeout: int = 0
    COMMAND: ClassVar[int] = c.SMB_COM_WRITE_ANDX

    def _prefix_parts(self, offset: int) -> Tuple[bytes, bytes]:
        length = len(self.data)
        if length > 0xFFFFFFFF:
            raise ValueError("write too large")
        start = offset + 1 + _WRITE_WORDS.size + 2
        pad = 1 if start & 1 else 0
        words = _WRITE_WORDS.pack(
            c.SMB_COM_NO_ANDX_COMMAND, 0, 0, self.fid, self.offset & 0xFFFFFFFF, self.timeout,
            self.write_mode, self.remaining, length >> 16, length & 0xFFFF, start + pad,
            self.offset >> 32)
        return words, b"\x00" * pad

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        words, pad = self._prefix_parts(offset)
        return words, pad + bytes(self.data)

    def pack_prefix(self, header: Smb1Header) -> bytes:
        """Header, words, ByteCount and pad: send ``self.data`` right after it."""
        hdr = replace(header, command=self.COMMAND)
        words, pad = self._prefix_parts(HEADER_SIZE)
        byte_count = (len(pad) + len(self.data)) & 0xFFFF
        return b"".join((hdr.pack(), bytes((len(words) // 2,)), words,
                         _U16.pack(byte_count), pad))

    def pack(self, header: Smb1Header) -> bytes:
        return self.pack_prefix(header) + bytes(self.data)


@dataclass(frozen=True)
class WriteAndXResponse(_Response):
    """[MS-CIFS] 2.2.4.43.2 / [MS-SMB] 2.2.4.3.2 response: Count | CountHigh << 16."""

    count: int = 0
    available: int = 0
    COMMAND: ClassVar[int] = c.SMB_COM_WRITE_ANDX

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return _WRITE_RESP.pack(c.SMB_COM_NO_ANDX_COMMAND, 0, 0, self.count & 0xFFFF,
                                self.available, self.count >> 16, 0), b""

    @classmethod
    def _from_block(cls, block: AndXBlock) -> "WriteAndXResponse":
        _check_words(block, _WRITE_RESP.size)
        _, _, _, low, available, high, _ = _WRITE_RESP.unpack_from(block.words, 0)
        return cls((high << 16) | low, available)


# --------------------------------------------------------------------------- ECHO


@dataclass(frozen=True)
class EchoRequest(_Message):
    """[MS-CIFS] 2.2.4.39.1 ECHO request."""

    data: bytes = b""
    echo_count: int = 1
    COMMAND: ClassVar[int] = c.SMB_COM_ECHO

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return _U16.pack(self.echo_count), self.data


@dataclass(frozen=True)
class EchoResponse(_Response):
    """[MS-CIFS] 2.2.4.39.2 ECHO response."""

    sequence_number: int = 1
    data: bytes = b""
    COMMAND: ClassVar[int] = c.SMB_COM_ECHO

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return _U16.pack(self.sequence_number), self.data

    @classmethod
    def _from_block(cls, block: AndXBlock) -> "EchoResponse":
        _check_words(block, 2)
        return cls(_u16(block.words, 0), bytes(block.data))


# --------------------------------------------------------------------------- path commands


_DEFAULT_SEARCH = c.SMB_FILE_ATTRIBUTE_HIDDEN | c.SMB_FILE_ATTRIBUTE_SYSTEM


def _format_strings(base: int, names: Sequence[str], unicode: bool) -> bytes:
    """BufferFormat 0x04 + SMB_STRING for each name; pad bytes go after the format byte."""
    out = bytearray()
    for name in names:
        out.append(c.SMB_BUFFER_FORMAT_ASCII)
        out += _enc_str(name, base + len(out), unicode)
    return bytes(out)


@dataclass(frozen=True)
class DeleteRequest(_Message):
    """[MS-CIFS] 2.2.4.7.1 DELETE request."""

    file_name: str
    search_attributes: int = _DEFAULT_SEARCH
    COMMAND: ClassVar[int] = c.SMB_COM_DELETE

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return (_U16.pack(self.search_attributes),
                _format_strings(offset + 5, (self.file_name,), unicode))


@dataclass(frozen=True)
class DeleteResponse(_Empty):
    """[MS-CIFS] 2.2.4.7.2 DELETE response."""

    COMMAND: ClassVar[int] = c.SMB_COM_DELETE


@dataclass(frozen=True)
class RenameRequest(_Message):
    """[MS-CIFS] 2.2.4.8.1 RENAME request."""

    old_file_name: str
    new_file_name: str
    search_attributes: int = _DEFAULT_SEARCH | c.SMB_FILE_ATTRIBUTE_DIRECTORY
    COMMAND: ClassVar[int] = c.SMB_COM_RENAME

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return (_U16.pack(self.search_attributes),
                _format_strings(offset + 5, (self.old_file_name, self.new_file_name), unicode))


@dataclass(frozen=True)
class RenameResponse(_Empty):
    """[MS-CIFS] 2.2.4.8.2 RENAME response."""

    COMMAND: ClassVar[int] = c.SMB_COM_RENAME


@dataclass(frozen=True)
class NtRenameRequest(_Message):
    """[MS-CIFS] 2.2.4.66.1 NT_RENAME request (rename in place, or a hard link)."""

    old_file_name: str
    new_file_name: str
    information_level: int = c.SMB_NT_RENAME_RENAME_FILE
    search_attributes: int = _DEFAULT_SEARCH | c.SMB_FILE_ATTRIBUTE_DIRECTORY
    COMMAND: ClassVar[int] = c.SMB_COM_NT_RENAME

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        words = struct.pack("<HHI", self.search_attributes, self.information_level, 0)
        return words, _format_strings(offset + 11, (self.old_file_name, self.new_file_name),
                                      unicode)


@dataclass(frozen=True)
class NtRenameResponse(_Empty):
    """[MS-CIFS] 2.2.4.66.2 NT_RENAME response."""

    COMMAND: ClassVar[int] = c.SMB_COM_NT_RENAME


@dataclass(frozen=True)
class CreateDirectoryRequest(_Message):
    """[MS-CIFS] 2.2.4.1.1 CREATE_DIRECTORY request."""

    directory_name: str
    COMMAND: ClassVar[int] = c.SMB_COM_CREATE_DIRECTORY

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return b"", _format_strings(offset + 3, (self.directory_name,), unicode)


@dataclass(frozen=True)
class CreateDirectoryResponse(_Empty):
    """[MS-CIFS] 2.2.4.1.2 CREATE_DIRECTORY response."""

    COMMAND: ClassVar[int] = c.SMB_COM_CREATE_DIRECTORY


@dataclass(frozen=True)
class DeleteDirectoryRequest(_Message):
    """[MS-CIFS] 2.2.4.2.1 DELETE_DIRECTORY request."""

    directory_name: str
    COMMAND: ClassVar[int] = c.SMB_COM_DELETE_DIRECTORY

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return b"", _format_strings(offset + 3, (self.directory_name,), unicode)


@dataclass(frozen=True)
class DeleteDirectoryResponse(_Empty):
    """[MS-CIFS] 2.2.4.2.2 DELETE_DIRECTORY response."""

    COMMAND: ClassVar[int] = c.SMB_COM_DELETE_DIRECTORY


# --------------------------------------------------------------------------- transactions


_TRANS_WORDS = struct.Struct("<HHHHBBHIHHHHHBB")
_NT_TRANS_WORDS = struct.Struct("<BHIIIIIIIIBH")
_TRANS_RESP = struct.Struct("<HHHHHHHHHBB")
_NT_TRANS_RESP = struct.Struct("<3sIIIIIIIIB")


def _lay_out(start: int, prefix: bytes, parameters: bytes,
             data: bytes) -> Tuple[bytes, int, int]:
    """prefix, Pad1, parameters, Pad2, data; the two blocks 4-byte aligned.

    Returns the bytes and the parameter and data offsets (from the header).
    """
    out = bytearray(prefix)
    out += b"\x00" * _pad_to(start + len(out), 4)
    param_offset = start + len(out)
    out += parameters
    out += b"\x00" * _pad_to(start + len(out), 4) if data else b""
    data_offset = start + len(out)
    out += data
    return bytes(out), param_offset, data_offset


def _pack_trans_request(msg: "TransactionRequest | Transaction2Request", offset: int,
                        unicode: bool) -> Tuple[bytes, bytes]:
    setup = tuple(msg.setup)
    if len(setup) > 255:
        raise ValueError("too many setup words")
    params, data = bytes(msg.parameters), bytes(msg.data)
    if len(params) > 0xFFFF or len(data) > 0xFFFF:
        raise ValueError("transaction parameters or data too long for one request")
    words_len = _TRANS_WORDS.size + 2 * len(setup)
    start = offset + 1 + words_len + 2
    name = _enc_str(msg.name, start, unicode)
    body, param_offset, data_offset = _lay_out(start, name, params, data)
    words = _TRANS_WORDS.pack(
        len(params), len(data), msg.max_parameter_count, msg.max_data_count,
        msg.max_setup_count, 0, msg.flags, msg.timeout, 0, len(params), param_offset,
        len(data), data_offset, len(setup), 0)
    words += struct.pack(f"<{len(setup)}H", *setup)
    return words, body


@dataclass(frozen=True)
class TransactionRequest(_Message):
    """[MS-CIFS] 2.2.4.33.1 TRANSACTION request (named pipes; e.g. TransactNmPipe).

    For TransactNmPipe on srvsvc: ``setup=(TRANS_TRANSACT_NMPIPE, fid)``,
    ``name="\\\\PIPE\\\\"`` and the DCE/RPC PDU as ``data``.  Everything fits in
    one request (no TRANSACTION_SECONDARY).
    """

    setup: Tuple[int, ...] = ()
    parameters: bytes = b""
    data: bytes = b""
    name: str = "\\PIPE\\"
    max_parameter_count: int = 0
    max_data_count: int = 0xFFFF
    max_setup_count: int = 0
    flags: int = 0
    timeout: int = 0
    COMMAND: ClassVar[int] = c.SMB_COM_TRANSACTION

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return _pack_trans_request(self, offset, unicode)


@dataclass(frozen=True)
class Transaction2Request(_Message):
    """[MS-CIFS] 2.2.4.46.1 TRANSACTION2 request; ``setup=(subcommand,)``.

    The unused Name field is an empty string (one NUL, or pad + two NULs in
    Unicode).  Everything fits in one request (no TRANSACTION2_SECONDARY).
    """

    setup: Tuple[int, ...] = ()
    parameters: bytes = b""
    data: bytes = b""
    max_parameter_count: int = 0
    max_data_count: int = 0xFFFF
    max_setup_count: int = 0
    flags: int = 0
    timeout: int = 0
    name: str = ""
    COMMAND: ClassVar[int] = c.SMB_COM_TRANSACTION2

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return _pack_trans_request(self, offset, unicode)


@dataclass(frozen=True)
class NtTransactRequest(_Message):
    """[MS-CIFS] 2.2.4.62.1 NT_TRANSACT request; ``setup`` is raw bytes (even length)."""

    function: int
    setup: bytes = b""
    parameters: bytes = b""
    data: bytes = b""
    max_parameter_count: int = 0
    max_data_count: int = 0xFFFF
    max_setup_count: int = 0
    COMMAND: ClassVar[int] = c.SMB_COM_NT_TRANSACT

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        if len(self.setup) & 1 or len(self.setup) > 510:
            raise ValueError("setup must be whole words")
        words_len = _NT_TRANS_WORDS.size + len(self.setup)
        start = offset + 1 + words_len + 2
        params, data = bytes(self.parameters), bytes(self.data)
        body, param_offset, data_offset = _lay_out(start, b"", params, data)
        words = _NT_TRANS_WORDS.pack(
            self.max_setup_count, 0, len(params), len(data), self.max_parameter_count,
            self.max_data_count, len(params), param_offset, len(data), data_offset,
            len(self.setup) // 2, self.function) + bytes(self.setup)
        return words, body


@dataclass(frozen=True)
class TransactionResponsePart(_Response):
    """One response message of a TRANSACTION / TRANSACTION2 / NT_TRANSACT.

    [MS-CIFS] 2.2.4.33.2, 2.2.4.46.2, 2.2.4.62.2.  ``parameters`` and ``data``
    are this message's pieces, placed at their displacements; setup is raw
    bytes.  :class:`TransactionAssembler` puts the pieces together.
    """

    command: int
    total_parameter_count: int
    total_data_count: int
    parameters: Buffer = b""
    parameter_displacement: int = 0
    data: Buffer = b""
    data_displacement: int = 0
    setup: bytes = b""

    @property
    def COMMAND(self) -> int:  # type: ignore[override]
        return self.command

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        if len(self.setup) & 1:
            raise ValueError("setup must be whole words")
        nt = self.command == c.SMB_COM_NT_TRANSACT
        fixed = _NT_TRANS_RESP if nt else _TRANS_RESP
        start = offset + 1 + fixed.size + len(self.setup) + 2
        params, data = bytes(self.parameters), bytes(self.data)
        body, p_off, d_off = _lay_out(start, b"", params, data)
        if nt:
            words = _NT_TRANS_RESP.pack(
                b"\x00" * 3, self.total_parameter_count, self.total_data_count, len(params),
                p_off, self.parameter_displacement, len(data), d_off, self.data_displacement,
                len(self.setup) // 2)
        else:
            words = _TRANS_RESP.pack(
                self.total_parameter_count, self.total_data_count, 0, len(params), p_off,
                self.parameter_displacement, len(data), d_off, self.data_displacement,
                len(self.setup) // 2, 0)
        return words + self.setup, body

    def pack(self, header: Smb1Header) -> bytes:
        hdr = replace(header, command=self.command)
        words, data = self.pack_block(HEADER_SIZE, hdr.unicode)
        return build_message(hdr, words, data)

    @classmethod
    def from_block(cls, block: AndXBlock) -> "TransactionResponsePart":
        try:
            return cls._from_block(block)
        except (struct.error, IndexError, ValueError) as err:
            raise MalformedResponse(f"malformed transaction response: {err}") from err

    @classmethod
    def _from_block(cls, block: AndXBlock) -> "TransactionResponsePart":
        words = block.words
        if block.command == c.SMB_COM_NT_TRANSACT:
            if len(words) < _NT_TRANS_RESP.size:
                raise MalformedResponse("NT_TRANSACT response: WordCount too small")
            (_, total_p, total_d, p_count, p_off, p_disp, d_count, d_off, d_disp,
             setup_count) = _NT_TRANS_RESP.unpack_from(words, 0)
            fixed = _NT_TRANS_RESP.size
        elif block.command in (c.SMB_COM_TRANSACTION, c.SMB_COM_TRANSACTION2):
            if len(words) < _TRANS_RESP.size:
                raise MalformedResponse("transaction response: WordCount too small")
            (total_p, total_d, _, p_count, p_off, p_disp, d_count, d_off, d_disp,
             setup_count, _) = _TRANS_RESP.unpack_from(words, 0)
            fixed = _TRANS_RESP.size
        else:
            raise MalformedResponse(f"command 0x{block.command:02x} is not a transaction")
        if fixed + 2 * setup_count != len(words):
            raise MalformedResponse("transaction response: SetupCount does not match WordCount")
        msg = block.message

        def piece(offset: int, count: int, what: str) -> memoryview:
            if count == 0:
                return memoryview(b"")
            if offset < block.data_offset or offset + count > len(msg):
                raise MalformedResponse(f"transaction {what} (offset {offset}, count {count}) "
                                    "outside the message")
            return msg[offset:offset + count]

        return cls(block.command, total_p, total_d, piece(p_off, p_count, "parameters"), p_disp,
                   piece(d_off, d_count, "data"), d_disp, bytes(words[fixed:]))

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "TransactionResponsePart":
        mv = _view(buf, offset)
        header = Smb1Header.unpack_from(mv)
        block = _block_at(mv, HEADER_SIZE, header.command, header.unicode, header.is_reply)
        return cls.from_block(block)


@dataclass(frozen=True)
class TransactionResponse:
    """A reassembled transaction response: setup (raw bytes), parameters, data."""

    setup: bytes
    parameters: bytes
    data: bytes

    @property
    def setup_words(self) -> Tuple[int, ...]:
        return struct.unpack(f"<{len(self.setup) // 2}H", self.setup[: len(self.setup) & ~1])


class _Ranges:
    """Disjoint half-open byte ranges; adding an overlapping one is an error."""

    def __init__(self) -> None:
        self.starts: List[int] = []
        self.ends: List[int] = []
        self.total = 0
        self.max_end = 0

    def add(self, start: int, end: int, what: str) -> None:
        if start == end:
            return
        i = bisect.bisect_right(self.starts, start)
        if (i > 0 and self.ends[i - 1] > start) or (i < len(self.starts)
                                                    and self.starts[i] < end):
            raise MalformedResponse(f"overlapping transaction {what} displacement {start}")
        self.starts.insert(i, start)
        self.ends.insert(i, end)
        self.total += end - start
        self.max_end = max(self.max_end, end)


class TransactionAssembler:
    """Reassemble a transaction response split over several messages.

    [MS-CIFS] 3.2.5.x: each response carries a piece of the parameters and of
    the data at ParameterDisplacement / DataDisplacement.  Totals may shrink
    in later responses but never grow; pieces must fit within the totals and
    must not overlap; both totals are capped at ``max_size``.  Feed whole
    messages (``feed``) or parsed parts (``feed_part``) until ``complete``.
    """

    def __init__(self, command: int, max_size: int = MAX_TRANSACTION_SIZE,
                 max_fragments: int = 65536) -> None:
        if command not in (c.SMB_COM_TRANSACTION, c.SMB_COM_TRANSACTION2, c.SMB_COM_NT_TRANSACT):
            raise ValueError("not a transaction command")
        self.command = command
        self.max_size = max_size
        self.max_fragments = max_fragments
        self._fragments = 0
        self._setup: Optional[bytes] = None
        self._total_params = 0
        self._total_data = 0
        # Pieces as received, (displacement, bytes); the buffers are built only in result(),
        # when complete, so a peer claiming a huge total cannot make us allocate it up front.
        self._params: List[Tuple[int, bytes]] = []
        self._data: List[Tuple[int, bytes]] = []
        self._param_ranges = _Ranges()
        self._data_ranges = _Ranges()

    @property
    def complete(self) -> bool:
        return (self._setup is not None and self._param_ranges.total == self._total_params
                and self._data_ranges.total == self._total_data)

    def feed(self, buf: Buffer, offset: int = 0) -> bool:
        """Add one response message (header first); returns ``complete``."""
        return self.feed_part(TransactionResponsePart.unpack_from(buf, offset))

    def feed_part(self, part: TransactionResponsePart) -> bool:
        if part.command != self.command:
            raise MalformedResponse(f"expected transaction 0x{self.command:02x}, "
                                f"got 0x{part.command:02x}")
        if self.complete:
            raise MalformedResponse("transaction response continues after it was complete")
        self._fragments += 1
        if self._fragments > self.max_fragments:
            raise MalformedResponse("too many transaction response fragments")
        total_p, total_d = part.total_parameter_count, part.total_data_count
        if self._setup is None:
            if total_p > self.max_size or total_d > self.max_size:
                raise MalformedResponse(f"transaction response larger than {self.max_size} bytes")
            self._setup = bytes(part.setup)
        else:
            if total_p > self._total_params or total_d > self._total_data:
                raise MalformedResponse("transaction total count grew between responses")
            if total_p < self._param_ranges.max_end or total_d < self._data_ranges.max_end:
                raise MalformedResponse("transaction total count shrank below received data")
        self._total_params, self._total_data = total_p, total_d
        self._place(self._params, self._param_ranges, part.parameters,
                    part.parameter_displacement, total_p, "parameters")
        self._place(self._data, self._data_ranges, part.data, part.data_displacement,
                    total_d, "data")
        return self.complete

    @staticmethod
    def _place(target: List[Tuple[int, bytes]], ranges: _Ranges, piece: Buffer, displacement: int,
               total: int, what: str) -> None:
        count = len(piece)
        if count == 0:
            return
        if displacement + count > total:
            raise MalformedResponse(f"transaction {what} displacement {displacement} + {count} "
                                f"beyond total {total}")
        ranges.add(displacement, displacement + count, what)
        target.append((displacement, bytes(piece)))

    @staticmethod
    def _join(pieces: List[Tuple[int, bytes]], total: int) -> bytes:
        out = bytearray(total)
        for displacement, piece in pieces:
            end = min(total, displacement + len(piece))
            out[displacement:end] = piece[:end - displacement]
        return bytes(out)

    def result(self) -> TransactionResponse:
        if not self.complete:
            raise MalformedResponse("transaction response incomplete")
        return TransactionResponse(self._setup or b"", self._join(self._params, self._total_params),
                                   self._join(self._data, self._total_data))


# --------------------------------------------------------------------------- TRANS2 parameters


def _params_unpack(st: struct.Struct, buf: Buffer, what: str) -> Tuple[int, ...]:
    if len(buf) < st.size:
        raise MalformedResponse(f"{what}: {len(buf)} bytes, need {st.size}")
    return st.unpack_from(buf, 0)


_FIND_FIRST2 = struct.Struct("<HHHHI")
_FIND_FIRST2_RESP = struct.Struct("<HHHHH")
_FIND_NEXT2 = struct.Struct("<HHHIH")
_FIND_NEXT2_RESP = struct.Struct("<HHHH")


def _param_name(name: str, unicode: bool) -> bytes:
    # Trans2 parameter blocks are 4-byte aligned and the names follow fixed
    # fields of even length, so no pad byte is needed.
    return _enc_name(name, unicode) + (b"\x00\x00" if unicode else b"\x00")


@dataclass(frozen=True)
class FindFirst2Params:
    """[MS-CIFS] 2.2.6.2.1 TRANS2_FIND_FIRST2 request parameters."""

    file_name: str
    search_attributes: int = (_DEFAULT_SEARCH | c.SMB_FILE_ATTRIBUTE_DIRECTORY)
    search_count: int = 512
    flags: int = c.SMB_FIND_CLOSE_AT_EOS
    information_level: int = c.SMB_FIND_FILE_BOTH_DIRECTORY_INFO
    search_storage_type: int = 0
    unicode: bool = True

    def pack(self) -> bytes:
        return _FIND_FIRST2.pack(self.search_attributes, self.search_count, self.flags,
                                 self.information_level, self.search_storage_type
                                 ) + _param_name(self.file_name, self.unicode)


@dataclass(frozen=True)
class FindFirst2ResponseParams:
    """[MS-CIFS] 2.2.6.2.2 TRANS2_FIND_FIRST2 response parameters."""

    sid: int
    search_count: int
    end_of_search: int
    ea_error_offset: int = 0
    last_name_offset: int = 0

    def pack(self) -> bytes:
        return _FIND_FIRST2_RESP.pack(self.sid, self.search_count, self.end_of_search,
                                      self.ea_error_offset, self.last_name_offset)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "FindFirst2ResponseParams":
        return cls(*_params_unpack(_FIND_FIRST2_RESP, _view(buf, offset), "FIND_FIRST2 params"))


@dataclass(frozen=True)
class FindNext2Params:
    """[MS-CIFS] 2.2.6.3.1 TRANS2_FIND_NEXT2 request parameters."""

    sid: int
    file_name: str = ""
    search_count: int = 512
    information_level: int = c.SMB_FIND_FILE_BOTH_DIRECTORY_INFO
    resume_key: int = 0
    flags: int = c.SMB_FIND_CLOSE_AT_EOS | c.SMB_FIND_CONTINUE_FROM_LAST
    unicode: bool = True

    def pack(self) -> bytes:
        return _FIND_NEXT2.pack(self.sid, self.search_count, self.information_level,
                                self.resume_key, self.flags
                                ) + _param_name(self.file_name, self.unicode)


@dataclass(frozen=True)
class FindNext2ResponseParams:
    """[MS-CIFS] 2.2.6.3.2 TRANS2_FIND_NEXT2 response parameters."""

    search_count: int
    end_of_search: int
    ea_error_offset: int = 0
    last_name_offset: int = 0

    def pack(self) -> bytes:
        return _FIND_NEXT2_RESP.pack(self.search_count, self.end_of_search,
                                     self.ea_error_offset, self.last_name_offset)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "FindNext2ResponseParams":
        return cls(*_params_unpack(_FIND_NEXT2_RESP, _view(buf, offset), "FIND_NEXT2 params"))


@dataclass(frozen=True)
class QueryPathInformationParams:
    """[MS-CIFS] 2.2.6.6.1 TRANS2_QUERY_PATH_INFORMATION request parameters."""

    information_level: int
    file_name: str
    unicode: bool = True

    def pack(self) -> bytes:
        return struct.pack("<HI", self.information_level, 0) + _param_name(self.file_name,
                                                                           self.unicode)


@dataclass(frozen=True)
class SetPathInformationParams:
    """[MS-CIFS] 2.2.6.7.1 TRANS2_SET_PATH_INFORMATION request parameters."""

    information_level: int
    file_name: str
    unicode: bool = True

    def pack(self) -> bytes:
        return struct.pack("<HI", self.information_level, 0) + _param_name(self.file_name,
                                                                           self.unicode)


@dataclass(frozen=True)
class QueryFileInformationParams:
    """[MS-CIFS] 2.2.6.8.1 TRANS2_QUERY_FILE_INFORMATION request parameters."""

    fid: int
    information_level: int

    def pack(self) -> bytes:
        return struct.pack("<HH", self.fid, self.information_level)


@dataclass(frozen=True)
class SetFileInformationParams:
    """[MS-CIFS] 2.2.6.9.1 TRANS2_SET_FILE_INFORMATION request parameters."""

    fid: int
    information_level: int

    def pack(self) -> bytes:
        return struct.pack("<HHH", self.fid, self.information_level, 0)


@dataclass(frozen=True)
class QueryFsInformationParams:
    """[MS-CIFS] 2.2.6.4.1 TRANS2_QUERY_FS_INFORMATION request parameters."""

    information_level: int

    def pack(self) -> bytes:
        return _U16.pack(self.information_level)


# --------------------------------------------------------------------------- FIND data


_BOTH_DIR = struct.Struct("<IIQQQQQQIIIBB24s")


@dataclass(frozen=True)
class FileBothDirectoryInfo:
    """[MS-CIFS] 2.2.8.1.7 SMB_FIND_FILE_BOTH_DIRECTORY_INFO entry (times are FILETIMEs)."""

    file_index: int
    creation_time: int
    last_access_time: int
    last_write_time: int
    change_time: int
    end_of_file: int
    allocation_size: int
    ext_file_attributes: int
    ea_size: int
    short_name: str
    file_name: str


def parse_find_file_both_directory_info(data: Buffer, unicode: bool = True,
                                        max_entries: int = 65536) -> List[FileBothDirectoryInfo]:
    """Walk the NextEntryOffset chain of a FIND_FIRST2/FIND_NEXT2 data block.

    Each NextEntryOffset must step past the entry it belongs to and stay
    inside ``data``; the walk stops at an offset of 0 or one that lands
    exactly on the end of ``data``.
    """
    mv = _view(data)
    entries: List[FileBothDirectoryInfo] = []
    pos = 0
    if not len(mv):
        return entries
    while True:
        if len(entries) >= max_entries:
            raise MalformedResponse("too many directory entries")
        if pos + _BOTH_DIR.size > len(mv):
            raise MalformedResponse(f"directory entry at {pos} truncated")
        (next_offset, file_index, ctime, atime, wtime, chtime, eof, alloc, attrs, name_len,
         ea_size, short_len, _, short_raw) = _BOTH_DIR.unpack_from(mv, pos)
        name_at = pos + _BOTH_DIR.size
        if name_len > len(mv) - name_at:
            raise MalformedResponse(f"directory entry at {pos}: FileNameLength past the data")
        if short_len > 24:
            raise MalformedResponse(f"directory entry at {pos}: ShortNameLength {short_len}")
        name = _dec_name(mv[name_at:name_at + name_len], unicode)
        short = _dec_name(short_raw[:short_len], unicode)
        entries.append(FileBothDirectoryInfo(file_index, ctime, atime, wtime, chtime, eof,
                                             alloc, attrs, ea_size, short, name))
        # Samba points the last entry's NextEntryOffset at the end of the data.
        if next_offset == 0 or pos + next_offset == len(mv):
            return entries
        if next_offset < _BOTH_DIR.size + name_len or pos + next_offset > len(mv):
            raise MalformedResponse(f"directory entry at {pos}: bad NextEntryOffset {next_offset}")
        pos += next_offset


def pack_find_file_both_directory_info(entries: Sequence[FileBothDirectoryInfo],
                                       unicode: bool = True) -> bytes:
    """Entries laid out 8-byte aligned, as servers return them (used by fake peers)."""
    out = bytearray()
    for index, entry in enumerate(entries):
        name = _enc_name(entry.file_name, unicode)
        short = _enc_name(entry.short_name, unicode)
        if len(short) > 24:
            raise ValueError("short name longer than 24 bytes")
        length = _BOTH_DIR.size + len(name)
        step = length + _pad_to(length, 8) if index < len(entries) - 1 else 0
        out += _BOTH_DIR.pack(step, entry.file_index, entry.creation_time,
                              entry.last_access_time, entry.last_write_time, entry.change_time,
                              entry.end_of_file, entry.allocation_size,
                              entry.ext_file_attributes, len(name), entry.ea_size, len(short), 0,
                              short.ljust(24, b"\x00"))
        out += name
        if step:
            out += b"\x00" * (step - length)
    return bytes(out)


# --------------------------------------------------------------------------- info classes


_FILE_ALL_FIXED = struct.Struct("<QQQQIIQQIBBHQIIQIII")
_SMB_ALL_INFO_FIXED = struct.Struct("<QQQQIIQQIBBHII")




@dataclass(frozen=True)
class FileAllInformation:
    """[MS-FSCC] 2.4.2 FileAllInformation (pass-through level 1018).

    Also parses the shorter [MS-CIFS] 2.2.8.3.10 SMB_QUERY_FILE_ALL_INFO
    layout (level 0x0107), which Samba returns for level 1018 over SMB1 as
    well; the fields that layout lacks are 0.
    """

    creation_time: int
    last_access_time: int
    last_write_time: int
    change_time: int
    file_attributes: int
    allocation_size: int
    end_of_file: int
    number_of_links: int
    delete_pending: bool
    directory: bool
    index_number: int
    ea_size: int
    access_flags: int
    current_byte_offset: int
    mode: int
    alignment_requirement: int
    file_name: str

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0,
                    unicode: bool = True) -> "FileAllInformation":
        mv = _view(buf, offset)
        size = len(mv)
        full, short = _FILE_ALL_FIXED.size, _SMB_ALL_INFO_FIXED.size
        if not (size >= full and full + _U32.unpack_from(mv, full - 4)[0] == size) and (
                size >= short and short + _U32.unpack_from(mv, short - 4)[0] == size):
            (ctime, atime, wtime, chtime, attrs, _, alloc, eof, links, delete_pending,
             directory, _, ea_size, name_len) = _SMB_ALL_INFO_FIXED.unpack_from(mv, 0)
            return cls(ctime, atime, wtime, chtime, attrs, alloc, eof, links,
                       bool(delete_pending), bool(directory), 0, ea_size, 0, 0, 0, 0,
                       _dec_name(mv[short:size], unicode))
        (ctime, atime, wtime, chtime, attrs, _, alloc, eof, links, delete_pending, directory, _,
         index_number, ea_size, access, position, mode, alignment,
         name_len) = _params_unpack(_FILE_ALL_FIXED, mv, "FileAllInformation")
        # Servers may truncate the name to the buffer they were given.
        name_raw = mv[full:full + name_len]
        if unicode and len(name_raw) & 1:
            name_raw = name_raw[:-1]
        return cls(ctime, atime, wtime, chtime, attrs, alloc, eof, links, bool(delete_pending),
                   bool(directory), index_number, ea_size, access, position, mode, alignment,
                   _dec_name(name_raw, unicode))






def pack_file_rename_information(file_name: str, replace_if_exists: bool = False,
                                 root_directory: int = 0) -> bytes:
    """[MS-FSCC] 2.4.42.1 FILE_RENAME_INFORMATION_TYPE_1 (SMB1: 32-bit RootDirectory)."""
    return fscc.FileRenameInformation(file_name, replace_if_exists, root_directory).pack_smb1()


def pack_file_disposition_information(delete_pending: bool = True) -> bytes:
    """[MS-FSCC] 2.4.11 FileDispositionInformation."""
    return fscc.FileDispositionInformation(delete_pending).pack()


def pack_file_end_of_file_information(end_of_file: int) -> bytes:
    """[MS-FSCC] 2.4.13 FileEndOfFileInformation."""
    return fscc.FileEndOfFileInformation(end_of_file).pack()


# --------------------------------------------------------------------------- NT_TRANSACT parameters


_QUERY_SD = struct.Struct("<HHI")
_IOCTL_SETUP = struct.Struct("<IHBB")


@dataclass(frozen=True)
class QuerySecurityDescParams:
    """[MS-CIFS] 2.2.7.6.1 NT_TRANSACT_QUERY_SECURITY_DESC request parameters."""

    fid: int
    security_information: int = (c.OWNER_SECURITY_INFORMATION | c.GROUP_SECURITY_INFORMATION
                                 | c.DACL_SECURITY_INFORMATION)

    def pack(self) -> bytes:
        return _QUERY_SD.pack(self.fid, 0, self.security_information)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "QuerySecurityDescParams":
        fid, _, info = _params_unpack(_QUERY_SD, _view(buf, offset), "QUERY_SECURITY_DESC")
        return cls(fid, info)


@dataclass(frozen=True)
class QuerySecurityDescResponseParams:
    """[MS-CIFS] 2.2.7.6.2 NT_TRANSACT_QUERY_SECURITY_DESC response parameters."""

    length_needed: int

    def pack(self) -> bytes:
        return _U32.pack(self.length_needed)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "QuerySecurityDescResponseParams":
        return cls(*_params_unpack(_U32, _view(buf, offset), "QUERY_SECURITY_DESC response"))


@dataclass(frozen=True)
class NtIoctlSetup:
    """[MS-CIFS] 2.2.7.2.1 NT_TRANSACT_IOCTL setup words (4 words, 8 bytes)."""

    function_code: int
    fid: int
    is_fsctl: bool = True
    is_flags: int = 0

    def pack(self) -> bytes:
        return _IOCTL_SETUP.pack(self.function_code, self.fid, int(self.is_fsctl),
                                 self.is_flags)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "NtIoctlSetup":
        code, fid, is_fsctl, is_flags = _params_unpack(_IOCTL_SETUP, _view(buf, offset),
                                                       "IOCTL setup")
        return cls(code, fid, bool(is_fsctl), is_flags)


# --------------------------------------------------------------------------- signing


def smb1_signature(mac_key: bytes, message: Buffer, sequence_number: int) -> bytes:
    """[MS-CIFS] 3.1.4.1 MD5 message signature of one SMB1 message (header first).

    MD5(mac_key || message with SecuritySignature replaced by the sequence
    number as 4 bytes little-endian + 4 zero bytes), first 8 bytes.
    """
    if not 0 <= sequence_number <= 0xFFFFFFFF:
        raise ValueError("sequence number out of range")
    mv = _view(message)
    if len(mv) < HEADER_SIZE:
        raise MalformedResponse("message shorter than an SMB1 header")
    signed = b"".join((bytes(mac_key), bytes(mv[:SIGNATURE_OFFSET]),
                       struct.pack("<II", sequence_number, 0),
                       bytes(mv[SIGNATURE_OFFSET + 8:])))
    return md5(signed)[:8]


def smb1_verify_signature(mac_key: bytes, message: Buffer, sequence_number: int) -> bool:
    """True when the message's SecuritySignature matches (compared in constant time)."""
    mv = _view(message)
    if len(mv) < HEADER_SIZE:
        return False
    expected = smb1_signature(mac_key, mv, sequence_number)
    return hmac.compare_digest(expected, bytes(mv[SIGNATURE_OFFSET:SIGNATURE_OFFSET + 8]))


#: pysmb's message classes and values, defined in smb._compat_smb1 (resolved lazily
#: through ``__getattr__`` below; listed here for ``from ... import *``).
PYSMB_MESSAGE_NAMES = (
    "SMBError", "SMB2ProtocolHeaderError",
    "DIALECTS", "DIALECTS2", "NT_LAN_MANAGER_DIALECT", "SMB2_DIALECT",
    "SMBMessage", "Payload",
    "ComNegotiateRequest", "ComNegotiateResponse",
    "ComSessionSetupAndxRequest__WithSecurityExtension",
    "ComSessionSetupAndxRequest__NoSecurityExtension", "ComSessionSetupAndxResponse",
    "ComTreeConnectAndxRequest", "ComTreeConnectAndxResponse",
    "ComNTCreateAndxRequest", "ComNTCreateAndxResponse",
    "ComOpenAndxRequest", "ComOpenAndxResponse",
    "ComReadAndxRequest", "ComReadAndxResponse",
    "ComWriteAndxRequest", "ComWriteAndxResponse",
    "ComCloseRequest", "ComDeleteRequest", "ComRenameRequest",
    "ComCreateDirectoryRequest", "ComDeleteDirectoryRequest",
    "ComEchoRequest", "ComEchoResponse",
    "ComTransactionRequest", "ComTransactionResponse",
    "ComTransaction2Request", "ComTransaction2Response",
    "ComNTTransactRequest", "ComNTTransactResponse",
)

# -- pysmb's star-imported names (see smb._reexport) ----------------------------------------------
_PYSMB_SOURCES = ('smb.smb_constants', 'smb._compat_smb1')
__all__ = _reexport.star_all(__all__ + list(PYSMB_MESSAGE_NAMES), ['smb.smb_constants'])
__getattr__ = _reexport.finder(__name__, _PYSMB_SOURCES)


def __dir__() -> List[str]:
    return _reexport.public_names(__name__)
