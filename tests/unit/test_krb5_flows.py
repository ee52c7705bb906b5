"""The Kerberos exchanges of :mod:`smb.krb5` run offline against a fake KDC and a fake SMB
acceptor (:mod:`tests.unit.fakekdc`), which check what they are sent as a real peer would.

Covered: AS (with and without pre-authentication) -> TGS -> AP for every etype; which key
becomes the SMB session key; mechListMIC; replies that are forged, replayed or tampered with;
KRB-ERRORs from the KDC and from the acceptor; the bounded pre-authentication loop; the
ticket cache of :func:`smb.krb5.service_ticket_flow`; and hostile replies (hypothesis), after
which only :class:`KerberosError` or the SPNEGO layer's :class:`ProtocolError` may escape.

Everything is deterministic: the clock and ``rand`` are injected (only the confounders inside
ciphertexts come from ``os.urandom``, which no assertion depends on).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import threading
from datetime import timedelta
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smb import krb5
from smb import krb5_asn1 as A
from smb import krb5_crypto as kc
from smb import krb5_gss as gss
from smb import securityblob as sb
from smb.exceptions import KerberosError, ProtocolError
from tests.unit import fakekdc as fk

EXAMPLES = int(os.environ.get("SMBWIRE_FUZZ_EXAMPLES", "300"))
DEADLINE_MS = int(os.environ.get("SMBWIRE_FUZZ_DEADLINE_MS", "1000"))
HANG_SECONDS = 10.0
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=timedelta(milliseconds=DEADLINE_MS),
                         suppress_health_check=list(HealthCheck), database=None)

PASSWORD = "Tr0ub4dor&3 secret"
#: Not the default salt (EXAMPLE.COMalice): a client that ignored ETYPE-INFO2 would fail.
SALT = b"EXAMPLE.COMalice-renamed"
ALL_ETYPES = [kc.ETYPE_AES256_CTS_HMAC_SHA1_96, kc.ETYPE_AES128_CTS_HMAC_SHA1_96,
              kc.ETYPE_AES256_CTS_HMAC_SHA384_192, kc.ETYPE_AES128_CTS_HMAC_SHA256_128, kc.ETYPE_RC4_HMAC]
AES = kc.ETYPE_AES256_CTS_HMAC_SHA1_96
ETYPE_IDS = ["aes256-sha1", "aes128-sha1", "aes256-sha384", "aes128-sha256", "rc4"]

SERVICE = krb5.service_principal("FS1.example.com", fk.REALM)


# ----------------------------------------------------------------------------- harness


class World:
    """A KDC with user alice (custom salt) and cifs/fs1.example.com, and a shared clock."""

    def __init__(self, etypes: Sequence[int] = tuple(ALL_ETYPES), ticket_etype: int = AES, **account: Any) -> None:
        self.clock = fk.Clock()
        self.kdc = fk.FakeKdc(clock=self.clock, ticket_etype=ticket_etype)
        account.setdefault("salt", SALT)
        self.account = self.kdc.add_user("alice", PASSWORD, etypes=tuple(etypes), **account)
        self.client = self.account.principal
        self.service_key = self.kdc.add_service(SERVICE, ticket_etype)

    def secrets(self) -> List[Any]:
        """What must never appear in a message: the password and every key the KDC knows of."""
        keys = list(self.account.keys.values()) + [self.kdc.krbtgt_key, self.service_key]
        keys += [issued.session_key for issued in self.kdc.issued]
        return [PASSWORD] + [k.contents for k in keys]

    def flow(self, etypes: Sequence[int] = tuple(ALL_ETYPES), password: Optional[str] = PASSWORD,
             cached: Sequence[krb5.Credential] = (), got: Optional[List[krb5.Credential]] = None,
             client: Optional[krb5.Principal] = None, clock: Optional[Callable[[], dt.datetime]] = None,
             seed: int = 1) -> Tuple[krb5.Credential, List[int]]:
        """Run service_ticket_flow against the KDC: (credential, message types sent)."""
        flow = krb5.service_ticket_flow(client or self.client, SERVICE, password=password, cached=cached,
                                        etypes=etypes, clock=clock or self.clock, rand=fk.rand_from(seed), got=got)
        return drive(flow, self.kdc)

    def logon(self, cred: krb5.Credential, subkey: bool = True, mic: Optional[str] = None,
              seed: int = 7) -> Tuple[krb5.ApInitiator, fk.FakeAcceptor, bytes]:
        """token() -> acceptor -> (initiator, acceptor, the acceptor's answer); accept() not yet called."""
        initiator = krb5.ApInitiator(cred, clock=self.clock, rand=fk.rand_from(seed))
        acceptor = fk.FakeAcceptor(SERVICE, self.service_key, self.clock, rand=fk.rand_from(seed + 1000),
                                   subkey=subkey, mic=mic)
        answer = acceptor.handle(initiator.token())
        return initiator, acceptor, answer


def drive(flow: Any, kdc: fk.FakeKdc, limit: int = 10) -> Tuple[krb5.Credential, List[int]]:
    sent: List[int] = []
    reply: Optional[bytes] = None
    try:
        while True:
            request = flow.send(reply)
            sent.append(A.message_type(request))
            assert len(sent) <= limit, "the flow keeps sending requests"
            reply = kdc.handle(request)
    except StopIteration as stop:
        return stop.value, sent


def assert_clean(err: BaseException, secrets: Sequence[Any]) -> None:
    """No password and no key bytes (raw, hex or repr'd) in the exception's text."""
    text = " ".join((str(err), repr(err), repr(err.args)))
    for secret in secrets:
        if isinstance(secret, str):
            assert secret not in text
        else:
            assert secret.hex() not in text.lower()
            assert repr(secret)[2:-1] not in text


def tgt_for(world: World, etypes: Sequence[int] = tuple(ALL_ETYPES)) -> krb5.Credential:
    exchange = krb5.AsExchange(world.client, PASSWORD, etypes=etypes, clock=world.clock, rand=fk.rand_from(3))
    for _ in range(3):
        cred = exchange.receive(world.kdc.handle(exchange.request()))
        if cred is not None:
            return cred
    raise AssertionError("no TGT")


# ----------------------------------------------------------------------------- happy paths


@pytest.mark.parametrize("etype", ALL_ETYPES, ids=ETYPE_IDS)
def test_as_tgs_ap_for_each_etype(etype: int) -> None:
    world = World()
    got: List[krb5.Credential] = []
    cred, sent = world.flow(etypes=(etype,), got=got)
    # AS-REQ without preauth, PREAUTH_REQUIRED, AS-REQ with PA-ENC-TIMESTAMP, then the TGS-REQ.
    assert sent == [A.AS_REQ_TYPE, A.AS_REQ_TYPE, A.TGS_REQ_TYPE]
    first, second = (req for kind, req in world.kdc.received if kind == A.AS_REQ_TYPE)
    assert A.PA_ENC_TIMESTAMP not in dict(A.padata_entries(first["padata"]))
    assert A.PA_ENC_TIMESTAMP in dict(A.padata_entries(second["padata"]))
    as_issued, tgs_issued = world.kdc.issued
    assert as_issued.reply_key == world.account.keys[etype]
    assert [c.key for c in got] == [as_issued.session_key, tgs_issued.session_key]
    assert got[0].server.components == ("krbtgt", fk.REALM)
    assert cred is got[1] and cred.key.etype == etype
    assert cred.server.components == ("cifs", "fs1.example.com")
    assert cred.client == world.client
    assert cred.ticket == tgs_issued.ticket_der
    assert cred.authtime == fk.T0.replace(microsecond=0) and cred.endtime == cred.authtime + fk.LIFETIME
    assert "initial" not in A.flag_names(cred.flags) and "initial" in A.flag_names(got[0].flags)

    mic = None if etype == kc.ETYPE_RC4_HMAC else "good"  # RFC 4757 MIC framing is not implemented
    initiator, acceptor, answer = world.logon(cred, mic=mic)
    assert acceptor.failure is None
    assert acceptor.flags == krb5.CONTEXT_FLAGS
    initiator.accept(answer)
    assert acceptor.acceptor_subkey is not None and acceptor.acceptor_subkey.etype == etype
    assert initiator.session_key == acceptor.acceptor_subkey.contents
    assert initiator.acceptor_subkey is True
    assert initiator.context_key == acceptor.acceptor_subkey


@pytest.mark.parametrize("mic", [None, "good"])
def test_session_key_is_the_initiator_subkey_without_an_acceptor_subkey(mic: Optional[str]) -> None:
    world = World()
    cred, _ = world.flow()
    initiator, acceptor, answer = world.logon(cred, subkey=False, mic=mic)
    initiator.accept(answer)
    assert acceptor.initiator_subkey is not None
    assert initiator.session_key == acceptor.initiator_subkey.contents
    assert acceptor.session is not None
    assert initiator.session_key != acceptor.session.contents  # not the ticket's session key
    assert initiator.acceptor_subkey is False


def test_session_key_differs_per_logon() -> None:
    world = World()
    cred, _ = world.flow()
    keys = set()
    for seed in (7, 8):
        initiator, _acceptor, answer = world.logon(cred, seed=seed)
        initiator.accept(answer)
        keys.add(initiator.session_key)
    assert len(keys) == 2


@pytest.mark.parametrize("mic, match", [("bad", "MIC token does not verify"),
                                        ("initiator", "MIC token sent in the wrong direction")])
@pytest.mark.parametrize("subkey", [True, False], ids=["acceptor-subkey", "initiator-subkey"])
def test_bad_mech_list_mic_is_refused(mic: str, match: str, subkey: bool) -> None:
    world = World()
    cred, _ = world.flow()
    initiator, _acceptor, answer = world.logon(cred, subkey=subkey, mic=mic)
    with pytest.raises(KerberosError, match=match) as info:
        initiator.accept(answer)
    assert initiator.session_key is None
    assert_clean(info.value, world.secrets())


def test_mic_over_other_mech_types_is_refused() -> None:
    """The MIC must cover the mechTypes we sent, not whatever list the server liked."""
    world = World()
    cred, _ = world.flow()
    initiator, acceptor, _answer = world.logon(cred)
    assert acceptor.acceptor_subkey is not None
    forged = gss.make_mic(acceptor.acceptor_subkey, sb.mech_types_der((sb.NTLMSSP_OID, sb.KRB5_OID)), 0,
                          acceptor=True, acceptor_subkey=True)
    ap_rep = fk.child(fk.child(fk.child(_answer, 0xA1), 0x30), 0xA2)
    answer = fk.neg_token_resp(0, gss.KRB5_OID_DER, fk.child(ap_rep, 0x04), forged)
    with pytest.raises(KerberosError, match="MIC token does not verify"):
        initiator.accept(answer)


def test_s2kparams_from_etype_info2_are_used() -> None:
    # 5,000 PBKDF2 iterations instead of the default 4,096: the key only matches if s2kparams is read.
    world = World(s2kparams={AES: (5000).to_bytes(4, "big")})
    assert world.account.keys[AES] != kc.string_to_key(AES, PASSWORD, SALT)
    cred, sent = world.flow(etypes=(AES,))
    assert sent == [A.AS_REQ_TYPE, A.AS_REQ_TYPE, A.TGS_REQ_TYPE]
    assert world.kdc.issued[0].reply_key == world.account.keys[AES]


def test_salt_from_etype_info2_is_used() -> None:
    """The fake KDC really checks the timestamp: without the ETYPE-INFO2 salt (a KDC that leaves
    it out means the default one) the key is wrong and pre-authentication fails."""
    world = World()
    world.kdc.etype_info_salt = False
    with pytest.raises(KerberosError) as info:
        world.flow(etypes=(AES,))
    assert info.value.code == A.KDC_ERR_PREAUTH_FAILED


def test_keytab_keys_instead_of_a_password() -> None:
    world = World()
    keys = {AES: world.account.keys[AES]}
    flow = krb5.service_ticket_flow(world.client, SERVICE, keys=keys, clock=world.clock, rand=fk.rand_from(1))
    cred, sent = drive(flow, world.kdc)
    assert sent == [A.AS_REQ_TYPE, A.AS_REQ_TYPE, A.TGS_REQ_TYPE]
    assert cred.key.etype == AES


def test_no_preauth_as_rep_takes_the_salt_from_its_padata() -> None:
    world = World()
    world.kdc.require_preauth = False
    cred, sent = world.flow(etypes=(AES,))
    assert sent == [A.AS_REQ_TYPE, A.TGS_REQ_TYPE]  # no PREAUTH_REQUIRED round
    assert world.kdc.issued[0].reply_key == world.account.keys[AES]
    assert cred.key == world.kdc.issued[1].session_key


def test_no_preauth_as_rep_without_etype_info_uses_the_default_salt() -> None:
    """The counterpart: with the salt left out of the AS-REP padata the default salt is tried,
    which is not this account's, so the reply does not decrypt."""
    world = World()
    world.kdc.require_preauth = False
    world.kdc.as_rep_etype_info = False
    with pytest.raises(KerberosError, match="AS-REP does not decrypt"):
        world.flow(etypes=(AES,))
    plain = World(salt=None)
    plain.kdc.require_preauth = False
    plain.kdc.as_rep_etype_info = False
    _cred, sent = plain.flow(etypes=(AES,))
    assert sent == [A.AS_REQ_TYPE, A.TGS_REQ_TYPE]


@pytest.mark.parametrize("etype", [AES, kc.ETYPE_RC4_HMAC], ids=["aes256-sha1", "rc4"])
def test_as_rep_with_enc_tgs_rep_part_tag(etype: int) -> None:
    """Active Directory answers an AS-REQ with an EncTGSRepPart ([APPLICATION 26])."""
    world = World()
    world.kdc.as_enc_tag = A.ENC_TGS_REP_PART_TAG
    got: List[krb5.Credential] = []
    world.flow(etypes=(etype,), got=got)
    assert got[0].key == world.kdc.issued[0].session_key


# ----------------------------------------------------------------------------- forged and broken replies

OTHER_KEY = kc.Key(AES, bytes(range(32)))
TAMPERING = [
    ("nonce", {"nonce_offset": 1}, "nonce does not match our request"),
    ("sname", {"reply_sname": krb5.Principal(("krbtgt", "EVIL.ORG"), "EVIL.ORG", 2)},
     "is for krbtgt/EVIL.ORG@EVIL.ORG"),
    ("cipher", {"tamper_cipher": True}, "does not decrypt"),
    ("other-key", {"reply_key": OTHER_KEY}, "does not decrypt"),
    ("des", {"claim_etype": 3}, r"(etype|type) 3\b"),
]


@pytest.mark.parametrize("name, knobs, match", TAMPERING, ids=[t[0] for t in TAMPERING])
def test_forged_as_rep_is_refused(name: str, knobs: dict, match: str) -> None:
    world = World()
    for knob, value in knobs.items():
        setattr(world.kdc, knob, value)
    with pytest.raises(KerberosError, match=match) as info:
        world.flow(etypes=(AES,))
    assert info.value.code is None
    assert_clean(info.value, world.secrets())


@pytest.mark.parametrize("name, knobs, match", TAMPERING, ids=[t[0] for t in TAMPERING])
def test_forged_tgs_rep_is_refused(name: str, knobs: dict, match: str) -> None:
    world = World()
    tgt = tgt_for(world)
    for knob, value in knobs.items():
        setattr(world.kdc, knob, value)
    if name == "sname":
        match = "is for krbtgt/EVIL.ORG@EVIL.ORG, we asked for cifs/fs1.example.com@EXAMPLE.COM"
    exchange = krb5.TgsExchange(tgt, SERVICE, clock=world.clock, rand=fk.rand_from(4))
    with pytest.raises(KerberosError, match=match) as info:
        exchange.receive(world.kdc.handle(exchange.request()))
    assert_clean(info.value, world.secrets())


def test_as_rep_claiming_another_etype_is_refused() -> None:
    # The enc-part says aes128 but was made with the aes256 key: the aes128 key does not open it.
    world = World()
    world.kdc.claim_etype = kc.ETYPE_AES128_CTS_HMAC_SHA1_96
    with pytest.raises(KerberosError, match="AS-REP does not decrypt"):
        world.flow(etypes=(AES, kc.ETYPE_AES128_CTS_HMAC_SHA1_96))


def test_tgs_rep_claiming_another_etype_is_refused() -> None:
    world = World()
    tgt = tgt_for(world, (AES,))
    world.kdc.claim_etype = kc.ETYPE_AES128_CTS_HMAC_SHA1_96
    exchange = krb5.TgsExchange(tgt, SERVICE, clock=world.clock, rand=fk.rand_from(4))
    with pytest.raises(KerberosError, match="TGS-REP is encrypted with etype 17, the key is etype 18"):
        exchange.receive(world.kdc.handle(exchange.request()))


def test_as_rep_in_an_etype_we_did_not_offer_is_refused() -> None:
    """Asked for AES only, a reply under the account's rc4-hmac key (which the password also
    yields) is a downgrade, refused even though it would decrypt."""
    world = World()
    world.kdc.reply_key = world.account.keys[kc.ETYPE_RC4_HMAC]
    with pytest.raises(KerberosError, match="etype 23, which we did not ask for"):
        world.flow(etypes=(AES,))


def test_as_rep_for_another_user_is_refused() -> None:
    world = World()
    bob = world.kdc.add_user("bob", "bobs password", etypes=(AES,))
    world.kdc.reply_key = bob.keys[AES]
    with pytest.raises(KerberosError, match="AS-REP does not decrypt"):
        world.flow(etypes=(AES,))


def test_replayed_as_rep_is_refused() -> None:
    """An AS-REP recorded for an earlier request (another nonce) does not answer this one."""
    world = World()
    old = krb5.AsExchange(world.client, PASSWORD, clock=world.clock, rand=fk.rand_from(50))
    old.receive(world.kdc.handle(old.request()))
    recorded = world.kdc.handle(old.request())
    assert old.receive(recorded) is not None
    fresh = krb5.AsExchange(world.client, PASSWORD, clock=world.clock, rand=fk.rand_from(51))
    fresh.receive(world.kdc.handle(fresh.request()))
    fresh.request()
    with pytest.raises(KerberosError, match="nonce does not match"):
        fresh.receive(recorded)


@pytest.mark.parametrize("reply", [b"", b"\x30\x00", bytes.fromhex("6d03020105")], ids=["empty", "sequence", "tgs-rep"])
def test_as_exchange_refuses_other_messages(reply: bytes) -> None:
    world = World()
    exchange = krb5.AsExchange(world.client, PASSWORD, clock=world.clock, rand=fk.rand_from(1))
    exchange.request()
    with pytest.raises(KerberosError, match="message type"):
        exchange.receive(reply)


# ----------------------------------------------------------------------------- KRB-ERRORs


def _error_case(code: int) -> Tuple[World, dict]:
    """A world (and flow arguments) in which the KDC itself arrives at ``code``."""
    kwargs: dict = {}
    if code == A.KDC_ERR_C_PRINCIPAL_UNKNOWN:
        world = World()
        kwargs["client"] = krb5.Principal(("mallory",), fk.REALM)
    elif code == A.KDC_ERR_ETYPE_NOSUPP:
        world = World(etypes=(AES,))
        kwargs["etypes"] = (kc.ETYPE_AES128_CTS_HMAC_SHA1_96,)
    elif code == A.KDC_ERR_CLIENT_REVOKED:
        world = World(disabled=True)
    elif code == A.KDC_ERR_KEY_EXPIRED:
        world = World(password_expired=True)
    elif code == A.KDC_ERR_PREAUTH_FAILED:
        world = World()
        kwargs["password"] = "Tr0ub4dor&3 wrong"
    elif code == A.KRB_AP_ERR_SKEW:
        world = World()
        kwargs["clock"] = fk.Clock(fk.T0 + dt.timedelta(hours=1))
    elif code == A.KDC_ERR_WRONG_REALM:
        world = World()
        kwargs["client"] = krb5.Principal(("alice",), "OTHER.EXAMPLE")
    else:
        raise AssertionError(code)
    return world, kwargs


ERROR_CASES = [
    (6, "KDC_ERR_C_PRINCIPAL_UNKNOWN", "unknown user"),
    (14, "KDC_ERR_ETYPE_NOSUPP", "no encryption type in common"),
    (18, "KDC_ERR_CLIENT_REVOKED", "disabled or locked out"),
    (23, "KDC_ERR_KEY_EXPIRED", "password has expired"),
    (24, "KDC_ERR_PREAUTH_FAILED", "wrong password"),
    (37, "KRB_AP_ERR_SKEW", "clock skew too great"),
    (68, "KDC_ERR_WRONG_REALM", "wrong realm"),
]


@pytest.mark.parametrize("code, name, hint", ERROR_CASES, ids=[c[1] for c in ERROR_CASES])
def test_kdc_errors(code: int, name: str, hint: str) -> None:
    world, kwargs = _error_case(code)
    with pytest.raises(KerberosError) as info:
        world.flow(**kwargs)
    err = info.value
    assert err.code == code
    assert name in str(err) and hint in str(err)
    assert str(err).startswith("AS exchange for ")
    assert_clean(err, world.secrets() + ["Tr0ub4dor&3 wrong"])
    if code == A.KRB_AP_ERR_SKEW:
        # Both clocks are named, so the user can see which one is off.
        assert "KDC time 2024-05-01T12:00:00+00:00" in str(err)
        assert "ours 2024-05-01T13:00:00.250000+00:00" in str(err)


def test_kdc_error_e_text_is_shown() -> None:
    world = World()
    world.kdc.as_error = A.KRB_ERR_GENERIC
    with pytest.raises(KerberosError, match=r"KRB_ERR_GENERIC \[as configured\]") as info:
        world.flow()
    assert info.value.code == A.KRB_ERR_GENERIC


@pytest.mark.parametrize("code, hint", [(7, "unknown service principal"), (32, "the ticket has expired"),
                                        (41, "message modified")])
def test_tgs_errors(code: int, hint: str) -> None:
    world = World()
    tgt = tgt_for(world)
    world.kdc.tgs_error = code
    exchange = krb5.TgsExchange(tgt, SERVICE, clock=world.clock, rand=fk.rand_from(4))
    with pytest.raises(KerberosError, match=hint) as info:
        exchange.receive(world.kdc.handle(exchange.request()))
    assert info.value.code == code
    assert "ticket for cifs/fs1.example.com@EXAMPLE.COM" in str(info.value)
    assert_clean(info.value, world.secrets())


def test_fake_kdc_checks_the_tgs_req_body_checksum() -> None:
    """The fake KDC verifies the authenticator checksum over the body as sent: a request whose
    body was changed after it was signed (here: another nonce) gets KRB_AP_ERR_MODIFIED."""
    world = World()
    tgt = tgt_for(world)
    exchange = krb5.TgsExchange(tgt, SERVICE, clock=world.clock, rand=fk.rand_from(4))
    request = bytearray(exchange.request())
    body_der = fk.child(fk.child(fk.child(bytes(request), 0x6C), 0x30), 0xA4)
    nonce_tlv = fk.whole_child(fk.child(body_der, 0x30), 0xA7)
    at = bytes(request).find(nonce_tlv)
    assert at > 0
    request[at + len(nonce_tlv) - 1] ^= 0x01
    assert A.message_type(world.kdc.handle(bytes(request))) == A.KRB_ERROR_TYPE
    assert krb5.error_code_of(world.kdc.handle(bytes(request))) == A.KRB_AP_ERR_MODIFIED
    # and an unknown service principal
    other = krb5.TgsExchange(tgt, krb5.service_principal("nowhere", fk.REALM), clock=world.clock)
    assert krb5.error_code_of(world.kdc.handle(other.request())) == A.KDC_ERR_S_PRINCIPAL_UNKNOWN


def test_second_preauth_required_is_an_error_not_a_loop() -> None:
    world = World()
    world.kdc.always_preauth_required = True
    flow = krb5.service_ticket_flow(world.client, SERVICE, password=PASSWORD, clock=world.clock,
                                    rand=fk.rand_from(1))
    sent = 0
    reply = None
    with pytest.raises(KerberosError) as info:
        while True:
            request = flow.send(reply)
            sent += 1
            reply = world.kdc.handle(request)
    assert sent == 2
    assert info.value.code == A.KDC_ERR_PREAUTH_REQUIRED
    assert_clean(info.value, world.secrets())


def test_as_exchange_gives_up_after_a_bounded_number_of_rounds() -> None:
    world = World()
    exchange = krb5.AsExchange(world.client, PASSWORD, clock=world.clock, rand=fk.rand_from(1))
    preauth_required = world.kdc.handle(exchange.request())
    assert exchange.receive(preauth_required) is None
    exchange.request()
    exchange.request()  # a driver retrying (a lost UDP reply) may ask once more
    with pytest.raises(KerberosError, match="AS exchange with EXAMPLE.COM did not converge"):
        exchange.request()


def test_preauth_required_without_etype_info_uses_our_first_etype_and_the_default_salt() -> None:
    world = World(salt=None)
    world.kdc.preauth_etype_info = False
    cred, sent = world.flow(etypes=(AES, kc.ETYPE_RC4_HMAC))
    assert sent == [A.AS_REQ_TYPE, A.AS_REQ_TYPE, A.TGS_REQ_TYPE]
    assert world.kdc.issued[0].reply_key == world.account.keys[AES]


def test_preauth_required_offering_none_of_our_etypes() -> None:
    world = World(etypes=(kc.ETYPE_RC4_HMAC,))
    exchange = krb5.AsExchange(world.client, PASSWORD, etypes=(AES,), clock=world.clock, rand=fk.rand_from(1))
    exchange.request()
    # (The fake KDC would answer ETYPE_NOSUPP; some KDCs list the keys they have instead.)
    method = A.METHOD_DATA()
    method.append(A.pa_data(A.PA_ETYPE_INFO2, world.kdc._etype_info2(world.account, [kc.ETYPE_RC4_HMAC])))
    err = fk.krb_error(25, fk.T0, fk.REALM, world.kdc.krbtgt, e_data=A.encode(method))
    with pytest.raises(KerberosError, match=r"offers etypes \[23\], none of ours") as info:
        exchange.receive(err)
    assert info.value.code == A.KDC_ERR_ETYPE_NOSUPP


# ----------------------------------------------------------------------------- the acceptor's answer


def _logged_on_world() -> Tuple[World, krb5.Credential]:
    world = World()
    cred, _ = world.flow(etypes=(AES,))
    return world, cred


def test_ap_rep_with_wrong_ctime_fails_mutual_authentication() -> None:
    world, cred = _logged_on_world()
    initiator = krb5.ApInitiator(cred, clock=world.clock, rand=fk.rand_from(7))
    acceptor = fk.FakeAcceptor(SERVICE, world.service_key, world.clock)
    acceptor.ctime_offset = 1
    with pytest.raises(KerberosError, match="mutual authentication failed") as info:
        initiator.accept(acceptor.handle(initiator.token()))
    assert initiator.session_key is None
    assert_clean(info.value, world.secrets() + [acceptor.acceptor_subkey.contents])  # type: ignore[union-attr]


def test_ap_rep_under_another_key_is_refused() -> None:
    world, cred = _logged_on_world()
    initiator = krb5.ApInitiator(cred, clock=world.clock, rand=fk.rand_from(7))
    acceptor = fk.FakeAcceptor(SERVICE, world.service_key, world.clock)
    acceptor.ap_rep_key = OTHER_KEY
    with pytest.raises(KerberosError, match="AP-REP does not decrypt"):
        initiator.accept(acceptor.handle(initiator.token()))


@pytest.mark.parametrize("state", [0, 2, None], ids=["accept-completed", "reject", "no-state"])
def test_krb_error_token_from_the_acceptor(state: Optional[int]) -> None:
    world, cred = _logged_on_world()
    initiator = krb5.ApInitiator(cred, clock=world.clock, rand=fk.rand_from(7))
    acceptor = fk.FakeAcceptor(SERVICE, world.service_key, world.clock)
    acceptor.error_code = A.KRB_AP_ERR_SKEW
    acceptor.state = state
    with pytest.raises(KerberosError, match="KRB_AP_ERR_SKEW") as info:
        initiator.accept(acceptor.handle(initiator.token()))
    assert info.value.code == A.KRB_AP_ERR_SKEW
    assert_clean(info.value, world.secrets())


def test_acceptor_refusing_the_ticket_reports_why() -> None:
    """A server whose key is not the ticket's rejects the AP-REQ with a KRB-ERROR token in a
    SPNEGO reject; the code (KRB_AP_ERR_BAD_INTEGRITY) reaches the caller."""
    world, cred = _logged_on_world()
    initiator = krb5.ApInitiator(cred, clock=world.clock, rand=fk.rand_from(7))
    acceptor = fk.FakeAcceptor(SERVICE, OTHER_KEY, world.clock)
    with pytest.raises(KerberosError, match="rejected our ticket") as info:
        initiator.accept(acceptor.handle(initiator.token()))
    assert acceptor.failure is not None and acceptor.failure.code == A.KRB_AP_ERR_BAD_INTEGRITY
    assert info.value.code == A.KRB_AP_ERR_BAD_INTEGRITY


def test_fake_acceptor_checks_the_authenticator_clock() -> None:
    world, cred = _logged_on_world()
    initiator = krb5.ApInitiator(cred, clock=fk.Clock(fk.T0 + dt.timedelta(minutes=10)), rand=fk.rand_from(7))
    acceptor = fk.FakeAcceptor(SERVICE, world.service_key, world.clock)
    with pytest.raises(KerberosError) as info:
        initiator.accept(acceptor.handle(initiator.token()))
    assert info.value.code == A.KRB_AP_ERR_SKEW


@pytest.mark.parametrize("answer, match", [
    (fk.neg_token_resp(2), "server rejected the Kerberos logon"),
    (fk.neg_token_resp(2, token=b"\x60\x00"), "server rejected the Kerberos logon"),
    (fk.neg_token_resp(0), "no AP-REP"),
    (fk.neg_token_resp(0, token=gss.wrap_initial(gss.TOK_AP_REQ, b"\x30\x00")), "unexpected GSS token 0100"),
    (fk.neg_token_resp(0, token=b"\x60\x02\x05\x00"), "not a GSS-API|mechanism other than Kerberos"),
], ids=["reject", "reject-junk-token", "no-token", "ap-req-token", "not-gss"])
def test_spnego_answers_without_an_ap_rep(answer: bytes, match: str) -> None:
    world, cred = _logged_on_world()
    initiator = krb5.ApInitiator(cred, clock=world.clock, rand=fk.rand_from(7))
    initiator.token()
    with pytest.raises(KerberosError, match=match):
        initiator.accept(answer)
    assert initiator.session_key is None


def test_accept_incomplete_without_mic_is_refused() -> None:
    world, cred = _logged_on_world()
    initiator = krb5.ApInitiator(cred, clock=world.clock, rand=fk.rand_from(7))
    acceptor = fk.FakeAcceptor(SERVICE, world.service_key, world.clock)
    acceptor.state = sb.RESULT_ACCEPT_INCOMPLETE
    with pytest.raises(KerberosError, match="did not complete"):
        initiator.accept(acceptor.handle(initiator.token()))


def test_server_choosing_another_mechanism_is_a_protocol_error() -> None:
    world, cred = _logged_on_world()
    initiator = krb5.ApInitiator(cred, clock=world.clock, rand=fk.rand_from(7))
    acceptor = fk.FakeAcceptor(SERVICE, world.service_key, world.clock)
    acceptor.mech = fk.NTLMSSP_OID_DER
    with pytest.raises(ProtocolError, match="unsupported security mechanism"):
        initiator.accept(acceptor.handle(initiator.token()))


def test_microsoft_krb5_oid_is_accepted() -> None:
    world, cred = _logged_on_world()
    initiator = krb5.ApInitiator(cred, clock=world.clock, rand=fk.rand_from(7))
    acceptor = fk.FakeAcceptor(SERVICE, world.service_key, world.clock)
    acceptor.mech = gss.MS_KRB5_OID_DER
    initiator.accept(acceptor.handle(initiator.token()))
    assert initiator.session_key == acceptor.acceptor_subkey.contents  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- service_ticket_flow and its cache


def _tickets(world: World) -> Tuple[krb5.Credential, krb5.Credential]:
    got: List[krb5.Credential] = []
    world.flow(got=got)
    tgt, service = got
    world.kdc.received.clear()
    return tgt, service


def test_cached_service_ticket_needs_no_kdc() -> None:
    world = World()
    tgt, service = _tickets(world)
    got: List[krb5.Credential] = []
    cred, sent = world.flow(cached=[tgt, service], got=got)
    assert cred is service and sent == [] and got == [] and world.kdc.received == []


def test_cached_tgt_needs_only_the_tgs_exchange() -> None:
    world = World()
    tgt, _service = _tickets(world)
    got: List[krb5.Credential] = []
    cred, sent = world.flow(cached=[tgt], password=None, got=got)
    assert sent == [A.TGS_REQ_TYPE]
    assert got == [cred] and cred.key == world.kdc.issued[-1].session_key


def test_expired_cached_tickets_are_ignored() -> None:
    world = World()
    tgt, service = _tickets(world)
    # 30 s before the end counts as expired (the ticket must outlive the logon).
    world.clock.now = service.endtime - dt.timedelta(seconds=30)
    got: List[krb5.Credential] = []
    cred, sent = world.flow(cached=[tgt, service], got=got)
    assert sent == [A.AS_REQ_TYPE, A.AS_REQ_TYPE, A.TGS_REQ_TYPE]
    assert len(got) == 2 and cred is got[1] and cred is not service


def test_expired_service_ticket_with_a_valid_tgt() -> None:
    world = World()
    tgt, service = _tickets(world)
    expired = krb5.Credential(service.client, service.server, service.key, service.ticket, service.authtime,
                              endtime=fk.T0 - dt.timedelta(minutes=1))
    cred, sent = world.flow(cached=[expired, tgt])
    assert sent == [A.TGS_REQ_TYPE] and cred is not expired


def test_expired_tgt_without_password_is_an_error() -> None:
    world = World()
    tgt, _service = _tickets(world)
    world.clock.now = tgt.endtime
    with pytest.raises(KerberosError, match="no valid ticket .* and no password or keytab"):
        world.flow(cached=[tgt], password=None)


def test_cached_tickets_of_another_client_are_ignored() -> None:
    world = World()
    bob = world.kdc.add_user("bob", "bobs password", etypes=(AES,))
    bob_got: List[krb5.Credential] = []
    world.flow(client=bob.principal, password="bobs password", got=bob_got)
    assert [c.client for c in bob_got] == [bob.principal] * 2
    got: List[krb5.Credential] = []
    cred, sent = world.flow(cached=bob_got, got=got)
    assert sent == [A.AS_REQ_TYPE, A.AS_REQ_TYPE, A.TGS_REQ_TYPE]
    assert cred.client == world.client
    with pytest.raises(KerberosError, match="no valid ticket"):
        world.flow(cached=bob_got, password=None)


def test_cached_ticket_names_compare_case_insensitively() -> None:
    world = World()
    tgt, service = _tickets(world)
    shouting = krb5.Principal(("ALICE",), fk.REALM.lower())
    cred, sent = world.flow(cached=[service], client=shouting, password=None)
    assert cred is service and sent == []


def test_cross_realm_tgt_is_not_used_as_this_realms_tgt() -> None:
    world = World()
    tgt, service = _tickets(world)
    # (Its ticket is not one the KDC takes as a TGT, so using it would fail the logon.)
    referral = krb5.Credential(tgt.client, krb5.Principal(("krbtgt", "OTHER.EXAMPLE"), fk.REALM, 2), service.key,
                               service.ticket, tgt.authtime, tgt.endtime)
    cred, sent = world.flow(cached=[tgt, referral])
    assert sent == [A.TGS_REQ_TYPE]
    with pytest.raises(KerberosError, match="no valid ticket"):
        world.flow(cached=[referral], password=None)


def test_flow_without_credentials_refuses_before_any_request() -> None:
    flow = krb5.service_ticket_flow(krb5.Principal(("alice",), fk.REALM), SERVICE, clock=fk.Clock())
    with pytest.raises(KerberosError, match="no password or keytab"):
        next(flow)


# ----------------------------------------------------------------------------- hostile input


class Hang(BaseException):
    """Raised by the alarm (BaseException, so no ``except Exception`` in the code swallows it)."""


@contextlib.contextmanager
def no_hang(seconds: float = HANG_SECONDS) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise Hang("still running after %.0f s" % seconds)

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


HUGE = {1: (0xFF, 0x80, 0x7F, 0x00), 2: (0xFFFF, 0x8000, 0x7FFF), 4: (0xFFFFFFFF, 0x80000000, 0x7FFFFFFF)}


@st.composite
def mutations(draw: Any, seeds: Sequence[bytes]) -> bytes:
    """A seed with 1-4 edits: bit flips, byte sets, truncation, insertion, deletion, and huge
    values written over what may be a length."""
    data = bytearray(draw(st.sampled_from(list(seeds))))
    for _ in range(draw(st.integers(1, 4))):
        n = len(data)
        kind = draw(st.sampled_from(("flip", "byte", "truncate", "insert", "delete", "huge")))
        if kind == "flip" and n:
            data[draw(st.integers(0, n - 1))] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte" and n:
            data[draw(st.integers(0, n - 1))] = draw(st.integers(0, 255))
        elif kind == "truncate":
            data = data[:draw(st.integers(0, n))]
        elif kind == "insert":
            pos = draw(st.integers(0, n))
            data[pos:pos] = draw(st.binary(min_size=1, max_size=32))
        elif kind == "delete" and n:
            pos = draw(st.integers(0, n - 1))
            del data[pos:pos + draw(st.integers(1, 32))]
        elif kind == "huge" and n:
            width = draw(st.sampled_from((1, 2, 4)))
            pos = draw(st.integers(0, max(0, n - width)))
            data[pos:pos + width] = draw(st.sampled_from(HUGE[width])).to_bytes(width, "big")
    return bytes(data)


def hostile(seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=2048), st.sampled_from(list(seeds)), mutations(seeds), mutations(seeds))


