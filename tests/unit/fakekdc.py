"""A fake KDC and a fake SMB acceptor (GSS-API Kerberos inside SPNEGO) for offline tests.

Both play the other side of :mod:`smb.krb5` the way a real one would ([RFC 4120] 3.1-3.3,
[RFC 4121] 4.1, [RFC 4178] 4.2.2), and both check what they are sent:

* :class:`FakeKdc` decodes AS-REQ and TGS-REQ with :mod:`smb.krb5_asn1`.  An AS-REQ without
  PA-ENC-TIMESTAMP gets KDC_ERR_PREAUTH_REQUIRED with METHOD-DATA / ETYPE-INFO2 (salt, optional
  s2kparams); the timestamp must decrypt with the user's key (else KDC_ERR_PREAUTH_FAILED) and
  be within five minutes of the KDC's clock (else KRB_AP_ERR_SKEW with stime).  A TGS-REQ's
  PA-TGS-REQ AP-REQ must carry a ticket that decrypts with the krbtgt key, an authenticator
  that decrypts with the ticket's session key, and a checksum (key usage 6) over the DER of
  ``req-body`` exactly as it was received (cut out of the request bytes here, not re-encoded).
  Replies are AS-REP / TGS-REP with an EncASRepPart / EncTGSRepPart, or KRB-ERRORs.
* :class:`FakeAcceptor` takes the SPNEGO NegTokenInit, unwraps the GSS AP-REQ, decrypts the
  ticket with the service key and the authenticator with the ticket's session key, checks
  the 0x8003 checksum (Lgth 16, no channel bindings, the context flags) and answers with a
  NegTokenResp built here byte by byte: accept-completed, supportedMech krb5, the GSS-framed
  AP-REP (EncAPRepPart echoing ctime/cusec, optionally an acceptor subkey) and optionally a
  mechListMIC (:func:`smb.krb5_gss.make_mic`, ``acceptor=True``).

Knobs on both objects (``nonce_offset``, ``reply_sname``, ``tamper_cipher``, ``ctime_offset``,
``mic``, ...) make them misbehave in the ways the tests need.  The SPNEGO and GSS framing is
read and written with the few lines of TLV code below, which know nothing of pyasn1.
"""
from __future__ import annotations

import datetime as dt
import random
import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from smb import krb5_asn1 as A
from smb import krb5_crypto as kc
from smb import krb5_gss as gss
from smb.exceptions import KerberosError
from smb.krb5 import Principal

REALM = "EXAMPLE.COM"
#: The fixed "now" of every test (microseconds set, so cusec is not trivially 0).
T0 = dt.datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=dt.timezone.utc)
SKEW = dt.timedelta(minutes=5)
LIFETIME = dt.timedelta(hours=10)

SPNEGO_OID_DER = bytes.fromhex("06062b0601050502")
NTLMSSP_OID_DER = bytes.fromhex("060a2b06010401823702020a")


def rand_from(seed: int) -> Callable[[int], bytes]:
    """A deterministic ``rand`` for the classes that take one."""
    source = random.Random(seed)

    def rand(n: int) -> bytes:
        return bytes(source.getrandbits(8) for _ in range(n))

    return rand


