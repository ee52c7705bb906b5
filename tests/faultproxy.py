"""A loopback TCP proxy that breaks an SMB connection on purpose.

:class:`FaultProxy` sits between the client and a real ``smbd`` (direct TCP,
port-445 framing: a zero byte and a 24-bit length before every message).  It
reads whole frames in both directions and forwards them, unless a test armed
a fault.  Faults are armed at run time, between client calls, so a test can
connect cleanly and then break exactly the operation it measures:

* :meth:`FaultProxy.drop_after` closes both sides after N more bytes in one
  direction;
* :meth:`FaultProxy.stall` stops forwarding one direction for T seconds (or
  until :meth:`FaultProxy.resume` / forever), optionally after the first few
  bytes of a frame, so the client sees half a frame;
* one-shot frame faults on the next matching server frame:
  :meth:`~FaultProxy.truncate_frame`, :meth:`~FaultProxy.flip_byte`,
  :meth:`~FaultProxy.duplicate_frame`, :meth:`~FaultProxy.reorder_frames`,
  :meth:`~FaultProxy.rewrite_message_id`;
* :attr:`FaultProxy.on_client_frame` / :attr:`FaultProxy.on_server_frame`:
  ``hook(payload) -> None | bytes | list of bytes`` to edit frames (None keeps
  the frame, a list replaces it by zero or more frames).

Every fault returns a :class:`Fault` whose ``fired`` event tells the test it
really happened (a test whose fault never fired proves nothing).

The proxy is bounded in time: it stops itself after ``time_limit`` seconds,
and :meth:`FaultProxy.stop` (or leaving the ``with`` block) closes every
socket, which ends every thread.
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Callable, List, Optional, Tuple, Union

__all__ = ["FaultProxy", "Fault", "command_is", "is_interim", "smb2_command", "smb2_message_id", "is_encrypted",
           "S2C", "C2S"]

S2C = "s2c"
C2S = "c2s"

SMB2_MAGIC = b"\xfeSMB"
TRANSFORM_MAGIC = b"\xfdSMB"
_MID = struct.Struct("<Q")

Hook = Callable[[bytes], Union[None, bytes, List[bytes]]]
Match = Callable[[bytes], bool]


def smb2_command(payload: bytes) -> Optional[int]:
    """The SMB2 command of a plain (not encrypted) SMB2 message, else None."""
    if len(payload) >= 64 and payload[:4] == SMB2_MAGIC:
        return int.from_bytes(payload[12:14], "little")
    return None


def smb2_message_id(payload: bytes) -> Optional[int]:
    if len(payload) >= 64 and payload[:4] == SMB2_MAGIC:
        return int(_MID.unpack_from(payload, 24)[0])
    return None


def is_encrypted(payload: bytes) -> bool:
    return payload[:4] == TRANSFORM_MAGIC


def is_interim(payload: bytes) -> bool:
    """True for an async STATUS_PENDING interim response ([MS-SMB2] 3.3.4.2)."""
    return (len(payload) >= 64 and payload[:4] == SMB2_MAGIC and bool(payload[16] & 0x02)
            and payload[8:12] == b"\x03\x01\x00\x00")


def command_is(command: int, interim: bool = False) -> Match:
    """A frame matcher: plain SMB2 messages whose (first) command is ``command``;
    interim (STATUS_PENDING) responses only with ``interim=True``."""
    return lambda payload: smb2_command(payload) == command and is_interim(payload) == interim


def any_frame(payload: bytes) -> bool:
    return True


class Fault:
    """One armed fault; ``fired`` is set when it acted, ``detail`` says how."""

    def __init__(self, kind: str, direction: str, match: Match, skip: int, **params: object) -> None:
        self.kind = kind
        self.direction = direction
        self.match = match
        self.skip = skip
        self.params = params
        self.fired = threading.Event()
        self.detail = ""

    def __repr__(self) -> str:
        return "Fault(%s %s fired=%s %s)" % (self.kind, self.direction, self.fired.is_set(), self.detail)


class _Closed(Exception):
    """Either side of the link went away (or the proxy stopped)."""


class FaultProxy:
    """Frame-aware fault-injecting proxy from ``listen_host:port`` to ``target``."""

    def __init__(self, target_host: str, target_port: int, *, listen_host: str = "127.0.0.1",
                 time_limit: float = 60.0) -> None:
        self.target = (target_host, target_port)
        self.time_limit = time_limit
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((listen_host, 0))
        self._listener.listen(8)
        self.host, self.port = self._listener.getsockname()[:2]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: List[socket.socket] = []
        self._threads: List[threading.Thread] = []
        self._faults: List[Fault] = []
        self._stall_until = {S2C: 0.0, C2S: 0.0}
        self._stall_after = {S2C: 0, C2S: 0}
        self._stall_fault = {S2C: None, C2S: None}  # type: dict
        self._drop_left = {S2C: -1, C2S: -1}
        self._drop_fault = {S2C: None, C2S: None}  # type: dict
        self.on_client_frame: Optional[Hook] = None
        self.on_server_frame: Optional[Hook] = None
        #: Frames seen (before faults) per direction, and connections accepted.
        self.frames = {S2C: 0, C2S: 0}
        self.connections = 0
        self.started = 0.0
        #: Exceptions raised inside the proxy (by a hook, say); tests assert it stays empty.
        self.errors: List[BaseException] = []

    # ------------------------------------------------------------ life cycle
    def start(self) -> "FaultProxy":
        self.started = time.monotonic()
        self._spawn(self._accept_loop)
        self._spawn(self._watchdog)
        return self

    def stop(self) -> None:
        """Close everything; threads end on their own (they are daemons)."""
        self._stop.set()
        for sock in [self._listener] + self._sockets:
            _shut(sock)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=2)

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="faultproxy")
        self._threads.append(thread)
        thread.start()

    def _watchdog(self) -> None:
        if not self._stop.wait(self.time_limit):
            self.stop()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _shut(client)
                continue
            for sock in (client, server):
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets += [client, server]
                self.connections += 1
            link = (client, server)
            self._spawn(self._pump, client, server, C2S, link)
            self._spawn(self._pump, server, client, S2C, link)

    # ------------------------------------------------------------ arming faults
    def drop_after(self, nbytes: int, direction: str = S2C) -> Fault:
        """Forward ``nbytes`` more bytes in ``direction``, then close both sides."""
        fault = Fault("drop", direction, any_frame, 0, nbytes=nbytes)
        with self._lock:
            self._drop_left[direction] = nbytes
            self._drop_fault[direction] = fault
        return fault

    def stall(self, seconds: Optional[float] = None, direction: str = S2C, after_bytes: int = 0) -> Fault:
        """Stop forwarding ``direction`` for ``seconds`` from now (None: until
        :meth:`resume` or the end).  With ``after_bytes`` the next frame is cut
        after that many bytes (framing header included) and the rest waits."""
        fault = Fault("stall", direction, any_frame, 0, seconds=seconds, after_bytes=after_bytes)
        with self._lock:
            self._stall_until[direction] = float("inf") if seconds is None else time.monotonic() + seconds
            self._stall_after[direction] = after_bytes
            self._stall_fault[direction] = fault
        return fault

    def resume(self, direction: str = S2C) -> None:
        with self._lock:
            self._stall_until[direction] = 0.0

    def _arm(self, kind: str, match: Optional[Match], skip: int, direction: str = S2C, **params: object) -> Fault:
        fault = Fault(kind, direction, match or any_frame, skip, **params)
        with self._lock:
            self._faults.append(fault)
        return fault

    def truncate_frame(self, keep: int, match: Optional[Match] = None, skip: int = 0) -> Fault:
        """Send the framing header (full length) and ``keep`` payload bytes of
        the next matching server frame, then close both sides."""
        return self._arm("truncate", match, skip, keep=keep)

    def flip_byte(self, offset: int, match: Optional[Match] = None, skip: int = 0, mask: int = 0x01) -> Fault:
        """XOR ``mask`` into payload byte ``offset`` of the next matching server
        frame (negative offsets count from the end)."""
        return self._arm("flip", match, skip, offset=offset, mask=mask)

    def duplicate_frame(self, match: Optional[Match] = None, skip: int = 0) -> Fault:
        """Send the next matching server frame twice."""
        return self._arm("duplicate", match, skip)

    def reorder_frames(self, match: Optional[Match] = None, skip: int = 0) -> Fault:
        """Hold the next matching server frame and send it after the one that
        follows it (the two swap places)."""
        return self._arm("reorder", match, skip)

    def rewrite_message_id(self, new_id: Optional[int] = None, match: Optional[Match] = None,
                           skip: int = 0) -> Fault:
        """Change the MessageId of the next matching (plain SMB2) server frame
        (default: add 1000)."""
        return self._arm("mid", match, skip, new_id=new_id)

    # ------------------------------------------------------------ the pumps
    def _pump(self, src: socket.socket, dst: socket.socket, direction: str,
              link: Tuple[socket.socket, socket.socket]) -> None:
        held: Optional[Tuple[bytes, Fault]] = None
        try:
            while not self._stop.is_set():
                header = _recv_exact(src, 4)
                length = int.from_bytes(header[1:4], "big")
                if header[0] != 0:
                    length &= 0x1FFFF
                payload = _recv_exact(src, length)
                with self._lock:
                    self.frames[direction] += 1
                out = self._apply_hook(direction, payload)
                for item in out:
                    for kind, data, fault in self._frame_faults(direction, item):
                        if kind == "hold":
                            held = (data, fault)
                            continue
                        if kind == "raw_then_close":
                            self._send(dst, direction, data)
                            fault.fired.set()
                            raise _Closed()
                        self._send(dst, direction, _frame(data))
                        if held is not None:
                            held_data, held_fault = held
                            held = None
                            self._send(dst, direction, _frame(held_data))
                            held_fault.detail = "frame sent after its successor"
                            held_fault.fired.set()
        except (_Closed, OSError):
            pass
        except Exception as err:  # noqa: BLE001 - a broken hook must show up in the test
            self.errors.append(err)
        finally:
            for sock in link:
                _shut(sock)

    def _apply_hook(self, direction: str, payload: bytes) -> List[bytes]:
        hook = self.on_server_frame if direction == S2C else self.on_client_frame
        if hook is None:
            return [payload]
        result = hook(payload)
        if result is None:
            return [payload]
        if isinstance(result, (bytes, bytearray)):
            return [bytes(result)]
        return [bytes(r) for r in result]

    def _frame_faults(self, direction: str, payload: bytes) -> List[Tuple[str, bytes, Optional[Fault]]]:
        with self._lock:
            fault = None
            for candidate in self._faults:
                if candidate.direction == direction and candidate.match(payload):
                    if candidate.skip > 0:
                        candidate.skip -= 1
                        continue
                    fault = candidate
                    break
            if fault is not None:
                self._faults.remove(fault)
        if fault is None:
            return [("frame", payload, None)]
        kind = fault.kind
        if kind == "flip":
            offset = int(fault.params["offset"])  # type: ignore[arg-type]
            data = bytearray(payload)
            data[offset] ^= int(fault.params["mask"])  # type: ignore[arg-type]
            fault.detail = "byte %d of a %d-byte frame" % (offset % len(data), len(data))
            fault.fired.set()
            return [("frame", bytes(data), fault)]
        if kind == "duplicate":
            fault.fired.set()
            return [("frame", payload, fault), ("frame", payload, fault)]
        if kind == "reorder":
            return [("hold", payload, fault)]
        if kind == "mid":
            data = bytearray(payload)
            old = _MID.unpack_from(data, 24)[0]
            new = fault.params["new_id"]
            new = old + 1000 if new is None else new
            _MID.pack_into(data, 24, new)
            fault.detail = "message id %d -> %d" % (old, new)
            fault.fired.set()
            return [("frame", bytes(data), fault)]
        if kind == "truncate":
            keep = int(fault.params["keep"])  # type: ignore[arg-type]
            fault.detail = "%d of %d payload bytes sent" % (keep, len(payload))
            return [("raw_then_close", _frame(payload)[:4 + keep], fault)]
        raise AssertionError(kind)

    def _send(self, dst: socket.socket, direction: str, data: bytes) -> None:
        view = memoryview(data)
        # A stall may cut the first frame after it was armed.
        with self._lock:
            stalled = self._stall_until[direction] > time.monotonic()
            after = self._stall_after[direction] if stalled else 0
            stall_fault = self._stall_fault[direction] if stalled else None
            if stalled:
                self._stall_after[direction] = 0
        if stalled:
            if after:
                self._forward(dst, direction, view[:after])
                view = view[after:]
            if stall_fault is not None:
                stall_fault.fired.set()
            while not self._stop.is_set():
                with self._lock:
                    until = self._stall_until[direction]
                if time.monotonic() >= until:
                    break
                time.sleep(0.01)
            if self._stop.is_set():
                raise _Closed()
        self._forward(dst, direction, view)

    def _forward(self, dst: socket.socket, direction: str, view: memoryview) -> None:
        with self._lock:
            left = self._drop_left[direction]
            fault = self._drop_fault[direction]
            if left >= 0:
                # Once it fires, the drop is spent: a new connection is not dropped.
                self._drop_left[direction] = left - len(view) if len(view) < left else -1
        if left < 0 or len(view) < left:
            dst.sendall(view)
            return
        if left:
            dst.sendall(view[:left])
        if fault is not None:
            fault.detail = "connection closed after the armed byte count"
            fault.fired.set()
        raise _Closed()


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        r = sock.recv_into(view[got:])
        if r == 0:
            raise _Closed()
        got += r
    return bytes(buf)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
