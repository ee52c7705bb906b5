"""The ``smbwire`` command-line client, driven as a user would: ``python3 -m smb ...`` in a
subprocess, and the interactive mode through a pseudo-terminal, against the suite's Samba
(NT1, SMB2_02 and SMB3_11 for the transfer commands), the AD DC for ``-k``, and the scripted
fake server for names Samba never sends.

What the client did is checked on the server's disk (the share directories), with the
library, or with Samba's ``smbclient``; never with the client's own word alone.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
import uuid
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest

from tests.fakeserver import QUERY_DIRECTORY, READ, FakeSmbServer
from tests.integration.common import logged_on, server_for

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIALECTS = ["NT1", "SMB2_02", "SMB3_11"]
DIALECT_LOG = {"NT1": "NT LM 0.12", "SMB2_02": "SMB 2.0.2", "SMB3_11": "SMB 3.1.1"}
_RNG_SEED = 16


# ---------------------------------------------------------------- running the client


def _env(home: str, password: Optional[str] = None, **extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMBWIRE_", "KRB5"))}
    env.update(PYTHONPATH=REPO, HOME=home, SMBWIRE_HISTFILE="", LC_ALL="C.UTF-8", COLUMNS="120")
    if password is not None:
        env["SMBWIRE_PASSWORD"] = password
    env.update(extra)
    return env


def run(args: Sequence[str], *, home: str, cwd: Optional[str] = None, password: Optional[str] = None,
        extra_env: Optional[Dict[str, str]] = None, timeout: float = 180) -> "subprocess.CompletedProcess[str]":
    """``python3 -m smb ARGS``; stdin is /dev/null, stdout and stderr are captured (not a terminal)."""
    return subprocess.run([sys.executable, "-m", "smb", *args], cwd=cwd or home, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout,
                          env=_env(home, password, **(extra_env or {})))


def service(srv: Any, share: str = "data", *extra: str) -> List[str]:
    return ["//%s/%s" % (srv.host, share), "-p", str(srv.port), "-U", srv.user, *extra]


def ok(proc: "subprocess.CompletedProcess[str]") -> "subprocess.CompletedProcess[str]":
    assert proc.returncode == 0, "rc=%d\nstdout:\n%s\nstderr:\n%s" % (proc.returncode, proc.stdout, proc.stderr)
    return proc


def failed_line(proc: "subprocess.CompletedProcess[str]") -> str:
    """The one error line of a failed run."""
    assert proc.returncode != 0, proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.startswith("smbwire: ")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


class Pty:
    """The client on a pseudo-terminal that is its controlling terminal (as in a shell)."""

    def __init__(self, args: Sequence[str], env: Dict[str, str], cwd: str) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        # Become session leader (start_new_session), then take the terminal as controlling tty.
        wrapper = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                   "os.execv(sys.executable, [sys.executable] + sys.argv[1:])")
        self.proc = subprocess.Popen([sys.executable, "-c", wrapper, "-m", "smb", *args], stdin=slave,
                                     stdout=slave, stderr=slave, env=dict(env, TERM="xterm"), cwd=cwd,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.output = b""
        self.pos = 0

    def _read(self, deadline: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.output += data
        return True

    def expect(self, text: str, timeout: float = 60) -> None:
        """Wait for ``text`` after the end of the previous match (output read
        earlier but not matched yet counts: a prompt often comes with the
        line before it)."""
        deadline = time.monotonic() + timeout
        wanted = text.encode()
        while True:
            found = self.output.find(wanted, self.pos)
            if found >= 0:
                self.pos = found + len(wanted)
                return
            if not self._read(deadline):
                raise AssertionError("no %r within %ss; output so far:\n%s"
                                     % (text, timeout, self.output.decode(errors="replace")))

    def expect_prompt(self, prompt: str = "smb: \\> ") -> None:
        self.expect(prompt)

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def cmdline(self) -> bytes:
        with open("/proc/%d/cmdline" % self.proc.pid, "rb") as fh:
            return fh.read()

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(min(deadline, time.monotonic() + 0.5))
        while self._read(time.monotonic() + 0.2):
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        os.close(self.master)
        return int(self.proc.returncode)

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace")


def _sha(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _tree(top: str) -> Dict[str, Optional[str]]:
    """path relative to top -> sha256 (None for a folder)."""
    out: Dict[str, Optional[str]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames:
            out[os.path.relpath(os.path.join(dirpath, name), top)] = None
        for name in filenames:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, top)] = _sha(path)
    return out


def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(params=DIALECTS)
def dialect(request):
    return request.param


@pytest.fixture
def srv(samba_factory, dialect):
    return server_for(samba_factory, dialect)


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir()
    return str(path)


@pytest.fixture
def remote(srv):
    """A fresh folder name on share ``data`` (made on the server's disk) and its disk path."""
    made: List[str] = []

    def make(create: bool = True) -> Tuple[str, str]:
        name = "cli-" + uuid.uuid4().hex[:10]
        disk = os.path.join(srv.share_path("data"), name)
        if create:
            os.mkdir(disk)
            os.chmod(disk, 0o777)
        made.append(disk)
        return name, disk

    yield make
    for disk in made:
        shutil.rmtree(disk, ignore_errors=True)


# ---------------------------------------------------------------- single files


def test_put_get_ls_round_trip(srv, dialect, home, remote):
    name, disk = remote()
    data = os.urandom(3 * 1024 * 1024 + 17)
    _write(os.path.join(home, "big.bin"), data)
    proc = ok(run(service(srv, "data", "-m", dialect, "-d", "1",
                          "-c", "cd %s; put big.bin; ls; get big.bin copy.bin; pwd" % name),
                  home=home, password=srv.password))
    with open(os.path.join(disk, "big.bin"), "rb") as fh:
        assert fh.read() == data
    assert _sha(os.path.join(home, "copy.bin")) == hashlib.sha256(data).hexdigest()
    listed = [line.split() for line in proc.stdout.splitlines() if "big.bin" in line and line.startswith("  ")]
    assert listed and listed[0][2] == str(len(data))
    assert "Current directory is \\\\%s\\data\\%s\\" % (srv.host, name) in proc.stdout
    # -m chose the dialect the server speaks (SMB1 forced for NT1, SMB2 NEGOTIATE first otherwise).
    assert DIALECT_LOG[dialect] in proc.stderr
    assert "warning" not in proc.stderr


def test_get_into_a_local_folder_and_put_to_a_remote_folder(srv, dialect, home, remote):
    name, disk = remote()
    _write(os.path.join(disk, "a.txt"), b"remote a")
    os.mkdir(os.path.join(disk, "sub"))
    os.chmod(os.path.join(disk, "sub"), 0o777)
    os.mkdir(os.path.join(home, "into"))
    _write(os.path.join(home, "b.txt"), b"local b")
    ok(run(service(srv, "data", "-c", "get %s\\a.txt into; put b.txt %s/sub/" % (name, name)),
           home=home, password=srv.password))
    with open(os.path.join(home, "into", "a.txt"), "rb") as fh:
        assert fh.read() == b"remote a"
    with open(os.path.join(disk, "sub", "b.txt"), "rb") as fh:
        assert fh.read() == b"local b"


def test_reget_and_reput_resume_from_the_other_side_size(srv, dialect, home, remote):
    name, disk = remote()
    data = os.urandom(1024 * 1024 + 5)
    cut = 300_001
    _write(os.path.join(disk, "full.bin"), data)
    # The local part differs from the server's first bytes: a resumed download keeps it.
    local_part = b"L" * cut
    _write(os.path.join(home, "full.bin"), local_part)
    # For reput: the server holds a different first part; the local file is complete.
    _write(os.path.join(disk, "up.bin"), b"R" * cut)
    os.chmod(os.path.join(disk, "up.bin"), 0o666)
    _write(os.path.join(home, "up.bin"), data)
    proc = ok(run(service(srv, "data", "-c", "cd %s; reget full.bin; reput up.bin" % name), home=home,
                  password=srv.password))
    with open(os.path.join(home, "full.bin"), "rb") as fh:
        assert fh.read() == local_part + data[cut:]
    with open(os.path.join(disk, "up.bin"), "rb") as fh:
        assert fh.read() == b"R" * cut + data[cut:]
    assert "from offset %d" % cut in proc.stdout
    # Nothing left to fetch: reget of a complete file moves 0 bytes and leaves it as it is.
    ok(run(service(srv, "data", "-c", "cd %s; reget full.bin" % name), home=home, password=srv.password))
    with open(os.path.join(home, "full.bin"), "rb") as fh:
        assert fh.read() == local_part + data[cut:]


def test_reget_of_a_missing_local_file_is_a_full_download(srv, dialect, home, remote):
    name, disk = remote()
    _write(os.path.join(disk, "f.bin"), b"0123456789")
    ok(run(service(srv, "data", "-c", "reget %s\\f.bin" % name), home=home, password=srv.password))
    with open(os.path.join(home, "f.bin"), "rb") as fh:
        assert fh.read() == b"0123456789"


def test_reget_refuses_a_larger_local_file(srv, dialect, home, remote):
    name, disk = remote()
    _write(os.path.join(disk, "f.bin"), b"short")
    _write(os.path.join(home, "f.bin"), b"much longer local file")
    line = failed_line(run(service(srv, "data", "-c", "reget %s\\f.bin" % name), home=home, password=srv.password))
    assert "larger than the remote file" in line
    with open(os.path.join(home, "f.bin"), "rb") as fh:
        assert fh.read() == b"much longer local file"


# ---------------------------------------------------------------- trees


TREE = {
    "top.txt": b"top\n",
    "data.bin": os.urandom(200_000),
    "sub/inner.txt": b"inner\n",
    "sub/deeper/deep.txt": b"deep\n",
    "sub/deeper/deep.bin": os.urandom(70_000),
    "other dir/space name.txt": b"spaces\n",
    "\u00fcn\u00efc\u00f6de/\u65e5\u672c.txt": "\u3053\u3093\u306b\u3061\u306f".encode(),
}


def _make_tree(top: str, files: Dict[str, bytes], empty: Sequence[str] = ()) -> None:
    for rel, data in files.items():
        _write(os.path.join(top, *rel.split("/")), data)
    for rel in empty:
        os.makedirs(os.path.join(top, *rel.split("/")), exist_ok=True)
    for dirpath, dirnames, _ in os.walk(top):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o777)
    os.chmod(top, 0o777)


