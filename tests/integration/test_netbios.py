"""The NetBIOS name service client against a real nmbd on 127.0.0.2.

The ``samba`` fixture runs nmbd on a private name-service port.  The cross-check
with Samba's own ``nmblookup`` (which can only ask port 137) starts a second
nmbd on port 137 with a copy of the fixture's configuration, when that port is
free and we are root.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Iterator, List, Optional, Set, Tuple

import pytest

from nmb.NetBIOS import NetBIOS
from tests.samba_server import stop_session

NMB_PORT = 137


@pytest.fixture(scope="module")
def nmb_server(samba):
    if not samba.nmbd_running:
        pytest.skip("the samba fixture could not run nmbd on this host (see SAMBA-NOTES: needs 127.0.0.2)")
    return samba


@pytest.fixture
def nb() -> Iterator[NetBIOS]:
    with NetBIOS(broadcast=False) as client:
        yield client


def test_query_name(nmb_server, nb: NetBIOS) -> None:
    ips = nb.queryName(nmb_server.netbios_name, nmb_server.nmb_ip, port=nmb_server.nmb_port, timeout=5)
    assert ips is not None and nmb_server.nmb_ip in ips


def test_query_name_lower_case(nmb_server, nb: NetBIOS) -> None:
    ips = nb.queryName(nmb_server.netbios_name.lower(), nmb_server.nmb_ip,
                       port=nmb_server.nmb_port, timeout=5)
    assert ips is not None and nmb_server.nmb_ip in ips


def test_query_ip_for_name(nmb_server, nb: NetBIOS) -> None:
    names = nb.queryIPForName(nmb_server.nmb_ip, port=nmb_server.nmb_port, timeout=5)
    assert names is not None
    assert names[0] == nmb_server.netbios_name
    assert nmb_server.workgroup not in names  # a group name, not the host's


def test_query_node_status(nmb_server, nb: NetBIOS) -> None:
    status = nb.queryNodeStatus(nmb_server.nmb_ip, port=nmb_server.nmb_port, timeout=5)
    assert status is not None
    table = {(n.name, n.suffix, n.is_group) for n in status.names}
    assert (nmb_server.netbios_name, 0x20, False) in table
    assert (nmb_server.netbios_name, 0x00, False) in table
    assert (nmb_server.workgroup, 0x00, True) in table
    assert status.workgroup == nmb_server.workgroup
    assert re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", status.mac)


def test_unknown_name_returns_none_quickly(nmb_server, nb: NetBIOS) -> None:
    began = time.monotonic()
    assert nb.queryName("NOSUCHHOST4711", nmb_server.nmb_ip, port=nmb_server.nmb_port,
                        timeout=1.0) is None
    assert time.monotonic() - began < 1.5


# ------------------------------------------------------------------------ nmblookup cross-check

def _udp_port_free(port: int) -> bool:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("0.0.0.0", port))
    except OSError:
        return False
    finally:
        sock.close()
    return True


_DIR_OPTIONS = ("lock directory", "state directory", "cache directory", "pid directory",
                "private dir", "ncalrpc dir", "binddns dir", "winbindd socket directory",
                "ntp signd socket directory")


def _rewrite_config(text: str, root: str) -> str:
    """The fixture's smb.conf with every state directory moved into ``root`` (two
    nmbd processes must not share a pid file or their tdb files); private dir
    keeps pointing at the fixture's (nmbd only reads secrets from it)."""
    out: List[str] = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip().lower()
        if "=" in line and key in _DIR_OPTIONS and key != "private dir":
            path = os.path.join(root, key.replace(" ", "_"))
            os.makedirs(path, exist_ok=True)
            line = "    %s = %s" % (key, path)
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def port137_nmbd(nmb_server) -> Iterator[Tuple[object, str]]:
    nmbd = shutil.which("nmbd") or ("/usr/sbin/nmbd" if os.access("/usr/sbin/nmbd", os.X_OK) else None)
    nmblookup = shutil.which("nmblookup")
    if nmbd is None or nmblookup is None:
        pytest.skip("nmbd/nmblookup not installed (samba, samba-common-bin)")
    if os.geteuid() != 0:
        pytest.skip("binding UDP port 137 needs root")
    # Only 137 is checked: the fixture's nmbd already holds 138 (nmbd binds it whatever its
    # name-service port), and nmbd shares it with SO_REUSEADDR.
    if not _udp_port_free(NMB_PORT):
        pytest.skip("UDP port 137 is busy on this host: cannot start an nmbd nmblookup can ask")
    root = tempfile.mkdtemp(prefix="smbwire-nmbd137-")
    os.chmod(root, 0o755)
    with open(nmb_server.conf_path, encoding="utf-8") as fh:
        conf = _rewrite_config(fh.read(), root)
    conf_path = os.path.join(root, "smb.conf")
    with open(conf_path, "w", encoding="utf-8") as fh:
        fh.write(conf)
    log_dir = os.path.join(root, "log")
    os.makedirs(log_dir)
    out = open(os.path.join(log_dir, "nmbd.stdout"), "ab")
    proc = subprocess.Popen([nmbd, "--foreground", "--no-process-group", "-s", conf_path,
                             "-l", log_dir, "--option=interfaces=%s/8" % nmb_server.nmb_ip],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True, close_fds=True)
    out.close()
    try:
        deadline = time.monotonic() + 30
        with NetBIOS(broadcast=False) as client:
            while True:
                if proc.poll() is not None:
                    pytest.skip("the extra nmbd on port 137 exited with status %s" % proc.returncode)
                if client.queryName(nmb_server.netbios_name, nmb_server.nmb_ip, port=NMB_PORT,
                                    timeout=0.3):
                    break
                if time.monotonic() > deadline:
                    pytest.fail("the extra nmbd on port 137 never answered a name query")
        yield proc, nmblookup
    finally:
        stop_session(proc)
        shutil.rmtree(root, ignore_errors=True)


