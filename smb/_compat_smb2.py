"""pysmb-shaped SMB2 message classes (work in progress in this session)."""
from __future__ import annotations

__all__: list = []
