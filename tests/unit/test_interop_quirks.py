"""Servers other than Samba: behaviours the client must take in its stride (issue 18).

Each test scripts one behaviour seen from impacket's SMB server (or from servers with SMB1
removed) with the offline fake peers, so it runs without any server:

1. an AndX chain NT_CREATE_ANDX + READ_ANDX answered with the open only;
2. TRANS2 FIND responses that miscount their entries and leave out padding their
   NextEntryOffsets count; a body that cannot be parsed fails the listing, not the connection;
3. a failed SESSION_SETUP whose error response is signed with a key the client cannot know;
4. an SMB2 NEGOTIATE as the very first request, and a 3.1.1 answer without the preauth context.
"""
from __future__ import annotations

import io
import struct
from typing import Any, List, Sequence, Tuple

import pytest

from smb import fscc
from smb import smb_constants as C
from smb import smb_structs as S
from smb.base import SMB
from smb.exceptions import MalformedResponse, ProtocolError

from . import fakepeer as fp
from .fakepeer import FakeSmb2Server, run
from .test_smb1_ops import FID, TID, UID, _connect_tree, feed, logged_on, new_core, reply_header, sent

# ---------------------------------------------------------------- 1. AndX chain cut short


def _answer_open_only(core: SMB, size: int) -> None:
    (chain,) = sent(core)
    h, blocks = S.parse_blocks(chain)
    assert [blk.command for blk in blocks] == [C.SMB_COM_NT_CREATE_ANDX, C.SMB_COM_READ_ANDX]
    # The server stops after the first command of the chain ([MS-CIFS] 3.3.5.2).
    feed(core, S.build_andx_chain(reply_header(h.mid, tid=TID, uid=UID), [
        S.NtCreateAndXResponse(fid=FID, create_disposition=1, ext_file_attributes=0x20, end_of_file=size)]))


def _answer_reads(core: SMB, content: bytes) -> List[Tuple[int, int]]:
    asked = []
    for request in sent(core):
        h, words, _ = S.parse_message(request)
        assert h.command == C.SMB_COM_READ_ANDX
        fid, offset, count = struct.unpack_from("<HIH", words, 4)
        assert fid == FID
        asked.append((offset, count))
        piece = content[offset:offset + count]
        feed(core, S.ReadAndXResponse(data=memoryview(piece)).pack(reply_header(h.mid, tid=TID, uid=UID)))
    return asked


def _answer_close(core: SMB) -> None:
    (close,) = sent(core)
    h = S.Smb1Header.unpack_from(close)
    assert h.command == C.SMB_COM_CLOSE
    feed(core, S.CloseResponse().pack(reply_header(h.mid, tid=TID, uid=UID)))


@pytest.mark.parametrize("offset,max_length", [(0, -1), (1000, -1), (5, 300)])
def test_chain_answered_without_the_read_reads_separately(offset: int, max_length: int) -> None:
    core = new_core()
    logged_on(core)
    content = bytes(range(256)) * 40
    out = io.BytesIO()
    op = core.start(core.dialect.retrieve("share", "f.bin", out, offset, max_length, None))
    _connect_tree(core)
    _answer_open_only(core, len(content))
    asked = _answer_reads(core, content)
    end = len(content) if max_length < 0 else offset + max_length
    assert asked and asked[0][0] == offset and sum(n for _, n in asked) == end - offset
    _answer_close(core)
    assert op.outcome() == (0x20, end - offset)
    assert out.getvalue() == content[offset:end]
    assert core.broken is None


def test_chain_answered_without_the_read_on_an_empty_file() -> None:
    core = new_core()
    logged_on(core)
    out = io.BytesIO()
    op = core.start(core.dialect.retrieve("share", "empty", out, 0, -1, None))
    _connect_tree(core)
    _answer_open_only(core, 0)
    _answer_close(core)  # no READ is needed for 0 bytes
    assert op.outcome() == (0x20, 0)


# ---------------------------------------------------------------- 2. FIND responses

_ENTRY = struct.Struct("<IIQQQQQQIIIBB24sHQ")  # [MS-FSCC] 2.4.17 fixed part


def _entry(name: str, next_offset: int = 0, file_id: int = 1) -> bytes:
    raw = name.encode("utf-16-le")
    return _ENTRY.pack(next_offset, 0, 1, 2, 3, 4, 10, 4096, 0x20, len(raw), 0, 0, 0, b"\0" * 24, 0, file_id) + raw


