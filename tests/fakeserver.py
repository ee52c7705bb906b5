"""A scripted fake SMB2 server on loopback, for the misbehaviour Samba never produces.

:class:`FakeSmbServer` listens on 127.0.0.1 (direct TCP framing) and speaks just enough
SMB 2.1 to get :class:`smb.SMBConnection.SMBConnection` connected: it answers the opening
SMB1 NEGOTIATE with the SMB2 wildcard dialect, the SMB2 NEGOTIATE with 2.1 (signing enabled,
not required), and accepts any NTLM exchange (the challenge is fixed, the AUTHENTICATE
message is not checked, the final SESSION_SETUP response is unsigned).  It then serves one
disk share from ``files`` (name -> bytes): TREE_CONNECT, CREATE, READ, WRITE, CLOSE,
QUERY_DIRECTORY, ECHO, FLUSH, TREE_DISCONNECT, LOGOFF; compound requests are split and
answered one frame per message.

Misbehaviour is scripted per command::

    def handler(conn, req):          # conn: Conn, req: Request
        body = conn.server.default(conn, req)[0]   # what a sane server would send
        return [conn.respond(req, b"...", credits=0)]

    server = FakeSmbServer(files={"a.bin": b"x" * 100}, script={READ: handler})

``smb1="ignore"`` makes it behave like a server with SMB1 removed that drops SMB1 frames
without a word; ``smb1="reset"`` resets the connection on one.

A handler returns a list of outputs, each an SMB2 message (``bytes``, framed for it), a
:class:`Raw` (sent as is: broken framing) or :data:`CLOSE`; or it may loop and call
:meth:`Conn.send` itself (endless interim responses).  ``grant(req) -> int`` sets the credits
of every response.  Everything is bounded by ``time_limit``; :meth:`FakeSmbServer.stop` (or
leaving the ``with`` block) closes all sockets.

All layouts are written from [MS-SMB2] 2.2, [MS-FSCC] 2.4.17, [MS-NLMP] 2.2.1.2 and
[RFC 4178] 4.2.2; nothing is taken from the client under test.
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Union

__all__ = ["FakeSmbServer", "Conn", "Request", "Raw", "CLOSE", "header", "error_body",
           "directory_entry", "NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT",
           "CREATE", "CLOSE_CMD", "FLUSH", "READ", "WRITE", "IOCTL", "ECHO", "QUERY_DIRECTORY",
           "STATUS_SUCCESS", "STATUS_PENDING", "STATUS_NO_MORE_FILES", "STATUS_END_OF_FILE"]

NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT, TREE_DISCONNECT = 0, 1, 2, 3, 4
CREATE, CLOSE_CMD, FLUSH, READ, WRITE, LOCK, IOCTL, CANCEL, ECHO, QUERY_DIRECTORY = range(5, 15)

STATUS_SUCCESS = 0x00000000
STATUS_PENDING = 0x00000103
STATUS_NO_MORE_FILES = 0x80000006
STATUS_END_OF_FILE = 0xC0000011
STATUS_MORE_PROCESSING_REQUIRED = 0xC0000016
STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034
STATUS_NOT_SUPPORTED = 0xC00000BB

FLAG_SERVER_TO_REDIR = 0x01
FLAG_ASYNC = 0x02

_HDR = struct.Struct("<4sHHIHHIIQIIQ16s")  # [MS-SMB2] 2.2.1.2 (sync) / 2.2.1.1 (async)
_NEG_RESP = struct.Struct("<HHHH16sIIIIQQHHI")  # 2.2.4, without the buffer
_CREATE_RESP = struct.Struct("<HBBIQQQQQQII16sII")  # 2.2.14
_CLOSE_RESP = struct.Struct("<HHIQQQQQQI")  # 2.2.16
_DIR_ENTRY = struct.Struct("<IIQQQQQQIIIBB24sHQ")  # [MS-FSCC] 2.4.17 fixed part (104 bytes)
_FILETIME = 133000000000000000  # some time in 2022
_SERVER_GUID = bytes(range(16))
_SESSION_ID = 0x0000400000000011
_TREE_ID = 7


class Raw(bytes):
    """Bytes sent exactly as given (no framing header added)."""


class _Close:
    def __repr__(self) -> str:
        return "CLOSE"


#: Output marker: close the connection.
CLOSE = _Close()

Output = Union[bytes, Raw, _Close]


def header(command: int, message_id: int, *, status: int = 0, credits: int = 1, flags: int = FLAG_SERVER_TO_REDIR,
           session_id: int = 0, tree_id: int = 0, async_id: int = 0, next_command: int = 0,
           structure_size: int = 64) -> bytes:
    """A 64-byte SMB2 response header ([MS-SMB2] 2.2.1)."""
    if flags & FLAG_ASYNC:
        low, high = async_id & 0xFFFFFFFF, async_id >> 32
    else:
        low, high = 0xFEFF, tree_id
    return _HDR.pack(b"\xfeSMB", structure_size, 1, status, command, credits, flags, next_command,
                     message_id, low, high, session_id, b"\0" * 16)


def error_body() -> bytes:
    """SMB2 ERROR response body ([MS-SMB2] 2.2.2): StructureSize 9, no data."""
    return struct.pack("<HBBI", 9, 0, 0, 0) + b"\0"


def directory_entry(name: str, *, size: int = 0, attributes: int = 0x80, next_offset: Optional[int] = None,
                    file_id: int = 1) -> bytes:
    """One FileIdBothDirectoryInformation entry ([MS-FSCC] 2.4.17), padded to 8 bytes;
    ``next_offset`` overrides NextEntryOffset (default: 0, the caller chains)."""
    raw = name.encode("utf-16-le")
    fixed = _DIR_ENTRY.pack(0 if next_offset is None else next_offset, 0, _FILETIME, _FILETIME, _FILETIME,
                            _FILETIME, size, size, attributes, len(raw), 0, 0, 0, b"\0" * 24, 0, file_id)
    entry = fixed + raw
    return entry + b"\0" * ((-len(entry)) % 8)


def chain_entries(entries: List[bytes]) -> bytes:
    """Concatenate entries, setting each NextEntryOffset to the next entry (last: 0)."""
    out = bytearray()
    for index, entry in enumerate(entries):
        entry = bytearray(entry)
        struct.pack_into("<I", entry, 0, len(entry) if index < len(entries) - 1 else 0)
        out += entry
    return bytes(out)


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(content)) + content


_NTLMSSP_OID = bytes.fromhex("2b06010401823702020a")  # 1.3.6.1.4.1.311.2.2.10


def _neg_token_resp(state: int, token: Optional[bytes]) -> bytes:
    """SPNEGO NegTokenResp ([RFC 4178] 4.2.2) as a context-tagged [1] blob."""
    fields = _der(0xA0, _der(0x0A, bytes([state])))
    if token is not None:
        fields += _der(0xA1, _der(0x06, _NTLMSSP_OID)) + _der(0xA2, _der(0x04, token))
    return _der(0xA1, _der(0x30, fields))


def _challenge_message() -> bytes:
    """NTLM CHALLENGE_MESSAGE ([MS-NLMP] 2.2.1.2) with a fixed challenge and a small TargetInfo."""
    name = "FAKE".encode("utf-16-le")
    info = (struct.pack("<HH", 2, len(name)) + name  # MsvAvNbDomainName
            + struct.pack("<HH", 1, len(name)) + name  # MsvAvNbComputerName
            + struct.pack("<HH", 0, 0))  # MsvAvEOL
    flags = 0x00000001 | 0x00000004 | 0x00000010 | 0x00000200 | 0x00080000 | 0x00800000 | 0x20000000 \
        | 0x40000000 | 0x80000000
    payload_at = 48
    return (b"NTLMSSP\0" + struct.pack("<I", 2)
            + struct.pack("<HHI", len(name), len(name), payload_at)
            + struct.pack("<I", flags) + b"\x01\x23\x45\x67\x89\xab\xcd\xef" + b"\0" * 8
            + struct.pack("<HHI", len(info), len(info), payload_at + len(name))
            + name + info)


class Request:
    """One SMB2 request received (one message of a compound)."""

    def __init__(self, msg: bytes) -> None:
        (_, _, self.credit_charge, _, self.command, self.credits_requested, self.flags, self.next_command,
         self.message_id, _, self.tree_id, self.session_id, _) = _HDR.unpack_from(msg, 0)
        self.msg = msg

    @property
    def body(self) -> bytes:
        return self.msg[64:]

    def __repr__(self) -> str:
        return "<request cmd=%d mid=%d>" % (self.command, self.message_id)


class _Open:
    def __init__(self, name: str, is_dir: bool) -> None:
        self.name = name
        self.is_dir = is_dir
        self.listed = False


class Conn:
    """The server side of one client connection (handlers get it as ``conn``)."""

    def __init__(self, server: "FakeSmbServer", sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.closed = False
        self.opens: Dict[bytes, _Open] = {}
        self.last_file_id = b"\0" * 16
        self.next_handle = 1
        self.requests: List[Request] = []
        self.smb1_negotiated = False
        #: SMB1 frames received on this connection.
        self.smb1_frames = 0

    # -- output ---------------------------------------------------------------
    def send(self, item: Output) -> None:
        if isinstance(item, _Close):
            self.close()
            return
        data = bytes(item) if isinstance(item, Raw) else len(item).to_bytes(4, "big") + bytes(item)
        try:
            self.sock.sendall(data)
        except OSError:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()

    def respond(self, req: Request, body: bytes, status: int = STATUS_SUCCESS, *, credits: Optional[int] = None,
                message_id: Optional[int] = None, flags: int = FLAG_SERVER_TO_REDIR, async_id: int = 0) -> bytes:
        """A response message to ``req`` (header + ``body``)."""
        if credits is None:
            credits = self.server.grant(req)
        return header(req.command, req.message_id if message_id is None else message_id, status=status,
                      credits=credits, flags=flags, session_id=_SESSION_ID if req.command != NEGOTIATE else 0,
                      tree_id=req.tree_id, async_id=async_id) + body

    def error(self, req: Request, status: int, **kwargs: Any) -> bytes:
        return self.respond(req, error_body(), status, **kwargs)

    def interim(self, req: Request, async_id: int = 0x55) -> bytes:
        """An async STATUS_PENDING interim response ([MS-SMB2] 3.3.4.2), granting no credits."""
        return self.respond(req, error_body(), STATUS_PENDING, credits=0, flags=FLAG_SERVER_TO_REDIR | FLAG_ASYNC,
                            async_id=async_id)

    # -- the loop -------------------------------------------------------------------
    def serve(self) -> None:
        try:
            while not self.closed and not self.server.stopping:
                head = self._recv(4)
                length = int.from_bytes(head[1:4], "big")
                frame = self._recv(length)
                if frame[:4] == b"\xffSMB":
                    self.smb1_frames += 1
                    if self.server.smb1 == "ignore":
                        continue  # a server with SMB1 removed: no answer at all
                    if self.server.smb1 == "reset":
                        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        self.close()  # RST
                        break
                    self.send(self._smb1_negotiate())
                    continue
                offset = 0
                chain_status = 0
                while True:
                    next_command = struct.unpack_from("<I", frame, offset + 20)[0]
                    end = offset + next_command if next_command else len(frame)
                    req = Request(frame[offset:end])
                    self.requests.append(req)
                    related = offset > 0 and req.flags & 0x04
                    if related and chain_status:
                        # [MS-SMB2] 3.3.5.2.7.2: related requests fail as the chain failed.
                        outputs = [self.error(req, chain_status)]
                    else:
                        handler = self.server.script.get(req.command)
                        outputs = handler(self, req) if handler is not None else self.server.default(self, req)
                        if req.command == CREATE:
                            statuses = [struct.unpack_from("<I", bytes(o), 8)[0] for o in outputs or ()
                                        if isinstance(o, (bytes, bytearray)) and len(o) >= 12]
                            chain_status = statuses[-1] if statuses and statuses[-1] & 0xC0000000 else 0
                    for item in outputs or ():
                        self.send(item)
                    if not next_command or self.closed:
                        break
                    offset = end
        except (ConnectionError, OSError, struct.error):
            pass
        except Exception as err:  # noqa: BLE001 - a broken script must show up in the test
            self.server.errors.append(err)
        finally:
            self.close()

    def _recv(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("client closed")
            buf += chunk
        return bytes(buf)

    def _smb1_negotiate(self) -> bytes:
        """Answer pysmb's SMB1 NEGOTIATE with the SMB2 wildcard dialect ([MS-SMB2] 3.3.5.3.1)."""
        self.smb1_negotiated = True
        body = _NEG_RESP.pack(65, 0x01, 0x02FF, 0, _SERVER_GUID, 0, 65536, 65536, 65536, _FILETIME, 0, 128, 0, 0)
        return header(NEGOTIATE, 0, credits=1) + body + b"\0" * 8


