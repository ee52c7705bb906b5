"""Security descriptors, [MS-DTYP] 2.4: exact bytes built by hand from the spec."""
from __future__ import annotations

import random
import struct

import pytest

from smb.exceptions import ProtocolError
from smb import security_descriptors as sd
from smb.security_descriptors import (
    ACE,
    ACE_FLAG_CONTAINER_INHERIT,
    ACE_FLAG_INHERIT_ONLY,
    ACE_FLAG_INHERITED,
    ACE_FLAG_OBJECT_INHERIT,
    ACE_TYPE_ACCESS_ALLOWED,
    ACE_TYPE_ACCESS_ALLOWED_CALLBACK,
    ACE_TYPE_ACCESS_ALLOWED_OBJECT,
    ACE_TYPE_ACCESS_DENIED,
    ACE_TYPE_SYSTEM_AUDIT,
    ACL,
    SECURITY_DESCRIPTOR_DACL_AUTO_INHERITED,
    SECURITY_DESCRIPTOR_DACL_PRESENT,
    SECURITY_DESCRIPTOR_SACL_PRESENT,
    SECURITY_DESCRIPTOR_SELF_RELATIVE,
    SID,
    SID_BUILTIN_ADMINISTRATORS,
    SID_EVERYONE,
    SID_NT_AUTHORITY,
    AceFlags,
    AceType,
    SecurityDescriptor,
    SecurityDescriptorControl,
)


def h(text: str) -> bytes:
    """Hex with spaces, newlines and '#' comments allowed."""
    lines = [line.split("#", 1)[0] for line in text.splitlines()]
    return bytes.fromhex("".join(lines).replace(" ", ""))


# S-1-5-21-1111111111-2222222222-3333333333-1000: 8 + 5 * 4 = 28 bytes.
USER_SID = h("""
01 05 000000000005   # revision 1, 5 subauthorities, authority 5 (big-endian)
15000000 c7353a42 8e6b7484 55a1aec6 e8030000
""")
# S-1-5-21-1111111111-2222222222-3333333333-513 (Domain Users)
GROUP_SID = h("01 05 000000000005 15000000 c7353a42 8e6b7484 55a1aec6 01020000")
EVERYONE_SID = h("01 01 000000000001 00000000")  # S-1-1-0, 12 bytes
ADMINS_SID = h("01 02 000000000005 20000000 20020000")  # S-1-5-32-544, 16 bytes

DACL = (
    h("02 00 7c00 0400 0000")  # AclRevision 2, AclSize 124, AceCount 4
    # ACCESS_DENIED, no flags, size 36, WRITE_DAC|WRITE_OWNER, user
    + h("01 00 2400 00000c00") + USER_SID
    # ACCESS_ALLOWED, OBJECT_INHERIT|CONTAINER_INHERIT, size 36, full control, user
    + h("00 03 2400 ff011f00") + USER_SID
    # ACCESS_ALLOWED, OI|CI|INHERIT_ONLY, size 20, read+execute, Everyone
    + h("00 0b 1400 a9001200") + EVERYONE_SID
    # ACCESS_ALLOWED, INHERITED, size 24, full control, BUILTIN\Administrators
    + h("00 10 1800 ff011f00") + ADMINS_SID
)
assert len(DACL) == 124

DESCRIPTOR = (
    # Revision 1, Sbz1, Control = SELF_RELATIVE|DACL_AUTO_INHERITED|DACL_PRESENT,
    # OffsetOwner 20, OffsetGroup 48, OffsetSacl 0, OffsetDacl 76
    h("01 00 0484 14000000 30000000 00000000 4c000000")
    + USER_SID + GROUP_SID + DACL
)
assert len(DESCRIPTOR) == 200


