"""Kerberos 5 for SMB logons, IO-free ([RFC 4120], [RFC 4121], [MS-KILE]).

The exchanges are objects that build requests and check replies; they never
touch a socket.  A driver sends what :meth:`request` returns to a KDC
(:func:`smb.krb5_kdc.send_to_kdc` for the blocking one) and hands the reply
to :meth:`receive`:

* :class:`AsExchange` gets a ticket-granting ticket for a password or a key
  (keytab): a first AS-REQ without pre-authentication learns the etype and
  salt from the KDC's PREAUTH_REQUIRED error (ETYPE-INFO2), the second carries
  PA-ENC-TIMESTAMP;
* :class:`TgsExchange` turns a TGT into a service ticket (the authenticator
  carries the keyed checksum of the request body, which Samba's KDC insists on);
* :class:`ApInitiator` builds the AP-REQ for the SMB server, wrapped in GSS-API
  and SPNEGO framing, and checks the server's AP-REP (mutual authentication);
  its :attr:`~ApInitiator.session_key` is the key SMB signs and encrypts with
  ([MS-SMB2] 3.2.5.3: the acceptor's subkey when it sends one, else ours).

Keys, tickets and passwords never reach a log or an exception message.
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Sequence, Tuple

from . import krb5_asn1 as A
from . import krb5_crypto as kc
from . import krb5_files as kf
from . import krb5_gss as gss
from . import securityblob as sb
from .exceptions import KerberosError
from .krb5_files import Principal

__all__ = [
    "Principal", "Credential", "AsExchange", "TgsExchange", "ApInitiator",
    "default_salt", "error_code_of", "service_principal", "service_ticket_flow",
    "credentials_from_ccache", "principal_from_ccache", "keys_from_keytab", "ccache_of",
]

log = logging.getLogger("SMB.krb5")

Clock = Callable[[], _dt.datetime]
Rand = Callable[[int], bytes]

#: How long a requested ticket should live ([RFC 4120] "till"); the KDC caps it.
TICKET_LIFETIME = _dt.timedelta(hours=10)
#: GSS flags of the AP-REQ: mutual authentication, replay and sequence detection,
#: confidentiality and integrity (what SMB clients ask for).
CONTEXT_FLAGS = (gss.GSS_C_MUTUAL_FLAG | gss.GSS_C_REPLAY_FLAG | gss.GSS_C_SEQUENCE_FLAG
                 | gss.GSS_C_CONF_FLAG | gss.GSS_C_INTEG_FLAG)
#: KDC options of the AS-REQ: forwardable, renewable, canonicalize ([RFC 4120] 5.4.1, [RFC 6806]).
AS_OPTIONS = ("forwardable", "renewable", "canonicalize")
#: KDC options of the TGS-REQ: a service ticket needs neither forwarding nor renewal (asking
#: for what the TGT does not allow is KDC_ERR_BADOPTION).
TGS_OPTIONS = ("canonicalize",)

_ERROR_HINTS = {
    6: "unknown user (client principal not found)",
    7: "unknown service principal",
    14: "no encryption type in common with the KDC",
    18: "the account is disabled or locked out",
    23: "the password has expired",
    24: "wrong password (pre-authentication failed)",
    32: "the ticket has expired",
    37: "clock skew too great between this machine and the KDC",
    41: "message modified (integrity check failed)",
    68: "wrong realm",
}


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def service_principal(host: str, realm: str, service: str = "cifs") -> Principal:
    """``cifs/<host>@REALM``; the host name in lower case, as AD registers it."""
    return Principal((service, host.lower()), realm.upper(), A.NT_SRV_INST)


def default_salt(principal: Principal) -> bytes:
    """The default salt: realm followed by the name components ([RFC 4120] 4)."""
    return (principal.realm + "".join(principal.components)).encode("utf-8")


@dataclass
class Credential:
    """A ticket and what goes with it (never printed with its key)."""

    client: Principal
    server: Principal
    key: kc.Key = field(repr=False)
    ticket: bytes = field(repr=False)  # DER of the Ticket
    authtime: _dt.datetime
    endtime: _dt.datetime
    starttime: Optional[_dt.datetime] = None
    renew_till: Optional[_dt.datetime] = None
    flags: int = 0

    def expired(self, now: Optional[_dt.datetime] = None, margin: float = 60.0) -> bool:
        """True when the ticket ends within ``margin`` seconds."""
        now = now or _utcnow()
        return self.endtime <= now + _dt.timedelta(seconds=margin)


# --------------------------------------------------------------------------- helpers


def error_code_of(reply: bytes) -> Optional[int]:
    """The error-code of a KRB-ERROR, or None when ``reply`` is another message."""
    try:
        if A.message_type(reply) != A.KRB_ERROR_TYPE:
            return None
        return int(A.decode(reply, A.KRB_ERROR())["error-code"])
    except KerberosError:
        return None


def _raise_krb_error(err: Any, what: str, now: _dt.datetime) -> None:
    code = int(err["error-code"])
    name = A.ERROR_NAMES.get(code, "error %d" % code)
    hint = _ERROR_HINTS.get(code, "")
    text = what + ": " + name + (" - " + hint if hint else "")
    if code == 37:
        try:
            stime = A.parse_kerberos_time(str(err["stime"]))
            text += " (KDC time %s, ours %s)" % (stime.isoformat(), now.isoformat())
        except (KerberosError, ValueError, KeyError):
            pass
    etext = err["e-text"]
    if etext is not None and etext.isValue:
        text += " [%s]" % str(etext)[:200]
    raise KerberosError(text, code)


def _principal_name(p: Principal) -> Any:
    return A.principal_name(p.name_type, p.components)


def _read_principal(name: Any, realm: Any) -> Principal:
    components = tuple(str(c) for c in name["name-string"])
    return Principal(components, str(realm), int(name["name-type"]))


def _nonce(rand: Rand) -> int:
    return int.from_bytes(rand(4), "big") & 0x7FFFFFFF


def _encrypted_data(key: kc.Key, usage: int, plaintext: bytes, kvno: Optional[int] = None) -> Any:
    data = A.EncryptedData()
    data["etype"] = key.etype
    if kvno is not None:
        data["kvno"] = kvno
    data["cipher"] = kc.encrypt(key, usage, plaintext)
    return data


def _decrypt(key: kc.Key, usage: int, enc: Any, what: str) -> bytes:
    etype = int(enc["etype"])
    if etype != key.etype:
        raise KerberosError("%s is encrypted with etype %d, the key is etype %d" % (what, etype, key.etype))
    try:
        return kc.decrypt(key, usage, bytes(enc["cipher"]))
    except KerberosError as err:
        raise KerberosError("%s does not decrypt: %s" % (what, err.message)) from None


def _times(now: _dt.datetime) -> Tuple[str, int]:
    return A.kerberos_time(now), now.microsecond


def _read_time(value: Any) -> Optional[_dt.datetime]:
    if value is None or not value.isValue:
        return None
    return A.parse_kerberos_time(str(value))


def _credential_from(enc_part: Any, client: Principal, ticket_der: bytes) -> Credential:
    key_info = enc_part["key"]
    key = kc.Key(int(key_info["keytype"]), bytes(key_info["keyvalue"]))
    if key.etype not in kc.SUPPORTED_ETYPES:
        raise KerberosError("the KDC issued a session key of etype %d, which we do not support" % key.etype)
    server = _read_principal(enc_part["sname"], enc_part["srealm"])
    authtime = _read_time(enc_part["authtime"])
    endtime = _read_time(enc_part["endtime"])
    if authtime is None or endtime is None:
        raise KerberosError("KDC reply without authtime/endtime")
    return Credential(client=client, server=server, key=key, ticket=ticket_der, authtime=authtime,
                      endtime=endtime, starttime=_read_time(enc_part["starttime"]),
                      renew_till=_read_time(enc_part["renew-till"]),
                      flags=A.flags_to_int(enc_part["flags"]))


def _fill_req_body(body: Any, client: Optional[Principal], server: Principal, nonce: int,
                   etypes: Sequence[int], now: _dt.datetime, options: Sequence[str]) -> Any:
    """Fill a request's ``req-body`` component in place (assigning a built
    KDC-REQ-BODY would make pyasn1 re-tag a copy with absent fields)."""
    body["kdc-options"] = A.kdc_options(*options)
    if client is not None:
        body["cname"] = _principal_name(client)
    body["realm"] = server.realm
    body["sname"] = _principal_name(server)
    body["till"] = A.kerberos_time(now + TICKET_LIFETIME)
    body["nonce"] = nonce
    etype_seq = body["etype"]
    for position, etype in enumerate(etypes):
        etype_seq[position] = etype
    return body


def _check_reply_names(enc_part: Any, nonce: int, server: Principal, what: str) -> None:
    if int(enc_part["nonce"]) != nonce:
        raise KerberosError("%s: nonce does not match our request (replayed or forged reply)" % what)
    got = _read_principal(enc_part["sname"], enc_part["srealm"])
    if got.realm.upper() != server.realm.upper() or \
            tuple(c.lower() for c in got.components) != tuple(c.lower() for c in server.components):
        raise KerberosError("%s is for %s, we asked for %s" % (what, got, server))


# --------------------------------------------------------------------------- AS exchange


class AsExchange:
    """Get a TGT for ``client`` with a password or with long-term keys.

    ``keys`` (from a keytab) maps etype -> :class:`~smb.krb5_crypto.Key`.
    """

    def __init__(self, client: Principal, password: Optional[str] = None,
                 keys: Optional[dict] = None, etypes: Sequence[int] = kc.SUPPORTED_ETYPES,
                 clock: Clock = _utcnow, rand: Rand = os.urandom) -> None:
        if password is None and not keys:
            raise ValueError("AsExchange needs a password or keys")
        self.client = client
        self.server = Principal(("krbtgt", client.realm), client.realm, A.NT_SRV_INST)
        self._password = password
        self._keys = dict(keys or {})
        self.etypes = [e for e in etypes if password is not None or e in self._keys]
        if not self.etypes:
            raise KerberosError("no usable encryption type for %s" % client)
        self.clock = clock
        self.rand = rand
        self._preauth: Optional[Tuple[kc.Key, Any]] = None
        self._nonce = 0
        self._sent_preauth = False
        self.attempts = 0

    def _key_for(self, etype: int, salt: bytes, params: Optional[bytes]) -> kc.Key:
        if self._password is not None:
            return kc.string_to_key(etype, self._password, salt, params)
        key = self._keys.get(etype)
        if key is None:
            raise KerberosError("the keytab has no key of etype %d for %s" % (etype, self.client))
        return key

    def request(self) -> bytes:
        """The next AS-REQ to send."""
        self.attempts += 1
        if self.attempts > 3:
            raise KerberosError("AS exchange with %s did not converge" % self.client.realm)
        now = self.clock()
        self._nonce = _nonce(self.rand)
        req = A.AS_REQ()
        req["pvno"] = 5
        req["msg-type"] = A.AS_REQ_TYPE
        padata = req["padata"]
        position = 0
        if self._preauth is not None:
            key, _ = self._preauth
            ts = A.PA_ENC_TS_ENC()
            ts["patimestamp"], ts["pausec"] = _times(now)
            encrypted = _encrypted_data(key, A.KU_PA_ENC_TIMESTAMP, A.encode(ts))
            padata[position] = A.pa_data(A.PA_ENC_TIMESTAMP, A.encode(encrypted))
            position += 1
            self._sent_preauth = True
        padata[position] = A.pa_data(A.PA_PAC_REQUEST, A.encode(A.pac_request(True)))
        _fill_req_body(req["req-body"], self.client, self.server, self._nonce, self.etypes, now, AS_OPTIONS)
        return A.encode(req)

    def _learn_preauth(self, err: Any) -> None:
        entries = A.etype_info2_from_error(err)
        for etype in self.etypes:  # our preference, among what the KDC offers
            for entry in entries:
                if entry.etype == etype:
                    salt = entry.salt if entry.salt is not None else default_salt(self.client)
                    self._preauth = (self._key_for(etype, salt, entry.s2kparams), entry)
                    return
        if not entries and self.etypes:
            etype = self.etypes[0]
            self._preauth = (self._key_for(etype, default_salt(self.client), None), None)
            return
        raise KerberosError("the KDC offers etypes %s, none of ours (%s)" % (
            [e.etype for e in entries], list(self.etypes)), 14)

    def receive(self, reply: bytes) -> Optional[Credential]:
        """Check a reply: a :class:`Credential` (the TGT), or None when
        :meth:`request` must be sent again (pre-authentication is needed)."""
        now = self.clock()
        kind = A.message_type(reply)
        if kind == A.KRB_ERROR_TYPE:
            err = A.decode(reply, A.KRB_ERROR())
            code = int(err["error-code"])
            if code == 25 and not self._sent_preauth:  # KDC_ERR_PREAUTH_REQUIRED
                self._learn_preauth(err)
                return None
            _raise_krb_error(err, "AS exchange for %s" % self.client, now)
        if kind != A.AS_REP_TYPE:
            raise KerberosError("the KDC answered an AS-REQ with message type %d" % kind)
        rep = A.decode(reply, A.AS_REP())
        enc = rep["enc-part"]
        etype = int(enc["etype"])
        if etype not in self.etypes:
            # The reply key is one of the etypes we listed ([RFC 4120] 3.1.3); anything else
            # would be a downgrade to an etype the caller ruled out (rc4-hmac, say).
            raise KerberosError("AS-REP is encrypted with etype %d, which we did not ask for (%s)"
                                % (etype, list(self.etypes)))
        if self._preauth is not None and self._preauth[0].etype == etype:
            key = self._preauth[0]
        else:
            # No pre-authentication was needed: the reply's PA-ETYPE-INFO2 names the salt.
            salt, params = default_salt(self.client), None
            for entry in A.etype_info2_from_padata(rep["padata"]):
                if entry.etype == etype:
                    salt = entry.salt if entry.salt is not None else salt
                    params = entry.s2kparams
            key = self._key_for(etype, salt, params)
        plain = _decrypt(key, A.KU_AS_REP_ENC_PART, enc, "AS-REP")
        part = A.decode_enc_kdc_rep_part(plain)
        _check_reply_names(part, self._nonce, self.server, "AS-REP")
        client = _read_principal(rep["cname"], rep["crealm"])
        return _credential_from(part, client, A.encode(rep["ticket"]))


# --------------------------------------------------------------------------- TGS exchange


def _authenticator(client: Principal, now: _dt.datetime, cksum: Optional[Tuple[int, bytes]] = None,
                   subkey: Optional[kc.Key] = None, seq: Optional[int] = None) -> Any:
    auth = A.Authenticator()
    auth["authenticator-vno"] = 5
    auth["crealm"] = client.realm
    auth["cname"] = _principal_name(client)
    if cksum is not None:
        auth["cksum"] = A.checksum(*cksum)
    ctime, cusec = _times(now)
    auth["cusec"] = cusec
    auth["ctime"] = ctime
    if subkey is not None:
        auth["subkey"] = A.encryption_key(subkey.etype, subkey.contents)
    if seq is not None:
        auth["seq-number"] = seq
    return auth


def _ap_req(credential: Credential, authenticator: Any, usage: int, options: Sequence[str] = ()) -> Any:
    req = A.AP_REQ()
    req["pvno"] = 5
    req["msg-type"] = A.AP_REQ_TYPE
    req["ap-options"] = A.ap_options(*options)
    req["ticket"] = A.decode(credential.ticket, A.Ticket())
    req["authenticator"] = _encrypted_data(credential.key, usage, A.encode(authenticator))
    return req


class TgsExchange:
    """Turn a TGT into a ticket for ``server``."""

    def __init__(self, tgt: Credential, server: Principal, etypes: Sequence[int] = kc.SUPPORTED_ETYPES,
                 clock: Clock = _utcnow, rand: Rand = os.urandom) -> None:
        self.tgt = tgt
        self.server = server
        self.etypes = list(etypes)
        self.clock = clock
        self.rand = rand
        self._nonce = 0

    def request(self) -> bytes:
        now = self.clock()
        self._nonce = _nonce(self.rand)
        req = A.TGS_REQ()
        req["pvno"] = 5
        req["msg-type"] = A.TGS_REQ_TYPE
        body_der = A.encode(_fill_req_body(req["req-body"], None, self.server, self._nonce, self.etypes, now,
                                                 TGS_OPTIONS))
        key = self.tgt.key
        ctype = kc.checksum_type_for(key.etype)
        cksum = (ctype, kc.make_checksum(ctype, key, A.KU_TGS_REQ_AUTH_CKSUM, body_der))
        authenticator = _authenticator(self.tgt.client, now, cksum)
        ap_req = _ap_req(self.tgt, authenticator, A.KU_TGS_REQ_AUTH)
        req["padata"][0] = A.pa_data(A.PA_TGS_REQ, A.encode(ap_req))
        return A.encode(req)

    def receive(self, reply: bytes) -> Credential:
        now = self.clock()
        kind = A.message_type(reply)
        if kind == A.KRB_ERROR_TYPE:
            _raise_krb_error(A.decode(reply, A.KRB_ERROR()), "ticket for %s" % self.server, now)
        if kind != A.TGS_REP_TYPE:
            raise KerberosError("the KDC answered a TGS-REQ with message type %d" % kind)
        rep = A.decode(reply, A.TGS_REP())
        plain = _decrypt(self.tgt.key, A.KU_TGS_REP_ENC_PART_SESSION, rep["enc-part"], "TGS-REP")
        part = A.decode_enc_kdc_rep_part(plain)
        _check_reply_names(part, self._nonce, self.server, "TGS-REP")
        client = _read_principal(rep["cname"], rep["crealm"])
        return _credential_from(part, client, A.encode(rep["ticket"]))


# --------------------------------------------------------------------------- AP exchange (GSS initiator)


class ApInitiator:
    """The GSS-API Kerberos initiator for one SMB logon (inside SPNEGO).

    :meth:`token` is the first SESSION_SETUP security buffer; :meth:`accept`
    takes the server's answer and checks its AP-REP (mutual authentication),
    after which :attr:`session_key` holds the SMB session key.
    """

    MECHS: Tuple[str, ...] = (sb.KRB5_OID,)

    def __init__(self, credential: Credential, clock: Clock = _utcnow, rand: Rand = os.urandom) -> None:
        self.credential = credential
        self.clock = clock
        self.rand = rand
        self._subkey = kc.random_key(credential.key.etype, rand)
        self._ctime: Tuple[str, int] = ("", 0)
        self._seq = 0
        self.session_key: Optional[bytes] = None
        self.context_key: Optional[kc.Key] = None
        self.acceptor_subkey = False

    def token(self) -> bytes:
        now = self.clock()
        self._seq = _nonce(self.rand)
        cksum = (gss.CHECKSUM_GSSAPI, gss.authenticator_checksum(CONTEXT_FLAGS))
        authenticator = _authenticator(self.credential.client, now, cksum, self._subkey, self._seq)
        self._ctime = (str(authenticator["ctime"]), int(authenticator["cusec"]))
        ap_req = _ap_req(self.credential, authenticator, A.KU_AP_REQ_AUTH, ("mutual-required",))
        return sb.negotiate_blob(gss.wrap_initial(gss.TOK_AP_REQ, A.encode(ap_req)), self.MECHS)

    def accept(self, server_blob: bytes) -> None:
        """Check the server's SPNEGO answer; raises :class:`KerberosError`."""
        state, response, mic = sb.decode_neg_token_resp(bytes(server_blob), self.MECHS + (sb.MS_KRB5_OID,))
        if state == sb.RESULT_REJECT:
            # RFC 4178 4.2.2: a reject may carry the mechanism's error token; its code says why.
            if response is not None:
                try:
                    tok_id, message = gss.unwrap_initial(response)
                    err = A.decode(message, A.KRB_ERROR()) if tok_id == gss.TOK_ERROR else None
                except KerberosError:
                    err = None
                if err is not None:
                    _raise_krb_error(err, "the server rejected our ticket", self.clock())
            raise KerberosError("the server rejected the Kerberos logon")
        if response is None:
            raise KerberosError("the server sent no AP-REP: mutual authentication is not possible")
        tok_id, message = gss.unwrap_initial(response)
        if tok_id == gss.TOK_ERROR:
            err = A.decode(message, A.KRB_ERROR())
            _raise_krb_error(err, "the server refused our ticket", self.clock())
        if tok_id != gss.TOK_AP_REP:
            raise KerberosError("unexpected GSS token %s from the server" % tok_id.hex())
        rep = A.decode(message, A.AP_REP())
        plain = _decrypt(self.credential.key, A.KU_AP_REP_ENC_PART, rep["enc-part"], "AP-REP")
        part = A.decode(plain, A.EncAPRepPart())
        if (str(part["ctime"]), int(part["cusec"])) != self._ctime:
            raise KerberosError("AP-REP does not answer our authenticator (mutual authentication failed)")
        key = self._subkey
        sub = part["subkey"]
        if sub is not None and sub.isValue:
            key = kc.Key(int(sub["keytype"]), bytes(sub["keyvalue"]))
            if key.etype not in kc.SUPPORTED_ETYPES:
                raise KerberosError("the server chose a subkey of etype %d" % key.etype)
            self.acceptor_subkey = True
        if mic is not None:
            gss.verify_mic(key, sb.mech_types_der(self.MECHS), mic, from_acceptor=True)
        elif state not in (None, sb.RESULT_ACCEPT_COMPLETED):
            raise KerberosError("the server did not complete the Kerberos logon (SPNEGO state %s)" % state)
        self.context_key = key
        self.session_key = key.contents


