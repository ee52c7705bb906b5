"""The asyncio (:mod:`nmb.aio`) and Twisted (:mod:`nmb.NetBIOSProtocol`) name service clients
against the suite's real nmbd (127.0.0.2, a private port), with the same answers the blocking
client gets (tests/integration/test_netbios.py), and a scripted responder on loopback for
what nmbd will not do (drop a datagram, stay silent, answer garbage).
"""
from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any, Callable, List, Tuple

import pytest

from nmb import aio
from nmb.nmb_structs import NameQueryResponse
from smb.exceptions import NotConnectedError
from tests.unit.test_nmb import FakeResponder as Responder
from tests.unit.test_nmb import _trn_id, responder  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def nmb_server(samba: Any) -> Any:
    if not samba.nmbd_running:
        pytest.skip("the samba fixture could not run nmbd on this host (see SAMBA-NOTES: needs 127.0.0.2)")
    return samba


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


# ---------------------------------------------------------------- asyncio against nmbd


def test_aio_queries_answer_as_the_blocking_client(nmb_server: Any) -> None:
    from nmb.NetBIOS import NetBIOS

    async def main() -> Tuple[Any, Any, Any, Any]:
        async with aio.NetBIOS(broadcast=False) as nb:
            ips = await nb.queryName(nmb_server.netbios_name.lower(), nmb_server.nmb_ip, port=nmb_server.nmb_port,
                                     timeout=5)
            names = await nb.queryIPForName(nmb_server.nmb_ip, port=nmb_server.nmb_port, timeout=5)
            status = await nb.queryNodeStatus(nmb_server.nmb_ip, port=nmb_server.nmb_port, timeout=5)
            unknown = await nb.queryName("NOSUCHHOST4711", nmb_server.nmb_ip, port=nmb_server.nmb_port, timeout=1)
            return ips, names, status, unknown

    ips, names, status, unknown = _run(main())
    assert ips is not None and nmb_server.nmb_ip in ips
    assert names is not None and names[0] == nmb_server.netbios_name
    assert unknown is None
    table = {(n.name, n.suffix, n.is_group) for n in status.names}
    assert (nmb_server.netbios_name, 0x20, False) in table and status.workgroup == nmb_server.workgroup
    with NetBIOS(broadcast=False) as blocking:
        same = blocking.queryNodeStatus(nmb_server.nmb_ip, port=nmb_server.nmb_port, timeout=5)
    assert (status.mac, [(n.name, n.suffix) for n in status.names]) == \
        (same.mac, [(n.name, n.suffix) for n in same.names])


def test_aio_many_queries_at_once_on_one_endpoint(nmb_server: Any) -> None:
    async def main() -> List[Any]:
        async with aio.NetBIOS(broadcast=False) as nb:
            jobs = [nb.queryName(nmb_server.netbios_name, nmb_server.nmb_ip, port=nmb_server.nmb_port, timeout=5)
                    for _ in range(16)]
            jobs += [nb.queryIPForName(nmb_server.nmb_ip, port=nmb_server.nmb_port, timeout=5) for _ in range(8)]
            return await asyncio.gather(*jobs)

    results = _run(main())
    assert all(r is not None and nmb_server.nmb_ip in r for r in results[:16])
    assert all(r is not None and r[0] == nmb_server.netbios_name for r in results[16:])


