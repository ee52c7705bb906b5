"""File objects over SMB: what :meth:`SMBConnection.openFile` returns.

:class:`SMBRawFile` is an :class:`io.RawIOBase` over one open of a file on
the server; :func:`open_file` parses an :func:`open`-style mode and wraps it
the way :func:`open` wraps an :class:`io.FileIO` (``BufferedReader``,
``BufferedWriter``, ``BufferedRandom``, ``TextIOWrapper``).

Every call on the raw file is one operation of the connection's dialect
(``read_into``, ``write_at``, ``truncate_handle``, ``query_size``,
``flush_handle``, ``close_handle``), driven by the connection like any other
public method, so a file stays usable between other calls on the same
connection.  Large reads keep several READs of at most MaxRead bytes in
flight, large writes are split in MaxWrite pieces, several in flight.  A
write is finished (or has raised) when ``write`` returns: no error waits for
a later call.
"""
from __future__ import annotations

import errno
import io
import os
from typing import Any, Optional

from . import smb_constants as C
from .exceptions import NotConnectedError, OperationFailure

__all__ = ["SMBRawFile", "open_file", "share_access_mask", "default_buffer_size"]

_READ_ACCESS = C.FILE_READ_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE
# FILE_READ_ATTRIBUTES: a file opened for writing only still answers a size query (seek to the end).
_WRITE_ACCESS = (C.FILE_WRITE_DATA | C.FILE_APPEND_DATA | C.FILE_WRITE_ATTRIBUTES | C.FILE_READ_ATTRIBUTES
                 | C.SYNCHRONIZE)
_SHARE_LETTERS = {"r": C.FILE_SHARE_READ, "w": C.FILE_SHARE_WRITE, "d": C.FILE_SHARE_DELETE}
#: Bounds of the default buffer (``buffering=-1``), which follows the server's MaxRead.
_MIN_BUFFER = 256 * 1024
_MAX_BUFFER = 4 * 1024 * 1024


def share_access_mask(share_access: str) -> int:
    """``'r'``, ``'w'``, ``'d'`` letters (any order, maybe none) -> the
    FILE_SHARE_READ / WRITE / DELETE mask other opens of the file are allowed."""
    mask = 0
    for letter in share_access or "":
        bit = _SHARE_LETTERS.get(letter)
        if bit is None:
            raise ValueError("share_access takes the letters 'r', 'w' and 'd', not %r" % share_access)
        mask |= bit
    return mask


def default_buffer_size(max_read: int) -> int:
    """The buffer of ``buffering=-1``: four MaxReads (so a refill of a
    sequential read is several READs in flight), between 256 KiB and 4 MiB."""
    return max(_MIN_BUFFER, min(_MAX_BUFFER, 4 * max_read))