def test_recursive_mput_then_mget_copies_the_whole_tree(srv, dialect, home, remote):
    name, disk = remote()
    src = os.path.join(home, "src")
    _make_tree(src, TREE, ["empty"])
    ok(run(service(srv, "data", "-c", "cd %s; lcd src; recurse on; mput *" % name), home=home,
           password=srv.password))
    assert _tree(disk) == _tree(src)
    dest = os.path.join(home, "dest")
    os.mkdir(dest)
    proc = ok(run(service(srv, "data", "-c", "cd %s; lcd dest; recurse; mget *" % name), home=home,
                  password=srv.password))
    assert _tree(dest) == _tree(src)
    assert "mget: %d files, %d bytes" % (len(TREE), sum(len(v) for v in TREE.values())) in proc.stdout


def test_mget_mask_applies_at_every_level_with_recurse(srv, dialect, home, remote):
    name, disk = remote()
    _make_tree(disk, TREE)
    ok(run(service(srv, "data", "-c", "cd %s; recurse on; mget *.txt" % name), home=home, password=srv.password))
    got = {rel for rel, sha in _tree(home).items() if sha is not None}
    assert got == {os.path.join(*rel.split("/")) for rel in TREE if rel.endswith(".txt")}


def test_mget_without_recurse_takes_only_the_matching_files_here(srv, dialect, home, remote):
    name, disk = remote()
    _make_tree(disk, TREE)
    ok(run(service(srv, "data", "-c", "cd %s; mget *.txt *.bin" % name), home=home, password=srv.password))
    assert sorted(os.listdir(home)) == ["data.bin", "top.txt"]
    # A folder named alone needs recurse.
    line = failed_line(run(service(srv, "data", "-c", "cd %s; mget sub" % name), home=home,
                           password=srv.password))
    assert "turn recurse on" in line


