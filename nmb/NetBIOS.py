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
from typing import Any, List, Optional, Type

from smb import _reexport
from smb.exceptions import NotConnectedError

from .base import NBNS, Query, host_names
from .nmb_constants import MAX_UDP_DATAGRAM, NAME_SERVICE_PORT
from .nmb_structs import NodeName, NodeStatus

__all__ = ["NetBIOS", "NodeStatus", "NodeName"]

logger = logging.getLogger("NMB.NetBIOS")



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
        self._nbns.log = logger
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
        query = self._nbns.name_query(name, ip, port, self.broadcast)
        result = self._run(query, timeout)
        return result if isinstance(result, list) else None

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
        result = self._run(self._nbns.node_status_query(ip, port), timeout)
        return result if isinstance(result, NodeStatus) else None

    # -- internals ----------------------------------------------------------------------------

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

    def _run(self, query: Query, timeout: float) -> Any:
        """Send ``query`` (and resend it) and read datagrams until it is settled or
        ``timeout`` seconds pass (None then); the decisions are the core's."""
        try:
            deadline = time.monotonic() + timeout
            sock = self._socket()
            while not query.done:
                now = time.monotonic()
                if now >= deadline:
                    return None
                packet = query.packet_to_send(now)
                if packet is not None:
                    self._send(packet, *query.address)
                readable, _, _ = select.select([sock], [], [], max(0.0, query.wake_at(deadline) - now))
                if not readable:
                    continue
                try:
                    data, source = sock.recvfrom(MAX_UDP_DATAGRAM)
                except OSError as err:
                    # e.g. an ICMP port unreachable reported on the socket
                    logger.debug("ignoring receive error while waiting for 0x%04x: %s", query.trn_id, err)
                    continue
                self._nbns.feed(data, source)
            return query.result
        finally:
            self._nbns.finish(query)


# -- pysmb's star-imported names (see smb._reexport) ----------------------------------------------
_PYSMB_SOURCES = ('nmb.nmb_constants',)
__all__ = _reexport.star_all(__all__, ['nmb.nmb_constants'])
__getattr__ = _reexport.finder(__name__, _PYSMB_SOURCES)


def __dir__() -> List[str]:
    return _reexport.public_names(__name__)
