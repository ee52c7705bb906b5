"""Copy whole directory trees between a share and the local disk.

:func:`download_tree` and :func:`upload_tree` drive a connected
:class:`smb.SMBConnection.SMBConnection` through its public API only
(``iterPath``, ``retrieveFile``, ``makeDirs``, ``storeFile``); the
``downloadTree`` / ``uploadTree`` methods of the connection are one-line
wrappers around them with the same parameters.

**A name from the server never decides where we write.**  Every name a
listing returns goes through :func:`safe_local_name` before any local path is
built from it, and the whole remote tree is listed and checked before the
first byte is written: a tree with one hostile name is refused as a whole.
While writing, every folder is entered one component at a time relative to
the folder above it (``openat`` with ``O_NOFOLLOW | O_DIRECTORY``), so a
symbolic link found inside ``local_dir`` -- there before the run or planted
during it -- is refused instead of followed; in addition the real path
(:func:`os.path.realpath`) of every folder and file is checked to lie inside
the real path of ``local_dir``.  Where the platform has no ``dir_fd`` support
(Windows) only the path checks apply.

Errors.  :func:`safe_local_name` raises :class:`ValueError`.  The tree
functions turn a refused name into :class:`smb.exceptions.OperationFailure`
with ``status`` ``STATUS_OBJECT_NAME_INVALID`` (what a Windows server answers
for such a name; the ``ValueError`` is its ``__cause__``), and a symbolic link
or path leading out of the local tree into an ``OperationFailure`` with
``STATUS_ACCESS_DENIED``, so one ``except OperationFailure`` (or ``SMBError``)
catches every refusal.  Local IO errors (disk full, permissions) stay
:class:`OSError`; server errors stay what the connection raises.

Files are copied one after the other (each file itself is pipelined by
``retrieveFile`` / ``storeFile``, many requests in flight); a download writes
each file to a hidden temporary name (``.smbwire-<random>.part``) in its
destination folder and renames it into place only once it is complete, so a
failure never leaves a partial file under the final name.  Existing local
files of the same name are replaced; files already completed when a later one
fails stay.
"""
from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import ntpath
import os
import posixpath
import secrets
import stat
import unicodedata
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterator, List, Optional, Sequence, Tuple, Union

from . import smb_constants as C
from ._procedures import byte_bar
from .exceptions import OperationFailure
from .nt_status import NtStatus

__all__ = ["TreeResult", "download_tree", "upload_tree", "safe_local_name", "MAX_DEPTH"]

LocalPath = Union[str, "os.PathLike[str]"]

log = logging.getLogger("SMB.SMBConnection")

#: Every entry, whatever its attributes (hidden and system files are part of a tree).
_EVERYTHING = 0xFFFFFFFF | C.SMB_FILE_ATTRIBUTE_INCL_NORMAL
#: Deeper remote trees are refused: a hostile server can list a folder inside every folder.
MAX_DEPTH = 256

#: Windows device names ([MS-FSCC] 2.1.5.1 leaves them to the OS; Win32 reserves them in every
#: folder, with any extension).  COM0/LPT0 and the superscript digits are reserved too.
_DEVICE_NAMES = frozenset(["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
                          + ["COM" + d for d in "0123456789\u00b9\u00b2\u00b3"]
                          + ["LPT" + d for d in "0123456789\u00b9\u00b2\u00b3"])

_O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
_O_BINARY: int = getattr(os, "O_BINARY", 0)
_O_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)  # opening a FIFO planted mid-run must not hang
#: openat-style folder handles: every component opened relative to its parent, links refused.
_USE_DIR_FD = bool(_O_NOFOLLOW and _O_DIRECTORY) and {os.open, os.mkdir, os.unlink, os.stat} <= os.supports_dir_fd
_DIR_FLAGS = os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY
_READ_FLAGS = os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC | _O_BINARY


@dataclass(frozen=True)
class TreeResult:
    """What a tree copy did.

    ``files``: files copied; ``directories``: folders below the top folder
    created or found (the top folder itself is not counted); ``bytes``: file
    bytes moved; ``skipped``: entries left out (symbolic links and special
    files of a local tree, folders of a remote tree that are reparse points).
    """

    files: int
    directories: int
    bytes: int
    skipped: int = 0


@dataclass(frozen=True)
class _File:
    parts: Tuple[str, ...]  # checked names below the top folder
    size: int


# ---------------------------------------------------------------- names


