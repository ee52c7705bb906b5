"""Dialect-independent bookkeeping for pipelined reads.

Both dialects keep several READs in flight and may get the answers out of
order, short, or cut by an end of file.  :class:`ReadPlan` decides which
ranges to ask for next and writes what arrives to the caller's file object
strictly in offset order, so the two READ loops (SMB1 and SMB2) only deal
with their own messages.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from .exceptions import MalformedResponse

__all__ = ["ReadPlan"]


class ReadPlan:
    """The ranges of ``[start, end)`` still to request and to write.

    Data that arrives for the next offset to write goes straight to
    ``file_obj.write`` (a view of the receive buffer, not copied); data that
    arrives early is copied and held until the gap before it is filled.
    """

    __slots__ = ("file_obj", "start", "eof", "chunk", "progress", "next_send", "next_write", "early", "retry")

    def __init__(self, file_obj: Any, start: int, end: int, chunk: int,
                 progress: Optional[Callable[[int], None]]) -> None:
        self.file_obj = file_obj
        self.start = start
        self.eof = end
        self.chunk = chunk
        self.progress = progress
        self.next_send = start
        self.next_write = start
        self.early: Dict[int, bytes] = {}
        self.retry: List[Tuple[int, int]] = []

    @property
    def done(self) -> bool:
        """Every byte up to the (possibly shrunk) end has been written."""
        return self.next_write >= self.eof

    @property
    def wants_more(self) -> bool:
        """Some range is still to be requested."""
        if self.retry:
            # Ranges past an end of file learnt meanwhile are not asked again.
            self.retry = [(off, length) for off, length in self.retry if off < self.eof]
        return bool(self.retry) or self.next_send < self.eof

    def next_range(self) -> Tuple[int, int]:
        """The ``(offset, length)`` to request next (only when ``wants_more``)."""
        if self.retry:
            off, length = self.retry.pop()
            return off, min(length, self.eof - off)
        off, length = self.next_send, min(self.chunk, self.eof - self.next_send)
        self.next_send += length
        return off, length

    def put_back(self, off: int, length: int) -> None:
        """A range taken with :meth:`next_range` could not be sent yet."""
        self.retry.append((off, length))

    def end_of_file(self, off: int) -> None:
        """The server says the file ends at ``off`` (END_OF_FILE or an empty read)."""
        self.eof = min(self.eof, off)

    def received(self, off: int, length: int, data: Any) -> None:
        """The answer to the READ of ``(off, length)``: ``data`` (bytes-like)."""
        got = len(data)
        if got > length:
            raise MalformedResponse("server returned %d bytes for a %d-byte READ" % (got, length))
        if got == 0:
            self.end_of_file(off)
            return
        if got < length:
            self.retry.append((off + got, length - got))
        if off != self.next_write:
            self.early[off] = bytes(data)
            return
        self._write(data)
        while self.next_write in self.early:
            self._write(self.early.pop(self.next_write))

    def _write(self, data: Any) -> None:
        self.file_obj.write(data)
        self.next_write += len(data)
        if self.progress:
            self.progress(len(data))

    def finish(self) -> int:
        """The number of bytes written; raises if the answers contradict each other."""
        if self.early:
            # Data past an end of file reported earlier (or a gap): the count
            # would be a lie.
            raise MalformedResponse("READ responses left a gap at offset %d (data at %s past the end)"
                                % (self.next_write, sorted(self.early)[:4]))
        return self.next_write - self.start
