"""Offsets beyond 4 GiB, and memory that stays flat whatever the file size."""
from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
import uuid

import pytest

from smb.SMBConnection import SMBConnection

GIB = 1 << 30


def _conn(srv):
    c = SMBConnection(srv.user, srv.password, "pytest-client", srv.netbios_name, is_direct_tcp=True)
    assert c.connect(srv.host, srv.port) is True
    return c


@pytest.mark.parametrize("dialect", ["NT1", "SMB2_02", "SMB3_11"])
def test_offsets_beyond_4_gib(samba_factory, dialect):
    srv = samba_factory(min_protocol=dialect, max_protocol=dialect)
    name = "sparse-%s.bin" % uuid.uuid4().hex[:8]
    offset = 5 * GIB + 12345
    data = os.urandom(300 * 1024 + 7)
    with _conn(srv) as c:
        assert c.storeFileFromOffset("data", name, io.BytesIO(data), offset=offset) == offset + len(data)
        assert c.getAttributes("data", name).file_size == offset + len(data)
        out = io.BytesIO()
        _, n = c.retrieveFileFromOffset("data", name, out, offset=offset - 1000, max_length=len(data) + 5000)
        assert n == len(data) + 1000
        assert out.getvalue() == b"\0" * 1000 + data
        assert os.stat(os.path.join(srv.share_path("data"), name)).st_size == offset + len(data)
        c.deleteFiles("data", name)


class _Generated:
    """A read-only file object producing ``size`` pseudo-random bytes on the fly."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.sha = hashlib.sha256()
        self.counter = 0

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        out = bytearray()
        while len(out) < n:
            out += hashlib.sha512(self.counter.to_bytes(8, "little")).digest() * 64
            self.counter += 1
        chunk = bytes(out[:n])
        self.left -= n
        self.sha.update(chunk)
        return chunk


class _Digest:
    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data) -> int:
        self.sha.update(data)
        self.size += len(data)
        return len(data)


@pytest.mark.parametrize("dialect", ["NT1", "SMB3_11"])
def test_memory_stays_flat_for_big_transfers(samba_factory, dialect):
    srv = samba_factory(min_protocol=dialect, max_protocol=dialect)
    size = 160 * 1024 * 1024
    name = "flat-%s.bin" % uuid.uuid4().hex[:8]
    with _conn(srv) as c:
        tracemalloc.start()
        try:
            src = _Generated(size)
            assert c.storeFile("data", name, src, timeout=300) == size
            sink = _Digest()
            c.retrieveFile("data", name, sink, timeout=300)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert sink.size == size and sink.sha.digest() == src.sha.digest()
        # The in-flight window and one receive buffer, never the file.
        assert peak < 64 * 1024 * 1024, "peak %d MiB for a %d MiB transfer" % (peak >> 20, size >> 20)
        c.deleteFiles("data", name)
