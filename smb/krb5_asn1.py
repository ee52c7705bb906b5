"""Kerberos 5 messages as pyasn1 types ([RFC 4120] section 5 and appendix A, [MS-KILE] 2.2).

Every class carries the ASN.1 name of the RFC module ``KerberosV5Spec2`` with ``-`` written
``_`` (``KDC-REQ-BODY`` is :class:`KDC_REQ_BODY`).  The module uses EXPLICIT TAGS: each context
tag ``[n]`` and each ``[APPLICATION n]`` wraps the inner encoding.  One name clashes: the
padata-type number ``PA-ENC-TIMESTAMP`` (2) is the flat constant :data:`PA_ENC_TIMESTAMP`, so the
ASN.1 type of the same name (an EncryptedData holding a PA-ENC-TS-ENC) is
:class:`PA_ENC_TIMESTAMP_ASN1`.  Likewise the message-type numbers are ``*_TYPE``
(:data:`KRB_ERROR_TYPE` is 30; :class:`KRB_ERROR` is the message).

``KerberosString`` is a GeneralString; we read and write it as UTF-8, which is what Windows and
Samba put on the wire for names outside ASCII.

Everything read from the network goes through :func:`decode`, which is strict (one whole value,
no trailing bytes, a size cap) and turns every decoding failure into
:class:`~smb.exceptions.KerberosError`.  Its messages never quote the input (decrypted parts
hold session keys).
"""
from __future__ import annotations

import datetime as _dt
import enum
import re
import struct
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Type, Union

from pyasn1.codec.der import decoder as _der_decoder
from pyasn1.codec.der import encoder as _der_encoder
from pyasn1.error import PyAsn1Error
from pyasn1.error import ValueConstraintError as PyAsn1ValueConstraintError
from pyasn1.type import base, char, constraint, namedtype, namedval, tag, univ, useful

from .exceptions import KerberosError

__all__ = [
    # ASN.1 types
    "Int32", "UInt32", "Microseconds", "KerberosString", "Realm", "PrincipalName", "KerberosTime",
    "HostAddress", "HostAddresses", "AuthorizationDataEntry", "AuthorizationData", "AD_IF_RELEVANT",
    "PA_DATA", "PADATA", "KerberosFlags", "EncryptedData", "EncryptionKey", "Checksum", "Ticket",
    "TransitedEncoding", "TicketFlags", "EncTicketPart", "KDCOptions", "KDC_REQ_BODY", "KDC_REQ",
    "AS_REQ", "TGS_REQ", "KDC_REP", "AS_REP", "TGS_REP", "LastReqEntry", "LastReq", "EncKDCRepPart",
    "EncASRepPart", "EncTGSRepPart", "APOptions", "AP_REQ", "Authenticator", "AP_REP", "EncAPRepPart",
    "KRB_ERROR", "METHOD_DATA", "TypedDataEntry", "TYPED_DATA", "PA_ENC_TIMESTAMP_ASN1", "PA_ENC_TS_ENC",
    "ETYPE_INFO_ENTRY", "ETYPE_INFO", "ETYPE_INFO2_ENTRY", "ETYPE_INFO2", "KERB_PA_PAC_REQUEST",
    "KERB_ERROR_DATA",
    # numbers
    "PVNO", "MessageType", "NameType", "PaDataType", "AddressType", "AuthDataType", "KeyUsage",
    "ErrorCode", "ERROR_NAMES", "ERROR_DESCRIPTIONS", "KDC_OPTION_BITS", "TICKET_FLAG_BITS",
    "AP_OPTION_BITS", "KERB_AP_ERR_TYPE_SKEW_RECOVERY", "KERB_ERR_TYPE_EXTENDED", "MAX_MESSAGE",
    "MAX_NODES",
    # flat aliases of the enums
    "AS_REQ_TYPE", "AS_REP_TYPE", "TGS_REQ_TYPE", "TGS_REP_TYPE", "AP_REQ_TYPE", "AP_REP_TYPE",
    "KRB_SAFE_TYPE", "KRB_PRIV_TYPE", "KRB_CRED_TYPE", "KRB_ERROR_TYPE", "NT_UNKNOWN",
    "NT_PRINCIPAL", "NT_SRV_INST", "NT_SRV_HST", "NT_SRV_XHST", "NT_UID", "NT_X500_PRINCIPAL",
    "NT_SMTP_NAME", "NT_ENTERPRISE", "NT_WELLKNOWN", "PA_TGS_REQ", "PA_ENC_TIMESTAMP", "PA_PW_SALT",
    "PA_ETYPE_INFO", "PA_ETYPE_INFO2", "PA_PAC_REQUEST", "PA_FOR_USER", "PA_FX_COOKIE",
    "PA_FX_FAST", "PA_FX_ERROR", "PA_ENCRYPTED_CHALLENGE", "PA_REQ_ENC_PA_REP",
    "PA_SUPPORTED_ENCTYPES", "PA_PAC_OPTIONS", "ADDR_IPV4", "ADDR_IPV6", "ADDR_NETBIOS",
    "AD_WIN2K_PAC", "KU_PA_ENC_TIMESTAMP", "KU_TICKET", "KU_AS_REP_ENC_PART",
    "KU_TGS_REQ_AD_SESSION", "KU_TGS_REQ_AD_SUBKEY", "KU_TGS_REQ_AUTH_CKSUM", "KU_TGS_REQ_AUTH",
    "KU_TGS_REP_ENC_PART_SESSION", "KU_TGS_REP_ENC_PART_SUBKEY", "KU_AP_REQ_AUTH_CKSUM",
    "KU_AP_REQ_AUTH", "KU_AP_REP_ENC_PART", "KU_KRB_PRIV_ENC_PART", "KU_KRB_CRED_ENC_PART",
    "KU_KRB_SAFE_CKSUM", "KU_AD_KDC_ISSUED_CKSUM", "KDC_ERR_C_PRINCIPAL_UNKNOWN",
    "KDC_ERR_S_PRINCIPAL_UNKNOWN", "KDC_ERR_POLICY", "KDC_ERR_BADOPTION", "KDC_ERR_ETYPE_NOSUPP",
    "KDC_ERR_CLIENT_REVOKED", "KDC_ERR_KEY_EXPIRED", "KDC_ERR_PREAUTH_FAILED",
    "KDC_ERR_PREAUTH_REQUIRED", "KRB_AP_ERR_BAD_INTEGRITY", "KRB_AP_ERR_TKT_EXPIRED",
    "KRB_AP_ERR_TKT_NYV", "KRB_AP_ERR_SKEW", "KRB_AP_ERR_MODIFIED", "KRB_ERR_RESPONSE_TOO_BIG",
    "KRB_ERR_GENERIC", "KDC_ERR_WRONG_REALM", "TICKET_TAG", "AUTHENTICATOR_TAG",
    "ENC_TICKET_PART_TAG", "ENC_AS_REP_PART_TAG", "ENC_TGS_REP_PART_TAG", "ENC_AP_REP_PART_TAG",
    # codec and helpers
    "encode", "decode", "message_type", "decode_enc_kdc_rep_part",
    "principal_name", "kerberos_time", "parse_kerberos_time", "encryption_key", "checksum",
    "encrypted_data", "pa_data", "pac_request", "kerberos_flags", "kdc_options", "ap_options",
    "ticket_flags", "flags_to_int", "flag_names", "padata_entries", "EtypeInfo",
    "etype_info2_from_padata", "etype_info2_from_error", "krb_error_fields", "krb_error_ntstatus",
    "error_name",
]

#: Largest encoding :func:`decode` accepts (a ticket with a big PAC is tens of KB).
MAX_MESSAGE = 1024 * 1024
#: Most ASN.1 values (TLVs) :func:`decode` accepts in one encoding.  Real messages have a few
#: hundred (a PAC is one OCTET STRING); the cap bounds pyasn1's time on hostile input.
MAX_NODES = 20000

#: The protocol version number of every message ([RFC 4120] 7.5.6).
PVNO = 5


