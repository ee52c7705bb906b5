"""pysmb's session-packet objects and its subclassing hooks, with exact bytes."""
from __future__ import annotations

import pickle
import struct

import pytest

from nmb.base import NBNS, NMBSession
from nmb.nmb_structs import DirectTCPSessionMessage, NMBError, NMBSessionMessage
from smb.base import SMB
from smb.exceptions import ProtocolError, SMBError
from smb.smb_structs import Smb1Status


def test_nmb_session_message_decodes_whole_packets_only() -> None:
    packet = bytes([0x00, 0x01, 0x00, 0x03]) + b"abc" + b"rest"  # flags bit 0 extends the length
    msg = NMBSessionMessage()
    assert msg.decode(packet[:5], 0) == 0
    body = b"x" * 0x10003
    full = bytes([0x00, 0x01, 0x00, 0x03]) + body
    assert msg.decode(full, 0) == 4 + 0x10003
    assert (msg.type, msg.flags, msg.data) == (0, 1, body)
    assert msg.decode(b"junk" + bytes([0x82, 0, 0, 0]), 4) == 4 and msg.type == 0x82
    msg.reset()
    assert (msg.type, msg.flags, msg.data) == (0, 0, b"")


def test_direct_tcp_message_takes_24_bit_lengths_and_refuses_other_types() -> None:
    msg = DirectTCPSessionMessage()
    assert msg.decode(b"\x00\x00\x00\x02hi", 0) == 6 and msg.data == b"hi"
    with pytest.raises(NMBError):
        msg.decode(b"\x81\x00\x00\x00", 0)
    with pytest.raises(ProtocolError):  # NMBError is one of ours
        msg.decode(b"\x00\xff\xff\xff", 0)  # beyond the frame cap


class Recorder(NMBSession):
    def __init__(self, direct: bool = False) -> None:
        super().__init__("ME", "SERVER", is_direct_tcp=direct)
        self.out: list = []
        self.events: list = []

    def write(self, data: bytes) -> None:
        self.out.append(data)

    def onNMBSessionOK(self) -> None:
        self.events.append("ok")

    def onNMBSessionFailed(self) -> None:
        self.events.append("failed")

    def onNMBSessionMessage(self, flags: int, data: bytes) -> None:
        self.events.append(("msg", flags, data))


def test_nmb_session_dispatches_packets_in_any_chunking() -> None:
    s = Recorder()
    s.requestNMBSession()
    assert s.out[0][:4] == bytes([0x81, 0, 0, 68]) and len(s.out[0]) == 72
    stream = bytes([0x82, 0, 0, 0]) + bytes([0x85, 0, 0, 0]) + b"\x00\x00\x00\x03abc" + bytes([0x83, 0, 0, 1, 0x82])
    for b in stream:
        s.feedData(bytes([b]))
    assert s.events == ["ok", ("msg", 0, b"abc"), "failed"]
    assert s.data_buf == b""
    s.feedData(b"\x00\x00")
    assert s.data_buf == b"\x00\x00"
    s.sendNMBMessage(b"hello")
    assert s.out[-1] == b"\x00\x00\x00\x05hello"


def test_direct_tcp_session_sends_only_messages() -> None:
    s = Recorder(direct=True)
    s.sendNMBMessage(b"x")
    assert s.out == [b"\x00\x00\x00\x01x"]
    with pytest.raises(ValueError):
        s.sendNMBPacket(0x81, b"")


def test_nbns_subclass_that_skips_our_init_still_works() -> None:
    class Old(NBNS):
        def __init__(self) -> None:  # pysmb-style: no super().__init__()
            pass

    nbns = Old()
    packet = nbns.prepareNameQuery(0x1234, "FRED")
    assert packet[:2] == b"\x12\x34" and 0x1234 in nbns.pending
    assert nbns.prepareNetNameQuery(0x99)[:2] == b"\x00\x99"
    assert struct.calcsize(NBNS.HEADER_STRUCT_FORMAT) == NBNS.HEADER_STRUCT_SIZE == 12
    with pytest.raises(NotImplementedError):
        nbns.write(packet, "127.0.0.1", 137)


def test_smb_without_write_says_so() -> None:
    core = SMB("u", "p", "me", "srv", is_direct_tcp=True)
    with pytest.raises(NotImplementedError):
        core.onNMBSessionOK()


def test_smb_refused_netbios_session_reports_failed_logon() -> None:
    events: list = []

    class Client(SMB):
        def write(self, data: bytes) -> None:
            pass

        def onAuthFailed(self) -> None:
            events.append("failed")

    client = Client("u", "p", "me", "srv")
    client.feedData(bytes([0x83, 0, 0, 1, 0x82]))
    assert events == ["failed"]


def test_protocol_error_takes_pysmb_arguments_and_pickles() -> None:
    err = ProtocolError("bad", b"\x01", smb_message="m")
    assert (err.message, err.data_buf, err.data, err.smb_message) == ("bad", b"\x01", b"\x01", "m")
    again = pickle.loads(pickle.dumps(err))
    assert (again.message, again.data_buf, again.smb_message) == ("bad", b"\x01", "m")


def test_smb1_status_is_an_int_with_pysmb_fields() -> None:
    st = Smb1Status(0xC0000034)
    assert st == 0xC0000034 and st.internal_value == 0xC0000034 and st.is_ntstatus and st.hasError
    assert not Smb1Status(0).hasError
    assert pickle.loads(pickle.dumps(Smb1Status(5, False))).is_ntstatus is False
    holder = SMBError()
    holder.reset()
    assert holder.internal_value == 0 and not holder.hasError


def test_pysmb_star_imported_names_resolve_where_pysmb_had_them() -> None:
    import smb.base
    import smb.smb2_structs
    import smb.SMBConnection
    from smb import smb2_constants, smb_constants
    assert smb.base.ATTR_READONLY == smb_constants.ATTR_READONLY
    assert smb.SMBConnection.SMB_COM_ECHO == smb_constants.SMB_COM_ECHO
    assert smb.smb2_structs.SMB2_FLAGS_SIGNED == smb2_constants.SMB2_FLAGS_SIGNED
    assert "ATTR_READONLY" in dir(smb.base)
    with pytest.raises(AttributeError):
        smb.base.NO_SUCH_NAME_ANYWHERE  # noqa: B018


def test_star_imports_give_what_pysmbs_gave() -> None:
    for module, names in [("smb.smb_structs", ["SMBMessage", "ComEchoRequest", "SMB_COM_ECHO", "SMBError"]),
                          ("smb.smb2_structs", ["SMB2Message", "SMB2ReadRequest", "SMB2_COM_READ", "ATTR_READONLY"]),
                          ("smb.base", ["SMB", "SharedFile", "SMBMessage", "SMB2Message", "SecurityDescriptor"]),
                          ("smb.SMBConnection", ["SMBConnection", "ComNegotiateRequest", "OperationFailure",
                                                 "ATTR_DIRECTORY"]),
                          ("nmb.base", ["NBNS", "NMBSession", "NMBSessionMessage", "encode_name", "NODE_B"]),
                          ("nmb.NetBIOS", ["NetBIOS", "TYPE_CLIENT", "TYPE_WORKSTATION"])]:
        namespace: dict = {}
        exec("from %s import *" % module, namespace)  # noqa: S102 - the import form under test
        assert [n for n in names if n not in namespace] == [], module
        assert "IntEnum" not in namespace and "annotations" not in namespace
