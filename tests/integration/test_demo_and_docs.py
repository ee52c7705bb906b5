"""The demo runs, the documentation builds, and what the README tells a user to type exists.

The demo starts its own Samba (``tests/samba_server.py``), so these tests need what every
integration test needs (smbd and root); ``tests/conftest.py`` skips or, under ``CI=true``, fails
them otherwise.
"""
from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from typing import Dict, List, Optional, Set, Tuple

import pytest

from nmb.NetBIOS import NetBIOS
from smb.SMBConnection import SMBConnection
from tests.conftest import in_ci

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.rst")
BOOTSTRAP = os.path.join(ROOT, "tests", "bootstrap.sh")
DOCS = os.path.join(ROOT, "docs")
DEMO_TIMEOUT = 300


def _run(args: List[str], timeout: float, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


def _explain(result: subprocess.CompletedProcess) -> str:
    return "exit %d\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
        result.returncode, result.stdout[-4000:], result.stderr[-4000:])


# ---------------------------------------------------------------------------------- the demo

@pytest.mark.parametrize("args, transport", [
    ([], "direct TCP"),
    (["--port139"], "NetBIOS session service"),
], ids=["direct-tcp", "port139"])
def test_demo_passes(args: List[str], transport: str) -> None:
    result = _run([sys.executable, "-m", "tests.demo", *args], DEMO_TIMEOUT)
    assert result.returncode == 0, _explain(result)
    out = result.stdout
    assert transport in out, _explain(result)
    assert "negotiated dialect: SMB 3.1.1 (0x0311)" in out, _explain(result)
    assert "sha256 check passed" in out, _explain(result)
    # the digests printed by the demo are really equal, not just announced as equal
    sent = re.search(r"sha256 sent\s+([0-9a-f]{64})", out)
    received = re.search(r"sha256 received\s+([0-9a-f]{64})", out)
    assert sent and received and sent.group(1) == received.group(1), _explain(result)
    assert out.rstrip().endswith("demo passed: every step worked"), _explain(result)


def test_demo_reports_a_failed_step(monkeypatch, capsys) -> None:
    """A download that comes back different makes the demo name the step and exit 1."""
    from tests import demo

    real = SMBConnection.retrieveFile

    def corrupting(self, service_name, path, file_obj, *args, **kwargs):
        attributes, size = real(self, service_name, path, file_obj, *args, **kwargs)
        file_obj.seek(0)
        file_obj.write(b"\xff")  # one flipped byte at the start
        return attributes, size

    monkeypatch.setattr(SMBConnection, "retrieveFile", corrupting)
    status = demo.main([])
    captured = capsys.readouterr()
    assert status == 1, captured.out + captured.err
    assert "FAILED at step [6] retrieveFile" in captured.err, captured.err
    assert "came back different" in captured.err
    assert "sha256 check passed" not in captured.out
    assert "demo passed" not in captured.out


def test_demo_fails_clearly_without_smbd() -> None:
    env = dict(os.environ, SMBWIRE_SMBD=os.path.join(ROOT, "no-such-smbd"))
    result = _run([sys.executable, "-m", "tests.demo"], 60, env=env)
    assert result.returncode == 2, _explain(result)
    assert "smbd not found" in result.stderr, _explain(result)
    assert "bootstrap.sh" in result.stderr, _explain(result)


def test_demo_rejects_unknown_options() -> None:
    result = _run([sys.executable, "-m", "tests.demo", "--no-such-option"], 60)
    assert result.returncode != 0
    assert "--port139" in result.stderr  # the usage names the real option


# ---------------------------------------------------------------------------------- the docs

def test_docs_build_without_warnings(tmp_path) -> None:
    if importlib.util.find_spec("sphinx") is None:
        reason = "sphinx is not installed (pip install '.[docs]')"
        if in_ci():
            pytest.fail(reason + " (CI=true: the docs build must be checked)", pytrace=False)
        pytest.skip(reason)
    out_dir = tmp_path / "html"
    result = _run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                   "-d", str(tmp_path / "doctrees"), DOCS, str(out_dir)], 600)
    assert result.returncode == 0, _explain(result)
    pages = {"index.html", "usage.html", "testing.html", "design.html", "api/index.html",
             "api/smb.SMBConnection.html", "api/nmb.NetBIOS.html"}
    missing = sorted(p for p in pages if not (out_dir / p).is_file())
    assert not missing, "pages not built: %s" % missing
    # autodoc really imported the library: the public methods are on the API page
    api = (out_dir / "api" / "smb.SMBConnection.html").read_text(encoding="utf-8")
    for method in ("retrieveFile", "storeFileFromOffset", "listShares", "getSecurity"):
        assert 'id="smb.SMBConnection.SMBConnection.%s"' % method in api, method


