"""The benchmark runs end to end: ``python3 -m bench.bench --quick`` against real Samba servers.

No timing is asserted (benchmarks are never timed tests); the run must succeed, verify the
data it moved, and print a table of ratios against smbclient for every workload.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKLOADS = ("retrieve", "store", "list", "connect", "small-store", "small-retrieve", "par-retrieve",
             "threads-small")


def _run_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.bench", "--quick", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)


def test_quick_run_prints_a_ratio_table():
    result = _run_bench()
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "Ratios against smbclient" in out
    header = re.search(r"^config\s+workload\s+client\s+rate\s+unit\s+spread\s+speed x smbclient\s+CPU", out, re.M)
    assert header, out
    for config in ("plain", "aes128"):
        for workload in WORKLOADS:
            for client in ("ours", "smbclient"):
                # A measured row: a number for the rate, the spread, a number for the ratio.
                row = re.compile(r"^%s\s+%s\s+%s\s+[0-9.]+\s+\S+\s+\d+%%\s+[0-9.]+\s"
                                 % (config, workload, client),
                                 re.M)
                assert row.search(out), "no row for %s/%s/%s in:\n%s" % (config, workload, client, out)
    for config in ("plain", "aes128"):
        for client in ("ours-asyncio64", "ours-asyncio-serial", "ours-16threads"):  # one connection, asyncio
            assert re.search(r"^%s\s+asyncio-small\s+%s\s+[0-9.]+\s" % (config, client), out, re.M), out
    for config in ("plain", "aes128"):
        for client in ("ours-8conn", "ours-serial"):  # the other ways to fetch 8 files
            assert re.search(r"^%s\s+par-retrieve\s+%s\s+[0-9.]+\s" % (config, client), out, re.M), out
    assert "failed" not in out, out
    assert "ours negotiated SMB 3.1.1, encryption AES_128_GCM" in out


def test_rst_output_and_subsets():
    result = _run_bench("--rst", "--configs", "signed", "--only", "retrieve,list")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    rules = [line for line in out.splitlines() if re.fullmatch(r"=+(  =+)+", line)]
    assert len(rules) == 3, out  # top, below the header, bottom of an RST simple table
    rows = re.findall(r"^signed\s+(\S+)\s+(ours|smbclient)\s", out, re.M)
    assert sorted(set(rows)) == [("list", "ours"), ("list", "smbclient"),
                                 ("retrieve", "ours"), ("retrieve", "smbclient")], out


def test_unknown_workload_is_refused():
    result = _run_bench("--only", "nonsense")
    assert result.returncode != 0
    assert "unknown workload" in result.stderr


def test_dask_csv_bench_runs_small():
    import pytest
    for module in ("dask.dataframe", "distributed", "fsspec"):
        pytest.importorskip(module)
    result = subprocess.run([sys.executable, "-m", "bench.dask_csv", "--size-mib", "4", "--parts", "2",
                             "--workers", "1,2", "--runs", "1"], cwd=REPO, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    for source in ("smbwire", "local"):
        for workers in ("1", "2"):
            assert re.search(r"^%s\s+%s\s+[0-9.]+\s+\d+\s+\d+%%\s+[0-9.]+$" % (source, workers), result.stdout,
                             re.M), result.stdout
    assert re.search(r"^smbclient get\s+-\s+[0-9.]+", result.stdout, re.M), result.stdout
