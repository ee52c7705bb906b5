"""The SRV query codec used for KDC discovery (RFC 1035 / RFC 2782), exact bytes and hostile answers."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smb._dns import parse_srv_response, srv_query
from smb.exceptions import KerberosError


def _name(text: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in text.split(".")) + b"\0"


def answer(txn: int, records, rcode: int = 0, question: str = "_kerberos._udp.EX.TEST") -> bytes:
    out = struct.pack(">HHHHHH", txn, 0x8180 | rcode, 1, len(records), 0, 0)
    out += _name(question) + struct.pack(">HH", 33, 1)
    for priority, weight, port, target in records:
        rdata = struct.pack(">HHH", priority, weight, port) + target
        out += b"\xc0\x0c" + struct.pack(">HHIH", 33, 1, 300, len(rdata)) + rdata
    return out


def test_query_bytes() -> None:
    assert srv_query(0x1234, "_kerberos._tcp.EX.TEST") == (
        bytes.fromhex("123401000001000000000000") + _name("_kerberos._tcp.EX.TEST") + b"\x00\x21\x00\x01")


def test_answers_sorted_by_priority_then_weight() -> None:
    data = answer(7, [(10, 5, 88, _name("kdc3.ex.test")), (0, 10, 88, _name("kdc1.ex.test")),
                      (0, 50, 750, _name("kdc2.ex.test"))])
    assert parse_srv_response(data, 7) == [("kdc2.ex.test", 750), ("kdc1.ex.test", 88), ("kdc3.ex.test", 88)]


def test_compressed_target_and_nxdomain() -> None:
    # target "EX.TEST" by pointer into the question (offset 12 + len("\x09_kerberos\x04_udp") = 27)
    data = answer(1, [(0, 0, 88, b"\x03kdc\xc0\x1b")])
    assert parse_srv_response(data, 1) == [("kdc.EX.TEST", 88)]
    assert parse_srv_response(answer(1, [], rcode=3), 1) == []


@pytest.mark.parametrize("mutate", [
    lambda d: d[:10],                                   # short header
    lambda d: d[:2] + b"\x00\x00" + d[4:],              # not a response
    lambda d: b"\x99\x99" + d[2:],                      # another transaction
    lambda d: d[:-3],                                   # cut record
    lambda d: d[:-6] + b"\xc0\xff" + d[-4:],            # pointer past the end (at the "test" label)
])
def test_malformed_answers(mutate) -> None:
    data = answer(5, [(0, 0, 88, _name("kdc.ex.test"))])
    with pytest.raises(KerberosError):
        parse_srv_response(mutate(data), 5)


def test_pointer_loop_is_refused() -> None:
    data = answer(5, [(0, 0, 88, b"\xc0\x3a")])
    data = data[:-2] + struct.pack(">H", 0xC000 | (len(data) - 2))  # points at itself
    with pytest.raises(KerberosError, match="pointer"):
        parse_srv_response(data, 5)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_raises_only_kerberos_error(data: bytes) -> None:
    try:
        parse_srv_response(struct.pack(">H", 5) + data, 5)
    except KerberosError:
        pass
