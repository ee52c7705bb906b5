"""SPNEGO security blobs carrying NTLMSSP (RFC 4178, [MS-SPNG]), via pyasn1.

The pysmb-compatible functions produce the same bytes pysmb produced:

* the first token is a GSS-API InitialContextToken ([APPLICATION 0], RFC 2743
  3.1) with the SPNEGO OID and a NegTokenInit listing only NTLMSSP;
* later client tokens are a bare NegTokenResp ([1]) with responseToken and,
  when the caller gives one, mechListMIC.

Everything that parses server bytes turns any decoding failure into
:class:`~smb.exceptions.ProtocolError`.
"""
from __future__ import annotations

from typing import Any, List, Optional, Tuple

from pyasn1.codec.der import decoder, encoder
from pyasn1.type import char, constraint, namedtype, namedval, tag, univ

from smb.exceptions import ProtocolError

__all__ = [
    "RESULT_ACCEPT_COMPLETED", "RESULT_ACCEPT_INCOMPLETE", "RESULT_REJECT", "RESULT_REQUEST_MIC",
    "SPNEGO_OID", "NTLMSSP_OID", "MECH_TYPES_DER",
    "generateNegotiateSecurityBlob", "generateAuthSecurityBlob",
    "decodeChallengeSecurityBlob", "decodeAuthResponseSecurityBlob",
    "decode_neg_token_resp", "decode_server_negotiate_hint", "negotiate_blob", "mech_types_der",
    "KRB5_OID", "MS_KRB5_OID",
    "BadSecurityBlobError", "UnsupportedSecurityProvider",
    "NegotiationToken", "NegTokenInit", "NegTokenTarg", "MechTypeList", "ContextFlags",
    "NegResultEnumerated", "ContextToken",
]

RESULT_ACCEPT_COMPLETED = 0
RESULT_ACCEPT_INCOMPLETE = 1
RESULT_REJECT = 2
RESULT_REQUEST_MIC = 3

SPNEGO_OID = "1.3.6.1.5.5.2"
#: NTLMSSP mechanism, [MS-NLMP] 1.9.
NTLMSSP_OID = "1.3.6.1.4.1.311.2.2.10"
#: Kerberos 5 GSS-API mechanism (RFC 1964 / 4121).
KRB5_OID = "1.2.840.113554.1.2.2"
#: The same mechanism under the OID old Windows versions announced ([MS-KILE] 1.9).
MS_KRB5_OID = "1.2.840.48018.1.2.2"

# pysmb raised these two; both are protocol errors here.
BadSecurityBlobError = ProtocolError
UnsupportedSecurityProvider = ProtocolError


def _ctx(number: int, constructed: bool = True) -> tag.Tag:
    fmt = tag.tagFormatConstructed if constructed else tag.tagFormatSimple
    return tag.Tag(tag.tagClassContext, fmt, number)


class _NegState(univ.Enumerated):
    namedValues = namedval.NamedValues(
        ("accept-completed", 0), ("accept-incomplete", 1), ("reject", 2), ("request-mic", 3))
    subtypeSpec = univ.Enumerated.subtypeSpec + constraint.SingleValueConstraint(0, 1, 2, 3)


class _MechTypeList(univ.SequenceOf):
    componentType = univ.ObjectIdentifier()


class _ContextFlags(univ.BitString):
    pass


class _NegTokenInit(univ.Sequence):
    """NegTokenInit, RFC 4178 4.2.1."""

    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("mechTypes", _MechTypeList().subtype(explicitTag=_ctx(0))),
        namedtype.OptionalNamedType("reqFlags", _ContextFlags().subtype(explicitTag=_ctx(1))),
        namedtype.OptionalNamedType("mechToken", univ.OctetString().subtype(explicitTag=_ctx(2))),
        namedtype.OptionalNamedType("mechListMIC", univ.OctetString().subtype(explicitTag=_ctx(3))),
    )


class _NegHints(univ.Sequence):
    """negHints of NegTokenInit2, [MS-SPNG] 2.2.1."""

    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("hintName", char.GeneralString().subtype(explicitTag=_ctx(0))),
        namedtype.OptionalNamedType("hintAddress", univ.OctetString().subtype(explicitTag=_ctx(1))),
    )


