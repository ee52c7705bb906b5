"""The scatter/gather crypto used on the transfer hot path equals the one-shot functions, on
both backends (pycryptodome, and OpenSSL through ``cryptography`` when it is installed), and
the two backends give the same bytes."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from smb import crypto
from smb.exceptions import ProtocolError

BACKENDS = ["pycryptodome", "cryptography"]


@pytest.fixture(autouse=True)
def backend(crypto_backend: str) -> str:
    """Every test here runs on both backends (tests/conftest.py)."""
    return crypto_backend


KEY16 = bytes(range(16))
KEY32 = bytes(range(32))
PARTS = [b"\x01" * 64, memoryview(b"\x02" * 100000), b"", bytearray(b"\x03" * 7)]
WHOLE = b"".join(bytes(p) for p in PARTS)
AAD = bytes(range(32))


def test_macs_over_parts_equal_macs_over_the_whole() -> None:
    assert crypto.hmac_sha256_parts(KEY16, PARTS) == crypto.hmac_sha256(KEY16, WHOLE)
    assert crypto.aes_cmac_parts(KEY16, PARTS) == crypto.aes_cmac(KEY16, WHOLE)
    nonce = bytes(12)
    assert crypto.aes_gmac_parts(KEY16, nonce, PARTS) == crypto.aes_gmac(KEY16, nonce, WHOLE)


@pytest.mark.parametrize("key", [KEY16, KEY32], ids=["aes128", "aes256"])
@pytest.mark.parametrize("ccm", [True, False], ids=["ccm", "gcm"])
def test_aead_parts_round_trip_and_match_one_shot(key: bytes, ccm: bool) -> None:
    nonce = bytes(range(11 if ccm else 12))
    pieces, tag = crypto.aead_encrypt_parts(ccm, key, nonce, AAD, PARTS)
    one_shot = crypto.aes_ccm_encrypt if ccm else crypto.aes_gcm_encrypt
    ct, tag2 = one_shot(key, nonce, AAD, WHOLE)
    assert b"".join(pieces) == ct and tag == tag2
    out = bytearray(len(ct))
    crypto.aead_decrypt_into(ccm, key, nonce, AAD, ct, tag, memoryview(out))
    assert bytes(out) == WHOLE


@pytest.mark.parametrize("ccm", [True, False], ids=["ccm", "gcm"])
def test_aead_decrypt_into_rejects_tampering(ccm: bool) -> None:
    nonce = bytes(11 if ccm else 12)
    pieces, tag = crypto.aead_encrypt_parts(ccm, KEY16, nonce, AAD, PARTS)
    ct = bytearray(b"".join(pieces))
    ct[5000] ^= 1
    with pytest.raises(ProtocolError):
        crypto.aead_decrypt_into(ccm, KEY16, nonce, AAD, bytes(ct), tag, memoryview(bytearray(len(ct))))
    bad_aad = bytes(31) + b"\x01"
    with pytest.raises(ProtocolError):
        crypto.aead_decrypt_into(ccm, KEY16, nonce, bad_aad, b"".join(pieces), tag,
                                 memoryview(bytearray(len(ct))))


@pytest.mark.parametrize("ccm", [True, False], ids=["ccm", "gcm"])
def test_the_backends_agree(ccm: bool, backend: str) -> None:
    if not crypto.fast_backend_available():
        pytest.skip("the cryptography package is not installed")
    key, nonce = os.urandom(32), os.urandom(11 if ccm else 12)
    # Small messages and large ones take different paths through OpenSSL (a kept AESGCM
    # for short GMAC input, streaming contexts and slices for long).
    for sizes in ((1, 15, 16, 17, 70000), (64, 49, 300), (64 * 1024 - 1, 1)):
        parts = [os.urandom(n) for n in sizes]
        results = {}
        for name in BACKENDS:
            crypto.use_backend(name)
            pieces, tag = crypto.aead_encrypt_parts(ccm, key, nonce, AAD, parts)
            results[name] = (b"".join(pieces), tag, crypto.aes_cmac_parts(key[:16], parts),
                             crypto.aes_gmac_parts(key, nonce[:12].ljust(12, b"\0"), parts))
        crypto.use_backend(backend)
        assert results["pycryptodome"] == results["cryptography"], sizes


def test_backend_switch_and_environment() -> None:
    with pytest.raises(ValueError):
        crypto.use_backend("rot13")
    code = "from smb import crypto; print(crypto.backend)"
    env = dict(os.environ, SMBWIRE_CRYPTO="pycryptodome")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "pycryptodome"
    env.pop("SMBWIRE_CRYPTO")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ("cryptography" if crypto.fast_backend_available() else "pycryptodome")
