"""Round trips per call (issue 17), counted on the wire by the fault proxy (it forwards
everything untouched here): an SMB1 store of a small file is one AndX chain
(NT_CREATE_ANDX + WRITE_ANDX + CLOSE), a bigger one opens, writes and closes."""
from __future__ import annotations

import io
import os
from typing import Any, Callable

from smb import smb_structs
from smb.SMBConnection import SMBConnection
from tests.faultproxy import C2S, FaultProxy
from tests.integration.common import server_with_folder


def test_nt1_small_store_is_one_round_trip(samba_factory: Callable[..., Any], monkeypatch: Any) -> None:
    monkeypatch.setattr(smb_structs, "SUPPORT_SMB2", False)
    srv, folder, local = server_with_folder(samba_factory, dict(min_protocol="NT1", max_protocol="NT1"), "rt-")
    with FaultProxy(srv.host, srv.port, time_limit=60).start() as proxy:
        conn = SMBConnection(srv.user, srv.password, "rt-client", srv.netbios_name, is_direct_tcp=True)
        assert conn.connect(proxy.host, proxy.port, timeout=30) is True
        try:
            conn.storeFile("data", folder + "/warm.bin", io.BytesIO(b"w"))  # tree connected
            for size in (0, 1, 4096, 60 * 1024 - 1):
                data = os.urandom(size)
                before = proxy.frames[C2S]
                assert conn.storeFile("data", folder + "/s%d.bin" % size, io.BytesIO(data)) == size
                assert proxy.frames[C2S] - before == 1, size
                with open(os.path.join(local, "s%d.bin" % size), "rb") as fh:
                    assert fh.read() == data
            before = proxy.frames[C2S]
            big = os.urandom(200 * 1024)
            assert conn.storeFile("data", folder + "/big.bin", io.BytesIO(big)) == len(big)
            assert proxy.frames[C2S] - before >= 3  # open, WRITEs, close
            with open(os.path.join(local, "big.bin"), "rb") as fh:
                assert fh.read() == big
            # storeFileFromOffset without truncation keeps what is past the written range.
            assert conn.storeFileFromOffset("data", folder + "/big.bin", io.BytesIO(b"XY"), 10) == 12
            with open(os.path.join(local, "big.bin"), "rb") as fh:
                assert fh.read() == big[:10] + b"XY" + big[12:]
        finally:
            conn.close()


def test_smb2_small_retrieve_with_auto_reconnect_is_two_round_trips(samba_factory: Callable[..., Any]) -> None:
    """With ``auto_reconnect`` a retrieve reads through a durable handle: its CREATE carries the
    first READ (one frame), the CLOSE follows (another); a file bigger than that first READ adds
    READs in between.  Without the option it stays one compound (CREATE + READ + CLOSE)."""
    srv, folder, local = server_with_folder(samba_factory, dict(min_protocol="SMB3_11", max_protocol="SMB3_11"),
                                            "rt-")
    small, big = os.urandom(5000), os.urandom(3 * 1024 * 1024)
    for name, data in (("small.bin", small), ("big.bin", big)):
        with open(os.path.join(local, name), "wb") as fh:
            fh.write(data)
    with FaultProxy(srv.host, srv.port, time_limit=60).start() as proxy:
        for auto, frames in ((False, 1), (True, 2)):
            conn = SMBConnection(srv.user, srv.password, "rt-client", srv.netbios_name, is_direct_tcp=True,
                                 auto_reconnect=auto)
            assert conn.connect(proxy.host, proxy.port, timeout=30) is True
            try:
                conn.echo(b"warm")
                conn.retrieveFile("data", folder + "/small.bin", io.BytesIO())  # tree connected
                before = proxy.frames[C2S]
                out = io.BytesIO()
                assert conn.retrieveFile("data", folder + "/small.bin", out)[1] == len(small)
                assert out.getvalue() == small and proxy.frames[C2S] - before == frames, auto
                out = io.BytesIO()
                assert conn.retrieveFile("data", folder + "/big.bin", out)[1] == len(big)
                assert out.getvalue() == big
            finally:
                conn.close()
