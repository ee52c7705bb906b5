"""The asyncio SMB driver (issue 14): smb.aio.SMBConnection against the suite's Samba.

Every public call as a coroutine on NT1, SMB 2.0.2 and SMB 3.1.1 (signing mandatory, and once
with encryption required), over direct TCP and once over port 139; 64 concurrent retrieves on one
connection; a cancelled call leaves no open handle and the connection usable; a 50 MiB transfer
runs with the loop's slow-callback detector on and trips nothing.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import random
import time
from typing import Any, Callable, Dict, List

import pytest

from smb import aio
from smb.exceptions import NotConnectedError, OperationFailure, SMBFileNotFoundError
from tests.integration.common import server_with_folder

SERVERS = {
    "NT1": dict(min_protocol="NT1", max_protocol="NT1"),
    "SMB2_02": dict(min_protocol="SMB2_02", max_protocol="SMB2_02"),
    "SMB3_11": dict(min_protocol="SMB3_11", max_protocol="SMB3_11", signing="mandatory"),
    "SMB3_11-encrypted": dict(min_protocol="SMB3_11", max_protocol="SMB3_11", encrypt="required"),
}
MIB = 1024 * 1024


def _run(coro: Any, debug: bool = False) -> Any:
    return asyncio.run(coro, debug=debug)


async def _connect(srv: Any, port139: bool = False, **kwargs: Any) -> aio.SMBConnection:
    conn = aio.SMBConnection(srv.user, srv.password, "aio-client", srv.netbios_name, is_direct_tcp=not port139,
                             **kwargs)
    assert await conn.connect(srv.host, srv.netbios_port if port139 else srv.port, timeout=30) is True
    return conn


@pytest.fixture(params=sorted(SERVERS))
def server(request: Any, samba_factory: Callable[..., Any]) -> Any:
    srv, folder, local = server_with_folder(samba_factory, SERVERS[request.param], "aio-")
    return request.param, srv, folder, local


def test_every_call_as_a_coroutine(server: Any) -> None:
    name, srv, folder, local = server

    async def main() -> None:
        async with await _connect(srv, encrypt=name.endswith("encrypted")) as conn:
            assert conn.isUsingSMB2 == (name != "NT1")
            if name == "SMB3_11":
                assert conn.is_signing_active
            if name == "SMB3_11-encrypted":
                assert conn.dialect.session.encrypt_data
            shares = {s.name for s in await conn.listShares()}
            assert "data" in shares
            assert await conn.echo(b"ping") == b"ping"
            payload = os.urandom(3 * MIB + 17)
            assert await conn.storeFile("data", folder + "/a.bin", io.BytesIO(payload)) == len(payload)
            with open(os.path.join(local, "a.bin"), "rb") as fh:
                assert fh.read() == payload
            sink = io.BytesIO()
            attrs, n = await conn.retrieveFile("data", folder + "/a.bin", sink)
            assert n == len(payload) and sink.getvalue() == payload
            sink = io.BytesIO()
            _, n = await conn.retrieveFileFromOffset("data", folder + "/a.bin", sink, 1000, 5000)
            assert sink.getvalue() == payload[1000:6000]
            assert await conn.storeFileFromOffset("data", folder + "/a.bin", io.BytesIO(b"XYZ"), 10) == 13
            info = await conn.getAttributes("data", folder + "/a.bin")
            assert info.file_size == len(payload) and not info.isDirectory
            assert await conn.exists("data", folder + "/a.bin")
            assert await conn.isFile("data", folder + "/a.bin")
            assert not await conn.isDirectory("data", folder + "/a.bin")
            assert not await conn.exists("data", folder + "/nothing")
            await conn.makeDirs("data", folder + "/d1/d2/d3")
            assert await conn.isDirectory("data", folder + "/d1/d2")
            await conn.createDirectory("data", folder + "/d1/e")
            assert await conn.copyFile("data", folder + "/a.bin", folder + "/d1/copy.bin") == len(payload)
            await conn.rename("data", folder + "/d1/copy.bin", folder + "/d1/d2/moved.bin")
            await conn.setTimes("data", folder + "/d1/d2/moved.bin", write=1_500_000_000.0)
            assert abs(os.stat(os.path.join(local, "d1", "d2", "moved.bin")).st_mtime - 1_500_000_000) < 2
            await conn.setLastWriteTime("data", folder + "/a.bin", 1_400_000_000.0)
            await conn.resetFileAttributes("data", folder + "/a.bin")
            assert await conn.getSecurity("data", folder + "/a.bin") is not None
            assert len(await conn.listSnapshots("snapshots", "/")) >= 1
            listed = sorted(f.filename for f in await conn.listPath("data", folder))
            assert listed == [".", "..", "a.bin", "d1"]
            streamed = sorted([f.filename async for f in conn.iterPath("data", folder)])
            assert streamed == listed
            walked = [(top, sorted(dirs), sorted(files)) async for top, dirs, files in conn.walk("data", folder)]
            assert walked[0] == (folder, ["d1"], ["a.bin"])
            assert (folder + "/d1/d2", ["d3"], ["moved.bin"]) in walked
            await conn.deleteDirectory("data", folder + "/d1/e")
            await conn.deleteFile("data", folder + "/a.bin")
            with pytest.raises(SMBFileNotFoundError):
                await conn.deleteFile("data", folder + "/a.bin")
            await conn.storeFile("data", folder + "/p1.txt", io.BytesIO(b"1"))
            await conn.storeFile("data", folder + "/p2.txt", io.BytesIO(b"2"))
            await conn.deleteFiles("data", folder + "/p*.txt")
            assert not await conn.exists("data", folder + "/p1.txt")
            await conn.deleteTree("data", folder + "/d1")
            assert os.listdir(local) == []
            with pytest.raises(OperationFailure):
                await conn.getAttributes("data", folder + "/gone")
        assert conn.auth_result is True
        with pytest.raises(NotConnectedError):
            await conn.listShares()

    _run(main())


def test_files_and_async_file_objects(server: Any) -> None:
    name, srv, folder, local = server

    class AsyncSink:
        def __init__(self) -> None:
            self.data = bytearray()
            self.writes = 0

        async def write(self, b: bytes) -> int:
            await asyncio.sleep(0)
            self.data += b
            self.writes += 1
            return len(b)

    class AsyncSource:
        def __init__(self, data: bytes) -> None:
            self.buf = io.BytesIO(data)

        async def read(self, n: int) -> bytes:
            await asyncio.sleep(0)
            return self.buf.read(n)

    async def main() -> None:
        async with await _connect(srv, encrypt=name.endswith("encrypted")) as conn:
            payload = os.urandom(9 * MIB + 5)
            assert await conn.storeFile("data", folder + "/big.bin", AsyncSource(payload)) == len(payload)
            sink = AsyncSink()
            _, n = await conn.retrieveFile("data", folder + "/big.bin", sink)
            assert n == len(payload) and bytes(sink.data) == payload and sink.writes >= 3
            async with await conn.openFile("data", folder + "/big.bin", "rb") as f:
                assert f.size == len(payload)
                assert await f.read(10) == payload[:10]
                assert await f.seek(-5, os.SEEK_END) == len(payload) - 5
                assert await f.read() == payload[-5:]
                await f.seek(4 * MIB)
                assert await f.read(MIB) == payload[4 * MIB:5 * MIB]
            async with await conn.openFile("data", folder + "/t.txt", "w", encoding="utf-8") as f:
                await f.write("grüße\nzwei\n")
                await f.write("drei ohne Ende")
            with open(os.path.join(local, "t.txt"), "rb") as fh:
                assert fh.read() == "grüße\nzwei\ndrei ohne Ende".encode()
            async with await conn.openFile("data", folder + "/t.txt", "r", encoding="utf-8") as f:
                assert [line async for line in f] == ["grüße\n", "zwei\n", "drei ohne Ende"]
            async with await conn.openFile("data", folder + "/t.txt", "a") as f:
                await f.write("!")
            async with await conn.openFile("data", folder + "/t.txt", "rb") as f:
                assert await f.readline() == "grüße\n".encode()
                assert (await f.read()).endswith(b"Ende!")
            async with await conn.openFile("data", folder + "/t.txt", "r+b") as f:
                await f.seek(2)
                await f.write(b"XX")
                await f.truncate(6)
            with open(os.path.join(local, "t.txt"), "rb") as fh:
                assert fh.read() == b"grXX" + "ß".encode()
            with pytest.raises(SMBFileNotFoundError):
                await conn.openFile("data", folder + "/missing.txt")
            with pytest.raises(FileExistsError):
                await conn.openFile("data", folder + "/t.txt", "x")
            result = await conn.downloadTree("data", folder, str(local) + "-copy")
            assert result.files == 2
            with open(os.path.join(str(local) + "-copy", "big.bin"), "rb") as fh:
                assert fh.read() == payload

    _run(main())


def test_netbios_session_port_139(samba_factory: Callable[..., Any]) -> None:
    srv = samba_factory(min_protocol="SMB2_02", max_protocol="SMB3_11")

    async def main() -> None:
        conn = await _connect(srv, port139=True)
        try:
            assert "data" in {s.name for s in await conn.listShares()}
        finally:
            await conn.close()
        bad = aio.SMBConnection(srv.user, "wrong-" + srv.password, "aio-client", srv.netbios_name,
                                is_direct_tcp=True)
        assert await bad.connect(srv.host, srv.port, timeout=30) is False
        assert bad.auth_result is False

    _run(main())


@pytest.mark.parametrize("dialect", ["NT1", "SMB2_02", "SMB3_11-encrypted"])
def test_gather_64_retrieves_on_one_connection(dialect: str, samba_factory: Callable[..., Any]) -> None:
    srv, folder, local = server_with_folder(samba_factory, SERVERS[dialect], "aio64-")
    rng = random.Random(64)
    files: Dict[str, bytes] = {}
    for i in range(64):
        files["f%02d" % i] = rng.randbytes(rng.randint(1, 300 * 1024)) if hasattr(rng, "randbytes") \
            else os.urandom(rng.randint(1, 300 * 1024))
        with open(os.path.join(local, "f%02d" % i), "wb") as fh:
            fh.write(files["f%02d" % i])

    async def main() -> None:
        async with await _connect(srv, encrypt=dialect.endswith("encrypted")) as conn:
            async def one(name: str) -> bytes:
                sink = io.BytesIO()
                await conn.retrieveFile("data", folder + "/" + name, sink)
                return sink.getvalue()

            got = await asyncio.gather(*(one(n) for n in files))
            assert {n: hashlib.sha256(d).hexdigest() for n, d in zip(files, got)} == \
                {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}
            # Mixed calls at once, too.
            listing, stats, _ = await asyncio.gather(conn.listPath("data", folder),
                                                     asyncio.gather(*(conn.getAttributes("data", folder + "/" + n)
                                                                      for n in files)),
                                                     conn.storeFile("data", folder + "/new", io.BytesIO(b"n" * 99)))
            assert len(listing) == 64 + 2 + 1 or len(listing) == 64 + 2
            assert [s.file_size for s in stats] == [len(d) for d in files.values()]

    _run(main())


@pytest.mark.parametrize("dialect", ["NT1", "SMB2_02", "SMB3_11"])
def test_cancelled_call_closes_its_handle_and_the_connection_stays_usable(
        dialect: str, samba_factory: Callable[..., Any]) -> None:
    srv, folder, local = server_with_folder(samba_factory, SERVERS[dialect], "aiocancel-")
    payload = os.urandom(64 * MIB)
    with open(os.path.join(local, "big.bin"), "wb") as fh:
        fh.write(payload)

    class StuckSink:
        """An async file whose write never returns: the call is stuck with the file open."""

        async def write(self, b: bytes) -> int:
            await asyncio.Event().wait()
            return len(b)

    async def exclusive_open(conn: aio.SMBConnection) -> None:
        # Every open of the file was closed: an exclusive open gets it (a CLOSE still in the
        # server's queue behind READs it was serving may take a moment).
        for attempt in range(40):
            try:
                f = await conn.openFile("data", folder + "/big.bin", "rb", share_access="")
                break
            except OperationFailure as err:
                if "SHARING" not in str(err).upper() or attempt == 39:
                    raise
                await asyncio.sleep(0.05)
        await f.close()

    async def main() -> None:
        async with await _connect(srv) as conn:
            started = asyncio.Event()
            sink = io.BytesIO()
            task = asyncio.ensure_future(conn.retrieveFile("data", folder + "/big.bin", sink,
                                                           progress=lambda done, total: started.set()))
            await started.wait()
            assert not task.done()  # cancelled in the middle of the transfer
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0.5)
            assert len(sink.getvalue()) < len(payload)  # the transfer stopped
            await exclusive_open(conn)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(conn.retrieveFile("data", folder + "/big.bin", StuckSink()), 0.5)
            await exclusive_open(conn)
            sink = io.BytesIO()
            _, n = await conn.retrieveFile("data", folder + "/big.bin", sink)
            assert n == len(payload) and sink.getvalue() == payload
            assert await conn.echo(b"still here") == b"still here"

    _run(main())


@pytest.mark.parametrize("dialect", ["SMB3_11-encrypted", "NT1"])
def test_50_mib_transfer_never_blocks_the_loop(dialect: str, samba_factory: Callable[..., Any],
                                               caplog: Any) -> None:
    srv, folder, local = server_with_folder(samba_factory, SERVERS[dialect], "aioslow-")
    payload = os.urandom(50 * MIB)
    ticks: List[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.slow_callback_duration = 0.1
        stop = asyncio.Event()
        tick = asyncio.ensure_future(ticker(stop))
        async with await _connect(srv, encrypt=dialect.endswith("encrypted")) as conn:
            await conn.storeFile("data", folder + "/fifty.bin", io.BytesIO(payload))
            sink = io.BytesIO()
            await conn.retrieveFile("data", folder + "/fifty.bin", sink)
            assert sink.getvalue() == payload
        stop.set()
        await tick

    caplog.set_level(logging.WARNING, logger="asyncio")
    _run(main(), debug=True)
    slow = [r.getMessage() for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()]
    assert slow == []
    assert len(ticks) > 10  # the loop kept running other tasks during the transfer


def test_detector_sees_a_blocking_callback(caplog: Any) -> None:
    """The check above can fail: a callback that blocks is reported."""
    async def main() -> None:
        asyncio.get_running_loop().slow_callback_duration = 0.1
        time.sleep(0.2)

    caplog.set_level(logging.WARNING, logger="asyncio")
    _run(main(), debug=True)
    assert any("took" in r.getMessage() for r in caplog.records if r.name == "asyncio")


def test_blocking_driver_refuses_async_file_objects(samba_factory: Callable[..., Any]) -> None:
    """An async file object given to the blocking class is refused (TypeError), not
    silently left unawaited; the connection stays usable."""
    srv, folder, local = server_with_folder(samba_factory, SERVERS["SMB2_02"], "aiorefuse-")
    with open(os.path.join(local, "f.bin"), "wb") as fh:
        fh.write(b"x" * 5000)

    class AsyncSink:
        async def write(self, b: bytes) -> int:
            return len(b)

    from tests.integration.common import logged_on
    conn = logged_on(srv, "blocking")
    try:
        with pytest.raises(TypeError, match="smb.aio"):
            conn.retrieveFile("data", folder + "/f.bin", AsyncSink())
        out = io.BytesIO()
        conn.retrieveFile("data", folder + "/f.bin", out)
        assert out.getvalue() == b"x" * 5000
    finally:
        conn.close()


def _open_dir(d: Any, share: str, path: str) -> Any:
    tree = yield from d.tree(share)
    opened = yield from d.open(tree, path, 0x1, 1, 0x1)  # FILE_LIST_DIRECTORY, FILE_OPEN, FILE_DIRECTORY_FILE
    return tree, opened.file_id


def _change_notify(d: Any, tree: Any, file_id: bytes) -> Any:
    """SMB2 CHANGE_NOTIFY ([MS-SMB2] 2.2.35) on a folder: Samba answers STATUS_PENDING at once
    and the final answer only when a name changes there (or the request is cancelled)."""
    import struct
    body = struct.pack("<HHI16sII", 32, 0, 4096, file_id, 0x1, 0)  # FILE_NOTIFY_CHANGE_FILE_NAME
    resp = yield from d.call(0x0F, body, tree, 4096)
    return resp.header.status


@pytest.mark.parametrize("dialect", ["SMB2_02", "SMB3_11", "SMB3_11-encrypted"])
def test_a_pending_request_given_up_is_cancelled_at_the_server(dialect: str,
                                                               samba_factory: Callable[..., Any]) -> None:
    """A call waiting on a request the server holds (STATUS_PENDING) is cancelled: the core
    sends SMB2 CANCEL, Samba ends the request with STATUS_CANCELLED, and nothing stays pending
    (without the CANCEL the request would wait until the folder changed)."""
    srv, folder, local = server_with_folder(samba_factory, SERVERS[dialect], "aionotify-")

    async def main() -> None:
        async with await _connect(srv, encrypt=dialect.endswith("encrypted")) as conn:
            tree, fid = await conn._call(_open_dir(conn.dialect, "data", folder), 30, "open")
            task = asyncio.ensure_future(conn._call(_change_notify(conn.dialect, tree, fid), 30, "notify"))
            for _ in range(100):  # until the interim response is in
                await asyncio.sleep(0.01)
                if conn.dialect._async_ids:
                    break
            assert conn.dialect._async_ids and not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            for _ in range(100):
                if not conn._abandoned:
                    break
                await asyncio.sleep(0.02)
            assert not conn._abandoned and conn.dialect._async_ids == {}
            assert await conn.echo(b"ok") == b"ok"
            await conn._call(conn.dialect.close_file(tree, fid), 30, "close")

    _run(main())


@pytest.mark.parametrize("dialect", ["NT1", "SMB3_11"])
def test_faults_end_calls_with_our_errors(dialect: str, samba_factory: Callable[..., Any]) -> None:
    """Through a fault-injecting proxy: a server that stalls makes the call time out (the
    connection stays usable once it answers again); a flipped byte in a signed response breaks
    the connection; a connection dropped mid-transfer ends every waiting call with
    NotConnectedError; close() ends calls still waiting.  No call hangs."""
    from smb.exceptions import NotConnectedError, ProtocolError, SMBTimeout
    from tests.faultproxy import FaultProxy

    settings = dict(SERVERS[dialect], signing="mandatory")
    srv, folder, local = server_with_folder(samba_factory, settings, "aiofault-")
    payload = os.urandom(8 * MIB)
    with open(os.path.join(local, "f.bin"), "wb") as fh:
        fh.write(payload)

    async def connect(proxy: FaultProxy) -> aio.SMBConnection:
        conn = aio.SMBConnection(srv.user, srv.password, "aio-client", srv.netbios_name, is_direct_tcp=True)
        assert await conn.connect(proxy.host, proxy.port, timeout=30) is True
        return conn

    async def main() -> None:
        with FaultProxy(srv.host, srv.port, time_limit=60).start() as proxy:
            conn = await connect(proxy)
            stall = proxy.stall(1.5)
            with pytest.raises(SMBTimeout):
                await conn.echo(b"late", timeout=0.5)
            assert stall.fired.is_set()
            await asyncio.sleep(1.5)
            assert await conn.echo(b"again", timeout=10) == b"again"
            flip = proxy.flip_byte(16 if dialect == "NT1" else 50)  # in the signature of the next response
            with pytest.raises((ProtocolError, NotConnectedError)):
                await conn.getAttributes("data", folder + "/f.bin")
            assert flip.fired.is_set() and conn.broken is not None
            with pytest.raises(NotConnectedError):
                await conn.echo(b"x")
            await conn.close()

            conn = await connect(proxy)
            drop = proxy.drop_after(3 * MIB)
            calls = [conn.retrieveFile("data", folder + "/f.bin", io.BytesIO()) for _ in range(3)]
            results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 30)
            assert drop.fired.is_set()
            assert all(isinstance(r, NotConnectedError) for r in results), results
            await conn.close()

            conn = await connect(proxy)
            proxy.stall()  # the server never answers again
            waiting = [asyncio.ensure_future(conn.echo(b"never", timeout=60)) for _ in range(4)]
            await asyncio.sleep(0.2)
            await conn.close()
            results = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 10)
            assert all(isinstance(r, NotConnectedError) for r in results), results

    _run(main())
