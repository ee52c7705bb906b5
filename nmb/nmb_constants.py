"""Constants of the NetBIOS name service and session service.

References: RFC 1002 4.2.1 (name service header, question and resource record
fields), 4.2.18 (node status NAME_FLAGS), 4.3 (session service packets) and
RFC 1001 (the well-known ports).  The ``IntEnum``/``IntFlag`` classes are the
typed spelling; the flat module-level names are what pysmb users import.
"""
from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Dict

# RFC 1002 4.1 / RFC 1001 15: well-known ports.
NAME_SERVICE_PORT = 137
DATAGRAM_SERVICE_PORT = 138
SESSION_SERVICE_PORT = 139

# RFC 1002 4.2.1: a name service datagram stays below 576 octets; we accept
# (but never send) larger ones up to the UDP maximum.
MAX_NAME_SERVICE_DATAGRAM = 576
MAX_UDP_DATAGRAM = 65535


class Opcode(IntEnum):
    """RFC 1002 4.2.1.1 OPCODE (4 bits, bits 1-4 of the flags word)."""

    QUERY = 0
    REGISTRATION = 5
    RELEASE = 6
    WACK = 7
    REFRESH = 8


class HeaderFlags(IntFlag):
    """RFC 1002 4.2.1.1: the R bit and NM_FLAGS, as bits of the 16-bit word
    that also holds OPCODE and RCODE."""

    RESPONSE = 0x8000
    AUTHORITATIVE_ANSWER = 0x0400
    TRUNCATED = 0x0200
    RECURSION_DESIRED = 0x0100
    RECURSION_AVAILABLE = 0x0080
    BROADCAST = 0x0010


OPCODE_SHIFT = 11
OPCODE_MASK = 0x7800
RCODE_MASK = 0x000F


class RCode(IntEnum):
    """RFC 1002 4.2.6 / 4.2.14 RCODE values of negative responses."""

    OK = 0x0
    FMT_ERR = 0x1
    SRV_ERR = 0x2
    NAM_ERR = 0x3
    IMP_ERR = 0x4
    RFS_ERR = 0x5
    ACT_ERR = 0x6
    CFT_ERR = 0x7


class RRType(IntEnum):
    """RFC 1002 4.2.1.2 / 4.2.1.3 QUESTION_TYPE and RR_TYPE."""

    A = 0x0001
    NS = 0x0002
    NULL = 0x000A
    NB = 0x0020
    NBSTAT = 0x0021


CLASS_IN = 0x0001


class NBFlags(IntFlag):
    """RFC 1002 4.2.1.3 NB_FLAGS of an ADDR_ENTRY (G bit and 2-bit ONT)."""

    GROUP = 0x8000
    ONT_P = 0x2000
    ONT_M = 0x4000
    ONT_H = 0x6000  # reserved in RFC 1002, used by Microsoft for H-nodes


ONT_MASK = 0x6000


class NameFlags(IntFlag):
    """RFC 1002 4.2.18 NAME_FLAGS of a node status NODE_NAME entry."""

    GROUP = 0x8000
    ONT_P = 0x2000
    ONT_M = 0x4000
    ONT_H = 0x6000
    DEREGISTERING = 0x1000
    CONFLICT = 0x0800
    ACTIVE = 0x0400
    PERMANENT = 0x0200


class SessionPacketType(IntEnum):
    """RFC 1002 4.3.1 session service packet TYPE."""

    SESSION_MESSAGE = 0x00
    SESSION_REQUEST = 0x81
    POSITIVE_SESSION_RESPONSE = 0x82
    NEGATIVE_SESSION_RESPONSE = 0x83
    RETARGET_SESSION_RESPONSE = 0x84
    SESSION_KEEPALIVE = 0x85


SESSION_MESSAGE = SessionPacketType.SESSION_MESSAGE
SESSION_REQUEST = SessionPacketType.SESSION_REQUEST
POSITIVE_SESSION_RESPONSE = SessionPacketType.POSITIVE_SESSION_RESPONSE
NEGATIVE_SESSION_RESPONSE = SessionPacketType.NEGATIVE_SESSION_RESPONSE
RETARGET_SESSION_RESPONSE = SessionPacketType.RETARGET_SESSION_RESPONSE
SESSION_KEEPALIVE = SessionPacketType.SESSION_KEEPALIVE


class SessionErrorCode(IntEnum):
    """RFC 1002 4.3.4 NEGATIVE SESSION RESPONSE error codes."""

    NOT_LISTENING_ON_CALLED_NAME = 0x80
    NOT_LISTENING_FOR_CALLING_NAME = 0x81
    CALLED_NAME_NOT_PRESENT = 0x82
    INSUFFICIENT_RESOURCES = 0x83
    UNSPECIFIED_ERROR = 0x8F


SESSION_ERROR_MESSAGES: Dict[int, str] = {
    SessionErrorCode.NOT_LISTENING_ON_CALLED_NAME: "Not listening on called name",
    SessionErrorCode.NOT_LISTENING_FOR_CALLING_NAME: "Not listening for calling name",
    SessionErrorCode.CALLED_NAME_NOT_PRESENT: "Called name not present",
    SessionErrorCode.INSUFFICIENT_RESOURCES: "Called name present, but insufficient resources",
    SessionErrorCode.UNSPECIFIED_ERROR: "Unspecified error",
}


class NameType(IntEnum):
    """The 16th byte (suffix) of common NetBIOS names."""

    WORKSTATION = 0x00
    UNKNOWN = 0x01
    CLIENT = 0x03
    SERVER = 0x20
    DOMAIN_MASTER = 0x1B
    DOMAIN_CONTROLLER = 0x1C
    MASTER_BROWSER = 0x1D
    BROWSER = 0x1E
    NETDDE = 0x1F
    STATUS = 0x21


TYPE_WORKSTATION = NameType.WORKSTATION
TYPE_UNKNOWN = NameType.UNKNOWN
TYPE_CLIENT = NameType.CLIENT
TYPE_SERVER = NameType.SERVER
TYPE_DOMAIN_MASTER = NameType.DOMAIN_MASTER
TYPE_DOMAIN_CONTROLLER = NameType.DOMAIN_CONTROLLER
TYPE_MASTER_BROWSER = NameType.MASTER_BROWSER
TYPE_BROWSER = NameType.BROWSER
TYPE_NETDDE = NameType.NETDDE
TYPE_STATUS = NameType.STATUS

TYPE_NAMES: Dict[int, str] = {
    NameType.WORKSTATION: "Workstation",
    NameType.UNKNOWN: "Unknown",
    NameType.CLIENT: "Client",
    NameType.SERVER: "Server",
    NameType.DOMAIN_MASTER: "Domain Master",
    NameType.DOMAIN_CONTROLLER: "Domain Controller",
    NameType.MASTER_BROWSER: "Master Browser",
    NameType.BROWSER: "Browser Server",
    NameType.NETDDE: "NetDDE Server",
    NameType.STATUS: "Status",
}

# pysmb's flat names.
#: [RFC 1002] 4.2.1.3 / 5.2: the name service and session service ports.
NETBIOS_NS_PORT = 137
NETBIOS_SESSION_PORT = 139
#: [RFC 1002] 4.2.1.3 NB_FLAGS ONT (owner node type) values, as pysmb spells them.
NODE_B = 0x00
NODE_P = 0x01
NODE_M = 0x10
NODE_RESERVED = 0x11
#: pysmb's spelling of RETARGET_SESSION_RESPONSE.
REGTARGET_SESSION_RESPONSE = SessionPacketType.RETARGET_SESSION_RESPONSE
