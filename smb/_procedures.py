"""Every public SMB call, written once for all drivers, as a *procedure*.

An operation generator (:mod:`smb._smb2_ops`, :mod:`smb._smb1_ops`) is one exchange
with the server: it yields message ids and gets responses.  A public call is often
more than one: connect tries SMB1 and then SMB2, logs on with Kerberos and then
NTLM; a path behind a DFS link is asked for a referral and the call runs again
at the target; makeDirs creates the parents it finds missing.  Those decisions
are written here, once, as generators that yield *requests* to their driver:

* :class:`Call` runs one operation generator on a connection and returns its result
  (or raises its error into the procedure);
* :class:`Dial`, :class:`HangUp`, :class:`SendRaw`, :class:`ReadPacket` open and
  close the transport and do the NetBIOS session exchange before the first frame;
* :class:`Offload` runs blocking helper work (the KDC exchanges, reading krb5.conf):
  inline for the blocking driver, in a worker thread for the asyncio one;
* :class:`FileIO` calls a method of a user's file object, awaiting it when it is a
  coroutine (an async file object);
* :class:`Peer` asks for a connection to a DFS target server, :class:`OpenFile` for
  a file object of the driver's kind, :class:`Sleep` for a pause (between reconnect
  attempts), :class:`Emit` hands one item to the caller of an iterating call
  (iterPath, walk).

The blocking driver (:class:`smb.SMBConnection.SMBConnection`) serves the requests
in the calling thread, the asyncio driver (:class:`smb.aio.SMBConnection`) in the
calling task.  Nothing here touches a socket, a thread or the event loop.
"""
from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import os
import time
from typing import Any, Callable, Dict, Generator, List, Optional, Tuple, TypeVar, Union

from . import dfs, krb5_kdc
from . import smb_constants as C
from . import smb_structs
from ._common_ops import file_error
from .base import SERVER_MEMORY, SIGN_WHEN_REQUIRED, SMB, OpGen, SharedDevice, SharedFile, normalize_path, \
    smb1_probe_seconds
from .dfs import ReferralCache, ReferralResponse
from .exceptions import KerberosError, MalformedResponse, NotConnectedError, NotReadyError, OperationFailure, \
    ProtocolError, SMBTimeout
from .nt_status import NtStatus
from ._smb2_ops import SMALL_IO
from .utils import convertEpochToFILETIME

T = TypeVar("T")
#: A procedure: yields requests, gets their results, returns the call's result.
Proc = Generator[Any, Any, T]

log = logging.getLogger("SMB.SMBConnection")

#: The default ``search`` mask of ``listPath`` (pysmb's).
DEFAULT_SEARCH = (C.SMB_FILE_ATTRIBUTE_READONLY | C.SMB_FILE_ATTRIBUTE_HIDDEN | C.SMB_FILE_ATTRIBUTE_SYSTEM
                  | C.SMB_FILE_ATTRIBUTE_DIRECTORY | C.SMB_FILE_ATTRIBUTE_ARCHIVE
                  | C.SMB_FILE_ATTRIBUTE_INCL_NORMAL)
#: Every entry, whatever its attributes (what walk and deleteTree list).
EVERYTHING = 0xFFFFFFFF | C.SMB_FILE_ATTRIBUTE_INCL_NORMAL
#: Statuses that mean "no such file or folder" (or a folder on the way is missing / a file).
NOT_FOUND = frozenset({NtStatus.OBJECT_NAME_NOT_FOUND, NtStatus.OBJECT_PATH_NOT_FOUND, NtStatus.NO_SUCH_FILE,
                       NtStatus.NOT_A_DIRECTORY})
#: Most referrals one call follows (a link pointing back at itself is a loop).
DFS_MAX_HOPS = 8
#: Referrals followed so far by the call running in this thread or task.
_DFS_HOPS: "contextvars.ContextVar[int]" = contextvars.ContextVar("smbwire_dfs_hops", default=0)
#: Bytes per READ or WRITE round of a transfer to or from an async file object.
ASYNC_FILE_CHUNK = 4 * 1024 * 1024


# ---------------------------------------------------------------------------------- requests
class Call:
    """Run operation ``gen`` on ``conn`` within ``timeout`` seconds; the result is its outcome."""

    __slots__ = ("conn", "gen", "timeout", "name")

    def __init__(self, conn: Any, gen: OpGen, timeout: float, name: str) -> None:
        self.conn, self.gen, self.timeout, self.name = conn, gen, timeout, name


class Dial:
    """Open the transport of ``conn`` to ``ip:port`` before ``deadline``; with ``fresh``
    the core's state is reset first (a new connection), else only the socket is
    replaced (a NetBIOS retarget or fallback)."""

    __slots__ = ("conn", "ip", "port", "family", "deadline", "fresh")

    def __init__(self, conn: Any, ip: str, port: int, family: Optional[int], deadline: float,
                 fresh: bool = True) -> None:
        self.conn, self.ip, self.port, self.family, self.deadline, self.fresh = conn, ip, port, family, deadline, fresh


class HangUp:
    """Close the transport of ``conn`` and forget its logon."""

    __slots__ = ("conn",)

    def __init__(self, conn: Any) -> None:
        self.conn = conn


class SendRaw:
    """Send ``data`` as is (before the first SMB frame: the NetBIOS session request)."""

    __slots__ = ("conn", "data", "deadline")

    def __init__(self, conn: Any, data: bytes, deadline: float) -> None:
        self.conn, self.data, self.deadline = conn, data, deadline


class ReadPacket:
    """Read one NetBIOS session packet; the result is ``(type, payload)``."""

    __slots__ = ("conn", "deadline")

    def __init__(self, conn: Any, deadline: float) -> None:
        self.conn, self.deadline = conn, deadline


class Offload:
    """Blocking helper work: the result is ``fn(*args)``."""

    __slots__ = ("fn", "args")

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.fn, self.args = fn, args


class FileIO:
    """``getattr(file_obj, method)(arg)``, awaited when it returns an awaitable."""

    __slots__ = ("file_obj", "method", "arg")

    def __init__(self, file_obj: Any, method: str, arg: Any) -> None:
        self.file_obj, self.method, self.arg = file_obj, method, arg


class Peer:
    """A logged-on connection of the driver's kind to DFS target ``server``
    (``conn`` itself when it is that server)."""

    __slots__ = ("conn", "server")

    def __init__(self, conn: Any, server: str) -> None:
        self.conn, self.server = conn, server


class OpenFile:
    """A file object of the driver's kind for ``path`` on ``conn`` (see ``openFile``)."""

    __slots__ = ("conn", "args")

    def __init__(self, conn: Any, *args: Any) -> None:
        self.conn, self.args = conn, args


class Sleep:
    """Wait ``seconds`` (a pause between reconnect attempts)."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Emit:
    """One item for the caller of an iterating call; the result is None."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Runner:
    """Where a procedure is: :meth:`next` gives its next request (None once it has
    returned: :attr:`result`); the driver sets :attr:`value` or :attr:`error` to the
    answer before asking for the next one."""

    __slots__ = ("proc", "value", "error", "result")

    def __init__(self, proc: Proc[Any], error: Optional[BaseException] = None) -> None:
        self.proc = proc
        self.value: Any = None
        self.error = error
        self.result: Any = None

    def next(self) -> Any:
        try:
            req = self.proc.send(self.value) if self.error is None else self.proc.throw(self.error)
        except StopIteration as stop:
            self.result = stop.value
            return None
        self.value = self.error = None
        return req


class Closing(Exception):
    """Thrown into an iterating procedure whose caller stopped iterating: it cleans
    up (its requests are still served) and lets this propagate."""


# ---------------------------------------------------------------------------------- helpers
_SHARE_ALL = C.FILE_SHARE_READ | C.FILE_SHARE_WRITE | C.FILE_SHARE_DELETE
#: Seconds a durable handle is asked for again after a reconnect while the server still
#: holds it for the old connection.
RECLAIM_PATIENCE = 3.0


def position(file_obj: Any) -> Optional[int]:
    try:
        return int(file_obj.tell()) if file_obj is not None else None
    except (AttributeError, OSError, ValueError, TypeError):
        return None


def rewind(file_obj: Any, where: int) -> bool:
    try:
        return not inspect.isawaitable(file_obj.seek(where))
    except (AttributeError, OSError, ValueError):
        return False


def remaining_size(file_obj: Any) -> Optional[int]:
    try:
        pos = file_obj.tell()
        end = file_obj.seek(0, os.SEEK_END)
        file_obj.seek(pos)
        return max(0, end - pos)
    except (AttributeError, OSError, ValueError, TypeError):
        return None


def is_async_file(file_obj: Any, method: str) -> bool:
    """True when ``file_obj.<method>`` is a coroutine function (an async file object)."""
    return inspect.iscoroutinefunction(getattr(file_obj, method, None))


def byte_bar(show: bool, total: Optional[int], desc: str, **options: Any) -> Any:
    """A tqdm bar counting bytes when ``show`` and tqdm is installed (the ``progress``
    extra), else None (with a warning when it was asked for)."""
    if not show:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        log.warning("show_progress=True needs tqdm (pip install smbwire[progress])")
        return None
    kwargs = {"total": total, "unit": "B", "unit_scale": True, "unit_divisor": 1024, "desc": desc}
    kwargs.update(options)
    return tqdm(**kwargs)


