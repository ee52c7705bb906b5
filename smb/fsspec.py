"""An :mod:`fsspec` filesystem over smbwire: ``smbwire://user:pass@host/share/path``.

:class:`SMBFileSystem` gives pandas, Dask, pyarrow, xarray and every other
fsspec user the shares of an SMB server, through the same
:class:`~smb.SMBConnection.SMBConnection` the rest of the library uses (no
second protocol code path).  It is registered under the protocol
``smbwire`` (the ``fsspec.specs`` entry point; install ``smbwire[fsspec]``).
fsspec's own ``smb`` protocol belongs to another library; to have ``smb://``
URLs served by this one, call :func:`register_smb_protocol` once.

Paths are ``/share/folder/file`` (forward slashes; ``/`` lists the disk
shares).  Connections are pooled per server, port, account and options, shared
by every filesystem object and thread of a process, re-made when broken, and
never carried across ``fork``: a child process (a Dask worker) makes its own.
A filesystem object pickles as its options, without connections.

See docs/fsspec.rst.
"""
from __future__ import annotations

import datetime
import errno
import hashlib
import io
import logging
import os
import threading
import unicodedata
import urllib.error
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from fsspec.callbacks import DEFAULT_CALLBACK
from fsspec.spec import AbstractFileSystem
from fsspec.utils import isfilelike, stringify_path

from ._common_ops import file_error
from .base import SharedDevice, SharedFile
from .exceptions import MalformedResponse, NotConnectedError, OperationFailure
from .nt_status import NtStatus
from .SMBConnection import SMBConnection
from .SMBHandler import parse_smb_url

__all__ = ["SMBFileSystem", "register_smb_protocol", "close_pooled_connections"]

log = logging.getLogger("SMB.fsspec")

#: Statuses fsspec callers expect as a particular OSError, beyond what
#: :func:`smb._common_ops.file_error` maps (which covers opens).
_EXTRA_ERRORS: Dict[int, Tuple[type, int]] = {
    NtStatus.BAD_NETWORK_NAME: (FileNotFoundError, errno.ENOENT),
    NtStatus.NOT_A_DIRECTORY: (NotADirectoryError, errno.ENOTDIR),
    NtStatus.DIRECTORY_NOT_EMPTY: (OSError, errno.ENOTEMPTY),
}

_COPY_CHUNK = 4 * 1024 * 1024
#: Calls that change nothing on the server: run again once when the connection broke under them.
_RETRIED = frozenset(["listShares", "listPath", "getAttributes", "retrieveFile", "retrieveFileFromOffset"])


def _os_error(err: OperationFailure, path: str) -> Exception:
    """``err`` as the OSError subclass Python's file functions raise for the same
    condition (still an :class:`OperationFailure` where the library has one)."""
    mapped = file_error(err)
    if mapped is not err:
        if isinstance(mapped, OSError):
            mapped.filename = path
        return mapped
    extra = _EXTRA_ERRORS.get(err.status or 0)
    if extra is not None:
        cls, code = extra
        new = cls(code, "%s: %s" % (os.strerror(code), err.message), path)
        new.__cause__ = err
        return new
    return err


# ---------------------------------------------------------------- the connection pool

_pool_lock = threading.Lock()
_pool: Dict[Tuple[Any, ...], SMBConnection] = {}
_pool_pid = os.getpid()


def _after_fork_in_child() -> None:
    """The parent's connections are its own: the child forgets them (without
    closing them: a LOGOFF from here would end the parent's session)."""
    global _pool_lock, _pool, _pool_pid
    _pool_lock = threading.Lock()
    _pool = {}
    _pool_pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _usable(conn: SMBConnection) -> bool:
    return conn.sock is not None and conn.broken is None


def _pooled(key: Tuple[Any, ...], make: Callable[[], SMBConnection]) -> SMBConnection:
    """The live pooled connection for ``key``, made with ``make()`` when there is
    none or the one there broke."""
    if _pool_pid != os.getpid():  # forked without register_at_fork
        _after_fork_in_child()
    with _pool_lock:
        conn = _pool.get(key)
        if conn is not None and _usable(conn):
            return conn
        if conn is not None:
            log.info("pooled connection to %s:%s is broken (%s); making a new one", key[0], key[1], conn.broken)
            conn.close()
        conn = make()
        _pool[key] = conn
        return conn