# =============================================================================== numbers


class MessageType(enum.IntEnum):
    """Kerberos message types ([RFC 4120] 7.5.7); the APPLICATION tag of each message."""

    KRB_AS_REQ = 10
    KRB_AS_REP = 11
    KRB_TGS_REQ = 12
    KRB_TGS_REP = 13
    KRB_AP_REQ = 14
    KRB_AP_REP = 15
    KRB_RESERVED16 = 16
    KRB_RESERVED17 = 17
    KRB_SAFE = 20
    KRB_PRIV = 21
    KRB_CRED = 22
    KRB_ERROR = 30


# The RFC names KRB_AS_REQ ... collide with nothing, but KRB_ERROR is also the message class:
# the flat message-type names carry a _TYPE suffix.
AS_REQ_TYPE = MessageType.KRB_AS_REQ
AS_REP_TYPE = MessageType.KRB_AS_REP
TGS_REQ_TYPE = MessageType.KRB_TGS_REQ
TGS_REP_TYPE = MessageType.KRB_TGS_REP
AP_REQ_TYPE = MessageType.KRB_AP_REQ
AP_REP_TYPE = MessageType.KRB_AP_REP
KRB_SAFE_TYPE = MessageType.KRB_SAFE
KRB_PRIV_TYPE = MessageType.KRB_PRIV
KRB_CRED_TYPE = MessageType.KRB_CRED
KRB_ERROR_TYPE = MessageType.KRB_ERROR
#: Application tags of the encrypted parts ([RFC 4120] 5.10); not message types.
TICKET_TAG = 1
AUTHENTICATOR_TAG = 2
ENC_TICKET_PART_TAG = 3
ENC_AS_REP_PART_TAG = 25
ENC_TGS_REP_PART_TAG = 26
ENC_AP_REP_PART_TAG = 27


class NameType(enum.IntEnum):
    """Principal name types ([RFC 4120] 6.2, 7.5.8; NT-WELLKNOWN from [RFC 6111])."""

    NT_UNKNOWN = 0
    NT_PRINCIPAL = 1
    NT_SRV_INST = 2
    NT_SRV_HST = 3
    NT_SRV_XHST = 4
    NT_UID = 5
    NT_X500_PRINCIPAL = 6
    NT_SMTP_NAME = 7
    NT_ENTERPRISE = 10
    NT_WELLKNOWN = 11


NT_UNKNOWN = NameType.NT_UNKNOWN
NT_PRINCIPAL = NameType.NT_PRINCIPAL
NT_SRV_INST = NameType.NT_SRV_INST
NT_SRV_HST = NameType.NT_SRV_HST
NT_SRV_XHST = NameType.NT_SRV_XHST
NT_UID = NameType.NT_UID
NT_X500_PRINCIPAL = NameType.NT_X500_PRINCIPAL
NT_SMTP_NAME = NameType.NT_SMTP_NAME
NT_ENTERPRISE = NameType.NT_ENTERPRISE
NT_WELLKNOWN = NameType.NT_WELLKNOWN


class PaDataType(enum.IntEnum):
    """Pre-authentication data types ([RFC 4120] 7.5.2, [MS-KILE] 2.2, [MS-SFU], [RFC 6113])."""

    PA_TGS_REQ = 1
    PA_ENC_TIMESTAMP = 2
    PA_PW_SALT = 3
    PA_ENC_UNIX_TIME = 5
    PA_SANDIA_SECUREID = 6
    PA_SESAME = 7
    PA_OSF_DCE = 8
    PA_CYBERSAFE_SECUREID = 9
    PA_AFS3_SALT = 10
    PA_ETYPE_INFO = 11
    PA_SAM_CHALLENGE = 12
    PA_SAM_RESPONSE = 13
    PA_PK_AS_REQ_OLD = 14
    PA_PK_AS_REP_OLD = 15
    PA_ETYPE_INFO2 = 19
    PA_USE_SPECIFIED_KVNO = 20
    PA_SAM_REDIRECT = 21
    PA_GET_FROM_TYPED_DATA = 22
    PA_SAM_ETYPE_INFO = 23
    PA_ALT_PRINC = 24
    PA_SAM_CHALLENGE2 = 30
    PA_SAM_RESPONSE2 = 31
    PA_EXTRA_TGT = 41
    PA_PAC_REQUEST = 128
    PA_FOR_USER = 129
    PA_FX_COOKIE = 133
    PA_FX_FAST = 136
    PA_FX_ERROR = 137
    PA_ENCRYPTED_CHALLENGE = 138
    PA_REQ_ENC_PA_REP = 149
    PA_SUPPORTED_ENCTYPES = 165
    PA_PAC_OPTIONS = 167


PA_TGS_REQ = PaDataType.PA_TGS_REQ
PA_ENC_TIMESTAMP = PaDataType.PA_ENC_TIMESTAMP
PA_PW_SALT = PaDataType.PA_PW_SALT
PA_ETYPE_INFO = PaDataType.PA_ETYPE_INFO
PA_ETYPE_INFO2 = PaDataType.PA_ETYPE_INFO2
PA_PAC_REQUEST = PaDataType.PA_PAC_REQUEST
PA_FOR_USER = PaDataType.PA_FOR_USER
PA_FX_COOKIE = PaDataType.PA_FX_COOKIE
PA_FX_FAST = PaDataType.PA_FX_FAST
PA_FX_ERROR = PaDataType.PA_FX_ERROR
PA_ENCRYPTED_CHALLENGE = PaDataType.PA_ENCRYPTED_CHALLENGE
PA_REQ_ENC_PA_REP = PaDataType.PA_REQ_ENC_PA_REP
PA_SUPPORTED_ENCTYPES = PaDataType.PA_SUPPORTED_ENCTYPES
PA_PAC_OPTIONS = PaDataType.PA_PAC_OPTIONS


class AddressType(enum.IntEnum):
    """Host address types ([RFC 4120] 7.5.3)."""

    IPV4 = 2
    DIRECTIONAL = 3
    CHAOSNET = 5
    XNS = 6
    ISO = 7
    DECNET_PHASE_IV = 12
    APPLETALK_DDP = 16
    NETBIOS = 20
    IPV6 = 24


ADDR_IPV4 = AddressType.IPV4
ADDR_IPV6 = AddressType.IPV6
ADDR_NETBIOS = AddressType.NETBIOS


class AuthDataType(enum.IntEnum):
    """Authorization data types ([RFC 4120] 7.5.4)."""

    AD_IF_RELEVANT = 1
    AD_INTENDED_FOR_SERVER = 2
    AD_INTENDED_FOR_APPLICATION_CLASS = 3
    AD_KDC_ISSUED = 4
    AD_AND_OR = 5
    AD_MANDATORY_TICKET_EXTENSIONS = 6
    AD_IN_TICKET_EXTENSIONS = 7
    AD_MANDATORY_FOR_KDC = 8
    OSF_DCE = 64
    SESAME = 65
    AD_OSF_DCE_PKI_CERTID = 66
    AD_WIN2K_PAC = 128


AD_WIN2K_PAC = AuthDataType.AD_WIN2K_PAC


class KeyUsage(enum.IntEnum):
    """Key usage numbers ([RFC 4120] 7.5.1): what a key encrypts or checksums."""

    #: AS-REQ PA-ENC-TIMESTAMP, with the client key.
    PA_ENC_TIMESTAMP = 1
    #: AS-REP and TGS-REP Ticket, with the service key.
    TICKET = 2
    #: AS-REP encrypted part, with the client key.
    AS_REP_ENC_PART = 3
    #: TGS-REQ enc-authorization-data, with the TGS session key.
    TGS_REQ_AD_SESSION = 4
    #: TGS-REQ enc-authorization-data, with the TGS authenticator subkey.
    TGS_REQ_AD_SUBKEY = 5
    #: TGS-REQ PA-TGS-REQ authenticator checksum, keyed with the TGS session key.
    TGS_REQ_AUTH_CKSUM = 6
    #: TGS-REQ PA-TGS-REQ authenticator, with the TGS session key.
    TGS_REQ_AUTH = 7
    #: TGS-REP encrypted part, with the TGS session key.
    TGS_REP_ENC_PART_SESSION = 8
    #: TGS-REP encrypted part, with the TGS authenticator subkey.
    TGS_REP_ENC_PART_SUBKEY = 9
    #: AP-REQ authenticator checksum, keyed with the application session key.
    AP_REQ_AUTH_CKSUM = 10
    #: AP-REQ authenticator, with the application session key.
    AP_REQ_AUTH = 11
    #: AP-REP encrypted part, with the application session key.
    AP_REP_ENC_PART = 12
    KRB_PRIV_ENC_PART = 13
    KRB_CRED_ENC_PART = 14
    KRB_SAFE_CKSUM = 15
    AD_KDC_ISSUED_CKSUM = 19