def test_mget_of_a_named_folder_copies_it_under_its_name(srv, dialect, home, remote):
    name, disk = remote()
    _make_tree(disk, TREE)
    ok(run(service(srv, "data", "-c", "recurse on; mget %s\\sub" % name), home=home, password=srv.password))
    assert _tree(os.path.join(home, "sub")) == _tree(os.path.join(disk, "sub"))
    assert sorted(os.listdir(home)) == ["sub"]


def test_mput_mask_without_recurse(srv, dialect, home, remote):
    name, disk = remote()
    src = os.path.join(home, "src")
    _make_tree(src, TREE)
    ok(run(service(srv, "data", "-c", "cd %s; lcd src; mput *.txt" % name), home=home, password=srv.password))
    assert sorted(os.listdir(disk)) == ["top.txt"]


def test_mget_job_and_file_bars_only_on_a_terminal(srv, dialect, home, remote):
    name, disk = remote()
    _make_tree(disk, {"one.bin": os.urandom(500_000), "two.bin": os.urandom(300_000)})
    # Not a terminal: no bars on either stream.
    proc = ok(run(service(srv, "data", "-c", "cd %s; mget *" % name), home=home, password=srv.password))
    assert "%|" not in proc.stderr + proc.stdout and "files" not in proc.stderr
    session = Pty(service(srv, "data"), _env(home, srv.password), home)
    try:
        session.expect_prompt()
        session.send("cd %s\r" % name)
        session.expect("smb: \\%s\\> " % name)
        session.send("mget *\r")
        session.expect("mget: 2 files, 800000 bytes")
        session.send("exit\r")
    finally:
        rc = session.finish()
    assert rc == 0
    assert "2/2 files" in session.text           # the job bar's file counter
    assert "100%" in session.text and "B/s" in session.text
    assert _tree(home).keys() >= {"one.bin", "two.bin"}


def test_quiet_draws_no_bars_on_a_terminal(samba_factory, home):
    srv = server_for(samba_factory, "SMB3_11")
    session = Pty(service(srv, "readonly", "-q"), _env(home, srv.password), home)
    try:
        session.expect_prompt()
        session.send("get hello.txt\r")
        session.expect_prompt()
        session.send("exit\r")
    finally:
        rc = session.finish()
    assert rc == 0 and "%|" not in session.text and "getting file" not in session.text
    with open(os.path.join(home, "hello.txt"), "rb") as fh:
        assert fh.read().startswith(b"Hello")


