"""DFS referrals ([MS-DFSC]): the request and response messages, UNC path helpers
and a referral cache.  Nothing here does IO.

A client that meets ``STATUS_PATH_NOT_COVERED`` asks the server (over IPC$, with
an IOCTL ``FSCTL_DFS_GET_REFERRALS``/``FSCTL_DFS_GET_REFERRALS_EX``, or the SMB1
``TRANS2_GET_DFS_REFERRAL``) where the path really lives:

    path = dfs_request_path(r"\\\\srv\\dfs\\link\\dir\\file.txt")   # -> "\\srv\\dfs\\link\\dir\\file.txt"
    request = ReferralRequest(request_file_name=path)
    ...send request.pack() as the IOCTL input, get the output buffer...
    response = ReferralResponse.unpack(output)
    for target in resolve(response, request.request_file_name):
        ...try target.server / target.share / target.rest...

Paths inside DFS referrals start with a single backslash (``\\server\\share\\path``,
[MS-DFSC] 3.1.4.2); :func:`dfs_request_path` turns a UNC path into that form.

The response parser treats the buffer as hostile: anything malformed raises
:class:`~smb.exceptions.MalformedResponse` and nothing else, counts and string
sizes are capped before anything is allocated.
"""
from __future__ import annotations

import collections
import struct
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Dict, List, Optional, Sequence, Tuple, Union

from smb.exceptions import MalformedResponse
from smb.nt_status import NtStatus
from smb.smb2_constants import Fsctl

__all__ = [
    "FSCTL_DFS_GET_REFERRALS",
    "FSCTL_DFS_GET_REFERRALS_EX",
    "STATUS_PATH_NOT_COVERED",
    "MAX_REFERRALS",
    "MAX_EXPANDED_NAMES",
    "MAX_STRING_BYTES",
    "ReferralHeaderFlags",
    "ReferralEntryFlags",
    "DfsServerType",
    "REFERRAL_SERVERS",
    "STORAGE_SERVERS",
    "TARGET_FAILBACK",
    "NAME_LIST_REFERRAL",
    "TARGET_SET_BOUNDARY",
    "ReferralRequest",
    "ReferralRequestEx",
    "Referral",
    "ReferralResponse",
    "Target",
    "split_unc",
    "join_unc",
    "dfs_request_path",
    "resolve",
    "CacheEntry",
    "ReferralCache",
]

Buffer = Union[bytes, bytearray, memoryview]

FSCTL_DFS_GET_REFERRALS = Fsctl.DFS_GET_REFERRALS
FSCTL_DFS_GET_REFERRALS_EX = Fsctl.DFS_GET_REFERRALS_EX
STATUS_PATH_NOT_COVERED = NtStatus.PATH_NOT_COVERED

MAX_REFERRALS = 1024
"""Most referral entries accepted in one response (real ones carry a handful)."""
MAX_EXPANDED_NAMES = 1024
"""Most DC names accepted in one response, over all its name-list entries."""
MAX_STRING_BYTES = 1 << 20
"""Most UTF-16 bytes decoded from one response.  Strings shared between entries
(servers point every entry's DFSPath at one copy) are decoded and counted once."""


class ReferralHeaderFlags(IntFlag):
    """ReferralHeaderFlags of RESP_GET_DFS_REFERRAL ([MS-DFSC] 2.2.4)."""

    REFERRAL_SERVERS = 0x00000001
    STORAGE_SERVERS = 0x00000002
    TARGET_FAILBACK = 0x00000004


class ReferralEntryFlags(IntFlag):
    """ReferralEntryFlags of DFS_REFERRAL_V3/V4 ([MS-DFSC] 2.2.5.3, 2.2.5.4)."""

    NAME_LIST_REFERRAL = 0x0002
    TARGET_SET_BOUNDARY = 0x0004


class DfsServerType(IntEnum):
    """ServerType of a referral entry ([MS-DFSC] 2.2.5.1-2.2.5.4)."""

    NON_ROOT = 0x0000
    ROOT = 0x0001


REFERRAL_SERVERS = ReferralHeaderFlags.REFERRAL_SERVERS
STORAGE_SERVERS = ReferralHeaderFlags.STORAGE_SERVERS
TARGET_FAILBACK = ReferralHeaderFlags.TARGET_FAILBACK
NAME_LIST_REFERRAL = ReferralEntryFlags.NAME_LIST_REFERRAL
TARGET_SET_BOUNDARY = ReferralEntryFlags.TARGET_SET_BOUNDARY

