"""The NetBIOS session service (RFC 1002 4.3) on the real Samba's session port, and
against tiny fake servers on 127.0.0.1 that refuse, retarget, or proxy to Samba.

Facts checked here about Samba 4.17's smbd: it answers POSITIVE SESSION RESPONSE to a
SESSION REQUEST for any called name (its own, ``*SMBSERVER``, or a name it does not
have), so a wrong called name costs nothing against Samba and the refusals are
exercised with fake servers.  smbd sends RETARGET itself, but only when it listens on
port 139 and ``netbios retarget:<called name> = ip:port`` is configured; one test runs
such a second smbd when port 139 is free.
"""
from __future__ import annotations

import io
import os
import socket
import struct
import threading
import time
import uuid
from typing import Callable, List, Optional, Tuple

import pytest

from smb.exceptions import NotConnectedError, ProtocolError, SMBTimeout
from smb.SMBConnection import SMBConnection
from tests.samba_server import SambaServer, SambaStartError

SESSION_MESSAGE = 0x00
SESSION_REQUEST = 0x81
POSITIVE = 0x82
NEGATIVE = 0x83
RETARGET = 0x84
KEEPALIVE = 0x85
KEEPALIVE_PACKET = bytes([KEEPALIVE, 0, 0, 0])

MY_NAME = "PYTEST-CLIENT"


# ---------------------------------------------------------------- wire helpers (independent of the library)

def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("peer closed")
        buf += chunk
    return buf


def _read_packet(sock: socket.socket) -> Tuple[int, bytes, bytes]:
    """One session packet: (type, header, payload); 24-bit lengths for SESSION MESSAGE."""
    header = _recv_exact(sock, 4)
    mask = 0xFFFFFF if header[0] == SESSION_MESSAGE else 0x1FFFF
    length = int.from_bytes(header[1:], "big") & mask
    return header[0], header, _recv_exact(sock, length)


def _decode_name(encoded: bytes, offset: int) -> Tuple[str, int, int]:
    """(name, suffix, next offset) of a first-level encoded name without scope."""
    assert encoded[offset] == 32
    half = encoded[offset + 1:offset + 33]
    raw = bytes(((half[i] - 0x41) << 4) | (half[i + 1] - 0x41) for i in range(0, 32, 2))
    assert encoded[offset + 33] == 0
    return raw[:15].decode("ascii").rstrip(" "), raw[15], offset + 34


def _parse_request(payload: bytes) -> Tuple[str, str]:
    called, called_suffix, pos = _decode_name(payload, 0)
    calling, _, _ = _decode_name(payload, pos)
    assert called_suffix == 0x20
    return called, calling


def _negative(code: int) -> bytes:
    return bytes([NEGATIVE, 0, 0, 1, code])


def _retarget(ip: str, port: int) -> bytes:
    return bytes([RETARGET, 0, 0, 6]) + socket.inet_aton(ip) + struct.pack(">H", port)


