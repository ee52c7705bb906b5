"""Reconnect and resume (issue 15): with ``auto_reconnect=True`` a retrieve or store whose
connection drops reconnects (same credentials and options) and goes on from the first byte not
yet written (retrieve) or not yet confirmed by the server (store).

The connection runs through the fault proxy (tests/faultproxy.py), which drops it 1, 2 or 3 times
during a 64 MiB transfer, on NT1, SMB 2.1 and SMB 3.1.1 (signing mandatory), with the blocking
and the asyncio driver.  Each test checks the sha256 of what arrived, counts the reconnects and
bounds the bytes moved twice.  Over SMB2 a retrieve reads through a durable handle, which each
reconnect gets back (counted); without one (``durable handles = no``) the file is opened again.
The batch oplock of that handle is given up at once when another client opens the file.  A file
changed while the connection was down is an error, not a mix; a reconnect that would give a
weaker session (older dialect, no encryption) is refused.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import threading
import time
from typing import Any, Callable, Dict, List

import pytest

from smb import aio
from smb.exceptions import NotConnectedError, OperationFailure, ProtocolError
from smb.SMBConnection import SMBConnection
from tests.faultproxy import C2S, S2C, FaultProxy
from tests.integration.common import server_with_folder

MIB = 1024 * 1024
SIZE = 64 * MIB
SERVERS = {
    "NT1": dict(min_protocol="NT1", max_protocol="NT1"),
    "SMB2_10": dict(min_protocol="SMB2_10", max_protocol="SMB2_10"),
    "SMB3_11": dict(min_protocol="SMB3_11", max_protocol="SMB3_11", signing="mandatory"),
}
#: Bytes into each connection (in the transfer's direction) at which the proxy drops it.
DROP_AT = 20 * MIB


class Dropper:
    """Drops the proxied connection ``times`` times, each ``DROP_AT`` bytes into a connection,
    and counts the bytes that went through in ``direction``."""

    def __init__(self, proxy: FaultProxy, times: int, direction: str) -> None:
        self.proxy, self.times, self.direction = proxy, times, direction
        self.moved = 0
        self.fired = 0
        self._lock = threading.Lock()
        self._armed_for = 0

        def count(payload: bytes) -> None:
            with self._lock:
                self.moved += len(payload)
                # Arm the next drop once per new connection, until ``times`` have fired.
                if self.proxy.connections > self._armed_for and self.fired + (1 if self._fault else 0) < times:
                    self._arm()

        self._fault: Any = None
        if direction == S2C:
            proxy.on_server_frame = count
        else:
            proxy.on_client_frame = count

    def _arm(self) -> None:
        if self._fault is not None and self._fault.fired.is_set():
            self.fired += 1
            self._fault = None
        if self._fault is None and self.fired < self.times:
            self._armed_for = self.proxy.connections
            self._fault = self.proxy.drop_after(DROP_AT, self.direction)

    def drops(self) -> int:
        with self._lock:
            return self.fired + (1 if self._fault is not None and self._fault.fired.is_set() else 0)


def _payload() -> bytes:
    return os.urandom(SIZE)


def _big_file(folder: str) -> bytes:
    """A new random 64 MiB ``big.bin`` in ``folder`` (on the server's disk); returns its bytes."""
    data = _payload()
    with open(os.path.join(folder, "big.bin"), "wb") as fh:
        fh.write(data)
    return data


def _blocking(proxy: FaultProxy, srv: Any, **kwargs: Any) -> SMBConnection:
    conn = SMBConnection(srv.user, srv.password, "reconnect-client", srv.netbios_name, is_direct_tcp=True,
                         **kwargs)
    assert conn.connect(proxy.host, proxy.port, timeout=30) is True
    return conn


@pytest.fixture(params=sorted(SERVERS))
def server(request: Any, samba_factory: Callable[..., Any]) -> Any:
    srv, folder, local = server_with_folder(samba_factory, SERVERS[request.param], "reconnect-")
    return request.param, srv, folder, local


@pytest.mark.parametrize("drops", [1, 2, 3])
def test_retrieve_resumes_after_drops(server: Any, drops: int) -> None:
    name, srv, folder, local = server
    data = _big_file(local)
    with FaultProxy(srv.host, srv.port, time_limit=120).start() as proxy:
        conn = _blocking(proxy, srv, auto_reconnect=True)
        try:
            dropper = Dropper(proxy, drops, S2C)
            seen: List[int] = []
            out = io.BytesIO()
            started = time.monotonic()
            _, size = conn.retrieveFile("data", folder + "/big.bin", out, timeout=120,
                                        progress=lambda done, total: seen.append(done))
            took = time.monotonic() - started
            assert size == SIZE and hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest()
            assert dropper.drops() == drops and conn.reconnects == drops
            assert proxy.connections == 1 + drops
            # SMB2: each reconnect got the durable handle back; NT1 has none and reopens.
            assert conn.durable_reopens == (0 if name == "NT1" else drops)
            again = dropper.moved - SIZE
            # What was in flight when each drop hit is read again: at most a window per drop.
            assert 0 < again < drops * 34 * MIB, again
            assert seen == sorted(seen) and seen[-1] == SIZE  # progress never counts a byte twice
            print("\n%s retrieve, %d drop(s): %.1f MiB received again, %.2f s" % (name, drops, again / MIB, took))
            assert conn.echo(b"after") == b"after"
        finally:
            conn.close()


@pytest.mark.parametrize("drops", [1, 2, 3])
def test_store_resumes_after_drops(server: Any, drops: int) -> None:
    name, srv, folder, local = server
    data = _payload()
    with FaultProxy(srv.host, srv.port, time_limit=120).start() as proxy:
        conn = _blocking(proxy, srv, auto_reconnect=True)
        try:
            dropper = Dropper(proxy, drops, C2S)
            started = time.monotonic()
            assert conn.storeFile("data", folder + "/up.bin", io.BytesIO(data), timeout=120) == SIZE
            took = time.monotonic() - started
            with open(os.path.join(local, "up.bin"), "rb") as fh:
                assert hashlib.sha256(fh.read()).digest() == hashlib.sha256(data).digest()
            assert dropper.drops() == drops and conn.reconnects == drops
            assert conn.durable_reopens == 0  # stores resume from what the server confirmed
            again = dropper.moved - SIZE
            assert 0 < again < drops * 34 * MIB, again
            print("\n%s store, %d drop(s): %.1f MiB sent again, %.2f s" % (name, drops, again / MIB, took))
        finally:
            conn.close()


def test_asyncio_driver_resumes_too(samba_factory: Callable[..., Any]) -> None:
    srv, folder, local = server_with_folder(samba_factory, SERVERS["SMB3_11"], "reconnect-aio-")
    data = _big_file(local)

    async def main(proxy: FaultProxy) -> None:
        conn = aio.SMBConnection(srv.user, srv.password, "c", srv.netbios_name, is_direct_tcp=True,
                                 auto_reconnect=True)
        assert await conn.connect(proxy.host, proxy.port, timeout=30) is True
        async with conn:
            dropper = Dropper(proxy, 2, S2C)
            out = io.BytesIO()
            await conn.retrieveFile("data", folder + "/big.bin", out, timeout=120)
            assert out.getvalue() == data and conn.reconnects == 2 and dropper.drops() == 2
            proxy.on_server_frame = None
            dropper = Dropper(proxy, 1, C2S)
            assert await conn.storeFile("data", folder + "/up.bin", io.BytesIO(data), timeout=120) == SIZE
            assert conn.reconnects == 3 and dropper.drops() == 1
        with open(os.path.join(local, "up.bin"), "rb") as fh:
            assert fh.read() == data

    with FaultProxy(srv.host, srv.port, time_limit=120).start() as proxy:
        asyncio.run(main(proxy))


@pytest.mark.parametrize("options,drops,reconnects", [({}, 1, 0), (dict(auto_reconnect=True, max_retries=1), 2, 1)],
                         ids=["auto-reconnect-off", "more-drops-than-retries"])
def test_a_drop_not_recovered_is_an_error(options: Dict[str, Any], drops: int, reconnects: int,
                                          samba_factory: Callable[..., Any]) -> None:
    """Without auto_reconnect a drop is NotConnectedError, as before; with it, a drop after
    max_retries reconnects is too."""
    srv, folder, local = server_with_folder(samba_factory, SERVERS["SMB2_10"], "reconnect-error-")
    with open(os.path.join(local, "big.bin"), "wb") as fh:
        fh.write(_payload())
    with FaultProxy(srv.host, srv.port, time_limit=60).start() as proxy:
        conn = _blocking(proxy, srv, **options)
        try:
            Dropper(proxy, drops, S2C)
            with pytest.raises(NotConnectedError):
                conn.retrieveFile("data", folder + "/big.bin", io.BytesIO(), timeout=60)
            assert conn.reconnects == reconnects and proxy.connections == 1 + reconnects
        finally:
            conn.close()


def test_a_file_changed_while_down_is_not_resumed(samba_factory: Callable[..., Any]) -> None:
    """The file grows on the server's disk while we are away.  With no durable handle (as here)
    the file opened again shows another size.  (With one, Samba refuses to give back a handle
    whose file changed, and holds the file until the handle expires, 60 s: see docs/faults.rst.)"""
    srv, folder, local = server_with_folder(samba_factory, dict(SERVERS["SMB3_11"],
                                                                extra_global={"durable handles": "no"}),
                                            "reconnect-changed-")
    target = os.path.join(local, "big.bin")
    with open(target, "wb") as fh:
        fh.write(_payload())
    with FaultProxy(srv.host, srv.port, time_limit=60).start() as proxy:
        conn = _blocking(proxy, srv, auto_reconnect=True)
        try:
            Dropper(proxy, 1, S2C)
            counting = proxy.on_server_frame
            changed = threading.Event()

            def change_on_reconnect(payload: bytes) -> None:
                if proxy.connections >= 2 and not changed.is_set():
                    with open(target, "ab") as fh:  # the file grows while we were away
                        fh.write(b"more")
                    changed.set()

            proxy.on_client_frame = change_on_reconnect
            with pytest.raises(OperationFailure, match="changed"):
                conn.retrieveFile("data", folder + "/big.bin", io.BytesIO(), timeout=60)
            assert changed.is_set() and counting is not None
        finally:
            conn.close()


@pytest.mark.parametrize("first,second,weaker", [
    (dict(min_protocol="SMB3_11", max_protocol="SMB3_11"), dict(min_protocol="SMB2_02", max_protocol="SMB2_10"),
     "dialect"),
    (dict(min_protocol="SMB3_11", max_protocol="SMB3_11", encrypt="required"),
     dict(min_protocol="SMB3_11", max_protocol="SMB3_11"), "encryption"),
])
def test_a_reconnect_never_weakens_the_session(first: Dict[str, Any], second: Dict[str, Any], weaker: str,
                                              samba_factory: Callable[..., Any]) -> None:
    """The proxy sends the reconnect to another server that offers less (an older dialect, no
    encryption): the client refuses that session instead of going on with it."""
    srv, folder, local = server_with_folder(samba_factory, first, "reconnect-weak-")
    other, other_folder, other_local = server_with_folder(samba_factory, second, "reconnect-weak-")
    for where in (local, other_local):
        with open(os.path.join(where, "big.bin"), "wb") as fh:
            fh.write(b"x" * SIZE)
    with FaultProxy(srv.host, srv.port, time_limit=60).start() as proxy:
        conn = _blocking(proxy, srv, auto_reconnect=True)
        try:
            Dropper(proxy, 1, S2C)
            proxy.target = (other.host, other.port)  # the next connection lands on the weaker server
            with pytest.raises(ProtocolError, match="weaker session .*%s" % weaker):
                conn.retrieveFile("data", folder + "/big.bin", io.BytesIO(), timeout=60)
            assert conn.reconnects == 0
        finally:
            conn.close()


@pytest.mark.parametrize("dialect", ["NT1", "SMB3_11"])
def test_smbd_killed_and_restarted_mid_transfer(dialect: str, caplog: Any) -> None:
    """smbd itself dies 16 MiB into a 64 MiB retrieve and comes back 2 s later: the client's
    reconnect attempts fail while it is down, are tried again after growing pauses, and the
    retrieve resumes once smbd answers."""
    from tests.samba_server import SambaServer

    srv = SambaServer(**SERVERS[dialect])
    srv.start()
    try:
        data = _payload()
        path = os.path.join(srv.share_path("data"), "big.bin")
        with open(path, "wb") as fh:
            fh.write(data)
        os.chmod(path, 0o666)
        with FaultProxy(srv.host, srv.port, time_limit=120).start() as proxy:
            conn = _blocking(proxy, srv, auto_reconnect=True, max_retries=8)
            caplog.set_level(logging.WARNING, logger="SMB.SMBConnection")
            try:
                killed = threading.Event()
                back = threading.Event()

                problems: List[BaseException] = []

                def restart() -> None:
                    try:
                        srv.kill_daemons()
                        killed.set()
                        time.sleep(2.0)
                        srv.restart_daemons()
                        back.set()
                    except BaseException as err:  # noqa: BLE001 - reported by the test
                        problems.append(err)
                        killed.set()

                def progress(done: int, total: int) -> None:
                    if done >= 16 * MIB and not killed.is_set() and not back.is_set():
                        threading.Thread(target=restart, daemon=True).start()
                        killed.wait(10)  # the transfer is cut while it runs

                out = io.BytesIO()
                started = time.monotonic()
                _, size = conn.retrieveFile("data", "big.bin", out, timeout=120, progress=progress)
                took = time.monotonic() - started
                assert problems == [] and back.is_set()
                assert size == SIZE and out.getvalue() == data
                attempts = [r for r in caplog.records if "reconnecting" in r.getMessage()]
                assert conn.reconnects == 1 and len(attempts) >= 2  # attempts failed while smbd was down
                print("\n%s: smbd down 2 s, retrieve resumed after %d reconnect attempts, %.2f s in all"
                      % (dialect, len(attempts), took))
            finally:
                conn.close()
    finally:
        srv.stop()


def test_twisted_driver_resumes_too(samba_factory: Callable[..., Any], twisted_reactor: Any) -> None:
    """The Twisted connection reconnects on a connection of its own (``ClientCreator``) and
    resumes: one drop during a retrieve, one during a store."""
    from twisted.internet.threads import blockingCallFromThread

    from tests.integration.twisted_logon import twisted_logon

    srv, folder, local = server_with_folder(samba_factory, SERVERS["SMB3_11"], "reconnect-tw-")
    data = _big_file(local)
    with FaultProxy(srv.host, srv.port, time_limit=120).start() as proxy:
        factory = twisted_logon(twisted_reactor, proxy.host, proxy.port, srv.user, srv.password, "tw-client",
                                srv.netbios_name, is_direct_tcp=True, auto_reconnect=True)
        try:
            dropper = Dropper(proxy, 1, S2C)
            out = io.BytesIO()
            result = blockingCallFromThread(twisted_reactor, factory.retrieveFile, "data", folder + "/big.bin", out,
                                            120)
            assert result[2] == SIZE and out.getvalue() == data and dropper.drops() == 1
            proxy.on_server_frame = None
            dropper = Dropper(proxy, 1, C2S)
            source = io.BytesIO(data)
            assert blockingCallFromThread(twisted_reactor, factory.storeFile, "data", folder + "/up.bin", source,
                                          120) == (source, SIZE)
            assert dropper.drops() == 1 and factory.instance.reconnects == 2
            with open(os.path.join(local, "up.bin"), "rb") as fh:
                assert fh.read() == data
        finally:
            blockingCallFromThread(twisted_reactor, factory.closeConnection)


@pytest.mark.parametrize("dialect", ["SMB2_10", "SMB3_11"])
def test_without_durable_handles_smb2_resumes_by_reopening(dialect: str, samba_factory: Callable[..., Any]) -> None:
    """A server that grants no durable handle (Samba with ``durable handles = no``): after the
    drop the file is opened again, its size and times compared, and the retrieve goes on from the
    offset."""
    settings = dict(SERVERS[dialect], extra_global={"durable handles": "no"})
    srv, folder, local = server_with_folder(samba_factory, settings, "reconnect-nodurable-")
    data = _big_file(local)
    with FaultProxy(srv.host, srv.port, time_limit=120).start() as proxy:
        conn = _blocking(proxy, srv, auto_reconnect=True)
        try:
            Dropper(proxy, 1, S2C)
            out = io.BytesIO()
            assert conn.retrieveFile("data", folder + "/big.bin", out, timeout=120)[1] == SIZE
            assert out.getvalue() == data
            dropper = Dropper(proxy, 1, C2S)
            assert conn.storeFile("data", folder + "/up.bin", io.BytesIO(data), timeout=120) == SIZE
            with open(os.path.join(local, "up.bin"), "rb") as fh:
                assert fh.read() == data
            assert dropper.drops() == 1 and conn.reconnects == 2 and conn.durable_reopens == 0
        finally:
            conn.close()


@pytest.mark.parametrize("dialect", ["SMB2_10", "SMB3_11"])
def test_an_oplock_break_is_acknowledged(dialect: str, samba_factory: Callable[..., Any]) -> None:
    """A durable handle holds a batch oplock: another client opening the file makes the server
    break it, and waits until we acknowledge.  The acknowledgment goes out while our retrieve is
    still running, so the other client's read finishes first (without it, the other client would
    wait until our retrieve closed the file, or the server's break timeout)."""
    srv, folder, local = server_with_folder(samba_factory, SERVERS[dialect], "oplock-")
    data = _big_file(local)
    ours = SMBConnection(srv.user, srv.password, "holder", srv.netbios_name, is_direct_tcp=True, auto_reconnect=True)
    other = SMBConnection(srv.user, srv.password, "other-client", srv.netbios_name, is_direct_tcp=True)
    assert ours.connect(srv.host, srv.port, timeout=30) and other.connect(srv.host, srv.port, timeout=30)
    events: List[str] = []
    lock = threading.Lock()

    def note(what: str) -> None:
        with lock:
            events.append(what)

    def read_head() -> None:
        head = io.BytesIO()
        other.retrieveFileFromOffset("data", folder + "/big.bin", head, 0, 16, timeout=60)
        note("other done" if head.getvalue() == data[:16] else "other read wrong bytes")

    reader = threading.Thread(target=read_head)

    class SlowSink(io.BytesIO):
        def write(self, chunk: Any) -> int:
            if not reader.is_alive() and not events:
                note("ours started")
                reader.start()
            time.sleep(0.2)  # keeps our retrieve running for a while
            return super().write(chunk)

    try:
        sink = SlowSink()
        assert ours.retrieveFile("data", folder + "/big.bin", sink, timeout=120)[1] == SIZE
        note("ours done")
        reader.join(60)
        assert sink.getvalue() == data
        assert events == ["ours started", "other done", "ours done"], events
    finally:
        ours.close()
        other.close()
