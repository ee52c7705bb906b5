"""A throwaway Samba Active Directory domain controller on loopback, for Kerberos tests.

Samba's AD DC carries its own KDC and a full smbd, so one ``samba`` process tree gives a realm
(``SMBTEST.LAN``), a KDC and an SMB server that accepts Kerberos session setups. Everything
lives in one temporary directory: the provisioned databases, ``etc/smb.conf``, a
``krb5.conf`` for clients, an ``nss_wrapper`` hosts file (``dc1.smbtest.lan`` resolves to the
DC's address for processes run with :meth:`ADDCServer.env`), logs and the share ``data``.
Nothing under ``/etc`` is read or changed, and no DNS is involved.

Provisioning takes seconds, so it happens once per process (one pytest session) into a
template directory; each server copies that tree (users included) and starts from the copy.

Usage::

    with ADDCServer() as dc:
        ccache = dc.kinit("alice", dc.users["alice"], "/tmp/x/ccache")
        subprocess.run(["klist", "-c", ccache], env=dc.env(), check=True)

Users: ``alice`` and ``bob`` (:attr:`ADDCServer.users`), ``Administrator``
(:attr:`ADDCServer.admin_password`); password complexity, history and ageing are off.
"""
from __future__ import annotations

import atexit
import glob
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from typing import Dict, IO, List, Mapping, Optional, Sequence, Set, Tuple

from tests.samba_server import (_find_program, _listening_inodes, _socket_inodes, _tail,
                                find_nss_wrapper, pid_alive)

__all__ = [
    "ADDCServer",
    "ADDCStartError",
    "addc_problem",
    "find_samba",
    "provision_template",
    "REALM",
    "DOMAIN",
    "HOSTNAME",
]

REALM = "SMBTEST.LAN"
DOMAIN = "SMBTEST"
HOST_SHORT = "dc1"
HOSTNAME = "dc1.smbtest.lan"
ADMIN_PASSWORD = "Adm1n-Passw0rd"
USERS: Dict[str, str] = {"alice": "Alice-Passw0rd", "bob": "Bob-Passw0rd"}

_FIRST_HOST = 5          # 127.0.0.5 is tried first, then .6, .7, ...
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 10.0
# samba ends itself after this long: a DC that a killed test run left behind goes away.
_MAX_RUNTIME = 4 * 3600
_PROVISION_TIMEOUT = 180.0
_PROVISION_DATA = "/usr/share/samba/setup/provision.ldif"
_DSDB_MODULE_GLOBS = ("/usr/lib/*/samba/ldb/samba_dsdb.so", "/usr/lib*/samba/ldb/samba_dsdb.so")
_INSTALL_HINT = ("install the AD DC: `sudo bash tests/bootstrap.sh deps` or `apt-get install "
                 "--no-install-recommends samba-ad-dc samba-ad-provision krb5-user libnss-wrapper`")


class ADDCStartError(RuntimeError):
    """Provisioning or starting the DC failed; the message carries the relevant log tail."""


def find_samba() -> Optional[str]:
    """Path of the ``samba`` (AD DC) binary, or None. ``SMBWIRE_SAMBA`` overrides the search
    (a path that does not exist makes it "missing", to check the CI failure path)."""
    override = os.environ.get("SMBWIRE_SAMBA")
    if override:
        return override if os.access(override, os.X_OK) else None
    return _find_program("samba")


def addc_problem() -> Optional[str]:
    """Why an AD DC cannot run here, or None when it can (checked without starting one)."""
    if find_samba() is None:
        return "samba (AD DC) not found: " + _INSTALL_HINT
    missing = [tool for tool in ("samba-tool", "winbindd", "kinit", "klist", "smbclient")
               if _find_program(tool) is None]
    if missing:
        return "%s not found: %s" % (", ".join(missing), _INSTALL_HINT)
    if not os.path.isfile(_PROVISION_DATA):
        return "AD provisioning data missing (samba-ad-provision): " + _INSTALL_HINT
    if not any(glob.glob(pattern) for pattern in _DSDB_MODULE_GLOBS):
        return "AD DC database modules missing (samba-dsdb-modules): " + _INSTALL_HINT
    if find_nss_wrapper() is None:
        return "libnss_wrapper not found (libnss-wrapper): " + _INSTALL_HINT
    if os.name != "posix" or os.geteuid() != 0:
        return "the test AD DC must run as root"
    return None


