"""``smb://`` URLs through urllib against the real Samba (the ``samba`` fixture).

The test server's direct-TCP port is not 445, so the handler is told that it
is direct with ``SMBHandler(direct_tcp_ports={samba.port})``; every other
port is the NetBIOS session service, as in production.
"""
from __future__ import annotations

import hashlib
import io
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Iterator, List, Optional

import pytest

import smb.SMBHandler as handler_module
from nmb.NetBIOS import NetBIOS
from smb.exceptions import OperationFailure
from smb.nt_status import NtStatus
from smb.SMBConnection import SMBConnection
from smb.SMBHandler import SMBHandler


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def conn(samba) -> Iterator[SMBConnection]:
    c = SMBConnection(samba.user, samba.password, "pytest-client", samba.netbios_name, is_direct_tcp=True)
    assert c.connect(samba.host, samba.port, timeout=30) is True
    yield c
    c.close()


@pytest.fixture
def folder(conn) -> str:
    name = "url-" + uuid.uuid4().hex[:10]
    conn.createDirectory("data", name)
    return name


def _direct_opener(samba, **kwargs: Any) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(SMBHandler(direct_tcp_ports={samba.port}, **kwargs))


def _creds(samba) -> str:
    return "%s:%s" % (urllib.parse.quote(samba.user), urllib.parse.quote(samba.password, safe=""))


def _read_back(conn: SMBConnection, path: str) -> bytes:
    out = io.BytesIO()
    conn.retrieveFile("data", path, out)
    return out.getvalue()


# ---------------------------------------------------------------- download

@pytest.mark.parametrize("size, spool", [(0, None), (200_000, None), (1_500_000, 64 * 1024)],
                         ids=["empty", "in-memory", "spooled-to-disk"])
def test_download_matches_what_smbconnection_stored(samba, conn, folder, size, spool):
    data = os.urandom(size)
    conn.storeFile("data", "%s/blob.txt" % folder, io.BytesIO(data))
    handler = SMBHandler(direct_tcp_ports={samba.port})
    if spool is not None:
        handler.spool_size = spool
    opener = urllib.request.build_opener(handler)
    url = "smb://%s@%s:%d/data/%s/blob.txt" % (_creds(samba), samba.host, samba.port, folder)
    with opener.open(url, timeout=30) as resp:
        got = resp.read()
        assert resp.headers["Content-length"] == str(size)
        assert resp.headers["Content-type"] == "text/plain"
        assert resp.geturl() == url
    assert len(got) == size
    assert _sha(got) == _sha(data)


def test_download_with_domain_and_fully_percent_encoded_password(samba, conn, folder):
    conn.storeFile("data", "%s/x.bin" % folder, io.BytesIO(b"abc"))
    encoded = "".join("%%%02X" % b for b in samba.password.encode())
    url = "smb://%s;%s:%s@%s:%d/data/%s/x.bin" % (samba.workgroup, samba.user, encoded, samba.host,
                                                  samba.port, folder)
    with _direct_opener(samba).open(url, timeout=30) as resp:
        assert resp.read() == b"abc"
        assert resp.headers["Content-type"] == "application/octet-stream"


def test_non_ascii_path_both_ways(samba, conn, folder):
    name = "Grüße-日本語 ñ.txt"
    data = "non-ASCII content ✓\n".encode() * 50
    conn.storeFile("data", "%s/%s" % (folder, name), io.BytesIO(data))
    base = "smb://%s@%s:%d/data/%s/" % (_creds(samba), samba.host, samba.port, folder)
    opener = _direct_opener(samba)
    with opener.open(base + name, timeout=30) as resp:  # as typed
        assert resp.read() == data
    with opener.open(base + urllib.parse.quote(name), timeout=30) as resp:  # percent-encoded UTF-8
        assert resp.read() == data
    upload_name = "Ünïcødé upload €.bin"
    opener.open(base + urllib.parse.quote(upload_name), data=b"\x00\xff" * 1000, timeout=30).close()
    assert _read_back(conn, "%s/%s" % (folder, upload_name)) == b"\x00\xff" * 1000


# ---------------------------------------------------------------- upload

def test_upload_file_object_then_read_back(samba, conn, folder):
    data = os.urandom(700_000)
    url = "smb://%s@%s:%d/data/%s/up.bin" % (_creds(samba), samba.host, samba.port, folder)
    with _direct_opener(samba).open(url, data=io.BytesIO(data), timeout=30) as resp:
        assert resp.read() == b""
    assert _sha(_read_back(conn, "%s/up.bin" % folder)) == _sha(data)


def test_upload_replaces_an_existing_file(samba, conn, folder):
    conn.storeFile("data", "%s/r.txt" % folder, io.BytesIO(b"old content that is longer"))
    url = "smb://%s@%s:%d/data/%s/r.txt" % (_creds(samba), samba.host, samba.port, folder)
    _direct_opener(samba).open(url, data=b"new", timeout=30).close()
    assert _read_back(conn, "%s/r.txt" % folder) == b"new"


# ---------------------------------------------------------------- errors

