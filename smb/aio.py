"""The SMB client for asyncio: :class:`SMBConnection` with coroutine methods.

The same constructor and calls as the blocking :class:`smb.SMBConnection.SMBConnection`,
each a coroutine; the same IO-free core and the same procedures
(:mod:`smb._procedures`) run them, so connect, logon, DFS and every call behave
the same.  This module only owns a transport of the running loop, timers and
futures.  Any number of tasks may use one connection at once
(``asyncio.gather``): their requests share the connection's credits and are
answered in any order.  Cancelling a task (``asyncio.wait_for``,
``task.cancel()``) gives its operation up: the core lets it send what cleaning
up needs (the CLOSE of an open file) and drops the answers still due to it; the
connection stays usable.

.. code-block:: python

    import asyncio
    from smb.aio import SMBConnection

    async def main():
        async with SMBConnection("user", "secret", "client", "server", is_direct_tcp=True) as conn:
            await conn.connect("192.0.2.10", 445)
            files = await conn.listPath("share", "/")
            with open("local.bin", "wb") as f:
                await conn.retrieveFile("share", "/remote.bin", f)

    asyncio.run(main())
"""
from __future__ import annotations

import asyncio
import codecs
import inspect
import io
import logging
import os
import re
import socket
import time
from types import TracebackType
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Tuple, Type

from . import _procedures as P
from ._framing import HEADER_SIZE, SESSION_KEEPALIVE, SESSION_MESSAGE
from ._procedures import ClientBase
from .base import SIGN_NEVER, SIGN_WHEN_REQUIRED, SIGN_WHEN_SUPPORTED, Operation  # noqa: F401 (public names)
from .exceptions import NotConnectedError, OperationFailure, ProtocolError, SMBTimeout
from .nt_status import NtStatus
from .smbfile import default_buffer_size, parse_mode

__all__ = ["SMBConnection", "SMBFile", "SIGN_NEVER", "SIGN_WHEN_SUPPORTED", "SIGN_WHEN_REQUIRED"]

log = logging.getLogger("SMB.SMBConnection")
_SMALL = 64 * 1024
#: Packets (other than keep-alives) a server may send before the NetBIOS session answer is read.
_MAX_EARLY_PACKETS = 16
_ANY_NEWLINE = re.compile("\r\n|\r|\n")


class _Stream(asyncio.BufferedProtocol):
    """Frames from the transport, received straight into a reusable buffer: the
    4-byte header, then the payload; each whole frame goes to the connection."""

    def __init__(self, conn: "SMBConnection") -> None:
        self.conn = conn
        self.transport: Optional[asyncio.Transport] = None
        self.header = bytearray(HEADER_SIZE)
        self.buf = bytearray(256 * 1024)
        self.got = 0
        self.length = -1  # -1: reading the header
        self.packet_type = 0
        self.frames = 0
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        if self.length < 0:
            return memoryview(self.header)[self.got:]
        return memoryview(self.buf)[self.got:self.length]

    def buffer_updated(self, nbytes: int) -> None:
        self.got += nbytes
        if self.length < 0:
            if self.got < HEADER_SIZE:
                return
            try:
                self.packet_type, self.length = self.conn.framer.parse_header(bytes(self.header))
            except ProtocolError as err:
                self.conn._stream_failed(self, err)
                return
            if self.length > len(self.buf):
                self.buf = bytearray(self.length)
            self.got = 0
            if self.length:
                return
        if self.got < self.length:
            return
        packet_type, length = self.packet_type, self.length
        self.length, self.got = -1, 0
        self.frames += 1
        self.conn._last_heard = time.monotonic()
        self.conn._frame_in(self, packet_type, memoryview(self.buf)[:length])

    def eof_received(self) -> Optional[bool]:
        return False  # close the transport: connection_lost follows

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.conn._stream_failed(self, NotConnectedError("connection closed by the server" if exc is None
                                                          else "connection lost: %s" % exc))


