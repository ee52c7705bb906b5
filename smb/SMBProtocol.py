"""The SMB client for Twisted (pysmb's ``smb.SMBProtocol``): :class:`SMBProtocolFactory`.

Give the factory to ``reactor.connectTCP(host, 139 or 445, factory)``; once logged on,
its :meth:`~SMBProtocolFactory.onAuthOK` is called, and its methods return Deferreds.
The connection, :class:`SMBProtocol`, is a Twisted ``Protocol`` driving the same IO-free
core and the same procedures (:mod:`smb._procedures`) as the blocking and asyncio
drivers; this module only moves bytes, fires Deferreds and sets ``reactor.callLater``
timers.  Needs the ``twisted`` extra (``pip install smbwire[twisted]``).

.. code-block:: python

    from twisted.internet import reactor
    from smb.SMBProtocol import SMBProtocolFactory

    class Lister(SMBProtocolFactory):
        def onAuthOK(self):
            d = self.listPath("share", "/")
            d.addCallback(lambda files: print([f.filename for f in files]))
            d.addBoth(lambda _: reactor.stop())

        def onAuthFailed(self):
            reactor.stop()

    reactor.connectTCP("192.0.2.10", 139, Lister("user", "secret", "client", "SERVER"))
    reactor.run()
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from twisted.internet import defer, protocol, task, threads
from twisted.internet import reactor as _the_reactor
from twisted.python.failure import Failure

from smb import _reexport
from . import _procedures as P
from ._framing import SESSION_KEEPALIVE, SESSION_MESSAGE
from ._procedures import DEFAULT_SEARCH, ClientBase
from .base import SIGN_NEVER, SIGN_WHEN_REQUIRED, SIGN_WHEN_SUPPORTED, Operation
from .exceptions import NotConnectedError, OperationFailure, ProtocolError, SMBTimeout, UnsupportedFeature
from .nt_status import NtStatus

__all__ = ["SMBProtocol", "SMBProtocolFactory"]

#: Twisted's global reactor (typed loosely: its stubs describe it as a module).
reactor: Any = _the_reactor


def _settled(value: Any, then: Callable[[Any, Optional[BaseException]], None]) -> None:
    """``then(result, None)`` or ``then(None, error)`` once ``value`` (a Deferred, a
    coroutine, or a plain value) is there."""
    if asyncio.iscoroutine(value):
        value = defer.ensureDeferred(value)
    if isinstance(value, defer.Deferred):
        def ok(result: Any) -> None:
            then(result, None)

        def failed(failure: Failure) -> None:
            then(None, failure.value)

        value.addCallbacks(ok, failed)
        return
    then(value, None)


class SMBProtocol(protocol.Protocol, ClientBase):
    """One SMB connection in the reactor (pysmb's ``smb.SMBProtocol.SMBProtocol``):
    pysmb's constructor plus the blocking class's keyword options (``encrypt``,
    ``smb2_only``, ``use_kerberos``, ``dfs``, ...).  Made by :class:`SMBProtocolFactory`;
    logs on as soon as the TCP connection is made.  Every call of the blocking class
    but ``openFile``, ``iterPath``, ``walk`` and the tree copies is here as a method
    returning a Deferred (with the blocking class's results; the factory's methods
    return pysmb's)."""

    log = logging.getLogger("SMB.SMBProtocol")
    factory: Any = None

    def _init_driver(self) -> None:
        self._waiters: Dict[Operation, "defer.Deferred[Any]"] = {}
        self._finished: List[Operation] = []
        self._packets: List[Tuple[int, bytes]] = []
        self._packet_waiter: Optional["defer.Deferred[None]"] = None
        #: The TCP connection Twisted made for this protocol, not used yet by a Dial.
        self._given: Optional[Any] = None
        self._wire: Optional[Any] = None
        #: The factory's onAuthOK was called (once per connection, not again after a reconnect).
        self._announced = False

    # ------------------------------------------------------------------ Twisted's Protocol
    def connectionMade(self) -> None:
        """The factory's TCP connection is up: log on (NetBIOS session first on port 139)."""
        if self.factory is not None:
            self.factory.instance = self
        transport: Any = self.transport
        self._given = transport
        peer = transport.getPeer()
        d = self._complete(self._connect(peer.host, peer.port, None, getattr(self.factory, "timeout", 60)))

        def done(ok: Any) -> None:
            if not ok:
                self.log.info("logon to %s:%d refused", peer.host, peer.port)

        def failed(failure: Failure) -> None:
            self.log.info("connecting to %s:%d failed: %s", peer.host, peer.port, failure.value)
            self.onAuthFailed()

        d.addCallbacks(done, failed)

    def dataReceived(self, data: bytes) -> None:
        """Bytes from the factory's TCP connection."""
        self._data_in(self.transport, data)

    def connectionLost(self, reason: Any = None) -> None:
        self._lost(self._given or self.transport, reason)
        if self.factory is not None and self.factory.instance is self:
            self.factory.instance = None

    def write(self, data: bytes) -> None:
        """Send raw bytes on the connection (pysmb's transport hook)."""
        if self._wire is None:
            raise NotConnectedError("not connected")
        self._wire.write(data)

    def onAuthOK(self) -> None:
        ClientBase.onAuthOK(self)
        if self.factory is None:
            return
        if self.reconnects or self._announced:
            # Logged on again after a reconnect (auto_reconnect): the factory's connection is
            # this one still; its onAuthOK already ran once.
            if self.factory.instance is None:
                self.factory.instance = self
            return
        if self.factory.instance is self:
            self._announced = True
            self.factory.onAuthOK()

    def onAuthFailed(self) -> None:
        ClientBase.onAuthFailed(self)
        if self.factory is not None and self.factory.instance is self:
            self.factory.onAuthFailed()

    def onNMBSessionFailed(self) -> None:
        self.log.error("Cannot establish NetBIOS session. You might have provided a wrong remote_name")

    # ------------------------------------------------------------------ procedures
    def _offload(self, fn: Callable[..., Any], *args: Any) -> Any:
        return threads.deferToThread(fn, *args)

    def _send_raw(self, data: bytes, deadline: float) -> None:
        self.write(data)

    def _sleep(self, seconds: float) -> Any:
        return task.deferLater(reactor, seconds, lambda: None)

    def _start_keepalive(self) -> None:
        wire = self._wire

        def tick() -> None:
            if self._wire is not wire or self.broken is not None:
                if loop.running:
                    loop.stop()
                return
            self._complete(self._keepalive()).addErrback(lambda f: self.log.debug("keep-alive failed: %s", f.value))

        loop = task.LoopingCall(tick)
        loop.clock = reactor
        loop.start(max(0.05, (self.keepalive or 1.0) / 2), now=False)

    def _open_file(self, *args: Any) -> Any:
        raise UnsupportedFeature("openFile is not offered by the Twisted driver (use smb.aio or the blocking one)")

    def _complete(self, proc: P.Proc[Any]) -> "defer.Deferred[Any]":
        """Run procedure ``proc``; a Deferred of its result.  Cancelling it cancels what the
        procedure waits for (the operation is given up, its cleanup still runs) and errbacks
        with CancelledError."""
        waiting: List[Any] = []

        cancelled: List[bool] = []

        def cancel(_: Any) -> None:
            cancelled.append(True)
            if waiting and isinstance(waiting[0], defer.Deferred) and not waiting[0].called:
                waiting[0].cancel()

        result: "defer.Deferred[Any]" = defer.Deferred(cancel)
        run = P.Runner(proc)

        def step(value: Any, err: Optional[BaseException]) -> None:
            run.value, run.error = value, err
            while True:
                try:
                    req = run.next()
                except BaseException as exc:  # noqa: BLE001 - the call's outcome
                    # Given up because the caller cancelled: that is what the caller hears.
                    result.errback(Failure(defer.CancelledError() if cancelled else exc))
                    return
                if req is None:
                    result.callback(run.result)
                    return
                try:
                    answer = self._serve(req)
                except BaseException as exc:  # noqa: BLE001 - handed to the procedure
                    run.error = exc
                    continue
                if isinstance(answer, defer.Deferred) or asyncio.iscoroutine(answer):
                    if asyncio.iscoroutine(answer):
                        answer = defer.ensureDeferred(answer)
                    waiting[:] = [answer]
                    _settled(answer, step)
                    return
                run.value = answer

        step(None, None)
        return result

    def _heard_anything(self) -> bool:
        return bool(getattr(self, "_heard", False))

    def _transport_open(self) -> bool:
        return self._wire is not None

    # ------------------------------------------------------------------ running operations
    def _call(self, gen: Any, timeout: float, name: str) -> Any:
        """Run one operation generator; its outcome, or a Deferred of it (errback
        :class:`SMBTimeout` after ``timeout`` seconds; cancelling the Deferred gives the
        operation up, its cleanup still sent)."""
        op = self._start_checked(gen, name)
        self._flush()
        if op.done:
            self._finished = [o for o in self._finished if o is not op]
            return op.outcome()

        def cancel(_: Any) -> None:
            self._give_up(op)

        d: "defer.Deferred[Any]" = defer.Deferred(cancel)
        self._waiters[op] = d
        timer = reactor.callLater(max(0.0, timeout), self._give_up, op)

        def stop_timer(outcome: Any) -> Any:
            if timer.active():
                timer.cancel()
            return outcome

        d.addBoth(stop_timer)
        self._fire()
        return d

    def op_finished(self, op: Operation) -> None:
        self._finished.append(op)

    def _fire(self) -> None:
        """Call back the Deferreds of the finished operations (outside the core)."""
        while self._finished:
            op = self._finished.pop(0)
            d = self._waiters.pop(op, None)
            if d is None or d.called:
                continue
            if op.error is not None:
                d.errback(Failure(op.error))
            else:
                d.callback(op.result)

    def _give_up(self, op: Operation) -> None:
        if not op.done and self.broken is None:
            self.abandon(op)
            self._flush()
        self._fire()

    def _flush(self) -> None:
        frames = self.frames_to_send()
        if self._wire is None:
            return
        for frame in frames:
            self._wire.write(b"".join(frame))

    def _data_in(self, wire: Any, data: bytes) -> None:
        if wire is not self._wire:
            return
        self._heard = True
        self._last_heard = time.monotonic()
        self.framer.feed(data)
        try:
            while self._wire is wire:
                item = self.framer.next_frame()
                if item is None:
                    break
                packet_type, payload = item
                if packet_type == SESSION_KEEPALIVE:
                    continue
                if self.dialect is None:  # before NEGOTIATE: the NetBIOS session exchange
                    if len(self._packets) >= 16:
                        raise ProtocolError("%d NetBIOS packets before the session answer" % len(self._packets))
                    self._packets.append((packet_type, payload))
                    waiter, self._packet_waiter = self._packet_waiter, None
                    if waiter is not None and not waiter.called:
                        waiter.callback(None)
                    continue
                if packet_type != SESSION_MESSAGE:
                    raise ProtocolError("unexpected NetBIOS packet type 0x%02X" % packet_type)
                self.receive_frame(memoryview(payload))
                self._flush()
        except (ProtocolError, NotConnectedError) as err:
            self._lost(wire, err)
        self._fire()

    def _lost(self, wire: Any, reason: Any) -> None:
        if wire is not self._wire:
            return
        err = reason if isinstance(reason, BaseException) else NotConnectedError(
            "connection lost: %s" % (getattr(reason, "value", reason),))
        if self.broken is None:
            self.mark_broken(err)
        self._close_wire()
        self.has_authenticated = False
        self._fail_waiters(NotConnectedError("connection is broken (%s)" % (self.broken,)))

    def _fail_waiters(self, err: BaseException) -> None:
        self._fire()
        waiters, self._waiters = self._waiters, {}
        for d in waiters.values():
            if not d.called:
                d.errback(Failure(err))
        waiter, self._packet_waiter = self._packet_waiter, None
        if waiter is not None and not waiter.called:
            waiter.errback(Failure(err))

    def _close_wire(self) -> None:
        wire, self._wire = self._wire, None
        if wire is not None:
            wire.abortConnection() if hasattr(wire, "abortConnection") else wire.loseConnection()

    # ------------------------------------------------------------------ transport
    def _dial(self, ip: str, port: int, family: Optional[int], deadline: float, fresh: bool) -> Any:
        if fresh:
            self.reset()
            self._packets = []
            self._heard = False
        else:
            self._hang_up()
        self.server_ip = ip
        given, self._given = self._given, None
        if given is not None and given.connected:
            self._wire = given  # the connection the factory's connectTCP made
            return None
        creator = protocol.ClientCreator(reactor, _Wire, self)
        d = creator.connectTCP(ip, port, timeout=max(1, int(deadline - time.monotonic() + 0.999)))

        def made(wire: "_Wire") -> None:
            self._wire = wire.transport

        def failed(failure: Failure) -> None:
            raise NotConnectedError("cannot connect to %s:%d: %s" % (ip, port, failure.value))

        d.addCallbacks(made, failed)
        return d

    def _hang_up(self) -> None:
        self._close_wire()
        self.has_authenticated = False
        self._fail_waiters(NotConnectedError("the connection was closed"))

    def _read_packet(self, deadline: float) -> Any:
        if self._packets:
            return self._packets.pop(0)
        if self._wire is None:
            raise NotConnectedError("connection closed by the server")
        waiter: "defer.Deferred[None]" = defer.Deferred()
        self._packet_waiter = waiter
        timer = reactor.callLater(max(0.0, deadline - time.monotonic()), self._packet_timeout, waiter)

        def got(_: Any) -> Any:
            if timer.active():
                timer.cancel()
            return self._read_packet(deadline)

        waiter.addCallback(got)
        return waiter

    def _packet_timeout(self, waiter: "defer.Deferred[None]") -> None:
        if not waiter.called:
            if self._packet_waiter is waiter:
                self._packet_waiter = None
            waiter.errback(Failure(SMBTimeout("timed out waiting for the server")))

    # ------------------------------------------------------------------ calls
    # Each call is its procedure in smb._procedures, run by the reactor (installed after the
    # class): all of the blocking class's but openFile, iterPath, walk and the tree copies.
    def close(self) -> None:
        """Log off (sent, not waited for) and close the connection, and those of the DFS
        targets it opened.  Idempotent; never raises."""
        peers, self._dfs_peers = self._dfs_peers, {}
        for peer in peers.values():
            peer.close()
        if self._wire is None:
            return
        if not self._waiters:
            self._queue_logoff()
            self._flush()
        wire, self._wire = self._wire, None
        self.has_authenticated = False
        self._fail_waiters(NotConnectedError("the connection was closed"))
        wire.loseConnection()  # what is queued still goes out

    # ------------------------------------------------------------------ DFS peers
    def _dfs_peer(self, server: str) -> Any:
        if self._is_this_server(server):
            return self
        key = (server.lower(), self._port)
        peer = self._dfs_peers.get(key)
        if peer is not None and peer._wire is not None and peer.broken is None:
            return peer
        peer = self._new_peer(server)
        d = peer.connect(server, self._port, timeout=30)

        def logged_on(ok: Any) -> Any:
            if not ok:
                raise OperationFailure("DFS target %s refused the logon" % server, [], NtStatus.LOGON_FAILURE)
            self._dfs_peers[key] = peer
            return peer

        d.addCallback(logged_on)
        return d


P.install(SMBProtocol, SMBProtocol._complete, None, skip=("openFile",))


class _Wire(protocol.Protocol):
    """A TCP connection an :class:`SMBProtocol` made itself (a DFS target, a reconnect
    with an SMB2 NEGOTIATE): its bytes go to that protocol."""

    def __init__(self, owner: SMBProtocol) -> None:
        self.owner = owner

    def dataReceived(self, data: bytes) -> None:
        self.owner._data_in(self.transport, data)

    def connectionLost(self, reason: Any = None) -> None:
        self.owner._lost(self.transport, reason)


def _pysmb_shape(name: str, call: Callable[..., "defer.Deferred[Any]"]) -> Callable[..., "defer.Deferred[Any]"]:
    """The factory's method ``name``: the protocol's call, its result in pysmb's shape."""
    shapes: Dict[str, Callable[[Tuple[Any, ...], Any], Any]] = {
        "retrieveFile": lambda a, r: (a[2], r[0], r[1]),
        "retrieveFileFromOffset": lambda a, r: (a[2], r[0], r[1]),
        "storeFile": lambda a, r: (a[2], r),
        "storeFileFromOffset": lambda a, r: (a[2], r),
        "deleteFiles": lambda a, r: a[1],
        "createDirectory": lambda a, r: a[1],
        "deleteDirectory": lambda a, r: a[1],
        "rename": lambda a, r: (a[1], a[2]),
        "echo": lambda a, r: a[0],
    }
    shape = shapes.get(name)

    def method(self: "SMBProtocolFactory", *args: Any, **kwargs: Any) -> "defer.Deferred[Any]":
        if self.instance is None:
            return defer.fail(NotConnectedError("not connected to the server"))
        d = getattr(self.instance, name)(*args, **kwargs)
        if shape is not None:
            d.addCallback(lambda result: shape(args, result))
        return d

    method.__name__ = method.__qualname__ = name
    method.__wrapped__ = call  # type: ignore[attr-defined]  # inspect.signature shows the call's parameters
    method.__doc__ = (call.__doc__ or "") + "\n\nReturns a Deferred%s." % (
        " (called back with pysmb's result)" if shape is not None else "")
    return method


class SMBProtocolFactory(protocol.ClientFactory):
    """pysmb's ``SMBProtocolFactory``: pass it to ``reactor.connectTCP()``; override
    :meth:`onAuthOK` (and :meth:`onAuthFailed`) and call its methods, each returning a
    Deferred, once logged on.  Keyword options beyond pysmb's (``encrypt``, ``smb2_only``,
    ``use_kerberos``, ``dfs``, ``allow_guest_fallback``, ...) go to the connection;
    ``timeout`` bounds the logon.

    The Deferreds call back with pysmb's results: ``retrieveFile`` with ``(file_obj,
    file_attributes, bytes_read)``, ``storeFile`` with ``(file_obj, bytes_written)``,
    ``deleteFiles`` with the pattern, ``createDirectory`` / ``deleteDirectory`` with the
    path, ``rename`` with ``(old_path, new_path)``, ``echo`` with the data; the other
    calls with what the blocking class returns.  They errback with the blocking class's
    exceptions (:class:`~smb.exceptions.OperationFailure`,
    :class:`~smb.exceptions.SMBTimeout`, :class:`~smb.exceptions.NotConnectedError`).
    """

    protocol = SMBProtocol
    log = logging.getLogger("SMB.SMBFactory")
    SIGN_NEVER = SIGN_NEVER
    SIGN_WHEN_SUPPORTED = SIGN_WHEN_SUPPORTED
    SIGN_WHEN_REQUIRED = SIGN_WHEN_REQUIRED

    def __init__(self, username: str, password: Any, my_name: str, remote_name: str, domain: str = "",
                 use_ntlm_v2: bool = True, sign_options: int = SIGN_WHEN_REQUIRED, is_direct_tcp: bool = False,
                 timeout: float = 60, **options: Any) -> None:
        self.username = username
        self.password = password
        self.my_name = my_name
        self.remote_name = remote_name
        self.domain = domain
        self.use_ntlm_v2 = use_ntlm_v2
        self.sign_options = sign_options
        self.is_direct_tcp = is_direct_tcp
        self.timeout = timeout
        self.options = options
        #: The connection (an :class:`SMBProtocol`) once Twisted has made it; None before and after.
        self.instance: Optional[SMBProtocol] = None

    @property
    def isReady(self) -> bool:
        """True when connected and logged on: the methods can be called."""
        return bool(self.instance is not None and self.instance.has_authenticated)

    @property
    def isUsingSMB2(self) -> bool:
        """True when the connection runs SMB 2.0.2 or later."""
        return bool(self.instance is not None and self.instance.isUsingSMB2)

    def onAuthOK(self) -> None:
        """Logged on: override to start work."""

    def onAuthFailed(self) -> None:
        """The logon was refused, or the connection failed before it: override to react."""

    def buildProtocol(self, addr: Any) -> SMBProtocol:
        p = self.protocol(self.username, self.password, self.my_name, self.remote_name, self.domain,
                          self.use_ntlm_v2, self.sign_options, self.is_direct_tcp, **self.options)
        p.factory = self
        return p

    def closeConnection(self) -> None:
        """Log off and close the connection (what is queued still goes out)."""
        if self.instance is None:
            raise NotConnectedError("not connected to the server")
        self.instance.close()

    def listShares(self, timeout: float = 30) -> "defer.Deferred[Any]":
        """The server's shares: a Deferred of a list of :class:`~smb.base.SharedDevice`."""
        return _pysmb_shape("listShares", SMBProtocol.listShares)(self, timeout)

    def listPath(self, service_name: str, path: str, search: int = DEFAULT_SEARCH, pattern: str = "*",
                 timeout: float = 30) -> "defer.Deferred[Any]":
        """A Deferred of the folder's :class:`~smb.base.SharedFile` list (``.`` and ``..`` too)."""
        return _pysmb_shape("listPath", SMBProtocol.listPath)(self, service_name, path, search, pattern, timeout)


for _name in P.ONE_SHOT:
    if _name not in ("listShares", "listPath"):
        setattr(SMBProtocolFactory, _name, _pysmb_shape(_name, getattr(SMBProtocol, _name)))
del _name


# -- pysmb's star-imported names (see smb._reexport) ----------------------------------------------
_PYSMB_SOURCES = ('smb.base', 'smb.smb_structs', 'smb.smb2_structs', 'smb.utils', 'smb.security_descriptors')
__all__ = _reexport.star_all(__all__, list(_PYSMB_SOURCES))
__getattr__ = _reexport.finder(__name__, _PYSMB_SOURCES)


def __dir__() -> List[str]:
    return _reexport.public_names(__name__)
