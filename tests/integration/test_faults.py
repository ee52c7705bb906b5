"""Broken networks between the client and a real Samba: nothing crashes, hangs or lies.

Every connection goes through :class:`tests.faultproxy.FaultProxy`.  The fault is armed after a
clean connect, right before the operation under test, and each test checks that the fault really
fired.  The contract: the operation raises ``NotConnectedError``, ``SMBTimeout`` or
``ProtocolError`` within its deadline (``elapsed < timeout + 2 s``); a transfer that loses data
never returns a count as if it were complete; a connection that can no longer be trusted is
marked broken (later calls raise ``NotConnectedError``), one that can is usable again.
"""
from __future__ import annotations

import hashlib
import io
import os
import time
import uuid
from typing import Any, Callable, Tuple, Type, Union

import pytest

from smb.exceptions import NotConnectedError, ProtocolError, SMBTimeout
from smb.SMBConnection import SMBConnection
from tests.faultproxy import C2S, S2C, FaultProxy, command_is

READ, ECHO, QUERY_DIRECTORY, CREATE, WRITE = 8, 13, 14, 5, 9
BIG = 24 * 1024 * 1024  # three 8 MiB READs, all in flight at once


@pytest.fixture
def proxies():
    made = []

    def make(srv: Any) -> FaultProxy:
        proxy = FaultProxy(srv.host, srv.port, time_limit=60).start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()
    for proxy in made:
        assert proxy.errors == []


@pytest.fixture
def plain(samba_factory):
    return samba_factory(min_protocol="SMB2_02", max_protocol="SMB3_11")


def _connect(srv: Any, proxy: FaultProxy, **kwargs: Any) -> SMBConnection:
    conn = SMBConnection(srv.user, srv.password, "pytest-client", srv.netbios_name, is_direct_tcp=True, **kwargs)
    assert conn.connect(proxy.host, proxy.port, timeout=10) is True
    return conn


def _put(conn: SMBConnection, size: int) -> Tuple[str, bytes]:
    name = "fault-%s.bin" % uuid.uuid4().hex[:10]
    data = os.urandom(size)
    assert conn.storeFile("data", name, io.BytesIO(data), timeout=30) == size
    return name, data


def _raises(kinds: Union[Type[BaseException], Tuple[Type[BaseException], ...]], timeout: float,
            call: Callable[..., Any], *args: Any, **kwargs: Any) -> BaseException:
    """``call(*args, timeout=timeout)`` must raise one of ``kinds`` within the deadline."""
    start = time.monotonic()
    with pytest.raises(kinds) as info:
        call(*args, timeout=timeout, **kwargs)
    elapsed = time.monotonic() - start
    assert elapsed < timeout + 2, "took %.1f s for a %.1f s deadline" % (elapsed, timeout)
    return info.value


def _assert_broken(conn: SMBConnection) -> None:
    with pytest.raises(NotConnectedError):
        conn.echo(b"x", timeout=2)
    with pytest.raises(NotConnectedError):
        conn.listPath("data", "/", timeout=2)
    with pytest.raises(NotConnectedError):
        conn.retrieveFile("data", "anything", io.BytesIO(), timeout=2)
    conn.close()  # never raises on a broken connection


# ------------------------------------------------------------------ dropped connections
def test_connection_dropped_mid_retrieve(plain, proxies):
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    name, data = _put(conn, 4 * 1024 * 1024)
    drop = proxy.drop_after(1024 * 1024, S2C)
    out = io.BytesIO()
    _raises(NotConnectedError, 10, conn.retrieveFile, "data", name, out)
    assert drop.fired.is_set()
    assert len(out.getvalue()) < len(data)
    _assert_broken(conn)
    # A fresh connection through a fresh link works and the file is intact.
    conn = _connect(plain, proxy)
    out = io.BytesIO()
    assert conn.retrieveFile("data", name, out)[1] == len(data)
    assert out.getvalue() == data
    conn.deleteFiles("data", name)
    conn.close()


def test_connection_dropped_mid_store(plain, proxies):
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    drop = proxy.drop_after(2 * 1024 * 1024, C2S)
    name = "fault-%s.bin" % uuid.uuid4().hex[:10]
    _raises(NotConnectedError, 10, conn.storeFile, "data", name, io.BytesIO(os.urandom(8 * 1024 * 1024)))
    assert drop.fired.is_set()
    _assert_broken(conn)


def test_connection_dropped_mid_list(plain, proxies):
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    conn.echo(b"warm")
    drop = proxy.drop_after(100, S2C)
    _raises(NotConnectedError, 10, conn.listPath, "data", "/")
    assert drop.fired.is_set()
    _assert_broken(conn)


