"""The blocking, socket-based SMB client with pysmb's API.

:class:`SMBConnection` is a thin driver over the IO-free core in
:mod:`smb.base`: it owns the socket, reads whole frames against one deadline
per operation, and feeds them to the core.  Every public method runs one
operation generator to completion (or to its deadline).
"""
from __future__ import annotations

import errno
import inspect
import logging
import select
import socket
import threading
import time
import weakref
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

from smb import _reexport
from ._framing import HEADER_SIZE, SESSION_KEEPALIVE, SESSION_MESSAGE
# pysmb imported these on "import smb.SMBConnection": scripts use smb.smb_structs.SUPPORT_SMB2,
# smb.ntlm, ... with no import of their own.
from . import base, ntlm, securityblob, smb_constants, smb_structs  # noqa: F401
from .base import SIGN_NEVER, SIGN_WHEN_REQUIRED, SIGN_WHEN_SUPPORTED, SMB, OpGen, Operation  # noqa: F401 (SMB: pysmb's)
from . import _procedures as P
from ._procedures import DEFAULT_SEARCH, ClientBase  # noqa: F401 (DEFAULT_SEARCH: a public name here)
from .dfs import CacheEntry, ReferralCache, ReferralResponse, Target
from .exceptions import NotConnectedError, NotReadyError, OperationFailure, ProtocolError, SMBTimeout  # noqa: F401

__all__ = ["SMBConnection", "SIGN_NEVER", "SIGN_WHEN_SUPPORTED", "SIGN_WHEN_REQUIRED"]

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


