"""Whole-tree copies (smb.treecopy): download_tree / upload_tree against a real Samba on NT1,
SMB2_02 and SMB3_11, and against the scripted fake server (tests/fakeserver.py) for the names
Samba never sends.

The remote trees are written straight into the server's share directory on disk; what arrives
locally is compared with it name by name and by sha256.  The hostile-name tests need no Samba
(they use real sockets, hence integration/).
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import stat
import uuid
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

import pytest

from smb import treecopy
from smb.exceptions import OperationFailure
from smb.nt_status import NtStatus
from smb.SMBConnection import SMBConnection
from tests.integration.common import logged_on, server_for, write_tree
from smb.treecopy import TreeResult, download_tree, upload_tree
from tests.fakeserver import (QUERY_DIRECTORY, READ, STATUS_NO_MORE_FILES, Conn, FakeSmbServer, Request,
                              chain_entries, directory_entry, query_directory_body)

DIALECTS = ["NT1", "SMB2_02", "SMB3_11"]

_RNG = random.Random(13)
TREE_FILES: Dict[str, bytes] = {
    "top.txt": b"top level\n",
    "empty.bin": b"",
    "\u00dcn\u00efc\u00f6d\u00e9/\u65e5\u672c\u8a9e.txt": "\u3053\u3093\u306b\u3061\u306f".encode(),
    "\u00dcn\u00efc\u00f6d\u00e9/deeper/still/emoji \U0001f600.dat": _RNG.randbytes(200_000),
    "\u00dcn\u00efc\u00f6d\u00e9/deeper/empty file": b"",
    "big/random.bin": _RNG.randbytes(1_500_000),
    "big/.hidden": b"h",
    "a b/c d/e f.txt": b"spaces in every name",
}
TREE_EMPTY_DIRS = ["empty-dir", "\u00dcn\u00efc\u00f6d\u00e9/vide", "a b/c d/nothing/here"]


@pytest.fixture(params=DIALECTS)
def dialect(request):
    return request.param


@pytest.fixture
def srv(samba_factory, dialect):
    return server_for(samba_factory, dialect)


@pytest.fixture
def conn(srv):
    c = logged_on(srv, "pytest-treecopy")
    yield c
    c.close()


@pytest.fixture
def remote(srv):
    """A fresh folder name on share ``data`` and its path on the server's disk."""
    created: List[str] = []

    def make(files: Optional[Dict[str, bytes]] = None, empty_dirs: Sequence[str] = (),
             create: bool = True) -> Tuple[str, str]:
        name = "tc-" + uuid.uuid4().hex[:10]
        disk = os.path.join(srv.share_path("data"), name)
        created.append(disk)
        if create:
            write_tree(disk, files or {}, empty_dirs)
        return name, disk

    yield make
    for disk in created:
        shutil.rmtree(disk, ignore_errors=True)


def _snapshot(top: str) -> Tuple[Set[str], Dict[str, str]]:
    """(every folder, {file: sha256}) below ``top``, relative with '/'; links are reported as such."""
    dirs: Set[str] = set()
    files: Dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        rel = os.path.relpath(dirpath, top).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        for name in dirnames:
            if os.path.islink(os.path.join(dirpath, name)):
                files[prefix + name] = "link -> " + os.readlink(os.path.join(dirpath, name))
            else:
                dirs.add(prefix + name)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                files[prefix + name] = "link -> " + os.readlink(path)
            else:
                with open(path, "rb") as fh:
                    files[prefix + name] = hashlib.sha256(fh.read()).hexdigest()
    return dirs, files


def _all_dirs(files: Dict[str, bytes], empty_dirs: List[str]) -> Set[str]:
    out: Set[str] = set()
    for rel in list(files) + [d + "/x" for d in empty_dirs]:
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return out


def _no_temporaries(top: str) -> bool:
    return not any(".smbwire-" in name for _, _, names in os.walk(top) for name in names)


# ---------------------------------------------------------------- round trip