class SMBRawFile(io.RawIOBase):
    """Unbuffered binary file on an SMB share (the raw layer :func:`open` would
    put a ``FileIO`` in).

    ``name`` is the path on the share, ``mode`` the FileIO-style mode
    (``'rb'``, ``'wb'``, ``'xb'``, ``'ab'``, with ``'+'``).  ``readinto``
    reads at the position and may return fewer bytes only at the end of the
    file; ``write`` writes everything (in append mode at the end of the file as
    the server reports it at that moment) and returns its length; ``seek``
    accepts positions past the end (a write there leaves zeros in between);
    ``truncate`` does not move the position.  ``fsync()`` (and ``flush()``
    after writes) sends an SMB FLUSH.  Once the connection is closed (or
    reconnected) every call raises :class:`~smb.exceptions.NotConnectedError`;
    ``close()`` then only marks the file closed (the server closed the open
    with the session).
    """

    def __init__(self, conn: Any, service_name: str, path: str, handle: Any, readable: bool, writable: bool,
                 appending: bool, mode: str, timeout: float) -> None:
        super().__init__()
        self._conn = conn
        self._handle = handle
        self._readable = readable
        self._writable = writable
        self._appending = appending
        self._timeout = timeout
        self._pos = handle.size if appending else 0
        self._dirty = False
        self.service_name = service_name
        self.name = path
        self.mode = mode

    # ------------------------------------------------------------------ plumbing
    def _ops(self) -> Any:
        """The dialect object, when it is still the one the file was opened on."""
        conn = self._conn
        if (getattr(conn, "sock", None) is None or conn.broken is not None or not conn.has_authenticated
                or conn.dialect is not self._handle.dialect):
            raise NotConnectedError("the connection %s was opened on is closed (or was opened again); "
                                    "open the file again" % self._handle.what)
        return conn.dialect

    def _run(self, gen: Any, what: str) -> Any:
        return self._conn._run(gen, self._timeout, what)

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file.")

    def _check_readable(self) -> None:
        self._check_open()
        if not self._readable:
            raise io.UnsupportedOperation("File not open for reading")

    def _check_writable(self) -> None:
        self._check_open()
        if not self._writable:
            raise io.UnsupportedOperation("File not open for writing")

    @property
    def handle(self) -> Any:
        """The dialect's :class:`~smb._common_ops.FileHandle` (file id, size at open)."""
        return self._handle

    # ------------------------------------------------------------------ io.RawIOBase
    def readable(self) -> bool:
        self._check_open()
        return self._readable

    def writable(self) -> bool:
        self._check_open()
        return self._writable

    def seekable(self) -> bool:
        self._check_open()
        return True

    def readinto(self, buffer: Any) -> int:
        """Read up to ``len(buffer)`` bytes at the position (fewer only at the
        end of the file; 0 there)."""
        self._check_readable()
        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0
        ops = self._ops()
        got = self._run(ops.read_into(self._handle, self._pos, view), "read")
        self._pos += got
        return int(got)

    def readall(self) -> bytes:
        """Everything from the position to the end: the rest of the file is
        asked for at once (many READs in flight), then read on until a READ
        returns nothing (the file may have grown meanwhile)."""
        self._check_readable()
        ops = self._ops()
        size = self._run(ops.query_size(self._handle), "read")
        pieces = []
        if size > self._pos:
            data = self._run(ops.read_at(self._handle, self._pos, size - self._pos), "read")
            self._pos += len(data)
            pieces.append(data)
        step = max(64 * 1024, int(getattr(ops, "max_read", 65536)))
        while True:
            data = self._run(ops.read_at(self._handle, self._pos, step), "read")
            if not data:
                break
            self._pos += len(data)
            pieces.append(data)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def write(self, data: Any) -> int:
        """Write all of ``data`` at the position (at the end of the file in
        append mode); returns ``len(data)``."""
        self._check_writable()
        view = memoryview(data).cast("B")
        ops = self._ops()
        if self._appending:
            self._pos = self._run(ops.query_size(self._handle), "write")
        if not len(view):
            return 0
        written = self._run(ops.write_at(self._handle, self._pos, view), "write")
        self._pos += written
        self._dirty = True
        return int(written)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._check_open()
        offset = offset.__index__()
        if whence == os.SEEK_SET:
            pos = offset
        elif whence == os.SEEK_CUR:
            pos = self._pos + offset
        elif whence == os.SEEK_END:
            pos = self._run(self._ops().query_size(self._handle), "seek") + offset
        else:
            raise ValueError("invalid whence (%r, should be 0, 1 or 2)" % (whence,))
        if pos < 0:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        self._pos = pos
        return pos

    def tell(self) -> int:
        self._check_open()
        return self._pos

    def truncate(self, size: Optional[int] = None) -> int:
        """Make the file ``size`` bytes long (default: the position), cutting
        or extending it with zeros; the position stays where it is."""
        self._check_writable()
        size = self._pos if size is None else size.__index__()
        if size < 0:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        self._run(self._ops().truncate_handle(self._handle, size), "truncate")
        self._dirty = True
        return size

    def fsync(self) -> None:
        """Ask the server to write its cached data for this file to storage
        (SMB FLUSH), like :func:`os.fsync`."""
        self._check_open()
        self._run(self._ops().flush_handle(self._handle), "flush")
        self._dirty = False

    def flush(self) -> None:
        """After writes: :meth:`fsync` (the data itself is on the server once
        ``write`` returns); otherwise nothing."""
        self._check_open()
        if self._dirty:
            self.fsync()

    def close(self) -> None:
        """Flush (after writes) and CLOSE the server's handle.  A failure of
        either is raised (the file is closed all the same), except that a
        connection already closed only marks the file closed."""
        if self.closed:
            return
        try:
            if self._handle.is_open:
                try:
                    self._ops()
                except NotConnectedError:
                    self._handle.is_open = False  # the session and its opens are gone
                else:
                    self._close_handle()
        finally:
            self._dirty = False
            super().close()

    def _close_handle(self) -> None:
        conn, ops = self._conn, self._conn.dialect
        if conn._in_call():
            # Closed from inside another call on this connection (e.g. collected there): the
            # CLOSE goes out with that call's requests and is answered in the background.
            with conn._lock:
                ops.abort_handle(self._handle)
            return
        try:
            if self._dirty:
                self.fsync()
        finally:
            self._run(ops.close_handle(self._handle), "close")

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return "<SMBRawFile %s mode=%r%s>" % (self._handle.what, self.mode, state)