_SEPARATORS = "\\/"


def _utf16z(text: str, what: str) -> bytes:
    """``text`` as NUL-terminated UTF-16LE; a NUL inside it would cut the string short."""
    if "\0" in text:
        raise ValueError(f"{what} contains a NUL character")
    try:
        return text.encode("utf-16-le") + b"\0\0"
    except UnicodeEncodeError as err:
        raise ValueError(f"{what} is not encodable as UTF-16") from err


def _check_level(level: int) -> None:
    if not 1 <= level <= 4:
        raise ValueError(f"max_referral_level must be 1..4, not {level}")


# ---------------------------------------------------------------------------
# requests

_REQ = struct.Struct("<H")


@dataclass(frozen=True)
class ReferralRequest:
    """REQ_GET_DFS_REFERRAL ([MS-DFSC] 2.2.2): the input of FSCTL_DFS_GET_REFERRALS
    and the data of TRANS2_GET_DFS_REFERRAL.

    ``request_file_name`` is sent as given (see :func:`dfs_request_path`); the
    empty name asks a DC for its domain list ([MS-DFSC] 3.1.4.2).
    """

    max_referral_level: int = 4
    request_file_name: str = ""

    def pack(self) -> bytes:
        _check_level(self.max_referral_level)
        return _REQ.pack(self.max_referral_level) + _utf16z(self.request_file_name, "request_file_name")


_REQ_EX = struct.Struct("<HHI")
_LEN16 = struct.Struct("<H")
_SITE_NAME_PRESENT = 0x0001


@dataclass(frozen=True)
class ReferralRequestEx:
    """REQ_GET_DFS_REFERRAL_EX ([MS-DFSC] 2.2.3, RequestData 2.2.3.1): the input
    of FSCTL_DFS_GET_REFERRALS_EX.

    The spec gives RequestFileNameLength and SiteNameLength without saying
    whether the terminator counts; both are sent NUL-terminated and the lengths
    are byte counts that include the NUL.  RequestFlags has SiteName (0x1) set
    when ``site_name`` is given.
    """

    max_referral_level: int = 4
    request_file_name: str = ""
    site_name: Optional[str] = None

    def pack(self) -> bytes:
        _check_level(self.max_referral_level)
        name = _utf16z(self.request_file_name, "request_file_name")
        if len(name) > 0xFFFF:
            raise ValueError("request_file_name is too long for RequestFileNameLength")
        data = _LEN16.pack(len(name)) + name
        flags = 0
        if self.site_name is not None:
            site = _utf16z(self.site_name, "site_name")
            if len(site) > 0xFFFF:
                raise ValueError("site_name is too long for SiteNameLength")
            data += _LEN16.pack(len(site)) + site
            flags |= _SITE_NAME_PRESENT
        return _REQ_EX.pack(self.max_referral_level, flags, len(data)) + data


# ---------------------------------------------------------------------------
# response

_HEADER = struct.Struct("<HHI")
_ENTRY = struct.Struct("<HHHH")            # VersionNumber, Size, ServerType, ReferralEntryFlags
_V2 = struct.Struct("<IIHHH")              # Proximity, TimeToLive, three string offsets
_V3 = struct.Struct("<IHHH")               # TimeToLive, three offsets (or name-list fields)
_V2_FIXED = _ENTRY.size + _V2.size         # 22
# ServiceSiteGuid (16 bytes, ignored) follows the offsets of a V3/V4 path entry; the
# name-list form ends at the same 18 bytes, so only those are required.
_V3_FIXED = _ENTRY.size + _V3.size         # 18