def test_download_then_upload_round_trips_a_nested_unicode_tree(conn, remote, tmp_path):
    name, disk = remote(TREE_FILES, TREE_EMPTY_DIRS)
    local = str(tmp_path / "down")
    result = download_tree(conn, "data", name, tmp_path / "down")  # a path-like object will do

    want_dirs = _all_dirs(TREE_FILES, TREE_EMPTY_DIRS)
    assert result == TreeResult(files=len(TREE_FILES), directories=len(want_dirs),
                                bytes=sum(len(d) for d in TREE_FILES.values()), skipped=0)
    assert _snapshot(local) == _snapshot(disk)
    assert _snapshot(local)[0] == want_dirs
    assert _snapshot(local)[1] == {rel: hashlib.sha256(data).hexdigest() for rel, data in TREE_FILES.items()}

    # Up again, into a folder that does not exist yet (made with its parents).
    target, target_disk = remote(create=False)
    result_up = upload_tree(conn, local, "data", target + "/nested/deeper")
    assert result_up == result
    assert _snapshot(os.path.join(target_disk, "nested", "deeper")) == _snapshot(disk)


def test_download_into_an_existing_tree_replaces_changed_files(conn, remote, tmp_path):
    name, disk = remote({"a.txt": b"first version, long", "sub/b.txt": b"b"})
    local = str(tmp_path / "down")
    download_tree(conn, "data", name, local)
    with open(os.path.join(disk, "a.txt"), "wb") as fh:
        fh.write(b"second")
    result = download_tree(conn, "data", name, local)
    assert result == TreeResult(2, 1, 7)
    with open(os.path.join(local, "a.txt"), "rb") as fh:
        assert fh.read() == b"second"
    assert _no_temporaries(local)


def test_download_of_a_share_subfolder_path_with_slashes_or_backslashes(conn, remote, tmp_path):
    name, disk = remote({"x/y/z.txt": b"zzz"})
    for i, spelled in enumerate([name + "/x", "\\" + name + "\\x\\", name + "\\x"]):
        local = str(tmp_path / str(i))
        assert download_tree(conn, "data", spelled, local) == TreeResult(1, 1, 3)
        assert _snapshot(local) == _snapshot(os.path.join(disk, "x"))


# ---------------------------------------------------------------- progress


@pytest.mark.parametrize("direction", ["download", "upload"])
def test_callback_counts_only_grow_and_end_at_the_totals(conn, remote, tmp_path, direction):
    name, disk = remote(TREE_FILES, TREE_EMPTY_DIRS)
    calls: List[Tuple[int, int, int, int]] = []

    def record(*args: int) -> None:
        calls.append(args)

    if direction == "download":
        result = download_tree(conn, "data", name, str(tmp_path / "down"), show_progress=True, callback=record)
    else:
        target, _ = remote(create=False)
        result = upload_tree(conn, disk, "data", target, show_progress=True, callback=record)
    total = sum(len(d) for d in TREE_FILES.values())
    assert calls[0] == (0, total, 0, len(TREE_FILES))
    assert calls[-1] == (result.bytes, result.bytes, result.files, result.files) == (
        total, total, len(TREE_FILES), len(TREE_FILES))
    for before, after in zip(calls, calls[1:]):
        assert after[0] >= before[0] and after[2] >= before[2]
        assert after != before
    assert all(done <= tot for done, tot, _, _ in calls)
    # Bytes were reported while the big file was arriving, not only per file.
    assert len(calls) > len(TREE_FILES) + 1


# ---------------------------------------------------------------- failures leave no half files


def test_a_download_failing_mid_file_leaves_no_file_under_its_final_name(conn, remote, tmp_path):
    # The root's files come before the subfolders' files: big.bin is the first file copied.
    name, _ = remote({"big.bin": _RNG.randbytes(3_000_000), "sub/later.txt": b"later"})
    local = str(tmp_path / "down")

    def fail_mid_file(done_bytes: int, total: int, done_files: int, total_files: int) -> None:
        if done_bytes > 0 and done_files == 0:
            raise RuntimeError("stop in the middle")

    with pytest.raises(RuntimeError, match="stop in the middle"):
        download_tree(conn, "data", name, local, callback=fail_mid_file)
    assert sorted(os.listdir(local)) == ["sub"]
    assert os.listdir(os.path.join(local, "sub")) == []
    assert _no_temporaries(local)