class FakeSmbServer:
    """The listening fake server; one :class:`Conn` thread per client connection."""

    def __init__(self, files: Optional[Dict[str, bytes]] = None, script: Optional[Dict[int, Callable]] = None,
                 *, grant: Optional[Callable[[Request], int]] = None, time_limit: float = 30.0,
                 max_read: int = 65536, smb1: str = "answer") -> None:
        if smb1 not in ("answer", "ignore", "reset"):
            raise ValueError("smb1 must be 'answer', 'ignore' or 'reset'")
        #: What an SMB1 frame gets: the SMB2 wildcard NEGOTIATE answer, nothing, or a reset.
        self.smb1 = smb1
        self.files: Dict[str, bytes] = dict(files or {})
        self.script: Dict[int, Callable[[Conn, Request], Optional[List[Output]]]] = dict(script or {})
        self.grant: Callable[[Request], int] = grant or (lambda req: max(1, min(req.credits_requested, 64)))
        self.time_limit = time_limit
        self.max_read = max_read
        self.errors: List[BaseException] = []
        self.conns: List[Conn] = []
        self.stopping = False
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4)
        self.host, self.port = self._listener.getsockname()[:2]
        self._threads: List[threading.Thread] = []
        self._stopped = threading.Event()

    def start(self) -> "FakeSmbServer":
        self._spawn(self._accept_loop)
        self._spawn(self._watchdog)
        return self

    def stop(self) -> None:
        self.stopping = True
        self._stopped.set()
        for how in (lambda: self._listener.shutdown(socket.SHUT_RDWR), self._listener.close):
            try:
                how()  # shutdown wakes the thread blocked in accept()
            except OSError:
                pass
        for conn in self.conns:
            conn.close()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=2)

    def __enter__(self) -> "FakeSmbServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="fakesmb")
        self._threads.append(thread)
        thread.start()

    def _watchdog(self) -> None:
        if not self._stopped.wait(self.time_limit):
            self.stop()

    def _accept_loop(self) -> None:
        while not self.stopping:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Conn(self, sock)
            self.conns.append(conn)
            self._spawn(conn.serve)

    # -- what a sane server answers -----------------------------------------------
    def default(self, conn: Conn, req: Request) -> List[Output]:
        method = _DEFAULTS.get(req.command)
        if method is None:
            return [conn.error(req, STATUS_NOT_SUPPORTED)]
        return method(self, conn, req)

    def _negotiate(self, conn: Conn, req: Request) -> List[Output]:
        body = _NEG_RESP.pack(65, 0x01, 0x0210, 0, _SERVER_GUID, 0x04,  # SMB2_GLOBAL_CAP_LARGE_MTU
                              self.max_read, self.max_read, self.max_read, _FILETIME, 0, 128, 0, 0)
        return [conn.respond(req, body + b"\0" * 8)]

    def _session_setup(self, conn: Conn, req: Request) -> List[Output]:
        if req.session_id == 0:
            token = _neg_token_resp(1, _challenge_message())  # accept-incomplete
            status = STATUS_MORE_PROCESSING_REQUIRED
        else:
            token = _neg_token_resp(0, None)  # accept-completed
            status = STATUS_SUCCESS
        return [conn.respond(req, struct.pack("<HHHH", 9, 0, 72, len(token)) + token, status)]

    def _tree_connect(self, conn: Conn, req: Request) -> List[Output]:
        return [header(req.command, req.message_id, credits=self.grant(req), session_id=_SESSION_ID,
                       tree_id=_TREE_ID) + struct.pack("<HBBIII", 16, 1, 0, 0, 0, 0x001F01FF)]

    def _simple(self, conn: Conn, req: Request) -> List[Output]:
        return [conn.respond(req, struct.pack("<HH", 4, 0))]

    def _create(self, conn: Conn, req: Request) -> List[Output]:
        body = req.body
        disposition, options = struct.unpack_from("<II", body, 36)
        name_off, name_len = struct.unpack_from("<HH", body, 44)
        name = req.msg[name_off:name_off + name_len].decode("utf-16-le").replace("\\", "/")
        is_dir = name == "" or bool(options & 0x1)  # FILE_DIRECTORY_FILE
        if not is_dir and name not in self.files:
            if disposition in (0, 1):  # FILE_SUPERSEDE / FILE_OPEN would need the file
                return [conn.error(req, STATUS_OBJECT_NAME_NOT_FOUND)]
            self.files[name] = b""
        if not is_dir and disposition in (0, 4, 5):  # supersede / overwrite(_if)
            self.files[name] = b""
        file_id = conn.next_handle.to_bytes(8, "little") * 2
        conn.next_handle += 1
        conn.opens[file_id] = _Open(name, is_dir)
        conn.last_file_id = file_id
        size = 0 if is_dir else len(self.files[name])
        attrs = 0x10 if is_dir else 0x80
        body = _CREATE_RESP.pack(89, 0, 0, 1, _FILETIME, _FILETIME, _FILETIME, _FILETIME, size, size, attrs, 0,
                                 file_id, 0, 0)
        return [conn.respond(req, body + b"\0" * 8)]

    def _open_of(self, conn: Conn, req: Request, at: int) -> _Open:
        file_id = req.body[at:at + 16]
        if file_id == b"\xff" * 16:
            file_id = conn.last_file_id
        return conn.opens[file_id]

    def _close(self, conn: Conn, req: Request) -> List[Output]:
        return [conn.respond(req, _CLOSE_RESP.pack(60, 0, 0, 0, 0, 0, 0, 0, 0, 0))]

    def _read(self, conn: Conn, req: Request) -> List[Output]:
        length, offset = struct.unpack_from("<IQ", req.body, 4)
        data = self.files[self._open_of(conn, req, 16).name][offset:offset + length]
        if not data:
            return [conn.error(req, STATUS_END_OF_FILE)]
        return [conn.respond(req, read_body(data))]

    def _write(self, conn: Conn, req: Request) -> List[Output]:
        data_off, length, offset = struct.unpack_from("<HIQ", req.body, 2)
        name = self._open_of(conn, req, 16).name
        data = req.msg[data_off:data_off + length]
        old = self.files[name]
        self.files[name] = old[:offset].ljust(offset, b"\0") + data + old[offset + length:]
        return [conn.respond(req, struct.pack("<HHIIHH", 17, 0, length, 0, 0, 0) + b"\0")]

    def _query_directory(self, conn: Conn, req: Request) -> List[Output]:
        flags = req.body[3]
        opened = self._open_of(conn, req, 8)
        if flags & 0x01:  # RESTART_SCANS
            opened.listed = False
        if opened.listed:
            return [conn.error(req, STATUS_NO_MORE_FILES)]
        opened.listed = True
        entries = [directory_entry(".", attributes=0x10), directory_entry("..", attributes=0x10)]
        entries += [directory_entry(name, size=len(data), file_id=i + 10)
                    for i, (name, data) in enumerate(sorted(self.files.items()))]
        return [conn.respond(req, query_directory_body(chain_entries(entries)))]


