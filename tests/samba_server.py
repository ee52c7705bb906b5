"""A throwaway Samba ``smbd`` (and optionally ``nmbd``) on loopback, for tests and benchmarks.

Everything the server needs lives in one temporary directory: its ``smb.conf``, the
private/lock/state/cache directories, the passdb, the logs and the shares. The system's own
Samba configuration is never read. Test users exist only for the Samba processes, through
``libnss_wrapper`` (``useradd --system`` is the fallback when the wrapper is not installed).

Usage::

    with SambaServer(max_protocol="SMB3_11", signing="mandatory") as server:
        server.smbclient("data", "ls")

Shares:

``data``      writable, for :attr:`SambaServer.user` only
``public``    writable, guests allowed
``readonly``  read only, holds ``hello.txt`` (:data:`HELLO_TEXT`)
``snapshots`` ``shadow_copy2`` with two snapshots (:attr:`SambaServer.snapshot_times`);
              ``report.txt`` exists in both snapshots and in the live share, each with
              different content (:data:`SNAPSHOT_FILE`, :meth:`SambaServer.snapshot_text`)
``IPC$``      as always; share enumeration over srvsvc works (``samba-dcerpcd`` on demand)
"""
from __future__ import annotations

import atexit
import datetime as _dt
import glob
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from typing import IO, Dict, List, Mapping, Optional, Sequence, Set, Tuple

__all__ = [
    "SambaServer",
    "SambaStartError",
    "find_smbd",
    "find_nss_wrapper",
    "nbns_name_query",
    "nmbd_available",
    "pid_alive",
    "processes_naming",
    "stop_session",
    "HELLO_TEXT",
    "SNAPSHOT_FILE",
]

HELLO_TEXT = b"Hello from the smbwire test server.\n"
SNAPSHOT_FILE = "report.txt"

_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
_SNAPSHOT_TIMES = (
    _dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=_dt.timezone.utc),
    _dt.datetime(2024, 6, 15, 12, 30, 0, tzinfo=_dt.timezone.utc),
)
_GMT_FORMAT = "@GMT-%Y.%m.%d-%H.%M.%S"
_START_TIMEOUT = 15.0
_NMBD_TIMEOUT = 15.0


class SambaStartError(RuntimeError):
    """smbd or nmbd did not come up; the message carries the tail of its log."""


def _find_program(name: str) -> Optional[str]:
    found = shutil.which(name)
    if found:
        return found
    for directory in _SBIN_DIRS:
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def find_smbd() -> Optional[str]:
    """Path of the ``smbd`` binary, or None (``/usr/sbin`` is often not on a user's PATH).

    ``SMBWIRE_SMBD=/path/to/smbd`` overrides the search (a path that does not exist makes
    smbd "missing", which is how the CI failure path can be checked).
    """
    override = os.environ.get("SMBWIRE_SMBD")
    if override:
        return override if os.access(override, os.X_OK) else None
    return _find_program("smbd")


def find_nss_wrapper() -> Optional[str]:
    """Path of ``libnss_wrapper.so`` (Debian package ``libnss-wrapper``), or None."""
    patterns = (
        "/usr/lib/*/libnss_wrapper.so*",
        "/usr/lib/libnss_wrapper.so*",
        "/usr/lib64/libnss_wrapper.so*",
        "/usr/local/lib/libnss_wrapper.so*",
    )
    for pattern in patterns:
        for candidate in sorted(glob.glob(pattern)):
            if os.path.isfile(candidate):
                return candidate
    return None


