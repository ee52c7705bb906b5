"""The commands of the ``smbwire`` client (see :mod:`smb.cli` and docs/cli.rst).

A :class:`Shell` holds one logged-on :class:`smb.SMBConnection.SMBConnection`, the share,
the current remote folder and the ``recurse`` switch, and runs smbclient-style command
lines (``ls``, ``get``, ``mput``, ``allinfo`` ...) through the connection's public API
only.  Names the server sends never choose where a file is written locally: ``mget``
checks every one with :func:`smb.treecopy.safe_local_name` (and refuses duplicates and
over-deep trees) before the first byte is written, creates local folders one component
at a time refusing symbolic links, and opens files with ``O_NOFOLLOW``.
"""
from __future__ import annotations

import fnmatch
import json
import os
import shlex
import stat
from typing import IO, Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from . import _cli_format as F
from .exceptions import KerberosError, NotConnectedError, OperationFailure, SMBError, SMBTimeout
from .nt_status import NtStatus
from .treecopy import MAX_DEPTH, safe_local_name

__all__ = ["Shell", "CommandError", "Refusal", "ExitShell", "error_line", "remote_join", "split_parent",
           "split_commands", "split_args", "has_wildcard", "COMMANDS"]

#: Every entry of a folder, whatever its attributes (hidden and system files too).
EVERYTHING = 0xFFFFFFFF | 0x10000
#: Transfers get the command timeout plus this long per byte (a floor of 64 KiB/s).
_SECONDS_PER_BYTE = 1.0 / 65536


class CommandError(Exception):
    """A command cannot run (bad arguments, a local problem); the message is one line."""


class Refusal(OperationFailure):
    """The client itself refused something the server sent (a hostile name, a link to
    write through); the error line carries its reason after the NTSTATUS."""


class ExitShell(Exception):
    """``exit`` / ``quit``."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def error_line(what: str, err: BaseException) -> str:
    """The one-line error ``smbwire: <what>: <reason>``, naming the NTSTATUS when there is one."""
    status = getattr(err, "status", None)
    if isinstance(err, OperationFailure) or (isinstance(err, SMBError) and isinstance(status, int) and status):
        reason = F.status_text(status)
        if status is None:
            reason = _one_line(str(err))
        elif isinstance(err, Refusal):
            reason += ": " + _one_line(str(err))
    elif isinstance(err, SMBTimeout):
        reason = "timed out (%s)" % _one_line(str(err))
    elif isinstance(err, KerberosError):
        reason = "Kerberos: %s" % _one_line(str(err))
    elif isinstance(err, OSError) and err.strerror:
        reason = err.strerror + (" (%s)" % err.filename if err.filename else "")
    else:
        reason = _one_line(str(err)) or type(err).__name__
    return "smbwire: %s: %s" % (_one_line(what), reason) if what else "smbwire: %s" % reason


# ---------------------------------------------------------------- command-line splitting


def split_commands(text: str) -> List[str]:
    """``-c`` text split at ``;`` outside quotes (empty commands dropped)."""
    out: List[str] = []
    current: List[str] = []
    quote = ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == ";":
            out.append("".join(current))
            current = []
            continue
        current.append(char)
    out.append("".join(current))
    return [cmd.strip() for cmd in out if cmd.strip()]


def split_args(command: str) -> List[str]:
    """Words of one command; quotes group words, backslashes are path separators (not escapes)."""
    lexer = shlex.shlex(command, posix=True)
    lexer.whitespace_split = True
    lexer.escape = ""
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as err:
        raise CommandError("cannot parse %r: %s" % (command, err)) from None


def has_wildcard(name: str) -> bool:
    """True when ``name`` holds an SMB wildcard (``*`` or ``?``)."""
    return "*" in name or "?" in name


def remote_join(cwd: str, arg: str) -> str:
    r"""``arg`` (relative to ``cwd``, or absolute with a leading ``\`` or ``/``) as a share
    path with ``\`` separators and no leading one; ``.`` and ``..`` are resolved (``..``
    stops at the share root)."""
    parts: List[str] = [] if arg.startswith(("\\", "/")) else [p for p in cwd.split("\\") if p]
    for piece in arg.replace("/", "\\").split("\\"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if parts:
                parts.pop()
            continue
        parts.append(piece)
    return "\\".join(parts)


def split_parent(path: str) -> Tuple[str, str]:
    r"""``a\b\c`` -> (``a\b``, ``c``)."""
    parent, _, last = path.rpartition("\\")
    return parent, last


def _display(path: str) -> str:
    return "\\" + path


# ---------------------------------------------------------------- the local side of mget


def _refuse_name(name: str, where: str) -> "Refusal":
    try:
        safe_local_name(name)
        why = "it is listed twice"
    except (ValueError, TypeError) as err:
        why = str(err)
    return Refusal("refusing the name %r in %s: %s" % (name, where, why), [], NtStatus.OBJECT_NAME_INVALID)


def _checked_name(name: str, where: str) -> str:
    try:
        return safe_local_name(name)
    except (ValueError, TypeError):
        raise _refuse_name(name, where) from None


_O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
_O_BINARY: int = getattr(os, "O_BINARY", 0)
_O_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)


class _LocalTree:
    """Writes below one local folder; every component is a checked name, links are refused."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)

    def _refused(self, path: str, why: str) -> "Refusal":
        return Refusal("refusing the local path %r: %s" % (path, why), [], NtStatus.ACCESS_DENIED)

    def _inside(self, path: str) -> None:
        real = os.path.realpath(path)
        if os.path.commonpath([self.root, real]) != self.root:
            raise self._refused(path, "it resolves to %r, outside %r" % (real, self.root))

    def folder(self, parts: Sequence[str]) -> str:
        """The folder ``parts`` below the root, made where missing."""
        path = self.root
        for name in parts:
            path = os.path.join(path, name)
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                os.mkdir(path)
                info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                raise self._refused(path, "it is a symbolic link")
            if not stat.S_ISDIR(info.st_mode):
                raise NotADirectoryError(20, "not a folder", path)
        self._inside(path)
        return path

    def create(self, parts: Sequence[str]) -> IO[bytes]:
        """The file ``parts`` opened for writing (created or truncated; never through a link)."""
        folder = self.folder(parts[:-1])
        path = os.path.join(folder, parts[-1])
        if os.path.islink(path):
            raise self._refused(path, "it is a symbolic link")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY
                     | _O_NONBLOCK, 0o666)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise self._refused(path, "it is not a regular file")
            if _O_NONBLOCK:
                os.set_blocking(fd, True)
            return open(fd, "wb")
        except BaseException:
            os.close(fd)
            raise


