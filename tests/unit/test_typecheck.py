"""The package type-checks with mypy (it ships ``py.typed``)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_mypy_is_clean() -> None:
    try:
        import mypy  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail("mypy is not installed (pip install -e .[test])")
        pytest.skip("mypy is not installed")
    proc = subprocess.run([sys.executable, "-m", "mypy", "smb", "nmb"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
