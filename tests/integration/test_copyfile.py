"""SMBConnection.copyFile against a real Samba on NT1, SMB2_02 and SMB3_11.

Results are checked on the server's disk (sha256 of source and copy).  Which path the copy
took is checked by counting the calls of the dialect's READ pipeline (``_read_range``): a
server-side copy (SMB2/3) sends no READ at all; the client copy (NT1) reads everything.
"""
from __future__ import annotations

import hashlib
import os
from typing import List, Tuple

import pytest

from smb.exceptions import OperationFailure, SMBFileNotFoundError
from tests.integration.common import fresh_folder, logged_on, server_for

DIALECTS = ["NT1", "SMB2_02", "SMB3_11"]
MIB = 1024 * 1024


@pytest.fixture(params=DIALECTS)
def dialect(request):
    return request.param


@pytest.fixture
def srv(samba_factory, dialect):
    return server_for(samba_factory, dialect)


@pytest.fixture
def conn(srv):
    c = logged_on(srv)
    yield c
    c.close()


@pytest.fixture
def folder(conn, srv):
    return fresh_folder(conn, srv, "cp-")


@pytest.fixture
def reads(conn):
    """Calls of the dialect's READ pipeline during the test."""
    calls: List[Tuple[int, int]] = []
    original = conn.dialect._read_range

    def counting(tree, fid, start, end, file_obj, progress):
        calls.append((start, end))
        return original(tree, fid, start, end, file_obj, progress)

    conn.dialect._read_range = counting
    return calls


def _sha_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


def _put(local_dir: str, name: str, size: int) -> str:
    path = os.path.join(local_dir, name)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 4 * MIB)
            f.write(os.urandom(n))
            left -= n
    return path


def _check_path(dialect: str, reads: List[Tuple[int, int]], size: int) -> None:
    if dialect == "NT1":
        assert reads or size == 0, "NT1 has no server-side copy: the client must read"
    else:
        assert reads == [], "SMB2/3 must copy on the server, yet the client sent READs"


@pytest.mark.parametrize("size", [0, 1, MIB + 1, 40 * MIB])
def test_copy_sizes(conn, folder, reads, dialect, size):
    name, local_dir = folder
    src = _put(local_dir, "src.bin", size)
    copied = conn.copyFile("data", name + "\\src.bin", name + "\\dst.bin")
    assert copied == size
    dst = os.path.join(local_dir, "dst.bin")
    assert os.path.getsize(dst) == size
    assert _sha_file(dst) == _sha_file(src)
    _check_path(dialect, reads, size)


def test_copy_to_other_share(conn, srv, folder, reads, dialect):
    name, local_dir = folder
    src = _put(local_dir, "src.bin", 3 * MIB + 17)
    conn.createDirectory("public", name)
    try:
        copied = conn.copyFile("data", name + "\\src.bin", name + "\\dst.bin", dst_service_name="public")
        assert copied == 3 * MIB + 17
        dst = os.path.join(srv.share_path("public"), name, "dst.bin")
        assert _sha_file(dst) == _sha_file(src)
        _check_path(dialect, reads, copied)
    finally:
        conn.deleteTree("public", name)


def test_overwrite_existing_dst(conn, folder, dialect):
    name, local_dir = folder
    src = _put(local_dir, "src.bin", 100_000)
    _put(local_dir, "old.bin", 5 * MIB)
    with open(os.path.join(local_dir, "old.bin"), "rb") as f:  # longer than the source: must be cut
        conn.storeFile("data", name + "\\dst.bin", f)
    assert conn.copyFile("data", name + "/src.bin", name + "/dst.bin") == 100_000
    assert _sha_file(os.path.join(local_dir, "dst.bin")) == _sha_file(src)


def test_progress_monotone_to_total(conn, folder, dialect):
    name, local_dir = folder
    size = 20 * MIB + 5
    _put(local_dir, "src.bin", size)
    seen: List[Tuple[int, int]] = []
    conn.copyFile("data", name + "\\src.bin", name + "\\dst.bin", progress=lambda d, t: seen.append((d, t)))
    assert seen, "no progress reported"
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == size
    assert all(t == size for _, t in seen)
    assert len(seen) > 1


def test_missing_source(conn, folder):
    name, _ = folder
    with pytest.raises(SMBFileNotFoundError) as info:
        conn.copyFile("data", name + "\\nope.bin", name + "\\dst.bin")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, OperationFailure)


def test_dst_folder_missing(conn, folder):
    name, local_dir = folder
    _put(local_dir, "src.bin", 10)
    with pytest.raises(OperationFailure):
        conn.copyFile("data", name + "\\src.bin", name + "\\no-such-dir\\dst.bin")
    # The source's handle was given back: the connection still works and the source can be removed.
    conn.deleteFiles("data", name + "\\src.bin")


@pytest.mark.parametrize("dialect", ["SMB2_02", "SMB3_11"])  # SMB2/3 only
def test_smb2_falls_back_when_server_copy_refused(conn, folder, reads, dialect, monkeypatch):
    """A server that answers STATUS_NOT_SUPPORTED: the copy goes through the client."""
    name, local_dir = folder
    src = _put(local_dir, "src.bin", 9 * MIB + 3)

    def refused(source, target, progress):
        return None
        yield

    monkeypatch.setattr(conn.dialect, "_server_copy", refused)
    assert conn.copyFile("data", name + "\\src.bin", name + "\\dst.bin") == 9 * MIB + 3
    assert _sha_file(os.path.join(local_dir, "dst.bin")) == _sha_file(src)
    assert reads


@pytest.mark.parametrize("dialect", ["SMB2_02", "SMB3_11"])  # SMB2/3 only
def test_smb2_adapts_to_server_limits(conn, folder, reads, dialect, monkeypatch, caplog):
    """Asking for more than Samba allows per request (chunks of 4 MiB, 1 MiB is its limit):
    the STATUS_INVALID_PARAMETER answer carries the limits, the copy adopts them."""
    import smb._smb2_ops as ops
    monkeypatch.setattr(ops, "COPYCHUNK_SIZE", 4 * MIB)
    monkeypatch.setattr(ops, "COPYCHUNK_COUNT", 1024)
    name, local_dir = folder
    src = _put(local_dir, "src.bin", 24 * MIB + 9)
    with caplog.at_level("DEBUG", logger="SMB.SMBConnection"):
        assert conn.copyFile("data", name + "\\src.bin", name + "\\dst.bin") == 24 * MIB + 9
    assert _sha_file(os.path.join(local_dir, "dst.bin")) == _sha_file(src)
    assert reads == []
    assert any("server-side copy limits" in r.getMessage() for r in caplog.records)