# ---------------------------------------------------------------- folders and names


def test_folder_commands(srv, dialect, home, remote):
    name, disk = remote()
    for f in ("a.log", "b.log", "keep.txt"):
        _write(os.path.join(disk, f), b"x")
    _make_tree(os.path.join(disk, "tree"), {"x/y/z.txt": b"z", "w.txt": b"w"})
    ok(run(service(srv, "data", "-c", "cd %s; mkdir new; rename keep.txt new\\kept.txt; rm *.log; "
                                      "mkdir gone; rmdir gone; deltree tree; recurse on; mkdir p\\q\\r" % name),
           home=home, password=srv.password))
    assert sorted(os.listdir(disk)) == ["new", "p"]
    assert os.listdir(os.path.join(disk, "new")) == ["kept.txt"]
    assert os.path.isdir(os.path.join(disk, "p", "q", "r"))


def test_cd_to_a_file_or_nowhere_fails_and_cd_dotdot_stops_at_the_root(srv, dialect, home, remote):
    name, disk = remote()
    _write(os.path.join(disk, "f.txt"), b"x")
    line = failed_line(run(service(srv, "data", "-c", "cd %s\\f.txt" % name), home=home, password=srv.password))
    assert "NT_STATUS_NOT_A_DIRECTORY" in line
    line = failed_line(run(service(srv, "data", "-c", "cd %s\\nothere" % name), home=home, password=srv.password))
    assert "NT_STATUS_OBJECT_NAME_NOT_FOUND" in line
    proc = ok(run(service(srv, "data", "-c", "cd %s; cd ..\\..\\..; pwd" % name), home=home, password=srv.password))
    assert "Current directory is \\\\%s\\data\\\n" % srv.host in proc.stdout


def test_ls_json_and_recursive(srv, dialect, home, remote):
    name, disk = remote()
    _make_tree(disk, {"a.txt": b"aaa", "sub/b.txt": b"bb", "sub/c/d.txt": b"d"})
    proc = ok(run(service(srv, "data", "--json", "-c", "cd %s; ls; recurse on; ls *.txt" % name), home=home,
                  password=srv.password))
    first, second = [json.loads(line) for line in proc.stdout.splitlines()]
    by_name = {e["name"]: e for e in first}
    assert set(by_name) == {".", "..", "a.txt", "sub"}
    assert by_name["a.txt"]["size"] == 3 and by_name["sub"]["is_directory"] is True
    assert by_name["a.txt"]["path"] == "\\%s\\a.txt" % name
    disk_mtime = os.stat(os.path.join(disk, "a.txt")).st_mtime
    got_mtime = by_name["a.txt"]["write_time"]
    assert got_mtime.startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(disk_mtime)))
    assert sorted(e["path"] for e in second) == ["\\%s\\a.txt" % name, "\\%s\\sub\\b.txt" % name,
                                                 "\\%s\\sub\\c\\d.txt" % name]
    # Text mode: a header per folder, as smbclient prints them.
    text = ok(run(service(srv, "data", "-c", "cd %s; recurse on; ls" % name), home=home,
                  password=srv.password)).stdout
    assert "\\%s\\sub\\c" % name in text.splitlines()


def test_ls_of_a_folder_lists_its_contents_and_a_file_shows_itself(srv, dialect, home, remote):
    name, disk = remote()
    _make_tree(disk, {"sub/inside.txt": b"1", "f.txt": b"22"})
    proc = ok(run(service(srv, "data", "-c", "ls %s\\sub; ls %s\\f.txt" % (name, name)), home=home,
                  password=srv.password))
    names = [line.split()[0] for line in proc.stdout.splitlines() if line.startswith("  ")]
    assert names.count("inside.txt") == 1 and names.count("f.txt") == 1 and "sub" not in names


def test_allinfo_shows_the_security_descriptor_as_the_library_reads_it(srv, dialect, home, remote):
    name, disk = remote()
    _write(os.path.join(disk, "f.txt"), b"12345")
    conn = logged_on(srv, "pytest-cli")
    try:
        sd = conn.getSecurity("data", name + "\\f.txt")
        info = conn.getAttributes("data", name + "\\f.txt")
    finally:
        conn.close()
    proc = ok(run(service(srv, "data", "--json", "-c", "allinfo %s\\f.txt; stat %s\\f.txt" % (name, name)),
                  home=home, password=srv.password))
    full, short = [json.loads(line) for line in proc.stdout.splitlines()]
    assert full["size"] == 5 and full["attributes"] == info.file_attributes
    assert full["security"]["owner"] == str(sd.owner) and full["security"]["group"] == str(sd.group)
    assert [(a["sid"], a["mask"]) for a in full["security"]["dacl"]] == [(str(a.sid), a.mask) for a in sd.dacl.aces]
    assert "security" not in short and short["size"] == 5
    text = ok(run(service(srv, "data", "-c", "allinfo %s\\f.txt" % name), home=home, password=srv.password)).stdout
    assert "owner: %s" % sd.owner in text and "security descriptor:" in text and "size: 5" in text


