"""``smb://`` URLs for :mod:`urllib.request` (pysmb's ``smb.SMBHandler``).

::

    import urllib.request
    from smb.SMBHandler import SMBHandler

    opener = urllib.request.build_opener(SMBHandler)
    with opener.open("smb://WORKGROUP;alice:secret@192.0.2.10/share/dir/report.pdf") as fh:
        data = fh.read()
    with open("local.txt", "rb") as src:
        opener.open("smb://alice:secret@192.0.2.10/share/dir/upload.txt", data=src).close()

URL grammar (the parts in brackets are optional)::

    smb://[domain;][user[:password]@]host[:port]/share/path

    host  = IPv4 address | "[" IPv6 address "]" | DNS name | NBNAME "," address

* ``domain``, ``user``, ``password`` and ``path`` are percent-decoded (UTF-8),
  so a ``:`` in a password is written ``%3A``, a ``;`` ``%3B``, an ``@``
  ``%40``, a ``#`` or ``?`` in a file name ``%23`` / ``%3F``.  Non-ASCII
  paths may be given as they are or percent-encoded.
* ``NBNAME,address`` gives the server's NetBIOS name with its address, as
  pysmb allows.  Without it, and only when the connection uses the NetBIOS
  session service, the name is asked from the host with a node status query
  (:meth:`nmb.NetBIOS.NetBIOS.queryIPForName`, UDP port
  :attr:`SMBHandler.nbns_port`); when nobody answers, ``*SMBSERVER`` is used.
* A port in :attr:`SMBHandler.direct_tcp_ports` (default ``{445}``) means
  direct TCP; any other port, or none, means the NetBIOS session service on
  that port (default 139).
* The query string and the fragment are ignored.

Opening a URL without ``data`` downloads the file into a spooled temporary
file (memory first, disk when large) and returns it as an
:class:`urllib.response.addinfourl` with the headers ``Content-type``
(guessed from the file name by :mod:`mimetypes`) and ``Content-length``.
With ``data`` (a file-like object with ``read``, or bytes) the file is
uploaded, replacing any existing one, and an empty response is returned.

Every failure surfaces as :class:`urllib.error.URLError`; its ``reason`` is
the library's exception (e.g. an :class:`~smb.exceptions.OperationFailure`
carrying the NTSTATUS) or a message.
"""
from __future__ import annotations

import email.message
import io
import logging
import mimetypes
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import urllib.response
from dataclasses import dataclass, field
from typing import Any, FrozenSet, Iterable, List, Optional, Tuple

from nmb.NetBIOS import NetBIOS

from .exceptions import SMBError
from .SMBConnection import SMBConnection

__all__ = ["SMBHandler", "SMBURL", "parse_smb_url", "USE_NTLM", "MACHINE_NAME", "NETBIOS_SESSION_PORT",
           "DIRECT_TCP_PORT"]

logger = logging.getLogger("SMB.SMBHandler")

#: pysmb's switches, read on every request: NTLMv2 (True) or NTLMv1 responses,
#: and our NetBIOS name (None: this host's name).
USE_NTLM: bool = True
MACHINE_NAME: Optional[str] = None

NETBIOS_SESSION_PORT = 139
DIRECT_TCP_PORT = 445
_ANY_SERVER = "*SMBSERVER"


@dataclass(frozen=True)
class SMBURL:
    """The parts of an ``smb://`` URL, percent-decoded.

    ``path`` is the file's path inside ``share`` with ``/`` separators and no
    leading slash ('' when the URL names only the share); ``port`` is None
    when the URL has none; ``netbios_name`` is the ``NBNAME`` of an
    ``NBNAME,address`` host ('' otherwise).  The password is left out of
    ``repr``.
    """

    host: str
    port: Optional[int]
    share: str
    path: str
    username: str = ""
    password: str = field(default="", repr=False)
    domain: str = ""
    netbios_name: str = ""


