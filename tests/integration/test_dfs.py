"""DFS against real Samba: a namespace smbd whose ``msdfs root`` share holds links to a share on
the same smbd, to a share on a second smbd, to a dead target before a live one, and to itself.

Referrals carry no port, so both servers listen on port 445, each on its own loopback address
(one pair per dialect, so the servers of different dialects never collide).
"""
from __future__ import annotations

import hashlib
import io
import os
import subprocess
import threading
import uuid
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from smb import smb_structs
from smb.exceptions import OperationFailure
from smb.nt_status import NtStatus
from smb.SMBConnection import SMBConnection
from tests.samba_server import SambaServer, SambaStartError

#: dialect -> (namespace address, target address); 127.0.0.19 stays dead (nothing listens there).
ADDRESSES = {"NT1": ("127.0.0.10", "127.0.0.11"), "SMB2_02": ("127.0.0.12", "127.0.0.13"),
             "SMB3_11": ("127.0.0.14", "127.0.0.15")}
DEAD = "127.0.0.19"
_SERVERS: Dict[str, Tuple[SambaServer, SambaServer]] = {}


@pytest.fixture(scope="module")
def servers_by_dialect() -> Iterator[Dict[str, Tuple[SambaServer, SambaServer]]]:
    yield _SERVERS
    for a, b in _SERVERS.values():
        a.stop()
        b.stop()
    _SERVERS.clear()


def _start(dialect: str) -> Tuple[SambaServer, SambaServer]:
    ns_ip, target_ip = ADDRESSES[dialect]
    min_protocol = "NT1" if dialect == "NT1" else dialect
    ns = SambaServer(host=ns_ip, port=445, min_protocol=min_protocol, max_protocol=dialect,
                     extra_global={"host msdfs": "yes"},
                     extra_shares=[("dfs", [("msdfs root", "yes"), ("read only", "no")])])
    target = SambaServer(host=target_ip, port=445, min_protocol=min_protocol, max_protocol=dialect,
                         extra_shares=[("other", [("read only", "no")])])
    try:
        ns.start()
        target.start()
    except SambaStartError as err:
        ns.stop()
        target.stop()
        pytest.fail("DFS servers did not start: %s" % err)
    root = ns.share_path("dfs")
    os.symlink("msdfs:%s\\data" % ns_ip, os.path.join(root, "here"))          # same server, another share
    os.symlink("msdfs:%s\\other" % target_ip, os.path.join(root, "there"))    # the second server
    os.symlink("msdfs:%s\\other,%s\\other" % (DEAD, target_ip), os.path.join(root, "fallback"))
    os.symlink("msdfs:%s\\dfs\\loop" % ns_ip, os.path.join(root, "loop"))     # points back at itself
    for path in (ns.share_path("data"), target.share_path("other")):
        subprocess.run(["chmod", "-R", "a+rwX", path], check=True)
    return ns, target


@pytest.fixture(params=list(ADDRESSES))
def dfs_env(request, servers_by_dialect, monkeypatch) -> Tuple[str, SambaServer, SambaServer]:
    dialect = request.param
    if dialect not in servers_by_dialect:
        servers_by_dialect[dialect] = _start(dialect)
    if dialect == "NT1":
        monkeypatch.setattr(smb_structs, "SUPPORT_SMB2", False)
    ns, target = servers_by_dialect[dialect]
    return dialect, ns, target


def _conn(ns: SambaServer, **kwargs: Any) -> SMBConnection:
    conn = SMBConnection(ns.user, ns.password, "dfsclient", ns.host, is_direct_tcp=True, **kwargs)
    assert conn.connect(ns.host, 445, timeout=30) is True
    return conn


def _put_on_target(target: SambaServer, name: str, data: bytes) -> None:
    folder = os.path.join(target.share_path("other"), "sub")
    os.makedirs(folder, exist_ok=True)
    os.chmod(folder, 0o777)
    with open(os.path.join(folder, name), "wb") as fh:
        fh.write(data)
    os.chmod(os.path.join(folder, name), 0o666)