class Clock:
    """An injectable clock standing at ``now`` until moved."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


# ----------------------------------------------------------------------------- tiny DER


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return bytes([tag]) + der_length(len(body)) + body


def children(raw: bytes) -> List[Tuple[int, bytes, bytes]]:
    """``(tag byte, whole TLV, contents)`` of each TLV laid end to end in ``raw``
    (low tag numbers only, which is all SPNEGO and the Kerberos messages use)."""
    out = []
    pos = 0
    while pos < len(raw):
        tag = raw[pos]
        first = raw[pos + 1]
        head = 2
        if first & 0x80:
            count = first & 0x7F
            length = int.from_bytes(raw[pos + 2:pos + 2 + count], "big")
            head += count
        else:
            length = first
        end = pos + head + length
        if end > len(raw):
            raise ValueError("TLV runs past its container")
        out.append((tag, raw[pos:end], raw[pos + head:end]))
        pos = end
    return out


def child(raw: bytes, tag: int) -> bytes:
    """The contents of the TLV with ``tag`` among the TLVs of ``raw``."""
    for got, _whole, contents in children(raw):
        if got == tag:
            return contents
    raise KeyError("no TLV with tag 0x%02x" % tag)


def whole_child(raw: bytes, tag: int) -> bytes:
    for got, whole, _contents in children(raw):
        if got == tag:
            return whole
    raise KeyError("no TLV with tag 0x%02x" % tag)


def neg_token_resp(state: Optional[int] = 0, mech: Optional[bytes] = bytes.fromhex("06092a864886f712010202"),
                   token: Optional[bytes] = None, mic: Optional[bytes] = None) -> bytes:
    """NegTokenResp ([RFC 4178] 4.2.2) as the server sends it: ``[1] SEQUENCE {...}``."""
    fields = b""
    if state is not None:
        fields += tlv(0xA0, tlv(0x0A, bytes([state])))
    if mech is not None:
        fields += tlv(0xA1, mech)
    if token is not None:
        fields += tlv(0xA2, tlv(0x04, token))
    if mic is not None:
        fields += tlv(0xA3, tlv(0x04, mic))
    return tlv(0xA1, tlv(0x30, fields))


# ----------------------------------------------------------------------------- shared helpers


def principal_of(name: Any, realm: Any) -> Principal:
    return Principal(tuple(str(c) for c in name["name-string"]), str(realm), int(name["name-type"]))


def same_name(a: Principal, b: Principal) -> bool:
    return (tuple(c.lower() for c in a.components) == tuple(c.lower() for c in b.components)
            and a.realm.upper() == b.realm.upper())


def ktime(when: dt.datetime) -> str:
    return A.kerberos_time(when)


def present(value: Any) -> bool:
    return value is not None and bool(value.isValue)


class Refusal(Exception):
    """What a fake peer answers with a KRB-ERROR (internal to this module)."""

    def __init__(self, code: int, text: str = "", e_data: Optional[bytes] = None) -> None:
        super().__init__(code, text)
        self.code = code
        self.text = text
        self.e_data = e_data


def krb_error(code: int, now: dt.datetime, realm: str, sname: Principal, text: str = "",
              e_data: Optional[bytes] = None, stime: Optional[dt.datetime] = None) -> bytes:
    err = A.KRB_ERROR()
    err["pvno"] = 5
    err["msg-type"] = A.KRB_ERROR_TYPE
    stime = stime or now
    err["stime"] = ktime(stime)
    err["susec"] = stime.microsecond
    err["error-code"] = code
    err["realm"] = realm
    err["sname"] = A.principal_name(sname.name_type, sname.components)
    if text:
        err["e-text"] = text
    if e_data is not None:
        err["e-data"] = e_data
    return A.encode(err)


def enc_ticket_part(flags: Sequence[str], key: kc.Key, client: Principal, authtime: dt.datetime,
                    endtime: dt.datetime) -> bytes:
    part = A.EncTicketPart()
    part["flags"] = A.ticket_flags(*flags)
    part["key"] = A.encryption_key(key.etype, key.contents)
    part["crealm"] = client.realm
    part["cname"] = A.principal_name(client.name_type, client.components)
    transited = A.TransitedEncoding()
    transited["tr-type"] = 1
    transited["contents"] = b""
    part["transited"] = transited
    part["authtime"] = ktime(authtime)
    part["starttime"] = ktime(authtime)
    part["endtime"] = ktime(endtime)
    return A.encode(part)


def ticket(server: Principal, server_key: kc.Key, enc_part: bytes) -> Any:
    tkt = A.Ticket()
    tkt["tkt-vno"] = 5
    tkt["realm"] = server.realm
    tkt["sname"] = A.principal_name(server.name_type, server.components)
    tkt["enc-part"] = A.encrypted_data(server_key.etype, kc.encrypt(server_key, A.KU_TICKET, enc_part), kvno=2)
    return tkt


def decrypt_ticket(tkt: Any, key: kc.Key) -> Any:
    enc = tkt["enc-part"]
    if int(enc["etype"]) != key.etype:
        raise Refusal(A.ErrorCode.KRB_AP_ERR_BADKEYVER, "ticket etype")
    try:
        return A.decode(kc.decrypt(key, A.KU_TICKET, bytes(enc["cipher"])), A.EncTicketPart())
    except KerberosError:
        raise Refusal(A.KRB_AP_ERR_BAD_INTEGRITY, "ticket does not decrypt") from None


def decrypt_authenticator(ap_req: Any, session: kc.Key, usage: int) -> Any:
    enc = ap_req["authenticator"]
    if int(enc["etype"]) != session.etype:
        raise Refusal(A.KRB_AP_ERR_BAD_INTEGRITY, "authenticator etype")
    try:
        return A.decode(kc.decrypt(session, usage, bytes(enc["cipher"])), A.Authenticator())
    except KerberosError:
        raise Refusal(A.KRB_AP_ERR_BAD_INTEGRITY, "authenticator does not decrypt") from None


def check_recent(when: dt.datetime, now: dt.datetime) -> None:
    if abs(when - now) > SKEW:
        raise Refusal(A.KRB_AP_ERR_SKEW, "clock skew")


# ----------------------------------------------------------------------------- the KDC


@dataclass
class Account:
    """A user: password, salt (None: the default salt), optional s2kparams, the etypes of its
    keys, and the account states a KDC refuses logons for."""

    principal: Principal
    password: str
    etypes: Tuple[int, ...] = kc.SUPPORTED_ETYPES
    salt: Optional[bytes] = None
    s2kparams: Dict[int, bytes] = field(default_factory=dict)
    disabled: bool = False
    password_expired: bool = False
    keys: Dict[int, kc.Key] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        salt = self.key_salt()
        for etype in self.etypes:
            self.keys[etype] = kc.string_to_key(etype, self.password, salt, self.s2kparams.get(etype))

    def key_salt(self) -> bytes:
        if self.salt is not None:
            return self.salt
        return (self.principal.realm + "".join(self.principal.components)).encode()


@dataclass
class Issued:
    """What the KDC handed out in one reply (for the tests to compare with)."""

    kind: str
    session_key: kc.Key
    reply_key: kc.Key
    server: Principal
    ticket_der: bytes = field(repr=False)


class FakeKdc:
    """One realm's KDC: users, a krbtgt key, service keys; see the module docstring."""

    def __init__(self, realm: str = REALM, clock: Optional[Callable[[], dt.datetime]] = None,
                 rand: Optional[Callable[[int], bytes]] = None, ticket_etype: int = kc.ETYPE_AES256_CTS_HMAC_SHA1_96,
                 require_preauth: bool = True) -> None:
        self.realm = realm
        self.clock = clock or Clock()
        self.rand = rand or rand_from(1000)
        self.require_preauth = require_preauth
        self.krbtgt = Principal(("krbtgt", realm), realm, A.NT_SRV_INST)
        self.krbtgt_key = kc.random_key(ticket_etype, self.rand)
        self.accounts: Dict[str, Account] = {}
        self.services: Dict[Tuple[str, ...], kc.Key] = {}
        self.received: List[Tuple[int, Any]] = []
        self.issued: List[Issued] = []
        # --- misbehaviour knobs (all off by default)
        #: Answer every AS-REQ with this KRB-ERROR code, preauth or not.
        self.as_error: Optional[int] = None
        #: Answer every TGS-REQ with this KRB-ERROR code.
        self.tgs_error: Optional[int] = None
        #: Ask for pre-authentication even when the request carries it.
        self.always_preauth_required = False
        #: Added to the request's nonce in the encrypted reply part.
        self.nonce_offset = 0
        #: sname/srealm put in the encrypted reply part instead of the requested one.
        self.reply_sname: Optional[Principal] = None
        #: APPLICATION tag of the AS-REP's encrypted part (26 is the AD quirk).
        self.as_enc_tag = A.ENC_AS_REP_PART_TAG
        #: etype claimed in the reply's enc-part (whatever key really encrypted it).
        self.claim_etype: Optional[int] = None
        #: Encrypt the reply's enc-part with this key instead of the right one.
        self.reply_key: Optional[kc.Key] = None
        #: Flip one bit of the reply's enc-part cipher.
        self.tamper_cipher = False
        #: Put PA-ETYPE-INFO2 in an AS-REP (as KDCs do when no preauth was needed).
        self.as_rep_etype_info = True
        #: Name the salt in ETYPE-INFO2 (without it a client must use the default salt).
        self.etype_info_salt = True
        #: Put ETYPE-INFO2 in the METHOD-DATA of PREAUTH_REQUIRED.
        self.preauth_etype_info = True
        #: Session key etype to issue (default: the first requested one the KDC has).
        self.session_etype: Optional[int] = None

    # -- set-up ------------------------------------------------------------------
    def add_user(self, name: str, password: str, **kwargs: Any) -> Account:
        account = Account(Principal((name,), self.realm, A.NT_PRINCIPAL), password, **kwargs)
        self.accounts[name.lower()] = account
        return account

    def add_service(self, principal: Principal, etype: int = kc.ETYPE_AES256_CTS_HMAC_SHA1_96) -> kc.Key:
        key = kc.random_key(etype, self.rand)
        self.services[tuple(c.lower() for c in principal.components)] = key
        return key

    # -- dispatch ----------------------------------------------------------------
    def handle(self, data: bytes) -> bytes:
        kind = A.message_type(data)
        if kind == A.AS_REQ_TYPE:
            return self._as(data)
        if kind == A.TGS_REQ_TYPE:
            return self._tgs(data)
        raise AssertionError("the fake KDC got message type %d" % kind)

    def _error(self, code: int, sname: Principal, text: str = "", e_data: Optional[bytes] = None) -> bytes:
        return krb_error(code, self.clock(), self.realm, sname, text, e_data)

    # -- AS ----------------------------------------------------------------------
    def _as(self, data: bytes) -> bytes:
        req = A.decode(data, A.AS_REQ())
        self.received.append((A.AS_REQ_TYPE, req))
        body = req["req-body"]
        assert int(req["pvno"]) == 5 and int(req["msg-type"]) == A.AS_REQ_TYPE
        try:
            return self._as_checked(req, body)
        except Refusal as refusal:
            return self._error(refusal.code, self.krbtgt, refusal.text, refusal.e_data)

    def _etype_info2(self, account: Account, etypes: Sequence[int]) -> bytes:
        info = A.ETYPE_INFO2()
        position = 0
        for etype in etypes:
            if etype not in account.keys:
                continue
            entry = A.ETYPE_INFO2_ENTRY()
            entry["etype"] = etype
            if etype != kc.ETYPE_RC4_HMAC and self.etype_info_salt:
                entry["salt"] = account.key_salt().decode()
            if etype in account.s2kparams:
                entry["s2kparams"] = account.s2kparams[etype]
            info[position] = entry
            position += 1
        return A.encode(info)

    def _as_checked(self, req: Any, body: Any) -> bytes:
        now = self.clock()
        if str(body["realm"]).upper() != self.realm:
            raise Refusal(A.KDC_ERR_WRONG_REALM, "not this realm")
        client = principal_of(body["cname"], body["realm"])
        account = self.accounts.get("/".join(client.components).lower())
        if account is None:
            raise Refusal(A.KDC_ERR_C_PRINCIPAL_UNKNOWN)
        sname = principal_of(body["sname"], body["realm"])
        if not same_name(sname, self.krbtgt):
            raise Refusal(A.KDC_ERR_S_PRINCIPAL_UNKNOWN)
        requested = [int(e) for e in body["etype"]]
        common = [e for e in requested if e in account.keys]
        if not common:
            raise Refusal(A.KDC_ERR_ETYPE_NOSUPP)
        if account.disabled:
            raise Refusal(A.KDC_ERR_CLIENT_REVOKED)
        if self.as_error is not None:
            raise Refusal(self.as_error, "as configured")
        padata = dict(A.padata_entries(req["padata"]))
        assert A.PA_PAC_REQUEST in padata
        assert bool(A.decode(padata[A.PA_PAC_REQUEST], A.KERB_PA_PAC_REQUEST())["include-pac"])
        reply_etype = common[0]
        if A.PA_ENC_TIMESTAMP in padata and not self.always_preauth_required:
            enc = A.decode(padata[A.PA_ENC_TIMESTAMP], A.PA_ENC_TIMESTAMP_ASN1())
            reply_etype = int(enc["etype"])
            key = account.keys.get(reply_etype)
            if key is None:
                raise Refusal(A.KDC_ERR_ETYPE_NOSUPP, "preauth etype")
            try:
                ts = A.decode(kc.decrypt(key, A.KU_PA_ENC_TIMESTAMP, bytes(enc["cipher"])), A.PA_ENC_TS_ENC())
            except KerberosError:
                raise Refusal(A.KDC_ERR_PREAUTH_FAILED) from None
            when = A.parse_kerberos_time(ts["patimestamp"])
            if present(ts["pausec"]):
                when += dt.timedelta(microseconds=int(ts["pausec"]))
            check_recent(when, now)
        elif self.require_preauth or self.always_preauth_required:
            method = A.METHOD_DATA()
            if self.preauth_etype_info:
                method.append(A.pa_data(A.PA_ETYPE_INFO2, self._etype_info2(account, requested)))
            method.append(A.pa_data(A.PA_ENC_TIMESTAMP, b""))
            raise Refusal(A.KDC_ERR_PREAUTH_REQUIRED, "", A.encode(method))
        if account.password_expired:
            raise Refusal(A.KDC_ERR_KEY_EXPIRED)
        return self._reply(A.AS_REP(), A.AS_REP_TYPE, body, account.principal, account.keys[reply_etype],
                           self.krbtgt, self.krbtgt_key, ("forwardable", "renewable", "initial", "pre-authent"),
                           now, self.as_enc_tag, A.KU_AS_REP_ENC_PART,
                           self._etype_info2(account, [reply_etype]) if self.as_rep_etype_info else None)

    # -- TGS ---------------------------------------------------------------------
    def _tgs(self, data: bytes) -> bytes:
        req = A.decode(data, A.TGS_REQ())
        self.received.append((A.TGS_REQ_TYPE, req))
        assert int(req["pvno"]) == 5 and int(req["msg-type"]) == A.TGS_REQ_TYPE
        body = req["req-body"]
        # The checksum covers req-body as sent: cut its DER out of the request bytes.
        body_der = child(child(child(data, 0x6C), 0x30), 0xA4)
        try:
            return self._tgs_checked(req, body, body_der)
        except Refusal as refusal:
            return self._error(refusal.code, self.krbtgt, refusal.text, refusal.e_data)

    def _tgs_checked(self, req: Any, body: Any, body_der: bytes) -> bytes:
        now = self.clock()
        padata = dict(A.padata_entries(req["padata"]))
        if A.PA_TGS_REQ not in padata:
            raise Refusal(A.ErrorCode.KDC_ERR_PADATA_TYPE_NOSUPP)
        ap_req = A.decode(padata[A.PA_TGS_REQ], A.AP_REQ())
        tkt = ap_req["ticket"]
        if not same_name(principal_of(tkt["sname"], tkt["realm"]), self.krbtgt):
            raise Refusal(A.ErrorCode.KRB_AP_ERR_NOT_US)
        part = decrypt_ticket(tkt, self.krbtgt_key)
        if A.parse_kerberos_time(part["endtime"]) <= now:
            raise Refusal(A.KRB_AP_ERR_TKT_EXPIRED)
        session = kc.Key(int(part["key"]["keytype"]), bytes(part["key"]["keyvalue"]))
        auth = decrypt_authenticator(ap_req, session, A.KU_TGS_REQ_AUTH)
        client = principal_of(part["cname"], part["crealm"])
        if not same_name(principal_of(auth["cname"], auth["crealm"]), client):
            raise Refusal(A.ErrorCode.KRB_AP_ERR_BADMATCH)
        check_recent(A.parse_kerberos_time(auth["ctime"]), now)
        if not present(auth["cksum"]):
            raise Refusal(A.KRB_AP_ERR_MODIFIED, "no checksum")
        ctype = int(auth["cksum"]["cksumtype"])
        if ctype != kc.checksum_type_for(session.etype) or not kc.verify_checksum(
                ctype, session, A.KU_TGS_REQ_AUTH_CKSUM, body_der, bytes(auth["cksum"]["checksum"])):
            raise Refusal(A.KRB_AP_ERR_MODIFIED, "bad checksum")
        if self.tgs_error is not None:
            raise Refusal(self.tgs_error, "as configured")
        server = principal_of(body["sname"], body["realm"])
        server_key = self.services.get(tuple(c.lower() for c in server.components))
        if server_key is None:
            raise Refusal(A.KDC_ERR_S_PRINCIPAL_UNKNOWN)
        return self._reply(A.TGS_REP(), A.TGS_REP_TYPE, body, client, session, server, server_key,
                           ("forwardable", "renewable", "pre-authent"), now, A.ENC_TGS_REP_PART_TAG,
                           A.KU_TGS_REP_ENC_PART_SESSION, None)

    # -- replies -----------------------------------------------------------------
    def _reply(self, rep: Any, msg_type: int, body: Any, client: Principal, reply_key: kc.Key,
               server: Principal, server_key: kc.Key, flags: Sequence[str], now: dt.datetime, enc_tag: int,
               usage: int, etype_info: Optional[bytes]) -> bytes:
        requested = [int(e) for e in body["etype"]]
        etype = self.session_etype or next(e for e in requested if e in kc.SUPPORTED_ETYPES)
        session = kc.random_key(etype, self.rand)
        till = A.parse_kerberos_time(body["till"])
        endtime = min(now + LIFETIME, till)
        authtime = now.replace(microsecond=0)
        tkt = ticket(server, server_key, enc_ticket_part(flags, session, client, authtime, endtime))

        part = A.EncASRepPart() if enc_tag == A.ENC_AS_REP_PART_TAG else A.EncTGSRepPart()
        part["key"] = A.encryption_key(session.etype, session.contents)
        last = A.LastReqEntry()
        last["lr-type"] = 0
        last["lr-value"] = ktime(authtime)
        part["last-req"][0] = last
        part["nonce"] = (int(body["nonce"]) + self.nonce_offset) & 0xFFFFFFFF
        part["flags"] = A.ticket_flags(*flags)
        part["authtime"] = ktime(authtime)
        part["starttime"] = ktime(authtime)
        part["endtime"] = ktime(endtime)
        named = self.reply_sname or server
        part["srealm"] = named.realm
        part["sname"] = A.principal_name(named.name_type, named.components)

        key = self.reply_key or reply_key
        cipher = bytearray(kc.encrypt(key, usage, A.encode(part)))
        if self.tamper_cipher:
            cipher[len(cipher) // 2] ^= 0x10
        rep["pvno"] = 5
        rep["msg-type"] = msg_type
        if etype_info is not None:
            rep["padata"][0] = A.pa_data(A.PA_ETYPE_INFO2, etype_info)
        rep["crealm"] = client.realm
        rep["cname"] = A.principal_name(client.name_type, client.components)
        rep["ticket"] = tkt
        rep["enc-part"] = A.encrypted_data(self.claim_etype or key.etype, bytes(cipher))
        self.issued.append(Issued("AS" if msg_type == A.AS_REP_TYPE else "TGS", session, reply_key, server,
                                  A.encode(tkt)))
        return A.encode(rep)


# ----------------------------------------------------------------------------- the SMB acceptor


class FakeAcceptor:
    """The server side of one Kerberos SESSION_SETUP: see the module docstring."""

    REQUIRED_FLAGS = gss.GSS_C_MUTUAL_FLAG | gss.GSS_C_INTEG_FLAG

    def __init__(self, service: Principal, service_key: kc.Key, clock: Optional[Callable[[], dt.datetime]] = None,
                 rand: Optional[Callable[[int], bytes]] = None, subkey: bool = True, mic: Optional[str] = None) -> None:
        self.service = service
        self.service_key = service_key
        self.clock = clock or Clock()
        self.rand = rand or rand_from(2000)
        #: Send an acceptor subkey in the EncAPRepPart.
        self.subkey = subkey
        #: None: no mechListMIC; "good"; "bad" (one bit off); "initiator" (wrong direction flag).
        self.mic = mic
        # --- misbehaviour knobs
        #: Added to cusec in the EncAPRepPart (a reply to another authenticator).
        self.ctime_offset = 0
        #: Encrypt the AP-REP with this key instead of the ticket's session key.
        self.ap_rep_key: Optional[kc.Key] = None
        #: Answer with a GSS KRB-ERROR token carrying this code.
        self.error_code: Optional[int] = None
        #: negState of the answer (0 accept-completed).
        self.state: Optional[int] = 0
        #: supportedMech of the answer (DER of the OID).
        self.mech = gss.KRB5_OID_DER
        #: Leave the responseToken out.
        self.no_token = False
        # --- what the acceptor saw
        self.session: Optional[kc.Key] = None
        self.initiator_subkey: Optional[kc.Key] = None
        self.acceptor_subkey: Optional[kc.Key] = None
        self.flags = 0
        self.mech_types_der = b""
        self.failure: Optional[Refusal] = None

    def _error_token(self, code: int, text: str = "") -> bytes:
        der = krb_error(code, self.clock(), self.service.realm, self.service, text)
        return gss.wrap_initial(gss.TOK_ERROR, der)

    def handle(self, blob: bytes) -> bytes:
        # InitialContextToken: 60 len { OID spnego, [0] { SEQUENCE { [0] mechTypes, [2] mechToken } } }
        outer = child(blob, 0x60)
        assert whole_child(outer, 0x06) == SPNEGO_OID_DER
        init = child(child(outer, 0xA0), 0x30)
        self.mech_types_der = child(init, 0xA0)
        mechs = [whole for _tag, whole, _c in children(child(self.mech_types_der, 0x30))]
        assert mechs[0] == gss.KRB5_OID_DER, "krb5 must be the first (preferred) mechanism"
        mech_token = child(child(init, 0xA2), 0x04)
        tok_id, message = gss.unwrap_initial(mech_token)
        assert tok_id == gss.TOK_AP_REQ
        if self.error_code is not None:
            return neg_token_resp(self.state, self.mech, self._error_token(self.error_code, "as configured"))
        try:
            ap_rep = self._check_ap_req(A.decode(message, A.AP_REQ()))
        except Refusal as refusal:
            self.failure = refusal
            return neg_token_resp(2, self.mech, self._error_token(refusal.code, refusal.text))
        token = None if self.no_token else gss.wrap_initial(gss.TOK_AP_REP, ap_rep)
        return neg_token_resp(self.state, self.mech, token, self._mic())

    def _check_ap_req(self, ap_req: Any) -> bytes:
        now = self.clock()
        assert int(ap_req["pvno"]) == 5 and int(ap_req["msg-type"]) == A.AP_REQ_TYPE
        if not A.flags_to_int(ap_req["ap-options"]) & (0x80000000 >> A.AP_OPTION_BITS["mutual-required"]):
            raise Refusal(A.ErrorCode.KRB_AP_ERR_MSG_TYPE, "mutual-required not set")
        tkt = ap_req["ticket"]
        if not same_name(principal_of(tkt["sname"], tkt["realm"]), self.service):
            raise Refusal(A.ErrorCode.KRB_AP_ERR_NOT_US)
        part = decrypt_ticket(tkt, self.service_key)
        self.session = kc.Key(int(part["key"]["keytype"]), bytes(part["key"]["keyvalue"]))
        auth = decrypt_authenticator(ap_req, self.session, A.KU_AP_REQ_AUTH)
        if not same_name(principal_of(auth["cname"], auth["crealm"]), principal_of(part["cname"], part["crealm"])):
            raise Refusal(A.ErrorCode.KRB_AP_ERR_BADMATCH)
        check_recent(A.parse_kerberos_time(auth["ctime"]), now)
        # RFC 4121 4.1.1: cksumtype 0x8003, Lgth (16), Bnd (zero: no channel bindings), Flags.
        if not present(auth["cksum"]) or int(auth["cksum"]["cksumtype"]) != gss.CHECKSUM_GSSAPI:
            raise Refusal(A.ErrorCode.KRB_AP_ERR_INAPP_CKSUM, "no 0x8003 checksum")
        value = bytes(auth["cksum"]["checksum"])
        if len(value) < 24:
            raise Refusal(A.ErrorCode.KRB_AP_ERR_INAPP_CKSUM, "short 0x8003 checksum")
        lgth, = struct.unpack_from("<I", value)
        self.flags, = struct.unpack_from("<I", value, 20)
        if lgth != 16 or value[4:20] != bytes(16):
            raise Refusal(A.ErrorCode.KRB_AP_ERR_INAPP_CKSUM, "channel bindings")
        if self.flags & self.REQUIRED_FLAGS != self.REQUIRED_FLAGS or self.flags & gss.GSS_C_DELEG_FLAG:
            raise Refusal(A.ErrorCode.KRB_AP_ERR_INAPP_CKSUM, "context flags")
        if not present(auth["subkey"]) or not present(auth["seq-number"]):
            raise Refusal(A.KRB_ERR_GENERIC, "no subkey or sequence number")
        self.initiator_subkey = kc.Key(int(auth["subkey"]["keytype"]), bytes(auth["subkey"]["keyvalue"]))

        rep_part = A.EncAPRepPart()
        rep_part["ctime"] = str(auth["ctime"])
        rep_part["cusec"] = (int(auth["cusec"]) + self.ctime_offset) % 1000000
        if self.subkey:
            self.acceptor_subkey = kc.random_key(self.session.etype, self.rand)
            rep_part["subkey"] = A.encryption_key(self.acceptor_subkey.etype, self.acceptor_subkey.contents)
        rep_part["seq-number"] = int.from_bytes(self.rand(4), "big") & 0x7FFFFFFF
        key = self.ap_rep_key or self.session
        rep = A.AP_REP()
        rep["pvno"] = 5
        rep["msg-type"] = A.AP_REP_TYPE
        rep["enc-part"] = A.encrypted_data(key.etype, kc.encrypt(key, A.KU_AP_REP_ENC_PART, A.encode(rep_part)))
        return A.encode(rep)

    @property
    def context_key(self) -> Optional[kc.Key]:
        """The key the MIC is made with: the acceptor subkey, else the initiator's."""
        return self.acceptor_subkey or self.initiator_subkey

    def _mic(self) -> Optional[bytes]:
        if self.mic is None or self.context_key is None:
            return None
        key = self.context_key
        acceptor = self.mic != "initiator"
        token = bytearray(gss.make_mic(key, self.mech_types_der, 0, acceptor=acceptor,
                                       acceptor_subkey=self.acceptor_subkey is not None))
        if self.mic == "bad":
            token[-1] ^= 0x01
        return bytes(token)