class _NegTokenInit2(univ.Sequence):
    """NegTokenInit2, [MS-SPNG] 2.2.1: what servers put in NEGOTIATE responses."""

    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("mechTypes", _MechTypeList().subtype(explicitTag=_ctx(0))),
        namedtype.OptionalNamedType("reqFlags", _ContextFlags().subtype(explicitTag=_ctx(1))),
        namedtype.OptionalNamedType("mechToken", univ.OctetString().subtype(explicitTag=_ctx(2))),
        namedtype.OptionalNamedType("negHints", _NegHints().subtype(explicitTag=_ctx(3))),
        namedtype.OptionalNamedType("mechListMIC", univ.OctetString().subtype(explicitTag=_ctx(4))),
    )


class _NegTokenResp(univ.Sequence):
    """NegTokenResp, RFC 4178 4.2.2."""

    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("negState", _NegState().subtype(explicitTag=_ctx(0))),
        namedtype.OptionalNamedType("supportedMech", univ.ObjectIdentifier().subtype(explicitTag=_ctx(1))),
        namedtype.OptionalNamedType("responseToken", univ.OctetString().subtype(explicitTag=_ctx(2))),
        namedtype.OptionalNamedType("mechListMIC", univ.OctetString().subtype(explicitTag=_ctx(3))),
    )


class _NegotiationToken(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("negTokenInit", _NegTokenInit().subtype(explicitTag=_ctx(0))),
        namedtype.NamedType("negTokenResp", _NegTokenResp().subtype(explicitTag=_ctx(1))),
    )


class _NegotiationToken2(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("negTokenInit", _NegTokenInit2().subtype(explicitTag=_ctx(0))),
        namedtype.NamedType("negTokenResp", _NegTokenResp().subtype(explicitTag=_ctx(1))),
    )


class _InitialContextToken(univ.Sequence):
    """GSS-API InitialContextToken, RFC 2743 3.1: [APPLICATION 0] IMPLICIT SEQUENCE."""

    tagSet = univ.Sequence.tagSet.tagImplicitly(
        tag.Tag(tag.tagClassApplication, tag.tagFormatConstructed, 0))
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("thisMech", univ.ObjectIdentifier()),
        namedtype.NamedType("innerContextToken", _NegotiationToken()),
    )


class _InitialContextToken2(univ.Sequence):
    tagSet = _InitialContextToken.tagSet
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("thisMech", univ.ObjectIdentifier()),
        namedtype.NamedType("innerContextToken", _NegotiationToken2()),
    )


def _mech_types(*tags: tag.Tag, oids: Tuple[str, ...] = (NTLMSSP_OID,)) -> _MechTypeList:
    mech_types = _MechTypeList()
    for extra in tags:
        mech_types = mech_types.subtype(explicitTag=extra)
    for position, oid in enumerate(oids):
        mech_types.setComponentByPosition(position, univ.ObjectIdentifier(oid))
    return mech_types


def mech_types_der(oids: Tuple[str, ...]) -> bytes:
    """DER of a MechTypeList (what a mechListMIC covers)."""
    return encoder.encode(_mech_types(oids=oids))


#: DER of the MechTypeList our negotiate token carries; the mechListMIC covers it.
MECH_TYPES_DER: bytes = encoder.encode(_mech_types())


# --------------------------------------------------------------------------
# Encoders
# --------------------------------------------------------------------------

def generateNegotiateSecurityBlob(ntlm_data: bytes) -> bytes:
    """InitialContextToken(SPNEGO, NegTokenInit{mechTypes=[NTLMSSP], mechToken})."""
    return negotiate_blob(ntlm_data, (NTLMSSP_OID,))


def negotiate_blob(mech_token: bytes, oids: Tuple[str, ...]) -> bytes:
    """InitialContextToken(SPNEGO, NegTokenInit{mechTypes=oids, mechToken}):
    the first token, whose ``mech_token`` is for ``oids[0]``."""
    init = _NegTokenInit().subtype(explicitTag=_ctx(0))
    init["mechTypes"] = _mech_types(_ctx(0), oids=oids)
    init["mechToken"] = univ.OctetString(bytes(mech_token)).subtype(explicitTag=_ctx(2))
    token = _NegotiationToken()
    token["negTokenInit"] = init
    outer = _InitialContextToken()
    outer["thisMech"] = univ.ObjectIdentifier(SPNEGO_OID)
    outer["innerContextToken"] = token
    return encoder.encode(outer)


