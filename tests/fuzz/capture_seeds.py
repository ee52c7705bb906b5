"""One-off helper: record real server bytes from our Samba as fuzzing seeds.

Run as root on a machine with Samba (see ``tests/samba_server.py``)::

    python3 -m tests.fuzz.capture_seeds            # rewrites tests/fuzz/seeds/

It runs a few complete sessions (NT1, SMB 2.0.2, 2.1, 3.1.1 signed, 3.1.1
encrypted, plus NetBIOS name queries when nmbd can run) while the library's
decoders are wrapped so that every buffer they are handed is also written to
``seeds/<family>/``.  Each family is the input of one fuzz target in
``tests/unit/test_fuzz_decoders.py`` and ``tests/fuzz/atheris_decoders.py``.
Frames larger than ``MAX_SEED`` bytes are skipped (the seeds stay small).

The only purpose of this script is to refresh the committed seed files; the
fuzz tests never run it.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import sys
from typing import Any, Dict, List

SEED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
MAX_SEED = 16 * 1024
MAX_PER_LABEL = 20
MAX_PER_SHAPE = 2

_recorded: Dict[str, Dict[str, bytes]] = {}
_label = ["start"]


def record(family: str, data: Any) -> None:
    try:
        raw = bytes(data)
    except TypeError:
        return
    if not raw or len(raw) > MAX_SEED:
        return
    bucket = _recorded.setdefault(family, {})
    digest = hashlib.sha256(raw).hexdigest()[:12]
    if any(v == raw for v in bucket.values()):
        return
    shape = _shape(family, raw)
    if shape is not None:
        # Frames: keep a couple of each (command, status) so every response kind is present.
        name = "%s-%s-%s" % (_label[0], shape, digest)
        if sum(1 for key in bucket if key.startswith(name[:-len(digest)])) < MAX_PER_SHAPE:
            bucket[name] = raw
        return
    if sum(1 for key in bucket if key.rsplit("-", 1)[0] == _label[0]) < MAX_PER_LABEL:
        bucket["%s-%s" % (_label[0], digest)] = raw


def _shape(family: str, raw: bytes) -> Any:
    if family == "smb2" and len(raw) >= 64:
        return "%02x-%08x" % (int.from_bytes(raw[12:14], "little"), int.from_bytes(raw[8:12], "little"))
    if family == "smb1" and len(raw) >= 32:
        return "%02x-%08x" % (raw[4], int.from_bytes(raw[5:9], "little"))
    return None


def _wrap_function(module: Any, name: str, family: str, arg: int = 0) -> None:
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        record(family, args[arg])
        return original(*args, **kwargs)

    setattr(module, name, wrapper)


def _wrap_classmethod(cls: Any, name: str, family: str) -> None:
    original = getattr(cls, name)  # bound to cls

    def wrapper(_cls: Any, buf: Any, *args: Any, **kwargs: Any) -> Any:
        offset = args[0] if args else kwargs.get("offset", 0)
        record(family, bytes(buf)[offset:])
        return original(buf, *args, **kwargs)

    setattr(cls, name, classmethod(wrapper))


def _wrap_method(cls: Any, name: str, family: str) -> None:
    original = getattr(cls, name)

    def wrapper(self: Any, data: Any, *args: Any, **kwargs: Any) -> Any:
        record(family, data)
        return original(self, data, *args, **kwargs)

    setattr(cls, name, wrapper)


def install_recorders() -> None:
    from nmb import base as nmb_base
    from smb import _msrpc, fscc, ntlm, securityblob
    from smb import base as smb_base
    from smb.security_descriptors import SecurityDescriptor

    original_receive = smb_base.SMB.receive_frame

    def receive_frame(self: Any, frame: memoryview) -> None:
        head = bytes(frame[:4])
        family = {b"\xfeSMB": "smb2", b"\xffSMB": "smb1", b"\xfdSMB": "transform"}.get(head, "other")
        record(family, frame)
        return original_receive(self, frame)

    smb_base.SMB.receive_frame = receive_frame  # type: ignore[method-assign]
    for name in ("decodeChallengeSecurityBlob", "decode_neg_token_resp", "decode_server_negotiate_hint",
                 "decodeAuthResponseSecurityBlob"):
        _wrap_function(securityblob, name, "spnego")
    _wrap_method(ntlm.NtlmContext, "authenticate_message", "ntlm")
    _wrap_function(_msrpc, "parse_bind_ack", "rpc")
    _wrap_method(_msrpc.RpcResponseAssembler, "feed", "rpc")
    _wrap_function(_msrpc, "parse_net_share_enum_all_response", "rpc_stub")
    _wrap_classmethod(SecurityDescriptor, "from_bytes", "sd")
    _wrap_function(fscc, "parse_file_id_both_directory_information", "fscc_dir")
    _wrap_function(fscc, "parse_file_alternate_name_information", "fscc_info")
    for cls in (fscc.FileAllInformation, fscc.FileInternalInformation, fscc.SnapshotArray,
                fscc.FileBasicInformation, fscc.FileStandardInformation):
        _wrap_classmethod(cls, "unpack_from", "fscc_info")
    _wrap_method(nmb_base.NBNS, "receive", "nmb")


def session(server: Any, label: str, **kwargs: Any) -> None:
    from smb.SMBConnection import SMBConnection
    _label[0] = label
    conn = SMBConnection(server.user, server.password, "seedclient", server.netbios_name,
                         is_direct_tcp=True, **kwargs)
    assert conn.connect(server.host, server.port, timeout=30)
    try:
        conn.listShares()
        folder = "seed-" + label
        try:
            conn.createDirectory("data", folder)
        except Exception:  # noqa: BLE001 - left over from an earlier run
            pass
        for i in range(3):
            conn.storeFile("data", "%s/file%d.txt" % (folder, i), io.BytesIO(b"seed data %d\n" % i * 20))
        conn.listPath("data", folder)
        conn.getAttributes("data", folder + "/file0.txt")
        conn.getSecurity("data", folder + "/file0.txt")
        conn.retrieveFile("data", folder + "/file1.txt", io.BytesIO())
        try:
            conn.listSnapshots("snapshots", "/")
        except Exception:  # noqa: BLE001 - only the bytes matter here
            pass
        try:
            conn.retrieveFile("data", folder + "/missing.txt", io.BytesIO())
        except Exception:  # noqa: BLE001 - the error response is the seed
            pass
        conn.echo(b"seed echo")
        conn.deleteFiles("data", folder + "/*")
        conn.deleteDirectory("data", folder)
    finally:
        conn.close()
    bad = SMBConnection(server.user, "wrong-password", "seedclient", server.netbios_name, is_direct_tcp=True,
                        **kwargs)
    _label[0] = label + "-badpw"
    try:
        bad.connect(server.host, server.port, timeout=30)
    except Exception:  # noqa: BLE001
        pass
    finally:
        bad.close()


def name_queries(server: Any) -> None:
    from nmb.NetBIOS import NetBIOS
    _label[0] = "nbns"
    with NetBIOS(broadcast=False) as nb:
        nb.queryName(server.netbios_name, server.nmb_ip, port=server.nmb_port, timeout=5)
        nb.queryIPForName(server.nmb_ip, port=server.nmb_port, timeout=5)
        nb.queryName("NO-SUCH-NAME", server.nmb_ip, port=server.nmb_port, timeout=2)


def synthetic_seeds() -> None:
    """Seeds for inputs a well-behaved Samba does not produce on demand."""
    from smb._framing import Framer
    _label[0] = "synthetic"
    record("nbss", b"\x82")                            # NEGATIVE SESSION RESPONSE: called name not present
    record("nbss", bytes([127, 0, 0, 1, 0x01, 0xBD]))  # RETARGET: 127.0.0.1:445
    framer = Framer(netbios=False)
    for family in ("smb2", "smb1"):
        for raw in list(_recorded.get(family, {}).values())[:6]:
            record("stream", framer.frame(raw) + framer.frame(raw[:40]))


def main() -> int:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from tests.samba_server import SambaServer, nmbd_available

    install_recorders()
    plans: List[tuple] = [
        ("nt1", dict(min_protocol="NT1", max_protocol="NT1"), {}),
        ("smb202", dict(min_protocol="SMB2_02", max_protocol="SMB2_02"), {}),
        ("smb210", dict(min_protocol="SMB2_10", max_protocol="SMB2_10", signing="mandatory"), {}),
        ("smb311", dict(min_protocol="SMB3_11", max_protocol="SMB3_11", signing="mandatory"), {}),
        ("smb311enc", dict(min_protocol="SMB3_11", max_protocol="SMB3_11", encrypt="required"), {}),
        ("smb300enc", dict(min_protocol="SMB3_00", max_protocol="SMB3_00", encrypt="required"), {}),
    ]
    for label, options, conn_kwargs in plans:
        with SambaServer(**options) as server:
            try:
                session(server, label, **conn_kwargs)
            except Exception as err:  # noqa: BLE001 - report and keep what was recorded
                print("session %s failed: %r" % (label, err))
    if nmbd_available():
        with SambaServer(nmbd=True) as server:
            if server.nmbd_running:
                name_queries(server)
    synthetic_seeds()

    if os.path.isdir(SEED_DIR):
        shutil.rmtree(SEED_DIR)
    total = 0
    for family, items in sorted(_recorded.items()):
        folder = os.path.join(SEED_DIR, family)
        os.makedirs(folder, exist_ok=True)
        for name, raw in sorted(items.items()):
            with open(os.path.join(folder, name + ".bin"), "wb") as fh:
                fh.write(raw)
        total += len(items)
        print("%-10s %3d seeds, %6d bytes" % (family, len(items), sum(map(len, items.values()))))
    print("%d seed files in %s" % (total, SEED_DIR))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
