"""Small helpers kept at the module path pysmb users import them from.

Time conversion between Windows FILETIME (100 ns ticks since 1601-01-01 UTC,
[MS-DTYP] 2.3.3) and POSIX epoch seconds.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Union

__all__ = ["convertFILETIMEtoEpoch", "convertEpochToFILETIME", "EPOCH_AS_FILETIME",
           "TICKS_PER_SECOND"]

#: 1970-01-01T00:00:00Z expressed as a FILETIME.
EPOCH_AS_FILETIME = 116444736000000000
#: FILETIME resolution: one tick is 100 ns.
TICKS_PER_SECOND = 10_000_000


def convertFILETIMEtoEpoch(t: int) -> float:
    """Convert a FILETIME to POSIX seconds.

    Integer true division is correctly rounded in Python, so the result is
    the float nearest to the exact value (no intermediate float error).
    """
    return (int(t) - EPOCH_AS_FILETIME) / TICKS_PER_SECOND


def convertEpochToFILETIME(t: Union[float, int]) -> int:
    """Convert POSIX seconds to a FILETIME, rounded to the nearest 100 ns tick.

    The float is taken at its exact binary value (``Fraction``) so that e.g.
    ``0.3`` gives 3,000,000 ticks rather than the 2,999,999 that
    ``int(0.3 * 1e7)`` would give.
    """
    if isinstance(t, int):
        return t * TICKS_PER_SECOND + EPOCH_AS_FILETIME
    return round(Fraction(t) * TICKS_PER_SECOND) + EPOCH_AS_FILETIME
