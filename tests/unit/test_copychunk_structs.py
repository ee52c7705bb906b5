"""Server-side copy messages ([MS-SMB2] 2.2.31.1, 2.2.32.1, 2.2.32.3) against hand-built bytes."""
from __future__ import annotations

import pytest

from smb.exceptions import MalformedResponse
from smb.smb2_structs import CopyChunk, CopyChunkCopy, CopyChunkResponse, ResumeKeyResponse


def le(value: int, width: int) -> bytes:
    return value.to_bytes(width, "little")


KEY = bytes(range(1, 25))


def test_copychunk_copy_exact_bytes():
    msg = CopyChunkCopy(KEY, (CopyChunk(0, 0x10, 0x100000), CopyChunk(0x100000, 0x100010, 7)))
    expected = (KEY + le(2, 4) + le(0, 4)
                + le(0, 8) + le(0x10, 8) + le(0x100000, 4) + le(0, 4)
                + le(0x100000, 8) + le(0x100010, 8) + le(7, 4) + le(0, 4))
    assert msg.pack() == expected
    assert len(expected) == 32 + 2 * 24
    assert CopyChunkCopy.unpack_from(expected) == msg


def test_copychunk_copy_no_chunks_and_bad_key():
    assert CopyChunkCopy(KEY, ()).pack() == KEY + le(0, 8)
    with pytest.raises(ValueError):
        CopyChunkCopy(b"short", ()).pack()


@pytest.mark.parametrize("cut", [0, 1, 31, 32 + 23])
def test_copychunk_copy_truncated(cut):
    good = CopyChunkCopy(KEY, (CopyChunk(1, 2, 3),)).pack()
    with pytest.raises(MalformedResponse):
        CopyChunkCopy.unpack_from(good[:cut])


def test_copychunk_copy_hostile_count():
    with pytest.raises(MalformedResponse):
        CopyChunkCopy.unpack_from(KEY + le(0xFFFFFFFF, 4) + le(0, 4) + bytes(24))


def test_copychunk_response_exact_bytes():
    raw = le(16, 4) + le(0, 4) + le(16 * 1024 * 1024, 4)
    resp = CopyChunkResponse.unpack_from(raw)
    assert resp == CopyChunkResponse(16, 0, 16 * 1024 * 1024)
    assert resp.pack() == raw
    # At an offset, trailing bytes ignored.
    assert CopyChunkResponse.unpack_from(b"\xAA" * 8 + raw + b"\0", 8) == resp


@pytest.mark.parametrize("cut", [0, 4, 11])
def test_copychunk_response_truncated(cut):
    with pytest.raises(MalformedResponse):
        CopyChunkResponse.unpack_from((le(1, 4) * 3)[:cut])


def test_copychunk_response_negative_offset():
    with pytest.raises(MalformedResponse):
        CopyChunkResponse.unpack_from(bytes(12), -1)


def test_resume_key_exact_bytes():
    raw = KEY + le(0, 4)
    assert ResumeKeyResponse.unpack_from(raw) == ResumeKeyResponse(KEY, b"")
    # Bytes after the context are not ours to read: ignored.
    assert ResumeKeyResponse.unpack_from(raw + bytes(4)).resume_key == KEY
    with_context = KEY + le(3, 4) + b"abc"
    assert ResumeKeyResponse.unpack_from(with_context) == ResumeKeyResponse(KEY, b"abc")
    assert ResumeKeyResponse(KEY, b"abc").pack() == with_context
    with pytest.raises(ValueError):
        ResumeKeyResponse(b"x" * 23).pack()


@pytest.mark.parametrize("raw", [b"", KEY, KEY + b"\0\0\0", KEY + le(4, 4) + b"abc", KEY + le(0xFFFFFFFF, 4)])
def test_resume_key_truncated_or_hostile(raw):
    with pytest.raises(MalformedResponse):
        ResumeKeyResponse.unpack_from(raw)