KU_PA_ENC_TIMESTAMP = KeyUsage.PA_ENC_TIMESTAMP
KU_TICKET = KeyUsage.TICKET
KU_AS_REP_ENC_PART = KeyUsage.AS_REP_ENC_PART
KU_TGS_REQ_AD_SESSION = KeyUsage.TGS_REQ_AD_SESSION
KU_TGS_REQ_AD_SUBKEY = KeyUsage.TGS_REQ_AD_SUBKEY
KU_TGS_REQ_AUTH_CKSUM = KeyUsage.TGS_REQ_AUTH_CKSUM
KU_TGS_REQ_AUTH = KeyUsage.TGS_REQ_AUTH
KU_TGS_REP_ENC_PART_SESSION = KeyUsage.TGS_REP_ENC_PART_SESSION
KU_TGS_REP_ENC_PART_SUBKEY = KeyUsage.TGS_REP_ENC_PART_SUBKEY
KU_AP_REQ_AUTH_CKSUM = KeyUsage.AP_REQ_AUTH_CKSUM
KU_AP_REQ_AUTH = KeyUsage.AP_REQ_AUTH
KU_AP_REP_ENC_PART = KeyUsage.AP_REP_ENC_PART
KU_KRB_PRIV_ENC_PART = KeyUsage.KRB_PRIV_ENC_PART
KU_KRB_CRED_ENC_PART = KeyUsage.KRB_CRED_ENC_PART
KU_KRB_SAFE_CKSUM = KeyUsage.KRB_SAFE_CKSUM
KU_AD_KDC_ISSUED_CKSUM = KeyUsage.AD_KDC_ISSUED_CKSUM


class ErrorCode(enum.IntEnum):
    """KRB-ERROR error codes ([RFC 4120] 7.5.9; 77-81 [RFC 4556]; 90-93 [RFC 6113])."""

    KDC_ERR_NONE = 0
    KDC_ERR_NAME_EXP = 1
    KDC_ERR_SERVICE_EXP = 2
    KDC_ERR_BAD_PVNO = 3
    KDC_ERR_C_OLD_MAST_KVNO = 4
    KDC_ERR_S_OLD_MAST_KVNO = 5
    KDC_ERR_C_PRINCIPAL_UNKNOWN = 6
    KDC_ERR_S_PRINCIPAL_UNKNOWN = 7
    KDC_ERR_PRINCIPAL_NOT_UNIQUE = 8
    KDC_ERR_NULL_KEY = 9
    KDC_ERR_CANNOT_POSTDATE = 10
    KDC_ERR_NEVER_VALID = 11
    KDC_ERR_POLICY = 12
    KDC_ERR_BADOPTION = 13
    KDC_ERR_ETYPE_NOSUPP = 14
    KDC_ERR_SUMTYPE_NOSUPP = 15
    KDC_ERR_PADATA_TYPE_NOSUPP = 16
    KDC_ERR_TRTYPE_NOSUPP = 17
    KDC_ERR_CLIENT_REVOKED = 18
    KDC_ERR_SERVICE_REVOKED = 19
    KDC_ERR_TGT_REVOKED = 20
    KDC_ERR_CLIENT_NOTYET = 21
    KDC_ERR_SERVICE_NOTYET = 22
    KDC_ERR_KEY_EXPIRED = 23
    KDC_ERR_PREAUTH_FAILED = 24
    KDC_ERR_PREAUTH_REQUIRED = 25
    KDC_ERR_SERVER_NOMATCH = 26
    KDC_ERR_MUST_USE_USER2USER = 27
    KDC_ERR_PATH_NOT_ACCEPTED = 28
    KDC_ERR_SVC_UNAVAILABLE = 29
    KRB_AP_ERR_BAD_INTEGRITY = 31
    KRB_AP_ERR_TKT_EXPIRED = 32
    KRB_AP_ERR_TKT_NYV = 33
    KRB_AP_ERR_REPEAT = 34
    KRB_AP_ERR_NOT_US = 35
    KRB_AP_ERR_BADMATCH = 36
    KRB_AP_ERR_SKEW = 37
    KRB_AP_ERR_BADADDR = 38
    KRB_AP_ERR_BADVERSION = 39
    KRB_AP_ERR_MSG_TYPE = 40
    KRB_AP_ERR_MODIFIED = 41
    KRB_AP_ERR_BADORDER = 42
    KRB_AP_ERR_BADKEYVER = 44
    KRB_AP_ERR_NOKEY = 45
    KRB_AP_ERR_MUT_FAIL = 46
    KRB_AP_ERR_BADDIRECTION = 47
    KRB_AP_ERR_METHOD = 48
    KRB_AP_ERR_BADSEQ = 49
    KRB_AP_ERR_INAPP_CKSUM = 50
    KRB_AP_PATH_NOT_ACCEPTED = 51
    KRB_ERR_RESPONSE_TOO_BIG = 52
    KRB_ERR_GENERIC = 60
    KRB_ERR_FIELD_TOOLONG = 61
    KDC_ERR_CLIENT_NOT_TRUSTED = 62
    KDC_ERR_KDC_NOT_TRUSTED = 63
    KDC_ERR_INVALID_SIG = 64
    KDC_ERR_KEY_TOO_WEAK = 65
    KDC_ERR_CERTIFICATE_MISMATCH = 66
    KRB_AP_ERR_NO_TGT = 67
    KDC_ERR_WRONG_REALM = 68
    KRB_AP_ERR_USER_TO_USER_REQUIRED = 69
    KDC_ERR_CANT_VERIFY_CERTIFICATE = 70
    KDC_ERR_INVALID_CERTIFICATE = 71
    KDC_ERR_REVOKED_CERTIFICATE = 72
    KDC_ERR_REVOCATION_STATUS_UNKNOWN = 73
    KDC_ERR_REVOCATION_STATUS_UNAVAILABLE = 74
    KDC_ERR_CLIENT_NAME_MISMATCH = 75
    KDC_ERR_KDC_NAME_MISMATCH = 76
    KDC_ERR_INCONSISTENT_KEY_PURPOSE = 77
    KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED = 78
    KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED = 79
    KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED = 80
    KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED = 81
    KDC_ERR_PREAUTH_EXPIRED = 90
    KDC_ERR_MORE_PREAUTH_DATA_REQUIRED = 91
    KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS = 93