def generateAuthSecurityBlob(ntlm_data: bytes, mech_list_mic: Optional[bytes] = None) -> bytes:
    """NegTokenResp{responseToken[, mechListMIC]}."""
    resp = _NegTokenResp().subtype(explicitTag=_ctx(1))
    resp["responseToken"] = univ.OctetString(bytes(ntlm_data)).subtype(explicitTag=_ctx(2))
    if mech_list_mic is not None:
        resp["mechListMIC"] = univ.OctetString(bytes(mech_list_mic)).subtype(explicitTag=_ctx(3))
    token = _NegotiationToken()
    token["negTokenResp"] = resp
    return encoder.encode(token)


# --------------------------------------------------------------------------
# Decoders (hostile input)
# --------------------------------------------------------------------------

def _decode(data: bytes, spec: Any, what: str) -> Any:
    try:
        value, _rest = decoder.decode(bytes(data), asn1Spec=spec)
    except Exception as err:  # pyasn1 raises many types on garbage input
        raise ProtocolError("malformed %s: %s" % (what, err.__class__.__name__)) from err
    return value


def _optional_bytes(seq: univ.Sequence, name: str) -> Optional[bytes]:
    component = seq.getComponentByName(name)
    if component is None or not component.isValue:
        return None
    return bytes(component)


def decode_neg_token_resp(data: bytes, mechs: Tuple[str, ...] = (NTLMSSP_OID,)
                          ) -> Tuple[Optional[int], Optional[bytes], Optional[bytes]]:
    """Decode a NegTokenResp: ``(negState or None, responseToken or None, mechListMIC or None)``.

    A supportedMech not in ``mechs`` (default: NTLMSSP) raises :class:`ProtocolError`.
    """
    token = _decode(data, _NegotiationToken(), "SPNEGO NegTokenResp")
    if token.getName() != "negTokenResp":
        raise ProtocolError("expected SPNEGO NegTokenResp")
    resp = token.getComponent()
    try:
        mech = resp.getComponentByName("supportedMech")
        if mech is not None and mech.isValue and str(mech) not in mechs:
            raise ProtocolError("server chose unsupported security mechanism %s" % mech)
        state = resp.getComponentByName("negState")
        result = int(state) if state is not None and state.isValue else None
        return result, _optional_bytes(resp, "responseToken"), _optional_bytes(resp, "mechListMIC")
    except ProtocolError:
        raise
    except Exception as err:
        raise ProtocolError("malformed SPNEGO NegTokenResp") from err


def decodeChallengeSecurityBlob(data: bytes) -> Tuple[int, bytes]:
    """The server's first reply: ``(negState, NTLM CHALLENGE_MESSAGE)``."""
    result, token, _mic = decode_neg_token_resp(data)
    if token is None:
        raise ProtocolError("SPNEGO challenge carries no responseToken")
    if result is None:
        result = RESULT_ACCEPT_INCOMPLETE
    return result, token


def decodeAuthResponseSecurityBlob(data: bytes) -> int:
    """The server's final reply: its negState."""
    result, _token, _mic = decode_neg_token_resp(data)
    if result is None:
        raise ProtocolError("SPNEGO response carries no negState")
    return result


def decode_server_negotiate_hint(data: bytes) -> List[str]:
    """Mechanism OIDs a server offers in its NEGOTIATE response blob.

    Accepts the InitialContextToken with NegTokenInit or NegTokenInit2
    (negHints) as Windows and Samba send it; an empty blob gives ``[]``.
    """
    if not data:
        return []
    outer = _decode(data, _InitialContextToken2(), "SPNEGO negotiate hint")
    try:
        if str(outer["thisMech"]) != SPNEGO_OID:
            raise ProtocolError("security blob is not SPNEGO (%s)" % outer["thisMech"])
        inner = outer["innerContextToken"]
        if inner.getName() != "negTokenInit":
            raise ProtocolError("expected SPNEGO NegTokenInit in negotiate hint")
        mech_types = inner.getComponent().getComponentByName("mechTypes")
        if mech_types is None or not mech_types.isValue:
            return []
        return [str(oid) for oid in mech_types]
    except ProtocolError:
        raise
    except Exception as err:
        raise ProtocolError("malformed SPNEGO negotiate hint") from err


