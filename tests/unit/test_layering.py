"""The core does no IO (STYLE.md rule 1): checked on the source with ``ast``.

Only the blocking drivers (``smb/SMBConnection.py``, ``smb/SMBHandler.py``,
``nmb/NetBIOS.py``, ``smb/krb5_kdc.py``, the blocking KDC transport they use, and
``smb/fsspec.py``, which sits on ``SMBConnection``, the Twisted driver ``nmb/NetBIOSProtocol.py``
and the asyncio driver ``smb/aio.py``) may import ``socket``, ``select``, ``selectors`` or
``threading`` or call ``time.sleep``.  Imports inside functions count, and
so do ``__import__("socket")`` and ``importlib.import_module("socket")``.
"""
from __future__ import annotations

import ast
import os
from typing import List

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FORBIDDEN = {"socket", "select", "selectors", "threading"}
ALLOWED = {os.path.join("smb", "SMBConnection.py"), os.path.join("smb", "SMBHandler.py"),
           os.path.join("nmb", "NetBIOS.py"), os.path.join("smb", "krb5_kdc.py"),
           # The fsspec filesystem sits on SMBConnection; its connection pool has a lock.
           os.path.join("smb", "fsspec.py"),
           # The Twisted name service driver sets SO_BROADCAST on its port's socket.
           os.path.join("nmb", "NetBIOSProtocol.py"),
           # The asyncio SMB driver sizes its transport's socket buffers.
           os.path.join("smb", "aio.py")}


def violations(source: str, filename: str = "<src>") -> List[str]:
    """Every forbidden import or sleep in ``source``, as readable strings."""
    tree = ast.parse(source, filename)
    found: List[str] = []
    time_aliases = set()       # names bound to the time module
    sleep_aliases = set()      # names bound to time.sleep
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in FORBIDDEN:
                    found.append("line %d: import %s" % (node.lineno, alias.name))
                if alias.name == "time":
                    time_aliases.add(alias.asname or "time")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            top = module.split(".")[0]
            if node.level == 0 and top in FORBIDDEN:
                found.append("line %d: from %s import ..." % (node.lineno, module))
            if node.level == 0 and module == "time":
                for alias in node.names:
                    if alias.name == "sleep":
                        found.append("line %d: from time import sleep" % node.lineno)
                        sleep_aliases.add(alias.asname or "sleep")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr == "sleep" and isinstance(func.value, ast.Name)
                and func.value.id in (time_aliases | {"time"})):
            found.append("line %d: %s.sleep()" % (node.lineno, func.value.id))
        elif isinstance(func, ast.Name) and func.id in sleep_aliases:
            found.append("line %d: %s()" % (node.lineno, func.id))
        # dynamic imports of a forbidden module by name
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in ("__import__", "import_module") and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                    and arg.value.split(".")[0] in FORBIDDEN:
                found.append("line %d: %s(%r)" % (node.lineno, name, arg.value))
    return found


def _library_files() -> List[str]:
    out = []
    for package in ("smb", "nmb"):
        for dirpath, _dirs, files in os.walk(os.path.join(ROOT, package)):
            for name in files:
                if name.endswith(".py"):
                    out.append(os.path.relpath(os.path.join(dirpath, name), ROOT))
    return sorted(out)


LIBRARY_FILES = _library_files()


def test_library_files_found() -> None:
    # Guards against the scan silently checking nothing.
    assert os.path.join("smb", "base.py") in LIBRARY_FILES
    assert os.path.join("smb", "_smb2_ops.py") in LIBRARY_FILES
    assert os.path.join("nmb", "base.py") in LIBRARY_FILES


@pytest.mark.parametrize("relpath", [p for p in LIBRARY_FILES if p not in ALLOWED])
def test_core_module_does_no_io(relpath: str) -> None:
    with open(os.path.join(ROOT, relpath), encoding="utf-8") as fh:
        source = fh.read()
    assert violations(source, relpath) == []


@pytest.mark.parametrize("snippet, expected", [
    ("import socket", 1),
    ("import os, select", 1),
    ("import threading as t", 1),
    ("from selectors import DefaultSelector", 1),
    ("from socket import socket as s", 1),
    ("def f():\n    import socket\n    return socket", 1),
    ("class C:\n    def m(self):\n        from threading import Lock", 1),
    ("import time\ntime.sleep(1)", 1),
    ("import time as tm\ntm.sleep(0)", 1),
    ("from time import sleep\nsleep(1)", 2),            # the import and the call
    ("__import__('socket')", 1),
    ("import importlib\nimportlib.import_module('select')", 1),
    ("import time\ntime.monotonic()", 0),
    ("from . import select_helpers\nimport sockets_lib", 0),
    ("from .socket import x", 0),                      # a relative module of that name is ours
])
def test_checker_detects_violations(snippet: str, expected: int) -> None:
    assert len(violations(snippet)) == expected, violations(snippet)


def test_blocking_driver_really_uses_sockets() -> None:
    # The allowed list is not a blanket pass: the checker sees the driver's IO.
    with open(os.path.join(ROOT, "smb", "SMBConnection.py"), encoding="utf-8") as fh:
        assert any("import socket" in v for v in violations(fh.read()))