# Flat names of the codes callers test for most.
KDC_ERR_C_PRINCIPAL_UNKNOWN = ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN
KDC_ERR_S_PRINCIPAL_UNKNOWN = ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN
KDC_ERR_POLICY = ErrorCode.KDC_ERR_POLICY
KDC_ERR_BADOPTION = ErrorCode.KDC_ERR_BADOPTION
KDC_ERR_ETYPE_NOSUPP = ErrorCode.KDC_ERR_ETYPE_NOSUPP
KDC_ERR_CLIENT_REVOKED = ErrorCode.KDC_ERR_CLIENT_REVOKED
KDC_ERR_KEY_EXPIRED = ErrorCode.KDC_ERR_KEY_EXPIRED
KDC_ERR_PREAUTH_FAILED = ErrorCode.KDC_ERR_PREAUTH_FAILED
KDC_ERR_PREAUTH_REQUIRED = ErrorCode.KDC_ERR_PREAUTH_REQUIRED
KRB_AP_ERR_BAD_INTEGRITY = ErrorCode.KRB_AP_ERR_BAD_INTEGRITY
KRB_AP_ERR_TKT_EXPIRED = ErrorCode.KRB_AP_ERR_TKT_EXPIRED
KRB_AP_ERR_TKT_NYV = ErrorCode.KRB_AP_ERR_TKT_NYV
KRB_AP_ERR_SKEW = ErrorCode.KRB_AP_ERR_SKEW
KRB_AP_ERR_MODIFIED = ErrorCode.KRB_AP_ERR_MODIFIED
KRB_ERR_RESPONSE_TOO_BIG = ErrorCode.KRB_ERR_RESPONSE_TOO_BIG
KRB_ERR_GENERIC = ErrorCode.KRB_ERR_GENERIC
KDC_ERR_WRONG_REALM = ErrorCode.KDC_ERR_WRONG_REALM

#: error-code -> RFC name, e.g. ``ERROR_NAMES[24] == "KDC_ERR_PREAUTH_FAILED"``.
ERROR_NAMES: Dict[int, str] = {int(code): code.name for code in ErrorCode}

#: error-code -> the meaning column of [RFC 4120] 7.5.9 (for messages).
ERROR_DESCRIPTIONS: Dict[int, str] = {
    0: "No error",
    1: "Client's entry in database has expired",
    2: "Server's entry in database has expired",
    3: "Requested protocol version number not supported",
    4: "Client's key encrypted in old master key",
    5: "Server's key encrypted in old master key",
    6: "Client not found in Kerberos database",
    7: "Server not found in Kerberos database",
    8: "Multiple principal entries in database",
    9: "The client or server has a null key",
    10: "Ticket not eligible for postdating",
    11: "Requested starttime is later than end time",
    12: "KDC policy rejects request",
    13: "KDC cannot accommodate requested option",
    14: "KDC has no support for encryption type",
    15: "KDC has no support for checksum type",
    16: "KDC has no support for padata type",
    17: "KDC has no support for transited type",
    18: "Clients credentials have been revoked",
    19: "Credentials for server have been revoked",
    20: "TGT has been revoked",
    21: "Client not yet valid; try again later",
    22: "Server not yet valid; try again later",
    23: "Password has expired; change password to reset",
    24: "Pre-authentication information was invalid",
    25: "Additional pre-authentication required",
    26: "Requested server and ticket don't match",
    27: "Server principal valid for user2user only",
    28: "KDC Policy rejects transited path",
    29: "A service is not available",
    31: "Integrity check on decrypted field failed",
    32: "Ticket expired",
    33: "Ticket not yet valid",
    34: "Request is a replay",
    35: "The ticket isn't for us",
    36: "Ticket and authenticator don't match",
    37: "Clock skew too great",
    38: "Incorrect net address",
    39: "Protocol version mismatch",
    40: "Invalid msg type",
    41: "Message stream modified",
    42: "Message out of order",
    44: "Specified version of key is not available",
    45: "Service key not available",
    46: "Mutual authentication failed",
    47: "Incorrect message direction",
    48: "Alternative authentication method required",
    49: "Incorrect sequence number in message",
    50: "Inappropriate type of checksum in message",
    51: "Policy rejects transited path",
    52: "Response too big for UDP; retry with TCP",
    60: "Generic error (description in e-text)",
    61: "Field is too long for this implementation",
    67: "No TGT available to validate USER-TO-USER",
    68: "Wrong realm",
    69: "Ticket must be for USER-TO-USER",
}

#: [MS-KILE] 2.2.2 KERB-ERROR-DATA data-type values.
KERB_AP_ERR_TYPE_SKEW_RECOVERY = 2
KERB_ERR_TYPE_EXTENDED = 3

#: Bit numbers of KDCOptions ([RFC 4120] 5.4.1; canonicalize [RFC 6806]; request-anonymous
#: [RFC 6112]; cname-in-addl-tkt [MS-SFU]).  Bit 0 is the first (most significant) bit.
KDC_OPTION_BITS: Dict[str, int] = {
    "reserved": 0, "forwardable": 1, "forwarded": 2, "proxiable": 3, "proxy": 4,
    "allow-postdate": 5, "postdated": 6, "renewable": 8, "opt-hardware-auth": 11,
    "cname-in-addl-tkt": 14, "canonicalize": 15, "request-anonymous": 16,
    "disable-transited-check": 26, "renewable-ok": 27, "enc-tkt-in-skey": 28, "renew": 30,
    "validate": 31,
}
#: Bit numbers of TicketFlags ([RFC 4120] 5.3; anonymous [RFC 6112]; enc-pa-rep [RFC 6806]).
TICKET_FLAG_BITS: Dict[str, int] = {
    "reserved": 0, "forwardable": 1, "forwarded": 2, "proxiable": 3, "proxy": 4,
    "may-postdate": 5, "postdated": 6, "invalid": 7, "renewable": 8, "initial": 9,
    "pre-authent": 10, "hw-authent": 11, "transited-policy-checked": 12, "ok-as-delegate": 13,
    "anonymous": 14, "enc-pa-rep": 15,
}
#: Bit numbers of APOptions ([RFC 4120] 5.5.1).
AP_OPTION_BITS: Dict[str, int] = {"reserved": 0, "use-session-key": 1, "mutual-required": 2}


# =============================================================================== ASN.1 types


def _ctx(number: int) -> tag.Tag:
    return tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, number)


def _app(number: int) -> tag.Tag:
    return tag.Tag(tag.tagClassApplication, tag.tagFormatConstructed, number)


def _field(name: str, spec: Any, number: int) -> namedtype.NamedType:
    return namedtype.NamedType(name, spec.subtype(explicitTag=_ctx(number)))


def _optional(name: str, spec: Any, number: int) -> namedtype.OptionalNamedType:
    return namedtype.OptionalNamedType(name, spec.subtype(explicitTag=_ctx(number)))


def _integer_of(*values: int) -> univ.Integer:
    """``INTEGER (5)``, ``INTEGER (10 | 12)``: an INTEGER limited to the listed values."""
    return univ.Integer().subtype(subtypeSpec=constraint.SingleValueConstraint(*values))


def _retagged(spec: Any, value: Any) -> Any:
    """``value`` carrying the tags of the component ``spec`` it is assigned to.

    pyasn1 refuses ``body["cname"] = principal_name(...)``: the field is ``[1] PrincipalName``
    and the value an untagged PrincipalName.  With EXPLICIT TAGS the context tag only wraps the
    encoding, so a value of the field's class (or a subclass), whose tags the field's tags
    extend, is re-tagged instead of refused.
    """
    if (isinstance(value, base.Asn1Type) and isinstance(value, type(spec))
            and value.tagSet != spec.tagSet and value.tagSet.isSuperTagSetOf(spec.tagSet)):
        if isinstance(value, base.ConstructedAsn1Type):
            return value.clone(tagSet=spec.tagSet, cloneValueFlag=True)
        return value.clone(tagSet=spec.tagSet)
    return value


class _Sequence(univ.Sequence):
    """A SEQUENCE whose components accept untagged values of their type (see :func:`_retagged`)."""

    def setComponentByPosition(self, idx: int, value: Any = univ.noValue, verifyConstraints: bool = True,
                               matchTags: bool = True, matchConstraints: bool = True) -> Any:
        if value is not univ.noValue and self.componentType is not None and 0 <= idx < len(self.componentType):
            value = _retagged(self.componentType.getTypeByPosition(idx), value)
        return super().setComponentByPosition(idx, value, verifyConstraints, matchTags, matchConstraints)


class Int32(univ.Integer):
    """``Int32 ::= INTEGER (-2147483648..2147483647)``."""

    subtypeSpec = univ.Integer.subtypeSpec + constraint.ValueRangeConstraint(-2147483648, 2147483647)


