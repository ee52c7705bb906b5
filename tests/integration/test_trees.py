"""Trees and metadata against a real Samba, every dialect: iterPath, walk, exists/isFile/isDirectory,
makeDirs, deleteTree, setTimes.

Big folders are filled directly in the server's share directory on disk (fast); what the client
sees is compared with what os.walk / os.stat see there.
"""
from __future__ import annotations

import gc
import io
import os
import shutil
import tracemalloc

import pytest

from smb import smb_constants as C
from smb import smb_structs
from smb.base import SharedFile
from smb.exceptions import OperationFailure
from smb.nt_status import NtStatus
from tests.integration.common import fresh_folder, logged_on, server_for

DIALECTS = ["NT1", "SMB2_02", "SMB2_10", "SMB3_00", "SMB3_02", "SMB3_11", "SMB1-forced"]


@pytest.fixture(params=DIALECTS)
def dialect(request, monkeypatch):
    if request.param == "SMB1-forced":
        monkeypatch.setattr(smb_structs, "SUPPORT_SMB2", False)
    return request.param


@pytest.fixture
def srv(samba_factory, dialect):
    return server_for(samba_factory, dialect)


@pytest.fixture
def conn(srv):
    c = logged_on(srv, "pytest-trees")
    yield c
    c.close()


@pytest.fixture
def folder(conn, srv):
    """A fresh folder on share ``data``: (name on the share, path on the server's disk)."""
    name, local = fresh_folder(conn, srv, "tr-")
    yield name, local
    shutil.rmtree(local, ignore_errors=True)


def _fill(local: str, count: int, prefix: str = "e") -> set:
    names = set()
    for i in range(count):
        name = "%s-%06d.dat" % (prefix, i)
        with open(os.path.join(local, name), "wb"):
            pass
        names.add(name)
    return names


def _put(conn, path: str, data: bytes = b"x") -> None:
    conn.storeFile("data", path, io.BytesIO(data))


# ---------------------------------------------------------------- iterPath

def test_iter_path_yields_every_entry_once_like_list_path(conn, folder):
    name, local = folder
    expected = _fill(local, 3000)
    os.mkdir(os.path.join(local, "subdir"))
    it = conn.iterPath("data", name)
    first = next(it)
    assert isinstance(first, SharedFile)
    got = [first.filename] + [e.filename for e in it]
    assert len(got) == len(set(got)) == 3003
    assert set(got) == expected | {"subdir", ".", ".."}
    assert set(got) == {e.filename for e in conn.listPath("data", name)}
    # pattern and search behave as listPath's
    assert {e.filename for e in conn.iterPath("data", name, "e-00001*")} == {"e-%06d.dat" % i
                                                                             for i in range(10, 20)}
    dirs = {e.filename for e in conn.iterPath("data", name, search=C.SMB_FILE_ATTRIBUTE_DIRECTORY)}
    assert dirs == {".", "..", "subdir"}
    assert list(conn.iterPath("data", name, "no-match-*")) == []


def test_iter_path_missing_folder_raises_on_first_next(conn):
    it = conn.iterPath("data", "no/such/folder")
    with pytest.raises(OperationFailure) as info:
        next(it)
    assert info.value.status in (NtStatus.OBJECT_NAME_NOT_FOUND, NtStatus.OBJECT_PATH_NOT_FOUND)
    assert conn.echo(b"ok") == b"ok"


def test_iter_path_early_break_closes_the_handle(conn, folder):
    name, local = folder
    _fill(local, 3000)
    for _ in range(3):
        for i, entry in enumerate(conn.iterPath("data", name)):
            if i == 5:
                break
    it = conn.iterPath("data", name)
    next(it)
    it.close()
    # Other calls run fine between batches of an open listing.
    it = conn.iterPath("data", name)
    next(it)
    assert conn.isDirectory("data", name)
    del it
    gc.collect()
    # No handle of ours is left on the folder: deleting it works (it fails while one is open).
    conn.deleteTree("data", name)
    assert not os.path.exists(local)


