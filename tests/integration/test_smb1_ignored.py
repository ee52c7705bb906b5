"""Servers with SMB1 removed: they ignore pysmb's opening SMB1 NEGOTIATE, or reset on it (issue 18).

The scripted fake server (tests/fakeserver.py) plays such a server over real loopback sockets.
connect() must not sit out its whole timeout: it gives the SMB1 NEGOTIATE a short part of the
deadline, connects again with an SMB2 NEGOTIATE, and remembers the server for later connects.
"""
from __future__ import annotations

import io
import time
from typing import Any, Iterator, List

import pytest

from smb import smb_structs
from smb.base import SERVER_MEMORY, smb1_probe_seconds
from smb.exceptions import NotConnectedError, SMBTimeout
from smb.SMBConnection import SMBConnection
from tests.fakeserver import FakeSmbServer

CONTENT = bytes(range(256)) * 64


@pytest.fixture
def servers() -> Iterator[List[FakeSmbServer]]:
    made: List[FakeSmbServer] = []
    SERVER_MEMORY.forget()
    yield made
    for server in made:
        server.stop()
    SERVER_MEMORY.forget()
    for server in made:
        assert server.errors == []


def _server(made: List[FakeSmbServer], smb1: str) -> FakeSmbServer:
    server = FakeSmbServer(files={"f.bin": CONTENT}, smb1=smb1).start()
    made.append(server)
    return server


def _conn(**kwargs: Any) -> SMBConnection:
    return SMBConnection("user", "secret", "pytest-client", "FAKE", is_direct_tcp=True, **kwargs)


def _retrieve(conn: SMBConnection) -> bytes:
    out = io.BytesIO()
    conn.retrieveFile("share", "f.bin", out, timeout=10)
    return out.getvalue()


@pytest.mark.parametrize("behaviour", ["ignore", "reset"])
def test_connect_retries_with_smb2_and_remembers(servers: List[FakeSmbServer], behaviour: str) -> None:
    server = _server(servers, behaviour)
    timeout = 8.0
    conn = _conn()
    start = time.monotonic()
    assert conn.connect(server.host, server.port, timeout=timeout) is True
    elapsed = time.monotonic() - start
    assert conn.isUsingSMB2
    if behaviour == "ignore":
        # The probe's share of the deadline, not the whole deadline.
        assert smb1_probe_seconds(timeout) <= elapsed < timeout - 2
    assert [c.smb1_frames for c in server.conns] == [1, 0]
    assert server.conns[1].requests[0].command == 0  # an SMB2 NEGOTIATE first
    assert _retrieve(conn) == CONTENT
    conn.close()

    # Remembered: the next connection to this server starts with SMB2 at once.
    conn = _conn()
    start = time.monotonic()
    assert conn.connect(server.host, server.port, timeout=timeout) is True
    assert time.monotonic() - start < 1.0
    assert len(server.conns) == 3 and server.conns[2].smb1_frames == 0
    assert _retrieve(conn) == CONTENT
    conn.close()


def test_smb2_only_skips_the_smb1_negotiate(servers: List[FakeSmbServer]) -> None:
    server = _server(servers, "ignore")
    conn = _conn(smb2_only=True)
    start = time.monotonic()
    assert conn.connect(server.host, server.port, timeout=8) is True
    assert time.monotonic() - start < 1.0
    assert [c.smb1_frames for c in server.conns] == [0]
    assert _retrieve(conn) == CONTENT
    conn.close()


def test_smb2_only_against_a_server_that_answers_smb1_too(servers: List[FakeSmbServer]) -> None:
    server = _server(servers, "answer")
    conn = _conn(smb2_only=True)
    assert conn.connect(server.host, server.port, timeout=8) is True
    assert [c.smb1_frames for c in server.conns] == [0]
    conn.close()


def test_pysmb_default_still_opens_with_smb1(servers: List[FakeSmbServer]) -> None:
    server = _server(servers, "answer")
    conn = _conn()
    assert conn.connect(server.host, server.port, timeout=8) is True
    assert [c.smb1_frames for c in server.conns] == [1]
    assert not SERVER_MEMORY.ignores_smb1(server.host, server.port)
    conn.close()


@pytest.mark.parametrize("behaviour,error", [("ignore", SMBTimeout), ("reset", NotConnectedError)])
def test_no_smb2_retry_when_smb1_was_asked_for(servers: List[FakeSmbServer], monkeypatch: pytest.MonkeyPatch,
                                               behaviour: str, error: type) -> None:
    # SUPPORT_SMB2 = False means SMB1 only: going to SMB2 behind the user's back is not allowed.
    monkeypatch.setattr(smb_structs, "SUPPORT_SMB2", False)
    server = _server(servers, behaviour)
    conn = _conn()
    start = time.monotonic()
    with pytest.raises(error):
        conn.connect(server.host, server.port, timeout=2)
    assert time.monotonic() - start < 4
    assert len(server.conns) == 1
    assert not SERVER_MEMORY.ignores_smb1(server.host, server.port)
