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
flight, large writes are split in MaxWrite pieces, several in flight.

Sequential access goes further.  Reads that continue where the previous one
ended start a read-ahead: the next windows of the file are asked for while
the caller works on what it has.  Writes are written behind: ``write``
returns once its WRITEs are sent, and an error of one surfaces at the next
call on the file, at ``flush`` or at ``close``; never lost.
"""
from __future__ import annotations

import collections
import errno
import io
import logging
import os
from typing import Any, Deque, List, NamedTuple, Optional, Tuple

from . import smb_constants as C
from .exceptions import NotConnectedError, OperationFailure, SMBTimeout

__all__ = ["SMBRawFile", "SMBBufferedReader", "SMBBufferedWriter", "SMBBufferedRandom", "open_file", "share_access_mask", "default_buffer_size"]

_READ_ACCESS = C.FILE_READ_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE
# FILE_READ_ATTRIBUTES: a file opened for writing only still answers a size query (seek to the end).
_WRITE_ACCESS = (C.FILE_WRITE_DATA | C.FILE_APPEND_DATA | C.FILE_WRITE_ATTRIBUTES | C.FILE_READ_ATTRIBUTES
                 | C.SYNCHRONIZE)
_SHARE_LETTERS = {"r": C.FILE_SHARE_READ, "w": C.FILE_SHARE_WRITE, "d": C.FILE_SHARE_DELETE}
#: Bounds of the default buffer (``buffering=-1``), which follows the server's MaxRead.
_MIN_BUFFER = 256 * 1024
_MAX_BUFFER = 4 * 1024 * 1024
#: Read-ahead: windows asked for beyond a sequential read, each at least this big.
READ_AHEAD_WINDOWS = 2
_MIN_WINDOW = 256 * 1024
#: Write-behind: a write up to this size is written behind; at most this many
#: bytes wait for the server's answer before ``write`` waits for the oldest.
_BEHIND_MAX_WRITE = 8 * 1024 * 1024
WRITE_BEHIND_BYTES = 16 * 1024 * 1024

log = logging.getLogger("SMB.SMBConnection")


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
    file; ``write`` takes everything (in append mode at the end of the file as
    the server reports it at that moment) and returns its length; ``seek``
    accepts positions past the end (a write there leaves zeros in between);
    ``truncate`` does not move the position.

    Reads that continue where the previous one ended keep
    :data:`READ_AHEAD_WINDOWS` windows of the file (each as big as the read,
    at least 256 KiB) asked for ahead; a read elsewhere, or a write, drops
    them.  Writes of up to 8 MiB are written behind (at most
    :data:`WRITE_BEHIND_BYTES` unanswered; append mode writes at once): the
    error of one is raised by the next call on the file, by ``flush()`` (which
    waits until the server has answered every write) or by ``close()``.  A read
    waits for the writes before it, so it sees them.  ``fsync()`` flushes, then
    sends an SMB FLUSH (the server writes its cache to storage); ``close()``
    flushes, sends an SMB FLUSH after writes, and CLOSEs.  Once the connection
    is closed (or reconnected) every call raises
    :class:`~smb.exceptions.NotConnectedError`; ``close()`` then only marks the
    file closed, or raises that error when written data did not reach the server.
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
        # Read-ahead: windows asked for (offset, operation, buffer), the rest of the
        # window being consumed (offset, data), where a window found the end of the
        # file, where the last read ended, the largest size the file is known to have.
        self._ahead: Deque[Tuple[int, Any, bytearray]] = collections.deque()
        self._spare: Optional[Tuple[int, memoryview]] = None
        self._eof_at: Optional[int] = None
        self._seq_end = -1
        self._known_size = int(handle.size)
        # Windows dropped while their READs were out: they run to the end (their data
        # unused), and close() waits for them, so that no CLOSE overtakes a READ of
        # this file (Samba 4.17's SMB1 server crashes on that).
        self._stale: List[Any] = []
        # Write-behind: writes sent and not yet answered (offset, end, operation).
        self._behind: Deque[Tuple[int, int, Any]] = collections.deque()
        self._behind_bytes = 0
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

    @property
    def size(self) -> int:
        """The size of the file as far as this open knows: what the server said at
        open, grown by what was written or read since, set by ``truncate`` (what
        fsspec's file objects call ``size``).  Another client's changes show after
        ``seek(0, 2)``."""
        return self._known_size

    # ------------------------------------------------------------------ read-ahead
    def _drop_ahead(self) -> None:
        """Forget what was read ahead (windows still out finish unused)."""
        self._drop_windows()
        self._spare = None
        self._eof_at = None

    def _drop_windows(self) -> None:
        self._stale = [op for op in self._stale if not op.done]
        while self._ahead:
            op = self._ahead.popleft()[1]
            if not op.done:
                self._stale.append(op)

    def _wait_reads(self) -> None:
        """Before CLOSE: let every READ of a window come back (errors do not matter)."""
        self._drop_ahead()
        stale, self._stale = self._stale, []
        for op in stale:
            try:
                self._conn._finish(op, self._timeout)
            except (OperationFailure, SMBTimeout) as err:
                log.debug("dropped read-ahead of %s ended with %s", self._handle.what, err)

    def _take_ahead(self, pos: int, view: memoryview) -> Tuple[int, bool]:
        """Copy into ``view`` what was read ahead from ``pos`` on; returns
        (bytes copied, whether they end at the end of the file)."""
        got, n = 0, len(view)
        while got < n:
            at = pos + got
            spare = self._spare
            if spare is not None and spare[0] == at:
                take = min(n - got, len(spare[1]))
                view[got:got + take] = spare[1][:take]
                got += take
                self._spare = (at + take, spare[1][take:]) if take < len(spare[1]) else None
                continue
            if at == self._eof_at:
                # A window ended here.  Bytes before it make a short read at the end of the
                # file; with none, the caller reads again (the file may have grown since).
                self._eof_at = None
                return got, got > 0
            if not self._ahead or self._ahead[0][0] != at:
                break
            offset, op, buf = self._ahead.popleft()
            try:
                filled = int(self._conn._finish(op, self._timeout))
            except (OperationFailure, SMBTimeout) as err:
                # Read again where it is needed: a real error is raised by that read.
                log.debug("read-ahead of %s at %d failed: %s", self._handle.what, offset, err)
                self._drop_ahead()
                break
            self._spare = (offset, memoryview(buf)[:filled])
            self._known_size = max(self._known_size, offset + filled)
            if filled < len(buf):
                self._eof_at = offset + filled
                self._drop_windows()  # nothing lies beyond the end
        return got, False

    def _fill_ahead(self, ops: Any, start: int, size: int) -> None:
        """Keep :data:`READ_AHEAD_WINDOWS` windows of ``size`` asked for from
        ``start`` on, up to the largest size the file is known to have."""
        if self._eof_at is not None or self._conn._in_call():
            return
        size = max(size, _MIN_WINDOW)
        if self._ahead:
            offset = self._ahead[-1][0] + len(self._ahead[-1][2])
        elif self._spare is not None:
            offset = max(start, self._spare[0] + len(self._spare[1]))
        else:
            offset = start
        while len(self._ahead) < READ_AHEAD_WINDOWS:
            length = min(size, self._known_size - offset)
            if length <= 0:
                return
            buf = bytearray(length)
            op = self._conn._begin(ops.read_into(self._handle, offset, buf), "read-ahead", self._timeout)
            self._ahead.append((offset, op, buf))
            offset += length

    # ------------------------------------------------------------------ write-behind
    def _raise_behind(self) -> None:
        """Forget the answered writes; raise the first error among them."""
        if not self._behind:
            return
        error: Optional[BaseException] = None
        still: Deque[Tuple[int, int, Any]] = collections.deque()
        for item in self._behind:
            op = item[2]
            if not op.done:
                still.append(item)
                continue
            self._behind_bytes -= item[1] - item[0]
            if op.error is not None and error is None:
                error = op.error
        self._behind = still
        if error is not None:
            raise error

    def _wait_behind(self, keep_bytes: int = 0) -> None:
        """Wait for written-behind writes, oldest first, until at most
        ``keep_bytes`` are unanswered; raise the first error (after waiting for
        the others, so that none is left behind unseen)."""
        error: Optional[BaseException] = None
        while self._behind and self._behind_bytes > keep_bytes:
            offset, end, op = self._behind.popleft()
            self._behind_bytes -= end - offset
            try:
                self._conn._finish(op, self._timeout)
            except SMBTimeout as err:
                while self._behind:  # what they wrote is unknown: the timeout says so
                    self._conn._drop(self._behind.popleft()[2])
                self._behind_bytes = 0
                raise err
            except BaseException as err:  # noqa: BLE001 - raised below, once all are answered
                if error is None:
                    error = err
        if error is not None:
            raise error

    def _write_behind(self, ops: Any, view: memoryview) -> None:
        start, end = self._pos, self._pos + len(view)
        if any(offset < end and start < stop for offset, stop, _ in self._behind):
            self._wait_behind()  # overlapping WRITEs in flight may land in any order
        self._wait_behind(max(0, WRITE_BEHIND_BYTES - len(view)))
        # The caller may reuse its buffer once write() returns: the WRITEs carry a copy.
        op = self._conn._begin(ops.write_at(self._handle, start, bytes(view)), "write", self._timeout)
        self._behind.append((start, end, op))
        self._behind_bytes += end - start

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
        self._wait_behind()
        pos, n = self._pos, len(view)
        sequential = pos == self._seq_end
        if not sequential:
            self._drop_ahead()
        got, eof = self._take_ahead(pos, view)
        if got < n and not eof:
            rest = view[got:]
            if self._conn._in_call():
                got += int(self._run(ops.read_into(self._handle, pos + got, rest), "read"))
            else:
                op = self._conn._begin(ops.read_into(self._handle, pos + got, rest), "read", self._timeout)
                if sequential:
                    self._fill_ahead(ops, pos + n, n)
                got += int(self._conn._finish(op, self._timeout))
        elif sequential and got == n:
            self._fill_ahead(ops, pos + n, n)
        self._pos += got
        self._seq_end = self._pos
        self._known_size = max(self._known_size, self._pos)
        return got

    def readall(self) -> bytes:
        """Everything from the position to the end: the rest of the file is
        asked for at once (many READs in flight), then read on until a READ
        returns nothing (the file may have grown meanwhile)."""
        self._check_readable()
        ops = self._ops()
        self._wait_behind()
        self._drop_ahead()
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
        self._seq_end = -1
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def write(self, data: Any) -> int:
        """Write all of ``data`` at the position (at the end of the file in
        append mode); returns ``len(data)``.  Written behind (see the class):
        an error surfaces at the next call."""
        self._check_writable()
        view = memoryview(data).cast("B")
        ops = self._ops()
        self._raise_behind()
        self._drop_ahead()
        self._seq_end = -1
        if self._appending:
            self._wait_behind()
            self._pos = self._run(ops.query_size(self._handle), "write")
        if not len(view):
            return 0
        if self._appending or len(view) > _BEHIND_MAX_WRITE or self._conn._in_call():
            self._wait_behind()
            written = int(self._run(ops.write_at(self._handle, self._pos, view), "write"))
        else:
            self._write_behind(ops, view)
            written = len(view)
        self._pos += written
        self._known_size = max(self._known_size, self._pos)
        self._dirty = True
        return written

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._check_open()
        offset = offset.__index__()
        if whence == os.SEEK_SET:
            pos = offset
        elif whence == os.SEEK_CUR:
            pos = self._pos + offset
        elif whence == os.SEEK_END:
            ops = self._ops()
            self._wait_behind()
            pos = self._run(ops.query_size(self._handle), "seek") + offset
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
        ops = self._ops()
        self._wait_behind()
        self._drop_ahead()
        self._run(ops.truncate_handle(self._handle, size), "truncate")
        self._dirty = True
        self._known_size = size
        return size

    def fsync(self) -> None:
        """Wait for the writes written behind, then ask the server to write its
        cached data for this file to storage (SMB FLUSH), like :func:`os.fsync`."""
        self._check_open()
        ops = self._ops()
        self._wait_behind()
        self._run(ops.flush_handle(self._handle), "flush")
        self._dirty = False

    def flush(self) -> None:
        """Wait until the server has answered every write written behind;
        raises the first error among them."""
        self._check_open()
        if self._behind:
            self._ops()
            self._wait_behind()

    def close(self) -> None:
        """Wait for the writes written behind, SMB FLUSH (after writes) and
        CLOSE the server's handle.  A failure of any is raised (the file is
        closed all the same), except that a connection already closed only marks
        the file closed, unless written data never reached the server."""
        if self.closed:
            return
        lost = False
        try:
            if self._handle.is_open:
                try:
                    self._ops()
                except NotConnectedError:
                    self._handle.is_open = False  # the session and its opens are gone
                    lost = bool(self._behind)
                    self._behind.clear()
                    self._ahead.clear()
                    self._stale = []
                    self._spare = None
                    if lost:
                        raise
                else:
                    self._close_handle()
        finally:
            self._dirty = False
            self._behind.clear()
            self._behind_bytes = 0
            self._spare = None
            super().close()

    def _close_handle(self) -> None:
        conn, ops = self._conn, self._conn.dialect
        if conn._in_call():
            # Closed from inside another call on this connection (e.g. collected there): the
            # CLOSE goes out with that call's requests and is answered in the background.
            self._drop_ahead()
            if self._behind or self._stale:
                # A CLOSE could overtake WRITEs (data lost) or READs still out: leave the open
                # to the session's end instead.
                log.warning("%s collected with requests in flight: its handle stays open until logoff",
                            self._handle.what)
                return
            with conn._lock:
                ops.abort_handle(self._handle)
            return
        try:
            try:
                self._wait_reads()
                self._wait_behind()
            finally:
                if self._dirty:
                    self._run(ops.flush_handle(self._handle), "flush")
        finally:
            self._run(ops.close_handle(self._handle), "close")

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return "<SMBRawFile %s mode=%r%s>" % (self._handle.what, self.mode, state)


class _Flushing:
    """Mixed into the buffered layers: ``flush()`` flushes the buffer, then the
    raw file (which waits for the writes written behind), as ``FileIO`` users
    expect of a flush."""

    def flush(self) -> None:
        super().flush()  # type: ignore[misc]
        raw = self.raw  # type: ignore[attr-defined]
        if not raw.closed:
            raw.flush()


class SMBBufferedReader(io.BufferedReader):
    """``io.BufferedReader`` with the raw file's :attr:`~SMBRawFile.size`."""

    @property
    def size(self) -> int:
        return int(getattr(self.raw, "size"))