class Scenario:
    """Valid replies (seeds) for one state of one exchange, with a factory that puts a fresh
    exchange into exactly that state (same nonce, same subkey: ``rand`` is seeded), and the
    session keys an accepted reply may yield."""

    def __init__(self, name: str, make: Callable[[], Any], feed: Callable[[Any, bytes], Any],
                 seeds: List[bytes], keys: List[bytes], secrets: List[Any]) -> None:
        self.name = name
        self.make = make
        self.feed = feed
        self.seeds = seeds
        self.keys = keys
        self.secrets = secrets


def _as_scenarios() -> List[Scenario]:
    world = World(etypes=(AES, kc.ETYPE_RC4_HMAC))
    clock = world.clock

    def fresh() -> krb5.AsExchange:
        return krb5.AsExchange(world.client, PASSWORD, etypes=(AES,), clock=clock, rand=fk.rand_from(11))

    # State 1: the first AS-REQ (no preauth) is out.
    first = fresh()
    request = first.request()
    preauth_required = world.kdc.handle(request)
    world.kdc.require_preauth = False
    direct = world.kdc.handle(request)  # an AS-REP with PA-ETYPE-INFO2, no preauth needed
    world.kdc.as_error = A.KDC_ERR_CLIENT_REVOKED
    revoked = world.kdc.handle(request)
    world.kdc.as_error = None
    world.kdc.require_preauth = True

    def first_state() -> krb5.AsExchange:
        exchange = fresh()
        exchange.request()
        return exchange

    # State 2: PREAUTH_REQUIRED was answered, the AS-REQ with PA-ENC-TIMESTAMP is out.
    second = first_state()
    assert second.receive(preauth_required) is None
    request = second.request()
    answers = [world.kdc.handle(request)]
    world.kdc.as_enc_tag = A.ENC_TGS_REP_PART_TAG
    answers.append(world.kdc.handle(request))
    world.kdc.as_enc_tag = A.ENC_AS_REP_PART_TAG
    for answer in answers:
        assert second.receive(answer) is not None
    skew = fk.krb_error(37, fk.T0 + dt.timedelta(minutes=9), fk.REALM, world.kdc.krbtgt)

    def second_state() -> krb5.AsExchange:
        exchange = first_state()
        exchange.receive(preauth_required)
        exchange.request()
        return exchange

    keys = [issued.session_key.contents for issued in world.kdc.issued]
    return [
        Scenario("as-first", first_state, krb5.AsExchange.receive, [preauth_required, direct, revoked], keys,
                 world.secrets()),
        Scenario("as-preauth", second_state, krb5.AsExchange.receive, answers + [skew], keys, world.secrets()),
    ]


