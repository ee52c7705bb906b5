"""Kerberos files: MIT credential caches, MIT keytabs and krb5.conf, IO-free.

Every reader takes the file's bytes (or text) and returns objects; every writer returns
bytes.  Opening files is the caller's business.  The layouts are MIT's documented ones:

* credential cache ("Credential cache file format", MIT krb5 docs): versions 4 (0x0504, read
  and write) and 3 (0x0503, read and write); big-endian; a version-4 header of tagged fields
  (tag 1 = KDC time offset); the default principal; credentials until the end of the file.
  Configuration entries (server realm ``X-CACHECONF:``) are kept apart from the tickets.
* keytab ("Keytab file format", MIT krb5 docs): version 2 (0x0502, read and write) and
  version 1 (0x0501, read; native byte order, as MIT reads it); records with signed 32-bit
  lengths, negative ones being deleted holes; the optional trailing 32-bit kvno.
* krb5.conf (MIT profile syntax), just enough to find realms, KDCs and the domain mapping.

The binary readers treat their input as hostile: every length is checked against what is
left, counts and sizes are capped, and anything malformed raises
:class:`~smb.exceptions.KerberosError` (never ``struct.error`` or ``IndexError``).  Keys and
tickets never appear in a repr or an exception message.
"""
from __future__ import annotations

import re
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from .exceptions import KerberosError

__all__ = [
    "Principal", "Keyblock", "Credential", "CCache", "read_ccache", "write_ccache",
    "KeytabEntry", "read_keytab", "write_keytab", "select_keys",
    "RealmConf", "Krb5Conf", "parse_krb5_conf", "parse_kdc_address",
    "CCACHE_V3", "CCACHE_V4", "KEYTAB_V1", "KEYTAB_V2", "CONF_REALM", "CONF_PREFIX",
    "MAX_FILE", "MAX_COMPONENTS", "MAX_LIST",
]

CCACHE_V3 = 0x0503
CCACHE_V4 = 0x0504
KEYTAB_V1 = 0x0501
KEYTAB_V2 = 0x0502
#: Realm of the server principal of a ccache configuration entry.
CONF_REALM = "X-CACHECONF:"
#: First component of the server principal of a ccache configuration entry.
CONF_PREFIX = "krb5_ccache_conf_data"
#: Header field tag of the KDC time offset (seconds, microseconds).
_TAG_TIME_OFFSET = 1

#: Largest file the binary readers accept.
MAX_FILE = 64 * 1024 * 1024
#: Most name components of one principal.
MAX_COMPONENTS = 64
#: Most addresses or authorization-data elements of one credential.
MAX_LIST = 4096

NT_UNKNOWN = 0
NT_PRINCIPAL = 1


# ================================================================================= principal


@dataclass(frozen=True)
class Principal:
    """A principal as the files store it: name components, realm and name type.

    The field order matches :class:`smb.krb5.Principal`.
    """

    components: Tuple[str, ...]
    realm: str
    name_type: int = NT_PRINCIPAL

    @classmethod
    def parse(cls, text: str, default_realm: str = "", name_type: int = NT_PRINCIPAL) -> "Principal":
        """``user``, ``user@REALM`` or ``service/host@REALM`` (no escapes)."""
        name, at, realm = text.rpartition("@")
        if not at:
            name, realm = text, default_realm
        if not name:
            raise KerberosError("principal %r has no name" % text)
        return cls(tuple(name.split("/")), realm, name_type)

    def __str__(self) -> str:
        return "/".join(self.components) + "@" + self.realm


def _same_principal(a: Any, b: Any) -> bool:
    # The name type is a hint, not part of the name ([RFC 4120] 6.2).
    return tuple(a.components) == tuple(b.components) and a.realm == b.realm


def _as_principal(value: Union[str, Any]) -> Any:
    if isinstance(value, str):
        return Principal.parse(value)
    return value


# ================================================================================= byte reader


