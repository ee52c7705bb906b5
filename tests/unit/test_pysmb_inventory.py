"""pysmb 1.2.15's public surface against smbwire.

``tests/data/pysmb-1.2.15.json`` is the inventory made by ``tests/pysmb_inventory.py`` from
pysmb installed in a side venv.  Every name in it must resolve in smbwire, every callable must
accept pysmb's parameters, every attribute pysmb's ``__init__`` sets must exist, except for
the deliberate differences in :data:`ALLOWED` below (each with its reason; docs/migrating.rst
names them too).  An allow-list entry that no longer matches anything fails the test as well,
so the list is always the current one.
"""
from __future__ import annotations

import fnmatch
import os
import subprocess
import sys

from . import pysmb_surface

#: Deliberate differences: a pattern over the gap lines of ``pysmb_surface.gaps()`` -> why.
ALLOWED = {
    # pysmb built its dialect lists with module-level ``for`` loops, whose variables stayed
    # behind as module attributes and reached other modules through star imports.  They are
    # loop leftovers, not API: no script has a reason to read them.
    "smb.*.dialect: missing": "loop variable left behind in pysmb's smb_structs",
    "smb.*.i: missing": "loop variable left behind in pysmb's smb_structs",
    "smb.*.name: missing": "loop variable left behind in pysmb's smb_structs",
}


def _unexplained(found: list) -> list:
    return [gap for gap in found if not any(fnmatch.fnmatchcase(gap, pat) for pat in ALLOWED)]


def test_inventory_is_pysmb_1_2_15() -> None:
    inventory = pysmb_surface.load()
    assert inventory["pysmb_version"] == "1.2.15"
    assert sum(len(names) for names in inventory["modules"].values()) > 1500


def test_every_pysmb_name_resolves_but_the_allowed_differences() -> None:
    found = pysmb_surface.gaps()
    assert _unexplained(found) == [], "pysmb names smbwire lacks"
    stale = [pat for pat in ALLOWED if not any(fnmatch.fnmatchcase(gap, pat) for gap in found)]
    assert stale == [], "allow-list entries that match nothing any more"


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