def _pad(entry: bytes, byte: bytes = b"\0") -> bytes:
    return entry + byte * ((-len(entry)) % 8)


def samba_layout(names: Sequence[str]) -> bytes:
    """Padded entries; every NextEntryOffset (the last one too) points past the padding."""
    out = b""
    for name in names:
        e = _pad(_entry(name))
        out += struct.pack("<I", len(e)) + e[4:]
    return out


def impacket_next_layout(names: Sequence[str], last_is_final: bool = False) -> bytes:
    """impacket's FIND_NEXT2: NextEntryOffset counts the padding, the data carries none."""
    out = b""
    for i, name in enumerate(names):
        e = _entry(name)
        next_off = 0 if (last_is_final and i == len(names) - 1) else len(e) + (-len(e)) % 8
        out += struct.pack("<I", next_off) + e[4:]
    return out


def impacket_first_layout(names: Sequence[str], last_is_final: bool) -> bytes:
    """impacket's FIND_FIRST2: 0xAA padding; the very last entry of the listing says 0."""
    out = b""
    for i, name in enumerate(names):
        e = _pad(_entry(name), b"\xaa")
        next_off = 0 if (last_is_final and i == len(names) - 1) else len(e)
        out += struct.pack("<I", next_off) + e[4:]
    return out


MIXED = ["a", "bb", "Ünïcode-ßame", "abcd", "x" * 37, "名前.txt", "é"]
SAME_LENGTH = ["file-%04d" % i for i in range(20)]  # 104 + 18 bytes: 6 bytes of padding each


@pytest.mark.parametrize("layout", [
    samba_layout,
    lambda names: impacket_next_layout(names),
    lambda names: impacket_next_layout(names, last_is_final=True),
    lambda names: impacket_first_layout(names, last_is_final=False),
    lambda names: impacket_first_layout(names, last_is_final=True),
], ids=["samba", "impacket-next", "impacket-next-final", "impacket-first", "impacket-first-final"])
@pytest.mark.parametrize("names", [MIXED, SAME_LENGTH, ["only"]], ids=["mixed", "same-length", "one"])
def test_find_data_layouts_parse_every_entry(layout: Any, names: List[str]) -> None:
    entries = fscc.parse_find_data(layout(names))
    assert [e.file_name for e in entries] == names
    assert all(e.end_of_file == 10 and e.file_attributes == 0x20 for e in entries)


def test_find_data_aligned_names_without_padding_differences() -> None:
    # 104 + 16 bytes: no padding at all, so every layout is the same.
    names = ["abcdefgh", "ABCDEFGH", "12345678"]
    assert [e.file_name for e in fscc.parse_find_data(impacket_next_layout(names))] == names


@pytest.mark.parametrize("data", [
    _entry("a")[:50],                                           # fixed part cut
    _entry("abc")[:-2],                                         # name cut
    struct.pack("<I", 8) + _entry("a")[4:] + b"\x01" * 20,      # offset inside the entry
    struct.pack("<I", 10_000) + _entry("a")[4:] + b"\0" * 40,   # offset outside
    _ENTRY.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFFFFFFF0, 0, 0, 0, b"\0" * 24, 0, 0),  # huge name
    _ENTRY.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 30, 0, b"\0" * 24, 0, 0) + b"a\0b\0",  # short name > 24
    _entry("ab")[:-4] + b"\x00\xd8\x00\xd8",                  # lone surrogates
], ids=["fixed-cut", "name-cut", "overlap", "outside", "huge-name", "short-name", "bad-utf16"])
def test_find_data_that_no_layout_explains_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedResponse):
        fscc.parse_find_data(data)


def _list_op(core: SMB):
    out: List[Any] = []
    op = core.start(core.dialect.list_path("share", "dir", 0xFFFFFFFF | C.SMB_FILE_ATTRIBUTE_INCL_NORMAL, "*"))
    _connect_tree(core)
    return op, out


def _answer_trans2(core: SMB, parameters: bytes, data: bytes, status: int = 0) -> Tuple[int, bytes]:
    (request,) = sent(core)
    h = S.Smb1Header.unpack_from(request)
    assert h.command == C.SMB_COM_TRANSACTION2
    part = S.TransactionResponsePart(C.SMB_COM_TRANSACTION2, len(parameters), len(data), parameters=parameters,
                                     data=data)
    feed(core, part.pack(reply_header(h.mid, tid=TID, uid=UID, status=status)))
    return h.mid, request


