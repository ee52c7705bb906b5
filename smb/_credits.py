"""SMB2 credits and message ids, in one small class ([MS-SMB2] 3.2.4.1.5, 3.2.5.1.4)."""
from __future__ import annotations

from .exceptions import ProtocolError

__all__ = ["CreditWindow", "CREDIT_UNIT"]

#: One credit pays for 64 KiB of request or response payload (multi-credit, 2.1+).
CREDIT_UNIT = 65536


class CreditWindow:
    """Tracks the credits the server granted and hands out message ids.

    ``large_mtu`` is True when the dialect is 2.1 or later and the server
    set SMB2_GLOBAL_CAP_LARGE_MTU: requests may then be charged several
    credits, one per started 64 KiB.
    """

    __slots__ = ("next_message_id", "available", "large_mtu", "target", "queued", "high")

    def __init__(self, target: int = 512) -> None:
        self.next_message_id = 0
        self.available = 1
        self.large_mtu = False
        #: How many credits we try to hold so that pipelines stay full.
        self.target = target
        #: Operations queued in the core until credits come back (they go first).
        self.queued = 0
        #: The most credits the server has let us hold at once.
        self.high = 1

    def charge_for(self, payload_size: int) -> int:
        """Credits a request moving ``payload_size`` bytes (either way) costs."""
        if not self.large_mtu or payload_size <= CREDIT_UNIT:
            return 1
        return (payload_size - 1) // CREDIT_UNIT + 1

    def can_send(self, charge: int) -> bool:
        """True when a request costing ``charge`` may go out now.

        False while other operations wait in the core's credit queue, so a
        pipeline that already has requests in flight leaves the credits the
        server grants to the operations waiting for them.
        """
        return self.available >= charge and not self.queued

    def has(self, charge: int) -> bool:
        """True when ``charge`` credits are there, whoever waits for them."""
        return self.available >= charge

    def take(self, charge: int) -> int:
        """Consume ``charge`` credits; return the message id of the request."""
        if charge > self.available:
            raise ProtocolError("no SMB2 credits left (have %d, need %d)" % (self.available, charge))
        mid = self.next_message_id
        self.next_message_id += charge
        self.available -= charge
        return mid

    def request_for(self, charge: int) -> int:
        """How many credits a request should ask for: its own charge back, plus
        enough to climb towards ``target``."""
        want = self.target - self.available
        return max(charge, min(want, 256) if want > 0 else charge)

    def grant(self, credits: int) -> None:
        """Add credits granted by a response."""
        self.available += credits
        if self.available > self.high:
            self.high = self.available

    def io_size(self, limit: int) -> int:
        """The size of one READ or WRITE of a pipeline: ``limit`` (MaxRead or
        MaxWrite), but no more than a quarter of the credits the server lets
        us hold, so a stingy server still sees several requests in flight and
        a request never costs more credits than it ever grants."""
        if not self.large_mtu:
            return min(limit, CREDIT_UNIT)
        return max(min(limit, CREDIT_UNIT), min(limit, max(1, self.high // 4) * CREDIT_UNIT))
