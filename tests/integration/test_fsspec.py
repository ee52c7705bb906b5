"""The fsspec filesystem (``smbwire://``) against the suite's Samba: fsspec's own abstract
test-suite mixins (copy, get, put, open, pipe), and what pandas, Dask and pyarrow need of it
(listings in one round trip, ranges, the pool across threads and ``fork``, pickling).

What the filesystem did is checked on the server's disk (the share directory) where it can be.
"""
from __future__ import annotations

import hashlib
import io
import logging
import multiprocessing
import os
import pickle
import threading
import uuid
from typing import Any, Iterator, List

import pytest

fsspec = pytest.importorskip("fsspec")
from fsspec.tests.abstract import AbstractFixtures  # noqa: E402
from fsspec.tests.abstract.copy import AbstractCopyTests  # noqa: E402
from fsspec.tests.abstract.get import AbstractGetTests  # noqa: E402
from fsspec.tests.abstract.open import AbstractOpenTests  # noqa: E402
from fsspec.tests.abstract.pipe import AbstractPipeTests  # noqa: E402
from fsspec.tests.abstract.put import AbstractPutTests  # noqa: E402

import smb.fsspec as smbfs  # noqa: E402
from smb.fsspec import SMBFileSystem  # noqa: E402
from tests.integration.common import server_for, write_tree  # noqa: E402

pytestmark = pytest.mark.integration

DIALECTS = ["NT1", "SMB2_02", "SMB3_11"]


def make_fs(srv: Any, **extra: Any) -> SMBFileSystem:
    """Through fsspec's registry (the ``fsspec.specs`` entry point), as users get it."""
    return fsspec.filesystem("smbwire", host=srv.host, port=srv.port, username=srv.user, password=srv.password,
                             skip_instance_cache=True, **extra)


def write_on_disk(srv: Any, folder: str, files: dict) -> str:
    """Files written straight into the share directory; the folder's path on disk."""
    disk = on_disk(srv, folder)
    write_tree(disk, files)
    return disk


def on_disk(srv: Any, path: str) -> str:
    """Where ``/data/...`` lives on the server's disk."""
    share, _, rest = path.lstrip("/").partition("/")
    return os.path.join(srv.share_path(share), rest)


@pytest.fixture(params=DIALECTS)
def srv(request: pytest.FixtureRequest, samba_factory: Any) -> Any:
    return server_for(samba_factory, request.param)


@pytest.fixture
def folder(srv: Any) -> Iterator[str]:
    name = "fsspec-" + uuid.uuid4().hex[:10]
    fs = make_fs(srv)
    fs.mkdir("/data/" + name)
    yield "/data/" + name
    fs.rm("/data/" + name, recursive=True)


# ---------------------------------------------------------------- fsspec's own suite


class SMBFixtures(AbstractFixtures):
    @pytest.fixture(params=["NT1", "SMB3_11"])
    def fs(self, request: pytest.FixtureRequest, samba_factory: Any) -> SMBFileSystem:
        return make_fs(server_for(samba_factory, request.param))

    @pytest.fixture
    def fs_path(self, fs: SMBFileSystem) -> Iterator[str]:
        path = "/data/abstract-" + uuid.uuid4().hex[:10]
        fs.mkdir(path)
        yield path
        fs.rm(path, recursive=True)


class TestSMBCopy(SMBFixtures, AbstractCopyTests):
    pass


class TestSMBGet(SMBFixtures, AbstractGetTests):
    pass


class TestSMBPut(SMBFixtures, AbstractPutTests):
    pass


class TestSMBOpen(SMBFixtures, AbstractOpenTests):
    pass


class TestSMBPipe(SMBFixtures, AbstractPipeTests):
    pass


# ---------------------------------------------------------------- registration and URLs


def test_the_entry_point_registers_the_protocol() -> None:
    assert fsspec.get_filesystem_class("smbwire") is SMBFileSystem