@dataclass(frozen=True)
class Referral:
    """One referral entry, DFS_REFERRAL_V1..V4 ([MS-DFSC] 2.2.5.1-2.2.5.4).

    ``ttl`` is in seconds (a V1 entry has none: 0).  ``network_address`` is the
    target (``\\server\\share\\path``; V1's ShareName).  A name-list entry
    (NameListReferral, V3/V4: a domain or DC referral, [MS-DFSC] 2.2.5.3.2)
    has ``special_name`` (the domain) and ``expanded_names`` (the DCs) and
    empty path strings; other entries have those empty.
    """

    version: int
    server_type: int
    entry_flags: int
    ttl: int
    dfs_path: str
    dfs_alternate_path: str
    network_address: str
    special_name: str = ""
    expanded_names: List[str] = field(default_factory=list)

    @property
    def is_root(self) -> bool:
        """ServerType 1: the target is a DFS root target."""
        return self.server_type == DfsServerType.ROOT

    @property
    def is_name_list(self) -> bool:
        """A domain or DC referral (NameListReferral set in a V3/V4 entry)."""
        return self.version >= 3 and bool(self.entry_flags & NAME_LIST_REFERRAL)

    @property
    def target_set_boundary(self) -> bool:
        """V4: this entry starts a new target set (a new priority class)."""
        return self.version >= 4 and bool(self.entry_flags & TARGET_SET_BOUNDARY)


class _Strings:
    """NUL-terminated UTF-16LE strings of one response, decoded at most once each,
    within a budget of :data:`MAX_STRING_BYTES`."""

    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.raw = bytes(buf)  # for bytes.find; never larger than the input
        self.cache: Dict[int, Tuple[str, int]] = {}
        self.budget = MAX_STRING_BYTES

    def read(self, start: int, limit: int, what: str) -> Tuple[str, int]:
        """The string at ``start`` (which must end before ``limit``) and the offset after its NUL."""
        hit = self.cache.get(start)
        if hit is not None and hit[1] <= limit:
            return hit
        if start < 0 or start >= limit:
            raise MalformedResponse(f"{what}: string offset {start} outside the buffer ({limit} bytes)")
        end = self.raw.find(b"\0\0", start, limit)
        # Only a NUL code unit ends the string: skip pairs straddling two characters.
        while end >= 0 and (end - start) % 2:
            end = self.raw.find(b"\0\0", end + 1, limit)
        if end < 0:
            raise MalformedResponse(f"{what}: string at {start} is not NUL-terminated")
        size = end - start
        if size > self.budget:
            raise MalformedResponse(f"{what}: more than {MAX_STRING_BYTES} bytes of strings")
        self.budget -= size
        try:
            text = str(self.buf[start:end], "utf-16-le")
        except UnicodeDecodeError as err:
            raise MalformedResponse(f"{what}: invalid UTF-16LE string at {start}") from err
        result = (text, end + 2)
        self.cache[start] = result
        return result