class _Reader:
    """Bounds-checked reads from a bytes object; ``order`` is ``>`` or ``<``."""

    def __init__(self, data: bytes, what: str, order: str = ">", pos: int = 0, end: Optional[int] = None) -> None:
        self.data = data
        self.what = what
        self.pos = pos
        self.end = len(data) if end is None else end
        self._u16 = struct.Struct(order + "H")
        self._u32 = struct.Struct(order + "I")
        self._i32 = struct.Struct(order + "i")

    def fail(self, why: str) -> KerberosError:
        return KerberosError("malformed %s: %s (at offset %d)" % (self.what, why, self.pos))

    def left(self) -> int:
        return self.end - self.pos

    def take(self, n: int, why: str = "data") -> bytes:
        if n < 0 or n > self.end - self.pos:
            raise self.fail("%s of %d bytes runs past the end" % (why, n))
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1, "byte")[0]

    def u16(self) -> int:
        return int(self._u16.unpack(self.take(2, "16-bit field"))[0])

    def u32(self) -> int:
        return int(self._u32.unpack(self.take(4, "32-bit field"))[0])

    def i32(self) -> int:
        return int(self._i32.unpack(self.take(4, "32-bit field"))[0])

    def text(self, n: int, why: str) -> str:
        raw = self.take(n, why)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("%s is not UTF-8" % why) from None


def _check_size(data: Any, what: str) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise KerberosError("malformed %s: not bytes" % what)
    raw = bytes(data)
    if len(raw) > MAX_FILE:
        raise KerberosError("malformed %s: %d bytes is above the %d-byte limit" % (what, len(raw), MAX_FILE))
    return raw


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise KerberosError("%s is not encodable as UTF-8" % what) from None


# ================================================================================= ccache


@dataclass(repr=False)
class Keyblock:
    """A session key: encryption type and key bytes (never shown by repr)."""

    enctype: int
    data: bytes

    def __repr__(self) -> str:
        return "Keyblock(enctype=%d, %d bytes)" % (self.enctype, len(self.data))


@dataclass
class Credential:
    """One entry of a credential cache.

    Times are seconds since the epoch as stored (0 = unset; MIT reads them unsigned).
    ``ticket_flags`` is the 32-bit TicketFlags with bit 0 most significant (forwardable is
    ``0x40000000``).  ``addresses`` and ``authdata`` are ``(type, bytes)`` pairs.  ``ticket``
    and ``second_ticket`` are DER (the second one is for user-to-user, usually empty).
    """

    client: Principal
    server: Principal
    key: Keyblock = field(repr=False)
    authtime: int = 0
    starttime: int = 0
    endtime: int = 0
    renew_till: int = 0
    is_skey: bool = False
    ticket_flags: int = 0
    addresses: List[Tuple[int, bytes]] = field(default_factory=list, repr=False)
    authdata: List[Tuple[int, bytes]] = field(default_factory=list, repr=False)
    ticket: bytes = field(default=b"", repr=False)
    second_ticket: bytes = field(default=b"", repr=False)

    @property
    def is_config(self) -> bool:
        """True for a configuration entry (not a ticket)."""
        return self.server.realm == CONF_REALM

    def expired(self, now: Optional[float] = None, margin: float = 0.0) -> bool:
        """True when the ticket ends within ``margin`` seconds of ``now`` (default: the clock)."""
        now = time.time() if now is None else now
        return self.endtime <= now + margin


