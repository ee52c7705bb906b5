"""``smb://`` URL parsing and the handler's decisions, offline.

The handler's ``SMBConnection`` and ``NetBIOS`` are replaced by fakes that
record what they were asked, so no socket is opened.
"""
from __future__ import annotations

import io
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional

import pytest

import smb.SMBHandler as handler_module
from smb.exceptions import NotConnectedError, OperationFailure
from smb.SMBHandler import SMBURL, SMBHandler, parse_smb_url

# ---------------------------------------------------------------- parsing


def test_full_form() -> None:
    u = parse_smb_url("smb://CORP;alice:s3cret@fileserver.example:1445/Share/dir/file.txt")
    assert u == SMBURL(host="fileserver.example", port=1445, share="Share", path="dir/file.txt",
                       username="alice", password="s3cret", domain="CORP", netbios_name="")


def test_minimal_form() -> None:
    u = parse_smb_url("smb://192.0.2.1/share/f")
    assert (u.host, u.port, u.share, u.path, u.username, u.password, u.domain) == \
        ("192.0.2.1", None, "share", "f", "", "", "")


def test_user_without_password_and_empty_port() -> None:
    u = parse_smb_url("smb://bob@host:/s/a/b/c")
    assert (u.username, u.password, u.port, u.path) == ("bob", "", None, "a/b/c")


def test_nbname_and_ip() -> None:
    u = parse_smb_url("smb://u:p@FILESRV,192.0.2.7:139/s/x.bin")
    assert (u.netbios_name, u.host, u.port) == ("FILESRV", "192.0.2.7", 139)


def test_nbname_without_name_is_rejected() -> None:
    with pytest.raises(urllib.error.URLError, match="NetBIOS name"):
        parse_smb_url("smb://,192.0.2.7/s/x")


def test_percent_encoding_in_user_password_domain_path() -> None:
    u = parse_smb_url("smb://DOM%3BX;us%40er:p%3Aa%40s%3Bs%2F%25@h/sh%20are/a%20b/c%23d%3F.txt")
    assert u.domain == "DOM;X"
    assert u.username == "us@er"
    assert u.password == "p:a@s;s/%"
    assert u.share == "sh are"
    assert u.path == "a b/c#d?.txt"


def test_unencoded_at_in_password_uses_the_last_at() -> None:
    u = parse_smb_url("smb://user:p@ss@host/s/f")
    assert (u.username, u.password, u.host) == ("user", "p@ss", "host")


def test_non_ascii_path_raw_and_encoded() -> None:
    raw = parse_smb_url("smb://h/Daten/Grüße/日本.txt")
    encoded = parse_smb_url("smb://h/Daten/Gr%C3%BC%C3%9Fe/%E6%97%A5%E6%9C%AC.txt")
    assert raw.path == encoded.path == "Grüße/日本.txt"


def test_invalid_utf8_is_urlerror() -> None:
    with pytest.raises(urllib.error.URLError, match="UTF-8"):
        parse_smb_url("smb://h/s/%FF%FE.txt")


def test_ipv6_in_brackets() -> None:
    u = parse_smb_url("smb://[::1]:445/s/f")
    assert (u.host, u.port) == ("::1", 445)
    assert parse_smb_url("smb://[fe80::1]/s/f").port is None


@pytest.mark.parametrize("url", ["smb://::1/s/f", "smb://[::1/s/f", "smb://[::1]x/s/f"])
def test_bad_ipv6_forms(url: str) -> None:
    with pytest.raises(urllib.error.URLError):
        parse_smb_url(url)


@pytest.mark.parametrize("url", ["smb://h", "smb://h/", "smb://h//", "smb://u:p@h:445"])
def test_missing_share_is_urlerror(url: str) -> None:
    with pytest.raises(urllib.error.URLError, match="no share"):
        parse_smb_url(url)


@pytest.mark.parametrize("port", ["0", "65536", "12a", "-1"])
def test_bad_port_is_urlerror(port: str) -> None:
    with pytest.raises(urllib.error.URLError, match="port"):
        parse_smb_url("smb://h:%s/s/f" % port)


def test_missing_host_and_wrong_scheme() -> None:
    with pytest.raises(urllib.error.URLError, match="no host"):
        parse_smb_url("smb://user:pw@/s/f")
    with pytest.raises(urllib.error.URLError, match="scheme"):
        parse_smb_url("http://h/s/f")


def test_share_only_url_has_empty_path_and_query_is_ignored() -> None:
    assert parse_smb_url("smb://h/share").path == ""
    assert parse_smb_url("smb://h/share/").path == ""
    assert parse_smb_url("smb://h/share/f.txt?x=1#frag").path == "f.txt"


def test_password_is_not_in_repr() -> None:
    assert "hunter2" not in repr(parse_smb_url("smb://u:hunter2@h/s/f"))


