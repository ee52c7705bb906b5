"""Windows security descriptors and their parts, as specified in [MS-DTYP] 2.4.

The classes and constant names match pysmb's ``smb.security_descriptors`` so
that code written for pysmb keeps working: :class:`SID`, :class:`ACE`,
:class:`ACL` and :class:`SecurityDescriptor`, each with ``from_bytes``.

Every parser here treats its input as hostile: offsets, sizes and counts are
checked before they are used, and malformed input raises
:class:`~smb.exceptions.MalformedResponse` (a :class:`~smb.exceptions.ProtocolError`) and nothing else.

Difference from pysmb: the well-known ``SID_*`` constants are :class:`SID`
objects rather than strings.  A :class:`SID` compares equal to (and hashes
like) its string form, so ``str(ace.sid) == SID_EVERYONE``,
``ace.sid == SID_EVERYONE`` and ``ace.sid == "S-1-1-0"`` all hold.
"""
from __future__ import annotations

import enum
import re
import struct
from typing import Any, Dict, List, Optional, Tuple, Union

from smb.exceptions import MalformedResponse
from .smb_constants import AccessMask  # noqa: F401 - re-exported (ACE masks)

Buffer = Union[bytes, bytearray, memoryview]


class SecurityDescriptorControl(enum.IntFlag):
    """``Control`` field of a SECURITY_DESCRIPTOR, [MS-DTYP] 2.4.6."""

    OWNER_DEFAULTED = 0x0001
    GROUP_DEFAULTED = 0x0002
    DACL_PRESENT = 0x0004
    DACL_DEFAULTED = 0x0008
    SACL_PRESENT = 0x0010
    SACL_DEFAULTED = 0x0020
    SERVER_SECURITY = 0x0040
    DACL_TRUSTED = 0x0080
    DACL_COMPUTED_INHERITANCE_REQUIRED = 0x0100
    SACL_COMPUTED_INHERITANCE_REQUIRED = 0x0200
    DACL_AUTO_INHERITED = 0x0400
    SACL_AUTO_INHERITED = 0x0800
    DACL_PROTECTED = 0x1000
    SACL_PROTECTED = 0x2000
    RM_CONTROL_VALID = 0x4000
    SELF_RELATIVE = 0x8000


class AceType(enum.IntEnum):
    """``AceType`` field of an ACE_HEADER, [MS-DTYP] 2.4.4.1."""

    ACCESS_ALLOWED = 0x00
    ACCESS_DENIED = 0x01
    SYSTEM_AUDIT = 0x02
    SYSTEM_ALARM = 0x03
    ACCESS_ALLOWED_COMPOUND = 0x04
    ACCESS_ALLOWED_OBJECT = 0x05
    ACCESS_DENIED_OBJECT = 0x06
    SYSTEM_AUDIT_OBJECT = 0x07
    SYSTEM_ALARM_OBJECT = 0x08
    ACCESS_ALLOWED_CALLBACK = 0x09
    ACCESS_DENIED_CALLBACK = 0x0A
    ACCESS_ALLOWED_CALLBACK_OBJECT = 0x0B
    ACCESS_DENIED_CALLBACK_OBJECT = 0x0C
    SYSTEM_AUDIT_CALLBACK = 0x0D
    SYSTEM_ALARM_CALLBACK = 0x0E
    SYSTEM_AUDIT_CALLBACK_OBJECT = 0x0F
    SYSTEM_ALARM_CALLBACK_OBJECT = 0x10
    SYSTEM_MANDATORY_LABEL = 0x11
    SYSTEM_RESOURCE_ATTRIBUTE = 0x12
    SYSTEM_SCOPED_POLICY_ID = 0x13


class AceFlags(enum.IntFlag):
    """``AceFlags`` field of an ACE_HEADER, [MS-DTYP] 2.4.4.1."""

    OBJECT_INHERIT = 0x01
    CONTAINER_INHERIT = 0x02
    NO_PROPAGATE_INHERIT = 0x04
    INHERIT_ONLY = 0x08
    INHERITED = 0x10
    SUCCESSFUL_ACCESS = 0x40
    FAILED_ACCESS = 0x80


class ObjectAceFlags(enum.IntFlag):
    """``Flags`` field of the object ACEs, [MS-DTYP] 2.4.4.3."""

    OBJECT_TYPE_PRESENT = 0x1
    INHERITED_OBJECT_TYPE_PRESENT = 0x2