def _tgs_scenario() -> Scenario:
    world = World()
    tgt = tgt_for(world, (AES,))

    def sent() -> Tuple[krb5.TgsExchange, bytes]:
        exchange = krb5.TgsExchange(tgt, SERVICE, clock=world.clock, rand=fk.rand_from(12))
        return exchange, exchange.request()

    def fresh() -> krb5.TgsExchange:
        return sent()[0]

    request = sent()[1]
    seeds = [world.kdc.handle(request)]
    world.kdc.tgs_error = A.KDC_ERR_S_PRINCIPAL_UNKNOWN
    seeds.append(world.kdc.handle(request))
    assert fresh().receive(seeds[0]).key == world.kdc.issued[-1].session_key
    return Scenario("tgs", fresh, krb5.TgsExchange.receive, seeds, [world.kdc.issued[-1].session_key.contents],
                    world.secrets())


def _ap_scenario() -> Scenario:
    world = World()
    cred, _ = world.flow(etypes=(AES,))

    def fresh() -> krb5.ApInitiator:
        initiator = krb5.ApInitiator(cred, clock=world.clock, rand=fk.rand_from(13))
        initiator.token()
        return initiator

    seeds: List[bytes] = []
    keys: List[bytes] = []
    for subkey, mic in ((True, "good"), (True, None), (False, "good")):
        acceptor = fk.FakeAcceptor(SERVICE, world.service_key, world.clock, rand=fk.rand_from(20 + len(seeds)),
                                   subkey=subkey, mic=mic)
        seeds.append(acceptor.handle(fresh().token()))
        assert acceptor.context_key is not None
        keys.append(acceptor.context_key.contents)
        check = fresh()
        check.accept(seeds[-1])
        assert check.session_key == keys[-1]
    acceptor = fk.FakeAcceptor(SERVICE, world.service_key, world.clock)
    acceptor.error_code = A.KRB_AP_ERR_MODIFIED
    seeds.append(acceptor.handle(fresh().token()))

    def feed(initiator: krb5.ApInitiator, data: bytes) -> Optional[bytes]:
        initiator.accept(data)
        return initiator.session_key

    return Scenario("ap", fresh, feed, seeds, keys, world.secrets() + keys)