def test_url_with_credentials_reads_and_writes(srv: Any, folder: str) -> None:
    rel = folder[len("/data/"):]
    url = "smbwire://%s:%s@%s:%d/data/%s/url.txt" % (srv.user, srv.password, srv.host, srv.port, rel)
    with fsspec.open(url, "w", encoding="utf-8") as f:
        f.write("écrit par fsspec\n")
    with open(on_disk(srv, folder + "/url.txt"), encoding="utf-8") as f:
        assert f.read() == "écrit par fsspec\n"
    with fsspec.open(url, "r", encoding="utf-8") as f:
        assert f.read() == "écrit par fsspec\n"
    fs, path = fsspec.core.url_to_fs(url)
    assert isinstance(fs, SMBFileSystem)
    assert (fs.host, fs.port, fs.username, path) == (srv.host, srv.port, srv.user, folder + "/url.txt")
    # The URL fsspec hands on (e.g. Dask's include_path_column) names the server, not the password.
    assert fs.unstrip_protocol(path) == "smbwire://%s:%d%s/url.txt" % (srv.host, srv.port, folder)


def test_path_forms() -> None:
    strip = SMBFileSystem._strip_protocol
    assert strip("smbwire://u:p@h:1445/share/a/b/") == "/share/a/b"
    assert strip("smb://h/share") == "/share"
    assert strip("share\\a\\b") == "/share/a/b"
    assert strip("smbwire://h") == "/" and strip("") == "/"
    assert SMBFileSystem._get_kwargs_from_urls("smbwire://DOM;u:p%40x@h:1445/s/a") == {
        "host": "h", "port": 1445, "username": "u", "password": "p@x", "domain": "DOM"}
    assert SMBFileSystem._parent("/share/a/b") == "/share/a" and SMBFileSystem._parent("/share") == "/"


def test_register_smb_protocol_maps_smb_urls() -> None:
    from fsspec.registry import _registry  # fsspec's own table: put back what was there
    before = _registry.get("smb")
    smbfs.register_smb_protocol()
    try:
        assert fsspec.get_filesystem_class("smb") is SMBFileSystem
        assert isinstance(fsspec.filesystem("smb", host="127.0.0.1", skip_instance_cache=True), SMBFileSystem)
    finally:
        if before is None:
            _registry.pop("smb", None)
        else:
            _registry["smb"] = before


# ---------------------------------------------------------------- listing and info


