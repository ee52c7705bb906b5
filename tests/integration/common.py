"""Small pieces several integration test files share: the server for a dialect, a logged-on
connection, a fresh folder on share ``data``."""
from __future__ import annotations

import os
import uuid
from typing import Any, Callable, Dict, Sequence, Tuple

from smb.SMBConnection import SMBConnection


def server_for(samba_factory: Callable[..., Any], dialect: str) -> Any:
    """The session's Samba speaking only ``dialect`` ("SMB1-forced": every dialect; the test
    makes the client offer SMB1 only)."""
    if dialect == "SMB1-forced":
        return samba_factory(min_protocol="NT1", max_protocol="SMB3_11")
    return samba_factory(min_protocol=dialect, max_protocol=dialect)


def logged_on(srv: Any, my_name: str = "pytest-client", port139: bool = False, **kwargs: Any) -> SMBConnection:
    """A connection to ``srv`` as its test user, logged on (direct TCP unless ``port139``)."""
    conn = SMBConnection(srv.user, srv.password, my_name, srv.netbios_name, is_direct_tcp=not port139, **kwargs)
    assert conn.connect(srv.host, srv.netbios_port if port139 else srv.port, timeout=30) is True
    return conn


def fresh_folder(conn: SMBConnection, srv: Any, prefix: str) -> Tuple[str, str]:
    """A new folder on share ``data``: (name on the share, path on the server's disk)."""
    name = prefix + uuid.uuid4().hex[:10]
    conn.createDirectory("data", name)
    return name, os.path.join(srv.share_path("data"), name)


def server_with_folder(samba_factory: Callable[..., Any], settings: Dict[str, Any],
                       prefix: str) -> Tuple[Any, str, str]:
    """The session's Samba with ``settings`` and a fresh folder on its share ``data`` (made over
    a blocking connection): (server, name on the share, path on the server's disk)."""
    srv = samba_factory(**settings)
    conn = logged_on(srv, "setup-client")
    try:
        folder, local = fresh_folder(conn, srv, prefix)
    finally:
        conn.close()
    return srv, folder, local


def write_tree(top: str, files: Dict[str, bytes], empty_dirs: Sequence[str] = ()) -> None:
    """Files (``"a/b.txt": data``) and empty folders written straight under ``top`` on the
    server's disk, every folder and file readable and writable by the server's user (not root)."""
    os.makedirs(top, exist_ok=True)
    for rel in empty_dirs:
        os.makedirs(os.path.join(top, *rel.split("/")), exist_ok=True)
    for rel, data in files.items():
        path = os.path.join(top, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    for dirpath, dirnames, filenames in os.walk(top):
        os.chmod(dirpath, 0o777)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o666)
