"""Output of the ``smbwire`` command line client: listings, attributes, security
descriptors, share tables, NetBIOS answers (as text and as JSON-ready dicts), the
NTSTATUS names of error lines, and the tqdm progress bars.

Nothing here talks to the network; :mod:`smb.cli` and :mod:`smb._cli_shell` print what
these functions return.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import time
from typing import IO, Any, Callable, Dict, Iterator, List, Optional

from . import smb_constants as C
from .nt_status import NtStatus
from .security_descriptors import AceFlags, AceType, SecurityDescriptor

__all__ = ["status_text", "attribute_letters", "ls_line", "entry_dict", "shares_table", "share_dict",
           "attributes_text", "attributes_dict", "security_dict", "security_lines", "node_status_lines",
           "node_status_dict", "Progress"]

#: Share types of :class:`smb.base.SharedDevice`, as smbclient names them.
_SHARE_TYPES = {0: "Disk", 1: "Printer", 2: "Device", 3: "IPC"}

#: Attribute letters in the order ``ls`` prints them ([MS-FSCC] 2.6).
_LETTERS = ((C.ATTR_DIRECTORY, "D"), (C.ATTR_HIDDEN, "H"), (C.ATTR_SYSTEM, "S"), (C.ATTR_READONLY, "R"),
            (C.ATTR_ARCHIVE, "A"))
_ATTRIBUTE_NAMES = ((C.ATTR_READONLY, "READONLY"), (C.ATTR_HIDDEN, "HIDDEN"), (C.ATTR_SYSTEM, "SYSTEM"),
                    (C.ATTR_DIRECTORY, "DIRECTORY"), (C.ATTR_ARCHIVE, "ARCHIVE"), (C.ATTR_DEVICE, "DEVICE"),
                    (C.ATTR_NORMAL, "NORMAL"), (C.ATTR_TEMPORARY, "TEMPORARY"),
                    (C.ATTR_SPARSE_FILE, "SPARSE_FILE"), (C.ATTR_REPARSE_POINT, "REPARSE_POINT"),
                    (C.ATTR_COMPRESSED, "COMPRESSED"), (C.ATTR_OFFLINE, "OFFLINE"),
                    (C.ATTR_NOT_CONTENT_INDEXED, "NOT_CONTENT_INDEXED"), (C.ATTR_ENCRYPTED, "ENCRYPTED"))
#: Well-known access masks ([MS-DTYP] 2.4.3), as Windows' security tab names them.
_MASK_NAMES = {0x001F01FF: "FULL", 0x001301BF: "CHANGE", 0x001200A9: "READ"}


def status_text(status: Optional[int]) -> str:
    """``NT_STATUS_OBJECT_NAME_NOT_FOUND (0xC0000034)``: smbclient's spelling of an NTSTATUS."""
    if status is None:
        return "no NTSTATUS"
    value = status & 0xFFFFFFFF
    try:
        return "NT_STATUS_%s (0x%08X)" % (NtStatus(value).name, value)
    except ValueError:
        return "NTSTATUS 0x%08X" % value


def attribute_letters(attributes: int) -> str:
    """``DHSRA`` letters for the set bits; ``N`` when none of them is set."""
    letters = "".join(letter for bit, letter in _LETTERS if attributes & bit)
    return letters or "N"


def _local_time(epoch: float) -> str:
    try:
        return time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(epoch))
    except (OverflowError, OSError, ValueError):  # a server may send any 64-bit time
        return "(invalid time)"


def _iso(epoch: float) -> Optional[str]:
    try:
        return _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def _printable(name: str) -> str:
    """A server name with control characters escaped, so that it cannot move the cursor
    or clear the terminal."""
    if name.isprintable():
        return name
    return "".join(ch if ch.isprintable() else "\\x%02x" % ord(ch) if ord(ch) < 0x100 else "\\u%04x" % ord(ch)
                   for ch in name)


def ls_line(entry: Any) -> str:
    """One ``ls`` line for a :class:`smb.base.SharedFile`, smbclient's layout."""
    return "  %-34s %5s %10d  %s" % (_printable(entry.filename), attribute_letters(entry.file_attributes),
                                     entry.file_size, _local_time(entry.last_write_time))


