"""SMBConnection.openFile against a real Samba: file objects with open()'s semantics.

Every behaviour is checked against a local file doing the same thing with :func:`open`
(same bytes read, same bytes left on disk, same errors), on NT1, SMB2_02 and SMB3_11.
Files are checked directly on the share's directory (``srv.share_path("data")``).
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import random
import shutil
import tarfile
import time
import uuid
import zipfile

import pytest

from smb.exceptions import (NotConnectedError, OperationFailure, SMBFileExistsError, SMBFileNotFoundError,
                            SMBIsADirectoryError)
from smb import smbfile
from smb.smbfile import SMBRawFile
from tests.integration.common import fresh_folder, logged_on, server_for

DIALECTS = ["NT1", "SMB2_02", "SMB3_11"]


@pytest.fixture(params=DIALECTS)
def dialect(request):
    return request.param


@pytest.fixture
def srv(samba_factory, dialect):
    return server_for(samba_factory, dialect)


def _connect(srv, port139=False):
    return logged_on(srv, port139=port139)


@pytest.fixture
def conn(srv):
    c = _connect(srv)
    yield c
    c.close()


@pytest.fixture
def folder(conn, srv):
    """A fresh folder on share ``data``; returns (share-relative name, local path)."""
    return fresh_folder(conn, srv, "of-")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _put(local_dir, name, data):
    """Write a file straight into the share's directory, writable by the Samba user."""
    path = os.path.join(local_dir, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o666)


def _disk(local_dir, name):
    with open(os.path.join(local_dir, name), "rb") as f:
        return f.read()


# ---------------------------------------------------------------- modes

MODES = ["r", "rb", "r+", "rb+", "w", "wb", "w+", "wb+", "x", "xb", "x+", "xb+", "a", "ab", "a+", "ab+",
         "rt", "wt", "at+"]
INITIAL = b"first line\nsecond line\n"


def _exercise(f, binary):
    """The same script for a local and a remote file object; returns what it saw."""
    seen = [("readable", f.readable()), ("writable", f.writable()), ("seekable", f.seekable()),
            ("tell", f.tell())]
    payload = b"NEW" if binary else "NEW"
    for step in ("read", "write", "seek0", "read", "seek-end", "write", "seek2", "write"):
        try:
            if step == "read":
                seen.append((step, f.read()))
            elif step == "write":
                seen.append((step, f.write(payload)))
                seen.append(("tell", f.tell()))
            elif step == "seek0":
                seen.append((step, f.seek(0)))
            elif step == "seek2":
                seen.append((step, f.seek(2)))
            else:
                seen.append((step, f.seek(0, os.SEEK_END)))
        except io.UnsupportedOperation:
            seen.append((step, "unsupported"))
    f.close()
    seen.append(("closed", f.closed))
    return seen


@pytest.mark.parametrize("exists", [True, False], ids=["existing", "missing"])
def test_every_mode_behaves_like_open(conn, folder, tmp_path, exists):
    name, local_dir = folder
    for mode in MODES:
        fname = "m-%s.txt" % mode.replace("+", "plus")
        local = tmp_path / fname
        if exists:
            local.write_bytes(INITIAL)
            _put(local_dir, fname, INITIAL)
        binary = "b" in mode
        try:
            expected = _exercise(open(local, mode), binary)
        except OSError as err:
            expected = type(err)
        try:
            got = _exercise(conn.openFile("data", name + "/" + fname, mode), binary)
        except OperationFailure as err:
            assert isinstance(err, OSError)
            got = type(err).__mro__[[c.__module__ for c in type(err).__mro__].index("builtins")]
        assert got == expected, mode
        remote_path = os.path.join(local_dir, fname)
        if local.exists():
            assert _disk(local_dir, fname) == local.read_bytes(), mode
        else:
            assert not os.path.exists(remote_path), mode


