"""pysmb 1.2.15's public surface against smbwire (issue 10, work in progress).

``tests/data/pysmb-1.2.15.json`` is the inventory made by ``tests/pysmb_inventory.py`` from
pysmb installed in a side venv.  ``tests/data/pysmb-known-gaps.txt`` lists what smbwire does
not cover yet, one line per name.  The list only shrinks: a new gap fails the test, and so
does a listed gap that has been closed (take its line out).
"""
from __future__ import annotations

import os
import subprocess
import sys

from . import pysmb_surface

KNOWN = os.path.join(os.path.dirname(pysmb_surface.INVENTORY), "pysmb-known-gaps.txt")


def _known() -> set:
    with open(KNOWN, encoding="utf-8") as fh:
        return {line.rstrip("\n") for line in fh if line.strip()}


def test_inventory_is_pysmb_1_2_15() -> None:
    inventory = pysmb_surface.load()
    assert inventory["pysmb_version"] == "1.2.15"
    assert sum(len(names) for names in inventory["modules"].values()) > 1500


def test_no_new_gaps_and_closed_gaps_leave_the_list() -> None:
    found = set(pysmb_surface.gaps())
    known = _known()
    assert sorted(found - known) == [], "new gaps against pysmb"
    assert sorted(known - found) == [], "closed gaps still listed in pysmb-known-gaps.txt"


def test_names_scripts_use() -> None:
    from smb import base
    from smb.base import SharedDevice
    from smb.SMBConnection import SMBConnection
    for cls in (SMBConnection, base.SMB):
        assert (cls.SIGN_NEVER, cls.SIGN_WHEN_SUPPORTED, cls.SIGN_WHEN_REQUIRED) == (0, 1, 2)
    share = SharedDevice(0, "data", "the comment")
    assert share.comments == share.comment == "the comment"


def test_import_smbconnection_imports_what_pysmb_did() -> None:
    code = ("import smb.SMBConnection, smb\n"
            "assert smb.smb_structs.SUPPORT_SMB2 in (True, False)\n"
            "assert smb.base.SMB and smb.ntlm and smb.securityblob and smb.smb_constants\n"
            "try:\n    raise smb.smb_structs.OperationFailure('x', [])\n"
            "except smb.smb_structs.OperationFailure:\n    pass\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=60)


def test_pysmb_constant_tables() -> None:
    from nmb import nmb_constants as N
    from smb import smb2_constants as K
    from smb import smb_constants as C
    assert (N.NETBIOS_NS_PORT, N.NETBIOS_SESSION_PORT, N.NODE_B, N.NODE_P, N.NODE_M) == (137, 139, 0, 1, 0x10)
    assert N.REGTARGET_SESSION_RESPONSE == 0x84
    assert K.SMB2_COMMAND_NAMES[0] == "SMB2_COM_NEGOTIATE" and K.SMB2_COMMAND_NAMES[8] == "SMB2_COM_READ"
    assert len(K.SMB2_COMMAND_NAMES) == 19
    assert C.SMB_COMMAND_NAMES[0x2E] == "SMB_COM_READ_ANDX" and C.SMB_COMMAND_NAMES[0x72] == "SMB_COM_NEGOTIATE"
    assert C.ATTR_SPARSE == K.SMB2_FILE_ATTRIBUTE_SPARSE == 0x200
    assert (C.SERVICE_PRINTER, C.SERVICE_NAMED_PIPE, C.SERVICE_ANY) == ("LPT1:", "IPC", "?????")