class FakeServer:
    """Accepts connections on 127.0.0.1; each one reads the SESSION REQUEST, records
    ``(called, calling)`` and hands the socket to ``respond(server, index, sock, packet)``."""

    def __init__(self, respond: Callable[["FakeServer", int, socket.socket, bytes], None]) -> None:
        self.respond = respond
        self.requests: List[Tuple[str, str]] = []
        self.errors: List[BaseException] = []
        self.keepalives_sent = 0
        self._sockets: List[socket.socket] = []
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self._track(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _serve(self, sock: socket.socket) -> None:
        try:
            ptype, header, payload = _read_packet(sock)
            assert ptype == SESSION_REQUEST, ptype
            with self._lock:
                self.requests.append(_parse_request(payload))
                index = len(self.requests) - 1
            self.respond(self, index, sock, header + payload)
        except (EOFError, OSError):
            pass
        except BaseException as err:  # noqa: BLE001 - reported by the test
            self.errors.append(err)
        finally:
            sock.close()

    def proxy(self, client: socket.socket, request: bytes, port: int, keepalives: bool = False) -> None:
        """Forward ``request`` and then everything to Samba's session port; with
        ``keepalives`` a SESSION KEEP ALIVE goes before every server packet after the
        session response."""
        upstream = socket.create_connection(("127.0.0.1", port), timeout=30)
        self._track(upstream)
        upstream.sendall(request)

        def client_to_server() -> None:
            try:
                while True:
                    data = client.recv(65536)
                    if not data:
                        break
                    upstream.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    upstream.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        pump = threading.Thread(target=client_to_server, daemon=True)
        pump.start()
        first = True
        try:
            while True:
                _, header, payload = _read_packet(upstream)
                if keepalives and not first:
                    client.sendall(KEEPALIVE_PACKET)
                    self.keepalives_sent += 1
                client.sendall(header + payload)
                first = False
        except (EOFError, OSError):
            pass
        finally:
            upstream.close()
            pump.join(5)

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.close()
                except OSError:
                    pass


@pytest.fixture
def fake_server():
    servers: List[FakeServer] = []

    def start(respond: Callable[[FakeServer, int, socket.socket, bytes], None]) -> FakeServer:
        server = FakeServer(respond)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
        assert not server.errors, server.errors


def _conn(samba, remote_name: str) -> SMBConnection:
    return SMBConnection(samba.user, samba.password, MY_NAME, remote_name, is_direct_tcp=False)


def _roundtrip(conn: SMBConnection, size: int = 100_000) -> None:
    data = os.urandom(size)
    name = "nbss-%s.bin" % uuid.uuid4().hex[:8]
    assert conn.storeFile("data", name, io.BytesIO(data)) == size
    out = io.BytesIO()
    assert conn.retrieveFile("data", name, out)[1] == size
    assert out.getvalue() == data
    conn.deleteFiles("data", name)


def _timed_connect(conn: SMBConnection, port: int, timeout: float = 30) -> Tuple[Optional[BaseException], float]:
    began = time.monotonic()
    try:
        conn.connect("127.0.0.1", port, timeout=timeout)
    except Exception as err:  # noqa: BLE001 - returned to the test
        return err, time.monotonic() - began
    return None, time.monotonic() - began


# ---------------------------------------------------------------- the real Samba

def test_right_called_name_works(samba):
    conn = _conn(samba, samba.netbios_name)
    assert conn.connect(samba.host, samba.netbios_port, timeout=30) is True
    try:
        _roundtrip(conn)
        assert "data" in {s.name for s in conn.listShares()}
    finally:
        conn.close()


@pytest.mark.parametrize("called", ["NOSUCHNAME", "*SMBSERVER", "smbwiretest"])
def test_samba_answers_positive_for_any_called_name(samba, called):
    with socket.create_connection((samba.host, samba.netbios_port), timeout=5) as sock:
        body = _encode_for_test(called, 0x20) + _encode_for_test("PROBE", 0x00)
        sock.sendall(bytes([SESSION_REQUEST, 0]) + struct.pack(">H", len(body)) + body)
        assert _recv_exact(sock, 4) == bytes([POSITIVE, 0, 0, 0])


def test_wrong_called_name_connects_to_samba(samba):
    conn = _conn(samba, "NOSUCHNAME")
    try:
        assert conn.connect(samba.host, samba.netbios_port, timeout=30) is True
        _roundtrip(conn, 1000)
    finally:
        conn.close()


def _encode_for_test(name: str, suffix: int) -> bytes:
    raw = name.upper().encode("ascii").ljust(15, b" ")[:15] + bytes([suffix])
    return bytes([32]) + bytes(b for c in raw for b in (0x41 + (c >> 4), 0x41 + (c & 0xF))) + b"\x00"


# ---------------------------------------------------------------- refusals (fake servers)

@pytest.mark.parametrize("code, cause", [
    (0x80, "Not listening on called name"),
    (0x81, "Not listening for calling name"),
    (0x83, "Called name present, but insufficient resources"),
    (0x8F, "Unspecified error"),
])
def test_negative_session_response_fails_at_once(samba, fake_server, code, cause):
    server = fake_server(lambda srv, i, sock, req: sock.sendall(_negative(code)))
    err, elapsed = _timed_connect(_conn(samba, "FILESRV"), server.port)
    assert isinstance(err, NotConnectedError), err
    assert elapsed < 1.0, elapsed
    assert cause in str(err)
    assert "0x%02X" % code in str(err)
    assert "FILESRV" in str(err)
    assert server.requests == [("FILESRV", MY_NAME)]


def test_called_name_not_present_retries_once_with_smbserver(samba, fake_server):
    server = fake_server(lambda srv, i, sock, req: sock.sendall(_negative(0x82)))
    err, elapsed = _timed_connect(_conn(samba, "WRONGNAME"), server.port)
    assert isinstance(err, NotConnectedError), err
    assert elapsed < 1.0, elapsed
    assert "Called name not present" in str(err) and "*SMBSERVER" in str(err)
    assert server.requests == [("WRONGNAME", MY_NAME), ("*SMBSERVER", MY_NAME)]


def test_smbserver_refused_is_not_retried(samba, fake_server):
    server = fake_server(lambda srv, i, sock, req: sock.sendall(_negative(0x82)))
    err, _ = _timed_connect(_conn(samba, ""), server.port)
    assert isinstance(err, NotConnectedError), err
    assert server.requests == [("*SMBSERVER", MY_NAME)]


def test_smbserver_fallback_then_session_works(samba, fake_server):
    def respond(srv: FakeServer, index: int, sock: socket.socket, request: bytes) -> None:
        if index == 0:
            sock.sendall(_negative(0x82))
        else:
            srv.proxy(sock, request, samba.netbios_port)

    server = fake_server(respond)
    conn = _conn(samba, "WRONGNAME")
    try:
        assert conn.connect("127.0.0.1", server.port, timeout=30) is True
        _roundtrip(conn)
    finally:
        conn.close()
    assert server.requests == [("WRONGNAME", MY_NAME), ("*SMBSERVER", MY_NAME)]


def test_server_closing_without_answer_fails_at_once(samba, fake_server):
    server = fake_server(lambda srv, i, sock, req: None)
    err, elapsed = _timed_connect(_conn(samba, "FILESRV"), server.port)
    assert isinstance(err, NotConnectedError), err
    assert elapsed < 1.0, elapsed


def test_server_that_never_answers_times_out_at_the_deadline(samba, fake_server):
    release = threading.Event()
    server = fake_server(lambda srv, i, sock, req: release.wait(10))
    try:
        err, elapsed = _timed_connect(_conn(samba, "FILESRV"), server.port, timeout=0.5)
    finally:
        release.set()
    assert isinstance(err, SMBTimeout), err
    assert 0.4 < elapsed < 1.5, elapsed


def test_unknown_packet_type_is_protocol_error(samba, fake_server):
    server = fake_server(lambda srv, i, sock, req: sock.sendall(bytes([0x99, 0, 0, 0])))
    err, _ = _timed_connect(_conn(samba, "FILESRV"), server.port)
    assert isinstance(err, ProtocolError), err


# ---------------------------------------------------------------- retarget

def test_retarget_to_samba_is_followed(samba, fake_server):
    server = fake_server(lambda srv, i, sock, req: sock.sendall(_retarget("127.0.0.1", samba.netbios_port)))
    conn = _conn(samba, samba.netbios_name)
    try:
        assert conn.connect("127.0.0.1", server.port, timeout=30) is True
        assert conn.server_ip == "127.0.0.1"
        _roundtrip(conn)
    finally:
        conn.close()
    assert server.requests == [(samba.netbios_name, MY_NAME)]


def test_retarget_loop_is_cut_short(samba, fake_server):
    holder: List[int] = []
    server = fake_server(lambda srv, i, sock, req: sock.sendall(_retarget("127.0.0.1", holder[0])))
    holder.append(server.port)
    err, elapsed = _timed_connect(_conn(samba, "FILESRV"), server.port)
    assert isinstance(err, NotConnectedError), err
    assert "retarget" in str(err)
    assert elapsed < 1.0
    assert 2 <= len(server.requests) <= 8


class _SambaOnPort139(SambaServer):
    """smbd sends RETARGET only on port 139 itself, so this one takes port 139."""

    def _choose_ports(self) -> None:
        super()._choose_ports()
        self.netbios_port = 139


def _port_139_free() -> bool:
    try:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 139))
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def retargeting_samba(samba):
    """A second smbd on port 139 whose ``netbios retarget:ELSEWHERE`` option sends callers
    of ``ELSEWHERE`` to the ``samba`` fixture's session port."""
    if not _port_139_free():
        pytest.skip("port 139 is in use on this host")
    server = _SambaOnPort139(extra_global={"netbios retarget:ELSEWHERE": "127.0.0.1:%d" % samba.netbios_port})
    try:
        server.start()
    except SambaStartError as err:
        pytest.skip("could not start smbd on port 139: %s" % err)
    yield server
    server.stop()