def test_mode_attributes_and_invalid_modes(conn, folder):
    name, _ = folder
    with conn.openFile("data", name + "/a.bin", "wb") as f:
        assert isinstance(f, io.BufferedWriter) and isinstance(f.raw, SMBRawFile)
        assert f.raw.mode == "wb" and f.name == name + "\\a.bin"
    with conn.openFile("data", name + "/a.bin", "rb") as f:
        assert isinstance(f, io.BufferedReader) and f.raw.mode == "rb"
    with conn.openFile("data", name + "/a.bin", "w+b") as f:
        assert isinstance(f, io.BufferedRandom) and f.raw.mode == "rb+"
    with conn.openFile("data", name + "/a.bin", "rb", buffering=0) as f:
        assert isinstance(f, SMBRawFile) and f.mode == "rb"
    with conn.openFile("data", name + "/a.bin", "a") as f:
        assert isinstance(f, io.TextIOWrapper) and f.mode == "a" and f.buffer.raw.mode == "ab"
    for bad in ("", "rw", "rr", "q", "rbt", "r++", "+"):
        with pytest.raises(ValueError):
            conn.openFile("data", name + "/a.bin", bad)
    with pytest.raises(ValueError):
        conn.openFile("data", name + "/a.bin", "r", buffering=0)
    with pytest.raises(ValueError):
        conn.openFile("data", name + "/a.bin", "rb", encoding="utf-8")
    with pytest.raises(ValueError):
        conn.openFile("data", name + "/a.bin", "rb", share_access="x")


# ---------------------------------------------------------------- random access


@pytest.mark.parametrize("buffering", [-1, 0, 4096])
def test_random_seek_read_write_truncate_matches_a_local_file(conn, folder, tmp_path, buffering):
    name, local_dir = folder
    rng = random.Random(1234 + buffering)
    start = rng.randbytes(700_000) if hasattr(rng, "randbytes") else os.urandom(700_000)
    (tmp_path / "r.bin").write_bytes(start)
    _put(local_dir, "r.bin", start)
    local = open(tmp_path / "r.bin", "rb+", buffering=buffering)
    remote = conn.openFile("data", name + "/r.bin", "rb+", buffering=buffering)
    max_io = max(conn.max_read_size, conn.max_write_size)
    for step in range(160):
        op = rng.choice(["seek", "seek", "read", "read", "write", "write", "truncate", "tell", "seek_end",
                         "big_read", "big_write"])
        if op == "seek":
            pos = rng.randrange(0, 1_200_000)
            assert remote.seek(pos) == local.seek(pos)
        elif op == "seek_end":
            off = rng.randrange(-1000, 1000)
            assert remote.seek(off, os.SEEK_END) == local.seek(off, os.SEEK_END), step
        elif op == "read":
            n = rng.choice([0, 1, 17, 4096, 65537, 200_000])
            assert remote.read(n) == local.read(n), (step, op)
        elif op == "big_read":
            n = max_io * 2 + 123  # several READs of at most MaxRead in flight
            assert remote.read(n) == local.read(n), (step, op)
        elif op == "write":
            data = os.urandom(rng.choice([1, 100, 5000, 70_000]))
            assert remote.write(data) == local.write(data)
        elif op == "big_write":
            data = os.urandom(max_io + 999)  # split in MaxWrite pieces
            assert remote.write(data) == local.write(data)
        elif op == "truncate":
            size = rng.choice([None, rng.randrange(0, 1_500_000)])
            assert remote.truncate(size) == local.truncate(size)
        assert remote.tell() == local.tell(), (step, op)
    remote.seek(0)
    local.seek(0)
    assert _sha(remote.read()) == _sha(local.read())
    remote.close()
    local.close()
    assert _sha(_disk(local_dir, "r.bin")) == _sha((tmp_path / "r.bin").read_bytes())


