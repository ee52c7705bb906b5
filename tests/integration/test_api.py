"""The pysmb-compatible SMBConnection API against a real Samba, every dialect.

Each test runs once per dialect: NT1 (SMB1, NT LM 0.12), the five SMB2/3 dialects (the
server is forced to exactly that dialect), and "SMB1-forced" (a server offering NT1..SMB3_11,
a client with ``smb.smb_structs.SUPPORT_SMB2 = False``).  A regression in any dialect's
negotiate/sign/encrypt path shows up as that dialect's failure.  SMB1-only variants (extended
security on and off, NTLMv1 and v2, anonymous) are at the end.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import time
import uuid
from datetime import datetime, timezone

import pytest

from smb import smb_constants as C
from smb import smb_structs
from smb.base import SharedDevice, SharedFile
from smb.exceptions import NotConnectedError, NotReadyError, OperationFailure
from smb.nt_status import NtStatus
from smb.security_descriptors import SecurityDescriptor
from smb.SMBConnection import SIGN_WHEN_SUPPORTED, SMBConnection

SMB2_DIALECTS = ["SMB2_02", "SMB2_10", "SMB3_00", "SMB3_02", "SMB3_11"]
SMB1_DIALECTS = ["NT1", "SMB1-forced"]
DIALECTS = ["NT1"] + SMB2_DIALECTS + ["SMB1-forced"]
DIALECT_CODES = {"SMB2_02": 0x0202, "SMB2_10": 0x0210, "SMB3_00": 0x0300, "SMB3_02": 0x0302,
                 "SMB3_11": 0x0311}


def _server(samba_factory, dialect, **extra):
    if dialect == "SMB1-forced":
        # The server speaks every dialect; the client is told not to offer SMB2.
        return samba_factory(min_protocol="NT1", max_protocol="SMB3_11", **extra)
    return samba_factory(min_protocol=dialect, max_protocol=dialect, **extra)


#: The transport the current test runs over (set by the autouse ``transport`` fixture):
#: every test in this module runs once over direct TCP and once over the NetBIOS
#: session service (port 139 framing, SESSION REQUEST first).
_TRANSPORT = {"port139": False}


@pytest.fixture(autouse=True, params=["direct", "netbios"])
def transport(request):
    _TRANSPORT["port139"] = request.param == "netbios"
    yield request.param
    _TRANSPORT["port139"] = False


def _new(srv, user, password, **kwargs):
    """An unconnected SMBConnection for the current transport."""
    return SMBConnection(user, password, "pytest-client", srv.netbios_name,
                         is_direct_tcp=not _TRANSPORT["port139"], **kwargs)


def _port(srv):
    return srv.netbios_port if _TRANSPORT["port139"] else srv.port


def _connect(srv, *, port139=None, user=None, password=None, **kwargs):
    if port139 is None:
        port139 = _TRANSPORT["port139"]
    conn = SMBConnection(srv.user if user is None else user, srv.password if password is None else password,
                         "pytest-client", srv.netbios_name, is_direct_tcp=not port139, **kwargs)
    assert conn.connect(srv.host, srv.netbios_port if port139 else srv.port, timeout=30) is True
    return conn


@pytest.fixture(params=DIALECTS)
def dialect(request, monkeypatch):
    if request.param == "SMB1-forced":
        monkeypatch.setattr(smb_structs, "SUPPORT_SMB2", False)
    return request.param


@pytest.fixture
def srv(samba_factory, dialect):
    return _server(samba_factory, dialect)


@pytest.fixture
def conn(srv):
    c = _connect(srv)
    yield c
    c.close()


@pytest.fixture
def folder(conn):
    """A fresh folder on share ``data`` for one test."""
    name = "t-" + uuid.uuid4().hex[:10]
    conn.createDirectory("data", name)
    return name


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _roundtrip(conn, path, data):
    assert conn.storeFile("data", path, io.BytesIO(data)) == len(data)
    out = io.BytesIO()
    attrs, n = conn.retrieveFile("data", path, out)
    assert n == len(data)
    assert _sha(out.getvalue()) == _sha(data)
    return attrs


# ---------------------------------------------------------------- session

def test_connect_negotiates_the_forced_dialect(conn, dialect):
    if dialect in SMB1_DIALECTS:
        assert not conn.isUsingSMB2
        assert conn.dialect.dialect == "NT LM 0.12"
    else:
        assert conn.isUsingSMB2
        assert conn.dialect.dialect == DIALECT_CODES[dialect]
    assert conn.echo(b"ping") == b"ping"


def test_close_is_idempotent_and_context_manager(srv):
    with _connect(srv) as c:
        assert c.echo(b"x") == b"x"
    assert c.sock is None
    c.close()
    c.close()
    with pytest.raises((NotConnectedError, NotReadyError)):
        c.listShares()


def test_wrong_password_returns_false(srv):
    c = _new(srv, srv.user, "not-the-password")
    assert c.connect(srv.host, _port(srv), timeout=30) is False
    assert c.sock is None
    c.close()


def test_password_may_be_a_callable(srv):
    c = _new(srv, srv.user, lambda: srv.password)
    assert c.connect(srv.host, _port(srv)) is True
    c.close()


def test_guest_on_public_share(srv):
    # An unknown account mapped to guest is refused unless asked for (tests/integration/test_guest.py).
    assert _new(srv, "no-such-user", "").connect(srv.host, _port(srv)) is False
    c = _new(srv, "no-such-user", "", allow_guest_fallback=True)
    assert c.connect(srv.host, _port(srv)) is True and c.isGuest
    name = "guest-%s.txt" % uuid.uuid4().hex[:8]
    data = b"guest data\n" * 100
    assert c.storeFile("public", name, io.BytesIO(data)) == len(data)
    names = [f.filename for f in c.listPath("public", "/")]
    assert name in names
    c.deleteFiles("public", name)
    c.close()


# ---------------------------------------------------------------- shares

def test_list_shares(conn):
    shares = {s.name: s for s in conn.listShares()}
    assert {"data", "public", "readonly", "snapshots", "IPC$"} <= set(shares)
    assert all(isinstance(s, SharedDevice) for s in shares.values())
    assert shares["IPC$"].isSpecial and shares["IPC$"].type == SharedDevice.IPC
    assert shares["data"].type == SharedDevice.DISK_TREE and not shares["data"].isSpecial
    assert shares["data"].comment == "writable, user only"


# ---------------------------------------------------------------- transfers

@pytest.mark.parametrize("size_name", ["0", "1", "maxread-1", "maxread", "maxread+1",
                                       "small-1", "small", "small+1"])
def test_store_and_retrieve_sizes(conn, folder, size_name):
    """Around the read size and around the one-round-trip compound limit (SMB2)."""
    from smb._smb2_ops import SMALL_IO
    max_read = conn.dialect.max_read
    size = {"0": 0, "1": 1, "maxread-1": max_read - 1, "maxread": max_read, "maxread+1": max_read + 1,
            "small-1": SMALL_IO - 1, "small": SMALL_IO, "small+1": SMALL_IO + 1}[size_name]
    data = os.urandom(size)
    attrs = _roundtrip(conn, folder + "/f.bin", data)
    assert not attrs & C.ATTR_DIRECTORY


def test_large_file_sha256(conn, folder, dialect):
    big = dialect in ("SMB3_11", "NT1", "SMB2_02")
    data = os.urandom(50 * 1024 * 1024 if big else 12 * 1024 * 1024 + 12345)
    _roundtrip(conn, folder + "/big.bin", data)


def test_retrieve_from_offset_semantics(conn, folder):
    data = bytes(range(256)) * 1000
    path = folder + "/o.bin"
    conn.storeFile("data", path, io.BytesIO(data))
    out = io.BytesIO()
    assert conn.retrieveFileFromOffset("data", path, out, offset=1000, max_length=5000)[1] == 5000
    assert out.getvalue() == data[1000:6000]
    out = io.BytesIO()
    assert conn.retrieveFileFromOffset("data", path, out, offset=1000)[1] == len(data) - 1000
    assert out.getvalue() == data[1000:]
    out = io.BytesIO()
    assert conn.retrieveFileFromOffset("data", path, out, offset=10, max_length=0)[1] == 0
    assert out.getvalue() == b""
    out = io.BytesIO()
    assert conn.retrieveFileFromOffset("data", path, out, offset=len(data) + 10)[1] == 0
    assert out.getvalue() == b""


def test_store_from_offset_does_not_truncate_unless_asked(conn, folder):
    path = folder + "/s.bin"
    conn.storeFile("data", path, io.BytesIO(b"A" * 100))
    end = conn.storeFileFromOffset("data", path, io.BytesIO(b"BBBB"), offset=10)
    assert end == 14
    out = io.BytesIO()
    conn.retrieveFile("data", path, out)
    assert out.getvalue() == b"A" * 10 + b"BBBB" + b"A" * 86
    end = conn.storeFileFromOffset("data", path, io.BytesIO(b"CC"), offset=5, truncate=True)
    assert end == 7
    out = io.BytesIO()
    conn.retrieveFile("data", path, out)
    assert out.getvalue() == b"\0" * 5 + b"CC"


def test_store_replaces_existing_file(conn, folder):
    path = folder + "/r.bin"
    conn.storeFile("data", path, io.BytesIO(b"x" * 1000))
    conn.storeFile("data", path, io.BytesIO(b"y" * 10))
    assert conn.getAttributes("data", path).file_size == 10


def test_progress_callback_and_tqdm(conn, folder):
    data = os.urandom(3 * 1024 * 1024 + 17)
    seen = []
    conn.storeFile("data", folder + "/p.bin", io.BytesIO(data), progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(data), len(data))
    seen.clear()
    out = io.BytesIO()
    conn.retrieveFile("data", folder + "/p.bin", out, progress=lambda done, total: seen.append((done, total)),
                      show_progress=True, tqdm_kwargs={"disable": True})
    # The total is the size the server gave at open: known from the first callback on.
    assert seen[-1] == (len(data), len(data)) and all(total == len(data) for _, total in seen)
    seen.clear()
    conn.retrieveFileFromOffset("data", folder + "/p.bin", io.BytesIO(), 1000, 2 * 1024 * 1024,
                                progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (2 * 1024 * 1024, 2 * 1024 * 1024)


def test_smbclient_reads_ours_and_we_read_smbclients(conn, srv, folder, tmp_path, dialect):
    data = os.urandom(3 * 1024 * 1024 + 5)
    conn.storeFile("data", folder + "/ours.bin", io.BytesIO(data))
    local = tmp_path / "got.bin"
    # smbclient's own minimum is SMB2_02: tell it to speak NT1 to an NT1-only server.
    protocol = "NT1" if dialect == "NT1" else None
    srv.smbclient("data", 'get %s/ours.bin "%s"' % (folder, local), protocol=protocol)
    assert _sha(local.read_bytes()) == _sha(data)
    theirs = tmp_path / "theirs.bin"
    theirs.write_bytes(os.urandom(2 * 1024 * 1024 + 3))
    srv.smbclient("data", 'put "%s" %s/theirs.bin' % (theirs, folder), protocol=protocol)
    out = io.BytesIO()
    conn.retrieveFile("data", folder + "/theirs.bin", out)
    assert _sha(out.getvalue()) == _sha(theirs.read_bytes())


# ---------------------------------------------------------------- listing

def test_list_path_includes_dot_entries_and_pattern(conn, folder):
    for name in ("a.txt", "b.txt", "c.log"):
        conn.storeFile("data", "%s/%s" % (folder, name), io.BytesIO(b"1"))
    conn.createDirectory("data", folder + "/sub")
    entries = conn.listPath("data", "/" + folder + "/")
    names = sorted(e.filename for e in entries)
    assert names == [".", "..", "a.txt", "b.txt", "c.log", "sub"]
    assert all(isinstance(e, SharedFile) for e in entries)
    sub = [e for e in entries if e.filename == "sub"][0]
    assert sub.isDirectory and not sub.isNormal
    assert sorted(e.filename for e in conn.listPath("data", folder, pattern="*.txt")) == ["a.txt", "b.txt"]
    dirs = conn.listPath("data", folder, search=C.SMB_FILE_ATTRIBUTE_DIRECTORY)
    assert sorted(e.filename for e in dirs) == [".", "..", "sub"]


def test_non_ascii_names_and_patterns(conn, folder):
    names = ["grüße.txt", "日本語.txt", "café ☕.bin"]
    for n in names:
        conn.storeFile("data", "%s\\%s" % (folder, n), io.BytesIO(n.encode()))
    assert sorted(e.filename for e in conn.listPath("data", folder) if e.filename not in (".", "..")) == sorted(names)
    assert [e.filename for e in conn.listPath("data", folder, pattern="日*")] == ["日本語.txt"]
    out = io.BytesIO()
    conn.retrieveFile("data", "%s/%s" % (folder, names[2]), out)
    assert out.getvalue() == names[2].encode()


def test_list_5000_entries(conn, srv, folder):
    local = os.path.join(srv.share_path("data"), folder)
    for i in range(5000):
        with open(os.path.join(local, "entry-%05d.dat" % i), "wb") as fh:
            fh.write(b"x")
    try:
        entries = conn.listPath("data", folder)
        names = {e.filename for e in entries}
        assert len(entries) == 5002
        assert {"entry-00000.dat", "entry-04999.dat", ".", ".."} <= names
    finally:
        shutil.rmtree(local)


def test_missing_path_raises_operation_failure_with_status(conn):
    with pytest.raises(OperationFailure) as info:
        conn.listPath("data", "no/such/folder")
    assert info.value.status in (NtStatus.OBJECT_NAME_NOT_FOUND, NtStatus.OBJECT_PATH_NOT_FOUND)
    assert isinstance(info.value.args[1], list) and info.value.args[1][0].status == info.value.status
    assert "no\\such\\folder" in str(info.value)
    with pytest.raises(OperationFailure) as info:
        conn.retrieveFile("data", "missing.bin", io.BytesIO())
    assert info.value.status == NtStatus.OBJECT_NAME_NOT_FOUND
    # the connection stays usable after a failed operation
    assert conn.echo(b"still here") == b"still here"


def test_readonly_share_refuses_writes(conn):
    with pytest.raises(OperationFailure) as info:
        conn.storeFile("readonly", "nope.txt", io.BytesIO(b"x"))
    assert info.value.status in (NtStatus.ACCESS_DENIED, NtStatus.MEDIA_WRITE_PROTECTED)
    out = io.BytesIO()
    conn.retrieveFile("readonly", "hello.txt", out)
    assert out.getvalue()


# ---------------------------------------------------------------- metadata

def test_get_attributes_fields(conn, folder):
    data = b"z" * 4097
    conn.storeFile("data", folder + "/attr.bin", io.BytesIO(data))
    info = conn.getAttributes("data", folder + "/attr.bin")
    assert info.filename == "attr.bin"
    assert info.file_size == 4097 and info.alloc_size >= 4097
    assert not info.isDirectory and not info.isReadOnly
    assert abs(info.last_write_time - time.time()) < 120
    assert info.create_time > 0 and info.last_access_time > 0 and info.last_attr_change_time > 0
    assert isinstance(info.file_id, int) and info.file_id > 0
    assert isinstance(info.short_name, str)
    d = conn.getAttributes("data", folder)
    assert d.isDirectory


def test_set_last_write_time_round_trip(conn, folder):
    path = folder + "/t.bin"
    conn.storeFile("data", path, io.BytesIO(b"t"))
    when = 1600000000.5
    conn.setLastWriteTime("data", path, when)
    assert conn.getAttributes("data", path).last_write_time == when


def test_reset_file_attributes(conn, folder):
    path = folder + "/ro.bin"
    conn.storeFile("data", path, io.BytesIO(b"r"))
    conn.resetFileAttributes("data", path, C.ATTR_READONLY)
    assert conn.getAttributes("data", path).isReadOnly
    conn.resetFileAttributes("data", path)
    assert not conn.getAttributes("data", path).isReadOnly


def test_get_security(conn, folder):
    conn.storeFile("data", folder + "/sec.bin", io.BytesIO(b"s"))
    sd = conn.getSecurity("data", folder + "/sec.bin")
    assert isinstance(sd, SecurityDescriptor)
    assert str(sd.owner).startswith("S-1-")
    assert sd.dacl is not None and len(sd.dacl.aces) >= 1


def test_list_snapshots(conn, srv):
    snaps = conn.listSnapshots("snapshots", "/")
    expected = sorted(t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t
                      for t in srv.snapshot_times)
    assert sorted(snaps) == expected
    assert all(isinstance(s, datetime) for s in snaps)


# ---------------------------------------------------------------- namespace

def test_directories_rename_and_delete(conn, folder):
    conn.createDirectory("data", folder + "/d1")
    with pytest.raises(OperationFailure) as info:
        conn.createDirectory("data", folder + "/d1")
    assert info.value.status == NtStatus.OBJECT_NAME_COLLISION
    conn.rename("data", folder + "/d1", folder + "/d2")
    conn.storeFile("data", folder + "/d2/f.txt", io.BytesIO(b"f"))
    conn.rename("data", folder + "/d2/f.txt", folder + "/d2/g.txt")
    assert [e.filename for e in conn.listPath("data", folder + "/d2") if e.filename not in (".", "..")] == ["g.txt"]
    with pytest.raises(OperationFailure) as info:
        conn.deleteDirectory("data", folder + "/d2")
    assert info.value.status == NtStatus.DIRECTORY_NOT_EMPTY
    conn.deleteFiles("data", folder + "/d2/g.txt")
    conn.deleteDirectory("data", folder + "/d2")
    assert [e.filename for e in conn.listPath("data", folder)] == [".", ".."] or \
        sorted(e.filename for e in conn.listPath("data", folder)) == [".", ".."]


def test_delete_files_wildcards_and_folders(conn, folder):
    for name in ("a1.txt", "a2.txt", "b1.txt"):
        conn.storeFile("data", "%s/%s" % (folder, name), io.BytesIO(b"x"))
    conn.createDirectory("data", folder + "/adir")
    conn.createDirectory("data", folder + "/adir/inner")
    conn.storeFile("data", folder + "/adir/inner/deep.txt", io.BytesIO(b"d"))
    conn.deleteFiles("data", folder + "/a*")
    left = sorted(e.filename for e in conn.listPath("data", folder) if e.filename not in (".", ".."))
    assert left == ["adir", "b1.txt"]
    conn.deleteFiles("data", folder + "/a*", delete_matching_folders=True)
    left = sorted(e.filename for e in conn.listPath("data", folder) if e.filename not in (".", ".."))
    assert left == ["b1.txt"]
    with pytest.raises(OperationFailure):
        conn.deleteFiles("data", folder + "/zzz*")


def test_delete_files_at_share_root(conn):
    name = "root-%s" % uuid.uuid4().hex[:8]
    conn.storeFile("data", name + ".tmp", io.BytesIO(b"x"))
    conn.deleteFiles("data", "/" + name + "*")
    assert name + ".tmp" not in [e.filename for e in conn.listPath("data", "/")]


# ---------------------------------------------------------------- security

def test_signing_mandatory_server(samba_factory, dialect, crypto_backend):
    srv = _server(samba_factory, dialect, signing="mandatory")
    with _connect(srv) as c:
        assert c.dialect.session.signing_required
        _roundtrip(c, "signed-%s.bin" % uuid.uuid4().hex[:8], os.urandom(2 * 1024 * 1024 + 1))
        assert {"data", "IPC$"} <= {s.name for s in c.listShares()}


def test_client_side_signing_when_supported(srv):
    with _connect(srv, sign_options=SIGN_WHEN_SUPPORTED) as c:
        assert c.dialect.session.signing_required
        _roundtrip(c, "csign-%s.bin" % uuid.uuid4().hex[:8], os.urandom(100000))


def test_port_139_session_service(srv, dialect):
    with _connect(srv, port139=True) as c:
        assert c.isUsingSMB2 == (dialect not in SMB1_DIALECTS)
        _roundtrip(c, "nb-%s.bin" % uuid.uuid4().hex[:8], os.urandom(300000))
        assert "data" in {s.name for s in c.listShares()}


SMB3_CIPHERS = {"SMB3_00": ["AES-128-CCM"], "SMB3_02": ["AES-128-CCM"],
                "SMB3_11": ["AES-128-GCM", "AES-128-CCM", "AES-256-GCM", "AES-256-CCM"]}


@pytest.mark.parametrize("dialect_cipher", [(d, c) for d, cs in SMB3_CIPHERS.items() for c in cs],
                         ids=lambda dc: "%s-%s" % dc)
def test_encryption_required_server(samba_factory, dialect_cipher, crypto_backend):
    dialect, cipher = dialect_cipher
    extra = {"server smb3 encryption algorithms": cipher}
    srv = _server(samba_factory, dialect, encrypt="required", extra_global=extra)
    with _connect(srv) as c:
        assert c.dialect.session.encrypt_data
        _roundtrip(c, "enc-%s.bin" % uuid.uuid4().hex[:8], os.urandom(3 * 1024 * 1024 + 7))
        assert "data" in {s.name for s in c.listShares()}
        assert c.listPath("data", "/")


@pytest.mark.parametrize("dialect3", ["SMB3_00", "SMB3_02", "SMB3_11"])
def test_encryption_on_request(samba_factory, dialect3):
    # "if_required": the server offers encryption but does not ask for it.
    srv = _server(samba_factory, dialect3, extra_global={"server smb encrypt": "if_required"})
    with _connect(srv, encrypt=True) as c:
        assert c.dialect.session.encrypt_data
        _roundtrip(c, "encreq-%s.bin" % uuid.uuid4().hex[:8], os.urandom(1024 * 1024))


# ---------------------------------------------------------------- SMB1 only

@pytest.fixture
def nt1(samba_factory):
    return _server(samba_factory, "NT1")


def _exercise(c, tag):
    """A small tour that touches signing-sensitive paths: transfer, listing, pipe, metadata."""
    name = "%s-%s.bin" % (tag, uuid.uuid4().hex[:8])
    _roundtrip(c, name, os.urandom(3 * 1024 * 1024 + 11))
    assert name in [f.filename for f in c.listPath("data", "/")]
    assert {"data", "IPC$"} <= {s.name for s in c.listShares()}
    assert c.getAttributes("data", name).file_size == 3 * 1024 * 1024 + 11
    c.deleteFiles("data", name)


@pytest.mark.parametrize("extended", [True, False], ids=["extsec", "no-extsec"])
@pytest.mark.parametrize("ntlm_v2", [True, False], ids=["ntlmv2", "ntlmv1"])
@pytest.mark.parametrize("signing", ["auto", "mandatory"])
def test_smb1_auth_forms_and_signing(samba_factory, monkeypatch, extended, ntlm_v2, signing):
    monkeypatch.setattr(smb_structs, "SUPPORT_EXTENDED_SECURITY", extended)
    srv = _server(samba_factory, "NT1", signing=signing) if signing != "auto" else _server(samba_factory, "NT1")
    with _connect(srv, use_ntlm_v2=ntlm_v2) as c:
        assert not c.isUsingSMB2
        assert c.dialect.extended_security == extended
        # Samba never signs after an NT LM 0.12 (non-extended) logon, even when mandatory:
        # the client notices (the placeholder comes back) and goes on unsigned.
        assert c.dialect.session.signing_required == (signing == "mandatory" and extended)
        _exercise(c, "auth")
    bad = _new(srv, srv.user, "wrong",
                        use_ntlm_v2=ntlm_v2)
    assert bad.connect(srv.host, _port(srv), timeout=30) is False


@pytest.mark.parametrize("extended", [True, False], ids=["extsec", "no-extsec"])
def test_smb1_client_side_signing_and_port_139(nt1, monkeypatch, extended):
    monkeypatch.setattr(smb_structs, "SUPPORT_EXTENDED_SECURITY", extended)
    with _connect(nt1, port139=True, sign_options=SIGN_WHEN_SUPPORTED) as c:
        assert c.dialect.session.signing_required == extended  # see test_smb1_auth_forms_and_signing
        # NetBIOS frames stay below 128 KiB: reads and writes are sized for it.
        assert c.dialect.max_read < 0x1FF00 and c.dialect.max_write < 0x1FF00
        _exercise(c, "nbsign")


def test_smb1_io_sizes_and_depth(nt1):
    with _connect(nt1, port139=False) as c:
        d = c.dialect
        assert d.max_read == 1024 * 1024 and d.max_write == 0x1E000
        assert d.max_mpx > 1
    with _connect(nt1, port139=False, sign_options=SIGN_WHEN_SUPPORTED) as c:
        assert c.dialect.max_read == 0x1E000


@pytest.mark.parametrize("extended", [True, False], ids=["extsec", "no-extsec"])
def test_smb1_anonymous_and_guest(nt1, monkeypatch, extended):
    monkeypatch.setattr(smb_structs, "SUPPORT_EXTENDED_SECURITY", extended)
    anon = _new(nt1, "", "")
    assert anon.connect(nt1.host, _port(nt1), timeout=30) is True
    assert "public" in {s.name for s in anon.listShares()}
    anon.close()
    guest = _new(nt1, "no-such-user", "", allow_guest_fallback=True)
    assert guest.connect(nt1.host, _port(nt1), timeout=30) is True
    assert guest.dialect.session.is_guest
    assert guest.listPath("public", "/")
    guest.close()


def test_snapshot_file_contents_through_gmt_token(conn, srv):
    # Every dialect reads a previous version through its @GMT token (SMB1 in
    # the path, SMB2 as a TWrp create context); the current file is unchanged.
    for index, when in enumerate(sorted(srv.snapshot_times)):
        for path in ("%s/report.txt" % srv.gmt_token(when), "/%s\\report.txt" % srv.gmt_token(when)):
            out = io.BytesIO()
            conn.retrieveFile("snapshots", path, out)
            assert out.getvalue() == srv.snapshot_text(index), (path, index)
        with conn.openFile("snapshots", "%s/report.txt" % srv.gmt_token(when)) as fh:
            assert fh.read() == srv.snapshot_text(index)
        assert conn.getAttributes("snapshots", "%s/report.txt" % srv.gmt_token(when)).file_size == \
            len(srv.snapshot_text(index))
        names = {e.filename for e in conn.listPath("snapshots", srv.gmt_token(when))}
        assert "report.txt" in names
    out = io.BytesIO()
    conn.retrieveFile("snapshots", "report.txt", out)
    assert out.getvalue() == srv.snapshot_text(None)


def test_smb1_snapshot_file_contents(nt1):
    # Previous versions are readable through their @GMT token over SMB1 too.
    with _connect(nt1) as c:
        when = sorted(nt1.snapshot_times)[0]
        out = io.BytesIO()
        c.retrieveFile("snapshots", "%s/%s" % (nt1.gmt_token(when), "report.txt"), out)
        assert out.getvalue() == nt1.snapshot_text(0)