def test_retarget_sent_by_samba_is_followed(samba, retargeting_samba):
    conn = _conn(samba, "ELSEWHERE")
    try:
        assert conn.connect("127.0.0.1", 139, timeout=30) is True
        assert conn.sock is not None and conn.sock.getpeername() == ("127.0.0.1", samba.netbios_port)
        _roundtrip(conn)
    finally:
        conn.close()
    # The same server, called by its own name, keeps the session itself.
    own = SMBConnection(retargeting_samba.user, retargeting_samba.password, MY_NAME,
                        retargeting_samba.netbios_name)
    try:
        assert own.connect("127.0.0.1", 139, timeout=30) is True
        assert own.sock is not None and own.sock.getpeername() == ("127.0.0.1", 139)
    finally:
        own.close()


# ---------------------------------------------------------------- keep-alives

def test_keepalives_between_frames_are_ignored(samba, fake_server):
    server = fake_server(lambda srv, i, sock, req: srv.proxy(sock, req, samba.netbios_port, keepalives=True))
    conn = _conn(samba, samba.netbios_name)
    try:
        assert conn.connect("127.0.0.1", server.port, timeout=30) is True
        _roundtrip(conn, 1_500_000)
        assert conn.echo(b"still in sync") is not None
        assert "data" in {s.name for s in conn.listShares()}
    finally:
        conn.close()
    assert server.keepalives_sent >= 10