# Flat names, as pysmb exports them.
SECURITY_DESCRIPTOR_OWNER_DEFAULTED = 0x0001
SECURITY_DESCRIPTOR_GROUP_DEFAULTED = 0x0002
SECURITY_DESCRIPTOR_DACL_PRESENT = 0x0004
SECURITY_DESCRIPTOR_DACL_DEFAULTED = 0x0008
SECURITY_DESCRIPTOR_SACL_PRESENT = 0x0010
SECURITY_DESCRIPTOR_SACL_DEFAULTED = 0x0020
SECURITY_DESCRIPTOR_SERVER_SECURITY = 0x0040
SECURITY_DESCRIPTOR_DACL_TRUSTED = 0x0080
SECURITY_DESCRIPTOR_DACL_COMPUTED_INHERITANCE_REQUIRED = 0x0100
SECURITY_DESCRIPTOR_SACL_COMPUTED_INHERITANCE_REQUIRED = 0x0200
SECURITY_DESCRIPTOR_DACL_AUTO_INHERITED = 0x0400
SECURITY_DESCRIPTOR_SACL_AUTO_INHERITED = 0x0800
SECURITY_DESCRIPTOR_DACL_PROTECTED = 0x1000
SECURITY_DESCRIPTOR_SACL_PROTECTED = 0x2000
SECURITY_DESCRIPTOR_RM_CONTROL_VALID = 0x4000
SECURITY_DESCRIPTOR_SELF_RELATIVE = 0x8000

ACE_TYPE_ACCESS_ALLOWED = 0x00
ACE_TYPE_ACCESS_DENIED = 0x01
ACE_TYPE_SYSTEM_AUDIT = 0x02
ACE_TYPE_SYSTEM_ALARM = 0x03
ACE_TYPE_ACCESS_ALLOWED_COMPOUND = 0x04
ACE_TYPE_ACCESS_ALLOWED_OBJECT = 0x05
ACE_TYPE_ACCESS_DENIED_OBJECT = 0x06
ACE_TYPE_SYSTEM_AUDIT_OBJECT = 0x07
ACE_TYPE_SYSTEM_ALARM_OBJECT = 0x08
ACE_TYPE_ACCESS_ALLOWED_CALLBACK = 0x09
ACE_TYPE_ACCESS_DENIED_CALLBACK = 0x0A
ACE_TYPE_ACCESS_ALLOWED_CALLBACK_OBJECT = 0x0B
ACE_TYPE_ACCESS_DENIED_CALLBACK_OBJECT = 0x0C
ACE_TYPE_SYSTEM_AUDIT_CALLBACK = 0x0D
ACE_TYPE_SYSTEM_ALARM_CALLBACK = 0x0E
ACE_TYPE_SYSTEM_AUDIT_CALLBACK_OBJECT = 0x0F
ACE_TYPE_SYSTEM_ALARM_CALLBACK_OBJECT = 0x10
ACE_TYPE_SYSTEM_MANDATORY_LABEL = 0x11
ACE_TYPE_SYSTEM_RESOURCE_ATTRIBUTE = 0x12
ACE_TYPE_SYSTEM_SCOPED_POLICY_ID = 0x13

ACE_FLAG_OBJECT_INHERIT = 0x01
ACE_FLAG_CONTAINER_INHERIT = 0x02
ACE_FLAG_NO_PROPAGATE_INHERIT = 0x04
ACE_FLAG_INHERIT_ONLY = 0x08
ACE_FLAG_INHERITED = 0x10
ACE_FLAG_SUCCESSFUL_ACCESS = 0x40
ACE_FLAG_FAILED_ACCESS = 0x80

# [MS-DTYP] 2.4.2.2: at most 15 subauthorities; the authority is 48 bits.
SID_MAX_SUBAUTHORITIES = 15
_SID_AUTHORITY_LIMIT = 1 << 48

_SID_HEADER = struct.Struct("<BB6s")  # Revision, SubAuthorityCount, IdentifierAuthority (big-endian)
_ACE_HEADER = struct.Struct("<BBH")  # AceType, AceFlags, AceSize
_U32 = struct.Struct("<I")
_ACL_HEADER = struct.Struct("<BBHHH")  # AclRevision, Sbz1, AclSize, AceCount, Sbz2
_SD_HEADER = struct.Struct("<BBHIIII")  # Revision, Sbz1, Control, OffsetOwner, OffsetGroup, OffsetSacl, OffsetDacl

_SID_STRING = re.compile(r"^[Ss]-(\d+)-(0[xX][0-9a-fA-F]+|\d+)((?:-\d+)*)$")