def _name_problem(name: str) -> Optional[str]:
    """Why ``name`` is not safe as one local path component, or None."""
    if name == "":
        return "it is empty"
    if name in (".", ".."):
        return "it names a folder itself or its parent"
    if posixpath.isabs(name) or ntpath.isabs(name):
        return "it is an absolute path"
    if "\0" in name:
        return "it contains NUL"
    if "/" in name or "\\" in name:
        return "it contains a path separator"
    if ":" in name:
        return "it contains ':' (a drive letter or an NTFS stream)"
    for char in name:
        category = unicodedata.category(char)
        if category == "Cc":
            return "it contains the control character U+%04X" % ord(char)
        if category == "Cs":
            return "it contains the unpaired surrogate U+%04X" % ord(char)
    if name.strip(". ") == "":
        return "it is made of dots and spaces only"
    if name[-1] in ". ":
        # Win32 drops trailing dots and spaces: the name would land on another file.
        return "it ends with a dot or a space"
    stem = name.split(".", 1)[0].rstrip(" ").upper()
    if stem in _DEVICE_NAMES:
        return "it is the Windows device name %s" % stem
    return None


def safe_local_name(name: str) -> str:
    """Return ``name`` unchanged if it is safe as one component of a local path;
    raise :class:`ValueError` (naming it with ``repr``) if not.

    Refused, on every operating system (so that a tree that downloads on one
    also downloads on the others, and a name never means something else on
    Windows): ``''``, ``'.'``, ``'..'``; absolute paths; names containing
    ``/``, ``\\``, NUL, ``:`` (drive letters such as ``C:x``, NTFS streams such as
    ``a:b``), a control character (Unicode category Cc: U+0000-U+001F,
    U+007F-U+009F) or an unpaired surrogate; names made only of dots and spaces
    (``...``) or ending with a dot or a space (Windows drops those, so
    ``'CON .'`` or ``'.. '`` would turn into other names); and the Windows
    device names ``CON``, ``PRN``, ``AUX``, ``NUL``, ``CONIN$``, ``CONOUT$``,
    ``COM0``-``COM9``, ``LPT0``-``LPT9`` (and the superscript-digit forms
    ``COM¹``..``LPT³``), in any case, alone or with an extension
    (``nul.txt``, ``Con.tar.gz``, ``AUX .log``).  Any other Unicode name is
    accepted; characters that some file systems reject (``<>"|?*``) are
    left to the OS, which refuses them with an :class:`OSError`.
    """
    if not isinstance(name, str):
        raise TypeError("a file name must be str, not %s" % type(name).__name__)
    problem = _name_problem(name)
    if problem is not None:
        raise ValueError("unsafe file name %r: %s" % (name, problem))
    return name


def _checked(name: str, where: str) -> str:
    """:func:`safe_local_name` with the tree functions' error."""
    try:
        return safe_local_name(name)
    except ValueError as err:
        raise OperationFailure("refusing the name %r in %s: %s" % (name, where, _name_problem(name)), [],
                               NtStatus.OBJECT_NAME_INVALID) from err


def _remote_parts(path: str) -> Tuple[str, ...]:
    return tuple(p for p in (path or "").replace("/", "\\").split("\\") if p)


def _remote_path(root: Sequence[str], parts: Sequence[str]) -> str:
    return "\\".join(itertools.chain(root, parts))


# ---------------------------------------------------------------- the local side


def _refused(path: str, why: str) -> OperationFailure:
    return OperationFailure("refusing the local path %r: %s" % (path, why), [], NtStatus.ACCESS_DENIED)


def _check_inside(root: str, path: str) -> None:
    """``path`` (with any links resolved) must be ``root`` or below it."""
    real = os.path.realpath(path)
    try:
        inside = os.path.commonpath([root, real]) == root
    except ValueError:  # another drive (Windows)
        inside = False
    if not inside:
        raise _refused(path, "it resolves to %r, outside %r" % (real, root))


def _is_link(name: str, dir_fd: Optional[int]) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


