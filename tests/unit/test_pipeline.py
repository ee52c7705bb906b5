"""ReadPlan: in-order delivery, short reads, end of file, contradictions."""
from __future__ import annotations

import io

import pytest

from smb._pipeline import ReadPlan
from smb.exceptions import ProtocolError

DATA = bytes(range(256)) * 40  # 10240 bytes


def _drain(plan):
    ranges = []
    while plan.wants_more:
        ranges.append(plan.next_range())
    return ranges


def test_out_of_order_answers_are_written_in_order() -> None:
    out = io.BytesIO()
    seen = []
    plan = ReadPlan(out, 0, len(DATA), 4096, seen.append)
    ranges = _drain(plan)
    assert ranges == [(0, 4096), (4096, 4096), (8192, 2048)]
    for off, length in reversed(ranges):
        plan.received(off, length, memoryview(DATA)[off:off + length])
    assert plan.done and plan.finish() == len(DATA) and out.getvalue() == DATA
    assert sum(seen) == len(DATA)


def test_short_read_asks_for_the_rest() -> None:
    out = io.BytesIO()
    plan = ReadPlan(out, 100, 5000, 4096, None)
    off, length = plan.next_range()
    plan.received(off, length, DATA[off:off + 1000])
    assert plan.next_range() == (1100, 3096)
    plan.received(1100, 3096, DATA[1100:4196])
    assert plan.next_range() == (4196, 804)
    plan.received(4196, 804, DATA[4196:5000])
    assert plan.finish() == 4900 and out.getvalue() == DATA[100:5000]


def test_end_of_file_shrinks_the_plan() -> None:
    out = io.BytesIO()
    plan = ReadPlan(out, 0, 10000, 4096, None)
    ranges = _drain(plan)
    plan.received(*ranges[0], DATA[:4096])
    plan.received(ranges[1][0], ranges[1][1], DATA[4096:5000])  # short: file shrank
    plan.end_of_file(5000)                                      # answer to the third READ
    assert not plan.wants_more and plan.done
    assert plan.finish() == 5000


def test_too_much_data_or_contradictions_raise() -> None:
    plan = ReadPlan(io.BytesIO(), 0, 100, 64, None)
    off, length = plan.next_range()
    with pytest.raises(ProtocolError):
        plan.received(off, length, b"x" * (length + 1))
    plan = ReadPlan(io.BytesIO(), 0, 8192, 4096, None)
    _drain(plan)
    plan.received(4096, 4096, DATA[4096:8192])  # early data
    plan.end_of_file(0)                        # then "the file is empty"
    with pytest.raises(ProtocolError):
        plan.finish()