# Which ACE bodies carry the object flags and GUIDs ([MS-DTYP] 2.4.4.3 ff.).
_OBJECT_ACE_TYPES = frozenset({
    ACE_TYPE_ACCESS_ALLOWED_OBJECT,
    ACE_TYPE_ACCESS_DENIED_OBJECT,
    ACE_TYPE_SYSTEM_AUDIT_OBJECT,
    ACE_TYPE_SYSTEM_ALARM_OBJECT,
    ACE_TYPE_ACCESS_ALLOWED_CALLBACK_OBJECT,
    ACE_TYPE_ACCESS_DENIED_CALLBACK_OBJECT,
    ACE_TYPE_SYSTEM_AUDIT_CALLBACK_OBJECT,
    ACE_TYPE_SYSTEM_ALARM_CALLBACK_OBJECT,
})
# Which ones end in ApplicationData after the SID.  SYSTEM_AUDIT_OBJECT has it
# too ([MS-DTYP] 2.4.4.10).
_APPLICATION_DATA_ACE_TYPES = frozenset({
    ACE_TYPE_ACCESS_ALLOWED_CALLBACK,
    ACE_TYPE_ACCESS_DENIED_CALLBACK,
    ACE_TYPE_ACCESS_ALLOWED_CALLBACK_OBJECT,
    ACE_TYPE_ACCESS_DENIED_CALLBACK_OBJECT,
    ACE_TYPE_SYSTEM_AUDIT_OBJECT,
    ACE_TYPE_SYSTEM_AUDIT_CALLBACK,
    ACE_TYPE_SYSTEM_ALARM_CALLBACK,
    ACE_TYPE_SYSTEM_AUDIT_CALLBACK_OBJECT,
    ACE_TYPE_SYSTEM_ALARM_CALLBACK_OBJECT,
})
# Every type whose layout is Header, Mask, [object part], Sid, [tail].  The
# rest (ACCESS_ALLOWED_COMPOUND, anything unassigned) is kept as raw bytes.
_KNOWN_ACE_TYPES = frozenset(int(t) for t in AceType) - {ACE_TYPE_ACCESS_ALLOWED_COMPOUND}


class SID:
    """A security identifier, [MS-DTYP] 2.4.2.

    ``revision`` (always 1 on the wire), ``identifier_authority`` (a 48-bit
    integer) and ``subauthorities`` (a list of 32-bit integers).
    """

    __slots__ = ("revision", "identifier_authority", "subauthorities")

    def __init__(self, revision: int, identifier_authority: int, subauthorities: List[int]) -> None:
        self.revision = revision
        self.identifier_authority = identifier_authority
        self.subauthorities = list(subauthorities)

    def __str__(self) -> str:
        """The S-R-I-S-S... form of [MS-DTYP] 2.4.2.1: the authority is
        decimal below 2**32 and hexadecimal from there on."""
        if self.identifier_authority >= 1 << 32:
            authority = "%#x" % self.identifier_authority
        else:
            authority = str(self.identifier_authority)
        parts = [str(self.revision), authority]
        parts.extend(str(s) for s in self.subauthorities)
        return "S-" + "-".join(parts)

    def __repr__(self) -> str:
        return "SID(%r)" % str(self)

    def _key(self) -> Tuple[int, int, Tuple[int, ...]]:
        return (self.revision, self.identifier_authority, tuple(self.subauthorities))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SID):
            return self._key() == other._key()
        if isinstance(other, str):
            # pysmb's SID_* constants were strings; keep comparisons with them working.
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        # Hash like the string form, so that equal-to-string stays consistent.
        return hash(str(self))

    @classmethod
    def from_string(cls, text: str) -> "SID":
        """Parse the S-R-I-S-S... form of [MS-DTYP] 2.4.2.1.

        Raises ``ValueError`` on text that is not a SID (this parses program
        input, not network input).
        """
        match = _SID_STRING.match(text.strip())
        if match is None:
            raise ValueError("not a SID string: %r" % (text,))
        revision = int(match.group(1))
        authority = int(match.group(2), 0)
        subauthorities = [int(s) for s in match.group(3).split("-")[1:]]
        if revision > 0xFF or authority >= _SID_AUTHORITY_LIMIT:
            raise ValueError("SID field out of range: %r" % (text,))
        if len(subauthorities) > SID_MAX_SUBAUTHORITIES:
            raise ValueError("SID has more than %d subauthorities: %r" % (SID_MAX_SUBAUTHORITIES, text))
        if any(s > 0xFFFFFFFF for s in subauthorities):
            raise ValueError("SID subauthority out of range: %r" % (text,))
        return cls(revision, authority, subauthorities)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> Tuple["SID", int]:
        """Parse the binary SID at ``offset``; returns ``(sid, end_offset)``."""
        view = memoryview(buf)
        if offset < 0 or offset + _SID_HEADER.size > len(view):
            raise MalformedResponse("SID truncated: %d bytes at offset %d" % (max(len(view) - offset, 0), offset))
        revision, count, authority_bytes = _SID_HEADER.unpack_from(view, offset)
        if revision != 1:
            raise MalformedResponse("SID revision %d is not 1" % revision)
        if count > SID_MAX_SUBAUTHORITIES:
            raise MalformedResponse("SID claims %d subauthorities (at most %d)" % (count, SID_MAX_SUBAUTHORITIES))
        end = offset + _SID_HEADER.size + 4 * count
        if end > len(view):
            raise MalformedResponse("SID with %d subauthorities truncated" % count)
        subauthorities = list(struct.unpack_from("<%dI" % count, view, offset + _SID_HEADER.size))
        return cls(revision, int.from_bytes(authority_bytes, "big"), subauthorities), end

    @classmethod
    def from_bytes(cls, data: Buffer, return_tail: bool = False) -> Any:
        """Parse a binary SID, [MS-DTYP] 2.4.2.2.

        With ``return_tail=True`` returns ``(sid, rest)``, where ``rest`` holds
        the bytes after the SID.
        """
        sid, end = cls.unpack_from(data)
        if return_tail:
            return sid, bytes(memoryview(data)[end:])
        return sid

    def to_bytes(self) -> bytes:
        """The binary form, [MS-DTYP] 2.4.2.2."""
        count = len(self.subauthorities)
        if count > SID_MAX_SUBAUTHORITIES:
            raise ValueError("a SID has at most %d subauthorities" % SID_MAX_SUBAUTHORITIES)
        if not 0 <= self.identifier_authority < _SID_AUTHORITY_LIMIT:
            raise ValueError("SID identifier authority out of range")
        return (_SID_HEADER.pack(self.revision, count, self.identifier_authority.to_bytes(6, "big"))
                + struct.pack("<%dI" % count, *self.subauthorities))

    pack = to_bytes