def _run(args: Sequence[str], *, env: Optional[Mapping[str, str]] = None,
         input_text: Optional[str] = None, timeout: float = 120.0,
         what: str = "") -> "subprocess.CompletedProcess[str]":
    result = subprocess.run(list(args), input=input_text, capture_output=True, text=True,
                            env=dict(env) if env is not None else None, timeout=timeout,
                            stdin=None if input_text is not None else subprocess.DEVNULL,
                            check=False)
    if result.returncode != 0:
        raise ADDCStartError("%s failed (%d): %s\n--- stdout ---\n%s--- stderr ---\n%s"
                             % (what or args[0], result.returncode, " ".join(args),
                                result.stdout[-4000:], result.stderr[-4000:]))
    return result


# --------------------------------------------------------------------------- smb.conf

def _render_conf(root: str, *, host: str = "127.0.0.5", smb_port: int = 445,
                 kdc_port: int = 88, kpasswd_port: int = 464,
                 extra_global: Optional[Mapping[str, str]] = None) -> str:
    """The whole ``smb.conf`` of a DC whose tree is *root* (provision's own is replaced: it
    points logs at /var/log/samba and password changes at /usr/bin/passwd)."""
    j = lambda *parts: os.path.join(root, *parts)  # noqa: E731
    globals_: List[Tuple[str, str]] = [
        ("netbios name", HOST_SHORT.upper()),
        ("workgroup", DOMAIN),
        ("realm", REALM),
        ("server role", "active directory domain controller"),
        # winbindd is required: smbd maps the session's SIDs to ids through it.
        ("server services", "s3fs, kdc, winbindd"),
        # A bare address binds nothing (and smbd panics): the netmask is required.
        ("interfaces", "%s/8" % host),
        ("bind interfaces only", "yes"),
        ("smb ports", str(smb_port)),
        ("krb5 port", str(kdc_port)),
        ("kpasswd port", str(kpasswd_port)),
        ("disable netbios", "yes"),
        ("private dir", j("private")),
        ("lock directory", j("lock")),
        ("state directory", j("state")),
        ("cache directory", j("cache")),
        ("pid directory", j("pid")),
        ("ncalrpc dir", j("ncalrpc")),
        ("binddns dir", j("bind-dns")),
        ("winbindd socket directory", j("winbindd")),
        ("ntp signd socket directory", j("ntp_signd")),
        ("usershare path", j("usershares")),
        ("usershare max shares", "0"),
        ("log file", j("log", "log.%m")),
        ("log level", os.environ.get("SMBWIRE_SAMBA_LOG_LEVEL", "1")),
        ("max log size", "0"),
        ("logging", "file"),
        ("panic action", ""),
        ("unix password sync", "no"),
        ("pam password change", "no"),
        ("obey pam restrictions", "no"),
        ("passwd program", ""),
        ("load printers", "no"),
        ("printing", "bsd"),
        ("printcap name", "/dev/null"),
        ("disable spoolss", "yes"),
        ("rpc start on demand helpers", "no"),
        ("dns proxy", "no"),
        ("kernel oplocks", "no"),
        ("template shell", "/bin/false"),
        ("template homedir", j("home", "%U")),
    ]
    overrides = dict(extra_global or {})
    globals_ = [(k, overrides.pop(k, v)) for k, v in globals_]
    globals_ += sorted(overrides.items())
    shares = [
        ("sysvol", [("path", j("state", "sysvol")), ("read only", "no")]),
        ("netlogon", [("path", j("state", "sysvol", HOSTNAME.split(".", 1)[1], "scripts")),
                      ("read only", "no")]),
        ("data", [("path", j("shares", "data")), ("comment", "writable, domain users"),
                  ("read only", "no"), ("create mask", "0666"), ("directory mask", "0777")]),
    ]
    lines = ["[global]"] + ["    %s = %s" % item for item in globals_]
    for name, options in shares:
        lines += ["", "[%s]" % name] + ["    %s = %s" % item for item in options]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- template