def test_every_path_method_follows_links_to_another_server(dfs_env) -> None:
    dialect, ns, target = dfs_env
    name = "f-%s.bin" % uuid.uuid4().hex[:8]
    data = os.urandom(300_000)
    _put_on_target(target, name, data)
    conn = _conn(ns)
    try:
        assert conn.is_using_smb2 is (dialect != "NT1")
        names = {f.filename for f in conn.listPath("dfs", "there/sub")}
        assert name in names
        assert conn.getAttributes("dfs", "there/sub/" + name).file_size == len(data)
        out = io.BytesIO()
        conn.retrieveFile("dfs", "there/sub/" + name, out)
        assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest()
        part = io.BytesIO()
        conn.retrieveFileFromOffset("dfs", "there/sub/" + name, part, 1000, 5000)
        assert part.getvalue() == data[1000:6000]
        assert conn.resolveDfsPath("dfs", "there/sub/" + name) == "\\\\%s\\other\\sub\\%s" % (target.host, name)
        conn.storeFile("dfs", "there/sub/up.bin", io.BytesIO(b"u" * 70_000))
        conn.storeFileFromOffset("dfs", "there/sub/up.bin", io.BytesIO(b"END"), 70_000)
        with open(os.path.join(target.share_path("other"), "sub", "up.bin"), "rb") as fh:
            assert fh.read() == b"u" * 70_000 + b"END"
        conn.rename("dfs", "there/sub/up.bin", "there/sub/up2.bin")
        conn.setLastWriteTime("dfs", "there/sub/up2.bin", 1_600_000_000)
        conn.resetFileAttributes("dfs", "there/sub/up2.bin")
        conn.createDirectory("dfs", "there/newdir")
        assert os.path.isdir(os.path.join(target.share_path("other"), "newdir"))
        conn.deleteDirectory("dfs", "there/newdir")
        conn.deleteFiles("dfs", "there/sub/up2.bin")
        assert not os.path.exists(os.path.join(target.share_path("other"), "sub", "up2.bin"))
        conn.getSecurity("dfs", "there/sub/" + name)
    finally:
        conn.close()


def test_many_threads_follow_links_on_one_connection(dfs_env) -> None:
    """Threads sharing one connection follow links to both servers at once: one second
    connection for the other server, one referral cache, every read intact."""
    _, ns, target = dfs_env
    blobs = {"t%d.bin" % i: os.urandom(50_000 + i) for i in range(4)}
    for name, data in blobs.items():
        _put_on_target(target, name, data)
    with open(os.path.join(ns.share_path("data"), "h.bin"), "wb") as fh:
        fh.write(b"here" * 1000)
    os.chmod(os.path.join(ns.share_path("data"), "h.bin"), 0o666)
    conn = _conn(ns)
    errors: List[BaseException] = []

    def worker(index: int) -> None:
        try:
            for round_ in range(5):
                name = "t%d.bin" % ((index + round_) % 4)
                out = io.BytesIO()
                conn.retrieveFile("dfs", "there/sub/" + name, out)
                assert out.getvalue() == blobs[name]
                out = io.BytesIO()
                conn.retrieveFile("dfs", "here/h.bin", out)
                assert out.getvalue() == b"here" * 1000
        except BaseException as err:  # collected and re-raised in the main thread
            errors.append(err)

    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []
        assert list(conn._dfs_peers) == [(target.host, 445)]
    finally:
        conn.close()


def test_link_to_another_share_of_the_same_server(dfs_env) -> None:
    _, ns, _ = dfs_env
    name = "h-%s.txt" % uuid.uuid4().hex[:8]
    with open(os.path.join(ns.share_path("data"), name), "wb") as fh:
        fh.write(b"on the namespace server\n")
    os.chmod(os.path.join(ns.share_path("data"), name), 0o666)
    conn = _conn(ns)
    try:
        out = io.BytesIO()
        conn.retrieveFile("dfs", "here/" + name, out)
        assert out.getvalue() == b"on the namespace server\n"
        assert conn._dfs_peers == {}  # no second connection was needed
    finally:
        conn.close()


def test_a_dead_first_target_is_skipped(dfs_env) -> None:
    _, ns, target = dfs_env
    _put_on_target(target, "fb.txt", b"reached through the second target\n")
    conn = _conn(ns)
    try:
        out = io.BytesIO()
        conn.retrieveFile("dfs", "fallback/sub/fb.txt", out, timeout=60)
        assert out.getvalue() == b"reached through the second target\n"
        # The cache now tries the live target first.
        out = io.BytesIO()
        conn.retrieveFile("dfs", "fallback/sub/fb.txt", out)
        assert out.getvalue().startswith(b"reached")
    finally:
        conn.close()


def test_a_link_that_points_back_is_a_reported_loop(dfs_env) -> None:
    _, ns, _ = dfs_env
    conn = _conn(ns)
    try:
        with pytest.raises(OperationFailure, match="referrals"):
            conn.listPath("dfs", "loop/x")
    finally:
        conn.close()