class ACE:
    """An access control entry, [MS-DTYP] 2.4.4.

    ``type`` and ``flags`` come from the ACE_HEADER, ``mask`` is the
    ACCESS_MASK and ``sid`` the trustee.  ``additional_data`` holds what some
    types carry besides: ``flags``, ``object_type`` and
    ``inherited_object_type`` (16-byte GUIDs, ``None`` when the flags say they
    are absent) for object ACEs; ``application_data`` for callback ACEs and
    SYSTEM_AUDIT_OBJECT; ``attribute_data`` for SYSTEM_RESOURCE_ATTRIBUTE.
    An ACE of a type whose layout is not known has ``mask`` and ``sid`` set to
    ``None`` and its body (after the header) in ``additional_data["raw_data"]``.
    """

    __slots__ = ("type", "flags", "mask", "sid", "additional_data")

    HEADER_FORMAT = "<BBH"

    def __init__(self, type_: int, flags: int, mask: Optional[int], sid: Optional[SID],
                 additional_data: Optional[Dict[str, Any]] = None) -> None:
        self.type = type_
        self.flags = flags
        self.mask = mask
        self.sid = sid
        self.additional_data: Dict[str, Any] = {} if additional_data is None else additional_data

    def __repr__(self) -> str:
        mask = "None" if self.mask is None else "%#010x" % self.mask
        return "ACE(type=%#04x, flags=%#04x, mask=%s, sid=%s)" % (self.type, self.flags, mask, self.sid)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ACE):
            return NotImplemented
        return (self.type, self.flags, self.mask, self.sid, self.additional_data) == (
            other.type, other.flags, other.mask, other.sid, other.additional_data)

    __hash__ = None  # type: ignore[assignment]  # mutable, like pysmb's

    @property
    def isInheritOnly(self) -> bool:
        """True when the ACE only serves inheritance and does not apply to the
        object itself (INHERIT_ONLY_ACE)."""
        return bool(self.flags & ACE_FLAG_INHERIT_ONLY)

    @property
    def isInherited(self) -> bool:
        """True when the ACE was inherited from a parent (INHERITED_ACE)."""
        return bool(self.flags & ACE_FLAG_INHERITED)

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> Tuple["ACE", int]:
        """Parse the ACE at ``offset``; returns ``(ace, offset + AceSize)``."""
        view = memoryview(buf)
        if offset < 0 or offset + _ACE_HEADER.size > len(view):
            raise MalformedResponse("ACE header truncated at offset %d" % offset)
        type_, flags, size = _ACE_HEADER.unpack_from(view, offset)
        if size < _ACE_HEADER.size:
            raise MalformedResponse("ACE size %d is smaller than its header" % size)
        end = offset + size
        if end > len(view):
            raise MalformedResponse("ACE size %d runs past the end of its data (%d bytes)" % (size, len(view) - offset))
        body = view[offset + _ACE_HEADER.size:end]
        if type_ not in _KNOWN_ACE_TYPES:
            return cls(type_, flags, None, None, {"raw_data": bytes(body)}), end

        additional: Dict[str, Any] = {}
        if len(body) < 4:
            raise MalformedResponse("ACE of type %#04x has no room for its access mask" % type_)
        (mask,) = _U32.unpack_from(body, 0)
        pos = 4
        if type_ in _OBJECT_ACE_TYPES:
            if pos + 4 > len(body):
                raise MalformedResponse("object ACE truncated before its flags")
            (object_flags,) = _U32.unpack_from(body, pos)
            pos += 4
            additional["flags"] = object_flags
            for bit, key in ((ObjectAceFlags.OBJECT_TYPE_PRESENT, "object_type"),
                             (ObjectAceFlags.INHERITED_OBJECT_TYPE_PRESENT, "inherited_object_type")):
                if object_flags & bit:
                    if pos + 16 > len(body):
                        raise MalformedResponse("object ACE truncated in its %s GUID" % key)
                    additional[key] = bytes(body[pos:pos + 16])
                    pos += 16
                else:
                    additional[key] = None
        sid, pos = SID.unpack_from(body, pos)
        tail = bytes(body[pos:])
        if type_ in _APPLICATION_DATA_ACE_TYPES:
            additional["application_data"] = tail
        elif type_ == ACE_TYPE_SYSTEM_RESOURCE_ATTRIBUTE:
            additional["attribute_data"] = tail
        # Any other tail is padding up to AceSize and carries nothing.
        return cls(type_, flags, mask, sid, additional), end

    @classmethod
    def from_bytes(cls, data: Buffer) -> "ACE":
        """Parse one ACE from the start of ``data``, [MS-DTYP] 2.4.4."""
        return cls.unpack_from(data)[0]

    def to_bytes(self) -> bytes:
        """The binary form; AceSize is computed and padded to 4 bytes."""
        if self.mask is None or self.sid is None:
            body = bytes(self.additional_data.get("raw_data", b""))
        else:
            parts = [_U32.pack(self.mask)]
            if self.type in _OBJECT_ACE_TYPES:
                object_flags = 0
                guids = []
                for bit, key in ((ObjectAceFlags.OBJECT_TYPE_PRESENT, "object_type"),
                                 (ObjectAceFlags.INHERITED_OBJECT_TYPE_PRESENT, "inherited_object_type")):
                    guid = self.additional_data.get(key)
                    if guid is not None:
                        if len(guid) != 16:
                            raise ValueError("%s must be 16 bytes" % key)
                        object_flags |= bit
                        guids.append(bytes(guid))
                parts.append(_U32.pack(object_flags))
                parts.extend(guids)
            parts.append(self.sid.to_bytes())
            if self.type in _APPLICATION_DATA_ACE_TYPES:
                parts.append(bytes(self.additional_data.get("application_data", b"")))
            elif self.type == ACE_TYPE_SYSTEM_RESOURCE_ATTRIBUTE:
                parts.append(bytes(self.additional_data.get("attribute_data", b"")))
            body = b"".join(parts)
        body += b"\0" * (-(len(body) + _ACE_HEADER.size) % 4)
        size = _ACE_HEADER.size + len(body)
        if size > 0xFFFF:
            raise ValueError("ACE too large")
        return _ACE_HEADER.pack(self.type, self.flags, size) + body

    pack = to_bytes