# ---------------------------------------------------------------- handler decisions (fakes)

class FakeConnection:
    instances: List["FakeConnection"] = []
    files: Dict[str, bytes] = {}
    fail_with: Optional[BaseException] = None
    logon_ok = True

    def __init__(self, username: str, password: str, my_name: str, remote_name: str, domain: str = "",
                 use_ntlm_v2: bool = True, is_direct_tcp: bool = False) -> None:
        self.args = dict(username=username, password=password, my_name=my_name, remote_name=remote_name,
                         domain=domain, use_ntlm_v2=use_ntlm_v2, is_direct_tcp=is_direct_tcp)
        self.connected_to: Optional[tuple] = None
        self.closed = False
        self.timeouts: List[float] = []
        FakeConnection.instances.append(self)

    def connect(self, ip: str, port: int = 139, timeout: float = 60) -> bool:
        self.connected_to = (ip, port)
        self.timeouts.append(timeout)
        return self.logon_ok

    def retrieveFile(self, share: str, path: str, file_obj: Any, timeout: float = 30) -> tuple:
        self.timeouts.append(timeout)
        if self.fail_with is not None:
            raise self.fail_with
        data = self.files[share + "/" + path]
        file_obj.write(data)
        return 0x20, len(data)

    def storeFile(self, share: str, path: str, file_obj: Any, timeout: float = 30) -> int:
        data = file_obj.read()
        self.files[share + "/" + path] = data
        return len(data)

    def close(self) -> None:
        self.closed = True


class FakeNetBIOS:
    queries: List[tuple] = []
    answer: Optional[List[str]] = ["FILESRV", "OTHER"]

    def __init__(self, broadcast: bool = True, listen_port: int = 0) -> None:
        assert broadcast is False

    def __enter__(self) -> "FakeNetBIOS":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def queryIPForName(self, ip: str, port: int = 137, timeout: float = 30) -> Optional[List[str]]:
        FakeNetBIOS.queries.append((ip, port, timeout))
        return self.answer


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Any:
    FakeConnection.instances = []
    FakeConnection.files = {"s/dir/report.pdf": b"%PDF-1.4 fake", "s/a.txt": b"hello"}
    FakeConnection.fail_with = None
    FakeConnection.logon_ok = True
    FakeNetBIOS.queries = []
    FakeNetBIOS.answer = ["FILESRV", "OTHER"]
    monkeypatch.setattr(handler_module, "SMBConnection", FakeConnection)
    monkeypatch.setattr(handler_module, "NetBIOS", FakeNetBIOS)
    return FakeConnection, FakeNetBIOS


def _open(url: str, handler: Any = SMBHandler, **kwargs: Any) -> Any:
    return urllib.request.build_opener(handler).open(url, **kwargs)


def test_download_response_and_headers(fakes: Any) -> None:
    with _open("smb://D;u:p%40w@192.0.2.1:445/s/dir/report.pdf") as resp:
        assert resp.read() == b"%PDF-1.4 fake"
        assert resp.headers["Content-type"] == "application/pdf"
        assert resp.headers["Content-length"] == "13"
        assert resp.geturl() == "smb://D;u:p%40w@192.0.2.1:445/s/dir/report.pdf"
    conn = fakes[0].instances[0]
    assert conn.args["username"] == "u" and conn.args["password"] == "p@w" and conn.args["domain"] == "D"
    assert conn.args["is_direct_tcp"] is True
    assert conn.args["remote_name"] == "192.0.2.1"
    assert conn.connected_to == ("192.0.2.1", 445)
    assert conn.closed
    assert fakes[1].queries == []  # direct TCP needs no name


def test_default_port_is_netbios_139_and_name_is_looked_up(fakes: Any) -> None:
    _open("smb://127.0.0.1/s/a.txt").close()
    conn = fakes[0].instances[0]
    assert conn.connected_to == ("127.0.0.1", 139)
    assert conn.args["is_direct_tcp"] is False
    assert conn.args["remote_name"] == "FILESRV"
    assert fakes[1].queries == [("127.0.0.1", 137, SMBHandler.nbns_timeout)]


def test_other_port_is_netbios_and_nbns_port_is_configurable(fakes: Any) -> None:
    _open("smb://127.0.0.1:8139/s/a.txt", SMBHandler(nbns_port=1137, nbns_timeout=0.5)).close()
    conn = fakes[0].instances[0]
    assert conn.connected_to == ("127.0.0.1", 8139) and conn.args["is_direct_tcp"] is False
    assert fakes[1].queries == [("127.0.0.1", 1137, 0.5)]


def test_nbname_given_means_no_lookup(fakes: Any) -> None:
    _open("smb://MYSRV,127.0.0.1/s/a.txt").close()
    assert fakes[0].instances[0].args["remote_name"] == "MYSRV"
    assert fakes[1].queries == []


