"""``smbwire``: a command-line SMB client in smbclient's habits, built on the public API.

::

    smbwire //HOST/SHARE [-U [DOMAIN\\]USER[%PASSWORD]] [-W DOMAIN] [-A AUTHFILE] [-N] [-k]
            [-m NT1|SMB2|SMB2_02|SMB2_10|SMB3|SMB3_00|SMB3_02|SMB3_11] [-e] [-p PORT] [--netbios]
            [-I IP] [-n MYNAME] [-D FOLDER] [-c "CMD; CMD"] [--json] [-q] [-t SECONDS] [-d LEVEL]
    smbwire -L HOST [options]                    list the shares
    smbwire get smb://[DOMAIN;]USER@HOST[:PORT]/SHARE/PATH [LOCAL]   (also put, ls, allinfo, ...)
    smbwire lookup NAME [SERVER-IP] | smbwire status IP     NetBIOS name service

Without ``-c`` the client reads commands: at a terminal with readline editing, history
and completion of command and remote names.  The commands, the password sources and the
exit status are described in docs/cli.rst; ``help`` lists the commands.

Everything goes through :class:`smb.SMBConnection.SMBConnection`,
:func:`smb.SMBHandler.parse_smb_url` and :class:`nmb.NetBIOS.NetBIOS`: the CLI has no
protocol code of its own.
"""
from __future__ import annotations

import argparse
import getpass
import ipaddress
import json
import logging
import os
import platform
import sys
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from . import __version__
from . import _cli_format as F
from ._cli_shell import COMMANDS, CommandError, ExitShell, Shell, error_line, netbios_lookup, netbios_status
from .exceptions import OperationFailure, SMBError
from .nt_status import LOGON_FAILURES, NtStatus

__all__ = ["main", "build_parser", "parse_user", "parse_service", "read_auth_file", "Credentials",
           "resolve_credentials", "MAX_PROTOCOLS"]

#: ``-m`` values: the highest SMB2/3 dialect revision allowed (None: SMB1, NT LM 0.12).
#: Like Samba, ``SMB2`` means 2.1 and ``SMB3`` means 3.1.1.
MAX_PROTOCOLS: Dict[str, Optional[int]] = {
    "NT1": None, "SMB2": 0x0210, "SMB2_02": 0x0202, "SMB2_10": 0x0210, "SMB3": 0x0311, "SMB3_00": 0x0300,
    "SMB3_02": 0x0302, "SMB3_11": 0x0311,
}
#: Commands that take ``smb://`` URLs in place of remote names (``smbwire get smb://...``).
URL_COMMANDS = frozenset(["ls", "dir", "get", "reget", "put", "reput", "mget", "mput", "mkdir", "md", "rmdir", "rd",
                          "deltree", "rm", "del", "rename", "ren", "mv", "stat", "allinfo", "snapshots"])
PASSWORD_ENV = "SMBWIRE_PASSWORD"
HISTORY_ENV = "SMBWIRE_HISTFILE"

log = logging.getLogger("SMB.cli")


