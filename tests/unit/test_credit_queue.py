"""The core's queue of operations waiting for SMB2 credits (IO-free): first come first served,
pipelines leave granted credits to queued operations, and an operation that could never get
credits fails instead of waiting forever."""
from __future__ import annotations

from typing import Any, List

import pytest

from smb._credits import CreditWindow
from smb.base import SMB, WaitCredits
from smb.exceptions import NotConnectedError, ProtocolError


class _Dialect:
    """Just enough of a dialect: credits, and a receive() that grants and delivers."""

    is_smb2 = True

    def __init__(self, core: SMB) -> None:
        self.core = core
        self.credits = CreditWindow()
        self.credits.available = 0

    def receive(self, frame: memoryview) -> None:
        # frame = b"<mid>:<granted>"
        mid, granted = bytes(frame).decode().split(":")
        self.credits.grant(int(granted))
        self.core.deliver(int(mid), "response %s" % mid, lambda r: r)


def _core() -> SMB:
    core = SMB("u", "p", "me", "them", is_direct_tcp=True)
    core.dialect = _Dialect(core)
    return core


def _send(core: SMB, mid: int, charge: int) -> None:
    core.dialect.credits.take(charge)
    core.expect(mid)


def test_waiters_resume_in_order_as_credits_come_back() -> None:
    core = _core()
    log: List[str] = []
    core.dialect.credits.available = 2

    def holder() -> Any:
        _send(core, 1, 1)          # takes both credits
        _send(core, 2, 1)
        yield 1
        yield 2

    def waiter(name: str, charge: int, mid: int) -> Any:
        yield WaitCredits(charge)
        log.append(name)
        _send(core, mid, charge)
        yield mid
        return name

    h = core.start(holder())
    a = core.start(waiter("a", 2, 10))
    b = core.start(waiter("b", 1, 20))
    assert log == [] and core.dialect.credits.queued == 2
    # One credit back: not enough for "a" (2), and "b" may not jump the queue.
    core.receive_frame(memoryview(b"1:1"))
    assert log == []
    assert not core.dialect.credits.can_send(1)     # pipelines leave it to the queue
    core.receive_frame(memoryview(b"2:2"))
    assert h.done and log == ["a", "b"] and core.dialect.credits.queued == 0
    core.receive_frame(memoryview(b"10:0"))
    core.receive_frame(memoryview(b"20:0"))
    assert a.outcome() == "a" and b.outcome() == "b"


def test_no_request_in_flight_means_no_credits_will_come() -> None:
    core = _core()

    def starved() -> Any:
        yield WaitCredits(1)
        return "never"

    op = core.start(starved())
    assert op.done
    with pytest.raises(ProtocolError, match="granted no credits"):
        op.outcome()
    assert core.broken is not None   # a server that grants nothing ends the connection


def test_last_response_without_credits_fails_the_queue() -> None:
    core = _core()
    core.dialect.credits.available = 1

    def holder() -> Any:
        _send(core, 1, 1)
        yield 1

    def waiter() -> Any:
        yield WaitCredits(1)

    core.start(holder())
    w = core.start(waiter())
    assert not w.done
    core.receive_frame(memoryview(b"1:0"))   # answered, but granted nothing back
    assert w.done
    with pytest.raises(ProtocolError):
        w.outcome()


def test_abandoned_and_broken_waiters_leave_the_queue() -> None:
    core = _core()
    core.dialect.credits.available = 1

    def holder() -> Any:
        _send(core, 1, 1)
        yield 1

    def waiter() -> Any:
        yield WaitCredits(1)
        return "ran"

    core.start(holder())
    gone = core.start(waiter())
    core.abandon(gone)
    assert core.dialect.credits.queued == 0 and gone.done
    stuck = core.start(waiter())
    core.mark_broken(ProtocolError("test"))
    assert stuck.done and core.dialect.credits.queued == 0
    with pytest.raises(NotConnectedError):
        stuck.outcome()


