"""Connection lifecycle against a real Samba: reconnects, deadlines, broken sockets."""
from __future__ import annotations

import io
import os
import socket
import time
import uuid

import pytest

from smb.exceptions import NotConnectedError, NotReadyError, SMBTimeout
from smb.SMBConnection import SMBConnection


@pytest.fixture
def srv(samba_factory):
    return samba_factory(min_protocol="SMB2_02", max_protocol="SMB3_11")


def _conn(srv):
    return SMBConnection(srv.user, srv.password, "pytest-client", srv.netbios_name, is_direct_tcp=True)


def test_operations_before_connect_raise(srv):
    c = _conn(srv)
    with pytest.raises((NotReadyError, NotConnectedError)):
        c.listShares()
    c.close()


def test_same_object_reconnects_after_close(srv):
    c = _conn(srv)
    for _ in range(3):
        assert c.connect(srv.host, srv.port) is True
        assert c.echo(b"again") == b"again"
        c.close()
        assert c.sock is None


def test_broken_socket_then_reconnect(srv):
    c = _conn(srv)
    assert c.connect(srv.host, srv.port) is True
    c.sock.shutdown(socket.SHUT_RDWR)
    with pytest.raises(NotConnectedError):
        c.echo(b"x")
    with pytest.raises(NotConnectedError):
        c.listShares()
    c.close()  # never raises after a broken connection
    assert c.connect(srv.host, srv.port) is True
    assert c.echo(b"back") == b"back"
    c.close()


def test_timeout_is_a_deadline_and_connection_survives(srv):
    c = _conn(srv)
    assert c.connect(srv.host, srv.port) is True
    name = "deadline-%s.bin" % uuid.uuid4().hex[:8]
    size = 96 * 1024 * 1024
    c.storeFile("data", name, io.BytesIO(os.urandom(size)), timeout=120)

    class Slow:
        def write(self, data):
            time.sleep(0.2)
            return len(data)

    start = time.monotonic()
    with pytest.raises(SMBTimeout):
        c.retrieveFile("data", name, Slow(), timeout=0.3)
    assert time.monotonic() - start < 2.5
    # Late READ responses of the abandoned retrieve are dropped; the stream stays in sync.
    out = io.BytesIO()
    attrs, n = c.retrieveFile("data", name, out, timeout=120)
    assert n == size
    assert c.echo(b"fine") == b"fine"
    c.deleteFiles("data", name)
    c.close()