def test_keepalive_before_the_session_response_is_ignored(samba, fake_server):
    def respond(srv: FakeServer, index: int, sock: socket.socket, request: bytes) -> None:
        sock.sendall(KEEPALIVE_PACKET)
        srv.proxy(sock, request, samba.netbios_port)

    server = fake_server(respond)
    conn = _conn(samba, samba.netbios_name)
    try:
        assert conn.connect("127.0.0.1", server.port, timeout=30) is True
        _roundtrip(conn, 1000)
    finally:
        conn.close()


# ---------------------------------------------------------------- the asyncio driver

def test_asyncio_driver_runs_the_same_session_exchange(samba, fake_server):
    """The NetBIOS session exchange is one procedure for every driver: the asyncio connection
    falls back to *SMBSERVER, follows a retarget, cuts a retarget loop short, and skips many
    keep-alives before the session answer."""
    import asyncio

    from smb import aio

    def fallback(srv: FakeServer, index: int, sock: socket.socket, request: bytes) -> None:
        if index == 0:
            sock.sendall(_negative(0x82))
        else:
            srv.proxy(sock, request, samba.netbios_port)

    def keepalives_first(srv: FakeServer, index: int, sock: socket.socket, request: bytes) -> None:
        sock.sendall(KEEPALIVE_PACKET * 200)
        srv.proxy(sock, request, samba.netbios_port)

    holder: List[int] = []
    servers = {
        "fallback": fake_server(fallback),
        "retarget": fake_server(lambda srv, i, sock, req: sock.sendall(_retarget("127.0.0.1", samba.netbios_port))),
        "loop": fake_server(lambda srv, i, sock, req: sock.sendall(_retarget("127.0.0.1", holder[0]))),
        "keepalives": fake_server(keepalives_first),
    }
    holder.append(servers["loop"].port)

    async def connect(name: str, called: str) -> aio.SMBConnection:
        conn = aio.SMBConnection(samba.user, samba.password, MY_NAME, called, is_direct_tcp=False)
        assert await conn.connect("127.0.0.1", servers[name].port, timeout=30) is True
        return conn

    async def main() -> None:
        for name, called in (("fallback", "WRONGNAME"), ("retarget", samba.netbios_name),
                             ("keepalives", samba.netbios_name)):
            async with await connect(name, called) as conn:
                assert await conn.echo(b"up") is not None, name
        with pytest.raises(NotConnectedError, match="retarget"):
            await connect("loop", "FILESRV")

    asyncio.run(main())
    assert servers["fallback"].requests == [("WRONGNAME", MY_NAME), ("*SMBSERVER", MY_NAME)]
