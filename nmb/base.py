"""IO-free NetBIOS name service client state, and the session service helpers.

:class:`NBNS` builds name service queries with fresh transaction ids and
matches datagrams against them; it never touches a socket, so a blocking
(:mod:`nmb.NetBIOS`) or an asyncio driver can sit on top of it.

The NetBIOS session service helpers (RFC 1002 4.3) used by the SMB transport
on port 139 are re-exported here, as are the exceptions pysmb users imported
from ``nmb.base``.
"""
from __future__ import annotations

import logging
import os
import struct
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from smb import _reexport
from smb._framing import Framer
from smb.exceptions import NotConnectedError, ProtocolError, SMBTimeout

from .nmb_constants import (
    NEGATIVE_SESSION_RESPONSE,
    POSITIVE_SESSION_RESPONSE,
    RETARGET_SESSION_RESPONSE,
    SESSION_ERROR_MESSAGES,
    SESSION_KEEPALIVE,
    SESSION_MESSAGE,
    SESSION_REQUEST,
    TYPE_SERVER,
    TYPE_WORKSTATION,
    Opcode,
    RRType,
    SessionErrorCode,
    SessionPacketType,
)
from .nmb_structs import (
    DirectTCPSessionMessage,
    NMBSessionMessage,
    NameQueryRequest,
    NameQueryResponse,
    NBNSHeader,
    NodeName,
    NodeStatus,
    NodeStatusRequest,
    NodeStatusResponse,
    build_session_keepalive,
    build_session_request,
    decode_netbios_name,
    encode_netbios_name,
    parse_negative_session_response,
    parse_retarget_response,
)

__all__ = [
    "NBNS",
    "Query",
    "RETRY_INTERVAL",
    "MAX_SENDS",
    "NMBSession",
    "NameQueryResponse",
    "NodeStatusResponse",
    "NodeStatus",
    "NodeName",
    "NotConnectedError",
    "ProtocolError",
    "SMBTimeout",
    "SESSION_MESSAGE",
    "SESSION_REQUEST",
    "POSITIVE_SESSION_RESPONSE",
    "NEGATIVE_SESSION_RESPONSE",
    "RETARGET_SESSION_RESPONSE",
    "SESSION_KEEPALIVE",
    "SESSION_ERROR_MESSAGES",
    "SessionErrorCode",
    "SessionPacketType",
    "build_session_request",
    "build_session_keepalive",
    "parse_negative_session_response",
    "parse_retarget_response",
    "encode_netbios_name",
    "decode_netbios_name",
    "host_names",
]

Reply = Union[NameQueryResponse, NodeStatusResponse]

_KIND_NAME_QUERY = RRType.NB
_KIND_NODE_STATUS = RRType.NBSTAT
_BROADCAST_TARGETS = ("<broadcast>", "255.255.255.255")
#: RFC 1002 6: a query is retransmitted a few times before giving up; a lost
#: datagram should not cost the whole timeout.
RETRY_INTERVAL = 2.0
MAX_SENDS = 3


def _random_trn_id() -> int:
    return struct.unpack(">H", os.urandom(2))[0]


def host_names(names: List[NodeName]) -> List[str]:
    """The host's own names from a node status name table: the unique names
    with the workstation (0x00) or server (0x20) suffix, each once, in order."""
    result: List[str] = []
    for entry in names:
        if entry.is_group or entry.suffix not in (TYPE_WORKSTATION, TYPE_SERVER):
            continue
        if entry.name and entry.name not in result:
            result.append(entry.name)
    return result


