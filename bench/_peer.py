"""One measurement with a peer library (pysmb or smbprotocol), run by a side venv's python.

``bench.bench`` starts ``<venv>/bin/python bench/_peer.py '<json spec>'`` with a working
directory outside the repository, so the venv's ``smb`` package (pysmb) is imported and not
ours. Only the standard library and the peer library are used here. The operation is timed
inside this process (interpreter start and imports are not measured, as for our own client);
the last line printed is a JSON object: ``seconds``, ``cpu`` (user + system), ``rss_kib``
(peak resident set size of this process) and ``error`` (None or a message).
"""
from __future__ import annotations

import io
import json
import os
import resource
import shutil
import sys
import time
import traceback
import uuid
from typing import Any, Callable, Dict

_CHUNK = 4 * 1024 * 1024


def _reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _peak_rss_kib() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class _Sink:
    """A file object that forgets what it is given."""

    def write(self, data: Any) -> int:
        return len(data)


# ------------------------------------------------------------------ pysmb

def _pysmb_ops(spec: Dict[str, Any]) -> Callable[[], None]:
    from smb.SMBConnection import SMBConnection  # the venv's pysmb

    share = spec["share"]

    def connect() -> Any:
        conn = SMBConnection(spec["user"], spec["password"], "benchpeer", spec["server_name"],
                             use_ntlm_v2=True, is_direct_tcp=spec["direct_tcp"])
        if not conn.connect(spec["host"], spec["port"], timeout=60):
            raise RuntimeError("pysmb: logon refused")
        return conn

    op = spec["op"]
    if op == "retrieve":
        def run() -> None:
            conn = connect()
            conn.retrieveFile(share, spec["path"], _Sink(), timeout=3600)
            conn.close()
    elif op == "store":
        def run() -> None:
            conn = connect()
            with open(spec["local"], "rb") as fh:
                conn.storeFile(share, spec["path"], fh, timeout=3600)
            conn.close()
    elif op == "list":
        def run() -> None:
            conn = connect()
            entries = conn.listPath(share, spec["path"], timeout=600)
            conn.close()
            if len(entries) < spec["count"]:
                raise RuntimeError("pysmb listed %d entries, expected %d" % (len(entries), spec["count"]))
    elif op == "connect":
        def run() -> None:
            for _ in range(spec["count"]):
                conn = connect()
                conn.getAttributes(share, "/")
                conn.close()
    elif op == "small-store":
        def run() -> None:
            conn = connect()
            for name in spec["names"]:
                with open(os.path.join(spec["local"], name), "rb") as fh:
                    conn.storeFile(share, spec["path"] + "/" + name, fh)
            conn.close()
    elif op == "small-retrieve":
        def run() -> None:
            conn = connect()
            for name in spec["names"]:
                conn.retrieveFile(share, spec["path"] + "/" + name, io.BytesIO())
            conn.close()
    else:
        raise ValueError("unknown op %r" % op)
    return run


# ------------------------------------------------------------------ smbprotocol

def _smbprotocol_ops(spec: Dict[str, Any]) -> Callable[[], None]:
    import smbclient  # smbprotocol's high-level API (not Samba's CLI)
    from smbprotocol.connection import Connection
    from smbprotocol.session import Session
    from smbprotocol.tree import TreeConnect

    if not spec["direct_tcp"]:
        raise RuntimeError("smbprotocol has no NetBIOS session service transport")
    host, port, share = spec["host"], spec["port"], spec["share"]
    # smbprotocol cannot sign only the TREE_CONNECT that SMB 3.1.1 requires signed (Samba
    # refuses an unsigned one), so it signs everything: its default.
    sign, encrypt = True, spec["encrypt"]
    unc = "\\\\%s\\%s" % (host, share)

    def session() -> None:
        smbclient.register_session(host, username=spec["user"], password=spec["password"], port=port,
                                   encrypt=True if encrypt else None, require_signing=sign,
                                   connection_timeout=60)

    def remote(path: str) -> str:
        return unc + "\\" + path.strip("/").replace("/", "\\")

    def done() -> None:
        smbclient.reset_connection_cache()

    op = spec["op"]
    if op == "retrieve":
        def run() -> None:
            session()
            with smbclient.open_file(remote(spec["path"]), "rb", port=port) as fh:
                shutil.copyfileobj(fh, _Sink(), _CHUNK)  # type: ignore[misc]
            done()
    elif op == "store":
        def run() -> None:
            session()
            with open(spec["local"], "rb") as src, \
                    smbclient.open_file(remote(spec["path"]), "wb", port=port) as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
            done()
    elif op == "list":
        def run() -> None:
            session()
            entries = list(smbclient.scandir(remote(spec["path"]), port=port))
            done()
            if len(entries) + 2 < spec["count"]:
                raise RuntimeError("smbprotocol listed %d entries" % len(entries))
    elif op == "connect":
        def run() -> None:
            for _ in range(spec["count"]):
                conn = Connection(uuid.uuid4(), host, port, require_signing=sign)
                conn.connect(timeout=60)
                sess = Session(conn, spec["user"], spec["password"], require_encryption=encrypt)
                sess.connect()
                tree = TreeConnect(sess, unc)
                tree.connect()
                tree.disconnect()
                sess.disconnect()
                conn.disconnect(True)
    elif op == "small-store":
        def run() -> None:
            session()
            for name in spec["names"]:
                with open(os.path.join(spec["local"], name), "rb") as src, \
                        smbclient.open_file(remote(spec["path"] + "/" + name), "wb", port=port) as dst:
                    dst.write(src.read())
            done()
    elif op == "small-retrieve":
        def run() -> None:
            session()
            for name in spec["names"]:
                with smbclient.open_file(remote(spec["path"] + "/" + name), "rb", port=port) as fh:
                    fh.read()
            done()
    else:
        raise ValueError("unknown op %r" % op)
    return run


def main() -> int:
    spec = json.loads(sys.argv[1])
    result: Dict[str, Any] = {"seconds": 0.0, "cpu": 0.0, "rss_kib": 0, "error": None}
    try:
        run = (_pysmb_ops if spec["lib"] == "pysmb" else _smbprotocol_ops)(spec)
        _reset_peak_rss()
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        run()
        result["seconds"] = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        result["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        result["rss_kib"] = _peak_rss_kib()
    except Exception as err:  # any failure of the peer is reported, not raised
        last = traceback.format_exception_only(type(err), err)[-1].strip()
        result["error"] = last[:300]
    sys.stdout.flush()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