def test_truncated_read_response_never_returns_a_short_count(plain, proxies):
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    name, data = _put(conn, 3 * 1024 * 1024)  # more than the compounded first READ
    cut = proxy.truncate_frame(keep=5000, match=command_is(READ))
    out = io.BytesIO()
    _raises(NotConnectedError, 10, conn.retrieveFile, "data", name, out)
    assert cut.fired.is_set()
    assert len(out.getvalue()) < len(data)
    _assert_broken(conn)


def test_truncated_frame_during_connect(plain, proxies):
    proxy = proxies(plain)
    cut = proxy.truncate_frame(keep=30)  # the very first server frame (NEGOTIATE)
    conn = SMBConnection(plain.user, plain.password, "pytest-client", plain.netbios_name, is_direct_tcp=True)
    _raises(NotConnectedError, 5, conn.connect, proxy.host, proxy.port)
    assert cut.fired.is_set()
    assert conn.sock is None


# ------------------------------------------------------------------ stalls
def test_stall_forever_retrieve_times_out(plain, proxies):
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    name, _ = _put(conn, 1024 * 1024)
    stall = proxy.stall(None, S2C)
    _raises(SMBTimeout, 2, conn.retrieveFile, "data", name, io.BytesIO())
    assert stall.fired.is_set()
    _raises(SMBTimeout, 1, conn.listPath, "data", "/")
    proxy.resume(S2C)  # else close() spends its 5 s LOGOFF deadline on the stalled link
    conn.close()


def test_stall_client_to_server_store_times_out(plain, proxies):
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    conn.echo(b"warm")
    stall = proxy.stall(None, C2S)
    name = "fault-%s.bin" % uuid.uuid4().hex[:10]
    _raises(SMBTimeout, 2, conn.storeFile, "data", name, io.BytesIO(os.urandom(32 * 1024 * 1024)))
    assert stall.fired.is_set()
    proxy.resume(C2S)
    conn.close()


@pytest.mark.parametrize("after_bytes", [0, 30], ids=["whole-frame", "half-a-frame"])
def test_late_response_is_dropped_and_stream_stays_in_sync(plain, proxies, after_bytes):
    """A timeout while the server is slow does not break the connection: the late
    response (whole, or cut in the middle of the frame) is dropped when it arrives."""
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    name, data = _put(conn, 300 * 1024)
    stall = proxy.stall(1.5, S2C, after_bytes=after_bytes)
    _raises(SMBTimeout, 0.5, conn.echo, b"slow")
    assert stall.fired.is_set()
    assert conn.broken is None
    if after_bytes:
        assert conn._reader.mid_frame  # half a frame is waiting in the reader
    # The stall ends while this call waits: the late ECHO response comes first.
    assert conn.echo(b"next", timeout=10) == b"next"
    out = io.BytesIO()
    assert conn.retrieveFile("data", name, out, timeout=10)[1] == len(data)
    assert out.getvalue() == data
    names = [f.filename for f in conn.listPath("data", "/", timeout=10)]
    assert name in names
    conn.deleteFiles("data", name)
    conn.close()


def test_timeout_during_pipelined_retrieve_then_recovery(plain, proxies):
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    name, data = _put(conn, BIG)
    proxy.stall(1.0, S2C, after_bytes=70000)
    _raises(SMBTimeout, 0.5, conn.retrieveFile, "data", name, io.BytesIO())
    assert conn.broken is None
    out = io.BytesIO()
    assert conn.retrieveFile("data", name, out, timeout=20)[1] == len(data)
    assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest()
    conn.deleteFiles("data", name)
    conn.close()


# ------------------------------------------------------------------ duplicated, reordered, rewritten frames
def test_reordered_read_responses_are_fine(plain, proxies):
    """Responses may legitimately arrive in any order: the data must still be right."""
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    name, data = _put(conn, BIG)
    swap = proxy.reorder_frames(match=command_is(READ))
    out = io.BytesIO()
    assert conn.retrieveFile("data", name, out, timeout=20)[1] == len(data)
    assert swap.fired.is_set()
    assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest()
    conn.deleteFiles("data", name)
    conn.close()


def test_duplicated_read_response_is_a_protocol_error(plain, proxies):
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    name, data = _put(conn, BIG)
    dup = proxy.duplicate_frame(match=command_is(READ))
    out = io.BytesIO()
    _raises(ProtocolError, 20, conn.retrieveFile, "data", name, out)
    assert dup.fired.is_set()
    assert len(out.getvalue()) < len(data)
    _assert_broken(conn)


def test_duplicated_echo_response_breaks_the_next_call(plain, proxies):
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    dup = proxy.duplicate_frame(match=command_is(ECHO))
    assert conn.echo(b"once", timeout=5) == b"once"  # the first copy answers it correctly
    assert dup.fired.is_set()
    # The second copy answers nothing we sent: the connection is not trusted any more.
    _raises(ProtocolError, 5, conn.listPath, "data", "/")
    _assert_broken(conn)


