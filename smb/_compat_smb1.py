"""pysmb-shaped SMB1 message classes (work in progress in this session)."""
from __future__ import annotations

__all__: list = []
