"""Directory listings batch by batch (what iterPath drives): the open handle or SMB1 search is
closed at the end, when given up, and in the background when a batch fails."""
from __future__ import annotations

from dataclasses import replace

import pytest

from smb import smb_constants as C
from smb import smb_structs as S
from smb.exceptions import MalformedResponse

from . import fakepeer as fp
from .fakepeer import run
from .test_core_smb2 import commands, connect
from .test_interop_quirks import _answer_trans2, samba_layout
from .test_smb1_ops import TID, UID, _connect_tree, feed, logged_on, new_core, reply_header, sent

EVERYTHING = 0xFFFFFFFF | C.SMB_FILE_ATTRIBUTE_INCL_NORMAL


# ---------------------------------------------------------------- SMB2


def test_smb2_listing_opens_once_and_closes_at_the_end() -> None:
    core, peer = connect(fp.D302, files={"d\\a.txt": b"1", "d\\b.bin": b""}, dirs={"d", "d\\sub"})
    listing = core.dialect.open_listing("data", "d", "*")
    batch = run(core, peer, listing.fetch(EVERYTHING))
    assert sorted(e.filename for e in batch) == [".", "..", "a.txt", "b.bin", "sub"]
    assert listing.needs_close and len(peer.opens) == 1
    # CREATE and the first QUERY_DIRECTORY went in one compound (one frame).
    assert len(commands(peer, fp.CREATE)) == 1 and len(commands(peer, fp.QUERY_DIRECTORY)) == 1
    assert run(core, peer, listing.fetch(EVERYTHING)) is None
    assert not listing.needs_close and peer.opens == {}
    assert run(core, peer, listing.fetch(EVERYTHING)) is None
    assert len(commands(peer, fp.QUERY_DIRECTORY)) == 2


def test_smb2_listing_given_up_is_closed() -> None:
    core, peer = connect(fp.D210, files={"d\\a.txt": b"1"}, dirs={"d"})
    listing = core.dialect.open_listing("data", "d", "*")
    run(core, peer, listing.fetch(EVERYTHING))
    assert len(peer.opens) == 1
    run(core, peer, listing.close())
    assert peer.opens == {} and not listing.needs_close
    run(core, peer, listing.close())  # idempotent
    assert len(commands(peer, fp.CLOSE)) == 1


def test_smb2_listing_of_a_missing_folder_leaves_nothing_open() -> None:
    core, peer = connect(fp.D311, dirs={"d"})
    listing = core.dialect.open_listing("data", "nope", "*")
    with pytest.raises(Exception):
        run(core, peer, listing.fetch(EVERYTHING))
    assert not listing.needs_close and peer.opens == {}


# ---------------------------------------------------------------- SMB1


def _smb1_listing():
    core = new_core()
    logged_on(core)
    listing = core.dialect.open_listing("share", "dir", "*")
    op = core.start(listing.fetch(EVERYTHING))
    _connect_tree(core)
    return core, listing, op


def test_smb1_listing_given_up_sends_find_close2_with_the_sid() -> None:
    core, listing, op = _smb1_listing()
    _answer_trans2(core, S.FindFirst2ResponseParams(sid=7, search_count=2, end_of_search=0).pack(),
                   samba_layout(["a", "b"]))
    assert [e.filename for e in op.outcome()] == ["a", "b"]
    assert listing.needs_close
    op = core.start(listing.close())
    (request,) = sent(core)
    h = S.Smb1Header.unpack_from(request)
    assert h.command == C.SMB_COM_FIND_CLOSE2 and h.tid == TID
    assert request[32:35] == b"\x01\x07\x00"  # WordCount 1, SearchHandle 7
    feed(core, S.build_message(replace(reply_header(h.mid, tid=TID, uid=UID), command=C.SMB_COM_FIND_CLOSE2),
                               b"", b"", 0))
    op.outcome()
    assert not listing.needs_close


def test_smb1_listing_at_end_of_search_needs_no_close() -> None:
    core, listing, op = _smb1_listing()
    _answer_trans2(core, S.FindFirst2ResponseParams(sid=7, search_count=1, end_of_search=1).pack(),
                   samba_layout(["only"]))
    assert [e.filename for e in op.outcome()] == ["only"]
    assert not listing.needs_close
    op = core.start(listing.fetch(EVERYTHING))
    assert op.done and op.outcome() is None
    op = core.start(listing.close())
    assert op.done and sent(core) == []


def test_smb1_listing_next_batch_continues_from_the_last_name() -> None:
    core, listing, op = _smb1_listing()
    _answer_trans2(core, S.FindFirst2ResponseParams(sid=9, search_count=2, end_of_search=0).pack(),
                   samba_layout(["a", "b"]))
    op.outcome()
    op = core.start(listing.fetch(EVERYTHING))
    _, request = _answer_trans2(core, S.FindNext2ResponseParams(search_count=1, end_of_search=1).pack(),
                                samba_layout(["c"]))
    assert [e.filename for e in op.outcome()] == ["c"]
    assert "b".encode("utf-16-le") in request and not listing.needs_close


def test_smb1_failed_listing_closes_the_search_in_the_background() -> None:
    core = new_core()
    logged_on(core)
    op = core.start(core.dialect.list_path("share", "dir", EVERYTHING, "*"))
    _connect_tree(core)
    _answer_trans2(core, S.FindFirst2ResponseParams(sid=5, search_count=2, end_of_search=0).pack(),
                   samba_layout(["a", "b"]))
    _answer_trans2(core, S.FindNext2ResponseParams(search_count=3, end_of_search=0).pack(), b"")
    with pytest.raises(MalformedResponse):
        op.outcome()
    (close,) = sent(core)
    h = S.Smb1Header.unpack_from(close)
    assert h.command == C.SMB_COM_FIND_CLOSE2
    # Its late answer is dropped without harm.
    feed(core, S.build_message(replace(reply_header(h.mid, tid=TID, uid=UID), command=C.SMB_COM_FIND_CLOSE2),
                               b"", b"", 0))
    assert core.broken is None