class Progress:
    """tqdm (imported lazily, optional) and/or a ``progress(done, total)`` callback."""

    def __init__(self, name: str, total: Optional[int], show: bool, tqdm_kwargs: Optional[Dict[str, Any]],
                 callback: Optional[Callable[[int, int], None]]) -> None:
        self.total = total
        self.done = 0
        self.callback = callback
        self.bar: Any = byte_bar(show, total, name.rsplit("\\", 1)[-1], **(tqdm_kwargs or {}))
        self.update: Optional[Callable[[int], None]] = (self._update if (self.bar is not None or callback is not None)
                                                        else None)

    def set_total(self, total: int) -> None:
        """The size became known once the operation started."""
        self.total = total
        if self.bar is not None:
            self.bar.total = total
            self.bar.refresh()

    def rewind_to(self, done: int) -> None:
        """A resumed transfer goes on from ``done`` bytes: what was sent again is not counted twice."""
        if self.bar is not None:
            self.bar.n = done
            self.bar.refresh()
        self.done = done

    def _update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        if self.callback is not None:
            self.callback(self.done, self.total if self.total is not None else -1)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.close()


class _Counting:
    """A file object's ``write``, counting the bytes written (the core writes in file order)."""

    __slots__ = ("file_obj", "count")

    def __init__(self, file_obj: Any) -> None:
        self.file_obj = file_obj
        self.count = 0

    def write(self, data: Any) -> Any:
        written = self.file_obj.write(data)
        self.count += len(data)
        return written


class _Confirmed:
    """The end of the bytes from ``start`` the server confirmed without a gap, from WRITE
    answers that may come in any order."""

    __slots__ = ("end", "_spans")

    def __init__(self, start: int) -> None:
        self.end = start
        self._spans: Dict[int, int] = {}  # start -> end of confirmed spans beyond self.end

    def add(self, offset: int, count: int) -> None:
        if count <= 0 or offset + count <= self.end:
            return
        self._spans[offset] = max(self._spans.get(offset, offset), offset + count)
        while self.end in self._spans:
            self.end = self._spans.pop(self.end)


def follows_dfs(proc: Callable[..., Proc[T]]) -> Callable[..., Proc[T]]:
    """Run procedure ``proc(self, service_name, path, ...)``; when the server answers
    STATUS_PATH_NOT_COVERED (the path crosses a DFS link), ask it for a referral and
    run the same procedure at the target: this connection (another share) or one to
    the target server, each target in turn until one is reachable ([MS-DFSC]
    3.1.5.4).  STATUS_BAD_NETWORK_NAME (no such share) asks for a root referral too:
    the share may be a domain-based namespace the server (a DC) does not host
    ([MS-DFSC] 3.1.4.1); when the server has no referral for it, the original error
    is raised."""

    @functools.wraps(proc)
    def wrapper(self: "ClientBase", service_name: str, path: str, *args: Any, **kwargs: Any) -> Proc[T]:
        name = proc.__name__
        file_obj = args[0] if args and hasattr(args[0], "read" if "store" in name else "write") \
            else kwargs.get("file_obj")
        start = position(file_obj)
        try:
            return (yield from proc(self, service_name, path, *args, **kwargs))
        except OperationFailure as err:
            if not self._dfs_redirects(err):
                raise
            cause = err
            # A store may have read its first chunk before the server said "not here":
            # the target must get the data from the start again.
            if file_obj is not None and position(file_obj) != start:
                if start is None or not rewind(file_obj, start):
                    raise OperationFailure("%s: the path is behind a DFS link and the file object cannot be "
                                           "rewound to retry at the target" % name.lstrip("_"), err.smb_messages,
                                           err.status) from err
        return (yield from self._dfs_each_target(
            service_name, path, float(kwargs.get("timeout", 30)),
            lambda conn, share, rest: getattr(conn, name)(share, rest, *args, **kwargs), cause))

    return wrapper


