"""The blocking, socket-based SMB client with pysmb's API.

:class:`SMBConnection` is a thin driver over the IO-free core in
:mod:`smb.base`: it owns the socket, reads whole frames against one deadline
per operation, and feeds them to the core.  Every public method runs one
operation generator to completion (or to its deadline).
"""
from __future__ import annotations

import errno
import functools
import logging
import os
import select
import socket
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

from smb import _reexport
from . import smb_constants as C
from ._framing import HEADER_SIZE, SESSION_KEEPALIVE, SESSION_MESSAGE
# pysmb imported these on "import smb.SMBConnection": scripts use smb.smb_structs.SUPPORT_SMB2,
# smb.ntlm, ... with no import of their own.
from . import base, ntlm, securityblob, smb_constants, smb_structs  # noqa: F401
from .base import (SERVER_MEMORY, SIGN_NEVER, SIGN_WHEN_REQUIRED, SIGN_WHEN_SUPPORTED, SMB, OpGen, Operation,
                   SharedDevice, SharedFile, normalize_path, smb1_probe_seconds)
from . import dfs, krb5_kdc
from .dfs import CacheEntry, ReferralCache, ReferralResponse, Target
from .nt_status import NtStatus
from ._common_ops import file_error
from .utils import convertEpochToFILETIME
from .exceptions import (KerberosError, MalformedResponse, NotConnectedError, NotReadyError, OperationFailure,
                         ProtocolError, SMBError, SMBTimeout)

__all__ = ["SMBConnection", "SIGN_NEVER", "SIGN_WHEN_SUPPORTED", "SIGN_WHEN_REQUIRED"]

#: The default ``search`` mask of :meth:`SMBConnection.listPath` (pysmb's).
DEFAULT_SEARCH = (C.SMB_FILE_ATTRIBUTE_READONLY | C.SMB_FILE_ATTRIBUTE_HIDDEN | C.SMB_FILE_ATTRIBUTE_SYSTEM
                  | C.SMB_FILE_ATTRIBUTE_DIRECTORY | C.SMB_FILE_ATTRIBUTE_ARCHIVE
                  | C.SMB_FILE_ATTRIBUTE_INCL_NORMAL)

#: Every entry, whatever its attributes (what walk and deleteTree list).
_EVERYTHING = 0xFFFFFFFF | C.SMB_FILE_ATTRIBUTE_INCL_NORMAL
#: Statuses that mean "no such file or folder" (or a folder on the way is missing / a file).
_NOT_FOUND = frozenset({NtStatus.OBJECT_NAME_NOT_FOUND, NtStatus.OBJECT_PATH_NOT_FOUND, NtStatus.NO_SUCH_FILE,
                        NtStatus.NOT_A_DIRECTORY})

_SMALL = 64 * 1024
#: Seconds allowed to finish sending already-built requests after a deadline.
_SEND_GRACE = 5.0


class _SharedReferralCache(ReferralCache):
    """The referral cache of a connection and its DFS peers, whose threads share it: the core's
    cache holds no lock (it does no IO and knows no threads), so this driver adds one."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def add(self, prefix: str, response: ReferralResponse, now: float, ttl: Optional[float] = None) -> None:
        with self._lock:
            super().add(prefix, response, now, ttl)

    def lookup(self, path: str, now: float) -> Optional[CacheEntry]:
        with self._lock:
            return super().lookup(path, now)

    def mark_dead(self, target: Union[Target, str]) -> None:
        with self._lock:
            super().mark_dead(target)

    def clear(self) -> None:
        with self._lock:
            super().clear()


class _FrameReader:
    """Reads one frame at a time with ``recv_into`` into a reusable buffer.

    The state survives a timeout, so a frame that arrives late is still read
    whole by the next operation and the stream stays in sync.  Only the
    thread that holds the connection's reader role calls :meth:`read`.
    """

    def __init__(self) -> None:
        self.header = bytearray(HEADER_SIZE)
        self.header_got = 0
        self.buf = bytearray(256 * 1024)
        self.length = -1
        self.got = 0
        self.packet_type = 0
        #: Whole frames read so far.
        self.frames = 0

    @property
    def mid_frame(self) -> bool:
        return self.header_got > 0

    @property
    def heard_anything(self) -> bool:
        """True once any byte of a frame has come in on this connection."""
        return self.frames > 0 or self.header_got > 0

    def read(self, sock: socket.socket, framer: Any, deadline: float) -> Tuple[int, memoryview]:
        """Block until a whole frame is in (or ``socket.timeout`` at ``deadline``);
        return ``(packet_type, payload view)``."""
        while self.header_got < HEADER_SIZE:
            self.header_got += _recv_into(sock, memoryview(self.header)[self.header_got:], deadline)
        if self.length < 0:
            self.packet_type, self.length = framer.parse_header(bytes(self.header))
            if self.length > len(self.buf):
                self.buf = bytearray(self.length)
            self.got = 0
        view = memoryview(self.buf)
        while self.got < self.length:
            self.got += _recv_into(sock, view[self.got:self.length], deadline)
        packet_type, length = self.packet_type, self.length
        self.header_got = 0
        self.length = -1
        self.frames += 1
        return packet_type, view[:length]


def _wait_ready(sock: socket.socket, writing: bool, deadline: float) -> None:
    """Wait until the (non-blocking) socket can be read or written; raise
    ``socket.timeout`` at ``deadline``.  Threads share the socket, so no
    per-socket timeout is set: each call waits against its own deadline."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise socket.timeout("timed out")
    fd = sock.fileno()
    if fd < 0:
        raise OSError(errno.EBADF, "socket closed")
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLOUT if writing else select.POLLIN)
        if not poller.poll(max(1, int(remaining * 1000 + 0.999))):
            raise socket.timeout("timed out")
        return
    ready = select.select([], [fd], [], remaining) if writing else select.select([fd], [], [], remaining)
    if not any(ready):
        raise socket.timeout("timed out")


def _recv_into(sock: socket.socket, view: memoryview, deadline: float) -> int:
    """Receive at least one byte into ``view``; the server hanging up is
    :class:`NotConnectedError`."""
    while True:
        try:
            n = sock.recv_into(view)
        except (BlockingIOError, InterruptedError):
            _wait_ready(sock, False, deadline)
            continue
        if n == 0:
            raise NotConnectedError("connection closed by the server")
        return n


def _send_exactly(sock: socket.socket, data: Any, deadline: float) -> None:
    view = memoryview(data)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    while view:
        try:
            n = sock.send(view)
        except (BlockingIOError, InterruptedError):
            _wait_ready(sock, True, deadline)
            continue
        view = view[n:]


def _position(file_obj: Any) -> Optional[int]:
    try:
        return int(file_obj.tell()) if file_obj is not None else None
    except (AttributeError, OSError, ValueError):
        return None


def _rewind(file_obj: Any, position: int) -> bool:
    try:
        file_obj.seek(position)
        return True
    except (AttributeError, OSError, ValueError):
        return False


#: Most referrals one call follows (a link pointing back at itself is a loop).
DFS_MAX_HOPS = 8