def test_dfs_off_reports_path_not_covered(dfs_env) -> None:
    _, ns, _ = dfs_env
    conn = _conn(ns, dfs=False)
    try:
        with pytest.raises(OperationFailure) as info:
            conn.listPath("dfs", "there/sub")
        assert info.value.status == NtStatus.PATH_NOT_COVERED
    finally:
        conn.close()


def test_smbclient_reads_the_same_dfs_path(dfs_env) -> None:
    dialect, ns, target = dfs_env
    _put_on_target(target, "cross.txt", b"cross-check\n")
    conn = _conn(ns)
    try:
        ours = io.BytesIO()
        conn.retrieveFile("dfs", "there/sub/cross.txt", ours)
    finally:
        conn.close()
    result = subprocess.run(["smbclient", "-s", "/dev/null", "--option=client min protocol=NT1",
                             "//%s/dfs" % ns.host, "-p", "445",
                             "-U", "%s%%%s" % (ns.user, ns.password), "-c", "get there\\sub\\cross.txt /dev/stdout"],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert ours.getvalue().decode() in result.stdout


def test_tree_methods_follow_links_to_another_server(dfs_env) -> None:
    _, ns, target = dfs_env
    top = "tree-%s" % uuid.uuid4().hex[:8]
    on_disk = os.path.join(target.share_path("other"), top)
    conn = _conn(ns)
    try:
        conn.makeDirs("dfs", "there/%s/a/b" % top)
        assert os.path.isdir(os.path.join(on_disk, "a", "b"))
        conn.makeDirs("dfs", "there/%s/a" % top, exist_ok=True)
        conn.storeFile("dfs", "there/%s/a/b/f.txt" % top, io.BytesIO(b"f"))
        assert conn.exists("dfs", "there/" + top) and conn.isDirectory("dfs", "there/" + top)
        assert conn.isFile("dfs", "there/%s/a/b/f.txt" % top)
        assert not conn.exists("dfs", "there/%s/missing" % top)
        assert {e.filename for e in conn.iterPath("dfs", "there/%s/a" % top)} == {".", "..", "b"}
        walked = [(d, sorted(ds), sorted(fs)) for d, ds, fs in conn.walk("dfs", "there/" + top)]
        # dirpaths stay in the caller's namespace (the DFS share), not the target's
        base = "there/" + top
        assert walked == [(base, ["a"], []), (base + "/a", ["b"], []), (base + "/a/b", [], ["f.txt"])]
        conn.setTimes("dfs", "there/%s/a/b/f.txt" % top, write=1_500_000_000, access=1_400_000_000)
        st = os.stat(os.path.join(on_disk, "a", "b", "f.txt"))
        assert (st.st_mtime, st.st_atime) == (1_500_000_000, 1_400_000_000)
        conn.deleteTree("dfs", "there/" + top)
        assert not os.path.exists(on_disk)
    finally:
        conn.close()


def test_asyncio_driver_follows_links(dfs_env) -> None:
    """The asyncio connection runs the same DFS procedures: links to another share, to another
    server (a second asyncio connection), past a dead first target, loops reported; many tasks
    at once share one referral cache and one peer connection."""
    import asyncio

    from smb import aio

    _, ns, target = dfs_env
    files = {"a-%02d.bin" % i: os.urandom(20_000 + i) for i in range(16)}
    for name, data in files.items():
        _put_on_target(target, name, data)

    async def main() -> None:
        conn = aio.SMBConnection(ns.user, ns.password, "dfsclient", ns.host, is_direct_tcp=True)
        assert await conn.connect(ns.host, 445, timeout=30) is True
        async with conn:
            async def fetch(name: str) -> bytes:
                out = io.BytesIO()
                await conn.retrieveFile("dfs", "there/sub/" + name, out)
                return out.getvalue()

            got = await asyncio.gather(*(fetch(n) for n in files))
            assert dict(zip(files, got)) == files
            assert list(conn._dfs_peers) == [(target.host, 445)]
            names = {f.filename async for f in conn.iterPath("dfs", "there/sub")}
            assert set(files) <= names
            assert await conn.resolveDfsPath("dfs", "there/sub/a-00.bin") == \
                "\\\\%s\\other\\sub\\a-00.bin" % target.host
            out = io.BytesIO()
            await conn.retrieveFile("dfs", "fallback/sub/a-01.bin", out, timeout=60)
            assert out.getvalue() == files["a-01.bin"]
            await conn.storeFile("dfs", "here/aio-%s.txt" % uuid.uuid4().hex[:6], io.BytesIO(b"same server"))
            with pytest.raises(OperationFailure, match="referrals"):
                await conn.listPath("dfs", "loop/x")
        assert conn._dfs_peers == {}

    asyncio.run(main())