class _Folder:
    """One local folder, held open by file descriptor where the platform allows.

    Names passed to its methods are single checked components; with a
    descriptor they are resolved relative to it (no path is re-walked)."""

    def __init__(self, root: str, path: str, fd: Optional[int]) -> None:
        self.root = root
        self.path = path
        self.fd = fd

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "_Folder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _target(self, name: str) -> str:
        return name if self.fd is not None else os.path.join(self.path, name)

    def enter(self, name: str, create: bool) -> "_Folder":
        """The subfolder ``name`` (made first if ``create``); a link there is refused."""
        path = os.path.join(self.path, name)
        _check_inside(self.root, path)
        target = self._target(name)
        if create:
            with contextlib.suppress(FileExistsError):
                os.mkdir(target, 0o777, dir_fd=self.fd)
        if self.fd is None:  # paths only: checked again after the mkdir, racy but the best there is
            if os.path.islink(path):
                raise _refused(path, "it is a symbolic link")
            if not os.path.isdir(path):
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", path)
            return _Folder(self.root, path, None)
        try:
            fd = os.open(target, _DIR_FLAGS, dir_fd=self.fd)
        except OSError as err:
            if _is_link(name, self.fd):
                raise _refused(path, "it is a symbolic link") from err
            raise
        return _Folder(self.root, path, fd)

    def write_file(self, name: str, fill: Callable[[IO[bytes]], int]) -> int:
        """Write ``name`` through ``fill(file_obj) -> bytes written``: into a
        temporary file first, renamed over ``name`` once ``fill`` returned."""
        path = os.path.join(self.path, name)
        _check_inside(self.root, path)
        temp = self._target(".smbwire-%s.part" % secrets.token_hex(8))
        # O_EXCL: never opens an existing file or link; the rename replaces a link, never follows it.
        fd = os.open(temp, _NEW_FILE_FLAGS, 0o666, dir_fd=self.fd)
        try:
            try:
                file_obj = open(fd, "wb")
            except BaseException:
                os.close(fd)
                raise
            with file_obj:
                count = fill(file_obj)
            os.replace(temp, self._target(name), src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=self.fd)
            raise
        return count

    def open_file(self, name: str) -> Optional[IO[bytes]]:
        """``name`` opened for reading; None if it is no longer a regular file."""
        path = os.path.join(self.path, name)
        _check_inside(self.root, path)
        try:
            fd = os.open(self._target(name), _READ_FLAGS, dir_fd=self.fd)
        except OSError as err:
            if _is_link(self._target(name), self.fd):
                raise _refused(path, "it is a symbolic link") from err
            raise
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                return open(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        return None


@contextlib.contextmanager
def _open_top(root: str) -> Iterator[_Folder]:
    """The top folder ``root`` (already resolved: the caller's own links are followed)."""
    fd = os.open(root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC) if _USE_DIR_FD else None
    with _Folder(root, root, fd) as top:
        yield top


@contextlib.contextmanager
def _open_folder(top: _Folder, parts: Sequence[str], create: bool) -> Iterator[_Folder]:
    """The folder ``parts`` below ``top``, entered component by component."""
    with contextlib.ExitStack() as stack:
        folder = top
        for name in parts:
            folder = stack.enter_context(folder.enter(name, create))
        yield folder


def _preflight(root: str, parts: Sequence[str], is_dir: bool) -> None:
    """Before anything is written: the real path stays inside, and a folder is not a link."""
    path = os.path.join(root, *parts)
    _check_inside(root, path)
    if is_dir and os.path.islink(path):
        raise _refused(path, "it is a symbolic link")


# ---------------------------------------------------------------- progress


class _TreeProgress:
    """One tqdm bar over the tree's bytes (optional) and ``callback(done_bytes,
    total_bytes, done_files, total_files)``."""

    def __init__(self, desc: str, total_bytes: int, total_files: int, show: bool,
                 callback: Optional[Callable[[int, int, int, int], Any]]) -> None:
        self.total_bytes = total_bytes
        self.total_files = total_files
        self.done_bytes = 0
        self.done_files = 0
        self.callback = callback
        self._in_file = 0  # bytes of the current file already counted
        self.bar: Any = byte_bar(show, total_bytes, desc)
        if self.bar is not None:
            self.bar.set_postfix_str(self._files_text(), refresh=False)

    def _files_text(self) -> str:
        return "%d/%d files" % (self.done_files, self.total_files)

    def _emit(self) -> None:
        if self.callback is not None:
            self.callback(self.done_bytes, max(self.total_bytes, self.done_bytes), self.done_files,
                          self.total_files)

    def _add(self, n: int) -> None:
        if n > 0:
            self.done_bytes += n
            if self.bar is not None:
                self.bar.update(n)

    def begin(self) -> None:
        self._emit()

    def file_callback(self) -> Optional[Callable[[int, int], None]]:
        """The ``progress`` argument for the next retrieveFile / storeFile."""
        self._in_file = 0
        return self._file_bytes if self.bar is not None or self.callback is not None else None

    def _file_bytes(self, done: int, _total: int) -> None:
        if done > self._in_file:
            self._add(done - self._in_file)
            self._in_file = done
            self._emit()

    def file_done(self, count: int, listed_size: int) -> None:
        self._add(count - self._in_file)
        self._in_file = 0
        # The file changed since it was listed: the total follows what was really moved.
        self.total_bytes += count - listed_size
        self.done_files += 1
        if self.bar is not None:
            if count != listed_size:
                self.bar.total = self.total_bytes
            self.bar.set_postfix_str(self._files_text())
        self._emit()

    def file_skipped(self, listed_size: int) -> None:
        """A listed file turned out not to be copied: the totals drop it."""
        self.total_bytes -= listed_size
        self.total_files -= 1
        if self.bar is not None:
            self.bar.total = self.total_bytes
            self.bar.set_postfix_str(self._files_text())
        self._emit()

    def __enter__(self) -> "_TreeProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------- download


def _list_remote(conn: Any, service_name: str, root: Tuple[str, ...],
                 timeout: float) -> Tuple[List[Tuple[str, ...]], List[_File], int]:
    """Every folder (parents first) and file below ``root``, each name checked."""
    folders: List[Tuple[str, ...]] = []
    files: List[_File] = []
    skipped = 0
    stack: List[Tuple[str, ...]] = [()]
    while stack:
        parts = stack.pop()
        remote = _remote_path(root, parts)
        where = "folder '%s' of share '%s'" % (remote, service_name)
        if len(parts) > MAX_DEPTH:
            raise OperationFailure("refusing %s: more than %d folders deep" % (where, MAX_DEPTH), [],
                                   NtStatus.OBJECT_NAME_INVALID)
        seen = set()
        dots = set()
        below: List[Tuple[str, ...]] = []
        entries = conn.iterPath(service_name, remote, "*", _EVERYTHING, timeout)
        # Closed at a known point (not by the garbage collector) when a name is refused.
        with contextlib.ExitStack() as closing:
            closing.callback(getattr(entries, "close", lambda: None))
            for entry in entries:
                name = entry.filename
                if name in (".", "..") and entry.isDirectory and name not in dots:
                    dots.add(name)  # the folder's own two entries; a second one is refused below
                    continue
                _checked(name, where)
                if name in seen:
                    raise OperationFailure("refusing the name %r in %s: it is listed twice" % (name, where), [],
                                           NtStatus.OBJECT_NAME_INVALID)
                seen.add(name)
                if not entry.isDirectory:
                    files.append(_File(parts + (name,), entry.file_size))
                elif entry.file_attributes & C.ATTR_REPARSE_POINT:
                    # A link on the server: not entered (as walk does), not created.
                    log.debug("downloadTree: skipping the reparse point %r in %s", name, where)
                    skipped += 1
                else:
                    below.append(parts + (name,))
        folders.extend(below)
        stack.extend(reversed(below))
    return folders, files, skipped


def download_tree(conn: Any, service_name: str, remote_dir: str, local_dir: LocalPath,
                  show_progress: bool = False, callback: Optional[Callable[[int, int, int, int], Any]] = None,
                  timeout: float = 30) -> TreeResult:
    """Copy folder ``remote_dir`` of share ``service_name`` and everything
    below it into ``local_dir`` (created if missing; existing files of the same
    names are replaced).

    The remote tree is listed and every name checked with
    :func:`safe_local_name` first; one refused name (or a name listed twice in
    a folder, or a tree deeper than :data:`MAX_DEPTH`) raises
    :class:`OperationFailure` before anything is written.  Symbolic links
    inside ``local_dir`` are never followed (see the module docstring).
    Remote folders that are reparse points are skipped.  Files are copied one
    at a time, each written to a temporary name and renamed into place when
    complete.

    ``show_progress`` draws one tqdm bar (if tqdm is installed) over the bytes
    of the whole tree; ``callback(done_bytes, total_bytes, done_files,
    total_files)`` is called once before the first file, as bytes arrive, and
    after each file, ending at ``(bytes, bytes, files, files)``.  ``timeout``
    applies to each request-response exchange (one listing batch, one file).
    """
    root_parts = _remote_parts(remote_dir)
    folders, files, skipped = _list_remote(conn, service_name, root_parts, timeout)
    local_dir = os.fspath(local_dir)
    os.makedirs(local_dir, exist_ok=True)
    root = os.path.realpath(local_dir)
    for parts in folders:
        _preflight(root, parts, True)
    for item in files:
        _preflight(root, item.parts, False)
    desc = root_parts[-1] if root_parts else service_name
    moved = 0
    with _open_top(root) as top, _TreeProgress(desc, sum(f.size for f in files), len(files), show_progress,
                                               callback) as progress:
        progress.begin()
        for parts in folders:
            with _open_folder(top, parts, True):
                pass
        for parent, group in itertools.groupby(files, key=lambda f: f.parts[:-1]):
            with _open_folder(top, parent, True) as folder:
                for item in group:
                    def fill(file_obj: IO[bytes], path: str = _remote_path(root_parts, item.parts)) -> int:
                        return int(conn.retrieveFile(service_name, path, file_obj, timeout=timeout,
                                                     progress=progress.file_callback())[1])

                    count = folder.write_file(item.parts[-1], fill)
                    moved += count
                    progress.file_done(count, item.size)
    return TreeResult(len(files), len(folders), moved, skipped)


# ---------------------------------------------------------------- upload


def _raise(err: OSError) -> None:
    raise err


def _list_local(root: str) -> Tuple[List[Tuple[str, ...]], List[_File], int]:
    """Every folder (parents first) and regular file below ``root``; links are left out."""
    folders: List[Tuple[str, ...]] = []
    files: List[_File] = []
    skipped = 0
    for dirpath, dirnames, filenames in os.walk(root, topdown=True, onerror=_raise, followlinks=False):
        rel = os.path.relpath(dirpath, root)
        parts = () if rel == os.curdir else tuple(rel.split(os.sep))
        where = "local folder %r" % dirpath
        keep = []
        for name in sorted(dirnames):
            if os.path.islink(os.path.join(dirpath, name)):
                log.debug("uploadTree: skipping the symbolic link %r in %s", name, where)
                skipped += 1
                continue
            keep.append(_checked(name, where))
        dirnames[:] = keep
        folders.extend(parts + (name,) for name in keep)
        for name in sorted(filenames):
            info = os.lstat(os.path.join(dirpath, name))
            if not stat.S_ISREG(info.st_mode):  # links, FIFOs, sockets, devices
                log.debug("uploadTree: skipping %r in %s: not a regular file", name, where)
                skipped += 1
                continue
            files.append(_File(parts + (_checked(name, where),), info.st_size))
    return folders, files, skipped


def upload_tree(conn: Any, local_dir: LocalPath, service_name: str, remote_dir: str,
                show_progress: bool = False, callback: Optional[Callable[[int, int, int, int], Any]] = None,
                timeout: float = 30) -> TreeResult:
    """Copy ``local_dir`` and everything below it to folder ``remote_dir`` of
    share ``service_name`` (made with its parents if missing; existing files
    are replaced).

    Symbolic links inside ``local_dir`` are not followed: linked folders and
    files, and special files (FIFOs, sockets, devices), are skipped and counted
    in ``skipped``.  Names are checked with :func:`safe_local_name` (a refused
    one raises :class:`OperationFailure` before anything is sent), so a tree
    that uploads also downloads.  Files go one at a time; progress and
    ``callback`` as for :func:`download_tree`.
    """
    local_dir = os.fspath(local_dir)
    root = os.path.realpath(local_dir)
    if not os.path.isdir(root):
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", local_dir)
    root_parts = _remote_parts(remote_dir)
    folders, files, skipped = _list_local(root)
    desc = os.path.basename(root) or root
    moved = 0
    sent = 0
    with _open_top(root) as top, _TreeProgress(desc, sum(f.size for f in files), len(files), show_progress,
                                               callback) as progress:
        progress.begin()
        conn.makeDirs(service_name, _remote_path(root_parts, ()), exist_ok=True, timeout=timeout)
        for parts in folders:
            conn.makeDirs(service_name, _remote_path(root_parts, parts), exist_ok=True, timeout=timeout)
        for parent, group in itertools.groupby(files, key=lambda f: f.parts[:-1]):
            with _open_folder(top, parent, False) as folder:
                for item in group:
                    file_obj = folder.open_file(item.parts[-1])
                    if file_obj is None:
                        log.debug("uploadTree: skipping %r: no longer a regular file", item.parts)
                        skipped += 1
                        progress.file_skipped(item.size)
                        continue
                    with file_obj:
                        count = conn.storeFile(service_name, _remote_path(root_parts, item.parts), file_obj,
                                               timeout=timeout, progress=progress.file_callback())
                    moved += count
                    sent += 1
                    progress.file_done(count, item.size)
    return TreeResult(sent, len(folders), moved, skipped)
