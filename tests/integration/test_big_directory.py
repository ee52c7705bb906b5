"""Directories far bigger than one QUERY_DIRECTORY response are listed completely."""
from __future__ import annotations

import os
import shutil
import uuid

import pytest

from smb.SMBConnection import SMBConnection


@pytest.mark.parametrize("dialect", ["SMB2_02", "SMB3_11"])
def test_list_20000_entries(samba_factory, dialect):
    srv = samba_factory(min_protocol=dialect, max_protocol=dialect)
    folder = "big-" + uuid.uuid4().hex[:8]
    local = os.path.join(srv.share_path("data"), folder)
    os.mkdir(local)
    names = {"a-fairly-long-file-name-to-fill-buffers-%06d.dat" % i for i in range(20000)}
    for name in names:
        open(os.path.join(local, name), "wb").close()
    try:
        with SMBConnection(srv.user, srv.password, "pytest-client", srv.netbios_name, is_direct_tcp=True) as c:
            assert c.connect(srv.host, srv.port) is True
            entries = c.listPath("data", folder, timeout=120)
            got = [e.filename for e in entries]
            assert len(got) == len(set(got)) == 20002
            assert set(got) == names | {".", ".."}
            assert len(c.listPath("data", folder, pattern="*-0199??.dat")) == 100
    finally:
        shutil.rmtree(local)