def test_a_file_vanishing_before_its_turn_leaves_nothing_under_its_name(conn, remote, tmp_path):
    name, disk = remote({"a.txt": b"a", "gone.bin": b"g" * 1000})
    local = str(tmp_path / "down")

    def remove_on_start(done_bytes: int, total: int, done_files: int, total_files: int) -> None:
        if (done_bytes, done_files) == (0, 0):
            os.remove(os.path.join(disk, "gone.bin"))

    with pytest.raises(OperationFailure) as info:
        download_tree(conn, "data", name, local, callback=remove_on_start)
    assert info.value.status in (NtStatus.OBJECT_NAME_NOT_FOUND, NtStatus.NO_SUCH_FILE)
    assert "gone.bin" not in os.listdir(local)
    assert _no_temporaries(local)


# ---------------------------------------------------------------- links in local_dir


@pytest.fixture
def outside(tmp_path):
    """A folder beside local_dir that nothing may write into."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret").write_bytes(b"secret")
    return str(path)


def _assert_refused_link(info: Any) -> None:
    assert isinstance(info.value, OperationFailure)
    assert info.value.status == NtStatus.ACCESS_DENIED


def test_a_symlinked_folder_in_local_dir_is_refused_before_anything_is_written(conn, remote, tmp_path, outside):
    name, _ = remote({"top.txt": b"t", "sub/f.txt": b"f"})
    local = tmp_path / "down"
    local.mkdir()
    os.symlink(outside, str(local / "sub"))
    before = _snapshot(str(tmp_path))
    with pytest.raises(OperationFailure) as info:
        download_tree(conn, "data", name, str(local))
    _assert_refused_link(info)
    assert "sub" in str(info.value)
    assert _snapshot(str(tmp_path)) == before  # not even top.txt: refused before the first write


def test_a_symlinked_file_pointing_out_is_refused(conn, remote, tmp_path, outside):
    name, _ = remote({"top.txt": b"from the server"})
    local = tmp_path / "down"
    local.mkdir()
    os.symlink(os.path.join(outside, "secret"), str(local / "top.txt"))
    with pytest.raises(OperationFailure) as info:
        download_tree(conn, "data", name, str(local))
    _assert_refused_link(info)
    with open(os.path.join(outside, "secret"), "rb") as fh:
        assert fh.read() == b"secret"


def test_a_symlinked_file_pointing_inside_is_replaced_not_written_through(conn, remote, tmp_path):
    name, _ = remote({"top.txt": b"from the server"})
    local = tmp_path / "down"
    local.mkdir()
    (local / "other.txt").write_bytes(b"other")
    os.symlink(str(local / "other.txt"), str(local / "top.txt"))
    assert download_tree(conn, "data", name, str(local)) == TreeResult(1, 0, 15)
    assert not os.path.islink(str(local / "top.txt"))
    assert (local / "top.txt").read_bytes() == b"from the server"
    assert (local / "other.txt").read_bytes() == b"other"


@pytest.mark.parametrize("when", ["before-created", "after-created"])
@pytest.mark.parametrize("pointing", ["outside", "inside"])
def test_a_folder_swapped_for_a_symlink_mid_run_is_not_followed(conn, remote, tmp_path, outside, when, pointing):
    # Root files first: top.txt is copied before anything in sub/.
    name, _ = remote({"top.txt": b"t", "sub/f.txt": b"must not escape"})
    local = tmp_path / "down"
    local.mkdir()
    inside = local / "elsewhere"
    inside.mkdir()
    target = outside if pointing == "outside" else str(inside)

    def swap(done_bytes: int, total: int, done_files: int, total_files: int) -> None:
        sub = str(local / "sub")
        if when == "before-created" and (done_bytes, done_files) == (0, 0):
            os.symlink(target, sub)  # planted after the checks, before the folders are made
        if when == "after-created" and done_files == 1 and not os.path.islink(sub):
            os.rmdir(sub)
            os.symlink(target, sub)

    with pytest.raises(OperationFailure) as info:
        download_tree(conn, "data", name, str(local), callback=swap)
    _assert_refused_link(info)
    assert sorted(os.listdir(outside)) == ["secret"]
    assert os.listdir(str(inside)) == []


def test_upload_skips_links_and_special_files(conn, remote, tmp_path, outside):
    local = tmp_path / "up"
    (local / "sub").mkdir(parents=True)
    (local / "sub" / "real.txt").write_bytes(b"real")
    os.symlink(outside, str(local / "linked-dir"))
    os.symlink(os.path.join(outside, "secret"), str(local / "linked-file"))
    os.mkfifo(str(local / "fifo"))
    target, target_disk = remote(create=False)
    result = upload_tree(conn, str(local), "data", target)
    assert result == TreeResult(files=1, directories=1, bytes=4, skipped=3)
    assert _snapshot(target_disk) == ({"sub"}, {"sub/real.txt": hashlib.sha256(b"real").hexdigest()})


def test_upload_refuses_a_local_name_that_could_not_come_back(conn, remote, tmp_path):
    local = tmp_path / "up"
    local.mkdir()
    (local / "ok.txt").write_bytes(b"ok")
    (local / "back\\slash").write_bytes(b"x")  # one name on POSIX, two folders on the server
    target, target_disk = remote(create=False)
    with pytest.raises(OperationFailure) as info:
        upload_tree(conn, str(local), "data", target)
    assert info.value.status == NtStatus.OBJECT_NAME_INVALID
    assert repr("back\\slash") in str(info.value)
    assert not os.path.exists(target_disk)


# ---------------------------------------------------------------- hostile names (fake server)

HOSTILE = ["..", ".", "a/../../x", "../escape", "/etc/passwd", "C:evil", "C:\\x", "CON", "con.txt", "x\\y",
           "a\\..\\..\\x", "nul.txt", "LPT1", "\x00", "a\x00b", "\x1b[2J", "line\nbreak", "", "...", "evil.",
           "stream:$DATA"]


def _fake_conn(server: FakeSmbServer) -> SMBConnection:
    c = SMBConnection("user", "secret", "pytest-client", "FAKE", is_direct_tcp=True)
    assert c.connect(server.host, server.port, timeout=5) is True
    return c


def _reads(server: FakeSmbServer) -> int:
    return sum(1 for c in server.conns for r in c.requests if r.command == READ)


@pytest.fixture
def fake():
    servers: List[FakeSmbServer] = []

    def make(files: Dict[str, bytes],
             script: Optional[Dict[int, Callable[[Conn, Request], Any]]] = None) -> FakeSmbServer:
        server = FakeSmbServer(files=files, script=script).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
    for server in servers:
        assert server.errors == []


def _tree_state(top: str) -> List[Tuple[str, bool]]:
    """Every path below ``top`` (links not followed)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            out.append((os.path.relpath(path, top), stat.S_ISDIR(os.lstat(path).st_mode)))
    return sorted(out)