def entry_dict(entry: Any, folder: str = "") -> Dict[str, Any]:
    """A listing entry for ``--json``; ``path`` is the entry's path on the share
    (``\\`` separators, from the share root)."""
    path = "\\" + "\\".join(p for p in (folder, entry.filename) if p)
    return {"name": entry.filename, "path": path, "size": entry.file_size, "alloc_size": entry.alloc_size,
            "attributes": entry.file_attributes, "is_directory": bool(entry.isDirectory),
            "create_time": _iso(entry.create_time), "access_time": _iso(entry.last_access_time),
            "write_time": _iso(entry.last_write_time), "change_time": _iso(entry.last_attr_change_time)}


def share_dict(share: Any) -> Dict[str, Any]:
    """A :class:`smb.base.SharedDevice` for ``--json``."""
    return {"name": share.name, "type": _SHARE_TYPES.get(share.type, str(share.type)), "comment": share.comment,
            "special": bool(share.isSpecial), "temporary": bool(share.isTemporary)}


def shares_table(shares: List[Any]) -> List[str]:
    """smbclient's ``-L`` table."""
    lines = ["\t%-15s %-10s%s" % ("Sharename", "Type", "Comment"), "\t%-15s %-10s%s" % ("---------", "----", "-------")]
    for share in shares:
        lines.append("\t%-15s %-10s%s" % (_printable(share.name), _SHARE_TYPES.get(share.type, str(share.type)),
                                          _printable(share.comment)))
    return lines


def _attribute_names(attributes: int) -> str:
    return "|".join(name for bit, name in _ATTRIBUTE_NAMES if attributes & bit) or "0"


def attributes_text(info: Any, name: str) -> List[str]:
    """``stat`` / ``allinfo`` lines for a :class:`smb.base.SharedFile`."""
    lines = ["name: %s" % _printable(name)]
    if info.short_name:
        lines.append("altname: %s" % _printable(info.short_name))
    lines += ["create_time:    %s" % _local_time(info.create_time),
              "access_time:    %s" % _local_time(info.last_access_time),
              "write_time:     %s" % _local_time(info.last_write_time),
              "change_time:    %s" % _local_time(info.last_attr_change_time),
              "attributes: %s (0x%x) %s" % (attribute_letters(info.file_attributes), info.file_attributes,
                                            _attribute_names(info.file_attributes)),
              "size: %d" % info.file_size,
              "alloc_size: %d" % info.alloc_size]
    if info.file_id is not None:
        lines.append("file_id: 0x%016x" % info.file_id)
    return lines


def attributes_dict(info: Any, path: str) -> Dict[str, Any]:
    """``stat`` / ``allinfo`` for ``--json``."""
    out = entry_dict(info)
    out["name"] = path.rsplit("\\", 1)[-1]
    out["path"] = "\\" + path
    out["short_name"] = info.short_name or None
    out["attribute_names"] = [name for bit, name in _ATTRIBUTE_NAMES if info.file_attributes & bit]
    out["file_id"] = info.file_id
    return out


def _ace_type(value: int) -> str:
    try:
        return AceType(value).name
    except ValueError:
        return "0x%02x" % value


def _ace_flags(value: int) -> List[str]:
    return [flag.name or "" for flag in AceFlags if value & flag]


def _acl(acl: Any) -> Optional[List[Dict[str, Any]]]:
    if acl is None:
        return None
    return [{"type": _ace_type(ace.type), "flags": ace.flags, "flag_names": _ace_flags(ace.flags),
             "mask": ace.mask, "mask_name": _MASK_NAMES.get(ace.mask) if ace.mask is not None else None,
             "sid": None if ace.sid is None else str(ace.sid)} for ace in acl.aces]


def security_dict(sd: SecurityDescriptor) -> Dict[str, Any]:
    """A security descriptor for ``--json``: control flags, owner, group, DACL and SACL."""
    return {"control": sd.flags, "owner": None if sd.owner is None else str(sd.owner),
            "group": None if sd.group is None else str(sd.group), "dacl": _acl(sd.dacl), "sacl": _acl(sd.sacl)}


def security_lines(sd: SecurityDescriptor) -> List[str]:
    """``allinfo``'s security descriptor section."""
    info = security_dict(sd)
    lines = ["security descriptor:", "  control: 0x%04x" % info["control"],
             "  owner: %s" % (info["owner"] or "(none)"), "  group: %s" % (info["group"] or "(none)")]
    for label in ("dacl", "sacl"):
        aces = info[label]
        if aces is None:
            if label == "dacl":
                lines.append("  dacl: (none: everyone has full access)")
            continue
        lines.append("  %s: %d ACE%s" % (label, len(aces), "" if len(aces) == 1 else "s"))
        for ace in aces:
            mask = "-" if ace["mask"] is None else "0x%08x" % ace["mask"]
            if ace["mask_name"]:
                mask += " (%s)" % ace["mask_name"]
            flags = "|".join(ace["flag_names"]) or "0"
            lines.append("    %-16s %s  flags=%s  %s" % (ace["type"], ace["sid"] or "-", flags, mask))
    return lines


