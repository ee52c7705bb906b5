"""Talking to a KDC: the blocking transport ([RFC 4120] 7.2.1, 7.2.2).

This is driver-layer code (it opens sockets); the Kerberos exchanges themselves
are built and checked IO-free in :mod:`smb.krb5`.

* UDP for requests up to :data:`UDP_LIMIT` bytes (as MIT's
  ``udp_preference_limit``), TCP for larger ones and when a KDC answers
  KRB_ERR_RESPONSE_TOO_BIG over UDP;
* TCP messages carry a 4-byte big-endian length; the reply length is capped
  (:data:`MAX_REPLY`) before anything is allocated;
* every KDC of the list is tried in turn, all within one deadline.
"""
from __future__ import annotations

import logging
import socket
import struct
import time
from typing import Any, Callable, List, Optional, Sequence, Tuple

from .exceptions import KerberosError

__all__ = ["send_to_kdc", "UDP_LIMIT", "MAX_REPLY"]

log = logging.getLogger("SMB.krb5")

#: Largest request sent over UDP first.
UDP_LIMIT = 1465
#: Largest KDC reply accepted (a ticket with a big PAC is tens of KB).
MAX_REPLY = 1024 * 1024
#: Per-attempt cap, so that one silent KDC leaves time for the next.
ATTEMPT_SECONDS = 3.0
#: KRB_ERR_RESPONSE_TOO_BIG ([RFC 4120] 7.5.9).
RESPONSE_TOO_BIG = 52

Address = Tuple[str, int]


def _recv_exact(sock: socket.socket, n: int, deadline: float) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("KDC reply timed out")
        sock.settimeout(remaining)
        chunk = sock.recv(min(n - len(buf), 65536))
        if not chunk:
            raise ConnectionError("KDC closed the connection")
        buf += chunk
    return bytes(buf)


def _tcp(request: bytes, kdc: Address, deadline: float) -> bytes:
    remaining = max(0.01, deadline - time.monotonic())
    with socket.create_connection(kdc, timeout=remaining) as sock:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        sock.sendall(struct.pack(">I", len(request)) + request)
        (length,) = struct.unpack(">I", _recv_exact(sock, 4, deadline))
        if length & 0x80000000:
            raise KerberosError("KDC %s:%d used the reserved TCP length bit" % kdc)
        if length > MAX_REPLY:
            raise KerberosError("KDC %s:%d announced a %d-byte reply (limit %d)" % (kdc + (length, MAX_REPLY)))
        return _recv_exact(sock, length, deadline)