class UInt32(univ.Integer):
    """``UInt32 ::= INTEGER (0..4294967295)``."""

    subtypeSpec = univ.Integer.subtypeSpec + constraint.ValueRangeConstraint(0, 4294967295)


class Microseconds(univ.Integer):
    """``Microseconds ::= INTEGER (0..999999)``."""

    subtypeSpec = univ.Integer.subtypeSpec + constraint.ValueRangeConstraint(0, 999999)


class KerberosString(char.GeneralString):
    """``KerberosString ::= GeneralString (IA5String)``, read and written as UTF-8."""

    encoding = "utf-8"


class Realm(KerberosString):
    """``Realm ::= KerberosString``."""


class PrincipalName(_Sequence):
    """[RFC 4120] 5.2.2."""

    componentType = namedtype.NamedTypes(
        _field("name-type", Int32(), 0),
        _field("name-string", univ.SequenceOf(componentType=KerberosString()), 1),
    )


_TIME_RE = re.compile(r"\A(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z\Z", re.ASCII)


class _KerberosTimeFormat(constraint.AbstractConstraint):
    """``YYYYMMDDHHMMSSZ``: UTC, no fractional seconds ([RFC 4120] 5.2.3)."""

    def _testValue(self, value: Any, idx: Any) -> None:
        if not _TIME_RE.match(str(value)):
            raise PyAsn1ValueConstraintError(value)


class KerberosTime(useful.GeneralizedTime):
    """``KerberosTime ::= GeneralizedTime``, always ``YYYYMMDDHHMMSSZ`` ([RFC 4120] 5.2.3);
    other forms are refused when decoding and when assigning."""

    # AbstractConstraint tests nothing without values: the argument only switches it on.
    subtypeSpec = useful.GeneralizedTime.subtypeSpec + _KerberosTimeFormat("YYYYMMDDHHMMSSZ")


class HostAddress(_Sequence):
    """[RFC 4120] 5.2.5."""

    componentType = namedtype.NamedTypes(
        _field("addr-type", Int32(), 0),
        _field("address", univ.OctetString(), 1),
    )


class HostAddresses(univ.SequenceOf):
    """``HostAddresses ::= SEQUENCE OF HostAddress``."""

    componentType = HostAddress()


class AuthorizationDataEntry(_Sequence):
    """One element of AuthorizationData (the RFC leaves it unnamed)."""

    componentType = namedtype.NamedTypes(
        _field("ad-type", Int32(), 0),
        _field("ad-data", univ.OctetString(), 1),
    )


class AuthorizationData(univ.SequenceOf):
    """[RFC 4120] 5.2.6."""

    componentType = AuthorizationDataEntry()


class AD_IF_RELEVANT(AuthorizationData):
    """``AD-IF-RELEVANT ::= AuthorizationData`` ([RFC 4120] 5.2.6.1; holds the PAC)."""


class PA_DATA(_Sequence):
    """[RFC 4120] 5.2.7 (the first tag is [1])."""

    componentType = namedtype.NamedTypes(
        _field("padata-type", Int32(), 1),
        _field("padata-value", univ.OctetString(), 2),
    )


class PADATA(univ.SequenceOf):
    """``SEQUENCE OF PA-DATA``, the padata field of KDC-REQ and KDC-REP."""

    componentType = PA_DATA()


class KerberosFlags(univ.BitString):
    """``KerberosFlags ::= BIT STRING (SIZE (32..MAX))``; we send exactly 32 bits."""


class EncryptedData(_Sequence):
    """[RFC 4120] 5.2.9."""

    componentType = namedtype.NamedTypes(
        _field("etype", Int32(), 0),
        _optional("kvno", UInt32(), 1),
        _field("cipher", univ.OctetString(), 2),
    )


class EncryptionKey(_Sequence):
    """[RFC 4120] 5.2.9."""

    componentType = namedtype.NamedTypes(
        _field("keytype", Int32(), 0),
        _field("keyvalue", univ.OctetString(), 1),
    )


class Checksum(_Sequence):
    """[RFC 4120] 5.2.9."""

    componentType = namedtype.NamedTypes(
        _field("cksumtype", Int32(), 0),
        _field("checksum", univ.OctetString(), 1),
    )


class Ticket(_Sequence):
    """``Ticket ::= [APPLICATION 1] SEQUENCE`` ([RFC 4120] 5.3)."""

    tagSet = univ.Sequence.tagSet.tagExplicitly(_app(1))
    componentType = namedtype.NamedTypes(
        _field("tkt-vno", _integer_of(5), 0),
        _field("realm", Realm(), 1),
        _field("sname", PrincipalName(), 2),
        _field("enc-part", EncryptedData(), 3),
    )


class TransitedEncoding(_Sequence):
    """[RFC 4120] 5.3."""

    componentType = namedtype.NamedTypes(
        _field("tr-type", Int32(), 0),
        _field("contents", univ.OctetString(), 1),
    )


class TicketFlags(KerberosFlags):
    """[RFC 4120] 5.3; the bits are :data:`TICKET_FLAG_BITS`."""

    namedValues = namedval.NamedValues(*TICKET_FLAG_BITS.items())


class EncTicketPart(_Sequence):
    """``EncTicketPart ::= [APPLICATION 3] SEQUENCE`` ([RFC 4120] 5.3)."""

    tagSet = univ.Sequence.tagSet.tagExplicitly(_app(3))
    componentType = namedtype.NamedTypes(
        _field("flags", TicketFlags(), 0),
        _field("key", EncryptionKey(), 1),
        _field("crealm", Realm(), 2),
        _field("cname", PrincipalName(), 3),
        _field("transited", TransitedEncoding(), 4),
        _field("authtime", KerberosTime(), 5),
        _optional("starttime", KerberosTime(), 6),
        _field("endtime", KerberosTime(), 7),
        _optional("renew-till", KerberosTime(), 8),
        _optional("caddr", HostAddresses(), 9),
        _optional("authorization-data", AuthorizationData(), 10),
    )


class KDCOptions(KerberosFlags):
    """[RFC 4120] 5.4.1; the bits are :data:`KDC_OPTION_BITS`."""

    namedValues = namedval.NamedValues(*KDC_OPTION_BITS.items())


class KDC_REQ_BODY(_Sequence):
    """[RFC 4120] 5.4.1."""

    componentType = namedtype.NamedTypes(
        _field("kdc-options", KDCOptions(), 0),
        _optional("cname", PrincipalName(), 1),
        _field("realm", Realm(), 2),
        _optional("sname", PrincipalName(), 3),
        _optional("from", KerberosTime(), 4),
        _field("till", KerberosTime(), 5),
        _optional("rtime", KerberosTime(), 6),
        _field("nonce", UInt32(), 7),
        _field("etype", univ.SequenceOf(componentType=Int32()), 8),
        _optional("addresses", HostAddresses(), 9),
        _optional("enc-authorization-data", EncryptedData(), 10),
        _optional("additional-tickets", univ.SequenceOf(componentType=Ticket()), 11),
    )


class KDC_REQ(_Sequence):
    """[RFC 4120] 5.4.1 (the first tag is [1])."""

    componentType = namedtype.NamedTypes(
        _field("pvno", _integer_of(5), 1),
        _field("msg-type", _integer_of(10, 12), 2),
        _optional("padata", PADATA(), 3),
        _field("req-body", KDC_REQ_BODY(), 4),
    )


class AS_REQ(KDC_REQ):
    """``AS-REQ ::= [APPLICATION 10] KDC-REQ``."""

    tagSet = KDC_REQ.tagSet.tagExplicitly(_app(10))


class TGS_REQ(KDC_REQ):
    """``TGS-REQ ::= [APPLICATION 12] KDC-REQ``."""

    tagSet = KDC_REQ.tagSet.tagExplicitly(_app(12))


class KDC_REP(_Sequence):
    """[RFC 4120] 5.4.2."""

    componentType = namedtype.NamedTypes(
        _field("pvno", _integer_of(5), 0),
        _field("msg-type", _integer_of(11, 13), 1),
        _optional("padata", PADATA(), 2),
        _field("crealm", Realm(), 3),
        _field("cname", PrincipalName(), 4),
        _field("ticket", Ticket(), 5),
        _field("enc-part", EncryptedData(), 6),
    )