def test_missing_file_is_urlerror_with_operation_failure(samba):
    url = "smb://%s@%s:%d/data/no-such-dir-%s/nothing.txt" % (_creds(samba), samba.host, samba.port,
                                                             uuid.uuid4().hex[:6])
    with pytest.raises(urllib.error.URLError) as info:
        _direct_opener(samba).open(url, timeout=30)
    assert isinstance(info.value.reason, OperationFailure)
    assert info.value.reason.status in (NtStatus.OBJECT_PATH_NOT_FOUND, NtStatus.OBJECT_NAME_NOT_FOUND)


def test_missing_file_in_existing_folder(samba, folder):
    url = "smb://%s@%s:%d/data/%s/nothing.txt" % (_creds(samba), samba.host, samba.port, folder)
    with pytest.raises(urllib.error.URLError) as info:
        _direct_opener(samba).open(url, timeout=30)
    assert isinstance(info.value.reason, OperationFailure)
    assert info.value.reason.status == NtStatus.OBJECT_NAME_NOT_FOUND


def test_wrong_password_is_urlerror(samba):
    url = "smb://%s:wrong@%s:%d/data/x.txt" % (samba.user, samba.host, samba.port)
    with pytest.raises(urllib.error.URLError, match="refused"):
        _direct_opener(samba).open(url, timeout=30)


def test_nothing_listening_is_urlerror(samba):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connection refused
        url = "smb://%s@127.0.0.1:%d/data/x.txt" % (_creds(samba), port)
        with pytest.raises(urllib.error.URLError) as info:
            _direct_opener(samba).open(url, timeout=5)
    assert isinstance(info.value.reason, ConnectionError)


# ---------------------------------------------------------------- NetBIOS session service

class _RecordingConnection(SMBConnection):
    remote_names: List[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        type(self).remote_names.append(self.remote_name)


class _RecordingNetBIOS(NetBIOS):
    answers: List[Optional[List[str]]] = []

    def queryIPForName(self, ip: str, port: int = 137, timeout: float = 30) -> Optional[List[str]]:
        names = super().queryIPForName(ip, port, timeout)
        type(self).answers.append(names)
        return names


@pytest.fixture
def recorders(monkeypatch) -> Any:
    _RecordingConnection.remote_names = []
    _RecordingNetBIOS.answers = []
    monkeypatch.setattr(handler_module, "SMBConnection", _RecordingConnection)
    monkeypatch.setattr(handler_module, "NetBIOS", _RecordingNetBIOS)
    return _RecordingConnection, _RecordingNetBIOS


def test_netbios_port_with_nbname_and_ip(samba, conn, folder, recorders):
    conn.storeFile("data", "%s/nb.txt" % folder, io.BytesIO(b"via port 139"))
    url = "smb://%s@%s,%s:%d/data/%s/nb.txt" % (_creds(samba), samba.netbios_name, samba.host,
                                                samba.netbios_port, folder)
    with _direct_opener(samba).open(url, timeout=30) as resp:
        assert resp.read() == b"via port 139"
    assert recorders[0].remote_names == [samba.netbios_name]
    assert recorders[1].answers == []  # the name was given: no lookup


def test_netbios_port_plain_ip_looks_the_name_up(samba, conn, folder, recorders):
    if not samba.nmbd_running:
        pytest.skip("nmbd is not running for the samba fixture on this host")
    conn.storeFile("data", "%s/lookup.txt" % folder, io.BytesIO(b"looked up"))
    url = "smb://%s@%s:%d/data/%s/lookup.txt" % (_creds(samba), samba.nmb_ip, samba.netbios_port, folder)
    opener = _direct_opener(samba, nbns_port=samba.nmb_port, nbns_timeout=5)
    with opener.open(url, timeout=30) as resp:
        assert resp.read() == b"looked up"
    assert recorders[1].answers and recorders[1].answers[0][0] == samba.netbios_name
    assert recorders[0].remote_names == [samba.netbios_name]


def test_netbios_port_plain_ip_falls_back_to_smbserver(samba, conn, folder, recorders):
    conn.storeFile("data", "%s/fallback.txt" % folder, io.BytesIO(b"any name"))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # a name service that never answers
        url = "smb://%s@%s:%d/data/%s/fallback.txt" % (_creds(samba), samba.host, samba.netbios_port, folder)
        opener = _direct_opener(samba, nbns_port=silent.getsockname()[1], nbns_timeout=0.3)
        with opener.open(url, timeout=30) as resp:
            assert resp.read() == b"any name"
    assert recorders[1].answers == [None]
    assert recorders[0].remote_names == ["*SMBSERVER"]


def test_netbios_port_upload(samba, conn, folder):
    url = "smb://%s@%s,%s:%d/data/%s/nbup.bin" % (_creds(samba), samba.netbios_name, samba.host,
                                                  samba.netbios_port, folder)
    data = os.urandom(300_000)
    urllib.request.build_opener(SMBHandler).open(url, data=io.BytesIO(data), timeout=30).close()
    assert _sha(_read_back(conn, "%s/nbup.bin" % folder)) == _sha(data)
