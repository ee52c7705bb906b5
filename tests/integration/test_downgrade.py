"""Downgrade attacks by a man in the middle (tests/faultproxy.py hooks) against a real Samba.

* The client offers 2.0.2 .. 3.1.1; the attacker strips 3.1.1 so the server picks 3.0.2:
  FSCTL_VALIDATE_NEGOTIATE_INFO ([MS-SMB2] 3.2.5.14.12), sent signed after the first
  TREE_CONNECT, reveals it.
* With 3.1.1, the attacker edits the negotiate contexts (cipher list, or drops the encryption
  context): the preauth integrity hash ([MS-SMB2] 3.2.5.2) of the two sides differs, so the
  keys differ and the signature of the final SESSION_SETUP response does not verify.
* Against a signing-mandatory server the attacker clears SIGNING_REQUIRED in the NEGOTIATE
  response: 3.1.1 detects it through the preauth hash, 3.0.x through VALIDATE_NEGOTIATE.
"""
from __future__ import annotations

import io
import struct
from typing import Any, List, Optional, Tuple

import pytest

from smb.exceptions import NotConnectedError, ProtocolError
from smb.SMBConnection import SIGN_WHEN_SUPPORTED, SMBConnection
from tests.faultproxy import FaultProxy, smb2_command

NEGOTIATE = 0
ENCRYPTION_CONTEXT = 0x0002
_CCM_FOR = {0x0002: 0x0001, 0x0004: 0x0003}  # AES-128-GCM -> AES-128-CCM, AES-256-GCM -> AES-256-CCM


@pytest.fixture
def proxies():
    made = []

    def make(srv: Any) -> FaultProxy:
        proxy = FaultProxy(srv.host, srv.port, time_limit=60).start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()
    for proxy in made:
        assert proxy.errors == []


def _client(srv: Any, **kwargs: Any) -> SMBConnection:
    return SMBConnection(srv.user, srv.password, "pytest-client", srv.netbios_name, is_direct_tcp=True, **kwargs)


def _is_smb2_negotiate(payload: bytes) -> bool:
    return len(payload) > 100 and smb2_command(payload) == NEGOTIATE


# ------------------------------------------------------------------ request edits ([MS-SMB2] 2.2.3)
def _dialects(msg: bytes) -> List[int]:
    count = struct.unpack_from("<H", msg, 66)[0]
    return list(struct.unpack_from("<%dH" % count, msg, 100))


def _contexts(msg: bytes) -> List[Tuple[int, bytes]]:
    offset, count = struct.unpack_from("<IH", msg, 64 + 28)
    out = []
    for _ in range(count):
        ctype, length = struct.unpack_from("<HH", msg, offset)
        out.append((ctype, msg[offset + 8:offset + 8 + length]))
        offset += 8 + length
        offset += (-offset) % 8
    return out


def _rebuild(msg: bytes, dialects: List[int], contexts: List[Tuple[int, bytes]]) -> bytes:
    """The NEGOTIATE request with a new dialect list and new negotiate contexts."""
    fixed = bytearray(msg[:100])
    struct.pack_into("<H", fixed, 66, len(dialects))
    out = fixed + struct.pack("<%dH" % len(dialects), *dialects)
    if not contexts:
        struct.pack_into("<IH", out, 64 + 28, 0, 0)
        return bytes(out)
    out += b"\0" * ((-len(out)) % 8)
    struct.pack_into("<IH", out, 64 + 28, len(out), len(contexts))
    for index, (ctype, data) in enumerate(contexts):
        out += struct.pack("<HHI", ctype, len(data), 0) + data
        if index < len(contexts) - 1:
            out += b"\0" * ((-len(out)) % 8)
    return bytes(out)


class _Edit:
    """A client-frame hook that edits the SMB2 NEGOTIATE request once and remembers it."""

    def __init__(self, edit: Any) -> None:
        self.edit = edit
        self.before: Optional[bytes] = None
        self.after: Optional[bytes] = None

    def __call__(self, payload: bytes) -> Optional[bytes]:
        if self.before is None and _is_smb2_negotiate(payload):
            self.before = payload
            self.after = self.edit(payload)
            return self.after
        return None


def _strip_311(msg: bytes) -> bytes:
    return _rebuild(msg, [d for d in _dialects(msg) if d != 0x0311], [])


def _ccm_only(msg: bytes) -> bytes:
    contexts = []
    for ctype, data in _contexts(msg):
        if ctype == ENCRYPTION_CONTEXT:
            count = struct.unpack_from("<H", data)[0]
            ciphers = [_CCM_FOR.get(c, c) for c in struct.unpack_from("<%dH" % count, data, 2)]
            data = struct.pack("<H%dH" % count, count, *ciphers)
        contexts.append((ctype, data))
    return _rebuild(msg, _dialects(msg), contexts)


def _no_encryption_context(msg: bytes) -> bytes:
    return _rebuild(msg, _dialects(msg), [(t, d) for t, d in _contexts(msg) if t != ENCRYPTION_CONTEXT])