@dataclass(frozen=True)
class ReferralResponse:
    """RESP_GET_DFS_REFERRAL ([MS-DFSC] 2.2.4): the output of the referral FSCTLs.

    ``path_consumed`` is PathConsumed as sent: the number of UTF-16 *bytes* of
    the request path the referral covers (``path_consumed_chars`` in
    characters).  All entries share one version ([MS-DFSC] 2.2.5).
    """

    path_consumed: int
    header_flags: int
    referrals: List[Referral]

    @property
    def path_consumed_chars(self) -> int:
        """PathConsumed in UTF-16 code units (a character outside the BMP counts two)."""
        return self.path_consumed // 2

    @property
    def version(self) -> int:
        """The referral version of the response (0 when it has no entries)."""
        return self.referrals[0].version if self.referrals else 0

    @property
    def referral_servers(self) -> bool:
        """ReferralServers: every target is a root target that can answer referrals."""
        return bool(self.header_flags & REFERRAL_SERVERS)

    @property
    def storage_servers(self) -> bool:
        """StorageServers: every target holds storage (no further referral needed)."""
        return bool(self.header_flags & STORAGE_SERVERS)

    @property
    def target_failback(self) -> bool:
        return bool(self.header_flags & TARGET_FAILBACK)

    @classmethod
    def unpack(cls, data: Buffer) -> "ReferralResponse":
        """Parse a whole response buffer (bytes after it, e.g. padding, are ignored)."""
        return cls.unpack_from(data, 0)

    @classmethod
    def unpack_from(cls, data: Buffer, offset: int = 0) -> "ReferralResponse":
        """Parse the response starting at ``offset`` of ``data``; everything up to the
        end of ``data`` belongs to it (entries' string offsets may point anywhere in it)."""
        what = "DFS referral response"
        view = memoryview(data)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        if offset < 0 or offset > len(view):
            raise MalformedResponse(f"{what}: offset {offset} outside the buffer")
        buf = view[offset:]
        n = len(buf)
        if n < _HEADER.size:
            raise MalformedResponse(f"{what}: {n} bytes, the header needs {_HEADER.size}")
        path_consumed, count, header_flags = _HEADER.unpack_from(buf, 0)
        if path_consumed % 2:
            raise MalformedResponse(f"{what}: PathConsumed {path_consumed} is not a whole number of UTF-16 units")
        if count > MAX_REFERRALS:
            raise MalformedResponse(f"{what}: {count} referrals (at most {MAX_REFERRALS})")
        if count * _ENTRY.size > n - _HEADER.size:
            raise MalformedResponse(f"{what}: {count} referrals cannot fit in {n} bytes")
        strings = _Strings(buf)
        budget = [MAX_EXPANDED_NAMES]
        referrals: List[Referral] = []
        pos = _HEADER.size
        version = 0
        for index in range(count):
            entry_what = f"{what} entry {index}"
            if pos + _ENTRY.size > n:
                raise MalformedResponse(f"{entry_what}: truncated at {pos} (buffer {n} bytes)")
            ver, size, server_type, entry_flags = _ENTRY.unpack_from(buf, pos)
            if not 1 <= ver <= 4:
                raise MalformedResponse(f"{entry_what}: unknown referral version {ver}")
            if version and ver != version:
                raise MalformedResponse(f"{entry_what}: version {ver} in a version {version} response")
            version = ver
            fixed = _ENTRY.size + 2 if ver == 1 else _V2_FIXED if ver == 2 else _V3_FIXED
            if size < fixed:
                raise MalformedResponse(f"{entry_what}: Size {size} is smaller than the fixed part ({fixed})")
            if pos + size > n:
                raise MalformedResponse(f"{entry_what}: Size {size} at {pos} runs past the buffer ({n} bytes)")
            referrals.append(_parse_entry(buf, strings, budget, pos, ver, size, server_type, entry_flags,
                                          entry_what))
            pos += size
        return cls(path_consumed, header_flags, referrals)


def _parse_entry(buf: memoryview, strings: _Strings, names_left: List[int], pos: int, ver: int, size: int,
                 server_type: int, entry_flags: int, what: str) -> Referral:
    n = len(buf)
    if ver == 1:
        # V1 ShareName lies inside the entry itself.
        share, _ = strings.read(pos + _ENTRY.size, pos + size, what + " ShareName")
        return Referral(1, server_type, entry_flags, 0, "", "", share)
    if ver == 2:
        _proximity, ttl, path_off, alt_off, addr_off = _V2.unpack_from(buf, pos + _ENTRY.size)
    else:
        ttl, path_off, alt_off, addr_off = _V3.unpack_from(buf, pos + _ENTRY.size)
        if entry_flags & NAME_LIST_REFERRAL:
            # [MS-DFSC] 2.2.5.3.2: SpecialNameOffset, NumberOfExpandedNames, ExpandedNameOffset.
            special_off, number, expanded_off = path_off, alt_off, addr_off
            special, _ = strings.read(pos + special_off, n, what + " SpecialName")
            if number > names_left[0]:
                raise MalformedResponse(f"{what}: more than {MAX_EXPANDED_NAMES} expanded names")
            names_left[0] -= number
            names: List[str] = []
            at = pos + expanded_off
            for i in range(number):
                name, at = strings.read(at, n, f"{what} ExpandedName {i}")
                names.append(name)
            return Referral(ver, server_type, entry_flags, ttl, "", "", "", special, names)
    dfs_path, _ = strings.read(pos + path_off, n, what + " DFSPath")
    alt_path, _ = strings.read(pos + alt_off, n, what + " DFSAlternatePath")
    address, _ = strings.read(pos + addr_off, n, what + " NetworkAddress")
    return Referral(ver, server_type, entry_flags, ttl, dfs_path, alt_path, address)


# ---------------------------------------------------------------------------
# paths


def _parts(text: str) -> List[str]:
    """The non-empty components of a path split at either separator."""
    return [part for part in text.replace("/", "\\").split("\\") if part]