def node_status_dict(ip: str, status: Any) -> Dict[str, Any]:
    """A node status answer (:class:`nmb.nmb_structs.NodeStatus`) for ``--json``."""
    return {"ip": ip, "workgroup": status.workgroup, "mac": status.mac,
            "names": [{"name": n.name, "suffix": n.suffix, "group": bool(n.is_group), "flags": n.flags}
                      for n in status.names]}


def node_status_lines(ip: str, status: Any) -> List[str]:
    """nmblookup's ``-A`` layout: one line per registered name, then the MAC address."""
    lines = ["Looking up status of %s" % ip]
    for entry in status.names:
        kind = "<GROUP>" if entry.is_group else "       "
        lines.append("\t%-15s <%02x> - %s %s" % (_printable(entry.name), entry.suffix, kind,
                                                  "<ACTIVE>" if entry.flags & 0x0400 else ""))
    lines.append("")
    lines.append("\tMAC Address = %s" % status.mac.replace(":", "-").upper())
    return lines


# ---------------------------------------------------------------- progress bars


class _FileBar:
    """Feeds one file's bar (and the job's bar) from a ``progress(done, total)`` callback."""

    def __init__(self, bar: Any, job: Optional["_JobBar"]) -> None:
        self.bar = bar
        self.job = job
        self.seen = 0

    def __call__(self, done: int, _total: int) -> None:
        step = done - self.seen
        if step <= 0:
            return
        self.seen = done
        if self.bar is not None:
            self.bar.update(step)
        if self.job is not None:
            self.job.add_bytes(step)


class _JobBar:
    """The whole job's bar: bytes (rate and ETA from tqdm) and a files counter."""

    def __init__(self, bar: Any, total_files: int) -> None:
        self.bar = bar
        self.total_files = total_files
        self.done_files = 0
        if bar is not None:
            bar.set_postfix_str(self._files(), refresh=False)

    def _files(self) -> str:
        return "%d/%d files" % (self.done_files, self.total_files)

    def add_bytes(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def file_done(self) -> None:
        self.done_files += 1
        if self.bar is not None:
            self.bar.set_postfix_str(self._files())


class Progress:
    """tqdm bars for transfers, or nothing when ``enabled`` is False or tqdm is missing.

    :meth:`file` gives the ``progress`` callback for one ``retrieveFile`` /
    ``storeFile``; :meth:`job` one bar over a whole ``mget`` / ``mput``, under which
    each file's bar is drawn (and removed when the file is done).
    """

    def __init__(self, enabled: bool, stream: Optional[IO[str]] = None) -> None:
        self._tqdm: Any = None
        self.stream = stream
        self._job: Optional[_JobBar] = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                self._tqdm = None
            else:
                self._tqdm = tqdm

    @property
    def active(self) -> bool:
        """True when bars are drawn."""
        return self._tqdm is not None

    def _bar(self, desc: str, total: Optional[int], initial: int, position: int, leave: bool) -> Any:
        return self._tqdm(total=total, initial=initial, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                          position=position, leave=leave, file=self.stream, dynamic_ncols=True)

    @contextlib.contextmanager
    def file(self, name: str, total: Optional[int], initial: int = 0) -> Iterator[Optional[Callable[[int, int], None]]]:
        """The ``progress`` callback for one file of ``total`` bytes (``initial`` already there)."""
        job = self._job
        if self._tqdm is None:
            yield _FileBar(None, job) if job is not None else None
            return
        bar = self._bar(_printable(name), total, initial, 1 if job is not None else 0, job is None)
        try:
            yield _FileBar(bar, job)
        finally:
            bar.close()

    @contextlib.contextmanager
    def job(self, name: str, total_bytes: int, total_files: int) -> Iterator[_JobBar]:
        """One bar over ``total_files`` files of ``total_bytes`` bytes; call ``file_done()``
        after each file."""
        bar = self._bar(_printable(name), total_bytes, 0, 0, True) if self._tqdm is not None else None
        self._job = _JobBar(bar, total_files)
        try:
            yield self._job
        finally:
            self._job = None
            if bar is not None:
                bar.close()
