"""A short, readable tour of smbwire against a throwaway local Samba.

Run from the repository root (as root: the private smbd switches to its test user)::

    python3 -m tests.demo             # direct TCP (what port 445 speaks)
    python3 -m tests.demo --port139   # NetBIOS session service (what port 139 speaks)

or let the bootstrap script install Samba and the Python dependencies first::

    sudo bash tests/bootstrap.sh demo

The demo starts its own ``smbd`` on free loopback ports (:class:`tests.samba_server.SambaServer`),
then uses only the library: connect and log on, list the shares, store a file, list the folder,
read the file back and compare its SHA-256, show its attributes, delete it, close. The server is
stopped whatever happens. Exit status: 0 when every step passed, 1 when a step failed, 2 when
the server could not be started here.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import io
import os
import sys
import time
from typing import Callable, List, Optional, TypeVar

from smb.SMBConnection import SMBConnection
from smb.smb2_constants import Dialect
from tests.samba_server import SambaServer, SambaStartError, find_smbd

SHARE = "data"
FILENAME = "smbwire-demo.bin"
PAYLOAD_SIZE = 3 * 1024 * 1024 + 12345  # several reads/writes, not a round number
CLIENT_NAME = "SMBWIRE-DEMO"

T = TypeVar("T")


class DemoFailure(Exception):
    """A step did not do what the demo promised."""


def _dialect_name(value: int) -> str:
    try:
        name = Dialect(value).name  # e.g. SMB_3_1_1
    except ValueError:
        return "0x%04X" % value
    return "SMB " + name[len("SMB_"):].replace("_", ".")


def _when(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class Transcript:
    """Numbered steps on stdout; the failing step is named on stderr."""

    def __init__(self) -> None:
        self.number = 0
        self.current = ""

    def step(self, title: str, action: Callable[[], T]) -> T:
        self.number += 1
        self.current = title
        print("[%d] %s" % (self.number, title), flush=True)
        began = time.monotonic()
        result = action()
        print("    ok (%.0f ms)" % ((time.monotonic() - began) * 1000), flush=True)
        return result

    @staticmethod
    def detail(text: str) -> None:
        print("    " + text, flush=True)


def _payload() -> bytes:
    # Random bytes so that a shifted or repeated block cannot pass the checksum by accident.
    return os.urandom(PAYLOAD_SIZE)


def run(server: SambaServer, port139: bool, out: Transcript) -> None:
    """The library part of the demo; raises on the first failed step."""
    if port139:
        port, transport = server.netbios_port, "NetBIOS session service (is_direct_tcp=False)"
    else:
        port, transport = server.port, "direct TCP (is_direct_tcp=True)"
    conn = SMBConnection(server.user, server.password, CLIENT_NAME, server.netbios_name,
                         domain=server.workgroup, is_direct_tcp=not port139)
    try:
        def connect() -> None:
            out.detail("server %s:%d, %s, user %r" % (server.host, port, transport, server.user))
            if not conn.connect(server.host, port, timeout=30):
                raise DemoFailure("the server refused the credentials")
            dialect = getattr(conn.dialect, "dialect", None)
            if not conn.isUsingSMB2 or dialect is None:
                raise DemoFailure("expected an SMB2/3 session, got %r" % (conn.dialect,))
            out.detail("negotiated dialect: %s (0x%04X)" % (_dialect_name(dialect), dialect))
            if dialect != Dialect.SMB_3_1_1:
                raise DemoFailure("expected SMB 3.1.1 with a server offering up to SMB3_11")
        out.step("connect and log on", connect)

        def list_shares() -> None:
            shares = conn.listShares(timeout=30)
            for share in shares:
                kind = "special" if share.isSpecial else "disk" if share.type == share.DISK_TREE else "other"
                out.detail("%-10s %-8s %s" % (share.name, kind, share.comment))
            if SHARE not in {share.name for share in shares}:
                raise DemoFailure("share %r is not in the list" % SHARE)
        out.step("listShares()", list_shares)

        payload = _payload()
        digest = hashlib.sha256(payload).hexdigest()

        def store() -> None:
            written = conn.storeFile(SHARE, FILENAME, io.BytesIO(payload), timeout=60)
            out.detail("%d bytes written to \\\\%s\\%s\\%s" % (written, server.host, SHARE, FILENAME))
            if written != len(payload):
                raise DemoFailure("storeFile reported %d bytes, expected %d" % (written, len(payload)))
        out.step("storeFile(%r, %r)" % (SHARE, FILENAME), store)

        def list_path() -> None:
            entries = conn.listPath(SHARE, "/", timeout=30)
            for entry in entries:
                kind = "<DIR>" if entry.isDirectory else "%d bytes" % entry.file_size
                out.detail("%-20s %s" % (entry.filename, kind))
            mine = [e for e in entries if e.filename == FILENAME]
            if not mine or mine[0].file_size != len(payload):
                raise DemoFailure("%s is missing from the listing or has the wrong size" % FILENAME)
        out.step("listPath(%r, '/')" % SHARE, list_path)

        def retrieve() -> None:
            sink = io.BytesIO()
            attributes, read = conn.retrieveFile(SHARE, FILENAME, sink, timeout=60)
            got = hashlib.sha256(sink.getvalue()).hexdigest()
            out.detail("%d bytes read, file attributes 0x%X" % (read, attributes))
            out.detail("sha256 sent     %s" % digest)
            out.detail("sha256 received %s" % got)
            if got != digest or read != len(payload):
                raise DemoFailure("the file came back different from what was stored")
            out.detail("sha256 check passed")
        out.step("retrieveFile(%r, %r)" % (SHARE, FILENAME), retrieve)

        def attributes() -> None:
            info = conn.getAttributes(SHARE, FILENAME, timeout=30)
            out.detail("filename          %s" % info.filename)
            out.detail("file_size         %d" % info.file_size)
            out.detail("alloc_size        %d" % info.alloc_size)
            out.detail("file_attributes   0x%X (directory=%s, read-only=%s)"
                       % (info.file_attributes, info.isDirectory, info.isReadOnly))
            out.detail("create_time       %s" % _when(info.create_time))
            out.detail("last_write_time   %s" % _when(info.last_write_time))
            if info.file_size != len(payload) or info.isDirectory:
                raise DemoFailure("getAttributes does not describe the stored file")
        out.step("getAttributes(%r, %r)" % (SHARE, FILENAME), attributes)

        def delete() -> None:
            conn.deleteFiles(SHARE, FILENAME, timeout=30)
            left: List[str] = [e.filename for e in conn.listPath(SHARE, "/", timeout=30)
                               if e.filename not in (".", "..")]
            out.detail("left in the share: %s" % (", ".join(left) if left else "(nothing)"))
            if FILENAME in left:
                raise DemoFailure("%s is still there after deleteFiles" % FILENAME)
        out.step("deleteFiles(%r, %r)" % (SHARE, FILENAME), delete)

        out.step("close()", conn.close)
    finally:
        conn.close()  # idempotent; makes sure the socket goes away after a failure


def _parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m tests.demo",
        description="Start a throwaway Samba on loopback and show smbwire working against it.")
    parser.add_argument("--port139", action="store_true",
                        help="use the NetBIOS session service port (is_direct_tcp=False) "
                             "instead of direct TCP")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = _parse_args(argv)
    print("smbwire demo: a throwaway Samba on loopback, then the library and nothing else")
    if find_smbd() is None:
        print("demo: smbd not found; install Samba with `sudo bash tests/bootstrap.sh deps` "
              "(or run `sudo bash tests/bootstrap.sh demo`)", file=sys.stderr)
        return 2
    if os.name == "posix" and os.geteuid() != 0:
        print("demo: the private smbd must run as root (it switches to its test user); "
              "run `sudo python3 -m tests.demo` or `sudo bash tests/bootstrap.sh demo`",
              file=sys.stderr)
        return 2
    out = Transcript()
    server = SambaServer()
    try:
        try:
            out.step("start Samba", server.start)
        except SambaStartError as err:
            print("demo: Samba did not start:\n%s" % err, file=sys.stderr)
            return 2
        out.detail("smbd on %s: direct TCP port %d, NetBIOS session port %d"
                   % (server.host, server.port, server.netbios_port))
        try:
            run(server, args.port139, out)
        except Exception as err:  # noqa: BLE001 - the demo reports any failure and exits 1
            print("demo FAILED at step [%d] %s: %s: %s"
                  % (out.number, out.current, type(err).__name__, err), file=sys.stderr)
            return 1
    finally:
        server.stop()
    print("demo passed: every step worked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
