"""MS-FSCC information structures against hand-built bytes ([MS-FSCC] 2.4, 2.5)."""
from __future__ import annotations

import random

import pytest

from smb import fscc
from smb.exceptions import ProtocolError
from smb.fscc import (
    DirectoryEntry,
    FileAllInformation,
    FileAlternateNameInformation,
    FileBasicInformation,
    FileDispositionInformation,
    FileEndOfFileInformation,
    FileFsAttributeInformation,
    FileFsFullSizeInformation,
    FileFsSizeInformation,
    FileFsVolumeInformation,
    FileInternalInformation,
    FileNetworkOpenInformation,
    FileRenameInformation,
    FileStandardInformation,
    SnapshotArray,
    parse_file_alternate_name_information,
    parse_file_both_directory_information,
    parse_file_full_directory_information,
    parse_file_id_both_directory_information,
    parse_file_id_full_directory_information,
    parse_file_names_information,
)


def le(value: int, width: int) -> bytes:
    return value.to_bytes(width, "little")


def u16(s: str) -> bytes:
    return s.encode("utf-16-le")


T1, T2, T3, T4 = 0x01DA000000000001, 0x01DA000000000002, 0x01DA000000000003, 0x01DA000000000004


def both_entry(name: str, next_off: int = 0, short: str = "", file_id=None,
               attrs: int = 0x20, eof: int = 0, name_len=None, short_len=None) -> bytes:
    """FILE_ID_BOTH_DIR_INFORMATION (or FILE_BOTH_DIR_INFORMATION without file_id)."""
    raw = u16(name)
    sraw = u16(short)
    out = (le(next_off, 4) + le(0, 4) + le(T1, 8) + le(T2, 8) + le(T3, 8) + le(T4, 8)
           + le(eof, 8) + le(4096 if eof else 0, 8) + le(attrs, 4)
           + le(len(raw) if name_len is None else name_len, 4) + le(0, 4)
           + bytes([len(sraw) if short_len is None else short_len]) + b"\0"
           + sraw.ljust(24, b"\0"))
    if file_id is not None:
        out += le(0, 2) + le(file_id, 8)
    out += raw
    if next_off:
        out = out.ljust(next_off, b"\0")
    return out


def id_both_listing() -> bytes:
    # "." is 104 + 2 bytes, padded to 112; "file.txt" ends the chain.
    return (both_entry(".", 112, attrs=0x10, file_id=0x1111)
            + both_entry("file.txt", 0, short="FILE~1.TXT", file_id=0x2222222233333333,
                         eof=5000))


def test_id_both_directory_information():
    buf = id_both_listing()
    assert len(buf) == 112 + 104 + 16
    entries = parse_file_id_both_directory_information(buf)
    assert entries == [
        DirectoryEntry(0, T1, T2, T3, T4, 0, 0, 0x10, 0, "", 0x1111, "."),
        DirectoryEntry(0, T1, T2, T3, T4, 5000, 4096, 0x20, 0, "FILE~1.TXT",
                       0x2222222233333333, "file.txt"),
    ]
    assert parse_file_id_both_directory_information(memoryview(buf)) == entries
    assert parse_file_id_both_directory_information(bytearray(buf)) == entries


def test_id_both_directory_information_trailing_data_is_ignored():
    buf = id_both_listing() + b"\xff" * 13
    assert len(parse_file_id_both_directory_information(buf)) == 2


def test_both_directory_information_has_no_file_id():
    buf = both_entry("..", 104, attrs=0x10) + both_entry("b.bin", 0, eof=7)
    entries = parse_file_both_directory_information(buf)
    assert [(e.file_name, e.file_id, e.end_of_file) for e in entries] == [
        ("..", 0, 0), ("b.bin", 0, 7)]


def test_empty_listing_is_empty():
    assert parse_file_id_both_directory_information(b"") == []


def test_directory_truncations_fail():
    buf = id_both_listing()
    for n in range(1, len(buf)):
        with pytest.raises(ProtocolError):
            parse_file_id_both_directory_information(buf[:n])


@pytest.mark.parametrize("buf", [
    # NextEntryOffset smaller than the fixed part (would loop/overlap)
    both_entry("a", 0, file_id=1)[:0] + le(4, 4) + both_entry("a", 0, file_id=1)[4:]
    + both_entry("b", 0, file_id=2),
    # next entry starts inside this entry's name
    both_entry("abcdef", 0, file_id=1)[:0] + le(106, 4) + both_entry("abcdef", 0, file_id=1)[4:]
    + both_entry("b", 0, file_id=2),
    # NextEntryOffset points outside the buffer
    both_entry("a", 0x7FFFFFF0, file_id=1)[:0x70],
    # FileNameLength past the end
    both_entry("a", 0, file_id=1, name_len=1000),
    # odd-length UTF-16 name
    both_entry("ab", 0, file_id=1, name_len=3),
    # ShortNameLength > 24
    both_entry("a", 0, file_id=1, short_len=26),
    # lone surrogate in the name
    both_entry("a", 0, file_id=1)[:-2] + b"\x00\xd8",
])
def test_directory_hostile_entries(buf):
    with pytest.raises(ProtocolError):
        parse_file_id_both_directory_information(buf)


