"""File and file-system information structures ([MS-FSCC] 2.4, 2.5).

These travel inside QUERY_DIRECTORY / QUERY_INFO / SET_INFO buffers (and the
SMB1 TRANS2 equivalents).  Offsets here are relative to the start of the
buffer handed in, not to an SMB header.  Parsers treat the buffer as hostile:
malformed input raises :class:`~smb.exceptions.MalformedResponse` (a :class:`~smb.exceptions.ProtocolError`) and nothing else.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import List, NamedTuple, Optional, Tuple, Union

from smb.exceptions import MalformedResponse

__all__ = [
    "MAX_DIRECTORY_ENTRIES",
    "DirectoryEntry",
    "parse_file_id_both_directory_information",
    "parse_file_both_directory_information",
    "parse_file_full_directory_information",
    "parse_file_id_full_directory_information",
    "parse_file_names_information",
    "parse_find_data",
    "FileBasicInformation",
    "FileStandardInformation",
    "FileInternalInformation",
    "FileAllInformation",
    "FileNetworkOpenInformation",
    "FileNameInformation",
    "FileAlternateNameInformation",
    "parse_file_alternate_name_information",
    "FileRenameInformation",
    "FileDispositionInformation",
    "FileEndOfFileInformation",
    "SnapshotArray",
    "FileFsVolumeInformation",
    "FileFsSizeInformation",
    "FileFsFullSizeInformation",
    "FileFsAttributeInformation",
]

Buffer = Union[bytes, bytearray, memoryview]

MAX_DIRECTORY_ENTRIES = 1 << 20
"""Upper bound on the entries taken from one directory listing buffer."""


def _decode(data: Buffer, what: str) -> str:
    try:
        return str(data, "utf-16-le")  # any buffer, no copy to bytes first
    except UnicodeDecodeError as err:
        raise MalformedResponse(f"{what}: invalid UTF-16LE string") from err


def _fixed(st: struct.Struct, buf: Buffer, offset: int, what: str) -> tuple:
    if offset < 0 or offset + st.size > len(buf):
        raise MalformedResponse(f"{what}: need {st.size} bytes at {offset}, have {len(buf)}")
    return st.unpack_from(buf, offset)


def _string(buf: Buffer, start: int, length: int, what: str) -> str:
    if start + length > len(buf):
        raise MalformedResponse(f"{what}: name of {length} bytes runs past the buffer")
    return _decode(memoryview(buf)[start:start + length], what)


# ---------------------------------------------------------------------------
# directory listings


class DirectoryEntry(NamedTuple):
    """One entry of a directory listing ([MS-FSCC] 2.4.8, 2.4.17 and kin).

    Fields a given information class does not carry are 0 / "".  A named tuple:
    immutable, and cheap to make by the thousand (a big listing makes one per entry).
    """

    file_index: int
    creation_time: int
    last_access_time: int
    last_write_time: int
    change_time: int
    end_of_file: int
    allocation_size: int
    file_attributes: int
    ea_size: int
    short_name: str
    file_id: int
    file_name: str


def _walk(buf: Buffer, fixed_size: int, what: str):
    """Yield (entry_offset, next_offset) along the NextEntryOffset chain.

    Each entry must hold at least its fixed part; a non-zero NextEntryOffset
    must move forward past that fixed part and stay inside the buffer, which
    also rules out loops.  An empty buffer is an empty listing.
    """
    pos = 0
    n = len(buf)
    count = 0
    if n == 0:
        return
    while True:
        if pos + fixed_size > n:
            raise MalformedResponse(f"{what}: entry at {pos} truncated (buffer {n} bytes)")
        (next_off,) = struct.unpack_from("<I", buf, pos)
        yield pos, next_off
        count += 1
        if next_off == 0:
            return
        if next_off < fixed_size:
            raise MalformedResponse(f"{what}: NextEntryOffset {next_off} overlaps the entry")
        if count >= MAX_DIRECTORY_ENTRIES:
            raise MalformedResponse(f"{what}: more than {MAX_DIRECTORY_ENTRIES} entries")
        pos += next_off
        if pos >= n:
            raise MalformedResponse(f"{what}: NextEntryOffset points outside the buffer")


def _check_name_fits(pos: int, fixed_size: int, name_len: int, next_off: int, n: int,
                     what: str) -> int:
    start = pos + fixed_size
    if start + name_len > n or (next_off and fixed_size + name_len > next_off):
        raise MalformedResponse(f"{what}: FileName of {name_len} bytes runs past the entry")
    return start


# [MS-FSCC] 2.4.17 FILE_ID_BOTH_DIR_INFORMATION (2.4.8 is the same minus
# Reserved2 + FileId, so one struct serves both by prefix).
_ID_BOTH_DIR = struct.Struct("<IIQQQQQQIIIBB24sHQ")
_BOTH_DIR = struct.Struct("<IIQQQQQQIIIBB24s")


def _both_entry(buf: Buffer, pos: int, next_off: int, with_id: bool, what: str) -> DirectoryEntry:
    """The entry at ``pos`` (its fixed part is known to fit); ``next_off`` 0
    means the name may run to the end of the buffer."""
    st = _ID_BOTH_DIR if with_id else _BOTH_DIR
    fields = st.unpack_from(buf, pos)
    (_, index, ctime, atime, wtime, chtime, eof, alloc, attrs, name_len, ea,
     short_len, _, short_raw) = fields[:14]
    file_id = fields[15] if with_id else 0
    if short_len > 24:
        raise MalformedResponse(f"{what}: ShortNameLength {short_len} > 24")
    start = _check_name_fits(pos, st.size, name_len, next_off, len(buf), what)
    # (the check above keeps the name inside the buffer and the entry)
    name = _decode(buf[start:start + name_len], what)
    short = _decode(short_raw[:short_len], what) if short_len else ""
    return DirectoryEntry(index, ctime, atime, wtime, chtime, eof, alloc, attrs, ea, short, file_id, name)


def _both_what(with_id: bool) -> str:
    return "FileIdBothDirectoryInformation" if with_id else "FileBothDirectoryInformation"


def _parse_both(buf: Buffer, with_id: bool) -> List[DirectoryEntry]:
    what = _both_what(with_id)
    size = (_ID_BOTH_DIR if with_id else _BOTH_DIR).size
    view = memoryview(buf)  # slices of it cost no copy
    return [_both_entry(view, pos, next_off, with_id, what) for pos, next_off in _walk(view, size, what)]


#: Padding a sane server leaves between two entries (they are 8-byte aligned).
_MAX_PAD = 7


def _entry_length(buf: Buffer, pos: int, size: int) -> int:
    """Fixed part + FileNameLength of the entry at ``pos`` (FileNameLength is
    the 4 bytes before EaSize, at offset 60 in every "both" layout)."""
    return size + struct.unpack_from("<I", buf, pos + 60)[0]


def _parse_both_declared(buf: Buffer, with_id: bool) -> Tuple[List[DirectoryEntry], bool]:
    """Follow NextEntryOffset; a last offset that points exactly at the end of
    the buffer ends the listing (Samba's SMB1 FIND responses do that).
    Returns the entries and whether the layout is tight: no entry leaves more
    than alignment padding before the next one or the end."""
    buf = memoryview(buf)  # slices of it cost no copy
    what = _both_what(with_id)
    size = (_ID_BOTH_DIR if with_id else _BOTH_DIR).size
    n = len(buf)
    out: List[DirectoryEntry] = []
    tight = True
    pos = 0
    while n:
        if pos + size > n:
            raise MalformedResponse(f"{what}: entry at {pos} truncated (buffer {n} bytes)")
        (next_off,) = struct.unpack_from("<I", buf, pos)
        last = next_off == 0 or pos + next_off == n
        out.append(_both_entry(buf, pos, 0 if last else next_off, with_id, what))
        used = _entry_length(buf, pos, size)
        gap = (n - pos if last else next_off) - used
        tight = tight and 0 <= gap <= _MAX_PAD
        if last:
            break
        if next_off < size:
            raise MalformedResponse(f"{what}: NextEntryOffset {next_off} overlaps the entry")
        if len(out) >= MAX_DIRECTORY_ENTRIES:
            raise MalformedResponse(f"{what}: more than {MAX_DIRECTORY_ENTRIES} entries")
        pos += next_off
        if pos >= n:
            raise MalformedResponse(f"{what}: NextEntryOffset points outside the buffer")
    return out, tight


def _parse_both_packed(buf: Buffer, with_id: bool) -> List[DirectoryEntry]:
    """Entries laid back to back, each exactly its fixed part and name long
    (NextEntryOffset ignored), filling the buffer up to alignment padding."""
    buf = memoryview(buf)  # slices of it cost no copy
    what = _both_what(with_id)
    size = (_ID_BOTH_DIR if with_id else _BOTH_DIR).size
    n = len(buf)
    out: List[DirectoryEntry] = []
    pos = 0
    while n - pos > _MAX_PAD:
        if pos + size > n:
            raise MalformedResponse(f"{what}: entry at {pos} truncated (buffer {n} bytes)")
        used = _entry_length(buf, pos, size)
        if pos + used > n:
            raise MalformedResponse(f"{what}: FileName at {pos} runs past the buffer")
        out.append(_both_entry(buf, pos, used, with_id, what))
        if len(out) > MAX_DIRECTORY_ENTRIES:
            raise MalformedResponse(f"{what}: more than {MAX_DIRECTORY_ENTRIES} entries")
        pos += used
    return out


def parse_find_data(buf: Buffer, with_id: bool = True) -> List[DirectoryEntry]:
    """Parse the data of an SMB1 TRANS2 FIND_FIRST2 / FIND_NEXT2 response
    (SMB_FIND_FILE_ID_BOTH_DIRECTORY_INFO, or SMB_FIND_FILE_BOTH_DIRECTORY_INFO
    without ``with_id``; [MS-CIFS] 2.2.8.1.7, [MS-SMB] 2.2.8.1.3).

    Servers disagree about the layout, so every entry is parsed within
    bounds under the layout that explains the buffer:

    * NextEntryOffset followed, each entry followed by at most alignment
      padding (Samba and Windows; Samba's last offset points at the end);
    * otherwise entries back to back with no padding although their offsets
      count some (impacket's FIND_NEXT2);
    * otherwise NextEntryOffset followed with whatever slack the server left.

    When no layout parses, :class:`~smb.exceptions.MalformedResponse` is raised.
    """
    try:
        declared, tight = _parse_both_declared(buf, with_id)
    except MalformedResponse as err:
        declared_error: Optional[MalformedResponse] = err
        declared, tight = [], False
    else:
        declared_error = None
        if tight:
            return declared
    try:
        return _parse_both_packed(buf, with_id)
    except MalformedResponse:
        if declared_error is not None:
            raise declared_error from None
        return declared


def parse_file_id_both_directory_information(buf: Buffer) -> List[DirectoryEntry]:
    """Parse a FileIdBothDirectoryInformation listing ([MS-FSCC] 2.4.17)."""
    return _parse_both(buf, True)


def parse_file_both_directory_information(buf: Buffer) -> List[DirectoryEntry]:
    """Parse a FileBothDirectoryInformation listing ([MS-FSCC] 2.4.8); file_id is 0."""
    return _parse_both(buf, False)


# [MS-FSCC] 2.4.14 FILE_FULL_DIR_INFORMATION and 2.4.18 FILE_ID_FULL_DIR_INFORMATION
_FULL_DIR = struct.Struct("<IIQQQQQQIII")
_ID_FULL_DIR = struct.Struct("<IIQQQQQQIIIIQ")


def _parse_full(buf: Buffer, with_id: bool) -> List[DirectoryEntry]:
    st = _ID_FULL_DIR if with_id else _FULL_DIR
    what = "FileIdFullDirectoryInformation" if with_id else "FileFullDirectoryInformation"
    out: List[DirectoryEntry] = []
    n = len(buf)
    for pos, next_off in _walk(buf, st.size, what):
        fields = st.unpack_from(buf, pos)
        (_, index, ctime, atime, wtime, chtime, eof, alloc, attrs, name_len, ea) = fields[:11]
        file_id = fields[12] if with_id else 0
        start = _check_name_fits(pos, st.size, name_len, next_off, n, what)
        name = _string(buf, start, name_len, what)
        out.append(DirectoryEntry(index, ctime, atime, wtime, chtime, eof, alloc, attrs, ea,
                                  "", file_id, name))
    return out


def parse_file_full_directory_information(buf: Buffer) -> List[DirectoryEntry]:
    """Parse a FileFullDirectoryInformation listing ([MS-FSCC] 2.4.14)."""
    return _parse_full(buf, False)


def parse_file_id_full_directory_information(buf: Buffer) -> List[DirectoryEntry]:
    """Parse a FileIdFullDirectoryInformation listing ([MS-FSCC] 2.4.18)."""
    return _parse_full(buf, True)


_NAMES = struct.Struct("<III")


def parse_file_names_information(buf: Buffer) -> List[str]:
    """Parse a FileNamesInformation listing ([MS-FSCC] 2.4.28): names only."""
    what = "FileNamesInformation"
    out: List[str] = []
    n = len(buf)
    for pos, next_off in _walk(buf, _NAMES.size, what):
        _, _, name_len = _NAMES.unpack_from(buf, pos)
        start = _check_name_fits(pos, _NAMES.size, name_len, next_off, n, what)
        out.append(_string(buf, start, name_len, what))
    return out


# ---------------------------------------------------------------------------
# file information classes

_BASIC = struct.Struct("<QQQQII")


@dataclass(frozen=True)
class FileBasicInformation:
    """FILE_BASIC_INFORMATION ([MS-FSCC] 2.4.7), 40 bytes with Reserved.

    For SET_INFO a time of 0 means "leave unchanged" (and -1 / 0xFFFF...
    means "stop updating it"; pass that as an unsigned 64-bit value).
    """

    creation_time: int = 0
    last_access_time: int = 0
    last_write_time: int = 0
    change_time: int = 0
    file_attributes: int = 0

    size = 40

    def pack(self) -> bytes:
        return _BASIC.pack(self.creation_time, self.last_access_time, self.last_write_time,
                           self.change_time, self.file_attributes, 0)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "FileBasicInformation":
        # Some servers return 36 bytes (no Reserved); accept that.
        if offset < 0 or offset + 36 > len(buf):
            raise MalformedResponse("FileBasicInformation: truncated")
        ctime, atime, wtime, chtime, attrs = struct.unpack_from("<QQQQI", buf, offset)
        return cls(ctime, atime, wtime, chtime, attrs)


_STANDARD = struct.Struct("<QQIBBH")


@dataclass(frozen=True)
class FileStandardInformation:
    """FILE_STANDARD_INFORMATION ([MS-FSCC] 2.4.41), 24 bytes."""

    allocation_size: int
    end_of_file: int
    number_of_links: int
    delete_pending: bool
    directory: bool

    size = 24

    def pack(self) -> bytes:
        return _STANDARD.pack(self.allocation_size, self.end_of_file, self.number_of_links,
                              int(self.delete_pending), int(self.directory), 0)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "FileStandardInformation":
        # The trailing Reserved is sometimes omitted (22 bytes).
        if offset < 0 or offset + 22 > len(buf):
            raise MalformedResponse("FileStandardInformation: truncated")
        alloc, eof, links, pending, directory = struct.unpack_from("<QQIBB", buf, offset)
        return cls(alloc, eof, links, bool(pending), bool(directory))


@dataclass(frozen=True)
class FileInternalInformation:
    """FILE_INTERNAL_INFORMATION ([MS-FSCC] 2.4.22): the 64-bit file id."""

    index_number: int

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "FileInternalInformation":
        return cls(_fixed(_U64, buf, offset, "FileInternalInformation")[0])


_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")

# Internal, EA, Access, Position, Mode, Alignment, FileNameLength
_ALL_MIDDLE = struct.Struct("<QIIQIII")
_ALL_FIXED_SIZE = 40 + 24 + _ALL_MIDDLE.size


@dataclass(frozen=True)
class FileAllInformation:
    """FILE_ALL_INFORMATION ([MS-FSCC] 2.4.2): the fixed part plus the name."""

    basic: FileBasicInformation
    standard: FileStandardInformation
    internal_id: int
    ea_size: int
    access_flags: int
    position: int
    mode: int
    alignment: int
    name: str

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "FileAllInformation":
        what = "FileAllInformation"
        if offset < 0 or offset + _ALL_FIXED_SIZE > len(buf):
            raise MalformedResponse(f"{what}: truncated")
        basic = FileBasicInformation.unpack_from(buf, offset)
        standard = FileStandardInformation.unpack_from(buf, offset + 40)
        internal, ea, access, position, mode, alignment, name_len = _ALL_MIDDLE.unpack_from(
            buf, offset + 64)
        name = _string(buf, offset + _ALL_FIXED_SIZE, name_len, what)
        return cls(basic, standard, internal, ea, access, position, mode, alignment, name)


_NETWORK_OPEN = struct.Struct("<QQQQQQII")


@dataclass(frozen=True)
class FileNetworkOpenInformation:
    """FILE_NETWORK_OPEN_INFORMATION ([MS-FSCC] 2.4.29), 56 bytes."""

    creation_time: int
    last_access_time: int
    last_write_time: int
    change_time: int
    allocation_size: int
    end_of_file: int
    file_attributes: int

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "FileNetworkOpenInformation":
        if offset < 0 or offset + 52 > len(buf):
            raise MalformedResponse("FileNetworkOpenInformation: truncated")
        fields = struct.unpack_from("<QQQQQQI", buf, offset)
        return cls(*fields)


@dataclass(frozen=True)
class FileNameInformation:
    """FILE_NAME_INFORMATION ([MS-FSCC] 2.4.27): FileNameLength + FileName."""

    file_name: str

    def pack(self) -> bytes:
        raw = self.file_name.encode("utf-16-le")
        return _U32.pack(len(raw)) + raw

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "FileNameInformation":
        what = cls.__name__
        (length,) = _fixed(_U32, buf, offset, what)
        return cls(_string(buf, offset + 4, length, what))


@dataclass(frozen=True)
class FileAlternateNameInformation(FileNameInformation):
    """FILE_ALTERNATE_NAME_INFORMATION ([MS-FSCC] 2.4.5): the 8.3 short name,
    laid out as FILE_NAME_INFORMATION."""


def parse_file_alternate_name_information(buf: Buffer) -> str:
    """The short (8.3) name in a FileAlternateNameInformation buffer."""
    return FileAlternateNameInformation.unpack_from(buf).file_name


_RENAME_SMB2 = struct.Struct("<B7xQI")
_RENAME_SMB1 = struct.Struct("<B3xII")


@dataclass(frozen=True)
class FileRenameInformation:
    """FILE_RENAME_INFORMATION ([MS-FSCC] 2.4.37.1 for SMB1, 2.4.37.2 for SMB2).

    ``file_name`` is the new name relative to the share root (SMB2) with no
    leading backslash.
    """

    file_name: str
    replace_if_exists: bool = False
    root_directory: int = 0

    def pack_smb2(self) -> bytes:
        """FILE_RENAME_INFORMATION_TYPE_2: 8-byte RootDirectory.

        Padded to at least 24 bytes, the size of the C structure, which Windows
        servers insist on even for a one-character name.
        """
        raw = self.file_name.encode("utf-16-le")
        out = _RENAME_SMB2.pack(int(self.replace_if_exists), self.root_directory,
                                len(raw)) + raw
        return out + b"\0" * (24 - len(out)) if len(out) < 24 else out

    def pack_smb1(self) -> bytes:
        """FILE_RENAME_INFORMATION_TYPE_1: 4-byte RootDirectory."""
        raw = self.file_name.encode("utf-16-le")
        return _RENAME_SMB1.pack(int(self.replace_if_exists), self.root_directory,
                                 len(raw)) + raw


@dataclass(frozen=True)
class FileDispositionInformation:
    """FILE_DISPOSITION_INFORMATION ([MS-FSCC] 2.4.11), one byte."""

    delete_pending: bool = True

    def pack(self) -> bytes:
        return b"\x01" if self.delete_pending else b"\x00"


@dataclass(frozen=True)
class FileEndOfFileInformation:
    """FILE_END_OF_FILE_INFORMATION ([MS-FSCC] 2.4.13), 8 bytes."""

    end_of_file: int

    def pack(self) -> bytes:
        return _U64.pack(self.end_of_file)


# ---------------------------------------------------------------------------
# FSCTL_SRV_ENUMERATE_SNAPSHOTS output

_SNAPSHOT_HEADER = struct.Struct("<III")


@dataclass(frozen=True)
class SnapshotArray:
    """SRV_SNAPSHOT_ARRAY ([MS-SMB2] 2.2.32.2): the @GMT tokens of the
    previous versions of a share, e.g. ``@GMT-2024.06.15-12.30.00``.

    ``number_of_snapshots`` may exceed ``number_of_snapshots_returned`` when
    the output buffer was too small; ``snapshot_array_size`` then says how
    large it must be.
    """

    number_of_snapshots: int
    number_of_snapshots_returned: int
    snapshot_array_size: int
    snapshots: List[str]

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "SnapshotArray":
        what = "SRV_SNAPSHOT_ARRAY"
        total, returned, size = _fixed(_SNAPSHOT_HEADER, buf, offset, what)
        start = offset + 12
        # With only the header returned (buffer too small), SnapShotArraySize
        # is the size needed, not what is here: there are no names to read.
        if returned == 0:
            return cls(total, returned, size, [])
        text = _string(buf, start, size, what)
        names = [name for name in text.split("\0") if name]
        return cls(total, returned, size, names)


# ---------------------------------------------------------------------------
# file system information classes

_FS_VOLUME = struct.Struct("<QIIBB")


@dataclass(frozen=True)
class FileFsVolumeInformation:
    """FILE_FS_VOLUME_INFORMATION ([MS-FSCC] 2.5.9)."""

    volume_creation_time: int
    volume_serial_number: int
    supports_objects: bool
    volume_label: str

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "FileFsVolumeInformation":
        what = "FileFsVolumeInformation"
        ctime, serial, label_len, objects, _ = _fixed(_FS_VOLUME, buf, offset, what)
        label = _string(buf, offset + _FS_VOLUME.size, label_len, what)
        return cls(ctime, serial, bool(objects), label)


_FS_SIZE = struct.Struct("<QQII")


@dataclass(frozen=True)
class FileFsSizeInformation:
    """FILE_FS_SIZE_INFORMATION ([MS-FSCC] 2.5.8), 24 bytes."""

    total_allocation_units: int
    available_allocation_units: int
    sectors_per_allocation_unit: int
    bytes_per_sector: int

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "FileFsSizeInformation":
        return cls(*_fixed(_FS_SIZE, buf, offset, "FileFsSizeInformation"))


_FS_FULL_SIZE = struct.Struct("<QQQII")


@dataclass(frozen=True)
class FileFsFullSizeInformation:
    """FILE_FS_FULL_SIZE_INFORMATION ([MS-FSCC] 2.5.4), 32 bytes."""

    total_allocation_units: int
    caller_available_allocation_units: int
    actual_available_allocation_units: int
    sectors_per_allocation_unit: int
    bytes_per_sector: int

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "FileFsFullSizeInformation":
        return cls(*_fixed(_FS_FULL_SIZE, buf, offset, "FileFsFullSizeInformation"))


_FS_ATTRIBUTE = struct.Struct("<III")


@dataclass(frozen=True)
class FileFsAttributeInformation:
    """FILE_FS_ATTRIBUTE_INFORMATION ([MS-FSCC] 2.5.1)."""

    file_system_attributes: int
    maximum_component_name_length: int
    file_system_name: str

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> "FileFsAttributeInformation":
        what = "FileFsAttributeInformation"
        attrs, max_len, name_len = _fixed(_FS_ATTRIBUTE, buf, offset, what)
        name = _string(buf, offset + _FS_ATTRIBUTE.size, name_len, what)
        return cls(attrs, max_len, name)