def test_unexpected_message_id(plain, proxies):
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    rewrite = proxy.rewrite_message_id(match=command_is(ECHO))
    _raises(ProtocolError, 5, conn.echo, b"who")
    assert rewrite.fired.is_set()
    _assert_broken(conn)


def test_unexpected_message_id_in_listing(plain, proxies):
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    conn.listPath("data", "/")
    rewrite = proxy.rewrite_message_id(match=command_is(CREATE))
    _raises(ProtocolError, 5, conn.listPath, "data", "/")
    assert rewrite.fired.is_set()
    _assert_broken(conn)


def test_corrupt_protocol_id_unsigned(plain, proxies):
    """Without signing a flipped payload byte is invisible, but a flipped header is not."""
    proxy = proxies(plain)
    conn = _connect(plain, proxy)
    flip = proxy.flip_byte(0, match=command_is(ECHO))
    _raises(ProtocolError, 5, conn.echo, b"x")
    assert flip.fired.is_set()
    _assert_broken(conn)


# ------------------------------------------------------------------ tampering under signing / encryption
@pytest.mark.parametrize("dialect", ["SMB2_10", "SMB3_00", "SMB3_11"])
def test_flipped_byte_in_signed_read_is_detected(samba_factory, proxies, dialect):
    srv = samba_factory(min_protocol=dialect, max_protocol=dialect, signing="mandatory")
    proxy = proxies(srv)
    conn = _connect(srv, proxy)
    # Bigger than the one-round-trip CREATE+READ+CLOSE, so stand-alone READ frames follow.
    name, data = _put(conn, 2 * 1024 * 1024 + 256 * 1024)
    flip = proxy.flip_byte(64 + 16 + 1000, match=command_is(READ))  # inside the file data
    out = io.BytesIO()
    err = _raises(ProtocolError, 10, conn.retrieveFile, "data", name, out)
    assert "signature" in str(err)
    assert flip.fired.is_set()
    assert out.getvalue() != data
    _assert_broken(conn)


def test_flipped_byte_in_signed_listing_is_detected(samba_factory, proxies):
    srv = samba_factory(min_protocol="SMB3_11", max_protocol="SMB3_11", signing="mandatory")
    proxy = proxies(srv)
    conn = _connect(srv, proxy)
    conn.listPath("data", "/")
    flip = proxy.flip_byte(-3, match=command_is(CREATE))  # the end of the compound listing response
    err = _raises(ProtocolError, 5, conn.listPath, "data", "/")
    assert "signature" in str(err)
    assert flip.fired.is_set()
    _assert_broken(conn)


def test_flipped_status_in_signed_response_is_detected(samba_factory, proxies):
    srv = samba_factory(min_protocol="SMB3_11", max_protocol="SMB3_11", signing="mandatory")
    proxy = proxies(srv)
    conn = _connect(srv, proxy)
    flip = proxy.flip_byte(11, match=command_is(ECHO), mask=0xC0)  # Status becomes an error
    err = _raises(ProtocolError, 5, conn.echo, b"x")
    assert "signature" in str(err)
    assert flip.fired.is_set()
    _assert_broken(conn)


@pytest.mark.parametrize("dialect", ["SMB3_00", "SMB3_11"])
@pytest.mark.parametrize("where", [-7, 20, 60], ids=["ciphertext", "nonce", "transform-header"])
def test_flipped_byte_in_encrypted_read_is_detected(samba_factory, proxies, dialect, where):
    srv = samba_factory(min_protocol=dialect, max_protocol=dialect, encrypt="required")
    proxy = proxies(srv)
    conn = _connect(srv, proxy)
    name, data = _put(conn, 256 * 1024)
    flip = proxy.flip_byte(where, match=lambda payload: len(payload) > 200 * 1024)  # the READ response
    out = io.BytesIO()
    _raises(ProtocolError, 10, conn.retrieveFile, "data", name, out)
    assert flip.fired.is_set()
    assert out.getvalue() == b""  # nothing of the forged message reached the file
    _assert_broken(conn)


def test_flipped_byte_in_encrypted_store_response_is_detected(samba_factory, proxies):
    srv = samba_factory(min_protocol="SMB3_11", max_protocol="SMB3_11", encrypt="required")
    proxy = proxies(srv)
    conn = _connect(srv, proxy)
    conn.echo(b"warm")
    conn.listPath("data", "/")
    flip = proxy.flip_byte(-1, skip=1)  # the second server frame: a WRITE response
    name = "fault-%s.bin" % uuid.uuid4().hex[:10]
    # Bigger than the one-round-trip CREATE+WRITE+CLOSE: CREATE, then WRITE frames.
    _raises(ProtocolError, 10, conn.storeFile, "data", name, io.BytesIO(os.urandom(3 * 1024 * 1024)))
    assert flip.fired.is_set()
    _assert_broken(conn)
