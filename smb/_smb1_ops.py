"""SMB1 (NT LM 0.12): message plumbing and every public operation, once.

:class:`Smb1Dialect` is the dialect object the core (:mod:`smb.base`) holds
when the server answers the opening NEGOTIATE in SMB1.  It owns the SMB1
state: the negotiated limits, the UID, connected trees (TIDs), message ids
(MIDs) and MD5 message signing with sequence numbers ([MS-CIFS] 3.1.4.1,
3.1.5.1).  Its operations are generators driven by the core and return what
the SMB2 dialect's operations return (see :mod:`smb._smb2_ops`).

Responses are matched to requests by MID.  A transaction response split
over several messages is reassembled here before anyone sees it, and every
response on a signing session is verified before it is delivered.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import struct
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple

from . import fscc
from . import smb2_constants as K
from . import smb_constants as C
from . import smb_structs as S
from ._common_ops import (CommonOps, FileHandle, Listing, Prefixed, ReceivedMessage, header_field, read_up_to,
                          whole_write)
from ._pipeline import ReadPlan
from .dfs import ReferralRequest
from .base import SIGN_WHEN_SUPPORTED, SharedDevice, WaitAny, WaitQuiet, matches_search, shared_file
from .exceptions import MalformedResponse, NotReadyError, OperationFailure, ProtocolError, SMBTimeout, UnsupportedFeature
from .nt_status import LOGON_FAILURES, NtStatus, status_name

log = logging.getLogger("SMB.SMBConnection")

DIALECT_NAME = C.DIALECT_NT_LM_012
#: Biggest READ_ANDX on a direct-TCP connection without signing.
LARGE_IO = 1024 * 1024
#: Biggest READ_ANDX when frames must stay below 128 KiB (NetBIOS session
#: service, [RFC 1002] 4.3.1) or when signing is on (Samba refuses reads of
#: 128 KiB or more on a signed connection), and biggest WRITE_ANDX always
#: (Samba drops the connection on a request frame above 128 KiB + header).
MEDIUM_IO = 0x1E000
#: Bytes of reads or writes kept in flight at once.
INFLIGHT_BYTES = 16 * 1024 * 1024
#: What a TRANSACTION / TRANSACTION2 response may carry (16-bit counts).
MAX_TRANS_DATA = 0xFFFF
#: Upper bound for a security descriptor or snapshot list (NT_TRANSACT).
MAX_NT_TRANS_DATA = 1024 * 1024
#: Entries asked for per FIND_FIRST2 / FIND_NEXT2.
FIND_COUNT = 1024

_ERROR_SEVERITY = 0xC0000000
_SEQ = struct.Struct("<II")
_TRANSACTIONS = frozenset({C.SMB_COM_TRANSACTION, C.SMB_COM_TRANSACTION2, C.SMB_COM_NT_TRANSACT})
_SHARE_ALL = C.FILE_SHARE_READ | C.FILE_SHARE_WRITE | C.FILE_SHARE_DELETE
_SEARCH_ALL = C.SMB_FILE_ATTRIBUTE_HIDDEN | C.SMB_FILE_ATTRIBUTE_SYSTEM | C.SMB_FILE_ATTRIBUTE_DIRECTORY
_SEARCH_FILES = C.SMB_FILE_ATTRIBUTE_HIDDEN | C.SMB_FILE_ATTRIBUTE_SYSTEM
_CLIENT_CAPS = (C.CAP_UNICODE | C.CAP_LARGE_FILES | C.CAP_NT_SMBS | C.CAP_STATUS32 | C.CAP_NT_FIND
                | C.CAP_LARGE_READX | C.CAP_LARGE_WRITEX)
_BASE_FLAGS2 = (C.SMB_FLAGS2_UNICODE | C.SMB_FLAGS2_NT_STATUS | C.SMB_FLAGS2_LONG_NAMES
                | C.SMB_FLAGS2_IS_LONG_NAME)
#: The first READ chained to NT_CREATE_ANDX stays small enough for any
#: server's buffer (a chained response must fit MaxBufferSize).
_CHAINED_READ = 60 * 1024
#: A file up to this size is stored in one round trip (NT_CREATE_ANDX + WRITE_ANDX + CLOSE).
_CHAINED_WRITE = 60 * 1024
#: [MS-SMB] 2.2.4.5.2.1: Samba and Windows put a fixed placeholder in the
#: signature of the SESSION_SETUP request that turns signing on.
_SIGNING_PLACEHOLDER = b"BSRSPYL "


def _is_error(status: int) -> bool:
    return (status & _ERROR_SEVERITY) == _ERROR_SEVERITY


class Smb1Response(ReceivedMessage):
    """One SMB1 message received: header, message bytes and, for a
    transaction, the reassembled :class:`smb.smb_structs.TransactionResponse`."""

    __slots__ = ("header", "buf", "trans")

    def __init__(self, header: S.Smb1Header, buf: memoryview,
                 trans: Optional[S.TransactionResponse] = None) -> None:
        self.header = header
        self.buf = buf
        self.trans = trans

    #: pysmb's field: which SMB protocol the message is.
    protocol = 1

    @property
    def status(self) -> S.Smb1Status:
        """The status; also has pysmb's ``internal_value`` and ``is_ntstatus``."""
        h = self.header
        return S.Smb1Status(h.status, bool(h.flags2 & C.SMB_FLAGS2_NT_STATUS))

    # pysmb's message fields, read from the header
    command = header_field("command")
    mid = header_field("mid")
    tid = header_field("tid")
    uid = header_field("uid")
    pid = header_field("pid")
    flags = header_field("flags")
    flags2 = header_field("flags2")

    @property
    def security(self) -> bytes:
        return bytes(self.header.security_features)

    @staticmethod
    def _pysmb_class() -> Any:
        from ._compat_smb1 import SMBMessage
        return SMBMessage

    def detached(self) -> "Smb1Response":
        """A copy that no longer refers to the (reused) receive buffer."""
        return Smb1Response(self.header, memoryview(bytes(self.buf)), self.trans)

    def block(self) -> S.AndXBlock:
        """The first command block (parameter words and data)."""
        return S.parse_blocks(self.buf)[1][0]

    def parse(self, cls: Any) -> Any:
        """The first command block parsed as response class ``cls``."""
        return cls.from_block(self.block())

    def __repr__(self) -> str:
        return "<SMB1 command 0x%02X response %s>" % (self.header.command, status_name(self.header.status))


class Smb1Session:
    """What the SMB2 session object exposes, for callers that look (tests, users)."""

    def __init__(self) -> None:
        self.uid = 0
        self.signing_required = False
        self.encrypt_data = False
        self.is_guest = False


class Tree:
    """A connected share."""

    __slots__ = ("name", "tid")

    def __init__(self, name: str, tid: int) -> None:
        self.name = name
        self.tid = tid


def _smb_path(path: str) -> str:
    """``a\\b`` -> ``\\a\\b`` (SMB1 paths start at the share root)."""
    return "\\" + path


def _path_flags2(path: str) -> int:
    """Samba reads an @GMT token (a previous version) in an SMB1 path only
    when the request says the path may hold one ([MS-SMB] 2.2.3.1)."""
    return C.SMB_FLAGS2_REPARSE_PATH if "@GMT-" in path else 0