# --------------------------------------------------------------------------
# pysmb's ASN.1 type classes, for code that decodes blobs itself
# --------------------------------------------------------------------------
#
# pysmb named them after RFC 2478 (negTokenTarg, negResult); RFC 4178 renamed
# the response token to NegTokenResp / negState without changing its
# encoding.  These public classes keep pysmb's names so that
# ``decoder.decode(blob, asn1Spec=NegotiationToken())`` followed by
# ``token.getComponentByName('negTokenTarg')`` works; the module's own
# encoders and decoders above use the RFC 4178 shapes and are unaffected.

class NegResultEnumerated(univ.Enumerated):
    """negResult / negState, RFC 4178 4.2.2 (request-mic included)."""

    namedValues = namedval.NamedValues(
        ("accept_completed", 0), ("accept_incomplete", 1), ("reject", 2), ("request_mic", 3))
    subtypeSpec = univ.Enumerated.subtypeSpec + constraint.SingleValueConstraint(0, 1, 2, 3)


class ContextFlags(univ.BitString):
    """ContextFlags, RFC 4178 4.2.1."""

    namedValues = namedval.NamedValues(
        ("delegFlag", 0), ("mutualFlag", 1), ("replayFlag", 2), ("sequenceFlag", 3),
        ("anonFlag", 4), ("confFlag", 5), ("integFlag", 6))


class MechTypeList(univ.SequenceOf):
    """MechTypeList, RFC 4178 4.2.1: SEQUENCE OF MechType (an OID)."""

    componentType = univ.ObjectIdentifier()


class NegTokenInit(univ.Sequence):
    """NegTokenInit, RFC 4178 4.2.1 (explicit tags, as the RFC's module says)."""

    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("mechTypes", MechTypeList().subtype(explicitTag=_ctx(0))),
        namedtype.OptionalNamedType("reqFlags", ContextFlags().subtype(explicitTag=_ctx(1))),
        namedtype.OptionalNamedType("mechToken", univ.OctetString().subtype(explicitTag=_ctx(2))),
        namedtype.OptionalNamedType("mechListMIC", univ.OctetString().subtype(explicitTag=_ctx(3))),
    )


class NegTokenTarg(univ.Sequence):
    """NegTokenTarg (RFC 2478) = NegTokenResp (RFC 4178 4.2.2), with pysmb's field names."""

    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("negResult", NegResultEnumerated().subtype(explicitTag=_ctx(0))),
        namedtype.OptionalNamedType("supportedMech", univ.ObjectIdentifier().subtype(explicitTag=_ctx(1))),
        namedtype.OptionalNamedType("responseToken", univ.OctetString().subtype(explicitTag=_ctx(2))),
        namedtype.OptionalNamedType("mechListMIC", univ.OctetString().subtype(explicitTag=_ctx(3))),
    )


class NegotiationToken(univ.Choice):
    """NegotiationToken, RFC 4178 4.2: [0] NegTokenInit or [1] NegTokenTarg."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("negTokenInit", NegTokenInit().subtype(explicitTag=_ctx(0))),
        namedtype.NamedType("negTokenTarg", NegTokenTarg().subtype(explicitTag=_ctx(1))),
    )


class ContextToken(univ.Sequence):
    """The GSS-API InitialContextToken around the first SPNEGO token (RFC 2743 3.1):
    [APPLICATION 0] IMPLICIT SEQUENCE {thisMech, innerContextToken}."""

    tagSet = univ.Sequence.tagSet.tagImplicitly(
        tag.Tag(tag.tagClassApplication, tag.tagFormatConstructed, 0))
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("thisMech", univ.ObjectIdentifier()),
        namedtype.NamedType("innerContextToken", NegotiationToken()),
    )