def test_parse_realistic_descriptor() -> None:
    desc = SecurityDescriptor.from_bytes(DESCRIPTOR)
    assert desc.flags == 0x8404
    assert desc.flags == (SECURITY_DESCRIPTOR_SELF_RELATIVE | SECURITY_DESCRIPTOR_DACL_AUTO_INHERITED
                          | SECURITY_DESCRIPTOR_DACL_PRESENT)
    assert str(desc.owner) == "S-1-5-21-1111111111-2222222222-3333333333-1000"
    assert desc.owner.revision == 1
    assert desc.owner.identifier_authority == 5
    assert desc.owner.subauthorities == [21, 1111111111, 2222222222, 3333333333, 1000]
    assert str(desc.group) == "S-1-5-21-1111111111-2222222222-3333333333-513"
    assert desc.sacl is None

    dacl = desc.dacl
    assert isinstance(dacl, ACL)
    assert dacl.revision == 2
    assert len(dacl.aces) == 4
    denied, allowed, everyone, admins = dacl.aces

    assert denied.type == ACE_TYPE_ACCESS_DENIED
    assert denied.flags == 0
    assert denied.mask == 0x000C0000
    assert denied.sid == desc.owner
    assert denied.additional_data == {}
    assert not denied.isInheritOnly

    assert allowed.type == ACE_TYPE_ACCESS_ALLOWED
    assert allowed.flags == ACE_FLAG_OBJECT_INHERIT | ACE_FLAG_CONTAINER_INHERIT
    assert allowed.mask == 0x001F01FF
    assert str(allowed.sid) == "S-1-5-21-1111111111-2222222222-3333333333-1000"
    assert not allowed.isInheritOnly

    assert everyone.type == ACE_TYPE_ACCESS_ALLOWED
    assert everyone.flags == ACE_FLAG_OBJECT_INHERIT | ACE_FLAG_CONTAINER_INHERIT | ACE_FLAG_INHERIT_ONLY
    assert everyone.isInheritOnly
    assert everyone.mask == 0x001200A9
    assert everyone.sid == SID_EVERYONE
    assert str(everyone.sid) == "S-1-1-0"

    assert admins.flags == ACE_FLAG_INHERITED
    assert admins.isInherited and not admins.isInheritOnly
    assert admins.sid == SID_BUILTIN_ADMINISTRATORS
    assert str(admins.sid) == "S-1-5-32-544"


def test_descriptor_accepts_memoryview_and_trailing_data() -> None:
    desc = SecurityDescriptor.from_bytes(memoryview(DESCRIPTOR + b"\xff" * 7))
    assert str(desc.owner).endswith("-1000")
    assert len(desc.dacl.aces) == 4


def test_descriptor_round_trip() -> None:
    desc = SecurityDescriptor.from_bytes(DESCRIPTOR)
    again = SecurityDescriptor.from_bytes(desc.to_bytes())
    assert again == desc
    assert len(desc.to_bytes()) == len(DESCRIPTOR)


def test_descriptor_to_bytes_layout() -> None:
    # Windows' order: header, SACL, DACL, owner, group.
    desc = SecurityDescriptor(SECURITY_DESCRIPTOR_SELF_RELATIVE, SID_EVERYONE, None,
                              ACL(2, [ACE(ACE_TYPE_ACCESS_ALLOWED, 0, 0x1F01FF, SID_EVERYONE)]), None)
    assert desc.to_bytes() == (
        h("01 00 0480 30000000 00000000 00000000 14000000")
        + h("02 00 1c00 0100 0000") + h("00 00 1400 ff011f00") + EVERYONE_SID
        + EVERYONE_SID)


def test_descriptor_with_sacl_and_no_owner() -> None:
    sacl = h("02 00 1c00 0100 0000") + h("02 c0 1400 00000100") + EVERYONE_SID  # audit DELETE, S+F
    data = h("01 00 1080 00000000 00000000 14000000 00000000") + sacl
    desc = SecurityDescriptor.from_bytes(data)
    assert desc.owner is None and desc.group is None and desc.dacl is None
    assert desc.flags & SECURITY_DESCRIPTOR_SACL_PRESENT
    (ace,) = desc.sacl.aces
    assert ace.type == ACE_TYPE_SYSTEM_AUDIT
    assert ace.flags == 0xC0
    assert ace.mask == 0x00010000


# ---- SID ------------------------------------------------------------------