@dataclass
class CCache:
    """A credential cache: the default principal and its credentials.

    ``config`` holds the configuration entries (``X-CACHECONF:``), which are not tickets;
    ``time_offset`` the KDC clock offset of the version-4 header as (seconds, microseconds);
    ``header_fields`` any other header fields, kept for writing back.
    """

    principal: Principal
    credentials: List[Credential] = field(default_factory=list)
    config: List[Credential] = field(default_factory=list, repr=False)
    time_offset: Optional[Tuple[int, int]] = None
    version: int = CCACHE_V4
    header_fields: List[Tuple[int, bytes]] = field(default_factory=list, repr=False)

    def find(self, server: Union[str, Any], now: Optional[float] = None) -> Optional[Credential]:
        """The credential for ``server`` (a :class:`Principal`, anything with ``components``
        and ``realm``, or ``"service/host@REALM"``), or None.

        The name type is ignored.  With ``now`` (seconds since the epoch) expired tickets are
        skipped.  Among several matches the one that lasts longest wins.
        """
        wanted = _as_principal(server)
        best: Optional[Credential] = None
        for cred in self.credentials:
            if not _same_principal(cred.server, wanted):
                continue
            if now is not None and cred.expired(now):
                continue
            if best is None or cred.endtime >= best.endtime:
                best = cred
        return best

    def config_value(self, key: str, principal: Optional[Union[str, Any]] = None) -> Optional[bytes]:
        """The value of configuration entry ``key`` (e.g. ``"pa_type"``), optionally the one
        bound to ``principal``; None when absent."""
        for entry in self.config:
            comps = entry.server.components
            if len(comps) < 2 or comps[0] != CONF_PREFIX or comps[1] != key:
                continue
            if principal is None and len(comps) == 2:
                return entry.ticket
            if principal is not None and len(comps) == 3 and comps[2] == str(_as_principal(principal)):
                return entry.ticket
        return None


def _read_cc_principal(r: _Reader) -> Principal:
    name_type = r.u32()
    count = r.u32()
    if count > MAX_COMPONENTS:
        raise r.fail("principal with %d components" % count)
    realm = r.text(r.u32(), "realm")
    components = tuple(r.text(r.u32(), "name component") for _ in range(count))
    # The name type is a signed Int32 on the wire; the file stores its 32 bits.
    if name_type >= 0x80000000:
        name_type -= 0x100000000
    return Principal(components, realm, name_type)


def _read_cc_pairs(r: _Reader, what: str) -> List[Tuple[int, bytes]]:
    count = r.u32()
    if count > MAX_LIST:
        raise r.fail("%d %s" % (count, what))
    out = []
    for _ in range(count):
        kind = r.u16()
        out.append((kind, r.take(r.u32(), what)))
    return out


def _read_cc_credential(r: _Reader, version: int) -> Credential:
    client = _read_cc_principal(r)
    server = _read_cc_principal(r)
    enctype = r.u16()
    if version == CCACHE_V3:
        r.u16()  # version 3 writes the enctype twice
    key = Keyblock(enctype, r.take(r.u32(), "key"))
    authtime, starttime, endtime, renew_till = r.u32(), r.u32(), r.u32(), r.u32()
    is_skey = r.u8()
    if is_skey > 1:
        raise r.fail("is_skey is %d" % is_skey)
    flags = r.u32()
    addresses = _read_cc_pairs(r, "addresses")
    authdata = _read_cc_pairs(r, "authorization data")
    ticket = r.take(r.u32(), "ticket")
    second = r.take(r.u32(), "second ticket")
    return Credential(client, server, key, authtime, starttime, endtime, renew_till, bool(is_skey), flags,
                      addresses, authdata, ticket, second)


def read_ccache(data: bytes) -> CCache:
    """Parse an MIT credential cache file (version 4 or 3)."""
    raw = _check_size(data, "credential cache")
    r = _Reader(raw, "credential cache")
    version = r.u16()
    if version not in (CCACHE_V3, CCACHE_V4):
        raise KerberosError("unsupported credential cache version 0x%04x (only 0x0503 and 0x0504)" % version)
    time_offset: Optional[Tuple[int, int]] = None
    others: List[Tuple[int, bytes]] = []
    if version == CCACHE_V4:
        header = _Reader(raw, "credential cache header")
        length = r.u16()
        header.pos = r.pos
        header.end = r.pos + length
        if header.end > len(raw):
            raise r.fail("header of %d bytes runs past the end" % length)
        while header.left():
            tag = header.u16()
            value = header.take(header.u16(), "header field")
            if tag == _TAG_TIME_OFFSET and len(value) == 8:
                seconds, micros = struct.unpack(">ii", value)
                time_offset = (seconds, micros)
            else:
                others.append((tag, value))
        r.pos = header.end
    principal = _read_cc_principal(r)
    cache = CCache(principal, version=version, time_offset=time_offset, header_fields=others)
    while r.left():
        cred = _read_cc_credential(r, version)
        (cache.config if cred.is_config else cache.credentials).append(cred)
    return cache