_SCENARIOS: dict = {}


def scenarios() -> dict:
    if not _SCENARIOS:
        for scenario in _as_scenarios() + [_tgs_scenario(), _ap_scenario()]:
            _SCENARIOS[scenario.name] = scenario
    return _SCENARIOS


SCENARIO_NAMES = ["as-first", "as-preauth", "tgs", "ap"]


def _outcome(scenario: Scenario, data: bytes) -> Any:
    """Feed ``data``; None for a refusal (KerberosError / ProtocolError), else what was accepted."""
    exchange = scenario.make()
    try:
        with no_hang():
            return scenario.feed(exchange, data) or "no result"
    except (KerberosError, ProtocolError) as err:
        assert_clean(err, scenario.secrets)
        return None


def _session_key(result: Any) -> Optional[bytes]:
    if isinstance(result, krb5.Credential):
        return result.key.contents
    if isinstance(result, bytes):
        return result
    return None


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_valid_seeds_are_accepted(name: str) -> None:
    """The hostile-input tests start from replies that really work."""
    scenario = scenarios()[name]
    accepted = [_outcome(scenario, seed) for seed in scenario.seeds]
    assert any(_session_key(result) for result in accepted)
    assert {_session_key(r) for r in accepted if _session_key(r)} <= set(scenario.keys)


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_hostile_replies(name: str) -> None:
    """Random bytes and mutated replies: only KerberosError / ProtocolError escape, quickly, and
    a reply that is still accepted yields one of the session keys a correct exchange yields."""
    scenario = scenarios()[name]

    @FUZZ_SETTINGS
    @given(hostile(scenario.seeds))
    def check(data: bytes) -> None:
        key = _session_key(_outcome(scenario, data))
        assert key is None or key in scenario.keys

    check()


