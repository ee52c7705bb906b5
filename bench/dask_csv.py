"""Dask over ``smbwire://``: read CSV parts from a share with 1, 2 and 4 worker processes.

Run from the repository root, as root (the throwaway smbd switches to its test user)::

    python3 -m bench.dask_csv                      # 1 GiB in 16 parts, workers 1,2,4, 3 runs
    python3 -m bench.dask_csv --size-mib 64 --parts 4 --workers 1,2 --runs 1   # a smoke run
    python3 -m bench.dask_csv --rst

One Samba (:class:`tests.samba_server.SambaServer`) serves the parts; the same files are also
read by the same cluster straight from the share's directory on the local disk, and fetched by
``smbclient`` (``get part /dev/null`` for each), in the same run.  Each measurement is
``dd.read_csv(parts, blocksize=64 MiB).value.sum().compute()`` on a fresh
``distributed.LocalCluster`` (one thread per worker process; starting the cluster is not
timed), and its result must equal the local one.  Reported: the median wall time of
``--runs`` runs, MB/s of CSV, and the ratio of reading over SMB to reading the local files
with the same number of workers.  See bench/README.rst.
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from tests.samba_server import SambaServer  # noqa: E402

MiB = 1024 * 1024
SHARE = "data"


def _log(message: str) -> None:
    sys.stderr.write("dask_csv: %s\n" % message)
    sys.stderr.flush()


def make_parts(folder: str, size: int, parts: int) -> int:
    """``parts`` CSV files of about ``size / parts`` bytes each in ``folder`` (the first
    is generated, the others are copies of it); their total size."""
    import numpy as np
    import pandas as pd
    os.makedirs(folder, exist_ok=True)
    target = size // parts
    rng = np.random.default_rng(17)
    first = os.path.join(folder, "part-000.csv")
    rows = max(1, target // 22)  # ~22 bytes per row
    frame = pd.DataFrame({"id": np.arange(rows), "value": rng.integers(0, 1_000_000, rows),
                          "x": rng.random(rows).round(6)})
    frame.to_csv(first, index=False)
    for i in range(1, parts):
        shutil.copyfile(first, os.path.join(folder, "part-%03d.csv" % i))
    for name in os.listdir(folder):
        os.chmod(os.path.join(folder, name), 0o644)
    return sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))


def measure(urlpath: str, workers: int, storage_options: Optional[Dict[str, Any]]) -> Tuple[float, int]:
    """Seconds for one ``read_csv(...).value.sum().compute()`` on a fresh cluster, and the sum."""
    import dask.dataframe as dd
    import distributed
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster):
        frame = dd.read_csv(urlpath, blocksize=64 * MiB, storage_options=storage_options)
        start = time.perf_counter()
        total = int(frame.value.sum().compute())
        return time.perf_counter() - start, total


def smbclient_fetch(srv: SambaServer, names: Sequence[str]) -> float:
    commands = "; ".join("get %s /dev/null" % n for n in names)
    argv = ["smbclient", "//%s/%s" % (srv.host, SHARE), "-p", str(srv.port), "-U",
            "%s%%%s" % (srv.user, srv.password), "-c", commands]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError("smbclient failed: %s" % (proc.stderr or proc.stdout)[-500:])
    return seconds


def run(options: argparse.Namespace) -> List[List[str]]:
    srv = SambaServer().start()
    try:
        folder = os.path.join(srv.share_path(SHARE), "csv")
        total_bytes = make_parts(folder, options.size_mib * MiB, options.parts)
        names = sorted(os.listdir(folder))
        _log("%d parts, %.1f MiB of CSV" % (len(names), total_bytes / MiB))
        smb_url = "smbwire://%s:%d/%s/csv/part-*.csv" % (srv.host, srv.port, SHARE)
        smb_options = {"username": srv.user, "password": srv.password}
        local_url = os.path.join(folder, "part-*.csv")
        times: Dict[Tuple[str, int], List[float]] = {}
        fetch: List[float] = []
        expected: Optional[int] = None
        for run_no in range(options.runs):
            fetch.append(smbclient_fetch(srv, ["csv/" + n for n in names]))
            for workers in options.workers:
                for source, url, storage in (("smbwire", smb_url, smb_options), ("local", local_url, None)):
                    seconds, total = measure(url, workers, storage)
                    if expected is None:
                        expected = total
                    if total != expected:
                        raise RuntimeError("%s with %d workers summed %d, not %d" % (source, workers, total,
                                                                                    expected))
                    times.setdefault((source, workers), []).append(seconds)
                    _log("run %d: %s, %d workers: %.2f s" % (run_no + 1, source, workers, seconds))
        rows = [["source", "workers", "seconds", "MB/s", "spread", "x local"]]
        for workers in options.workers:
            local = statistics.median(times[("local", workers)])
            for source in ("smbwire", "local"):
                samples = times[(source, workers)]
                median = statistics.median(samples)
                spread = (max(samples) - min(samples)) / median if median else 0.0
                rows.append([source, str(workers), "%.2f" % median, "%.0f" % (total_bytes / 1e6 / median),
                             "%d%%" % round(spread * 100), "%.2f" % (local / median)])
        median_fetch = statistics.median(fetch)
        rows.append(["smbclient get", "-", "%.2f" % median_fetch, "%.0f" % (total_bytes / 1e6 / median_fetch),
                     "%d%%" % round((max(fetch) - min(fetch)) / median_fetch * 100), "-"])
        return rows
    finally:
        srv.stop()


def format_rows(rows: Sequence[Sequence[str]], rst: bool) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    if not rst:
        return "\n".join([lines[0], "  ".join("-" * w for w in widths)] + lines[1:])
    rule = "  ".join("=" * w for w in widths)
    return "\n".join([rule, lines[0], rule] + lines[1:] + [rule])


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m bench.dask_csv", description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="total CSV size (default 1024)")
    parser.add_argument("--parts", type=int, default=16, help="number of CSV files (default 16)")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts (default 1,2,4)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is shown")
    parser.add_argument("--rst", action="store_true", help="the table as reStructuredText")
    options = parser.parse_args(argv)
    try:
        options.workers = [int(w) for w in options.workers.split(",") if w]
    except ValueError:
        parser.error("--workers takes numbers separated by commas")
    if options.size_mib < 1 or options.parts < 1 or options.runs < 1 or not options.workers \
            or min(options.workers) < 1:
        parser.error("sizes, parts, runs and workers must be positive")
    return options


def main(argv: Optional[Sequence[str]] = None) -> int:
    options = parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="smbwire-dask-bench-")
    os.chdir(workdir)  # Dask's worker scratch space
    try:
        rows = run(options)
    finally:
        os.chdir(_REPO)
        shutil.rmtree(workdir, ignore_errors=True)
    print("Dask read_csv(...).value.sum() over smbwire:// and from the local disk, %d MiB in %d parts"
          % (options.size_mib, options.parts))
    print()
    print(format_rows(rows, options.rst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