def test_io_size_follows_what_the_server_grants() -> None:
    window = CreditWindow()
    window.large_mtu = True
    window.grant(24)
    assert window.io_size(8 << 20) == 6 * 65536      # a quarter of 25 credits
    window.grant(1000)
    assert window.io_size(8 << 20) == 8 << 20
    window.large_mtu = False
    assert window.io_size(8 << 20) == 65536


def test_op_whose_last_response_arrives_queues_behind_waiters_instead_of_failing() -> None:
    # The response to the only request in flight brings credits back; its
    # operation wants to send again while another operation is queued.  It
    # must wait its turn (and both get through), not fail for "no credits".
    core = _core()
    core.dialect.credits.available = 1
    order: List[str] = []

    def pipeline() -> Any:
        _send(core, 1, 1)
        yield 1
        if not core.dialect.credits.can_send(1):
            yield WaitCredits(1)
        order.append("pipeline")
        _send(core, 3, 1)
        yield 3
        return "pipeline"

    def waiter() -> Any:
        yield WaitCredits(2)
        order.append("waiter")
        _send(core, 2, 2)
        yield 2
        return "waiter"

    p = core.start(pipeline())
    w = core.start(waiter())
    assert core.dialect.credits.queued == 1
    core.receive_frame(memoryview(b"1:4"))
    assert order == ["waiter", "pipeline"]
    core.receive_frame(memoryview(b"2:2"))
    core.receive_frame(memoryview(b"3:1"))
    assert w.outcome() == "waiter" and p.outcome() == "pipeline"


def test_with_nothing_in_flight_a_smaller_waiter_goes_before_a_head_that_does_not_fit() -> None:
    # Nothing in flight, the head needs more than there is: the next waiter
    # that fits goes (its response may bring more) rather than both failing.
    core = _core()
    core.dialect.credits.available = 1
    got: List[str] = []

    def holder() -> Any:
        _send(core, 1, 1)
        yield 1

    def waiter(name: str, charge: int, mid: int, grant: int) -> Any:
        yield WaitCredits(charge)
        got.append(name)
        _send(core, mid, charge)
        yield mid
        return name

    core.start(holder())
    big = core.start(waiter("big", 4, 10, 0))
    small = core.start(waiter("small", 1, 20, 0))
    core.receive_frame(memoryview(b"1:2"))       # 2 back: "big" does not fit, "small" does
    assert got == ["small"] and not big.done
    core.receive_frame(memoryview(b"20:3"))      # now 4: "big" goes
    assert got == ["small", "big"]
    core.receive_frame(memoryview(b"10:1"))
    assert big.outcome() == "big" and small.outcome() == "small"


def test_wait_quiet_resumes_once_abandoned_requests_are_answered() -> None:
    from smb.base import WaitQuiet
    core = _core()
    core.dialect.credits.available = 10
    order: List[str] = []

    def reader(core: SMB = core) -> Any:
        _send(core, 1, 1)
        _send(core, 2, 1)
        yield 1
        yield 2

    def closer(core: SMB = core) -> Any:
        yield WaitQuiet()
        order.append("close sent")
        _send(core, 3, 1)
        return (yield 3)

    slow = core.start(reader(), "reader")
    core.abandon(slow)                      # a timeout: READs 1 and 2 still out
    close = core.start(closer(), "close")
    assert order == [] and not close.done   # the CLOSE waits for them
    core.receive_frame(memoryview(b"1:1"))
    assert order == []
    core.receive_frame(memoryview(b"2:1"))
    assert order == ["close sent"]
    core.receive_frame(memoryview(b"3:1"))
    assert close.done and close.outcome() == "response 3"
    # With nothing abandoned it does not wait at all.
    again = core.start(closer(), "close")
    assert order == ["close sent", "close sent"] and not again.done
    # A dead connection ends a waiting operation too.
    core2 = _core()
    core2.dialect.credits.available = 10
    gone = core2.start(reader(core2), "reader")
    core2.abandon(gone)
    waiting = core2.start(closer(core2), "close")
    core2.fail_all(NotConnectedError("gone"))
    assert waiting.done
    with pytest.raises(NotConnectedError):
        waiting.outcome()