def test_iter_path_memory_stays_flat(conn, folder):
    name, local = folder
    _fill(local, 20000)
    list(conn.iterPath("data", name, "e-00000*"))  # warm up buffers and trees
    gc.collect()
    tracemalloc.start()
    try:
        count = sum(1 for _ in conn.iterPath("data", name))
        _, iter_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        listing = conn.listPath("data", name)
        _, list_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == len(listing) == 20002
    assert iter_peak < 8 * 1024 * 1024, iter_peak
    assert iter_peak * 2 < list_peak, (iter_peak, list_peak)


# ---------------------------------------------------------------- walk

def _build_tree(local: str) -> None:
    for rel in ("a", "a/b", "a/b/c", "d", "d/e", "empty"):
        os.makedirs(os.path.join(local, rel), exist_ok=True)
    for rel in ("top.txt", "a/1.txt", "a/b/2.txt", "a/b/c/3.txt", "a/b/c/4.txt", "d/5.txt", "d/e/6.txt"):
        with open(os.path.join(local, rel), "wb") as fh:
            fh.write(rel.encode())


def _disk_walk(local: str, name: str, topdown: bool = True):
    out = []
    for dirpath, dirnames, filenames in os.walk(local, topdown=topdown):
        rel = os.path.relpath(dirpath, os.path.dirname(local)).replace(os.sep, "/")
        out.append((rel, sorted(dirnames), sorted(filenames)))
    return out


def test_walk_matches_os_walk(conn, folder):
    name, local = folder
    _build_tree(local)
    for topdown in (True, False):
        ours = [(d, sorted(ds), sorted(fs)) for d, ds, fs in conn.walk("data", "/" + name + "/", topdown=topdown)]
        disk = _disk_walk(local, name, topdown)
        assert sorted(ours) == sorted(disk)
        order = [d for d, _, _ in ours]
        if topdown:
            assert order[0] == name and order.index(name + "/a") < order.index(name + "/a/b")
        else:
            assert order[-1] == name and order.index(name + "/a/b") < order.index(name + "/a")


def test_walk_topdown_pruning_and_onerror(conn, folder):
    name, local = folder
    _build_tree(local)
    seen = []
    for dirpath, dirnames, _ in conn.walk("data", name):
        seen.append(dirpath)
        if dirpath == name:
            dirnames.remove("a")
    assert seen and not any(p.startswith(name + "/a") for p in seen)
    assert name + "/d/e" in seen
    errors = []
    assert list(conn.walk("data", name + "/missing", onerror=errors.append)) == []
    assert len(errors) == 1 and isinstance(errors[0], OperationFailure)


# ---------------------------------------------------------------- exists / isFile / isDirectory

def test_exists_is_file_is_directory(conn, folder):
    name, _ = folder
    _put(conn, name + "/f.txt")
    conn.createDirectory("data", name + "/d")
    table = {name + "/f.txt": (True, True, False), name + "/d": (True, False, True),
             name + "/missing": (False, False, False), name + "/no/such/file": (False, False, False),
             name + "/f.txt/below": (False, False, False), "": (True, False, True)}
    for path, (exists, is_file, is_dir) in table.items():
        assert (conn.exists("data", path), conn.isFile("data", path), conn.isDirectory("data", path)) \
            == (exists, is_file, is_dir), path
    with pytest.raises(OperationFailure):
        conn.exists("no-such-share", "x")


# ---------------------------------------------------------------- makeDirs

def test_make_dirs(conn, folder):
    name, local = folder
    conn.makeDirs("data", name + "/x/y/z")
    assert os.path.isdir(os.path.join(local, "x", "y", "z"))
    with pytest.raises(OperationFailure) as info:
        conn.makeDirs("data", name + "/x/y/z")
    assert info.value.status == NtStatus.OBJECT_NAME_COLLISION
    conn.makeDirs("data", name + "/x/y/z", exist_ok=True)
    conn.makeDirs("data", name + "/x/y/z2", exist_ok=True)
    assert os.path.isdir(os.path.join(local, "x", "y", "z2"))
    _put(conn, name + "/file")
    for exist_ok in (False, True):
        with pytest.raises(OperationFailure):
            conn.makeDirs("data", name + "/file", exist_ok=exist_ok)
        with pytest.raises(OperationFailure):
            conn.makeDirs("data", name + "/file/sub", exist_ok=exist_ok)
    assert os.path.isfile(os.path.join(local, "file"))