# ---------------------------------------------------------------- arguments


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (smbclient's option letters where they exist)."""
    p = argparse.ArgumentParser(
        prog="smbwire", description="SMB client in smbclient's habits (pure Python, smbwire library)",
        epilog="Commands: %s.  Password: -U user%%pass, -A file, $%s, or a prompt."
        % (", ".join(sorted(set(c.usage.split()[0] for c in COMMANDS.values()))), PASSWORD_ENV))
    p.add_argument("words", nargs="*", metavar="//HOST/SHARE | COMMAND ARGS",
                   help="the service (//host/share, \\\\host\\share or smb://host/share), or a command "
                        "with smb:// URLs (get, put, ls, ...), or lookup NAME / status IP")
    p.add_argument("-U", "--user", metavar="USER",
                   help="[DOMAIN\\]USER[%%PASSWORD]: the user (and password; prefer -A, $" + PASSWORD_ENV
                        + " or the prompt)")
    p.add_argument("-W", "--workgroup", metavar="DOMAIN", help="domain or workgroup (realm with -k)")
    p.add_argument("-A", "--authentication-file", metavar="FILE",
                   help="file with username=, password=, domain= lines")
    p.add_argument("-N", "--no-pass", action="store_true", help="no password (guest or anonymous)")
    p.add_argument("-k", "--kerberos", action="store_true", help="log on with Kerberos (password or ccache)")
    p.add_argument("-m", "--max-protocol", metavar="PROTO", type=str.upper, choices=sorted(MAX_PROTOCOLS),
                   help="highest dialect: NT1 (SMB1 only), SMB2_02, SMB2_10, SMB3_00, SMB3_02, SMB3_11")
    p.add_argument("-e", "--encrypt", action="store_true", help="encrypt every message (SMB3)")
    p.add_argument("-p", "--port", type=int, help="TCP port (default 445, or 139 with --netbios)")
    p.add_argument("--netbios", action="store_true", help="NetBIOS session service (port 139 framing)")
    p.add_argument("-I", "--ip-address", metavar="IP", help="connect to this address; HOST is the server's name")
    p.add_argument("-n", "--netbiosname", metavar="NAME", help="this machine's NetBIOS name")
    p.add_argument("-L", "--list", metavar="HOST", help="list the shares of HOST")
    p.add_argument("-c", "--command", metavar="'CMD; CMD'", help="run these commands and exit")
    p.add_argument("-D", "--directory", metavar="FOLDER", help="start in this remote folder")
    p.add_argument("--json", action="store_true", help="JSON output for ls, stat, allinfo, shares, snapshots")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or transfer notices")
    p.add_argument("-t", "--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="per-request timeout (transfers get more time by size)")
    p.add_argument("--nbns-port", type=int, default=137, metavar="PORT",
                   help="UDP port of the NetBIOS name service (lookup, status)")
    p.add_argument("-d", "--debuglevel", type=int, default=0, metavar="LEVEL",
                   help="log to stderr: 1 info, 2 or more debug (secrets are never logged)")
    p.add_argument("-V", "--version", action="version", version="smbwire %s" % __version__)
    return p


def parse_user(text: str) -> Tuple[str, str, Optional[str]]:
    """``[DOMAIN\\]USER[%PASSWORD]`` (or ``DOMAIN/USER``) -> (domain, user, password or None)."""
    user, has_password, password = text.partition("%")
    domain = ""
    for sep in ("\\", "/"):
        if sep in user:
            domain, _, user = user.partition(sep)
            break
    return domain, user, (password if has_password else None)


def read_auth_file(path: str) -> Dict[str, str]:
    """smbclient's authentication file: ``username = ...``, ``password = ...``,
    ``domain = ...`` lines (blank lines and ``#`` comments ignored)."""
    out: Dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            stripped = line.strip()
            if not stripped or stripped.startswith(("#", ";")):
                continue
            key, sep, value = stripped.partition("=")
            key = key.strip().lower()
            if sep and key in ("username", "password", "domain"):
                out[key] = value.strip()
    if "username" in out:
        domain, user, _ = parse_user(out["username"])
        out["username"] = user
        if domain and "domain" not in out:
            out["domain"] = domain
    return out


@dataclass
class Credentials:
    """Who logs on; ``source`` says where the password came from (for the cmdline scrub)."""

    user: str
    domain: str
    password: str = field(repr=False)
    source: str = "none"


def ask_password(text: str) -> str:
    """Read the password on the terminal, without echo.  Without a terminal (a
    pipe, a job, CI) there is nobody to ask and echo cannot be turned off: the
    run fails with a one-line error that says where a password can come from."""
    try:
        with open("/dev/tty", "r"):
            pass
        have_tty = True
    except OSError:
        have_tty = sys.stdin is not None and sys.stdin.isatty()
    if not have_tty:
        raise CommandError("a password is needed and there is no terminal to ask for it: use -A FILE, "
                           "$%s, -U user%%pass, or -N for none" % PASSWORD_ENV)
    try:
        return getpass.getpass(text)
    except EOFError:
        raise CommandError("no password typed") from None


def resolve_credentials(args: argparse.Namespace, environ: Mapping[str, str],
                        prompt: Callable[[str], str] = ask_password,
                        url_user: Optional[Tuple[str, str, Optional[str]]] = None) -> Credentials:
    """User, domain and password from, in this order: ``-U user%pass`` (or a URL's user
    info), ``-A`` file, ``$SMBWIRE_PASSWORD``, a prompt.  ``-N`` and ``-k`` never prompt."""
    user: Optional[str] = None
    domain = ""
    password: Optional[str] = None
    source = "none"
    if args.authentication_file:
        auth = read_auth_file(args.authentication_file)
        user = auth.get("username")
        domain = auth.get("domain", "")
        if "password" in auth:
            password, source = auth["password"], "file"
    for given, where in ((url_user, "url"), (parse_user(args.user) if args.user is not None else None, "argv")):
        if given is None:
            continue
        given_domain, given_user, given_password = given
        user = given_user
        domain = given_domain or domain
        if given_password is not None:
            password, source = given_password, where
    if args.workgroup:
        domain = args.workgroup
    if user is None:
        user = "" if args.no_pass else (environ.get("USER") or environ.get("LOGNAME") or getpass.getuser())
    if password is None and environ.get(PASSWORD_ENV) is not None:
        password, source = environ[PASSWORD_ENV], "env"
    if password is None:
        if args.no_pass or args.kerberos or not user:
            password = ""
        else:
            label = "%s\\%s" % (domain, user) if domain else user
            password, source = prompt("Password for [%s]: " % label), "prompt"
    return Credentials(user, domain, password, source)


def hide_password_in_cmdline(password: str) -> bool:
    """Overwrite ``%password`` in this process's command line (``/proc/<pid>/cmdline``) with
    ``X``, as smbclient does with ``-U user%pass``.  Linux only, best effort: returns True
    when something was overwritten.  (Until this runs, right after start-up, the password
    is visible: prefer ``-A``, ``$SMBWIRE_PASSWORD`` or the prompt.)"""
    if not password or not sys.platform.startswith("linux"):
        return False
    secret = password.encode("utf-8", "surrogateescape")
    try:
        with open("/proc/self/stat", "rb") as fh:
            stat_line = fh.read()
        # Fields after "(comm)": field 3 is the first; arg_start and arg_end are fields 48 and 49.
        fields = stat_line[stat_line.rindex(b")") + 2:].split()
        start, end = int(fields[45]), int(fields[46])
        if not 0 < start < end or end - start > 1 << 20:
            return False
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            area = mem.read(end - start)
            hidden = area.replace(b"%" + secret, b"%" + b"X" * len(secret))
            args = hidden.split(b"\0")
            # A URL's password: user:password@host.
            hidden = b"\0".join(a.replace(b":" + secret + b"@", b":" + b"X" * len(secret) + b"@")
                                if a.lower().startswith(b"smb://") else a for a in args)
            if hidden == area:
                return False
            mem.seek(start)
            mem.write(hidden)
        return True
    except (OSError, ValueError, IndexError):
        return False


def parse_service(text: str) -> Tuple[str, str, str]:
    """``//host/share[/folder]`` or ``\\\\host\\share[\\folder]`` -> (host, share, folder)."""
    cleaned = text.replace("\\", "/")
    if not cleaned.startswith("//"):
        raise CommandError("the service must look like //host/share, not %r" % text)
    host, _, rest = cleaned[2:].partition("/")
    share, _, folder = rest.partition("/")
    if not host or not share:
        raise CommandError("the service must look like //host/share, not %r" % text)
    return host, share, folder.strip("/").replace("/", "\\")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------- connecting


@dataclass
class _Target:
    host: str
    share: str = ""
    folder: str = ""
    port: Optional[int] = None


def _connect(args: argparse.Namespace, target: _Target, creds: Credentials, err: IO[str]) -> Any:
    from . import smb_structs
    from .SMBConnection import SMBConnection
    max_dialect = MAX_PROTOCOLS.get(args.max_protocol) if args.max_protocol else None
    if args.max_protocol == "NT1":
        if args.encrypt:
            raise CommandError("-e (encryption) needs SMB3; -m NT1 forbids it")
        smb_structs.SUPPORT_SMB2 = False
    host = target.host.strip("[]")
    ip = args.ip_address or host
    remote_name = host if (args.ip_address or not _is_ip(host)) else "*SMBSERVER"
    my_name = args.netbiosname or (platform.node().split(".")[0][:15].upper() or "SMBWIRE")
    port = target.port or args.port or (139 if args.netbios else 445)
    conn = SMBConnection(creds.user, creds.password, my_name, remote_name, domain=creds.domain,
                         is_direct_tcp=not args.netbios, encrypt=args.encrypt,
                         smb2_only=bool(args.max_protocol and args.max_protocol != "NT1"),
                         use_kerberos=args.kerberos)
    try:
        ok = conn.connect(ip, port, timeout=args.timeout)
    except SMBError:
        conn.close()
        raise
    if not ok:
        status = getattr(conn.last_header, "status", None)
        raise OperationFailure("the server refused the logon", [],
                               status if status in LOGON_FAILURES else NtStatus.LOGON_FAILURE)
    dialect = getattr(conn.dialect, "dialect", None)
    log.info("logged on to %s:%d as %r: %s, signing %s%s", ip, port, creds.user, _dialect_name(dialect),
             "on" if conn.is_signing_active else "off", ", encryption asked for" if args.encrypt else "")
    if max_dialect is not None and isinstance(dialect, int) and dialect > max_dialect:
        # SMBConnection has no knob for the highest SMB2 revision it offers (yet).
        err.write("smbwire: warning: the server chose %s, above -m %s (smbwire offers 2.0.2 to 3.1.1 and "
                  "cannot cap the SMB2/3 revision)\n" % (_dialect_name(dialect), args.max_protocol))
    return conn


def _dialect_name(dialect: Any) -> str:
    if isinstance(dialect, int):
        return "SMB %d.%d.%d" % (dialect >> 8, (dialect >> 4) & 0xF, dialect & 0xF)
    return str(dialect)


def _setup_logging(level: int) -> None:
    if level <= 0:
        wanted = logging.WARNING
    elif level == 1:
        wanted = logging.INFO
    else:
        wanted = logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(wanted)


def _history_file(environ: Mapping[str, str]) -> Optional[str]:
    if HISTORY_ENV in environ:
        return environ[HISTORY_ENV] or None
    home = os.path.expanduser("~")
    return os.path.join(home, ".smbwire_history") if home and home != "~" else None


# ---------------------------------------------------------------- the modes


def _list_shares(args: argparse.Namespace, creds: Credentials, out: IO[str], err: IO[str]) -> int:
    host = args.list.replace("\\", "/").strip("/").split("/")[0]
    conn = _connect(args, _Target(host), creds, err)
    try:
        shares = conn.listShares(args.timeout)
    finally:
        conn.close()
    if args.json:
        out.write(json.dumps([F.share_dict(s) for s in shares], ensure_ascii=False) + "\n")
    else:
        for line in F.shares_table(shares):
            out.write(line + "\n")
    return 0


def _shell_for(args: argparse.Namespace, conn: Any, target: _Target, out: IO[str], err: IO[str]) -> Shell:
    progress = F.Progress(enabled=not args.quiet and out.isatty(), stream=err)
    return Shell(conn, target.share, target.host, out, progress, timeout=args.timeout, json_output=args.json,
                 quiet=args.quiet, nbns_port=args.nbns_port)


#: A server that cannot tell the attributes of the share root has still connected the tree.
_ROOT_STAT_UNSUPPORTED = frozenset([NtStatus.NOT_SUPPORTED, NtStatus.NOT_IMPLEMENTED, NtStatus.INVALID_INFO_CLASS,
                                    NtStatus.INVALID_DEVICE_REQUEST, NtStatus.INVALID_PARAMETER])


def _check_share(conn: Any, share: str, timeout: float) -> None:
    """Connect the tree now, so that a wrong share name fails before any command runs."""
    try:
        conn.getAttributes(share, "", timeout)
    except OperationFailure as err:
        if err.status not in _ROOT_STAT_UNSUPPORTED:
            raise


def _service_mode(args: argparse.Namespace, target: _Target, creds: Credentials, out: IO[str], err: IO[str],
                  stdin: IO[str], environ: Mapping[str, str]) -> int:
    what = "connect to \\\\%s\\%s" % (target.host, target.share)
    try:
        conn = _connect(args, target, creds, err)
    except (SMBError, CommandError, OSError) as failure:
        err.write(error_line(what, failure) + "\n")
        return 1
    try:
        try:
            _check_share(conn, target.share, args.timeout)
            shell = _shell_for(args, conn, target, out, err)
            start = args.directory or target.folder
            if start:
                shell.cmd_cd([start if start.startswith(("\\", "/")) else "\\" + start])
        except (SMBError, CommandError, OSError) as failure:
            err.write(error_line(what, failure) + "\n")
            return 1
        if args.command is not None:
            return shell.run_script(args.command, err)
        if stdin.isatty():
            out.write('Try "help" to get a list of possible commands.\n')
        return shell.interactive(stdin, err, _history_file(environ))
    finally:
        conn.close()


def _url_mode(args: argparse.Namespace, words: List[str], out: IO[str], err: IO[str], environ: Mapping[str, str],
              prompt: Callable[[str], str]) -> int:
    from urllib.error import URLError

    from .SMBHandler import parse_smb_url
    command = words[0].lower()
    what = " ".join(words)
    urls = []
    rest: List[str] = []
    try:
        for word in words[1:]:
            if word.lower().startswith("smb://"):
                url = parse_smb_url(word)
                urls.append(url)
                rest.append("\\" + url.path.replace("/", "\\"))
            else:
                rest.append(word)
    except URLError as failure:
        err.write("smbwire: %s: %s\n" % (what, failure.reason))
        return 2
    if not urls:
        err.write("smbwire: %s: give the remote side as an smb:// URL (or use //host/share -c)\n" % what)
        return 2
    first = urls[0]
    if any((u.host, u.port, u.share.lower()) != (first.host, first.port, first.share.lower()) for u in urls[1:]):
        err.write("smbwire: %s: all URLs must name the same server and share\n" % what)
        return 2
    if command in ("get", "reget") and len(rest) == 1:
        rest.append(first.path.rstrip("/").rsplit("/", 1)[-1] or ".")
    creds = resolve_credentials(args, environ, prompt,
                                url_user=(first.domain, first.username, first.password or None)
                                if first.username else None)
    if creds.source in ("url", "argv"):
        hide_password_in_cmdline(creds.password)
    target = _Target(first.netbios_name or first.host, first.share, "", first.port)
    if first.netbios_name and not args.ip_address:
        args.ip_address = first.host
    try:
        conn = _connect(args, target, creds, err)
    except (SMBError, CommandError, OSError) as failure:
        err.write(error_line("connect to \\\\%s\\%s" % (target.host, target.share), failure) + "\n")
        return 1
    try:
        shell = _shell_for(args, conn, target, out, err)
        getattr(shell, "cmd_" + COMMANDS[command].method)(rest)
    except ExitShell:
        pass
    except (SMBError, CommandError, OSError, ValueError) as failure:
        err.write(error_line(what, failure) + "\n")
        return 1
    finally:
        conn.close()
    return 0


def main(argv: Optional[Sequence[str]] = None, stdin: Optional[IO[str]] = None, stdout: Optional[IO[str]] = None,
         stderr: Optional[IO[str]] = None, environ: Optional[Mapping[str, str]] = None,
         prompt: Callable[[str], str] = ask_password) -> int:
    """Run the client; returns the exit status (0 success, 1 failure, 2 usage error)."""
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    env: Mapping[str, str] = os.environ if environ is None else environ
    parser = build_parser()
    args = parser.parse_intermixed_args(argv)
    _setup_logging(args.debuglevel)
    words: List[str] = list(args.words)
    try:
        if args.list is not None:
            if words:
                parser.error("-L takes no service")
            creds = resolve_credentials(args, env, prompt)
            if creds.source == "argv":
                hide_password_in_cmdline(creds.password)
            return _list_shares(args, creds, out, err)
        if not words:
            parser.error("give //host/share, -L host, or a command with an smb:// URL")
        first = words[0]
        if first.lower() == "lookup" and 2 <= len(words) <= 3:
            netbios_lookup(words[1], words[2] if len(words) > 2 else "", args.nbns_port, args.timeout, out, args.json)
            return 0
        if first.lower() == "status" and len(words) == 2:
            netbios_status(words[1], args.nbns_port, args.timeout, out, args.json)
            return 0
        if first.lower().startswith("smb://"):
            if len(words) > 1:
                parser.error("unexpected arguments after the service: %s" % " ".join(words[1:]))
            return _url_service(args, first, out, err, stdin, env, prompt)
        if first.startswith(("//", "\\\\")):
            if len(words) > 1:
                parser.error("unexpected arguments after the service: %s (commands go in -c)"
                             % " ".join(words[1:]))
            host, share, folder = parse_service(first)
            creds = resolve_credentials(args, env, prompt)
            if creds.source == "argv":
                hide_password_in_cmdline(creds.password)
            return _service_mode(args, _Target(host, share, folder), creds, out, err, stdin, env)
        if first.lower() in URL_COMMANDS:
            return _url_mode(args, words, out, err, env, prompt)
        parser.error("unknown command or service %r" % first)
    except (SMBError, CommandError, OSError) as failure:
        what = " ".join(words) if words else ("-L %s" % args.list if args.list is not None else "")
        err.write(error_line(what, failure) + "\n")
        return 1
    except KeyboardInterrupt:
        err.write("smbwire: interrupted\n")
        return 130
    return 2


def _url_service(args: argparse.Namespace, text: str, out: IO[str], err: IO[str], stdin: IO[str],
                 environ: Mapping[str, str], prompt: Callable[[str], str]) -> int:
    """``smbwire smb://host/share/folder``: the service as a URL."""
    from urllib.error import URLError

    from .SMBHandler import parse_smb_url
    try:
        url = parse_smb_url(text)
    except URLError as failure:
        err.write("smbwire: %s\n" % failure.reason)
        return 2
    creds = resolve_credentials(args, environ, prompt,
                                url_user=(url.domain, url.username, url.password or None) if url.username else None)
    if creds.source in ("url", "argv"):
        hide_password_in_cmdline(creds.password)
    if url.netbios_name and not args.ip_address:
        args.ip_address = url.host
    target = _Target(url.netbios_name or url.host, url.share, url.path.strip("/").replace("/", "\\"), url.port)
    return _service_mode(args, target, creds, out, err, stdin, environ)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