def test_snapshots_lists_the_previous_versions_and_get_reads_one(srv, dialect, home):
    proc = ok(run(service(srv, "snapshots", "-c", "snapshots"), home=home, password=srv.password))
    tokens = proc.stdout.split()
    assert sorted(tokens) == sorted(srv.gmt_token(t) for t in srv.snapshot_times)
    older = srv.gmt_token(srv.snapshot_times[0])
    ok(run(service(srv, "snapshots", "-c", "get %s\\report.txt old.txt; get report.txt" % older), home=home,
           password=srv.password))
    with open(os.path.join(home, "old.txt"), "rb") as fh:
        assert fh.read() == srv.snapshot_text(0)
    with open(os.path.join(home, "report.txt"), "rb") as fh:
        assert fh.read() == srv.snapshot_text(None)


# ---------------------------------------------------------------- shares, status, errors


def test_list_shares_matches_smbclient(samba_factory, home):
    srv = server_for(samba_factory, "SMB3_11")
    text = ok(run(["-L", srv.host, "-p", str(srv.port), "-U", srv.user], home=home, password=srv.password)).stdout
    ours = {line.split()[0] for line in text.splitlines()[2:] if line.strip()}
    theirs_out = srv.smbclient(None, extra=["-g"]).stdout
    theirs = {line.split("|")[1] for line in theirs_out.splitlines() if line.count("|") >= 2}
    assert ours == theirs and {"data", "public", "readonly", "IPC$"} <= ours
    shares = json.loads(ok(run(["-L", srv.host, "-p", str(srv.port), "-U", srv.user, "--json"], home=home,
                               password=srv.password)).stdout)
    by_name = {s["name"]: s for s in shares}
    assert by_name["data"]["type"] == "Disk" and by_name["data"]["comment"] == "writable, user only"
    assert by_name["IPC$"]["type"] == "IPC" and by_name["IPC$"]["special"] is True


@pytest.mark.parametrize("dialect", ["NT1", "SMB3_11"])
def test_failures_exit_non_zero_with_one_line_naming_the_ntstatus(srv, dialect, home):
    cases = [
        (service(srv, "data", "-c", "get no-such-file.txt"), "get no-such-file.txt: NT_STATUS_OBJECT_NAME_NOT_FOUND"),
        (service(srv, "no-such-share", "-c", "ls"), "NT_STATUS_BAD_NETWORK_NAME"),
        # Samba says "write protected" for a read-only share over SMB1, "access denied" over SMB2.
        (service(srv, "readonly", "-c", "mkdir x"),
         "mkdir x: NT_STATUS_MEDIA_WRITE_PROTECTED" if dialect == "NT1" else "mkdir x: NT_STATUS_ACCESS_DENIED"),
        (service(srv, "data", "-c", "rm nothing-matches-*"), "NT_STATUS_NO_SUCH_FILE"),
    ]
    for args, expected in cases:
        line = failed_line(run(args, home=home, password=srv.password))
        assert expected in line, line
        assert not os.path.exists(os.path.join(home, "no-such-file.txt"))
    line = failed_line(run(service(srv, "data", "-c", "ls"), home=home, password="wrong password"))
    assert "NT_STATUS_LOGON_FAILURE" in line
    assert "wrong password" not in line


def test_commands_stop_at_the_first_failure(samba_factory, home, tmp_path):
    srv = server_for(samba_factory, "SMB3_11")
    name = "cli-" + uuid.uuid4().hex[:10]
    disk = os.path.join(srv.share_path("data"), name)
    try:
        proc = run(service(srv, "data", "-c", "mkdir %s; get missing.bin; mkdir %s\\after" % (name, name)),
                   home=home, password=srv.password)
        assert proc.returncode == 1
        assert os.path.isdir(disk) and not os.path.exists(os.path.join(disk, "after"))
    finally:
        shutil.rmtree(disk, ignore_errors=True)


def test_unreachable_server_and_usage_errors(home):
    line = failed_line(run(["//127.0.0.1/data", "-p", "1", "-U", "u", "-c", "ls"], home=home, password="x"))
    assert line.startswith("smbwire: connect to \\\\127.0.0.1\\data: ")
    proc = run(["//127.0.0.1/data", "extra", "-U", "u"], home=home, password="x")
    assert proc.returncode == 2 and "commands go in -c" in proc.stderr
    proc = run(["//127.0.0.1/data", "-m", "NT1", "-e", "-U", "u", "-c", "ls", "-p", "1"], home=home, password="x")
    assert proc.returncode == 1 and "needs SMB3" in proc.stderr