# ---------------------------------------------------------------- deleteTree

def test_delete_tree_with_read_only_files(conn, folder):
    name, local = folder
    conn.makeDirs("data", name + "/victim/a/b")
    conn.makeDirs("data", name + "/victim/c")
    for rel in ("victim/top.txt", "victim/a/1.txt", "victim/a/b/2.txt", "victim/c/3.txt"):
        _put(conn, name + "/" + rel, b"data")
    conn.resetFileAttributes("data", name + "/victim/a/b/2.txt", C.ATTR_READONLY)
    conn.resetFileAttributes("data", name + "/victim/top.txt", C.ATTR_READONLY | C.ATTR_HIDDEN)
    assert conn.getAttributes("data", name + "/victim/a/b/2.txt").isReadOnly
    conn.deleteTree("data", name + "/victim")
    assert not os.path.exists(os.path.join(local, "victim"))
    assert not conn.exists("data", name + "/victim")
    assert conn.isDirectory("data", name)
    with pytest.raises(OperationFailure):
        conn.deleteTree("data", name + "/victim")
    _put(conn, name + "/plain")
    with pytest.raises(OperationFailure) as info:
        conn.deleteTree("data", name + "/plain")
    assert info.value.status == NtStatus.NOT_A_DIRECTORY
    with pytest.raises(ValueError):
        conn.deleteTree("data", "/")


# ---------------------------------------------------------------- setTimes

def test_set_times_each_time_and_none_leaves_unchanged(conn, folder):
    name, local = folder
    path = name + "/t.bin"
    disk = os.path.join(local, "t.bin")
    _put(conn, path)
    conn.setTimes("data", path, write=1_500_000_000.5, access=1_400_000_000.25)
    st = os.stat(disk)
    assert st.st_mtime == pytest.approx(1_500_000_000.5, abs=1e-6)
    assert st.st_atime == pytest.approx(1_400_000_000.25, abs=1e-6)

    conn.setTimes("data", path, write=1_600_000_000)
    st = os.stat(disk)
    assert st.st_mtime == 1_600_000_000 and st.st_atime == pytest.approx(1_400_000_000.25, abs=1e-6)

    conn.setTimes("data", path, access=1_300_000_000)
    st = os.stat(disk)
    assert st.st_atime == 1_300_000_000 and st.st_mtime == 1_600_000_000

    before = conn.getAttributes("data", path)
    conn.setTimes("data", path, create=1_200_000_000.5)
    after = conn.getAttributes("data", path)
    assert after.create_time == 1_200_000_000.5
    assert (after.last_write_time, after.last_access_time) == (1_600_000_000, 1_300_000_000)
    assert before.create_time != after.create_time

    # All None: nothing changes; change time alone is accepted (Samba keeps ctime to itself).
    conn.setTimes("data", path)
    conn.setTimes("data", path, change=1_100_000_000)
    final = conn.getAttributes("data", path)
    assert (final.create_time, final.last_write_time, final.last_access_time) == \
        (1_200_000_000.5, 1_600_000_000, 1_300_000_000)
    # setLastWriteTime is the same piece
    conn.setLastWriteTime("data", path, 1_650_000_000)
    assert os.stat(disk).st_mtime == 1_650_000_000
    assert conn.getAttributes("data", path).create_time == 1_200_000_000.5


def test_set_times_on_a_folder(conn, folder):
    name, local = folder
    conn.setTimes("data", name, write=1_500_000_000)
    assert os.stat(local).st_mtime == 1_500_000_000