class AS_REP(KDC_REP):
    """``AS-REP ::= [APPLICATION 11] KDC-REP``."""

    tagSet = KDC_REP.tagSet.tagExplicitly(_app(11))


class TGS_REP(KDC_REP):
    """``TGS-REP ::= [APPLICATION 13] KDC-REP``."""

    tagSet = KDC_REP.tagSet.tagExplicitly(_app(13))


class LastReqEntry(_Sequence):
    """One element of LastReq (the RFC leaves it unnamed)."""

    componentType = namedtype.NamedTypes(
        _field("lr-type", Int32(), 0),
        _field("lr-value", KerberosTime(), 1),
    )


class LastReq(univ.SequenceOf):
    """[RFC 4120] 5.4.2."""

    componentType = LastReqEntry()


class EncKDCRepPart(_Sequence):
    """[RFC 4120] 5.4.2."""

    componentType = namedtype.NamedTypes(
        _field("key", EncryptionKey(), 0),
        _field("last-req", LastReq(), 1),
        _field("nonce", UInt32(), 2),
        _optional("key-expiration", KerberosTime(), 3),
        _field("flags", TicketFlags(), 4),
        _field("authtime", KerberosTime(), 5),
        _optional("starttime", KerberosTime(), 6),
        _field("endtime", KerberosTime(), 7),
        _optional("renew-till", KerberosTime(), 8),
        _field("srealm", Realm(), 9),
        _field("sname", PrincipalName(), 10),
        _optional("caddr", HostAddresses(), 11),
        # [12] encrypted-pa-data ([RFC 6806] 11) is read as well, so that a KDC that sends it
        # still decodes; nothing here interprets it.
        _optional("encrypted-pa-data", PADATA(), 12),
    )


class EncASRepPart(EncKDCRepPart):
    """``EncASRepPart ::= [APPLICATION 25] EncKDCRepPart``."""

    tagSet = EncKDCRepPart.tagSet.tagExplicitly(_app(25))


class EncTGSRepPart(EncKDCRepPart):
    """``EncTGSRepPart ::= [APPLICATION 26] EncKDCRepPart``."""

    tagSet = EncKDCRepPart.tagSet.tagExplicitly(_app(26))


class APOptions(KerberosFlags):
    """[RFC 4120] 5.5.1; the bits are :data:`AP_OPTION_BITS`."""

    namedValues = namedval.NamedValues(*AP_OPTION_BITS.items())


class AP_REQ(_Sequence):
    """``AP-REQ ::= [APPLICATION 14] SEQUENCE`` ([RFC 4120] 5.5.1)."""

    tagSet = univ.Sequence.tagSet.tagExplicitly(_app(14))
    componentType = namedtype.NamedTypes(
        _field("pvno", _integer_of(5), 0),
        _field("msg-type", _integer_of(14), 1),
        _field("ap-options", APOptions(), 2),
        _field("ticket", Ticket(), 3),
        _field("authenticator", EncryptedData(), 4),
    )


class Authenticator(_Sequence):
    """``Authenticator ::= [APPLICATION 2] SEQUENCE`` ([RFC 4120] 5.5.1)."""

    tagSet = univ.Sequence.tagSet.tagExplicitly(_app(2))
    componentType = namedtype.NamedTypes(
        _field("authenticator-vno", _integer_of(5), 0),
        _field("crealm", Realm(), 1),
        _field("cname", PrincipalName(), 2),
        _optional("cksum", Checksum(), 3),
        _field("cusec", Microseconds(), 4),
        _field("ctime", KerberosTime(), 5),
        _optional("subkey", EncryptionKey(), 6),
        _optional("seq-number", UInt32(), 7),
        _optional("authorization-data", AuthorizationData(), 8),
    )


class AP_REP(_Sequence):
    """``AP-REP ::= [APPLICATION 15] SEQUENCE`` ([RFC 4120] 5.5.2)."""

    tagSet = univ.Sequence.tagSet.tagExplicitly(_app(15))
    componentType = namedtype.NamedTypes(
        _field("pvno", _integer_of(5), 0),
        _field("msg-type", _integer_of(15), 1),
        _field("enc-part", EncryptedData(), 2),
    )


class EncAPRepPart(_Sequence):
    """``EncAPRepPart ::= [APPLICATION 27] SEQUENCE`` ([RFC 4120] 5.5.2)."""

    tagSet = univ.Sequence.tagSet.tagExplicitly(_app(27))
    componentType = namedtype.NamedTypes(
        _field("ctime", KerberosTime(), 0),
        _field("cusec", Microseconds(), 1),
        _optional("subkey", EncryptionKey(), 2),
        _optional("seq-number", UInt32(), 3),
    )


class KRB_ERROR(_Sequence):
    """``KRB-ERROR ::= [APPLICATION 30] SEQUENCE`` ([RFC 4120] 5.9.1)."""

    tagSet = univ.Sequence.tagSet.tagExplicitly(_app(30))
    componentType = namedtype.NamedTypes(
        _field("pvno", _integer_of(5), 0),
        _field("msg-type", _integer_of(30), 1),
        _optional("ctime", KerberosTime(), 2),
        _optional("cusec", Microseconds(), 3),
        _field("stime", KerberosTime(), 4),
        _field("susec", Microseconds(), 5),
        _field("error-code", Int32(), 6),
        _optional("crealm", Realm(), 7),
        _optional("cname", PrincipalName(), 8),
        _field("realm", Realm(), 9),
        _field("sname", PrincipalName(), 10),
        _optional("e-text", KerberosString(), 11),
        _optional("e-data", univ.OctetString(), 12),
    )


class METHOD_DATA(univ.SequenceOf):
    """``METHOD-DATA ::= SEQUENCE OF PA-DATA``: the e-data of KDC_ERR_PREAUTH_REQUIRED."""

    componentType = PA_DATA()


class TypedDataEntry(_Sequence):
    """One element of TYPED-DATA (the RFC leaves it unnamed)."""

    componentType = namedtype.NamedTypes(
        _field("data-type", univ.Integer(), 0),
        _optional("data-value", univ.OctetString(), 1),
    )


class TYPED_DATA(univ.SequenceOf):
    """``TYPED-DATA ::= SEQUENCE SIZE (1..MAX) OF SEQUENCE`` ([RFC 4120] 5.9.1)."""

    componentType = TypedDataEntry()
    subtypeSpec = univ.SequenceOf.subtypeSpec + constraint.ValueSizeConstraint(1, 2 ** 31)


class PA_ENC_TIMESTAMP_ASN1(EncryptedData):
    """``PA-ENC-TIMESTAMP ::= EncryptedData -- PA-ENC-TS-ENC`` ([RFC 4120] 5.2.7.2).

    (The flat name ``PA_ENC_TIMESTAMP`` is the padata-type number 2.)"""


class PA_ENC_TS_ENC(_Sequence):
    """[RFC 4120] 5.2.7.2."""

    componentType = namedtype.NamedTypes(
        _field("patimestamp", KerberosTime(), 0),
        _optional("pausec", Microseconds(), 1),
    )


class ETYPE_INFO_ENTRY(_Sequence):
    """[RFC 4120] 5.2.7.4."""

    componentType = namedtype.NamedTypes(
        _field("etype", Int32(), 0),
        _optional("salt", univ.OctetString(), 1),
    )


class ETYPE_INFO(univ.SequenceOf):
    """``ETYPE-INFO ::= SEQUENCE OF ETYPE-INFO-ENTRY``."""

    componentType = ETYPE_INFO_ENTRY()


class ETYPE_INFO2_ENTRY(_Sequence):
    """[RFC 4120] 5.2.7.5."""

    componentType = namedtype.NamedTypes(
        _field("etype", Int32(), 0),
        _optional("salt", KerberosString(), 1),
        _optional("s2kparams", univ.OctetString(), 2),
    )