def test_directory_entry_cap(monkeypatch):
    one = both_entry("x", 112, file_id=1)
    buf = one * 5 + both_entry("y", 0, file_id=2)
    assert len(parse_file_id_both_directory_information(buf)) == 6
    monkeypatch.setattr(fscc, "MAX_DIRECTORY_ENTRIES", 3)
    with pytest.raises(ProtocolError):
        parse_file_id_both_directory_information(buf)


def test_full_directory_information():
    def full(name, next_off, with_id):
        raw = u16(name)
        out = (le(next_off, 4) + le(9, 4) + le(T1, 8) + le(T2, 8) + le(T3, 8) + le(T4, 8)
               + le(10, 8) + le(4096, 8) + le(0x20, 4) + le(len(raw), 4) + le(3, 4))
        if with_id:
            out += le(0, 4) + le(0xABC, 8)
        out += raw
        return out.ljust(next_off, b"\0") if next_off else out

    plain = full("one", 80, False) + full("two", 0, False)
    entries = parse_file_full_directory_information(plain)
    assert [(e.file_name, e.file_index, e.ea_size, e.file_id) for e in entries] == [
        ("one", 9, 3, 0), ("two", 9, 3, 0)]
    with_id = full("one", 88, True) + full("two", 0, True)
    entries = parse_file_id_full_directory_information(with_id)
    assert [(e.file_name, e.file_id) for e in entries] == [("one", 0xABC), ("two", 0xABC)]
    for n in range(1, len(with_id)):
        with pytest.raises(ProtocolError):
            parse_file_id_full_directory_information(with_id[:n])


def test_names_information():
    buf = (le(16, 4) + le(0, 4) + le(2, 4) + u16(".") + b"\0\0"
           + le(0, 4) + le(1, 4) + le(6, 4) + u16("abc"))
    assert parse_file_names_information(buf) == [".", "abc"]
    with pytest.raises(ProtocolError):
        parse_file_names_information(le(8, 4) + le(0, 4) + le(2, 4) + u16("."))


# ---------------------------------------------------------------------------
# file information classes

BASIC = le(T1, 8) + le(T2, 8) + le(T3, 8) + le(T4, 8) + le(0x21, 4) + le(0, 4)
STANDARD = le(8192, 8) + le(5000, 8) + le(1, 4) + b"\x00" + b"\x01" + le(0, 2)


def test_basic_information():
    info = FileBasicInformation(T1, T2, T3, T4, 0x21)
    assert info.pack() == BASIC and len(BASIC) == 40
    assert FileBasicInformation.unpack_from(BASIC) == info
    assert FileBasicInformation.unpack_from(b"\0" * 5 + BASIC, 5) == info
    for n in range(36):
        with pytest.raises(ProtocolError):
            FileBasicInformation.unpack_from(BASIC[:n])
    # "leave unchanged" everywhere but the attributes
    assert FileBasicInformation(0, 0, 0, 0, 0x80).pack() == b"\0" * 32 + le(0x80, 4) + b"\0" * 4


def test_standard_information():
    info = FileStandardInformation.unpack_from(STANDARD)
    assert info == FileStandardInformation(8192, 5000, 1, False, True)
    assert info.pack() == STANDARD
    for n in range(22):
        with pytest.raises(ProtocolError):
            FileStandardInformation.unpack_from(STANDARD[:n])


def test_all_information():
    name = "\\dir\\file.txt"
    buf = (BASIC + STANDARD + le(0x1234, 8) + le(0, 4) + le(0x001F01FF, 4) + le(0, 8)
           + le(0, 4) + le(0, 4) + le(len(u16(name)), 4) + u16(name))
    info = FileAllInformation.unpack_from(buf)
    assert info == FileAllInformation(FileBasicInformation(T1, T2, T3, T4, 0x21),
                                      FileStandardInformation(8192, 5000, 1, False, True),
                                      0x1234, 0, 0x001F01FF, 0, 0, 0, name)
    assert FileAllInformation.unpack_from(buf + b"\0\0") == info
    for n in range(len(buf)):
        with pytest.raises(ProtocolError):
            FileAllInformation.unpack_from(buf[:n])


def test_network_open_and_internal():
    buf = (le(T1, 8) + le(T2, 8) + le(T3, 8) + le(T4, 8) + le(4096, 8) + le(10, 8)
           + le(0x20, 4) + le(0, 4))
    assert FileNetworkOpenInformation.unpack_from(buf) == FileNetworkOpenInformation(
        T1, T2, T3, T4, 4096, 10, 0x20)
    for n in range(52):
        with pytest.raises(ProtocolError):
            FileNetworkOpenInformation.unpack_from(buf[:n])
    assert FileInternalInformation.unpack_from(le(0xFEDCBA98, 8)).index_number == 0xFEDCBA98
    with pytest.raises(ProtocolError):
        FileInternalInformation.unpack_from(b"\0" * 7)