class ACL:
    """An access control list, [MS-DTYP] 2.4.5: ``revision`` and ``aces``."""

    __slots__ = ("revision", "aces")

    HEADER_FORMAT = "<BBHHH"

    def __init__(self, revision: int, aces: List[ACE]) -> None:
        self.revision = revision
        self.aces = aces

    def __repr__(self) -> str:
        return "ACL(%r)" % (self.aces,)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ACL):
            return NotImplemented
        return self.revision == other.revision and self.aces == other.aces

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def unpack_from(cls, buf: Buffer, offset: int = 0) -> Tuple["ACL", int]:
        """Parse the ACL at ``offset``; returns ``(acl, offset + AclSize)``."""
        view = memoryview(buf)
        if offset < 0 or offset + _ACL_HEADER.size > len(view):
            raise MalformedResponse("ACL header truncated at offset %d" % offset)
        revision, _sbz1, size, count, _sbz2 = _ACL_HEADER.unpack_from(view, offset)
        if size < _ACL_HEADER.size:
            raise MalformedResponse("ACL size %d is smaller than its header" % size)
        end = offset + size
        if end > len(view):
            raise MalformedResponse("ACL size %d runs past the end of its data (%d bytes)" % (size, len(view) - offset))
        # Every ACE is at least its 4-byte header: refuse an impossible count
        # before looping over it.
        if count * _ACE_HEADER.size > size - _ACL_HEADER.size:
            raise MalformedResponse("ACL claims %d ACEs in %d bytes" % (count, size))
        acl_view = view[:end]
        aces = []
        pos = offset + _ACL_HEADER.size
        for _ in range(count):
            ace, pos = ACE.unpack_from(acl_view, pos)
            aces.append(ace)
        return cls(revision, aces), end

    @classmethod
    def from_bytes(cls, data: Buffer) -> "ACL":
        """Parse an ACL from the start of ``data``, [MS-DTYP] 2.4.5."""
        return cls.unpack_from(data)[0]

    def to_bytes(self) -> bytes:
        body = b"".join(ace.to_bytes() for ace in self.aces)
        size = _ACL_HEADER.size + len(body)
        if size > 0xFFFF or len(self.aces) > 0xFFFF:
            raise ValueError("ACL too large")
        return _ACL_HEADER.pack(self.revision, 0, size, len(self.aces), 0) + body

    pack = to_bytes