class _Item(NamedTuple):
    remote: str               # share path
    parts: Tuple[str, ...]    # local path below the job's root (or the remote path below cwd for mput)
    size: int
    local: str = ""           # mput: the local file


# ---------------------------------------------------------------- the shell


class _Command(NamedTuple):
    method: str
    usage: str
    help: str
    completes: str  # per argument: r (remote), l (local), - (nothing); the last repeats


_COMMAND_LIST: List[Tuple[Tuple[str, ...], _Command]] = [
    (("ls", "dir"), _Command("ls", "ls [mask]", "list the current folder, a folder or the names matching mask", "r")),
    (("cd",), _Command("cd", "cd [folder]", "change the remote folder (no argument: show it)", "r")),
    (("pwd",), _Command("pwd", "pwd", "show the remote folder", "-")),
    (("lcd",), _Command("lcd", "lcd [folder]", "change the local folder (no argument: show it)", "l")),
    (("get",), _Command("get", "get remote [local]", "download a file", "rl")),
    (("reget",), _Command("reget", "reget remote [local]", "resume a download from the local file's size", "rl")),
    (("put",), _Command("put", "put local [remote]", "upload a file", "lr")),
    (("reput",), _Command("reput", "reput local [remote]", "resume an upload from the remote file's size", "lr")),
    (("mget",), _Command("mget", "mget mask...", "download the matching files (folders too with recurse on)", "r")),
    (("mput",), _Command("mput", "mput mask...", "upload the matching local files (folders too with recurse on)",
                         "l")),
    (("recurse",), _Command("recurse", "recurse [on|off]", "toggle or set recursion for ls, mget, mput, mkdir",
                            "-")),
    (("mkdir", "md"), _Command("mkdir", "mkdir folder", "create a folder (its parents too with recurse on)", "r")),
    (("rmdir", "rd"), _Command("rmdir", "rmdir folder", "delete an empty folder", "r")),
    (("deltree",), _Command("deltree", "deltree folder", "delete a folder and everything below it", "r")),
    (("rm", "del"), _Command("rm", "rm mask...", "delete the matching files", "r")),
    (("rename", "ren", "mv"), _Command("rename", "rename old new", "rename a file or folder", "r")),
    (("stat",), _Command("stat", "stat name", "show the attributes of a file or folder", "r")),
    (("allinfo",), _Command("allinfo", "allinfo name", "attributes and the security descriptor", "r")),
    (("snapshots",), _Command("snapshots", "snapshots [name]", "list the previous versions (@GMT tokens)", "r")),
    (("lookup",), _Command("lookup", "lookup NAME [server-ip]", "resolve a NetBIOS name", "-")),
    (("status",), _Command("status", "status IP", "NetBIOS node status of a host (its names, MAC)", "-")),
    (("help", "?"), _Command("help", "help [command]", "list the commands or show one", "-")),
    (("exit", "quit", "q", "bye"), _Command("exit", "exit", "log off and leave", "-")),
]
COMMANDS: Dict[str, _Command] = {name: cmd for names, cmd in _COMMAND_LIST for name in names}