def test_sid_strings() -> None:
    assert str(SID(1, 5, [32, 544])) == "S-1-5-32-544"
    assert str(SID(1, 5, [])) == "S-1-5"
    assert str(SID_NT_AUTHORITY) == "S-1-5"
    assert str(SID(1, 0xFFFFFFFF, [7])) == "S-1-4294967295-7"
    # [MS-DTYP] 2.4.2.1: from 2**32 on the authority is hexadecimal.
    assert str(SID(1, 2 ** 32, [1])) == "S-1-0x100000000-1"
    assert str(SID(1, 0x123456789ABC, [1, 2])) == "S-1-0x123456789abc-1-2"
    assert repr(SID(1, 1, [0])) == "SID('S-1-1-0')"


def test_sid_from_bytes_hex_authority() -> None:
    data = h("01 02 123456789abc 01000000 02000000")
    sid = SID.from_bytes(data)
    assert sid.identifier_authority == 0x123456789ABC
    assert str(sid) == "S-1-0x123456789abc-1-2"
    assert sid.to_bytes() == data


def test_sid_return_tail() -> None:
    sid, rest = SID.from_bytes(ADMINS_SID + b"tail", return_tail=True)
    assert str(sid) == "S-1-5-32-544"
    assert rest == b"tail"
    sid, rest = SID.from_bytes(ADMINS_SID, return_tail=True)
    assert rest == b""


def test_sid_to_bytes() -> None:
    assert SID(1, 5, [21, 1111111111, 2222222222, 3333333333, 1000]).to_bytes() == USER_SID
    assert SID_EVERYONE.to_bytes() == EVERYONE_SID


def test_sid_equality_and_hash() -> None:
    a = SID.from_bytes(ADMINS_SID)
    assert a == SID(1, 5, [32, 544])
    assert a != SID(1, 5, [32, 545])
    assert hash(a) == hash(SID(1, 5, [32, 544]))
    assert {a: 1}[SID_BUILTIN_ADMINISTRATORS] == 1
    # pysmb's SID_* were strings: comparisons with strings keep working.
    assert a == "S-1-5-32-544"
    assert "S-1-5-32-544" == a
    assert str(a) == str(SID_BUILTIN_ADMINISTRATORS)
    assert a != "S-1-5-32-545"
    assert "S-1-5-32-544" in {a}


def test_sid_from_string() -> None:
    assert SID.from_string("S-1-5-21-1-2-3-1000").subauthorities == [21, 1, 2, 3, 1000]
    assert SID.from_string("S-1-0x123456789abc-1").identifier_authority == 0x123456789ABC
    for bad in ("", "S-1", "X-1-5", "S-1-5-", "S-1-5-32-" + "1-" * 15 + "1", "S-1-5-4294967296"):
        with pytest.raises(ValueError):
            SID.from_string(bad)


def test_well_known_constants() -> None:
    assert isinstance(SID_EVERYONE, SID)
    assert sd.SID_NULL == "S-1-0-0"
    assert sd.SID_LOCAL == "S-1-2-0"
    assert sd.SID_CREATOR_OWNER == "S-1-3-0"
    assert sd.SID_CREATOR_GROUP == "S-1-3-1"
    assert sd.SID_AUTHENTICATED_USERS == "S-1-5-11"
    assert sd.SID_LOCAL_SYSTEM == "S-1-5-18"
    assert sd.SID_BUILTIN_USERS == "S-1-5-32-545"
    assert sd.SID_USER_MODE_DRIVERS.subauthorities == [84, 0, 0, 0, 0, 0]
    assert sd.ACE_TYPE_SYSTEM_SCOPED_POLICY_ID == AceType.SYSTEM_SCOPED_POLICY_ID == 0x13
    assert sd.ACE_FLAG_FAILED_ACCESS == AceFlags.FAILED_ACCESS == 0x80
    assert sd.SECURITY_DESCRIPTOR_SELF_RELATIVE == SecurityDescriptorControl.SELF_RELATIVE == 0x8000
    assert "SID_EVERYONE" in sd.__all__ and "ACE_TYPE_ACCESS_ALLOWED" in sd.__all__


