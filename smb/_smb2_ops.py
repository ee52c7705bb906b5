"""SMB 2.0.2 .. 3.1.1: message plumbing and every public operation, once.

:class:`Smb2Dialect` is the dialect object the core (:mod:`smb.base`) holds
after NEGOTIATE.  It owns the SMB2-wide state: credits and message ids, the
session with its keys (signing, encryption, preauth integrity), connected
trees.  Its operations are generators driven by the core (see ``smb.base``).

Signing and key derivation live in :class:`Smb2Session`; every response that
is signed, or must be, is verified before anyone sees it.
"""
from __future__ import annotations

import logging
import re
import struct
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import crypto
from . import smb2_constants as K
from . import smb_constants as C
from ._common_ops import (CommonOps, FileHandle, Listing, Prefixed, ReceivedMessage, header_field, read_up_to,
                          whole_write)
from ._credits import CreditWindow
from ._pipeline import ReadPlan
from .base import (SIGN_NEVER, SIGN_WHEN_SUPPORTED, SharedDevice, SharedFile, WaitAny, WaitCredits, matches_search,
                   shared_file)
from .exceptions import MalformedResponse, NotReadyError, OperationFailure, ProtocolError, SMBTimeout, UnsupportedFeature
from .dfs import ReferralRequest, ReferralRequestEx
from .nt_status import LOGON_FAILURES, NtStatus, status_name
from .smb2_structs import (DHANDLE_FLAG_PERSISTENT, CancelRequest, CloseRequest, CloseResponse, CopyChunk,
                           CopyChunkCopy, CopyChunkResponse, CreateRequest, CreateResponse, DurableHandleReconnect,
                           DurableHandleReconnectV2, DurableHandleRequest, DurableHandleRequestV2,
                           DurableHandleResponseV2, EchoRequest, EncryptionCapabilities, FlushRequest,
                           OplockBreakAcknowledgment, OplockBreakNotification,
                           IoctlRequest, IoctlResponse, LogoffRequest, NegotiateRequest, NegotiateResponse,
                           PreauthIntegrityCapabilities, QueryDirectoryRequest, QueryDirectoryResponse,
                           QueryInfoRequest, QueryInfoResponse, ReadRequest, ReadResponse, ResumeKeyResponse,
                           SessionSetupRequest, SessionSetupResponse, SetInfoRequest, SigningCapabilities,
                           Smb2Header, TimewarpToken, TransformHeader, TreeConnectRequest, TreeConnectResponse,
                           TreeDisconnectRequest, ValidateNegotiateInfoRequest, ValidateNegotiateInfoResponse,
                           WriteRequest, WriteResponse, pack_create_contexts, parse_create_contexts,
                           split_timewarp)
from . import fscc
from .utils import convertEpochToFILETIME

log = logging.getLogger("SMB.SMBConnection")

HEADER_SIZE = 64
CMD = K.Smb2Command
FLAGS = K.Smb2Flags
# Plain ints for the per-message paths (IntFlag arithmetic makes enum objects each time).
_RELATED = int(FLAGS.RELATED_OPERATIONS)
_SIGNED = int(FLAGS.SIGNED)
_ASYNC = int(FLAGS.ASYNC_COMMAND)
_TO_REDIR = int(FLAGS.SERVER_TO_REDIR)
#: The MessageId of an unsolicited oplock or lease break notification.
_UNSOLICITED = 0xFFFFFFFFFFFFFFFF
_OPLOCK_NONE, _OPLOCK_II = int(K.OplockLevel.NONE), int(K.OplockLevel.II)
_OPLOCK_EXCLUSIVE, _OPLOCK_BATCH = int(K.OplockLevel.EXCLUSIVE), int(K.OplockLevel.BATCH)
ANY_FILE_ID = b"\xff" * 16
#: [MS-FSCC] 2.3: the DFS referral FSCTL.
FSCTL_DFS_GET_REFERRALS = 0x00060194
FSCTL_DFS_GET_REFERRALS_EX = 0x000601B0
#: How a server says it does not know the extended referral request.
_NO_EXTENDED_REFERRALS = frozenset([NtStatus.NOT_SUPPORTED, NtStatus.INVALID_DEVICE_REQUEST,
                                    NtStatus.FS_DRIVER_REQUIRED,  # Samba 4.17
                                    NtStatus.NOT_IMPLEMENTED, NtStatus.INVALID_PARAMETER])
ALL_DIALECTS = (K.Dialect.SMB_2_0_2, K.Dialect.SMB_2_1, K.Dialect.SMB_3_0, K.Dialect.SMB_3_0_2,
                K.Dialect.SMB_3_1_1)
#: Cipher preference: GCM is much faster than CCM in pycryptodome.
CIPHERS = (K.Cipher.AES_128_GCM, K.Cipher.AES_128_CCM, K.Cipher.AES_256_GCM, K.Cipher.AES_256_CCM)
SIGNING_ALGORITHMS = (K.SigningAlgorithm.AES_GMAC, K.SigningAlgorithm.AES_CMAC)
#: Upper bound for one READ/WRITE, whatever the server offers.
MAX_IO = 8 * 1024 * 1024
#: Files up to this size move in one compounded round trip (CREATE+READ/WRITE+CLOSE).
SMALL_IO = 1024 * 1024
#: Upper bound for a QUERY_DIRECTORY/QUERY_INFO/IOCTL output buffer.
MAX_TRANSACT = 1024 * 1024
_SIG = slice(48, 64)
_NONCE_PACK = struct.Struct("<QI")
_FLAGS_AT = struct.Struct("<I")
_SNAPSHOT_RE = re.compile(r"@GMT-(\d{4})\.(\d{2})\.(\d{2})-(\d{2})\.(\d{2})\.(\d{2})$")

#: Server-side copy: chunks per COPYCHUNK request and bytes per chunk to start with (Samba's
#: defaults allow 256 chunks of 1 MiB, 16 MiB a request; Windows 16 chunks of 1 MiB); a server
#: with smaller limits says so and the copy adapts.
COPYCHUNK_COUNT = 16
COPYCHUNK_SIZE = 1024 * 1024
#: COPYCHUNK requests kept in flight (each copies whole spans; they do not overlap).
COPYCHUNK_IN_FLIGHT = 4
#: Answers to the resume key or the first COPYCHUNK that mean "no server-side copy here".
_NO_SERVER_COPY = (NtStatus.NOT_SUPPORTED, NtStatus.INVALID_DEVICE_REQUEST, NtStatus.NOT_IMPLEMENTED)

DIR_ACCESS = C.FILE_READ_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE
SHARE_ALL = C.FILE_SHARE_READ | C.FILE_SHARE_WRITE | C.FILE_SHARE_DELETE
#: Statuses of a QUERY_DIRECTORY that mean "nothing (more) to list".
LISTING_DONE = (NtStatus.NO_MORE_FILES, NtStatus.NO_SUCH_FILE)
#: Output buffer of one QUERY_DIRECTORY of an ``iterPath`` listing: a couple of
#: thousand entries, so memory stays flat however big the folder is.
LISTING_BATCH = 256 * 1024


class Smb2Response(ReceivedMessage):
    """One SMB2 message received: its parsed header and the message bytes."""

    __slots__ = ("header", "buf", "encrypted")

    def __init__(self, header: Smb2Header, buf: memoryview, encrypted: bool) -> None:
        self.header = header
        self.buf = buf
        self.encrypted = encrypted

    #: pysmb's field: which SMB protocol the message is.
    protocol = 2

    @property
    def status(self) -> int:
        return self.header.status

    # pysmb's message fields, read from the header
    command = header_field("command")
    mid = header_field("message_id")
    tid = header_field("tree_id")
    session_id = header_field("session_id")
    pid = header_field("process_id")
    flags = header_field("flags")
    async_id = header_field("async_id")
    next_command_offset = header_field("next_command")
    credit_charge = header_field("credit_charge")
    credit_re = header_field("credits")

    @property
    def signature(self) -> bytes:
        return bytes(self.header.signature)

    @property
    def data(self) -> bytes:
        """The body after the 64-byte header."""
        return bytes(self.buf[HEADER_SIZE:])

    @staticmethod
    def _pysmb_class() -> Any:
        from ._compat_smb2 import SMB2Message
        return SMB2Message

    def detached(self) -> "Smb2Response":
        """A copy that no longer refers to the (reused) receive buffer."""
        return Smb2Response(self.header, memoryview(bytes(self.buf)), self.encrypted)

    def __repr__(self) -> str:
        return "<SMB2 %s response %s>" % (_command_name(self.header.command), status_name(self.header.status))


def _command_name(command: int) -> str:
    try:
        return CMD(command).name
    except ValueError:
        return "0x%04X" % command


class Smb2Session:
    """Session state: id, keys and what must be signed or encrypted."""

    def __init__(self) -> None:
        self.session_id = 0
        self.session_key = b""
        self.signing_key = b""
        self.encryption_key = b""
        self.decryption_key = b""
        self.signing_required = False
        self.encrypt_data = False
        self.is_guest = False
        self.preauth = b""


class Tree:
    """A connected share."""

    __slots__ = ("name", "tree_id", "share_type", "encrypt", "capabilities")

    def __init__(self, name: str, tree_id: int, share_type: int, encrypt: bool, capabilities: int = 0) -> None:
        self.name = name
        self.tree_id = tree_id
        self.share_type = share_type
        self.encrypt = encrypt
        #: The share's Capabilities ([MS-SMB2] 2.2.10), e.g. CONTINUOUS_AVAILABILITY.
        self.capabilities = capabilities


class Durable:
    """What reopens a durable handle after a reconnect ([MS-SMB2] 3.2.4.4): the
    original request's parameters, the oplock it holds, the CreateGuid (SMB 3.x)."""

    __slots__ = ("access", "disposition", "share_access", "options", "oplock", "create_guid", "persistent",
                 "timeout")

    def __init__(self, access: int, disposition: int, share_access: int, options: int, oplock: int,
                 create_guid: Optional[bytes], persistent: bool, timeout: float = 60.0) -> None:
        self.access = access
        self.disposition = disposition
        self.share_access = share_access
        self.options = options
        self.oplock = oplock
        self.create_guid = create_guid
        self.persistent = persistent
        #: Seconds the server keeps the handle for a reconnect (DH2Q's answer; 60 for DHnQ).
        self.timeout = timeout