class Query:
    """One outstanding name service query, driven by any driver (IO-free).

    The driver sends :attr:`packet` to :attr:`address` whenever
    :meth:`packet_to_send` returns it (the first send and up to
    ``MAX_SENDS - 1`` retransmissions, ``RETRY_INTERVAL`` apart), waits at most
    until :meth:`wake_at`, and hands every datagram to :meth:`NBNS.feed`.  Once
    :attr:`done`, :attr:`result` holds the answer: a list of addresses (name
    query), a :class:`NodeStatus` (node status), or None for a final negative
    answer.  A query that is not done by its deadline has timed out; the
    driver calls :meth:`NBNS.finish` in every case.
    """

    __slots__ = ("trn_id", "kind", "packet", "address", "broadcast", "name", "sends", "next_send", "done",
                 "result", "log")

    def __init__(self, trn_id: int, kind: int, packet: bytes, address: Tuple[str, int], broadcast: bool,
                 name: str = "", log: Optional[logging.Logger] = None) -> None:
        self.log = log or logging.getLogger("NMB.NBNS")
        self.trn_id = trn_id
        self.kind = kind
        self.packet = packet
        self.address = address
        self.broadcast = broadcast
        self.name = name
        self.sends = 0
        self.next_send = 0.0
        self.done = False
        self.result: Union[None, List[str], NodeStatus] = None

    def packet_to_send(self, now: float) -> Optional[bytes]:
        """The datagram to (re)send at ``now``, or None when none is due."""
        if self.done or self.sends >= MAX_SENDS or (self.sends and now < self.next_send):
            return None
        self.sends += 1
        self.next_send = now + RETRY_INTERVAL
        return self.packet

    def wake_at(self, deadline: float) -> float:
        """When the driver must look again: the next retransmission or the deadline."""
        if self.done:
            return 0.0
        return min(deadline, self.next_send) if self.sends < MAX_SENDS else deadline

    def accept(self, reply: Reply) -> bool:
        """Take a reply to this query's transaction id; True when it settles the query."""
        if self.done:
            return True
        if self.kind == _KIND_NAME_QUERY:
            if not isinstance(reply, NameQueryResponse):
                return False
            if reply.is_positive:
                self.done, self.result = True, reply.ips
            elif not self.broadcast and reply.rcode:
                # A name server's NEGATIVE NAME QUERY RESPONSE is final (RFC 1002 4.2.14);
                # on a broadcast other nodes may still answer.
                self.log.debug("negative name query response (rcode %d) for %r", reply.rcode, self.name)
                self.done = True
            return self.done
        if not isinstance(reply, NodeStatusResponse):
            return False
        if reply.rcode:
            self.log.debug("node status error response (rcode %d) from %s", reply.rcode, self.address[0])
            self.done = True
        else:
            self.done, self.result = True, reply.node_status()
        return True


def is_broadcast_target(ip: str, broadcast_enabled: bool) -> bool:
    """True for the limited broadcast and, when broadcasting is enabled, for a
    directed broadcast address (last octet 255)."""
    if ip in _BROADCAST_TARGETS:
        return True
    return broadcast_enabled and ip.rsplit(".", 1)[-1] == "255"