def test_raw_readinto_and_readall(conn, folder):
    name, local_dir = folder
    data = os.urandom(3 * conn.max_read_size + 5)
    _put(local_dir, "big.bin", data)
    with conn.openFile("data", name + "/big.bin", "rb", buffering=0) as raw:
        buf = bytearray(len(data) + 100)
        assert raw.readinto(buf) == len(data)
        assert bytes(buf[:len(data)]) == data
        assert raw.readinto(buf) == 0
        assert raw.read(10) == b""
        raw.seek(7)
        assert raw.readall() == data[7:]
        raw.seek(len(data) + 50)
        assert raw.read() == b""
        with pytest.raises(OSError):
            raw.seek(-1)
        with pytest.raises(io.UnsupportedOperation):
            raw.write(b"x")
    with conn.openFile("data", name + "/big.bin", "rb") as f:
        assert f.read() == data
        f.seek(-5, os.SEEK_END)
        assert f.read() == data[-5:]


def test_append_writes_at_the_end(conn, folder):
    name, local_dir = folder
    _put(local_dir, "log.txt", b"one\n")
    with conn.openFile("data", name + "/log.txt", "ab+", buffering=0) as f:
        assert f.tell() == 4
        f.seek(0)
        assert f.read(3) == b"one"
        f.write(b"two\n")
        # Someone else appends meanwhile: the next append goes after it.
        with open(os.path.join(local_dir, "log.txt"), "ab") as other:
            other.write(b"other\n")
        f.seek(1)
        f.write(b"three\n")
        assert f.tell() == len(b"one\ntwo\nother\nthree\n")
    assert _disk(local_dir, "log.txt") == b"one\ntwo\nother\nthree\n"


# ---------------------------------------------------------------- libraries that seek


