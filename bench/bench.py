"""smbwire against Samba's ``smbclient`` (and optionally pysmb / smbprotocol), side by side.

Run from the repository root (as root: the throwaway smbd switches to its test user)::

    python3 -m bench.bench                      # everything, 3 runs, about 10-15 minutes
    python3 -m bench.bench --quick              # a small smoke run
    python3 -m bench.bench --configs plain,signed --only retrieve,store --runs 5
    python3 -m bench.bench --peer-venv /tmp/peers --rst > table.rst

Each configuration gets a Samba of its own (:class:`tests.samba_server.SambaServer`). Our
client runs in this process; ``smbclient`` runs as a child process per measurement; peer
libraries run in a side venv's python (``--peer-venv``), one process per measurement, timed
inside that process. Clients are interleaved (ours, smbclient, peers, ours, smbclient, ...)
so that drift hits all of them, and the median of ``--runs`` runs is reported, with the
ratio of each client to ``smbclient``. See ``bench/README.rst``.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as _dt
import functools
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from smb import aio  # noqa: E402  (after the sys.path fix above)
from smb.SMBConnection import SMBConnection  # noqa: E402
from tests.samba_server import SambaServer, SambaStartError, find_smbd  # noqa: E402

__all__ = ["CONFIGS", "WORKLOADS", "Config", "Sizes", "Sample", "main"]

MiB = 1024 * 1024
GiB = 1024 * MiB
SHARE = "data"
CLIENT_ORDER = ("ours", "smbclient", "pysmb", "smbprotocol")

#: Workload name -> (unit of the rate, what one item is, for the CPU column)
WORKLOADS: Dict[str, Tuple[str, str]] = {
    "retrieve": ("MB/s", "GiB"),
    "store": ("MB/s", "GiB"),
    "list": ("entries/s", "entry"),
    "connect": ("cycles/s", "cycle"),
    "small-store": ("files/s", "file"),
    "small-retrieve": ("files/s", "file"),
    "par-retrieve": ("MB/s", "GiB"),
    "threads-small": ("files/s", "file"),
    "asyncio-small": ("files/s", "file"),
}
#: Clients of the workloads that compare ways of using our connection (peers are not run there).
_OURS_VARIANTS: Dict[str, Tuple[str, ...]] = {
    "par-retrieve": ("ours", "ours-8conn", "ours-serial"),
    "threads-small": ("ours",),
    # One connection each: 64 asyncio tasks at once, the same files awaited one after the
    # other, and the blocking driver with 16 threads.
    "asyncio-small": ("ours-asyncio64", "ours-asyncio-serial", "ours-16threads"),
}
PAR_FILES = 8
SMALL_THREADS = 16
ASYNC_TASKS = 64
_ALIASES: Dict[str, Tuple[str, ...]] = {"small": ("small-store", "small-retrieve"), "transfer": ("retrieve", "store")}


@dataclass(frozen=True)
class Sizes:
    """How much work one measurement does."""

    big: int = 256 * MiB          # retrieve / store
    entries: int = 5000           # files in the listed folder
    cycles: int = 100             # connect + logon + tree + close
    small_files: int = 1000       # small files stored, then retrieved
    small_size: int = 4096
    par_size: int = 32 * MiB      # each of the 8 files retrieved at once


FULL = Sizes()
LARGE = Sizes(big=1 * GiB)
QUICK = Sizes(big=4 * MiB, entries=100, cycles=3, small_files=10, par_size=1 * MiB)


@dataclass(frozen=True)
class Config:
    """One server configuration and how every client must talk to it."""

    name: str
    title: str
    server: Dict[str, Any] = field(default_factory=dict)
    smbclient_args: Tuple[str, ...] = ()
    direct_tcp: bool = True
    sign: bool = False
    encrypt: bool = False
    rtt_ms: float = 0.0
    #: Latency-bound workloads (connect cycles, small files) are scaled by this factor so
    #: that a delayed configuration does not dominate the run time.
    latency_scale: float = 1.0


CONFIGS: Dict[str, Config] = {c.name: c for c in (
    Config("plain", "SMB 3.1.1, direct TCP, no signing, no encryption"),
    Config("signed", "SMB 3.1.1, direct TCP, server signing = mandatory",
           server={"signing": "mandatory"}, smbclient_args=("--client-protection=sign",), sign=True),
    Config("aes128", "SMB 3.1.1, direct TCP, encryption required, AES-128-GCM",
           server={"encrypt": "required",
                   "extra_global": {"server smb3 encryption algorithms": "AES-128-GCM"}},
           smbclient_args=("--client-protection=encrypt",), encrypt=True),
    Config("aes256", "SMB 3.1.1, direct TCP, encryption required, AES-256-GCM",
           server={"encrypt": "required",
                   "extra_global": {"server smb3 encryption algorithms": "AES-256-GCM"}},
           smbclient_args=("--client-protection=encrypt",), encrypt=True),
    Config("netbios", "SMB 3.1.1, NetBIOS session service framing for ours and pysmb "
           "(smbclient: direct TCP, it speaks NetBIOS framing on port 139 only)",
           direct_tcp=False),
    Config("nt1", "SMB1 (NT LM 0.12), direct TCP",
           server={"min_protocol": "NT1", "max_protocol": "NT1"},
           smbclient_args=("-m", "NT1", "--option=client min protocol=NT1")),
    Config("delay2", "SMB 3.1.1, direct TCP, through bench/delayproxy.py: round trip +2 ms",
           rtt_ms=2.0, latency_scale=0.2),
    Config("delay10", "SMB 3.1.1, direct TCP, through bench/delayproxy.py: round trip +10 ms",
           rtt_ms=10.0, latency_scale=0.05),
)}
QUICK_CONFIGS = ("plain", "aes128")


@dataclass
class Sample:
    """One measurement: wall seconds, client CPU seconds, peak RSS of the client process."""

    seconds: float
    cpu: float
    rss_kib: int
    error: Optional[str] = None


@dataclass
class Result:
    """All runs of one client on one workload in one configuration."""

    config: str
    workload: str
    client: str
    items: int                    # bytes, entries, cycles or files per run
    samples: List[Sample] = field(default_factory=list)

    @property
    def error(self) -> Optional[str]:
        for sample in self.samples:
            if sample.error:
                return sample.error
        return None

    def median(self, attr: str) -> float:
        return float(statistics.median(getattr(s, attr) for s in self.samples))

    def spread(self) -> float:
        """(slowest - fastest) / median time, in percent: how much the runs disagree."""
        times = [s.seconds for s in self.samples]
        median = statistics.median(times)
        return 100.0 * (max(times) - min(times)) / median if median > 0 else 0.0

    def rate(self) -> float:
        """Items (MB for transfers) per second, from the median time."""
        seconds = self.median("seconds")
        if seconds <= 0:
            return 0.0
        if WORKLOADS[self.workload][1] == "GiB":
            return self.items / 1e6 / seconds
        return self.items / seconds

    def cpu_per_item(self) -> float:
        """CPU seconds per GiB for transfers, CPU milliseconds per item otherwise."""
        cpu = self.median("cpu")
        if WORKLOADS[self.workload][1] == "GiB":
            return cpu / (self.items / GiB)
        return 1000.0 * cpu / max(1, self.items)


# ---------------------------------------------------------------------------- utilities

def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _reset_peak_rss() -> None:
    """Reset this process's VmHWM (Linux: ``clear_refs`` value 5), so a peak is per operation."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _vm_hwm_kib(pid: Any = "self") -> int:
    """The peak resident set size (VmHWM) of a process, 0 when it cannot be read."""
    try:
        with open("/proc/%s/status" % pid) as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _peak_rss_kib() -> int:
    return _vm_hwm_kib() or int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class _Sink:
    """A write-only file object that drops the data (our side of ``get x /dev/null``)."""

    def write(self, data: Any) -> int:
        return len(data)