def close_pooled_connections() -> None:
    """Close every pooled connection of this process (they are made again when
    next needed)."""
    with _pool_lock:
        conns = list(_pool.values())
        _pool.clear()
    for conn in conns:
        conn.close()


# ---------------------------------------------------------------- the filesystem


def _is_ip(host: str) -> bool:
    import ipaddress
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _checked_name(name: str, folder: str) -> str:
    """A listed name, refused when it is not one path component: fsspec would
    join it into a path that points somewhere else (on the share, or on the
    local disk in ``get``)."""
    bad = (not name or name in (".", "..") or any(c in name for c in "/\\:\0")
           or any(unicodedata.category(c) == "Cc" for c in name))
    if bad:
        raise MalformedResponse("the server listed %r in %s: not a file name (a path separator, ':', NUL or a "
                                "control character)" % (name, folder))
    return name


def _timestamp(epoch: Optional[float]) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch or 0, tz=datetime.timezone.utc)


class SMBFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """fsspec filesystem over the shares of one SMB server.

    :param host: the server's name or address (also from the URL)
    :param port: 445 (direct TCP) by default, 139 with ``is_direct_tcp=False``
    :param username: account name ('' for anonymous)
    :param password: its password
    :param domain: the account's domain or workgroup
    :param encrypt: require SMB3 encryption
    :param is_direct_tcp: direct TCP (default) or the NetBIOS session service
    :param timeout: seconds each call may take (each read or write of an open file too)
    :param use_kerberos: log on with Kerberos (see docs/kerberos.rst)
    :param my_name: this machine's NetBIOS name (default ``FSSPEC``)
    :param remote_name: the server's NetBIOS name (default: ``host``, or
        ``*SMBSERVER`` when ``host`` is an address)
    :param sign_options: as for :class:`~smb.SMBConnection.SMBConnection`
    :param smb2_only: do not offer SMB1
    :param allow_guest_fallback: accept a guest session instead of the named account
        (default False: such a logon is refused, see docs/faults.rst)
    :param auto_mkdir: create missing parent folders when a file is written
        (``pipe_file``, ``put_file``, ``cp_file``, ``open`` for writing), as object
        stores behave; default True
    """

    protocol = ("smbwire",)
    root_marker = "/"

    def __init__(self, host: str, port: Optional[int] = None, username: str = "", password: str = "",
                 domain: str = "", encrypt: bool = False, is_direct_tcp: bool = True, timeout: float = 30,
                 use_kerberos: bool = False, my_name: str = "FSSPEC", remote_name: Optional[str] = None,
                 sign_options: Optional[int] = None, smb2_only: bool = False, auto_mkdir: bool = True,
                 allow_guest_fallback: bool = False, **kwargs: Any) -> None:
        """Options as listed for the class; ``kwargs`` go to fsspec (e.g. ``skip_instance_cache``)."""
        super().__init__(**kwargs)
        if not host:
            raise ValueError("SMBFileSystem needs a host (smbwire://host/share/path or host=...)")
        self.host = host
        self.port = int(port) if port else (445 if is_direct_tcp else 139)
        self.username = username
        self.password = password
        self.domain = domain
        self.encrypt = encrypt
        self.is_direct_tcp = is_direct_tcp
        self.timeout = timeout
        self.use_kerberos = use_kerberos
        self.my_name = my_name
        self.remote_name = remote_name or ("*SMBSERVER" if _is_ip(host) else host.split(".")[0])
        self.sign_options = sign_options
        self.smb2_only = smb2_only
        self.auto_mkdir = auto_mkdir
        self.allow_guest_fallback = allow_guest_fallback

    # ------------------------------------------------------------ paths and URLs

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        """``smbwire://user@host:port/share/dir/`` (or ``smb://...``, or
        ``share/dir``) -> ``/share/dir``."""
        if isinstance(path, (list, tuple)):
            return [cls._strip_protocol(p) for p in path]
        path = stringify_path(path).replace("\\", "/")
        scheme, sep, rest = path.partition("://")
        if sep and scheme.lower() in ("smbwire", "smb"):
            try:
                url = parse_smb_url(path, ("smbwire", "smb"), need_share=False)
            except urllib.error.URLError as err:
                raise ValueError("bad %s URL %r: %s" % (scheme, path, err.reason)) from None
            path = url.share + "/" + url.path
        parts = [p for p in path.split("/") if p and p != "."]
        return "/" + "/".join(parts)

    @staticmethod
    def _get_kwargs_from_urls(path: str) -> Dict[str, Any]:
        try:
            url = parse_smb_url(stringify_path(path), ("smbwire", "smb"), need_share=False)
        except urllib.error.URLError:
            return {}
        out: Dict[str, Any] = {"host": url.netbios_name or url.host}
        if url.netbios_name:
            out = {"host": url.host, "remote_name": url.netbios_name}
        if url.port:
            out["port"] = url.port
        if url.username:
            out["username"] = url.username
        if url.password:
            out["password"] = url.password
        if url.domain:
            out["domain"] = url.domain
        return out

    def unstrip_protocol(self, name: str) -> str:
        """``/share/path`` -> ``smbwire://host:port/share/path`` (no credentials)."""
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "smbwire://%s:%d%s" % (host, self.port, self._strip_protocol(name))

    @classmethod
    def _parent(cls, path: Any) -> str:
        path = cls._strip_protocol(path)
        return path.rsplit("/", 1)[0] or "/"

    def _split(self, path: Any) -> Tuple[str, str, str]:
        """(stripped path, share, path inside the share with ``/``)."""
        full = self._strip_protocol(path)
        share, _, rest = full[1:].partition("/")
        return full, share, rest

    def _file_in_share(self, path: Any, what: str) -> Tuple[str, str, str]:
        full, share, rest = self._split(path)
        if not share:
            raise IsADirectoryError(errno.EISDIR, "%s: / is the list of shares, not a file" % what, full)
        if not rest:
            raise IsADirectoryError(errno.EISDIR, "%s: %s is a share, not a file" % (what, full), full)
        return full, share, rest

    # ------------------------------------------------------------ connections

    def _key(self) -> Tuple[Any, ...]:
        return (self.host.lower(), self.port, self.username, self.domain.lower(), self.password, self.encrypt,
                self.is_direct_tcp, self.use_kerberos, self.my_name, self.remote_name, self.sign_options,
                self.smb2_only, self.allow_guest_fallback)

    def _make_connection(self) -> SMBConnection:
        kwargs: Dict[str, Any] = {}
        if self.sign_options is not None:
            kwargs["sign_options"] = self.sign_options
        conn = SMBConnection(self.username, self.password, self.my_name, self.remote_name, domain=self.domain,
                             is_direct_tcp=self.is_direct_tcp, encrypt=self.encrypt, smb2_only=self.smb2_only,
                             use_kerberos=self.use_kerberos, allow_guest_fallback=self.allow_guest_fallback,
                             **kwargs)
        try:
            ok = conn.connect(self.host.strip("[]"), self.port, timeout=self.timeout)
        except BaseException:
            conn.close()
            raise
        if not ok:
            conn.close()
            raise PermissionError(errno.EACCES, "the server refused the logon of %r" % self.username,
                                  "smbwire://%s:%d" % (self.host, self.port))
        log.debug("connected to %s:%d for fsspec", self.host, self.port)
        return conn

    @property
    def connection(self) -> SMBConnection:
        """The pooled (thread-safe) connection this filesystem uses, made on first use."""
        return _pooled(self._key(), self._make_connection)

    def _call(self, path: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``connection.method(*args, timeout=...)`` with the server's refusals as
        OSErrors.  A read (listing, query, download) that failed because the
        connection broke is run again once on a new connection; a write is not
        (it may have been done: the error is raised)."""
        kwargs.setdefault("timeout", self.timeout)
        for attempt in (1, 2):
            conn = self.connection
            try:
                return getattr(conn, method)(*args, **kwargs)
            except OperationFailure as err:
                raise _os_error(err, path) from None
            except NotConnectedError:
                if attempt == 2 or method not in _RETRIED or _usable(conn):
                    raise
                log.info("%s: the connection broke; retrying once on a new one", method)
        raise AssertionError("unreachable")

    def _writing(self, path: str, action: Callable[[], Any]) -> Any:
        """Run a write of ``path``; with ``auto_mkdir``, a missing parent folder is
        made and the write run again."""
        try:
            return action()
        except FileNotFoundError:
            parent = self._parent(path)
            if not self.auto_mkdir or parent.count("/") < 2 or self.exists(parent):
                raise
        self.makedirs(parent, exist_ok=True)
        return action()

    # ------------------------------------------------------------ listing and info

    def _entry(self, full: str, f: SharedFile) -> Dict[str, Any]:
        return {
            "name": full,
            "size": f.file_size,
            "type": "directory" if f.isDirectory else "file",
            "created": f.create_time,
            "mtime": f.last_write_time,
            "atime": f.last_access_time,
            "changed": f.last_attr_change_time,
            "attributes": f.file_attributes,
            "file_id": f.file_id,
        }

    def ls(self, path: Any, detail: bool = True, **kwargs: Any) -> Union[List[Dict[str, Any]], List[str]]:
        """The entries of a folder, in one listing (``.`` and ``..`` left out); of
        ``/``, the server's disk shares; of a file, that file."""
        full, share, rest = self._split(path)
        entries: List[Dict[str, Any]]
        if not share:
            shares = self._call(full, "listShares")
            entries = [{"name": "/" + s.name, "size": 0, "type": "directory", "comment": s.comment}
                       for s in shares if s.type == SharedDevice.DISK_TREE]
        else:
            try:
                listing = self._call(full, "listPath", share, rest or "/")
            except (FileNotFoundError, NotADirectoryError):
                info = self.info(full)  # raises FileNotFoundError when there is nothing
                if info["type"] == "directory":
                    raise
                listing = None
                entries = [info]
            if listing is not None:
                base = full.rstrip("/")
                entries = [self._entry(base + "/" + _checked_name(f.filename, full), f) for f in listing
                           if f.filename not in (".", "..")]
        if detail:
            return entries
        return [e["name"] for e in entries]

    def info(self, path: Any, **kwargs: Any) -> Dict[str, Any]:
        """One round trip: size, type, times (seconds since the epoch), attributes."""
        full, share, rest = self._split(path)
        if not share:
            return {"name": "/", "size": 0, "type": "directory"}
        try:
            attrs = self._call(full, "getAttributes", share, rest or "/")
        except OperationFailure as err:
            if rest or err.status not in (NtStatus.NOT_SUPPORTED, NtStatus.INVALID_PARAMETER):
                raise
            # The share was connected (it exists); its root just has no attributes to show.
            return {"name": full, "size": 0, "type": "directory"}
        entry = self._entry(full, attrs)
        if not rest:
            entry["type"] = "directory"
        return entry

    def exists(self, path: Any, **kwargs: Any) -> bool:
        try:
            self.info(path)
        except FileNotFoundError:
            return False
        except NotADirectoryError:  # a file in the middle of the path
            return False
        return True

    def modified(self, path: Any) -> datetime.datetime:
        """Last write time (UTC)."""
        return _timestamp(self.info(path).get("mtime"))

    def created(self, path: Any) -> datetime.datetime:
        """Creation time (UTC)."""
        return _timestamp(self.info(path).get("created"))

    def ukey(self, path: Any) -> str:
        """Changes when the file does: its id, size, write and change times."""
        info = self.info(path)
        text = "%s|%s|%s|%s|%s" % (info["name"], info.get("file_id"), info["size"], info.get("mtime"),
                                   info.get("changed"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    # ------------------------------------------------------------ folders

    def mkdir(self, path: Any, create_parents: bool = True, **kwargs: Any) -> None:
        """Create a folder (and the missing ones above it, with ``create_parents``);
        an existing one raises FileExistsError.  Shares cannot be made."""
        full, share, rest = self._split(path)
        if not rest:
            if share and self.exists(full):
                raise FileExistsError(errno.EEXIST, "the share exists", full)
            raise PermissionError(errno.EPERM, "shares cannot be created over SMB", full)
        if create_parents:
            self._call(full, "makeDirs", share, rest, exist_ok=False)
        else:
            self._call(full, "createDirectory", share, rest)

    def makedirs(self, path: Any, exist_ok: bool = False) -> None:
        full, share, rest = self._split(path)
        if not rest:
            if share and self.exists(full):
                if exist_ok:
                    return
                raise FileExistsError(errno.EEXIST, "the share exists", full)
            raise PermissionError(errno.EPERM, "shares cannot be created over SMB", full)
        self._call(full, "makeDirs", share, rest, exist_ok=exist_ok)

    def rmdir(self, path: Any) -> None:
        """Delete an empty folder (a non-empty one: OSError ENOTEMPTY)."""
        full, share, rest = self._split(path)
        if not rest:
            raise PermissionError(errno.EPERM, "shares cannot be removed over SMB", full)
        self._call(full, "deleteDirectory", share, rest)

    # ------------------------------------------------------------ deleting

    def rm_file(self, path: Any) -> None:
        """Delete a file (an empty folder too, as fsspec's ``rm`` asks for both)."""
        full, share, rest = self._file_in_share(path, "rm")
        try:
            self._call(full, "deleteFile", share, rest)
        except IsADirectoryError:
            self.rmdir(full)

    _rm = rm_file

    def rm(self, path: Any, recursive: bool = False, maxdepth: Optional[int] = None) -> None:
        """Delete files (and folders, with everything in them, when ``recursive``).
        A recursive delete without ``maxdepth`` deletes each folder tree with
        :meth:`SMBConnection.deleteTree`."""
        if not recursive or maxdepth is not None:
            super().rm(path, recursive=recursive, maxdepth=maxdepth)
            return
        for p in self.expand_path(path, recursive=False):
            full, share, rest = self._file_in_share(p, "rm")
            try:
                self._call(full, "deleteFile", share, rest)
            except IsADirectoryError:
                self._call(full, "deleteTree", share, rest)

    # ------------------------------------------------------------ file data

    def _open(self, path: Any, mode: str = "rb", block_size: Optional[int] = None, autocommit: bool = True,
              cache_options: Optional[Dict[str, Any]] = None, **kwargs: Any) -> Any:
        """Our own file objects (:meth:`SMBConnection.openFile`): buffered, with
        read-ahead and write-behind.  ``block_size`` is the buffer size;
        ``share_access`` (``'r'``, ``'w'``, ``'d'`` letters) what other opens may do."""
        if not autocommit:
            raise NotImplementedError("smbwire:// writes go straight to the server (no transactions)")
        full, share, rest = self._file_in_share(path, "open")
        share_access = kwargs.get("share_access", "r")

        def do_open() -> Any:
            return self._call(full, "openFile", share, rest, mode, buffering=block_size or -1,
                              share_access=share_access)

        if any(c in mode for c in "wxa"):
            return self._writing(full, do_open)
        return do_open()

    def cat_file(self, path: Any, start: Optional[int] = None, end: Optional[int] = None, **kwargs: Any) -> bytes:
        """The file's bytes ``[start:end]`` (negative values count from the end),
        fetched with pipelined READs in one call."""
        full, share, rest = self._file_in_share(path, "cat_file")
        if (start is not None and start < 0) or (end is not None and end < 0):
            size = self.info(full)["size"]
            if start is not None and start < 0:
                start = max(0, size + start)
            if end is not None and end < 0:
                end = max(0, size + end)
        start = start or 0
        if end is not None and end <= start:
            return b""
        out = io.BytesIO()
        self._call(full, "retrieveFileFromOffset", share, rest, out, start, -1 if end is None else end - start)
        return out.getvalue()

    def pipe_file(self, path: Any, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        """Write ``value`` as the whole file; ``mode="create"`` fails with
        FileExistsError when the file exists (the server decides, atomically)."""
        full, share, rest = self._file_in_share(path, "pipe_file")
        if mode == "create":
            def create() -> None:
                with self._call(full, "openFile", share, rest, "xb", buffering=0) as f:
                    view = memoryview(value)
                    while view:
                        view = view[f.write(view):]
            self._writing(full, create)
        else:
            self._writing(full, lambda: self._call(full, "storeFile", share, rest, io.BytesIO(value)))

    def put_file(self, lpath: Any, rpath: Any, callback: Any = DEFAULT_CALLBACK, mode: str = "overwrite",
                 **kwargs: Any) -> None:
        """Upload a local file (pipelined WRITEs), or make the folder for a local folder."""
        if os.path.isdir(lpath):
            self.makedirs(rpath, exist_ok=True)
            return
        full, share, rest = self._file_in_share(rpath, "put_file")
        with open(lpath, "rb") as src:
            size = os.fstat(src.fileno()).st_size
            callback.set_size(size)

            def store() -> None:
                src.seek(0)
                if mode == "create":
                    with self._call(full, "openFile", share, rest, "xb", buffering=0) as dst:
                        done = 0
                        for chunk in iter(lambda: src.read(_COPY_CHUNK), b""):
                            dst.write(chunk)
                            done += len(chunk)
                            callback.absolute_update(done)
                else:
                    self._call(full, "storeFile", share, rest, src,
                               progress=lambda done, total: callback.absolute_update(done))

            self._writing(full, store)

    def get_file(self, rpath: Any, lpath: Any, callback: Any = DEFAULT_CALLBACK, outfile: Any = None,
                 **kwargs: Any) -> None:
        """Download a file (pipelined READs) to ``lpath`` (or into ``outfile``); a
        remote folder becomes a local folder."""
        if outfile is None and isfilelike(lpath):
            outfile = lpath
        full, share, rest = self._split(rpath)
        if not rest:
            os.makedirs(lpath, exist_ok=True)
            return

        def progress(done: int, total: int) -> None:
            callback.set_size(total)
            callback.absolute_update(done)

        if outfile is not None:
            self._call(full, "retrieveFile", share, rest, outfile, progress=progress)
            return
        lpath = os.fspath(lpath)
        if os.path.isdir(lpath):
            # A folder here means the remote one is a folder too (fsspec made it first).
            if self.isdir(full):
                return
        parent = os.path.dirname(lpath)
        if parent:
            os.makedirs(parent, exist_ok=True)
        existed = os.path.exists(lpath)
        try:
            with open(lpath, "wb") as dst:
                self._call(full, "retrieveFile", share, rest, dst, progress=progress)
        except IsADirectoryError:
            if not existed:
                os.remove(lpath)
            os.makedirs(lpath, exist_ok=True)

    def cp_file(self, path1: Any, path2: Any, **kwargs: Any) -> None:
        """Copy a file on the server (server-side copy over SMB2/3, between shares
        too); a folder is made at ``path2`` for a folder at ``path1``."""
        full1, share1, rest1 = self._file_in_share(path1, "cp_file")
        full2, share2, rest2 = self._file_in_share(path2, "cp_file")
        try:
            self._writing(full2, lambda: self._call(full1, "copyFile", share1, rest1, rest2,
                                                    dst_service_name=share2))
        except IsADirectoryError:
            self.makedirs(full2, exist_ok=True)

    def mv(self, path1: Any, path2: Any, recursive: bool = False, maxdepth: Optional[int] = None,
           **kwargs: Any) -> None:
        """Move: a rename on the server when both paths are on one share (into
        ``path2`` when that is an existing folder, replacing a file there);
        otherwise copy, then delete."""
        if isinstance(path1, str) and isinstance(path2, str) and not any(c in path1 for c in "*?["):
            full1, share1, rest1 = self._split(path1)
            full2, share2, rest2 = self._split(path2)
            if full1 == full2:
                return
            if share1 and share1.lower() == share2.lower() and rest1 and rest2:
                self._rename(full1, share1, rest1, full2, rest2, path2.endswith("/"))
                return
        super().mv(path1, path2, recursive=recursive, maxdepth=maxdepth, **kwargs)

    def _rename(self, full1: str, share: str, rest1: str, full2: str, rest2: str, into: bool) -> None:
        try:
            target = self.info(full2)
        except FileNotFoundError:
            target = None
        if target is not None and target["type"] == "directory":
            rest2 = rest2 + "/" + rest1.rsplit("/", 1)[-1]
            full2 = full2 + "/" + rest1.rsplit("/", 1)[-1]
        elif into:
            raise FileNotFoundError(errno.ENOENT, "no folder to move into", full2)
        try:
            self._call(full1, "rename", share, rest1, rest2)
        except FileExistsError:
            if self.info(full2)["type"] == "directory" or self.info(full1)["type"] == "directory":
                raise
            self._call(full2, "deleteFile", share, rest2)
            self._call(full1, "rename", share, rest1, rest2)

    def touch(self, path: Any, truncate: bool = True, **kwargs: Any) -> None:
        """Create an empty file (emptying it with ``truncate``, else setting its
        write time to now when it exists)."""
        full, share, rest = self._file_in_share(path, "touch")
        if not truncate and self.exists(full):
            import time
            self._call(full, "setTimes", share, rest, write=time.time())
            return
        self.pipe_file(full, b"")

    def sign(self, path: Any, expiration: int = 100, **kwargs: Any) -> str:
        raise NotImplementedError("SMB has no signed URLs")


def register_smb_protocol(clobber: bool = True) -> None:
    """Make fsspec's ``smb://`` URLs use :class:`SMBFileSystem` (instead of the
    ``smbprotocol``-based filesystem fsspec ships under that name)."""
    import fsspec
    fsspec.register_implementation("smb", SMBFileSystem, clobber=clobber)