class NBNS:
    """Name service client state: outstanding transactions and reply matching.

    ``build_*`` methods return ``(trn_id, datagram)`` and remember the
    transaction; :meth:`receive` turns a datagram into a parsed reply when it
    answers one of ours, returns ``None`` for anything unrelated (another
    transaction id, a request, another opcode) and raises
    :class:`ProtocolError` when a datagram claiming to answer us is malformed.
    """

    #: Where the core's decisions are logged; a driver sets its own (pysmb's names:
    #: ``NMB.NetBIOS``, ``NMB.NBNSProtocol``).
    log = logging.getLogger("NMB.NBNS")
    #: pysmb's names for the 12-byte name service header layout ([RFC 1002] 4.2.1.1).
    HEADER_STRUCT_FORMAT = ">HHHHHH"
    HEADER_STRUCT_SIZE = 12

    def __init__(self, trn_id_source: Optional[Callable[[], int]] = None) -> None:
        self._next_id = trn_id_source or _random_trn_id
        self._pending: Dict[int, int] = {}

    def _txns(self) -> Dict[int, int]:
        # A pysmb-style subclass may override __init__ without calling ours:
        # the methods find their state here instead of tripping over it.
        try:
            return self._pending
        except AttributeError:
            self._pending = {}
            return self._pending

    def write(self, data: bytes, ip: str, port: int) -> None:
        """pysmb's hook for sending a datagram: a driver overrides it
        (:class:`nmb.NetBIOS.NetBIOS` sends with ``sendto``)."""
        raise NotImplementedError("a driver supplies write(data, ip, port)")

    def _new_trn_id(self) -> int:
        for _ in range(64):
            trn_id = getattr(self, "_next_id", _random_trn_id)() & 0xFFFF
            if trn_id not in self._txns():
                return trn_id
        raise ProtocolError("no free name service transaction id")

    @property
    def pending(self) -> Tuple[int, ...]:
        return tuple(self._txns())

    def build_name_query(self, name: str, suffix: int = TYPE_SERVER, scope: str = "",
                         broadcast: bool = False) -> Tuple[int, bytes]:
        """RFC 1002 4.2.12 name query; the B flag only when ``broadcast``."""
        trn_id = self._new_trn_id()
        packet = NameQueryRequest(trn_id, name, suffix, scope, broadcast).pack()
        self._txns()[trn_id] = _KIND_NAME_QUERY
        return trn_id, packet

    def build_node_status_query(self, scope: str = "") -> Tuple[int, bytes]:
        """RFC 1002 4.2.17 node status request for ``*``."""
        trn_id = self._new_trn_id()
        packet = NodeStatusRequest(trn_id, scope=scope).pack()
        self._txns()[trn_id] = _KIND_NODE_STATUS
        return trn_id, packet

    def forget(self, trn_id: int) -> None:
        """Stop matching replies for ``trn_id`` (the query finished or timed out)."""
        self._txns().pop(trn_id, None)

    def receive(self, data: bytes) -> Optional[Reply]:
        """Match and parse one datagram; see the class docstring."""
        header = NBNSHeader.unpack_from(data)
        kind = self._txns().get(header.trn_id)
        if kind is None:
            return None
        if not header.is_response or header.opcode != Opcode.QUERY:
            # Our own request looped back on a broadcast, or a WACK: not an answer.
            return None
        if kind == _KIND_NAME_QUERY:
            return NameQueryResponse.unpack_from(data)
        return NodeStatusResponse.unpack_from(data)

    # queries for the drivers ----------------------------------------------------------------

    def _queries(self) -> Dict[int, Query]:
        try:
            return self._active
        except AttributeError:
            self._active: Dict[int, Query] = {}
            return self._active

    def name_query(self, name: str, ip: str, port: int, broadcast_enabled: bool) -> Query:
        """A :class:`Query` for the addresses of ``name`` (suffix 0x20): to ``ip``, or
        broadcast when ``ip`` is empty (``broadcast_enabled`` required)."""
        if not ip:
            if not broadcast_enabled:
                raise ValueError("queryName needs an ip when broadcast=False")
            ip = "<broadcast>"
        broadcast = is_broadcast_target(ip, broadcast_enabled)
        trn_id, packet = self.build_name_query(name, TYPE_SERVER, broadcast=broadcast)
        self.log.debug("name query for %r to %s:%d (trn_id 0x%04x, broadcast=%s)", name, ip, port, trn_id,
                       broadcast)
        query = Query(trn_id, _KIND_NAME_QUERY, packet, (ip, port), broadcast, name, self.log)
        self._queries()[trn_id] = query
        return query

    def node_status_query(self, ip: str, port: int) -> Query:
        """A :class:`Query` for the node status of the host at ``ip``."""
        trn_id, packet = self.build_node_status_query()
        self.log.debug("node status query to %s:%d (trn_id 0x%04x)", ip, port, trn_id)
        query = Query(trn_id, _KIND_NODE_STATUS, packet, (ip, port), False, log=self.log)
        self._queries()[trn_id] = query
        return query

    def feed(self, data: bytes, source: Any) -> Optional[Query]:
        """One datagram from ``source``: the query it settled, if any.  Unrelated and
        malformed datagrams are dropped (logged at DEBUG), never raised."""
        try:
            reply = self.receive(data)
        except ProtocolError as err:
            self.log.debug("ignoring malformed datagram from %s: %s", source, err)
            return None
        query = self._queries().get(reply.trn_id) if reply is not None else None
        if reply is None or query is None:
            self.log.debug("ignoring unrelated datagram from %s (%d bytes)", source, len(data))
            return None
        return query if query.accept(reply) else None

    def finish(self, query: Query) -> None:
        """The driver is done with ``query`` (answered, timed out or cancelled)."""
        self._queries().pop(query.trn_id, None)
        self.forget(query.trn_id)

    # pysmb-compatible spelling of the same operations ----------------------------------------

    def prepareNameQuery(self, trn_id: int, name: str, is_broadcast: bool = True) -> bytes:
        """Name query datagram for ``name`` (suffix 0x20) with the given id."""
        self._txns()[trn_id & 0xFFFF] = _KIND_NAME_QUERY
        return NameQueryRequest(trn_id & 0xFFFF, name, TYPE_SERVER, "", is_broadcast).pack()

    def prepareNetNameQuery(self, trn_id: int, is_broadcast: bool = True) -> bytes:
        """Node status datagram with the given id (``is_broadcast`` is ignored:
        node status is always a directed request)."""
        self._txns()[trn_id & 0xFFFF] = _KIND_NODE_STATUS
        return NodeStatusRequest(trn_id & 0xFFFF).pack()

    def decodePacket(self, data: bytes) -> Tuple[int, Optional[List[str]]]:
        """``(trn_id, ips)`` of a name query response; ``ips`` is None when negative."""
        reply = NameQueryResponse.unpack_from(data)
        return reply.trn_id, (reply.ips if reply.is_positive else None)

    def decodeIPQueryPacket(self, data: bytes) -> Tuple[int, List[str]]:
        """``(trn_id, names)`` of a node status response (the host's own names)."""
        reply = NodeStatusResponse.unpack_from(data)
        return reply.trn_id, host_names(list(reply.names))