def open_file(conn: Any, service_name: str, path: str, mode: str = "rb", buffering: int = -1,
              encoding: Optional[str] = None, errors: Optional[str] = None, newline: Optional[str] = None,
              share_access: str = "r", timeout: float = 30) -> Any:
    """:func:`open` over SMB (see :meth:`smb.SMBConnection.SMBConnection.openFile`)."""
    if not isinstance(mode, str):
        raise TypeError("invalid mode: %r" % (mode,))
    if not isinstance(buffering, int):
        raise TypeError("buffering must be an integer")
    modes = set(mode)
    if modes - set("axrwb+t") or len(mode) > len(modes):
        raise ValueError("invalid mode: %r" % mode)
    creating, reading, writing, appending = ("x" in modes, "r" in modes, "w" in modes, "a" in modes)
    updating, text, binary = "+" in modes, "t" in modes, "b" in modes
    if text and binary:
        raise ValueError("can't have text and binary mode at once")
    if creating + reading + writing + appending != 1:
        raise ValueError("must have exactly one of create/read/write/append mode")
    if binary and encoding is not None:
        raise ValueError("binary mode doesn't take an encoding argument")
    if binary and errors is not None:
        raise ValueError("binary mode doesn't take an errors argument")
    if binary and newline is not None:
        raise ValueError("binary mode doesn't take a newline argument")
    if newline not in (None, "", "\n", "\r", "\r\n"):
        raise ValueError("illegal newline value: %r" % (newline,))
    if not binary and buffering == 0:
        raise ValueError("can't have unbuffered text I/O")
    share_mask = share_access_mask(share_access)

    can_read = reading or updating
    can_write = not reading or updating
    access = (_READ_ACCESS if can_read else 0) | (_WRITE_ACCESS if can_write else 0)
    if creating:
        disposition = C.FILE_CREATE
    elif writing:
        disposition = C.FILE_OVERWRITE_IF
    elif appending:
        disposition = C.FILE_OPEN_IF
    else:
        disposition = C.FILE_OPEN
    # FileIO's spelling: 'w+' shows as 'rb+'.
    raw_mode = ("x" if creating else "a" if appending else "r" if reading or updating else "w") + "b" \
        + ("+" if updating else "")

    ops = conn._dialect_ops()
    handle = conn._run(ops.open_handle(service_name, path, access, disposition, share_mask), timeout, "openFile")
    try:
        raw = SMBRawFile(conn, service_name, path, handle, can_read, can_write, appending, raw_mode, timeout)
    except BaseException:
        conn._run(ops.close_handle(handle), timeout, "openFile")
        raise
    try:
        line_buffering = buffering == 1 and not binary
        if buffering == 1 or buffering < 0:
            buffering = default_buffer_size(int(getattr(ops, "max_read", 65536)))
        if buffering == 0:
            return raw
        if updating:
            buffer: Any = io.BufferedRandom(raw, buffering)
        elif can_write:
            buffer = io.BufferedWriter(raw, buffering)
        else:
            buffer = io.BufferedReader(raw, buffering)
        if binary:
            return buffer
        wrapper = io.TextIOWrapper(buffer, encoding, errors, newline, line_buffering)
        wrapper.mode = mode  # type: ignore[misc]
        return wrapper
    except BaseException:
        try:
            raw.close()
        except (OperationFailure, OSError):
            pass
        raise
