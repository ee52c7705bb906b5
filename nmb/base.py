"""IO-free NetBIOS name service client state, and the session service helpers.

:class:`NBNS` builds name service queries with fresh transaction ids and
matches datagrams against them; it never touches a socket, so a blocking
(:mod:`nmb.NetBIOS`) or an asyncio driver can sit on top of it.

The NetBIOS session service helpers (RFC 1002 4.3) used by the SMB transport
on port 139 are re-exported here, as are the exceptions pysmb users imported
from ``nmb.base``.
"""
from __future__ import annotations

import os
import struct
from typing import Callable, Dict, List, Optional, Tuple, Union

from smb import _reexport
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


class NBNS:
    """Name service client state: outstanding transactions and reply matching.

    ``build_*`` methods return ``(trn_id, datagram)`` and remember the
    transaction; :meth:`receive` turns a datagram into a parsed reply when it
    answers one of ours, returns ``None`` for anything unrelated (another
    transaction id, a request, another opcode) and raises
    :class:`ProtocolError` when a datagram claiming to answer us is malformed.
    """

    def __init__(self, trn_id_source: Optional[Callable[[], int]] = None) -> None:
        self._next_id = trn_id_source or _random_trn_id
        self._pending: Dict[int, int] = {}

    def _new_trn_id(self) -> int:
        for _ in range(64):
            trn_id = self._next_id() & 0xFFFF
            if trn_id not in self._pending:
                return trn_id
        raise ProtocolError("no free name service transaction id")

    @property
    def pending(self) -> Tuple[int, ...]:
        return tuple(self._pending)

    def build_name_query(self, name: str, suffix: int = TYPE_SERVER, scope: str = "",
                         broadcast: bool = False) -> Tuple[int, bytes]:
        """RFC 1002 4.2.12 name query; the B flag only when ``broadcast``."""
        trn_id = self._new_trn_id()
        packet = NameQueryRequest(trn_id, name, suffix, scope, broadcast).pack()
        self._pending[trn_id] = _KIND_NAME_QUERY
        return trn_id, packet

    def build_node_status_query(self, scope: str = "") -> Tuple[int, bytes]:
        """RFC 1002 4.2.17 node status request for ``*``."""
        trn_id = self._new_trn_id()
        packet = NodeStatusRequest(trn_id, scope=scope).pack()
        self._pending[trn_id] = _KIND_NODE_STATUS
        return trn_id, packet

    def forget(self, trn_id: int) -> None:
        """Stop matching replies for ``trn_id`` (the query finished or timed out)."""
        self._pending.pop(trn_id, None)

    def receive(self, data: bytes) -> Optional[Reply]:
        """Match and parse one datagram; see the class docstring."""
        header = NBNSHeader.unpack_from(data)
        kind = self._pending.get(header.trn_id)
        if kind is None:
            return None
        if not header.is_response or header.opcode != Opcode.QUERY:
            # Our own request looped back on a broadcast, or a WACK: not an answer.
            return None
        if kind == _KIND_NAME_QUERY:
            return NameQueryResponse.unpack_from(data)
        return NodeStatusResponse.unpack_from(data)

    # pysmb-compatible spelling of the same operations ----------------------------------------

    def prepareNameQuery(self, trn_id: int, name: str, is_broadcast: bool = True) -> bytes:
        """Name query datagram for ``name`` (suffix 0x20) with the given id."""
        self._pending[trn_id & 0xFFFF] = _KIND_NAME_QUERY
        return NameQueryRequest(trn_id & 0xFFFF, name, TYPE_SERVER, "", is_broadcast).pack()

    def prepareNetNameQuery(self, trn_id: int, is_broadcast: bool = False) -> bytes:
        """Node status datagram with the given id (``is_broadcast`` is ignored:
        node status is always a directed request)."""
        self._pending[trn_id & 0xFFFF] = _KIND_NODE_STATUS
        return NodeStatusRequest(trn_id & 0xFFFF).pack()

    def decodePacket(self, data: bytes) -> Tuple[int, Optional[List[str]]]:
        """``(trn_id, ips)`` of a name query response; ``ips`` is None when negative."""
        reply = NameQueryResponse.unpack_from(data)
        return reply.trn_id, (reply.ips if reply.is_positive else None)

    def decodeIPQueryPacket(self, data: bytes) -> Tuple[int, List[str]]:
        """``(trn_id, names)`` of a node status response (the host's own names)."""
        reply = NodeStatusResponse.unpack_from(data)
        return reply.trn_id, host_names(list(reply.names))


# -- pysmb's star-imported names (see smb._reexport) ----------------------------------------------
_PYSMB_SOURCES = ('nmb.nmb_constants', 'nmb.nmb_structs')
__getattr__ = _reexport.finder(__name__, _PYSMB_SOURCES)


def __dir__() -> List[str]:
    return _reexport.public_names(__name__)