def _cipher_spans(reply: bytes) -> List[Tuple[int, int]]:
    """Where the enc-part cipher of a KDC-REP / the AP-REP inside a NegTokenResp lies in ``reply``."""
    kind = A.message_type(reply)
    if kind in (A.AS_REP_TYPE, A.TGS_REP_TYPE):
        rep = A.decode(reply, A.AS_REP() if kind == A.AS_REP_TYPE else A.TGS_REP())
    else:
        token = fk.child(fk.child(fk.child(fk.child(reply, 0xA1), 0x30), 0xA2), 0x04)
        rep = A.decode(gss.unwrap_initial(token)[1], A.AP_REP())
    cipher = bytes(rep["enc-part"]["cipher"])
    at = reply.find(cipher)
    assert at > 0 and reply.find(cipher, at + 1) == -1
    return [(at, at + len(cipher))]


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_any_change_inside_the_encrypted_part_is_refused(name: str) -> None:
    scenario = scenarios()[name]
    targets = []
    for seed in scenario.seeds:
        if _outcome(scenario, seed) is not None and (
                A.message_type(seed) in (A.AS_REP_TYPE, A.TGS_REP_TYPE) or seed[:1] == b"\xa1"):
            targets += [(seed, span) for span in _cipher_spans(seed)]
    assert targets

    @FUZZ_SETTINGS
    @given(st.sampled_from(targets), st.data())
    def check(target: Tuple[bytes, Tuple[int, int]], data: Any) -> None:
        seed, (start, end) = target
        mutated = bytearray(seed)
        for _ in range(data.draw(st.integers(1, 3))):
            mutated[data.draw(st.integers(start, end - 1))] ^= data.draw(st.integers(1, 255))
        if bytes(mutated) == seed:
            return
        assert _outcome(scenario, bytes(mutated)) is None

    check()


def test_outcome_helper_lets_other_errors_through() -> None:
    """``_outcome`` only absorbs KerberosError / ProtocolError, so the contract above can fail."""
    scenario = Scenario("x", lambda: None, lambda _e, data: data[10], [], [], [])
    with pytest.raises(IndexError):
        _outcome(scenario, b"")
    broken = Scenario("y", lambda: None, lambda _e, _d: (_ for _ in ()).throw(KerberosError(PASSWORD)), [], [],
                      [PASSWORD])
    with pytest.raises(AssertionError):
        _outcome(broken, b"")
