"""NetBIOS name service client for asyncio: :class:`NetBIOS` with coroutine queries.

The same queries, answers and retransmission policy as the blocking
:class:`nmb.NetBIOS.NetBIOS` (they live in :class:`nmb.base.NBNS` and
:class:`nmb.base.Query`); this module only owns a datagram endpoint and the
loop's timers.  Many queries may run at once on one endpoint
(``asyncio.gather``); cancelling one (``asyncio.wait_for``) just stops waiting
for its answer.

.. code-block:: python

    async with NetBIOS(broadcast=False) as nb:
        ips = await nb.queryName("FILESERVER", "192.0.2.1")
"""
from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any, Dict, List, Optional, Tuple, Type

from smb.exceptions import NotConnectedError

from .base import NBNS, Query, host_names
from .nmb_constants import NAME_SERVICE_PORT
from .nmb_structs import NodeStatus

__all__ = ["NetBIOS"]

logger = logging.getLogger("NMB.NetBIOS")


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, owner: "NetBIOS") -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: Tuple[str, int]) -> None:
        self.owner._received(data, addr)

    def error_received(self, exc: Exception) -> None:
        # e.g. an ICMP port unreachable: the query's deadline decides, as in the blocking client.
        logger.debug("ignoring receive error on the NetBIOS endpoint: %s", exc)


class NetBIOS:
    """An asyncio UDP NetBIOS name service client (the blocking class's API, as
    coroutines).  ``broadcast=True`` allows broadcasting; ``listen_port`` binds
    to a fixed local port (0: any).  The endpoint opens on the first query (or
    ``async with``) in the running loop; :meth:`close` closes it."""

    log = logger

    def __init__(self, broadcast: bool = True, listen_port: int = 0) -> None:
        self.broadcast = broadcast
        self.listen_port = listen_port
        self._nbns = NBNS()
        self._nbns.log = logger
        self._transport: Optional[asyncio.DatagramTransport] = None
        self._opening: Optional["asyncio.Future[Any]"] = None
        self._closed = False
        self._wakeups: Dict[int, "asyncio.Future[None]"] = {}

    # -- lifecycle ------------------------------------------------------------------------------

    async def open(self) -> "NetBIOS":
        """Open the datagram endpoint now (queries open it when needed)."""
        await self._endpoint()
        return self

    def close(self) -> None:
        """Close the endpoint; running and further queries raise :class:`NotConnectedError`."""
        self._closed = True
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
        for fut in self._wakeups.values():
            if not fut.done():
                fut.set_result(None)

    async def __aenter__(self) -> "NetBIOS":
        return await self.open()

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        self.close()

    # -- public API ---------------------------------------------------------------------------

    async def queryName(self, name: str, ip: str = "", port: int = NAME_SERVICE_PORT,
                        timeout: float = 30) -> Optional[List[str]]:
        """The IPv4 addresses of NetBIOS ``name`` (suffix 0x20), asked of ``ip`` or
        broadcast; None when the time passes or a name server denies the name."""
        result = await self._run(self._nbns.name_query(name, ip, port, self.broadcast), timeout)
        return result if isinstance(result, list) else None

    async def queryIPForName(self, ip: str, port: int = NAME_SERVICE_PORT,
                             timeout: float = 30) -> Optional[List[str]]:
        """The host's own names (node status request), or None on timeout."""
        status = await self.queryNodeStatus(ip, port, timeout)
        return None if status is None else host_names(status.names)

    async def queryNodeStatus(self, ip: str, port: int = NAME_SERVICE_PORT,
                              timeout: float = 30) -> Optional[NodeStatus]:
        """The full node status of the host at ``ip`` (names, workgroup, MAC), or None."""
        result = await self._run(self._nbns.node_status_query(ip, port), timeout)
        return result if isinstance(result, NodeStatus) else None

    # -- internals ----------------------------------------------------------------------------

    async def _endpoint(self) -> asyncio.DatagramTransport:
        if self._closed:
            raise NotConnectedError("the NetBIOS endpoint is closed")
        if self._transport is not None:
            return self._transport
        loop = asyncio.get_running_loop()
        if self._opening is None:
            self._opening = asyncio.ensure_future(loop.create_datagram_endpoint(
                lambda: _Endpoint(self), local_addr=("0.0.0.0", self.listen_port), allow_broadcast=self.broadcast))
        try:
            transport, _ = await asyncio.shield(self._opening)
        except OSError as err:
            self._opening = None
            raise NotConnectedError("cannot open the NetBIOS endpoint: %s" % err) from err
        if self._closed:
            transport.close()
            raise NotConnectedError("the NetBIOS endpoint is closed")
        self._transport = transport
        return transport

    def _received(self, data: bytes, addr: Tuple[str, int]) -> None:
        query = self._nbns.feed(data, addr)
        if query is not None:
            fut = self._wakeups.get(query.trn_id)
            if fut is not None and not fut.done():
                fut.set_result(None)

    async def _run(self, query: Query, timeout: float) -> Any:
        """Send (and resend) ``query`` until the core settles it or ``timeout``
        passes (None then), waiting on the loop, never blocking it."""
        try:
            transport = await self._endpoint()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            settled: "asyncio.Future[None]" = loop.create_future()
            self._wakeups[query.trn_id] = settled
            while not query.done:
                if self._closed:
                    raise NotConnectedError("the NetBIOS endpoint was closed")
                now = loop.time()
                if now >= deadline:
                    return None
                packet = query.packet_to_send(now)
                if packet is not None:
                    transport.sendto(packet, query.address)
                try:
                    await asyncio.wait_for(asyncio.shield(settled), max(0.0, query.wake_at(deadline) - now))
                except asyncio.TimeoutError:
                    continue
            return query.result
        finally:
            self._wakeups.pop(query.trn_id, None)
            self._nbns.finish(query)