# ---- ACE variants ---------------------------------------------------------

def test_object_ace_with_one_guid() -> None:
    guid = bytes(range(16))
    # ACCESS_ALLOWED_OBJECT, Flags = ACE_OBJECT_TYPE_PRESENT only: one GUID, then the SID.
    body = h("00010000 01000000") + guid + EVERYONE_SID
    data = struct.pack("<BBH", 5, 0x02, 4 + len(body)) + body
    ace = ACE.from_bytes(data)
    assert ace.type == ACE_TYPE_ACCESS_ALLOWED_OBJECT
    assert ace.mask == 0x100
    assert ace.additional_data == {"flags": 1, "object_type": guid, "inherited_object_type": None}
    assert ace.sid == SID_EVERYONE
    assert ace.to_bytes() == data


def test_callback_ace_application_data() -> None:
    body = h("01000000") + EVERYONE_SID + b"artx\x01\x02\x03\x04"
    data = struct.pack("<BBH", ACE_TYPE_ACCESS_ALLOWED_CALLBACK, 0, 4 + len(body)) + body
    ace = ACE.from_bytes(data)
    assert ace.additional_data == {"application_data": b"artx\x01\x02\x03\x04"}
    assert ace.sid == SID_EVERYONE


def test_unknown_ace_type_keeps_raw_data() -> None:
    data = h("20 00 0c00 deadbeef 01020304")
    ace = ACE.from_bytes(data)
    assert ace.type == 0x20
    assert ace.mask is None and ace.sid is None
    assert ace.additional_data == {"raw_data": h("deadbeef 01020304")}
    assert ace.to_bytes() == data
    # In an ACL, parsing continues after it.
    acl = ACL.from_bytes(h("02 00 2800 0200 0000") + data + h("00 00 1400 ff011f00") + EVERYONE_SID)
    assert [a.type for a in acl.aces] == [0x20, 0]
    assert "mask=None" in repr(ace)


def test_ace_padding_after_sid_is_ignored() -> None:
    data = h("00 00 1800 ff011f00") + EVERYONE_SID + b"\0\0\0\0"
    ace = ACE.from_bytes(data)
    assert ace.sid == SID_EVERYONE and ace.additional_data == {}


# ---- hostile input --------------------------------------------------------