class ETYPE_INFO2(univ.SequenceOf):
    """``ETYPE-INFO2 ::= SEQUENCE SIZE (1..MAX) OF ETYPE-INFO2-ENTRY``."""

    componentType = ETYPE_INFO2_ENTRY()
    subtypeSpec = univ.SequenceOf.subtypeSpec + constraint.ValueSizeConstraint(1, 2 ** 31)


class KERB_PA_PAC_REQUEST(_Sequence):
    """``KERB-PA-PAC-REQUEST`` ([MS-KILE] 2.2.3), padata type 128."""

    componentType = namedtype.NamedTypes(
        _field("include-pac", univ.Boolean(), 0),
    )


class KERB_ERROR_DATA(_Sequence):
    """``KERB-ERROR-DATA`` ([MS-KILE] 2.2.2), the e-data of Windows KDC errors."""

    componentType = namedtype.NamedTypes(
        _field("data-type", univ.Integer(), 1),
        _optional("data-value", univ.OctetString(), 2),
    )


# =============================================================================== codec

# What pyasn1 may raise on hostile input (its own errors, and Python's from inside it).
_DECODE_ERRORS = (PyAsn1Error, ValueError, TypeError, IndexError, KeyError, AttributeError,
                  OverflowError, RecursionError, UnicodeError, LookupError, MemoryError)

Spec = Union[Any, Type[Any]]
_PLAIN_MESSAGE = re.compile(r"\A[\w .,:'-]{1,120}\Z")


def encode(value: Any) -> bytes:
    """The DER encoding of a pyasn1 value, as a value of its own type: a component taken out
    of a message (``rep["ticket"]``) encodes without the context tag of its field."""
    try:
        own = type(value).tagSet
        if value.isValue and value.tagSet != own and own.isSuperTagSetOf(value.tagSet):
            if isinstance(value, base.ConstructedAsn1Type):
                value = value.clone(tagSet=own, cloneValueFlag=True)
            else:
                value = value.clone(tagSet=own)
        return bytes(_der_encoder.encode(value))
    except (PyAsn1Error, ValueError, TypeError, AttributeError) as err:
        # pyasn1's message may quote the value (keys included): only a short plain one is kept,
        # such as "ASN.1 object KRB_ERROR has uninitialized components".
        reason = str(err)
        if not _PLAIN_MESSAGE.match(reason):
            reason = type(err).__name__
        raise KerberosError("cannot encode %s: %s" % (type(value).__name__, reason)) from None


def _tlv_header(raw: bytes, pos: int, end: int, what: str) -> Tuple[bool, int, int]:
    """(constructed, start, end of the contents) of the TLV at ``pos``, inside ``end``."""
    first = raw[pos]
    pos += 1
    if first & 0x1F == 0x1F:  # high tag number: base-128 octets, the last with bit 8 clear
        for _ in range(5):
            if pos >= end:
                raise KerberosError("malformed %s: truncated tag" % what)
            octet = raw[pos]
            pos += 1
            if not octet & 0x80:
                break
        else:
            raise KerberosError("malformed %s: tag number too large" % what)
    if pos >= end:
        raise KerberosError("malformed %s: truncated length" % what)
    length = raw[pos]
    pos += 1
    if length & 0x80:
        octets = length & 0x7F
        if octets == 0:
            raise KerberosError("malformed %s: indefinite length (not DER)" % what)
        if octets > 4 or octets > end - pos:
            raise KerberosError("malformed %s: bad length" % what)
        length = int.from_bytes(raw[pos:pos + octets], "big")
        pos += octets
    if length > end - pos:
        raise KerberosError("malformed %s: a length runs past its container" % what)
    return bool(first & 0x20), pos, pos + length


def _check_tlvs(raw: bytes, what: str) -> None:
    """Walk the TLV tree of ``raw`` before pyasn1 sees it (iteratively, in linear time).

    Exactly one value fills ``raw``, every length fits inside its container, lengths are
    definite (DER), and there are at most :data:`MAX_NODES` values in all: a megabyte of tiny
    elements would otherwise keep pyasn1 busy for seconds.
    """
    constructed, start, end = _tlv_header(raw, 0, len(raw), what)
    if end != len(raw):
        raise KerberosError("malformed %s: %d bytes after the value" % (what, len(raw) - end))
    nodes = 1
    stack = [(start, end)] if constructed else []
    while stack:
        pos, stop = stack.pop()
        while pos < stop:
            nodes += 1
            if nodes > MAX_NODES:
                raise KerberosError("malformed %s: more than %d ASN.1 values" % (what, MAX_NODES))
            constructed, start, end = _tlv_header(raw, pos, stop, what)
            if constructed and end > start:
                stack.append((start, end))
            pos = end


def decode(data: Any, spec: Spec) -> Any:
    """Decode exactly one ``spec`` (a pyasn1 class or instance) from ``data``.

    Refuses empty input, input above :data:`MAX_MESSAGE` or with more than :data:`MAX_NODES`
    values, indefinite lengths, trailing bytes, missing required components and values outside
    their constraints.  Every failure is a
    :class:`~smb.exceptions.KerberosError` whose message never quotes the input.
    """
    if isinstance(spec, type):
        spec = spec()
    what = type(spec).__name__
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise KerberosError("malformed %s: not bytes" % what)
    raw = bytes(data)
    if not raw:
        raise KerberosError("malformed %s: empty" % what)
    if len(raw) > MAX_MESSAGE:
        raise KerberosError("malformed %s: %d bytes is above the %d-byte limit" % (what, len(raw), MAX_MESSAGE))
    _check_tlvs(raw, what)
    try:
        value, rest = _der_decoder.decode(raw, asn1Spec=spec)
        # isInconsistent checks what decoding does not: SIZE (1..MAX) of ETYPE-INFO2, TYPED-DATA.
        complete = value.isValue and not getattr(value, "isInconsistent", False)
    except _DECODE_ERRORS as err:
        raise KerberosError("malformed %s (%s)" % (what, type(err).__name__)) from None
    if rest:
        raise KerberosError("malformed %s: %d bytes after the value" % (what, len(rest)))
    if not complete:
        raise KerberosError("malformed %s: incomplete value" % what)
    return value