def split_unc(path: str) -> Tuple[str, str, str]:
    """``\\\\server\\share\\rest`` (or with forward slashes) as ``(server, share, rest)``.

    ``rest`` has backslash separators and no leading, trailing or doubled ones
    ("" for the share itself).  ``ValueError`` unless ``path`` starts with exactly
    two separators followed by a server and a share.
    """
    if len(path) < 2 or path[0] not in _SEPARATORS or path[1] not in _SEPARATORS:
        raise ValueError(f"not a UNC path (\\\\server\\share...): {path!r}")
    body = path[2:].replace("/", "\\")
    pieces = body.split("\\", 2)
    if len(pieces) < 2 or not pieces[0] or not pieces[1]:
        raise ValueError(f"UNC path without a server and a share: {path!r}")
    rest = "\\".join(_parts(pieces[2])) if len(pieces) == 3 else ""
    return pieces[0], pieces[1], rest


def join_unc(server: str, share: str, rest: str = "") -> str:
    """``\\\\server\\share\\rest``; ``rest`` may use either separator and have leading,
    trailing or doubled ones.  ``ValueError`` for an empty server or share or one
    holding a separator."""
    for name, value in (("server", server), ("share", share)):
        if not value or any(sep in value for sep in _SEPARATORS):
            raise ValueError(f"invalid {name} name for a UNC path: {value!r}")
    tail = "\\".join(_parts(rest))
    return "\\\\%s\\%s" % (server, share) + ("\\" + tail if tail else "")


def dfs_request_path(unc: str) -> str:
    """The single-backslash form DFS referral requests carry (``\\server\\share\\rest``)
    of the UNC path ``unc``, to use as ``request_file_name`` and with :func:`resolve`."""
    server, share, rest = split_unc(unc)
    return "\\" + "\\".join([server, share] + ([rest] if rest else []))


def _address_parts(address: str) -> List[str]:
    """Components of a referral target or DFS path: one or two leading separators."""
    if not address or address[0] not in _SEPARATORS:
        return []
    return _parts(address)


@dataclass(frozen=True)
class Target:
    """Where a DFS path leads: ``path`` (``\\\\server\\share\\rest``) in pieces, with
    the referral target it was built from (``network_address``, as sent)."""

    path: str
    server: str
    share: str
    rest: str
    network_address: str
    server_type: int = DfsServerType.NON_ROOT
    target_set_boundary: bool = False


def _target(address: str, tail: Sequence[str], server_type: int, boundary: bool) -> Target:
    parts = _address_parts(address)
    if len(parts) < 2:
        raise MalformedResponse(f"DFS referral target {address!r} names no \\server\\share")
    rest = "\\".join(parts[2:] + list(tail))
    return Target(join_unc(parts[0], parts[1], rest), parts[0], parts[1], rest, address, server_type, boundary)


def resolve(response: ReferralResponse, requested_path: str) -> List[Target]:
    """The paths ``requested_path`` becomes at each target of ``response``, in order.

    ``requested_path`` must be the RequestFileName exactly as sent: PathConsumed
    counts its UTF-16 bytes.  The part after the consumed prefix (its case kept)
    is appended to each target's NetworkAddress.  ``MalformedResponse`` when the
    server consumed more than was sent or stopped inside a path component, or a
    target names no server and share.  Name-list (domain/DC) entries have no
    target and are skipped.
    """
    units = requested_path.encode("utf-16-le")
    if response.path_consumed > len(units):
        raise MalformedResponse(f"DFS referral consumed {response.path_consumed} bytes of a "
                                f"{len(units)}-byte path")
    try:
        consumed = units[:response.path_consumed].decode("utf-16-le")
        remainder = units[response.path_consumed:].decode("utf-16-le")
    except UnicodeDecodeError as err:
        raise MalformedResponse("DFS referral PathConsumed splits a surrogate pair") from err
    if consumed and remainder and consumed[-1] not in _SEPARATORS and remainder[0] not in _SEPARATORS:
        raise MalformedResponse(f"DFS referral PathConsumed ends inside a path component: {consumed!r}")
    tail = _parts(remainder)
    return [_target(ref.network_address, tail, ref.server_type, ref.target_set_boundary)
            for ref in response.referrals if not ref.is_name_list]


# ---------------------------------------------------------------------------
# cache