class SMBConnection(ClientBase):
    """An SMB connection driven by asyncio: the constructor of
    :class:`smb.SMBConnection.SMBConnection` (pysmb's, plus ours), every call
    as a coroutine, ``iterPath`` and ``walk`` as async iterators, ``openFile``
    returning an :class:`SMBFile` (async methods), ``async with``.

    ``retrieveFile`` (and ``storeFile``) take a plain file object, written
    (read) within the loop's callbacks, or an async one whose ``write`` (``read``)
    is a coroutine function (aiofiles', for instance): then the data moves in
    windows of :data:`smb._procedures.ASYNC_FILE_CHUNK` bytes, each awaited into
    (out of) the file.  Blocking work (the KDC exchanges of a Kerberos logon)
    runs in the loop's default executor.
    """

    log = log

    def _init_driver(self) -> None:
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stream: Optional[_Stream] = None
        #: Operations being awaited, each with the future its caller awaits.
        self._waiters: Dict[Operation, "asyncio.Future[None]"] = {}
        #: NetBIOS session packets before the first SMB frame, and who waits for one.
        self._packets: List[Tuple[int, bytes]] = []
        self._packet_waiter: Optional["asyncio.Future[None]"] = None
        self._peer_lock: Optional[asyncio.Lock] = None
        self._keepalive_task: Optional["asyncio.Task[None]"] = None

    @property
    def is_busy(self) -> bool:
        """True while a call is waiting for the server on this connection."""
        return bool(self._waiters)

    async def __aenter__(self) -> "SMBConnection":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        await self.close()

    # ------------------------------------------------------------------ procedures
    def _offload(self, fn: Callable[..., Any], *args: Any) -> Any:
        return asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def _open_file(self, *args: Any) -> Any:
        return SMBFile._open(self, *args)

    def _sleep(self, seconds: float) -> Any:
        return asyncio.sleep(seconds)

    def _start_keepalive(self) -> None:
        stream = self._stream
        interval = max(0.05, (self.keepalive or 1.0) / 2)

        async def run() -> None:
            while self._stream is stream and stream is not None and self.broken is None:
                await asyncio.sleep(interval)
                try:
                    await self._complete(self._keepalive())
                except Exception as err:  # noqa: BLE001 - the task must not die noisily
                    self.log.debug("keep-alive failed: %s", err)

        self._keepalive_task = asyncio.get_running_loop().create_task(run())

    async def _complete(self, proc: P.Proc[Any], err: Optional[BaseException] = None, emits: bool = False) -> Any:
        """Run procedure ``proc`` to its end (``err`` thrown in first); its result.  With
        ``emits`` it stops at what the procedure emits (and returns that :class:`Emit`)."""
        run = P.Runner(proc, err)
        while True:
            req = run.next()
            if req is None or (emits and type(req) is P.Emit):
                return run.result if req is None else req
            try:
                answer = self._serve(req)
                run.value = (await answer) if inspect.isawaitable(answer) else answer
            except BaseException as exc:  # noqa: BLE001 - handed to the procedure
                run.error = exc

    async def _iterate(self, proc: P.Proc[Any]) -> AsyncIterator[Any]:
        """Run an iterating procedure, yielding what it emits; closing the iterator
        (``aclose()``, ``break``) lets the procedure clean up before it ends."""
        while True:
            item = await self._complete(proc, emits=True)
            if type(item) is not P.Emit:
                return
            try:
                yield item.value
            except GeneratorExit:
                try:
                    await self._complete(proc, P.Closing())
                except P.Closing:
                    pass
                raise

    def _heard_anything(self) -> bool:
        return self._stream is not None and (self._stream.frames > 0 or self._stream.got > 0)

    def _transport_open(self) -> bool:
        return self._stream is not None

    # ------------------------------------------------------------------ running operations
    async def _call(self, gen: Any, timeout: float, name: str) -> Any:
        """Run one operation generator within ``timeout`` seconds; its outcome.  On
        a timeout or a cancellation the operation is given up (its cleanup goes out,
        its late answers are dropped) and SMBTimeout / CancelledError raised."""
        op = self._start_checked(gen, name)
        self._flush()
        if op.done:
            return op.outcome()
        loop = asyncio.get_running_loop()
        fut: "asyncio.Future[None]" = loop.create_future()
        self._waiters[op] = fut
        timer = loop.call_later(max(0.0, timeout), self._expire, op)
        try:
            await fut
        except BaseException:
            if not op.done and self.broken is None:
                self.abandon(op)
                self._flush()
            raise
        finally:
            timer.cancel()
            self._waiters.pop(op, None)
        return op.outcome()

    def _expire(self, op: Operation) -> None:
        fut = self._waiters.get(op)
        if fut is not None and not fut.done():
            fut.set_exception(SMBTimeout("operation %s timed out" % op.name))

    def op_finished(self, op: Operation) -> None:
        fut = self._waiters.get(op)
        if fut is not None and not fut.done():
            fut.set_result(None)

    def _wake(self, everyone: Optional[BaseException] = None) -> None:
        """Resolve the futures of finished operations (of all, with ``everyone``)."""
        for op, fut in list(self._waiters.items()):
            if fut.done():
                continue
            if op.done:
                fut.set_result(None)
            elif everyone is not None:
                fut.set_exception(everyone)

    def _flush(self) -> None:
        stream = self._stream
        frames = self.frames_to_send()
        if stream is None or stream.transport is None:
            return
        # Small pieces (headers, small requests, whole small frames) go out joined: one
        # send instead of one per piece; large payloads are written as they are.
        write = stream.transport.write
        small: List[Any] = []
        for frame in frames:
            for piece in frame:
                if len(piece) < _SMALL:
                    small.append(piece)
                    continue
                if small:
                    write(b"".join(small))
                    small = []
                write(piece)
        if small:
            write(b"".join(small))

    def _frame_in(self, stream: _Stream, packet_type: int, frame: memoryview) -> None:
        if stream is not self._stream:
            return
        if packet_type == SESSION_KEEPALIVE:
            return
        if self.dialect is None:  # before NEGOTIATE: the NetBIOS session exchange
            if len(self._packets) >= _MAX_EARLY_PACKETS:
                self._stream_failed(stream, ProtocolError("%d NetBIOS packets before the session answer"
                                                          % len(self._packets)))
                return
            self._packets.append((packet_type, bytes(frame)))
            if self._packet_waiter is not None and not self._packet_waiter.done():
                self._packet_waiter.set_result(None)
            return
        try:
            if packet_type != SESSION_MESSAGE:
                raise ProtocolError("unexpected NetBIOS packet type 0x%02X" % packet_type)
            self.receive_frame(frame)
        except (ProtocolError, NotConnectedError) as err:
            self._stream_failed(stream, err)
            return
        self._flush()

    def _stream_failed(self, stream: _Stream, err: BaseException) -> None:
        if stream is not self._stream:
            return
        if self.broken is None:
            self.mark_broken(err)
        self._close_transport()
        self._wake(NotConnectedError("connection is broken (%s)" % (self.broken,)))
        if self._packet_waiter is not None and not self._packet_waiter.done():
            self._packet_waiter.set_exception(NotConnectedError(str(err)))

    def _close_transport(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None and stream.transport is not None:
            stream.transport.abort()

    # ------------------------------------------------------------------ transport
    async def _dial(self, ip: str, port: int, family: Optional[int], deadline: float, fresh: bool) -> None:
        if fresh:
            self.reset()
            self._packets = []
        else:
            self._hang_up()
        self.server_ip = ip
        loop = asyncio.get_running_loop()
        self._loop = loop
        stream = _Stream(self)
        try:
            await asyncio.wait_for(loop.create_connection(lambda: stream, ip, port, family=family or 0),
                                   max(0.001, deadline - time.monotonic()))
        except asyncio.TimeoutError as err:
            raise SMBTimeout("timed out connecting to %s:%d" % (ip, port)) from err
        except OSError as err:
            raise NotConnectedError("cannot connect to %s:%d: %s" % (ip, port, err)) from err
        sock = stream.transport.get_extra_info("socket") if stream.transport is not None else None
        if sock is not None:
            for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, opt, 4 * 1024 * 1024)
                except OSError:
                    pass
        self._stream = stream

    def _hang_up(self) -> None:
        """Close the transport and forget the logon; calls still waiting fail."""
        self._close_transport()
        self.has_authenticated = False
        self._wake(NotConnectedError("the connection was closed"))

    def _send_raw(self, data: bytes, deadline: float = 0.0) -> None:
        if self._stream is None or self._stream.transport is None:
            raise NotConnectedError("not connected")
        self._stream.transport.write(data)

    async def _read_packet(self, deadline: float) -> Tuple[int, bytes]:
        while not self._packets:
            if self._stream is None:
                raise NotConnectedError("connection closed by the server")
            fut = self._packet_waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(fut, max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError as err:
                raise SMBTimeout("timed out waiting for the server") from err
            finally:
                self._packet_waiter = None
        return self._packets.pop(0)

    # ------------------------------------------------------------------ connect / close
    async def close(self) -> None:
        """Log off and close the transport (and those of the DFS targets it opened).
        Idempotent; never raises.  The LOGOFF is sent, not waited for; calls still
        waiting end with :class:`~smb.exceptions.NotConnectedError`."""
        peers, self._dfs_peers = self._dfs_peers, {}
        for peer in peers.values():
            await peer.close()
        task, self._keepalive_task = self._keepalive_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        if self._stream is None:
            return
        if not self._waiters:
            self._queue_logoff()
            self._flush()
        stream, self._stream = self._stream, None
        if self._waiters and self.broken is None:
            self.mark_broken(NotConnectedError("the connection was closed"))
        self.has_authenticated = False
        self._wake(NotConnectedError("the connection was closed"))
        if stream.transport is not None:
            stream.transport.close()  # what is queued still goes out

    def write(self, data: bytes) -> None:
        """Send raw bytes on the connection (pysmb's transport hook)."""
        self._send_raw(data, 0.0)

    # ------------------------------------------------------------------ public API
    # Each call is its procedure in smb._procedures, run in the calling task (installed after
    # the class); the tree copies run their local side in a worker thread.
    async def downloadTree(self, service_name: str, remote_dir: str, local_dir: Any, show_progress: bool = False,
                           callback: Optional[Callable[[int, int, int, int], Any]] = None,
                           timeout: float = 30) -> Any:
        """:meth:`smb.SMBConnection.SMBConnection.downloadTree`: the local side (folders,
        files, the name checks) runs in a worker thread, every call on the server in
        this loop."""
        from .treecopy import download_tree
        facade: Any = _ThreadFacade(self, asyncio.get_running_loop())
        return await asyncio.get_running_loop().run_in_executor(
            None, download_tree, facade, service_name, remote_dir, local_dir, show_progress, callback, timeout)

    async def uploadTree(self, local_dir: Any, service_name: str, remote_dir: str, show_progress: bool = False,
                         callback: Optional[Callable[[int, int, int, int], Any]] = None,
                         timeout: float = 30) -> Any:
        """:meth:`smb.SMBConnection.SMBConnection.uploadTree`, the local side in a worker thread."""
        from .treecopy import upload_tree
        facade: Any = _ThreadFacade(self, asyncio.get_running_loop())
        return await asyncio.get_running_loop().run_in_executor(
            None, upload_tree, facade, local_dir, service_name, remote_dir, show_progress, callback, timeout)

    # ------------------------------------------------------------------ DFS peers
    async def _dfs_peer(self, server: str) -> "SMBConnection":
        if self._is_this_server(server):
            return self
        if self._peer_lock is None:
            self._peer_lock = asyncio.Lock()
        async with self._peer_lock:
            key = (server.lower(), self._port)
            peer = self._dfs_peers.get(key)
            if peer is not None and peer._stream is not None and peer.broken is None:
                return peer
            peer = self._new_peer(server)
            if not await peer.connect(server, self._port, timeout=30):
                raise OperationFailure("DFS target %s refused the logon" % server, [], NtStatus.LOGON_FAILURE)
            self._dfs_peers[key] = peer
            return peer


P.install(SMBConnection, SMBConnection._complete, SMBConnection._iterate)


class _ThreadFacade:
    """The blocking calls :mod:`smb.treecopy` makes, for a worker thread: each one
    runs as a coroutine of the asyncio connection in its loop."""

    def __init__(self, conn: SMBConnection, loop: asyncio.AbstractEventLoop) -> None:
        self._conn, self._loop = conn, loop

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def iterPath(self, *args: Any, **kwargs: Any) -> Any:
        agen = self._conn.iterPath(*args, **kwargs)
        try:
            while True:
                try:
                    item = self._run(agen.__anext__())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            self._run(agen.aclose())

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._conn, name)
        return lambda *args, **kwargs: self._run(method(*args, **kwargs))