def test_encryption_option(samba_factory, home):
    # The server offers encryption but does not ask for it: -e is what turns it on.
    srv3 = samba_factory(min_protocol="SMB3_11", max_protocol="SMB3_11",
                         extra_global={"server smb encrypt": "if_required"})
    data = os.urandom(100_000)
    _write(os.path.join(home, "e.bin"), data)
    name = "cli-" + uuid.uuid4().hex[:10] + ".bin"
    try:
        ok(run(service(srv3, "data", "-e", "-c", "put e.bin %s; get %s back.bin" % (name, name)), home=home,
               password=srv3.password))
        assert _sha(os.path.join(home, "back.bin")) == hashlib.sha256(data).hexdigest()
    finally:
        if os.path.exists(os.path.join(srv3.share_path("data"), name)):
            os.unlink(os.path.join(srv3.share_path("data"), name))
    # Below SMB 3.0 encryption cannot be had: asked for with -e, the logon fails.
    srv2 = server_for(samba_factory, "SMB2_02")
    proc = run(service(srv2, "data", "-e", "-c", "ls"), home=home, password=srv2.password)
    assert proc.returncode == 1 and failed_line(proc).startswith("smbwire: connect to")


def test_netbios_session_service(samba_factory, home):
    srv = server_for(samba_factory, "NT1")
    proc = ok(run(["//%s/readonly" % srv.host, "--netbios", "-p", str(srv.netbios_port), "-U", srv.user, "-c",
                   "get hello.txt"], home=home, password=srv.password))
    assert "getting file \\hello.txt" in proc.stdout
    with open(os.path.join(home, "hello.txt"), "rb") as fh:
        assert fh.read().startswith(b"Hello")


def test_url_form(samba_factory, home):
    srv = server_for(samba_factory, "SMB3_11")
    base = "smb://%s@%s:%d" % (srv.user, srv.host, srv.port)
    ok(run(["get", base + "/readonly/hello.txt", "h.txt"], home=home, password=srv.password))
    with open(os.path.join(home, "h.txt"), "rb") as fh:
        assert fh.read().startswith(b"Hello")
    ok(run(["get", base + "/readonly/hello.txt"], home=home, password=srv.password))
    assert os.path.exists(os.path.join(home, "hello.txt"))
    name = "cli-" + uuid.uuid4().hex[:10] + ".txt"
    try:
        ok(run(["put", "h.txt", base + "/data/" + name], home=home, password=srv.password))
        with open(os.path.join(srv.share_path("data"), name), "rb") as fh:
            assert fh.read().startswith(b"Hello")
        listing = json.loads(ok(run(["ls", base + "/data/" + name, "--json"], home=home,
                                    password=srv.password)).stdout)
        assert [e["name"] for e in listing] == [name]
    finally:
        os.unlink(os.path.join(srv.share_path("data"), name))
    # The URL as the service, with a folder to start in.
    proc = ok(run([base + "/snapshots/", "-c", "ls report.txt"], home=home, password=srv.password))
    assert "report.txt" in proc.stdout
    line = failed_line(run(["get", base + "/readonly/missing.txt"], home=home, password=srv.password))
    assert "NT_STATUS_OBJECT_NAME_NOT_FOUND" in line


def test_netbios_lookup_and_node_status(samba, home):
    if not samba.nmbd_running:
        pytest.skip("the samba fixture could not run nmbd on this host (needs 127.0.0.2)")
    port = ["--nbns-port", str(samba.nmb_port)]
    proc = ok(run(["lookup", samba.netbios_name.lower(), samba.nmb_ip, *port], home=home))
    assert proc.stdout.split() == [samba.nmb_ip, samba.netbios_name + "<20>"]
    status = json.loads(ok(run(["status", samba.nmb_ip, "--json", *port], home=home)).stdout)
    names = {(n["name"], n["suffix"], n["group"]) for n in status["names"]}
    assert (samba.netbios_name, 0x20, False) in names and (samba.workgroup, 0x00, True) in names
    assert status["workgroup"] == samba.workgroup
    text = ok(run(["status", samba.nmb_ip, *port], home=home)).stdout
    assert re.search(r"%s\s+<20>" % samba.netbios_name, text)
    # Inside a session too.
    proc = ok(run(service(samba, "readonly", *port, "-c", "lookup %s %s" % (samba.netbios_name, samba.nmb_ip)),
                  home=home, password=samba.password))
    assert samba.nmb_ip in proc.stdout
    # An unknown name: one error line, status 1.
    line = failed_line(run(["lookup", "NOSUCHNAME" + uuid.uuid4().hex[:4], samba.nmb_ip, "-t", "3", *port],
                           home=home))
    assert "no answer" in line


# ---------------------------------------------------------------- passwords


def _assert_secret_absent(secret: str, *texts: Any) -> None:
    for text in texts:
        blob = text if isinstance(text, bytes) else str(text).encode()
        assert secret.encode() not in blob