def _unquote(text: str, what: str) -> str:
    try:
        return urllib.parse.unquote(text, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as err:
        raise urllib.error.URLError("the %s in the smb:// URL is not valid percent-encoded UTF-8" % what) from err


def _split_host_port(hostport: str) -> Tuple[str, Optional[int]]:
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise urllib.error.URLError("unterminated IPv6 address in the smb:// URL")
        host, rest = hostport[1:end], hostport[end + 1:]
        if rest and not rest.startswith(":"):
            raise urllib.error.URLError("unexpected text after the IPv6 address in the smb:// URL")
        port_text = rest[1:]
    elif hostport.count(":") > 1:
        raise urllib.error.URLError("an IPv6 address in an smb:// URL must be written in brackets")
    else:
        host, _, port_text = hostport.partition(":")
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise urllib.error.URLError("invalid port %r in the smb:// URL" % port_text)
    return host, int(port_text)


def parse_smb_url(url: str, schemes: Tuple[str, ...] = ("smb",), need_share: bool = True) -> SMBURL:
    """Split an ``smb://`` URL into its parts (see the module docstring).

    Raises :class:`urllib.error.URLError` for another scheme (``schemes``
    lists those accepted, lower case), a missing host or share (an empty
    ``share`` is allowed when ``need_share`` is false), a bad port, or
    percent-encoding that is not UTF-8.
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as err:
        raise urllib.error.URLError("malformed smb:// URL: %s" % err) from err
    if parts.scheme.lower() not in schemes:
        raise urllib.error.URLError("not an %s:// URL (scheme %r)" % (schemes[0], parts.scheme))

    # The last "@" ends the user info, so an unencoded "@" in a password still works.
    userinfo, has_userinfo, hostport = parts.netloc.rpartition("@")
    username = password = domain = ""
    if has_userinfo:
        user_part, _, password_part = userinfo.partition(":")
        domain_part, has_domain, user_text = user_part.partition(";")
        if not has_domain:
            domain_part, user_text = "", user_part
        domain = _unquote(domain_part, "domain")
        username = _unquote(user_text, "user name")
        password = _unquote(password_part, "password")

    netbios_name, has_name, address = hostport.partition(",")
    if not has_name:
        netbios_name, address = "", hostport
    host, port = _split_host_port(address)
    host = _unquote(host, "host")
    netbios_name = _unquote(netbios_name, "NetBIOS name")
    if not host:
        raise urllib.error.URLError("no host in the smb:// URL")
    if has_name and not netbios_name:
        raise urllib.error.URLError("empty NetBIOS name before ',' in the smb:// URL")

    full_path = _unquote(parts.path, "path")
    share, _, path = full_path.lstrip("/").partition("/")
    if not share and need_share:
        raise urllib.error.URLError("no share name in the smb:// URL")
    return SMBURL(host=host, port=port, share=share, path=path, username=username, password=password,
                  domain=domain, netbios_name=netbios_name)


def _default_machine_name() -> str:
    label = socket.gethostname().split(".", 1)[0]
    cleaned = "".join(ch for ch in label if ch.isascii() and (ch.isalnum() or ch in "-_"))
    return cleaned[:15].upper() or "SMBWIRE"


class SMBHandler(urllib.request.BaseHandler):
    """A :mod:`urllib.request` handler for ``smb://`` URLs.

    Use the class or an instance with :func:`urllib.request.build_opener`.
    ``direct_tcp_ports``, ``nbns_port`` and ``nbns_timeout`` override the
    class attributes of the same name for one instance (set the class
    attributes, or subclass, to change every handler); e.g. a server whose
    direct-TCP port is 4450::

        opener = urllib.request.build_opener(SMBHandler(direct_tcp_ports={445, 4450}))

    :param direct_tcp_ports: ports that mean direct TCP (``is_direct_tcp``);
        every other port means the NetBIOS session service
    :param nbns_port: UDP port of the server's NetBIOS name service, asked
        for the server's name when the URL gives none and the connection
        uses the NetBIOS session service
    :param nbns_timeout: seconds to wait for that answer before falling back
        to ``*SMBSERVER``
    :param machine_name: our NetBIOS name (the calling name); default: the
        module's :data:`MACHINE_NAME`, else this host's name
    :param use_ntlm_v2: NTLMv2 (True) or NTLMv1 responses; default: the
        module's :data:`USE_NTLM`

    The timeout given to ``opener.open(url, timeout=...)`` bounds connecting
    and the transfer each; without one, :attr:`default_timeout` applies.
    """

    direct_tcp_ports: FrozenSet[int] = frozenset({DIRECT_TCP_PORT})
    nbns_port: int = 137
    nbns_timeout: float = 3.0
    default_timeout: float = 60.0
    #: Spooled downloads stay in memory up to this size, then move to disk.
    spool_size: int = 8 * 1024 * 1024

    def __init__(self, direct_tcp_ports: Optional[Iterable[int]] = None, nbns_port: Optional[int] = None,
                 nbns_timeout: Optional[float] = None, machine_name: Optional[str] = None,
                 use_ntlm_v2: Optional[bool] = None) -> None:
        if direct_tcp_ports is not None:
            self.direct_tcp_ports = frozenset(int(p) for p in direct_tcp_ports)
        if nbns_port is not None:
            self.nbns_port = nbns_port
        if nbns_timeout is not None:
            self.nbns_timeout = nbns_timeout
        self.machine_name = machine_name
        self.use_ntlm_v2 = use_ntlm_v2

    # ------------------------------------------------------------------ pysmb's overridable hooks
    def createTempFile(self) -> Any:
        """The file a download is spooled into (pysmb's hook): in memory up
        to :attr:`spool_size`, then on disk.  Override to choose another."""
        return tempfile.SpooledTemporaryFile(max_size=self.spool_size)

    def generateClientMachineName(self) -> str:
        """Our NetBIOS name for the connection (pysmb's hook): the
        ``machine_name`` given, else the module's :data:`MACHINE_NAME`, else
        this host's name."""
        return self.machine_name or MACHINE_NAME or _default_machine_name()

    # ------------------------------------------------------------------ urllib entry point
    def smb_open(self, req: urllib.request.Request) -> urllib.response.addinfourl:
        """Download (``req.data`` is None) or upload (``req.data`` given) one file."""
        url = req.full_url
        target = parse_smb_url(url)
        timeout = self._timeout(req)
        port = target.port if target.port is not None else NETBIOS_SESSION_PORT
        direct = port in self.direct_tcp_ports
        source = None if req.data is None else _upload_source(req.data)
        if not target.path:
            raise urllib.error.URLError("the smb:// URL names the share %r but no file in it" % target.share)
        try:
            remote_name = self._remote_name(target, direct)
            conn = self._connection(target, remote_name, direct)
            logger.debug("connecting to %s:%d (%s, called name %r) as %r", target.host, port,
                         "direct TCP" if direct else "NetBIOS session", remote_name, target.username)
            try:
                if not conn.connect(target.host, port, timeout=timeout):
                    raise urllib.error.URLError("SMB logon to %s refused for user %r"
                                                % (target.host, target.username))
                if source is not None:
                    return self._upload(conn, target, source, url, timeout)
                return self._download(conn, target, url, timeout)
            finally:
                conn.close()
        except urllib.error.URLError:
            raise
        except (SMBError, OSError) as err:
            raise urllib.error.URLError(err) from err

    # ------------------------------------------------------------------ helpers
    def _timeout(self, req: urllib.request.Request) -> float:
        value = getattr(req, "timeout", None)
        # urllib passes socket._GLOBAL_DEFAULT_TIMEOUT (an object) when no timeout was given.
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
        return self.default_timeout

    def _connection(self, target: SMBURL, remote_name: str, direct: bool) -> SMBConnection:
        # The module globals are read here, per request, as pysmb users set them after import.
        my_name = self.generateClientMachineName()
        use_v2 = USE_NTLM if self.use_ntlm_v2 is None else self.use_ntlm_v2
        return SMBConnection(target.username, target.password, my_name, remote_name, domain=target.domain,
                             use_ntlm_v2=bool(use_v2), is_direct_tcp=direct)

    def _remote_name(self, target: SMBURL, direct: bool) -> str:
        """The server's NetBIOS name: from the URL, else (NetBIOS session
        service only) from a node status query, else ``*SMBSERVER``."""
        if target.netbios_name:
            return target.netbios_name
        if direct:
            # No session request on direct TCP; the name only appears in \\server\share paths.
            return target.host
        names = self._query_names(target.host)
        if names:
            logger.debug("%s calls itself %r", target.host, names[0])
            return names[0]
        logger.info("no NetBIOS name for %s; calling it %s", target.host, _ANY_SERVER)
        return _ANY_SERVER

    def _query_names(self, host: str) -> Optional[List[str]]:
        try:
            infos = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_DGRAM)
        except (OSError, UnicodeError) as err:
            logger.debug("no IPv4 address for %s to ask for its NetBIOS name: %s", host, err)
            return None
        if not infos:
            return None
        ip = str(infos[0][4][0])
        try:
            with NetBIOS(broadcast=False) as nbns:
                return nbns.queryIPForName(ip, port=self.nbns_port, timeout=self.nbns_timeout)
        except (SMBError, OSError) as err:
            logger.debug("NetBIOS node status query to %s:%d failed: %s", ip, self.nbns_port, err)
            return None

    def _download(self, conn: SMBConnection, target: SMBURL, url: str,
                  timeout: float) -> urllib.response.addinfourl:
        spool: Any = self.createTempFile()
        try:
            _, size = conn.retrieveFile(target.share, target.path, spool, timeout=timeout)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        content_type = mimetypes.guess_type(target.path.rsplit("/", 1)[-1])[0] or "application/octet-stream"
        return urllib.response.addinfourl(spool, _headers(content_type, size), url)

    def _upload(self, conn: SMBConnection, target: SMBURL, source: Any, url: str,
                timeout: float) -> urllib.response.addinfourl:
        written = conn.storeFile(target.share, target.path, source, timeout=timeout)
        logger.debug("stored %d bytes to %s/%s on %s", written, target.share, target.path, target.host)
        return urllib.response.addinfourl(io.BytesIO(b""), _headers("application/octet-stream", 0), url)


def _upload_source(data: Any) -> Any:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return io.BytesIO(data)
    if hasattr(data, "read"):
        return data
    raise TypeError("data for an smb:// URL must be bytes or a file-like object with read(), not %s"
                    % type(data).__name__)


def _headers(content_type: str, length: int) -> email.message.Message:
    headers = email.message.Message()
    headers["Content-type"] = content_type
    headers["Content-length"] = str(length)
    return headers