def test_zipfile_both_ways(conn, folder, tmp_path):
    name, local_dir = folder
    members = {"a.txt": b"alpha" * 1000, "sub/b.bin": os.urandom(300_000), "empty": b""}
    with zipfile.ZipFile(os.path.join(local_dir, "local.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        for member, content in members.items():
            z.writestr(member, content)
    with zipfile.ZipFile(conn.openFile("data", name + "/local.zip", "rb")) as z:
        assert sorted(z.namelist()) == sorted(members)
        for member, content in members.items():
            assert z.read(member) == content
        assert z.testzip() is None
    with conn.openFile("data", name + "/remote.zip", "wb") as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
            for member, content in members.items():
                z.writestr(member, content)
    with zipfile.ZipFile(os.path.join(local_dir, "remote.zip")) as z:
        assert {m: z.read(m) for m in z.namelist()} == members
    # Appending to an existing archive seeks back over it and rewrites the directory.
    with conn.openFile("data", name + "/remote.zip", "r+b") as f:
        with zipfile.ZipFile(f, "a") as z:
            z.writestr("added.txt", b"late")
    with zipfile.ZipFile(os.path.join(local_dir, "remote.zip")) as z:
        assert z.read("added.txt") == b"late" and z.read("a.txt") == members["a.txt"]


def test_tarfile_both_ways(conn, folder, tmp_path):
    name, local_dir = folder
    src = tmp_path / "tree"
    (src / "d").mkdir(parents=True)
    (src / "d" / "x.bin").write_bytes(os.urandom(150_000))
    (src / "y.txt").write_text("why\n")
    with tarfile.open(os.path.join(local_dir, "local.tar.gz"), "w:gz") as t:
        t.add(str(src), arcname="tree")
    with conn.openFile("data", name + "/local.tar.gz", "rb") as f:
        with tarfile.open(fileobj=f, mode="r:gz") as t:
            assert t.extractfile("tree/d/x.bin").read() == (src / "d" / "x.bin").read_bytes()
            assert sorted(t.getnames()) == ["tree", "tree/d", "tree/d/x.bin", "tree/y.txt"]
    with conn.openFile("data", name + "/remote.tar", "wb") as f:
        with tarfile.open(fileobj=f, mode="w") as t:
            t.add(str(src), arcname="tree")
    with tarfile.open(os.path.join(local_dir, "remote.tar")) as t:
        assert t.extractfile("tree/y.txt").read() == b"why\n"
    with conn.openFile("data", name + "/remote.tar", "rb") as f:
        with tarfile.open(fileobj=f, mode="r:") as t:  # random access through the members
            assert t.extractfile("tree/d/x.bin").read() == (src / "d" / "x.bin").read_bytes()


def test_pandas_and_numpy_read_and_write_through_handles(conn, folder):
    pd = pytest.importorskip("pandas")  # a test dependency (setup.py extra "test")
    np = pytest.importorskip("numpy")
    name, local_dir = folder
    rows = 50_000
    frame = pd.DataFrame({"n": np.arange(rows), "sq": np.arange(rows) ** 2,
                          "word": ["w%d" % (i % 97) for i in range(rows)]})
    with conn.openFile("data", name + "/t.csv", "w", newline="") as f:
        frame.to_csv(f, index=False)
    assert pd.read_csv(os.path.join(local_dir, "t.csv")).equals(frame)  # what the server holds
    with conn.openFile("data", name + "/t.csv", "r", newline="") as f:
        back = pd.read_csv(f)
    assert back.equals(frame)
    with conn.openFile("data", name + "/t.csv", "rb") as f:  # the binary path (pandas' own buffering)
        assert pd.read_csv(f).equals(frame)
    array = np.random.default_rng(3).random((300, 400))
    with conn.openFile("data", name + "/a.npy", "wb") as f:
        np.save(f, array)
    with conn.openFile("data", name + "/a.npy", "rb") as f:
        assert np.array_equal(np.load(f), array)


def test_copyfileobj_20_mib_in_and_out(conn, folder, tmp_path):
    name, local_dir = folder
    data = os.urandom(20 * 1024 * 1024)
    (tmp_path / "src.bin").write_bytes(data)
    with open(tmp_path / "src.bin", "rb") as src, conn.openFile("data", name + "/c.bin", "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert _sha(_disk(local_dir, "c.bin")) == _sha(data)
    with conn.openFile("data", name + "/c.bin", "rb") as src, open(tmp_path / "back.bin", "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert _sha((tmp_path / "back.bin").read_bytes()) == _sha(data)


def test_netbios_framing_splits_reads_and_writes(srv, folder, tmp_path):
    """Over port 139 MaxRead/MaxWrite are at most 64 KiB .. 120 KiB: one call is many requests."""
    name, local_dir = folder
    conn = _connect(srv, port139=True)
    sizes = {"read": [], "write": [], "in_flight": 0}
    dialect = conn.dialect
    original = dialect.send

    def recording_send(*args, **kwargs):
        if dialect.is_smb2:
            command, resp_size = args[0], args[3] if len(args) > 3 else 0
            data = args[4] if len(args) > 4 else kwargs.get("data")
            if command == 0x08:
                sizes["read"].append(resp_size)
            elif command == 0x09:
                sizes["write"].append(len(data))
        else:
            message = args[0]
            if type(message).__name__ == "ReadAndXRequest":
                sizes["read"].append(message.max_count)
            elif type(message).__name__ == "WriteAndXRequest":
                sizes["write"].append(len(message.data))
        mid = original(*args, **kwargs)
        sizes["in_flight"] = max(sizes["in_flight"], len(conn._outstanding))
        return mid

    dialect.send = recording_send
    try:
        data = os.urandom(3 * 1024 * 1024 + 1)
        with conn.openFile("data", name + "/nb.bin", "wb", buffering=0) as f:
            assert f.write(data) == len(data)
        assert _sha(_disk(local_dir, "nb.bin")) == _sha(data)
        assert len(sizes["write"]) >= len(data) // conn.max_write_size
        assert max(sizes["write"]) <= conn.max_write_size <= 128 * 1024
        sizes["in_flight"] = 0
        with conn.openFile("data", name + "/nb.bin", "rb", buffering=0) as f:
            buf = bytearray(len(data))
            assert f.readinto(buf) == len(data) and bytes(buf) == data
        assert len(sizes["read"]) >= len(data) // conn.max_read_size
        assert max(sizes["read"]) <= conn.max_read_size <= 128 * 1024
        assert sizes["in_flight"] > 4  # READs pipelined, not stop-and-wait
    finally:
        dialect.send = original
        conn.close()


# ---------------------------------------------------------------- text


@pytest.mark.parametrize("encoding,newline", [("utf-8", None), ("utf-16", "\r\n"), ("latin-1", ""),
                                              ("utf-8-sig", "\r")])
def test_text_mode_matches_open(conn, folder, tmp_path, encoding, newline):
    name, local_dir = folder
    text = "héllo\nwörld\r\nthird\rlast line € " * 50
    if encoding == "latin-1":
        text = text.replace("€", "E")
    with open(tmp_path / "t.txt", "w", encoding=encoding, newline=newline) as f:
        f.write(text)
    with conn.openFile("data", name + "/t.txt", "w", encoding=encoding, newline=newline) as f:
        f.write(text)
    assert _disk(local_dir, "t.txt") == (tmp_path / "t.txt").read_bytes()
    with open(tmp_path / "t.txt", encoding=encoding, newline=newline) as f:
        expected_lines = list(f)
    with conn.openFile("data", name + "/t.txt", "r", encoding=encoding, newline=newline) as f:
        assert list(f) == expected_lines
    with conn.openFile("data", name + "/t.txt", "r+", encoding=encoding, newline=newline) as f:
        f.readline()
        mark = f.tell()
        rest = f.read()
        f.seek(mark)
        assert f.read() == rest
    with conn.openFile("data", name + "/t.txt", "rb") as f:
        with pytest.raises(UnicodeDecodeError):
            io.TextIOWrapper(f, "ascii").read()
    with conn.openFile("data", name + "/t.txt", "r", encoding="ascii", errors="replace") as f:
        assert "\ufffd" in f.read()


# ---------------------------------------------------------------- errors


def test_error_types(conn, folder):
    name, _ = folder
    with pytest.raises(FileNotFoundError) as info:
        conn.openFile("data", name + "/missing.txt", "r")
    assert isinstance(info.value, OperationFailure) and isinstance(info.value, SMBFileNotFoundError)
    assert info.value.status is not None and info.value.errno == 2
    with pytest.raises(FileNotFoundError):
        conn.openFile("data", name + "/no/such/folder.txt", "w")
    # (The SMB messages an error carries hold views of received frames: pickled without them.)
    again = pickle.loads(pickle.dumps(SMBFileNotFoundError(info.value.message, [], info.value.status)))
    assert type(again) is SMBFileNotFoundError and again.status == info.value.status and again.errno == 2
    with conn.openFile("data", name + "/here.txt", "x") as f:
        f.write("1")
    with pytest.raises(FileExistsError) as exists:
        conn.openFile("data", name + "/here.txt", "x")
    assert isinstance(exists.value, OperationFailure) and isinstance(exists.value, SMBFileExistsError)
    with pytest.raises(IsADirectoryError) as isdir:
        conn.openFile("data", name, "rb")
    assert isinstance(isdir.value, SMBIsADirectoryError)
    # Share modes: a file open for reading, sharing read only, refuses a writer.
    with conn.openFile("data", name + "/here.txt", "rb", share_access="r"):
        with pytest.raises(PermissionError):
            conn.openFile("data", name + "/here.txt", "r+b")
        with pytest.raises(OperationFailure):
            conn.storeFile("data", name + "/here.txt", io.BytesIO(b"2"))
    with conn.openFile("data", name + "/here.txt", "rb", share_access="rw"):
        conn.storeFile("data", name + "/here.txt", io.BytesIO(b"2"))


def test_closed_file_raises_value_error(conn, folder):
    name, _ = folder
    for buffering in (-1, 0):
        f = conn.openFile("data", name + "/c.txt", "wb+", buffering=buffering)
        f.write(b"abc")
        f.close()
        f.close()  # twice is fine
        assert f.closed
        for call in (f.read, f.tell, f.flush, f.readable, f.writable, f.seekable, lambda: f.write(b"x"),
                     lambda: f.seek(0), f.truncate):
            with pytest.raises(ValueError):
                call()
    assert conn.getAttributes("data", name + "/c.txt").file_size == 3


def test_write_only_and_read_only_handles(conn, folder):
    name, _ = folder
    with conn.openFile("data", name + "/w.bin", "wb") as f:
        assert not f.readable() and f.writable() and f.seekable()
        with pytest.raises(io.UnsupportedOperation):
            f.read(1)
        f.write(b"12345")
        f.seek(0, os.SEEK_END)
        assert f.tell() == 5
        f.truncate(2)
    with conn.openFile("data", name + "/w.bin", "rb") as f:
        assert f.readable() and not f.writable()
        with pytest.raises(io.UnsupportedOperation):
            f.truncate(0)
        assert f.read() == b"12"


# ---------------------------------------------------------------- sharing the connection


def test_handles_work_between_other_operations(conn, folder, tmp_path):
    name, local_dir = folder
    data = os.urandom(2 * 1024 * 1024)
    _put(local_dir, "src.bin", data)
    reader = conn.openFile("data", name + "/src.bin", "rb", buffering=0)
    writer = conn.openFile("data", name + "/dst.bin", "wb", buffering=0)
    pos = 0
    step = 300_000
    while pos < len(data):
        chunk = reader.read(step)
        assert chunk == data[pos:pos + step]
        writer.write(chunk)
        pos += len(chunk)
        names = {e.filename for e in conn.listPath("data", name)}
        assert {"src.bin", "dst.bin"} <= names
        out = io.BytesIO()
        conn.retrieveFile("data", name + "/src.bin", out)
        assert len(out.getvalue()) == len(data)
        conn.storeFile("data", name + "/other-%d.bin" % pos, io.BytesIO(chunk[:1000]))
        writer.flush()  # written behind: on the server once flush() returns
        assert conn.getAttributes("data", name + "/dst.bin").file_size == pos
    reader.close()
    writer.close()
    assert _sha(_disk(local_dir, "dst.bin")) == _sha(data)


def test_connection_close_makes_handles_unusable(srv, folder):
    name, local_dir = folder
    conn = _connect(srv)
    _put(local_dir, "x.bin", b"0123456789" * 1000)
    raw = conn.openFile("data", name + "/x.bin", "rb", buffering=0)
    buffered = conn.openFile("data", name + "/x.bin", "rb")
    assert buffered.read(5) == b"01234"
    pending = conn.openFile("data", name + "/unflushed.bin", "wb")
    pending.write(b"not yet sent")
    conn.close()
    with pytest.raises(NotConnectedError):
        raw.read(1)
    buffered.seek(20_000)
    with pytest.raises(NotConnectedError):
        buffered.read(1)
    with pytest.raises(NotConnectedError):
        raw.seek(0, os.SEEK_END)
    raw.close()  # nothing to lose: no error
    buffered.close()
    assert raw.closed and buffered.closed
    # Data still in the buffer cannot reach the server: the error is not swallowed.
    with pytest.raises(NotConnectedError):
        pending.close()
    # A new session on the same object does not revive the old file id.
    assert conn.connect(srv.host, srv.port, timeout=30)
    try:
        stale = conn.openFile("data", name + "/x.bin", "rb", buffering=0)
        stale.close()
        raw2 = conn.openFile("data", name + "/x.bin", "rb", buffering=0)
        conn.close()
        assert conn.connect(srv.host, srv.port, timeout=30)
        with pytest.raises(NotConnectedError):
            raw2.read(1)
        raw2.close()
    finally:
        conn.close()


def test_a_path_behind_a_dfs_link_is_opened_at_the_target(samba_factory, dialect):
    srv = samba_factory(min_protocol=dialect, max_protocol=dialect, extra_global={"host msdfs": "yes"},
                        extra_shares=[("dfs", [("msdfs root", "yes"), ("read only", "no")])])
    link = os.path.join(srv.share_path("dfs"), "to-data")
    if not os.path.islink(link):
        os.symlink("msdfs:%s\\data" % srv.host, link)  # same server: no second connection needed
    conn = _connect(srv)
    try:
        name = "dfs-" + uuid.uuid4().hex[:8] + ".bin"
        with conn.openFile("dfs", "to-data/" + name, "wb") as f:
            f.write(b"through the link")
        assert _disk(srv.share_path("data"), name) == b"through the link"
        # The open went through a referral (now cached), not by chance to the link's folder.
        assert conn._dfs_cache.lookup(conn._unc("dfs", "to-data\\" + name), time.monotonic()) is not None
        with conn.openFile("dfs", "to-data/" + name, "rb") as f:
            assert f.read() == b"through the link"
    finally:
        conn.close()


# ---------------------------------------------------------------- read-ahead and write-behind

_HUGE = 2 ** 63 - 4  # servers refuse a WRITE there (STATUS_INVALID_PARAMETER from Samba)


def test_sequential_reads_are_read_ahead(conn, folder):
    name, local_dir = folder
    data = os.urandom(3 * 1024 * 1024 + 12345)
    _put(local_dir, "seq.bin", data)
    raw = conn.openFile("data", name + "/seq.bin", "rb", buffering=0, share_access="rw")
    try:
        step = 200_000
        assert raw.read(step) == data[:step]
        assert not raw._ahead  # one read says nothing about the next
        assert raw.read(step) == data[step:2 * step]
        assert len(raw._ahead) == smbfile.READ_AHEAD_WINDOWS  # asked for while we work on this one
        asked = [offset for offset, _, _ in raw._ahead]
        assert asked[0] == 2 * step
        got = [data[:2 * step]]
        while True:
            chunk = raw.read(step)
            if not chunk:
                break
            got.append(chunk)
        assert b"".join(got) == data
        # A read elsewhere drops the windows; reading on from there starts new ones.
        raw.seek(1000)
        assert raw.read(10) == data[1000:1010]
        assert not raw._ahead
        assert raw.read(step) == data[1010:1010 + step]
        assert raw._ahead and raw._ahead[0][0] == 1010 + step
        # A write on the handle's file through another open is seen once the windows go.
        conn.storeFileFromOffset("data", name + "/seq.bin", io.BytesIO(b"NEW"), 0)
        raw.seek(0)
        assert raw.read(3) == b"NEW"
        # Closing with windows in flight leaves the connection fine (their answers are dropped).
        raw.seek(0)
        raw.read(step)
        raw.read(step)
        assert raw._ahead
    finally:
        raw.close()
    assert conn.echo(b"after") is not None
    with conn.openFile("data", name + "/seq.bin", "rb") as f:
        assert f.read() == b"NEW" + data[3:]


def test_read_ahead_stops_at_the_end_and_sees_growth(conn, folder):
    name, local_dir = folder
    _put(local_dir, "grow.bin", b"a" * 300_000)
    raw = conn.openFile("data", name + "/grow.bin", "rb", buffering=0, share_access="rw")
    try:
        assert raw.read(100_000) == b"a" * 100_000
        assert raw.read(100_000) == b"a" * 100_000
        # Windows stop at the size the file had: nothing is asked beyond it.
        assert all(offset + len(buf) <= 300_000 for offset, _, buf in raw._ahead)
        assert raw.read(200_000) == b"a" * 100_000  # short only at the end
        conn.storeFileFromOffset("data", name + "/grow.bin", io.BytesIO(b"b" * 50), 300_000)
        assert raw.read(200_000) == b"b" * 50  # the file grew: read again, not the stale end
        assert raw.read(10) == b""
    finally:
        raw.close()


def test_buffered_reads_through_read_ahead_match(conn, folder):
    name, local_dir = folder
    data = os.urandom(9 * 1024 * 1024 + 7)
    _put(local_dir, "buf.bin", data)
    rng = random.Random(5)
    with conn.openFile("data", name + "/buf.bin", "rb") as f:
        pos = 0
        while pos < len(data):
            n = rng.choice([1, 100, 65536, 300_000, 1 << 20, 5 << 20])
            chunk = f.read(n)
            assert chunk == data[pos:pos + n]
            pos += len(chunk)
            if rng.random() < 0.1:
                pos = rng.randrange(len(data))
                f.seek(pos)
        assert f.read(1) == b""


def test_writes_are_written_behind_and_flush_waits(conn, folder):
    name, local_dir = folder
    raw = conn.openFile("data", name + "/wb.bin", "wb", buffering=0)
    piece = os.urandom(1 << 20)
    for _ in range(4):
        assert raw.write(piece) == len(piece)
    assert raw._behind  # sent, not waited for
    raw.flush()
    assert not raw._behind
    assert _disk(local_dir, "wb.bin") == piece * 4
    raw.close()
    # The buffered layers' flush() reaches the server too (text and binary).
    with conn.openFile("data", name + "/t.txt", "w", encoding="utf-8") as f:
        f.write("line\n" * 1000)
        f.flush()
        assert _disk(local_dir, "t.txt") == b"line\n" * 1000
    with conn.openFile("data", name + "/b.bin", "wb+") as f:
        f.write(b"xyz" * 100_000)
        f.flush()
        assert _disk(local_dir, "b.bin") == b"xyz" * 100_000
        f.seek(0)
        assert f.read(3) == b"xyz"


def test_a_failed_write_behind_is_raised_by_flush_close_or_the_next_call(conn, folder):
    name, local_dir = folder
    # At flush().
    raw = conn.openFile("data", name + "/e1.bin", "wb", buffering=0)
    raw.seek(_HUGE)
    assert raw.write(b"12345678") == 8  # taken; the server refuses it meanwhile
    with pytest.raises(OperationFailure) as err:
        raw.flush()
    assert "WRITE" in str(err.value)
    raw.close()  # reported once: the close itself is fine
    # At close(), and the file is closed all the same.
    raw = conn.openFile("data", name + "/e2.bin", "wb", buffering=0)
    raw.seek(_HUGE)
    raw.write(b"12345678")
    with pytest.raises(OperationFailure):
        raw.close()
    assert raw.closed
    # At the next call, once the server has answered.
    raw = conn.openFile("data", name + "/e3.bin", "wb", buffering=0)
    raw.seek(_HUGE)
    raw.write(b"12345678")
    op = raw._behind[0][2]
    deadline = time.monotonic() + 30
    while not op.done and time.monotonic() < deadline:
        conn.echo(b"let the answer in")
    assert op.done
    raw.seek(0)  # the position may still move: the error waits for IO
    with pytest.raises(OperationFailure):
        raw.write(b"next")
    assert raw.write(b"next") == 4  # reported once; writing on works
    raw.close()
    assert _disk(local_dir, "e3.bin") == b"next"
    # The same through a buffered writer: the error reaches close().
    f = conn.openFile("data", name + "/e4.bin", "wb")
    f.seek(_HUGE)
    f.write(b"abc")
    with pytest.raises(OperationFailure):
        f.close()
    assert f.closed
    assert conn.echo(b"fine") is not None