def _udp(request: bytes, kdc: Address, deadline: float) -> bytes:
    family = socket.AF_INET6 if ":" in kdc[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect(kdc)  # only datagrams from the KDC's address are received
        sock.send(request)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("KDC reply timed out")
        sock.settimeout(remaining)
        return sock.recv(65536)


def send_to_kdc(request: bytes, kdcs: Sequence[Address], deadline: float,
                error_code: Callable[[bytes], Optional[int]], prefer_tcp: bool = False) -> bytes:
    """Send ``request`` to the first KDC of ``kdcs`` that answers before
    ``deadline`` (a :func:`time.monotonic` value) and return its reply.

    ``error_code(reply)`` gives the KRB-ERROR code of a reply, or None for
    any other message; it is used to notice KRB_ERR_RESPONSE_TOO_BIG.
    Raises :class:`KerberosError` when no KDC answers.
    """
    if not kdcs:
        raise KerberosError("no KDC known for the realm (give kdc= or a krb5.conf)")
    problems: List[str] = []
    use_tcp = prefer_tcp or len(request) > UDP_LIMIT
    for kdc in kdcs:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        attempt = time.monotonic() + min(remaining, ATTEMPT_SECONDS if len(kdcs) > 1 else remaining)
        try:
            if not use_tcp:
                reply = _udp(request, kdc, attempt)
                if error_code(reply) != RESPONSE_TOO_BIG:
                    return reply
                log.debug("KDC %s:%d: reply too big for UDP, retrying over TCP", *kdc)
            return _tcp(request, kdc, max(attempt, min(deadline, time.monotonic() + ATTEMPT_SECONDS)))
        except KerberosError:
            raise
        except (OSError, ValueError) as err:
            log.debug("KDC %s:%d did not answer: %s", kdc[0], kdc[1], err)
            problems.append("%s:%d (%s)" % (kdc[0], kdc[1], err.__class__.__name__))
    raise KerberosError("no KDC answered: %s" % (", ".join(problems) or "deadline passed"))


# --------------------------------------------------------------------------- DNS SRV

#: Where the name servers are listed, and their port (tests point both elsewhere).
RESOLV_CONF = "/etc/resolv.conf"
DNS_PORT = 53
#: ``kdc=`` value that asks for the realm's SRV records.
KDC_FROM_DNS = "dns"


def nameservers(path: Optional[str] = None) -> List[str]:
    """The ``nameserver`` addresses of resolv.conf (at most 3, as the resolver uses)."""
    servers: List[str] = []
    try:
        with open(path or RESOLV_CONF, encoding="ascii", errors="replace") as fh:
            for line in fh.read(65536).splitlines():
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver":
                    servers.append(parts[1].split("%")[0])
    except OSError:
        pass
    return servers[:3]


def srv_lookup(name: str, deadline: float, servers: Optional[Sequence[str]] = None) -> List[Address]:
    """``(host, port)`` of the SRV records of ``name``, asking each name server in turn
    within ``deadline``; an empty list when none answers or the name does not exist."""
    import os
    from . import _dns
    for server in (servers if servers is not None else nameservers()):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        txn = int.from_bytes(os.urandom(2), "big")
        try:
            reply = _udp(_dns.srv_query(txn, name), (server, DNS_PORT),
                         time.monotonic() + min(remaining, ATTEMPT_SECONDS))
            return _dns.parse_srv_response(reply, txn)
        except (OSError, KerberosError) as err:
            log.debug("DNS SRV query for %s to %s failed: %s", name, server, err)
    return []


# --------------------------------------------------------------------------- a logon's Kerberos settings

AUTH_NTLM = "ntlm"
AUTH_KERBEROS = "kerberos"
AUTH_NEGOTIATE = "negotiate"
AUTH_CHOICES = (AUTH_NTLM, AUTH_KERBEROS, AUTH_NEGOTIATE)


def _parse_kdc(text: str) -> Address:
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    try:
        return host, int(port) if port else 88
    except ValueError:
        raise ValueError("bad KDC address %r" % text) from None


def _is_ip(text: str) -> bool:
    import ipaddress
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


class KerberosSettings:
    """What a connection was told about Kerberos, and the tickets it got.

    Resolves, once per logon: the realm (a dotted ``domain``, a
    ``user@REALM`` user name, or krb5.conf's default realm), the KDCs
    (``kdc=``, else krb5.conf's ``[realms]``), the service principal
    (``service_principal=``, else ``cifs/<host>`` from the name connected to),
    and the credentials (password, keytab, or a ccache).
    """

    def __init__(self, auth: Optional[str], username: str, domain: str, kdc: Any = None,
                 ccache: Optional[str] = None, keytab: Optional[str] = None,
                 service_principal: Optional[str] = None, krb5_conf: Optional[str] = None,
                 etypes: Optional[Sequence[int]] = None, save_ccache: Optional[str] = None) -> None:
        if auth is not None and auth not in AUTH_CHOICES:
            raise ValueError("auth must be one of %s, not %r" % (", ".join(AUTH_CHOICES), auth))
        self.auth = auth
        self.username = username
        self.domain = domain
        self.kdc = kdc
        self.ccache = ccache
        self.keytab = keytab
        self.service_principal = service_principal
        self.krb5_conf_path = krb5_conf
        self.etypes = tuple(etypes) if etypes else None
        self.save_ccache = save_ccache
        #: Tickets this connection got, reused by later connects (memory only).
        self.tickets: List[Any] = []
        self._conf: Any = None

    # -- configuration ------------------------------------------------------------------
    def conf(self) -> Any:
        if self._conf is None:
            import os
            from . import krb5_files
            path = self.krb5_conf_path or os.environ.get("KRB5_CONFIG", "").split(":")[0] or "/etc/krb5.conf"
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read(1024 * 1024)
            except OSError:
                text = ""
            self._conf = krb5_files.parse_krb5_conf(text)
        return self._conf

    def realm(self) -> str:
        name, at, realm = self.username.rpartition("@")
        if at and realm:
            return realm.upper()
        if "." in self.domain:
            return self.domain.upper()
        return (self.conf().default_realm or "").upper()

    def client_name(self) -> str:
        name, at, _ = self.username.rpartition("@")
        return name if at else self.username

    def kdcs(self, realm: str) -> List[Address]:
        """The KDCs named by ``kdc=`` or krb5.conf (no DNS)."""
        if self.kdc and self.kdc != KDC_FROM_DNS:
            items = [self.kdc] if isinstance(self.kdc, str) else list(self.kdc)
            return [_parse_kdc(k) if isinstance(k, str) else (str(k[0]), int(k[1])) for k in items]
        return list(self.conf().kdc_for(realm))

    def dns_asked(self) -> bool:
        """True when KDCs may be looked up in DNS: ``kdc='dns'``, or krb5.conf says
        ``dns_lookup_kdc = true`` (or ``dns_fallback``) explicitly."""
        if self.kdc == KDC_FROM_DNS:
            return True
        conf = self.conf()
        value = conf.get("dns_lookup_kdc") or conf.get("dns_fallback")
        return bool(value) and value.strip().lower() in ("y", "yes", "true", "t", "1", "on")

    def find_kdcs(self, realm: str, deadline: float) -> List[Address]:
        """:meth:`kdcs`, else the realm's ``_kerberos`` SRV records when DNS is asked for."""
        found = [] if self.kdc == KDC_FROM_DNS else self.kdcs(realm)
        if found or not self.dns_asked():
            return found
        for proto in ("_udp", "_tcp"):
            for address in srv_lookup("_kerberos.%s.%s" % (proto, realm), deadline):
                if address not in found:
                    found.append(address)
        return found

    def ccache_path(self, have_password: bool) -> Optional[str]:
        import os
        if self.ccache:
            return self.ccache
        env = os.environ.get("KRB5CCNAME", "")
        if env and not have_password and not self.keytab:
            kind, colon, rest = env.partition(":")
            if not colon:
                return env
            if kind.upper() == "FILE":
                return rest
        return None

    def mode(self, have_password: bool) -> str:
        """The mechanism to use: ``ntlm``, ``kerberos`` or ``negotiate``."""
        if self.auth is not None:
            return self.auth
        realm = self.realm()
        if realm and (self.kdc or self.kdcs(realm) or self.dns_asked() or self.ccache_path(have_password)
                      or self.keytab):
            return AUTH_NEGOTIATE
        return AUTH_NTLM

    def server_principal(self, host: str, remote_name: str, realm: str) -> Any:
        from .krb5 import Principal, service_principal
        if self.service_principal:
            return Principal.parse(self.service_principal, realm, name_type=2)
        if host and not _is_ip(host):
            name = host
        elif "." in remote_name:
            name = remote_name
        elif remote_name:
            name = remote_name + "." + realm.lower()
        else:
            raise KerberosError("Kerberos needs the server's name: connect to a host name, or give "
                                "remote_name or service_principal")
        return service_principal(name.rstrip("."), realm)

    # -- getting the ticket --------------------------------------------------------------
    def initiator(self, host: str, remote_name: str, password: str, deadline: float,
                  rand: Callable[[int], bytes]) -> Any:
        """Run the KDC exchanges (blocking, within ``deadline``) and return a
        fresh :class:`smb.krb5.ApInitiator` for the server."""
        from . import krb5, krb5_files
        cache = None
        path = self.ccache_path(bool(password))
        if path:
            try:
                with open(path, "rb") as fh:
                    data = fh.read(16 * 1024 * 1024)
            except OSError as err:
                raise KerberosError("cannot read the credential cache %s: %s" % (path, err.strerror)) from None
            cache = krb5_files.read_ccache(data)
        realm = self.realm() or (cache.principal.realm.upper() if cache is not None else "")
        if not realm:
            raise KerberosError("Kerberos needs a realm: give domain='EXAMPLE.COM', user@REALM or a "
                                "krb5.conf default_realm")
        server = self.server_principal(host, remote_name, realm)
        client = krb5.Principal.parse(self.client_name(), realm) if self.client_name() else None
        cached: List[Any] = list(self.tickets)
        if cache is not None:
            cached += krb5.credentials_from_ccache(cache)
            if client is None:
                client = krb5.principal_from_ccache(cache)
        if client is None:
            raise KerberosError("Kerberos needs a user name (or a credential cache)")
        keys = None
        if self.keytab:
            try:
                with open(self.keytab, "rb") as fh:
                    data = fh.read(16 * 1024 * 1024)
            except OSError as err:
                raise KerberosError("cannot read the keytab %s: %s" % (self.keytab, err.strerror)) from None
            keys = krb5.keys_from_keytab(krb5_files.read_keytab(data), client)
        from . import krb5_crypto as kc
        etypes = self.etypes or kc.SUPPORTED_ETYPES
        unknown = [e for e in etypes if e not in kc.SUPPORTED_ETYPES]
        if unknown:
            raise ValueError("unsupported Kerberos etypes %r (supported: %r)" % (unknown, kc.SUPPORTED_ETYPES))
        got: List[Any] = []
        flow = krb5.service_ticket_flow(client, server, password or None, keys, cached, etypes, rand=rand,
                                        got=got)
        kdcs = self.find_kdcs(client.realm, deadline)
        reply: Optional[bytes] = None
        try:
            while True:
                request = flow.send(reply)
                reply = send_to_kdc(request, kdcs, deadline, krb5.error_code_of)
        except StopIteration as stop:
            credential = stop.value
        if got:
            self.tickets = [t for t in self.tickets if not t.expired()] + got
            if self.save_ccache:
                self._save(krb5.ccache_of(client, self.tickets))
        return krb5.ApInitiator(credential, rand=rand)

    def _save(self, cache: Any) -> None:
        """Write the tickets to the ccache the user named (mode 0600, replaced whole)."""
        import os
        from . import krb5_files
        assert self.save_ccache is not None
        data = krb5_files.write_ccache(cache)
        tmp = "%s.%d.tmp" % (self.save_ccache, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self.save_ccache)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