def _free_port(kind: int) -> int:
    """A port nobody has bound on any address (binding the wildcard address checks them all)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("", 0))
        return int(sock.getsockname()[1])


def _encode_netbios_name(name: str, suffix: int) -> bytes:
    """First-level encoding of a NetBIOS name, RFC 1001 section 14.1 / RFC 1002 section 4.1."""
    raw = name.upper().encode("ascii")[:15].ljust(15, b" ") + bytes([suffix])
    halves = bytearray()
    for byte in raw:
        halves.append(0x41 + (byte >> 4))
        halves.append(0x41 + (byte & 0x0F))
    return bytes([32]) + bytes(halves) + b"\x00"


def nbns_name_query(name: str, ip: str, port: int, *, suffix: int = 0x20,
                    timeout: float = 1.0) -> List[str]:
    """Send one unicast NAME QUERY REQUEST (RFC 1002 section 4.2.12) and return the addresses.

    A deliberately tiny probe, independent of the library under test. Returns [] when no
    positive answer arrives within *timeout*.
    """
    transaction_id = int.from_bytes(os.urandom(2), "big")
    # Header: id, flags (opcode query, recursion desired), 1 question, no other records.
    request = struct.pack(">HHHHHH", transaction_id, 0x0100, 1, 0, 0, 0)
    request += _encode_netbios_name(name, suffix) + struct.pack(">HH", 0x0020, 0x0001)
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(request, (ip, port))
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            sock.settimeout(remaining)
            try:
                data, _ = sock.recvfrom(2048)
            except socket.timeout:
                return []
            if len(data) < 12:
                continue
            resp_id, flags, _qd, ancount, _ns, _ar = struct.unpack_from(">HHHHHH", data)
            if resp_id != transaction_id or not flags & 0x8000:
                continue
            if flags & 0x000F or ancount == 0:
                return []
            return _parse_query_answer(data)


def _parse_query_answer(data: bytes) -> List[str]:
    offset = 12
    if offset >= len(data):
        return []
    if data[offset] & 0xC0 == 0xC0:  # compressed pointer (not used by nmbd, but legal)
        offset += 2
    else:
        while offset < len(data) and data[offset] != 0:
            offset += 1 + data[offset]
        offset += 1
    if offset + 10 > len(data):
        return []
    _rtype, _rclass, _ttl, rdlength = struct.unpack_from(">HHIH", data, offset)
    offset += 10
    end = min(offset + rdlength, len(data))
    addresses = []
    while offset + 6 <= end:
        addresses.append(socket.inet_ntoa(data[offset + 2:offset + 6]))
        offset += 6
    return addresses


def _can_bind_udp(ip: str) -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((ip, 0))
        return True
    except OSError:
        return False


def nmbd_available() -> bool:
    """True when ``nmbd`` is installed and this host lets us bind 127.0.0.2."""
    return _find_program("nmbd") is not None and _can_bind_udp("127.0.0.2")


def _tail(path: str, lines: int = 40) -> str:
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as fh:
            return "".join(fh.readlines()[-lines:])
    except OSError:
        return "(no log at %s)" % path


def processes_naming(text: str) -> List[int]:
    """PIDs of processes whose command line contains *text* (used for samba-dcerpcd)."""
    pids = []
    needle = text.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as fh:
                cmdline = fh.read()
        except OSError:
            continue
        if needle in cmdline:
            pids.append(int(entry))
    return pids


def _listening_inodes(port: int) -> Set[str]:
    """Socket inodes listening on TCP *port* (IPv4 or IPv6), from /proc/net."""
    inodes: Set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, "r", encoding="ascii") as fh:
                rows = fh.readlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # fields: sl local_address rem_address st ... uid timeout inode
            if len(fields) < 10 or fields[3] != "0A":
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _socket_inodes(pid: int) -> Set[str]:
    """Inodes of the sockets process *pid* holds open."""
    inodes: Set[str] = set()
    fd_dir = "/proc/%d/fd" % pid
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes
    for name in names:
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def pid_alive(pid: int) -> bool:
    """True while *pid* exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        with open("/proc/%d/stat" % pid, "rb") as fh:
            return fh.read().split(b") ", 1)[1][:1] != b"Z"
    except (OSError, IndexError):
        return False