def message_type(data: Any) -> int:
    """The APPLICATION tag number that starts ``data`` (11 for an AS-REP, 30 for a
    KRB-ERROR, ...), or -1 when ``data`` does not start with a constructed APPLICATION tag.
    Never raises."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return -1
    raw = bytes(data[:6])
    if not raw or raw[0] & 0xE0 != 0x60:
        return -1
    number = raw[0] & 0x1F
    if number != 0x1F:
        return number
    value = 0
    for octet in raw[1:]:  # high-tag-number form: base 128, the last octet has bit 8 clear
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            return value
    return -1


def decode_enc_kdc_rep_part(data: Any) -> Any:
    """Decode the decrypted enc-part of an AS-REP or TGS-REP.

    [RFC 4120] 5.4.2 allows the tag check to be relaxed: some KDCs send an EncTGSRepPart [26]
    in an AS-REP.  Either tag is accepted; the result is an :class:`EncASRepPart` or
    :class:`EncTGSRepPart`.
    """
    kind = message_type(data)
    if kind == ENC_AS_REP_PART_TAG:
        return decode(data, EncASRepPart())
    if kind == ENC_TGS_REP_PART_TAG:
        return decode(data, EncTGSRepPart())
    raise KerberosError("malformed EncKDCRepPart: application tag %d" % kind)


# =============================================================================== builders


def principal_name(name_type: int, components: Iterable[str]) -> PrincipalName:
    """A PrincipalName value."""
    name = PrincipalName()
    name["name-type"] = int(name_type)
    strings = name["name-string"]
    for position, component in enumerate(components):
        strings[position] = component
    return name



def kerberos_time(when: _dt.datetime) -> str:
    """``YYYYMMDDHHMMSSZ`` for ``when`` (a naive datetime is taken as UTC; microseconds are
    dropped, as KerberosTime has none)."""
    if when.tzinfo is not None:
        when = when.astimezone(_dt.timezone.utc)
    return "%04d%02d%02d%02d%02d%02dZ" % (when.year, when.month, when.day, when.hour, when.minute,
                                          when.second)


def parse_kerberos_time(value: Any) -> _dt.datetime:
    """An aware UTC datetime from a KerberosTime (or its text); strict ``YYYYMMDDHHMMSSZ``."""
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - an unset pyasn1 value refuses str()
        raise KerberosError("malformed KerberosTime") from None
    match = _TIME_RE.match(text)
    if match is None:
        raise KerberosError("malformed KerberosTime %r" % text[:32])
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.timezone.utc)
    except ValueError:
        raise KerberosError("malformed KerberosTime %r" % text) from None


def encryption_key(keytype: int, keyvalue: bytes) -> EncryptionKey:
    """An EncryptionKey value."""
    key = EncryptionKey()
    key["keytype"] = int(keytype)
    key["keyvalue"] = bytes(keyvalue)
    return key


def checksum(cksumtype: int, value: bytes) -> Checksum:
    """A Checksum value."""
    cksum = Checksum()
    cksum["cksumtype"] = int(cksumtype)
    cksum["checksum"] = bytes(value)
    return cksum


def encrypted_data(etype: int, cipher: bytes, kvno: Optional[int] = None) -> EncryptedData:
    """An EncryptedData value (kvno omitted when None)."""
    data = EncryptedData()
    data["etype"] = int(etype)
    if kvno is not None:
        data["kvno"] = int(kvno)
    data["cipher"] = bytes(cipher)
    return data


def pa_data(padata_type: int, value: bytes) -> PA_DATA:
    """A PA-DATA value."""
    item = PA_DATA()
    item["padata-type"] = int(padata_type)
    item["padata-value"] = bytes(value)
    return item


def pac_request(include_pac: bool = True) -> KERB_PA_PAC_REQUEST:
    """A KERB-PA-PAC-REQUEST value ([MS-KILE] 2.2.3)."""
    req = KERB_PA_PAC_REQUEST()
    req["include-pac"] = bool(include_pac)
    return req


def kerberos_flags(value: int, cls: Type[Any] = KerberosFlags) -> Any:
    """A 32-bit flags value of class ``cls`` from an integer whose most significant bit is
    bit 0 (MIT's ``TKT_FLG_FORWARDABLE`` is ``0x40000000``)."""
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError("Kerberos flags are 32 bits")
    return cls(binValue=format(value, "032b"))


def _flags_from_names(names: Sequence[str], bits: Dict[str, int], cls: Type[Any]) -> Any:
    value = 0
    for name in names:
        try:
            value |= 0x80000000 >> bits[name]
        except KeyError:
            raise ValueError("unknown %s flag %r" % (cls.__name__, name)) from None
    return kerberos_flags(value, cls)


def kdc_options(*names: str) -> KDCOptions:
    """KDCOptions with the named bits set, e.g. ``kdc_options("forwardable", "canonicalize")``."""
    return _flags_from_names(names, KDC_OPTION_BITS, KDCOptions)  # type: ignore[no-any-return]


def ap_options(*names: str) -> APOptions:
    """APOptions with the named bits set, e.g. ``ap_options("mutual-required")``."""
    return _flags_from_names(names, AP_OPTION_BITS, APOptions)  # type: ignore[no-any-return]


def ticket_flags(*names: str) -> TicketFlags:
    """TicketFlags with the named bits set."""
    return _flags_from_names(names, TICKET_FLAG_BITS, TicketFlags)  # type: ignore[no-any-return]


def flags_to_int(bits: Any) -> int:
    """The first 32 bits of a KerberosFlags value as an integer (bit 0 most significant;
    missing bits count as 0).  This is the ``ticket_flags`` field of an MIT ccache."""
    try:
        length = len(bits)
        value = int(bits.asInteger()) if length else 0
    except _DECODE_ERRORS:
        raise KerberosError("malformed KerberosFlags") from None
    if length < 32:
        return value << (32 - length)
    return value >> (length - 32)


def flag_names(value: int, bits: Dict[str, int] = TICKET_FLAG_BITS) -> List[str]:
    """The names of the bits set in a 32-bit flags integer (see :func:`flags_to_int`)."""
    return [name for name, bit in bits.items() if value & (0x80000000 >> bit) and name != "reserved"]


# =============================================================================== readers


@dataclass(frozen=True)
class EtypeInfo:
    """What a KDC says about one of the client's keys: etype, salt and string-to-key
    parameters (None when absent; the salt then is the default one)."""

    etype: int
    salt: Optional[bytes] = None
    s2kparams: Optional[bytes] = None


def _present(value: Any) -> bool:
    return value is not None and bool(value.isValue)


def padata_entries(padata: Any) -> List[Tuple[int, bytes]]:
    """``(padata-type, padata-value)`` of a PADATA / METHOD-DATA value (absent: empty)."""
    if not _present(padata):
        return []
    return [(int(item["padata-type"]), bytes(item["padata-value"])) for item in padata]


def _etype_info(entries: List[Tuple[int, bytes]]) -> List[EtypeInfo]:
    for padata_type, value in entries:
        if padata_type == PA_ETYPE_INFO2:
            out = []
            for entry in decode(value, ETYPE_INFO2()):
                salt = entry["salt"]
                params = entry["s2kparams"]
                out.append(EtypeInfo(int(entry["etype"]),
                                     str(salt).encode("utf-8") if _present(salt) else None,
                                     bytes(params) if _present(params) else None))
            return out
    for padata_type, value in entries:
        if padata_type == PA_ETYPE_INFO:
            out = []
            for entry in decode(value, ETYPE_INFO()):
                salt = entry["salt"]
                out.append(EtypeInfo(int(entry["etype"]), bytes(salt) if _present(salt) else None))
            return out
    return []


def etype_info2_from_padata(padata: Any) -> List[EtypeInfo]:
    """The ETYPE-INFO2 (else ETYPE-INFO) entries of a reply's padata, in the KDC's order."""
    return _etype_info(padata_entries(padata))


def etype_info2_from_error(err: Any) -> List[EtypeInfo]:
    """The ETYPE-INFO2 (else ETYPE-INFO) entries of the METHOD-DATA in a KRB-ERROR's e-data
    ([RFC 4120] 5.2.7.5, KDC_ERR_PREAUTH_REQUIRED); empty when there is no e-data."""
    e_data = err["e-data"]
    if not _present(e_data):
        return []
    return _etype_info(padata_entries(decode(bytes(e_data), METHOD_DATA())))


def krb_error_fields(err: Any) -> Tuple[int, str, bytes]:
    """``(error-code, e-text or "", e-data or b"")`` of a KRB-ERROR."""
    text = err["e-text"]
    data = err["e-data"]
    return (int(err["error-code"]), str(text) if _present(text) else "",
            bytes(data) if _present(data) else b"")


def krb_error_ntstatus(err: Any) -> Optional[int]:
    """The NTSTATUS a Windows KDC put in a KRB-ERROR's e-data (KERB-ERROR-DATA carrying a
    KERB-EXT-ERROR, [MS-KILE] 2.2.1-2.2.2), or None when the e-data is anything else."""
    _, _, e_data = krb_error_fields(err)
    if not e_data:
        return None
    try:
        item = decode(e_data, KERB_ERROR_DATA())
    except KerberosError:
        return None
    if int(item["data-type"]) != KERB_ERR_TYPE_EXTENDED or not _present(item["data-value"]):
        return None
    value = bytes(item["data-value"])
    if len(value) < 12:
        return None
    status, _reserved, _flags = struct.unpack_from("<III", value)
    return int(status)


def error_name(code: int) -> str:
    """``"KDC_ERR_PREAUTH_FAILED (Pre-authentication information was invalid)"`` for 24."""
    name = ERROR_NAMES.get(code, "KRB error %d" % code)
    text = ERROR_DESCRIPTIONS.get(code)
    return "%s (%s)" % (name, text) if text else name