class NMBSession:
    """pysmb's NetBIOS session driver skeleton, for any network framework.

    A subclass supplies :meth:`write` (send bytes to the server) and calls
    :meth:`feedData` with whatever bytes arrive, in any chunking.  Complete
    packets come back as callbacks: :meth:`onNMBSessionOK` (the server
    accepted :meth:`requestNMBSession`), :meth:`onNMBSessionFailed` (it
    refused, or asked to retarget), :meth:`onNMBSessionMessage` (a SESSION
    MESSAGE, i.e. an SMB message).  Keep-alives are dropped.  With
    ``is_direct_tcp`` (port 445) there is no session request: the session is
    up as soon as the TCP connection is, and every packet is a message.
    """

    log = logging.getLogger("NMB.NMBSession")

    def __init__(self, my_name: str, remote_name: str, host_type: int = TYPE_SERVER,
                 is_direct_tcp: bool = False) -> None:
        self.my_name = my_name
        self.remote_name = remote_name
        self.host_type = host_type
        self.framer = Framer(netbios=not is_direct_tcp)
        self.data_nmb: NMBSessionMessage = DirectTCPSessionMessage() if is_direct_tcp else NMBSessionMessage()

    @property
    def data_buf(self) -> bytes:
        """Received bytes that do not make a complete packet yet."""
        return self.framer.pending()

    def write(self, data: bytes) -> None:
        """Send ``data`` to the server: the subclass's job."""
        raise NotImplementedError("a subclass supplies write(data)")

    def feedData(self, data: bytes) -> None:
        """Bytes received from the server; dispatches every complete packet."""
        framer = self.framer
        framer.feed(data)
        while True:
            item = framer.next_frame()
            if item is None:
                return
            packet_type, payload = item
            packet = self.data_nmb
            packet.type, packet.data = packet_type, payload
            if packet_type == SESSION_MESSAGE:
                self.onNMBSessionMessage(packet.flags, payload)
            elif packet_type == POSITIVE_SESSION_RESPONSE:
                self.onNMBSessionOK()
            elif packet_type in (NEGATIVE_SESSION_RESPONSE, RETARGET_SESSION_RESPONSE):
                if packet_type == NEGATIVE_SESSION_RESPONSE:
                    code, message = parse_negative_session_response(payload)
                    self.log.info("NetBIOS session refused: %s (0x%02X)", message, code)
                else:
                    self.log.info("NetBIOS session retargeted to %s:%d (not followed)",
                                  *parse_retarget_response(payload))
                self.onNMBSessionFailed()
            elif packet_type != SESSION_KEEPALIVE:
                raise ProtocolError("unexpected NetBIOS session packet type 0x%02X" % packet_type)

    def sendNMBPacket(self, packet_type: int, data: bytes) -> None:
        """Send one session service packet of ``packet_type`` carrying ``data``."""
        if packet_type == SESSION_MESSAGE:
            self.write(self.framer.header(len(data)) + data)
            return
        if not self.framer.netbios:
            raise ValueError("direct TCP carries SESSION MESSAGE packets only")
        if len(data) > 0x1FFFF:
            raise ValueError("NetBIOS control packet too long")
        self.write(struct.pack(">BBH", packet_type, len(data) >> 16, len(data) & 0xFFFF) + data)

    def requestNMBSession(self) -> None:
        """Send the SESSION REQUEST ([RFC 1002] 4.3.2) from ``my_name`` to ``remote_name``."""
        self.write(build_session_request(self.remote_name or "*SMBSERVER", self.my_name or "SMBWIRE",
                                         self.host_type))

    def sendNMBMessage(self, data: bytes) -> None:
        """Send one SMB message as a SESSION MESSAGE."""
        self.sendNMBPacket(SESSION_MESSAGE, data)

    def onNMBSessionOK(self) -> None:
        """The server accepted the session request."""

    def onNMBSessionFailed(self) -> None:
        """The server refused the session request."""

    def onNMBSessionMessage(self, flags: int, data: bytes) -> None:
        """A SESSION MESSAGE arrived (``data`` is one SMB message)."""


# -- pysmb's star-imported names (see smb._reexport) ----------------------------------------------
_PYSMB_SOURCES = ('nmb.nmb_constants', 'nmb.nmb_structs', 'nmb.utils')
__all__ = _reexport.star_all(__all__, ['nmb.nmb_constants', 'nmb.nmb_structs', 'nmb.utils'])
__getattr__ = _reexport.finder(__name__, _PYSMB_SOURCES)


def __dir__() -> List[str]:
    return _reexport.public_names(__name__)