def _terminate(pids: Sequence[int], timeout: float = 5.0) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.02)
    for pid in pids:
        if pid_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def stop_session(proc: "subprocess.Popen") -> None:
    """Stop a child started with ``start_new_session=True`` and everything in its
    process group (its pgid is its PID): SIGTERM, then SIGKILL after 5 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


class SambaServer:
    """One private smbd (plus nmbd on request) listening on free ports on loopback."""

    host = "127.0.0.1"
    nmb_ip = "127.0.0.2"
    user = "smbuser"
    password = "Secr3t-pass"

    def __init__(self, *, min_protocol: str = "NT1", max_protocol: str = "SMB3_11",
                 signing: str = "auto", encrypt: str = "off", ntlm_auth: bool = True,
                 nmbd: bool = False, netbios_name: str = "SMBWIRETEST",
                 workgroup: str = "WORKGROUP",
                 extra_global: Optional[Mapping[str, str]] = None,
                 host: Optional[str] = None, port: Optional[int] = None,
                 extra_shares: Sequence[Tuple[str, Sequence[Tuple[str, str]]]] = ()) -> None:
        if signing not in ("auto", "mandatory", "disabled"):
            raise ValueError("signing must be auto, mandatory or disabled: %r" % signing)
        if encrypt not in ("off", "desired", "required"):
            raise ValueError("encrypt must be off, desired or required: %r" % encrypt)
        self.min_protocol = min_protocol
        self.max_protocol = max_protocol
        self.signing = signing
        self.encrypt = encrypt
        self.ntlm_auth = ntlm_auth
        self.nmbd = nmbd
        self.netbios_name = netbios_name.upper()
        self.workgroup = workgroup.upper()
        self.extra_global: Dict[str, str] = dict(extra_global or {})
        if host is not None:
            self.host = host  # another loopback address (DFS targets need port 445 each)
        self.fixed_port = port
        #: More shares: ``(name, [(option, value), ...])``; a ``path`` option defaults to
        #: :meth:`share_path` and the directory is created.
        self.extra_shares = [(name, list(options)) for name, options in extra_shares]
        self.port = 0
        self.netbios_port = 0
        self.nmb_port = 0
        self.nmbd_running = False
        self.tmpdir = ""
        self.conf_path = ""
        self.log_dir = ""
        self.snapshot_times: List[_dt.datetime] = list(_SNAPSHOT_TIMES)
        self.start_seconds = 0.0
        self._env: Dict[str, str] = {}
        self._smbd: Optional[subprocess.Popen] = None
        self._nmbd: Optional[subprocess.Popen] = None
        self._uid = 0
        self._gid = 0

    # ------------------------------------------------------------------ public API

    def __enter__(self) -> "SambaServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return ("SambaServer(%s..%s, signing=%s, encrypt=%s, port=%d, nmbd=%s)"
                % (self.min_protocol, self.max_protocol, self.signing, self.encrypt,
                   self.port, self.nmbd_running))

    def start(self) -> "SambaServer":
        if self._smbd is not None:
            return self
        smbd = find_smbd()
        if smbd is None:
            raise SambaStartError("smbd not found: install samba (e.g. `bash tests/bootstrap.sh deps`)")
        began = time.monotonic()
        self.tmpdir = tempfile.mkdtemp(prefix="smbwire-samba-")
        atexit.register(self.stop)
        try:
            self._prepare_tree()
            self._prepare_users()
            last_error: Optional[SambaStartError] = None
            # A port chosen as free can be taken by someone else before smbd binds it: retry.
            for _attempt in range(3):
                self._choose_ports()
                self._write_config()
                if _attempt == 0:
                    self._add_passdb_user()
                else:
                    self._set_logs_aside(_attempt)
                try:
                    self._start_daemons(smbd)
                    last_error = None
                    break
                except SambaStartError as err:
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
        self._stop_processes()
        if self.tmpdir and os.path.isdir(self.tmpdir) and not os.environ.get("SMBWIRE_KEEP_SAMBA"):
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        try:
            atexit.unregister(self.stop)
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def kill_daemons(self) -> None:
        """Kill smbd (and nmbd) and every connection they serve, keeping the configuration,
        the state and the shares' files: :meth:`restart_daemons` brings the same server back."""
        self._stop_processes()

    def restart_daemons(self) -> None:
        """Start the daemons again after :meth:`kill_daemons`, on the same ports."""
        smbd = find_smbd()
        assert smbd is not None and self._smbd is None
        self._start_daemons(smbd)

    def share_path(self, share: str) -> str:
        """The local directory that backs *share*."""
        return os.path.join(self.tmpdir, "shares", share)

    def snapshot_dir(self, when: _dt.datetime) -> str:
        """The local directory holding the snapshot taken at *when*."""
        return os.path.join(self.tmpdir, "snapdir", when.strftime(_GMT_FORMAT))

    @staticmethod
    def gmt_token(when: _dt.datetime) -> str:
        """``@GMT-YYYY.MM.DD-HH.MM.SS`` for a snapshot time (the name SMB clients use)."""
        return when.strftime(_GMT_FORMAT)

    @staticmethod
    def snapshot_text(index: Optional[int]) -> bytes:
        """Content of :data:`SNAPSHOT_FILE` in snapshot *index* (None: the live share)."""
        if index is None:
            return b"report: live version\n"
        return ("report: snapshot %d\n" % (index + 1)).encode()

    def smbclient(self, share: Optional[str], command: Optional[str] = None, *,
                  user: bool = True, protocol: Optional[str] = None,
                  extra: Sequence[str] = (), check: bool = True,
                  host: Optional[str] = None, port: Optional[int] = None,
                  timeout: float = 60.0) -> "subprocess.CompletedProcess[str]":
        """Run Samba's ``smbclient`` against this server and return the completed process.

        *share* None lists shares (``-L``). *user* False logs on as guest (``-N``).
        *protocol* forces a maximum dialect (``-m``), e.g. ``"NT1"`` or ``"SMB3_11"``.
        With *check*, a non-zero exit raises ``subprocess.CalledProcessError`` (output kept).
        """
        target_host = host or self.host
        args = ["smbclient", "-s", "/dev/null"]
        if share is None:
            args += ["-L", "//%s" % target_host]
        else:
            args.append("//%s/%s" % (target_host, share))
        args += ["-p", str(port or self.port)]
        if user:
            args += ["-U", "%s%%%s" % (self.user, self.password)]
        else:
            args.append("-N")
        if protocol is not None:
            args += ["-m", protocol]
            if protocol.upper() in ("NT1", "LANMAN1", "LANMAN2", "CORE", "COREPLUS"):
                args.append("--option=client min protocol=%s" % protocol)
        if command is not None:
            args += ["-c", command]
        args += list(extra)
        result = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, args, result.stdout,
                                                result.stderr)
        return result

    def log_tail(self, daemon: str = "smbd", lines: int = 40) -> str:
        """The last lines of ``log.smbd`` / ``log.nmbd`` (for failure messages)."""
        return _tail(os.path.join(self.log_dir, "log.%s" % daemon), lines)

    # ------------------------------------------------------------------ setup

    def _prepare_tree(self) -> None:
        root = self.tmpdir
        # mkdtemp gives 0700; smbd touches files as the logged-on user or nobody, so every
        # directory from / down to the shares must be traversable.
        self._make_traversable(root)
        for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc", "binddns",
                    "winbindd", "ntp_signd", "usershares", "log", "nss", "snapdir", "shares"):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
            os.chmod(os.path.join(root, sub), 0o755)
        os.chmod(os.path.join(root, "private"), 0o700)
        os.chmod(os.path.join(root, "usershares"), 0o1770)
        self.log_dir = os.path.join(root, "log")
        self.conf_path = os.path.join(root, "smb.conf")
        for share in ("data", "public", "readonly", "snapshots") + tuple(n for n, _ in self.extra_shares):
            os.makedirs(self.share_path(share), exist_ok=True)
        for share in ("data", "public"):
            os.chmod(self.share_path(share), 0o777)
        os.chmod(self.share_path("readonly"), 0o755)
        os.chmod(self.share_path("snapshots"), 0o755)
        hello = os.path.join(self.share_path("readonly"), "hello.txt")
        with open(hello, "wb") as fh:
            fh.write(HELLO_TEXT)
        os.chmod(hello, 0o644)
        self._write_snapshots()

    def _write_snapshots(self) -> None:
        share = self.share_path("snapshots")
        for index, when in enumerate(self.snapshot_times):
            snap = self.snapshot_dir(when)
            os.makedirs(snap, exist_ok=True)
            os.chmod(snap, 0o755)
            path = os.path.join(snap, SNAPSHOT_FILE)
            with open(path, "wb") as fh:
                fh.write(self.snapshot_text(index))
            os.chmod(path, 0o644)
            stamp = when.timestamp()
            os.utime(path, (stamp, stamp))
        live = os.path.join(share, SNAPSHOT_FILE)
        with open(live, "wb") as fh:
            fh.write(self.snapshot_text(None))
        os.chmod(live, 0o644)

    @staticmethod
    def _make_traversable(path: str) -> None:
        path = os.path.abspath(path)
        while True:
            try:
                mode = os.stat(path).st_mode
                if mode & 0o011 != 0o011:
                    os.chmod(path, mode | 0o011)
            except PermissionError:
                pass  # a parent we do not own: leave it, smbd may still manage
            parent = os.path.dirname(path)
            if parent == path:
                return
            path = parent

    def _prepare_users(self) -> None:
        wrapper = find_nss_wrapper()
        env = dict(os.environ)
        if wrapper is not None:
            self._uid = self._gid = self._unused_id()
            nss_dir = os.path.join(self.tmpdir, "nss")
            passwd = os.path.join(nss_dir, "passwd")
            group = os.path.join(nss_dir, "group")
            with open(passwd, "w", encoding="ascii") as fh:
                fh.write("root:x:0:0:root:/root:/bin/sh\n")
                fh.write("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
                fh.write("%s:x:%d:%d:smbwire test user:%s:/bin/false\n"
                         % (self.user, self._uid, self._gid, self.share_path("data")))
            with open(group, "w", encoding="ascii") as fh:
                fh.write("root:x:0:\n")
                fh.write("nogroup:x:65534:\n")
                fh.write("%s:x:%d:\n" % (self.user, self._gid))
            os.chmod(passwd, 0o644)
            os.chmod(group, 0o644)
            preload = env.get("LD_PRELOAD", "")
            env["LD_PRELOAD"] = wrapper + (" " + preload if preload else "")
            env["NSS_WRAPPER_PASSWD"] = passwd
            env["NSS_WRAPPER_GROUP"] = group
        else:
            self._ensure_system_user()
        self._env = env

    @staticmethod
    def _unused_id() -> int:
        for candidate in range(23000, 24000):
            try:
                pwd.getpwuid(candidate)
            except KeyError:
                return candidate
        return 23999

    def _ensure_system_user(self) -> None:
        # Without nss_wrapper the account is real and stays after the tests (another server
        # of this session may still be using it when one stops).
        try:
            entry = pwd.getpwnam(self.user)
        except KeyError:
            useradd = _find_program("useradd")
            if useradd is None:
                raise SambaStartError(
                    "neither libnss_wrapper nor useradd is available to create %r; "
                    "install libnss-wrapper" % self.user)
            subprocess.run([useradd, "--system", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", self.user], check=True,
                           capture_output=True)
            entry = pwd.getpwnam(self.user)
        self._uid, self._gid = entry.pw_uid, entry.pw_gid

    def _choose_ports(self) -> None:
        self.port = self.fixed_port or _free_port(socket.SOCK_STREAM)
        self.netbios_port = _free_port(socket.SOCK_STREAM)
        while self.netbios_port == self.port:
            self.netbios_port = _free_port(socket.SOCK_STREAM)
        self.nmb_port = _free_port(socket.SOCK_DGRAM) if self.nmbd else 0

    def _write_config(self) -> None:
        root = self.tmpdir
        interfaces = "%s/8" % self.host
        if self.nmbd:
            interfaces += " %s/8" % self.nmb_ip
        globals_: List[Tuple[str, str]] = [
            ("netbios name", self.netbios_name),
            ("workgroup", self.workgroup),
            ("server string", "smbwire test server"),
            ("server role", "standalone server"),
            ("interfaces", interfaces),
            ("bind interfaces only", "yes"),
            ("smb ports", "%d %d" % (self.port, self.netbios_port)),
            ("server min protocol", self.min_protocol),
            ("server max protocol", self.max_protocol),
            ("server signing", self.signing),
            ("server smb encrypt", self.encrypt),
            ("ntlm auth", "yes" if self.ntlm_auth else "ntlmv2-only"),
            ("raw NTLMv2 auth", "yes"),
            ("map to guest", "Bad User"),
            ("guest account", "nobody"),
            ("restrict anonymous", "0"),
            ("passdb backend", "tdbsam:%s" % os.path.join(root, "private", "passdb.tdb")),
            ("private dir", os.path.join(root, "private")),
            ("lock directory", os.path.join(root, "lock")),
            ("state directory", os.path.join(root, "state")),
            ("cache directory", os.path.join(root, "cache")),
            ("pid directory", os.path.join(root, "pid")),
            ("ncalrpc dir", os.path.join(root, "ncalrpc")),
            ("binddns dir", os.path.join(root, "binddns")),
            ("winbindd socket directory", os.path.join(root, "winbindd")),
            ("ntp signd socket directory", os.path.join(root, "ntp_signd")),
            ("usershare path", os.path.join(root, "usershares")),
            ("usershare max shares", "0"),
            ("log level", os.environ.get("SMBWIRE_SAMBA_LOG_LEVEL", "1")),
            ("max log size", "0"),
            ("load printers", "no"),
            ("printing", "bsd"),
            ("printcap name", "/dev/null"),
            ("disable spoolss", "yes"),
            ("kernel oplocks", "no"),
            ("smb1 unix extensions", "no"),
            ("dns proxy", "no"),
            ("local master", "no"),
            ("domain master", "no"),
            ("preferred master", "no"),
            ("wins support", "no"),
            ("disable netbios", "no"),
            ("host msdfs", "no"),
            ("create mask", "0666"),
            ("directory mask", "0777"),
        ]
        globals_ += sorted(self.extra_global.items())
        shares: List[Tuple[str, List[Tuple[str, str]]]] = [
            ("data", [("path", self.share_path("data")), ("comment", "writable, user only"),
                      ("read only", "no"), ("guest ok", "no"),
                      ("valid users", self.user)]),
            ("public", [("path", self.share_path("public")), ("comment", "writable, guests"),
                        ("read only", "no"), ("guest ok", "yes")]),
            ("readonly", [("path", self.share_path("readonly")), ("comment", "read only"),
                          ("read only", "yes"), ("guest ok", "yes")]),
            ("snapshots", [("path", self.share_path("snapshots")),
                           ("comment", "previous versions"),
                           ("read only", "no"), ("guest ok", "no"),
                           ("vfs objects", "shadow_copy2"),
                           ("shadow:snapdir", os.path.join(root, "snapdir")),
                           ("shadow:mountpoint", self.share_path("snapshots")),
                           ("shadow:format", _GMT_FORMAT),
                           ("shadow:sort", "desc"),
                           ("shadow:localtime", "no")]),
        ]
        for name, options in self.extra_shares:
            if not any(key == "path" for key, _ in options):
                options = [("path", self.share_path(name))] + options
            shares.append((name, options))
        lines = ["[global]"]
        lines += ["    %s = %s" % item for item in globals_]
        for name, options in shares:
            lines.append("")
            lines.append("[%s]" % name)
            lines += ["    %s = %s" % item for item in options]
        with open(self.conf_path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        os.chmod(self.conf_path, 0o644)

    def _add_passdb_user(self) -> None:
        smbpasswd = _find_program("smbpasswd")
        if smbpasswd is None:
            raise SambaStartError("smbpasswd not found: install samba-common-bin")
        result = subprocess.run(
            [smbpasswd, "-c", self.conf_path, "-a", "-s", self.user],
            input="%s\n%s\n" % (self.password, self.password), capture_output=True,
            text=True, env=self._env, timeout=30, check=False)
        if result.returncode != 0:
            raise SambaStartError("smbpasswd -a %s failed (%d): %s %s"
                                  % (self.user, result.returncode, result.stdout,
                                     result.stderr))

    def _set_logs_aside(self, attempt: int) -> None:
        """Keep a failed attempt's logs, out of the way of the next attempt's checks."""
        for name in os.listdir(self.log_dir):
            path = os.path.join(self.log_dir, name)
            if os.path.isfile(path) and ".attempt" not in name:
                os.replace(path, "%s.attempt%d" % (path, attempt))

    # ------------------------------------------------------------------ processes

    def _spawn(self, args: List[str], log_name: str) -> subprocess.Popen:
        out: IO[bytes] = open(os.path.join(self.log_dir, log_name), "ab")
        try:
            return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, env=self._env,
                                    start_new_session=True, close_fds=True)
        finally:
            out.close()

    def _start_daemons(self, smbd: str) -> None:
        self._smbd = self._spawn([smbd, "--foreground", "--no-process-group", "-s",
                                  self.conf_path, "-l", self.log_dir], "smbd.stdout")
        if self.nmbd:
            nmbd = _find_program("nmbd")
            if nmbd is None:
                raise SambaStartError("nmbd not found: install samba")
            # Samba treats exactly 127.0.0.1 as loopback and nmbd refuses to run with only
            # loopback interfaces, so nmbd gets 127.0.0.2 alone.
            self._nmbd = self._spawn([nmbd, "--foreground", "--no-process-group", "-s",
                                      self.conf_path, "-l", self.log_dir,
                                      "--option=interfaces=%s/8" % self.nmb_ip,
                                      "-p", str(self.nmb_port)], "nmbd.stdout")
        deadline = time.monotonic() + _START_TIMEOUT
        self._wait_tcp(self.port, deadline)
        self._wait_tcp(self.netbios_port, deadline)
        if self._nmbd is not None:
            self._wait_nmbd(time.monotonic() + _NMBD_TIMEOUT)

    def _wait_tcp(self, port: int, deadline: float) -> None:
        """Wait until smbd itself listens on *port* (someone else may hold a 'free' port)."""
        assert self._smbd is not None
        while True:
            if self._smbd.poll() is not None:
                raise SambaStartError(
                    "smbd exited with status %s before listening on port %d\n"
                    "--- smbd stdout ---\n%s--- log.smbd ---\n%s"
                    % (self._smbd.returncode, port,
                       _tail(os.path.join(self.log_dir, "smbd.stdout")), self.log_tail()))
            if _listening_inodes(port) & _socket_inodes(self._smbd.pid):
                return
            log = self.log_tail(lines=200)
            if "open_socket_in failed" in log:
                # smbd keeps running on its other port when one is taken: start afresh.
                raise SambaStartError("smbd could not bind its ports %d/%d\n--- log.smbd ---\n%s"
                                      % (self.port, self.netbios_port, self.log_tail()))
            if time.monotonic() > deadline:
                raise SambaStartError("smbd did not listen on port %d within %.0f s\n"
                                      "--- log.smbd ---\n%s"
                                      % (port, _START_TIMEOUT, self.log_tail()))
            time.sleep(0.01)

    def _wait_nmbd(self, deadline: float) -> None:
        assert self._nmbd is not None
        while True:
            if self._nmbd.poll() is not None:
                raise SambaStartError(
                    "nmbd exited with status %s\n--- nmbd stdout ---\n%s--- log.nmbd ---\n%s"
                    % (self._nmbd.returncode, _tail(os.path.join(self.log_dir, "nmbd.stdout")),
                       self.log_tail("nmbd")))
            if nbns_name_query(self.netbios_name, self.nmb_ip, self.nmb_port, timeout=0.1):
                self.nmbd_running = True
                return
            if time.monotonic() > deadline:
                raise SambaStartError("nmbd did not answer a name query for %s within %.0f s\n"
                                      "--- log.nmbd ---\n%s"
                                      % (self.netbios_name, _NMBD_TIMEOUT,
                                         self.log_tail("nmbd")))

    def _stop_processes(self) -> None:
        pids: List[int] = []
        for proc in (self._smbd, self._nmbd):
            if proc is not None and proc.poll() is None:
                pids.append(proc.pid)
        # samba-dcerpcd (and its rpcd_* workers) are started by smbd on demand and leave our
        # process group; they name our smb.conf on their command line.
        if self.conf_path:
            pids += [p for p in processes_naming(self.conf_path) if p not in pids
                     and p != os.getpid()]
        if pids:
            _terminate(pids)
        for proc in (self._smbd, self._nmbd):
            if proc is not None:
                # Per-connection smbd children share the session we gave smbd.
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        self._smbd = None
        self._nmbd = None
        self.nmbd_running = False
