"""Blocking NetBIOS name service resolver over UDP (pysmb-compatible API).

The packets and the matching of replies live in :class:`nmb.base.NBNS`; this
module only owns the socket and the deadline.  Each query's ``timeout`` is one
deadline on the monotonic clock: unrelated or malformed datagrams are dropped
(logged at DEBUG) and waiting goes on for the time that is left, never longer.
"""
from __future__ import annotations

import logging
import select
import socket
import time
from types import TracebackType
from typing import List, Optional, Tuple, Type, Union

from smb import _reexport
from smb.exceptions import NotConnectedError, ProtocolError

from .base import NBNS, host_names
from .nmb_constants import MAX_UDP_DATAGRAM, NAME_SERVICE_PORT, TYPE_SERVER
from .nmb_structs import NameQueryResponse, NodeName, NodeStatus, NodeStatusResponse

__all__ = ["NetBIOS", "NodeStatus", "NodeName"]

logger = logging.getLogger("NMB.NetBIOS")

_BROADCAST_TARGETS = ("<broadcast>", "255.255.255.255")
# RFC 1002 6: a query is retransmitted a few times before giving up; a lost
# datagram should not cost the whole timeout.
_RETRY_INTERVAL = 2.0
_MAX_SENDS = 3

_Reply = Union[NameQueryResponse, NodeStatusResponse]