def test_listing_keeps_every_entry_of_miscounting_find_responses() -> None:
    """impacket: FIND_NEXT2 announces one entry more than it sends and leaves out
    the padding its offsets count; every name is listed and the search goes on."""
    core = new_core()
    logged_on(core)
    op, _ = _list_op(core)
    first = [".", ".."] + MIXED
    second = ["next-%d-ü" % i for i in range(9)]
    third = SAME_LENGTH
    _answer_trans2(core, S.FindFirst2ResponseParams(sid=5, search_count=len(first), end_of_search=0).pack(),
                   impacket_first_layout(first, last_is_final=False))
    _, req = _answer_trans2(core, S.FindNext2ResponseParams(search_count=len(second) + 1, end_of_search=0).pack(),
                            impacket_next_layout(second))
    assert req.count("é".encode("utf-16-le")) >= 1  # resumed from the last name of the first response
    _answer_trans2(core, S.FindNext2ResponseParams(search_count=len(third) + 1, end_of_search=1).pack(),
                   impacket_next_layout(third, last_is_final=True))
    names = [f.filename for f in op.outcome()]
    assert names == first + second + third
    assert core.broken is None


def test_find_next_with_no_entry_before_the_end_fails_the_listing_only() -> None:
    core = new_core()
    logged_on(core)
    op, _ = _list_op(core)
    _answer_trans2(core, S.FindFirst2ResponseParams(sid=5, search_count=2, end_of_search=0).pack(),
                   samba_layout(["a", "b"]))
    # A count but no entry, and the search not over: listing on would return part of the folder.
    _answer_trans2(core, S.FindNext2ResponseParams(search_count=3, end_of_search=0).pack(), b"")
    with pytest.raises(MalformedResponse, match="no entry"):
        op.outcome()
    assert core.broken is None


def test_undecodable_find_response_fails_the_operation_not_the_connection() -> None:
    core = new_core()
    logged_on(core)
    op, _ = _list_op(core)
    _answer_trans2(core, S.FindFirst2ResponseParams(sid=5, search_count=1, end_of_search=1).pack(),
                   _entry("abc")[:-2])
    with pytest.raises(MalformedResponse):
        op.outcome()
    assert core.broken is None
    # The connection still works: the next listing on it succeeds.
    op = core.start(core.dialect.list_path("share", "dir", 0xFFFFFFFF | C.SMB_FILE_ATTRIBUTE_INCL_NORMAL, "*"))
    _answer_trans2(core, S.FindFirst2ResponseParams(sid=6, search_count=1, end_of_search=1).pack(),
                   samba_layout(["ok"]))
    assert [f.filename for f in op.outcome()] == ["ok"]


def test_bad_signature_still_breaks_the_connection() -> None:
    # The "operation only" rule is for bodies; a frame whose signature is wrong
    # still ends the connection (signing session: the MAC key is set).
    core = new_core()
    logged_on(core)
    core.dialect._mac_key = b"k" * 16
    core.dialect._next_seq = 2
    op, _ = _list_op_signed(core)
    (request,) = sent(core)
    h = S.Smb1Header.unpack_from(request)
    part = S.TransactionResponsePart(C.SMB_COM_TRANSACTION2, 10, 0,
                                     parameters=S.FindFirst2ResponseParams(sid=1, search_count=0,
                                                                           end_of_search=1).pack())
    with pytest.raises(ProtocolError):
        feed(core, part.pack(reply_header(h.mid, tid=TID, uid=UID)))
    assert core.broken is not None


def _list_op_signed(core: SMB):
    from smb._smb1_ops import Tree
    core.dialect.trees["SHARE"] = Tree("share", TID)
    op = core.start(core.dialect.list_path("share", "dir", 0xFFFFFFFF | C.SMB_FILE_ATTRIBUTE_INCL_NORMAL, "*"))
    return op, None


# ---------------------------------------------------------------- 3. signed logon failure


def _core(password: str = "s3cret", **kwargs: Any) -> SMB:
    return SMB("alice", password, "CLIENT", "SERVER", is_direct_tcp=True, rand=lambda n: b"\x07" * n, **kwargs)