def test_password_from_env_file_and_argv_never_in_output_or_logs(samba_factory, home, tmp_path):
    srv = server_for(samba_factory, "SMB3_11")
    auth = tmp_path / "auth"
    auth.write_text("username = %s\npassword = %s\n" % (srv.user, srv.password))
    variants = [
        (["//%s/readonly" % srv.host, "-p", str(srv.port), "-U", srv.user], srv.password),
        (["//%s/readonly" % srv.host, "-p", str(srv.port), "-A", str(auth)], None),
        (["//%s/readonly" % srv.host, "-p", str(srv.port), "-U", "%s%%%s" % (srv.user, srv.password)], None),
    ]
    for args, env_password in variants:
        proc = ok(run([*args, "-d", "3", "-c", "get hello.txt; allinfo hello.txt"], home=home,
                      password=env_password))
        assert "SMB.SMBConnection" in proc.stderr  # the debug log was on
        _assert_secret_absent(srv.password, proc.stdout, proc.stderr)


def _session_cmdline(args: Sequence[str], env: Dict[str, str], home: str, typed: Optional[str] = None,
                     prompt: str = "smb: \\> ") -> Tuple[bytes, Pty]:
    session = Pty(args, env, home)
    try:
        if typed is not None:
            session.expect("Password for [")
            session.send(typed + "\r")
        session.expect(prompt)
        cmdline = session.cmdline()
        session.send("exit\r")
    finally:
        assert session.finish() == 0, session.text
    return cmdline, session


def test_password_not_in_the_process_command_line(samba_factory, home, tmp_path):
    srv = server_for(samba_factory, "SMB3_11")
    base = ["//%s/readonly" % srv.host, "-p", str(srv.port)]
    auth = tmp_path / "auth"
    auth.write_text("username = %s\npassword = %s\n" % (srv.user, srv.password))
    # From the environment, from -A, and typed at the prompt (never echoed).
    for args, env, typed in [
        ([*base, "-U", srv.user], _env(home, srv.password), None),
        ([*base, "-A", str(auth)], _env(home), None),
        ([*base, "-U", srv.user], _env(home), srv.password),
    ]:
        cmdline, session = _session_cmdline(args, env, home, typed)
        _assert_secret_absent(srv.password, cmdline, session.output)
        assert b"readonly" in cmdline  # it is the client's command line that was read
    # Given on the command line with -U user%pass: overwritten once the client runs.
    cmdline, session = _session_cmdline([*base, "-U", "%s%%%s" % (srv.user, srv.password)], _env(home), home)
    _assert_secret_absent(srv.password, cmdline, session.output)
    assert ("%s%%%s" % (srv.user, "X" * len(srv.password))).encode() in cmdline


def test_a_wrong_typed_password_fails_with_logon_failure(samba_factory, home):
    srv = server_for(samba_factory, "SMB3_11")
    session = Pty(["//%s/readonly" % srv.host, "-p", str(srv.port), "-U", srv.user], _env(home), home)
    try:
        session.expect("Password for [%s]: " % srv.user)
        session.send("not-the-password\r")
        session.expect("NT_STATUS_LOGON_FAILURE")
    finally:
        rc = session.finish()
    assert rc == 1 and "not-the-password" not in session.text


# ---------------------------------------------------------------- the interactive mode