def test_the_fake_server_tree_downloads_when_the_names_are_fine(fake, tmp_path):
    server = fake({"ok.txt": b"fine", "second.bin": b"\x00\x01"})
    c = _fake_conn(server)
    try:
        assert download_tree(c, "share", "", str(tmp_path / "dest")) == TreeResult(2, 0, 6)
    finally:
        c.close()
    assert (tmp_path / "dest" / "ok.txt").read_bytes() == b"fine"


@pytest.mark.parametrize("hostile", HOSTILE, ids=[repr(n) for n in HOSTILE])
def test_a_hostile_name_from_the_server_is_refused_and_nothing_is_written(fake, tmp_path, hostile):
    server = fake({"ok.txt": b"fine", hostile: b"evil"})
    local = tmp_path / "dest"
    local.mkdir()
    parent_before = _tree_state(str(tmp_path))
    c = _fake_conn(server)
    try:
        with pytest.raises(OperationFailure) as info:
            download_tree(c, "share", "", str(local))
        assert c.echo(b"still usable", timeout=5) == b"still usable"
    finally:
        c.close()
    assert info.value.status == NtStatus.OBJECT_NAME_INVALID
    assert repr(hostile) in str(info.value)
    assert _tree_state(str(tmp_path)) == parent_before
    assert os.listdir(str(local)) == []
    assert _reads(server) == 0  # refused while listing, before any file was fetched


