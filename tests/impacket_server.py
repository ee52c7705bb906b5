"""A second SMB server implementation for the integration tests: impacket's ``smbserver``.

impacket is a test-only dependency and never a runtime one; it does not even live in the
environment the library is tested in.  ``bash tests/bootstrap.sh deps`` makes a virtual
environment for it (:data:`VENV`, overridable with ``SMBWIRE_IMPACKET_VENV``), and
:class:`ImpacketServer` runs ``tests/impacket_launcher.py`` with that environment's python,
on a free loopback port, with its share in a temporary directory.  Stopped by PID.

impacket speaks SMB1 (NT LM 0.12) and, with ``smb2=True``, SMB 2.0.2 (it answers the opening
SMB1 NEGOTIATE that offers "SMB 2.002" with an SMB2 NEGOTIATE response).  It takes the
NetBIOS session service's SESSION REQUEST and direct TCP on the same port.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import List, Optional

from tests.samba_server import stop_session

__all__ = ["ImpacketServer", "ImpacketStartError", "VENV", "IMPACKET_VERSION", "impacket_python"]

#: The impacket release the suite is tested with.
IMPACKET_VERSION = "0.13.1"
VENV = os.environ.get("SMBWIRE_IMPACKET_VENV", "/var/tmp/smbwire-impacket-%s" % IMPACKET_VERSION)
_LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "impacket_launcher.py")
_START_TIMEOUT = 30.0


class ImpacketStartError(RuntimeError):
    """The impacket server did not come up."""


def impacket_python() -> Optional[str]:
    """The side venv's interpreter when impacket is importable there, else None."""
    python = os.path.join(VENV, "bin", "python")
    if not os.access(python, os.X_OK):
        return None
    probe = subprocess.run([python, "-c", "import impacket.smbserver"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
    return python if probe.returncode == 0 else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ImpacketServer:
    """impacket's SMB server with one writable share ``DATA`` (:attr:`share_dir`) and one user."""

    user = "alice"
    password = "Impacket-Pass1"
    share = "DATA"

    def __init__(self, *, smb2: bool, ip: str = "127.0.0.1") -> None:
        self.smb2 = smb2
        self.ip = ip
        self.port = 0
        self.tmp = ""
        self.share_dir = ""
        self.log_path = ""
        self.process: Optional[subprocess.Popen] = None

    def __enter__(self) -> "ImpacketServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return "ImpacketServer(%s, %s:%d)" % ("SMB2" if self.smb2 else "SMB1", self.ip, self.port)

    def start(self) -> "ImpacketServer":
        python = impacket_python()
        if python is None:
            raise ImpacketStartError("impacket is not installed in %s (run: bash tests/bootstrap.sh deps)" % VENV)
        self.tmp = tempfile.mkdtemp(prefix="smbwire-impacket-")
        self.share_dir = os.path.join(self.tmp, "share")
        os.mkdir(self.share_dir)
        self.log_path = os.path.join(self.tmp, "server.log")
        last = ""
        for _ in range(3):
            self.port = _free_port()
            args: List[str] = [python, _LAUNCHER, "--ip", self.ip, "--port", str(self.port),
                               "--share", "%s=%s" % (self.share, self.share_dir), "--user", self.user,
                               "--password", self.password, "--log", self.log_path]
            if self.smb2:
                args.append("--smb2")
            self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
            if self._wait_ready():
                return self
            last = self._drain()
            self._kill()
        self.stop()
        raise ImpacketStartError("impacket server did not start:\n" + last)

    def _wait_ready(self) -> bool:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + _START_TIMEOUT
        line = self.process.stdout.readline()
        if not line.startswith(b"READY"):
            return False
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection((self.ip, self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def _drain(self) -> str:
        if self.process is None or self.process.stdout is None:
            return ""
        if self.process.poll() is None:
            return ""
        return self.process.stdout.read().decode("utf-8", "replace")[-4000:]

    def _kill(self) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        stop_session(proc)
        if proc.stdout is not None:
            proc.stdout.close()

    def stop(self) -> None:
        self._kill()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = ""

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path, "r", errors="replace") as fh:
                return "".join(fh.readlines()[-lines:])
        except OSError:
            return ""


if __name__ == "__main__":  # manual use: python -m tests.impacket_server [smb2]
    with ImpacketServer(smb2="smb2" in sys.argv[1:]) as srv:
        print(srv, srv.share_dir)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
