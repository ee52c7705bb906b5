"""NetBIOS name service client for Twisted (pysmb's ``nmb.NetBIOSProtocol``).

:class:`NBNSProtocol` is a Twisted ``DatagramProtocol`` whose queries return
Deferreds.  The packets, the matching of replies, the decisions and the
retransmission policy are the same as the blocking and asyncio clients' (they
live in :class:`nmb.base.NBNS` and :class:`nmb.base.Query`); this module only
feeds datagrams in and sends them out, with ``reactor.callLater`` as the clock.
Needs the ``twisted`` extra (``pip install smbwire[twisted]``).
"""
from __future__ import annotations

import logging
import socket
from typing import Any, Callable, Dict, List, Optional, Tuple

from twisted.internet import defer
from twisted.internet import reactor as _the_reactor
from twisted.internet.protocol import DatagramProtocol

from smb.exceptions import NotConnectedError

from .base import NBNS, Query, host_names
from .nmb_constants import NAME_SERVICE_PORT
from .nmb_structs import NodeStatus

__all__ = ["NBNSProtocol", "NetBIOSTimeout"]

#: Twisted's global reactor (typed loosely: its stubs describe it as a module).
reactor: Any = _the_reactor


class NetBIOSTimeout(Exception):
    """The errback of a query whose time passed without an answer (pysmb's name)."""


class _Pending:
    __slots__ = ("query", "deferred", "deadline", "timer", "convert")

    def __init__(self, query: Query, deferred: "defer.Deferred[Any]", deadline: float,
                 convert: Callable[[Any], Any]) -> None:
        self.query = query
        self.deferred = deferred
        self.deadline = deadline
        self.timer: Any = None
        self.convert = convert


class NBNSProtocol(DatagramProtocol):
    """pysmb's Twisted NetBIOS name service client.

    Creating one listens on UDP ``listen_port`` (0: any) right away through
    ``reactor.listenUDP`` (do not call it again); ``broadcast=True`` allows
    broadcast queries.  :meth:`queryName` and :meth:`queryIPForName` return
    Deferreds: their callback gets the list of addresses (or names); a query
    whose time passes errbacks with :class:`NetBIOSTimeout`.  A name server's
    final negative answer calls back with None.
    """

    log = logging.getLogger("NMB.NBNSProtocol")

    def __init__(self, broadcast: bool = True, listen_port: int = 0) -> None:
        self.broadcast = broadcast
        self._nbns = NBNS()
        self._nbns.log = self.log
        #: The queries waiting for an answer, by transaction id (pysmb's name).
        self.pending_trns: Dict[int, _Pending] = {}
        self.transport: Any = None
        self._port = reactor.listenUDP(listen_port, self)
        if broadcast:
            self._port.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)

    # -- Twisted's side -------------------------------------------------------------------------

    def datagramReceived(self, data: bytes, from_info: Tuple[str, int]) -> None:
        query = self._nbns.feed(data, from_info)
        if query is not None:
            pending = self.pending_trns.get(query.trn_id)
            if pending is not None:
                self._settle(pending)

    def stopProtocol(self) -> None:
        """The port stopped listening: pending queries errback with NotConnectedError."""
        for pending in list(self.pending_trns.values()):
            self._end(pending)
            pending.deferred.errback(NotConnectedError("the NetBIOS protocol stopped listening"))
        DatagramProtocol.stopProtocol(self)

    def write(self, data: bytes, ip: str, port: int) -> None:
        """Send one name service datagram to ``ip:port`` (pysmb's hook)."""
        if self.transport is None:
            raise NotConnectedError("the NetBIOS protocol is not listening")
        self.transport.write(data, (ip, port))

    # -- public API ---------------------------------------------------------------------------

    def queryName(self, name: str, ip: str = "", port: int = NAME_SERVICE_PORT,
                  timeout: float = 30) -> "defer.Deferred[Optional[List[str]]]":
        """Ask for the IPv4 addresses of ``name`` (of ``ip``, or broadcast without
        one): a Deferred firing with the list of addresses in dotted notation."""
        query = self._nbns.name_query(name, ip, port, self.broadcast)
        return self._start(query, timeout, lambda result: result if isinstance(result, list) else None)

    def queryIPForName(self, ip: str, port: int = NAME_SERVICE_PORT,
                       timeout: float = 30) -> "defer.Deferred[Optional[List[str]]]":
        """Ask the host at ``ip`` for its names: a Deferred firing with the list of
        the host's own names."""
        return self._start(self._nbns.node_status_query(ip, port), timeout,
                           lambda result: host_names(result.names) if isinstance(result, NodeStatus) else None)

    def queryNodeStatus(self, ip: str, port: int = NAME_SERVICE_PORT,
                        timeout: float = 30) -> "defer.Deferred[Optional[NodeStatus]]":
        """The full node status of the host at ``ip``: a Deferred firing with a
        :class:`~nmb.nmb_structs.NodeStatus` (None for an error answer)."""
        return self._start(self._nbns.node_status_query(ip, port), timeout,
                           lambda result: result if isinstance(result, NodeStatus) else None)

    def cleanupPendingTrns(self) -> None:
        """Time out every query whose time has passed (their errbacks get
        :class:`NetBIOSTimeout`).  Each query has its own timer, so there is no need
        to call this; it is pysmb's name for the same sweep."""
        now = reactor.seconds()
        for pending in [p for p in self.pending_trns.values() if now >= p.deadline]:
            self._time_out(pending)

    def close(self) -> "defer.Deferred[None]":
        """Stop listening (pending queries errback with NotConnectedError)."""
        return defer.maybeDeferred(self._port.stopListening)

    # -- internals ----------------------------------------------------------------------------

    def _start(self, query: Query, timeout: float, convert: Callable[[Any], Any]) -> "defer.Deferred[Any]":
        def cancel(_: Any) -> None:
            self._end(pending)

        deferred: "defer.Deferred[Any]" = defer.Deferred(cancel)
        pending = _Pending(query, deferred, reactor.seconds() + timeout, convert)
        self.pending_trns[query.trn_id] = pending
        self._tick(pending)
        return deferred

    def _tick(self, pending: _Pending) -> None:
        """Send what is due, or time the query out; then sleep until the next step."""
        pending.timer = None
        now = reactor.seconds()
        if now >= pending.deadline:
            self._time_out(pending)
            return
        packet = pending.query.packet_to_send(now)
        if packet is not None:
            try:
                self.write(packet, *pending.query.address)
            except (NotConnectedError, OSError) as err:
                self._end(pending)
                pending.deferred.errback(NotConnectedError("cannot send the name service query: %s" % err))
                return
        delay = max(0.0, pending.query.wake_at(pending.deadline) - now)
        pending.timer = reactor.callLater(delay, self._tick, pending)

    def _time_out(self, pending: _Pending) -> None:
        self._end(pending)
        pending.deferred.errback(NetBIOSTimeout("no answer to the name service query 0x%04x" % pending.query.trn_id))

    def _settle(self, pending: _Pending) -> None:
        self._end(pending)
        pending.deferred.callback(pending.convert(pending.query.result))

    def _end(self, pending: _Pending) -> None:
        self.pending_trns.pop(pending.query.trn_id, None)
        if pending.timer is not None and pending.timer.active():
            pending.timer.cancel()
        pending.timer = None
        self._nbns.finish(pending.query)