class Smb1Dialect(CommonOps):
    """NT LM 0.12 for the core: session, signing, message plumbing, operations."""

    is_smb2 = False
    dialect = DIALECT_NAME

    def __init__(self, core: Any, negotiate_response: bytes) -> None:
        self.core = core
        header, words, _ = S.parse_message(negotiate_response)
        if header.command != C.SMB_COM_NEGOTIATE or not header.is_reply:
            raise ProtocolError("expected an SMB1 NEGOTIATE response")
        if header.status != NtStatus.SUCCESS:
            raise ProtocolError("SMB1 NEGOTIATE failed: %s" % status_name(header.status))
        neg = S.NegotiateResponse.unpack_from(negotiate_response)
        if neg.dialect_index == C.NEGOTIATE_NO_DIALECT or len(words) == 2:
            raise UnsupportedFeature("the server accepts none of our dialects")
        if neg.dialect_index != 0:
            raise ProtocolError("server chose dialect #%d, not NT LM 0.12" % neg.dialect_index)
        self.negotiate = neg
        # The server echoes our PID; using it keeps every request consistent.
        self.pid = header.pid
        self.server_capabilities = neg.capabilities
        self.server_security_mode = neg.security_mode
        self.max_mpx = max(1, min(neg.max_mpx_count or 1, 256))
        self.max_buffer_size = max(1024, neg.max_buffer_size)
        self.extended_security = bool(S.SUPPORT_EXTENDED_SECURITY and neg.extended_security)
        if not neg.capabilities & C.CAP_UNICODE:
            raise UnsupportedFeature("the server does not speak Unicode (CAP_UNICODE)")
        if not neg.capabilities & C.CAP_STATUS32:
            raise UnsupportedFeature("the server does not return NT status codes (CAP_STATUS32)")
        self.session = Smb1Session()
        self.trees: Dict[str, Tree] = {}
        self.max_read = self.max_write = 4096
        self._mid = 0
        #: MAC key once signing is active ([MS-CIFS] 3.1.4.1), else None.
        self._mac_key: Optional[bytes] = None
        self._next_seq = 0
        #: MID -> sequence number its response must be signed with.
        self._response_seq: Dict[int, int] = {}
        #: MID -> assembler for a transaction response still arriving.
        self._assemblers: Dict[int, S.TransactionAssembler] = {}
        self._set_limits(signing=False)

    # ---------------------------------------------------------------- state views (pysmb's attributes)
    @property
    def signing_active(self) -> bool:
        return self._mac_key is not None

    @property
    def signing_key(self) -> Optional[bytes]:
        """The session key part of the MAC key."""
        return self._mac_key[:16] if self._mac_key is not None else None

    @property
    def signing_challenge_response(self) -> Optional[bytes]:
        """The NT response part of the MAC key (logons without extended security)."""
        return (self._mac_key[16:] or None) if self._mac_key is not None else None

    @property
    def last_message_id(self) -> int:
        return self._mid

    @property
    def next_signing_sequence(self) -> int:
        return self._next_seq

    # ---------------------------------------------------------------- limits
    def _set_limits(self, signing: bool) -> None:
        caps = self.server_capabilities
        small = max(1024, min(self.max_buffer_size, 0x10000) - 128) & ~511
        medium = not self.core.is_direct_tcp or signing
        large = MEDIUM_IO if medium else LARGE_IO
        self.max_read = large if caps & C.CAP_LARGE_READX else min(small, 0xFFFF)
        self.max_write = MEDIUM_IO if caps & C.CAP_LARGE_WRITEX else min(small, 0xFFFF)
        self.core.framer.max_frame = max(self.max_read, 0x20000) + 4096

    def _depth(self, chunk: int) -> int:
        return max(1, min(self.max_mpx, INFLIGHT_BYTES // max(1, chunk)))

    # ---------------------------------------------------------------- sending
    def _next_mid(self) -> int:
        for _ in range(0x10000):
            self._mid = self._mid % 0xFFFE + 1  # 1 .. 0xFFFE (0xFFFF is reserved for oplock breaks)
            mid = self._mid
            if not self.core.is_expected(mid) and mid not in self._response_seq:
                return mid
        raise ProtocolError("no free SMB1 message id")

    def _flags2(self) -> int:
        flags2 = _BASE_FLAGS2
        if self.extended_security:
            flags2 |= C.SMB_FLAGS2_EXTENDED_SECURITY
        if self._mac_key is not None:
            flags2 |= C.SMB_FLAGS2_SMB_SECURITY_SIGNATURE
        return flags2

    def send(self, messages: Any, tid: int = 0, data: Any = None, flags2: int = 0,
             signature: bytes = b"") -> int:
        """Queue one request (a message, or a list of them to AndX-chain); return its MID.

        With ``data`` the message must be a WRITE_ANDX whose payload ``data``
        follows the packed prefix without being copied into it.
        """
        mid = self._next_mid()
        header = S.Smb1Header(flags=C.SMB_FLAGS_CASE_INSENSITIVE | C.SMB_FLAGS_CANONICALIZED_PATHS,
                              flags2=self._flags2() | flags2, pid_high=(self.pid >> 16) & 0xFFFF,
                              pid_low=self.pid & 0xFFFF, tid=tid, uid=self.session.uid, mid=mid)
        if signature:
            header = S.Smb1Header(header.command, 0, header.flags, header.flags2, header.pid_high,
                                  signature, tid, header.pid_low, header.uid, mid)
        if data is not None:
            raw = messages.pack_prefix(header)
            pieces: List[Any] = [raw, data]
        elif isinstance(messages, (list, tuple)):
            raw = S.build_andx_chain(header, messages)
            pieces = [raw]
        else:
            raw = S.build_request(header, messages)
            pieces = [raw]
        if self._mac_key is not None:
            seq = self._next_seq
            self._next_seq = (seq + 2) & 0xFFFFFFFF
            self._response_seq[mid] = (seq + 1) & 0xFFFFFFFF
            mac = self._mac(self._mac_key, pieces, seq)
            pieces[0] = raw[:S.SIGNATURE_OFFSET] + mac + raw[S.SIGNATURE_OFFSET + 8:]
        total = sum(len(p) for p in pieces)
        command = pieces[0][4]
        if command in _TRANSACTIONS:
            self._assemblers[mid] = S.TransactionAssembler(command)
        self.core.expect(mid)
        self.core.queue(self.core.framer.header(total), *pieces)
        return mid

    def call(self, messages: Any, tid: int = 0):
        """Send one request and wait for its response (a generator)."""
        mid = self.send(messages, tid)
        resp = yield mid
        return resp

    @staticmethod
    def check(resp: Smb1Response, what: str, ok: Sequence[int] = (NtStatus.SUCCESS,)) -> Smb1Response:
        if resp.header.status not in ok:
            raise OperationFailure("%s failed: %s" % (what, status_name(resp.header.status)), [resp],
                                   resp.header.status)
        return resp

    # ---------------------------------------------------------------- signing
    @staticmethod
    def _mac(key: bytes, pieces: Sequence[Any], seq: int) -> bytes:
        """[MS-CIFS] 3.1.4.1: MD5(MAC key, message with the sequence number in
        the signature field), first 8 bytes; computed piece by piece so that
        large payloads are not copied."""
        first = pieces[0]
        md5 = hashlib.md5(key)
        md5.update(first[:S.SIGNATURE_OFFSET])
        md5.update(_SEQ.pack(seq, 0))
        md5.update(first[S.SIGNATURE_OFFSET + 8:])
        for piece in pieces[1:]:
            md5.update(piece)
        return md5.digest()[:8]

    def _verify(self, frame: memoryview, seq: int, key: bytes) -> None:
        """Check a received message's signature ([MS-CIFS] 3.2.5.1)."""
        expected = self._mac(key, (frame,), seq)
        received = bytes(frame[S.SIGNATURE_OFFSET:S.SIGNATURE_OFFSET + 8])
        if not hmac.compare_digest(expected, received):
            mid = struct.unpack_from("<H", frame, 30)[0]
            raise ProtocolError("bad signature on SMB1 response (command 0x%02X, MID %d)" % (frame[4], mid))

    # ---------------------------------------------------------------- receiving
    def receive(self, frame: memoryview) -> None:
        """Decode one frame: verify its signature, reassemble transactions, deliver."""
        if len(frame) < S.HEADER_SIZE + 3:
            raise ProtocolError("SMB1 frame of %d bytes is too short" % len(frame))
        if bytes(frame[:4]) != C.SMB1_PROTOCOL_ID:
            raise ProtocolError("not an SMB1 message (protocol id %r)" % bytes(frame[:4]))
        header = S.Smb1Header.unpack_from(frame)
        self.core.last_header = header
        if not header.is_reply:
            raise ProtocolError("SMB1 message without the reply flag")
        mid = header.mid
        if mid == 0xFFFF and header.command == C.SMB_COM_LOCKING_ANDX:
            log.debug("ignoring an oplock break request")
            return
        if self._mac_key is not None and mid in self._response_seq:
            self._verify(frame, self._response_seq[mid], self._mac_key)
        elif self._mac_key is not None and not self.core.is_expected(mid):
            raise ProtocolError("SMB1 response to MID %d that was never sent" % mid)
        trans = None
        assembler = self._assemblers.get(mid)
        if assembler is not None and header.command == assembler.command and frame[S.HEADER_SIZE]:
            if not self.core.is_expected(mid):
                raise ProtocolError("SMB1 response to MID %d that was never sent" % mid)
            if not assembler.feed(frame):
                return  # more parts of this transaction response follow
            trans = assembler.result()
        self._assemblers.pop(mid, None)
        self._response_seq.pop(mid, None)
        self.core.deliver(mid, Smb1Response(header, frame, trans), Smb1Response.detached)

    # ---------------------------------------------------------------- session
    def _want_signing(self) -> bool:
        mode = self.server_security_mode
        if mode & C.NEGOTIATE_SECURITY_SIGNATURES_REQUIRE:
            return True
        return bool(self.core.sign_options == SIGN_WHEN_SUPPORTED and mode & C.NEGOTIATE_SECURITY_SIGNATURES_ENABLE)

    def session_setup(self):
        """SESSION_SETUP_ANDX: SPNEGO/NTLMSSP when both sides support extended
        security, else the NT LM 0.12 challenge/response form.  Returns False
        for a refused logon."""
        if self.core.kerberos is not None:
            if not self.extended_security:
                raise UnsupportedFeature("Kerberos over SMB1 needs extended security, which this server "
                                         "(or smb_structs.SUPPORT_EXTENDED_SECURITY) does not offer")
            ok = yield from self._session_setup_kerberos(self.core.kerberos)
        elif self.extended_security:
            ok = yield from self._session_setup_extended()
        else:
            ok = yield from self._session_setup_ntlm()
        if ok:
            self.core.has_authenticated = True
            log.info("logged on (SMB1 NT LM 0.12, extended security %s, signing %s, guest %s)",
                     "on" if self.extended_security else "off",
                     "on" if self.session.signing_required else "off", self.session.is_guest)
        return ok

    def _setup_request_args(self) -> Dict[str, Any]:
        caps = _CLIENT_CAPS | (C.CAP_EXTENDED_SECURITY if self.extended_security else 0)
        return dict(max_buffer_size=0xFFFF, max_mpx_count=self.max_mpx, vc_number=0,
                    session_key=self.negotiate.session_key, capabilities=caps)

    def _session_setup_extended(self):
        from . import securityblob as sb
        from .ntlm import NtlmContext
        core = self.core
        ntlm = NtlmContext(core.username, core.password, core.domain, core.my_name,
                           use_ntlm_v2=core.use_ntlm_v2, rand=core.rand)
        token = sb.generateNegotiateSecurityBlob(ntlm.negotiate_message())
        resp = yield from self.call(S.SessionSetupAndXRequest(security_blob=token, **self._setup_request_args()))
        if resp.status != NtStatus.MORE_PROCESSING_REQUIRED:
            if resp.status in LOGON_FAILURES:
                return False
            self.check(resp, "SESSION_SETUP_ANDX", ())
        self.session.uid = resp.header.uid
        setup = resp.parse(S.SessionSetupAndXResponse)
        _, challenge = sb.decodeChallengeSecurityBlob(bytes(setup.security_blob))
        auth = ntlm.authenticate_message(challenge)
        mic = None if ntlm.anonymous else ntlm.mech_list_mic(sb.MECH_TYPES_DER)
        token = sb.generateAuthSecurityBlob(auth, mech_list_mic=mic)
        sign = self._want_signing() and not ntlm.anonymous
        ok = yield from self._final_setup(S.SessionSetupAndXRequest(security_blob=token, **self._setup_request_args()),
                                          ntlm.session_key if sign else None)
        return ok

    def _session_setup_kerberos(self, initiator: Any):
        """One SESSION_SETUP_ANDX with the AP-REQ; the AP-REP in the answer
        gives the key that signs from then on (and that checks the answer)."""
        request = S.SessionSetupAndXRequest(security_blob=initiator.token(), **self._setup_request_args())

        def key_from(setup: Any) -> Optional[bytes]:
            initiator.accept(bytes(setup.security_blob))  # KerberosError unless mutual auth holds
            return initiator.session_key if self._want_signing() else None

        ok = yield from self._final_setup(request, None, key_from)
        return ok

    def _session_setup_ntlm(self):
        from .ntlm import generateChallengeResponseV1, generateChallengeResponseV2
        core = self.core
        neg = self.negotiate
        if not neg.security_mode & C.NEGOTIATE_ENCRYPT_PASSWORDS or len(neg.challenge) != 8:
            raise UnsupportedFeature("the server wants plaintext passwords, which this client never sends")
        user, password = core.username, core.password
        key: Optional[bytes] = None
        if not user and not password:
            lm_response, nt_response = b"", b""
        elif core.use_ntlm_v2:
            nt_response, lm_response, base_key = generateChallengeResponseV2(
                password, user, neg.challenge, b"", core.domain, client_challenge=core.rand(8))
            key = base_key + nt_response
        else:
            nt_response, _, base_key = generateChallengeResponseV1(password, neg.challenge, False)
            # The NT response twice: the LM response would expose the weak LM hash.
            lm_response = nt_response
            key = base_key + nt_response
        request = S.SessionSetupAndXNtlmRequest(oem_password=lm_response, unicode_password=nt_response,
                                                account_name=user, primary_domain=core.domain,
                                                **self._setup_request_args())
        ok = yield from self._final_setup(request, key if self._want_signing() else None)
        return ok

    def _final_setup(self, request: Any, mac_key: Optional[bytes],
                     key_from: Optional[Callable[[Any], Optional[bytes]]] = None):
        """The SESSION_SETUP_ANDX that completes the logon; turns signing on
        when ``mac_key`` is given ([MS-CIFS] 3.2.4.2.4, 3.2.5.3), or when
        ``key_from(parsed response)`` returns one (Kerberos: the key is in
        the response)."""
        if mac_key is not None or (key_from is not None and self._want_signing()):
            mid = self.send(request, flags2=C.SMB_FLAGS2_SMB_SECURITY_SIGNATURE, signature=_SIGNING_PLACEHOLDER)
        else:
            mid = self.send(request)
        resp = yield mid
        if resp.status in LOGON_FAILURES:
            return False
        self.check(resp, "SESSION_SETUP_ANDX")
        setup = resp.parse(S.SessionSetupAndXResponse)
        self.session.uid = resp.header.uid
        # A null session (no user name) counts as guest, as over SMB2 (SESSION_FLAG_IS_NULL).
        self.session.is_guest = setup.is_guest or not self.core.username
        if key_from is not None:
            mac_key = key_from(setup)
        placeholder = bytes(resp.buf[S.SIGNATURE_OFFSET:S.SIGNATURE_OFFSET + 8]) == _SIGNING_PLACEHOLDER
        if mac_key is not None and not setup.is_guest and placeholder and not self.extended_security:
            # Samba (checked with 4.17, and its own smbclient sees the same)
            # never turns signing on after an NT LM 0.12 (non-extended) logon,
            # even with "server signing = mandatory": it echoes the placeholder
            # and leaves every later response unsigned.  SMB1 has no downgrade
            # protection to lose here, so go on unsigned and say so.
            log.warning("the server did not turn on SMB1 signing after a non-extended-security logon; "
                        "continuing unsigned (use extended security for signing)")
            mac_key = None
        if mac_key is not None and not setup.is_guest:
            # The logon request was sequence number 0, its response is 1.
            self._verify(resp.buf, 1, mac_key)
            self._mac_key = mac_key
            self._next_seq = 2
            self.session.signing_required = True
            self._set_limits(signing=True)
        return True

    def logoff(self):
        """TREE_DISCONNECT every tree, then LOGOFF_ANDX (best effort; used by close())."""
        for tree in list(self.trees.values()):
            try:
                yield from self.call(S.TreeDisconnectRequest(), tree.tid)
            except OperationFailure:
                pass
        self.trees.clear()
        if self.session.uid:
            yield from self.call(S.LogoffAndXRequest())

    # ---------------------------------------------------------------- trees and files
    def tree(self, share: str):
        """Connect ``share`` once per connection; returns the :class:`Tree`."""
        key = share.upper()
        tree = self.trees.get(key)
        if tree is not None:
            return tree
        if not self.core.has_authenticated:
            raise NotReadyError("not logged on")
        server = self.core.remote_name or self.core.server_ip or "*SMBSERVER"
        resp = yield from self.call(S.TreeConnectAndXRequest(path="\\\\%s\\%s" % (server, share)))
        self.check(resp, "TREE_CONNECT to '%s'" % share)
        tree = Tree(share, resp.header.tid)
        self.trees[key] = tree
        return tree

    def open(self, tree: Tree, path: str, access: int, disposition: int = C.FILE_OPEN, options: int = 0,
             what: str = "open", attributes: int = 0, share: int = _SHARE_ALL):
        """NT_CREATE_ANDX; returns the parsed response (``fid``, ``end_of_file``, ...)."""
        req = S.NtCreateAndXRequest(file_name=_smb_path(path), desired_access=access, share_access=share,
                                    create_disposition=disposition, create_options=options,
                                    ext_file_attributes=attributes)
        resp = yield from self._opening(req, tree, path)
        self.check(resp, "%s '%s' on '%s'" % (what, path, tree.name))
        return resp.parse(S.NtCreateAndXResponse)

    def _opening(self, messages: Any, tree: Tree, path: str):
        """Send a request (or AndX chain) that starts with NT_CREATE_ANDX and wait for its
        answer; given up while it is out, the open it may still make is closed when the
        answer comes."""
        mid = self.send(messages, tree.tid, flags2=_path_flags2(path))
        try:
            return (yield mid)
        except SMBTimeout:
            self.core.on_late_answer(mid, lambda late: self._close_late_open(late, tree))
            raise

    def _close_late_open(self, resp: Any, tree: Tree) -> None:
        """The NT_CREATE_ANDX (maybe chained with a READ_ANDX) of an operation that gave
        up was answered: when it opened the file, close it."""
        try:
            blocks = S.parse_blocks(resp.buf)[1]
            if not blocks or blocks[0].command != C.SMB_COM_NT_CREATE_ANDX or not len(blocks[0].words):
                return
            fid = S.NtCreateAndXResponse.from_block(blocks[0]).fid
        except (OperationFailure, ProtocolError):
            return
        self.core.drop_answer(self.send(S.CloseRequest(fid=fid), tree.tid))

    def close_file(self, tree: Tree, fid: int):
        # READs or WRITEs given up (a timeout) may still be served: not before they are answered.
        yield WaitQuiet()
        resp = yield from self.call(S.CloseRequest(fid=fid), tree.tid)
        self.check(resp, "CLOSE")

    def _trans2(self, tree: Tree, subcommand: int, parameters: bytes, data: bytes = b"",
                max_parameters: int = 64, max_data: int = MAX_TRANS_DATA, flags2: int = 0) -> int:
        req = S.Transaction2Request(setup=(subcommand,), parameters=parameters, data=data,
                                    max_parameter_count=max_parameters, max_data_count=max_data)
        return self.send(req, tree.tid, flags2=flags2)

    def _nt_transact(self, tree: Tree, function: int, parameters: bytes, setup: bytes = b"",
                     max_parameters: int = 64, max_data: int = MAX_NT_TRANS_DATA):
        req = S.NtTransactRequest(function=function, setup=setup, parameters=parameters,
                                  max_parameter_count=max_parameters, max_data_count=max_data,
                                  max_setup_count=len(setup) // 2)
        resp = yield from self.call(req, tree.tid)
        return resp

    @staticmethod
    def _trans_result(resp: Smb1Response) -> S.TransactionResponse:
        if resp.trans is None:
            raise MalformedResponse("transaction response without parameters or data")
        return resp.trans

    # ================================================================ operations
    def dfs_referral(self, request_file_name: str):
        """TRANS2_GET_DFS_REFERRAL on IPC$ ([MS-CIFS] 2.2.6.16) for
        ``request_file_name``: a REQ_GET_DFS_REFERRAL is the parameter block; the
        data block is the RESP_GET_DFS_REFERRAL (parsed by :mod:`smb.dfs`)."""
        tree = yield from self.tree("IPC$")
        request = ReferralRequest(4, request_file_name).pack()
        mid = self._trans2(tree, C.TRANS2_GET_DFS_REFERRAL, request, max_parameters=0)
        resp = yield mid
        self.check(resp, "DFS referral")
        return bytes(self._trans_result(resp).data)

    def echo(self, data: bytes):
        resp = yield from self.call(S.EchoRequest(data=bytes(data)))
        self.check(resp, "ECHO")
        return resp.parse(S.EchoResponse).data

    def list_shares(self):
        """NetShareEnumAll over the srvsvc pipe on IPC$ ([MS-SRVS] 3.1.4.8),
        through TRANSACTION TransactNmPipe ([MS-CIFS] 2.2.5.6)."""
        from . import _msrpc
        tree = yield from self.tree("IPC$")
        access = C.FILE_READ_DATA | C.FILE_WRITE_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE
        opened = yield from self.open(tree, "srvsvc", access, C.FILE_OPEN, 0, "open pipe")
        fid = opened.fid
        try:
            ack = yield from self._pipe_transact(tree, fid, _msrpc.build_bind())
            _msrpc.parse_bind_ack(ack)
            server = self.core.remote_name or self.core.server_ip
            stub = yield from self._pipe_call(tree, fid, _msrpc.build_net_share_enum_all("\\\\" + server))
            shares = _msrpc.parse_net_share_enum_all_response(stub)
        finally:
            yield from self.close_file(tree, fid)
        return [SharedDevice(stype, name, comment) for name, stype, comment in shares]

    def _pipe_transact(self, tree: Tree, fid: int, request: bytes, ok: Sequence[int] = (NtStatus.SUCCESS,)):
        req = S.TransactionRequest(setup=(C.TRANS_TRANSACT_NMPIPE, fid), data=request, name="\\PIPE\\",
                                   max_data_count=MAX_TRANS_DATA)
        resp = yield from self.call(req, tree.tid)
        self.check(resp, "pipe TRANSACT", ok)
        return self._trans_result(resp).data

    def _pipe_call(self, tree: Tree, fid: int, request: bytes):
        """One DCE/RPC call; a response longer than one transaction is read on."""
        from . import _msrpc
        assembler = _msrpc.RpcResponseAssembler()
        data = yield from self._pipe_transact(tree, fid, request, (NtStatus.SUCCESS, NtStatus.BUFFER_OVERFLOW))
        assembler.feed(data)
        while not assembler.done:
            resp = yield from self.call(S.ReadAndXRequest(fid=fid, offset=0, max_count=0xFFFF), tree.tid)
            self.check(resp, "pipe READ", (NtStatus.SUCCESS, NtStatus.BUFFER_OVERFLOW))
            chunk = resp.parse(S.ReadAndXResponse).data
            if not len(chunk):
                raise MalformedResponse("empty read from the srvsvc pipe")
            assembler.feed(bytes(chunk))
        return assembler.stub_data

    def list_path(self, share: str, path: str, search: int, pattern: str):
        """TRANS2 FIND_FIRST2, then FIND_NEXT2 until the end of the search
        (:class:`Smb1Listing`, which ``iterPath`` uses too)."""
        entries = yield from self.collect_listing(self.open_listing(share, path, pattern), search)
        return entries

    def open_listing(self, share: str, path: str, pattern: str, size: int = 0) -> "Smb1Listing":
        """A listing of ``path`` fetched one FIND round trip at a time (no IO yet).
        ``size`` is ignored: a FIND response is bounded by its 16-bit data count."""
        return Smb1Listing(self, share, path, pattern)

    @staticmethod
    def _entries(data: bytes, count: int) -> List[fscc.DirectoryEntry]:
        entries = fscc.parse_find_data(data)
        if len(entries) != count:
            log.debug("FIND response announced %d entries and carries %d; keeping the %d", count,
                      len(entries), len(entries))
        return entries

    def _query_path(self, tree: Tree, path: str, level: int) -> int:
        params = S.QueryPathInformationParams(information_level=level, file_name=_smb_path(path)).pack()
        return self._trans2(tree, C.TRANS2_QUERY_PATH_INFORMATION, params, max_parameters=2,
                            flags2=_path_flags2(path))

    def get_attributes(self, share: str, path: str):
        """Three QUERY_PATH_INFORMATION requests in flight at once: all info,
        the file id and the 8.3 name."""
        tree = yield from self.tree(share)
        mids = [self._query_path(tree, path, C.SMB_QUERY_FILE_ALL_INFO),
                self._query_path(tree, path, C.SMB_FILE_INTERNAL_INFORMATION),
                self._query_path(tree, path, C.SMB_QUERY_FILE_ALT_NAME_INFO)]
        got: Dict[int, Smb1Response] = {}
        while len(got) < len(mids):
            mid, resp = yield WaitAny(set(mids) - set(got))
            got[mid] = resp.detached() if resp.trans is None else resp
        everything, internal, alt = (got[m] for m in mids)
        self.check(everything, "getAttributes '%s' on '%s'" % (path, share))
        info = S.FileAllInformation.unpack_from(self._trans_result(everything).data)
        file_id = None
        if internal.status == NtStatus.SUCCESS:
            file_id = fscc.FileInternalInformation.unpack_from(self._trans_result(internal).data).index_number
        short = ""
        if alt.status == NtStatus.SUCCESS:
            short = fscc.parse_file_alternate_name_information(self._trans_result(alt).data)
        name = path.rsplit("\\", 1)[-1] if path else ""
        return shared_file(info.creation_time, info.last_access_time, info.last_write_time, info.change_time,
                            info.end_of_file, info.allocation_size, info.file_attributes, short, name, file_id)

    def get_security(self, share: str, path: str):
        from .security_descriptors import SecurityDescriptor
        tree = yield from self.tree(share)
        opened = yield from self.open(tree, path, C.READ_CONTROL | C.FILE_READ_ATTRIBUTES, C.FILE_OPEN, 0,
                                      "getSecurity")
        try:
            size = 65536
            for _ in range(3):
                params = S.QuerySecurityDescParams(fid=opened.fid).pack()
                resp = yield from self._nt_transact(tree, C.NT_TRANSACT_QUERY_SECURITY_DESC, params,
                                                    max_parameters=4, max_data=size)
                if resp.status == NtStatus.BUFFER_TOO_SMALL and resp.trans is not None:
                    needed = S.QuerySecurityDescResponseParams.unpack_from(resp.trans.parameters).length_needed
                    if needed <= size or needed > MAX_NT_TRANS_DATA:
                        raise MalformedResponse("server needs %d bytes for a security descriptor" % needed)
                    size = needed
                    continue
                self.check(resp, "getSecurity '%s' on '%s'" % (path, share))
                break
            data = self._trans_result(resp).data
        finally:
            yield from self.close_file(tree, opened.fid)
        return SecurityDescriptor.from_bytes(bytes(data))

    def list_snapshots(self, share: str, path: str):
        """NT_TRANSACT IOCTL FSCTL_SRV_ENUMERATE_SNAPSHOTS ([MS-SMB] 2.2.7.2.1)."""
        from ._smb2_ops import snapshots_to_datetimes
        tree = yield from self.tree(share)
        opened = yield from self.open(tree, path, C.FILE_READ_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE,
                                      C.FILE_OPEN, 0, "listSnapshots")
        try:
            size = 65536
            for _ in range(3):
                setup = S.NtIoctlSetup(function_code=K.Fsctl.SRV_ENUMERATE_SNAPSHOTS, fid=opened.fid).pack()
                resp = yield from self._nt_transact(tree, C.NT_TRANSACT_IOCTL, b"", setup, 0, size)
                self.check(resp, "listSnapshots '%s' on '%s'" % (path, share))
                arr = fscc.SnapshotArray.unpack_from(self._trans_result(resp).data)
                if arr.number_of_snapshots == arr.number_of_snapshots_returned or arr.snapshot_array_size + 12 <= size:
                    break
                size = min(arr.snapshot_array_size + 12, MAX_NT_TRANS_DATA)
        finally:
            yield from self.close_file(tree, opened.fid)
        return snapshots_to_datetimes(arr.snapshots)

    def retrieve(self, share: str, path: str, file_obj: Any, offset: int, max_length: int,
                 progress: Optional[Callable[[int], None]], set_total: Optional[Callable[[int], None]] = None):
        """READ_ANDX straight into ``file_obj`` (data written in order).

        The open and the first READ travel as one AndX chain (NT_CREATE_ANDX +
        READ_ANDX, the server applies the read to the file it just opened), so a
        small file costs one round trip plus the CLOSE; the rest is read with
        pipelined READ_ANDX.
        """
        tree = yield from self.tree(share)
        access = C.FILE_READ_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE
        first = min(self.max_read, _CHAINED_READ) if max_length < 0 else min(self.max_read, _CHAINED_READ,
                                                                                max_length)
        if first <= 0:
            opened = yield from self.open(tree, path, access, C.FILE_OPEN, C.FILE_NON_DIRECTORY_FILE, "retrieve")
            yield from self.close_file(tree, opened.fid)
            return opened.ext_file_attributes, 0
        create = S.NtCreateAndXRequest(file_name=_smb_path(path), desired_access=access, share_access=_SHARE_ALL,
                                       create_disposition=C.FILE_OPEN, create_options=C.FILE_NON_DIRECTORY_FILE)
        read = S.ReadAndXRequest(fid=0xFFFF, offset=offset, max_count=first)
        resp = yield from self._opening([create, read], tree, path)
        blocks = S.parse_blocks(resp.buf)[1]
        if resp.status != NtStatus.SUCCESS and (not blocks or blocks[0].command != C.SMB_COM_NT_CREATE_ANDX
                                                or len(blocks[0].words) == 0):
            self.check(resp, "retrieve '%s' on '%s'" % (path, share))
        opened = S.NtCreateAndXResponse.from_block(blocks[0])
        try:
            size = opened.end_of_file
            end = size if max_length < 0 else min(size, offset + max_length)
            if set_total:
                set_total(max(0, end - offset))
            if len(blocks) < 2 or blocks[1].command != C.SMB_COM_READ_ANDX:
                # [MS-CIFS] 3.3.5.2: a server may stop processing a chain after
                # any command.  The open succeeded, so read with separate requests.
                self.check(resp, "retrieve '%s' on '%s'" % (path, share))
                log.debug("the server answered NT_CREATE_ANDX without the chained READ_ANDX")
                total = 0
                if offset < end:
                    total = yield from self._read_range(tree, opened.fid, offset, end, file_obj, progress)
                return opened.ext_file_attributes, total
            self.check(resp, "READ")
            data = S.ReadAndXResponse.from_block(blocks[1]).data
            got = len(data)
            if got > first:
                raise MalformedResponse("server returned %d bytes for a %d-byte READ" % (got, first))
            if got:
                file_obj.write(data)
                if progress:
                    progress(got)
            total = got
            if got and offset + got < end:
                total += yield from self._read_range(tree, opened.fid, offset + got, end, file_obj, progress)
        finally:
            yield from self.close_file(tree, opened.fid)
        return opened.ext_file_attributes, total

    def _read_range(self, tree: Tree, fid: int, start: int, end: int, file_obj: Any,
                    progress: Optional[Callable[[int], None]]):
        plan = ReadPlan(file_obj, start, end, self.max_read, progress)
        depth = self._depth(self.max_read)
        inflight: Dict[int, Tuple[int, int]] = {}  # mid -> (offset, length)
        while not plan.done:
            while plan.wants_more and len(inflight) < depth:
                off, length = plan.next_range()
                inflight[self.send(S.ReadAndXRequest(fid=fid, offset=off, max_count=length), tree.tid)] = (off, length)
            if not inflight:
                break
            mid, resp = yield WaitAny(inflight)
            off, length = inflight.pop(mid)
            if resp.status == NtStatus.END_OF_FILE:
                plan.end_of_file(off)
                continue
            self.check(resp, "READ")
            plan.received(off, length, resp.parse(S.ReadAndXResponse).data)
        # Reads sent past the end are still answered: wait for them, so that no
        # READ is pending when the caller CLOSEs the file (Samba 4.17's smbd
        # crashes in close_file_smb when an SMB1 CLOSE overtakes pending reads).
        while inflight:
            mid, _ = yield WaitAny(inflight)
            inflight.pop(mid)
        return plan.finish()

    def store(self, share: str, path: str, file_obj: Any, offset: int, truncate: bool,
              progress: Optional[Callable[[int], None]], confirmed: Optional[Callable[[int, int], None]] = None):
        """Pipelined WRITE_ANDX from ``file_obj``; returns the end offset.
        ``confirmed(offset, count)`` is called for each WRITE the server answered."""
        tree = yield from self.tree(share)
        disposition = C.FILE_OVERWRITE_IF if truncate else C.FILE_OPEN_IF
        access = C.FILE_WRITE_DATA | C.FILE_READ_ATTRIBUTES | C.FILE_WRITE_ATTRIBUTES | C.SYNCHRONIZE
        limit = min(self.max_write, _CHAINED_WRITE)
        head = read_up_to(file_obj, limit)
        if len(head) < limit:
            end = yield from self._store_chained(tree, path, access, disposition, offset, head, progress, confirmed)
            if end is not None:
                return end
            # The server did not take the whole chain: the plain way below, with the same data.
        opened = yield from self.open(tree, path, access, disposition, C.FILE_NON_DIRECTORY_FILE, "store")
        try:
            end = yield from self._write_stream(tree, opened.fid, offset, Prefixed(head, file_obj), progress,
                                                confirmed)
        finally:
            yield from self.close_file(tree, opened.fid)
        return end

    def _store_chained(self, tree: Tree, path: str, access: int, disposition: int, offset: int, data: bytes,
                       progress: Optional[Callable[[int], None]], confirmed: Optional[Callable[[int, int], None]]):
        """A whole small file in one round trip: NT_CREATE_ANDX + WRITE_ANDX + CLOSE as one
        AndX chain ([MS-CIFS] 2.2.3.4; CLOSE may follow WRITE_ANDX, 2.2.4.43.1).  Returns the
        end offset, or None when the server answered only the open (it may stop a chain
        after any command, [MS-CIFS] 3.3.5.2): the open it made is closed and the caller
        stores the plain way."""
        create = S.NtCreateAndXRequest(file_name=_smb_path(path), desired_access=access, share_access=_SHARE_ALL,
                                       create_disposition=disposition, create_options=C.FILE_NON_DIRECTORY_FILE)
        chain: List[Any] = [create]
        if data:
            chain.append(S.WriteAndXRequest(fid=0xFFFF, offset=offset, data=data))
        chain.append(S.CloseRequest(fid=0xFFFF))
        resp = yield from self._opening(chain, tree, path)
        blocks = S.parse_blocks(resp.buf)[1]
        opened_ok = bool(blocks) and blocks[0].command == C.SMB_COM_NT_CREATE_ANDX and len(blocks[0].words) > 0
        if not opened_ok:
            self.check(resp, "store '%s' on '%s'" % (path, tree.name))
            raise MalformedResponse("store '%s': an answer without the NT_CREATE_ANDX response" % path)
        commands = [b.command for b in blocks]
        if len(blocks) == len(chain) and resp.status == NtStatus.SUCCESS:
            if data:
                count = S.WriteAndXResponse.from_block(blocks[1]).count
                return whole_write(offset, len(data), count, progress, confirmed)
            return offset
        fid = S.NtCreateAndXResponse.from_block(blocks[0]).fid
        if C.SMB_COM_CLOSE not in commands:
            yield from self.close_file(tree, fid)
        if len(blocks) < len(chain) and resp.status == NtStatus.SUCCESS:
            log.debug("the server answered %d of the %d commands of a chained store", len(blocks), len(chain))
            return None
        self.check(resp, "store '%s' on '%s'" % (path, tree.name))
        raise MalformedResponse("store '%s': %d answers to a %d-command chain" % (path, len(blocks), len(chain)))

    def _write_stream(self, tree: Tree, fid: int, offset: int, file_obj: Any,
                      progress: Optional[Callable[[int], None]],
                      confirmed: Optional[Callable[[int, int], None]] = None):
        chunk = self.max_write
        depth = self._depth(chunk)
        inflight: Dict[int, Tuple[int, Any]] = {}
        pos = offset
        exhausted = False
        while True:
            while not exhausted and len(inflight) < depth:
                data = file_obj.read(chunk)
                if not data:
                    exhausted = True
                    break
                req = S.WriteAndXRequest(fid=fid, offset=pos, data=data)
                inflight[self.send(req, tree.tid, data=data)] = (pos, data)
                pos += len(data)
            if not inflight:
                break
            mid, resp = yield WaitAny(inflight)
            off, data = inflight.pop(mid)
            self.check(resp, "WRITE")
            count = resp.parse(S.WriteAndXResponse).count
            if count > len(data):
                raise MalformedResponse("server wrote %d bytes of a %d-byte WRITE" % (count, len(data)))
            if count < len(data):
                if count == 0:
                    raise OperationFailure("WRITE at offset %d made no progress" % off, [resp])
                rest = memoryview(data)[count:]
                req = S.WriteAndXRequest(fid=fid, offset=off + count, data=rest)
                inflight[self.send(req, tree.tid, data=rest)] = (off + count, rest)
            if progress:
                progress(count)
            if confirmed:
                confirmed(off, count)
        return pos

    def _run_all(self, requests: Sequence[Tuple[Any, str]], tid: int):
        """Send ``(message, what)`` requests, up to MaxMpxCount at once; the
        first failure (in request order) is raised after all have answered."""
        pending = list(requests)
        inflight: Dict[int, int] = {}
        results: Dict[int, Smb1Response] = {}
        index = 0
        while index < len(pending) or inflight:
            while index < len(pending) and len(inflight) < self.max_mpx:
                inflight[self.send(pending[index][0], tid)] = index
                index += 1
            mid, resp = yield WaitAny(inflight)
            results[inflight.pop(mid)] = resp if resp.status == NtStatus.SUCCESS else resp.detached()
        for i, (_, what) in enumerate(pending):
            self.check(results[i], what)

    def _delete_paths(self, tree: Tree, paths: Sequence[str]):
        yield from self._run_all([(S.DeleteRequest(file_name=_smb_path(p), search_attributes=_SEARCH_FILES),
                                   "delete '%s' on '%s'" % (p, tree.name)) for p in paths], tree.tid)

    def create_directory(self, share: str, path: str):
        tree = yield from self.tree(share)
        resp = yield from self.call(S.CreateDirectoryRequest(directory_name=_smb_path(path)), tree.tid)
        self.check(resp, "createDirectory '%s' on '%s'" % (path, share))

    def delete_directory(self, share: str, path: str):
        tree = yield from self.tree(share)
        resp = yield from self.call(S.DeleteDirectoryRequest(directory_name=_smb_path(path)), tree.tid)
        self.check(resp, "deleteDirectory '%s' on '%s'" % (path, share))

    def rename(self, share: str, old: str, new: str):
        tree = yield from self.tree(share)
        req = S.RenameRequest(old_file_name=_smb_path(old), new_file_name=_smb_path(new))
        resp = yield from self.call(req, tree.tid)
        self.check(resp, "rename '%s' to '%s' on '%s'" % (old, new, share))

    def set_basic_info(self, share: str, path: str, what: str, creation_time: int = 0, last_access_time: int = 0,
                       last_write_time: int = 0, change_time: int = 0, file_attributes: int = 0):
        """TRANS2 SET_PATH_INFORMATION, SMB_SET_FILE_BASIC_INFO ([MS-CIFS] 2.2.8.4.1,
        the layout of [MS-FSCC] 2.4.7): FILETIMEs and attributes, 0 leaving that
        field unchanged."""
        tree = yield from self.tree(share)
        params = S.SetPathInformationParams(information_level=C.SMB_SET_FILE_BASIC_INFO,
                                            file_name=_smb_path(path)).pack()
        data = S.FileBasicInformation(creation_time=creation_time, last_access_time=last_access_time,
                                      last_write_time=last_write_time, change_time=change_time,
                                      file_attributes=file_attributes).pack()
        resp = yield self._trans2(tree, C.TRANS2_SET_PATH_INFORMATION, params, data, max_parameters=2,
                                  max_data=0)
        self.check(resp, "%s '%s' on '%s'" % (what, path, share))


    # ---------------------------------------------------------------- file handles
    def _open_handle(self, tree: Tree, path: str, access: int, disposition: int, share_access: int,
                     options: int, durable: bool = False):
        """NT_CREATE_ANDX kept open for a file object (SMB1 has no durable handles:
        ``durable`` changes nothing)."""
        opened = yield from self.open(tree, path, access, disposition, options, "open", share=share_access)
        return FileHandle(self, tree, opened.fid, path, opened.end_of_file, opened.directory,
                          opened.ext_file_attributes)

    def truncate_handle(self, handle: FileHandle, size: int):
        """TRANS2_SET_FILE_INFORMATION SMB_SET_FILE_END_OF_FILE_INFO ([MS-CIFS]
        2.2.6.9, 2.2.8.4.4): cut or extend (with zeros) the file to ``size`` bytes."""
        params = S.SetFileInformationParams(fid=handle.fid, information_level=C.SMB_SET_FILE_END_OF_FILE_INFO).pack()
        data = fscc.FileEndOfFileInformation(size).pack()
        resp = yield self._trans2(handle.tree, C.TRANS2_SET_FILE_INFORMATION, params, data, max_parameters=2,
                                  max_data=0)
        self.check(resp, "truncate %s" % handle.what)

    def query_size(self, handle: FileHandle):
        """TRANS2_QUERY_FILE_INFORMATION SMB_QUERY_FILE_STANDARD_INFO ([MS-CIFS]
        2.2.8.3.7): the end of file now."""
        params = S.QueryFileInformationParams(fid=handle.fid, information_level=C.SMB_QUERY_FILE_STANDARD_INFO).pack()
        resp = yield self._trans2(handle.tree, C.TRANS2_QUERY_FILE_INFORMATION, params, max_parameters=2,
                                  max_data=64)
        self.check(resp, "query size of %s" % handle.what)
        return fscc.FileStandardInformation.unpack_from(self._trans_result(resp).data).end_of_file

    def flush_handle(self, handle: FileHandle):
        """SMB_COM_FLUSH ([MS-CIFS] 2.2.4.6): the server writes its cached data to storage."""
        resp = yield from self.call(FlushRequest(fid=handle.fid), handle.tree.tid)
        self.check(resp, "flush %s" % handle.what)

    def close_handle(self, handle: FileHandle):
        """CLOSE the handle (once; later calls do nothing)."""
        if handle.is_open:
            handle.is_open = False
            yield from self.close_file(handle.tree, handle.fid)

    def abort_handle(self, handle: FileHandle) -> None:
        """Send the CLOSE without waiting for its answer (dropped when it arrives)."""
        if handle.is_open:
            handle.is_open = False
            self.send(S.CloseRequest(fid=handle.fid), handle.tree.tid)


@dataclass(frozen=True)
class FlushRequest(S._Message):
    """[MS-CIFS] 2.2.4.6.1 SMB_COM_FLUSH request: one FID word, no data (the
    response carries neither words nor data)."""

    fid: int
    COMMAND: ClassVar[int] = C.SMB_COM_FLUSH

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return struct.pack("<H", self.fid), b""


@dataclass(frozen=True)
class FindClose2Request(S._Message):
    """[MS-CIFS] 2.2.4.48.1 FIND_CLOSE2 request: ends a search the server
    still holds (its response carries no words and no data)."""

    sid: int
    COMMAND: ClassVar[int] = C.SMB_COM_FIND_CLOSE2

    def pack_block(self, offset: int, unicode: bool = True) -> Tuple[bytes, bytes]:
        return struct.pack("<H", self.sid), b""


class Smb1Listing(Listing):
    """One directory listed batch by batch: TRANS2 FIND_FIRST2, then
    FIND_NEXT2 per :meth:`fetch`, with SMB_FIND_FILE_ID_BOTH_DIRECTORY_INFO
    ([MS-SMB] 2.2.8.1.3).

    Every entry the server sends is kept, whatever its SearchCount claims
    (servers miscount); a response that carries no entry while the search is
    not over fails the listing rather than ending it early.  The server ends
    the search itself at its end (SMB_FIND_CLOSE_AT_EOS); :meth:`close` sends
    FIND_CLOSE2 for a search given up before that.
    """

    def __init__(self, dialect: "Smb1Dialect", share: str, path: str, pattern: str) -> None:
        super().__init__(dialect, share, path, pattern)
        self.sid: Optional[int] = None
        self.started = False
        self.last_name = ""

    @property
    def needs_close(self) -> bool:
        """True while the server holds the search open."""
        return self.sid is not None

    def fetch(self, search: int):
        """The next batch of entries passing ``search`` (maybe empty), or None at the end."""
        if self.finished:
            return None
        d = self.dialect
        tree = yield from self._tree()
        what = self.what
        level = C.SMB_FIND_FILE_ID_BOTH_DIRECTORY_INFO
        if not self.started:
            self.started = True
            spec = _smb_path(self.path + "\\" + self.pattern if self.path else self.pattern)
            params = S.FindFirst2Params(file_name=spec, search_attributes=_SEARCH_ALL, search_count=FIND_COUNT,
                                        flags=C.SMB_FIND_CLOSE_AT_EOS, information_level=level).pack()
            resp = yield d._trans2(tree, C.TRANS2_FIND_FIRST2, params, max_parameters=10, flags2=_path_flags2(spec))
            if resp.status == NtStatus.NO_SUCH_FILE:
                self.finished = True
                return None
            d.check(resp, what)
            trans = d._trans_result(resp)
            first = S.FindFirst2ResponseParams.unpack_from(trans.parameters)
            if not first.end_of_search:
                self.sid = first.sid
            entries = d._entries(trans.data, first.search_count)
            end = bool(first.end_of_search)
            done = end
        else:
            assert self.sid is not None
            params = S.FindNext2Params(sid=self.sid, file_name=self.last_name, search_count=FIND_COUNT,
                                       information_level=level,
                                       flags=C.SMB_FIND_CLOSE_AT_EOS | C.SMB_FIND_CONTINUE_FROM_LAST).pack()
            resp = yield d._trans2(tree, C.TRANS2_FIND_NEXT2, params, max_parameters=8)
            if resp.status == NtStatus.NO_MORE_FILES:
                self.sid, self.finished = None, True
                return None
            d.check(resp, what)
            trans = d._trans_result(resp)
            nxt = S.FindNext2ResponseParams.unpack_from(trans.parameters)
            entries = d._entries(trans.data, nxt.search_count)
            end = bool(nxt.end_of_search)
            done = end or (nxt.search_count == 0 and not entries)
        if end:
            self.sid = None  # closed by the server (SMB_FIND_CLOSE_AT_EOS)
        if done:
            self.finished = True
        elif not entries:
            raise MalformedResponse("%s: a FIND response carried no entry before the end of the search" % what)
        else:
            self.last_name = entries[-1].file_name
        return [shared_file(e.creation_time, e.last_access_time, e.last_write_time, e.change_time,
                             e.end_of_file, e.allocation_size, e.file_attributes, e.short_name, e.file_name,
                             e.file_id)
                for e in entries if matches_search(e.file_attributes, search)]

    def abort(self) -> None:
        """Send FIND_CLOSE2 if needed without waiting for the answer (which is
        dropped when it arrives): for a listing that failed."""
        self.finished = True
        if self.sid is not None and self.tree is not None:
            sid, self.sid = self.sid, None
            self.dialect.send(FindClose2Request(sid=sid), self.tree.tid)

    def close(self):
        """FIND_CLOSE2 when the server still holds the search."""
        self.finished = True
        if self.sid is not None and self.tree is not None:
            sid, self.sid = self.sid, None
            resp = yield from self.dialect.call(FindClose2Request(sid=sid), self.tree.tid)
            self.dialect.check(resp, "FIND_CLOSE2")