# ---------------------------------------------------------------------------------- the procedures
class ClientBase(SMB):
    """What the blocking and the asyncio SMB connections share: the constructor,
    and every public call as a procedure (named ``_p_<publicName>``).  A driver
    subclass serves the requests and exposes each procedure under its public name.
    """

    log = log

    # The public calls: each driver installs them from the procedures below (see install()).
    connect: Callable[..., Any]
    echo: Callable[..., Any]
    listShares: Callable[..., Any]
    listPath: Callable[..., Any]
    listSnapshots: Callable[..., Any]
    getAttributes: Callable[..., Any]
    getSecurity: Callable[..., Any]
    createDirectory: Callable[..., Any]
    deleteDirectory: Callable[..., Any]
    deleteFiles: Callable[..., Any]
    deleteFile: Callable[..., Any]
    resetFileAttributes: Callable[..., Any]
    setLastWriteTime: Callable[..., Any]
    setTimes: Callable[..., Any]
    retrieveFile: Callable[..., Any]
    retrieveFileFromOffset: Callable[..., Any]
    storeFile: Callable[..., Any]
    storeFileFromOffset: Callable[..., Any]
    copyFile: Callable[..., Any]
    exists: Callable[..., Any]
    isFile: Callable[..., Any]
    isDirectory: Callable[..., Any]
    makeDirs: Callable[..., Any]
    deleteTree: Callable[..., Any]
    rename: Callable[..., Any]
    resolveDfsPath: Callable[..., Any]
    getDfsReferral: Callable[..., Any]
    getDfsDomains: Callable[..., Any]
    getDfsDomainControllers: Callable[..., Any]
    iterPath: Callable[..., Any]
    walk: Callable[..., Any]
    openFile: Callable[..., Any]

    _referral_cache_type: Callable[[], ReferralCache] = ReferralCache

    def _init_driver(self) -> None:
        """The driver's own state, set up before the core's (a driver overrides this)."""

    def __init__(self, username: str, password: Union[str, Callable[[], str]], my_name: str, remote_name: str,
                 domain: str = "", use_ntlm_v2: bool = True, sign_options: int = SIGN_WHEN_REQUIRED,
                 is_direct_tcp: bool = False, encrypt: bool = False, smb2_only: bool = False,
                 use_kerberos: bool = False, auth: Optional[str] = None, kdc: Any = None,
                 kerberos_ccache: Optional[str] = None, keytab: Optional[str] = None,
                 service_principal: Optional[str] = None, krb5_conf: Optional[str] = None,
                 kerberos_etypes: Optional[Tuple[int, ...]] = None, save_ccache: Optional[str] = None,
                 dfs: bool = True, allow_guest_fallback: bool = False, auto_reconnect: bool = False,
                 max_retries: int = 3, keepalive: Optional[float] = None) -> None:
        self._init_driver()
        super().__init__(username, password, my_name, remote_name, domain, use_ntlm_v2, sign_options,
                         is_direct_tcp, encrypt, smb2_only=smb2_only, allow_guest_fallback=allow_guest_fallback)
        if use_kerberos and auth not in (None, krb5_kdc.AUTH_KERBEROS):
            raise ValueError("use_kerberos=True contradicts auth=%r" % auth)
        #: Kerberos settings and the tickets this connection got (see docs/kerberos.rst).
        self.kerberos_settings = krb5_kdc.KerberosSettings(
            krb5_kdc.AUTH_KERBEROS if use_kerberos else auth, self.username, self.domain, kdc,
            kerberos_ccache, keytab, service_principal, krb5_conf, kerberos_etypes, save_ccache)
        #: Follow DFS referrals (STATUS_PATH_NOT_COVERED); False reports them as errors.
        self.dfs = dfs
        self._dfs_cache: ReferralCache = self._referral_cache_type()
        self._dfs_peers: Dict[Tuple[str, int], Any] = {}
        self._port = 0
        #: pysmb's logon outcome: None before connect() finished, then True or False.
        self.auth_result: Optional[bool] = None
        #: Reconnect and resume a retrieve or store whose connection dropped (see docs/faults.rst).
        self.auto_reconnect = auto_reconnect
        #: Reconnects one call may make before its NotConnectedError is raised.
        self.max_retries = max(0, int(max_retries))
        #: Reconnects made so far (each one a new transport, NEGOTIATE and logon).
        self.reconnects = 0
        #: Durable handles the server gave back after a reconnect (SMB2 DHnC/DH2C).
        self.durable_reopens = 0
        self._family: Optional[int] = None
        #: Seconds of silence after which an ECHO checks the link (None: never).
        self.keepalive = float(keepalive) if keepalive else None
        #: When the last frame came in (monotonic clock); the drivers keep it.
        self._last_heard = 0.0

    # -- what a driver supplies ------------------------------------------------------------
    def _heard_anything(self) -> bool:
        """True once any byte of a frame has come in on this connection."""
        raise NotImplementedError

    def _transport_open(self) -> bool:
        raise NotImplementedError

    def _dialect_ops(self) -> Any:
        if not self._transport_open():
            raise NotConnectedError("not connected; call connect() first")
        if self.dialect is None or not self.has_authenticated:
            raise NotReadyError("not connected and logged on; call connect() first")
        return self.dialect

    def onAuthOK(self) -> None:
        """The logon succeeded (pysmb's hook; sets :attr:`auth_result`)."""
        self.auth_result = True

    def onAuthFailed(self) -> None:
        """The logon was refused (pysmb's hook; sets :attr:`auth_result`)."""
        self.auth_result = False

    def _queue_logoff(self) -> None:
        """Closing: queue a LOGOFF whose answer nobody waits for (the server ends the
        session with it or, if it is lost, with the connection).  Never raises."""
        if self.broken is not None or self.dialect is None or not self.has_authenticated:
            return
        try:
            op = self.start(self.dialect.logoff(), "logoff")
            if not op.done:
                self.abandon(op)
        except Exception as err:  # noqa: BLE001 - closing must not fail
            self.log.debug("logoff failed while closing: %s", err)

    # -- serving a procedure's requests -------------------------------------------------------
    def _serve(self, req: Any) -> Any:
        """Carry out one request of a procedure with the driver's primitives (``_call``,
        ``_dial``, ...); the result, or an awaitable of it (asyncio, Twisted)."""
        kind = type(req)
        if kind is Call:
            return req.conn._call(req.gen, req.timeout, req.name)
        if kind is FileIO:
            return getattr(req.file_obj, req.method)(req.arg)
        if kind is Offload:
            return self._offload(req.fn, *req.args)
        if kind is Dial:
            return req.conn._dial(req.ip, req.port, req.family, req.deadline, req.fresh)
        if kind is HangUp:
            return req.conn._hang_up()
        if kind is SendRaw:
            return req.conn._send_raw(req.data, req.deadline)
        if kind is ReadPacket:
            return req.conn._read_packet(req.deadline)
        if kind is Peer:
            return req.conn._dfs_peer(req.server)
        if kind is OpenFile:
            return req.conn._open_file(*req.args)
        if kind is Sleep:
            return self._sleep(req.seconds)
        raise TypeError("a procedure asked for %r here" % (req,))

    def _call(self, gen: OpGen, timeout: float, name: str) -> Any:
        raise NotImplementedError

    def _start_checked(self, gen: OpGen, name: str) -> Any:
        """Start ``gen`` in the core, or close it and raise when there is no usable
        connection (the blocking driver calls this with its lock held)."""
        if not self._transport_open():
            gen.close()
            raise NotConnectedError("not connected; call connect() first")
        if self.broken is not None:
            gen.close()
            raise NotConnectedError("connection is broken (%s); reconnect" % (self.broken,))
        return self.start(gen, name)

    def _offload(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    def _dial(self, ip: str, port: int, family: Optional[int], deadline: float, fresh: bool) -> Any:
        raise NotImplementedError

    def _hang_up(self) -> Any:
        raise NotImplementedError

    def _send_raw(self, data: bytes, deadline: float) -> Any:
        raise NotImplementedError

    def _read_packet(self, deadline: float) -> Any:
        raise NotImplementedError

    def _dfs_peer(self, server: str) -> Any:
        raise NotImplementedError

    def _open_file(self, *args: Any) -> Any:
        raise NotImplementedError

    def _sleep(self, seconds: float) -> Any:
        raise NotImplementedError

    # -- connect -----------------------------------------------------------------------------
    def _p_connect(self, ip: str, port: int = 139, sock_family: Optional[int] = None,
                   timeout: float = 60) -> Proc[bool]:
        """Connect, negotiate and log on.

        Returns True when logged on and False when the server refused the
        credentials (wrong password, unknown user, disabled/expired/locked
        account, or only a guest session offered).  Raises for everything else
        (unreachable server, protocol errors, :class:`SMBTimeout`).
        """
        if self._transport_open():
            yield HangUp(self)
        return (yield from self._connect(ip, port, sock_family, timeout))

    def _connect(self, ip: str, port: int, sock_family: Optional[int], timeout: float) -> Proc[bool]:
        """connect() but for closing the old transport first: a driver whose transport
        was opened for it (Twisted's ``connectTCP``) starts here, its first Dial
        taking that transport."""
        self.auth_result = None
        self._family = sock_family
        deadline = time.monotonic() + timeout
        smb1_first = not self.smb2_only and not (smb_structs.SUPPORT_SMB2 and SERVER_MEMORY.ignores_smb1(ip, port))
        try:
            yield from self._open_transport(ip, port, sock_family, deadline)
            if smb1_first and smb_structs.SUPPORT_SMB2:
                probe = min(deadline, time.monotonic() + smb1_probe_seconds(timeout))
                try:
                    yield Call(self, self.negotiate_op(True), probe - time.monotonic(), "negotiate")
                except (SMBTimeout, NotConnectedError) as err:
                    # Only silence (or a hang-up before a single byte came back) means
                    # "SMB1 is not spoken here"; a server that answered and then failed
                    # is not retried.
                    if time.monotonic() >= deadline or self._heard_anything():
                        raise
                    self.log.info("no answer to the SMB1 NEGOTIATE from %s:%d (%s); connecting again with "
                                  "an SMB2 NEGOTIATE", ip, port, err)
                    yield HangUp(self)
                    yield from self._open_transport(ip, port, sock_family, deadline)
                    yield Call(self, self.negotiate_op(False), deadline - time.monotonic(), "negotiate")
                    # Learnt only now: a server that hangs up on both (it is down) ignores nothing.
                    SERVER_MEMORY.remember_ignores_smb1(ip, port)
            else:
                yield Call(self, self.negotiate_op(smb1_first), deadline - time.monotonic(), "negotiate")
            ok = yield from self._logon(ip, deadline)
        except BaseException:
            yield HangUp(self)
            raise
        if ok:
            self._last_heard = time.monotonic()
            self.onAuthOK()
            if self.keepalive:
                self._start_keepalive()
        else:
            yield HangUp(self)
            self.onAuthFailed()
        return bool(ok)

    def _open_transport(self, ip: str, port: int, family: Optional[int], deadline: float) -> Proc[None]:
        """A fresh core state and transport (plus the NetBIOS session on port 139)."""
        self._port = port
        yield Dial(self, ip, port, family, deadline)
        if not self.is_direct_tcp:
            yield from self._netbios_session(ip, port, family, deadline)

    def _netbios_session(self, ip: str, port: int, family: Optional[int], deadline: float) -> Proc[None]:
        """NetBIOS SESSION REQUEST ([RFC 1002] 4.3.2); follows RETARGET, falls
        back to ``*SMBSERVER`` when the called name is not present."""
        from nmb import base as nb
        called = first_called = self.remote_name or "*SMBSERVER"
        tried_fallback = False
        for _ in range(4):
            yield SendRaw(self, nb.build_session_request(called, self.my_name or "SMBWIRE"), deadline)
            while True:
                ptype, payload = yield ReadPacket(self, deadline)
                if ptype != nb.SESSION_KEEPALIVE:
                    break
            if ptype == nb.POSITIVE_SESSION_RESPONSE:
                return
            if ptype == nb.NEGATIVE_SESSION_RESPONSE:
                code, message = nb.parse_negative_session_response(payload)
                if code == 0x82 and called != "*SMBSERVER" and not tried_fallback:
                    tried_fallback = True
                    called = "*SMBSERVER"
                    yield Dial(self, ip, port, family, deadline, fresh=False)
                    continue
                names = repr(called) if called == first_called else "%r (after %r)" % (called, first_called)
                raise NotConnectedError("NetBIOS session refused by %s:%d for called name %s: %s (0x%02X)"
                                        % (ip, port, names, message, code))
            if ptype == nb.RETARGET_SESSION_RESPONSE:
                ip, port = nb.parse_retarget_response(payload)
                self.log.info("NetBIOS session retargeted to %s:%d", ip, port)
                yield Dial(self, ip, port, family, deadline, fresh=False)
                continue
            raise ProtocolError("unexpected NetBIOS packet type 0x%02X in answer to SESSION REQUEST" % ptype)
        raise NotConnectedError("too many NetBIOS session retargets")

    def _logon(self, host: str, deadline: float) -> Proc[bool]:
        """SESSION_SETUP with the mechanism the settings choose: Kerberos, NTLM, or
        Kerberos first and NTLM when Kerberos cannot be used (``negotiate``).
        ``auth='kerberos'`` never falls back."""
        settings = self.kerberos_settings
        mode = yield Offload(settings.mode, bool(self.password))
        if mode != krb5_kdc.AUTH_NTLM:
            try:
                self.kerberos = yield Offload(settings.initiator, host, self.remote_name, self.password, deadline,
                                              self.rand)
            except KerberosError as err:
                if mode == krb5_kdc.AUTH_KERBEROS:
                    raise
                self.log.info("Kerberos is not possible (%s); logging on with NTLM", err)
            else:
                try:
                    ok = yield Call(self, self.session_setup_op(), deadline - time.monotonic(), "connect")
                finally:
                    self.kerberos = None
                if ok or mode == krb5_kdc.AUTH_KERBEROS:
                    return bool(ok)
                self.log.info("the server refused the Kerberos logon; trying NTLM")
                if self.dialect is not None and self.dialect.is_smb2:
                    # A fresh SESSION_SETUP starts over on the same connection.
                    self.dialect.session = type(self.dialect.session)()
        ok = yield Call(self, self.session_setup_op(), deadline - time.monotonic(), "connect")
        return bool(ok)

    # -- one-operation calls -------------------------------------------------------------------
    def _one(self, gen: OpGen, timeout: float, name: str) -> Proc[Any]:
        return (yield Call(self, gen, timeout, name))

    def _p_echo(self, data: bytes, timeout: float = 10) -> Proc[bytes]:
        """Send an ECHO; returns ``data`` (SMB1 servers echo it back)."""
        return (yield Call(self, self._dialect_ops().echo(data), timeout, "echo"))

    def _p_listShares(self, timeout: float = 30) -> Proc[List[SharedDevice]]:
        """List the server's shares (SRVSVC NetShareEnumAll over ``IPC$``)."""
        return (yield Call(self, self._dialect_ops().list_shares(), timeout, "listShares"))

    @follows_dfs
    def _p_listPath(self, service_name: str, path: str, search: int = DEFAULT_SEARCH, pattern: str = "*",
                    timeout: float = 30) -> Proc[List[SharedFile]]:
        """List ``path`` on ``service_name``, including ``.`` and ``..``.

        ``pattern`` is matched by the server (wildcards ``*`` and ``?``);
        ``search`` is pysmb's client-side attribute mask.
        """
        return (yield Call(self, self._dialect_ops().list_path(service_name, normalize_path(path), search, pattern),
                           timeout, "listPath"))

    @follows_dfs
    def _p_listSnapshots(self, service_name: str, path: str, timeout: float = 30) -> Proc[List[Any]]:
        """Previous versions (shadow copies) of ``path`` as naive UTC datetimes."""
        return (yield Call(self, self._dialect_ops().list_snapshots(service_name, normalize_path(path)), timeout,
                           "listSnapshots"))

    @follows_dfs
    def _p_getAttributes(self, service_name: str, path: str, timeout: float = 30) -> Proc[SharedFile]:
        """Attributes of one file or folder as a :class:`SharedFile`."""
        return (yield Call(self, self._dialect_ops().get_attributes(service_name, normalize_path(path)), timeout,
                           "getAttributes"))

    @follows_dfs
    def _p_getSecurity(self, service_name: str, path: str, timeout: float = 30) -> Proc[Any]:
        """The security descriptor (owner, group, DACL) of a file or folder."""
        return (yield Call(self, self._dialect_ops().get_security(service_name, normalize_path(path)), timeout,
                           "getSecurity"))

    @follows_dfs
    def _p_createDirectory(self, service_name: str, path: str, timeout: float = 30) -> Proc[None]:
        """Create a folder."""
        yield Call(self, self._dialect_ops().create_directory(service_name, normalize_path(path)), timeout,
                   "createDirectory")

    @follows_dfs
    def _p_deleteDirectory(self, service_name: str, path: str, timeout: float = 30) -> Proc[None]:
        """Delete an empty folder."""
        yield Call(self, self._dialect_ops().delete_directory(service_name, normalize_path(path)), timeout,
                   "deleteDirectory")

    @follows_dfs
    def _p_deleteFiles(self, service_name: str, path_file_pattern: str, delete_matching_folders: bool = False,
                       timeout: float = 30) -> Proc[None]:
        """Delete the files matching the pattern in the last path component
        (folders too, recursively, with ``delete_matching_folders``)."""
        yield Call(self, self._dialect_ops().delete_files(service_name, normalize_path(path_file_pattern),
                                                          delete_matching_folders), timeout, "deleteFiles")

    @follows_dfs
    def _p_deleteFile(self, service_name: str, path: str, timeout: float = 30) -> Proc[None]:
        """Delete the one file ``path``, its name taken literally (no wildcard
        matching, no listing first: one round trip).  A missing file raises
        :class:`~smb.exceptions.SMBFileNotFoundError`, a folder
        :class:`~smb.exceptions.SMBIsADirectoryError`."""
        path = normalize_path(path)
        if not path:
            raise ValueError("deleteFile: the root of share '%s' is not a file" % service_name)
        try:
            yield Call(self, self._dialect_ops().delete_paths(service_name, [path]), timeout, "deleteFile")
        except OperationFailure as err:
            raise file_error(err) from None

    @follows_dfs
    def _p_resetFileAttributes(self, service_name: str, path_file_pattern: str,
                               file_attributes: int = C.ATTR_NORMAL, timeout: float = 30) -> Proc[None]:
        """Set the attributes of a file (default: ``ATTR_NORMAL``, i.e. clear them)."""
        yield Call(self, self._dialect_ops().set_basic_info(service_name, normalize_path(path_file_pattern),
                                                            "resetFileAttributes", file_attributes=file_attributes),
                   timeout, "resetFileAttributes")

    @follows_dfs
    def _p_setLastWriteTime(self, service_name: str, path: str, last_write_time: float,
                            timeout: float = 30) -> Proc[None]:
        """Set the last-write time of a file or folder (seconds since the epoch)."""
        yield from self._set_times(service_name, path, "setLastWriteTime", timeout, write=last_write_time)

    @follows_dfs
    def _p_setTimes(self, service_name: str, path: str, create: Optional[float] = None,
                    access: Optional[float] = None, write: Optional[float] = None, change: Optional[float] = None,
                    timeout: float = 30) -> Proc[None]:
        """Set the creation, last-access, last-write and change times of a file
        or folder (seconds since the epoch, floats); ``None`` leaves that time
        as it is.  One SET_INFO FileBasicInformation (SMB2) or
        SET_PATH_INFORMATION (SMB1).  Servers may ignore a time their file
        system cannot hold (Samba keeps the change time to itself)."""
        yield from self._set_times(service_name, path, "setTimes", timeout, create=create, access=access,
                                   write=write, change=change)

    def _set_times(self, service_name: str, path: str, what: str, timeout: float, create: Optional[float] = None,
                   access: Optional[float] = None, write: Optional[float] = None,
                   change: Optional[float] = None) -> Proc[None]:
        def filetime(epoch: Optional[float]) -> int:
            # 0 is "leave unchanged" on the wire ([MS-FSCC] 2.4.7).
            return 0 if epoch is None else convertEpochToFILETIME(epoch)

        gen = self._dialect_ops().set_basic_info(service_name, normalize_path(path), what,
                                                 creation_time=filetime(create), last_access_time=filetime(access),
                                                 last_write_time=filetime(write), change_time=filetime(change))
        yield Call(self, gen, timeout, what)

    # -- reconnect and resume ------------------------------------------------------------------
    def _protection(self) -> Tuple[int, bool, bool]:
        """What the session gives: (dialect, signing, encryption); SMB1 is dialect 1."""
        d = self.dialect
        if d is None:
            return (0, False, False)
        revision = int(d.dialect) if d.is_smb2 else 1
        encrypting = bool(getattr(d.session, "encrypt_data", False))
        return (revision, bool(self.is_signing_active), encrypting)

    def _reconnect(self, why: BaseException, timeout: float) -> Proc[None]:
        """A new transport to the same server, NEGOTIATE and logon with the same
        credentials and options; a session weaker than the one before (an older dialect,
        no signing, no encryption) is refused, never used."""
        before = self._protection()
        ip, port = self.server_ip, self._port
        self.log.warning("connection to %s:%d lost (%s); reconnecting", ip, port, why)
        if self.dialect is not None and self.dialect.is_smb2 and self.dialect.session.session_id:
            self.previous_session_id = self.dialect.session.session_id
        yield HangUp(self)
        if not (yield from self._connect(ip, port, self._family, timeout)):
            raise NotConnectedError("reconnect to %s:%d: the server refused the logon" % (ip, port))
        after = self._protection()
        weaker = [what for what, old, new in zip(("dialect", "signing", "encryption"), before, after) if new < old]
        if weaker:
            yield HangUp(self)
            raise ProtocolError("reconnect to %s:%d gave a weaker session (%s: %r before, %r now); not used"
                                % (ip, port, ", ".join(weaker), before, after))
        self.reconnects += 1

    def _recover(self, err: BaseException, timeout: float, used: int) -> Proc[int]:
        """Reconnect after ``err``; while the server cannot be reached, try again after a
        pause that doubles (0.5 s up to 4 s).  Each attempt counts against ``max_retries``;
        returns the attempts used so far, or raises the last error once they are spent."""
        while True:
            used += 1
            if used > self.max_retries:
                raise err
            try:
                yield from self._reconnect(err, timeout)
                return used
            except (NotConnectedError, SMBTimeout) as again:
                err = again
                yield Sleep(min(4.0, 0.5 * 2 ** (used - 1)))

    def _start_keepalive(self) -> None:
        """Run :meth:`_keepalive` every ``keepalive / 2`` seconds while the session is up
        (the driver's timer)."""

    def _keepalive(self) -> Proc[None]:
        """One keep-alive round: when nothing came in for ``keepalive`` seconds, an ECHO;
        no answer within ``keepalive`` seconds means a dead link: the connection is broken
        at once, so that calls fail now rather than at their own deadlines."""
        limit = self.keepalive
        if (not limit or not self._transport_open() or self.broken is not None or not self.has_authenticated
                or time.monotonic() - self._last_heard < limit):
            return
        try:
            yield Call(self, self.dialect.echo(b"keepalive"), limit, "keepalive")
        except SMBTimeout:
            err = NotConnectedError("no answer to a keep-alive ECHO within %.1f s: the link is dead" % limit)
            self.log.warning("%s (%s:%d)", err, self.server_ip, self._port)
            self.mark_broken(err)
            yield HangUp(self)
        except (NotConnectedError, ProtocolError) as err:
            self.log.debug("keep-alive: %s", err)

    def _version(self, service_name: str, path: str, timeout: float) -> Proc[Tuple[int, float, float]]:
        """What tells a changed file: its size, last-write and change times."""
        info = yield Call(self, self._dialect_ops().get_attributes(service_name, path), timeout, "resume")
        return info.file_size, info.last_write_time, info.last_attr_change_time

    def _retrieve_resuming(self, service_name: str, path: str, file_obj: Any, offset: int, max_length: int,
                           timeout: float, prog: Progress) -> Proc[Tuple[int, int]]:
        """retrieve that survives dropped connections: after a reconnect the file is read
        again from the first byte not yet written to ``file_obj``, once its size and times
        show it has not changed meanwhile."""
        version = yield from self._version(service_name, path, timeout)
        sink = _Counting(file_obj)
        tries = 0
        while True:
            rest = max_length if max_length < 0 else max_length - sink.count
            gen = self._dialect_ops().retrieve(service_name, path, sink, offset + sink.count, rest, prog.update,
                                               None if sink.count else prog.set_total)
            try:
                attributes, _ = yield Call(self, gen, timeout, "retrieveFile")
                return attributes, sink.count
            except NotConnectedError as err:
                tries = yield from self._recover(err, timeout, tries)
            if (yield from self._version(service_name, path, timeout)) != version:
                raise OperationFailure("retrieveFile '%s' on '%s': the file changed while the connection was down "
                                       "(%d bytes read); not resumed" % (path, service_name, sink.count), [],
                                       NtStatus.FILE_INVALID)
            self.log.info("resuming retrieveFile '%s' at byte %d", path, offset + sink.count)

    def _reclaim(self, handle: Any, timeout: float) -> Proc[Any]:
        """After a reconnect: the durable ``handle`` reopened on the new connection, or
        None when it was not durable or the server no longer holds it."""
        if handle is None or handle.durable is None:
            return None
        try:
            yield from self._patiently(lambda: self._dialect_ops().reclaim_handle(handle), timeout,
                                       "reopen durable handle", NtStatus.OBJECT_NAME_NOT_FOUND)
        except OperationFailure as err:
            self.log.info("the durable handle of '%s' is gone (%s); opening the file again", handle.path, err)
            return None
        self.durable_reopens += 1
        return handle

    def _patiently(self, make: Callable[[], OpGen], timeout: float, name: str, status: int) -> Proc[Any]:
        """Run the operation ``make()`` gives; while it fails with ``status``, run it again
        after growing pauses (up to 1 s), :data:`RECLAIM_PATIENCE` seconds in all.  Right
        after a reconnect the server process of the old connection may still be working
        through what it had received, the old open still attached to it: Samba then
        answers a durable reconnect OBJECT_NAME_NOT_FOUND, a new open SHARING_VIOLATION."""
        pause, waited = 0.1, 0.0
        while True:
            try:
                return (yield Call(self, make(), timeout, name))
            except OperationFailure as err:
                if err.status != status or waited >= RECLAIM_PATIENCE:
                    raise
                self.log.debug("%s: %s; asked again in %.1f s", name, err, pause)
                yield Sleep(pause)
                waited += pause
                pause = min(2 * pause, 1.0)

    def _close_after_error(self, handle: Any, timeout: float) -> Proc[None]:
        """Close ``handle`` on the way out of a failed transfer, if the connection still can."""
        if handle is not None and handle.is_open and handle.dialect is self.dialect and self.broken is None:
            try:
                yield Call(self, self._dialect_ops().close_handle(handle), timeout, "close")
            except (NotConnectedError, OperationFailure, SMBTimeout) as err:
                self.log.debug("closing '%s' after a failed transfer: %s", handle.path, err)

    def _retrieve_durable(self, service_name: str, path: str, file_obj: Any, offset: int, max_length: int,
                          timeout: float, prog: Progress) -> Proc[Tuple[int, int]]:
        """SMB2 retrieve that survives dropped connections: the file is read through a
        durable handle; after a reconnect the server gives that handle back (DHnC/DH2C)
        and reading goes on from the first byte not yet written to ``file_obj``.  When it
        does not (no durable handle granted, or lost meanwhile), the file is opened again
        and must show the size and times it had (else an error, not a mix)."""
        access = C.FILE_READ_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE
        sink = _Counting(file_obj)
        handle: Any = None
        version = None
        end = 0
        tries = 0
        lost = False
        try:
            while True:
                try:
                    if lost:
                        handle = yield from self._reclaim(handle, timeout)
                        lost = False
                        self.log.info("resuming retrieveFile '%s' at byte %d", path, offset + sink.count)
                    if handle is None and version is None:
                        # The first open reads the head of the file in the same round trip.
                        first = SMALL_IO if max_length < 0 else min(SMALL_IO, max_length)
                        handle, _ = yield Call(self, self._dialect_ops().open_reading(
                            service_name, path, offset, first, sink, prog.update, durable=True), timeout,
                            "retrieveFile")
                        version = handle.version
                        end = handle.size if max_length < 0 else min(handle.size, offset + max_length)
                        prog.set_total(max(0, end - offset))
                    if handle is None:
                        handle = yield from self._patiently(lambda: self._dialect_ops().open_handle(
                            service_name, path, access, C.FILE_OPEN, _SHARE_ALL, durable=True), timeout,
                            "retrieveFile", NtStatus.SHARING_VIOLATION)
                    if handle.version != version:
                        # (also checked on a durable handle given back: a change made on the
                        # server's disk, not through SMB, breaks no oplock)
                        raise OperationFailure("retrieveFile '%s' on '%s': the file changed while the connection "
                                               "was down (%d bytes read); not resumed"
                                               % (path, service_name, sink.count), [], NtStatus.FILE_INVALID)
                    if offset + sink.count < end:
                        yield Call(self, self._dialect_ops().read_handle(handle, offset + sink.count, end, sink,
                                                                         prog.update), timeout, "retrieveFile")
                    break
                except NotConnectedError as err:
                    tries = yield from self._recover(err, timeout, tries)
                    lost = True
            yield Call(self, self._dialect_ops().close_handle(handle), timeout, "retrieveFile")
        finally:
            yield from self._close_after_error(handle, timeout)
        return handle.attributes, sink.count

    def _rewind_store(self, file_obj: Any, start: Optional[int], offset: int, confirmed: "_Confirmed", path: str,
                      service_name: str, prog: Progress) -> None:
        """Put ``file_obj`` back at the first byte the server did not confirm."""
        if start is None or not rewind(file_obj, start + (confirmed.end - offset)):
            raise OperationFailure("storeFile '%s' on '%s': the file object cannot be rewound to resume at "
                                   "byte %d" % (path, service_name, confirmed.end), [], NtStatus.UNSUCCESSFUL)
        prog.rewind_to(confirmed.end - offset)
        self.log.info("resuming storeFile '%s' at byte %d", path, confirmed.end)

    def _store_resuming(self, service_name: str, path: str, file_obj: Any, offset: int, truncate: bool,
                        timeout: float, prog: Progress) -> Proc[int]:
        """store that survives dropped connections: after a reconnect the writing goes on
        from the end of what the server confirmed without a gap (WRITE answers), the
        file object rewound to there.  Needs a seekable file object."""
        start = position(file_obj)
        confirmed = _Confirmed(offset)
        tries = 0
        while True:
            # The first attempt truncates; a later one only if nothing of the first was confirmed.
            gen = self._dialect_ops().store(service_name, path, file_obj, confirmed.end,
                                            truncate and confirmed.end == offset, prog.update, confirmed.add)
            try:
                return (yield Call(self, gen, timeout, "storeFile"))
            except NotConnectedError as err:
                if start is None:
                    raise
                tries = yield from self._recover(err, timeout, tries)
            self._rewind_store(file_obj, start, offset, confirmed, path, service_name, prog)

    # -- transfers ---------------------------------------------------------------------------
    @follows_dfs
    def _p_retrieveFile(self, service_name: str, path: str, file_obj: Any, timeout: float = 30,
                        show_progress: bool = False, tqdm_kwargs: Optional[Dict[str, Any]] = None,
                        progress: Optional[Callable[[int, int], None]] = None) -> Proc[Tuple[int, int]]:
        """Download ``path`` into ``file_obj``; returns ``(file_attributes, bytes_read)``."""
        return (yield from self._p_retrieveFileFromOffset(service_name, path, file_obj, 0, -1, timeout,
                                                          show_progress, tqdm_kwargs, progress))

    @follows_dfs
    def _p_retrieveFileFromOffset(self, service_name: str, path: str, file_obj: Any, offset: int = 0,
                                  max_length: int = -1, timeout: float = 30, show_progress: bool = False,
                                  tqdm_kwargs: Optional[Dict[str, Any]] = None,
                                  progress: Optional[Callable[[int, int], None]] = None) -> Proc[Tuple[int, int]]:
        """Download from ``offset``: ``max_length`` < 0 reads to EOF, 0 reads
        nothing; an offset past EOF reads 0 bytes."""
        if offset < 0:
            raise ValueError("offset must not be negative")
        path = normalize_path(path)
        with Progress(path, None, show_progress, tqdm_kwargs, progress) as prog:
            ops = self._dialect_ops()
            if is_async_file(file_obj, "write"):
                return (yield from self._retrieve_to_async(ops, service_name, path, file_obj, offset, max_length,
                                                           timeout, prog))
            if self.auto_reconnect and ops.is_smb2:
                return (yield from self._retrieve_durable(service_name, path, file_obj, offset, max_length,
                                                          timeout, prog))
            if self.auto_reconnect:
                return (yield from self._retrieve_resuming(service_name, path, file_obj, offset, max_length,
                                                           timeout, prog))
            gen = ops.retrieve(service_name, path, file_obj, offset, max_length, prog.update, prog.set_total)
            return (yield Call(self, gen, timeout, "retrieveFile"))

    def _retrieve_to_async(self, ops: Any, service_name: str, path: str, file_obj: Any, offset: int,
                           max_length: int, timeout: float, prog: Progress) -> Proc[Tuple[int, int]]:
        """retrieve into an async file object: windows of pipelined READs, each
        awaited into the file before the next one is asked for."""
        handle = yield Call(self, ops.open_handle(service_name, path, C.FILE_READ_DATA | C.FILE_READ_ATTRIBUTES
                                                  | C.SYNCHRONIZE, C.FILE_OPEN, C.FILE_SHARE_READ),
                            timeout, "retrieveFile")
        try:
            end = handle.size if max_length < 0 else min(handle.size, offset + max_length)
            prog.set_total(max(0, end - offset))
            done = 0
            while offset + done < end:
                chunk = yield Call(self, ops.read_at(handle, offset + done, min(ASYNC_FILE_CHUNK, end - offset - done)),
                                   timeout, "retrieveFile")
                if not chunk:
                    break
                yield FileIO(file_obj, "write", chunk)
                done += len(chunk)
                if prog.update:
                    prog.update(len(chunk))
        finally:
            yield Call(self, ops.close_handle(handle), timeout, "retrieveFile")
        return handle.attributes, done

    @follows_dfs
    def _p_storeFile(self, service_name: str, path: str, file_obj: Any, timeout: float = 30,
                     show_progress: bool = False, tqdm_kwargs: Optional[Dict[str, Any]] = None,
                     progress: Optional[Callable[[int, int], None]] = None) -> Proc[int]:
        """Upload ``file_obj`` to ``path`` (replacing it); returns bytes written."""
        return (yield from self._p_storeFileFromOffset(service_name, path, file_obj, 0, True, timeout,
                                                       show_progress, tqdm_kwargs, progress))

    @follows_dfs
    def _p_storeFileFromOffset(self, service_name: str, path: str, file_obj: Any, offset: int = 0,
                               truncate: bool = False, timeout: float = 30, show_progress: bool = False,
                               tqdm_kwargs: Optional[Dict[str, Any]] = None,
                               progress: Optional[Callable[[int, int], None]] = None) -> Proc[int]:
        """Write ``file_obj`` at ``offset`` (creating the file if needed); the
        file is truncated first only when ``truncate`` is True.  Returns the
        end offset of the written data."""
        if offset < 0:
            raise ValueError("offset must not be negative")
        path = normalize_path(path)
        asynchronous = is_async_file(file_obj, "read")
        with Progress(path, None if asynchronous else remaining_size(file_obj), show_progress, tqdm_kwargs,
                      progress) as prog:
            ops = self._dialect_ops()
            if asynchronous:
                return (yield from self._store_from_async(ops, service_name, path, file_obj, offset, truncate,
                                                          timeout, prog))
            if self.auto_reconnect:
                return (yield from self._store_resuming(service_name, path, file_obj, offset, truncate, timeout,
                                                        prog))
            gen = ops.store(service_name, path, file_obj, offset, truncate, prog.update)
            return (yield Call(self, gen, timeout, "storeFile"))

    def _store_from_async(self, ops: Any, service_name: str, path: str, file_obj: Any, offset: int,
                          truncate: bool, timeout: float, prog: Progress) -> Proc[int]:
        """store from an async file object: each window awaited from the file, then
        written with pipelined WRITEs."""
        access = C.FILE_WRITE_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE
        handle = yield Call(self, ops.open_handle(service_name, path, access, C.FILE_OVERWRITE_IF if truncate
                                                  else C.FILE_OPEN_IF, 0), timeout, "storeFile")
        try:
            while True:
                data = yield FileIO(file_obj, "read", ASYNC_FILE_CHUNK)
                if not data:
                    break
                written = yield Call(self, ops.write_at(handle, offset, data), timeout, "storeFile")
                offset += written
                if prog.update:
                    prog.update(written)
        finally:
            yield Call(self, ops.close_handle(handle), timeout, "storeFile")
        return offset

    @follows_dfs
    def _p_copyFile(self, service_name: str, src: str, dst: str, dst_service_name: Optional[str] = None,
                    timeout: float = 30, show_progress: bool = False, tqdm_kwargs: Optional[Dict[str, Any]] = None,
                    progress: Optional[Callable[[int, int], None]] = None) -> Proc[int]:
        """Copy the file ``src`` on ``service_name`` to ``dst`` on ``dst_service_name``
        (default: the same share), replacing ``dst`` when it exists; returns the number
        of bytes copied.

        Over SMB2/3 the server copies the data itself (FSCTL_SRV_REQUEST_RESUME_KEY and
        FSCTL_SRV_COPYCHUNK_WRITE, [MS-SMB2] 3.2.4.20.2): no file data crosses the
        network.  Over SMB1, or when the server refuses server-side copy, the data
        goes through the client in 8 MiB windows (pipelined READs, then pipelined
        WRITEs), never the whole file in memory.  ``progress(done, total)`` and
        ``show_progress`` (tqdm) work as for :meth:`retrieveFile`, ``total`` being the
        size of ``src``.  ``timeout`` covers the whole copy.

        A missing ``src`` raises :class:`~smb.exceptions.SMBFileNotFoundError`; any
        other failure (``dst`` cannot be created, the copy fails) an
        :class:`OperationFailure`.  When ``src`` is behind a DFS link the copy runs
        where it lands, and ``dst`` (and ``dst_service_name``) are taken on that
        server and share: both files must be reachable on one connection.
        """
        src = normalize_path(src)
        dst = normalize_path(dst)
        dst_share = service_name if dst_service_name is None else dst_service_name
        with Progress(src, None, show_progress, tqdm_kwargs, progress) as prog:
            gen = self._dialect_ops().copy_file(service_name, src, dst_share, dst, prog.update, prog.set_total)
            return int((yield Call(self, gen, timeout, "copyFile")))

    @follows_dfs
    def _p_openFile(self, service_name: str, path: str, mode: str = "rb", buffering: int = -1,
                    encoding: Optional[str] = None, errors: Optional[str] = None, newline: Optional[str] = None,
                    share_access: str = "r", timeout: float = 30) -> Proc[Any]:
        """Open ``path`` on the share as a file object (see the driver's ``openFile``)."""
        self._dialect_ops()
        return (yield OpenFile(self, service_name, normalize_path(path), mode, buffering, encoding, errors, newline,
                               share_access, timeout))

    # -- calls made of several operations ------------------------------------------------------
    def _stat(self, service_name: str, path: str, timeout: float) -> Proc[Optional[SharedFile]]:
        """getAttributes, or None when the path (or a folder on the way) does not exist."""
        try:
            return (yield Call(self, self._dialect_ops().get_attributes(service_name, normalize_path(path)), timeout,
                               "getAttributes"))
        except OperationFailure as err:
            if err.status in NOT_FOUND:
                return None
            raise

    @follows_dfs
    def _p_exists(self, service_name: str, path: str, timeout: float = 30) -> Proc[bool]:
        """True when ``path`` (a file or a folder) exists on the share."""
        return (yield from self._stat(service_name, path, timeout)) is not None

    @follows_dfs
    def _p_isFile(self, service_name: str, path: str, timeout: float = 30) -> Proc[bool]:
        """True when ``path`` exists and is not a folder."""
        info = yield from self._stat(service_name, path, timeout)
        return info is not None and not info.isDirectory

    @follows_dfs
    def _p_isDirectory(self, service_name: str, path: str, timeout: float = 30) -> Proc[bool]:
        """True when ``path`` exists and is a folder."""
        info = yield from self._stat(service_name, path, timeout)
        return info is not None and info.isDirectory

    @follows_dfs
    def _p_makeDirs(self, service_name: str, path: str, exist_ok: bool = False, timeout: float = 30) -> Proc[None]:
        """Create folder ``path`` and every missing folder above it, like
        :func:`os.makedirs`: an existing ``path`` raises
        :class:`OperationFailure` (STATUS_OBJECT_NAME_COLLISION) unless it is a
        folder and ``exist_ok`` is true; a file in the way always raises."""
        yield from self._make_dirs(service_name, normalize_path(path), exist_ok, timeout)

    def _make_dirs(self, service_name: str, path: str, exist_ok: bool, timeout: float) -> Proc[None]:
        ops = self._dialect_ops()
        if not path:  # the share root always exists
            if exist_ok:
                return
            raise OperationFailure("makeDirs: the share root of '%s' exists" % service_name, [],
                                   NtStatus.OBJECT_NAME_COLLISION)
        try:
            # Optimistic: the parent usually exists, so most calls cost one request.
            yield Call(self, ops.create_directory(service_name, path), timeout, "makeDirs")
            return
        except OperationFailure as err:
            if err.status == NtStatus.OBJECT_NAME_COLLISION:
                info = yield from self._stat(service_name, path, timeout)
                if exist_ok and info is not None and info.isDirectory:
                    return
                raise
            parent = path.rpartition("\\")[0]
            if not parent:
                raise
            if err.status == NtStatus.ACCESS_DENIED:
                # Some servers (impacket's) refuse a folder whose parent is missing with
                # ACCESS_DENIED: climb only when the parent really is missing.
                if (yield from self._stat(service_name, parent, timeout)) is not None:
                    raise
            elif err.status not in NOT_FOUND:
                raise
        yield from self._make_dirs(service_name, parent, True, timeout)
        try:
            yield Call(self, ops.create_directory(service_name, path), timeout, "makeDirs")
        except OperationFailure as err:
            # Someone else made it meanwhile: fine when asked for.
            if err.status != NtStatus.OBJECT_NAME_COLLISION or not exist_ok:
                raise
            info = yield from self._stat(service_name, path, timeout)
            if info is None or not info.isDirectory:
                raise

    # -- listings ---------------------------------------------------------------------------------
    def _p_iterPath(self, service_name: str, path: str, pattern: str = "*", search: int = DEFAULT_SEARCH,
                    timeout: float = 30) -> Proc[None]:
        """Yield the entries of folder ``path`` as :class:`SharedFile` objects, batch by
        batch as the server sends them, without collecting the whole listing: memory
        stays flat however big the folder is.

        The same entries as :meth:`listPath` (``.`` and ``..`` included, ``pattern``
        matched by the server, ``search`` the client-side attribute mask).  The folder
        is opened once; each batch is one QUERY_DIRECTORY (SMB2) or FIND_FIRST2 /
        FIND_NEXT2 (SMB1) round trip, its own call within ``timeout`` seconds, so
        other calls on this connection may run between two entries.  The handle (or
        the SMB1 search) is closed when the iteration is exhausted, fails, or is closed
        early (``close()``, ``break`` out of a ``for`` loop that holds the only
        reference, garbage collection); wrap it in :func:`contextlib.closing` to close
        it at a known point.  A path behind a DFS link is listed at the target.
        """
        conn, listing, batch = yield from self._open_listing(service_name, path, pattern, search, timeout)
        try:
            while batch is not None:
                for entry in batch:
                    yield Emit(entry)
                batch = None  # let this batch go before the next one arrives
                batch = yield Call(conn, listing.fetch(search), timeout, "iterPath")
        finally:
            yield from conn._close_listing(listing, timeout)

    def _open_listing(self, service_name: str, path: str, pattern: str, search: int,
                      timeout: float) -> Proc[Tuple[Any, Any, Optional[List[SharedFile]]]]:
        """Open a listing and fetch its first batch (eagerly, so that a DFS hop
        is counted while it happens); returns (connection, listing, batch)."""
        listing = self._dialect_ops().open_listing(service_name, normalize_path(path), pattern)
        try:
            batch = yield Call(self, listing.fetch(search), timeout, "iterPath")
        except OperationFailure as err:
            yield from self._close_listing(listing, timeout)
            if not self._dfs_redirects(err):
                raise
            cause = err
        except BaseException:
            yield from self._close_listing(listing, timeout)
            raise
        else:
            return self, listing, batch
        return (yield from self._dfs_each_target(
            service_name, path, timeout,
            lambda conn, share, rest: conn._open_listing(share, rest, pattern, search, timeout), cause))

    def _close_listing(self, listing: Any, timeout: float) -> Proc[None]:
        """Close the server's handle of ``listing`` if it still has one; never raises."""
        if not listing.needs_close or not self._transport_open() or self.broken is not None:
            return
        try:
            yield Call(self, listing.close(), min(timeout, 30), "iterPath close")
        except Exception as err:  # noqa: BLE001 - closing a listing must not hide the caller's outcome
            self.log.debug("closing a directory listing failed: %s", err)

    def _p_walk(self, service_name: str, top: str, topdown: bool = True,
                onerror: Optional[Callable[[Exception], Any]] = None, timeout: float = 30) -> Proc[None]:
        """:func:`os.walk` over a share: yields ``(dirpath, dirnames, filenames)``
        for ``top`` and every folder below it.

        ``dirpath`` is relative to the share with ``/`` separators (``''`` for the
        share root); the lists hold names (no ``.`` / ``..``).  With ``topdown``
        (the default) a folder comes before its subfolders, and removing names from
        ``dirnames`` in place keeps the walk out of them; otherwise it comes after.
        A folder that cannot be listed is skipped after ``onerror(error)`` (if given)
        is called with the :class:`OperationFailure`.  Folders that are reparse
        points (links) are reported in ``dirnames`` but not entered, as os.walk
        does with symbolic links.  Built on :meth:`iterPath` (DFS links followed).
        """
        yield from self._walk(service_name, top, topdown, onerror, timeout, True)

    def _list_folder(self, service_name: str, path: str, timeout: float) -> Proc[List[SharedFile]]:
        """Every entry of a folder but ``.`` and ``..``, batch by batch (DFS links followed)."""
        conn, listing, batch = yield from self._open_listing(service_name, path, "*", EVERYTHING, timeout)
        entries: List[SharedFile] = []
        try:
            while batch is not None:
                entries.extend(e for e in batch if e.filename not in (".", ".."))
                batch = yield Call(conn, listing.fetch(EVERYTHING), timeout, "iterPath")
        finally:
            yield from conn._close_listing(listing, timeout)
        return entries

    def _walk(self, service_name: str, top: str, topdown: bool, onerror: Optional[Callable[[Exception], Any]],
              timeout: float, names: bool, emit: bool = True) -> Proc[List[Tuple[str, List[Any], List[Any]]]]:
        """walk, with :class:`SharedFile` lists instead of names unless ``names``;
        without ``emit`` the folders are returned as a list instead of emitted."""
        # An explicit stack (not recursion): deep trees do not hit the recursion limit.
        stack: List[Any] = [normalize_path(top).replace("\\", "/")]
        out: List[Tuple[str, List[Any], List[Any]]] = []
        while stack:
            item = stack.pop()
            if isinstance(item, tuple):  # bottom-up: a folder whose subfolders are done
                if emit:
                    yield Emit(item)
                else:
                    out.append(item)
                continue
            try:
                entries = yield from self._list_folder(service_name, item, timeout)
            except OperationFailure as err:
                if onerror is not None:
                    onerror(err)
                continue
            dirs = [e for e in entries if e.isDirectory]
            files = [e for e in entries if not e.isDirectory]
            entered = {d.filename for d in dirs if not d.file_attributes & C.ATTR_REPARSE_POINT}
            shown_dirs: List[Any] = [d.filename for d in dirs] if names else dirs
            shown_files: List[Any] = [f.filename for f in files] if names else files
            if topdown:
                if emit:
                    yield Emit((item, shown_dirs, shown_files))
                else:
                    out.append((item, shown_dirs, shown_files))
            else:
                stack.append((item, shown_dirs, shown_files))
            below = [d if isinstance(d, str) else d.filename for d in shown_dirs]
            for name in reversed(below):
                if name in entered:
                    stack.append(item + "/" + name if item else name)
        return out

    @follows_dfs
    def _p_deleteTree(self, service_name: str, path: str, timeout: float = 30) -> Proc[None]:
        """Delete folder ``path`` and everything below it (like
        :func:`shutil.rmtree`): files first, then folders bottom-up; read-only
        attributes are cleared where they would stop a deletion.  The share root
        cannot be deleted (``ValueError``)."""
        path = normalize_path(path)
        if not path:
            raise ValueError("deleteTree: refusing to delete the root of share '%s'" % service_name)
        ops = self._dialect_ops()
        info = yield Call(self, ops.get_attributes(service_name, path), timeout, "deleteTree")
        if not info.isDirectory:
            raise OperationFailure("deleteTree '%s' on '%s' failed: %s" % (path, service_name, "not a folder"),
                                   [], NtStatus.NOT_A_DIRECTORY)

        def fail(err: Exception) -> None:
            raise err

        folders = yield from self._walk(service_name, path, False, fail, timeout, False, emit=False)
        for dirpath, dirs, files in folders:
            folder = dirpath.replace("/", "\\")
            for entry in files:
                if entry.isReadOnly:
                    yield from self._clear_read_only(service_name, folder + "\\" + entry.filename, entry, timeout)
            if files:
                yield Call(self, ops.delete_paths(service_name, [folder + "\\" + f.filename for f in files]),
                           timeout, "deleteTree")
            for entry in dirs:
                if entry.file_attributes & C.ATTR_REPARSE_POINT:  # a link: not entered, removed as is
                    yield from self._delete_folder(service_name, folder + "\\" + entry.filename, timeout)
            # Bottom-up: every folder below this one is gone by now.
            yield from self._delete_folder(service_name, folder, timeout)

    def _delete_folder(self, service_name: str, path: str, timeout: float) -> Proc[None]:
        """deleteDirectory; a read-only folder that refuses is made writable first."""
        ops = self._dialect_ops()
        try:
            yield Call(self, ops.delete_directory(service_name, path), timeout, "deleteTree")
            return
        except OperationFailure as err:
            if err.status not in (NtStatus.CANNOT_DELETE, NtStatus.ACCESS_DENIED):
                raise
            info = yield Call(self, ops.get_attributes(service_name, path), timeout, "deleteTree")
            if not info.isReadOnly:
                raise
        yield from self._clear_read_only(service_name, path, info, timeout)
        yield Call(self, ops.delete_directory(service_name, path), timeout, "deleteTree")

    def _clear_read_only(self, service_name: str, path: str, entry: SharedFile, timeout: float) -> Proc[None]:
        # 0 would mean "leave the attributes unchanged": clearing the last one needs ATTR_NORMAL.
        attributes = entry.file_attributes & ~C.ATTR_READONLY
        if not entry.isDirectory:
            attributes &= ~C.ATTR_DIRECTORY
        attributes = attributes or C.ATTR_NORMAL
        yield Call(self, self._dialect_ops().set_basic_info(service_name, path, "deleteTree",
                                                            file_attributes=attributes), timeout, "deleteTree")

    def _p_rename(self, service_name: str, old_path: str, new_path: str, timeout: float = 30) -> Proc[None]:
        """Rename ``old_path`` to ``new_path`` on the share (both within one DFS target)."""
        try:
            yield Call(self, self._dialect_ops().rename(service_name, normalize_path(old_path),
                                                        normalize_path(new_path)), timeout, "rename")
            return
        except OperationFailure as err:
            if not self._dfs_redirects(err):
                raise
        conn, share, target_old = yield from self._dfs_landing(service_name, old_path, timeout)
        conn_new, share_new, target_new = yield from self._dfs_landing(service_name, new_path, timeout)
        if share_new.upper() != share.upper() or conn_new is not conn:
            raise OperationFailure("rename across DFS targets is not possible: %r and %r land on different "
                                   "shares" % (old_path, new_path), [], NtStatus.NOT_SAME_DEVICE)
        yield from conn._p_rename(share, target_old, target_new, timeout)

    # -- DFS ------------------------------------------------------------------------------------
    def _p_resolveDfsPath(self, service_name: str, path: str, timeout: float = 30) -> Proc[str]:
        """Where ``path`` on ``service_name`` lands after DFS referrals, as a UNC
        path ``\\\\server\\share\\path`` (the same path when it crosses no link)."""
        conn, share, rest = yield from self._dfs_landing(service_name, path, timeout)
        return dfs.join_unc(conn.remote_name or conn.server_ip, share, rest)

    def _p_getDfsReferral(self, unc_path: str, timeout: float = 30) -> Proc[List[str]]:
        """Ask this server for the DFS referral of ``unc_path`` (``\\\\server\\share\\...``
        or ``\\\\domain\\namespace\\...``; a root, link or sysvol referral): the UNC
        paths it leads to, in the order to try them.  Not cached; raises
        :class:`OperationFailure` when the server has no referral for it."""
        request_path = dfs.dfs_request_path(unc_path)
        response = yield from self._referral(request_path, timeout)
        return [target.path for target in dfs.resolve(response, request_path)]

    def _p_getDfsDomains(self, timeout: float = 30) -> Proc[List[str]]:
        """The domains a domain controller serves DFS for, in NetBIOS and DNS form
        (a domain referral, [MS-DFSC] 3.3.5.2).  Other servers refuse the request
        (:class:`OperationFailure`)."""
        lists = yield from self._name_lists("", timeout)
        return [name for names in lists for name in names[:1]]

    def _p_getDfsDomainControllers(self, domain: str, timeout: float = 30) -> Proc[List[str]]:
        """The domain controllers of ``domain`` (NetBIOS or DNS name; the answer is
        in the same form), asked of a domain controller (a DC referral,
        [MS-DFSC] 3.3.5.3)."""
        if not domain or any(sep in domain for sep in "\\/"):
            raise ValueError("a domain name, not %r" % (domain,))
        lists = yield from self._name_lists("\\" + domain, timeout)
        return [name for names in lists for name in names[1:]]

    def _referral(self, request_path: str, timeout: float) -> Proc[ReferralResponse]:
        raw = yield Call(self, self._dialect_ops().dfs_referral(request_path), timeout, "dfs referral")
        return dfs.ReferralResponse.unpack(raw)

    def _name_lists(self, request_path: str, timeout: float) -> Proc[List[List[str]]]:
        """[special name, expanded names...] of each name-list entry of a domain or DC
        referral, without the leading backslashes the names are sent with."""
        response = yield from self._referral(request_path, timeout)
        return [[name.lstrip("\\") for name in [ref.special_name] + list(ref.expanded_names)]
                for ref in response.referrals if ref.is_name_list]

    def _unc(self, service_name: str, path: str) -> str:
        return dfs.join_unc(self.remote_name or self.server_ip, service_name, path)

    def _referral_targets(self, service_name: str, path: str, timeout: float = 30,
                          root: bool = False) -> Proc[List[Any]]:
        """The targets the server's referral (or the cache) gives for ``path``.  With
        ``root`` the server is asked for the root referral (``\\server\\share`` only:
        a DC refuses longer domain-namespace and sysvol requests, [MS-DFSC] 3.3.5.4)
        and the rest of ``path`` is appended to its targets."""
        unc = self._unc(service_name, path)
        now = time.monotonic()
        entry = self._dfs_cache.lookup(unc, now)
        if entry is not None:
            return list(entry.targets)
        request_path = dfs.dfs_request_path(self._unc(service_name, "") if root else unc)
        response = yield from self._referral(request_path, timeout)
        # PathConsumed counts UTF-16 bytes of the name as sent ([MS-DFSC] 2.2.4); what was
        # sent is a prefix of the whole path, so the rest is appended the same way (the
        # server may not claim more of it than it was sent).
        if root and response.path_consumed > len(request_path.encode("utf-16-le")):
            raise MalformedResponse("DFS root referral consumed %d bytes of a %d-byte request"
                                    % (response.path_consumed, len(request_path.encode("utf-16-le"))))
        targets = dfs.resolve(response, dfs.dfs_request_path(unc)) if root else dfs.resolve(response, request_path)
        if not targets:
            raise OperationFailure("DFS referral for %s has no targets" % unc, [], NtStatus.PATH_NOT_COVERED)
        consumed = request_path.encode("utf-16-le")[:response.path_consumed].decode("utf-16-le", "replace")
        self._dfs_cache.add("\\" + consumed.lstrip("\\"), response, now)
        return targets

    def _is_this_server(self, server: str) -> bool:
        return server.lower() in {n.lower() for n in (self.server_ip, self.remote_name) if n}

    def _new_peer(self, server: str) -> Any:
        """A connection (not connected yet) to DFS target ``server`` with this one's
        credentials and options, sharing its referral cache."""
        peer = type(self)(self.username, self._password, self.my_name, server, self.domain, self.use_ntlm_v2,
                          self.sign_options, self.is_direct_tcp, self.encrypt, self.smb2_only, dfs=self.dfs,
                          allow_guest_fallback=self.allow_guest_fallback, auto_reconnect=self.auto_reconnect,
                          max_retries=self.max_retries, keepalive=self.keepalive)
        peer.kerberos_settings = self.kerberos_settings
        peer._dfs_cache = self._dfs_cache
        return peer

    def _dfs_redirects(self, err: OperationFailure) -> bool:
        """Whether ``err`` sends the call to a referral: a path behind a link, or a
        share the server does not have (maybe a domain-based namespace)."""
        return self.dfs and err.status in (NtStatus.PATH_NOT_COVERED, NtStatus.BAD_NETWORK_NAME)

    def _dfs_each_target(self, service_name: str, path: str, timeout: float,
                         call: Callable[[Any, str, str], Proc[T]],
                         cause: Optional[OperationFailure] = None) -> Proc[T]:
        """Run procedure ``call(connection, share, path)`` at each target of the referral
        for ``path`` until one is reachable.  ``cause`` is the failure that sent us here:
        a missing share with no referral raises it (the share just does not exist)."""
        hops = _DFS_HOPS.get()
        if hops >= DFS_MAX_HOPS:
            raise OperationFailure("DFS: more than %d referrals for %s (a link that points back?)"
                                   % (DFS_MAX_HOPS, self._unc(service_name, path)), [], NtStatus.PATH_NOT_COVERED)
        if cause is not None and cause.status == NtStatus.BAD_NETWORK_NAME:
            try:
                targets = yield from self._referral_targets(service_name, path, timeout, root=True)
            except OperationFailure as err:
                self.log.debug("no root referral for missing share %r either (%s)", service_name, err)
                raise cause from None
        else:
            targets = yield from self._referral_targets(service_name, path, timeout)
        problems: List[str] = []
        for target in targets:
            try:
                conn = yield Peer(self, target.server)
            except (NotConnectedError, SMBTimeout, OSError) as err:
                self.log.info("DFS target %s is unreachable (%s); trying the next", target.path, err)
                self._dfs_cache.mark_dead(target)
                problems.append("%s (%s)" % (target.path, err))
                continue
            token = _DFS_HOPS.set(hops + 1)
            try:
                return (yield from call(conn, target.share, target.rest))
            finally:
                _DFS_HOPS.reset(token)
        raise NotConnectedError("no DFS target of %s is reachable: %s"
                                % (self._unc(service_name, path), "; ".join(problems)))

    def _dfs_landing(self, service_name: str, path: str, timeout: float = 30) -> Proc[Tuple[Any, str, str]]:
        """(connection, share, path) where ``path`` lands, following every referral."""
        try:
            yield Call(self, self._dialect_ops().get_attributes(service_name, normalize_path(path)), timeout,
                       "getAttributes")
            return self, service_name, path
        except OperationFailure as err:
            if not self._dfs_redirects(err):
                if err.status in (NtStatus.OBJECT_NAME_NOT_FOUND, NtStatus.NO_SUCH_FILE):
                    return self, service_name, path
                raise
            cause = err
        return (yield from self._dfs_each_target(service_name, path, timeout,
                                                 lambda conn, share, rest: conn._dfs_landing(share, rest, timeout),
                                                 cause))


#: The public calls every driver exposes, each from its procedure ``_p_<name>``
#: (iterPath and walk iterate; openFile returns the driver's kind of file object).
ONE_SHOT = ("connect", "echo", "listShares", "listPath", "listSnapshots", "getAttributes", "getSecurity",
            "createDirectory", "deleteDirectory", "deleteFiles", "deleteFile", "resetFileAttributes", "setLastWriteTime", "setTimes",
            "retrieveFile", "retrieveFileFromOffset", "storeFile", "storeFileFromOffset", "copyFile", "exists",
            "isFile", "isDirectory", "makeDirs", "deleteTree", "rename", "resolveDfsPath", "getDfsReferral",
            "getDfsDomains", "getDfsDomainControllers")
ITERATING = ("iterPath", "walk")


def expose(proc: Callable[..., Proc[Any]], run: Callable[[Any, Proc[Any]], Any]) -> Callable[..., Any]:
    """The public method for procedure ``proc``: ``run(self, proc(self, ...))``, with
    the procedure's name (without ``_p_``), signature and docstring; a coroutine
    function (an async generator function) when ``run`` is one."""

    method: Callable[..., Any]
    if inspect.iscoroutinefunction(run):
        async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return await run(self, proc(self, *args, **kwargs))
    elif inspect.isasyncgenfunction(run):
        async def method(self: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            inner = run(self, proc(self, *args, **kwargs))
            try:
                async for item in inner:
                    yield item
            finally:
                await inner.aclose()
    else:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            return run(self, proc(self, *args, **kwargs))
    method = functools.wraps(proc)(method)
    method.__name__ = proc.__name__[3:]
    method.__qualname__ = method.__name__
    return method


def install(cls: type, run: Callable[[Any, Proc[Any]], Any], iterate: Optional[Callable[[Any, Proc[Any]], Any]],
            skip: Tuple[str, ...] = ()) -> type:
    """Give driver class ``cls`` every public call: the one-shot ones run by ``run``, the
    iterating ones by ``iterate`` (none when it is None), openFile too; not those in
    ``skip`` nor those ``cls`` defines itself."""
    names = ONE_SHOT + ("openFile",) + (ITERATING if iterate is not None else ())
    for name in names:
        if name in skip or name in vars(cls):
            continue
        runner = iterate if name in ITERATING else run
        assert runner is not None
        setattr(cls, name, expose(getattr(ClientBase, "_p_" + name), runner))
    return cls