def _counting(monkeypatch: pytest.MonkeyPatch, conn: Any) -> dict:
    calls: dict = {}
    for name in ("listPath", "getAttributes", "listShares"):
        original = getattr(conn, name)

        def counted(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            calls[_name] = calls.get(_name, 0) + 1
            return _original(*args, **kwargs)
        monkeypatch.setattr(conn, name, counted)
    return calls


def test_ls_is_one_listing_per_folder(srv: Any, folder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    disk = write_on_disk(srv, folder, dict({"f%02d.bin" % i: b"x" * i for i in range(40)}, **{"sub/s": b""}))
    fs = make_fs(srv)
    calls = _counting(monkeypatch, fs.connection)
    entries = fs.ls(folder, detail=True)
    assert calls == {"listPath": 1}
    by_name = {e["name"]: e for e in entries}
    assert sorted(by_name) == sorted([folder + "/f%02d.bin" % i for i in range(40)] + [folder + "/sub"])
    for i in range(40):
        entry = by_name[folder + "/f%02d.bin" % i]
        assert (entry["type"], entry["size"]) == ("file", i)
        assert abs(entry["mtime"] - os.stat(os.path.join(disk, "f%02d.bin" % i)).st_mtime) < 2
    assert by_name[folder + "/sub"]["type"] == "directory"
    assert sorted(fs.ls(folder, detail=False)) == sorted(by_name)
    assert calls == {"listPath": 2}


def test_ls_of_the_root_lists_disk_shares(srv: Any) -> None:
    names = make_fs(srv).ls("/", detail=False)
    assert "/data" in names and "/readonly" in names
    assert not any(n.upper() == "/IPC$" for n in names)


def test_info_and_errors(srv: Any, folder: str) -> None:
    fs = make_fs(srv)
    fs.pipe_file(folder + "/a.txt", b"12345")
    assert fs.info(folder + "/a.txt")["size"] == 5 and fs.info(folder + "/a.txt")["type"] == "file"
    assert fs.info(folder)["type"] == "directory" and fs.isdir(folder) and not fs.isfile(folder)
    assert fs.info("/data")["type"] == "directory" and fs.info("/")["type"] == "directory"
    assert fs.ls(folder + "/a.txt") == [fs.info(folder + "/a.txt")]
    for missing in (folder + "/nope", folder + "/nope/deeper", "/no-such-share/x", "/no-such-share"):
        with pytest.raises(FileNotFoundError):
            fs.info(missing)
        assert not fs.exists(missing)
    with pytest.raises(FileNotFoundError):
        fs.ls(folder + "/nope")
    with pytest.raises(FileNotFoundError):
        fs.open(folder + "/nope", "rb")
    with pytest.raises(IsADirectoryError):
        fs.open(folder, "rb")
    with pytest.raises(IsADirectoryError):
        fs.cat_file("/data")
    with pytest.raises(PermissionError):
        fs.pipe_file("/readonly/new.txt", b"no")


def test_find_glob_walk_match_the_disk(srv: Any, folder: str) -> None:
    disk = write_on_disk(srv, folder, {rel: rel.encode()
                                       for rel in ("a/1.csv", "a/2.csv", "a/b/3.csv", "a/b/c/4.txt", "5.csv")})
    fs = make_fs(srv)
    expected = sorted(folder + "/" + os.path.relpath(os.path.join(d, n), disk)
                      for d, _, files in os.walk(disk) for n in files)
    assert sorted(fs.find(folder)) == expected
    assert sorted(fs.glob(folder + "/**/*.csv")) == sorted(p for p in expected if p.endswith(".csv"))
    assert fs.glob(folder + "/a/*.csv") == [folder + "/a/1.csv", folder + "/a/2.csv"]
    walked = {root: (sorted(dirs), sorted(files)) for root, dirs, files in fs.walk(folder)}
    assert walked[folder + "/a/b"] == (["c"], ["3.csv"])
    assert fs.du(folder) == sum(len(p[len(folder) + 1:]) for p in expected)


def test_times_and_ukey(srv: Any, folder: str) -> None:
    fs = make_fs(srv)
    path = folder + "/t.bin"
    fs.pipe_file(path, b"one")
    disk = on_disk(srv, path)
    assert abs(fs.modified(path).timestamp() - os.stat(disk).st_mtime) < 2
    assert fs.modified(path).tzinfo is not None and fs.created(path).year >= 2020
    key = fs.ukey(path)
    assert fs.ukey(path) == key
    os.utime(disk, (1_000_000_000, 1_000_000_000))
    assert fs.ukey(path) != key
    fs.touch(path, truncate=False)
    assert abs(os.stat(disk).st_mtime - os.path.getmtime(disk)) < 1 and os.stat(disk).st_mtime > 1_500_000_000
    assert open(disk, "rb").read() == b"one"
    fs.touch(path)
    assert os.path.getsize(disk) == 0


# ---------------------------------------------------------------- file data


def test_cat_file_ranges(srv: Any, folder: str) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    write_on_disk(srv, folder, {"r.bin": data})
    fs = make_fs(srv)
    path = folder + "/r.bin"
    assert fs.cat_file(path) == data
    for start, end in [(0, 10), (5, None), (1024 * 1024 - 3, 2 * 1024 * 1024 + 5), (-100, None), (-100, -10),
                       (None, -5), (len(data) - 1, None), (len(data) + 5, None), (10, 5), (0, len(data) + 100)]:
        assert fs.cat_file(path, start, end) == data[start:end], (start, end)
    assert fs.cat_ranges([path, path], [0, 100], [10, 200]) == [data[0:10], data[100:200]]
    assert fs.read_block(path, 1000, 50) == data[1000:1050]


def test_pipe_file_modes(srv: Any, folder: str) -> None:
    fs = make_fs(srv)
    path = folder + "/deep/er/p.bin"
    fs.pipe_file(path, b"first")  # the missing folders are made
    assert open(on_disk(srv, path), "rb").read() == b"first"
    with pytest.raises(FileExistsError):
        fs.pipe_file(path, b"second", mode="create")
    assert open(on_disk(srv, path), "rb").read() == b"first"
    fs.pipe_file(path, b"third")
    assert open(on_disk(srv, path), "rb").read() == b"third"
    fs.pipe_file(folder + "/c.bin", b"created", mode="create")
    assert open(on_disk(srv, folder + "/c.bin"), "rb").read() == b"created"
    fs.pipe({folder + "/m1": b"1", folder + "/m2": b"22"})
    assert fs.cat([folder + "/m1", folder + "/m2"]) == {folder + "/m1": b"1", folder + "/m2": b"22"}


def test_open_modes_are_our_file_objects(srv: Any, folder: str) -> None:
    fs = make_fs(srv)
    path = folder + "/o.txt"
    with fs.open(path, "wb") as f:
        f.write(b"line one\nline two\n")
    with fs.open(path, "ab") as f:
        f.write(b"line three\n")
    with fs.open(path, "rt", encoding="ascii") as f:
        assert list(f) == ["line one\n", "line two\n", "line three\n"]
    with fs.open(path, "rb", block_size=4096) as f:
        assert isinstance(f, io.BufferedReader)
        f.seek(5)
        assert f.read(3) == b"one"
        assert f.seek(0, 2) == 29
    with pytest.raises(FileExistsError):
        fs.open(path, "xb")
    with pytest.raises(NotImplementedError):
        fs.open(folder + "/t.bin", "wb", autocommit=False)


def test_put_and_get_a_large_file_with_callbacks(srv: Any, folder: str, tmp_path: Any) -> None:
    from fsspec.callbacks import Callback
    data = os.urandom(24 * 1024 * 1024 + 5)
    src = tmp_path / "big.bin"
    src.write_bytes(data)

    class Recorder(Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.sizes: List[Any] = []

        def call(self, *args: Any, **kwargs: Any) -> None:
            self.sizes.append((self.size, self.value))

    fs = make_fs(srv)
    up = Recorder()
    fs.put_file(str(src), folder + "/sub/big.bin", callback=up)
    with open(on_disk(srv, folder + "/sub/big.bin"), "rb") as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()
    assert up.size == len(data) and up.value == len(data)
    down = Recorder()
    fs.get_file(folder + "/sub/big.bin", str(tmp_path / "back" / "big.bin"), callback=down)
    assert (tmp_path / "back" / "big.bin").read_bytes() == data
    assert down.size == len(data) and down.value == len(data)
    with pytest.raises(FileExistsError):
        fs.put_file(str(src), folder + "/sub/big.bin", mode="create")
    out = io.BytesIO()
    fs.get_file(folder + "/sub/big.bin", None, outfile=out)
    assert out.getvalue() == data


# ---------------------------------------------------------------- folders, deleting, moving, copying


def test_folders(srv: Any, folder: str) -> None:
    fs = make_fs(srv)
    fs.mkdir(folder + "/x/y/z")
    assert os.path.isdir(on_disk(srv, folder + "/x/y/z"))
    with pytest.raises(FileExistsError):
        fs.mkdir(folder + "/x")
    with pytest.raises(FileNotFoundError):
        fs.mkdir(folder + "/p/q", create_parents=False)
    fs.makedirs(folder + "/x/y", exist_ok=True)
    with pytest.raises(FileExistsError):
        fs.makedirs(folder + "/x/y")
    with pytest.raises(OSError) as info:
        fs.rmdir(folder + "/x")
    assert info.value.errno == errno_enotempty()
    fs.rmdir(folder + "/x/y/z")
    assert not os.path.exists(on_disk(srv, folder + "/x/y/z"))
    with pytest.raises(PermissionError):
        fs.mkdir("/newshare")
    fs.makedirs("/data", exist_ok=True)


def errno_enotempty() -> int:
    import errno
    return errno.ENOTEMPTY


def test_rm(srv: Any, folder: str) -> None:
    fs = make_fs(srv)
    for rel in ("t/a", "t/b/c", "t/b/d/e", "keep", "x1.tmp", "x2.tmp"):
        fs.pipe_file(folder + "/" + rel, b"z")
    fs.rm(folder + "/t", recursive=True)
    assert not os.path.exists(on_disk(srv, folder + "/t"))
    fs.rm(folder + "/x*.tmp")
    assert sorted(os.listdir(on_disk(srv, folder))) == ["keep"]
    fs.rm(folder + "/keep")
    assert os.listdir(on_disk(srv, folder)) == []
    with pytest.raises(FileNotFoundError):
        fs.rm(folder + "/keep")
    fs.makedirs(folder + "/d1/d2")
    fs.pipe_file(folder + "/d1/d2/f", b"q")
    fs.rm(folder + "/d1", recursive=True, maxdepth=5)
    assert os.listdir(on_disk(srv, folder)) == []


def test_mv_is_a_rename_on_the_server(srv: Any, folder: str) -> None:
    fs = make_fs(srv)
    fs.pipe_file(folder + "/a.bin", b"A" * 1000)
    inode = os.stat(on_disk(srv, folder + "/a.bin")).st_ino
    fs.mv(folder + "/a.bin", folder + "/b.bin")
    assert os.stat(on_disk(srv, folder + "/b.bin")).st_ino == inode  # the same file: renamed, not copied
    assert not fs.exists(folder + "/a.bin")
    fs.makedirs(folder + "/into")
    fs.mv(folder + "/b.bin", folder + "/into")
    assert os.stat(on_disk(srv, folder + "/into/b.bin")).st_ino == inode
    fs.pipe_file(folder + "/other.bin", b"other")
    fs.mv(folder + "/other.bin", folder + "/into/b.bin")  # replaces the file there
    assert open(on_disk(srv, folder + "/into/b.bin"), "rb").read() == b"other"
    fs.mv(folder + "/into", folder + "/renamed", recursive=True)
    assert os.listdir(on_disk(srv, folder + "/renamed")) == ["b.bin"]
    with pytest.raises(FileNotFoundError):
        fs.mv(folder + "/missing", folder + "/x")
    # Between shares: copy, then delete.
    fs.mv(folder + "/renamed/b.bin", "/public/" + folder.rsplit("/", 1)[1] + "-moved.bin")
    moved = os.path.join(srv.share_path("public"), folder.rsplit("/", 1)[1] + "-moved.bin")
    try:
        assert open(moved, "rb").read() == b"other" and not fs.exists(folder + "/renamed/b.bin")
    finally:
        os.remove(moved)


def test_cp_file_copies_on_the_server(srv: Any, folder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(5 * 1024 * 1024)
    fs = make_fs(srv)
    fs.pipe_file(folder + "/src.bin", data)
    conn = fs.connection
    reads = []
    original = conn.retrieveFileFromOffset
    monkeypatch.setattr(conn, "retrieveFileFromOffset", lambda *a, **k: reads.append(a) or original(*a, **k))
    fs.cp_file(folder + "/src.bin", folder + "/new/dst.bin")
    assert open(on_disk(srv, folder + "/new/dst.bin"), "rb").read() == data
    assert reads == []  # copyFile, not a download and upload through fsspec
    fs.copy(folder + "/new", folder + "/new2", recursive=True)
    assert open(on_disk(srv, folder + "/new2/dst.bin"), "rb").read() == data


# ---------------------------------------------------------------- the pool: threads, fork, pickle


def test_one_pooled_connection_for_many_threads(srv: Any, folder: str) -> None:
    fs = make_fs(srv)
    blobs = {"%s/t%d.bin" % (folder, i): os.urandom(200_000 + i) for i in range(16)}
    fs.pipe(blobs)
    other = make_fs(srv)
    assert other is not fs and other.connection is fs.connection
    results: dict = {}
    errors: List[BaseException] = []

    def work(i: int) -> None:
        try:
            for path in list(blobs)[i::4]:
                results[path] = other.cat_file(path)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == blobs
    assert other.connection is fs.connection


def test_a_broken_connection_is_made_again(srv: Any, folder: str) -> None:
    fs = make_fs(srv)
    fs.pipe_file(folder + "/x", b"x")
    first = fs.connection
    first.sock.shutdown(2)  # the server is gone, as far as this connection knows
    assert fs.cat_file(folder + "/x") == b"x"  # a read: run again on a new connection
    assert fs.connection is not first and first.broken is not None
    second = fs.connection
    second.sock.shutdown(2)
    with pytest.raises(ConnectionError):  # a write is not retried behind the caller's back
        fs.pipe_file(folder + "/y", b"y")
    fs.pipe_file(folder + "/y", b"y")  # the next call makes a new connection
    assert fs.connection is not second and open(on_disk(srv, folder + "/y"), "rb").read() == b"y"


def _child_reads(fs: SMBFileSystem, path: str, queue: Any) -> None:
    conn = fs.connection
    queue.put((fs.cat_file(path), conn.sock.getsockname()))


def test_fork_makes_a_new_connection_in_the_child(srv: Any, folder: str) -> None:
    fs = make_fs(srv)
    fs.pipe_file(folder + "/f.bin", b"forked")
    parent_conn = fs.connection
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_reads, args=(fs, folder + "/f.bin", queue))
    proc.start()
    data, child_addr = queue.get(timeout=60)
    proc.join(60)
    assert proc.exitcode == 0 and data == b"forked"
    assert child_addr != parent_conn.sock.getsockname()
    # The parent's session was not ended by the child.
    assert fs.connection is parent_conn and fs.cat_file(folder + "/f.bin") == b"forked"


def test_pickles_as_options_without_connections(srv: Any, folder: str) -> None:
    fs = make_fs(srv, timeout=45)
    fs.pipe_file(folder + "/p.bin", b"pickled")
    blob = pickle.dumps(fs)
    assert b"socket" not in blob and len(blob) < 2000
    again = pickle.loads(blob)
    assert again.cat_file(folder + "/p.bin") == b"pickled"
    assert again.timeout == 45 and again.connection is fs.connection


def test_no_password_in_logs(srv: Any, folder: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fs = make_fs(srv, my_name="LOGCHECK")
    fs.ls(folder)
    assert srv.password not in caplog.text


def test_pandas_through_urls(srv: Any, folder: str) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": range(1000), "b": ["row %d" % i for i in range(1000)]})
    url = "smbwire://%s:%d%s/frame.csv" % (srv.host, srv.port, folder)
    options = {"username": srv.user, "password": srv.password}
    frame.to_csv(url, index=False, storage_options=options)
    assert pd.read_csv(on_disk(srv, folder + "/frame.csv")).equals(frame)
    assert pd.read_csv(url, storage_options=options).equals(frame)


# ---------------------------------------------------------------- hostile names (the fake server)


HOSTILE = ["../escape", "/etc/passwd", "a\\..\\..\\x", "C:evil", "line\nbreak", "\x1b[2J", "stream:$DATA"]


@pytest.mark.parametrize("hostile", HOSTILE, ids=[repr(n) for n in HOSTILE])
def test_listed_names_that_are_not_one_component_are_refused(hostile: str, tmp_path: Any) -> None:
    from smb.exceptions import MalformedResponse
    from tests.fakeserver import FakeSmbServer
    server = FakeSmbServer(files={"ok.txt": b"fine", hostile: b"evil"}).start()
    try:
        fs = fsspec.filesystem("smbwire", host="127.0.0.1", port=server.port, username="user",
                               password="secret", skip_instance_cache=True)
        with pytest.raises(MalformedResponse):
            fs.ls("/share")
        target = tmp_path / "get"
        with pytest.raises(MalformedResponse):
            fs.get("/share/*", str(target) + "/", recursive=True)
        assert not target.exists() or list(target.iterdir()) == []
        assert sorted(os.listdir(tmp_path)) in ([], ["get"])
    finally:
        smbfs.close_pooled_connections()
        server.stop()
    assert server.errors == []


# ---------------------------------------------------------------- Dask on a cluster of worker processes


def _pool_size() -> int:
    return len(smbfs._pool)


def test_dask_csv_and_parquet_on_a_local_cluster(samba_factory: Any, tmp_path: Any) -> None:
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    srv = server_for(samba_factory, "SMB3_11")
    fs = make_fs(srv)
    folder = "/data/dask-" + uuid.uuid4().hex[:10]
    fs.mkdir(folder)
    try:
        local = tmp_path / "csv"
        local.mkdir()
        for i in range(6):
            part = pd.DataFrame({"id": range(i * 5000, (i + 1) * 5000),
                                 "value": [(j * 7919) % 1000 / 10 for j in range(5000)],
                                 "name": ["n%d" % (j % 97) for j in range(5000)]})
            part.to_csv(local / ("part-%d.csv" % i), index=False)
            fs.put_file(str(local / ("part-%d.csv" % i)), "%s/part-%d.csv" % (folder, i))
        base = "smbwire://%s:%d%s" % (srv.host, srv.port, folder)
        options = {"username": srv.user, "password": srv.password}
        expected = pd.concat([pd.read_csv(local / ("part-%d.csv" % i)) for i in range(6)], ignore_index=True)
        with distributed.LocalCluster(n_workers=3, threads_per_worker=2, processes=True, dashboard_address=None,
                                      silence_logs=logging.ERROR) as cluster, distributed.Client(cluster) as client:
            frame = dd.read_csv(base + "/part-*.csv", storage_options=options, blocksize=20_000)
            assert frame.npartitions > 6  # blocks of files: ranged reads through our file objects
            got = frame.compute().sort_values("id").reset_index(drop=True)
            pd.testing.assert_frame_equal(got, expected, check_dtype=False)  # Dask: pyarrow strings
            assert frame.groupby("name").value.sum().compute().sort_index().round(6).equals(
                expected.groupby("name").value.sum().sort_index().round(6))
            frame.to_parquet(base + "/out.parquet", storage_options=options, write_index=False)
            back = dd.read_parquet(base + "/out.parquet", storage_options=options).compute()
            # (Parquet brings strings back as another flavour of pandas' string dtype.)
            pd.testing.assert_frame_equal(back.sort_values("id").reset_index(drop=True), expected,
                                          check_dtype=False)
            # The work ran in the worker processes, each on its own pooled connection.
            sizes = client.run(_pool_size)
            assert len(sizes) == 3 and sum(1 for n in sizes.values() if n >= 1) >= 2, sizes
        written = pq.read_table(on_disk(srv, folder + "/out.parquet")).to_pandas()
        pd.testing.assert_frame_equal(written.sort_values("id").reset_index(drop=True), expected,
                                      check_dtype=False)
    finally:
        fs.rm(folder, recursive=True)