def _scripted_listing(entries: List[Tuple[str, int]]) -> Callable[[Conn, Request], Any]:
    """QUERY_DIRECTORY answered with ``entries`` (name, attributes) for every folder."""
    answered: Set[bytes] = set()

    def handler(conn: Conn, req: Request) -> Any:
        file_id = req.body[8:24]
        if file_id == b"\xff" * 16:  # the compound's "the handle just opened"
            file_id = conn.last_file_id
        if file_id in answered:
            return [conn.error(req, STATUS_NO_MORE_FILES)]
        answered.add(file_id)
        body = chain_entries([directory_entry(n, attributes=a, size=0, file_id=i + 10)
                              for i, (n, a) in enumerate(entries)])
        return [conn.respond(req, query_directory_body(body))]

    return handler


DOTS = [(".", 0x10), ("..", 0x10)]


@pytest.mark.parametrize("entries,bad", [
    (DOTS + [("..", 0x10)], ".."),          # a second parent entry
    (DOTS + [(".", 0x10)], "."),
    (DOTS + [("..", 0x80)], ".."),          # '..' as a file
    ([(".", 0x80)], "."),                   # '.' as a file
    (DOTS + [("CON", 0x10)], "CON"),        # a device name as a folder
    (DOTS + [("C:", 0x10)], "C:"),
    (DOTS + [("a.txt", 0x80), ("a.txt", 0x80)], "a.txt"),  # listed twice
    (DOTS + [("d", 0x10), ("d", 0x80)], "d"),
], ids=["second-dotdot", "second-dot", "dotdot-file", "dot-file", "CON-folder", "drive-folder", "twice",
        "dir-and-file"])
def test_scripted_listings_with_hostile_entries_are_refused(fake, tmp_path, entries, bad):
    server = fake({}, {QUERY_DIRECTORY: _scripted_listing(entries)})
    local = tmp_path / "dest"
    parent_before = _tree_state(str(tmp_path))
    c = _fake_conn(server)
    try:
        with pytest.raises(OperationFailure) as info:
            download_tree(c, "share", "top", str(local))
    finally:
        c.close()
    assert info.value.status == NtStatus.OBJECT_NAME_INVALID
    assert repr(bad) in str(info.value)
    assert _tree_state(str(tmp_path)) == parent_before  # local_dir not even created


def test_an_endless_tree_is_refused_at_the_depth_limit(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(treecopy, "MAX_DEPTH", 5)
    server = fake({}, {QUERY_DIRECTORY: _scripted_listing(DOTS + [("deeper", 0x10)])})
    c = _fake_conn(server)
    try:
        with pytest.raises(OperationFailure, match="more than 5 folders deep"):
            download_tree(c, "share", "", str(tmp_path / "dest"))
    finally:
        c.close()
    assert not (tmp_path / "dest").exists()


def test_the_connection_methods_wrap_the_same_copies(conn, remote, tmp_path):
    name, disk = remote({"x/y.bin": b"y" * 1000, "z.txt": b"z"})
    got = conn.downloadTree("data", name, tmp_path / "down")
    assert (got.files, got.bytes) == (2, 1001)
    assert (tmp_path / "down" / "x" / "y.bin").read_bytes() == b"y" * 1000
    back = conn.uploadTree(tmp_path / "down", "data", name + "-back")
    assert (back.files, back.bytes) == (2, 1001)
    with open(os.path.join(disk + "-back", "x", "y.bin"), "rb") as fh:
        assert fh.read() == b"y" * 1000
    shutil.rmtree(disk + "-back", ignore_errors=True)
