"""copy_file in the IO-free core against the scripted SMB2 server: the server-side copy
(resume key, EndOfFile, COPYCHUNK_WRITE spans), adapting to the limits a
STATUS_INVALID_PARAMETER answer carries, partial copies asked again, and the fallback
through the client when the server refuses."""
from __future__ import annotations

import struct
from typing import Any, Dict, List

import pytest

from smb.exceptions import OperationFailure, SMBFileNotFoundError
from tests.unit import fakepeer as fp
from tests.unit.test_core_smb2 import commands, connect, run

SET_INFO = 0x11
RESUME_KEY = 0x00140078
COPYCHUNK_WRITE = 0x001480F2
KEY = b"K" * 24
MIB = 1024 * 1024


def _ioctl_answer(peer: fp.FakeSmb2Server, hdr: Dict[str, Any], code: int, fid: bytes, out: bytes,
                  status: int = fp.STATUS_SUCCESS) -> bytes:
    body = struct.pack("<HHI16sIIIIII", 49, 0, code, fid, 64 + 48, 0, 64 + 48, len(out), 0, 0) + out
    return peer.respond(hdr, body, status)


class CopyServer:
    """IOCTL and SET_INFO handlers for the fake server: copies chunks between its files."""

    def __init__(self, peer: fp.FakeSmb2Server, limits=(256, MIB, 16 * MIB), partial: int = 0,
                 refuse: int = 0) -> None:
        self.peer = peer
        self.limits = limits
        self.partial = partial      # answer this many requests with only the first chunk written
        self.refuse = refuse        # status for every COPYCHUNK (0: copy)
        self.requests: List[List[tuple]] = []
        peer.overrides[fp.IOCTL] = self.ioctl
        peer.overrides[SET_INFO] = self.set_info

    def ioctl(self, peer: fp.FakeSmb2Server, hdr: Dict[str, Any], msg: bytes) -> List[bytes]:
        _, _, code, fid, in_off, in_count = struct.unpack_from("<HHI16sII", msg, 64)
        if code == RESUME_KEY:
            return [_ioctl_answer(peer, hdr, code, fid, KEY + struct.pack("<I", 0) + bytes(4))]
        if code != COPYCHUNK_WRITE:
            return [peer.error(hdr, fp.STATUS_NOT_SUPPORTED)]
        if self.refuse:
            return [peer.error(hdr, self.refuse)]
        key, count, _ = struct.unpack_from("<24sII", msg, in_off)
        assert key == KEY and in_count == 32 + 24 * count
        chunks = [struct.unpack_from("<QQII", msg, in_off + 32 + 24 * i)[:3] for i in range(count)]
        self.requests.append(chunks)
        max_count, max_chunk, max_total = self.limits
        if count > max_count or any(n > max_chunk or n == 0 for _, _, n in chunks) \
                or sum(n for _, _, n in chunks) > max_total:
            return [_ioctl_answer(peer, hdr, code, fid, struct.pack("<III", *self.limits),
                                  fp.STATUS_INVALID_PARAMETER)]
        source = next(c for p, c in peer.files.items() if p.endswith("SRC.BIN"))
        target = peer.files[peer.opens[fid].path]
        if self.partial:
            self.partial -= 1
            chunks = chunks[:1]
        total = 0
        for src_off, dst_off, n in chunks:
            piece = source[src_off:src_off + n]
            target[dst_off:dst_off + len(piece)] = piece
            total += len(piece)
        return [_ioctl_answer(peer, hdr, code, fid, struct.pack("<III", len(chunks), 0, total))]

    def set_info(self, peer: fp.FakeSmb2Server, hdr: Dict[str, Any], msg: bytes) -> List[bytes]:
        _, info_type, info_class, length, off, _, _, fid = struct.unpack_from("<HBBIHHI16s", msg, 64)
        assert (info_type, info_class, length) == (1, 20, 8)  # FileEndOfFileInformation
        (size,) = struct.unpack_from("<Q", msg, off)
        content = peer.files[peer.opens[fid].path]
        del content[size:]
        content.extend(bytes(size - len(content)))
        return [peer.respond(hdr, struct.pack("<H", 2))]


def _data(n: int) -> bytes:
    return bytes((i * 7 + i // 251) & 0xFF for i in range(n))


def _copy(core, peer, progress=None):
    return run(core, peer, core.dialect.copy_file("share", "src.bin", "share", "dst.bin", progress), "copy")


@pytest.mark.parametrize("size", [0, 1, MIB, 16 * MIB + 1, 40 * MIB + 3])
def test_server_side_copy(size):
    data = _data(size)
    core, peer = connect(files={"src.bin": data})
    server = CopyServer(peer)
    seen: List[int] = []
    assert _copy(core, peer, seen.append) == size
    assert bytes(peer.files["DST.BIN"]) == data
    assert not commands(peer, fp.READ) and not commands(peer, fp.WRITE)
    assert sum(seen) == size
    # 16 chunks of 1 MiB a request, spans back to back.
    assert all(len(r) <= 16 and all(n <= MIB for _, _, n in r) for r in server.requests)
    assert len(server.requests) == -(-size // (16 * MIB))


def test_adopts_the_limits_the_server_sends():
    data = _data(5 * MIB + 11)
    core, peer = connect(files={"src.bin": data})
    server = CopyServer(peer, limits=(2, 512 * 1024, MIB))
    assert _copy(core, peer) == len(data)
    assert bytes(peer.files["DST.BIN"]) == data
    ok = [r for r in server.requests if len(r) <= 2 and all(n <= 512 * 1024 for _, _, n in r)]
    assert sum(n for r in ok for _, _, n in r) >= len(data)


def test_nonsense_limits_fail():
    """STATUS_INVALID_PARAMETER with zero limits: nothing to adapt to, the failure is raised."""
    core, peer = connect(files={"src.bin": _data(100)})
    CopyServer(peer, limits=(0, 0, 0))
    with pytest.raises(OperationFailure) as info:
        _copy(core, peer)
    assert info.value.status == fp.STATUS_INVALID_PARAMETER


def test_partial_copy_is_asked_again():
    data = _data(3 * MIB + 5)
    core, peer = connect(files={"src.bin": data})
    CopyServer(peer, partial=2)
    assert _copy(core, peer) == len(data)
    assert bytes(peer.files["DST.BIN"]) == data


@pytest.mark.parametrize("status", [fp.STATUS_NOT_SUPPORTED, 0xC0000010])
def test_refused_copy_goes_through_the_client(status):
    data = _data(2 * MIB + 9)
    core, peer = connect(files={"src.bin": data, "dst.bin": b"old content, longer? no"})
    CopyServer(peer, refuse=status)
    seen: List[int] = []
    assert _copy(core, peer, seen.append) == len(data)
    assert bytes(peer.files["DST.BIN"]) == data
    assert commands(peer, fp.READ) and commands(peer, fp.WRITE)
    assert sum(seen) == len(data)


def test_no_resume_key_goes_through_the_client():
    data = _data(70000)
    core, peer = connect(files={"src.bin": data})
    peer.overrides[SET_INFO] = CopyServer(peer).set_info
    del peer.overrides[fp.IOCTL]  # the fake's own IOCTL answers STATUS_NOT_SUPPORTED
    assert _copy(core, peer) == len(data)
    assert bytes(peer.files["DST.BIN"]) == data


def test_missing_source():
    core, peer = connect(files={})
    CopyServer(peer)
    with pytest.raises(SMBFileNotFoundError):
        _copy(core, peer)
    assert not peer.opens  # nothing left open