def test_interactive_session_with_completion_and_history(samba_factory, home):
    srv = server_for(samba_factory, "SMB3_11")
    name = "cli-" + uuid.uuid4().hex[:10]
    disk = os.path.join(srv.share_path("data"), name)
    _make_tree(disk, {"Report-2024.txt": b"the report", "subfolder/x.txt": b"x"})
    history = os.path.join(home, "hist")
    env = dict(_env(home, srv.password), SMBWIRE_HISTFILE=history)
    session = Pty(service(srv, "data"), env, home)
    try:
        session.expect('Try "help"')
        session.expect_prompt()
        session.send("cd %s\r" % name)
        prompt = "smb: \\%s\\> " % name
        session.expect(prompt)
        session.send("get Rep\t\r")           # completes the remote name
        session.expect("getting file \\%s\\Report-2024.txt" % name)
        session.expect(prompt)
        session.send("cd sub\t\r")            # a folder completes with its separator
        session.expect("smb: \\%s\\subfolder\\> " % name)
        session.send("bogus\r")               # an error does not end the session
        session.expect("unknown command")
        session.send("pwd\r")
        session.expect("Current directory is \\\\%s\\data\\%s\\subfolder\\" % (srv.host, name))
        # ^D is end of input only once readline reads the terminal again (at the prompt).
        session.expect("smb: \\%s\\subfolder\\> " % name)
        session.send("\x04")                  # end of input
    finally:
        rc = session.finish()
        shutil.rmtree(disk, ignore_errors=True)
    assert rc == 0, session.text
    with open(os.path.join(home, "Report-2024.txt"), "rb") as fh:
        assert fh.read() == b"the report"
    with open(history, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    assert "get Report-2024.txt" in lines and "cd subfolder\\" in lines
    assert os.stat(history).st_mode & 0o077 == 0


def test_commands_from_a_pipe(samba_factory, home):
    srv = server_for(samba_factory, "SMB2_02")
    proc = subprocess.run([sys.executable, "-m", "smb", *service(srv, "readonly")], input="ls\nget hello.txt\n",
                          capture_output=True, text=True, cwd=home, env=_env(home, srv.password), timeout=120)
    ok(proc)
    assert "hello.txt" in proc.stdout and os.path.exists(os.path.join(home, "hello.txt"))
    assert "smb: \\>" not in proc.stdout  # no prompt when the input is not a terminal


# ---------------------------------------------------------------- hostile names (fake server)


HOSTILE = ["..", "../escape", "/etc/passwd", "C:evil", "CON", "nul.txt", "a\\..\\..\\x", "line\nbreak",
           "\x1b[2J", "evil.", "stream:$DATA"]


@pytest.fixture
def fake():
    servers: List[FakeSmbServer] = []

    def make(files: Dict[str, bytes], script: Optional[Dict[int, Any]] = None) -> FakeSmbServer:
        server = FakeSmbServer(files=files, script=script).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
    for server in servers:
        assert server.errors == []


def _fake_service(server: FakeSmbServer, *extra: str) -> List[str]:
    return ["//127.0.0.1/share", "-p", str(server.port), "-U", "user", *extra]


def _state(top: str) -> List[str]:
    return sorted(os.path.relpath(os.path.join(d, n), top) for d, ds, fs in os.walk(top) for n in ds + fs)


@pytest.mark.parametrize("hostile", HOSTILE, ids=[repr(n) for n in HOSTILE])
def test_mget_refuses_hostile_names_and_writes_nothing(fake, tmp_path, hostile):
    server = fake({"ok.txt": b"fine", hostile: b"evil"})
    home = tmp_path / "home"
    work = home / "work"
    work.mkdir(parents=True)
    before = _state(str(tmp_path))
    for command in ("mget *", "recurse on; mget *"):
        proc = run(_fake_service(server, "-c", command), home=str(home), cwd=str(work), password="secret")
        line = failed_line(proc)
        assert "NT_STATUS_OBJECT_NAME_INVALID" in line and "refusing the name" in line
        assert "\x1b" not in line and "\n" not in line
    assert _state(str(tmp_path)) == before
    assert sum(1 for c in server.conns for r in c.requests if r.command == READ) == 0


def test_mget_with_fine_names_from_the_fake_server(fake, tmp_path):
    server = fake({"ok.txt": b"fine", "two.bin": b"\x00\x01"})
    ok(run(_fake_service(server, "-c", "mget *"), home=str(tmp_path), password="secret"))
    assert sorted(os.listdir(tmp_path)) == ["ok.txt", "two.bin"]


def test_mget_never_writes_through_a_local_symbolic_link(srv, dialect, home, remote, tmp_path):
    name, disk = remote()
    _make_tree(disk, {"sub/payload.txt": b"payload"})
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(str(outside), os.path.join(home, "sub"))
    line = failed_line(run(service(srv, "data", "-c", "cd %s; recurse on; mget *" % name), home=home,
                           password=srv.password))
    assert "NT_STATUS_ACCESS_DENIED" in line and "symbolic link" in line
    assert os.listdir(str(outside)) == []


def test_an_endless_remote_tree_is_refused(fake, tmp_path, monkeypatch):
    from tests.fakeserver import chain_entries, directory_entry, query_directory_body

    def listing(conn: Any, req: Any) -> Any:
        # Every folder holds '.', '..' and a folder 'deeper': a tree without a bottom.
        seen = conn.__dict__.setdefault("answered", set())
        file_id = req.body[8:24]
        if file_id == b"\xff" * 16:
            file_id = conn.last_file_id
        if file_id in seen:
            return [conn.error(req, 0x80000006)]
        seen.add(file_id)
        body = chain_entries([directory_entry(n, attributes=0x10, file_id=i + 10)
                              for i, n in enumerate([".", "..", "deeper"])])
        return [conn.respond(req, query_directory_body(body))]

    server = fake({}, {QUERY_DIRECTORY: listing})
    proc = run(_fake_service(server, "-c", "recurse on; mget *"), home=str(tmp_path), password="secret",
               timeout=600)
    line = failed_line(proc)
    assert "folders deep" in line and "NT_STATUS_OBJECT_NAME_INVALID" in line
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- Kerberos


def test_kerberos_logon_with_a_ccache(addc, home, tmp_path):
    ccache = addc.kinit("alice", addc.users["alice"], str(tmp_path / "cc"))
    env = dict(_env(home), **{k: v for k, v in addc.env(ccache).items() if k.startswith(("KRB5", "LD_", "NSS_"))})
    proc = subprocess.run([sys.executable, "-m", "smb", "//%s/data" % addc.hostname, "-I", addc.host, "-p",
                           str(addc.smb_port), "-k", "-U", "alice", "-W", addc.realm, "-d", "1", "-c", "ls"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, cwd=home, timeout=120)
    ok(proc)
    assert "  ." in proc.stdout
    assert "Password" not in proc.stderr  # -k takes the ticket cache, no prompt
