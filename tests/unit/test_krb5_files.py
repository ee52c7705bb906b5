"""MIT ccache and keytab files, krb5.conf: exact layouts, round trips, hostile input.

The expected bytes are assembled here field by field from MIT's documented formats, with
``struct`` only, so the readers and writers are checked against the format, not themselves.
"""
from __future__ import annotations

import os
import random
import struct
import sys
import tracemalloc
from typing import List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smb import krb5_files as F
from smb.exceptions import KerberosError

EXAMPLES = int(os.environ.get("SMBWIRE_FUZZ_EXAMPLES", "300"))

TICKET = bytes.fromhex("615a3058") + b"\xAA" * 16  # opaque to the file format
KEY = bytes(range(32))


# ----------------------------------------------------------------------------- ccache layout


def data32(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def cc_principal(name_type: int, realm: str, *components: str) -> bytes:
    out = struct.pack(">II", name_type, len(components)) + data32(realm.encode())
    return out + b"".join(data32(c.encode()) for c in components)


def cc_credential(client: bytes, server: bytes, enctype: int, key: bytes, times: Tuple[int, int, int, int],
                  flags: int, ticket: bytes, v3: bool = False, addresses: bytes = b"\x00\x00\x00\x00",
                  authdata: bytes = b"\x00\x00\x00\x00", is_skey: int = 0) -> bytes:
    keyblock = struct.pack(">H", enctype) + (struct.pack(">H", enctype) if v3 else b"") + data32(key)
    return (client + server + keyblock + struct.pack(">IIII", *times) + bytes([is_skey]) + struct.pack(">I", flags)
            + addresses + authdata + data32(ticket) + data32(b""))


ALICE = cc_principal(1, "EXAMPLE.COM", "alice")
TGT = cc_principal(2, "EXAMPLE.COM", "krbtgt", "EXAMPLE.COM")
CIFS = cc_principal(3, "EXAMPLE.COM", "cifs", "fs1.example.com")
TIMES = (1714564800, 1714564800, 1714600800, 1715169600)


def ccache_v4() -> bytes:
    header = struct.pack(">HHii", 1, 8, -3, 250000)
    conf_server = cc_principal(0, "X-CACHECONF:", "krb5_ccache_conf_data", "pa_type", "krbtgt/EXAMPLE.COM@EXAMPLE.COM")
    return (b"\x05\x04" + struct.pack(">H", len(header)) + header + ALICE
            + cc_credential(ALICE, TGT, 18, KEY, TIMES, 0x40E10000, TICKET)
            + cc_credential(ALICE, CIFS, 23, KEY[:16], (TIMES[0], TIMES[1], TIMES[2] + 60, 0), 0x40A50000, TICKET,
                            addresses=struct.pack(">IH", 1, 2) + data32(b"\x0a\x00\x00\x01"),
                            authdata=struct.pack(">IH", 1, 1) + data32(b"ad"))
            + cc_credential(ALICE, conf_server, 0, b"", (0, 0, 0, 0), 0, b"2"))


def test_read_ccache_v4_fields() -> None:
    cache = F.read_ccache(ccache_v4())
    assert cache.version == F.CCACHE_V4
    assert cache.principal == F.Principal(("alice",), "EXAMPLE.COM", 1)
    assert cache.time_offset == (-3, 250000)
    assert len(cache.credentials) == 2 and len(cache.config) == 1
    tgt, cifs = cache.credentials
    assert str(tgt.server) == "krbtgt/EXAMPLE.COM@EXAMPLE.COM" and tgt.server.name_type == 2
    assert (tgt.key.enctype, tgt.key.data) == (18, KEY)
    assert (tgt.authtime, tgt.starttime, tgt.endtime, tgt.renew_till) == TIMES
    assert tgt.ticket_flags == 0x40E10000 and not tgt.is_skey
    assert tgt.ticket == TICKET and tgt.second_ticket == b""
    assert cifs.addresses == [(2, b"\x0a\x00\x00\x01")] and cifs.authdata == [(1, b"ad")]
    assert cache.config_value("pa_type", "krbtgt/EXAMPLE.COM@EXAMPLE.COM") == b"2"
    assert cache.config_value("pa_type") is None and cache.config_value("fast_avail") is None
    assert all(not c.is_config for c in cache.credentials) and cache.config[0].is_config


def test_ccache_reprs_hide_secrets() -> None:
    cache = F.read_ccache(ccache_v4())
    text = repr(cache) + repr(cache.credentials)
    assert KEY.hex() not in text and repr(KEY) not in text and "\\xaa" not in text.lower()
    assert "Keyblock(enctype=18, 32 bytes)" == repr(cache.credentials[0].key)


def test_write_ccache_v4_is_byte_exact() -> None:
    data = ccache_v4()
    assert F.write_ccache(F.read_ccache(data)) == data


def test_write_ccache_from_scratch() -> None:
    alice = F.Principal(("alice",), "EXAMPLE.COM")
    tgt = F.Credential(alice, F.Principal(("krbtgt", "EXAMPLE.COM"), "EXAMPLE.COM", 2), F.Keyblock(18, KEY),
                       *TIMES, ticket_flags=0x40E10000, ticket=TICKET)
    data = F.write_ccache(F.CCache(alice, [tgt]))
    assert data == b"\x05\x04\x00\x00" + ALICE + cc_credential(ALICE, TGT, 18, KEY, TIMES, 0x40E10000, TICKET)
    assert F.read_ccache(data).credentials == [tgt]


def test_ccache_v3_read_and_write() -> None:
    data = b"\x05\x03" + ALICE + cc_credential(ALICE, TGT, 17, KEY[:16], TIMES, 0x40000000, TICKET, v3=True)
    cache = F.read_ccache(data)
    assert cache.version == F.CCACHE_V3 and cache.time_offset is None
    assert cache.credentials[0].key.enctype == 17 and cache.credentials[0].key.data == KEY[:16]
    assert F.write_ccache(cache) == data


def test_ccache_unknown_header_fields_are_kept() -> None:
    header = struct.pack(">HH", 7, 3) + b"abc" + struct.pack(">HHii", 1, 8, 5, 0)
    data = b"\x05\x04" + struct.pack(">H", len(header)) + header + ALICE
    cache = F.read_ccache(data)
    assert cache.header_fields == [(7, b"abc")] and cache.time_offset == (5, 0)
    assert F.read_ccache(F.write_ccache(cache)).header_fields == [(7, b"abc")]


def test_ccache_find() -> None:
    cache = F.read_ccache(ccache_v4())
    cifs = cache.find("cifs/fs1.example.com@EXAMPLE.COM")
    assert cifs is not None and cifs.key.enctype == 23
    assert cache.find(F.Principal(("cifs", "fs1.example.com"), "EXAMPLE.COM", 2)) is cifs  # type ignored
    assert cache.find("cifs/fs1.example.com@example.com") is None  # realms are case-sensitive
    assert cache.find("cifs/other@EXAMPLE.COM") is None
    assert cache.find("krb5_ccache_conf_data/pa_type/krbtgt/EXAMPLE.COM@EXAMPLE.COM@X-CACHECONF:") is None
    assert cache.find("cifs/fs1.example.com@EXAMPLE.COM", now=TIMES[2] + 61) is None
    assert cache.find("cifs/fs1.example.com@EXAMPLE.COM", now=TIMES[2]) is cifs
    newer = F.Credential(cifs.client, cifs.server, F.Keyblock(18, KEY), endtime=cifs.endtime + 100)
    cache.credentials.append(newer)
    assert cache.find("cifs/fs1.example.com@EXAMPLE.COM") is newer


@pytest.mark.parametrize("data, why", [
    (b"", "version"),
    (b"\x05\x02" + ALICE, "version"),
    (b"\x05\x04\x00\x10", "header"),
    (b"\x05\x04\x00\x04\x00\x01\x00\x08", "header field"),
    (b"\x05\x04\x00\x00" + struct.pack(">II", 1, 1000000) + data32(b"R"), "components"),
    (b"\x05\x04\x00\x00" + struct.pack(">II", 1, 1) + struct.pack(">I", 0xFFFFFFFF), "length"),
    (b"\x05\x04\x00\x00" + struct.pack(">II", 1, 1) + data32(b"\xff\xfe") + data32(b"a"), "UTF-8"),
    (b"\x05\x04\x00\x00" + ALICE + cc_credential(ALICE, TGT, 18, KEY, TIMES, 0, TICKET, is_skey=2), "is_skey"),
    (b"\x05\x04\x00\x00" + ALICE + cc_credential(ALICE, TGT, 18, KEY, TIMES, 0, TICKET,
                                                 addresses=struct.pack(">I", 0xFFFFFFFF)), "addresses"),
])
def test_ccache_malformed(data: bytes, why: str) -> None:
    with pytest.raises(KerberosError):
        F.read_ccache(data)


def test_ccache_every_truncation() -> None:
    data = ccache_v4()
    # Cutting right after the default principal or after a credential leaves a valid cache.
    ends = {len(b"\x05\x04") + 2 + 12 + len(ALICE)}
    cache = F.read_ccache(data)
    for count in range(1, 4):
        partial = F.CCache(cache.principal, cache.credentials[:count], cache.config[:max(0, count - 2)],
                           cache.time_offset)
        ends.add(len(F.write_ccache(partial)))
    for cut in range(len(data)):
        if cut in ends:
            F.read_ccache(data[:cut])
            continue
        with pytest.raises(KerberosError):
            F.read_ccache(data[:cut])


def test_ccache_not_bytes_and_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(KerberosError):
        F.read_ccache("text")  # type: ignore[arg-type]
    monkeypatch.setattr(F, "MAX_FILE", 100)
    with pytest.raises(KerberosError, match="limit"):
        F.read_ccache(ccache_v4())


# ----------------------------------------------------------------------------- keytab layout


def data16(b: bytes) -> bytes:
    return struct.pack(">H", len(b)) + b


def kt_entry(realm: str, components: List[str], name_type: int, timestamp: int, kvno8: int, enctype: int,
             key: bytes, kvno32: "int | None" = None) -> bytes:
    out = struct.pack(">H", len(components)) + data16(realm.encode())
    out += b"".join(data16(c.encode()) for c in components)
    out += struct.pack(">iIBH", name_type, timestamp, kvno8, enctype) + data16(key)
    if kvno32 is not None:
        out += struct.pack(">I", kvno32)
    return out


def record(entry: bytes) -> bytes:
    return struct.pack(">i", len(entry)) + entry


def keytab_v2() -> bytes:
    e1 = kt_entry("EXAMPLE.COM", ["cifs", "fs1.example.com"], 3, 1714564800, 3, 18, KEY, 3)
    e2 = kt_entry("EXAMPLE.COM", ["cifs", "fs1.example.com"], 3, 1714564800, 4, 18, KEY[::-1], 260)  # kvno > 255
    e3 = kt_entry("EXAMPLE.COM", ["alice"], 1, 1714564800, 7, 23, KEY[:16])  # no 32-bit kvno
    e4 = kt_entry("EXAMPLE.COM", ["alice"], 1, 1714564800, 9, 17, KEY[:16], 0)  # 32-bit kvno 0: use 8-bit
    hole = struct.pack(">i", -12) + b"\x00" * 12
    padded = struct.pack(">i", len(e3) + 6) + e3 + b"\x00" * 6  # a key that replaced a bigger hole
    return b"\x05\x02" + record(e1) + hole + record(e2) + padded + record(e4)


def test_read_keytab_v2() -> None:
    entries = F.read_keytab(keytab_v2())
    assert [(e.kvno, e.enctype) for e in entries] == [(3, 18), (260, 18), (7, 23), (9, 17)]
    first = entries[0]
    assert first.principal == F.Principal(("cifs", "fs1.example.com"), "EXAMPLE.COM", 3)
    assert first.timestamp == 1714564800 and first.key == KEY
    assert entries[1].key == KEY[::-1]
    assert KEY.hex() not in repr(entries) and repr(KEY) not in repr(entries)


def test_read_keytab_stops_at_zero_length() -> None:
    data = keytab_v2()
    assert len(F.read_keytab(data + b"\x00\x00\x00\x00" + b"garbage")) == 4


def test_write_keytab_exact_and_round_trip() -> None:
    entry = F.KeytabEntry(F.Principal(("cifs", "fs1.example.com"), "EXAMPLE.COM", 3), 1714564800, 260, 18, KEY)
    expected = b"\x05\x02" + record(kt_entry("EXAMPLE.COM", ["cifs", "fs1.example.com"], 3, 1714564800, 4, 18,
                                             KEY, 260))
    assert F.write_keytab([entry]) == expected
    entries = F.read_keytab(keytab_v2())
    assert F.read_keytab(F.write_keytab(entries)) == entries
    assert F.write_keytab([]) == b"\x05\x02"


def test_read_keytab_v1_native_order() -> None:
    order = "<" if sys.byteorder == "little" else ">"
    body = struct.pack(order + "H", 3) + struct.pack(order + "H", 11) + b"EXAMPLE.COM"
    body += struct.pack(order + "H", 4) + b"host" + struct.pack(order + "H", 2) + b"h1"
    body += struct.pack(order + "IBH", 1000, 2, 23) + struct.pack(order + "H", 16) + KEY[:16]
    data = b"\x05\x01" + struct.pack(order + "i", len(body)) + body
    (entry,) = F.read_keytab(data)
    assert entry.principal == F.Principal(("host", "h1"), "EXAMPLE.COM", 0)
    assert (entry.timestamp, entry.kvno, entry.enctype, entry.key) == (1000, 2, 23, KEY[:16])


def test_select_keys() -> None:
    entries = F.read_keytab(keytab_v2())
    keys = F.select_keys(entries, "cifs/fs1.example.com@EXAMPLE.COM")
    assert list(keys) == [18] and keys[18].kvno == 260
    assert F.select_keys(entries, "cifs/fs1.example.com@EXAMPLE.COM", kvno=3)[18].key == KEY
    assert sorted(F.select_keys(entries, F.Principal(("alice",), "EXAMPLE.COM", 10))) == [17, 23]
    assert F.select_keys(entries, "bob@EXAMPLE.COM") == {}


@pytest.mark.parametrize("data", [
    b"", b"\x05", b"\x05\x03", b"\x04\x02", b"\x05\x02\x00",
    b"\x05\x02" + struct.pack(">i", 100) + b"\x00" * 10,
    b"\x05\x02" + struct.pack(">i", -100) + b"\x00" * 10,
    b"\x05\x02" + struct.pack(">i", -2 ** 31),
    b"\x05\x02" + record(struct.pack(">H", 5000) + data16(b"R")),
    b"\x05\x02" + record(kt_entry("R", ["a"], 1, 0, 1, 18, KEY)[:-3]),
    b"\x05\x02" + record(struct.pack(">H", 1) + data16(b"\xff") + data16(b"a") + b"\x00" * 20),
])
def test_keytab_malformed(data: bytes) -> None:
    with pytest.raises(KerberosError):
        F.read_keytab(data)


def test_keytab_every_truncation() -> None:
    data = keytab_v2()
    boundaries = set()
    pos = 2
    while pos < len(data):
        boundaries.add(pos)
        (length,) = struct.unpack_from(">i", data, pos)
        pos += 4 + abs(length)
    for cut in range(len(data)):
        if cut in boundaries or cut == 2:
            F.read_keytab(data[:cut])
            continue
        with pytest.raises(KerberosError):
            F.read_keytab(data[:cut])


# ----------------------------------------------------------------------------- fuzzing


def mutate(seed: bytes, rng: random.Random) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(data)) if data else 0
        kind = rng.randrange(5)
        if kind == 0 and data:
            data[pos] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del data[pos:]
        elif kind == 2:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif kind == 3 and data:
            del data[pos:pos + rng.randint(1, 8)]
        else:
            data[pos:pos + 4] = rng.choice((b"\xff\xff\xff\xff", b"\x80\x00\x00\x00", b"\x7f\xff\xff\xff",
                                            b"\x00\x00\xff\xff"))
    return bytes(data)