def _nmblookup(nmblookup: str, *args: str) -> str:
    result = subprocess.run([nmblookup, "-s", "/dev/null", *args], capture_output=True, text=True,
                            timeout=30, check=False)
    return result.stdout


def test_query_name_matches_nmblookup(nmb_server, port137_nmbd) -> None:
    _proc, nmblookup = port137_nmbd
    name = nmb_server.netbios_name
    # NAME#20: the server name, which is what queryName asks for (nmblookup's default is <00>)
    output = _nmblookup(nmblookup, "-U", nmb_server.nmb_ip, name + "#20")
    theirs = re.findall(r"^(\d+\.\d+\.\d+\.\d+) %s<20>" % re.escape(name), output, re.M)
    assert theirs, "nmblookup found nothing:\n" + output
    with NetBIOS(broadcast=False) as client:
        ours = client.queryName(name, nmb_server.nmb_ip, port=NMB_PORT, timeout=5)
    assert ours is not None and sorted(ours) == sorted(theirs)


def _parse_status(output: str) -> Tuple[Set[Tuple[str, int, bool]], Optional[str]]:
    names = set()
    for match in re.finditer(r"^\s+(.+?)\s*<([0-9a-fA-F]{2})> - (<GROUP>)?", output, re.M):
        names.add((match.group(1), int(match.group(2), 16), match.group(3) is not None))
    mac = re.search(r"MAC Address = ([0-9A-Fa-f-]{17})", output)
    return names, (mac.group(1).replace("-", ":").lower() if mac else None)


def test_node_status_matches_nmblookup(nmb_server, port137_nmbd) -> None:
    _proc, nmblookup = port137_nmbd
    output = _nmblookup(nmblookup, "-A", nmb_server.nmb_ip)
    their_names, their_mac = _parse_status(output)
    assert their_names, "nmblookup -A found nothing:\n" + output
    with NetBIOS(broadcast=False) as client:
        status = client.queryNodeStatus(nmb_server.nmb_ip, port=NMB_PORT, timeout=5)
    assert status is not None
    ours = {(n.name, n.suffix, n.is_group) for n in status.names}
    assert ours == their_names
    if their_mac is not None:
        assert status.mac == their_mac
