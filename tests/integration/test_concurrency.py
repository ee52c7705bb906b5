"""Many connections at once: 32 threads, each with its own SMBConnection, upload and download
a different 1-4 MiB file against one Samba at the same time; every byte comes back intact.
"""
from __future__ import annotations

import hashlib
import io
import os
import random
import threading
import time
import uuid
from typing import Dict, List, Optional

from smb.SMBConnection import SMBConnection

THREADS = 32
MIB = 1024 * 1024


def _payload(index: int) -> bytes:
    rng = random.Random(index)
    size = rng.randint(1 * MIB, 4 * MIB)
    block = rng.randbytes(64 * 1024) if hasattr(rng, "randbytes") else os.urandom(64 * 1024)
    # Different per thread and per block, so a mixed-up or misplaced chunk changes the hash.
    head = b"thread %02d " % index
    data = bytearray()
    n = 0
    while len(data) < size:
        data += head + n.to_bytes(4, "big") + block
        n += 1
    return bytes(data[:size])


def test_32_connections_in_parallel(samba_factory) -> None:
    srv = samba_factory()
    folder = "conc-" + uuid.uuid4().hex[:8]
    setup = SMBConnection(srv.user, srv.password, "pytest-client", srv.netbios_name, is_direct_tcp=True)
    assert setup.connect(srv.host, srv.port, timeout=30)
    setup.createDirectory("data", folder)

    barrier = threading.Barrier(THREADS)
    results: Dict[int, str] = {}
    errors: List[BaseException] = []
    expected = {i: hashlib.sha256(_payload(i)).hexdigest() for i in range(THREADS)}

    def worker(index: int) -> None:
        conn: Optional[SMBConnection] = None
        try:
            data = _payload(index)
            conn = SMBConnection(srv.user, srv.password, "client%02d" % index, srv.netbios_name,
                                 is_direct_tcp=True)
            assert conn.connect(srv.host, srv.port, timeout=60)
            barrier.wait(timeout=60)
            path = "%s/file%02d.bin" % (folder, index)
            assert conn.storeFile("data", path, io.BytesIO(data), timeout=120) == len(data)
            out = io.BytesIO()
            _attrs, size = conn.retrieveFile("data", path, out, timeout=120)
            assert size == len(data)
            results[index] = hashlib.sha256(out.getvalue()).hexdigest()
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)
            barrier.abort()
        finally:
            if conn is not None:
                conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,), name="smb-%02d" % i) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    elapsed = time.monotonic() - started
    try:
        assert not any(t.is_alive() for t in threads), "worker threads still running"
        assert not errors, errors[:3]
        assert results == expected
    finally:
        setup.deleteFiles("data", folder + "/*")
        setup.deleteDirectory("data", folder)
        setup.close()
    total = sum(len(_payload(i)) for i in range(THREADS))
    print("\n%d threads moved %.0f MiB up and down in %.1f s" % (THREADS, total / MIB, elapsed))
