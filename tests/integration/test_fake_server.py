"""A scripted hostile SMB2 server (tests/fakeserver.py): what Samba never sends.

Contract, as in test_faults.py: the call raises ``ProtocolError``, ``SMBTimeout`` or
``NotConnectedError`` within its deadline, never returns as if complete, never raises anything
else.  After a ``ProtocolError`` about the message stream (framing, message ids) the connection
is marked broken (``NotConnectedError``); after a ``MalformedResponse`` (a response that arrived
whole but whose body does not decode) only that operation failed and the connection still works.
These tests need no Samba (they live under integration/ because they use real sockets).
"""
from __future__ import annotations

import io
import struct
import time
from typing import Any, Callable, Dict, Optional, Tuple, Type, Union

import pytest

from smb.exceptions import MalformedResponse, NotConnectedError, OperationFailure, ProtocolError, SMBTimeout
from smb.SMBConnection import SMBConnection
from tests.fakeserver import (CLOSE, CREATE, ECHO, QUERY_DIRECTORY, READ, SESSION_SETUP, WRITE, Conn,
                              FakeSmbServer, Raw, Request, chain_entries, directory_entry, header,
                              query_directory_body, read_body)

FILE = bytes(range(256)) * 800  # 204800 bytes: four 64 KiB READs


