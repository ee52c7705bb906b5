"""DFS referral messages, path arithmetic and the referral cache ([MS-DFSC] 2.2.2-2.2.5),
against hand-built bytes; hostile responses with hypothesis."""
from __future__ import annotations

import struct
import tracemalloc
from typing import List, Sequence, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb import dfs
from smb.dfs import (
    FSCTL_DFS_GET_REFERRALS,
    FSCTL_DFS_GET_REFERRALS_EX,
    STATUS_PATH_NOT_COVERED,
    Referral,
    ReferralCache,
    ReferralRequest,
    ReferralRequestEx,
    ReferralResponse,
    Target,
    dfs_request_path,
    join_unc,
    resolve,
    split_unc,
)
from smb.exceptions import MalformedResponse, ProtocolError
from tests.unit.test_fuzz_decoders import FUZZ_SETTINGS, MEMORY_LIMIT, _huge_variants, mutations, no_hang


def u16z(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


# ----------------------------------------------------------------------------- builders (from the spec)

Entry = Tuple[int, int, int, str, str, str]  # server_type, entry_flags, ttl, dfs_path, alt_path, address


def header(path_consumed: int, count: int, flags: int) -> bytes:
    return struct.pack("<HHI", path_consumed, count, flags)


def build_v1(path_consumed: int, flags: int, entries: Sequence[Tuple[int, str]]) -> bytes:
    """DFS_REFERRAL_V1 entries: VersionNumber, Size, ServerType, ReferralEntryFlags, ShareName."""
    out = header(path_consumed, len(entries), flags)
    for server_type, share in entries:
        name = u16z(share)
        out += struct.pack("<HHHH", 1, 8 + len(name), server_type, 0) + name
    return out


def build(version: int, path_consumed: int, flags: int, entries: Sequence[Entry], padding: bytes = b"") -> bytes:
    """V2 (22-byte entries) or V3/V4 (34-byte entries with ServiceSiteGuid) path referrals; the
    strings follow all entries, each distinct string once (as Windows lays them out)."""
    size = 22 if version == 2 else 34
    strings: List[str] = []
    for entry in entries:
        for text in entry[3:]:
            if text not in strings:
                strings.append(text)
    base = 8 + size * len(entries)
    where = {}
    blob = b""
    for text in strings:
        where[text] = base + len(blob)
        blob += u16z(text)
    out = header(path_consumed, len(entries), flags)
    for index, (server_type, entry_flags, ttl, path, alt, address) in enumerate(entries):
        at = 8 + size * index
        offsets = (where[path] - at, where[alt] - at, where[address] - at)
        if version == 2:
            out += struct.pack("<HHHHIIHHH", 2, size, server_type, entry_flags, 0, ttl, *offsets)
        else:
            out += struct.pack("<HHHHIHHH16s", version, size, server_type, entry_flags, ttl, *offsets, b"\0" * 16)
    return out + blob + padding


def build_name_list(version: int, entries: Sequence[Tuple[int, str, Sequence[str]]], size: int = 18) -> bytes:
    """V3/V4 NameListReferral entries ([MS-DFSC] 2.2.5.3.2): ttl, special name, expanded names."""
    base = 8 + size * len(entries)
    blob = b""
    out = header(0, len(entries), 0)
    for index, (ttl, special, names) in enumerate(entries):
        at = 8 + size * index
        special_at = base + len(blob)
        blob += u16z(special)
        names_at = base + len(blob)
        for name in names:
            blob += u16z(name)
        out += struct.pack("<HHHHIHHH", version, size, 0, 0x0002, ttl, special_at - at, len(names),
                           names_at - at).ljust(size, b"\0")
    return out + blob


LINK = "\\corp\\dfs\\link"
V3_TWO_TARGETS = build(3, 2 * len(LINK), 0x2, [
    (0, 0, 1800, LINK, LINK, "\\fs1\\data\\projects"),
    (0, 0, 1800, LINK, LINK, "\\fs2\\data\\projects"),
])


def samples() -> List[bytes]:
    """One valid response of every kind, the seeds of the mutation fuzzing."""
    return [
        build_v1(16, 0x3, [(1, "\\srv\\share"), (0, "\\srv2\\share2")]),
        build(2, 18, 0x1, [(1, 0, 300, "\\srv\\dfs", "\\srv\\dfs", "\\srv\\dfs")]),
        V3_TWO_TARGETS,
        build(4, 2 * len(LINK), 0x6, [(0, 4, 600, LINK, LINK, "\\a\\s"), (0, 0, 600, LINK, LINK, "\\b\\s"),
                                      (0, 4, 600, LINK, LINK, "\\c\\s")]),
        build_name_list(3, [(600, "\\CORP", ["\\dc1.corp.example", "\\dc2.corp.example"])]),
        build_name_list(4, [(600, "CORP", []), (600, "corp.example", [])], size=34),
    ]


# ----------------------------------------------------------------------------- constants


def test_constants() -> None:
    assert FSCTL_DFS_GET_REFERRALS == 0x00060194
    assert FSCTL_DFS_GET_REFERRALS_EX == 0x000601B0
    assert STATUS_PATH_NOT_COVERED == 0xC0000257
    assert (dfs.REFERRAL_SERVERS, dfs.STORAGE_SERVERS, dfs.TARGET_FAILBACK) == (1, 2, 4)
    assert (dfs.NAME_LIST_REFERRAL, dfs.TARGET_SET_BOUNDARY) == (2, 4)
    assert issubclass(MalformedResponse, ProtocolError)


# ----------------------------------------------------------------------------- requests


def test_request_exact_bytes() -> None:
    req = ReferralRequest(4, "\\srv\\dfs")
    assert req.pack() == bytes.fromhex("0400" "5c00730072007600" "5c00640066007300" "0000")
    assert ReferralRequest(request_file_name="\\a").pack() == bytes.fromhex("04005c0061000000")
    assert ReferralRequest(3, "\\a").pack() == bytes.fromhex("03005c0061000000")


def test_request_empty_name_is_a_domain_referral() -> None:
    assert ReferralRequest().pack() == b"\x04\x00\x00\x00"


def test_request_non_ascii_name() -> None:
    assert ReferralRequest(4, "\\\u00e9\U0001f600").pack() == (
        b"\x04\x00" + b"\x5c\x00" + b"\xe9\x00" + b"\x3d\xd8\x00\xde" + b"\x00\x00")


@pytest.mark.parametrize("level", [0, 5, -1, 0x10000])
def test_request_refuses_bad_level(level: int) -> None:
    with pytest.raises(ValueError):
        ReferralRequest(level, "\\a").pack()
    with pytest.raises(ValueError):
        ReferralRequestEx(level, "\\a").pack()


@pytest.mark.parametrize("name", ["\\a\0b", "\\a\ud800"])
def test_request_refuses_unencodable_names(name: str) -> None:
    with pytest.raises(ValueError):
        ReferralRequest(4, name).pack()
    with pytest.raises(ValueError):
        ReferralRequestEx(4, name).pack()
    with pytest.raises(ValueError):
        ReferralRequestEx(4, "\\a", site_name=name).pack()


def test_request_ex_exact_bytes_without_site() -> None:
    data = ReferralRequestEx(4, "\\a\\b").pack()
    # MaxReferralLevel 4, RequestFlags 0, RequestDataLength 12; RequestFileNameLength 10 + name.
    assert data == bytes.fromhex("0400" "0000" "0c000000" "0a00" "5c0061005c0062000000")


def test_request_ex_exact_bytes_with_site() -> None:
    data = ReferralRequestEx(3, "\\a", site_name="HQ").pack()
    assert data == bytes.fromhex("0300" "0100" "10000000" "0600" "5c0061000000" "0600" "480051000000")
    max_level, flags, length = struct.unpack_from("<HHI", data)
    assert length == len(data) - 8


def test_request_ex_empty_site_still_sets_the_flag() -> None:
    assert ReferralRequestEx(4, "", site_name="").pack() == bytes.fromhex("0400010008000000" "0200" "0000"
                                                                            "0200" "0000")


def test_request_ex_refuses_oversized_name() -> None:
    with pytest.raises(ValueError):
        ReferralRequestEx(4, "x" * 0x8000).pack()
    assert len(ReferralRequestEx(4, "x" * 0x7FFE).pack()) == 8 + 2 + 0xFFFE


# ----------------------------------------------------------------------------- responses, field by field


def test_v1_response() -> None:
    resp = ReferralResponse.unpack(samples()[0])
    assert resp.path_consumed == 16 and resp.path_consumed_chars == 8
    assert resp.header_flags == 0x3 and resp.referral_servers and resp.storage_servers and not resp.target_failback
    assert resp.version == 1
    assert resp.referrals == [
        Referral(1, 1, 0, 0, "", "", "\\srv\\share"),
        Referral(1, 0, 0, 0, "", "", "\\srv2\\share2"),
    ]
    assert resp.referrals[0].is_root and not resp.referrals[1].is_root


def test_v1_share_name_must_end_inside_its_entry() -> None:
    good = build_v1(0, 0, [(0, "\\s\\x")])
    bad = bytearray(good)
    struct.pack_into("<H", bad, 10, 8 + 6)  # Size cuts the name before its NUL
    bad += b"\0\0"  # a NUL pair after the entry must not be taken
    with pytest.raises(MalformedResponse, match="NUL-terminated"):
        ReferralResponse.unpack(bytes(bad))


def test_v2_root_response() -> None:
    resp = ReferralResponse.unpack(samples()[1])
    (ref,) = resp.referrals
    assert (ref.version, ref.server_type, ref.entry_flags, ref.ttl) == (2, 1, 0, 300)
    assert (ref.dfs_path, ref.dfs_alternate_path, ref.network_address) == ("\\srv\\dfs",) * 3
    assert ref.special_name == "" and ref.expanded_names == []
    assert ref.is_root and not ref.is_name_list and resp.referral_servers and not resp.storage_servers


def test_v2_ignores_name_list_flag() -> None:
    data = build(2, 0, 0, [(0, 0x2, 5, "\\a\\b", "\\a\\b", "\\c\\d")])
    (ref,) = ReferralResponse.unpack(data).referrals
    assert ref.network_address == "\\c\\d" and not ref.is_name_list and ref.expanded_names == []


def test_v3_link_with_two_targets() -> None:
    resp = ReferralResponse.unpack(V3_TWO_TARGETS)
    assert resp.path_consumed == 28 and resp.path_consumed_chars == 14
    assert resp.header_flags == 0x2 and resp.storage_servers
    assert [r.network_address for r in resp.referrals] == ["\\fs1\\data\\projects", "\\fs2\\data\\projects"]
    for ref in resp.referrals:
        assert (ref.version, ref.server_type, ref.entry_flags, ref.ttl) == (3, 0, 0, 1800)
        assert ref.dfs_path == LINK and ref.dfs_alternate_path == LINK
        assert not ref.is_root and not ref.target_set_boundary


def test_v3_entry_without_service_site_guid() -> None:
    """Some servers end the V3 entry after the offsets (Size 18)."""
    blob = u16z("\\x\\y") + u16z("\\t\\s")
    body = header(8, 1, 0) + struct.pack("<HHHHIHHH", 3, 18, 1, 0, 60, 18, 18, 18 + 10) + blob
    (ref,) = ReferralResponse.unpack(body).referrals
    assert (ref.dfs_path, ref.network_address, ref.ttl, ref.server_type) == ("\\x\\y", "\\t\\s", 60, 1)


def test_v4_target_sets() -> None:
    resp = ReferralResponse.unpack(samples()[3])
    assert resp.version == 4 and resp.target_failback and resp.storage_servers
    assert [r.target_set_boundary for r in resp.referrals] == [True, False, True]
    assert [r.entry_flags for r in resp.referrals] == [4, 0, 4]
    assert [r.network_address for r in resp.referrals] == ["\\a\\s", "\\b\\s", "\\c\\s"]


def test_v3_target_set_boundary_bit_means_nothing() -> None:
    data = build(3, 0, 0, [(0, 4, 1, "\\a\\b", "\\a\\b", "\\c\\d")])
    (ref,) = ReferralResponse.unpack(data).referrals
    assert ref.entry_flags == 4 and not ref.target_set_boundary


def test_dc_referral_with_expanded_names() -> None:
    resp = ReferralResponse.unpack(samples()[4])
    (ref,) = resp.referrals
    assert ref.is_name_list and ref.entry_flags == 2 and ref.ttl == 600
    assert ref.special_name == "\\CORP"
    assert ref.expanded_names == ["\\dc1.corp.example", "\\dc2.corp.example"]
    assert (ref.dfs_path, ref.dfs_alternate_path, ref.network_address) == ("", "", "")


def test_domain_referral_without_expanded_names() -> None:
    resp = ReferralResponse.unpack(samples()[5])
    assert [(r.version, r.special_name, r.expanded_names) for r in resp.referrals] == [
        (4, "CORP", []), (4, "corp.example", [])]


def test_zero_referrals_and_trailing_data() -> None:
    resp = ReferralResponse.unpack(header(0, 0, 0))
    assert resp.referrals == [] and resp.version == 0
    padded = ReferralResponse.unpack(V3_TWO_TARGETS + b"\0" * 16)
    assert padded == ReferralResponse.unpack(V3_TWO_TARGETS)


def test_unpack_from_offset_and_memoryview() -> None:
    prefixed = b"\xaa" * 5 + V3_TWO_TARGETS
    assert ReferralResponse.unpack_from(memoryview(prefixed), 5) == ReferralResponse.unpack(V3_TWO_TARGETS)
    assert ReferralResponse.unpack(bytearray(V3_TWO_TARGETS)) == ReferralResponse.unpack(V3_TWO_TARGETS)
    with pytest.raises(MalformedResponse):
        ReferralResponse.unpack_from(prefixed, len(prefixed) + 1)


def test_nul_pair_straddling_two_characters_does_not_end_a_string() -> None:
    # "\u0100" is 00 01: "a\u0100" encodes as 61 00 00 01, with a NUL pair at an odd offset.
    data = build(3, 0, 0, [(0, 0, 1, "\\a\u0100", "\\b", "\\c\\d\u0100e")])
    (ref,) = ReferralResponse.unpack(data).referrals
    assert ref.dfs_path == "\\a\u0100" and ref.network_address == "\\c\\d\u0100e"


@pytest.mark.parametrize("index", range(6))
def test_every_truncation_is_malformed(index: int) -> None:
    data = samples()[index]
    for cut in range(len(data)):
        with pytest.raises(MalformedResponse):
            ReferralResponse.unpack(data[:cut])


# ----------------------------------------------------------------------------- hostile responses


def with_u16(data: bytes, offset: int, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into("<H", out, offset, value)
    return bytes(out)


@pytest.mark.parametrize("version", [0, 5, 0xFFFF])
def test_unknown_version(version: int) -> None:
    with pytest.raises(MalformedResponse, match="version"):
        ReferralResponse.unpack(with_u16(V3_TWO_TARGETS, 8, version))


def test_mixed_versions() -> None:
    with pytest.raises(MalformedResponse, match="version 4 in a version 3"):
        ReferralResponse.unpack(with_u16(V3_TWO_TARGETS, 8 + 34, 4))


@pytest.mark.parametrize("version,size", [(1, 9), (2, 21), (3, 17), (4, 0), (3, 0)])
def test_size_below_fixed_part(version: int, size: int) -> None:
    data = header(0, 1, 0) + struct.pack("<HHHH", version, size, 0, 0) + b"\0" * 40
    with pytest.raises(MalformedResponse, match="Size"):
        ReferralResponse.unpack(data)


def test_size_past_the_buffer() -> None:
    with pytest.raises(MalformedResponse, match="runs past"):
        ReferralResponse.unpack(with_u16(V3_TWO_TARGETS, 8 + 34 + 2, 0xFFFF))


@pytest.mark.parametrize("field", [12, 14, 16])
def test_string_offset_outside_the_buffer(field: int) -> None:
    with pytest.raises(MalformedResponse, match="outside"):
        ReferralResponse.unpack(with_u16(V3_TWO_TARGETS, 8 + field, 0xFFFF))


def test_string_without_terminator() -> None:
    data = build(3, 0, 0, [(0, 0, 1, "\\a", "\\a", "\\b\\c")])
    with pytest.raises(MalformedResponse, match="NUL-terminated"):
        ReferralResponse.unpack(data[:-2] + b"x\0")


def test_invalid_utf16() -> None:
    data = build(3, 0, 0, [(0, 0, 1, "\\a", "\\a", "\\b\\c")])
    lone_surrogate = data[:-4] + b"\x00\xd8" + b"\0\0"
    with pytest.raises(MalformedResponse, match="UTF-16"):
        ReferralResponse.unpack(lone_surrogate)


def test_odd_path_consumed() -> None:
    with pytest.raises(MalformedResponse, match="PathConsumed"):
        ReferralResponse.unpack(with_u16(V3_TWO_TARGETS, 0, 27))


def test_count_capped_before_parsing() -> None:
    with pytest.raises(MalformedResponse, match="at most 1024"):
        ReferralResponse.unpack(header(0, 1025, 0) + b"\0" * 70000)
    with pytest.raises(MalformedResponse, match="cannot fit"):
        ReferralResponse.unpack(header(0, 1000, 0) + b"\0" * 64)


def test_expanded_names_capped() -> None:
    entry = struct.pack("<HHHHIHHH", 3, 18, 0, 2, 1, 18, 0xFFFF, 18)
    with pytest.raises(MalformedResponse, match="expanded names"):
        ReferralResponse.unpack(header(0, 1, 0) + entry + b"\0" * 64)


def test_expanded_names_running_off_the_buffer() -> None:
    data = build_name_list(3, [(1, "D", ["\\dc1"])])
    claims_three = with_u16(data, 8 + 14, 3)
    with pytest.raises(MalformedResponse):
        ReferralResponse.unpack(claims_three)


def test_max_referrals_accepted() -> None:
    entries = [(0, 0, 10, LINK, LINK, "\\fs%d\\s" % i) for i in range(dfs.MAX_REFERRALS)]
    resp = ReferralResponse.unpack(build(4, 0, 0, entries))
    assert len(resp.referrals) == dfs.MAX_REFERRALS
    assert resp.referrals[-1].network_address == "\\fs1023\\s"


def overlapping_strings_response() -> bytes:
    """1024 V3 entries whose three offsets each start a different long suffix of one
    30 000-character string: quadratic text if decoded naively."""
    count = 1024
    strings_at = 8 + 18 * count
    body = b"".join(struct.pack("<HHHHIHHH", 3, 18, 0, 0, 1,
                                strings_at + 6 * i - 18 * i, strings_at + 6 * i + 2 - 18 * i,
                                strings_at + 6 * i + 4 - 18 * i) for i in range(count))
    return header(0, count, 0) + body + "x".encode("utf-16-le") * 30000 + b"\0\0"


def test_string_budget_bounds_memory() -> None:
    data = overlapping_strings_response()
    tracemalloc.start()
    try:
        with pytest.raises(MalformedResponse, match="bytes of strings"):
            ReferralResponse.unpack(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT


def test_shared_strings_are_decoded_once() -> None:
    """1024 entries pointing at the same two long strings stay within the budget."""
    path = "\\corp\\" + "p" * 2000
    entries = [(0, 0, 10, path, path, "\\fs\\" + "q" * 2000)] * dfs.MAX_REFERRALS
    resp = ReferralResponse.unpack(build(3, 0, 0, entries))
    assert resp.referrals[0].dfs_path is resp.referrals[-1].dfs_path


def test_huge_length_claims_stay_small() -> None:
    tracemalloc.start()
    try:
        worst = 0
        for seed in samples():
            for variant in _huge_variants(seed):
                tracemalloc.reset_peak()
                base = tracemalloc.get_traced_memory()[0]
                try:
                    ReferralResponse.unpack(variant)
                except MalformedResponse:
                    pass
                worst = max(worst, tracemalloc.get_traced_memory()[1] - base)
    finally:
        tracemalloc.stop()
    assert worst < MEMORY_LIMIT


def decode_all(data: bytes) -> None:
    """The contract: a valid response, or MalformedResponse; resolve() the same."""
    try:
        resp = ReferralResponse.unpack(data)
    except MalformedResponse:
        return
    assert all(1 <= r.version <= 4 for r in resp.referrals)
    try:
        resolve(resp, "\\corp\\dfs\\link\\dir\\file.txt")
    except MalformedResponse:
        pass
    cache = ReferralCache()
    if resp.referrals and not any(r.is_name_list for r in resp.referrals):
        try:
            cache.add("\\corp\\dfs", resp, 0.0, ttl=1)
        except MalformedResponse:
            return
        cache.lookup("\\corp\\dfs\\x", 0.0)


@FUZZ_SETTINGS
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    with no_hang():
        decode_all(data)
        decode_all(header(len(data) & ~1, 3, 0) + data)


@FUZZ_SETTINGS
@given(mutations(samples()))
def test_mutated_responses(data: bytes) -> None:
    with no_hang():
        decode_all(data)


@FUZZ_SETTINGS
@given(st.sampled_from(samples()), st.integers(0, 0xFFFF), st.integers(0, 200))
def test_any_u16_anywhere(seed: bytes, value: int, position: int) -> None:
    """Every 16-bit field (counts, sizes, offsets) set to any value."""
    pos = position % max(1, len(seed) - 1)
    with no_hang():
        decode_all(with_u16(seed, pos, value))


# ----------------------------------------------------------------------------- paths


def test_split_unc() -> None:
    assert split_unc("\\\\srv\\share\\a\\b.txt") == ("srv", "share", "a\\b.txt")
    assert split_unc("//srv/share/a/b.txt") == ("srv", "share", "a\\b.txt")
    assert split_unc("\\\\srv\\share") == ("srv", "share", "")
    assert split_unc("\\\\srv\\share\\") == ("srv", "share", "")
    assert split_unc("\\\\srv\\share\\\\a\\\\b\\") == ("srv", "share", "a\\b")
    assert split_unc("/\\Srv/Share\\Dir") == ("Srv", "Share", "Dir")


@pytest.mark.parametrize("bad", ["", "\\", "\\\\", "\\\\srv", "\\\\srv\\", "\\\\\\srv\\share", "\\\\srv\\\\share",
                                 "srv\\share", "\\srv\\share", "C:\\x"])
def test_split_unc_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        split_unc(bad)


def test_join_unc() -> None:
    assert join_unc("srv", "share") == "\\\\srv\\share"
    assert join_unc("srv", "share", "a/b\\\\c\\") == "\\\\srv\\share\\a\\b\\c"
    assert join_unc("srv", "share", "\\") == "\\\\srv\\share"
    assert split_unc(join_unc("s", "h", "x\\y")) == ("s", "h", "x\\y")
    for server, share in (("", "s"), ("s", ""), ("a\\b", "s"), ("s", "a/b")):
        with pytest.raises(ValueError):
            join_unc(server, share)


def test_dfs_request_path() -> None:
    assert dfs_request_path("\\\\corp\\dfs\\link\\f.txt") == "\\corp\\dfs\\link\\f.txt"
    assert dfs_request_path("//corp/dfs/") == "\\corp\\dfs"


def link_response(consumed: str, *addresses: str, version: int = 3) -> ReferralResponse:
    entries = [(0, 0, 60, consumed, consumed, address) for address in addresses]
    data = build(version, len(consumed.encode("utf-16-le")), 0x2, entries)
    return ReferralResponse.unpack(data)


def test_resolve_consumed_shorter_than_requested() -> None:
    resp = link_response(LINK, "\\fs1\\data\\projects", "\\fs2\\data")
    targets = resolve(resp, "\\corp\\dfs\\link\\Dir\\File.TXT")
    assert [t.path for t in targets] == ["\\\\fs1\\data\\projects\\Dir\\File.TXT", "\\\\fs2\\data\\Dir\\File.TXT"]
    assert targets[0] == Target("\\\\fs1\\data\\projects\\Dir\\File.TXT", "fs1", "data", "projects\\Dir\\File.TXT",
                                "\\fs1\\data\\projects", 0, False)
    assert (targets[1].server, targets[1].share, targets[1].rest) == ("fs2", "data", "Dir\\File.TXT")


def test_resolve_consumed_equal_to_requested() -> None:
    (target,) = resolve(link_response(LINK, "\\fs1\\data"), LINK)
    assert target.path == "\\\\fs1\\data" and target.rest == ""


def test_resolve_counts_not_case() -> None:
    """The server may answer in another case; the consumed prefix is a count, and the
    rest of the path keeps the case the caller asked with."""
    resp = link_response("\\CORP\\DFS\\LINK", "\\fs1\\data")
    (target,) = resolve(resp, "\\corp\\dfs\\link\\MiXeD")
    assert target.path == "\\\\fs1\\data\\MiXeD"


def test_resolve_trailing_backslashes() -> None:
    resp = link_response(LINK, "\\fs1\\data\\")
    assert resolve(resp, LINK + "\\")[0].path == "\\\\fs1\\data"
    assert resolve(resp, LINK + "\\dir\\")[0].path == "\\\\fs1\\data\\dir"
    assert resolve(resp, LINK + "\\\\dir")[0].path == "\\\\fs1\\data\\dir"
    # PathConsumed that takes the separator after the link too.
    with_sep = link_response(LINK + "\\", "\\fs1\\data")
    assert resolve(with_sep, LINK + "\\dir")[0].path == "\\\\fs1\\data\\dir"


def test_resolve_target_in_unc_form() -> None:
    resp = link_response(LINK, "\\\\fs1\\data\\sub")
    assert resolve(resp, LINK + "\\x")[0].path == "\\\\fs1\\data\\sub\\x"


def test_resolve_non_ascii_counts_utf16_units() -> None:
    link = "\\corp\\dfs\\\U0001f600"  # one character, two UTF-16 units
    resp = link_response(link, "\\fs\\d")
    assert resp.path_consumed_chars == len(link.encode("utf-16-le")) // 2
    assert resolve(resp, link + "\\\u00e9")[0].path == "\\\\fs\\d\\\u00e9"


def test_resolve_refuses_bad_path_consumed() -> None:
    resp = link_response(LINK + "\\more", "\\fs\\d")
    with pytest.raises(MalformedResponse, match="consumed"):
        resolve(resp, LINK)
    mid = link_response("\\corp\\dfs\\li", "\\fs\\d")
    with pytest.raises(MalformedResponse, match="inside a path component"):
        resolve(mid, LINK + "\\x")
    half = ReferralResponse(2 * len("\\corp\\") + 2, 0, [Referral(3, 0, 0, 1, "", "", "\\fs\\d")])
    with pytest.raises(MalformedResponse, match="surrogate"):
        resolve(half, "\\corp\\\U0001f600")


@pytest.mark.parametrize("address", ["", "fs\\d", "\\fs", "\\\\fs\\", "\\"])
def test_resolve_refuses_target_without_share(address: str) -> None:
    with pytest.raises(MalformedResponse, match="names no"):
        resolve(link_response(LINK, address) if address else ReferralResponse(
            28, 0, [Referral(3, 0, 0, 1, LINK, LINK, "")]), LINK)


def test_resolve_v4_and_v1_and_name_list() -> None:
    v4 = ReferralResponse.unpack(samples()[3])
    assert [(t.server, t.target_set_boundary) for t in resolve(v4, LINK + "\\f")] == [
        ("a", True), ("b", False), ("c", True)]
    v1 = ReferralResponse.unpack(build_v1(2 * len("\\srv\\dfs"), 0, [(1, "\\srv\\share")]))
    (target,) = resolve(v1, "\\srv\\dfs\\f")
    assert target.path == "\\\\srv\\share\\f" and target.server_type == 1
    assert resolve(ReferralResponse.unpack(samples()[4]), "") == []


# ----------------------------------------------------------------------------- cache


def test_cache_lookup_resolves_the_rest_of_the_path() -> None:
    cache = ReferralCache()
    cache.add(LINK, link_response(LINK, "\\fs1\\data", "\\fs2\\data"), now=100.0)
    entry = cache.lookup("\\\\corp\\dfs\\link\\Sub\\f.txt", now=100.0)
    assert entry is not None
    assert entry.prefix == LINK and entry.expires_at == 160.0 and not entry.root and entry.header_flags == 2
    assert [t.path for t in entry.targets] == ["\\\\fs1\\data\\Sub\\f.txt", "\\\\fs2\\data\\Sub\\f.txt"]
    assert cache.lookup(LINK, 100.0) is not None
    assert cache.lookup("\\corp\\dfs", 100.0) is None
    assert cache.lookup("\\corp\\dfs\\linker", 100.0) is None  # components, not characters
    assert cache.lookup("corp\\dfs\\link", 100.0) is None


def test_cache_ttl_expiry() -> None:
    cache = ReferralCache()
    cache.add(LINK, link_response(LINK, "\\fs1\\data"), now=10.0)
    assert cache.lookup(LINK, 69.9) is not None
    assert cache.lookup(LINK, 70.0) is None
    assert len(cache) == 0  # the expired entry was dropped


def test_cache_ttl_is_the_smallest_and_can_be_overridden() -> None:
    data = build(3, 28, 0, [(0, 0, 600, LINK, LINK, "\\a\\s"), (0, 0, 30, LINK, LINK, "\\b\\s")])
    cache = ReferralCache()
    cache.add(LINK, ReferralResponse.unpack(data), now=0.0)
    entry = cache.lookup(LINK, 0.0)
    assert entry is not None and entry.expires_at == 30.0
    cache.add(LINK, ReferralResponse.unpack(data), now=0.0, ttl=5)
    assert cache.lookup(LINK, 5.0) is None


def test_cache_v1_uses_default_ttl() -> None:
    v1 = ReferralResponse.unpack(build_v1(16, 0, [(1, "\\srv\\share")]))
    cache = ReferralCache(default_ttl=42.0)
    cache.add("\\srv\\dfs", v1, now=1.0)
    entry = cache.lookup("\\srv\\dfs\\x", 42.9)
    assert entry is not None and entry.root and entry.targets[0].path == "\\\\srv\\share\\x"
    assert cache.lookup("\\srv\\dfs\\x", 43.0) is None


def test_cache_longest_prefix_wins() -> None:
    cache = ReferralCache()
    cache.add("\\corp\\dfs", link_response("\\corp\\dfs", "\\root1\\dfs"), now=0.0)
    cache.add(LINK, link_response(LINK, "\\fs1\\data"), now=0.0)
    deep = cache.lookup(LINK + "\\a", 1.0)
    shallow = cache.lookup("\\corp\\dfs\\other\\a", 1.0)
    assert deep is not None and deep.targets[0].path == "\\\\fs1\\data\\a"
    assert shallow is not None and shallow.targets[0].path == "\\\\root1\\dfs\\other\\a"


def test_cache_longer_expired_falls_back_to_shorter() -> None:
    cache = ReferralCache()
    cache.add("\\corp\\dfs", link_response("\\corp\\dfs", "\\root1\\dfs"), now=0.0, ttl=1000)
    cache.add(LINK, link_response(LINK, "\\fs1\\data"), now=0.0, ttl=10)
    entry = cache.lookup(LINK + "\\a", 20.0)
    assert entry is not None and entry.targets[0].path == "\\\\root1\\dfs\\link\\a"


def test_cache_is_case_insensitive_and_separator_agnostic() -> None:
    cache = ReferralCache()
    cache.add("\\\\Corp\\DFS\\Link", link_response(LINK, "\\fs1\\data"), now=0.0)
    entry = cache.lookup("//CORP/dfs/LINK/Keep/Case", 1.0)
    assert entry is not None and entry.targets[0].path == "\\\\fs1\\data\\Keep\\Case"
    assert entry.prefix == "\\Corp\\DFS\\Link"
    assert cache.lookup("\\corp\\dfs\\link", 1.0) is not None
    cache.add("\\CORP\\dfs\\link", link_response(LINK, "\\fs9\\data"), now=0.0)  # same key: replaced
    assert len(cache) == 1
    again = cache.lookup(LINK, 1.0)
    assert again is not None and again.targets[0].server == "fs9"


def test_cache_cap_drops_the_oldest() -> None:
    cache = ReferralCache(max_entries=3)
    resp = link_response(LINK, "\\fs\\d")
    for i in range(3):
        cache.add("\\corp\\dfs\\l%d" % i, resp, now=float(i))
    cache.add("\\corp\\dfs\\l0", resp, now=3.0)  # re-adding refreshes l0
    cache.add("\\corp\\dfs\\l3", resp, now=4.0)
    assert len(cache) == 3
    assert cache.lookup("\\corp\\dfs\\l1", 5.0) is None
    assert all(cache.lookup("\\corp\\dfs\\l%d" % i, 5.0) is not None for i in (0, 2, 3))


def test_cache_cap_drops_expired_before_live() -> None:
    cache = ReferralCache(max_entries=2)
    cache.add("\\a\\old", link_response(LINK, "\\fs\\d"), now=0.0, ttl=1000)
    cache.add("\\a\\short", link_response(LINK, "\\fs\\d"), now=0.0, ttl=1)
    cache.add("\\a\\new", link_response(LINK, "\\fs\\d"), now=10.0)
    assert cache.lookup("\\a\\old", 10.0) is not None and cache.lookup("\\a\\new", 10.0) is not None


def test_cache_default_cap() -> None:
    cache = ReferralCache()
    resp = link_response(LINK, "\\fs\\d")
    for i in range(1100):
        cache.add("\\corp\\dfs\\l%d" % i, resp, now=0.0)
    assert len(cache) == 1024
    assert cache.lookup("\\corp\\dfs\\l75", 1.0) is None
    assert cache.lookup("\\corp\\dfs\\l76", 1.0) is not None


def test_cache_mark_dead_moves_target_last() -> None:
    cache = ReferralCache()
    cache.add(LINK, link_response(LINK, "\\fs1\\data", "\\fs2\\data", "\\fs3\\data"), now=0.0)
    cache.add("\\corp\\other", link_response("\\corp\\other", "\\FS1\\DATA", "\\fs4\\x"), now=0.0)
    first = cache.lookup(LINK + "\\f", 1.0)
    assert first is not None
    cache.mark_dead(first.targets[0])
    entry = cache.lookup(LINK + "\\f", 1.0)
    assert entry is not None
    assert [t.server for t in entry.targets] == ["fs2", "fs3", "fs1"]
    other = cache.lookup("\\corp\\other", 1.0)
    assert other is not None and [t.server for t in other.targets] == ["fs4", "FS1"]
    cache.mark_dead("\\fs2\\data")
    entry = cache.lookup(LINK, 1.0)
    assert entry is not None and [t.server for t in entry.targets] == ["fs3", "fs1", "fs2"]
    cache.mark_dead("\\nowhere\\x")  # unknown: nothing changes
    entry = cache.lookup(LINK, 1.0)
    assert entry is not None and [t.server for t in entry.targets] == ["fs3", "fs1", "fs2"]


def test_cache_clear_and_refusals() -> None:
    cache = ReferralCache()
    cache.add(LINK, link_response(LINK, "\\fs1\\data"), now=0.0)
    cache.clear()
    assert len(cache) == 0 and cache.lookup(LINK, 0.0) is None
    cache.add(LINK, ReferralResponse.unpack(header(0, 0, 0)), now=0.0)  # no targets: nothing cached
    assert len(cache) == 0
    with pytest.raises(ValueError):
        cache.add("\\CORP", ReferralResponse.unpack(samples()[4]), now=0.0)
    with pytest.raises(ValueError):
        cache.add("", link_response(LINK, "\\fs1\\data"), now=0.0)
    with pytest.raises(ValueError):
        ReferralCache(max_entries=0)


def test_cache_refuses_target_without_share() -> None:
    cache = ReferralCache()
    bad = ReferralResponse(28, 0, [Referral(3, 0, 0, 60, LINK, LINK, "\\fs\\d"),
                                   Referral(3, 0, 0, 60, LINK, LINK, "\\lonely")])
    with pytest.raises(MalformedResponse):
        cache.add(LINK, bad, now=0.0)
    assert len(cache) == 0