# --------------------------------------------------------------------------- the whole way to a service ticket

def _name_key(p: Principal) -> Tuple[Tuple[str, ...], str]:
    """What makes two principals the same (AD names are case-insensitive; the type is a hint)."""
    return tuple(c.lower() for c in p.components), p.realm.upper()


KdcFlow = Any  # Generator[bytes, bytes, Credential]: yields requests, is sent replies


def service_ticket_flow(client: Principal, server: Principal, password: Optional[str] = None,
                        keys: Optional[dict] = None, cached: Sequence[Credential] = (),
                        etypes: Sequence[int] = kc.SUPPORTED_ETYPES, clock: Clock = _utcnow,
                        rand: Rand = os.urandom, got: Optional[List[Credential]] = None) -> KdcFlow:
    """A generator that yields KDC requests, is sent the replies, and returns
    the :class:`Credential` for ``server``.

    ``cached`` credentials (a ccache's, or this process's) are used first: a
    valid ticket for ``server`` needs no KDC at all, a valid TGT needs only
    the TGS exchange.  Otherwise the AS exchange runs with ``password`` or
    ``keys``.  Each exchange's requests are sent to the client's realm's KDC.
    Every new ticket (TGT and service ticket) is appended to ``got``.
    """
    got = got if got is not None else []
    now = clock()
    want = _name_key(server)
    tgt: Optional[Credential] = None
    for cred in cached:
        # A ccache may hold another principal's tickets: using them would log on as someone else.
        if cred.expired(now) or _name_key(cred.client) != _name_key(client):
            continue
        if _name_key(cred.server) == want:
            log.debug("using a cached ticket for %s", server)
            return cred
        # Only krbtgt/REALM@REALM: a cross-realm TGT (krbtgt/OTHER@REALM) is no TGT for REALM.
        if _name_key(cred.server) == (("krbtgt", server.realm.lower()), server.realm.upper()):
            tgt = cred
    if tgt is None:
        if password is None and not keys:
            raise KerberosError("no valid ticket for %s in the credential cache, and no password or keytab"
                                % client)
        exchange = AsExchange(client, password, keys, etypes, clock, rand)
        while tgt is None:
            reply = yield exchange.request()
            tgt = exchange.receive(reply)
        got.append(tgt)
        log.debug("got a TGT for %s (etype %d)", tgt.client, tgt.key.etype)
    tgs = TgsExchange(tgt, server, etypes, clock, rand)
    reply = yield tgs.request()
    cred = tgs.receive(reply)
    got.append(cred)
    log.debug("got a ticket for %s (session key etype %d)", server, cred.key.etype)
    return cred