class _CountSink:
    """Drops the data and counts it."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: Any) -> int:
        self.size += len(data)
        return len(data)


class _HashSink:
    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: Any) -> int:
        self.hash.update(data)
        self.size += len(data)
        return len(data)


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(4 * MiB)
            if not chunk:
                return digest.hexdigest()
            digest.update(chunk)


def _measure_here(fn: Callable[[], None]) -> Sample:
    """Time ``fn`` in this process: wall clock, user+system CPU, peak RSS."""
    gc.collect()
    _reset_peak_rss()
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    try:
        fn()
        error = None
    except Exception as err:  # a failed measurement is reported, the benchmark goes on
        error = "%s: %s" % (type(err).__name__, err)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(seconds, cpu, _peak_rss_kib(), error)


def _run_child(argv: Sequence[str], cwd: Optional[str] = None,
               timeout: float = 3600.0) -> Tuple[Sample, str]:
    """Run one child to completion; its own rusage comes from ``wait4``. Returns its output too."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=cwd)
        deadline = time.monotonic() + timeout
        peak = 0
        interval = 0.001
        while True:
            # ru_maxrss from wait4 is useless here: a child started by vfork/exec inherits its
            # parent's high-water mark. VmHWM belongs to the child's own address space, and it
            # only grows, so the last reading before exit is the peak (or very close to it).
            peak = max(peak, _vm_hwm_kib(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(interval)
            interval = min(0.01, interval * 1.05)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    error = None
    if proc.returncode != 0:
        error = "exit status %d: %s" % (proc.returncode, _last_line(text))
    return Sample(seconds, usage.ru_utime + usage.ru_stime, peak, error), text


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "(no output)"


def _in_threads(jobs: Sequence[Callable[[], None]]) -> None:
    """Run the jobs in threads started together; the first error is raised."""
    errors: List[BaseException] = []
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], None]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


# ---------------------------------------------------------------------------- one configuration