class SecurityDescriptor:
    """A security descriptor in self-relative form, [MS-DTYP] 2.4.6.

    ``flags`` is the Control field; ``owner`` and ``group`` are :class:`SID`,
    ``dacl`` and ``sacl`` are :class:`ACL`; each is ``None`` when absent (a
    NULL DACL, DACL_PRESENT with no offset, is also ``None``).
    """

    __slots__ = ("flags", "owner", "group", "dacl", "sacl")

    HEADER_FORMAT = "<BBHIIII"

    def __init__(self, flags: int, owner: Optional[SID], group: Optional[SID],
                 dacl: Optional[ACL], sacl: Optional[ACL]) -> None:
        self.flags = flags
        self.owner = owner
        self.group = group
        self.dacl = dacl
        self.sacl = sacl

    def __repr__(self) -> str:
        return "SecurityDescriptor(flags=%#06x, owner=%s, group=%s, dacl=%r, sacl=%r)" % (
            self.flags, self.owner, self.group, self.dacl, self.sacl)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecurityDescriptor):
            return NotImplemented
        return (self.flags, self.owner, self.group, self.dacl, self.sacl) == (
            other.flags, other.owner, other.group, other.dacl, other.sacl)

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_bytes(cls, data: Buffer) -> "SecurityDescriptor":
        """Parse a self-relative SECURITY_DESCRIPTOR, [MS-DTYP] 2.4.6.

        Offsets are relative to the start of ``data``; each one must point
        inside it, past the fixed header.
        """
        view = memoryview(data)
        if len(view) < _SD_HEADER.size:
            raise MalformedResponse("security descriptor truncated: %d bytes" % len(view))
        (revision, _sbz1, flags, owner_offset, group_offset, sacl_offset,
         dacl_offset) = _SD_HEADER.unpack_from(view, 0)
        if revision != 1:
            raise MalformedResponse("security descriptor revision %d is not 1" % revision)
        if not flags & SECURITY_DESCRIPTOR_SELF_RELATIVE:
            raise MalformedResponse("security descriptor is not in self-relative form")
        for name, value in (("owner", owner_offset), ("group", group_offset),
                            ("SACL", sacl_offset), ("DACL", dacl_offset)):
            if value and not _SD_HEADER.size <= value < len(view):
                raise MalformedResponse("security descriptor %s offset %d outside %d bytes"
                                    % (name, value, len(view)))
        owner = SID.unpack_from(view, owner_offset)[0] if owner_offset else None
        group = SID.unpack_from(view, group_offset)[0] if group_offset else None
        sacl = ACL.unpack_from(view, sacl_offset)[0] if sacl_offset else None
        dacl = ACL.unpack_from(view, dacl_offset)[0] if dacl_offset else None
        return cls(flags, owner, group, dacl, sacl)

    def to_bytes(self) -> bytes:
        """The self-relative form, laid out as Windows does: SACL, DACL,
        owner, group after the header.  SELF_RELATIVE and the PRESENT flags are
        set to match the parts present."""
        flags = self.flags | SECURITY_DESCRIPTOR_SELF_RELATIVE
        out = bytearray(_SD_HEADER.size)
        offsets = {}
        for name, part in (("sacl", self.sacl), ("dacl", self.dacl),
                           ("owner", self.owner), ("group", self.group)):
            if part is None:
                offsets[name] = 0
            else:
                offsets[name] = len(out)
                out += part.to_bytes()
        if self.sacl is not None:
            flags |= SECURITY_DESCRIPTOR_SACL_PRESENT
        if self.dacl is not None:
            flags |= SECURITY_DESCRIPTOR_DACL_PRESENT
        _SD_HEADER.pack_into(out, 0, 1, 0, flags, offsets["owner"], offsets["group"],
                             offsets["sacl"], offsets["dacl"])
        return bytes(out)

    pack = to_bytes


