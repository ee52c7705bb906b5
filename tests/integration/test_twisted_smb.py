"""The Twisted SMB driver (issue 14): pysmb's smb.SMBProtocol.SMBProtocolFactory against the
suite's Samba, every pysmb method of it (and ours) through Twisted's reactor, on NT1, SMB 2.0.2
and SMB 3.1.1 (signing mandatory, and encryption required), over port 445 and port 139.

The reactor runs in a thread of its own for the session (``twisted_reactor``); the tests call
into it with ``blockingCallFromThread``, which returns a Deferred's result or raises its failure.
"""
from __future__ import annotations

import io
import os
import threading
from typing import Any, Callable, List

import pytest

pytest.importorskip("twisted")

from twisted.internet.threads import blockingCallFromThread  # noqa: E402

from smb.base import SharedDevice, SharedFile  # noqa: E402
from smb.exceptions import NotConnectedError, OperationFailure, SMBTimeout  # noqa: E402
from smb.SMBProtocol import SMBProtocol  # noqa: E402
from tests.integration.twisted_logon import Factory, twisted_logon  # noqa: E402
from tests.integration.common import logged_on, server_with_folder  # noqa: E402

SERVERS = {
    "NT1": dict(min_protocol="NT1", max_protocol="NT1"),
    "SMB2_02": dict(min_protocol="SMB2_02", max_protocol="SMB2_02"),
    "SMB3_11": dict(min_protocol="SMB3_11", max_protocol="SMB3_11", signing="mandatory"),
    "SMB3_11-encrypted": dict(min_protocol="SMB3_11", max_protocol="SMB3_11", encrypt="required"),
}


def _connect(reactor: Any, srv: Any, port139: bool = False, password: Any = None, **options: Any) -> Factory:
    return twisted_logon(reactor, srv.host, srv.netbios_port if port139 else srv.port, srv.user,
                         srv.password if password is None else password, "tw-client", srv.netbios_name,
                         is_direct_tcp=not port139, **options)


@pytest.fixture(params=sorted(SERVERS))
def server(request: Any, samba_factory: Callable[..., Any]) -> Any:
    srv, folder, local = server_with_folder(samba_factory, SERVERS[request.param], "tw-")
    return request.param, srv, folder, local


def test_every_pysmb_factory_method(server: Any, twisted_reactor: Any) -> None:
    name, srv, folder, local = server
    reactor = twisted_reactor
    factory = _connect(reactor, srv, encrypt=name.endswith("encrypted"))
    call = lambda method, *args, **kwargs: blockingCallFromThread(reactor, getattr(factory, method), *args, **kwargs)  # noqa: E731
    try:
        assert factory.outcome == [True] and factory.isReady
        assert factory.isUsingSMB2 == (name != "NT1")
        assert isinstance(factory.instance, SMBProtocol)
        if name == "SMB3_11":
            assert factory.instance.is_signing_active
        if name == "SMB3_11-encrypted":
            assert factory.instance.dialect.session.encrypt_data
        shares = call("listShares")
        assert all(isinstance(s, SharedDevice) for s in shares) and "data" in {s.name for s in shares}
        assert call("echo", b"hello") == b"hello"
        payload = os.urandom(2 * 1024 * 1024 + 3)
        source = io.BytesIO(payload)
        assert call("storeFile", "data", folder + "/a.bin", source) == (source, len(payload))
        sink = io.BytesIO()
        f_obj, attributes, size = call("retrieveFile", "data", folder + "/a.bin", sink)
        assert f_obj is sink and size == len(payload) and sink.getvalue() == payload and attributes
        sink = io.BytesIO()
        assert call("retrieveFileFromOffset", "data", folder + "/a.bin", sink, 100, 1000)[2] == 1000
        assert sink.getvalue() == payload[100:1100]
        patch = io.BytesIO(b"ABC")
        assert call("storeFileFromOffset", "data", folder + "/a.bin", patch, 5) == (patch, 8)
        with open(os.path.join(local, "a.bin"), "rb") as fh:
            assert fh.read(10) == payload[:5] + b"ABC" + payload[8:10]
        info = call("getAttributes", "data", folder + "/a.bin")
        assert isinstance(info, SharedFile) and info.file_size == len(payload)
        assert call("createDirectory", "data", folder + "/sub") == folder + "/sub"
        assert sorted(f.filename for f in call("listPath", "data", folder)) == [".", "..", "a.bin", "sub"]
        assert call("rename", "data", folder + "/a.bin", folder + "/sub/b.bin") == (folder + "/a.bin",
                                                                                      folder + "/sub/b.bin")
        assert os.path.exists(os.path.join(local, "sub", "b.bin"))
        assert len(call("listSnapshots", "snapshots", "/")) >= 1
        assert call("deleteFiles", "data", folder + "/sub/*.bin") == folder + "/sub/*.bin"
        assert call("deleteDirectory", "data", folder + "/sub") == folder + "/sub"
        assert os.listdir(local) == []
        # Ours beyond pysmb's, with the blocking class's results.
        call("makeDirs", "data", folder + "/x/y")
        assert call("isDirectory", "data", folder + "/x/y") is True
        call("storeFile", "data", folder + "/x/y/f.txt", io.BytesIO(b"f"))
        assert call("exists", "data", folder + "/x/y/f.txt")
        assert call("copyFile", "data", folder + "/x/y/f.txt", folder + "/g.txt") == 1
        with pytest.raises(SMBTimeout):  # no time at all: the Deferred errbacks with SMBTimeout
            call("retrieveFile", "data", folder + "/g.txt", io.BytesIO(), 0)
        assert call("echo", b"after the timeout") == b"after the timeout"
        call("deleteTree", "data", folder + "/x")
        call("deleteFile", "data", folder + "/g.txt")
        assert os.listdir(local) == []
        with pytest.raises(OperationFailure):
            call("getAttributes", "data", folder + "/missing")
    finally:
        blockingCallFromThread(reactor, factory.closeConnection)
    with pytest.raises(NotConnectedError):
        call("listShares")