# --------------------------------------------------------------------------- credential files


def _epoch(value: int) -> Optional[_dt.datetime]:
    return _dt.datetime.fromtimestamp(value, _dt.timezone.utc) if value else None


def principal_from_ccache(cache: kf.CCache) -> Principal:
    """The cache's default principal (the user ``kinit`` ran for)."""
    return cache.principal


def credentials_from_ccache(cache: kf.CCache) -> List[Credential]:
    """The cache's tickets that we can use (supported session-key etypes,
    not user-to-user), as :class:`Credential` objects."""
    out: List[Credential] = []
    for c in cache.credentials:
        if c.is_skey or c.key.enctype not in kc.SUPPORTED_ETYPES or not c.ticket or not c.endtime:
            continue
        authtime = _epoch(c.authtime) or _epoch(c.starttime)
        endtime = _epoch(c.endtime)
        if authtime is None or endtime is None:
            continue
        out.append(Credential(client=c.client, server=c.server, key=kc.Key(c.key.enctype, c.key.data),
                              ticket=c.ticket, authtime=authtime, endtime=endtime,
                              starttime=_epoch(c.starttime), renew_till=_epoch(c.renew_till),
                              flags=c.ticket_flags))
    return out


def keys_from_keytab(entries: Sequence[kf.KeytabEntry], principal: Principal) -> dict:
    """etype -> :class:`~smb.krb5_crypto.Key` of ``principal`` in a keytab
    (the newest key version of each etype we support)."""
    keys = {etype: kc.Key(etype, entry.key)
            for etype, entry in kf.select_keys(entries, principal).items() if etype in kc.SUPPORTED_ETYPES}
    if not keys:
        raise KerberosError("the keytab has no usable key for %s" % principal)
    return keys


def _epoch_of(value: Optional[_dt.datetime]) -> int:
    return int(value.timestamp()) if value is not None else 0


def ccache_of(principal: Principal, credentials: Sequence[Credential]) -> kf.CCache:
    """A credential cache (to write with :func:`smb.krb5_files.write_ccache`)
    holding ``credentials`` for ``principal``."""
    entries = [kf.Credential(client=c.client, server=c.server, key=kf.Keyblock(c.key.etype, c.key.contents),
                             authtime=_epoch_of(c.authtime), starttime=_epoch_of(c.starttime),
                             endtime=_epoch_of(c.endtime), renew_till=_epoch_of(c.renew_till),
                             ticket_flags=c.flags, ticket=c.ticket)
               for c in credentials]
    return kf.CCache(principal=principal, credentials=entries)
