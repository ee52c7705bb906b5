"""One SMBConnection shared by many threads (issue 13): requests of all threads are multiplexed
on the one socket, a thread's timeout or error leaves the others alone, and close() ends the calls
still running with NotConnectedError instead of hanging them.

Each test runs on NT1, SMB 2.0.2 and SMB 3.1.1 (3.1.1 with signing, and once with encryption), and
once against a server that grants only a few SMB2 credits, so that threads have to queue for them.
"""
from __future__ import annotations

import hashlib
import io
import random
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import pytest

from smb.exceptions import NotConnectedError, OperationFailure, SMBTimeout
from smb.SMBConnection import SMBConnection
from tests.integration.common import fresh_folder, logged_on

THREADS = 32
KIB = 1024

SERVERS = {
    "NT1": dict(min_protocol="NT1", max_protocol="NT1"),
    "SMB2_02": dict(min_protocol="SMB2_02", max_protocol="SMB2_02"),
    "SMB3_11": dict(min_protocol="SMB3_11", max_protocol="SMB3_11", signing="mandatory"),
    "SMB3_11-encrypted": dict(min_protocol="SMB3_11", max_protocol="SMB3_11", encrypt="required"),
    # Samba grants at most this many credits: 32 threads cannot all have a request out at once.
    "SMB3_11-few-credits": dict(min_protocol="SMB3_11", max_protocol="SMB3_11",
                                extra_global={"smb2 max credits": "24"}),
}


@pytest.fixture(params=sorted(SERVERS))
def shared(request: Any, samba_factory: Callable[..., Any]) -> Any:
    srv = samba_factory(**SERVERS[request.param])
    conn = logged_on(srv, "threads-client")
    folder, local = fresh_folder(conn, srv, "threads-")
    yield srv, conn, folder, local
    conn.close()