def test_aio_never_blocks_the_loop(nmb_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = 0.05
        async with aio.NetBIOS(broadcast=False) as nb:
            for _ in range(10):
                assert await nb.queryName(nmb_server.netbios_name, nmb_server.nmb_ip, port=nmb_server.nmb_port,
                                          timeout=5)
            assert await nb.queryName("NOSUCHHOST4711", nmb_server.nmb_ip, port=nmb_server.nmb_port,
                                      timeout=0.5) is None

    with caplog.at_level(logging.WARNING, logger="asyncio"):
        _run(main())
    assert not [r for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()]


# ---------------------------------------------------------------- asyncio: what nmbd will not do


def test_aio_resends_after_a_lost_datagram(responder: Callable[..., Responder], monkeypatch: Any) -> None:
    import nmb.base as nmb_base
    monkeypatch.setattr(nmb_base, "RETRY_INTERVAL", 0.2)

    def script(request: bytes, addr: Tuple[str, int], sock: socket.socket) -> None:
        if len(fake.requests) >= 2:  # the first copy is "lost"
            sock.sendto(NameQueryResponse.positive(_trn_id(request), "FRED", ["10.0.0.7"]).pack(), addr)

    fake = responder(script)

    async def main() -> Any:
        async with aio.NetBIOS(broadcast=False) as nb:
            return await nb.queryName("FRED", "127.0.0.1", port=fake.port, timeout=3)

    assert _run(main()) == ["10.0.0.7"]
    assert len(fake.requests) == 2 and fake.requests[0] == fake.requests[1]


def test_aio_garbage_is_ignored_and_the_deadline_holds(responder: Callable[..., Responder]) -> None:
    def script(request: bytes, addr: Tuple[str, int], sock: socket.socket) -> None:
        sock.sendto(request[:2] + b"\x85\x00\xff\xff", addr)  # our id, truncated garbage
        sock.sendto(b"\x00", addr)

    fake = responder(script)

    async def main() -> Tuple[Any, float]:
        async with aio.NetBIOS(broadcast=False) as nb:
            began = time.monotonic()
            result = await nb.queryName("FRED", "127.0.0.1", port=fake.port, timeout=0.6)
            return result, time.monotonic() - began

    result, took = _run(main())
    assert result is None and took >= 0.55


def test_aio_cancelled_query_leaves_the_endpoint_usable(responder: Callable[..., Responder]) -> None:
    answer = threading.Event()

    def script(request: bytes, addr: Tuple[str, int], sock: socket.socket) -> None:
        if answer.is_set():
            sock.sendto(NameQueryResponse.positive(_trn_id(request), "FRED", ["10.0.0.8"]).pack(), addr)

    fake = responder(script)

    async def main() -> Any:
        async with aio.NetBIOS(broadcast=False) as nb:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(nb.queryName("FRED", "127.0.0.1", port=fake.port, timeout=30), 0.3)
            assert nb._nbns.pending == ()  # the cancelled query is forgotten
            answer.set()
            return await nb.queryName("FRED", "127.0.0.1", port=fake.port, timeout=3)

    assert _run(main()) == ["10.0.0.8"]


def test_aio_closed_client_raises() -> None:
    async def main() -> None:
        nb = aio.NetBIOS(broadcast=False)
        with pytest.raises(ValueError):
            await nb.queryName("FRED")  # no ip and no broadcast
        nb.close()
        with pytest.raises(NotConnectedError):
            await nb.queryName("FRED", "127.0.0.1", timeout=0.1)

    _run(main())


# ---------------------------------------------------------------- Twisted


def test_twisted_nbns_protocol_against_nmbd(nmb_server: Any, twisted_reactor: Any) -> None:
    from twisted.internet.threads import blockingCallFromThread

    from nmb.NetBIOSProtocol import NBNSProtocol
    proto = blockingCallFromThread(twisted_reactor, NBNSProtocol, False)
    try:
        ips = blockingCallFromThread(twisted_reactor, proto.queryName, nmb_server.netbios_name, nmb_server.nmb_ip,
                                     nmb_server.nmb_port, 5)
        assert ips is not None and nmb_server.nmb_ip in ips
        names = blockingCallFromThread(twisted_reactor, proto.queryIPForName, nmb_server.nmb_ip,
                                       nmb_server.nmb_port, 5)
        assert names is not None and names[0] == nmb_server.netbios_name
        status = blockingCallFromThread(twisted_reactor, proto.queryNodeStatus, nmb_server.nmb_ip,
                                        nmb_server.nmb_port, 5)
        assert (nmb_server.netbios_name, 0x20) in {(n.name, n.suffix) for n in status.names}
    finally:
        blockingCallFromThread(twisted_reactor, proto.close)


def test_twisted_timeout_errbacks_and_resends(responder: Callable[..., Responder], twisted_reactor: Any,
                                              monkeypatch: Any) -> None:
    import nmb.base as nmb_base
    from twisted.internet.threads import blockingCallFromThread

    from nmb.NetBIOSProtocol import NBNSProtocol, NetBIOSTimeout
    monkeypatch.setattr(nmb_base, "RETRY_INTERVAL", 0.2)
    fake = responder(lambda request, addr, sock: None)  # silent
    proto = blockingCallFromThread(twisted_reactor, NBNSProtocol, False)
    try:
        began = time.monotonic()
        with pytest.raises(NetBIOSTimeout):
            blockingCallFromThread(twisted_reactor, proto.queryName, "FRED", "127.0.0.1", fake.port, 1.0)
        assert time.monotonic() - began >= 0.95
        assert len(fake.requests) == 3  # the first send and two resends, 0.2 s apart
        assert proto.pending_trns == {} and proto._nbns.pending == ()
    finally:
        blockingCallFromThread(twisted_reactor, proto.close)


def test_twisted_cleanup_sweep_times_out_expired_queries_once(responder: Callable[..., Responder],
                                                               twisted_reactor: Any) -> None:
    from twisted.internet.threads import blockingCallFromThread

    from nmb.NetBIOSProtocol import NBNSProtocol, NetBIOSTimeout
    fake = responder(lambda request, addr, sock: None)  # silent
    proto = blockingCallFromThread(twisted_reactor, NBNSProtocol, False)
    outcomes: List[Any] = []
    try:
        def start() -> None:
            d = proto.queryName("FRED", "127.0.0.1", fake.port, 0.4)
            d.addBoth(outcomes.append)
            (pending,) = proto.pending_trns.values()
            pending.deadline -= 1  # its time has passed, as far as the sweep can tell
            proto.cleanupPendingTrns()
        blockingCallFromThread(twisted_reactor, start)
        time.sleep(0.6)  # the query's own timer (0.4 s) must not bring a second outcome
        assert len(outcomes) == 1 and outcomes[0].check(NetBIOSTimeout)
        assert proto.pending_trns == {}
    finally:
        blockingCallFromThread(twisted_reactor, proto.close)