_template_lock = threading.Lock()
_template: Optional[Tuple[str, float]] = None
_template_error: Optional[ADDCStartError] = None


def _remove_template() -> None:
    global _template
    if _template is not None and not os.environ.get("SMBWIRE_KEEP_SAMBA"):
        shutil.rmtree(_template[0], ignore_errors=True)
    _template = None


def provision_template() -> Tuple[str, float]:
    """``(directory, seconds)``: a provisioned domain with the test users, made once per
    process and removed at exit. Servers copy it; nothing runs from it."""
    global _template, _template_error
    with _template_lock:
        if _template is not None:
            return _template
        if _template_error is not None:
            raise _template_error  # do not pay for a failing provision twice
        began = time.monotonic()
        root = tempfile.mkdtemp(prefix="smbwire-addc-template-")
        try:
            _provision(root)
        except BaseException as err:
            shutil.rmtree(root, ignore_errors=True)
            if isinstance(err, ADDCStartError):
                _template_error = err
            elif isinstance(err, (OSError, subprocess.SubprocessError)):
                _template_error = ADDCStartError("provisioning failed: %r" % (err,))
                raise _template_error from err
            raise
        _template = (root, time.monotonic() - began)
        atexit.register(_remove_template)
        return _template


def _provision(root: str) -> None:
    os.chmod(root, 0o755)
    samba_tool = _find_program("samba-tool")
    if samba_tool is None:
        raise ADDCStartError("samba-tool not found: " + _INSTALL_HINT)
    # Do not pre-create ntp_signd, ncalrpc or winbindd: samba wants them 0750 and exits
    # when they exist with other modes; it makes them itself.
    _run([samba_tool, "domain", "provision", "--realm=" + REALM, "--domain=" + DOMAIN,
          "--adminpass=" + ADMIN_PASSWORD, "--server-role=dc", "--dns-backend=NONE",
          "--host-name=" + HOST_SHORT, "--host-ip=127.0.0.5", "--targetdir=" + root,
          "--option=interfaces = 127.0.0.5/8", "--option=bind interfaces only = yes"],
         timeout=_PROVISION_TIMEOUT, what="samba-tool domain provision")
    conf = os.path.join(root, "etc", "smb.conf")
    with open(conf, "w", encoding="utf-8") as fh:
        fh.write(_render_conf(root))
    os.makedirs(os.path.join(root, "log"), exist_ok=True)
    _run([samba_tool, "domain", "passwordsettings", "set", "-s", conf, "--complexity=off",
          "--history-length=0", "--min-pwd-length=1", "--min-pwd-age=0", "--max-pwd-age=0"],
         what="samba-tool domain passwordsettings set")
    for name, password in USERS.items():
        _run([samba_tool, "user", "create", name, password, "-s", conf],
             what="samba-tool user create %s" % name)


# --------------------------------------------------------------------------- ports

def _bound_addresses() -> Set[str]:
    """IPv4 addresses some socket on this host is bound to (TCP listeners and UDP)."""
    found: Set[str] = set()
    for table, listen_only in (("/proc/net/tcp", True), ("/proc/net/udp", False)):
        try:
            with open(table, "r", encoding="ascii") as fh:
                rows = fh.readlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) < 4 or (listen_only and fields[3] != "0A"):
                continue
            hexaddr = fields[1].split(":", 1)[0]
            found.add(socket.inet_ntoa(bytes.fromhex(hexaddr)[::-1]))
    return found


def _can_bind(ip: str, port: int, kind: int) -> bool:
    try:
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.bind((ip, port))
        return True
    except OSError:
        return False


def _choose_host() -> str:
    """The first 127.0.0.N (N >= 5) no socket on this host is bound to."""
    busy = _bound_addresses()
    for last in range(_FIRST_HOST, 255):
        ip = "127.0.0.%d" % last
        if ip not in busy and _can_bind(ip, 0, socket.SOCK_STREAM):
            return ip
    raise ADDCStartError("no free loopback address in 127.0.0.%d-254" % _FIRST_HOST)