class Bench:
    """Files shared by every configuration: the big source file and the small files."""

    def __init__(self, sizes: Sizes, workdir: str) -> None:
        self.sizes = sizes
        self.workdir = workdir
        self.big_path = os.path.join(workdir, "big.bin")
        self.small_dir = os.path.join(workdir, "small")
        self.small_out = os.path.join(workdir, "small-out")
        self.small_names = ["f%05d.bin" % i for i in range(sizes.small_files)]
        self.big_sha = ""

    def prepare(self) -> None:
        digest = hashlib.sha256()
        with open(self.big_path, "wb") as fh:
            left = self.sizes.big
            while left > 0:
                chunk = os.urandom(min(4 * MiB, left))
                digest.update(chunk)
                fh.write(chunk)
                left -= len(chunk)
        self.big_sha = digest.hexdigest()
        os.chmod(self.big_path, 0o644)
        for path in (self.small_dir, self.small_out):
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o755)
        for name in self.small_names:
            with open(os.path.join(self.small_dir, name), "wb") as fh:
                fh.write(os.urandom(self.sizes.small_size))
        os.chmod(self.workdir, 0o755)  # mkdtemp makes it 0700


class ConfigRun:
    """One configuration: its server, the server-side files, the endpoint every client uses."""

    def __init__(self, config: Config, bench: Bench, options: argparse.Namespace) -> None:
        self.config = config
        self.bench = bench
        self.options = options
        self.server: Optional[SambaServer] = None
        self.proxy: Optional[subprocess.Popen] = None
        self.port = 0
        self.notes: List[str] = []
        self.ours_error: Optional[str] = None
        scale = config.latency_scale
        self.cycles = max(1, int(bench.sizes.cycles * scale))
        self.small_names = bench.small_names[:max(1, int(len(bench.small_names) * scale))]
        # The local source folder of this configuration holds exactly the files every client
        # stores (smbclient's ``mput`` takes the whole folder).
        self.small_local = os.path.join(bench.workdir, "small-" + config.name)

    # -- lifecycle
    def start(self) -> None:
        self.server = SambaServer(**self.config.server).start()
        self._prepare_share()
        target = self.server.port if self.config.direct_tcp else self.server.netbios_port
        if self.config.rtt_ms:
            self.port = self._start_proxy(target)
        else:
            self.port = target

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.terminate()
            try:
                self.proxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proxy.kill()
                self.proxy.wait()
            self.proxy = None
        if self.server is not None:
            self.server.stop()
            self.server = None

    def _start_proxy(self, target: int) -> int:
        assert self.server is not None
        self.proxy = subprocess.Popen(
            [sys.executable, "-m", "bench.delayproxy", "--target", "%s:%d" % (self.server.host, target),
             "--rtt-ms", str(self.config.rtt_ms)],
            cwd=_REPO, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        assert self.proxy.stdout is not None
        line = self.proxy.stdout.readline().split()
        if len(line) != 2 or line[0] != "LISTENING":
            raise RuntimeError("delayproxy did not start: %r" % (line,))
        return int(line[1])

    def _share(self, *parts: str) -> str:
        assert self.server is not None
        return os.path.join(self.server.share_path(SHARE), *parts)

    def _prepare_share(self) -> None:
        big = self._share("big.bin")
        try:
            os.link(self.bench.big_path, big)
        except OSError:
            shutil.copyfile(self.bench.big_path, big)
        os.chmod(big, 0o644)
        with open(self.bench.big_path, "rb") as whole, open(self._share("par-0.bin"), "wb") as part:
            part.write(whole.read(self.bench.sizes.par_size))
        os.chmod(self._share("par-0.bin"), 0o644)
        for i in range(1, PAR_FILES):
            os.link(self._share("par-0.bin"), self._share("par-%d.bin" % i))
        many = self._share("many")
        os.makedirs(many)
        for i in range(self.bench.sizes.entries):
            open(os.path.join(many, "entry-%05d.txt" % i), "wb").close()
        os.chmod(many, 0o755)
        src = self._share("small-src")
        os.makedirs(src)
        os.makedirs(self.small_local, exist_ok=True)
        for name in self.small_names:
            shutil.copyfile(os.path.join(self.bench.small_dir, name), os.path.join(src, name))
            local = os.path.join(self.small_local, name)
            if not os.path.exists(local):
                os.link(os.path.join(self.bench.small_dir, name), local)
        os.chmod(src, 0o755)
        for client in CLIENT_ORDER:
            target = self._share("small-" + client)
            os.makedirs(target)
            os.chmod(target, 0o777)

    # -- our client
    def ours_connect(self) -> SMBConnection:
        assert self.server is not None
        conn = SMBConnection(self.server.user, self.server.password, "smbwire-bench",
                             self.server.netbios_name, is_direct_tcp=self.config.direct_tcp,
                             encrypt=self.config.encrypt)
        if not conn.connect(self.server.host, self.port, timeout=60):
            raise RuntimeError("logon refused")
        return conn

    def ours_op(self, workload: str) -> Callable[[], None]:
        if workload == "retrieve":
            def run() -> None:
                with self.ours_connect() as conn:
                    conn.retrieveFile(SHARE, "big.bin", _Sink(), timeout=3600)
        elif workload == "store":
            def run() -> None:
                with self.ours_connect() as conn, open(self.bench.big_path, "rb") as fh:
                    conn.storeFile(SHARE, "up-ours.bin", fh, timeout=3600)
        elif workload == "list":
            def run() -> None:
                with self.ours_connect() as conn:
                    entries = conn.listPath(SHARE, "many", timeout=600)
                if len(entries) != self.bench.sizes.entries + 2:
                    raise RuntimeError("listed %d entries" % len(entries))
        elif workload == "connect":
            def run() -> None:
                for _ in range(self.cycles):
                    with self.ours_connect() as conn:
                        conn.getAttributes(SHARE, "/")
        elif workload == "small-store":
            def run() -> None:
                with self.ours_connect() as conn:
                    for name in self.small_names:
                        with open(os.path.join(self.small_local, name), "rb") as fh:
                            conn.storeFile(SHARE, "small-ours/" + name, fh)
        elif workload == "small-retrieve":
            def run() -> None:
                with self.ours_connect() as conn:
                    for name in self.small_names:
                        conn.retrieveFile(SHARE, "small-src/" + name, io.BytesIO())
        else:
            raise ValueError(workload)
        return run

    def ours_variant_op(self, workload: str, client: str) -> Callable[[], None]:
        """The workloads run by several threads (``ours``: one connection shared by all)."""
        want = self.bench.sizes.par_size

        def retrieve_par(conn: SMBConnection, i: int) -> None:
            sink = _CountSink()
            conn.retrieveFile(SHARE, "par-%d.bin" % i, sink, timeout=3600)
            if sink.size != want:
                raise RuntimeError("par-%d.bin: %d bytes, not %d" % (i, sink.size, want))

        if workload == "par-retrieve" and client == "ours-serial":
            def run() -> None:
                with self.ours_connect() as conn:
                    for i in range(PAR_FILES):
                        retrieve_par(conn, i)
            return run
        if workload == "par-retrieve" and client == "ours-8conn":
            def run() -> None:
                conns = [self.ours_connect() for _ in range(PAR_FILES)]
                try:
                    _in_threads([functools.partial(retrieve_par, conns[i], i) for i in range(PAR_FILES)])
                finally:
                    for conn in conns:
                        conn.close()
            return run
        if workload == "par-retrieve":
            def run() -> None:
                with self.ours_connect() as conn:
                    _in_threads([functools.partial(retrieve_par, conn, i) for i in range(PAR_FILES)])
            return run
        if workload == "asyncio-small" and client.startswith("ours-asyncio"):
            concurrent = client == "ours-asyncio64"

            def run() -> None:
                asyncio.run(self._asyncio_small(concurrent))
            return run
        if workload in ("threads-small", "asyncio-small"):
            def run() -> None:
                names = self.small_names
                with self.ours_connect() as conn:
                    def reader(k: int) -> None:
                        for name in names[k::SMALL_THREADS]:
                            conn.retrieveFile(SHARE, "small-src/" + name, io.BytesIO())
                    _in_threads([functools.partial(reader, k) for k in range(SMALL_THREADS)])
            return run
        raise ValueError(workload)

    async def _asyncio_small(self, concurrent: bool) -> None:
        """The small files retrieved over one asyncio connection: ASYNC_TASKS tasks at
        once (each taking every ASYNC_TASKS-th file), or one after the other."""
        assert self.server is not None
        names = self.small_names
        conn = aio.SMBConnection(self.server.user, self.server.password, "smbwire-bench", self.server.netbios_name,
                                 is_direct_tcp=self.config.direct_tcp, encrypt=self.config.encrypt)
        if not await conn.connect(self.server.host, self.port, timeout=60):
            raise RuntimeError("logon refused")
        async with conn:
            async def reader(k: int, step: int) -> None:
                for name in names[k::step]:
                    await conn.retrieveFile(SHARE, "small-src/" + name, io.BytesIO())

            if concurrent:
                await asyncio.gather(*(reader(k, ASYNC_TASKS) for k in range(ASYNC_TASKS)))
            else:
                await reader(0, 1)

    def verify_ours(self) -> None:
        """Untimed: our client reads and writes correct bytes in this configuration."""
        with self.ours_connect() as conn:
            self.notes.append("ours negotiated %s" % _describe(conn))
            sink = _HashSink()
            conn.retrieveFile(SHARE, "big.bin", sink, timeout=3600)
            if sink.size != self.bench.sizes.big or sink.hash.hexdigest() != self.bench.big_sha:
                raise RuntimeError("retrieved data differs from the source (sha256)")
            with open(self.bench.big_path, "rb") as fh:
                conn.storeFile(SHARE, "verify.bin", fh, timeout=3600)
            if _sha256_file(self._share("verify.bin")) != self.bench.big_sha:
                raise RuntimeError("stored data differs from the source (sha256)")
            os.unlink(self._share("verify.bin"))
            entries = conn.listPath(SHARE, "many", timeout=600)
            if len(entries) != self.bench.sizes.entries + 2:
                raise RuntimeError("listPath returned %d entries, expected %d"
                                   % (len(entries), self.bench.sizes.entries + 2))
            name = self.small_names[0]
            out = io.BytesIO()
            conn.retrieveFile(SHARE, "small-src/" + name, out)
            with open(os.path.join(self.bench.small_dir, name), "rb") as fh:
                if out.getvalue() != fh.read():
                    raise RuntimeError("small file differs")

    def verify_ours_store(self) -> None:
        """Untimed, after the timed stores: the last stored copy is byte-identical."""
        path = self._share("up-ours.bin")
        if os.path.exists(path) and _sha256_file(path) != self.bench.big_sha:
            raise RuntimeError("up-ours.bin differs from the source (sha256)")
        for name in self.small_names[:3]:
            stored = self._share("small-ours", name)
            if os.path.exists(stored):
                with open(stored, "rb") as a, open(os.path.join(self.bench.small_dir, name), "rb") as b:
                    if a.read() != b.read():
                        raise RuntimeError("small-ours/%s differs" % name)

    # -- smbclient
    def check_smbclient(self, workloads: Sequence[str]) -> List[str]:
        """Untimed: smbclient moved what it was asked to move (else its figures mean nothing)."""
        problems = []
        if "store" in workloads:
            path = self._share("up-smbclient.bin")
            size = os.path.getsize(path) if os.path.exists(path) else -1
            if size != self.bench.sizes.big:
                problems.append("smbclient's stored file has %d bytes, not %d" % (size, self.bench.sizes.big))
        if "small-store" in workloads:
            stored = len(os.listdir(self._share("small-smbclient")))
            if stored != len(self.small_names):
                problems.append("smbclient stored %d small files, not %d" % (stored, len(self.small_names)))
        return problems

    def smbclient_argv(self, commands: str) -> List[str]:
        assert self.server is not None
        return ["smbclient", "-s", "/dev/null", "//%s/%s" % (self.server.host, SHARE),
                "-p", str(self.port if self.config.direct_tcp else self.server.port),
                "-U", "%s%%%s" % (self.server.user, self.server.password),
                *self.config.smbclient_args, "-c", commands]

    def smbclient_commands(self, workload: str) -> str:
        bench = self.bench
        if workload == "retrieve":
            return "get big.bin /dev/null"
        if workload == "store":
            return "put %s up-smbclient.bin" % bench.big_path
        if workload == "list":
            return "ls many\\*"
        if workload == "connect":
            return "exit"
        if workload == "small-store":
            return "prompt OFF; lcd %s; cd small-smbclient; mput f*" % self.small_local
        if workload in ("small-retrieve", "threads-small", "asyncio-small"):
            return "prompt OFF; lcd %s; cd small-src; mget f*" % bench.small_out
        if workload == "par-retrieve":  # one client session, the files one after the other
            return "; ".join("get par-%d.bin /dev/null" % i for i in range(PAR_FILES))
        raise ValueError(workload)

    def smbclient_measure(self, workload: str) -> Sample:
        argv = self.smbclient_argv(self.smbclient_commands(workload))
        if workload != "connect":
            sample, text = _run_child(argv)
            return _smbclient_checked(sample, text)
        total = Sample(0.0, 0.0, 0)
        for _ in range(self.cycles):
            sample, text = _run_child(argv)
            sample = _smbclient_checked(sample, text)
            total = Sample(total.seconds + sample.seconds, total.cpu + sample.cpu,
                           max(total.rss_kib, sample.rss_kib), total.error or sample.error)
        return total

    # -- peers
    def peer_measure(self, lib: str, workload: str) -> Sample:
        assert self.server is not None
        python = os.path.join(self.options.peer_venv, "bin", "python")
        names = self.small_names
        spec: Dict[str, Any] = {
            "lib": lib, "op": workload, "host": self.server.host, "port": self.port,
            "direct_tcp": self.config.direct_tcp, "user": self.server.user,
            "password": self.server.password, "server_name": self.server.netbios_name,
            "share": SHARE, "sign": self.config.sign, "encrypt": self.config.encrypt,
            "count": 0, "names": [], "local": "", "path": "",
        }
        if workload == "retrieve":
            spec["path"] = "big.bin"
        elif workload == "store":
            spec.update(path="up-%s.bin" % lib, local=self.bench.big_path)
        elif workload == "list":
            spec.update(path="many", count=self.bench.sizes.entries)
        elif workload == "connect":
            spec["count"] = self.cycles
        elif workload == "small-store":
            spec.update(path="small-" + lib, local=self.small_local, names=names)
        elif workload == "small-retrieve":
            spec.update(path="small-src", names=names)
        sample, text = _run_child([python, os.path.join(_REPO, "bench", "_peer.py"), json.dumps(spec)],
                                  cwd=self.bench.workdir)
        try:
            reported = json.loads(text.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return Sample(sample.seconds, sample.cpu, sample.rss_kib,
                          sample.error or "no result: %s" % _last_line(text))
        return Sample(float(reported["seconds"]), float(reported["cpu"]), int(reported["rss_kib"]),
                      reported["error"])


def _smbclient_checked(sample: Sample, text: str) -> Sample:
    if sample.error is None and "NT_STATUS_" in text:
        for line in text.splitlines():
            if "NT_STATUS_" in line:
                sample.error = line.strip()[:200]
                break
    return sample


def _describe(conn: SMBConnection) -> str:
    dialect = conn.dialect
    if dialect is None:
        return "nothing"
    if not getattr(dialect, "is_smb2", False):
        return "SMB1 (%s)" % getattr(dialect, "dialect", "NT LM 0.12")
    text = "SMB %x.%x.%x" % (dialect.dialect >> 8, (dialect.dialect >> 4) & 0xF, dialect.dialect & 0xF)
    session = getattr(dialect, "session", None)
    if session is not None and getattr(session, "encrypt_data", False):
        try:
            from smb.smb2_constants import Cipher
            text += ", encryption %s" % Cipher(dialect.cipher).name
        except (ImportError, ValueError):
            text += ", encryption cipher 0x%x" % dialect.cipher
    elif session is not None and getattr(session, "signing_required", False):
        try:
            from smb.smb2_constants import SigningAlgorithm
            text += ", signing %s" % SigningAlgorithm(dialect.signing_algorithm).name
        except (ImportError, ValueError):
            text += ", signing"
    return text


# ---------------------------------------------------------------------------- driver

#: Peer library -> (configurations it cannot run, why)
_PEER_LIMITS: Dict[str, Tuple[Tuple[str, ...], str]] = {
    "pysmb": (("aes128", "aes256"), "pysmb has no SMB3 encryption"),
    "smbprotocol": (("netbios", "nt1"), "smbprotocol speaks SMB2/3 over direct TCP only"),
}


def _clients(options: argparse.Namespace, config: Config) -> Tuple[List[str], List[str]]:
    """The clients to measure in ``config``, and notes on the ones left out."""
    clients = ["ours", "smbclient"]
    notes = []
    if options.peer_venv:
        for peer in ("pysmb", "smbprotocol"):
            excluded, why = _PEER_LIMITS[peer]
            if config.name in excluded:
                notes.append("%s not measured: %s" % (peer, why))
            else:
                clients.append(peer)
    if "pysmb" in clients and config.name != "nt1":
        notes.append("pysmb has no SMB3: it negotiates SMB 2.1")
    if "smbprotocol" in clients and not (config.sign or config.encrypt):
        notes.append("smbprotocol signs every message (Samba refuses its unsigned SMB 3.1.1 "
                     "tree connect), so its figures here include signing")
    return clients, notes


def run_config(config: Config, bench: Bench, options: argparse.Namespace,
               workloads: Sequence[str]) -> Tuple[List[Result], List[str]]:
    run = ConfigRun(config, bench, options)
    results: List[Result] = []
    try:
        _log("[%s] starting smbd: %s" % (config.name, config.title))
        try:
            run.start()
        except (SambaStartError, RuntimeError, OSError) as err:
            return [], ["%s: not run, the server did not start: %s" % (config.name, _last_line(str(err)))]
        try:
            run.verify_ours()
        except Exception as err:  # e.g. SMB1 before the SMB1 operations land
            run.ours_error = "%s: %s" % (type(err).__name__, err)
            run.notes.append("ours skipped: %s" % run.ours_error[:300])
        clients, client_notes = _clients(options, config)
        run.notes += client_notes
        clients = [c for c in clients if not (c == "ours" and run.ours_error)]
        for workload in workloads:
            items = {"retrieve": bench.sizes.big, "store": bench.sizes.big,
                     "par-retrieve": PAR_FILES * bench.sizes.par_size, "list": bench.sizes.entries, "connect": run.cycles}.get(workload, len(run.small_names))
            these = clients
            if workload in _OURS_VARIANTS:
                ours = list(_OURS_VARIANTS[workload]) if "ours" in clients else []
                these = ours + [c for c in clients if c == "smbclient"]
            by_client = {c: Result(config.name, workload, c, items) for c in these}
            for index in range(options.runs):
                for client in these:
                    if workload in _OURS_VARIANTS and client.startswith("ours"):
                        sample = _measure_here(run.ours_variant_op(workload, client))
                    elif client == "ours":
                        sample = _measure_here(run.ours_op(workload))
                    elif client == "smbclient":
                        sample = run.smbclient_measure(workload)
                    else:
                        sample = run.peer_measure(client, workload)
                    by_client[client].samples.append(sample)
                    _log("[%s] %-14s run %d/%d %-11s %8.3f s  cpu %7.3f s  rss %6.1f MiB%s"
                         % (config.name, workload, index + 1, options.runs, client, sample.seconds,
                            sample.cpu, sample.rss_kib / 1024.0,
                            "  ERROR " + sample.error if sample.error else ""))
            results += by_client.values()
        if "smbclient" in clients:
            run.notes += run.check_smbclient(workloads)
        if not run.ours_error:
            run.verify_ours_store()
            if options.profile:
                _profile(run, options.profile, workloads)
        notes = ["%s: %s" % (config.name, note) for note in run.notes]
        if config.latency_scale != 1.0 and any(w in workloads for w in ("connect", "small-store",
                                                                         "small-retrieve")):
            notes.append("%s: %d connect cycles and %d small files per run (scaled for the delay)"
                         % (config.name, run.cycles, len(run.small_names)))
        return results, notes
    finally:
        run.stop()


def _profile(run: ConfigRun, directory: str, workloads: Sequence[str]) -> None:
    """cProfile our retrieve and store once; writes ``<config>-<workload>.prof`` and a text summary."""
    os.makedirs(directory, exist_ok=True)
    for workload in ("retrieve", "store"):
        if workload not in workloads:
            continue
        profiler = cProfile.Profile()
        op = run.ours_op(workload)
        profiler.enable()
        op()
        profiler.disable()
        base = os.path.join(directory, "%s-%s" % (run.config.name, workload))
        profiler.dump_stats(base + ".prof")
        with open(base + ".txt", "w") as fh:
            stats = pstats.Stats(profiler, stream=fh)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(25)
        _log("[%s] profile of %s written to %s.prof / .txt" % (run.config.name, workload, base))


# ---------------------------------------------------------------------------- reporting

def _fmt(value: Optional[float]) -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        return "%.0f" % value
    if value >= 10:
        return "%.1f" % value
    if value >= 1:
        return "%.2f" % value
    return "%.3g" % value


def table_rows(results: Sequence[Result]) -> List[List[str]]:
    reference = {(r.config, r.workload): r for r in results if r.client == "smbclient" and not r.error}
    rows = []
    for r in results:
        unit, item = WORKLOADS[r.workload]
        cpu_unit = "s/GiB" if item == "GiB" else "ms/%s" % item
        base = reference.get((r.config, r.workload))
        if r.error:
            rows.append([r.config, r.workload, r.client, "failed", unit, "", "", "", cpu_unit, "", ""])
            continue
        rate, cpu = r.rate(), r.cpu_per_item()
        speed_ratio = cpu_ratio = None
        if base is not None and base.rate() > 0:
            speed_ratio = rate / base.rate()
            if base.cpu_per_item() > 0:
                cpu_ratio = cpu / base.cpu_per_item()
        rows.append([r.config, r.workload, r.client, _fmt(rate), unit, "%.0f%%" % r.spread(),
                     _fmt(speed_ratio) if speed_ratio is not None else "n/a",
                     _fmt(cpu), cpu_unit,
                     _fmt(cpu_ratio) if cpu_ratio is not None else "n/a",
                     "%.0f" % (r.median("rss_kib") / 1024.0)])
    return rows


HEADER = ["config", "workload", "client", "rate", "unit", "spread", "speed x smbclient", "CPU", "CPU unit",
          "CPU x smbclient", "peak RSS MiB"]


def format_table(rows: Sequence[Sequence[str]], rst: bool) -> str:
    widths = [max(len(HEADER[i]), *(len(row[i]) for row in rows)) if rows else len(HEADER[i])
              for i in range(len(HEADER))]
    right = {3, 5, 6, 7, 9, 10}

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            cell = cell or ("-" if rst else "")
            out.append(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    rule = "  ".join(("=" if rst else "-") * w for w in widths)
    lines = [rule] if rst else []
    lines += [line(HEADER), rule]
    lines += [line(row) for row in rows]
    if rst:
        lines.append(rule)
    return "\n".join(lines)


def _smbd_version() -> str:
    smbd = find_smbd()
    if smbd is None:
        return "smbd not found"
    try:
        return subprocess.run([smbd, "--version"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "smbd (version unknown)"


def report(results: Sequence[Result], notes: Sequence[str], options: argparse.Namespace,
           sizes: Sizes, configs: Sequence[Config], argv: Sequence[str], elapsed: float) -> str:
    rst = options.rst
    lines = []
    when = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    machine = "%s, %d CPUs, Python %s, %s" % (platform.platform(), os.cpu_count() or 0,
                                              platform.python_version(), _smbd_version())
    command = "python3 -m bench.bench " + " ".join(argv)
    work = ("retrieve/store %s MiB, list %d entries, %d connect cycles, %d small files of %d bytes; "
            "median of %d run(s)" % (sizes.big // MiB, sizes.entries, sizes.cycles, sizes.small_files,
                                     sizes.small_size, options.runs))
    from smb import crypto
    intro = [("date", when), ("command", command.strip()), ("machine", machine), ("work", work),
             ("crypto", "ours signs and encrypts with %s" % crypto.backend), ("took", "%.0f s" % elapsed)]
    for key, value in intro:
        lines.append(":%s: %s" % (key, value) if rst else "%-8s %s" % (key + ":", value))
    lines.append("")
    lines.append("Ratios against smbclient (speed: >1 is faster than smbclient; CPU: <1 uses less). "
                 "Spread: (slowest - fastest run) / median time.")
    lines.append("")
    lines.append(format_table(table_rows(results), rst))
    lines.append("")
    lines.append("Configurations:")
    lines.append("")
    for config in configs:
        lines.append(("- ``%s``: %s" if rst else "  %-8s %s") % (config.name, config.title))
    notes = list(notes) + ["%s/%s/%s failed: %s" % (r.config, r.workload, r.client, r.error)
                           for r in results if r.error]
    if notes:
        lines.append("")
        lines.append("Notes:")
        lines.append("")
        for note in notes:
            lines.append(("- %s" if rst else "  %s") % note)
    return "\n".join(lines) + "\n"


def _split(text: Optional[str], known: Sequence[str], what: str,
           aliases: Optional[Dict[str, Tuple[str, ...]]] = None) -> List[str]:
    if not text:
        return list(known)
    chosen: List[str] = []
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        expanded = (aliases or {}).get(name, (name,))
        for item in expanded:
            if item not in known:
                raise SystemExit("unknown %s %r (known: %s)" % (what, item, ", ".join(known)))
            if item not in chosen:
                chosen.append(item)
    return [k for k in known if k in chosen]


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m bench.bench",
        description="smbwire vs smbclient (and pysmb/smbprotocol) against a throwaway Samba.")
    parser.add_argument("--runs", type=int, default=None, help="runs per measurement (default 3; 1 with --quick)")
    parser.add_argument("--only", help="workloads, comma separated: %s (aliases: small, transfer)"
                        % ", ".join(WORKLOADS))
    parser.add_argument("--configs", help="configurations, comma separated: %s" % ", ".join(CONFIGS))
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, 1 run, configs %s: a smoke run" % ",".join(QUICK_CONFIGS))
    parser.add_argument("--large", action="store_true", help="1 GiB instead of 256 MiB transfers")
    parser.add_argument("--rst", action="store_true", help="print the report as reStructuredText")
    parser.add_argument("--peer-venv", metavar="PATH",
                        help="a venv with pysmb and smbprotocol installed: measure them too")
    parser.add_argument("--json", metavar="FILE", help="also write every sample as JSON")
    parser.add_argument("--profile", metavar="DIR",
                        help="cProfile one retrieve and one store of ours per configuration into DIR")
    parser.add_argument("--workdir", help="where to put the source files (default: a temp dir)")
    options = parser.parse_args(argv)
    if options.runs is None:
        options.runs = 1 if options.quick else 3
    if options.runs < 1:
        parser.error("--runs must be at least 1")
    if options.peer_venv and not os.access(os.path.join(options.peer_venv, "bin", "python"), os.X_OK):
        parser.error("no python in %s/bin" % options.peer_venv)
    return options


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    options = parse_args(argv)
    sizes = QUICK if options.quick else (LARGE if options.large else FULL)
    default_configs = ",".join(QUICK_CONFIGS) if options.quick else None
    config_names = _split(options.configs or default_configs, list(CONFIGS), "configuration")
    workloads = _split(options.only, list(WORKLOADS), "workload", _ALIASES)
    if shutil.which("smbclient") is None:
        _log("smbclient not found: install smbclient (it is the reference of every ratio)")
        return 2
    # A stop request ends the current measurement and still stops the servers (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.monotonic()
    workdir = options.workdir or tempfile.mkdtemp(prefix="smbwire-bench-")
    os.makedirs(workdir, exist_ok=True)
    results: List[Result] = []
    notes: List[str] = []
    try:
        bench = Bench(sizes, workdir)
        _log("preparing %d MiB of source data in %s" % (sizes.big // MiB, workdir))
        bench.prepare()
        for name in config_names:
            config_results, config_notes = run_config(CONFIGS[name], bench, options, workloads)
            results += config_results
            notes += config_notes
    finally:
        if not options.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - began
    if options.json:
        with open(options.json, "w") as fh:
            json.dump([{"config": r.config, "workload": r.workload, "client": r.client, "items": r.items,
                        "samples": [vars(s) for s in r.samples]} for r in results], fh, indent=1)
    sys.stdout.write(report(results, notes, options, sizes, [CONFIGS[n] for n in config_names],
                            argv, elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