MALFORMED = {
    "acl 65535 aces in 20 bytes": (ACL.from_bytes, h("02 00 1400 ffff 0000") + h("00 00 0c00 01000000 01000000")),
    "acl size past data": (ACL.from_bytes, h("02 00 ff00 0100 0000") + h("00 00 1400 ff011f00") + EVERYONE_SID),
    "acl size below header": (ACL.from_bytes, h("02 00 0400 0000 0000")),
    "acl header truncated": (ACL.from_bytes, h("02 00 0800 00")),
    "ace size zero": (ACL.from_bytes, h("02 00 1c00 0100 0000") + h("00 00 0000 ff011f00") + EVERYONE_SID),
    "ace past acl": (ACL.from_bytes, h("02 00 1c00 0100 0000") + h("00 00 2000 ff011f00") + EVERYONE_SID + b"\0" * 4),
    "ace too small for mask": (ACE.from_bytes, h("00 00 0600 ff01")),
    "ace sid truncated": (ACE.from_bytes, h("00 00 1000 ff011f00 01 01 000000000001")),
    "object ace guid truncated": (ACE.from_bytes, h("05 00 1000 00000000 03000000 00112233")),
    "ace header truncated": (ACE.from_bytes, h("00 00 14")),
    "sid 255 subauthorities": (SID.from_bytes, h("01 ff 000000000005") + b"\x01" * 64),
    "sid 16 subauthorities": (SID.from_bytes, h("01 10 000000000005") + b"\x01" * 64),
    "sid subauthorities truncated": (SID.from_bytes, h("01 05 000000000005 15000000 c7353a42")),
    "sid header truncated": (SID.from_bytes, h("01 01 0000")),
    "sid revision 2": (SID.from_bytes, h("02 01 000000000001 00000000")),
    "sd owner offset outside": (SecurityDescriptor.from_bytes,
                                h("01 00 0480 f4010000 00000000 00000000 00000000") + EVERYONE_SID),
    "sd offset inside header": (SecurityDescriptor.from_bytes,
                                h("01 00 0480 04000000 00000000 00000000 00000000") + EVERYONE_SID),
    "sd dacl offset at end": (SecurityDescriptor.from_bytes,
                              h("01 00 0480 00000000 00000000 00000000 20000000") + EVERYONE_SID),
    "sd owner sid runs past end": (SecurityDescriptor.from_bytes,
                                   h("01 00 0480 1c000000 00000000 00000000 00000000") + EVERYONE_SID),
    "sd not self-relative": (SecurityDescriptor.from_bytes, h("01 00 0400 00000000 00000000 00000000 00000000")),
    "sd revision 2": (SecurityDescriptor.from_bytes, h("02 00 0480 00000000 00000000 00000000 00000000")),
    "sd header truncated": (SecurityDescriptor.from_bytes, h("01 00 0480 00000000")),
    "sd empty": (SecurityDescriptor.from_bytes, b""),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_raises_protocol_error(name: str) -> None:
    parse, data = MALFORMED[name]
    with pytest.raises(ProtocolError):
        parse(data)


def test_minimal_empty_descriptor_is_valid() -> None:
    desc = SecurityDescriptor.from_bytes(h("01 00 0080 00000000 00000000 00000000 00000000"))
    assert (desc.owner, desc.group, desc.dacl, desc.sacl) == (None, None, None, None)


def test_every_truncation_raises_protocol_error() -> None:
    for n in range(len(DESCRIPTOR)):
        with pytest.raises(ProtocolError):
            SecurityDescriptor.from_bytes(DESCRIPTOR[:n])


def test_random_corruption_raises_only_protocol_error() -> None:
    rng = random.Random(1234)
    parsed = 0
    for _ in range(3000):
        data = bytearray(DESCRIPTOR)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            SecurityDescriptor.from_bytes(bytes(data))
            parsed += 1
        except ProtocolError:
            pass
    assert parsed > 0  # most byte flips land in masks and subauthorities



# Captured from Samba 4.17.12 on loopback: SMB2 QUERY_INFO (SECURITY, owner|group|DACL)
# of a file owned by root, mode 0644, as smbclient's "showacls" asked for it.
SAMBA_SD = bytes.fromhex(
    "0100 0490 14000000 24000000 00000000 34000000"  # owner 20, group 36, DACL 52
    "0102000000000016 01000000 00000000"  # S-1-22-1-0 (Unix uid 0)
    "0102000000000016 02000000 00000000"  # S-1-22-2-0 (Unix gid 0)
    "0200 4c00 0300 0000"
    "00 00 1800 9f011200 0102000000000016 01000000 00000000"
    "00 00 1800 89001200 0102000000000016 02000000 00000000"
    "00 00 1400 89001200 0101000000000001 00000000"
)


def test_samba_captured_descriptor() -> None:
    assert len(SAMBA_SD) == 128
    desc = SecurityDescriptor.from_bytes(SAMBA_SD)
    assert desc.flags == 0x9004  # DACL_PRESENT | DACL_PROTECTED | SELF_RELATIVE
    assert str(desc.owner) == "S-1-22-1-0"
    assert str(desc.group) == "S-1-22-2-0"
    assert desc.sacl is None
    assert desc.dacl.revision == 2
    assert [(a.type, a.flags, a.mask, str(a.sid)) for a in desc.dacl.aces] == [
        (ACE_TYPE_ACCESS_ALLOWED, 0, 0x0012019F, "S-1-22-1-0"),
        (ACE_TYPE_ACCESS_ALLOWED, 0, 0x00120089, "S-1-22-2-0"),
        (ACE_TYPE_ACCESS_ALLOWED, 0, 0x00120089, "S-1-1-0"),
    ]
    for n in range(len(SAMBA_SD)):
        with pytest.raises(ProtocolError):
            SecurityDescriptor.from_bytes(SAMBA_SD[:n])