def _payload(index: int) -> bytes:
    rng = random.Random(index)
    size = rng.randint(16 * KIB, 1024 * KIB)
    head = b"thread %02d:" % index
    return (head + rng.randbytes(size))[:size] if hasattr(rng, "randbytes") else head * (size // len(head))


def _in_threads(count: int, work: Callable[[int], Any], join_timeout: float = 300) -> Dict[int, Any]:
    """Run ``work(i)`` in ``count`` threads started together; return {i: result or exception}."""
    barrier = threading.Barrier(count)
    results: Dict[int, Any] = {}

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = work(i)
        except BaseException as err:  # noqa: BLE001 - reported by the test
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    end = time.monotonic() + join_timeout
    for t in threads:
        t.join(max(0.1, end - time.monotonic()))
    hung = [i for i, t in enumerate(threads) if t.is_alive()]
    assert not hung, "threads %s still running: a call hung" % hung
    return results


def test_32_threads_store_retrieve_list_on_one_connection(shared: Any) -> None:
    srv, conn, folder, local = shared
    expected = {i: hashlib.sha256(_payload(i)).hexdigest() for i in range(THREADS)}

    def work(i: int) -> Dict[str, Any]:
        data = _payload(i)
        mine = "%s/t%02d" % (folder, i)
        conn.createDirectory("data", mine)
        assert conn.storeFile("data", mine + "/file.bin", io.BytesIO(data), timeout=120) == len(data)
        out = io.BytesIO()
        _attrs, size = conn.retrieveFile("data", mine + "/file.bin", out, timeout=120)
        with conn.openFile("data", mine + "/file.bin", "rb", timeout=120) as f:
            f.seek(len(data) // 2)
            tail = f.read()
        names = sorted(e.filename for e in conn.listPath("data", mine) if e.filename not in (".", ".."))
        return {"size": size, "sha": hashlib.sha256(out.getvalue()).hexdigest(),
                "tail": tail == data[len(data) // 2:], "names": names}

    results = _in_threads(THREADS, work)
    for i in range(THREADS):
        got = results[i]
        assert not isinstance(got, BaseException), "thread %d: %r" % (i, got)
        assert got["sha"] == expected[i], "thread %d got someone else's bytes" % i
        assert got["size"] == len(_payload(i)) and got["tail"] is True
        assert got["names"] == ["file.bin"]
    # What the server stored is what each thread sent.
    for i in range(THREADS):
        with open("%s/t%02d/file.bin" % (local, i), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == expected[i]
    assert conn.echo(b"still here") is not None


def test_a_timeout_or_an_error_in_one_thread_leaves_the_others_alone(shared: Any) -> None:
    srv, conn, folder, local = shared
    big = random.Random(7).randbytes(8 * 1024 * KIB) if hasattr(random.Random, "randbytes") else b"x" * (8 << 20)
    assert conn.storeFile("data", folder + "/big.bin", io.BytesIO(big), timeout=120) == len(big)
    small = {i: _payload(i) for i in range(8)}
    for i, data in small.items():
        conn.storeFile("data", "%s/s%d.bin" % (folder, i), io.BytesIO(data))

    def work(i: int) -> Any:
        if i == 0:
            # Far too short for 8 MiB: this call times out, nobody else does.
            with pytest.raises(SMBTimeout):
                conn.retrieveFile("data", folder + "/big.bin", io.BytesIO(), timeout=0.001)
            return "timed out"
        if i == 1:
            with pytest.raises(OperationFailure):
                conn.retrieveFile("data", folder + "/no such file", io.BytesIO())
            return "failed"
        out = io.BytesIO()
        for _ in range(3):
            out = io.BytesIO()
            conn.retrieveFile("data", "%s/s%d.bin" % (folder, i % 8), out, timeout=120)
        return out.getvalue() == small[i % 8]

    results = _in_threads(16, work)
    assert results[0] == "timed out", results[0]
    assert results[1] == "failed", results[1]
    for i in range(2, 16):
        assert results[i] is True, "thread %d: %r" % (i, results[i])
    # The connection is still fine for everyone.
    out = io.BytesIO()
    conn.retrieveFile("data", folder + "/big.bin", out, timeout=120)
    assert out.getvalue() == big


def test_close_while_others_run_ends_them_with_not_connected(shared: Any) -> None:
    srv, conn, folder, local = shared
    data = b"z" * (4 * 1024 * KIB)
    conn.storeFile("data", folder + "/loop.bin", io.BytesIO(data), timeout=120)
    started = threading.Event()
    stop_at = time.monotonic() + 120

    def work(i: int) -> Any:
        if i == 0:
            started.wait(60)
            time.sleep(0.2)  # let the others get requests on the wire
            conn.close()
            return "closed"
        done = 0
        try:
            while time.monotonic() < stop_at:
                conn.retrieveFile("data", folder + "/loop.bin", io.BytesIO(), timeout=60)
                done += 1
                started.set()
        except NotConnectedError:
            return "ended"
        return "never ended after %d retrieves" % done

    results = _in_threads(9, work, join_timeout=180)
    assert results[0] == "closed"
    for i in range(1, 9):
        assert results[i] == "ended", "thread %d: %r" % (i, results[i])
    assert conn.sock is None
    with pytest.raises(NotConnectedError):
        conn.echo(b"x")
    # A new connect() on the same object works again.
    assert conn.connect(srv.host, srv.port, timeout=30)
    assert conn.listPath("data", folder)


def test_iterpath_and_file_handles_interleave_across_threads(shared: Any) -> None:
    srv, conn, folder, local = shared
    for i in range(300):
        conn.storeFile("data", "%s/n%03d" % (folder, i), io.BytesIO(b"%d" % i))
    lines = b"".join(b"line %05d\n" % i for i in range(20000))
    conn.storeFile("data", folder + "/lines.txt", io.BytesIO(lines))
    errors: List[Optional[BaseException]] = []

    def work(i: int) -> Any:
        if i % 2:
            names = [e.filename for e in conn.iterPath("data", folder, pattern="n*")]
            return sorted(names) == ["n%03d" % k for k in range(300)]
        with conn.openFile("data", folder + "/lines.txt", "r", timeout=60) as f:
            return sum(1 for _ in f) == 20000

    results = _in_threads(8, work)
    assert all(v is True for v in results.values()), results
    assert not errors
