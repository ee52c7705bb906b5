"""The IO-free protocol core.

:class:`SMB` holds everything an SMB client session knows (the negotiated
dialect, the session and its keys, connected trees, message ids and credits)
and runs operations as generators.  It never touches a socket: a driver (the
blocking :class:`smb.SMBConnection.SMBConnection`, or anything else) feeds it
received frames with :meth:`SMB.receive_frame` and sends what
:meth:`SMB.data_to_send` returns.

An operation is a generator.  It sends requests through the dialect object
(which queues bytes and returns a message id) and yields what it waits for:

* ``resp = yield mid`` waits for the response to one message id;
* ``mid, resp = yield WaitAny(mids)`` waits for whichever of several
  in-flight requests answers first (pipelined reads and writes).

After NEGOTIATE the core holds exactly one dialect object (SMB1 or SMB2/3)
whose generators implement the public operations, so no operation asks
"which dialect?" again.

This module also defines pysmb's result classes :class:`SharedDevice` and
:class:`SharedFile`, and re-exports the exceptions pysmb had here.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Callable, Collection, Container, Dict, Generator, List, Optional, Tuple, Union

from smb import _reexport
from . import smb_constants as C
from nmb.base import NMBSession

from . import ntlm, securityblob  # noqa: F401 - pysmb's smb.base had both as attributes
from ._framing import Framer
from .exceptions import (MalformedResponse, NotConnectedError, NotReadyError, OperationFailure, ProtocolError,
                         SMBError, SMBTimeout, UnsupportedFeature)

__all__ = [
    "SMB", "SharedDevice", "SharedFile", "WaitAny", "WaitCredits",
    "NotReadyError", "NotConnectedError", "SMBTimeout", "SMBError",
    "ProtocolError", "MalformedResponse", "OperationFailure", "UnsupportedFeature",
    "SIGN_NEVER", "SIGN_WHEN_SUPPORTED", "SIGN_WHEN_REQUIRED",
]

log = logging.getLogger("SMB.SMBConnection")

#: pysmb's signing policy values (``sign_options``).
SIGN_NEVER = 0
SIGN_WHEN_SUPPORTED = 1
SIGN_WHEN_REQUIRED = 2


class SharedDevice:
    """A share on the server, as :meth:`listShares` returns it (pysmb's class).

    ``type`` is the share type without the special/temporary bits
    (``DISK_TREE``, ``PRINT_QUEUE``, ``COMM_DEVICE``, ``IPC``).
    """

    DISK_TREE = 0x00
    PRINT_QUEUE = 0x01
    COMM_DEVICE = 0x02
    IPC = 0x03

    def __init__(self, type: int, name: str, comments: str) -> None:  # noqa: A002 (pysmb's names)
        self._type = type
        self.name = name
        self.comment = comments

    @property
    def comments(self) -> str:
        """pysmb's name for :attr:`comment`."""
        return self.comment

    @comments.setter
    def comments(self, value: str) -> None:
        self.comment = value

    @property
    def type(self) -> int:
        """The share type: ``DISK_TREE``, ``PRINT_QUEUE``, ``COMM_DEVICE`` or ``IPC``."""
        return self._type & 0xFFFF

    @property
    def isSpecial(self) -> bool:
        """True for administrative shares such as ``IPC$`` and ``C$``."""
        return bool(self._type & 0x80000000)

    @property
    def isTemporary(self) -> bool:
        """True for a temporary share."""
        return bool(self._type & 0x40000000)

    def __repr__(self) -> str:
        return "SharedDevice(type=%d, name=%r, comment=%r)" % (self.type, self.name, self.comment)


_NOT_NORMAL = (C.SMB_FILE_ATTRIBUTE_READONLY | C.SMB_FILE_ATTRIBUTE_HIDDEN | C.SMB_FILE_ATTRIBUTE_SYSTEM
               | C.SMB_FILE_ATTRIBUTE_ARCHIVE | C.SMB_FILE_ATTRIBUTE_DIRECTORY)


class SharedFile:
    """A file or folder, as :meth:`listPath` and :meth:`getAttributes` return it.

    Times are seconds since the epoch (floats); ``file_attributes`` are the
    [MS-FSCC] 2.6 bits; ``file_id`` is the server's file reference number.
    """

    def __init__(self, create_time: float, last_access_time: float, last_write_time: float,
                 last_attr_change_time: float, file_size: int, alloc_size: int, file_attributes: int,
                 short_name: str, filename: str, file_id: Optional[int] = None) -> None:
        self.create_time = create_time
        self.last_access_time = last_access_time
        self.last_write_time = last_write_time
        self.last_attr_change_time = last_attr_change_time
        self.file_size = file_size
        self.alloc_size = alloc_size
        self.file_attributes = file_attributes
        self.short_name = short_name
        self.filename = filename
        self.file_id = file_id

    @property
    def isDirectory(self) -> bool:
        """True for a folder."""
        return bool(self.file_attributes & C.ATTR_DIRECTORY)

    @property
    def isReadOnly(self) -> bool:
        """True when the read-only attribute is set."""
        return bool(self.file_attributes & C.ATTR_READONLY)

    @property
    def isNormal(self) -> bool:
        """pysmb's definition: not read-only, hidden, system, archive nor a directory."""
        return not (self.file_attributes & _NOT_NORMAL)

    def __repr__(self) -> str:
        return "SharedFile(filename=%r, file_size=%d, file_attributes=0x%X)" % (
            self.filename, self.file_size, self.file_attributes)


_EPOCH_AS_FILETIME = 116444736000000000
_TICKS_PER_SECOND = 10_000_000


def shared_file(ctime: int, atime: int, wtime: int, chtime: int, size: int, alloc: int, attrs: int,
                short_name: str, name: str, file_id: Optional[int]) -> "SharedFile":
    """A :class:`SharedFile` from the wire's FILETIMEs (what both dialects' listings and
    queries make, one per entry: :func:`smb.utils.convertFILETIMEtoEpoch`'s exact division,
    inlined)."""
    return SharedFile((ctime - _EPOCH_AS_FILETIME) / _TICKS_PER_SECOND, (atime - _EPOCH_AS_FILETIME) / _TICKS_PER_SECOND,
                      (wtime - _EPOCH_AS_FILETIME) / _TICKS_PER_SECOND,
                      (chtime - _EPOCH_AS_FILETIME) / _TICKS_PER_SECOND, size, alloc, attrs, short_name, name,
                      file_id)


def matches_search(file_attributes: int, search: int) -> bool:
    """pysmb's client-side ``search`` filter of :meth:`listPath`.

    An entry passes when it has one of the attribute bits named in
    ``search``, or when ``search`` has ``SMB_FILE_ATTRIBUTE_INCL_NORMAL`` and
    the entry is "normal" (none of read-only/hidden/system/archive/directory).
    """
    if file_attributes & search & _NOT_NORMAL:
        return True
    return bool(search & C.SMB_FILE_ATTRIBUTE_INCL_NORMAL) and not (file_attributes & _NOT_NORMAL)


class WaitAny:
    """Yielded by an operation to wait for the first of several responses.

    ``keys`` is kept by reference (not copied): an operation with hundreds of
    requests in flight passes its own dict of them, so waiting costs O(1).
    The operation must not change it until it is resumed.
    """

    __slots__ = ("keys",)

    def __init__(self, keys: Collection[int]) -> None:
        self.keys = keys


class WaitCredits:
    """Yielded by an SMB2 operation that cannot send for want of credits
    while other operations hold them ([MS-SMB2] 3.2.4.1.5).

    The core queues it (first come, first served) and resumes it with None
    once ``charge`` credits are there; when no request is in flight that
    could bring credits back, :class:`ProtocolError` is thrown in instead.
    """

    __slots__ = ("charge",)

    def __init__(self, charge: int) -> None:
        self.charge = charge


class WaitQuiet:
    """Yielded by an operation to wait until every request given up so far
    (abandoned: their answers are dropped) has been answered.

    An SMB1 CLOSE waits so before it goes out: Samba 4.17's SMB1 server
    crashes on a CLOSE of a file whose READs are still being served.
    """

    __slots__ = ()


OpGen = Generator[Union[int, WaitAny, WaitCredits, WaitQuiet], Any, Any]


class Operation:
    """A running operation: its generator, what it waits for, its outcome."""

    __slots__ = ("gen", "waiting", "any_wait", "done", "result", "error", "name", "credit_need", "keys")

    def __init__(self, gen: OpGen, name: str) -> None:
        self.gen = gen
        self.name = name
        #: The keys the operation waits for (None when it is not waiting).
        self.waiting: Optional[Container[int]] = None
        self.any_wait = False
        #: Credits the operation waits for in the core's queue (0: not queued).
        self.credit_need = 0
        #: Its requests whose answers it has not taken yet (due, or arrived early).
        self.keys: set = set()
        self.done = False
        self.result: Any = None
        self.error: Optional[BaseException] = None

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


def normalize_path(path: str) -> str:
    r"""Turn a user path (``/a/b/``, ``a\b``, ``\\a``) into ``a\b`` (no leading/trailing ``\``)."""
    path = (path or "").replace("/", "\\")
    parts = [p for p in path.split("\\") if p not in ("",)]
    return "\\".join(parts)


class SMB(NMBSession):
    """The IO-free SMB client core (pysmb's ``smb.base.SMB``).

    Two ways to drive it.  Our drivers (:class:`smb.SMBConnection.SMBConnection`)
    run operation generators with :meth:`start` and feed frames to
    :meth:`receive_frame`.  pysmb's way, its "extending" API, works as well:
    subclass, supply ``write(data)`` (send bytes), call ``feedData(data)``
    with received bytes and :meth:`onNMBSessionOK` once the transport is up
    (after ``requestNMBSession()`` is answered on port 139, or right after
    connecting with ``is_direct_tcp``); NEGOTIATE and SESSION_SETUP then run
    by themselves and end in :meth:`onAuthOK` or :meth:`onAuthFailed`.

    ``SIGN_NEVER``, ``SIGN_WHEN_SUPPORTED`` and ``SIGN_WHEN_REQUIRED`` are
    class attributes too, as in pysmb (``SMBConnection.SIGN_WHEN_SUPPORTED``).

    The constructor takes pysmb's arguments; ``encrypt`` asks for SMB3
    encryption even when the server does not require it; ``rand`` supplies
    random bytes (challenges, GUIDs, nonces) and is injectable for tests;
    ``smb2_only`` starts with an SMB2 NEGOTIATE instead of pysmb's opening
    SMB1 NEGOTIATE (SMB1 is then never offered).
    """

    SIGN_NEVER = SIGN_NEVER
    SIGN_WHEN_SUPPORTED = SIGN_WHEN_SUPPORTED
    SIGN_WHEN_REQUIRED = SIGN_WHEN_REQUIRED

    def __init__(self, username: str, password: Union[str, Callable[[], str]], my_name: str,
                 remote_name: str, domain: str = "", use_ntlm_v2: bool = True,
                 sign_options: int = SIGN_WHEN_REQUIRED, is_direct_tcp: bool = False,
                 encrypt: bool = False, rand: Callable[[int], bytes] = os.urandom,
                 smb2_only: bool = False, allow_guest_fallback: bool = False) -> None:
        NMBSession.__init__(self, my_name or "", remote_name or "", is_direct_tcp=is_direct_tcp)
        #: Accept a guest or anonymous session when an account was asked for (see
        #: :meth:`session_setup_op`); off by default.
        self.allow_guest_fallback = allow_guest_fallback
        self.username = username or ""
        self._password = password
        self.domain = domain or ""
        self.use_ntlm_v2 = use_ntlm_v2
        self.sign_options = sign_options
        self.is_direct_tcp = is_direct_tcp
        self.encrypt = encrypt
        self.smb2_only = smb2_only
        self.rand = rand
        self.server_ip = ""
        #: A reconnect's SESSION_SETUP names the session it replaces ([MS-SMB2] 2.2.5
        #: PreviousSessionId): the server tears that one down, which frees its durable
        #: handles for reclaiming even before it noticed the old connection die.
        self.previous_session_id = 0
        self.reset()

    def reset(self) -> None:
        """Forget all connection state (before a new connection)."""
        self.framer = Framer(netbios=not self.is_direct_tcp)
        #: The dialect family object chosen after NEGOTIATE (None before).
        self.dialect: Any = None
        #: Set when the connection can no longer be trusted.
        self.broken: Optional[BaseException] = None
        self._out: List[Any] = []
        #: Responses that arrived before their operation waited for them: key -> (owner, response).
        self._ready: Dict[int, Tuple[Optional[Operation], Any]] = {}
        self._outstanding: Dict[int, Optional[Operation]] = {}
        self._abandoned: set = set()
        #: Handlers for answers that come after their operation gave up (see on_late_answer).
        self._late: Dict[int, Callable[[Any], None]] = {}
        self._current: Optional[Operation] = None
        #: Operations waiting for SMB2 credits, in arrival order.
        self._credit_waiters: List[Operation] = []
        #: Operations waiting (WaitQuiet) until the abandoned requests are answered.
        self._quiet_waiters: List[Operation] = []
        self._waking = False
        self._auth_op: Optional[Operation] = None
        #: A Kerberos initiator (:class:`smb.krb5.ApInitiator`) for the next
        #: SESSION_SETUP, put here by the driver after the KDC exchanges; None: NTLM.
        self.kerberos: Any = None
        #: Header of the last message received (pysmb's ``smb_message``).
        self.last_header: Any = None
        self.has_authenticated = False
        #: The last logon was refused because the server offered only a guest session.
        self.guest_refused = False

    # -- credentials ---------------------------------------------------
    @property
    def password(self) -> str:
        """The password; a callable given to the constructor is asked each time."""
        pw = self._password
        if callable(pw):
            pw = pw()
        return pw or ""

    # -- pysmb compatibility ---------------------------------------------
    @property
    def isUsingSMB2(self) -> bool:
        """True when the session runs SMB 2.0.2 or later."""
        return bool(self.dialect is not None and self.dialect.is_smb2)

    # -- pysmb's state attributes, as read-only views of ours ---------------------------------
    #: pysmb's logger for this class.
    log = logging.getLogger("SMB.SMB")
    #: smbwire never sends a password in plain text (pysmb's flag, always False).
    use_plaintext_authentication = False
    #: pysmb's progress-bar slot; progress is a per-call option here (``show_progress``).
    pbar = None
    #: pysmb's counter for DCE/RPC call ids; smbwire numbers calls per pipe.
    next_rpc_call_id = 1

    def _dialect_value(self, name: str, default: Any = 0) -> Any:
        return getattr(self.dialect, name, default) if self.dialect is not None else default

    @property
    def is_using_smb2(self) -> bool:
        """True when the session runs SMB 2.0.2 or later (pysmb's attribute)."""
        return self.isUsingSMB2

    @property
    def has_negotiated(self) -> bool:
        """True once NEGOTIATE has completed."""
        d = self.dialect
        return d is not None and (not d.is_smb2 or bool(d.dialect))

    @property
    def is_signing_active(self) -> bool:
        """True when every message of the session is signed."""
        return bool(self._dialect_value("signing_active", False))

    @property
    def capabilities(self) -> int:
        """The server's capabilities from NEGOTIATE."""
        return int(self._dialect_value("server_capabilities"))

    @property
    def security_mode(self) -> int:
        """The server's security mode from NEGOTIATE."""
        return int(self._dialect_value("server_security_mode"))

    @property
    def max_read_size(self) -> int:
        """Largest read per request, as negotiated (0 before NEGOTIATE)."""
        return int(self._dialect_value("max_read"))

    @property
    def max_write_size(self) -> int:
        """Largest write per request, as negotiated (0 before NEGOTIATE)."""
        return int(self._dialect_value("max_write"))

    @property
    def max_transact_size(self) -> int:
        """Largest transaction/IOCTL buffer (SMB2), or the SMB1 buffer size."""
        if self.dialect is not None and not self.dialect.is_smb2:
            return int(self._dialect_value("max_buffer_size"))
        return int(self._dialect_value("max_transact"))

    @property
    def max_buffer_size(self) -> int:
        """SMB1 MaxBufferSize from NEGOTIATE (0 on SMB2)."""
        return int(self._dialect_value("max_buffer_size")) if not self.isUsingSMB2 else 0

    @property
    def max_mpx_count(self) -> int:
        """SMB1 MaxMpxCount from NEGOTIATE (0 on SMB2, where credits rule)."""
        return int(self._dialect_value("max_mpx")) if not self.isUsingSMB2 else 0

    @property
    def max_raw_size(self) -> int:
        """SMB1 MaxRawSize from NEGOTIATE (0 on SMB2)."""
        neg = self._dialect_value("negotiate", None)
        return int(getattr(neg, "max_raw_size", 0) or 0)

    @property
    def session_id(self) -> int:
        """The SMB2 SessionId (0 before SESSION_SETUP, and on SMB1)."""
        session = self._dialect_value("session", None)
        return int(getattr(session, "session_id", 0) or 0)

    @property
    def uid(self) -> int:
        """The SMB1 UID (0 before SESSION_SETUP, and on SMB2)."""
        session = self._dialect_value("session", None)
        return int(getattr(session, "uid", 0) or 0)

    @property
    def mid(self) -> int:
        """The last message id used."""
        return int(self._dialect_value("last_message_id"))

    @property
    def next_signing_id(self) -> int:
        """SMB1: the sequence number the next signed request will carry."""
        return int(self._dialect_value("next_signing_sequence", 2))

    @property
    def signing_session_key(self) -> Optional[bytes]:
        """The key messages are signed with (None while signing is off)."""
        return self._dialect_value("signing_key", None) if self.is_signing_active else None

    @property
    def signing_challenge_response(self) -> Optional[bytes]:
        """SMB1 without extended security: the NT response that is part of
        the MAC key (None otherwise)."""
        return self._dialect_value("signing_challenge_response", None) if self.is_signing_active else None

    @property
    def connected_trees(self) -> Dict[str, int]:
        """Connected shares: name (as first asked for) -> tree id."""
        trees = self._dialect_value("trees", None) or {}
        return {tree.name: int(getattr(tree, "tree_id", getattr(tree, "tid", 0))) for tree in trees.values()}

    @property
    def pending_requests(self) -> Dict[int, Any]:
        """Message ids whose responses are due -> the operation waiting for each."""
        return {key: op for key, op in self._outstanding.items()}

    @property
    def async_requests(self) -> Dict[int, Any]:
        """pysmb kept SMB2 STATUS_PENDING requests here; smbwire keeps them
        in :attr:`pending_requests` (this view is always empty)."""
        return {}

    @property
    def smb_message(self) -> Any:
        """The header of the last message received (None before any)."""
        return self.last_header

    # -- pysmb's callback driver (its "extending" API) -------------------------------------------
    def onNMBSessionOK(self) -> None:
        """The transport is up: start NEGOTIATE and SESSION_SETUP.

        Called by :meth:`feedData` when the server accepts the NetBIOS
        session request; with ``is_direct_tcp`` the subclass calls it once
        connected.
        """
        self._auth_op = self.start(self.connect_op(smb1_first=not self.smb2_only), "connect")
        self._pump()

    def onNMBSessionFailed(self) -> None:
        """The server refused the NetBIOS session request: the logon fails."""
        self.onAuthFailed()

    def onNMBSessionMessage(self, flags: int, data: bytes) -> None:
        """One SMB message from the server: hand it to the core, send what
        it answers, report the end of the logon."""
        try:
            self.receive_frame(memoryview(data))
        finally:
            self._pump()

    def onAuthOK(self) -> None:
        """The logon succeeded (override to start work)."""

    def onAuthFailed(self) -> None:
        """The logon was refused, or the connection failed during it."""

    def _pump(self) -> None:
        for frame in self.frames_to_send():
            self.write(b"".join(frame))
        op = self._auth_op
        if op is not None and op.done:
            self._auth_op = None
            if op.error is None and op.result:
                self.onAuthOK()
            else:
                if op.error is not None:
                    self.log.info("logon failed: %s", op.error)
                self.onAuthFailed()

    # -- output ------------------------------------------------------------
    def queue(self, *pieces: Any) -> None:
        """Queue one complete frame made of ``pieces`` (framing header first)."""
        self._out.append(pieces)

    def frames_to_send(self) -> List[Tuple[Any, ...]]:
        """Return and clear the queued frames, each a tuple of buffers."""
        out, self._out = self._out, []
        return out

    def data_to_send(self) -> List[Any]:
        """Return and clear the buffers to send, in order (frames flattened)."""
        return [piece for frame in self.frames_to_send() for piece in frame]

    # -- message-id bookkeeping (used by the dialect objects) -----------------
    def expect(self, key: int) -> None:
        """Record that a response with ``key`` is due to the running operation."""
        owner = self._current
        self._outstanding[key] = owner
        if owner is not None:
            owner.keys.add(key)
        self._abandoned.discard(key)

    def is_expected(self, key: int) -> bool:
        """True while a response with ``key`` is due."""
        return key in self._outstanding

    def is_known(self, key: int) -> bool:
        """True when ``key`` was sent and its final response has not arrived
        (whether or not anyone still waits for it)."""
        return key in self._outstanding or key in self._abandoned

    def on_late_answer(self, key: int, handler: Callable[[Any], None]) -> None:
        """When the answer to ``key`` (whose operation gave up) arrives, call
        ``handler(response)`` before dropping it: a CREATE answered after its
        operation was abandoned opened a file nobody holds, and the handler closes it."""
        if key in self._abandoned:
            self._late[key] = handler

    def drop_answer(self, key: int) -> None:
        """Nobody waits for the answer to ``key`` (a request sent from a late-answer
        handler): drop it when it arrives."""
        owner = self._outstanding.pop(key, None)
        if owner is not None:
            owner.keys.discard(key)
        self._abandoned.add(key)

    # -- running operations ----------------------------------------------------
    def start(self, gen: OpGen, name: str = "") -> Operation:
        """Start an operation generator; returns its :class:`Operation`."""
        if self.broken is not None:
            raise NotConnectedError("connection is broken: %s" % (self.broken,))
        op = Operation(gen, name)
        self._advance(op, None, None)
        self._settle()
        return op

    def abandon(self, op: Operation) -> None:
        """Give up on an operation (its deadline passed, or the caller stopped).

        Responses still due to it are dropped when they arrive.  The generator
        gets :class:`SMBTimeout` thrown in, so its ``finally`` clauses run; a
        cleanup request they send (e.g. CLOSE of the open file) goes out with
        the next operation and is answered in the background.
        """
        op.waiting = None
        self._forget(op)
        if op.done:
            return
        if self.broken is not None:
            self._kill(op, NotConnectedError("connection is broken: %s" % (self.broken,)))
        else:
            self._advance(op, None, SMBTimeout("operation abandoned"))
        self._settle()

    def _kill(self, op: Operation, exc: BaseException) -> None:
        """End an operation on a dead connection: ``exc`` is thrown in until the
        generator finishes, so cleanup code that would send requests gives up."""
        op.waiting = None
        for _ in range(32):
            if op.done:
                break
            try:
                op.gen.throw(exc)
            except StopIteration as stop:
                op.done, op.result = True, stop.value
            except BaseException as err:  # noqa: BLE001 - the operation is over either way
                op.done, op.error = True, err
        op.done = True
        self._forget(op)
        self.op_finished(op)

    def op_finished(self, op: Operation) -> None:
        """Hook: ``op`` just ended (a driver wakes whoever waits for it)."""

    def _forget(self, op: Operation) -> None:
        """Drop every response due to ``op`` that it is not waiting for now."""
        if op.credit_need:
            self._unqueue(op)
        if op in self._quiet_waiters:
            self._quiet_waiters.remove(op)
        if not op.keys:
            return
        waiting = op.waiting or ()
        given_up = []
        for key in list(op.keys):
            if key in self._ready:
                del self._ready[key]
            elif key in waiting:
                continue
            elif self._outstanding.get(key) is op:
                del self._outstanding[key]
                self._abandoned.add(key)
                given_up.append(key)
            op.keys.discard(key)
        if given_up and self.dialect is not None:
            cancel = getattr(self.dialect, "cancel_pending", None)
            if cancel is not None:
                cancel(given_up)

    def _advance(self, op: Operation, value: Any, exc: Optional[BaseException]) -> None:
        prev, self._current = self._current, op
        try:
            while True:
                try:
                    if exc is not None:
                        request = op.gen.throw(exc)
                    else:
                        request = op.gen.send(value)
                except StopIteration as stop:
                    op.done, op.result = True, stop.value
                    self._forget(op)
                    self.op_finished(op)
                    return
                except BaseException as err:  # noqa: BLE001 - handed to the caller via outcome()
                    op.done, op.error = True, err
                    self._forget(op)
                    self.op_finished(op)
                    # A response body that does not decode fails only this
                    # operation; anything else wrong with the protocol (bad
                    # signature, failed downgrade check, ...) ends the connection.
                    if isinstance(err, ProtocolError) and not isinstance(err, MalformedResponse):
                        self.mark_broken(err)
                    return
                exc = None
                if isinstance(request, WaitCredits):
                    credits = self.dialect.credits
                    need = max(1, request.charge)
                    if not self._credit_waiters and credits.has(need):
                        value = None
                        continue
                    if not credits.has(need) and not self._requests_in_flight():
                        exc = ProtocolError("the server granted no credits (%d needed, %d left)"
                                            % (need, credits.available))
                        continue
                    # Behind the others: the queue is woken after every
                    # response and at the end of start()/abandon().
                    op.credit_need = need
                    self._credit_waiters.append(op)
                    credits.queued += 1
                    return
                if isinstance(request, WaitQuiet):
                    if not self._abandoned:
                        value = None
                        continue
                    self._quiet_waiters.append(op)
                    return
                if isinstance(request, WaitAny):
                    keys = request.keys
                    if not keys:
                        raise ValueError("operation %s waits for nothing" % op.name)
                    ready = self._ready
                    hit = next((key for key in ready if key in keys), None) if ready else None
                    if hit is not None:
                        value = (hit, self._take_ready(hit))
                        continue
                    op.waiting, op.any_wait = keys, True
                    return
                if request in self._ready:
                    value = self._take_ready(request)
                    continue
                if request not in self._outstanding:
                    raise ProtocolError("operation %s waits for message %d that was never sent"
                                        % (op.name, request))
                op.waiting, op.any_wait = (request,), False
                return
        finally:
            self._current = prev

    def _take_ready(self, key: int) -> Any:
        owner, response = self._ready.pop(key)
        if owner is not None:
            owner.keys.discard(key)
        return response

    def deliver(self, key: int, response: Any, copy: Callable[[Any], Any]) -> None:
        """Hand the response for ``key`` to whoever waits for it.

        ``copy`` makes a response independent of the receive buffer; it is
        used only when its operation does not wait for it yet (the buffer will
        be reused).
        """
        try:
            owner = self._outstanding.pop(key)
        except KeyError:
            if key in self._abandoned:
                self._abandoned.discard(key)
                handler = self._late.pop(key, None)
                if handler is not None:
                    handler(response)
                log.debug("dropping late response to abandoned message %d", key)
                if not self._abandoned and self._quiet_waiters:
                    waiters, self._quiet_waiters = self._quiet_waiters, []
                    for op in waiters:
                        if not op.done:
                            self._advance(op, None, None)
                return
            raise ProtocolError("response to message %d that was never sent (or already answered)"
                                % key) from None
        if owner is not None and owner.waiting is not None and key in owner.waiting:
            owner.waiting = None
            owner.keys.discard(key)
            self._advance(owner, (key, response) if owner.any_wait else response, None)
        else:
            self._ready[key] = (owner, copy(response))

    def _requests_in_flight(self) -> bool:
        """True while some request (even an abandoned one) awaits its response."""
        return bool(self._outstanding or self._abandoned)

    def _unqueue(self, op: Operation) -> None:
        if op in self._credit_waiters:
            self._credit_waiters.remove(op)
            self.dialect.credits.queued -= 1
        op.credit_need = 0

    def wake_credit_waiters(self) -> None:
        """Resume the operations queued for credits, in order, as far as the
        credits go (called after every response).

        While requests are in flight the queue is strictly first come, first
        served.  With nothing in flight no response will bring credits, so the
        first waiter that fits goes (its response may bring more); when none
        fits, the head fails with :class:`ProtocolError`.
        """
        if self._waking:
            return
        self._waking = True
        try:
            waiters = self._credit_waiters
            while waiters:
                credits = self.dialect.credits
                op = waiters[0]
                if not credits.has(op.credit_need):
                    if self._requests_in_flight():
                        return
                    op = next((w for w in waiters if credits.has(w.credit_need)), op)
                if credits.has(op.credit_need):
                    self._unqueue(op)
                    self._advance(op, None, None)
                    continue
                self._unqueue(op)
                self._advance(op, None, ProtocolError("the server granted no credits (%d needed, %d left)"
                                                      % (op.credit_need, credits.available)))
        finally:
            self._waking = False

    def _settle(self) -> None:
        """Wake the credit queue if an entry point left it waiting."""
        if self._credit_waiters and self.dialect is not None:
            self.wake_credit_waiters()

    def _waiting_ops(self) -> List[Operation]:
        seen: Dict[int, Operation] = {}
        for owner in self._outstanding.values():
            if owner is not None and owner.waiting is not None and not owner.done:
                seen[id(owner)] = owner
        for op in self._credit_waiters + self._quiet_waiters:
            seen[id(op)] = op
        return list(seen.values())

    def fail_all(self, err: BaseException) -> None:
        """Throw ``err`` into every waiting operation (the connection died)."""
        for op in self._waiting_ops():
            op.waiting = None
            if op.credit_need:
                self._unqueue(op)
            if op in self._quiet_waiters:
                self._quiet_waiters.remove(op)
            self._advance(op, None, err)

    def mark_broken(self, err: BaseException) -> None:
        """The connection can no longer be trusted: end every waiting operation."""
        if self.broken is None:
            self.broken = err
        dead = NotConnectedError("connection is broken: %s" % (err,))
        for op in self._waiting_ops():
            if op is not self._current:
                self._kill(op, dead)

    # -- input ------------------------------------------------------------------
    def receive_frame(self, frame: memoryview) -> None:
        """Process one SMB frame (the framing header already removed).

        ``frame`` may be a view of a buffer the driver reuses after this
        call returns; everything that must survive is copied first.
        """
        if self.broken is not None:
            raise NotConnectedError("connection is broken: %s" % (self.broken,))
        try:
            if self.dialect is None:
                raise ProtocolError("unexpected data before NEGOTIATE")
            self.dialect.receive(frame)
            if self._credit_waiters:
                self.wake_credit_waiters()
        except ProtocolError as err:
            if err.smb_message is None and self.last_header is not None:
                err.smb_message = self._message_for_error(frame)
            self.mark_broken(err)
            raise

    def _message_for_error(self, frame: memoryview) -> Any:
        """The frame that broke the protocol, as a message object with
        pysmb's fields (for ``ProtocolError.smb_message``)."""
        header, copy = self.last_header, memoryview(bytes(frame))
        if self.isUsingSMB2 and hasattr(header, "message_id"):
            from ._smb2_ops import Smb2Response
            return Smb2Response(header, copy, False)
        if hasattr(header, "mid"):
            from ._smb1_ops import Smb1Response
            return Smb1Response(header, copy)
        return None

    def receive_data(self, data: bytes) -> None:
        """Stream-mode input: arbitrary chunks of received bytes."""
        self.framer.feed(data)
        while True:
            item = self.framer.next_frame()
            if item is None:
                return
            packet_type, payload = item
            if packet_type == 0:
                self.receive_frame(memoryview(payload))

    # -- the connection sequence ---------------------------------------------------
    def negotiate_op(self, smb1_first: bool = True) -> OpGen:
        """NEGOTIATE.

        With ``smb1_first`` (pysmb's way) the first request is an SMB1
        NEGOTIATE that also offers SMB2 (unless ``smb_structs.SUPPORT_SMB2`` is
        False), so SMB1-only servers are served over SMB1.  Without it the
        first request is an SMB2 NEGOTIATE offering 2.0.2 to 3.1.1: one round
        trip less, and SMB1 is never offered.
        """
        from . import smb_structs
        from ._smb2_ops import Smb2Dialect
        smb2 = Smb2Dialect(self)
        self.dialect = smb2
        if not smb1_first:
            if not smb_structs.SUPPORT_SMB2:
                raise UnsupportedFeature("an SMB2 NEGOTIATE was asked for, but smb_structs.SUPPORT_SMB2 is False")
            yield from smb2.negotiate()
            return
        dialects = ["NT LM 0.12"]
        if smb_structs.SUPPORT_SMB2:
            dialects += ["SMB 2.002", "SMB 2.???"]
        request = smb_structs.build_negotiate_request(dialects, smb_structs.SUPPORT_EXTENDED_SECURITY,
                                                      pid=os.getpid() & 0xFFFF)
        smb1_response = yield from smb2.negotiate_smb1_first(request)
        if smb1_response is not None:
            from ._smb1_ops import Smb1Dialect
            self.dialect = Smb1Dialect(self, smb1_response)

    def session_setup_op(self) -> OpGen:
        """SESSION_SETUP after NEGOTIATE.  Returns False for a refused logon."""
        if self.dialect is None:
            raise NotReadyError("NEGOTIATE first")
        ok = yield from self.dialect.session_setup()
        if ok and self.isGuest and self.asked_for_account and not self.allow_guest_fallback:
            # The server logged us on as guest (or anonymously) instead of as the account we
            # named (Samba's "map to guest = bad user", Windows' guest fallback): not what was
            # asked for, and a guest session has no signing key.  Refused like a bad password.
            self.log.warning("the server gave a guest session instead of logging %r on: refused (pass "
                             "allow_guest_fallback=True to accept one)", self.username)
            self.guest_refused = True
            return False
        return ok

    @property
    def isGuest(self) -> bool:
        """True when the session is a guest or anonymous one (SMB2 SESSION_FLAG_IS_GUEST
        or IS_NULL, SMB1 Action bit 0, or an empty user name)."""
        return bool(self.dialect is not None and getattr(self.dialect.session, "is_guest", False))

    @property
    def asked_for_account(self) -> bool:
        """An account was named: a user name other than '' and ``guest``."""
        return bool(self.username) and self.username.lower() != "guest"

    def connect_op(self, smb1_first: bool = True) -> OpGen:
        """NEGOTIATE (see :meth:`negotiate_op`), then SESSION_SETUP.  Returns
        False for a refused logon."""
        yield from self.negotiate_op(smb1_first)
        ok = yield from self.session_setup_op()
        return ok


class ServerMemory:
    """What earlier connections learnt about servers, keyed by (host, port).

    For now one fact: the server ignores (or hangs up on) SMB1 frames, so the
    next connection starts with an SMB2 NEGOTIATE.  Bounded: the oldest entry
    goes when ``limit`` is reached.
    """

    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self._smb2_only: Dict[Tuple[str, int], None] = {}

    def ignores_smb1(self, host: str, port: int) -> bool:
        return (host, port) in self._smb2_only

    def remember_ignores_smb1(self, host: str, port: int) -> None:
        key = (host, port)
        self._smb2_only.pop(key, None)
        while len(self._smb2_only) >= self.limit:
            self._smb2_only.pop(next(iter(self._smb2_only)))
        self._smb2_only[key] = None

    def forget(self) -> None:
        self._smb2_only.clear()


#: Shared by every connection of the process.
SERVER_MEMORY = ServerMemory()


def smb1_probe_seconds(timeout: float) -> float:
    """How long connect() waits for an answer to the opening SMB1 NEGOTIATE
    before it tries an SMB2 NEGOTIATE on a new connection: a short part of
    the whole deadline (1 to 5 seconds)."""
    return max(1.0, min(5.0, timeout / 4.0))


# -- pysmb's star-imported names (see smb._reexport) ----------------------------------------------
_PYSMB_SOURCES = ('smb.smb_structs', 'smb.smb2_structs', 'smb.utils', 'smb.security_descriptors')
__all__ = _reexport.star_all(__all__, ['smb.smb_structs', 'smb.smb2_structs', 'smb.utils', 'smb.security_descriptors'])
__getattr__ = _reexport.finder(__name__, _PYSMB_SOURCES)


def __dir__() -> List[str]:
    return _reexport.public_names(__name__)