# ------------------------------------------------------------------ response edit ([MS-SMB2] 2.2.4)
class _ClearSigningRequired:
    def __init__(self) -> None:
        self.cleared = 0

    def __call__(self, payload: bytes) -> Optional[bytes]:
        if smb2_command(payload) != NEGOTIATE or len(payload) < 70:
            return None
        mode = struct.unpack_from("<H", payload, 66)[0]
        if not mode & 0x0002:
            return None
        self.cleared += 1
        out = bytearray(payload)
        struct.pack_into("<H", out, 66, mode & ~0x0002)
        return bytes(out)


# ------------------------------------------------------------------ the tests
def test_stripping_311_is_caught_by_validate_negotiate(samba_factory, proxies):
    srv = samba_factory(min_protocol="SMB2_02", max_protocol="SMB3_11")
    proxy = proxies(srv)
    edit = _Edit(_strip_311)
    proxy.on_client_frame = edit
    conn = _client(srv)
    assert conn.connect(proxy.host, proxy.port, timeout=10) is True
    assert 0x0311 in _dialects(edit.before) and 0x0311 not in _dialects(edit.after)
    assert conn.dialect.dialect == 0x0302  # the downgrade "worked" at NEGOTIATE...
    # ...and the first TREE_CONNECT's VALIDATE_NEGOTIATE exposes it: the server sees a dialect
    # list unlike the one it negotiated and hangs up ([MS-SMB2] 3.3.5.15.12); the share is
    # never used.  (Had it answered, the client would compare the answer itself.)
    with pytest.raises(NotConnectedError, match="closed by the server"):
        conn.listPath("data", "/", timeout=5)
    with pytest.raises(NotConnectedError):
        conn.listPath("data", "/", timeout=5)
    conn.close()


def test_untouched_negotiate_through_the_proxy_works(samba_factory, proxies):
    """Control: the same hook machinery with an identity edit changes nothing."""
    srv = samba_factory(min_protocol="SMB2_02", max_protocol="SMB3_11")
    proxy = proxies(srv)
    edit = _Edit(lambda msg: _rebuild(msg, _dialects(msg), _contexts(msg)))
    proxy.on_client_frame = edit
    conn = _client(srv)
    assert conn.connect(proxy.host, proxy.port, timeout=10) is True
    assert edit.after == edit.before  # the rebuild is exact, so the edits above are targeted
    assert conn.dialect.dialect == 0x0311
    conn.listPath("data", "/", timeout=5)
    conn.close()


@pytest.mark.parametrize("tamper", [_ccm_only, _no_encryption_context], ids=["gcm-to-ccm", "no-encryption-ctx"])
@pytest.mark.parametrize("server_options", [{}, {"signing": "mandatory"}, {"encrypt": "desired"}],
                         ids=["plain", "signing-mandatory", "encrypt-desired"])
def test_tampered_311_contexts_break_the_preauth_hash(samba_factory, proxies, tamper, server_options):
    srv = samba_factory(min_protocol="SMB3_11", max_protocol="SMB3_11", **server_options)
    proxy = proxies(srv)
    edit = _Edit(tamper)
    proxy.on_client_frame = edit
    conn = _client(srv)
    with pytest.raises(ProtocolError) as info:
        conn.connect(proxy.host, proxy.port, timeout=10)
    assert edit.after is not None and edit.after != edit.before
    assert "signature" in str(info.value) and "SESSION_SETUP" in str(info.value)
    assert conn.sock is None


@pytest.mark.parametrize("sign_options", [None, SIGN_WHEN_SUPPORTED], ids=["default", "client-requires"])
def test_cleared_signing_required_on_311(samba_factory, proxies, sign_options):
    srv = samba_factory(min_protocol="SMB3_11", max_protocol="SMB3_11", signing="mandatory")
    proxy = proxies(srv)
    strip = _ClearSigningRequired()
    proxy.on_server_frame = strip
    kwargs = {} if sign_options is None else {"sign_options": sign_options}
    conn = _client(srv, **kwargs)
    with pytest.raises(ProtocolError) as info:
        conn.connect(proxy.host, proxy.port, timeout=10)
    assert strip.cleared >= 1
    assert "signature" in str(info.value) and "SESSION_SETUP" in str(info.value)


@pytest.mark.parametrize("dialect", ["SMB3_00", "SMB3_02"])
@pytest.mark.parametrize("sign_options", [None, SIGN_WHEN_SUPPORTED], ids=["default", "client-requires"])
def test_cleared_signing_required_on_30x(samba_factory, proxies, dialect, sign_options):
    srv = samba_factory(min_protocol=dialect, max_protocol=dialect, signing="mandatory")
    proxy = proxies(srv)
    strip = _ClearSigningRequired()
    proxy.on_server_frame = strip
    kwargs = {} if sign_options is None else {"sign_options": sign_options}
    conn = _client(srv, **kwargs)
    assert conn.connect(proxy.host, proxy.port, timeout=10) is True
    assert strip.cleared >= 1
    # Before the fix the default client sent TREE_CONNECT unsigned and Samba refused it
    # (OperationFailure ACCESS_DENIED): now it is signed and VALIDATE_NEGOTIATE catches the edit.
    with pytest.raises(ProtocolError, match="VALIDATE_NEGOTIATE_INFO mismatch"):
        conn.listPath("data", "/", timeout=5)
    with pytest.raises(NotConnectedError):
        conn.retrieveFile("data", "x", io.BytesIO(), timeout=5)
    conn.close()