@pytest.fixture
def fake():
    servers = []

    def make(script: Optional[Dict[int, Callable[[Conn, Request], Any]]] = None, **kwargs: Any) -> FakeSmbServer:
        server = FakeSmbServer(files={"f.bin": FILE, "small.bin": b"x" * 100}, script=script, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
    for server in servers:
        assert server.errors == []


def _client() -> SMBConnection:
    return SMBConnection("user", "secret", "pytest-client", "FAKE", is_direct_tcp=True)


def _connect(server: FakeSmbServer) -> SMBConnection:
    conn = _client()
    assert conn.connect(server.host, server.port, timeout=5) is True
    return conn


def _raises(kinds: Union[Type[BaseException], Tuple[Type[BaseException], ...]], timeout: float,
            call: Callable[..., Any], *args: Any, **kwargs: Any) -> Tuple[BaseException, float]:
    start = time.monotonic()
    with pytest.raises(kinds) as info:
        call(*args, timeout=timeout, **kwargs)
    elapsed = time.monotonic() - start
    assert elapsed < timeout + 2, "took %.1f s for a %.1f s deadline" % (elapsed, timeout)
    return info.value, elapsed


def _assert_broken(conn: SMBConnection) -> None:
    with pytest.raises(NotConnectedError):
        conn.echo(b"x", timeout=2)
    with pytest.raises(NotConnectedError):
        conn.retrieveFile("share", "f.bin", io.BytesIO(), timeout=2)
    conn.close()


def _assert_still_usable(conn: SMBConnection) -> None:
    assert conn.broken is None
    assert conn.echo(b"still here", timeout=2) == b"still here"
    assert conn.storeFile("share", "after.bin", io.BytesIO(b"ok"), timeout=2) == 2
    conn.close()


def _retrieve_fails(server: FakeSmbServer, kinds: Any = ProtocolError, name: str = "f.bin",
                    timeout: float = 5) -> Tuple[BaseException, bytes]:
    conn = _connect(server)
    out = io.BytesIO()
    err, _ = _raises(kinds, timeout, conn.retrieveFile, "share", name, out)
    if isinstance(err, MalformedResponse):
        _assert_still_usable(conn)
    elif isinstance(err, ProtocolError):
        _assert_broken(conn)
    else:
        conn.close()
    return err, out.getvalue()


# ------------------------------------------------------------------ the baseline
def test_sane_fake_server_works(fake):
    """The fake answers every compound in separate frames (allowed): listings must still be right."""
    server = fake()
    conn = _connect(server)
    assert conn.echo(b"hi") == b"hi"
    names = sorted(f.filename for f in conn.listPath("share", "/"))
    assert names == [".", "..", "f.bin", "small.bin"]
    out = io.BytesIO()
    assert conn.retrieveFile("share", "f.bin", out) == (0x80, len(FILE))
    assert out.getvalue() == FILE
    assert conn.storeFile("share", "new.bin", io.BytesIO(FILE[:150000])) == 150000
    assert server.files["new.bin"] == FILE[:150000]
    conn.close()


# ------------------------------------------------------------------ malformed messages
def test_wrong_structure_size_in_read_response(fake):
    server = fake({READ: lambda conn, req: [conn.respond(req, read_body(b"abc", structure_size=16))]})
    err, data = _retrieve_fails(server, MalformedResponse)
    assert "StructureSize" in str(err)
    assert data == b""


def test_wrong_structure_size_in_create_response(fake):
    def create(conn: Conn, req: Request):
        good = conn.server.default(conn, req)[0]
        return [good[:64] + struct.pack("<H", 88) + good[66:]]

    err, _ = _retrieve_fails(fake({CREATE: create}), MalformedResponse)
    assert "StructureSize" in str(err)


def test_wrong_structure_size_in_header(fake):
    def echo(conn: Conn, req: Request):
        good = conn.server.default(conn, req)[0]
        return [good[:4] + struct.pack("<H", 65) + good[6:]]

    conn = _connect(fake({ECHO: echo}))
    _raises(ProtocolError, 5, conn.echo, b"x")
    _assert_broken(conn)


@pytest.mark.parametrize("data_offset,data_length", [(200, 100), (80, 0xFFFFFFFF), (10, 50)],
                         ids=["offset-past-end", "huge-length", "offset-inside-header"])
def test_read_data_outside_the_frame(fake, data_offset, data_length):
    def read(conn: Conn, req: Request):
        return [conn.respond(req, read_body(b"y" * 100, data_offset=data_offset, data_length=data_length))]

    err, data = _retrieve_fails(fake({READ: read}), MalformedResponse)
    assert data == b""


def test_query_directory_buffer_outside_the_frame(fake):
    def query(conn: Conn, req: Request):
        return [conn.respond(req, query_directory_body(directory_entry("a"), offset=4000))]

    conn = _connect(fake({QUERY_DIRECTORY: query}))
    _raises(MalformedResponse, 5, conn.listPath, "share", "/")
    _assert_still_usable(conn)


def test_message_shorter_than_a_header(fake):
    conn = _connect(fake({ECHO: lambda conn, req: [conn.respond(req, b"")[:40]]}))
    _raises(ProtocolError, 5, conn.echo, b"x")
    _assert_broken(conn)


def test_bad_next_command_in_compound_response(fake):
    def echo(conn: Conn, req: Request):
        msg = bytearray(conn.respond(req, struct.pack("<HH", 4, 0)))
        struct.pack_into("<I", msg, 20, 4096)  # NextCommand far past the end
        return [bytes(msg)]

    conn = _connect(fake({ECHO: echo}))
    _raises(ProtocolError, 5, conn.echo, b"x")
    _assert_broken(conn)


def test_response_without_server_flag(fake):
    conn = _connect(fake({ECHO: lambda conn, req: [conn.respond(req, struct.pack("<HH", 4, 0), flags=0)]}))
    _raises(ProtocolError, 5, conn.echo, b"x")
    _assert_broken(conn)


# ------------------------------------------------------------------ credits
def test_no_credits_at_all_fails_connect_promptly(fake):
    server = fake(grant=lambda req: 0)
    conn = _client()
    err, elapsed = _raises(ProtocolError, 5, conn.connect, server.host, server.port)
    assert "credits" in str(err)
    assert elapsed < 1
    assert conn.sock is None


def test_credits_dry_up_after_logon(fake):
    """A server that stops granting credits: the next request cannot be sent -> ProtocolError, no hang."""
    server = fake(grant=lambda req: 1 if req.command in (0, SESSION_SETUP) else 0)
    conn = _connect(server)
    err, elapsed = _raises(ProtocolError, 5, conn.retrieveFile, "share", "f.bin", io.BytesIO())
    assert "credit" in str(err)
    assert elapsed < 1
    _assert_broken(conn)


def test_one_credit_at_a_time_still_works(fake):
    """Stingy but legal: exactly one credit per response serialises the pipeline."""
    server = fake(grant=lambda req: 1)
    conn = _connect(server)
    out = io.BytesIO()
    assert conn.retrieveFile("share", "f.bin", out, timeout=5)[1] == len(FILE)
    assert out.getvalue() == FILE
    assert conn.storeFile("share", "w.bin", io.BytesIO(FILE), timeout=5) == len(FILE)
    assert server.files["w.bin"] == FILE
    # A listing is normally one 4-request compound; with one credit the client falls
    # back to single requests sized by the credits it has.
    names = {e.filename for e in conn.listPath("share", "/", timeout=5)}
    assert "f.bin" in names
    conn.close()


# ------------------------------------------------------------------ STATUS_PENDING
def _endless_pending(conn: Conn, req: Request):
    """Interim responses every 50 ms; after 3 s (past the client's deadline) hang up."""
    end = time.monotonic() + 3
    while not conn.closed and time.monotonic() < end:
        conn.send(conn.interim(req))
        time.sleep(0.05)
    return [CLOSE]


@pytest.mark.parametrize("command", [READ, CREATE, QUERY_DIRECTORY])
def test_endless_pending_times_out_at_the_deadline(fake, command):
    conn = _connect(fake({command: _endless_pending}))
    call = (lambda timeout: conn.listPath("share", "/", timeout=timeout)) if command == QUERY_DIRECTORY else (
        lambda timeout: conn.retrieveFile("share", "f.bin", io.BytesIO(), timeout=timeout))
    _, elapsed = _raises(SMBTimeout, 1.5, call)
    assert elapsed >= 1.4  # the interim responses did not end the wait early
    conn.close()


def test_endless_pending_during_logon(fake):
    server = fake({SESSION_SETUP: _endless_pending})
    conn = _client()
    _, elapsed = _raises(SMBTimeout, 1.5, conn.connect, server.host, server.port)
    assert elapsed >= 1.4
    assert conn.sock is None


def test_pending_then_answer_is_fine(fake):
    def read(conn: Conn, req: Request):
        return [conn.interim(req), conn.interim(req)] + conn.server.default(conn, req)

    conn = _connect(fake({READ: read}))
    out = io.BytesIO()
    assert conn.retrieveFile("share", "f.bin", out, timeout=5)[1] == len(FILE)
    assert out.getvalue() == FILE
    conn.close()


def test_interim_for_a_request_never_sent(fake):
    def echo(conn: Conn, req: Request):
        bogus = Request(header(ECHO, req.message_id + 50))
        return [conn.interim(bogus)] + conn.server.default(conn, req)

    conn = _connect(fake({ECHO: echo}))
    _raises(ProtocolError, 5, conn.echo, b"x")
    _assert_broken(conn)


# ------------------------------------------------------------------ answers to nothing, lying answers
def test_response_to_a_request_never_sent(fake):
    def echo(conn: Conn, req: Request):
        return [conn.respond(req, struct.pack("<HH", 4, 0), message_id=req.message_id + 7)]

    conn = _connect(fake({ECHO: echo}))
    err, _ = _raises(ProtocolError, 5, conn.echo, b"x")
    assert "never sent" in str(err)
    _assert_broken(conn)


def test_unsolicited_response_in_the_middle_of_a_download(fake):
    def read(conn: Conn, req: Request):
        out = conn.server.default(conn, req)
        offset = struct.unpack_from("<Q", req.body, 8)[0]
        if offset == 65536:
            out.insert(0, conn.respond(req, read_body(b"z" * 10), message_id=req.message_id + 1000))
        return out

    err, data = _retrieve_fails(fake({READ: read}))
    assert len(data) < len(FILE)


def test_read_response_with_more_data_than_asked(fake):
    def read(conn: Conn, req: Request):
        length = struct.unpack_from("<I", req.body, 4)[0]
        return [conn.respond(req, read_body(b"q" * (length + 100)))]

    err, data = _retrieve_fails(fake({READ: read}), MalformedResponse, name="small.bin")
    assert "bytes for a" in str(err)
    assert data == b""


def test_end_of_file_contradicted_by_later_data(fake):
    """EOF at 64 KiB, answered after the data at 128 KiB and 192 KiB: the server contradicts
    itself and the count must not be returned as a success."""
    held = []

    def read(conn: Conn, req: Request):
        offset = struct.unpack_from("<Q", req.body, 8)[0]
        if offset == 65536:
            held.append(req)
            return []
        out = conn.server.default(conn, req)
        if offset == 196608:
            out += [conn.error(held.pop(), 0xC0000011)]  # STATUS_END_OF_FILE, last
        return out

    err, data = _retrieve_fails(fake({READ: read}), MalformedResponse)
    assert len(data) < len(FILE)
    assert "gap" in str(err)


def test_write_response_claiming_more_than_written(fake):
    def write(conn: Conn, req: Request):
        return [conn.respond(req, struct.pack("<HHIIHH", 17, 0, 10 ** 6, 0, 0, 0) + b"\0")]

    conn = _connect(fake({WRITE: write}))
    _raises(MalformedResponse, 5, conn.storeFile, "share", "w.bin", io.BytesIO(b"a" * 5000))
    assert conn.broken is None and conn.echo(b"x", timeout=2) == b"x"
    conn.close()


def test_server_closes_in_the_middle_of_a_download(fake):
    def read(conn: Conn, req: Request):
        offset = struct.unpack_from("<Q", req.body, 8)[0]
        return [CLOSE] if offset == 131072 else conn.server.default(conn, req)

    conn = _connect(fake({READ: read}))
    out = io.BytesIO()
    _raises(NotConnectedError, 5, conn.retrieveFile, "share", "f.bin", out)
    assert len(out.getvalue()) < len(FILE)
    _assert_broken(conn)


# ------------------------------------------------------------------ absurd frame lengths
@pytest.mark.parametrize("raw", [b"\xff\xff\xff\xff", b"\x00\xff\xff\xff", b"\x00\xff\xff\xff\xfeSMB"],
                         ids=["4GiB-bad-type", "16MiB", "16MiB-with-start"])
def test_absurd_frame_length_claim(fake, raw):
    conn = _connect(fake({ECHO: lambda conn, req: [Raw(raw)]}))
    err, elapsed = _raises(ProtocolError, 5, conn.echo, b"x")
    assert elapsed < 1  # rejected from the header, not after waiting for 4 GiB
    assert len(conn._reader.buf) <= 1024 * 1024  # and nothing of that size was allocated
    _assert_broken(conn)


# ------------------------------------------------------------------ hostile directory listings
def _listing(buffer: bytes) -> Callable[[Conn, Request], Any]:
    def query(conn: Conn, req: Request):
        return [conn.respond(req, query_directory_body(buffer))]
    return query


def _entry_with_next(name: str, next_offset: int) -> bytes:
    return directory_entry(name, next_offset=next_offset)


@pytest.mark.parametrize("buffer", [
    _entry_with_next("loop", 8),  # NextEntryOffset back into the same entry
    _entry_with_next("a", 8) + _entry_with_next("b", 0),
    _entry_with_next("far", 0xFFFFFFF8),  # wraps around a 32-bit offset
    _entry_with_next("a", 1) + directory_entry("b"),
    chain_entries([directory_entry("a"), directory_entry("b")])[:-30],  # last name cut off
    directory_entry("x")[:50],  # shorter than the fixed part
], ids=["self-loop", "overlap", "wrap", "tiny-step", "name-cut", "truncated-entry"])
def test_query_directory_next_entry_offset_loops(fake, buffer):
    conn = _connect(fake({QUERY_DIRECTORY: _listing(buffer)}))
    _raises(MalformedResponse, 5, conn.listPath, "share", "/")
    _assert_still_usable(conn)


def test_query_directory_bad_utf16_name(fake):
    entry = bytearray(directory_entry("ab"))
    struct.pack_into("<I", entry, 60, 3)  # FileNameLength: an odd number of bytes
    conn = _connect(fake({QUERY_DIRECTORY: _listing(bytes(entry))}))
    _raises(MalformedResponse, 5, conn.listPath, "share", "/")
    _assert_still_usable(conn)


def test_listing_that_never_ends_times_out(fake):
    """A server that never says STATUS_NO_MORE_FILES: the listing ends at its deadline."""
    def query(conn: Conn, req: Request):
        return [conn.respond(req, query_directory_body(chain_entries([directory_entry("again")])))]

    conn = _connect(fake({QUERY_DIRECTORY: query}))
    _, elapsed = _raises(SMBTimeout, 1.5, conn.listPath, "share", "/")
    assert elapsed >= 1.4
    conn.close()


def test_error_response_body_is_checked(fake):
    """An error status with a cut-short error body is an error, not a crash."""
    def create(conn: Conn, req: Request):
        return [conn.respond(req, b"\x09", 0xC0000022)]  # ACCESS_DENIED, body cut short

    conn = _connect(fake({CREATE: create}))
    _raises((OperationFailure, ProtocolError), 5, conn.retrieveFile, "share", "f.bin", io.BytesIO())
    conn.close()


def test_close_sends_logoff_without_waiting_for_its_answer(fake) -> None:
    import threading
    from tests.fakeserver import LOGOFF
    answer = threading.Event()

    def logoff(conn: Conn, req: Request) -> Any:
        answer.wait(30)  # the answer comes only after close() has returned
        return [conn.respond(req, struct.pack("<HH", 4, 0))]

    server = fake({LOGOFF: logoff})
    conn = _connect(server)
    conn.close()  # returns while the server still sits on its answer
    answer.set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(r.command == LOGOFF for c in server.conns for r in c.requests):
        time.sleep(0.01)
    assert any(r.command == LOGOFF for c in server.conns for r in c.requests)  # it was sent
    assert conn.sock is None