class Shell:
    """smbclient-like commands over one connection and share.

    ``out`` receives listings and results; notices about transfers go there too
    unless ``quiet`` or ``json_output``.  ``progress`` draws transfer bars.
    ``nbns`` is ``(port, timeout)`` for ``lookup`` / ``status``.
    """

    def __init__(self, conn: Any, share: str, host: str, out: IO[str], progress: F.Progress,
                 timeout: float = 30.0, json_output: bool = False, quiet: bool = False,
                 nbns_port: int = 137, cwd: str = "") -> None:
        self.conn = conn
        self.share = share
        self.host = host
        self.out = out
        self.progress = progress
        self.timeout = timeout
        self.json_output = json_output
        self.quiet = quiet
        self.nbns_port = nbns_port
        self.cwd = remote_join("", cwd)
        self.recurse = False
        self._completion_cache: Dict[str, List[Tuple[str, bool]]] = {}
        self._matches: List[str] = []

    # -- output ----------------------------------------------------------------------------------
    def _print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def _notice(self, text: str) -> None:
        if not self.quiet and not self.json_output:
            self._print(text)

    def _json(self, value: Any) -> None:
        self._print(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def _transfer_timeout(self, size: int) -> float:
        return self.timeout + max(0, size) * _SECONDS_PER_BYTE

    # -- running ---------------------------------------------------------------------------------
    def run_line(self, line: str) -> None:
        """Run one command line; raises the command's error, :class:`ExitShell` for ``exit``."""
        words = split_args(line)
        if not words:
            return
        name = words[0]
        command = COMMANDS.get(name.lower())
        if command is None:
            raise CommandError("unknown command %r (try 'help')" % name)
        getattr(self, "cmd_" + command.method)(words[1:])

    def run_script(self, text: str, err: IO[str]) -> int:
        """``-c``: run the ``;``-separated commands; stop at the first failure (status 1)."""
        for line in split_commands(text):
            try:
                self.run_line(line)
            except ExitShell:
                return 0
            except (SMBError, CommandError, OSError, ValueError) as failure:
                err.write(error_line(line, failure) + "\n")
                return 1
        return 0

    def prompt(self) -> str:
        """``smb: \\folder\\> ``."""
        return "smb: \\%s> " % (self.cwd + "\\" if self.cwd else "")

    def interactive(self, stdin: IO[str], err: IO[str], history_file: Optional[str]) -> int:
        """Read commands until ``exit`` or end of input; errors are printed and the loop
        goes on, except a lost connection (status 1).  On a terminal: readline editing,
        history in ``history_file`` and completion of command and remote names."""
        tty = stdin.isatty()
        readline = _setup_readline(self, history_file) if tty else None
        status = 0
        try:
            while True:
                try:
                    if tty:
                        line = input(self.prompt())
                    else:
                        line = stdin.readline()
                        if not line:
                            break
                except EOFError:
                    if tty:
                        self._print()
                    break
                except KeyboardInterrupt:
                    self._print()
                    continue
                self._completion_cache.clear()
                try:
                    self.run_line(line)
                except ExitShell:
                    break
                except KeyboardInterrupt:
                    err.write("smbwire: %s: interrupted\n" % _one_line(line))
                except NotConnectedError as failure:
                    err.write(error_line(line, failure) + "\n")
                    status = 1
                    break
                except (SMBError, CommandError, OSError, ValueError) as failure:
                    err.write(error_line(line, failure) + "\n")
        finally:
            if readline is not None and history_file:
                _save_history(readline, history_file)
        return status

    # -- paths -----------------------------------------------------------------------------------
    def _path(self, arg: str) -> str:
        return remote_join(self.cwd, arg)

    def _listing(self, folder: str, pattern: str = "*") -> Iterator[Any]:
        return self.conn.iterPath(self.share, folder, pattern, EVERYTHING, self.timeout)

    def _need(self, args: Sequence[str], low: int, high: int, usage: str) -> None:
        if not low <= len(args) <= high:
            raise CommandError("usage: " + usage)

    # -- folders and listings -------------------------------------------------------------------
    def cmd_ls(self, args: List[str]) -> None:
        self._need(args, 0, 1, COMMANDS["ls"].usage)
        target = args[0] if args else ""
        path = self._path(target)
        if not target or target.endswith(("\\", "/")):
            folder, mask = path, "*"
        elif has_wildcard(split_parent(path)[1]):
            folder, mask = split_parent(path)
        elif path == "" or self.conn.getAttributes(self.share, path, self.timeout).isDirectory:
            folder, mask = path, "*"
        else:
            folder, mask = split_parent(path)
        collected: List[Dict[str, Any]] = []
        pending: List[Tuple[str, int]] = [(folder, 0)]
        first = True
        while pending:
            current, depth = pending.pop(0)
            if self.recurse and not first and not self.json_output:
                self._print()
                self._print(_display(current))
            first = False
            subfolders: List[str] = []
            for entry in self._listing(current, mask):
                if self.json_output:
                    collected.append(F.entry_dict(entry, current))
                else:
                    self._print(F.ls_line(entry))
                if mask == "*" and self._descend(entry):
                    subfolders.append(entry.filename)
            if self.recurse and mask != "*":
                subfolders = [e.filename for e in self._listing(current) if self._descend(e)]
            if self.recurse and depth < MAX_DEPTH:
                pending.extend(("\\".join(p for p in (current, name) if p), depth + 1) for name in subfolders)
        if self.json_output:
            self._json(collected)

    @staticmethod
    def _descend(entry: Any) -> bool:
        """A real subfolder (not ``.``/``..``, not a reparse point)."""
        return bool(entry.isDirectory and entry.filename not in (".", "..")
                    and not entry.file_attributes & 0x400)

    def cmd_cd(self, args: List[str]) -> None:
        self._need(args, 0, 1, COMMANDS["cd"].usage)
        if not args:
            self._print("Current directory is %s" % self._unc(self.cwd))
            return
        path = self._path(args[0])
        if path:
            info = self.conn.getAttributes(self.share, path, self.timeout)
            if not info.isDirectory:
                raise OperationFailure("'%s' is not a folder" % path, [], NtStatus.NOT_A_DIRECTORY)
        self.cwd = path

    def _unc(self, path: str) -> str:
        return "\\\\%s\\%s\\%s" % (self.host, self.share, path + "\\" if path else "")

    def cmd_pwd(self, args: List[str]) -> None:
        self._need(args, 0, 0, COMMANDS["pwd"].usage)
        self._print("Current directory is %s" % self._unc(self.cwd))

    def cmd_lcd(self, args: List[str]) -> None:
        self._need(args, 0, 1, COMMANDS["lcd"].usage)
        if args:
            os.chdir(os.path.expanduser(args[0]))
        self._print("Current local directory is %s" % os.getcwd())

    def cmd_recurse(self, args: List[str]) -> None:
        self._need(args, 0, 1, COMMANDS["recurse"].usage)
        if not args:
            self.recurse = not self.recurse
        elif args[0].lower() in ("on", "yes", "true", "1"):
            self.recurse = True
        elif args[0].lower() in ("off", "no", "false", "0"):
            self.recurse = False
        else:
            raise CommandError("usage: " + COMMANDS["recurse"].usage)
        self._notice("directory recursion is now %s" % ("on" if self.recurse else "off"))

    def cmd_mkdir(self, args: List[str]) -> None:
        self._need(args, 1, 1, COMMANDS["mkdir"].usage)
        path = self._path(args[0])
        if self.recurse:
            self.conn.makeDirs(self.share, path, exist_ok=True, timeout=self.timeout)
        else:
            self.conn.createDirectory(self.share, path, self.timeout)

    def cmd_rmdir(self, args: List[str]) -> None:
        self._need(args, 1, 1, COMMANDS["rmdir"].usage)
        self.conn.deleteDirectory(self.share, self._path(args[0]), self.timeout)

    def cmd_deltree(self, args: List[str]) -> None:
        self._need(args, 1, 1, COMMANDS["deltree"].usage)
        path = self._path(args[0])
        if not path:
            raise CommandError("refusing to delete the root of the share")
        self.conn.deleteTree(self.share, path, self.timeout)
        if self.cwd == path or self.cwd.startswith(path + "\\"):
            self.cwd = split_parent(path)[0]

    def cmd_rm(self, args: List[str]) -> None:
        if not args:
            raise CommandError("usage: " + COMMANDS["rm"].usage)
        for mask in args:
            path = self._path(mask)
            if not path:
                raise CommandError("rm needs a file name or mask")
            self.conn.deleteFiles(self.share, path, False, self.timeout)

    def cmd_rename(self, args: List[str]) -> None:
        self._need(args, 2, 2, COMMANDS["rename"].usage)
        self.conn.rename(self.share, self._path(args[0]), self._path(args[1]), self.timeout)

    def cmd_stat(self, args: List[str], security: bool = False) -> None:
        self._need(args, 1, 1, COMMANDS["allinfo" if security else "stat"].usage)
        path = self._path(args[0])
        info = self.conn.getAttributes(self.share, path, self.timeout)
        sd = self.conn.getSecurity(self.share, path, self.timeout) if security else None
        if self.json_output:
            value = F.attributes_dict(info, path)
            if sd is not None:
                value["security"] = F.security_dict(sd)
            self._json(value)
            return
        for line in F.attributes_text(info, _display(path)):
            self._print(line)
        if sd is not None:
            for line in F.security_lines(sd):
                self._print(line)

    def cmd_allinfo(self, args: List[str]) -> None:
        self.cmd_stat(args, security=True)

    def cmd_snapshots(self, args: List[str]) -> None:
        self._need(args, 0, 1, COMMANDS["snapshots"].usage)
        path = self._path(args[0]) if args else self.cwd
        found = self.conn.listSnapshots(self.share, path, self.timeout)
        tokens = [when.strftime("@GMT-%Y.%m.%d-%H.%M.%S") for when in found]
        if self.json_output:
            self._json([{"token": token, "time": when.isoformat() + "Z"} for token, when in zip(tokens, found)])
            return
        for token in tokens:
            self._print(token)

    # -- NetBIOS ----------------------------------------------------------------------------------
    def cmd_lookup(self, args: List[str]) -> None:
        self._need(args, 1, 2, COMMANDS["lookup"].usage)
        netbios_lookup(args[0], args[1] if len(args) > 1 else "", self.nbns_port, self.timeout, self.out,
                       self.json_output)

    def cmd_status(self, args: List[str]) -> None:
        self._need(args, 1, 1, COMMANDS["status"].usage)
        netbios_status(args[0], self.nbns_port, self.timeout, self.out, self.json_output)

    # -- help / exit -----------------------------------------------------------------------------
    def cmd_help(self, args: List[str]) -> None:
        if args:
            command = COMMANDS.get(args[0].lower())
            if command is None:
                raise CommandError("unknown command %r" % args[0])
            self._print("%s: %s" % (command.usage, command.help))
            return
        for names, command in _COMMAND_LIST:
            label = command.usage + ("  (also: %s)" % ", ".join(names[1:]) if len(names) > 1 else "")
            self._print("%-34s %s" % (label if len(label) <= 34 else command.usage, command.help))

    def cmd_exit(self, args: List[str]) -> None:
        raise ExitShell()

    # -- single-file transfers -------------------------------------------------------------------
    def cmd_get(self, args: List[str], resume: bool = False) -> None:
        self._need(args, 1, 2, COMMANDS["reget" if resume else "get"].usage)
        remote = self._path(args[0])
        if not remote:
            raise CommandError("get needs a file name")
        name = split_parent(remote)[1]
        local = os.path.expanduser(args[1]) if len(args) > 1 else name
        if os.path.isdir(local):
            local = os.path.join(local, name)
        info = self.conn.getAttributes(self.share, remote, self.timeout)
        if info.isDirectory:
            raise OperationFailure("'%s' is a folder" % remote, [], NtStatus.FILE_IS_A_DIRECTORY)
        offset = 0
        if resume and os.path.exists(local):
            offset = os.path.getsize(local)
            if offset > info.file_size:
                raise CommandError("the local file %r (%d bytes) is larger than the remote file (%d bytes)"
                                   % (local, offset, info.file_size))
        with open(local, "ab" if resume else "wb") as fh, \
                self.progress.file(name, info.file_size, offset) as callback:
            timeout = self._transfer_timeout(info.file_size - offset)
            if resume:
                got = self.conn.retrieveFileFromOffset(self.share, remote, fh, offset, -1, timeout,
                                                       progress=callback)[1]
            else:
                got = self.conn.retrieveFile(self.share, remote, fh, timeout, progress=callback)[1]
        self._notice("getting file %s of size %d as %s (%d bytes%s)"
                     % (_display(remote), info.file_size, local, got, " from offset %d" % offset if resume else ""))

    def cmd_reget(self, args: List[str]) -> None:
        self.cmd_get(args, resume=True)

    def cmd_put(self, args: List[str], resume: bool = False) -> None:
        self._need(args, 1, 2, COMMANDS["reput" if resume else "put"].usage)
        local = os.path.expanduser(args[0])
        base = os.path.basename(local.rstrip(os.sep))
        if len(args) > 1:
            target = args[1]
            remote = self._path(target + base if target.endswith(("\\", "/")) else target)
        else:
            remote = self._path(base)
        if not remote:
            raise CommandError("put needs a remote file name")
        with open(local, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise CommandError("%r is not a regular file" % local)
            size = os.fstat(fh.fileno()).st_size
            offset = 0
            if resume:
                offset = self._remote_size(remote)
                if offset > size:
                    raise CommandError("the remote file (%d bytes) is larger than the local file %r (%d bytes)"
                                       % (offset, local, size))
                fh.seek(offset)
            with self.progress.file(base, size, offset) as callback:
                timeout = self._transfer_timeout(size - offset)
                if resume:
                    end = self.conn.storeFileFromOffset(self.share, remote, fh, offset, False, timeout,
                                                        progress=callback)
                else:
                    end = self.conn.storeFile(self.share, remote, fh, timeout, progress=callback)
        self._notice("putting file %s as %s (%d bytes%s)"
                     % (local, _display(remote), end - offset, " from offset %d" % offset if resume else ""))

    def cmd_reput(self, args: List[str]) -> None:
        self.cmd_put(args, resume=True)

    def _remote_size(self, remote: str) -> int:
        try:
            info = self.conn.getAttributes(self.share, remote, self.timeout)
        except OperationFailure as err:
            if err.status in (NtStatus.OBJECT_NAME_NOT_FOUND, NtStatus.NO_SUCH_FILE):
                return 0
            raise
        if info.isDirectory:
            raise OperationFailure("'%s' is a folder" % remote, [], NtStatus.FILE_IS_A_DIRECTORY)
        return int(info.file_size)

    # -- mget ---------------------------------------------------------------------------------------
    def _plan_download(self, masks: Sequence[str]) -> Tuple[List[Tuple[str, ...]], List[_Item]]:
        """Every folder to make and file to fetch, each server name checked, before anything is written."""
        folders: List[Tuple[str, ...]] = []
        files: List[_Item] = []
        for mask in masks:
            path = self._path(mask)
            folder, pattern = split_parent(path)
            if not has_wildcard(pattern):
                info = self.conn.getAttributes(self.share, path, self.timeout) if path else None
                if info is None or info.isDirectory:
                    if not self.recurse:
                        raise CommandError("%s is a folder: turn recurse on to fetch it" % _display(path))
                    top: Tuple[str, ...] = (_checked_name(pattern, "the command line"),) if pattern else ()
                    if top:
                        folders.append(top)
                    self._walk_remote(path, top, "*", folders, files)
                    continue
            self._walk_remote(folder, (), pattern, folders, files, depth=0)
        return folders, files

    def _walk_remote(self, folder: str, parts: Tuple[str, ...], pattern: str, folders: List[Tuple[str, ...]],
                     files: List[_Item], depth: int = 1) -> None:
        pending = [(folder, parts, depth)]
        while pending:
            current, here, level = pending.pop()
            where = "folder '%s' of share '%s'" % (_display(current), self.share)
            if level > MAX_DEPTH:
                raise Refusal("refusing %s: more than %d folders deep" % (where, MAX_DEPTH), [],
                              NtStatus.OBJECT_NAME_INVALID)
            below: List[Tuple[str, Tuple[str, ...], int]] = []
            for entry, want in self._checked_listing(current, pattern, where):
                name = entry.filename
                child = "\\".join(p for p in (current, name) if p)
                if entry.isDirectory:
                    if self.recurse and self._descend(entry):
                        below.append((child, here + (name,), level + 1))
                elif want:
                    files.append(_Item(child, here + (name,), int(entry.file_size)))
            if pattern == "*":
                folders.extend(item[1] for item in below)
            pending.extend(reversed(below))

    def _checked_listing(self, folder: str, pattern: str, where: str) -> List[Tuple[Any, bool]]:
        """The entries of ``folder`` to consider: ``(entry, matches pattern)``; every name checked.
        Folders always come along (recursion enters them whatever the mask)."""
        listings = [(pattern, True)]
        if pattern != "*" and self.recurse:
            listings.append(("*", False))
        out: List[Tuple[Any, bool]] = []
        seen_files: Dict[str, None] = {}
        seen_dirs: Dict[str, None] = {}
        for mask, matched in listings:
            seen: Dict[str, None] = {}
            dots: Dict[str, None] = {}
            for entry in self._listing(folder, mask):
                name = entry.filename
                if name in (".", "..") and entry.isDirectory and name not in dots:
                    dots[name] = None
                    continue
                _checked_name(name, where)
                if name in seen:
                    raise _refuse_name(name, where)
                seen[name] = None
                if entry.isDirectory:
                    if name in seen_dirs:
                        continue
                    seen_dirs[name] = None
                    out.append((entry, False))
                elif matched:
                    if name in seen_files:
                        continue
                    seen_files[name] = None
                    out.append((entry, True))
        return out

    def cmd_mget(self, args: List[str]) -> None:
        if not args:
            raise CommandError("usage: " + COMMANDS["mget"].usage)
        folders, files = self._plan_download(args)
        tree = _LocalTree(os.getcwd())
        for parts in folders:
            tree.folder(parts)
        total = sum(item.size for item in files)
        moved = 0
        with self.progress.job("mget", total, len(files)) as job:
            for item in files:
                with tree.create(item.parts) as fh, self.progress.file(item.parts[-1], item.size) as callback:
                    moved += self.conn.retrieveFile(self.share, item.remote, fh, self._transfer_timeout(item.size),
                                                    progress=callback)[1]
                job.file_done()
                self._notice("getting file %s of size %d as %s" % (_display(item.remote), item.size,
                                                                   os.path.join(*item.parts)))
        self._notice("mget: %d file%s, %d bytes" % (len(files), "" if len(files) == 1 else "s", moved))

    # -- mput ---------------------------------------------------------------------------------------
    def _plan_upload(self, masks: Sequence[str]) -> Tuple[List[str], List[_Item]]:
        folders: List[str] = []
        files: List[_Item] = []
        for mask in masks:
            local = os.path.expanduser(mask)
            parent, pattern = os.path.split(local.rstrip(os.sep) or local)
            if not has_wildcard(pattern) and os.path.isdir(local):
                if not self.recurse:
                    raise CommandError("%r is a folder: turn recurse on to send it" % local)
                name = _checked_name(os.path.basename(os.path.realpath(local)), "the command line")
                remote = self._path(name)
                folders.append(remote)
                self._walk_local(local, remote, "*", folders, files)
                continue
            self._walk_local(parent or os.curdir, self.cwd, pattern, folders, files, top_only=not self.recurse)
        return folders, files

    def _walk_local(self, top: str, remote_top: str, pattern: str, folders: List[str], files: List[_Item],
                    top_only: bool = False) -> None:
        for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
            rel = os.path.relpath(dirpath, top)
            parts = () if rel == os.curdir else tuple(rel.split(os.sep))
            remote_dir = "\\".join(p for p in (remote_top,) + parts if p)
            keep = []
            for name in sorted(dirnames):
                if top_only or os.path.islink(os.path.join(dirpath, name)):
                    continue
                keep.append(_checked_name(name, "local folder %r" % dirpath))
                folders.append(remote_dir + "\\" + name if remote_dir else name)
            dirnames[:] = keep
            for name in sorted(filenames):
                if not fnmatch.fnmatchcase(name, pattern):
                    continue
                path = os.path.join(dirpath, name)
                info = os.lstat(path)
                if not stat.S_ISREG(info.st_mode):
                    continue  # links, FIFOs, sockets, devices
                _checked_name(name, "local folder %r" % dirpath)
                files.append(_Item(remote_dir + "\\" + name if remote_dir else name, (), info.st_size, path))
            if top_only:
                break

    def cmd_mput(self, args: List[str]) -> None:
        if not args:
            raise CommandError("usage: " + COMMANDS["mput"].usage)
        folders, files = self._plan_upload(args)
        if not files and not folders:
            raise CommandError("no local file matches %s" % " ".join(args))
        for folder in folders:
            self.conn.makeDirs(self.share, folder, exist_ok=True, timeout=self.timeout)
        total = sum(item.size for item in files)
        moved = 0
        with self.progress.job("mput", total, len(files)) as job:
            for item in files:
                with open(item.local, "rb") as fh, self.progress.file(os.path.basename(item.local),
                                                                      item.size) as callback:
                    moved += self.conn.storeFile(self.share, item.remote, fh, self._transfer_timeout(item.size),
                                                 progress=callback)
                job.file_done()
                self._notice("putting file %s as %s" % (item.local, _display(item.remote)))
        self._notice("mput: %d file%s, %d bytes" % (len(files), "" if len(files) == 1 else "s", moved))

    # -- completion ----------------------------------------------------------------------------------
    def _remote_names(self, folder: str) -> List[Tuple[str, bool]]:
        if folder not in self._completion_cache:
            try:
                names = [(e.filename, bool(e.isDirectory)) for e in self._listing(folder)
                         if e.filename not in (".", "..")]
            except SMBError:
                names = []
            self._completion_cache[folder] = names
        return self._completion_cache[folder]

    def completions(self, line: str, begidx: int, text: str) -> List[str]:
        """Candidates for ``text`` at ``begidx`` of ``line``: command names for the first word,
        then remote or local names as the command's arguments take."""
        before = line[:begidx]
        words = split_args(before) if before.strip() else []
        if not words:
            return sorted(name + " " for name in COMMANDS if name.startswith(text.lower()))
        command = COMMANDS.get(words[0].lower())
        if command is None:
            return []
        index = len(words) - 1
        kinds = command.completes
        kind = kinds[min(index, len(kinds) - 1)]
        if kind == "r":
            sep = max(text.rfind("\\"), text.rfind("/"))
            head, prefix = text[:sep + 1], text[sep + 1:]
            folder = self._path(head) if head else self.cwd
            lowered = prefix.lower()
            return sorted(head + name + ("\\" if is_dir else "") for name, is_dir in self._remote_names(folder)
                          if name.lower().startswith(lowered))
        if kind == "l":
            import glob
            out = []
            for candidate in sorted(glob.glob(glob.escape(os.path.expanduser(text)) + "*")):
                out.append(candidate + (os.sep if os.path.isdir(candidate) else ""))
            return out
        return []

    def complete(self, text: str, state: int) -> Optional[str]:
        """The readline completer."""
        if state == 0:
            import readline
            try:
                self._matches = self.completions(readline.get_line_buffer(), readline.get_begidx(), text)
            except (CommandError, SMBError, OSError):
                self._matches = []
        return self._matches[state] if state < len(self._matches) else None


# ---------------------------------------------------------------- readline


def _setup_readline(shell: Shell, history_file: Optional[str]) -> Any:
    try:
        import readline
    except ImportError:
        return None
    readline.set_completer(shell.complete)
    readline.set_completer_delims(" \t\n;\"'")
    if "libedit" in (readline.__doc__ or ""):
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")
    readline.set_history_length(1000)
    if history_file and os.path.exists(history_file):
        try:
            readline.read_history_file(history_file)
        except OSError:
            pass
    return readline


def _save_history(readline: Any, history_file: str) -> None:
    try:
        fd = os.open(history_file, os.O_WRONLY | os.O_CREAT | _O_CLOEXEC, 0o600)
        os.close(fd)
        readline.write_history_file(history_file)
    except OSError:
        pass


# ---------------------------------------------------------------- NetBIOS name service


def netbios_lookup(name: str, server: str, port: int, timeout: float, out: IO[str], json_output: bool) -> None:
    """``lookup NAME [server-ip]``: a name query (unicast to ``server``, else a broadcast)."""
    from nmb.NetBIOS import NetBIOS
    with NetBIOS(broadcast=not server) as nb:
        ips = nb.queryName(name, server, port=port, timeout=timeout)
    if not ips:
        raise CommandError("no answer for the NetBIOS name %r" % name)
    if json_output:
        out.write(json.dumps({"name": name, "ips": ips}) + "\n")
        return
    for ip in ips:
        out.write("%s %s<20>\n" % (ip, name.upper()))


def netbios_status(ip: str, port: int, timeout: float, out: IO[str], json_output: bool) -> None:
    """``status IP``: a node status query (the host's names, workgroup and MAC address)."""
    from nmb.NetBIOS import NetBIOS
    with NetBIOS(broadcast=False) as nb:
        status = nb.queryNodeStatus(ip, port=port, timeout=timeout)
    if status is None:
        raise CommandError("no node status answer from %s" % ip)
    if json_output:
        out.write(json.dumps(F.node_status_dict(ip, status), ensure_ascii=False) + "\n")
        return
    for line in F.node_status_lines(ip, status):
        out.write(line + "\n")
