"""No password, hash or key ever reaches a log record or an exception message.

A full session (connect, listShares, store, retrieve, listPath, close) runs with every logger at
DEBUG, for SMB 3.1.1 with signing mandatory, SMB 3.1.1 with encryption required and SMB 2.1.
The captured text (pytest's ``caplog`` plus our own handlers on the ``SMB`` and ``NMB`` logger
trees, formatted with tracebacks) and the text of the exceptions of a refused logon and of a
failing operation are searched for the password, its NT hash and the session, signing,
encryption and decryption keys -- raw, hex (either case), base64, and as Python ``repr``.
"""
from __future__ import annotations

import base64
import io
import logging
import traceback
import uuid
from typing import Iterator, List, Tuple

import pytest

from smb.exceptions import OperationFailure, SMBError
from smb.ntlm import nt_hash
from smb.SMBConnection import SMBConnection

CONFIGS = {
    "smb311-signing": dict(min_protocol="SMB3_11", max_protocol="SMB3_11", signing="mandatory"),
    "smb311-encrypted": dict(min_protocol="SMB3_11", max_protocol="SMB3_11", encrypt="required"),
    "smb210": dict(min_protocol="SMB2_10", max_protocol="SMB2_10"),
}


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(record.args))


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[_Capture]:
    caplog.set_level(logging.DEBUG)
    handler = _Capture()
    saved = []
    # Another test may have run logging configuration that disabled existing
    # loggers; this test needs every library logger live.
    revived = []
    for name, obj in list(logging.root.manager.loggerDict.items()):
        if name.split(".")[0] in ("SMB", "NMB") and isinstance(obj, logging.Logger) and obj.disabled:
            obj.disabled = False
            revived.append(obj)
    for name in ("SMB", "NMB"):
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, level in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
        for logger in revived:
            logger.disabled = True


def forms(secret: bytes) -> List[Tuple[str, str]]:
    """Textual forms in which ``secret`` could leak."""
    out = [("hex", secret.hex()), ("HEX", secret.hex().upper()),
           ("base64", base64.b64encode(secret).decode()), ("repr", repr(secret)[2:-1]),
           ("raw", secret.decode("latin-1"))]
    return [(kind, text) for kind, text in out if len(text) >= 8]


def exception_text(err: BaseException) -> str:
    parts = ["".join(traceback.format_exception(type(err), err, err.__traceback__))]
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        parts += [str(err), repr(err), repr(getattr(err, "args", ()))]
        err = err.__cause__ or err.__context__
    return "\n".join(parts)


def assert_clean(text: str, secrets: List[Tuple[str, bytes]], what: str) -> None:
    assert text, "nothing captured from %s: the check would be vacuous" % what
    for name, secret in secrets:
        for kind, needle in forms(secret):
            assert needle not in text, "%s (%s) found in %s" % (name, kind, what)


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_no_secrets_in_logs_or_exceptions(samba_factory, captured: _Capture, caplog, config: str) -> None:
    srv = samba_factory(**CONFIGS[config])
    password = srv.password
    secrets: List[Tuple[str, bytes]] = [("password", password.encode("utf-8")),
                                        ("password utf-16", password.encode("utf-16-le")),
                                        ("NT hash", nt_hash(password))]
    conn = SMBConnection(srv.user, password, "pytest-client", srv.netbios_name, is_direct_tcp=True)
    assert conn.connect(srv.host, srv.port, timeout=30) is True
    session = conn.dialect.session
    keys = [(attr, bytes(getattr(session, attr))) for attr in
            ("session_key", "signing_key", "encryption_key", "decryption_key")]
    expected = {"session_key", "signing_key"} | ({"encryption_key", "decryption_key"}
                                                  if "encrypted" in config else set())
    assert {name for name, key in keys if key} >= expected
    secrets += [(name, key) for name, key in keys if key]

    errors: List[BaseException] = []
    name = "secrets-%s.bin" % uuid.uuid4().hex[:8]
    payload = b"log hygiene " * 1000
    try:
        assert any(share.name == "data" for share in conn.listShares())
        assert conn.storeFile("data", name, io.BytesIO(payload)) == len(payload)
        out = io.BytesIO()
        conn.retrieveFile("data", name, out)
        assert out.getvalue() == payload
        assert name in [f.filename for f in conn.listPath("data", "/")]
        with pytest.raises(OperationFailure) as failed_op:
            conn.retrieveFile("data", "no-such-dir/no-such-file", io.BytesIO())
        errors.append(failed_op.value)
        conn.deleteFiles("data", name)
    finally:
        conn.close()

    bad = SMBConnection(srv.user, password + "-wrong", "pytest-client", srv.netbios_name, is_direct_tcp=True)
    try:
        assert bad.connect(srv.host, srv.port, timeout=30) is False
    except SMBError as err:  # a refused logon may also surface as an exception
        errors.append(err)
    finally:
        bad.close()
    with pytest.raises(SMBError) as not_ready:
        bad.listShares()
    errors.append(not_ready.value)

    secrets.append(("wrong password", (password + "-wrong").encode("utf-8")))
    secrets.append(("wrong NT hash", nt_hash(password + "-wrong")))
    # DEBUG really was on: the negotiation and the NTLM exchange both logged.
    assert any(line.startswith("SMB.SMBConnection DEBUG") for line in captured.lines), captured.lines
    assert any(line.startswith("SMB.ntlm DEBUG") for line in captured.lines), captured.lines
    assert_clean("\n".join(captured.lines), secrets, "SMB/NMB log records")
    assert_clean(caplog.text + "\n".join(r.getMessage() for r in caplog.records), secrets, "caplog")
    for err in errors:
        assert_clean(exception_text(err), secrets, "exception %r" % type(err).__name__)


def test_checker_detects_a_leak() -> None:
    """The search above finds a key logged in any of the forms it claims to cover."""
    key = bytes(range(16))
    for kind, text in forms(key):
        with pytest.raises(AssertionError):
            assert_clean("signing key is %s!" % text, [("key", key)], "sample")