class SMBFile:
    """A file on the share opened by :meth:`SMBConnection.openFile`: :func:`open`'s
    modes, with coroutine methods (``await f.read(n)``, ``await f.write(b)``,
    ``await f.seek(pos)``, ``await f.close()``), ``async with`` and, in text mode,
    ``async for line in f``.  Reads come in windows of several MaxReads (READs in
    flight); writes are gathered up to such a window before they go out (``flush()``
    sends them)."""

    def __init__(self, conn: Any, handle: Any, mode: str, binary: bool, can_read: bool,
                 can_write: bool, appending: bool, buffer_size: int, encoding: Optional[str],
                 errors: Optional[str], newline: Optional[str], timeout: float) -> None:
        self._conn, self._handle, self.mode = conn, handle, mode
        self.name = handle.path
        self._binary, self._can_read, self._can_write, self._appending = binary, can_read, can_write, appending
        self._chunk = buffer_size
        self._timeout = timeout
        self._pos = 0
        self._size = handle.size
        #: Read buffer: bytes of the file from ``_rbuf_at``.
        self._rbuf = b""
        self._rbuf_at = 0
        self._wbuf = bytearray()
        self._wbuf_at = 0
        self.closed = False
        self.encoding = encoding or "utf-8"
        self.errors = errors or "strict"
        self.newline = newline
        self._decoder: Any = None
        self._text = ""  # decoded, not yet returned (text mode)

    @classmethod
    async def _open(cls, conn: SMBConnection, service_name: str, path: str, mode: str = "rb",
                    buffering: int = -1, encoding: Optional[str] = None, errors: Optional[str] = None,
                    newline: Optional[str] = None, share_access: str = "r", timeout: float = 30) -> "SMBFile":
        m = parse_mode(mode, buffering, encoding, errors, newline, share_access)
        ops = conn._dialect_ops()
        handle = await conn._call(ops.open_handle(service_name, path, m.access, m.disposition, m.share_mask),
                                  timeout, "openFile")
        size = buffering if buffering > 1 else default_buffer_size(int(getattr(ops, "max_read", 65536)))
        f = cls(conn, handle, mode, m.binary, m.can_read, m.can_write, m.appending, size,
                None if m.binary else (encoding or "utf-8"), errors, newline, timeout)
        if m.appending:
            f._pos = f._size
        return f

    @property
    def size(self) -> int:
        """The size of the file (as far as this handle knows: what it was opened at,
        grown by what it wrote)."""
        return max(self._size, self._wbuf_at + len(self._wbuf))

    def _call(self, gen: Any, what: str) -> Any:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        ops = self._conn.dialect
        if self._conn._stream is None or ops is not self._handle.dialect:
            raise NotConnectedError("the connection of this file was closed")
        return self._conn._call(gen, self._timeout, what)

    def _check(self, reading: bool) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if reading and not self._can_read:
            raise io.UnsupportedOperation("not readable")
        if not reading and not self._can_write:
            raise io.UnsupportedOperation("not writable")

    # -- bytes ------------------------------------------------------------------------------
    async def _fill(self) -> bool:
        """Make the read buffer hold the byte at the position; False at the end of the file."""
        start = self._pos - self._rbuf_at
        if 0 <= start < len(self._rbuf):
            return True
        await self.flush()
        data = await self._call(self._conn.dialect.read_at(self._handle, self._pos, self._chunk), "read")
        if not data:
            return False
        self._rbuf, self._rbuf_at = data, self._pos
        return True

    async def _read_bytes(self, n: int) -> bytes:
        """Up to ``n`` bytes from the position (``n`` < 0: to the end)."""
        out = bytearray()
        while (n < 0 or len(out) < n) and await self._fill():
            start = self._pos - self._rbuf_at
            take = self._rbuf[start:] if n < 0 else self._rbuf[start:start + n - len(out)]
            out += take
            self._pos += len(take)
        return bytes(out)

    async def read(self, n: int = -1) -> Any:
        """Up to ``n`` bytes (characters in text mode); all the rest with ``n`` < 0;
        empty at the end of the file."""
        self._check(True)
        if self._binary:
            return await self._read_bytes(n)
        while n < 0 or len(self._text) < n:
            data = await self._read_bytes(self._chunk)
            self._decode(data)
            if not data:
                break
        if n < 0:
            text, self._text = self._text, ""
        else:
            text, self._text = self._text[:n], self._text[n:]
        return text

    def _decode(self, data: bytes) -> None:
        if self._decoder is None:
            decoder = codecs.getincrementaldecoder(self.encoding)(self.errors)
            self._decoder = io.IncrementalNewlineDecoder(decoder, translate=self.newline is None)
        self._text += self._decoder.decode(data, final=not data)

    def _line_end(self, eof: bool) -> int:
        """Where the first whole line of the decoded text ends (-1: none yet)."""
        text = self._text
        if self.newline == "":
            found = _ANY_NEWLINE.search(text)
            if found is None or (found.group() == "\r" and found.end() == len(text) and not eof):
                return -1  # a CR at the end may be the first half of a CRLF
            return found.end()
        end = "\n" if self.newline is None else self.newline
        cut = text.find(end)
        return -1 if cut < 0 else cut + len(end)

    async def readline(self) -> Any:
        """One line, its end included (text mode: lines split as :func:`open` splits them)."""
        self._check(True)
        if self._binary:
            raw = bytearray()
            while await self._fill():
                start = self._pos - self._rbuf_at
                cut = self._rbuf.find(b"\n", start)
                end = len(self._rbuf) if cut < 0 else cut + 1
                raw += self._rbuf[start:end]
                self._pos += end - start
                if cut >= 0:
                    break
            return bytes(raw)
        eof = False
        while True:
            cut = self._line_end(eof)
            if cut >= 0 or eof:
                cut = len(self._text) if cut < 0 else cut
                line, self._text = self._text[:cut], self._text[cut:]
                return line
            data = await self._read_bytes(self._chunk)
            self._decode(data)
            eof = not data

    def __aiter__(self) -> "SMBFile":
        return self

    async def __anext__(self) -> Any:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line

    async def write(self, data: Any) -> int:
        """Write ``data`` (bytes, or str in text mode) at the position (at the end in
        append mode); returns its length."""
        self._check(False)
        if self._binary:
            raw = bytes(data)
        else:
            if not isinstance(data, str):
                raise TypeError("write() argument must be str, not %s" % type(data).__name__)
            text = data if self.newline in (None, "", "\n") else data.replace("\n", self.newline)
            raw = text.encode(self.encoding, self.errors)
        if self._appending:
            self._pos = self.size
        if self._wbuf and self._wbuf_at + len(self._wbuf) != self._pos:
            await self.flush()
        if not self._wbuf:
            self._wbuf_at = self._pos
        self._wbuf += raw
        self._pos += len(raw)
        self._rbuf = b""
        self._text = ""
        if len(self._wbuf) >= self._chunk:
            await self.flush()
        return len(data)

    async def flush(self) -> None:
        """Send the gathered writes."""
        if not self._wbuf:
            return
        data, at = bytes(self._wbuf), self._wbuf_at
        self._wbuf = bytearray()
        await self._call(self._conn.dialect.write_at(self._handle, at, data), "write")
        self._size = max(self._size, at + len(data))

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the position (``SEEK_END`` asks the server for the size); the new position."""
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if whence == os.SEEK_SET:
            pos = offset
        elif whence == os.SEEK_CUR:
            pos = self._pos + offset
        elif whence == os.SEEK_END:
            await self.flush()
            self._size = int(await self._call(self._conn.dialect.query_size(self._handle), "seek"))
            pos = self._size + offset
        else:
            raise ValueError("invalid whence (%r)" % (whence,))
        if pos < 0:
            raise ValueError("negative seek position %d" % pos)
        self._pos = pos
        self._text = ""
        self._decoder = None
        return pos

    def tell(self) -> int:
        return self._pos

    async def truncate(self, size: Optional[int] = None) -> int:
        """Cut (or extend) the file to ``size`` bytes (default: the position)."""
        self._check(False)
        await self.flush()
        size = self._pos if size is None else size
        await self._call(self._conn.dialect.truncate_handle(self._handle, size), "truncate")
        self._size = size
        self._rbuf = b""
        return size

    async def close(self) -> None:
        """Send what is gathered and close the server's handle.  Idempotent."""
        if self.closed:
            return
        try:
            await self.flush()
        finally:
            self.closed = True
            conn = self._conn
            if conn._stream is not None and conn.dialect is self._handle.dialect and self._handle.is_open:
                await conn._call(conn.dialect.close_handle(self._handle), self._timeout, "close")

    async def __aenter__(self) -> "SMBFile":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return "<smb.aio.SMBFile %r mode=%r%s>" % (self.name, self.mode, " closed" if self.closed else "")