def _free_port(ip: str, *, udp_too: bool = False, avoid: Sequence[int] = ()) -> int:
    """A port free on every address (the wildcard bind checks them all), also for UDP when
    *udp_too* (the KDC listens on both)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("", 0))
            port = int(sock.getsockname()[1])
        if port in avoid:
            continue
        if udp_too and not (_can_bind("", port, socket.SOCK_DGRAM)
                            and _can_bind(ip, port, socket.SOCK_DGRAM)):
            continue
        return port
    raise ADDCStartError("no free port found")


# --------------------------------------------------------------------------- processes

def _children_of() -> Dict[int, List[int]]:
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as fh:
                stat = fh.read()
            ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def _descendants(pid: int) -> List[int]:
    """*pid*'s live descendants (samba runs smbd and winbindd as children, which fork too)."""
    children = _children_of()
    found: List[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.append(child)
                todo.append(child)
    return found


def _process_group(pgid: int) -> List[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) == pgid:
                pids.append(int(entry))
        except OSError:
            continue
    return pids


class ADDCServer:
    """One Samba AD DC (KDC + SMB) on a free loopback address and free ports."""

    realm = REALM
    domain = DOMAIN
    hostname = HOSTNAME
    netbios_name = HOST_SHORT.upper()
    spn = "cifs/" + HOSTNAME
    admin_password = ADMIN_PASSWORD

    def __init__(self, *, host: Optional[str] = None,
                 extra_global: Optional[Mapping[str, str]] = None) -> None:
        self.requested_host = host
        self.extra_global: Dict[str, str] = dict(extra_global or {})
        self.users: Dict[str, str] = dict(USERS)
        self.host = ""
        self.smb_port = 0
        self.kdc_port = 0
        self.kpasswd_port = 0
        self.tmpdir = ""
        self.conf_path = ""
        self.krb5_conf = ""
        self.hosts_file = ""
        self.log_dir = ""
        self.provision_seconds = 0.0   # waiting for the template (0 when it was ready)
        self.copy_seconds = 0.0
        self.launch_seconds = 0.0      # samba started until SMB and KDC answer
        self.start_seconds = 0.0       # all of start(): provision (if any) + copy + launch
        self.pids: List[int] = []      # every process of the DC seen while it ran
        self.last_kinit: Optional["subprocess.CompletedProcess[str]"] = None
        self._samba: Optional[subprocess.Popen] = None
        self._env: Dict[str, str] = {}

    # ------------------------------------------------------------------ public API

    def __enter__(self) -> "ADDCServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return ("ADDCServer(%s, host=%s, smb_port=%d, kdc_port=%d, running=%s)"
                % (self.realm, self.host, self.smb_port, self.kdc_port, self.running))

    @property
    def running(self) -> bool:
        return self._samba is not None and self._samba.poll() is None

    @property
    def kdc(self) -> str:
        """``host:port`` of the KDC (TCP and UDP)."""
        return "%s:%d" % (self.host, self.kdc_port)

    def principal(self, user: str) -> str:
        return "%s@%s" % (user, self.realm)

    def start(self) -> "ADDCServer":
        if self._samba is not None:
            return self
        samba = find_samba()
        if samba is None:
            raise ADDCStartError("samba not found: " + _INSTALL_HINT)
        wrapper = find_nss_wrapper()
        if wrapper is None:
            raise ADDCStartError("libnss_wrapper not found: " + _INSTALL_HINT)
        began = time.monotonic()
        template, _seconds = provision_template()
        self.provision_seconds = time.monotonic() - began
        self.tmpdir = tempfile.mkdtemp(prefix="smbwire-addc-")
        atexit.register(self.stop)
        try:
            copied = time.monotonic()
            self._copy_tree(template)
            self.copy_seconds = time.monotonic() - copied
            self.host = self.requested_host or _choose_host()
            self._prepare_env(wrapper)
            last_error: Optional[ADDCStartError] = None
            # A port chosen as free can be taken before samba binds it: retry with new ones.
            for attempt in range(3):
                self._choose_ports()
                self._write_files()
                try:
                    self._launch(samba, attempt)
                    last_error = None
                    break
                except ADDCStartError as err:
                    last_error = err
                    self._stop_processes()
            if last_error is not None:
                raise last_error
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop every process of the DC (SIGTERM, SIGKILL after a timeout) and remove the
        temporary directory (kept with ``SMBWIRE_KEEP_SAMBA=1``)."""
        self._stop_processes()
        if self.tmpdir and os.path.isdir(self.tmpdir) and not os.environ.get("SMBWIRE_KEEP_SAMBA"):
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        try:
            atexit.unregister(self.stop)
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def restart(self) -> None:
        """Stop the processes and start them again with the current options (same tree,
        address and ports when they are still free)."""
        samba = find_samba()
        assert samba is not None and self.tmpdir
        self._stop_processes()
        began = time.monotonic()
        last_error: Optional[ADDCStartError] = None
        for attempt in range(3):
            if attempt:
                self._choose_ports()
            self._write_files()
            try:
                self._launch(samba, attempt + 10)
                last_error = None
                break
            except ADDCStartError as err:
                last_error = err
                self._stop_processes()
        if last_error is not None:
            raise last_error
        self.launch_seconds = time.monotonic() - began

    def set_option(self, name: str, value: Optional[str]) -> None:
        """Set (None: drop) a ``[global]`` option and restart the DC if it is running, e.g.
        ``set_option("kdc supported enctypes", "aes256-cts-hmac-sha1-96
        aes128-cts-hmac-sha1-96")`` to refuse RC4. A restart takes about a second."""
        if value is None:
            self.extra_global.pop(name, None)
        else:
            self.extra_global[name] = value
        if self.running:
            self.restart()
        elif self.tmpdir:
            self._write_files()

    def env(self, ccache: Optional[str] = None) -> Dict[str, str]:
        """Environment for MIT kinit/klist, smbclient or a Python client run against this DC:
        ``KRB5_CONFIG``, a ccache of its own (*ccache*, default one in :attr:`tmpdir`) and
        nss_wrapper so that :attr:`hostname` resolves to :attr:`host`."""
        env = dict(self._env)
        env["KRB5CCNAME"] = "FILE:" + (ccache or os.path.join(self.tmpdir, "ccache", "default"))
        return env

    def kinit(self, user: str, password: str, ccache_path: str,
              enctypes: Optional[Sequence[str]] = None, *,
              check: bool = True, timeout: float = 30.0) -> str:
        """Get a TGT for *user* with MIT ``kinit`` into *ccache_path* and return that path.

        *enctypes* (e.g. ``["arcfour-hmac"]``) restricts what the client asks for, through a
        krb5.conf of its own (``default_tkt_enctypes``, ``default_tgs_enctypes``,
        ``permitted_enctypes``). With *check* False a failure returns the path anyway; the
        completed process is kept in :attr:`last_kinit`.
        """
        kinit = _find_program("kinit")
        if kinit is None:
            raise ADDCStartError("kinit not found (krb5-user): " + _INSTALL_HINT)
        env = self.env(ccache_path)
        if enctypes:
            env["KRB5_CONFIG"] = self._krb5_conf_for(enctypes)
        principal = user if "@" in user else self.principal(user)
        result = subprocess.run([kinit, "-c", "FILE:" + ccache_path, principal],
                                input=password + "\n", capture_output=True, text=True,
                                env=env, timeout=timeout, check=False)
        self.last_kinit = result
        if check and result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, result.args, result.stdout,
                                                result.stderr)
        return ccache_path

    def klist(self, ccache_path: str, *args: str) -> "subprocess.CompletedProcess[str]":
        """MIT ``klist -c ccache_path args`` (``-e`` shows enctypes); not checked."""
        klist = _find_program("klist") or "klist"
        return subprocess.run([klist, "-c", "FILE:" + ccache_path, *args], capture_output=True,
                              text=True, env=self.env(ccache_path), timeout=30, check=False,
                              stdin=subprocess.DEVNULL)

    def smbclient(self, share: str, command: str, *, user: Optional[str] = "alice",
                  password: Optional[str] = None, ccache: Optional[str] = None,
                  kerberos: str = "required", extra: Sequence[str] = (),
                  check: bool = True, timeout: float = 60.0) -> "subprocess.CompletedProcess[str]":
        """Samba's ``smbclient //hostname/share -I host -p smb_port`` with Kerberos.

        With *ccache* the ticket cache is used (``--use-krb5-ccache``); otherwise *user* logs
        on with *password* (default: the user's known one).
        """
        args = ["smbclient", "-s", "/dev/null", "//%s/%s" % (self.hostname, share),
                "-I", self.host, "-p", str(self.smb_port), "--use-kerberos=" + kerberos]
        if ccache is not None:
            args.append("--use-krb5-ccache=FILE:" + ccache)
        elif user is not None:
            secret = password if password is not None else self.users.get(user, "")
            args += ["-U", "%s%%%s" % (user if "@" in user else self.principal(user), secret)]
        args += ["-c", command, *extra]
        result = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                env=self.env(ccache), timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, args, result.stdout,
                                                result.stderr)
        return result

    def samba_tool(self, *args: str, check: bool = True,
                   timeout: float = 120.0) -> "subprocess.CompletedProcess[str]":
        """``samba-tool ARGS -s <this DC's smb.conf>`` (local database access)."""
        tool = _find_program("samba-tool")
        if tool is None:
            raise ADDCStartError("samba-tool not found: " + _INSTALL_HINT)
        argv = [tool, *args, "-s", self.conf_path]
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                env=self._env, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, argv, result.stdout,
                                                result.stderr)
        return result

    def add_user(self, name: str, password: str) -> None:
        """Create a domain user (kept in :attr:`users`)."""
        self.samba_tool("user", "create", name, password)
        self.users[name] = password

    def export_keytab(self, principal: str, path: str) -> str:
        """Write the keys of *principal* (e.g. :attr:`spn` or ``alice``) to keytab *path*."""
        self.samba_tool("domain", "exportkeytab", path, "--principal=" + principal)
        return path

    def share_path(self, share: str = "data") -> str:
        return os.path.join(self.tmpdir, "shares", share)

    def log_tail(self, name: str = "samba", lines: int = 40) -> str:
        """The last lines of ``log/log.<name>`` (samba, smbd, winbindd, kdc ...)."""
        return _tail(os.path.join(self.log_dir, "log." + name), lines)

    # ------------------------------------------------------------------ setup

    def _copy_tree(self, template: str) -> None:
        os.chmod(self.tmpdir, 0o755)
        # copy2 keeps modes and extended attributes (sysvol's NT ACLs live in xattrs).
        shutil.copytree(template, self.tmpdir, symlinks=True, dirs_exist_ok=True)
        self.conf_path = os.path.join(self.tmpdir, "etc", "smb.conf")
        self.krb5_conf = os.path.join(self.tmpdir, "krb5.conf")
        self.hosts_file = os.path.join(self.tmpdir, "nss", "hosts")
        self.log_dir = os.path.join(self.tmpdir, "log")
        for sub in ("log", "nss", "ccache", "shares", "home"):
            os.makedirs(os.path.join(self.tmpdir, sub), exist_ok=True)
        os.makedirs(self.share_path("data"), exist_ok=True)
        os.chmod(os.path.join(self.tmpdir, "shares"), 0o755)
        os.chmod(self.share_path("data"), 0o777)
        os.chmod(os.path.join(self.tmpdir, "ccache"), 0o700)
        self._make_traversable(self.tmpdir)

    @staticmethod
    def _make_traversable(path: str) -> None:
        path = os.path.abspath(path)
        while True:
            try:
                mode = os.stat(path).st_mode
                if mode & 0o011 != 0o011:
                    os.chmod(path, mode | 0o011)
            except PermissionError:
                pass
            parent = os.path.dirname(path)
            if parent == path:
                return
            path = parent

    def _prepare_env(self, wrapper: str) -> None:
        nss = os.path.join(self.tmpdir, "nss")
        for name in ("passwd", "group"):
            target = os.path.join(nss, name)
            try:
                shutil.copyfile("/etc/" + name, target)
            except OSError:
                with open(target, "w", encoding="ascii") as fh:
                    fh.write("root:x:0:0:root:/root:/bin/sh\n" if name == "passwd"
                             else "root:x:0:\n")
            os.chmod(target, 0o644)
        with open(self.hosts_file, "w", encoding="ascii") as fh:
            fh.write("%s %s %s\n" % (self.host, self.hostname, HOST_SHORT))
        os.chmod(self.hosts_file, 0o644)
        env = dict(os.environ)
        preload = env.get("LD_PRELOAD", "")
        env["LD_PRELOAD"] = wrapper + (" " + preload if preload else "")
        env["NSS_WRAPPER_PASSWD"] = os.path.join(nss, "passwd")
        env["NSS_WRAPPER_GROUP"] = os.path.join(nss, "group")
        env["NSS_WRAPPER_HOSTS"] = self.hosts_file
        env["KRB5_CONFIG"] = self.krb5_conf
        # smbd's winbind client ignores "winbindd socket directory"; with nss_wrapper active
        # it honours this variable instead. Without it Kerberos session setups fail with
        # NT_STATUS_INTERNAL_ERROR.
        env["SELFTEST_WINBINDD_SOCKET_DIR"] = os.path.join(self.tmpdir, "winbindd")
        for name in ("KRB5CCNAME", "KRB5_KTNAME", "KRB5_CLIENT_KTNAME"):
            env.pop(name, None)
        self._env = env

    def _choose_ports(self) -> None:
        self.kdc_port = _free_port(self.host, udp_too=True)
        self.kpasswd_port = _free_port(self.host, udp_too=True, avoid=(self.kdc_port,))
        self.smb_port = _free_port(self.host, avoid=(self.kdc_port, self.kpasswd_port))

    def _krb5_conf_text(self, extra_libdefaults: Sequence[str] = ()) -> str:
        lines = [
            "[libdefaults]",
            "    default_realm = %s" % self.realm,
            "    dns_lookup_kdc = false",
            "    dns_lookup_realm = false",
            "    rdns = false",
            "    dns_canonicalize_hostname = false",
            "    ignore_acceptor_hostname = false",
        ]
        lines += ["    " + line for line in extra_libdefaults]
        lines += [
            "",
            "[realms]",
            "    %s = {" % self.realm,
            "        kdc = %s:%d" % (self.host, self.kdc_port),
            "        kpasswd_server = %s:%d" % (self.host, self.kpasswd_port),
            "    }",
            "",
            "[domain_realm]",
            "    .%s = %s" % (self.hostname.split(".", 1)[1], self.realm),
            "    %s = %s" % (self.hostname.split(".", 1)[1], self.realm),
        ]
        return "\n".join(lines) + "\n"

    def _krb5_conf_for(self, enctypes: Sequence[str]) -> str:
        names = " ".join(enctypes)
        path = os.path.join(self.tmpdir, "krb5-%s.conf"
                            % hashlib.sha1(names.encode()).hexdigest()[:10])
        text = self._krb5_conf_text(["default_tkt_enctypes = " + names,
                                     "default_tgs_enctypes = " + names,
                                     "permitted_enctypes = " + names,
                                     "allow_weak_crypto = true"])
        with open(path, "w", encoding="ascii") as fh:
            fh.write(text)
        os.chmod(path, 0o644)
        return path

    def _write_files(self) -> None:
        with open(self.conf_path, "w", encoding="utf-8") as fh:
            fh.write(_render_conf(self.tmpdir, host=self.host, smb_port=self.smb_port,
                                  kdc_port=self.kdc_port, kpasswd_port=self.kpasswd_port,
                                  extra_global=self.extra_global))
        os.chmod(self.conf_path, 0o644)
        with open(self.krb5_conf, "w", encoding="ascii") as fh:
            fh.write(self._krb5_conf_text())
        os.chmod(self.krb5_conf, 0o644)

    # ------------------------------------------------------------------ processes

    def _set_logs_aside(self, attempt: int) -> None:
        for name in os.listdir(self.log_dir):
            path = os.path.join(self.log_dir, name)
            if os.path.isfile(path) and ".attempt" not in name:
                os.replace(path, "%s.attempt%d" % (path, attempt))

    def _launch(self, samba: str, attempt: int) -> None:
        if attempt:
            self._set_logs_aside(attempt)
        began = time.monotonic()
        out: IO[bytes] = open(os.path.join(self.log_dir, "samba.stdout"), "ab")
        try:
            # -M single: one process for the AD services (smbd and winbindd still run as
            # children). --maximum-runtime ends a DC that a killed test run left behind.
            self._samba = subprocess.Popen(
                [samba, "--foreground", "--no-process-group", "-M", "single",
                 "-s", self.conf_path, "-l", self.log_dir,
                 "--maximum-runtime=%d" % _MAX_RUNTIME],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=self._env,
                start_new_session=True, close_fds=True)
        finally:
            out.close()
        self.pids = [self._samba.pid]
        deadline = time.monotonic() + _START_TIMEOUT
        self._wait_listening(self.smb_port, "SMB", deadline)
        self._wait_listening(self.kdc_port, "KDC", deadline)
        self._wait_winbindd(deadline)
        self._remember_pids()
        self.launch_seconds = time.monotonic() - began

    def _remember_pids(self) -> None:
        if self._samba is None or self._samba.returncode is not None:
            return
        for pid in _descendants(self._samba.pid) + _process_group(self._samba.pid):
            if pid not in self.pids:
                self.pids.append(pid)

    def _start_failure(self, what: str) -> ADDCStartError:
        assert self._samba is not None
        status = self._samba.poll()
        return ADDCStartError(
            "%s (samba %s)\n--- samba stdout ---\n%s--- log.samba ---\n%s--- log.smbd ---\n%s"
            % (what, "exited with status %s" % status if status is not None else "running",
               _tail(os.path.join(self.log_dir, "samba.stdout")), self.log_tail("samba"),
               self.log_tail("smbd")))

    def _wait_listening(self, port: int, what: str, deadline: float) -> None:
        """Wait until a process of this DC (not someone else) listens on TCP *port* and a
        connection to it succeeds."""
        assert self._samba is not None
        while True:
            if self._samba.poll() is not None:
                raise self._start_failure("%s port %d never listened" % (what, port))
            mine: Set[str] = set()
            for pid in [self._samba.pid] + _descendants(self._samba.pid):
                mine |= _socket_inodes(pid)
            if _listening_inodes(port) & mine:
                try:
                    with socket.create_connection((self.host, port), timeout=1.0):
                        return
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise self._start_failure("%s did not listen on %s:%d within %.0f s"
                                          % (what, self.host, port, _START_TIMEOUT))
            for name in ("samba", "smbd"):
                if "Failed to bind" in self.log_tail(name, 200) \
                        or "open_socket_in failed" in self.log_tail(name, 200):
                    raise self._start_failure("%s could not bind its ports" % what)
            time.sleep(0.02)

    def _wait_winbindd(self, deadline: float) -> None:
        """smbd maps the session's SIDs through winbindd: wait until its socket answers."""
        pipe = os.path.join(self.tmpdir, "winbindd", "pipe")
        while True:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(1.0)
                    sock.connect(pipe)
                return
            except OSError:
                pass
            if self._samba is not None and self._samba.poll() is not None:
                raise self._start_failure("winbindd never answered on %s" % pipe)
            if time.monotonic() > deadline:
                raise self._start_failure("winbindd did not answer on %s within %.0f s"
                                          % (pipe, _START_TIMEOUT))
            time.sleep(0.02)

    def _stop_processes(self) -> None:
        proc = self._samba
        if proc is None:
            return
        self._remember_pids()
        pids = [pid for pid in self.pids if pid_alive(pid)]
        # All at once: each takes ~2 s to go down on SIGTERM.
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + _STOP_TIMEOUT
        while time.monotonic() < deadline:
            # (no proc.poll() here: samba's unreaped zombie keeps its PID, and so the
            # process group id killed below, from being reused)
            if not any(pid_alive(pid) for pid in pids):
                break
            time.sleep(0.02)
        self._remember_pids()  # anything forked while going down
        for pid in self.pids:
            if pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the session we gave samba
            except (ProcessLookupError, PermissionError):
                pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._samba = None