class SMBConnection(ClientBase):
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
    :param auto_reconnect: when the connection drops during ``retrieveFile*`` or
        ``storeFile*``, reconnect (same server, credentials and options; never to a weaker
        session) and resume the transfer where it stopped (default False, as pysmb; see
        :doc:`/faults`); over SMB2/3 a retrieve reads through a durable handle that the
        reconnect gets back.  :attr:`reconnects` counts the reconnects made,
        :attr:`durable_reopens` the durable handles given back
    :param max_retries: reconnects one call may make before it raises (default 3)
    :param keepalive: seconds of silence after which an ECHO checks the link; an unanswered
        one breaks the connection at once (default None: no keep-alive)

    The opening SMB1 NEGOTIATE offers SMB2 too, as pysmb's does.  A server
    that ignores SMB1 frames (or hangs up on them) gets a short part of the
    connect timeout (:func:`smb.base.smb1_probe_seconds`) to answer; then the
    client connects again with an SMB2 NEGOTIATE and remembers, for later
    connections in this process, that this server (host and port) wants SMB2
    from the start.  With ``smb_structs.SUPPORT_SMB2 = False`` there is no such
    retry: SMB1 was asked for.
    """

    log = logging.getLogger("SMB.SMBConnection")
    #: The threads of this connection and its DFS peers share the referral cache.
    _referral_cache_type = _SharedReferralCache

    def _init_driver(self) -> None:
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
        self._dfs_peers_lock = threading.Lock()

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
    # ------------------------------------------------------------------ procedures
    def _complete(self, proc: P.Proc[Any], err: Optional[BaseException] = None, emits: bool = False) -> Any:
        """Run procedure ``proc`` to its end (``err`` thrown in first); its result.  With
        ``emits`` it stops at what the procedure emits (and returns that :class:`Emit`)."""
        run = P.Runner(proc, err)
        while True:
            req = run.next()
            if req is None or (emits and type(req) is P.Emit):
                return run.result if req is None else req
            try:
                run.value = self._served(req)
            except BaseException as exc:  # noqa: BLE001 - handed to the procedure
                run.error = exc

    def _iterate(self, proc: P.Proc[Any]) -> Iterator[Any]:
        """Run an iterating procedure, yielding what it emits; closing the iterator
        lets the procedure clean up (its requests still served) before it ends."""
        while True:
            item = self._complete(proc, emits=True)
            if type(item) is not P.Emit:
                return
            try:
                yield item.value
            except GeneratorExit:
                try:
                    self._complete(proc, P.Closing())
                except P.Closing:
                    pass
                raise

    def _served(self, req: Any) -> Any:
        value = self._serve(req)
        if inspect.isawaitable(value):
            # An async file object's read/write: nothing here awaits it.
            getattr(value, "close", lambda: None)()
            raise TypeError("%s() of %r is a coroutine: async file objects need smb.aio.SMBConnection"
                            % (getattr(req, "method", "?"), getattr(req, "file_obj", req)))
        return value

    def _heard_anything(self) -> bool:
        return self._reader.heard_anything

    def _call(self, gen: OpGen, timeout: float, name: str) -> Any:
        return self._run(gen, timeout, name)

    def _hang_up(self) -> None:
        self._drop_socket()

    def _send_raw(self, data: bytes, deadline: float) -> None:
        self._send_all(self.sock, [(data,)], deadline)

    def _open_file(self, *args: Any) -> Any:
        from .smbfile import open_file
        return open_file(self, *args)

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _start_keepalive(self) -> None:
        sock = self.sock
        ref = weakref.ref(self)
        interval = max(0.05, (self.keepalive or 1.0) / 2)

        def run() -> None:
            # A weak reference: a connection nobody holds any more is not kept alive by this.
            while True:
                time.sleep(interval)
                conn = ref()
                if conn is None or conn.sock is not sock or conn.broken is not None:
                    return
                try:
                    conn._complete(conn._keepalive())
                except Exception as err:  # noqa: BLE001 - the thread must not die noisily
                    conn.log.debug("keep-alive failed: %s", err)
                del conn

        threading.Thread(target=run, name="smbwire-keepalive", daemon=True).start()

    def _transport_open(self) -> bool:
        return self.sock is not None

    # ------------------------------------------------------------------ connect / close
    def write(self, data: bytes) -> None:
        """Send raw bytes on the connection's socket (pysmb's transport hook)."""
        with self._lock:
            if self.sock is None:
                raise NotConnectedError("not connected; call connect() first")
            self.queue(data)
        self._flush(time.monotonic() + 60)

    def _dial(self, ip: str, port: int, family: Optional[int], deadline: float, fresh: bool) -> None:
        """A socket to ``ip:port``; with ``fresh`` a fresh core state too (a new
        connection), else it replaces the socket (NetBIOS retarget or fallback)."""
        if fresh:
            self.reset()
            self._reader = _FrameReader()
        else:
            self._drop_socket()
        self.server_ip = ip
        self.sock = self._open_socket(ip, port, family, deadline)

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
    def _read_packet(self, deadline: float) -> Tuple[int, bytes]:
        """One NetBIOS session packet before the first frame: (type, payload)."""
        header = self._recv_exact(4, deadline)
        length = int.from_bytes(header[1:4], "big") & 0x1FFFF
        return header[0], (self._recv_exact(length, deadline) if length else b"")

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
                self._last_heard = time.monotonic()
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
    # ------------------------------------------------------------------ public API
    # Each call is its procedure in smb._procedures, run in the calling thread (see the end
    # of this module); openFile and the tree copies are this driver's own.
    def _close_listing(self, listing: Any, timeout: float) -> P.Proc[None]:
        if self._in_call() and listing.needs_close and self.sock is not None and self.broken is None:
            # Closed from inside another call on this connection (the iterator was collected
            # there): queue the CLOSE with that call's requests, answered in the background.
            with self._lock:
                self.abandon(self.start(listing.close(), "iterPath close"))
            return
        yield from super()._close_listing(listing, timeout)

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
        return self._complete(self._p_openFile(service_name, path, mode, buffering, encoding, errors, newline,
                                               share_access, timeout))

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

    # ------------------------------------------------------------------ DFS peers
    def _dfs_peer(self, server: str) -> "SMBConnection":
        """This connection when ``server`` is the one it talks to, else a connection
        to ``server`` with the same credentials and options (kept until close())."""
        if self._is_this_server(server):
            return self
        with self._dfs_peers_lock:
            key = (server.lower(), self._port)
            peer = self._dfs_peers.get(key)
            if peer is not None and peer.sock is not None and peer.broken is None:
                return peer
            peer = self._new_peer(server)
            if not peer.connect(server, self._port, timeout=30):
                raise OperationFailure("DFS target %s refused the logon" % server, [], P.NtStatus.LOGON_FAILURE)
            self._dfs_peers[key] = peer
            return peer


P.install(SMBConnection, SMBConnection._complete, SMBConnection._iterate)


# -- pysmb's star-imported names (see smb._reexport) ----------------------------------------------
_PYSMB_SOURCES = ('smb.smb_structs',)
__all__ = _reexport.star_all(__all__, ['smb.smb_structs'])
__getattr__ = _reexport.finder(__name__, _PYSMB_SOURCES)


def __dir__() -> List[str]:
    return _reexport.public_names(__name__)