class Smb2Dialect(CommonOps):
    """SMB2/3 for the core: negotiate, session, message plumbing, operations."""

    is_smb2 = True

    def __init__(self, core: Any) -> None:
        self.core = core
        self.credits = CreditWindow()
        self.dialect = 0
        #: The server answered FSCTL_DFS_GET_REFERRALS_EX as unknown: plain requests only.
        self.dfs_ex_refused = False
        self.client_guid = core.rand(16)
        self.server_guid = b""
        self.server_capabilities = 0
        self.server_security_mode = 0
        self.max_read = 65536
        self.max_write = 65536
        self.max_transact = 65536
        self.cipher = 0
        self.signing_algorithm = K.SigningAlgorithm.HMAC_SHA256
        self.preauth = b"\0" * 64
        self.session = Smb2Session()
        self.trees: Dict[str, Tree] = {}
        self.negotiate_security_mode = 0
        self.validated = False
        self.require_signed_responses = False
        self._pending_smb1: Optional[bytes] = None
        #: Requests we signed: their responses must be signed too.
        self._signed_mids: set = set()
        #: AsyncIds of requests the server answered STATUS_PENDING, by MessageId, until their
        #: final response: what a CANCEL names when their operation gives them up.
        self._async_ids: Dict[int, int] = {}
        #: Reused buffer for decrypted messages.
        self._plain = bytearray()
        #: Opens holding an oplock, by FileId: (tree, level); a break of a batch or
        #: exclusive oplock is acknowledged from here ([MS-SMB2] 3.2.5.19.1).
        self.oplocks: Dict[bytes, Tuple[Tree, int]] = {}

    # ---------------------------------------------------------------- state views (pysmb's attributes)
    @property
    def signing_active(self) -> bool:
        return bool(self.session.signing_required and self.session.signing_key)

    @property
    def signing_key(self) -> Optional[bytes]:
        return self.session.signing_key or None

    signing_challenge_response = None

    @property
    def last_message_id(self) -> int:
        return max(0, self.credits.next_message_id - 1)

    # ---------------------------------------------------------------- sending
    def _security_mode(self) -> int:
        if self.core.sign_options == SIGN_NEVER:
            return K.SecurityMode.SIGNING_ENABLED
        if self.core.sign_options == SIGN_WHEN_SUPPORTED:
            return K.SecurityMode.SIGNING_ENABLED | K.SecurityMode.SIGNING_REQUIRED
        return K.SecurityMode.SIGNING_ENABLED

    def _charge(self, size: int) -> int:
        if self.dialect == K.Dialect.SMB_2_0_2:
            return 1
        return self.credits.charge_for(size)

    def _header(self, command: int, mid: int, charge: int, tree_id: int, flags: int = 0,
                next_command: int = 0) -> Smb2Header:
        return Smb2Header(command=command, credit_charge=charge if self.dialect != K.Dialect.SMB_2_0_2 else 0,
                          credits=self.credits.request_for(charge), flags=flags, next_command=next_command,
                          message_id=mid, tree_id=tree_id, session_id=self.session.session_id)

    def _must_sign(self, command: int) -> bool:
        s = self.session
        if not s.signing_key or command == CMD.NEGOTIATE:
            return False
        # [MS-SMB2] 3.2.4.1.1: 3.1.1 always signs TREE_CONNECT (it replaces
        # VALIDATE_NEGOTIATE as the downgrade check).  3.0.x signs it too: if a
        # man in the middle cleared SIGNING_REQUIRED, the server would refuse an
        # unsigned TREE_CONNECT before VALIDATE_NEGOTIATE could expose him.
        return s.signing_required or (command == CMD.TREE_CONNECT and self.dialect >= K.Dialect.SMB_3_0)

    def _encrypting(self, tree: Optional[Tree]) -> bool:
        s = self.session
        if not s.encryption_key:
            return False
        return s.encrypt_data or (tree is not None and tree.encrypt)

    def send(self, command: int, body: bytes, tree: Optional[Tree] = None, resp_size: int = 0,
             data: Optional[Any] = None) -> int:
        """Queue one request; return its message id.  ``data`` follows ``body``
        without being copied into it (WRITE payloads)."""
        return self.send_compound([(command, body, tree, resp_size, data)], related=False)[0]

    def send_compound(self, items: Sequence[Tuple[int, bytes, Optional[Tree], int, Any]],
                      related: bool = True) -> List[int]:
        """Queue several requests as one compound ([MS-SMB2] 3.2.4.1.4).

        With ``related`` the later requests act on the FileId the first
        CREATE returns (callers pass ``ANY_FILE_ID``).
        """
        mids: List[int] = []
        packed: List[Any] = []
        encrypt = items[0][0] not in (CMD.NEGOTIATE, CMD.SESSION_SETUP) and self._encrypting(items[0][2])
        last_index = len(items) - 1
        for index, (command, body, tree, resp_size, data) in enumerate(items):
            data_len = len(data) if data is not None else 0
            if data is not None and index != last_index:
                raise ValueError("only the last request of a compound may carry a data buffer")
            # [MS-SMB2] 3.1.5.2: the charge follows the payload (WRITE data,
            # READ/QUERY output), not the fixed request body.
            charge = self._charge(max(data_len if data is not None else len(body), resp_size))
            if not self.credits.has(charge):
                raise ProtocolError("server left us %d credits, %d needed" % (self.credits.available, charge))
            mid = self.credits.take(charge)
            mids.append(mid)
            self.core.expect(mid)
            # Each header is built once, with its final flags and NextCommand.
            sign = not encrypt and self._must_sign(command)
            flags = (_RELATED if related and index else 0) | (_SIGNED if sign else 0)
            size = HEADER_SIZE + len(body) + data_len
            pad = b"" if index == last_index else b"\0" * ((-size) % 8)
            next_command = 0 if index == last_index else size + len(pad)
            hdr = self._header(command, mid, charge, tree.tree_id if tree else 0, flags, next_command).pack()
            if sign:
                self._signed_mids.add(mid)
                parts = [hdr, body] + ([data] if data is not None else []) + [pad]
                hdr = hdr[:48] + self._signature(parts, mid, flags, command)
            packed.append(hdr)
            packed.append(body + pad if pad else body)
            if data is not None:
                packed.append(data)
        self.last_sent = packed
        if encrypt:
            pieces_out = self._encrypt(packed)
        else:
            pieces_out = packed
        total = sum(len(p) for p in pieces_out)
        self.core.queue(self.core.framer.header(total), *pieces_out)
        return mids

    def cancel_pending(self, mids: Sequence[int]) -> None:
        """SMB2 CANCEL ([MS-SMB2] 3.2.4.24) for each of ``mids`` (requests given up) that
        the server answered STATUS_PENDING: the async form with its AsyncId, the
        MessageId of the request, no credit charged and none asked for.  A CANCEL has
        no response of its own: the request ends with STATUS_CANCELLED (dropped, its
        operation having gone), so the server does not keep it waiting for ever."""
        s = self.session
        for mid in mids:
            async_id = self._async_ids.get(mid)
            if async_id is None:
                continue
            header = Smb2Header(command=CMD.CANCEL, flags=FLAGS.ASYNC_COMMAND, message_id=mid, async_id=async_id,
                                session_id=s.session_id)
            body = CancelRequest().pack()
            encrypt = bool(s.encryption_key) and (s.encrypt_data or any(t.encrypt for t in self.trees.values()))
            hdr = header.pack()
            if not encrypt and self._must_sign(CMD.CANCEL):
                header = _replace(header, flags=header.flags | FLAGS.SIGNED)
                hdr = header.pack()
                hdr = hdr[:48] + self._signature([hdr, body], mid, header.flags, CMD.CANCEL)
            pieces = self._encrypt([hdr, body]) if encrypt else [hdr, body]
            self.core.queue(self.core.framer.header(sum(len(p) for p in pieces)), *pieces)
            log.debug("CANCEL of message %d (async id 0x%X) given up", mid, async_id)

    # ---------------------------------------------------------------- crypto
    def _signature(self, parts: Sequence[Any], message_id: int, flags: int, command: int) -> bytes:
        """The signature of a message given as buffers whose concatenation is
        the message with a zeroed signature field ([MS-SMB2] 3.1.4.1)."""
        s = self.session
        if self.dialect <= K.Dialect.SMB_2_1:
            return crypto.hmac_sha256_parts(s.signing_key, parts)[:16]
        if self.signing_algorithm == K.SigningAlgorithm.AES_GMAC:
            nonce = _NONCE_PACK.pack(message_id, (1 if flags & _TO_REDIR else 0)
                                     | (2 if command == CMD.CANCEL else 0))
            return crypto.aes_gmac_parts(s.signing_key, nonce, parts)
        return crypto.aes_cmac_parts(s.signing_key, parts)

    def _nonce_size(self) -> int:
        return 11 if self.cipher in (K.Cipher.AES_128_CCM, K.Cipher.AES_256_CCM) else 12

    def _ccm(self) -> bool:
        return self.cipher in (K.Cipher.AES_128_CCM, K.Cipher.AES_256_CCM)

    def _encrypt(self, pieces: Sequence[Any]) -> List[Any]:
        """TRANSFORM_HEADER + ciphertext pieces for a message given as pieces."""
        nonce = self.core.rand(self._nonce_size())
        th = TransformHeader(signature=b"\0" * 16, nonce=nonce + b"\0" * (16 - len(nonce)),
                             original_message_size=sum(len(p) for p in pieces),
                             flags=K.TransformFlags.ENCRYPTED, session_id=self.session.session_id)
        ct, tag = crypto.aead_encrypt_parts(self._ccm(), self.session.encryption_key, nonce, th.aad(), pieces)
        return [_replace(th, signature=tag).pack()] + ct

    def _decrypt(self, frame: memoryview) -> memoryview:
        """Verify and decrypt a TRANSFORM frame into a reused buffer."""
        th = TransformHeader.unpack_from(frame, 0)
        if th.session_id != self.session.session_id or not self.session.decryption_key:
            raise ProtocolError("encrypted message for unknown session 0x%X" % th.session_id)
        body = frame[52:]
        size = len(body)
        if th.original_message_size != size:
            raise ProtocolError("transform header size %d does not match %d bytes" %
                                (th.original_message_size, size))
        if len(self._plain) < size:
            self._plain = bytearray(size)
        out = memoryview(self._plain)[:size]
        crypto.aead_decrypt_into(self._ccm(), self.session.decryption_key, th.nonce[:self._nonce_size()],
                                 th.aad(), body, th.signature, out)
        return out

    def _derive_keys(self, full_key: bytes) -> None:
        # [MS-SMB2] 3.2.5.3.1: SessionKey is the first 16 bytes of the GSS key
        # (zero-padded); the 3.1.1 AES-256 cipher keys come from the full key
        # (a Kerberos aes256 session key is 32 bytes; NTLM's is 16 either way).
        s = self.session
        session_key = (bytes(full_key) + b"\0" * 16)[:16]
        s.session_key = session_key
        d = self.dialect
        if d <= K.Dialect.SMB_2_1:
            s.signing_key = session_key
            return
        if d < K.Dialect.SMB_3_1_1:
            s.signing_key = crypto.smb3_kdf(session_key, b"SMB2AESCMAC\0", b"SmbSign\0")
            s.encryption_key = crypto.smb3_kdf(session_key, b"SMB2AESCCM\0", b"ServerIn \0")
            s.decryption_key = crypto.smb3_kdf(session_key, b"SMB2AESCCM\0", b"ServerOut\0")
            return
        wide = self.cipher in (K.Cipher.AES_256_CCM, K.Cipher.AES_256_GCM)
        size, cipher_key = (32, bytes(full_key)) if wide else (16, session_key)
        s.signing_key = crypto.smb3_kdf(session_key, b"SMBSigningKey\0", s.preauth)
        s.encryption_key = crypto.smb3_kdf(cipher_key, b"SMBC2SCipherKey\0", s.preauth, size)
        s.decryption_key = crypto.smb3_kdf(cipher_key, b"SMBS2CCipherKey\0", s.preauth, size)

    # ---------------------------------------------------------------- receiving
    def receive(self, frame: memoryview) -> None:
        """Decode one frame: decrypt, split compounds, verify, credit, deliver."""
        if len(frame) < 4:
            raise ProtocolError("frame of %d bytes is too short" % len(frame))
        proto = bytes(frame[:4])
        encrypted = False
        if proto == K.SMB2_TRANSFORM_PROTOCOL_ID:
            frame = self._decrypt(frame)
            encrypted = True
        elif proto == b"\xffSMB":
            if self._pending_smb1 is not None or not self.core.is_expected(0):
                raise ProtocolError("unexpected SMB1 message")
            self.core.deliver(0, bytes(frame), lambda r: r)
            return
        elif proto != K.SMB2_PROTOCOL_ID:
            raise ProtocolError("not an SMB2 message (protocol id %r)" % proto)
        offset = 0
        total = len(frame)
        while True:
            header = Smb2Header.unpack_from(frame, offset)
            self.core.last_header = header
            end = total if header.next_command == 0 else offset + header.next_command
            if header.next_command and (header.next_command < HEADER_SIZE or end > total
                                        or header.next_command % 8):
                raise ProtocolError("bad NextCommand %d in compound response" % header.next_command)
            msg = frame[offset:end]
            if not header.flags & _TO_REDIR:
                raise ProtocolError("response without the SERVER_TO_REDIR flag")
            self.credits.grant(header.credits)
            self._check_signature(header, msg, encrypted)
            interim = header.status == NtStatus.PENDING and header.flags & _ASYNC
            if interim:
                if not self.core.is_known(header.message_id):
                    raise ProtocolError("interim response to message %d that was never sent" % header.message_id)
                log.debug("interim response to message %d (async id 0x%X)", header.message_id, header.async_id)
                self._async_ids[header.message_id] = header.async_id
                if not self.core.is_expected(header.message_id):  # already given up: cancel it now
                    self.cancel_pending([header.message_id])
            elif header.message_id == _UNSOLICITED and header.command == CMD.OPLOCK_BREAK:
                self._oplock_break(msg)
            else:
                if self._async_ids:
                    self._async_ids.pop(header.message_id, None)
                self.core.deliver(header.message_id, Smb2Response(header, msg, encrypted),
                                  Smb2Response.detached)
            if header.next_command == 0:
                return
            offset = end

    def _oplock_break(self, msg: memoryview) -> None:
        """An oplock break notification: a batch or exclusive oplock of ours is
        acknowledged at once with the level the server offers ([MS-SMB2] 3.2.5.19.1),
        so that the other opener does not wait; the answer to that acknowledgment is
        dropped.  A lease break (we ask for no lease) and a break of an open we do
        not hold are only logged."""
        if len(msg) - HEADER_SIZE != 24:
            log.debug("ignoring a lease break notification (no lease was asked for)")
            return
        note = OplockBreakNotification.unpack_from(msg, HEADER_SIZE)
        held = self.oplocks.get(note.file_id)
        if held is None:
            log.debug("oplock break for an open we do not hold")
            return
        tree, level = held
        new_level = note.oplock_level if note.oplock_level in (_OPLOCK_II, _OPLOCK_NONE) else 0
        self.oplocks[note.file_id] = (tree, new_level)
        if level not in (_OPLOCK_BATCH, _OPLOCK_EXCLUSIVE):
            return  # a level II oplock goes to none without an acknowledgment
        if not self.credits.has(1):
            log.debug("no credit left to acknowledge an oplock break; the server times it out")
            return
        log.debug("acknowledging an oplock break to level %d", new_level)
        mid = self.send(CMD.OPLOCK_BREAK, OplockBreakAcknowledgment(new_level, note.file_id).pack(), tree)
        self.core.drop_answer(mid)

    def _check_signature(self, header: Smb2Header, msg: memoryview, encrypted: bool) -> None:
        s = self.session
        if encrypted or header.message_id == _UNSOLICITED:
            # [MS-SMB2] 3.2.5.1.3: an oplock break notification (MessageId all ones) is
            # not verified; the worst a forged one does is make us give up caching.
            return
        signed = bool(header.flags & _SIGNED)
        interim = header.status == NtStatus.PENDING and header.flags & _ASYNC
        if not interim:
            was_signed = header.message_id in self._signed_mids
            self._signed_mids.discard(header.message_id)
        else:
            was_signed = False
        if not signed:
            if ((s.signing_required or was_signed) and s.signing_key and header.session_id == s.session_id
                    and not interim and header.command != CMD.NEGOTIATE):
                raise ProtocolError("unsigned %s response on a session that requires signing" %
                                    _command_name(header.command))
            return
        if (header.command == CMD.SESSION_SETUP and not self.core.has_authenticated
                and header.status not in (NtStatus.SUCCESS, NtStatus.MORE_PROCESSING_REQUIRED)):
            # A failed logon has no session key on our side to check the
            # server's signature with (some servers sign the error with theirs).
            # The logon fails either way, so nothing is trusted on its word.
            log.debug("not verifying the signature of a failed SESSION_SETUP response (%s)",
                      status_name(header.status))
            return
        if not s.signing_key or header.session_id != s.session_id:
            # e.g. a signed error before keys exist: nothing we can check
            if s.signing_required:
                raise ProtocolError("signed response for a session we hold no key for")
            return
        received = bytes(msg[_SIG])
        parts = (bytes(msg[:48]) + b"\0" * 16, msg[HEADER_SIZE:])
        expected = self._signature(parts, header.message_id, header.flags, header.command)
        if not crypto_compare(expected, received):
            raise ProtocolError("bad signature on %s response (message %d)" %
                                (_command_name(header.command), header.message_id))

    # ---------------------------------------------------------------- helpers
    def call(self, command: int, body: bytes, tree: Optional[Tree] = None, resp_size: int = 0):
        """Send one request and wait for its response (a generator); first
        wait for credits if other operations hold them all."""
        charge = self._charge(max(len(body), resp_size))
        if not self.credits.can_send(charge):
            yield WaitCredits(charge)
        mid = self.send(command, body, tree, resp_size)
        try:
            resp = yield mid
        except SMBTimeout:
            if command == CMD.CREATE:
                # Given up while the CREATE was out: if it still opens the file, close it.
                self.core.on_late_answer(mid, lambda late: self._close_late_open(late, tree))
            raise
        return resp

    def _close_late_open(self, resp: Smb2Response, tree: Optional[Tree]) -> None:
        if resp.header.status != NtStatus.SUCCESS or tree is None:
            return
        if not self.credits.has(1):
            log.debug("no credit left to close a late open; the server closes it at logoff")
            return
        file_id = CreateResponse.unpack_from(resp.buf, HEADER_SIZE).file_id
        self.core.drop_answer(self.send(CMD.CLOSE, CloseRequest(file_id=file_id).pack(), tree))

    @staticmethod
    def check(resp: Smb2Response, what: str, ok: Sequence[int] = (NtStatus.SUCCESS,)) -> Smb2Response:
        if resp.header.status not in ok:
            raise OperationFailure("%s failed: %s" % (what, status_name(resp.header.status)), [resp],
                                   resp.header.status)
        return resp

    # ---------------------------------------------------------------- negotiate
    def negotiate_smb1_first(self, smb1_request: bytes):
        """Send pysmb's opening SMB1 NEGOTIATE and take an SMB2 answer if any.

        Returns the raw SMB1 response when the server chose NT LM 0.12, else
        None once SMB2 negotiation is complete.
        """
        self.core.expect(0)
        self.credits.take(1)
        self.core.queue(self.core.framer.header(len(smb1_request)), smb1_request)
        resp = yield 0
        if isinstance(resp, bytes):
            return resp
        header = resp.header
        if header.command != CMD.NEGOTIATE or header.status != NtStatus.SUCCESS:
            raise ProtocolError("unexpected answer to the SMB1 NEGOTIATE: %r" % resp)
        neg = NegotiateResponse.unpack_from(resp.buf, HEADER_SIZE)
        if neg.dialect_revision == K.Dialect.WILDCARD:
            yield from self.negotiate()
        elif neg.dialect_revision == K.Dialect.SMB_2_0_2:
            self._take_negotiate(neg, K.Dialect.SMB_2_0_2)
        else:
            raise ProtocolError("server chose dialect 0x%04X in answer to SMB1 NEGOTIATE" % neg.dialect_revision)
        return None

    def negotiate(self):
        """SMB2 NEGOTIATE offering 2.0.2 .. 3.1.1 ([MS-SMB2] 3.2.4.2.2.2)."""
        capabilities = (K.GlobalCapabilities.LARGE_MTU | K.GlobalCapabilities.ENCRYPTION)
        contexts = (
            PreauthIntegrityCapabilities(hash_algorithms=(K.HashAlgorithm.SHA_512,),
                                         salt=self.core.rand(32)).to_context(),
            EncryptionCapabilities(ciphers=CIPHERS).to_context(),
            SigningCapabilities(algorithms=SIGNING_ALGORITHMS).to_context(),
        )
        self.negotiate_security_mode = self._security_mode()
        req = NegotiateRequest(dialects=ALL_DIALECTS, security_mode=self.negotiate_security_mode,
                               capabilities=capabilities, client_guid=self.client_guid,
                               negotiate_contexts=contexts)
        self.negotiate_capabilities = capabilities
        mid = self.send(CMD.NEGOTIATE, req.pack())
        sent = b"".join(bytes(p) for p in self.last_sent)
        resp = yield mid
        self.check(resp, "NEGOTIATE")
        neg = NegotiateResponse.unpack_from(resp.buf, HEADER_SIZE)
        if neg.dialect_revision not in ALL_DIALECTS:
            raise ProtocolError("server chose dialect 0x%04X we did not offer" % neg.dialect_revision)
        self._take_negotiate(neg, neg.dialect_revision)
        if self.dialect == K.Dialect.SMB_3_1_1:
            self.preauth = crypto.preauth_hash_update(self.preauth, sent)
            self.preauth = crypto.preauth_hash_update(self.preauth, bytes(resp.buf))
            self._take_contexts(neg)

    def _take_negotiate(self, neg: NegotiateResponse, dialect: int) -> None:
        self.dialect = dialect
        self.server_guid = bytes(neg.server_guid)
        self.server_capabilities = neg.capabilities
        self.server_security_mode = neg.security_mode
        self.credits.large_mtu = dialect >= K.Dialect.SMB_2_1 and bool(
            neg.capabilities & K.GlobalCapabilities.LARGE_MTU)
        cap = MAX_IO if self.credits.large_mtu else 65536
        if not self.core.is_direct_tcp:
            # NetBIOS session messages carry at most 128 KiB ([RFC 1002] 4.3.1).
            cap = 65536
        self.max_read = max(4096, min(neg.max_read_size, cap))
        self.max_write = max(4096, min(neg.max_write_size, cap))
        self.max_transact = max(4096, min(neg.max_transact_size, MAX_TRANSACT, cap))
        # The largest frame we accept: a read response (MaxRead + headers, plus
        # a transform header) or a compound of two QUERY_DIRECTORY responses.
        self.core.framer.max_frame = max(self.max_read, 2 * self.max_transact) + 65536
        if dialect >= K.Dialect.SMB_3_0 and dialect < K.Dialect.SMB_3_1_1:
            if neg.capabilities & K.GlobalCapabilities.ENCRYPTION:
                self.cipher = K.Cipher.AES_128_CCM
            self.signing_algorithm = K.SigningAlgorithm.AES_CMAC
        log.debug("negotiated SMB dialect 0x%04X, max read %d, max write %d", dialect,
                  self.max_read, self.max_write)

    def _take_contexts(self, neg: NegotiateResponse) -> None:
        self.signing_algorithm = K.SigningAlgorithm.AES_CMAC
        seen_preauth = False
        for ctx in neg.negotiate_contexts:
            if ctx.context_type == K.NegotiateContextType.PREAUTH_INTEGRITY_CAPABILITIES:
                pre = PreauthIntegrityCapabilities.from_context(ctx)
                if tuple(pre.hash_algorithms) != (K.HashAlgorithm.SHA_512,):
                    raise ProtocolError("server chose an unknown preauth hash")
                seen_preauth = True
            elif ctx.context_type == K.NegotiateContextType.ENCRYPTION_CAPABILITIES:
                enc = EncryptionCapabilities.from_context(ctx)
                if len(enc.ciphers) != 1 or (enc.ciphers[0] and enc.ciphers[0] not in CIPHERS):
                    raise ProtocolError("server chose ciphers %r we did not offer" % (enc.ciphers,))
                self.cipher = enc.ciphers[0]
            elif ctx.context_type == K.NegotiateContextType.SIGNING_CAPABILITIES:
                sig = SigningCapabilities.from_context(ctx)
                if len(sig.algorithms) != 1 or sig.algorithms[0] not in SIGNING_ALGORITHMS:
                    raise ProtocolError("server chose signing algorithms %r we did not offer" % (sig.algorithms,))
                self.signing_algorithm = sig.algorithms[0]
        if not seen_preauth:
            raise ProtocolError("SMB 3.1.1 NEGOTIATE response lacks the SMB2_PREAUTH_INTEGRITY_CAPABILITIES "
                                "negotiate context, which [MS-SMB2] 2.2.4 requires")

    # ---------------------------------------------------------------- session
    def session_setup(self):
        """SESSION_SETUP with SPNEGO (NTLMSSP, or Kerberos when the driver
        put an :class:`~smb.krb5.ApInitiator` in ``core.kerberos``); returns
        False on a failed logon."""
        if self.core.kerberos is not None:
            ok = yield from self._session_setup_kerberos(self.core.kerberos)
            return ok
        from .ntlm import NtlmContext
        from . import securityblob as sb
        core = self.core
        ntlm = NtlmContext(core.username, core.password, core.domain, core.my_name,
                           use_ntlm_v2=core.use_ntlm_v2, rand=core.rand)
        s = self.session
        s.preauth = self.preauth
        token = sb.generateNegotiateSecurityBlob(ntlm.negotiate_message())
        security_mode = self._security_mode()
        req = SessionSetupRequest(security_buffer=token, security_mode=security_mode,
                                  previous_session_id=self.core.previous_session_id)
        mid = self.send(CMD.SESSION_SETUP, req.pack())
        self._hash_sent()
        resp = yield mid
        if resp.header.status != NtStatus.MORE_PROCESSING_REQUIRED:
            if resp.header.status in LOGON_FAILURES:
                return False
            self.check(resp, "SESSION_SETUP", ())
        s.session_id = resp.header.session_id
        self._hash_received(resp)
        setup = SessionSetupResponse.unpack_from(resp.buf, HEADER_SIZE)
        result, challenge = sb.decodeChallengeSecurityBlob(bytes(setup.security_buffer))
        auth = ntlm.authenticate_message(challenge)
        mic = None if ntlm.anonymous else ntlm.mech_list_mic(sb.MECH_TYPES_DER)
        token = sb.generateAuthSecurityBlob(auth, mech_list_mic=mic)
        req = SessionSetupRequest(security_buffer=token, security_mode=security_mode,
                                  previous_session_id=self.core.previous_session_id)
        mid = self.send(CMD.SESSION_SETUP, req.pack())
        self._hash_sent()
        # Keys are derived before the final response arrives: 3.x signs it.
        flags_guess_key = ntlm.session_key
        self._derive_keys(flags_guess_key)
        s.signing_required = False
        resp = yield mid
        if resp.header.status in LOGON_FAILURES:
            s.signing_key = b""
            return False
        if resp.header.status != NtStatus.SUCCESS:
            s.signing_key = b""
            self.check(resp, "SESSION_SETUP")
        setup = SessionSetupResponse.unpack_from(resp.buf, HEADER_SIZE)
        return self._finish_logon(resp, setup, ntlm.anonymous)

    def _session_setup_kerberos(self, initiator: Any):
        """One SESSION_SETUP carrying the AP-REQ; the answer's AP-REP gives the
        session key, which then checks the answer's signature."""
        s = self.session
        s.preauth = self.preauth
        req = SessionSetupRequest(security_buffer=initiator.token(), security_mode=self._security_mode(),
                                  previous_session_id=self.core.previous_session_id)
        mid = self.send(CMD.SESSION_SETUP, req.pack())
        self._hash_sent()
        s.signing_required = False
        resp = yield mid
        if resp.header.status in LOGON_FAILURES:
            return False
        if resp.header.status == NtStatus.MORE_PROCESSING_REQUIRED:
            raise UnsupportedFeature("the server wants another Kerberos round trip (SPNEGO mechListMIC "
                                     "exchange), which is not supported")
        self.check(resp, "SESSION_SETUP")
        s.session_id = resp.header.session_id
        setup = SessionSetupResponse.unpack_from(resp.buf, HEADER_SIZE)
        initiator.accept(bytes(setup.security_buffer))  # KerberosError unless mutual auth holds
        self._derive_keys(initiator.session_key)
        return self._finish_logon(resp, setup, False)

    def _finish_logon(self, resp: Smb2Response, setup: SessionSetupResponse, anonymous: bool) -> bool:
        """After the final SESSION_SETUP response: guest/signing/encryption state."""
        core = self.core
        s = self.session
        s.is_guest = bool(setup.session_flags & (K.SessionFlags.IS_GUEST | K.SessionFlags.IS_NULL)) or anonymous
        if s.is_guest:
            s.signing_key = s.encryption_key = s.decryption_key = b""
        else:
            # The final response must be signed when it can be (3.1.1 always).
            if resp.header.flags & FLAGS.SIGNED:
                self._check_signature(resp.header, resp.buf, resp.encrypted)
            elif self.dialect == K.Dialect.SMB_3_1_1:
                raise ProtocolError("unsigned final SESSION_SETUP response on SMB 3.1.1")
            server_requires = bool(self.server_security_mode & K.SecurityMode.SIGNING_REQUIRED)
            # The signing key is kept even when signing is off: VALIDATE_NEGOTIATE
            # and the 3.1.1 TREE_CONNECT are signed regardless.
            s.signing_required = (server_requires or core.sign_options == SIGN_WHEN_SUPPORTED
                                  or core.encrypt)
        s.encrypt_data = bool(setup.session_flags & K.SessionFlags.ENCRYPT_DATA)
        if core.encrypt or s.encrypt_data:
            if self.dialect < K.Dialect.SMB_3_0 or not self.cipher or s.is_guest:
                raise UnsupportedFeature("encryption was asked for but dialect 0x%04X / cipher %d / "
                                         "guest=%s cannot provide it" % (self.dialect, self.cipher, s.is_guest))
            s.encrypt_data = True
        if s.encrypt_data and self.dialect >= K.Dialect.SMB_3_0:
            s.signing_required = True
        core.has_authenticated = True
        log.info("logged on (dialect 0x%04X, signing %s, encryption %s, guest %s)", self.dialect,
                 "on" if s.signing_required else "off", "on" if s.encrypt_data else "off", s.is_guest)
        return True

    def _hash_sent(self) -> None:
        if self.dialect == K.Dialect.SMB_3_1_1:
            sent = b"".join(bytes(p) for p in self.last_sent)
            self.session.preauth = crypto.preauth_hash_update(self.session.preauth, sent)

    def _hash_received(self, resp: Smb2Response) -> None:
        if self.dialect == K.Dialect.SMB_3_1_1:
            self.session.preauth = crypto.preauth_hash_update(self.session.preauth, bytes(resp.buf))

    def logoff(self):
        """LOGOFF (best effort; used by close())."""
        for tree in list(self.trees.values()):
            try:
                yield from self.call(CMD.TREE_DISCONNECT, TreeDisconnectRequest().pack(), tree)
            except OperationFailure:
                pass
        self.trees.clear()
        if self.session.session_id:
            yield from self.call(CMD.LOGOFF, LogoffRequest().pack())

    # ---------------------------------------------------------------- trees
    def tree(self, share: str):
        """Connect ``share`` once per connection; returns the :class:`Tree`."""
        key = share.upper()
        tree = self.trees.get(key)
        if tree is not None:
            return tree
        if not self.core.has_authenticated:
            raise NotReadyError("not logged on")
        server = self.core.remote_name or self.core.server_ip or "*SMBSERVER"
        path = "\\\\%s\\%s" % (server, share)
        resp = yield from self.call(CMD.TREE_CONNECT, TreeConnectRequest(path=path).pack())
        self.check(resp, "TREE_CONNECT to '%s'" % share)
        tc = TreeConnectResponse.unpack_from(resp.buf, HEADER_SIZE)
        encrypt = bool(tc.share_flags & K.ShareFlags.ENCRYPT_DATA)
        if encrypt and not self.session.encryption_key:
            raise UnsupportedFeature("share %r requires encryption, which this session cannot do" % share)
        tree = Tree(share, resp.header.tree_id, tc.share_type, encrypt, tc.capabilities)
        self.trees[key] = tree
        if not self.validated:
            self.validated = True
            if (K.Dialect.SMB_3_0 <= self.dialect < K.Dialect.SMB_3_1_1 and self.session.signing_key
                    and not self.session.is_guest):
                yield from self._validate_negotiate(tree)
        return tree

    def _validate_negotiate(self, tree: Tree):
        """FSCTL_VALIDATE_NEGOTIATE_INFO ([MS-SMB2] 3.2.5.14.12): detects downgrades."""
        vreq = ValidateNegotiateInfoRequest(capabilities=self.negotiate_capabilities, guid=self.client_guid,
                                            security_mode=self.negotiate_security_mode, dialects=ALL_DIALECTS)
        req = IoctlRequest(ctl_code=K.Fsctl.VALIDATE_NEGOTIATE_INFO, file_id=ANY_FILE_ID, input=vreq.pack(),
                           max_output_response=24)
        saved = self.session.signing_required
        self.session.signing_required = True  # this exchange must be signed both ways
        try:
            resp = yield from self.call(CMD.IOCTL, req.pack(), tree, 24)
        finally:
            self.session.signing_required = saved
        if resp.header.status != NtStatus.SUCCESS:
            raise ProtocolError("VALIDATE_NEGOTIATE_INFO failed: %s" % status_name(resp.header.status))
        out = IoctlResponse.unpack_from(resp.buf, HEADER_SIZE)
        info = ValidateNegotiateInfoResponse.unpack_from(out.output, 0)
        if (info.dialect != self.dialect or bytes(info.guid) != self.server_guid
                or info.security_mode != self.server_security_mode
                or info.capabilities != self.server_capabilities):
            raise ProtocolError("VALIDATE_NEGOTIATE_INFO mismatch: the negotiation was tampered with")
        log.debug("negotiate validated")

    # ---------------------------------------------------------------- opens
    def _create(self, tree: Tree, path: str, access: int, disposition: int, options: int,
                attributes: int = 0, share: int = SHARE_ALL, oplock: int = 0,
                contexts: Sequence[Tuple[bytes, bytes]] = ()) -> bytes:
        # A previous version (@GMT-... in the path) is asked for with a TWrp context.
        path, when = split_timewarp(path)
        chain = list(contexts)
        if when is not None:
            chain.append(TimewarpToken(when).context())
        return CreateRequest(name=path, desired_access=access, file_attributes=attributes,
                             share_access=share, create_disposition=disposition, create_options=options,
                             requested_oplock_level=oplock,
                             create_contexts=pack_create_contexts(chain) if chain else b"").pack()

    def open(self, tree: Tree, path: str, access: int, disposition: int = C.FILE_OPEN, options: int = 0,
             what: str = "open"):
        resp = yield from self.call(CMD.CREATE, self._create(tree, path, access, disposition, options), tree)
        self.check(resp, "%s '%s' on '%s'" % (what, path, tree.name))
        return CreateResponse.unpack_from(resp.buf, HEADER_SIZE)

    def close_file(self, tree: Tree, file_id: bytes):
        resp = yield from self.call(CMD.CLOSE, CloseRequest(file_id=file_id).pack(), tree)
        self.check(resp, "CLOSE")

    def compound(self, tree: Tree, path: str, access: int, disposition: int, options: int,
                 middle: Sequence[Tuple[int, bytes, int]], what: str, attributes: int = 0,
                 optional: Sequence[int] = (), create: Optional[bytes] = None, close: bool = True):
        """CREATE + ``middle`` requests on that open + CLOSE in one round trip.

        Returns the list of responses (create, middles..., close); raises
        :class:`OperationFailure` naming ``what`` on the first failure, except
        for the middle requests whose indexes are in ``optional``.  ``create`` is a
        CREATE body built by the caller; without ``close`` the file stays open.
        """
        if create is None:
            create = self._create(tree, path, access, disposition, options, attributes)
        items: List[Tuple[int, bytes, Optional[Tree], int, Any]] = [(CMD.CREATE, create, tree, 0, None)]
        for command, body, resp_size in middle:
            items.append((command, body, tree, resp_size, None))
        if close:
            items.append((CMD.CLOSE, CloseRequest(file_id=ANY_FILE_ID).pack(), tree, 0, None))
        mids = self.send_compound(items, related=True)
        responses: Dict[int, Smb2Response] = {}
        pending = set(mids)
        while pending:
            mid, resp = yield WaitAny(pending)
            pending.discard(mid)
            # A server may answer a compound in several frames; a response that
            # must outlive the receive buffer (more frames to come) is copied.
            responses[mid] = resp.detached() if pending else resp
        ordered = [responses[m] for m in mids]
        for index, resp in enumerate(ordered[:-1] if close else ordered):
            if index - 1 not in optional:
                self.check(resp, "%s '%s' on '%s'" % (what, path, tree.name))
        return ordered

    # ================================================================ operations
    def dfs_referral(self, request_file_name: str, max_output: int = 56 * 1024):
        """A DFS referral for ``request_file_name`` on IPC$ ([MS-DFSC] 3.1.4.2,
        [MS-SMB2] 3.2.4.20.3); returns the raw RESP_GET_DFS_REFERRAL (parsed by
        :mod:`smb.dfs`).  Over SMB 3.x the extended form FSCTL_DFS_GET_REFERRALS_EX
        goes first; a server that does not know it gets FSCTL_DFS_GET_REFERRALS,
        from then on."""
        tree = yield from self.tree("IPC$")
        if self.dialect >= K.Dialect.SMB_3_0 and not self.dfs_ex_refused:
            req = IoctlRequest(ctl_code=FSCTL_DFS_GET_REFERRALS_EX, file_id=ANY_FILE_ID,
                               input=ReferralRequestEx(4, request_file_name).pack(), max_output_response=max_output)
            resp = yield from self.call(CMD.IOCTL, req.pack(), tree, max_output)
            if resp.header.status not in _NO_EXTENDED_REFERRALS:
                self.check(resp, "DFS referral")
                return bytes(IoctlResponse.unpack_from(resp.buf, HEADER_SIZE).output)
            log.debug("the server does not take FSCTL_DFS_GET_REFERRALS_EX (%s)", status_name(resp.header.status))
            self.dfs_ex_refused = True
        req = IoctlRequest(ctl_code=FSCTL_DFS_GET_REFERRALS, file_id=ANY_FILE_ID,
                           input=ReferralRequest(4, request_file_name).pack(), max_output_response=max_output)
        resp = yield from self.call(CMD.IOCTL, req.pack(), tree, max_output)
        self.check(resp, "DFS referral")
        return bytes(IoctlResponse.unpack_from(resp.buf, HEADER_SIZE).output)

    def echo(self, data: bytes):
        resp = yield from self.call(CMD.ECHO, EchoRequest().pack())
        self.check(resp, "ECHO")
        return data

    def list_shares(self):
        """NetShareEnumAll over the srvsvc pipe on IPC$ ([MS-SRVS] 3.1.4.8)."""
        from . import _msrpc
        tree = yield from self.tree("IPC$")
        access = C.FILE_READ_DATA | C.FILE_WRITE_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE
        opened = yield from self.open(tree, "srvsvc", access, C.FILE_OPEN, 0, "open pipe")
        fid = opened.file_id
        try:
            ack = yield from self._pipe_transceive(tree, fid, _msrpc.build_bind())
            _msrpc.parse_bind_ack(ack)
            server = self.core.remote_name or self.core.server_ip
            request = _msrpc.build_net_share_enum_all("\\\\" + server)
            stub = yield from self._pipe_transact_read(tree, fid, request)
            shares = _msrpc.parse_net_share_enum_all_response(stub)
        finally:
            yield from self.close_file(tree, fid)
        return [SharedDevice(stype, name, comment) for name, stype, comment in shares]

    def _pipe_transceive(self, tree: Tree, fid: bytes, request: bytes):
        """One FSCTL_PIPE_TRANSCEIVE round trip; returns the output bytes."""
        ioctl = IoctlRequest(ctl_code=K.Fsctl.PIPE_TRANSCEIVE, file_id=fid, input=request,
                             max_output_response=4280)
        resp = yield from self.call(CMD.IOCTL, ioctl.pack(), tree, 4280)
        self.check(resp, "pipe TRANSCEIVE")
        return bytes(IoctlResponse.unpack_from(resp.buf, HEADER_SIZE).output)

    def _pipe_transact_read(self, tree: Tree, fid: bytes, request: Optional[bytes]):
        """Send ``request`` with FSCTL_PIPE_TRANSCEIVE (or just read) and collect
        one whole DCE/RPC response, which may span several fragments/reads."""
        from . import _msrpc
        assembler = _msrpc.RpcResponseAssembler()
        if request is not None:
            ioctl = IoctlRequest(ctl_code=K.Fsctl.PIPE_TRANSCEIVE, file_id=fid, input=request,
                                 max_output_response=self.max_transact)
            resp = yield from self.call(CMD.IOCTL, ioctl.pack(), tree, self.max_transact)
            self.check(resp, "pipe TRANSCEIVE", (NtStatus.SUCCESS, NtStatus.BUFFER_OVERFLOW))
            assembler.feed(bytes(IoctlResponse.unpack_from(resp.buf, HEADER_SIZE).output))
        while not assembler.done:
            req = ReadRequest(file_id=fid, offset=0, length=self.max_transact)
            resp = yield from self.call(CMD.READ, req.pack(), tree, self.max_transact)
            self.check(resp, "pipe READ", (NtStatus.SUCCESS, NtStatus.BUFFER_OVERFLOW))
            data = ReadResponse.unpack_from(resp.buf, HEADER_SIZE).data
            if not len(data):
                raise MalformedResponse("empty read from the srvsvc pipe")
            assembler.feed(bytes(data))
        return assembler.stub_data

    def list_path(self, share: str, path: str, search: int, pattern: str):
        """QUERY_DIRECTORY with FileIdBothDirectoryInformation.

        The common case (a directory whose listing fits one response) costs a
        single round trip: CREATE + QUERY + QUERY + CLOSE compounded, the
        second QUERY confirming the end.  Bigger directories are then listed
        batch by batch on a fresh open (:class:`Smb2Listing`, which
        ``iterPath`` uses too).
        """
        tree = yield from self.tree(share)
        what = "list '%s' on '%s'" % (path, share)
        size = self.max_transact
        if self.credits.can_send(2 + 2 * self._charge(size)):
            first = self._query_dir_request(ANY_FILE_ID, pattern, True, size)
            again = self._query_dir_request(ANY_FILE_ID, pattern, False, size)
            responses = yield from self.compound(tree, path, DIR_ACCESS, C.FILE_OPEN, C.FILE_DIRECTORY_FILE,
                                                 [(CMD.QUERY_DIRECTORY, first, size),
                                                  (CMD.QUERY_DIRECTORY, again, size)], "list", optional=(0, 1))
            if responses[1].header.status in LISTING_DONE:
                return []
            self.check(responses[1], what)
            if responses[2].header.status in LISTING_DONE:
                return self._directory_entries(responses[1], search)
            self.check(responses[2], what, (NtStatus.SUCCESS,))
        # More than two buffers' worth (or too few credits for the compound).
        entries = yield from self.collect_listing(self.open_listing(share, path, pattern, size), search)
        return entries

    def open_listing(self, share: str, path: str, pattern: str, size: int = 0) -> "Smb2Listing":
        """A listing of ``path`` fetched one QUERY_DIRECTORY at a time (no IO yet);
        ``size`` bounds each response (default :data:`LISTING_BATCH`)."""
        return Smb2Listing(self, share, path, pattern, size or LISTING_BATCH)

    @staticmethod
    def _query_dir_request(file_id: bytes, pattern: str, restart: bool, size: int) -> bytes:
        return QueryDirectoryRequest(file_id=file_id,
                                     file_information_class=K.FileInfoClass.FileIdBothDirectoryInformation,
                                     flags=K.QueryDirectoryFlags.RESTART_SCANS if restart else 0,
                                     output_buffer_length=size, file_name=pattern or "*").pack()

    @staticmethod
    def _directory_entries(resp: Smb2Response, search: int) -> List[SharedFile]:
        buf = QueryDirectoryResponse.unpack_from(resp.buf, HEADER_SIZE).buffer
        return [shared_file(e.creation_time, e.last_access_time, e.last_write_time, e.change_time,
                             e.end_of_file, e.allocation_size, e.file_attributes, e.short_name,
                             e.file_name, e.file_id)
                for e in fscc.parse_file_id_both_directory_information(buf)
                if matches_search(e.file_attributes, search)]

    def get_attributes(self, share: str, path: str):
        tree = yield from self.tree(share)
        q_all = QueryInfoRequest(info_type=K.InfoType.FILE, file_info_class=K.FileInfoClass.FileAllInformation,
                                 file_id=ANY_FILE_ID, output_buffer_length=4096).pack()
        q_alt = QueryInfoRequest(info_type=K.InfoType.FILE,
                                 file_info_class=K.FileInfoClass.FileAlternateNameInformation,
                                 file_id=ANY_FILE_ID, output_buffer_length=1024).pack()
        responses = yield from self.compound(
            tree, path, C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE, C.FILE_OPEN, 0,
            [(CMD.QUERY_INFO, q_all, 4096), (CMD.QUERY_INFO, q_alt, 1024)], "getAttributes", optional=(1,))
        info = fscc.FileAllInformation.unpack_from(QueryInfoResponse.unpack_from(responses[1].buf, HEADER_SIZE).buffer)
        short = ""
        if responses[2].header.status == NtStatus.SUCCESS:
            short = fscc.parse_file_alternate_name_information(
                QueryInfoResponse.unpack_from(responses[2].buf, HEADER_SIZE).buffer)
        name = path.rsplit("\\", 1)[-1] if path else ""
        b, st = info.basic, info.standard
        return shared_file(b.creation_time, b.last_access_time, b.last_write_time, b.change_time,
                            st.end_of_file, st.allocation_size, b.file_attributes, short, name,
                            info.internal_id)

    def get_security(self, share: str, path: str):
        from .security_descriptors import SecurityDescriptor
        tree = yield from self.tree(share)
        info = K.SecurityInformation.OWNER | K.SecurityInformation.GROUP | K.SecurityInformation.DACL
        q = QueryInfoRequest(info_type=K.InfoType.SECURITY, file_info_class=0, file_id=ANY_FILE_ID,
                             output_buffer_length=65536, additional_information=info).pack()
        responses = yield from self.compound(tree, path, C.READ_CONTROL | C.FILE_READ_ATTRIBUTES, C.FILE_OPEN,
                                             0, [(CMD.QUERY_INFO, q, 65536)], "getSecurity")
        data = QueryInfoResponse.unpack_from(responses[1].buf, HEADER_SIZE).buffer
        return SecurityDescriptor.from_bytes(bytes(data))

    def list_snapshots(self, share: str, path: str):
        tree = yield from self.tree(share)
        opened = yield from self.open(tree, path, C.FILE_READ_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE,
                                      C.FILE_OPEN, 0, "listSnapshots")
        fid = opened.file_id
        try:
            size = 16
            for _ in range(3):
                req = IoctlRequest(ctl_code=K.Fsctl.SRV_ENUMERATE_SNAPSHOTS, file_id=fid, max_output_response=size)
                resp = yield from self.call(CMD.IOCTL, req.pack(), tree, size)
                self.check(resp, "listSnapshots '%s' on '%s'" % (path, share))
                arr = fscc.SnapshotArray.unpack_from(IoctlResponse.unpack_from(resp.buf, HEADER_SIZE).output)
                if arr.number_of_snapshots == arr.number_of_snapshots_returned or arr.snapshot_array_size + 16 <= size:
                    break
                size = min(arr.snapshot_array_size + 16, self.max_transact)
        finally:
            yield from self.close_file(tree, fid)
        return snapshots_to_datetimes(arr.snapshots)

    def retrieve(self, share: str, path: str, file_obj: Any, offset: int, max_length: int,
                 progress: Optional[Callable[[int], None]], set_total: Optional[Callable[[int], None]] = None):
        """READs straight into ``file_obj`` (data written in order).

        A small file costs one round trip: CREATE + READ + CLOSE compounded.
        When that first READ did not reach the end, the file is opened again
        and the rest is read with pipelined READs.
        """
        tree = yield from self.tree(share)
        start = offset
        access = C.FILE_READ_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE
        first = min(self.max_read, SMALL_IO) if max_length < 0 else min(self.max_read, SMALL_IO, max_length)
        if first > 0 and self.credits.can_send(2 + self._charge(first)):
            read = ReadRequest(file_id=ANY_FILE_ID, offset=offset, length=first).pack()
            responses = yield from self.compound(tree, path, access, C.FILE_OPEN, C.FILE_NON_DIRECTORY_FILE,
                                                 [(CMD.READ, read, first)], "retrieve", optional=(0,))
            created = CreateResponse.unpack_from(responses[0].buf, HEADER_SIZE)
            end = created.end_of_file if max_length < 0 else min(created.end_of_file, offset + max_length)
            if set_total:
                set_total(max(0, end - start))
            data = self._first_read(responses[1], first)
            if len(data):
                file_obj.write(data)
                if progress:
                    progress(len(data))
            if not len(data) or offset + len(data) >= end:
                return created.file_attributes, len(data)
            offset += len(data)
            done = len(data)
            if max_length >= 0:
                max_length -= done
        else:
            done = 0
        opened = yield from self.open(tree, path, access, C.FILE_OPEN, C.FILE_NON_DIRECTORY_FILE, "retrieve")
        fid = opened.file_id
        try:
            size = opened.end_of_file
            end = size if max_length < 0 else min(size, offset + max_length)
            if set_total:
                set_total(max(0, end - start))
            total = yield from self._read_range(tree, fid, offset, end, file_obj, progress)
        finally:
            yield from self.close_file(tree, fid)
        return opened.file_attributes, done + total

    def _read_range(self, tree: Tree, fid: bytes, start: int, end: int, file_obj: Any,
                    progress: Optional[Callable[[int], None]]):
        chunk = self.credits.io_size(self.max_read)
        plan = ReadPlan(file_obj, start, end, chunk, progress)
        depth_bytes = max(4 * chunk, 16 * 1024 * 1024)
        inflight: Dict[int, Tuple[int, int]] = {}  # mid -> (offset, length)
        in_flight_bytes = 0
        while not plan.done:
            while plan.wants_more and in_flight_bytes < depth_bytes:
                off, length = plan.next_range()
                if not self.credits.can_send(self._charge(length)):
                    if inflight:
                        plan.put_back(off, length)
                        break
                    yield WaitCredits(self._charge(length))
                req = ReadRequest(file_id=fid, offset=off, length=length)
                inflight[self.send(CMD.READ, req.pack(), tree, length)] = (off, length)
                in_flight_bytes += length
            if not inflight:
                break
            mid, resp = yield WaitAny(inflight)
            off, length = inflight.pop(mid)
            in_flight_bytes -= length
            if resp.header.status == NtStatus.END_OF_FILE:
                plan.end_of_file(off)
                continue
            self.check(resp, "READ")
            plan.received(off, length, ReadResponse.unpack_from(resp.buf, HEADER_SIZE).data)
        return plan.finish()

    def store(self, share: str, path: str, file_obj: Any, offset: int, truncate: bool,
              progress: Optional[Callable[[int], None]], confirmed: Optional[Callable[[int, int], None]] = None):
        """WRITEs from ``file_obj``; returns the end offset.

        Data that fits one small WRITE costs one round trip (CREATE + WRITE +
        CLOSE compounded); anything bigger is written with pipelined WRITEs.
        ``confirmed(offset, count)`` is called for each WRITE the server answered
        (in the order the answers come).
        """
        tree = yield from self.tree(share)
        disposition = C.FILE_OVERWRITE_IF if truncate else C.FILE_OPEN_IF
        access = C.FILE_WRITE_DATA | C.FILE_READ_ATTRIBUTES | C.FILE_WRITE_ATTRIBUTES | C.SYNCHRONIZE
        limit = min(self.max_write, SMALL_IO)
        head = read_up_to(file_obj, limit)
        if len(head) < limit and self.credits.can_send(2 + self._charge(len(head))):
            middle = []
            if head:
                middle.append((CMD.WRITE, WriteRequest(file_id=ANY_FILE_ID, offset=offset, data=head).pack(), 0))
            responses = yield from self.compound(tree, path, access, disposition, C.FILE_NON_DIRECTORY_FILE,
                                                 middle, "store")
            if head:
                count = WriteResponse.unpack_from(responses[1].buf, HEADER_SIZE).count
                return whole_write(offset, len(head), count, progress, confirmed)
            return offset
        opened = yield from self.open(tree, path, access, disposition, C.FILE_NON_DIRECTORY_FILE, "store")
        fid = opened.file_id
        try:
            end = yield from self._write_stream(tree, fid, offset, Prefixed(head, file_obj), progress, confirmed)
        finally:
            yield from self.close_file(tree, fid)
        return end

    def _write_stream(self, tree: Tree, fid: bytes, offset: int, file_obj: Any,
                      progress: Optional[Callable[[int], None]],
                      confirmed: Optional[Callable[[int, int], None]] = None):
        chunk = self.credits.io_size(self.max_write)
        depth = max(4, (16 * 1024 * 1024) // chunk)
        inflight: Dict[int, Tuple[int, Any]] = {}
        pos = offset
        exhausted = False
        while True:
            while not exhausted and len(inflight) < depth:
                charge = self._charge(chunk)
                if not self.credits.can_send(charge):
                    if inflight:
                        break
                    yield WaitCredits(charge)
                data = file_obj.read(chunk)
                if not data:
                    exhausted = True
                    break
                req = WriteRequest(file_id=fid, offset=pos, data=data)
                inflight[self.send(CMD.WRITE, req.pack_prefix(), tree, 0, data)] = (pos, data)
                pos += len(data)
            if not inflight:
                break
            mid, resp = yield WaitAny(inflight)
            off, data = inflight.pop(mid)
            self.check(resp, "WRITE")
            count = WriteResponse.unpack_from(resp.buf, HEADER_SIZE).count
            if count > len(data):
                raise MalformedResponse("server wrote %d bytes of a %d-byte WRITE" % (count, len(data)))
            if count < len(data):
                if count == 0:
                    raise OperationFailure("WRITE at offset %d made no progress" % (off + count), [resp])
                rest = memoryview(data)[count:]
                if not self.credits.has(self._charge(len(rest))):
                    yield WaitCredits(self._charge(len(rest)))
                req = WriteRequest(file_id=fid, offset=off + count, data=rest)
                inflight[self.send(CMD.WRITE, req.pack_prefix(), tree, 0, rest)] = (off + count, rest)
            if progress:
                progress(count)
            if confirmed:
                confirmed(off, count)
        return pos

    def _delete_one(self, tree: Tree, path: str, directory: bool):
        disp = fscc.FileDispositionInformation(delete_pending=True).pack()
        body = SetInfoRequest(info_type=K.InfoType.FILE, file_info_class=K.FileInfoClass.FileDispositionInformation,
                              file_id=ANY_FILE_ID, buffer=disp).pack()
        options = C.FILE_DIRECTORY_FILE if directory else C.FILE_NON_DIRECTORY_FILE
        yield from self.compound(tree, path, C.DELETE | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE, C.FILE_OPEN,
                                 options, [(CMD.SET_INFO, body, 0)],
                                 "deleteDirectory" if directory else "delete")

    def _delete_paths(self, tree: Tree, paths: Sequence[str]):
        """Delete files, several CREATE+SET_INFO+CLOSE compounds in flight at once;
        the first failure (in path order) is raised after all have answered."""
        disp = fscc.FileDispositionInformation(delete_pending=True).pack()
        body = SetInfoRequest(info_type=K.InfoType.FILE, file_info_class=K.FileInfoClass.FileDispositionInformation,
                              file_id=ANY_FILE_ID, buffer=disp).pack()
        access = C.DELETE | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE
        pending: Dict[int, int] = {}       # mid -> index in paths
        waiting: Dict[int, int] = {}       # index -> responses still due
        failures: Dict[int, Smb2Response] = {}
        index = 0
        while index < len(paths) or pending:
            if index < len(paths) and not pending and not self.credits.can_send(3):
                yield WaitCredits(3)
            while index < len(paths) and len(waiting) < 32 and (self.credits.can_send(3) or not pending):
                items = [(CMD.CREATE, self._create(tree, paths[index], access, C.FILE_OPEN,
                                                   C.FILE_NON_DIRECTORY_FILE), tree, 0, None),
                         (CMD.SET_INFO, body, tree, 0, None),
                         (CMD.CLOSE, CloseRequest(file_id=ANY_FILE_ID).pack(), tree, 0, None)]
                for mid in self.send_compound(items, related=True):
                    pending[mid] = index
                waiting[index] = 3
                index += 1
            if not pending:
                raise ProtocolError("server granted no credits for DELETE")
            mid, resp = yield WaitAny(pending)
            at = pending.pop(mid)
            if resp.header.status != NtStatus.SUCCESS and at not in failures and resp.command != CMD.CLOSE:
                failures[at] = resp.detached()
            waiting[at] -= 1
            if not waiting[at]:
                del waiting[at]
        for at in sorted(failures):
            self.check(failures[at], "delete '%s' on '%s'" % (paths[at], tree.name))

    def create_directory(self, share: str, path: str):
        tree = yield from self.tree(share)
        opened = yield from self.open(tree, path, C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE, C.FILE_CREATE,
                                      C.FILE_DIRECTORY_FILE, "createDirectory")
        yield from self.close_file(tree, opened.file_id)

    def delete_directory(self, share: str, path: str):
        tree = yield from self.tree(share)
        yield from self._delete_one(tree, path, True)

    def rename(self, share: str, old: str, new: str):
        tree = yield from self.tree(share)
        info = fscc.FileRenameInformation(file_name=new, replace_if_exists=False).pack_smb2()
        body = SetInfoRequest(info_type=K.InfoType.FILE, file_info_class=K.FileInfoClass.FileRenameInformation,
                              file_id=ANY_FILE_ID, buffer=info).pack()
        yield from self.compound(tree, old, C.DELETE | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE, C.FILE_OPEN, 0,
                                 [(CMD.SET_INFO, body, 0)], "rename")

    def set_basic_info(self, share: str, path: str, what: str, creation_time: int = 0, last_access_time: int = 0,
                       last_write_time: int = 0, change_time: int = 0, file_attributes: int = 0):
        """SET_INFO FileBasicInformation ([MS-FSCC] 2.4.7): FILETIMEs and
        attributes, 0 leaving that field unchanged."""
        tree = yield from self.tree(share)
        info = fscc.FileBasicInformation(creation_time=creation_time, last_access_time=last_access_time,
                                         last_write_time=last_write_time, change_time=change_time,
                                         file_attributes=file_attributes).pack()
        body = SetInfoRequest(info_type=K.InfoType.FILE, file_info_class=K.FileInfoClass.FileBasicInformation,
                              file_id=ANY_FILE_ID, buffer=info).pack()
        yield from self.compound(tree, path, C.FILE_WRITE_ATTRIBUTES | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE,
                                 C.FILE_OPEN, 0, [(CMD.SET_INFO, body, 0)], what)


    # ---------------------------------------------------------------- file handles
    def _open_handle(self, tree: Tree, path: str, access: int, disposition: int, share_access: int,
                     options: int, durable: bool = False):
        """CREATE kept open for a file object ([MS-SMB2] 3.2.4.3).  With ``durable``
        the open asks for a durable handle ([MS-SMB2] 3.2.4.3.5): a batch oplock and
        DHnQ (SMB 2.x) or DH2Q with a new CreateGuid (SMB 3.x, persistent on a
        continuously available share, kept as long as the server's default);
        ``handle.durable`` is set when the server granted it, and :meth:`reclaim_handle`
        reopens it after a reconnect."""
        body, guid = self._durable_create(tree, path, access, disposition, share_access, options, durable)
        resp = yield from self.call(CMD.CREATE, body, tree)
        self.check(resp, "open '%s' on '%s'" % (path, tree.name))
        return self._opened(tree, path, resp, durable, guid, access, disposition, share_access, options)

    def _durable_create(self, tree: Tree, path: str, access: int, disposition: int, share_access: int,
                        options: int, durable: bool) -> Tuple[bytes, Optional[bytes]]:
        """The CREATE body (with the durable request when ``durable``) and the CreateGuid."""
        contexts: List[Tuple[bytes, bytes]] = []
        oplock = 0
        guid = None
        if durable:
            oplock = _OPLOCK_BATCH
            if self.dialect >= K.Dialect.SMB_3_0:
                guid = self.core.rand(16)
                persistent = bool(tree.capabilities & K.ShareCapabilities.CONTINUOUS_AVAILABILITY)
                contexts.append(DurableHandleRequestV2(guid, 0, DHANDLE_FLAG_PERSISTENT if persistent else 0)
                                .context())
            else:
                contexts.append(DurableHandleRequest().context())
        body = self._create(tree, path, access, disposition, options, share=share_access, oplock=oplock,
                            contexts=contexts)
        return body, guid

    def _opened(self, tree: Tree, path: str, resp: Smb2Response, durable: bool, guid: Optional[bytes],
                access: int, disposition: int, share_access: int, options: int) -> FileHandle:
        """The :class:`FileHandle` a successful CREATE response gives (durable state taken)."""
        created = CreateResponse.unpack_from(resp.buf, HEADER_SIZE)
        handle = FileHandle(self, tree, created.file_id, path, created.end_of_file,
                            bool(created.file_attributes & C.ATTR_DIRECTORY), created.file_attributes)
        handle.version = (created.end_of_file, created.last_write_time, created.change_time)
        if durable:
            self._hold_oplock(tree, created)
            granted = self._durable_granted(created, guid is not None)
            if granted is not None:
                persistent, kept = granted
                handle.durable = Durable(access, disposition, share_access, options, created.oplock_level, guid,
                                         persistent, kept)
                log.debug("durable handle granted for '%s' (kept %.1f s%s)", path, kept,
                          ", persistent" if persistent else "")
        return handle

    def open_reading(self, share: str, path: str, offset: int, length: int, file_obj: Any,
                     progress: Optional[Callable[[int], None]], durable: bool = False):
        """CREATE (durable when asked) + a READ of up to ``length`` bytes from ``offset``
        in one round trip, the file kept open: the data goes to ``file_obj``; returns
        (the :class:`FileHandle`, bytes read).  What a retrieve through a durable handle
        starts with, so that a small file still costs one round trip before its CLOSE."""
        tree = yield from self.tree(share)
        access = C.FILE_READ_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE
        length = min(length, self.max_read)
        body, guid = self._durable_create(tree, path, access, C.FILE_OPEN, SHARE_ALL, C.FILE_NON_DIRECTORY_FILE,
                                          durable)
        if length <= 0 or not self.credits.can_send(1 + self._charge(length)):
            resp = yield from self.call(CMD.CREATE, body, tree)
            self.check(resp, "retrieve '%s' on '%s'" % (path, tree.name))
            return self._opened(tree, path, resp, durable, guid, access, C.FILE_OPEN, SHARE_ALL,
                                C.FILE_NON_DIRECTORY_FILE), 0
        read = ReadRequest(file_id=ANY_FILE_ID, offset=offset, length=length).pack()
        responses = yield from self.compound(tree, path, access, C.FILE_OPEN, C.FILE_NON_DIRECTORY_FILE,
                                             [(CMD.READ, read, length)], "retrieve", optional=(0,), create=body,
                                             close=False)
        handle = self._opened(tree, path, responses[0], durable, guid, access, C.FILE_OPEN, SHARE_ALL,
                              C.FILE_NON_DIRECTORY_FILE)
        try:
            data = self._first_read(responses[1], length)
        except ProtocolError:
            self.abort_handle(handle)
            raise
        except OperationFailure:
            yield from self.close_handle(handle)
            raise
        if len(data):
            file_obj.write(data)
            if progress:
                progress(len(data))
        return handle, len(data)

    def _first_read(self, resp: Smb2Response, length: int) -> Any:
        """The data of a compounded READ of ``length`` bytes (empty at the end of file)."""
        if resp.header.status == NtStatus.END_OF_FILE:
            return b""
        self.check(resp, "READ")
        data = ReadResponse.unpack_from(resp.buf, HEADER_SIZE).data
        if len(data) > length:
            raise MalformedResponse("server returned %d bytes for a %d-byte READ" % (len(data), length))
        return data

    def _hold_oplock(self, tree: Tree, created: CreateResponse) -> None:
        if created.oplock_level in (_OPLOCK_BATCH, _OPLOCK_EXCLUSIVE, _OPLOCK_II):
            self.oplocks[created.file_id] = (tree, created.oplock_level)

    @staticmethod
    def _durable_granted(created: CreateResponse, v2: bool) -> Optional[Tuple[bool, float]]:
        """None when the CREATE response grants no durable handle, else (persistent, seconds
        the server keeps it after a disconnect)."""
        for name, data in parse_create_contexts(created.create_contexts, "CREATE response"):
            if v2 and name == b"DH2Q":
                answer = DurableHandleResponseV2.unpack(data)
                return bool(answer.flags & DHANDLE_FLAG_PERSISTENT), (answer.timeout or 60000) / 1000.0
            if not v2 and name == b"DHnQ":
                return False, 60.0
        return None

    def reclaim_handle(self, handle: FileHandle):
        """After a reconnect, reopen a durable ``handle`` from the connection before
        ([MS-SMB2] 3.2.4.4): DHnC (SMB 2.x) or DH2C with its CreateGuid (SMB 3.x) on the
        share connected anew; the handle then belongs to this connection.  Raises
        :class:`OperationFailure` when the server no longer holds it (timed out, broken
        by another opener, the server restarted)."""
        state = handle.durable
        if state is None:
            raise ValueError("not a durable handle")
        tree = yield from self.tree(handle.tree.name)
        if state.create_guid is not None:
            context = DurableHandleReconnectV2(handle.fid, state.create_guid,
                                               DHANDLE_FLAG_PERSISTENT if state.persistent else 0).context()
        else:
            context = DurableHandleReconnect(handle.fid).context()
        body = self._create(tree, handle.path, state.access, state.disposition, state.options,
                            share=state.share_access, oplock=state.oplock, contexts=[context])
        resp = yield from self.call(CMD.CREATE, body, tree)
        self.check(resp, "reopen the durable handle of '%s' on '%s'" % (handle.path, tree.name))
        created = CreateResponse.unpack_from(resp.buf, HEADER_SIZE)
        self._hold_oplock(tree, created)
        handle.dialect, handle.tree, handle.fid = self, tree, created.file_id
        handle.version = (created.end_of_file, created.last_write_time, created.change_time)
        handle.is_open = True
        log.debug("durable handle of '%s' reopened", handle.path)
        return handle

    def _server_copy(self, source: FileHandle, target: FileHandle, progress: Optional[Callable[[int], None]]):
        """Server-side copy ([MS-SMB2] 3.2.4.20.2): FSCTL_SRV_REQUEST_RESUME_KEY
        on the source, the target sized with SET_INFO EndOfFile, then
        FSCTL_SRV_COPYCHUNK_WRITE requests, each a contiguous span of up to
        ``chunk_count`` chunks of ``chunk_size`` bytes, up to
        :data:`COPYCHUNK_IN_FLIGHT` of them in flight.  A STATUS_INVALID_PARAMETER
        answer carries the server's limits: they are adopted and the span is
        asked again.  Returns None when the server does not offer the copy
        (the caller copies through the client)."""
        size = source.size
        req = IoctlRequest(ctl_code=K.Fsctl.SRV_REQUEST_RESUME_KEY, file_id=source.fid, max_output_response=64)
        resp = yield from self.call(CMD.IOCTL, req.pack(), source.tree, 64)
        if resp.header.status in _NO_SERVER_COPY:
            return None
        self.check(resp, "resume key of %s" % source.what)
        key = ResumeKeyResponse.unpack_from(IoctlResponse.unpack_from(resp.buf, HEADER_SIZE).output).resume_key
        yield from self.truncate_handle(target, size)
        if not size:
            return 0
        limits = [COPYCHUNK_COUNT, COPYCHUNK_SIZE, COPYCHUNK_COUNT * COPYCHUNK_SIZE]
        todo: List[Tuple[int, int]] = [(0, size)]      # spans still to ask for, in order
        inflight: Dict[int, Tuple[int, int]] = {}      # mid -> the span it asked for
        adapted = 0
        copied = 0
        while todo or inflight:
            if todo and not inflight and not self.credits.can_send(self._charge(64)):
                yield WaitCredits(self._charge(64))
            while todo and len(inflight) < COPYCHUNK_IN_FLIGHT and (self.credits.can_send(self._charge(64))
                                                                      or not inflight):
                start, end = todo.pop(0)
                count, chunk, total = limits
                span_end = min(end, start + min(total, count * chunk))
                if span_end < end:
                    todo.insert(0, (span_end, end))
                chunks = tuple(CopyChunk(off, off, min(chunk, span_end - off)) for off in range(start, span_end, chunk))
                body = IoctlRequest(ctl_code=K.Fsctl.SRV_COPYCHUNK_WRITE, file_id=target.fid,
                                    input=CopyChunkCopy(key, chunks).pack(), max_output_response=64).pack()
                inflight[self.send(CMD.IOCTL, body, target.tree, 64)] = (start, span_end)
            if not inflight:
                raise ProtocolError("server granted no credits for COPYCHUNK")
            mid, resp = yield WaitAny(inflight)
            start, end = inflight.pop(mid)
            status = resp.header.status
            if status in _NO_SERVER_COPY and not copied and not adapted:
                # Refused outright (e.g. Samba without the offload VFS): nothing was written yet.
                yield from self._drain(inflight)
                return None
            if status == NtStatus.INVALID_PARAMETER:
                told = CopyChunkResponse.unpack_from(IoctlResponse.unpack_from(resp.buf, HEADER_SIZE).output)
                new = [told.chunks_written, told.chunk_bytes_written, told.total_bytes_written]
                adapted += 1
                if min(new) <= 0 or new == limits or adapted > 4:
                    self.check(resp, "server-side copy to %s" % target.what)
                # Several spans may have been refused with the same limits: keep the smaller ones.
                limits = [min(a, b) for a, b in zip(limits, new)] if adapted > 1 else new
                log.debug("server-side copy limits: %d chunks of %d bytes, %d bytes a request",
                                    *limits)
                todo.insert(0, (start, end))
                todo.sort()
                continue
            self.check(resp, "server-side copy to %s" % target.what)
            done = CopyChunkResponse.unpack_from(IoctlResponse.unpack_from(resp.buf, HEADER_SIZE).output)
            written = done.total_bytes_written
            if written > end - start:
                raise MalformedResponse("server copied %d bytes of a %d-byte span" % (written, end - start))
            if written == 0:
                raise OperationFailure("server-side copy to %s at offset %d made no progress"
                                       % (target.what, start), [resp])
            if written < end - start:
                todo.insert(0, (start + written, end))
                todo.sort()
            copied += written
            if progress:
                progress(written)
        return copied

    def _drain(self, inflight: Dict[int, Any]):
        """Wait for (and ignore) the answers still due."""
        while inflight:
            mid, _ = yield WaitAny(inflight)
            inflight.pop(mid)

    def truncate_handle(self, handle: FileHandle, size: int):
        """SET_INFO FileEndOfFileInformation ([MS-SMB2] 2.2.39, [MS-FSCC] 2.4.13):
        cut or extend (with zeros) the file to ``size`` bytes."""
        body = SetInfoRequest(info_type=K.InfoType.FILE, file_info_class=K.FileInfoClass.FileEndOfFileInformation,
                              file_id=handle.fid, buffer=fscc.FileEndOfFileInformation(size).pack()).pack()
        resp = yield from self.call(CMD.SET_INFO, body, handle.tree)
        self.check(resp, "truncate %s" % handle.what)

    def query_size(self, handle: FileHandle):
        """QUERY_INFO FileStandardInformation: the end of file now."""
        req = QueryInfoRequest(info_type=K.InfoType.FILE, file_info_class=K.FileInfoClass.FileStandardInformation,
                               file_id=handle.fid, output_buffer_length=64).pack()
        resp = yield from self.call(CMD.QUERY_INFO, req, handle.tree, 64)
        self.check(resp, "query size of %s" % handle.what)
        buf = QueryInfoResponse.unpack_from(resp.buf, HEADER_SIZE).buffer
        return fscc.FileStandardInformation.unpack_from(buf).end_of_file

    def flush_handle(self, handle: FileHandle):
        """FLUSH ([MS-SMB2] 2.2.17): the server writes its cached data to storage."""
        resp = yield from self.call(CMD.FLUSH, FlushRequest(file_id=handle.fid).pack(), handle.tree)
        self.check(resp, "flush %s" % handle.what)

    def close_handle(self, handle: FileHandle):
        """CLOSE the handle (once; later calls do nothing)."""
        if handle.is_open:
            handle.is_open = False
            self.oplocks.pop(handle.fid, None)
            yield from self.close_file(handle.tree, handle.fid)

    def abort_handle(self, handle: FileHandle) -> None:
        """Send the CLOSE without waiting for its answer (dropped when it arrives)."""
        if handle.is_open:
            handle.is_open = False
            self.oplocks.pop(handle.fid, None)
            if self.credits.has(1):
                self.send(CMD.CLOSE, CloseRequest(file_id=handle.fid).pack(), handle.tree)
            else:
                log.debug("no credit left to close an abandoned handle; the server closes it at logoff")


class Smb2Listing(Listing):
    """One directory listed batch by batch on one open ([MS-SMB2] 3.2.4.17).

    The first :meth:`fetch` sends CREATE + QUERY_DIRECTORY compounded (one
    round trip); each later one a QUERY_DIRECTORY on that open.  When the
    server says there is no more, the handle is closed in the same call.
    :meth:`close` closes it earlier (a listing given up); it is a no-op once
    closed.  Each call is a short operation of its own, so a driver can run
    other operations between batches.
    """

    def __init__(self, dialect: Smb2Dialect, share: str, path: str, pattern: str, size: int) -> None:
        super().__init__(dialect, share, path, pattern)
        self.size = size
        self.file_id: Optional[bytes] = None

    @property
    def needs_close(self) -> bool:
        """True while the server holds an open for this listing."""
        return self.file_id is not None

    def fetch(self, search: int):
        """The next batch of entries passing ``search`` (maybe empty), or None at the end."""
        if self.finished:
            return None
        d = self.dialect
        tree = yield from self._tree()
        what = self.what
        # A stingy server's credits bound the buffer we may ask for.
        room = min(self.size, d.max_transact, max(1, d.credits.available - 1) * 65536)
        if self.file_id is None and d.credits.can_send(1 + d._charge(room)):
            create = d._create(tree, self.path, DIR_ACCESS, C.FILE_OPEN, C.FILE_DIRECTORY_FILE)
            query = d._query_dir_request(ANY_FILE_ID, self.pattern, True, room)
            mids = d.send_compound([(CMD.CREATE, create, tree, 0, None),
                                    (CMD.QUERY_DIRECTORY, query, tree, room, None)], related=True)
            got: Dict[int, Smb2Response] = {}
            pending = set(mids)
            try:
                while pending:
                    mid, part = yield WaitAny(pending)
                    pending.discard(mid)
                    got[mid] = part.detached() if pending else part
                    if mid == mids[0] and part.header.status == NtStatus.SUCCESS:
                        # Known at once, so that a listing given up mid-way still closes it.
                        self.file_id = CreateResponse.unpack_from(part.buf, HEADER_SIZE).file_id
            except SMBTimeout:
                if mids[0] in pending:  # given up before the CREATE was answered: close what it opens
                    d.core.on_late_answer(mids[0], lambda late: d._close_late_open(late, tree))
                raise
            d.check(got[mids[0]], what)
            resp = got[mids[1]]
        else:
            if self.file_id is None:
                opened = yield from d.open(tree, self.path, DIR_ACCESS, C.FILE_OPEN, C.FILE_DIRECTORY_FILE, "list")
                self.file_id = opened.file_id
                restart = True
            else:
                restart = False
            room = min(self.size, d.max_transact, max(1, d.credits.available) * 65536)
            query = d._query_dir_request(self.file_id, self.pattern, restart, room)
            resp = yield from d.call(CMD.QUERY_DIRECTORY, query, tree, room)
        if resp.header.status in LISTING_DONE:
            yield from self.close()
            return None
        d.check(resp, what)
        if not len(QueryDirectoryResponse.unpack_from(resp.buf, HEADER_SIZE).buffer):
            yield from self.close()
            return None
        return d._directory_entries(resp, search)

    def abort(self) -> None:
        """Send the CLOSE if needed without waiting for the answer (which is
        dropped when it arrives): for a listing that failed."""
        self.finished = True
        if self.file_id is not None and self.tree is not None:
            file_id, self.file_id = self.file_id, None
            self.dialect.send(CMD.CLOSE, CloseRequest(file_id=file_id).pack(), self.tree)

    def close(self):
        """CLOSE the directory handle if it is still open."""
        self.finished = True
        if self.file_id is not None and self.tree is not None:
            file_id, self.file_id = self.file_id, None
            yield from self.dialect.close_file(self.tree, file_id)


def _replace(obj: Any, **changes: Any) -> Any:
    import dataclasses
    return dataclasses.replace(obj, **changes)


def crypto_compare(a: bytes, b: bytes) -> bool:
    import hmac
    return hmac.compare_digest(a, b)


def snapshots_to_datetimes(names: Sequence[str]) -> List[datetime]:
    """``@GMT-YYYY.MM.DD-HH.MM.SS`` tokens -> naive UTC datetimes (pysmb's shape)."""
    out = []
    for name in names:
        m = _SNAPSHOT_RE.match(name)
        if not m:
            raise MalformedResponse("malformed snapshot token %r" % name)
        try:
            year, month, day, hour, minute, second = (int(g) for g in m.groups())
            out.append(datetime(year, month, day, hour, minute, second))
        except ValueError as err:
            raise MalformedResponse("malformed snapshot token %r" % name) from err
    return out


def epoch_to_filetime(epoch: float) -> int:
    return convertEpochToFILETIME(epoch)