def test_port_139_and_a_refused_logon(samba_factory: Callable[..., Any], twisted_reactor: Any) -> None:
    srv = samba_factory(min_protocol="NT1", max_protocol="SMB3_11")
    reactor = twisted_reactor
    factory = _connect(reactor, srv, port139=True)
    try:
        assert factory.outcome == [True]
        assert "data" in {s.name for s in blockingCallFromThread(reactor, factory.listShares)}
    finally:
        blockingCallFromThread(reactor, factory.closeConnection)
    refused = _connect(reactor, srv, password="wrong-" + srv.password)
    assert refused.outcome == [False] and not refused.isReady
    with pytest.raises(NotConnectedError):
        blockingCallFromThread(reactor, refused.listShares)


def test_many_deferreds_at_once(samba_factory: Callable[..., Any], twisted_reactor: Any) -> None:
    from twisted.internet import defer

    srv, folder, local = server_with_folder(samba_factory, SERVERS["SMB3_11"], "tw64-")
    files = {"f%02d" % i: os.urandom(1000 * i + 1) for i in range(64)}
    for fname, data in files.items():
        with open(os.path.join(local, fname), "wb") as fh:
            fh.write(data)
    reactor = twisted_reactor
    factory = _connect(reactor, srv)

    def all_at_once() -> Any:
        sinks = {fname: io.BytesIO() for fname in files}
        calls = [factory.retrieveFile("data", folder + "/" + fname, sink) for fname, sink in sinks.items()]
        d = defer.gatherResults(calls, consumeErrors=True)
        d.addCallback(lambda _: {fname: sink.getvalue() for fname, sink in sinks.items()})
        return d

    try:
        assert blockingCallFromThread(reactor, all_at_once) == files
    finally:
        blockingCallFromThread(reactor, factory.closeConnection)


def test_keepalive_finds_a_dead_link(samba_factory: Callable[..., Any], twisted_reactor: Any) -> None:
    import time

    from tests.faultproxy import C2S, FaultProxy

    srv = samba_factory(**SERVERS["SMB3_11"])
    reactor = twisted_reactor
    with FaultProxy(srv.host, srv.port, time_limit=60).start() as proxy:
        factory = twisted_logon(reactor, proxy.host, proxy.port, srv.user, srv.password, "tw-client",
                                srv.netbios_name, is_direct_tcp=True, keepalive=0.4)
        assert factory.outcome == [True]
        sent = proxy.frames[C2S]
        end = time.monotonic() + 5
        while proxy.frames[C2S] < sent + 2 and time.monotonic() < end:
            time.sleep(0.05)
        assert proxy.frames[C2S] >= sent + 2, "no keep-alive ECHO while idle"
        proxy.stall()
        end = time.monotonic() + 5
        while factory.instance is not None and factory.instance.broken is None and time.monotonic() < end:
            time.sleep(0.05)
        assert factory.instance is None or factory.instance.broken is not None
        with pytest.raises(NotConnectedError):
            blockingCallFromThread(reactor, factory.listShares)


def test_cancelling_a_deferred_gives_the_call_up(samba_factory: Callable[..., Any], twisted_reactor: Any) -> None:
    """Cancelling a retrieve's Deferred in the middle of a 64 MiB transfer: it errbacks with
    CancelledError, the CLOSE goes out (a blocking client then opens the file exclusively), and
    the connection still works."""
    import time

    from twisted.internet import defer

    srv, folder, local = server_with_folder(samba_factory, SERVERS["SMB2_02"], "twcancel-")
    with open(os.path.join(local, "big.bin"), "wb") as fh:
        fh.write(os.urandom(64 * 1024 * 1024))
    reactor = twisted_reactor
    factory = _connect(reactor, srv)
    try:
        started = threading.Event()
        outcome: List[Any] = []

        sink = io.BytesIO()

        def start() -> None:
            d = factory.instance.retrieveFile("data", folder + "/big.bin", sink,
                                              progress=lambda done, total: started.set())
            d.addBoth(outcome.append)
            holder.append(d)

        holder: List[Any] = []
        blockingCallFromThread(reactor, start)
        assert started.wait(30)
        blockingCallFromThread(reactor, holder[0].cancel)
        end = time.monotonic() + 10
        while not outcome and time.monotonic() < end:
            time.sleep(0.02)
        assert outcome and outcome[0].check(defer.CancelledError)
        assert blockingCallFromThread(reactor, factory.echo, b"still here") == b"still here"
        time.sleep(0.5)
        assert len(sink.getvalue()) < 64 * 1024 * 1024  # the transfer stopped: the call was given up
        blocking = logged_on(srv, "tw-check")
        try:
            for attempt in range(40):
                try:
                    f = blocking.openFile("data", folder + "/big.bin", "rb", share_access="")
                    break
                except OperationFailure as err:
                    if "SHARING" not in str(err).upper() or attempt == 39:
                        raise
                    time.sleep(0.05)
            f.close()
        finally:
            blocking.close()
    finally:
        blockingCallFromThread(reactor, factory.closeConnection)