def test_alternate_name():
    buf = le(20, 4) + u16("FILE~1.TXT")
    assert parse_file_alternate_name_information(buf) == "FILE~1.TXT"
    assert FileAlternateNameInformation.unpack_from(buf).file_name == "FILE~1.TXT"
    for n in range(len(buf)):
        with pytest.raises(ProtocolError):
            parse_file_alternate_name_information(buf[:n])
    with pytest.raises(ProtocolError):
        parse_file_alternate_name_information(le(0xFFFFFFFF, 4) + b"ab")


def test_rename_information():
    info = FileRenameInformation("dir\\new.txt", replace_if_exists=True)
    raw = u16("dir\\new.txt")
    assert info.pack_smb2() == b"\x01" + b"\0" * 7 + le(0, 8) + le(len(raw), 4) + raw
    assert info.pack_smb1() == b"\x01" + b"\0" * 3 + le(0, 4) + le(len(raw), 4) + raw
    # a one-character name is padded to the 24-byte structure size
    short = FileRenameInformation("a").pack_smb2()
    assert short == b"\x00" + b"\0" * 7 + le(0, 8) + le(2, 4) + u16("a") + b"\0\0"


def test_small_set_info_structures():
    assert FileDispositionInformation().pack() == b"\x01"
    assert FileDispositionInformation(False).pack() == b"\x00"
    assert FileEndOfFileInformation(0x100000000).pack() == le(0x100000000, 8)


# ---------------------------------------------------------------------------
# snapshots

def test_snapshot_array():
    tokens = ["@GMT-2024.06.15-12.30.00", "@GMT-2024.06.16-12.30.00"]
    array = u16("\0".join(tokens) + "\0\0")
    buf = le(2, 4) + le(2, 4) + le(len(array), 4) + array
    snap = SnapshotArray.unpack_from(buf)
    assert snap == SnapshotArray(2, 2, 102, tokens)
    assert len(array) == 102
    for n in range(len(buf)):
        with pytest.raises(ProtocolError):
            SnapshotArray.unpack_from(buf[:n])


def test_snapshot_array_header_only():
    # Output buffer too small: counts + size needed, no names.
    snap = SnapshotArray.unpack_from(le(3, 4) + le(0, 4) + le(152, 4))
    assert snap == SnapshotArray(3, 0, 152, [])


# ---------------------------------------------------------------------------
# file system information

def test_fs_size_information():
    buf = le(1000000, 8) + le(250000, 8) + le(8, 4) + le(512, 4)
    assert FileFsSizeInformation.unpack_from(buf) == FileFsSizeInformation(1000000, 250000, 8, 512)
    for n in range(len(buf)):
        with pytest.raises(ProtocolError):
            FileFsSizeInformation.unpack_from(buf[:n])


def test_fs_full_size_information():
    buf = le(1000000, 8) + le(200000, 8) + le(250000, 8) + le(8, 4) + le(512, 4)
    assert FileFsFullSizeInformation.unpack_from(buf) == FileFsFullSizeInformation(
        1000000, 200000, 250000, 8, 512)
    for n in range(len(buf)):
        with pytest.raises(ProtocolError):
            FileFsFullSizeInformation.unpack_from(buf[:n])


def test_fs_attribute_information():
    buf = le(0x0000008F, 4) + le(255, 4) + le(8, 4) + u16("NTFS")
    assert FileFsAttributeInformation.unpack_from(buf) == FileFsAttributeInformation(
        0x8F, 255, "NTFS")
    for n in range(len(buf)):
        with pytest.raises(ProtocolError):
            FileFsAttributeInformation.unpack_from(buf[:n])


def test_fs_volume_information():
    buf = le(T1, 8) + le(0xCAFEBABE, 4) + le(8, 4) + b"\x00\x00" + u16("data")
    assert FileFsVolumeInformation.unpack_from(buf) == FileFsVolumeInformation(
        T1, 0xCAFEBABE, False, "data")
    for n in range(len(buf)):
        with pytest.raises(ProtocolError):
            FileFsVolumeInformation.unpack_from(buf[:n])


# ---------------------------------------------------------------------------
# mutation fuzz

@pytest.mark.parametrize("parse,good", [
    (parse_file_id_both_directory_information, id_both_listing()),
    (parse_file_both_directory_information, both_entry("..", 104) + both_entry("b.bin", 0)),
    (FileAllInformation.unpack_from, BASIC + STANDARD + b"\0" * 32 + le(4, 4) + u16("ab")),
    (SnapshotArray.unpack_from,
     le(1, 4) + le(1, 4) + le(52, 4) + u16("@GMT-2024.06.15-12.30.00\0\0")),
    (FileFsAttributeInformation.unpack_from, le(0, 4) + le(255, 4) + le(8, 4) + u16("NTFS")),
])
def test_mutations_only_raise_protocol_error(parse, good):
    rng = random.Random(99)
    for _ in range(400):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        cut = rng.choice((len(data), rng.randrange(len(data) + 1)))
        try:
            parse(bytes(data[:cut]))
        except ProtocolError:
            pass