@dataclass(frozen=True)
class CacheEntry:
    """A cache hit: the cached ``prefix`` covering the path looked up, the targets
    for that path (in the order to try them), and when the entry expires."""

    prefix: str
    targets: List[Target]
    expires_at: float
    root: bool
    header_flags: int


class _Stored:
    __slots__ = ("prefix", "addresses", "expires_at", "root", "header_flags")

    def __init__(self, prefix: str, addresses: List[Tuple[str, int, bool]], expires_at: float, root: bool,
                 header_flags: int) -> None:
        self.prefix = prefix
        self.addresses = addresses
        self.expires_at = expires_at
        self.root = root
        self.header_flags = header_flags


def _key(path: str) -> Tuple[str, ...]:
    return tuple(part.casefold() for part in _address_parts(path))


class ReferralCache:
    """Referrals by DFS path prefix ([MS-DFSC] 3.1.1 ReferralCache), IO-free.

    Prefixes are compared per path component and case-insensitively, with one or
    two leading separators; a lookup takes the longest cached prefix of the path.
    An entry lives for the smallest TTL of its referrals (``default_ttl`` for V1
    ones, which carry none); times are whatever clock the caller passes as
    ``now`` (``time.monotonic()`` in a driver).  At most ``max_entries`` are kept:
    adding one more drops the expired ones, then the oldest.
    """

    def __init__(self, max_entries: int = 1024, default_ttl: float = 300.0) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.default_ttl = default_ttl
        self._entries: "collections.OrderedDict[Tuple[str, ...], _Stored]" = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, prefix: str, response: ReferralResponse, now: float, ttl: Optional[float] = None) -> None:
        """Cache the targets of ``response`` for the DFS path ``prefix`` (usually the
        consumed part of the requested path).  ``ttl`` overrides the referrals' own.
        A response without targets is not cached; ``ValueError`` for a name-list
        (domain/DC) response, which names no targets, or an empty prefix;
        ``MalformedResponse`` when a target names no server and share."""
        key = _key(prefix)
        if not key:
            raise ValueError(f"not a DFS path prefix: {prefix!r}")
        refs = [ref for ref in response.referrals if not ref.is_name_list]
        if len(refs) != len(response.referrals):
            raise ValueError("domain and DC referrals do not go in the referral cache")
        if not refs:
            return
        for ref in refs:
            if len(_address_parts(ref.network_address)) < 2:
                raise MalformedResponse(f"DFS referral target {ref.network_address!r} names no \\server\\share")
        if ttl is None:
            ttl = min(ref.ttl if ref.version > 1 else self.default_ttl for ref in refs)
        addresses = [(ref.network_address, ref.server_type, ref.target_set_boundary) for ref in refs]
        self._entries.pop(key, None)
        self._entries[key] = _Stored("\\" + "\\".join(_address_parts(prefix)), addresses, now + ttl,
                                     any(ref.is_root for ref in refs), response.header_flags)
        if len(self._entries) > self.max_entries:
            for stale in [k for k, v in self._entries.items() if v.expires_at <= now]:
                del self._entries[stale]
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def lookup(self, path: str, now: float) -> Optional[CacheEntry]:
        """The live entry with the longest prefix of ``path``, its targets resolved
        for ``path``; ``None`` when no live entry covers it (expired ones are dropped)."""
        parts = _address_parts(path)
        key = tuple(part.casefold() for part in parts)
        for length in range(len(key), 0, -1):
            stored = self._entries.get(key[:length])
            if stored is None:
                continue
            if stored.expires_at <= now:
                del self._entries[key[:length]]
                continue
            tail = parts[length:]
            targets = [_target(address, tail, server_type, boundary)
                       for address, server_type, boundary in stored.addresses]
            return CacheEntry(stored.prefix, targets, stored.expires_at, stored.root, stored.header_flags)
        return None

    def mark_dead(self, target: Union[Target, str]) -> None:
        """Move a target that failed (a :class:`Target` or its network address) to
        the end of every entry holding it, so the next lookup tries the others first."""
        address = target.network_address if isinstance(target, Target) else target
        wanted = _key(address)
        for stored in self._entries.values():
            dead = [item for item in stored.addresses if _key(item[0]) == wanted]
            if dead:
                stored.addresses = [item for item in stored.addresses if _key(item[0]) != wanted] + dead

    def clear(self) -> None:
        self._entries.clear()