# Well-known SIDs, [MS-DTYP] 2.4.2.4.  pysmb had these as strings; see the
# module docstring for how these SID objects stay compatible with that.
SID_NULL = SID.from_string("S-1-0-0")
SID_EVERYONE = SID.from_string("S-1-1-0")
SID_LOCAL = SID.from_string("S-1-2-0")
SID_CONSOLE_LOGON = SID.from_string("S-1-2-1")
SID_CREATOR_OWNER = SID.from_string("S-1-3-0")
SID_CREATOR_GROUP = SID.from_string("S-1-3-1")
SID_OWNER_SERVER = SID.from_string("S-1-3-2")
SID_GROUP_SERVER = SID.from_string("S-1-3-3")
SID_OWNER_RIGHTS = SID.from_string("S-1-3-4")
SID_NT_AUTHORITY = SID.from_string("S-1-5")
SID_DIALUP = SID.from_string("S-1-5-1")
SID_NETWORK = SID.from_string("S-1-5-2")
SID_BATCH = SID.from_string("S-1-5-3")
SID_INTERACTIVE = SID.from_string("S-1-5-4")
SID_SERVICE = SID.from_string("S-1-5-6")
SID_ANONYMOUS = SID.from_string("S-1-5-7")
SID_PROXY = SID.from_string("S-1-5-8")
SID_ENTERPRISE_DOMAIN_CONTROLLERS = SID.from_string("S-1-5-9")
SID_PRINCIPAL_SELF = SID.from_string("S-1-5-10")
SID_AUTHENTICATED_USERS = SID.from_string("S-1-5-11")
SID_RESTRICTED_CODE = SID.from_string("S-1-5-12")
SID_TERMINAL_SERVER_USER = SID.from_string("S-1-5-13")
SID_REMOTE_INTERACTIVE_LOGON = SID.from_string("S-1-5-14")
SID_THIS_ORGANIZATION = SID.from_string("S-1-5-15")
SID_IUSR = SID.from_string("S-1-5-17")
SID_LOCAL_SYSTEM = SID.from_string("S-1-5-18")
SID_LOCAL_SERVICE = SID.from_string("S-1-5-19")
SID_NETWORK_SERVICE = SID.from_string("S-1-5-20")
SID_COMPOUNDED_AUTHENTICATION = SID.from_string("S-1-5-21-0-0-0-496")
SID_CLAIMS_VALID = SID.from_string("S-1-5-21-0-0-0-497")
SID_BUILTIN_ADMINISTRATORS = SID.from_string("S-1-5-32-544")
SID_BUILTIN_USERS = SID.from_string("S-1-5-32-545")
SID_BUILTIN_GUESTS = SID.from_string("S-1-5-32-546")
SID_POWER_USERS = SID.from_string("S-1-5-32-547")
SID_ACCOUNT_OPERATORS = SID.from_string("S-1-5-32-548")
SID_SERVER_OPERATORS = SID.from_string("S-1-5-32-549")
SID_PRINTER_OPERATORS = SID.from_string("S-1-5-32-550")
SID_BACKUP_OPERATORS = SID.from_string("S-1-5-32-551")
SID_REPLICATOR = SID.from_string("S-1-5-32-552")
SID_ALIAS_PREW2KCOMPACC = SID.from_string("S-1-5-32-554")
SID_REMOTE_DESKTOP = SID.from_string("S-1-5-32-555")
SID_NETWORK_CONFIGURATION_OPS = SID.from_string("S-1-5-32-556")
SID_INCOMING_FOREST_TRUST_BUILDERS = SID.from_string("S-1-5-32-557")
SID_PERFMON_USERS = SID.from_string("S-1-5-32-558")
SID_PERFLOG_USERS = SID.from_string("S-1-5-32-559")
SID_WINDOWS_AUTHORIZATION_ACCESS_GROUP = SID.from_string("S-1-5-32-560")
SID_TERMINAL_SERVER_LICENSE_SERVERS = SID.from_string("S-1-5-32-561")
SID_DISTRIBUTED_COM_USERS = SID.from_string("S-1-5-32-562")
SID_IIS_IUSRS = SID.from_string("S-1-5-32-568")
SID_CRYPTOGRAPHIC_OPERATORS = SID.from_string("S-1-5-32-569")
SID_EVENT_LOG_READERS = SID.from_string("S-1-5-32-573")
SID_CERTIFICATE_SERVICE_DCOM_ACCESS = SID.from_string("S-1-5-32-574")
SID_RDS_REMOTE_ACCESS_SERVERS = SID.from_string("S-1-5-32-575")
SID_RDS_ENDPOINT_SERVERS = SID.from_string("S-1-5-32-576")
SID_RDS_MANAGEMENT_SERVERS = SID.from_string("S-1-5-32-577")
SID_HYPER_V_ADMINS = SID.from_string("S-1-5-32-578")
SID_ACCESS_CONTROL_ASSISTANCE_OPS = SID.from_string("S-1-5-32-579")
SID_REMOTE_MANAGEMENT_USERS = SID.from_string("S-1-5-32-580")
SID_WRITE_RESTRICTED_CODE = SID.from_string("S-1-5-33")
SID_NTLM_AUTHENTICATION = SID.from_string("S-1-5-64-10")
SID_SCHANNEL_AUTHENTICATION = SID.from_string("S-1-5-64-14")
SID_DIGEST_AUTHENTICATION = SID.from_string("S-1-5-64-21")
SID_THIS_ORGANIZATION_CERTIFICATE = SID.from_string("S-1-5-65-1")
SID_NT_SERVICE = SID.from_string("S-1-5-80")
SID_USER_MODE_DRIVERS = SID.from_string("S-1-5-84-0-0-0-0-0")
SID_LOCAL_ACCOUNT = SID.from_string("S-1-5-113")
SID_LOCAL_ACCOUNT_AND_MEMBER_OF_ADMINISTRATORS_GROUP = SID.from_string("S-1-5-114")
SID_OTHER_ORGANIZATION = SID.from_string("S-1-5-1000")
SID_ALL_APP_PACKAGES = SID.from_string("S-1-15-2-1")
SID_ML_UNTRUSTED = SID.from_string("S-1-16-0")
SID_ML_LOW = SID.from_string("S-1-16-4096")
SID_ML_MEDIUM = SID.from_string("S-1-16-8192")
SID_ML_MEDIUM_PLUS = SID.from_string("S-1-16-8448")
SID_ML_HIGH = SID.from_string("S-1-16-12288")
SID_ML_SYSTEM = SID.from_string("S-1-16-16384")
SID_ML_PROTECTED_PROCESS = SID.from_string("S-1-16-20480")
SID_AUTHENTICATION_AUTHORITY_ASSERTED_IDENTITY = SID.from_string("S-1-18-1")
SID_SERVICE_ASSERTED_IDENTITY = SID.from_string("S-1-18-2")
SID_FRESH_PUBLIC_KEY_IDENTITY = SID.from_string("S-1-18-3")
SID_KEY_TRUST_IDENTITY = SID.from_string("S-1-18-4")
SID_KEY_PROPERTY_MFA = SID.from_string("S-1-18-5")
SID_KEY_PROPERTY_ATTESTATION = SID.from_string("S-1-18-6")

# pysmb's module had no __all__, so a star import gave every constant: keep that.
__all__ = [
    "SID", "ACE", "ACL", "SecurityDescriptor",
    "AceType", "AceFlags", "ObjectAceFlags", "SecurityDescriptorControl", "AccessMask",
] + sorted(name for name in list(globals())
           if name.startswith(("SID_", "ACE_", "SECURITY_DESCRIPTOR_")))