class SMBBufferedWriter(_Flushing, io.BufferedWriter):
    """``io.BufferedWriter`` whose ``flush()`` reaches the server."""


class SMBBufferedRandom(_Flushing, io.BufferedRandom):
    """``io.BufferedRandom`` whose ``flush()`` reaches the server."""


class OpenMode(NamedTuple):
    """What an :func:`open`-style mode asks of the server and of the file object."""

    access: int
    disposition: int
    share_mask: int
    can_read: bool
    can_write: bool
    appending: bool
    binary: bool
    #: FileIO's spelling of the mode ('w+' shows as 'rb+').
    raw_mode: str


def parse_mode(mode: str, buffering: int, encoding: Optional[str], errors: Optional[str],
               newline: Optional[str], share_access: str) -> OpenMode:
    """Check :func:`open`'s arguments as :func:`open` does (the same errors) and say
    what they ask for."""
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
    raw_mode = ("x" if creating else "a" if appending else "r" if reading or updating else "w") + "b" \
        + ("+" if updating else "")
    return OpenMode(access, disposition, share_mask, can_read, can_write, appending, binary, raw_mode)


def open_file(conn: Any, service_name: str, path: str, mode: str = "rb", buffering: int = -1,
              encoding: Optional[str] = None, errors: Optional[str] = None, newline: Optional[str] = None,
              share_access: str = "r", timeout: float = 30) -> Any:
    """:func:`open` over SMB (see :meth:`smb.SMBConnection.SMBConnection.openFile`)."""
    m = parse_mode(mode, buffering, encoding, errors, newline, share_access)
    access, disposition, share_mask, can_read, can_write, appending, binary, raw_mode = m
    updating = "+" in mode
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
            buffer: Any = SMBBufferedRandom(raw, buffering)
        elif can_write:
            buffer = SMBBufferedWriter(raw, buffering)
        else:
            buffer = SMBBufferedReader(raw, buffering)
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