def test_failed_lookup_falls_back_to_smbserver(fakes: Any) -> None:
    fakes[1].answer = None
    _open("smb://127.0.0.1/s/a.txt").close()
    assert fakes[0].instances[0].args["remote_name"] == "*SMBSERVER"


def test_direct_tcp_ports_are_configurable(fakes: Any) -> None:
    _open("smb://127.0.0.1:4450/s/a.txt", SMBHandler(direct_tcp_ports={4450})).close()
    _open("smb://127.0.0.1:445/s/a.txt", SMBHandler(direct_tcp_ports={4450})).close()
    first, second = fakes[0].instances
    assert first.args["is_direct_tcp"] is True
    assert second.args["is_direct_tcp"] is False


def test_machine_name_and_ntlm_version(fakes: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _open("smb://h,127.0.0.1/s/a.txt").close()
    monkeypatch.setattr(handler_module, "USE_NTLM", False)  # pysmb's module switches
    monkeypatch.setattr(handler_module, "MACHINE_NAME", "PYCLIENT")
    _open("smb://h,127.0.0.1/s/a.txt").close()
    _open("smb://h,127.0.0.1/s/a.txt", SMBHandler(machine_name="OTHER", use_ntlm_v2=True)).close()
    default, module_wide, per_handler = fakes[0].instances
    assert default.args["use_ntlm_v2"] is True
    assert default.args["my_name"] and len(default.args["my_name"]) <= 15
    assert (module_wide.args["my_name"], module_wide.args["use_ntlm_v2"]) == ("PYCLIENT", False)
    assert (per_handler.args["my_name"], per_handler.args["use_ntlm_v2"]) == ("OTHER", True)


def test_timeout_is_passed_on(fakes: Any) -> None:
    _open("smb://h,127.0.0.1/s/a.txt", timeout=7).close()
    _open("smb://h,127.0.0.1/s/a.txt").close()
    assert fakes[0].instances[0].timeouts == [7.0, 7.0]
    assert fakes[0].instances[1].timeouts == [SMBHandler.default_timeout] * 2


@pytest.mark.parametrize("data", [b"uploaded", io.BytesIO(b"uploaded"), bytearray(b"uploaded")],
                         ids=["bytes", "file", "bytearray"])
def test_upload(fakes: Any, data: Any) -> None:
    with _open("smb://h,127.0.0.1/s/new%20file.txt", data=data) as resp:
        assert resp.read() == b""
        assert resp.headers["Content-length"] == "0"
    assert fakes[0].files["s/new file.txt"] == b"uploaded"
    assert fakes[0].instances[0].closed


def test_upload_of_unsupported_data_opens_no_connection(fakes: Any) -> None:
    with pytest.raises(TypeError):
        _open("smb://h,127.0.0.1/s/f", data=12345)
    assert fakes[0].instances == []


def test_share_without_file_is_urlerror_before_connecting(fakes: Any) -> None:
    with pytest.raises(urllib.error.URLError, match="no file"):
        _open("smb://h,127.0.0.1/s/")
    assert fakes[0].instances == []


def test_server_failure_is_urlerror_with_the_cause(fakes: Any) -> None:
    failure = OperationFailure("Failed to retrieve x", status=0xC0000034)
    fakes[0].fail_with = failure
    with pytest.raises(urllib.error.URLError) as info:
        _open("smb://h,127.0.0.1/s/a.txt")
    assert info.value.reason is failure
    assert info.value.__cause__ is failure
    assert fakes[0].instances[0].closed


def test_connection_error_is_urlerror(fakes: Any) -> None:
    fakes[0].fail_with = NotConnectedError("connection lost")
    with pytest.raises(urllib.error.URLError) as info:
        _open("smb://h,127.0.0.1/s/a.txt")
    assert isinstance(info.value.reason, NotConnectedError)


def test_refused_logon_is_urlerror_without_the_password(fakes: Any) -> None:
    fakes[0].logon_ok = False
    with pytest.raises(urllib.error.URLError, match="refused") as info:
        _open("smb://u:topsecret@h,127.0.0.1/s/a.txt")
    assert "topsecret" not in str(info.value)
    assert fakes[0].instances[0].closed


def test_bad_url_through_the_opener_is_urlerror(fakes: Any) -> None:
    with pytest.raises(urllib.error.URLError, match="no share"):
        _open("smb://127.0.0.1")
    assert fakes[0].instances == []


def test_no_deprecated_urllib_helpers() -> None:
    import inspect

    source = inspect.getsource(handler_module)
    for name in ("splituser", "splitport", "splitattr", "splitpasswd", "splithost", "splitquery",
                 "splittype", "splitvalue", "splittag", "splitnport", "to_bytes", "unwrap"):
        assert name not in source, name
