"""A 32-bit unsigned integer with wrap-around arithmetic (``smb.utils.U32``).

pysmb's pure-Python MD4 kept its state in these.  Every result is reduced
modulo 2**32, so ``U32(0) - U32(1) == U32(0xFFFFFFFF)`` and shifts drop the
bits that leave the word.  Operands may be ``U32`` or ``int``; the result is
always a new ``U32``.
"""
from __future__ import annotations

from typing import Union

__all__ = ["U32", "norm", "C", "MASK"]

#: The largest value plus one is 2**32; ``MASK`` keeps the low 32 bits.
MASK = 0xFFFFFFFF

#: pysmb's module constant (2**36).  Its U32 stored ``C + value`` internally so
#: that Python 2 never saw a negative intermediate; ours stores the plain value
#: in ``v`` and keeps the name only so that imports of it still work.
C = 0x1000000000

Operand = Union["U32", int]


def norm(n: int) -> int:
    """``n`` reduced to 32 bits (two's complement for negative ``n``)."""
    return int(n) & MASK


def _value(other: Operand) -> int:
    if isinstance(other, U32):
        return other.v
    if isinstance(other, int):
        return other
    raise TypeError("U32 operand must be U32 or int, not %s" % type(other).__name__)


class U32:
    """An unsigned 32-bit word; ``v`` holds its value (0 to 2**32 - 1)."""

    __slots__ = ("v",)

    def __init__(self, value: Operand = 0) -> None:
        self.v = norm(_value(value))

    def set(self, value: Operand = 0) -> None:
        """Replace the value in place."""
        self.v = norm(_value(value))

    def truth(self) -> int:
        """The value itself (non-zero means true), as pysmb returned it."""
        return self.v

    # -- conversions ---------------------------------------------------------

    def __int__(self) -> int:
        return self.v

    def __index__(self) -> int:
        return self.v

    def __bool__(self) -> bool:
        return self.v != 0

    def __repr__(self) -> str:
        return "U32(0x%x)" % self.v

    def __str__(self) -> str:
        return "0x%x" % self.v

    # -- comparison ----------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (U32, int)):
            return self.v == _value(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, (U32, int)):
            return self.v != _value(other)
        return NotImplemented

    def __lt__(self, other: Operand) -> bool:
        return self.v < _value(other)

    def __le__(self, other: Operand) -> bool:
        return self.v <= _value(other)

    def __gt__(self, other: Operand) -> bool:
        return self.v > _value(other)

    def __ge__(self, other: Operand) -> bool:
        return self.v >= _value(other)

    def __hash__(self) -> int:
        return hash(self.v)

    # -- arithmetic, modulo 2**32 --------------------------------------------

    def __add__(self, other: Operand) -> "U32":
        return U32(self.v + _value(other))

    __radd__ = __add__

    def __sub__(self, other: Operand) -> "U32":
        return U32(self.v - _value(other))

    def __rsub__(self, other: Operand) -> "U32":
        return U32(_value(other) - self.v)

    def __mul__(self, other: Operand) -> "U32":
        return U32(self.v * _value(other))

    __rmul__ = __mul__

    def __floordiv__(self, other: Operand) -> "U32":
        return U32(self.v // norm(_value(other)))

    def __mod__(self, other: Operand) -> "U32":
        return U32(self.v % norm(_value(other)))

    def __neg__(self) -> "U32":
        return U32(-self.v)

    def __pos__(self) -> "U32":
        return U32(self.v)

    def __abs__(self) -> "U32":
        return U32(self.v)

    # -- bitwise -------------------------------------------------------------

    def __and__(self, other: Operand) -> "U32":
        return U32(self.v & _value(other))

    __rand__ = __and__

    def __or__(self, other: Operand) -> "U32":
        return U32(self.v | _value(other))

    __ror__ = __or__

    def __xor__(self, other: Operand) -> "U32":
        return U32(self.v ^ _value(other))

    __rxor__ = __xor__

    def __invert__(self) -> "U32":
        return U32(~self.v)

    def __lshift__(self, other: Operand) -> "U32":
        return U32(self.v << _value(other))

    def __rshift__(self, other: Operand) -> "U32":
        return U32(self.v >> _value(other))