def feed(data: bytes) -> None:
    for reader in (F.read_ccache, F.read_keytab):
        try:
            result = reader(data)
        except KerberosError:
            continue
        if isinstance(result, F.CCache):
            F.write_ccache(result)
        else:
            F.write_keytab(result)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_fuzz_random(data: bytes) -> None:
    feed(data)
    feed(b"\x05\x04" + data)
    feed(b"\x05\x03" + data)
    feed(b"\x05\x02" + data)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([0, 1]), st.randoms(use_true_random=False))
def test_fuzz_mutations(which: int, rng: random.Random) -> None:
    feed(mutate((ccache_v4(), keytab_v2())[which], rng))


def test_huge_length_claims_stay_small() -> None:
    tracemalloc.start()
    try:
        for seed in (ccache_v4(), keytab_v2()):
            for pos in range(len(seed)):
                for claim in (b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\xff\xff\xff"):
                    tracemalloc.reset_peak()
                    feed(seed[:pos] + claim + seed[pos + 4:])
                    assert tracemalloc.get_traced_memory()[1] < 1024 * 1024
    finally:
        tracemalloc.stop()


# ----------------------------------------------------------------------------- krb5.conf

CONF = """\
# a comment
; another comment
include /etc/krb5.conf.d/extra
includedir /etc/krb5.conf.d/

[libdefaults]
    default_realm = EXAMPLE.COM
    dns_lookup_kdc = no
    dns_lookup_realm = true
    ticket_lifetime = 24h
    forwardable = yes
    EXAMPLE.COM = {
        udp_preference_limit = 1
    }

[realms]*
    EXAMPLE.COM = {
        kdc = kdc1.example.com
        kdc = kdc2.example.com:750
        kdc = [2001:db8::1]:8888
        kdc = [2001:db8::2]
        kdc = 2001:db8::3
        kdc = tcp/kdc3.example.com:89
        kdc = https://proxy.example.com/KdcProxy
        admin_server = kdc1.example.com:749
        default_domain = example.com
        auth_to_local = {
            rule = RULE:[1:$1@$0](.*@EXAMPLE.COM)s/@.*//
        }*
    }
    OTHER.ORG = {
        kdc = "kdc.other.org"  ; not a comment: MIT only has whole-line comments
    }

[domain_realm]
    .example.com = EXAMPLE.COM
    example.com = EXAMPLE.COM
    crash.mit.edu = TEST.ATHENA.MIT.EDU
    .dev.fubar.org = FUBAR.ORG
    mit.edu = ATHENA.MIT.EDU
    Upper.Case.Net = UC.NET*
"""


def test_parse_krb5_conf() -> None:
    conf = F.parse_krb5_conf(CONF)
    assert conf.default_realm == "EXAMPLE.COM"
    assert conf.dns_lookup_kdc is False and conf.dns_lookup_realm is True
    assert conf.get("ticket_lifetime") == "24h" and conf.get_bool("forwardable", False) is True
    assert conf.get_bool("missing", True) is True
    assert sorted(conf.realms) == ["EXAMPLE.COM", "OTHER.ORG"]
    realm = conf.realms["EXAMPLE.COM"]
    assert realm.admin_server == ["kdc1.example.com:749"] and realm.default_domain == "example.com"
    assert realm.relations["auth_to_local"][0]["rule"] == ["RULE:[1:$1@$0](.*@EXAMPLE.COM)s/@.*//"]
    assert conf.kdc_for("EXAMPLE.COM") == [("kdc1.example.com", 88), ("kdc2.example.com", 750),
                                           ("2001:db8::1", 8888), ("2001:db8::2", 88), ("2001:db8::3", 88),
                                           ("kdc3.example.com", 89)]
    assert conf.kdc_for("example.com") == conf.kdc_for("EXAMPLE.COM")
    assert conf.kdc_for("OTHER.ORG") == [("kdc.other.org", 88)]
    assert conf.kdc_for("NOWHERE") == []
    assert conf.sections["libdefaults"]["EXAMPLE.COM"][0]["udp_preference_limit"] == ["1"]
    assert sum("ignored" in w for w in conf.warnings) == 2


def test_realm_for_host() -> None:
    conf = F.parse_krb5_conf(CONF)
    assert conf.realm_for_host("fs1.example.com") == "EXAMPLE.COM"
    assert conf.realm_for_host("example.com") == "EXAMPLE.COM"
    assert conf.realm_for_host("crash.mit.edu") == "TEST.ATHENA.MIT.EDU"
    assert conf.realm_for_host("www.mit.edu") == "ATHENA.MIT.EDU"
    assert conf.realm_for_host("mit.edu") == "ATHENA.MIT.EDU"
    assert conf.realm_for_host("a.dev.fubar.org") == "FUBAR.ORG"
    assert conf.realm_for_host("dev.fubar.org") is None
    assert conf.realm_for_host("UPPER.case.net.") == "UC.NET"
    assert conf.realm_for_host("elsewhere.net") is None


def test_krb5_conf_defaults_and_errors() -> None:
    empty = F.parse_krb5_conf("")
    assert empty.default_realm is None and empty.dns_lookup_kdc is True and empty.realms == {}
    assert F.parse_krb5_conf("[libdefaults]\ndns_fallback = false\n").dns_lookup_kdc is False
    bad = "kdc = x\n[realms]\nR = {\n  kdc\n  }\n}\n[libdefaults\n"
    conf = F.parse_krb5_conf(bad)
    assert len(conf.warnings) == 4 and conf.realms["R"].kdc == []
    with pytest.raises(KerberosError, match="line 1"):
        F.parse_krb5_conf(bad, strict=True)
    with pytest.raises(KerberosError, match="unclosed"):
        F.parse_krb5_conf("[realms]\nR = {\n kdc = a\n", strict=True)


@pytest.mark.parametrize("entry, expected", [
    ("kdc", ("kdc", 88)), ("kdc:1", ("kdc", 1)), ("[::1]:65535", ("::1", 65535)), ("::1", ("::1", 88)),
    ("udp/10.0.0.1:8888", ("10.0.0.1", 8888)), ("  k  ", ("k", 88)), ("https://k/", None), ("kdc:", ("kdc", 88)),
])
def test_parse_kdc_address(entry: str, expected: "Tuple[str, int] | None") -> None:
    assert F.parse_kdc_address(entry) == expected


@pytest.mark.parametrize("entry", ["kdc:0", "kdc:65536", "kdc:x", "[::1", "[::1]x", ":88", ""])
def test_parse_kdc_address_rejects(entry: str) -> None:
    with pytest.raises(KerberosError):
        F.parse_kdc_address(entry)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(alphabet=st.sampled_from("[]{}=*#; \n\tabcR:.\"\\"), max_size=300))
def test_fuzz_krb5_conf(text: str) -> None:
    conf = F.parse_krb5_conf(text)
    for realm in conf.realms:
        try:
            conf.kdc_for(realm)
        except KerberosError:
            pass
    try:
        F.parse_krb5_conf(text, strict=True)
    except KerberosError:
        pass
