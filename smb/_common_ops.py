"""Operations whose logic is the same in every dialect.

They are written once here against a few dialect primitives
(``list_path``, ``tree``, ``_delete_paths``, ``delete_directory``, a
listing object from ``open_listing`` with ``fetch(search)`` / ``close()``
generators and ``abort()``, and for file handles ``_open_handle``,
``_read_range`` and ``_write_stream``) and mixed into both dialect classes.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple, Type

from . import smb_constants as C
from .exceptions import (MalformedResponse, OperationFailure, SMBFileExistsError, SMBFileNotFoundError, SMBIsADirectoryError,
                         SMBPermissionError)
from .nt_status import NtStatus, status_name

__all__ = ["CommonOps", "Listing", "FileHandle", "file_error"]

#: The statuses of a failed open that Python's ``open()`` reports as a given OSError subclass.
_OPEN_ERRORS: Dict[int, Type[OperationFailure]] = {
    NtStatus.OBJECT_NAME_NOT_FOUND: SMBFileNotFoundError,
    NtStatus.OBJECT_PATH_NOT_FOUND: SMBFileNotFoundError,
    NtStatus.NO_SUCH_FILE: SMBFileNotFoundError,
    NtStatus.OBJECT_NAME_COLLISION: SMBFileExistsError,
    NtStatus.FILE_IS_A_DIRECTORY: SMBIsADirectoryError,
    NtStatus.ACCESS_DENIED: SMBPermissionError,
    NtStatus.SHARING_VIOLATION: SMBPermissionError,
}


def file_error(err: OperationFailure) -> OperationFailure:
    """``err`` as the :class:`OperationFailure` subclass that is also the OSError
    ``open()`` would raise (FileNotFoundError, FileExistsError, ...); ``err``
    itself when its status has no such counterpart."""
    cls = _OPEN_ERRORS.get(err.status or 0)
    if cls is None or isinstance(err, cls):
        return err
    return cls(err.message, err.smb_messages, err.status)


class FileHandle:
    """A file the server holds open for us (what ``open_handle`` returns).

    ``fid`` is the dialect's file id (16 bytes in SMB2, a 16-bit FID in SMB1),
    ``size`` the end of file the server reported when it was opened,
    ``is_directory`` what the server said the object is, ``dialect`` the
    dialect object (one per connection) the id belongs to.
    """

    __slots__ = ("dialect", "tree", "fid", "path", "size", "is_directory", "is_open", "attributes", "version",
                 "durable")

    def __init__(self, dialect: Any, tree: Any, fid: Any, path: str, size: int, is_directory: bool,
                 attributes: int = 0) -> None:
        self.dialect = dialect
        self.tree = tree
        self.fid = fid
        self.path = path
        self.size = size
        self.is_directory = is_directory
        #: The file attributes the server reported when it was opened.
        self.attributes = attributes
        #: False once CLOSE was sent.
        self.is_open = True
        #: What tells a changed file on reopening: (size, last write, change time) as
        #: the open reported them (SMB2; None where the open does not tell).
        self.version: Optional[Tuple[int, int, int]] = None
        #: The dialect's record of a durable handle the server granted (SMB2), else None.
        self.durable: Any = None

    @property
    def what(self) -> str:
        return "'%s' on '%s'" % (self.path, self.tree.name)


def read_up_to(file_obj: Any, limit: int) -> bytes:
    """Read until ``limit`` bytes or end of file (``read`` may return less)."""
    pieces = []
    got = 0
    while got < limit:
        piece = file_obj.read(limit - got)
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def whole_write(offset: int, data_len: int, count: int, progress: Optional[Callable[[int], None]],
                confirmed: Optional[Callable[[int, int], None]]) -> int:
    """A small store's one WRITE was answered: it must have written all ``data_len`` bytes;
    reports them and returns the end offset."""
    if count != data_len:
        raise MalformedResponse("server wrote %d bytes of a %d-byte WRITE" % (count, data_len))
    if progress:
        progress(count)
    if confirmed:
        confirmed(offset, count)
    return offset + count


class Prefixed:
    """A reader that returns ``head`` first, then reads from ``file_obj``."""

    def __init__(self, head: bytes, file_obj: Any) -> None:
        self.head = head
        self.file_obj = file_obj

    def read(self, size: int) -> bytes:
        if self.head:
            head, self.head = self.head, b""
            if len(head) > size:
                head, self.head = head[:size], head[size:]
            return head
        return self.file_obj.read(size)


class _IntoView:
    """A ``write``-only sink that fills a memoryview in order (READ data lands
    straight in the caller's buffer)."""

    __slots__ = ("view", "pos")

    def __init__(self, view: memoryview) -> None:
        self.view = view
        self.pos = 0

    def write(self, data: Any) -> int:
        n = len(data)
        self.view[self.pos:self.pos + n] = data
        self.pos += n
        return n


class _FromView:
    """A ``read``-only source over a buffer; each piece is copied, because a
    WRITE given up at its deadline may still be sent after the caller reused
    its buffer."""

    __slots__ = ("view", "pos")

    def __init__(self, data: Any) -> None:
        self.view = memoryview(data).cast("B")
        self.pos = 0

    def read(self, size: int) -> bytes:
        piece = bytes(self.view[self.pos:self.pos + size])
        self.pos += len(piece)
        return piece

#: Bytes a client-side copy holds at once (read as many pipelined READs, then written as WRITEs).
COPY_WINDOW = 8 * 1024 * 1024
_COPY_SRC_ACCESS = C.FILE_READ_DATA | C.FILE_READ_ATTRIBUTES | C.SYNCHRONIZE
# FILE_READ_DATA on the target too: FSCTL_SRV_COPYCHUNK_WRITE needs only write access, but servers
# that know only FSCTL_SRV_COPYCHUNK want read access as well ([MS-SMB2] 3.3.5.15.6).
_COPY_DST_ACCESS = (C.FILE_READ_DATA | C.FILE_WRITE_DATA | C.FILE_READ_ATTRIBUTES | C.FILE_WRITE_ATTRIBUTES
                    | C.SYNCHRONIZE)

#: Every entry, whatever its attributes (used to find what to delete).
_ALL = 0xFFFFFFFF | C.SMB_FILE_ATTRIBUTE_INCL_NORMAL


def header_field(name: str) -> Any:
    """A read-only property giving ``self.header.<name>`` (pysmb's message fields)."""
    return property(lambda self: getattr(self.header, name), doc="``header.%s`` (pysmb's field)" % name)


class ReceivedMessage:
    """What both dialects' received-message objects share: pysmb's ``raw_data``
    and ``payload`` fields (``header`` and ``buf`` are the subclass's slots;
    ``_pysmb_class()`` names the pysmb-shaped message class that decodes it)."""

    __slots__ = ()
    buf: Any

    @staticmethod
    def _pysmb_class() -> Any:
        raise NotImplementedError

    @property
    def raw_data(self) -> bytes:
        """The whole message as received (after decryption)."""
        return bytes(self.buf)

    @property
    def payload(self) -> Any:
        """The message decoded by pysmb's message classes (its response payload;
        ``None`` for a command they do not know)."""
        message = self._pysmb_class()()
        message.decode(bytes(self.buf))
        return message.payload


class Listing:
    """What both dialects' batch-by-batch directory listings share: the target,
    the tree (connected at the first batch) and whether the listing is over.
    Subclasses supply ``fetch(search)`` and ``close()``."""

    def __init__(self, dialect: Any, share: str, path: str, pattern: str) -> None:
        self.dialect = dialect
        self.share = share
        self.path = path
        self.pattern = pattern or "*"
        self.tree: Any = None
        self.finished = False

    @property
    def what(self) -> str:
        return "list '%s' on '%s'" % (self.path, self.share)

    def _tree(self):
        """The share's tree (a generator: connects it at the first batch)."""
        if self.tree is None:
            self.tree = yield from self.dialect.tree(self.share)
        return self.tree


class CommonOps:
    """``delete_files`` with wildcards and recursive folder deletion; a whole
    listing collected from its batches; reads and writes at an offset of an
    open file handle."""

    # ---------------------------------------------------------------- file handles
    def open_handle(self, share: str, path: str, access: int, disposition: int, share_access: int,
                    options: int = C.FILE_NON_DIRECTORY_FILE, durable: bool = False):
        """CREATE ``path`` and keep it open: returns a :class:`FileHandle`.
        A failure is raised as the OSError-compatible subclass of
        :class:`OperationFailure` when there is one (see :func:`file_error`).
        ``durable`` asks for a durable handle where the dialect has them (SMB2)."""
        tree = yield from self.tree(share)  # type: ignore[attr-defined]
        try:
            handle = yield from self._open_handle(tree, path, access, disposition,  # type: ignore[attr-defined]
                                                  share_access, options, durable)
        except OperationFailure as err:
            raise file_error(err) from None
        return handle

    def read_handle(self, handle: FileHandle, start: int, end: int, file_obj: Any,
                    progress: Optional[Callable[[int], None]]):
        """Pipelined READs of ``[start, end)`` into ``file_obj`` (in order); returns
        the bytes read (fewer when the file ends first)."""
        total = yield from self._read_range(handle.tree, handle.fid, start, end,  # type: ignore[attr-defined]
                                            file_obj, progress)
        return total

    def read_into(self, handle: FileHandle, offset: int, buffer: Any):
        """READ into ``buffer`` (a writable bytes-like object) from ``offset``,
        several requests of at most MaxRead bytes in flight; returns the number
        of bytes read (fewer only at the end of the file)."""
        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0
        sink = _IntoView(view)
        yield from self._read_range(handle.tree, handle.fid, offset, offset + len(view),  # type: ignore[attr-defined]
                                    sink, None)
        return sink.pos

    def read_at(self, handle: FileHandle, offset: int, n: int):
        """Up to ``n`` bytes from ``offset`` (fewer only at the end of the file)."""
        buf = bytearray(n)
        got = yield from self.read_into(handle, offset, buf)
        del buf[got:]
        return bytes(buf)

    def write_at(self, handle: FileHandle, offset: int, data: Any):
        """WRITE all of ``data`` at ``offset``, split in MaxWrite pieces with
        several in flight; returns the number of bytes written (all of them:
        a server that writes less is asked again for the rest)."""
        if not len(data):
            return 0
        end = yield from self._write_stream(handle.tree, handle.fid, offset,  # type: ignore[attr-defined]
                                            _FromView(data), None)
        return end - offset

    def copy_file(self, share: str, src: str, dst_share: str, dst: str,
                  progress: Optional[Callable[[int], None]], sized: Optional[Callable[[int], None]] = None):
        """Copy ``src`` on ``share`` to ``dst`` on ``dst_share`` (created or
        replaced); returns the number of bytes copied.

        The server copies the data itself when the dialect offers it (SMB2/3
        server-side copy, see ``_server_copy``); otherwise the data goes through
        the client, :data:`COPY_WINDOW` bytes at a time, each window read with
        several READs in flight and written with several WRITEs in flight.  A
        missing source raises :class:`~smb.exceptions.SMBFileNotFoundError`.
        ``sized(n)`` is told the source's size once it is open.
        """
        source = yield from self.open_handle(share, src, _COPY_SRC_ACCESS, C.FILE_OPEN, C.FILE_SHARE_READ)
        if sized is not None:
            sized(source.size)
        try:
            target = yield from self.open_handle(dst_share, dst, _COPY_DST_ACCESS, C.FILE_OVERWRITE_IF, 0)
        except BaseException:
            self.abort_handle(source)  # type: ignore[attr-defined]
            raise
        try:
            copied = yield from self._server_copy(source, target, progress)
            if copied is None:
                copied = yield from self._client_copy(source, target, progress)
        except BaseException:
            # Fail now; the CLOSEs are answered in the background.
            self.abort_handle(source)  # type: ignore[attr-defined]
            self.abort_handle(target)  # type: ignore[attr-defined]
            raise
        try:
            yield from self.close_handle(target)  # type: ignore[attr-defined]
        finally:
            yield from self.close_handle(source)  # type: ignore[attr-defined]
        return copied

    def _server_copy(self, source: FileHandle, target: FileHandle, progress: Optional[Callable[[int], None]]):
        """Let the server copy ``source`` into ``target``: the number of bytes
        copied, or None when the dialect or the server cannot (the caller then
        copies through the client).  SMB1 here: always None."""
        return None
        yield  # a generator like the dialects' overrides

    def _client_copy(self, source: FileHandle, target: FileHandle, progress: Optional[Callable[[int], None]]):
        """Read a window, write it, until a READ comes back short: memory stays
        at one window whatever the file size."""
        window = bytearray(COPY_WINDOW)
        view = memoryview(window)
        offset = 0
        while True:
            got = yield from self.read_into(source, offset, view)
            if got:
                yield from self.write_at(target, offset, view[:got])
                offset += got
                if progress:
                    progress(got)
            if got < len(view):
                return offset

    def collect_listing(self, listing: Any, search: int):
        """Every batch of ``listing`` (see ``open_listing``) in one list; the
        listing is closed however this ends (without waiting when it failed)."""
        results: List[Any] = []
        try:
            while True:
                batch = yield from listing.fetch(search)
                if batch is None:
                    break
                results.extend(batch)
        except BaseException:
            # Fail now; the close is answered in the background.
            listing.abort()
            raise
        yield from listing.close()
        return results

    def delete_paths(self, share: str, paths: List[str]):
        """Delete these files (several requests in flight); the first failure is raised."""
        tree = yield from self.tree(share)  # type: ignore[attr-defined]
        yield from self._delete_paths(tree, paths)  # type: ignore[attr-defined]

    def delete_files(self, share: str, pattern_path: str, delete_matching_folders: bool):
        """Delete the files matching the last path component (a wildcard
        pattern); matching folders too, recursively, when asked."""
        folder, _, pattern = pattern_path.rpartition("\\")
        entries = yield from self.list_path(share, folder, _ALL, pattern or "*")  # type: ignore[attr-defined]
        entries = [e for e in entries if e.filename not in (".", "..")]
        if not entries:
            raise OperationFailure("delete '%s' on '%s' failed: %s" % (pattern_path, share,
                                                                 status_name(NtStatus.NO_SUCH_FILE)),
                                   [], NtStatus.NO_SUCH_FILE)
        tree = yield from self.tree(share)  # type: ignore[attr-defined]
        files: List[str] = []
        for entry in entries:
            full = folder + "\\" + entry.filename if folder else entry.filename
            if entry.isDirectory:
                if delete_matching_folders:
                    yield from self._delete_tree(share, tree, full)
            else:
                files.append(full)
        yield from self._delete_paths(tree, files)  # type: ignore[attr-defined]

    def _delete_tree(self, share: str, tree: Any, path: str):
        """Delete a folder and everything below it."""
        children = yield from self.list_path(share, path, _ALL, "*")  # type: ignore[attr-defined]
        files: List[str] = []
        for child in children:
            if child.filename in (".", ".."):
                continue
            full = path + "\\" + child.filename
            if child.isDirectory:
                yield from self._delete_tree(share, tree, full)
            else:
                files.append(full)
        yield from self._delete_paths(tree, files)  # type: ignore[attr-defined]
        yield from self.delete_directory(share, path)  # type: ignore[attr-defined]