def read_body(data: bytes, *, data_length: Optional[int] = None, data_offset: int = 80,
              structure_size: int = 17) -> bytes:
    """READ response body ([MS-SMB2] 2.2.19): data right after the 16-byte fixed part."""
    length = len(data) if data_length is None else data_length
    return struct.pack("<HBBIII", structure_size, data_offset, 0, length, 0, 0) + data


def query_directory_body(buffer: bytes, *, offset: int = 72, length: Optional[int] = None) -> bytes:
    """QUERY_DIRECTORY response body ([MS-SMB2] 2.2.34)."""
    return struct.pack("<HHI", 9, offset, len(buffer) if length is None else length) + buffer


_DEFAULTS: Dict[int, Callable[[FakeSmbServer, Conn, Request], List[Output]]] = {
    NEGOTIATE: FakeSmbServer._negotiate,
    SESSION_SETUP: FakeSmbServer._session_setup,
    TREE_CONNECT: FakeSmbServer._tree_connect,
    TREE_DISCONNECT: FakeSmbServer._simple,
    LOGOFF: FakeSmbServer._simple,
    ECHO: FakeSmbServer._simple,
    FLUSH: FakeSmbServer._simple,
    CREATE: FakeSmbServer._create,
    CLOSE_CMD: FakeSmbServer._close,
    READ: FakeSmbServer._read,
    WRITE: FakeSmbServer._write,
    QUERY_DIRECTORY: FakeSmbServer._query_directory,
}


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` (test helper)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