def _cc_data(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _cc_principal(p: Principal) -> bytes:
    parts = [struct.pack(">II", p.name_type & 0xFFFFFFFF, len(p.components)),
             _cc_data(_utf8(p.realm, "realm"))]
    parts += [_cc_data(_utf8(c, "name component")) for c in p.components]
    return b"".join(parts)


def _cc_credential(c: Credential, version: int) -> bytes:
    key = struct.pack(">H", c.key.enctype)
    if version == CCACHE_V3:
        key += struct.pack(">H", c.key.enctype)
    parts = [_cc_principal(c.client), _cc_principal(c.server), key, _cc_data(c.key.data),
             struct.pack(">IIIIBI", c.authtime, c.starttime, c.endtime, c.renew_till, int(c.is_skey),
                         c.ticket_flags),
             struct.pack(">I", len(c.addresses))]
    parts += [struct.pack(">H", kind) + _cc_data(value) for kind, value in c.addresses]
    parts.append(struct.pack(">I", len(c.authdata)))
    parts += [struct.pack(">H", kind) + _cc_data(value) for kind, value in c.authdata]
    parts += [_cc_data(c.ticket), _cc_data(c.second_ticket)]
    return b"".join(parts)


def write_ccache(cache: CCache) -> bytes:
    """The bytes of ``cache`` as an MIT credential cache (its ``version``, 4 by default):
    header, default principal, the credentials, then the configuration entries."""
    version = cache.version
    if version not in (CCACHE_V3, CCACHE_V4):
        raise ValueError("can only write credential cache versions 0x0503 and 0x0504")
    out = [struct.pack(">H", version)]
    if version == CCACHE_V4:
        fields = []
        if cache.time_offset is not None:
            fields.append(struct.pack(">HHii", _TAG_TIME_OFFSET, 8, *cache.time_offset))
        fields += [struct.pack(">HH", tag, len(value)) + value for tag, value in cache.header_fields]
        header = b"".join(fields)
        out.append(struct.pack(">H", len(header)) + header)
    out.append(_cc_principal(cache.principal))
    try:
        out += [_cc_credential(c, version) for c in list(cache.credentials) + list(cache.config)]
    except struct.error as err:
        raise ValueError("credential field out of range: %s" % err) from None
    return b"".join(out)


# ================================================================================= keytab


@dataclass
class KeytabEntry:
    """One key of a keytab.  ``timestamp`` is seconds since the epoch; ``kvno`` the key version
    (the 32-bit one when the file has it)."""

    principal: Principal
    timestamp: int
    kvno: int
    enctype: int
    key: bytes = field(repr=False)


def _read_kt_entry(r: _Reader, version: int) -> KeytabEntry:
    count = r.u16()
    if version == KEYTAB_V1:
        count -= 1  # version 1 counts the realm as a component
        if count < 0:
            raise r.fail("principal without a realm")
    if count > MAX_COMPONENTS:
        raise r.fail("principal with %d components" % count)
    realm = r.text(r.u16(), "realm")
    components = tuple(r.text(r.u16(), "name component") for _ in range(count))
    name_type = NT_UNKNOWN if version == KEYTAB_V1 else r.i32()
    timestamp = r.u32()
    kvno = r.u8()
    enctype = r.u16()
    key = r.take(r.u16(), "key")
    # A 32-bit kvno follows when at least 4 bytes of the record are left and it is not 0.
    if r.left() >= 4:
        kvno32 = r.u32()
        if kvno32:
            kvno = kvno32
    return KeytabEntry(Principal(components, realm, name_type), timestamp, kvno, enctype, key)


def read_keytab(data: bytes) -> List[KeytabEntry]:
    """Parse an MIT keytab file (version 2, or version 1 in this machine's byte order).
    Deleted records (negative lengths) are skipped; a zero length ends the file."""
    raw = _check_size(data, "keytab")
    if len(raw) < 2 or raw[0] != 5 or raw[1] not in (1, 2):
        raise KerberosError("not a keytab (the file starts with %s, not 05 01 or 05 02)" % raw[:2].hex())
    version = 0x0500 | raw[1]
    order = ">" if version == KEYTAB_V2 or sys.byteorder == "big" else "<"
    r = _Reader(raw, "keytab", order, pos=2)
    entries = []
    while r.left():
        if r.left() < 4:
            raise r.fail("%d stray bytes at the end" % r.left())
        length = r.i32()
        if length == 0:
            break
        if length < 0:
            r.take(-length, "deleted record")
            continue
        if length > r.left():
            raise r.fail("record of %d bytes runs past the end" % length)
        record = _Reader(raw, "keytab entry", order, pos=r.pos, end=r.pos + length)
        entries.append(_read_kt_entry(record, version))
        r.pos += length
    return entries


def _kt_data(value: bytes, what: str) -> bytes:
    if len(value) > 0xFFFF:
        raise ValueError("keytab %s longer than 65535 bytes" % what)
    return struct.pack(">H", len(value)) + value


def write_keytab(entries: Sequence[KeytabEntry]) -> bytes:
    """The bytes of a version-2 keytab holding ``entries`` (with the 32-bit kvno)."""
    out = [struct.pack(">H", KEYTAB_V2)]
    for e in entries:
        p = e.principal
        if len(p.components) > 0xFFFF:
            raise ValueError("too many name components")
        parts = [struct.pack(">H", len(p.components)), _kt_data(_utf8(p.realm, "realm"), "realm")]
        parts += [_kt_data(_utf8(c, "name component"), "name component") for c in p.components]
        try:
            parts.append(struct.pack(">iIBH", p.name_type, e.timestamp, e.kvno & 0xFF, e.enctype))
            parts.append(_kt_data(bytes(e.key), "key"))
            parts.append(struct.pack(">I", e.kvno))
        except struct.error as err:
            raise ValueError("keytab field out of range: %s" % err) from None
        record = b"".join(parts)
        out.append(struct.pack(">i", len(record)) + record)
    return b"".join(out)


def select_keys(entries: Sequence[KeytabEntry], principal: Union[str, Any],
                kvno: Optional[int] = None) -> Dict[int, KeytabEntry]:
    """enctype -> entry for ``principal`` (name type ignored): the given ``kvno``, else the
    highest one per enctype."""
    wanted = _as_principal(principal)
    out: Dict[int, KeytabEntry] = {}
    for e in entries:
        if not _same_principal(e.principal, wanted) or (kvno is not None and e.kvno != kvno):
            continue
        have = out.get(e.enctype)
        if have is None or e.kvno > have.kvno:
            out[e.enctype] = e
    return out


# ================================================================================= krb5.conf

#: A profile node: tag -> values, each a string or a subsection.
Node = Dict[str, List[Any]]

_TRUE = {"y", "yes", "true", "t", "1", "on"}
_FALSE = {"n", "no", "false", "nil", "0", "off"}
_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", "\\": "\\", '"': '"'}


def _parse_bool(value: Optional[str], default: bool) -> bool:
    if value is None:
        return default
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return default


@dataclass
class RealmConf:
    """The ``[realms]`` subsection of one realm."""

    kdc: List[str] = field(default_factory=list)
    admin_server: List[str] = field(default_factory=list)
    kpasswd_server: List[str] = field(default_factory=list)
    master_kdc: List[str] = field(default_factory=list)
    default_domain: Optional[str] = None
    #: Every relation of the subsection, subsections included.
    relations: Node = field(default_factory=dict)


@dataclass
class Krb5Conf:
    """What a krb5.conf says (the parts this library uses, plus the raw tree)."""

    libdefaults: Node = field(default_factory=dict)
    realms: Dict[str, RealmConf] = field(default_factory=dict)
    #: Lower-case host or ``.domain`` -> realm.
    domain_realm: Dict[str, str] = field(default_factory=dict)
    #: Every section as parsed: section name -> node.
    sections: Dict[str, Node] = field(default_factory=dict)
    #: Lines that were skipped (``include``, syntax errors when not strict), with line numbers.
    warnings: List[str] = field(default_factory=list)

    def get(self, name: str) -> Optional[str]:
        """The first string value of ``[libdefaults] name``."""
        for value in self.libdefaults.get(name, []):
            if isinstance(value, str):
                return value
        return None

    def get_bool(self, name: str, default: bool) -> bool:
        """A boolean of ``[libdefaults]`` (MIT's spellings: yes/no, true/false, on/off, 1/0...)."""
        return _parse_bool(self.get(name), default)

    @property
    def default_realm(self) -> Optional[str]:
        return self.get("default_realm")

    @property
    def dns_lookup_kdc(self) -> bool:
        """``dns_lookup_kdc``, else ``dns_fallback``, else true (MIT's defaults)."""
        value = self.get("dns_lookup_kdc")
        if value is None:
            value = self.get("dns_fallback")
        return _parse_bool(value, True)

    @property
    def dns_lookup_realm(self) -> bool:
        return self.get_bool("dns_lookup_realm", False)

    def realm_conf(self, realm: str) -> Optional[RealmConf]:
        """The ``[realms]`` entry of ``realm`` (exact name first, then ignoring case)."""
        conf = self.realms.get(realm)
        if conf is None:
            for name, candidate in self.realms.items():
                if name.upper() == realm.upper():
                    return candidate
        return conf

    def kdc_for(self, realm: str) -> List[Tuple[str, int]]:
        """``(host, port)`` of each ``kdc`` of ``realm`` in file order (port 88 unless given;
        ``[v6addr]:port`` for IPv6).  Entries this library cannot use (``https://`` KDC
        proxies) are left out."""
        conf = self.realm_conf(realm)
        if conf is None:
            return []
        out = []
        for entry in conf.kdc:
            address = parse_kdc_address(entry)
            if address is not None:
                out.append(address)
        return out

    def realm_for_host(self, host: str) -> Optional[str]:
        """The ``[domain_realm]`` realm of ``host``: an exact host entry, else the closest
        ``.domain`` or ``domain`` entry above it (``.example.com`` covers the hosts below
        example.com, ``example.com`` also the host itself)."""
        name = host.lower().rstrip(".")
        if name in self.domain_realm:
            return self.domain_realm[name]
        labels = name.split(".")
        for i in range(1, len(labels)):
            suffix = ".".join(labels[i:])
            for key in ("." + suffix, suffix):
                if key in self.domain_realm:
                    return self.domain_realm[key]
        return None


def parse_kdc_address(entry: str, default_port: int = 88) -> Optional[Tuple[str, int]]:
    """``host``, ``host:port``, ``[v6]``, ``[v6]:port``, a bare IPv6 address, optionally with
    a ``tcp/`` or ``udp/`` prefix -> ``(host, port)``; None for ``http(s)://`` proxies.
    Raises :class:`KerberosError` for a bad port or empty host."""
    text = entry.strip()
    lower = text.lower()
    if lower.startswith(("http://", "https://", "kkdcp://")):
        return None
    if lower.startswith(("tcp/", "udp/")):
        text = text[4:]
    port: Optional[str] = None
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise KerberosError("bad KDC address %r" % entry)
        if rest:
            port = rest[1:]
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host = text  # a host name, or an IPv6 address without a port
    if not host:
        raise KerberosError("bad KDC address %r" % entry)
    if port is None or port == "":
        return host, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise KerberosError("bad port in KDC address %r" % entry)
    return host, int(port)


_DIRECTIVES = ("include", "includedir", "module")
_SECTION_RE = re.compile(r"\A\[([^\]]*)\]\s*\*?\s*\Z")


def _unquote(text: str) -> str:
    out: List[str] = []
    i = 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(out)
        if ch == "\\" and i + 1 < len(text):
            i += 1
            out.append(_ESCAPES.get(text[i], text[i]))
        else:
            out.append(ch)
        i += 1
    return "".join(out)  # no closing quote: MIT takes the rest of the line


def _tree(text: str, strict: bool, warnings: List[str]) -> Dict[str, Node]:
    sections: Dict[str, Node] = {}
    stack: List[Node] = []

    def problem(number: int, why: str) -> None:
        message = "krb5.conf line %d: %s" % (number, why)
        if strict:
            raise KerberosError(message)
        warnings.append(message)

    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        directive = line.split(None, 1)[0]
        if directive in _DIRECTIVES and line.startswith(directive) and len(line) > len(directive):
            # "include FILE", "includedir DIR", "module PATH:RESIDUAL" start a line; the files
            # they name are not read here (this parser is given one text).
            warnings.append("krb5.conf line %d: %s ignored" % (number, directive))
            continue
        if stripped.startswith("["):
            match = _SECTION_RE.match(stripped)
            if match is None:
                problem(number, "bad section header")
                continue
            if len(stack) > 1:
                problem(number, "section header inside an unclosed subsection")
            section = sections.setdefault(match.group(1).strip(), {})
            stack = [section]
            continue
        if stripped.startswith("}"):
            if stripped.rstrip("*").strip() != "}":
                problem(number, "text after '}'")
            if len(stack) <= 1:
                problem(number, "'}' without a subsection")
                continue
            stack.pop()
            continue
        if not stack:
            problem(number, "relation outside a section")
            continue
        tag, equals, value = stripped.partition("=")
        tag = tag.strip().rstrip("*").strip()
        if not equals or not tag or any(ch.isspace() for ch in tag):
            problem(number, "expected 'tag = value'")
            continue
        value = value.strip()
        if value.startswith("{"):
            if value.rstrip() != "{":
                problem(number, "text after '{'")
            child: Node = {}
            stack[-1].setdefault(tag, []).append(child)
            stack.append(child)
            continue
        if value.startswith('"'):
            value = _unquote(value)
        elif value.endswith("*"):
            value = value[:-1].rstrip()  # the old "final" marker
        stack[-1].setdefault(tag, []).append(value)
    if len(stack) > 1:
        problem(len(text.splitlines()), "unclosed '{'")
    return sections


def _strings(node: Node, tag: str) -> List[str]:
    return [v for v in node.get(tag, []) if isinstance(v, str)]


def parse_krb5_conf(text: str, strict: bool = False) -> Krb5Conf:
    """Parse krb5.conf text (MIT profile syntax).

    Comments are lines starting with ``#`` or ``;``; ``*`` final markers are accepted and
    ignored; ``include``/``includedir``/``module`` lines are skipped with a warning (only the
    given text is parsed).  Syntax errors skip the line and add to ``warnings``, or raise
    :class:`KerberosError` with ``strict=True``.
    """
    warnings: List[str] = []
    sections = _tree(text, strict, warnings)
    conf = Krb5Conf(sections=sections, warnings=warnings)
    conf.libdefaults = sections.get("libdefaults", {})
    for realm, values in sections.get("realms", {}).items():
        for value in values:
            if not isinstance(value, dict):
                continue
            rc = conf.realms.setdefault(realm, RealmConf())
            rc.kdc += _strings(value, "kdc")
            rc.admin_server += _strings(value, "admin_server")
            rc.kpasswd_server += _strings(value, "kpasswd_server")
            rc.master_kdc += _strings(value, "master_kdc")
            domains = _strings(value, "default_domain")
            if domains and rc.default_domain is None:
                rc.default_domain = domains[0]
            for tag, items in value.items():
                rc.relations.setdefault(tag, []).extend(items)
    for host, values in sections.get("domain_realm", {}).items():
        names = [v for v in values if isinstance(v, str)]
        if names:
            conf.domain_realm.setdefault(host.lower(), names[0])
    return conf