class NetBIOS:
    """A UDP NetBIOS name service client.

    ``broadcast=True`` allows broadcasting (``queryName`` without an ``ip``
    goes to ``<broadcast>``); ``listen_port`` binds the socket to a fixed
    local port (0: any).
    """

    log = logger

    def __init__(self, broadcast: bool = True, listen_port: int = 0) -> None:
        self.broadcast = broadcast
        self._nbns = NBNS()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if broadcast:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            if listen_port:
                sock.bind(("", listen_port))
        except OSError:
            sock.close()
            raise
        self.sock: Optional[socket.socket] = sock

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the socket; further queries raise :class:`NotConnectedError`."""
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()

    def __enter__(self) -> "NetBIOS":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()

    # -- public API ---------------------------------------------------------------------------

    def queryName(self, name: str, ip: str = "", port: int = NAME_SERVICE_PORT,
                  timeout: float = 30) -> Optional[List[str]]:
        """Ask for the IPv4 addresses of NetBIOS ``name`` (suffix 0x20).

        Without ``ip`` the query is broadcast (``broadcast=True`` required).
        Returns every address of the first positive answer, or None when the
        deadline passes or a name server denies the name.
        """
        if not ip:
            if not self.broadcast:
                raise ValueError("queryName needs an ip when broadcast=False")
            ip = "<broadcast>"
        is_broadcast = self._is_broadcast_target(ip)
        trn_id, packet = self._nbns.build_name_query(name, TYPE_SERVER, broadcast=is_broadcast)
        logger.debug("name query for %r to %s:%d (trn_id 0x%04x, broadcast=%s)",
                     name, ip, port, trn_id, is_broadcast)
        try:
            deadline = time.monotonic() + timeout
            txn = self._start(trn_id, packet, ip, port)
            while True:
                reply = self._wait(txn, deadline)
                if reply is None:
                    return None
                if not isinstance(reply, NameQueryResponse):
                    continue
                if reply.is_positive:
                    return reply.ips
                if not is_broadcast and reply.rcode:
                    # A name server's NEGATIVE NAME QUERY RESPONSE is final (RFC 1002 4.2.14);
                    # on a broadcast other nodes may still answer.
                    logger.debug("negative name query response (rcode %d) for %r", reply.rcode, name)
                    return None
        finally:
            self._nbns.forget(trn_id)

    def queryIPForName(self, ip: str, port: int = NAME_SERVICE_PORT,
                       timeout: float = 30) -> Optional[List[str]]:
        """Ask the host at ``ip`` for its names (a node status request).

        Returns the host's own unique names (workstation and server suffixes,
        each once), or None on timeout.
        """
        status = self.queryNodeStatus(ip, port, timeout)
        if status is None:
            return None
        return host_names(status.names)

    def queryNodeStatus(self, ip: str, port: int = NAME_SERVICE_PORT,
                        timeout: float = 30) -> Optional[NodeStatus]:
        """The full node status of the host at ``ip``: every registered name
        with its suffix and flags, the workgroup and the MAC address; None on
        timeout or when the host answers with an error."""
        trn_id, packet = self._nbns.build_node_status_query()
        logger.debug("node status query to %s:%d (trn_id 0x%04x)", ip, port, trn_id)
        try:
            deadline = time.monotonic() + timeout
            txn = self._start(trn_id, packet, ip, port)
            while True:
                reply = self._wait(txn, deadline)
                if reply is None:
                    return None
                if not isinstance(reply, NodeStatusResponse):
                    continue
                if reply.rcode:
                    logger.debug("node status error response (rcode %d) from %s", reply.rcode, ip)
                    return None
                return reply.node_status()
        finally:
            self._nbns.forget(trn_id)

    # -- internals ----------------------------------------------------------------------------

    def _is_broadcast_target(self, ip: str) -> bool:
        """True for the limited broadcast and, when broadcasting is enabled,
        for a directed broadcast address (last octet 255)."""
        if ip in _BROADCAST_TARGETS:
            return True
        return self.broadcast and ip.rsplit(".", 1)[-1] == "255"

    def _socket(self) -> socket.socket:
        if self.sock is None:
            raise NotConnectedError("the NetBIOS socket is closed")
        return self.sock

    def write(self, data: bytes, ip: str, port: int) -> None:
        """Send one name service datagram to ``ip:port`` (pysmb's hook)."""
        self._send(data, ip, port)

    def _send(self, packet: bytes, ip: str, port: int) -> None:
        try:
            self._socket().sendto(packet, (ip, port))
        except NotConnectedError:
            raise
        except OSError as err:
            raise NotConnectedError(f"cannot send to {ip}:{port}: {err}") from err

    def _start(self, trn_id: int, packet: bytes, ip: str, port: int) -> "_Transaction":
        self._send(packet, ip, port)
        return _Transaction(trn_id, packet, (ip, port), time.monotonic() + _RETRY_INTERVAL)

    def _wait(self, txn: "_Transaction", deadline: float) -> Optional[_Reply]:
        """The next reply to ``txn`` before ``deadline`` (None when it passes).

        Unrelated and malformed datagrams are dropped; the query is resent
        when nothing matching arrived for a while (at most ``_MAX_SENDS``)."""
        sock = self._socket()
        while True:
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                return None
            if txn.sends < _MAX_SENDS and now >= txn.next_send:
                self._send(txn.packet, *txn.address)
                txn.sends += 1
                txn.next_send = now + _RETRY_INTERVAL
            wait = remaining
            if txn.sends < _MAX_SENDS:
                wait = min(wait, max(0.0, txn.next_send - now))
            readable, _, _ = select.select([sock], [], [], wait)
            if not readable:
                continue
            try:
                data, source = sock.recvfrom(MAX_UDP_DATAGRAM)
            except OSError as err:
                # e.g. an ICMP port unreachable reported on the socket
                logger.debug("ignoring receive error while waiting for 0x%04x: %s", txn.trn_id, err)
                continue
            try:
                reply = self._nbns.receive(data)
            except ProtocolError as err:
                logger.debug("ignoring malformed datagram from %s: %s", source, err)
                continue
            if reply is None or reply.trn_id != txn.trn_id:
                logger.debug("ignoring unrelated datagram from %s (%d bytes)", source, len(data))
                continue
            return reply


class _Transaction:
    """One outstanding query: what to resend, where, and when."""

    __slots__ = ("trn_id", "packet", "address", "sends", "next_send")

    def __init__(self, trn_id: int, packet: bytes, address: Tuple[str, int], next_send: float) -> None:
        self.trn_id = trn_id
        self.packet = packet
        self.address = address
        self.sends = 1
        self.next_send = next_send


# -- pysmb's star-imported names (see smb._reexport) ----------------------------------------------
_PYSMB_SOURCES = ('nmb.nmb_constants',)
__all__ = _reexport.star_all(__all__, ['nmb.nmb_constants'])
__getattr__ = _reexport.finder(__name__, _PYSMB_SOURCES)


def __dir__() -> List[str]:
    return _reexport.public_names(__name__)