# ---------------------------------------------------------------------------------- the README

def _section(text: str, title: str) -> str:
    """The body of the reST section called ``title`` (up to the next section title)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == title and i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            body = []
            for j in range(i + 2, len(lines)):
                if j + 1 < len(lines) and lines[j].strip() and re.fullmatch(r"[-=~^]{3,}", lines[j + 1].strip()):
                    break
                body.append(lines[j])
            return "\n".join(body)
    raise AssertionError("README has no section %r" % title)


def _quickstart_commands() -> List[str]:
    with open(README, encoding="utf-8") as fh:
        section = _section(fh.read(), "Quick start")
    return [line.strip()[2:] for line in section.splitlines() if line.strip().startswith("$ ")]


def _bootstrap_subcommands() -> Set[str]:
    """The subcommands bootstrap.sh answers to, from its own usage message."""
    result = _run(["bash", BOOTSTRAP], 30)  # no subcommand: prints the usage, installs nothing
    assert result.returncode == 2, _explain(result)
    found = re.search(r"\{([a-z|]+)\}", result.stderr)
    assert found, _explain(result)
    return set(found.group(1).split("|"))


def test_readme_quickstart_is_the_two_bootstrap_commands() -> None:
    assert _quickstart_commands() == ["sudo bash tests/bootstrap.sh demo",
                                      "sudo bash tests/bootstrap.sh test"]


def test_readme_quickstart_commands_exist() -> None:
    assert os.path.isfile(BOOTSTRAP)
    syntax = _run(["bash", "-n", BOOTSTRAP], 30)
    assert syntax.returncode == 0, _explain(syntax)
    known = _bootstrap_subcommands()
    for command in _quickstart_commands():
        words = command.split()
        assert words[:3] == ["sudo", "bash", "tests/bootstrap.sh"], command
        assert words[3] in known, "%r: bootstrap.sh knows only %s" % (command, sorted(known))
    # what "demo" runs is there
    assert importlib.util.find_spec("tests.demo") is not None


def test_readme_development_commands_point_at_real_things() -> None:
    with open(README, encoding="utf-8") as fh:
        text = fh.read()
    assert "python3 -m pytest tests/unit" in text
    assert os.path.isdir(os.path.join(ROOT, "tests", "unit"))
    assert "python3 -m sphinx -W -b html docs docs/_build/html" in text
    assert os.path.isfile(os.path.join(DOCS, "conf.py"))


# ------------------------------------------------------------------- code shown in the docs

def _python_blocks(path: str) -> List[Tuple[int, str]]:
    """(line number, code) of every ``.. code-block:: python`` in a reST file."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == ".. code-block:: python":
            start = i + 1
            while start < len(lines) and (not lines[start].strip() or lines[start].lstrip().startswith(":")):
                start += 1
            indent = len(lines[start]) - len(lines[start].lstrip())
            body = []
            j = start
            while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) >= indent):
                body.append(lines[j][indent:])
                j += 1
            blocks.append((start + 1, "\n".join(body)))
            i = j
        else:
            i += 1
    return blocks


DOC_FILES = [README, os.path.join(DOCS, "usage.rst"), os.path.join(DOCS, "index.rst"),
             os.path.join(DOCS, "testing.rst")]


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: os.path.relpath(p, ROOT))
def test_python_examples_use_the_real_api(path: str) -> None:
    """Every Python example compiles, its imports resolve, and the methods it calls on a
    connection (``conn``) or a name-service client (``nb``) exist."""
    blocks = _python_blocks(path)
    assert blocks, "no Python examples found in %s" % path
    receivers = {"conn": SMBConnection, "nb": NetBIOS}
    for line, code in blocks:
        where = "%s:%d" % (os.path.relpath(path, ROOT), line)
        tree = ast.parse(code, where)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = __import__(node.module, fromlist=["*"])
                for alias in node.names:
                    assert hasattr(module, alias.name), "%s: %s.%s" % (where, node.module, alias.name)
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in receivers):
                cls = receivers[node.value.id]
                attr = node.attr
                if attr == "dialect":  # set by connect(), not a class attribute
                    continue
                assert hasattr(cls, attr), "%s: %s has no %r" % (where, cls.__name__, attr)
