"""Keep-alive (issue 15): ``keepalive=seconds`` sends an ECHO after that much silence, and a link
that stops answering is found dead within it: the connection breaks at once, so that the next
call fails now (NotConnectedError) instead of at its own deadline.  Through the fault proxy, with
the blocking and the asyncio driver, on NT1 and SMB 3.1.1."""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

import pytest

from smb import aio
from smb.exceptions import NotConnectedError
from smb.SMBConnection import SMBConnection
from tests.faultproxy import C2S, FaultProxy

SERVERS = {
    "NT1": dict(min_protocol="NT1", max_protocol="NT1"),
    "SMB3_11": dict(min_protocol="SMB3_11", max_protocol="SMB3_11", signing="mandatory"),
}


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.parametrize("dialect", sorted(SERVERS))
def test_blocking_keepalive_pings_and_finds_a_dead_link(dialect: str, samba_factory: Callable[..., Any]) -> None:
    srv = samba_factory(**SERVERS[dialect])
    with FaultProxy(srv.host, srv.port, time_limit=60).start() as proxy:
        conn = SMBConnection(srv.user, srv.password, "ka-client", srv.netbios_name, is_direct_tcp=True,
                             keepalive=0.4)
        assert conn.connect(proxy.host, proxy.port, timeout=30) is True
        try:
            sent = proxy.frames[C2S]
            assert _wait(lambda: proxy.frames[C2S] >= sent + 2, 5), "no keep-alive ECHO while idle"
            assert conn.broken is None and conn.echo(b"still fine") == b"still fine"
            proxy.stall()  # the server's side goes silent for good
            assert _wait(lambda: conn.broken is not None, 5), "the dead link was not noticed"
            started = time.monotonic()
            with pytest.raises(NotConnectedError):
                conn.listShares(timeout=30)
            assert time.monotonic() - started < 5  # at once, not at the call's 30 s deadline
        finally:
            conn.close()


def test_no_keepalive_by_default(samba_factory: Callable[..., Any]) -> None:
    srv = samba_factory(**SERVERS["SMB3_11"])
    with FaultProxy(srv.host, srv.port, time_limit=60).start() as proxy:
        conn = SMBConnection(srv.user, srv.password, "ka-client", srv.netbios_name, is_direct_tcp=True)
        assert conn.connect(proxy.host, proxy.port, timeout=30) is True
        try:
            sent = proxy.frames[C2S]
            time.sleep(1.0)
            assert proxy.frames[C2S] == sent
        finally:
            conn.close()


@pytest.mark.parametrize("dialect", sorted(SERVERS))
def test_asyncio_keepalive_pings_and_finds_a_dead_link(dialect: str, samba_factory: Callable[..., Any]) -> None:
    srv = samba_factory(**SERVERS[dialect])

    async def main(proxy: FaultProxy) -> None:
        conn = aio.SMBConnection(srv.user, srv.password, "ka-client", srv.netbios_name, is_direct_tcp=True,
                                 keepalive=0.4)
        assert await conn.connect(proxy.host, proxy.port, timeout=30) is True
        async with conn:
            sent = proxy.frames[C2S]
            for _ in range(100):
                await asyncio.sleep(0.05)
                if proxy.frames[C2S] >= sent + 2:
                    break
            assert proxy.frames[C2S] >= sent + 2, "no keep-alive ECHO while idle"
            proxy.stall()
            for _ in range(100):
                await asyncio.sleep(0.05)
                if conn.broken is not None:
                    break
            assert conn.broken is not None, "the dead link was not noticed"
            with pytest.raises(NotConnectedError):
                await asyncio.wait_for(conn.listShares(timeout=30), 5)

    with FaultProxy(srv.host, srv.port, time_limit=60).start() as proxy:
        asyncio.run(main(proxy))