def _follows_dfs(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``method(self, service_name, path, ...)``; when the server answers
    STATUS_PATH_NOT_COVERED (the path crosses a DFS link), ask it for a
    referral and run the same method at the target: this connection (another
    share) or one to the target server, each target in turn until one is
    reachable ([MS-DFSC] 3.1.5.4).  STATUS_BAD_NETWORK_NAME (no such share)
    asks for a root referral too: the share may be a domain-based namespace
    the server (a DC) does not host ([MS-DFSC] 3.1.4.1); when the server has
    no referral for it, the original error is raised."""

    @functools.wraps(method)
    def wrapper(self: "SMBConnection", service_name: str, path: str, *args: Any, **kwargs: Any) -> Any:
        file_obj = args[0] if args and hasattr(args[0], "read" if "store" in method.__name__ else "write") \
            else kwargs.get("file_obj")
        start = _position(file_obj)
        try:
            return method(self, service_name, path, *args, **kwargs)
        except OperationFailure as err:
            if not self._dfs_redirects(err):
                raise
            cause = err
            # A store may have read its first chunk before the server said "not here":
            # the target must get the data from the start again.
            if file_obj is not None and _position(file_obj) != start:
                if start is None or not _rewind(file_obj, start):
                    raise OperationFailure("%s: the path is behind a DFS link and the file object cannot be "
                                           "rewound to retry at the target" % method.__name__, err.smb_messages,
                                           err.status) from err
        return self._dfs_retry(method.__name__, service_name, path, args, kwargs, cause)

    return wrapper


class SMBConnection(SMB):
    """A blocking SMB connection (pysmb's ``smb.SMBConnection.SMBConnection``).

    :param username: account name ('' for anonymous)
    :param password: the password, or a callable returning it
    :param my_name: this machine's NetBIOS name (the calling name on port 139)
    :param remote_name: the server's NetBIOS name (the called name on port 139)
    :param domain: the account's domain or workgroup
    :param use_ntlm_v2: NTLMv2 (default) or NTLMv1 responses
    :param sign_options: ``SIGN_NEVER``, ``SIGN_WHEN_SUPPORTED`` or ``SIGN_WHEN_REQUIRED``
    :param is_direct_tcp: True for port 445 (direct TCP), False for the NetBIOS session service
    :param encrypt: ask for SMB3 encryption even if the server does not require it
    :param smb2_only: send an SMB2 NEGOTIATE straight away instead of pysmb's
        opening SMB1 NEGOTIATE (one round trip less; SMB1-only servers cannot
        be reached then)
    :param use_kerberos: log on with Kerberos only (same as ``auth='kerberos'``)
    :param auth: ``'kerberos'``, ``'ntlm'`` or ``'negotiate'`` (Kerberos, NTLM when no ticket
        can be had); default: ``'negotiate'`` when a realm and a KDC are known, else NTLM
        (see :doc:`/kerberos`)
    :param kdc: ``'host[:port]'`` or a list of them (default: krb5.conf's for the realm)
    :param kerberos_ccache: an MIT credential cache file to take tickets from
    :param keytab: a keytab file with the user's keys (instead of a password)
    :param service_principal: the server's principal (default ``cifs/<host>``)
    :param krb5_conf: a krb5.conf to read instead of ``$KRB5_CONFIG`` / ``/etc/krb5.conf``
    :param kerberos_etypes: encryption types to offer, e.g. ``(17,)`` for aes128 only
    :param save_ccache: write the tickets got to this MIT ccache file (mode 0600)
    :param dfs: follow DFS referrals (default); with False a path behind a DFS link fails
        with STATUS_PATH_NOT_COVERED (see :doc:`/dfs`)
    :param allow_guest_fallback: accept a guest or anonymous session when the server
        gives one instead of logging on the named account (default False: ``connect()``
        returns False, as for a wrong password; :attr:`isGuest` tells which session one got)

    The opening SMB1 NEGOTIATE offers SMB2 too, as pysmb's does.  A server
    that ignores SMB1 frames (or hangs up on them) gets a short part of the
    connect timeout (:func:`smb.base.smb1_probe_seconds`) to answer; then the
    client connects again with an SMB2 NEGOTIATE and remembers, for later
    connections in this process, that this server (host and port) wants SMB2
    from the start.  With ``smb_structs.SUPPORT_SMB2 = False`` there is no such
    retry: SMB1 was asked for.
    """

    log = logging.getLogger("SMB.SMBConnection")

    def __init__(self, username: str, password: Union[str, Callable[[], str]], my_name: str, remote_name: str,
                 domain: str = "", use_ntlm_v2: bool = True, sign_options: int = SIGN_WHEN_REQUIRED,
                 is_direct_tcp: bool = False, encrypt: bool = False, smb2_only: bool = False,
                 use_kerberos: bool = False, auth: Optional[str] = None, kdc: Any = None,
                 kerberos_ccache: Optional[str] = None, keytab: Optional[str] = None,
                 service_principal: Optional[str] = None, krb5_conf: Optional[str] = None,
                 kerberos_etypes: Optional[Tuple[int, ...]] = None, save_ccache: Optional[str] = None,
                 dfs: bool = True, allow_guest_fallback: bool = False) -> None:
        super().__init__(username, password, my_name, remote_name, domain, use_ntlm_v2, sign_options,
                         is_direct_tcp, encrypt, smb2_only=smb2_only, allow_guest_fallback=allow_guest_fallback)
        if use_kerberos and auth not in (None, krb5_kdc.AUTH_KERBEROS):
            raise ValueError("use_kerberos=True contradicts auth=%r" % auth)
        #: Kerberos settings and the tickets this connection got (see docs/kerberos.rst).
        self.kerberos_settings = krb5_kdc.KerberosSettings(
            krb5_kdc.AUTH_KERBEROS if use_kerberos else auth, self.username, self.domain, kdc,
            kerberos_ccache, keytab, service_principal, krb5_conf, kerberos_etypes, save_ccache)
        self.sock: Optional[socket.socket] = None
        self._reader = _FrameReader()
        self._timed_out = False
        # Many threads may call methods at once (docs/threads.rst).  The lock guards the core's
        # state and is held only while it changes (never across a socket wait); one thread at a
        # time reads frames (``_reading``) and one sends (``_sending``), for everybody.
        self._lock = threading.RLock()
        #: Threads waiting while another reads, each on a condition of its own, by the
        #: operation it waits for: after a frame only the threads whose operation finished
        #: are woken (and one more when the reader leaves), not every waiting thread.
        self._sleepers: Dict[Operation, threading.Condition] = {}
        self._reading = False
        self._sending = False
        #: A socket closed while a reader was still on it: the reader closes it when it leaves.
        self._sock_to_close: Optional[socket.socket] = None
        #: Calls running, per thread (``threading.get_ident()`` -> depth).
        self._calls: Dict[int, int] = {}
        #: Follow DFS referrals (STATUS_PATH_NOT_COVERED); False reports them as errors.
        self.dfs = dfs
        self._dfs_cache: ReferralCache = _SharedReferralCache()
        self._dfs_peers: Dict[Tuple[str, int], "SMBConnection"] = {}
        # Referrals followed by the call running in this thread (threads follow links independently).
        self._dfs_local = threading.local()
        self._dfs_peers_lock = threading.Lock()
        self._port = 0
        #: pysmb's logon outcome: None before connect() finished, then True or False.
        self.auth_result: Optional[bool] = None

    @property
    def _dfs_hops(self) -> int:
        return int(getattr(self._dfs_local, "hops", 0))

    @_dfs_hops.setter
    def _dfs_hops(self, value: int) -> None:
        self._dfs_local.hops = value

    @property
    def is_busy(self) -> bool:
        """True while a call is running on this connection, in any thread (pysmb's flag)."""
        return bool(self._calls)

    def _in_call(self) -> bool:
        """True when the calling thread is inside a call on this connection
        (e.g. a listing or file collected while that call runs)."""
        return threading.get_ident() in self._calls

    # ------------------------------------------------------------------ context manager
    def __enter__(self) -> "SMBConnection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ connect / close
    def connect(self, ip: str, port: int = 139, sock_family: Optional[int] = None, timeout: float = 60) -> bool:
        """Connect, negotiate and log on.

        Returns True when logged on and False when the server refused the
        credentials (wrong password, unknown user, disabled/expired/locked
        account).  Raises for everything else (unreachable server, protocol
        errors, :class:`SMBTimeout`).
        """
        if self.sock is not None:
            self.close()
        self.auth_result = None
        deadline = time.monotonic() + timeout
        smb1_first = not self.smb2_only and not (smb_structs.SUPPORT_SMB2
                                                 and SERVER_MEMORY.ignores_smb1(ip, port))
        try:
            self._open_transport(ip, port, sock_family, deadline)
            if smb1_first and smb_structs.SUPPORT_SMB2:
                probe = min(deadline, time.monotonic() + smb1_probe_seconds(timeout))
                try:
                    self._run(self.negotiate_op(True), probe - time.monotonic(), "negotiate")
                except (SMBTimeout, NotConnectedError) as err:
                    # Only silence (or a hang-up before a single byte came back)
                    # means "SMB1 is not spoken here"; a server that answered and
                    # then failed is not retried.
                    if time.monotonic() >= deadline or self._reader.heard_anything:
                        raise
                    self.log.info("no answer to the SMB1 NEGOTIATE from %s:%d (%s); connecting again with "
                                  "an SMB2 NEGOTIATE", ip, port, err)
                    SERVER_MEMORY.remember_ignores_smb1(ip, port)
                    self._drop_socket()
                    self._open_transport(ip, port, sock_family, deadline)
                    self._run(self.negotiate_op(False), deadline - time.monotonic(), "negotiate")
            else:
                self._run(self.negotiate_op(smb1_first), deadline - time.monotonic(), "negotiate")
            ok = self._logon(ip, deadline)
        except BaseException:
            self._drop_socket()
            raise
        if ok:
            self.onAuthOK()
        else:
            self._drop_socket()
            self.onAuthFailed()
        return bool(ok)

    def _logon(self, host: str, deadline: float) -> bool:
        """SESSION_SETUP with the mechanism the settings choose: Kerberos,
        NTLM, or Kerberos first and NTLM when Kerberos cannot be used
        (``negotiate``).  ``auth='kerberos'`` never falls back."""
        mode = self.kerberos_settings.mode(bool(self.password))
        if mode != krb5_kdc.AUTH_NTLM:
            try:
                self.kerberos = self.kerberos_settings.initiator(host, self.remote_name, self.password,
                                                                 deadline, self.rand)
            except KerberosError as err:
                if mode == krb5_kdc.AUTH_KERBEROS:
                    raise
                self.log.info("Kerberos is not possible (%s); logging on with NTLM", err)
            else:
                try:
                    ok = self._run(self.session_setup_op(), deadline - time.monotonic(), "connect")
                finally:
                    self.kerberos = None
                if ok or mode == krb5_kdc.AUTH_KERBEROS:
                    return bool(ok)
                self.log.info("the server refused the Kerberos logon; trying NTLM")
                if self.dialect is not None and self.dialect.is_smb2:
                    # A fresh SESSION_SETUP starts over on the same connection.
                    self.dialect.session = type(self.dialect.session)()
        ok = self._run(self.session_setup_op(), deadline - time.monotonic(), "connect")
        return bool(ok)

    def onAuthOK(self) -> None:
        """The logon succeeded (pysmb's hook; sets :attr:`auth_result`)."""
        self.auth_result = True

    def onAuthFailed(self) -> None:
        """The logon was refused (pysmb's hook; sets :attr:`auth_result`)."""
        self.auth_result = False

    def write(self, data: bytes) -> None:
        """Send raw bytes on the connection's socket (pysmb's transport hook)."""
        with self._lock:
            if self.sock is None:
                raise NotConnectedError("not connected; call connect() first")
            self.queue(data)
        self._flush(time.monotonic() + 60)

    def _open_transport(self, ip: str, port: int, family: Optional[int], deadline: float) -> None:
        """A fresh core state and socket (plus the NetBIOS session on port 139)."""
        self.reset()
        self._reader = _FrameReader()
        self.server_ip = ip
        self._port = port
        self.sock = self._open_socket(ip, port, family, deadline)
        if not self.is_direct_tcp:
            self._netbios_session_request(ip, port, family, deadline)

    def _open_socket(self, ip: str, port: int, family: Optional[int], deadline: float) -> socket.socket:
        remaining = max(0.001, deadline - time.monotonic())
        try:
            if family is None:
                sock = socket.create_connection((ip, port), timeout=remaining)
            else:
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.settimeout(remaining)
                sock.connect((ip, port))
        except socket.timeout as err:
            raise SMBTimeout("timed out connecting to %s:%d" % (ip, port)) from err
        except OSError as err:
            raise NotConnectedError("cannot connect to %s:%d: %s" % (ip, port, err)) from err
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, 4 * 1024 * 1024)
            except OSError:
                pass
        return sock

    def _netbios_session_request(self, ip: str, port: int, family: Optional[int], deadline: float) -> None:
        """NetBIOS SESSION REQUEST ([RFC 1002] 4.3.2); follows RETARGET, falls
        back to ``*SMBSERVER`` when the called name is not present."""
        from nmb import base as nb
        called = first_called = self.remote_name or "*SMBSERVER"
        tried_fallback = False
        for _ in range(4):
            assert self.sock is not None
            packet = nb.build_session_request(called, self.my_name or "SMBWIRE")
            self._send_all(self.sock, [(packet,)], deadline)
            while True:
                header = self._recv_exact(4, deadline)
                ptype = header[0]
                length = int.from_bytes(header[1:4], "big") & 0x1FFFF
                payload = self._recv_exact(length, deadline) if length else b""
                if ptype != nb.SESSION_KEEPALIVE:
                    break
            if ptype == nb.POSITIVE_SESSION_RESPONSE:
                return
            if ptype == nb.NEGATIVE_SESSION_RESPONSE:
                code, message = nb.parse_negative_session_response(payload)
                if code == 0x82 and called != "*SMBSERVER" and not tried_fallback:
                    tried_fallback = True
                    called = "*SMBSERVER"
                    self._drop_socket()
                    self.sock = self._open_socket(ip, port, family, deadline)
                    continue
                names = repr(called) if called == first_called else "%r (after %r)" % (called, first_called)
                raise NotConnectedError("NetBIOS session refused by %s:%d for called name %s: %s (0x%02X)"
                                        % (ip, port, names, message, code))
            if ptype == nb.RETARGET_SESSION_RESPONSE:
                new_ip, new_port = nb.parse_retarget_response(payload)
                self.log.info("NetBIOS session retargeted to %s:%d", new_ip, new_port)
                self._drop_socket()
                ip, port = new_ip, new_port
                self.server_ip = ip
                self.sock = self._open_socket(ip, port, family, deadline)
                continue
            raise ProtocolError("unexpected NetBIOS packet type 0x%02X in answer to SESSION REQUEST" % ptype)
        raise NotConnectedError("too many NetBIOS session retargets")

    def close(self) -> None:
        """Log off and close the socket (and those of the DFS targets it
        opened).  Idempotent; never raises.  The LOGOFF is sent, not waited for.

        Calls still running in other threads end with
        :class:`~smb.exceptions.NotConnectedError` (there is no logoff then:
        the server ends the session with the connection).
        """
        peers, self._dfs_peers = self._dfs_peers, {}
        for peer in peers.values():
            peer.close()
        with self._lock:
            if self.sock is None:
                return
            others = any(ident != threading.get_ident() for ident in self._calls)
            logoff = (not others and self.broken is None and self.dialect is not None
                      and self.has_authenticated)
        if logoff:
            try:
                # The LOGOFF goes out, its answer is not waited for: that saves a round trip
                # on every close, and the server ends the session with the LOGOFF or, if it
                # is lost, with the connection.
                self._drop(self._begin(self.dialect.logoff(), "logoff", 1 if self._timed_out else 5))
            except Exception as err:  # noqa: BLE001 - closing must not fail
                self.log.debug("logoff failed while closing: %s", err)
        with self._lock:
            if others and self.broken is None:
                self.mark_broken(NotConnectedError("the connection was closed"))
            self._drop_socket()

    def _drop_socket(self) -> None:
        """Close the socket and forget the logon."""
        self._close_socket()
        self.has_authenticated = False

    def _close_socket(self) -> None:
        """Close the socket, keeping the core's state (e.g. why it broke).

        A thread may be waiting on the socket as the reader: it is woken (the
        socket is shut down) and closes it itself when it leaves, so that the
        descriptor is not reused under it."""
        with self._lock:
            sock, self.sock = self.sock, None
            if sock is None:
                return
            if self._reading:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self._sock_to_close = sock
                sock = None
            self._wake_sleepers(everyone=True)
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    # ------------------------------------------------------------------ IO
    def _flush(self, deadline: float) -> None:
        """Send what the core has queued, from every thread, in order.

        One thread sends at a time; a thread that finds another sending
        leaves its frames to it (the sender takes frames until none are left,
        and the check happens under the lock the frames are queued under).
        """
        with self._lock:
            if self._sending or not self._out:
                return
            self._sending = True
            sock = self.sock
        try:
            while True:
                with self._lock:
                    frames = self.frames_to_send()
                    if not frames:
                        self._sending = False
                        return
                self._send_all(sock, frames, deadline)
        except BaseException:
            with self._lock:
                self._sending = False
            raise

    def _send_all(self, sock: Optional[socket.socket], frames: List[Any], deadline: float) -> None:
        """Send whole frames.

        Queued frames have consumed message ids and credits, so they are sent
        even when the deadline passes between them (with a short grace period):
        skipping them would leave holes in the server's sequence window.  A
        deadline that passes inside a frame breaks the stream.
        """
        if sock is None:
            raise NotConnectedError("not connected")
        late = False
        for frame in frames:
            if not late and deadline - time.monotonic() <= 0:
                late = True
                deadline = time.monotonic() + _SEND_GRACE
            small: List[Any] = []
            try:
                for piece in frame:
                    if len(piece) < _SMALL:
                        small.append(piece)
                        continue
                    if small:
                        _send_exactly(sock, b"".join(small), deadline)
                        small = []
                    _send_exactly(sock, piece, deadline)
                if small:
                    _send_exactly(sock, b"".join(small), deadline)
            except socket.timeout as err:
                with self._lock:
                    self.mark_broken(err)
                raise SMBTimeout("timed out in the middle of sending a message") from err
            except (OSError, ValueError) as err:
                with self._lock:
                    self.mark_broken(err)
                raise NotConnectedError("connection lost while sending: %s" % err) from err
        if late:
            raise SMBTimeout("operation timed out")

    def _recv_exact(self, n: int, deadline: float) -> bytes:
        """Read ``n`` bytes before the first frame (the NetBIOS session exchange)."""
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        sock = self.sock
        assert sock is not None
        while got < n:
            try:
                got += _recv_into(sock, view[got:], deadline)
            except socket.timeout as err:
                raise SMBTimeout("timed out waiting for the server") from err
            except OSError as err:
                raise NotConnectedError("connection lost: %s" % err) from err
        return bytes(buf)

    def _run(self, gen: OpGen, timeout: float, name: str) -> Any:
        """Drive one operation to completion within ``timeout`` seconds.

        Any number of threads may do this at once: each starts its operation
        in the core, sends what is queued, and waits; whichever thread holds
        the reader role reads the next frame and hands it to the core, which
        resumes the operation it answers (whoever's it is).
        """
        with self._lock:
            deadline = time.monotonic() + max(0.0, timeout)
            op = self._start_checked(gen, name)
            self._timed_out = False
        return self._wait_for(op, deadline)

    def _begin(self, gen: OpGen, name: str, timeout: float = 30) -> Operation:
        """Start an operation and send its first requests without waiting for
        it (read-ahead, write-behind): it goes on while any thread reads
        responses; :meth:`_finish` waits for it, :meth:`_drop` gives it up."""
        with self._lock:
            op = self._start_checked(gen, name)
        try:
            self._flush(time.monotonic() + max(0.0, timeout))
        except (NotConnectedError, ProtocolError, SMBTimeout):
            pass  # the connection is broken now: _finish() reports it
        return op

    def _finish(self, op: Operation, timeout: float) -> Any:
        """Wait (within ``timeout`` seconds) for an operation from :meth:`_begin`;
        its result, or its error raised."""
        with self._lock:
            if op.done:
                return op.outcome()
            if self.sock is None or self.broken is not None:
                self.abandon(op)
                raise NotConnectedError("connection is broken (%s)" % (self.broken or "closed",))
        return self._wait_for(op, time.monotonic() + max(0.0, timeout))

    def _start_checked(self, gen: OpGen, name: str) -> Operation:
        """Start ``gen`` in the core, or close it and raise when there is no
        usable connection.  Called with the lock held."""
        if self.sock is None:
            gen.close()
            raise NotConnectedError("not connected; call connect() first")
        if self.broken is not None:
            gen.close()
            raise NotConnectedError("connection is broken (%s); reconnect" % (self.broken,))
        return self.start(gen, name)

    def _wait_for(self, op: Operation, deadline: float) -> Any:
        """Send what is queued and read frames until ``op`` is done; its outcome.
        Nested calls per thread are counted (a reader resuming operations may
        start others)."""
        me = threading.get_ident()
        with self._lock:
            self._calls[me] = self._calls.get(me, 0) + 1
        try:
            self._drive(op, deadline)
        finally:
            with self._lock:
                depth = self._calls.pop(me) - 1
                if depth:
                    self._calls[me] = depth
        return op.outcome()

    def _drop(self, op: Operation) -> None:
        """Give up an operation from :meth:`_begin`: responses still due to it are
        dropped as they arrive; what its cleanup sends goes out with the next call."""
        with self._lock:
            if not op.done:
                self.abandon(op)

    def _wake_sleepers(self, everyone: bool = False, handoff: bool = True) -> None:
        """With the lock held: wake the waiting threads whose operation is done (all of
        them with ``everyone``: the connection broke or closed), and, with ``handoff``
        when nobody holds the reader role, one more to take it."""
        handoff = handoff and not self._reading
        for waiting_op, cond in self._sleepers.items():
            if everyone or waiting_op.done:
                cond.notify()
            elif handoff:
                cond.notify()
                handoff = False

    def _drive(self, op: Operation, deadline: float) -> None:
        cond: Optional[threading.Condition] = None
        try:
            while True:
                self._flush(deadline)
                with self._lock:
                    if op.done:
                        self._wake_sleepers()  # the reader role may be free: pass it on
                        return
                    if self.sock is None or self.broken is not None:
                        raise NotConnectedError("connection is broken (%s)" % (self.broken or "closed",))
                    if self._reading:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            raise SMBTimeout("operation timed out")
                        if cond is None:
                            cond = threading.Condition(self._lock)
                        self._sleepers[op] = cond
                        try:
                            cond.wait(remaining)
                        finally:
                            self._sleepers.pop(op, None)
                        continue
                    self._reading = True
                    sock = self.sock
                self._read_one(sock, deadline)
        except SMBTimeout:
            with self._lock:
                self._timed_out = True
                self.abandon(op)
                self._wake_sleepers()
            raise
        except (NotConnectedError, ProtocolError) as err:
            with self._lock:
                self.mark_broken(err)
                self.abandon(op)
            self._close_socket()
            raise

    def _read_one(self, sock: socket.socket, deadline: float) -> None:
        """As the reader: one frame from the socket into the core."""
        read = False
        try:
            try:
                packet_type, frame = self._reader.read(sock, self.framer, deadline)
            except socket.timeout as err:
                raise SMBTimeout("operation timed out waiting for the server") from err
            except (OSError, ValueError) as err:
                raise NotConnectedError("connection lost: %s" % err) from err
            with self._lock:
                if packet_type == SESSION_KEEPALIVE:
                    return
                if packet_type != SESSION_MESSAGE:
                    raise ProtocolError("unexpected NetBIOS packet type 0x%02X" % packet_type)
                # Still the reader: the frame buffer is not reused before the core is done with it.
                self.receive_frame(frame)
            read = True
        finally:
            with self._lock:
                self._reading = False
                closing, self._sock_to_close = self._sock_to_close, None
                # Only the threads whose operation this frame finished: the reader goes on
                # reading for the others, and passes the role on when it leaves (or now,
                # when the read failed).
                self._wake_sleepers(everyone=closing is not None or self.broken is not None, handoff=not read)
            if closing is not None:
                try:
                    closing.close()
                except OSError:
                    pass

    def _dialect_ops(self) -> Any:
        if self.sock is None:
            raise NotConnectedError("not connected; call connect() first")
        if self.dialect is None or not self.has_authenticated:
            raise NotReadyError("not connected and logged on; call connect() first")
        return self.dialect

    # ------------------------------------------------------------------ public API
    def echo(self, data: bytes, timeout: float = 10) -> bytes:
        """Send an ECHO; returns ``data`` (SMB1 servers echo it back)."""
        return self._run(self._dialect_ops().echo(data), timeout, "echo")

    def listShares(self, timeout: float = 30) -> List[SharedDevice]:
        """List the server's shares (SRVSVC NetShareEnumAll over ``IPC$``)."""
        return self._run(self._dialect_ops().list_shares(), timeout, "listShares")

    @_follows_dfs
    def listPath(self, service_name: str, path: str, search: int = DEFAULT_SEARCH, pattern: str = "*",
                 timeout: float = 30) -> List[SharedFile]:
        """List ``path`` on ``service_name``, including ``.`` and ``..``.

        ``pattern`` is matched by the server (wildcards ``*`` and ``?``);
        ``search`` is pysmb's client-side attribute mask.
        """
        return self._run(self._dialect_ops().list_path(service_name, normalize_path(path), search, pattern),
                         timeout, "listPath")

    def iterPath(self, service_name: str, path: str, pattern: str = "*", search: int = DEFAULT_SEARCH,
                 timeout: float = 30) -> Iterator[SharedFile]:
        """Yield the entries of folder ``path`` as :class:`SharedFile` objects, batch by
        batch as the server sends them, without collecting the whole listing: memory
        stays flat however big the folder is.

        The same entries as :meth:`listPath` (``.`` and ``..`` included, ``pattern``
        matched by the server, ``search`` the client-side attribute mask).  The folder
        is opened once; each batch is one QUERY_DIRECTORY (SMB2) or FIND_FIRST2 /
        FIND_NEXT2 (SMB1) round trip, its own call within ``timeout`` seconds, so
        other calls on this connection may run between two entries.  The handle (or
        the SMB1 search) is closed when the generator is exhausted, fails, or is closed
        early (``close()``, ``break`` out of a ``for`` loop that holds the only
        reference, garbage collection); wrap it in :func:`contextlib.closing` to close
        it at a known point.  A path behind a DFS link is listed at the target.
        """
        conn, listing, batch = self._open_listing(service_name, path, pattern, search, timeout)
        try:
            while batch is not None:
                for entry in batch:
                    yield entry
                batch = None  # let this batch go before the next one arrives
                batch = conn._run(listing.fetch(search), timeout, "iterPath")
        finally:
            conn._close_listing(listing, timeout)

    def _open_listing(self, service_name: str, path: str, pattern: str, search: int,
                      timeout: float) -> Tuple["SMBConnection", Any, Optional[List[SharedFile]]]:
        """Open a listing and fetch its first batch (eagerly, so that a DFS hop
        is counted while it happens); returns (connection, listing, batch)."""
        listing = self._dialect_ops().open_listing(service_name, normalize_path(path), pattern)
        try:
            batch = self._run(listing.fetch(search), timeout, "iterPath")
        except OperationFailure as err:
            self._close_listing(listing, timeout)
            if not self._dfs_redirects(err):
                raise
            cause = err
        except BaseException:
            self._close_listing(listing, timeout)
            raise
        else:
            return self, listing, batch
        return self._dfs_each_target(service_name, path, timeout,
                                     lambda conn, share, rest: conn._open_listing(share, rest, pattern, search,
                                                                                  timeout), cause)

    def _close_listing(self, listing: Any, timeout: float) -> None:
        """Close the server's handle of ``listing`` if it still has one; never raises."""
        if not listing.needs_close or self.sock is None or self.broken is not None:
            return
        if self._in_call():
            # Closed from inside another call on this connection (the generator was
            # collected there): queue the CLOSE with that call's requests, answered
            # in the background.
            with self._lock:
                self.abandon(self.start(listing.close(), "iterPath close"))
            return
        try:
            self._run(listing.close(), min(timeout, 30), "iterPath close")
        except (SMBError, OSError) as err:
            self.log.debug("closing a directory listing failed: %s", err)

    def walk(self, service_name: str, top: str, topdown: bool = True,
             onerror: Optional[Callable[[Exception], Any]] = None,
             timeout: float = 30) -> Iterator[Tuple[str, List[str], List[str]]]:
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
        return self._walk(service_name, top, topdown, onerror, timeout, True)

    def _walk(self, service_name: str, top: str, topdown: bool, onerror: Optional[Callable[[Exception], Any]],
              timeout: float, names: bool) -> Iterator[Tuple[str, List[Any], List[Any]]]:
        """:meth:`walk`, with :class:`SharedFile` lists instead of names unless ``names``."""
        # An explicit stack (not recursion): deep trees do not hit the recursion limit.
        stack: List[Any] = [normalize_path(top).replace("\\", "/")]
        while stack:
            item = stack.pop()
            if isinstance(item, tuple):  # bottom-up: a folder whose subfolders are done
                yield item
                continue
            dirs: List[SharedFile] = []
            files: List[SharedFile] = []
            try:
                for entry in self.iterPath(service_name, item, "*", _EVERYTHING, timeout):
                    if entry.filename in (".", ".."):
                        continue
                    (dirs if entry.isDirectory else files).append(entry)
            except OperationFailure as err:
                if onerror is not None:
                    onerror(err)
                continue
            entered = {d.filename for d in dirs if not d.file_attributes & C.ATTR_REPARSE_POINT}
            shown_dirs: List[Any] = [d.filename for d in dirs] if names else dirs
            shown_files: List[Any] = [f.filename for f in files] if names else files
            if topdown:
                yield item, shown_dirs, shown_files
            else:
                stack.append((item, shown_dirs, shown_files))
            below = [d if isinstance(d, str) else d.filename for d in shown_dirs]
            for name in reversed(below):
                if name in entered:
                    stack.append(item + "/" + name if item else name)

    @_follows_dfs
    def exists(self, service_name: str, path: str, timeout: float = 30) -> bool:
        """True when ``path`` (a file or a folder) exists on the share."""
        return self._stat(service_name, path, timeout) is not None

    @_follows_dfs
    def isFile(self, service_name: str, path: str, timeout: float = 30) -> bool:
        """True when ``path`` exists and is not a folder."""
        info = self._stat(service_name, path, timeout)
        return info is not None and not info.isDirectory

    @_follows_dfs
    def isDirectory(self, service_name: str, path: str, timeout: float = 30) -> bool:
        """True when ``path`` exists and is a folder."""
        info = self._stat(service_name, path, timeout)
        return info is not None and info.isDirectory

    def _stat(self, service_name: str, path: str, timeout: float) -> Optional[SharedFile]:
        """getAttributes, or None when the path (or a folder on the way) does not exist."""
        try:
            return self._run(self._dialect_ops().get_attributes(service_name, normalize_path(path)), timeout,
                             "getAttributes")
        except OperationFailure as err:
            if err.status in _NOT_FOUND:
                return None
            raise

    @_follows_dfs
    def makeDirs(self, service_name: str, path: str, exist_ok: bool = False, timeout: float = 30) -> None:
        """Create folder ``path`` and every missing folder above it, like
        :func:`os.makedirs`: an existing ``path`` raises
        :class:`OperationFailure` (STATUS_OBJECT_NAME_COLLISION) unless it is a
        folder and ``exist_ok`` is true; a file in the way always raises."""
        self._make_dirs(service_name, normalize_path(path), exist_ok, timeout)

    def _make_dirs(self, service_name: str, path: str, exist_ok: bool, timeout: float) -> None:
        ops = self._dialect_ops()
        if not path:  # the share root always exists
            if exist_ok:
                return
            raise OperationFailure("makeDirs: the share root of '%s' exists" % service_name, [],
                                   NtStatus.OBJECT_NAME_COLLISION)
        try:
            # Optimistic: the parent usually exists, so most calls cost one request.
            self._run(ops.create_directory(service_name, path), timeout, "makeDirs")
            return
        except OperationFailure as err:
            if err.status == NtStatus.OBJECT_NAME_COLLISION:
                info = self._stat(service_name, path, timeout)
                if exist_ok and info is not None and info.isDirectory:
                    return
                raise
            parent = path.rpartition("\\")[0]
            if err.status not in _NOT_FOUND or not parent:
                raise
        self._make_dirs(service_name, parent, True, timeout)
        try:
            self._run(ops.create_directory(service_name, path), timeout, "makeDirs")
        except OperationFailure as err:
            # Someone else made it meanwhile: fine when asked for.
            if err.status != NtStatus.OBJECT_NAME_COLLISION or not exist_ok or not self.isDirectory(
                    service_name, path, timeout):
                raise

    def downloadTree(self, service_name: str, remote_dir: str, local_dir: Any, show_progress: bool = False,
                     callback: Optional[Callable[[int, int, int, int], Any]] = None,
                     timeout: float = 30) -> Any:
        """Copy ``remote_dir`` and everything below it into ``local_dir``; returns a
        :class:`smb.treecopy.TreeResult`.  Every name from the server is checked
        (:func:`smb.treecopy.safe_local_name`) before anything is written, and
        nothing is written outside ``local_dir`` or through a symbolic link."""
        from .treecopy import download_tree
        return download_tree(self, service_name, remote_dir, local_dir, show_progress, callback, timeout)

    def uploadTree(self, local_dir: Any, service_name: str, remote_dir: str, show_progress: bool = False,
                   callback: Optional[Callable[[int, int, int, int], Any]] = None,
                   timeout: float = 30) -> Any:
        """Copy ``local_dir`` and everything below it to ``remote_dir`` on the share
        (links and special files are skipped); returns a :class:`smb.treecopy.TreeResult`."""
        from .treecopy import upload_tree
        return upload_tree(self, local_dir, service_name, remote_dir, show_progress, callback, timeout)

    @_follows_dfs
    def deleteTree(self, service_name: str, path: str, timeout: float = 30) -> None:
        """Delete folder ``path`` and everything below it (like
        :func:`shutil.rmtree`): files first, then folders bottom-up; read-only
        attributes are cleared where they would stop a deletion.  The share root
        cannot be deleted (``ValueError``)."""
        path = normalize_path(path)
        if not path:
            raise ValueError("deleteTree: refusing to delete the root of share '%s'" % service_name)
        ops = self._dialect_ops()
        info = self._run(ops.get_attributes(service_name, path), timeout, "deleteTree")
        if not info.isDirectory:
            raise OperationFailure("deleteTree '%s' on '%s' failed: %s" % (path, service_name, "not a folder"),
                                   [], NtStatus.NOT_A_DIRECTORY)

        def fail(err: Exception) -> None:
            raise err

        for dirpath, dirs, files in self._walk(service_name, path, False, fail, timeout, False):
            folder = dirpath.replace("/", "\\")
            for entry in files:
                if entry.isReadOnly:
                    self._clear_read_only(service_name, folder + "\\" + entry.filename, entry, timeout)
            if files:
                self._run(ops.delete_paths(service_name, [folder + "\\" + f.filename for f in files]), timeout,
                          "deleteTree")
            for entry in dirs:
                if entry.file_attributes & C.ATTR_REPARSE_POINT:  # a link: not entered, removed as is
                    self._delete_folder(service_name, folder + "\\" + entry.filename, timeout)
            # Bottom-up: every folder below this one is gone by now.
            self._delete_folder(service_name, folder, timeout)

    def _delete_folder(self, service_name: str, path: str, timeout: float) -> None:
        """deleteDirectory; a read-only folder that refuses is made writable first."""
        ops = self._dialect_ops()
        try:
            self._run(ops.delete_directory(service_name, path), timeout, "deleteTree")
            return
        except OperationFailure as err:
            if err.status not in (NtStatus.CANNOT_DELETE, NtStatus.ACCESS_DENIED):
                raise
            info = self._run(ops.get_attributes(service_name, path), timeout, "deleteTree")
            if not info.isReadOnly:
                raise
        self._clear_read_only(service_name, path, info, timeout)
        self._run(ops.delete_directory(service_name, path), timeout, "deleteTree")

    def _clear_read_only(self, service_name: str, path: str, entry: SharedFile, timeout: float) -> None:
        # 0 would mean "leave the attributes unchanged": clearing the last one needs ATTR_NORMAL.
        attributes = entry.file_attributes & ~C.ATTR_READONLY
        if not entry.isDirectory:
            attributes &= ~C.ATTR_DIRECTORY
        attributes = attributes or C.ATTR_NORMAL
        self._run(self._dialect_ops().set_basic_info(service_name, path, "deleteTree",
                                                     file_attributes=attributes), timeout, "deleteTree")

    @_follows_dfs
    def listSnapshots(self, service_name: str, path: str, timeout: float = 30) -> List[Any]:
        """Previous versions (shadow copies) of ``path`` as naive UTC datetimes."""
        return self._run(self._dialect_ops().list_snapshots(service_name, normalize_path(path)), timeout,
                         "listSnapshots")

    @_follows_dfs
    def getAttributes(self, service_name: str, path: str, timeout: float = 30) -> SharedFile:
        """Attributes of one file or folder as a :class:`SharedFile`."""
        return self._run(self._dialect_ops().get_attributes(service_name, normalize_path(path)), timeout,
                         "getAttributes")

    @_follows_dfs
    def getSecurity(self, service_name: str, path: str, timeout: float = 30) -> Any:
        """The security descriptor (owner, group, DACL) of a file or folder."""
        return self._run(self._dialect_ops().get_security(service_name, normalize_path(path)), timeout,
                         "getSecurity")

    @_follows_dfs
    def openFile(self, service_name: str, path: str, mode: str = "rb", buffering: int = -1,
                 encoding: Optional[str] = None, errors: Optional[str] = None, newline: Optional[str] = None,
                 share_access: str = "r", timeout: float = 30) -> Any:
        """Open ``path`` on the share as a file object, as :func:`open` opens a local file.

        ``mode``, ``buffering``, ``encoding``, ``errors`` and ``newline`` mean what they
        mean for :func:`open`: ``'r'`` reads an existing file, ``'w'`` creates or
        truncates, ``'x'`` creates a file that must not exist, ``'a'`` creates or opens
        and writes at the end; ``'+'`` adds the other direction, ``'b'`` binary, ``'t'``
        text (the default).  The result is an :class:`io.BufferedReader`,
        :class:`io.BufferedWriter` or :class:`io.BufferedRandom` (subclasses whose
        ``flush()`` reaches the server) over a :class:`smb.smbfile.SMBRawFile` (the raw
        file itself with ``buffering=0``), or an :class:`io.TextIOWrapper` over one of
        those in text mode.  The default buffer follows the server's MaxRead (four of
        them, 256 KiB .. 4 MiB), so each refill is several READs in flight; sequential
        reads are read ahead and writes written behind (an error surfaces at the next
        call on the file, at ``flush()`` or at ``close()``).

        ``share_access`` says what other opens of the file may do meanwhile: letters
        ``'r'`` (read), ``'w'`` (write), ``'d'`` (delete or rename), e.g. ``'rw'``.
        ``timeout`` applies to each call on the file (each read, write, seek to the end...).

        A missing file raises :class:`~smb.exceptions.SMBFileNotFoundError` (an
        :class:`OperationFailure` and a :class:`FileNotFoundError`); ``'x'`` on an existing
        file :class:`~smb.exceptions.SMBFileExistsError` (also a :class:`FileExistsError`);
        a folder :class:`~smb.exceptions.SMBIsADirectoryError`; a refused open
        :class:`~smb.exceptions.SMBPermissionError`.  Close the file before the
        connection: once the connection is closed, the file's calls raise
        :class:`NotConnectedError`.  A path behind a DFS link is opened at the target.
        """
        from .smbfile import open_file
        return open_file(self, service_name, normalize_path(path), mode, buffering, encoding, errors, newline,
                         share_access, timeout)

    @_follows_dfs
    def retrieveFile(self, service_name: str, path: str, file_obj: Any, timeout: float = 30,
                     show_progress: bool = False, tqdm_kwargs: Optional[Dict[str, Any]] = None,
                     progress: Optional[Callable[[int, int], None]] = None) -> Tuple[int, int]:
        """Download ``path`` into ``file_obj``; returns ``(file_attributes, bytes_read)``."""
        return self.retrieveFileFromOffset(service_name, path, file_obj, 0, -1, timeout, show_progress,
                                           tqdm_kwargs, progress)

    @_follows_dfs
    def retrieveFileFromOffset(self, service_name: str, path: str, file_obj: Any, offset: int = 0,
                               max_length: int = -1, timeout: float = 30, show_progress: bool = False,
                               tqdm_kwargs: Optional[Dict[str, Any]] = None,
                               progress: Optional[Callable[[int, int], None]] = None) -> Tuple[int, int]:
        """Download from ``offset``: ``max_length`` < 0 reads to EOF, 0 reads
        nothing; an offset past EOF reads 0 bytes."""
        if offset < 0:
            raise ValueError("offset must not be negative")
        path = normalize_path(path)
        with _Progress(path, None, show_progress, tqdm_kwargs, progress) as prog:
            gen = self._dialect_ops().retrieve(service_name, path, file_obj, offset, max_length, prog.update,
                                               prog.set_total)
            return self._run(gen, timeout, "retrieveFile")

    @_follows_dfs
    def storeFile(self, service_name: str, path: str, file_obj: Any, timeout: float = 30,
                  show_progress: bool = False, tqdm_kwargs: Optional[Dict[str, Any]] = None,
                  progress: Optional[Callable[[int, int], None]] = None) -> int:
        """Upload ``file_obj`` to ``path`` (replacing it); returns bytes written."""
        return self.storeFileFromOffset(service_name, path, file_obj, 0, True, timeout, show_progress,
                                        tqdm_kwargs, progress)

    @_follows_dfs
    def storeFileFromOffset(self, service_name: str, path: str, file_obj: Any, offset: int = 0,
                            truncate: bool = False, timeout: float = 30, show_progress: bool = False,
                            tqdm_kwargs: Optional[Dict[str, Any]] = None,
                            progress: Optional[Callable[[int, int], None]] = None) -> int:
        """Write ``file_obj`` at ``offset`` (creating the file if needed); the
        file is truncated first only when ``truncate`` is True.  Returns the
        end offset of the written data."""
        if offset < 0:
            raise ValueError("offset must not be negative")
        path = normalize_path(path)
        with _Progress(path, _remaining_size(file_obj), show_progress, tqdm_kwargs, progress) as prog:
            gen = self._dialect_ops().store(service_name, path, file_obj, offset, truncate, prog.update)
            return self._run(gen, timeout, "storeFile")

    @_follows_dfs
    def copyFile(self, service_name: str, src: str, dst: str, dst_service_name: Optional[str] = None,
                 timeout: float = 30, show_progress: bool = False, tqdm_kwargs: Optional[Dict[str, Any]] = None,
                 progress: Optional[Callable[[int, int], None]] = None) -> int:
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
        with _Progress(src, None, show_progress, tqdm_kwargs, progress) as prog:
            gen = self._dialect_ops().copy_file(service_name, src, dst_share, dst, prog.update, prog.set_total)
            return int(self._run(gen, timeout, "copyFile"))

    @_follows_dfs
    def deleteFiles(self, service_name: str, path_file_pattern: str, delete_matching_folders: bool = False,
                    timeout: float = 30) -> None:
        """Delete the files matching the pattern in the last path component
        (folders too, recursively, with ``delete_matching_folders``)."""
        self._run(self._dialect_ops().delete_files(service_name, normalize_path(path_file_pattern),
                                           delete_matching_folders), timeout, "deleteFiles")

    @_follows_dfs
    def deleteFile(self, service_name: str, path: str, timeout: float = 30) -> None:
        """Delete the one file ``path``, its name taken literally (no wildcard
        matching, no listing first: one round trip).  A missing file raises
        :class:`~smb.exceptions.SMBFileNotFoundError`, a folder
        :class:`~smb.exceptions.SMBIsADirectoryError`."""
        path = normalize_path(path)
        if not path:
            raise ValueError("deleteFile: the root of share '%s' is not a file" % service_name)
        try:
            self._run(self._dialect_ops().delete_paths(service_name, [path]), timeout, "deleteFile")
        except OperationFailure as err:
            raise file_error(err) from None

    @_follows_dfs
    def resetFileAttributes(self, service_name: str, path_file_pattern: str,
                            file_attributes: int = C.ATTR_NORMAL, timeout: float = 30) -> None:
        """Set the attributes of a file (default: ``ATTR_NORMAL``, i.e. clear them)."""
        self._run(self._dialect_ops().set_basic_info(service_name, normalize_path(path_file_pattern),
                                             "resetFileAttributes", file_attributes=file_attributes),
                  timeout, "resetFileAttributes")

    @_follows_dfs
    def setLastWriteTime(self, service_name: str, path: str, last_write_time: float, timeout: float = 30) -> None:
        """Set the last-write time of a file or folder (seconds since the epoch)."""
        self._set_times(service_name, path, "setLastWriteTime", timeout, write=last_write_time)

    @_follows_dfs
    def setTimes(self, service_name: str, path: str, create: Optional[float] = None,
                 access: Optional[float] = None, write: Optional[float] = None, change: Optional[float] = None,
                 timeout: float = 30) -> None:
        """Set the creation, last-access, last-write and change times of a file
        or folder (seconds since the epoch, floats); ``None`` leaves that time
        as it is.  One SET_INFO FileBasicInformation (SMB2) or
        SET_PATH_INFORMATION (SMB1).  Servers may ignore a time their file
        system cannot hold (Samba keeps the change time to itself)."""
        self._set_times(service_name, path, "setTimes", timeout, create=create, access=access, write=write,
                        change=change)

    def _set_times(self, service_name: str, path: str, what: str, timeout: float, create: Optional[float] = None,
                   access: Optional[float] = None, write: Optional[float] = None,
                   change: Optional[float] = None) -> None:
        def filetime(epoch: Optional[float]) -> int:
            # 0 is "leave unchanged" on the wire ([MS-FSCC] 2.4.7).
            return 0 if epoch is None else convertEpochToFILETIME(epoch)

        gen = self._dialect_ops().set_basic_info(service_name, normalize_path(path), what,
                                                 creation_time=filetime(create), last_access_time=filetime(access),
                                                 last_write_time=filetime(write), change_time=filetime(change))
        self._run(gen, timeout, what)

    @_follows_dfs
    def createDirectory(self, service_name: str, path: str, timeout: float = 30) -> None:
        """Create a folder."""
        self._run(self._dialect_ops().create_directory(service_name, normalize_path(path)), timeout, "createDirectory")

    @_follows_dfs
    def deleteDirectory(self, service_name: str, path: str, timeout: float = 30) -> None:
        """Delete an empty folder."""
        self._run(self._dialect_ops().delete_directory(service_name, normalize_path(path)), timeout, "deleteDirectory")

    def rename(self, service_name: str, old_path: str, new_path: str, timeout: float = 30) -> None:
        """Rename ``old_path`` to ``new_path`` on the share (both within one DFS target)."""
        try:
            return self._rename_here(service_name, old_path, new_path, timeout)
        except OperationFailure as err:
            if not self._dfs_redirects(err):
                raise
        conn, share, target_old = self._dfs_landing(service_name, old_path, timeout)
        conn_new, share_new, target_new = self._dfs_landing(service_name, new_path, timeout)
        if share_new.upper() != share.upper() or conn_new is not conn:
            raise OperationFailure("rename across DFS targets is not possible: %r and %r land on different "
                                   "shares" % (old_path, new_path), [], NtStatus.NOT_SAME_DEVICE)
        return conn.rename(share, target_old, target_new, timeout)

    def _rename_here(self, service_name: str, old_path: str, new_path: str, timeout: float = 30) -> None:
        """Rename or move a file or folder within a share."""
        self._run(self._dialect_ops().rename(service_name, normalize_path(old_path), normalize_path(new_path)),
                  timeout, "rename")

    # ------------------------------------------------------------------ DFS
    def resolveDfsPath(self, service_name: str, path: str, timeout: float = 30) -> str:
        """Where ``path`` on ``service_name`` lands after DFS referrals, as a UNC
        path ``\\\\server\\share\\path`` (the same path when it crosses no link)."""
        conn, share, rest = self._dfs_landing(service_name, path, timeout)
        server = conn.remote_name or conn.server_ip
        return dfs.join_unc(server, share, rest)

    def getDfsReferral(self, unc_path: str, timeout: float = 30) -> List[str]:
        """Ask this server for the DFS referral of ``unc_path`` (``\\\\server\\share\\...``
        or ``\\\\domain\\namespace\\...``; a root, link or sysvol referral): the UNC
        paths it leads to, in the order to try them.  Not cached; raises
        :class:`OperationFailure` when the server has no referral for it."""
        request_path = dfs.dfs_request_path(unc_path)
        response = self._referral(request_path, timeout)
        return [target.path for target in dfs.resolve(response, request_path)]

    def getDfsDomains(self, timeout: float = 30) -> List[str]:
        """The domains a domain controller serves DFS for, in NetBIOS and DNS form
        (a domain referral, [MS-DFSC] 3.3.5.2).  Other servers refuse the request
        (:class:`OperationFailure`)."""
        return [name for names in self._name_lists("", timeout) for name in names[:1]]

    def getDfsDomainControllers(self, domain: str, timeout: float = 30) -> List[str]:
        """The domain controllers of ``domain`` (NetBIOS or DNS name; the answer is
        in the same form), asked of a domain controller (a DC referral,
        [MS-DFSC] 3.3.5.3)."""
        if not domain or any(sep in domain for sep in "\\/"):
            raise ValueError("a domain name, not %r" % (domain,))
        return [name for names in self._name_lists("\\" + domain, timeout) for name in names[1:]]

    def _referral(self, request_path: str, timeout: float) -> ReferralResponse:
        raw = self._run(self._dialect_ops().dfs_referral(request_path), timeout, "dfs referral")
        return dfs.ReferralResponse.unpack(raw)

    def _name_lists(self, request_path: str, timeout: float) -> List[List[str]]:
        """[special name, expanded names...] of each name-list entry of a domain or DC
        referral, without the leading backslashes the names are sent with."""
        response = self._referral(request_path, timeout)
        return [[name.lstrip("\\") for name in [ref.special_name] + list(ref.expanded_names)]
                for ref in response.referrals if ref.is_name_list]

    def _unc(self, service_name: str, path: str) -> str:
        return dfs.join_unc(self.remote_name or self.server_ip, service_name, path)

    def _referral_targets(self, service_name: str, path: str, timeout: float = 30, root: bool = False) -> List[Any]:
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
        response = self._referral(request_path, timeout)
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

    def _dfs_peer(self, server: str) -> "SMBConnection":
        """This connection when ``server`` is the one it talks to, else a connection
        to ``server`` with the same credentials and options (kept until close())."""
        if server.lower() in {n.lower() for n in (self.server_ip, self.remote_name) if n}:
            return self
        with self._dfs_peers_lock:
            key = (server.lower(), self._port)
            peer = self._dfs_peers.get(key)
            if peer is not None and peer.sock is not None and peer.broken is None:
                return peer
            peer = SMBConnection(self.username, self._password, self.my_name, server, self.domain, self.use_ntlm_v2,
                                 self.sign_options, self.is_direct_tcp, self.encrypt, self.smb2_only, dfs=self.dfs,
                                 allow_guest_fallback=self.allow_guest_fallback)
            peer.kerberos_settings = self.kerberos_settings
            peer._dfs_cache = self._dfs_cache
            if not peer.connect(server, self._port, timeout=30):
                raise OperationFailure("DFS target %s refused the logon" % server, [], NtStatus.LOGON_FAILURE)
            self._dfs_peers[key] = peer
            return peer

    def _dfs_redirects(self, err: OperationFailure) -> bool:
        """Whether ``err`` sends the call to a referral: a path behind a link, or a
        share the server does not have (maybe a domain-based namespace)."""
        return self.dfs and err.status in (NtStatus.PATH_NOT_COVERED, NtStatus.BAD_NETWORK_NAME)

    def _dfs_each_target(self, service_name: str, path: str, timeout: float,
                         call: Callable[["SMBConnection", str, str], Any],
                         cause: Optional[OperationFailure] = None) -> Any:
        """Run ``call(connection, share, path)`` at each target of the referral for
        ``path`` until one is reachable.  ``cause`` is the failure that sent us here:
        a missing share with no referral raises it (the share just does not exist)."""
        if self._dfs_hops >= DFS_MAX_HOPS:
            raise OperationFailure("DFS: more than %d referrals for %s (a link that points back?)"
                                   % (DFS_MAX_HOPS, self._unc(service_name, path)), [], NtStatus.PATH_NOT_COVERED)
        if cause is not None and cause.status == NtStatus.BAD_NETWORK_NAME:
            try:
                targets = self._referral_targets(service_name, path, timeout, root=True)
            except OperationFailure as err:
                self.log.debug("no root referral for missing share %r either (%s)", service_name, err)
                raise cause from None
        else:
            targets = self._referral_targets(service_name, path, timeout)
        problems: List[str] = []
        for target in targets:
            try:
                conn = self._dfs_peer(target.server)
            except (NotConnectedError, SMBTimeout, OSError) as err:
                self.log.info("DFS target %s is unreachable (%s); trying the next", target.path, err)
                self._dfs_cache.mark_dead(target)
                problems.append("%s (%s)" % (target.path, err))
                continue
            saved, conn._dfs_hops = conn._dfs_hops, self._dfs_hops + 1
            try:
                return call(conn, target.share, target.rest)
            finally:
                conn._dfs_hops = saved
        raise NotConnectedError("no DFS target of %s is reachable: %s"
                                % (self._unc(service_name, path), "; ".join(problems)))

    def _dfs_retry(self, method: str, service_name: str, path: str, args: Tuple[Any, ...],
                   kwargs: Dict[str, Any], cause: Optional[OperationFailure] = None) -> Any:
        timeout = float(kwargs.get("timeout", 30))
        return self._dfs_each_target(service_name, path, timeout,
                                     lambda conn, share, rest: getattr(conn, method)(share, rest, *args, **kwargs),
                                     cause)

    def _dfs_landing(self, service_name: str, path: str, timeout: float = 30) -> Tuple["SMBConnection", str, str]:
        """(connection, share, path) where ``path`` lands, following every referral."""
        try:
            self._run(self._dialect_ops().get_attributes(service_name, normalize_path(path)), timeout,
                      "getAttributes")
            return self, service_name, path
        except OperationFailure as err:
            if not self._dfs_redirects(err):
                if err.status in (NtStatus.OBJECT_NAME_NOT_FOUND, NtStatus.NO_SUCH_FILE):
                    return self, service_name, path
                raise
            cause = err
        return self._dfs_each_target(service_name, path, timeout,
                                     lambda conn, share, rest: conn._dfs_landing(share, rest, timeout), cause)


def _remaining_size(file_obj: Any) -> Optional[int]:
    try:
        pos = file_obj.tell()
        end = file_obj.seek(0, os.SEEK_END)
        file_obj.seek(pos)
        return max(0, end - pos)
    except (AttributeError, OSError, ValueError):
        return None


class _Progress:
    """tqdm (imported lazily, optional) and/or a ``progress(done, total)`` callback."""

    def __init__(self, name: str, total: Optional[int], show: bool, tqdm_kwargs: Optional[Dict[str, Any]],
                 callback: Optional[Callable[[int, int], None]]) -> None:
        self.total = total
        self.done = 0
        self.callback = callback
        self.bar: Any = None
        if show:
            try:
                from tqdm import tqdm
            except ImportError:
                logging.getLogger("SMB.SMBConnection").warning(
                    "show_progress=True needs tqdm (pip install smbwire[progress])")
            else:
                kwargs = {"total": total, "unit": "B", "unit_scale": True, "unit_divisor": 1024,
                          "desc": name.rsplit("\\", 1)[-1]}
                kwargs.update(tqdm_kwargs or {})
                self.bar = tqdm(**kwargs)
        self.update: Optional[Callable[[int], None]] = self._update if (self.bar is not None or callback is not None) else None

    def set_total(self, total: int) -> None:
        """The size became known once the operation started."""
        self.total = total
        if self.bar is not None:
            self.bar.total = total
            self.bar.refresh()

    def _update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        if self.callback is not None:
            self.callback(self.done, self.total if self.total is not None else -1)

    def __enter__(self) -> "_Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.close()


# -- pysmb's star-imported names (see smb._reexport) ----------------------------------------------
_PYSMB_SOURCES = ('smb.smb_structs',)
__all__ = _reexport.star_all(__all__, ['smb.smb_structs'])
__getattr__ = _reexport.finder(__name__, _PYSMB_SOURCES)


def __dir__() -> List[str]:
    return _reexport.public_names(__name__)