@pytest.mark.parametrize("dialect", [fp.D202, fp.D210, fp.D300, fp.D311])
def test_failed_logon_signed_by_the_server_returns_false(dialect: int) -> None:
    peer = FakeSmb2Server(dialect)

    def signed_failure(server, hdr, msg):
        server.overrides.pop(fp.SESSION_SETUP)
        answers = fp.FakeSmb2Server._session_setup(server, hdr, msg)
        server.overrides[fp.SESSION_SETUP] = signed_failure
        status = struct.unpack_from("<I", answers[0], 8)[0]
        if status == fp.STATUS_LOGON_FAILURE:
            # Signed with the server's idea of a key, which the client cannot have.
            return [fp.sign_message(answers[0], server.negotiated, server._algorithm(), b"\x5a" * 16)]
        return answers

    peer.overrides[fp.SESSION_SETUP] = signed_failure
    core = _core(password="wrong")
    assert run(core, peer, core.connect_op()) is False
    assert core.broken is None and not core.has_authenticated


def test_established_session_still_verifies_every_signature() -> None:
    peer = FakeSmb2Server(fp.D311, security_mode=fp.SIGNING_ENABLED | fp.SIGNING_REQUIRED)
    core = _core()
    assert run(core, peer, core.connect_op()) is True
    peer.transform = lambda msgs: [m[:50] + bytes([m[50] ^ 1]) + m[51:] for m in msgs]
    with pytest.raises(ProtocolError, match="bad signature") as info:
        run(core, peer, core.dialect.echo(b""))
    assert core.broken is not None
    # pysmb's ProtocolError.smb_message: the offending message, with pysmb's fields.
    bad = info.value.smb_message
    assert bad.protocol == 2 and bad.command == 0x000D and bad.session_id == core.session_id
    assert len(bad.raw_data) >= 64


# ---------------------------------------------------------------- 4. SMB2 NEGOTIATE first


@pytest.mark.parametrize("dialect", [fp.D202, fp.D210, fp.D300, fp.D302, fp.D311])
def test_smb2_negotiate_as_the_first_request(dialect: int) -> None:
    peer = FakeSmb2Server(dialect)
    core = _core()
    assert run(core, peer, core.connect_op(smb1_first=False)) is True
    first_header, first_msg = peer.requests[0]
    assert first_msg[:4] == b"\xfeSMB" and first_header["command"] == fp.NEGOTIATE
    assert first_header["message_id"] == 0
    assert core.dialect.dialect == dialect
    assert run(core, peer, core.dialect.echo(b"x")) == b"x"


def test_smb2_first_is_refused_when_smb2_is_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from smb.exceptions import UnsupportedFeature
    monkeypatch.setattr(S, "SUPPORT_SMB2", False)
    core = _core()
    with pytest.raises(UnsupportedFeature):
        core.start(core.negotiate_op(False)).outcome()


def test_311_negotiate_without_preauth_context_names_it() -> None:
    peer = FakeSmb2Server(fp.D311)

    def no_preauth(server, hdr, msg):
        server.negotiated = fp.D311
        ctx = struct.pack("<HH", 1, server.cipher)
        contexts = struct.pack("<HHI", 2, len(ctx), 0) + ctx
        return [server.respond(hdr, server._negotiate_body(fp.D311, contexts, 1))]

    peer.overrides[fp.NEGOTIATE] = no_preauth
    core = _core()
    with pytest.raises(ProtocolError, match="SMB2_PREAUTH_INTEGRITY_CAPABILITIES"):
        run(core, peer, core.connect_op(smb1_first=False))


def test_server_memory_is_bounded() -> None:
    from smb.base import ServerMemory, smb1_probe_seconds
    memory = ServerMemory(limit=3)
    for i in range(5):
        memory.remember_ignores_smb1("127.0.0.%d" % i, 445)
    assert not memory.ignores_smb1("127.0.0.0", 445) and not memory.ignores_smb1("127.0.0.1", 445)
    assert all(memory.ignores_smb1("127.0.0.%d" % i, 445) for i in (2, 3, 4))
    assert not memory.ignores_smb1("127.0.0.4", 139)
    assert smb1_probe_seconds(60) == 5.0 and smb1_probe_seconds(2) == 1.0 and smb1_probe_seconds(10) == 2.5
