"""How pysmb decodes the UTF-16LE strings servers send (``smb.strategy``).

Share names, comments and file names in SMB responses are UTF-16LE.  A
server (or a file system behind it) may hand out names that are not valid
UTF-16: unpaired surrogates, or an odd byte count.  :class:`DataStrategy`
decodes strictly and raises :class:`UnicodeDecodeError`;
:class:`DataFaultToleranceStrategy` drops what does not decode, so one bad
name does not fail a whole directory listing.
"""
from __future__ import annotations

from typing import Union

__all__ = ["DataStrategyBase", "DataStrategy", "DataFaultToleranceStrategy"]

BytesLike = Union[bytes, bytearray, memoryview]


class DataStrategyBase:
    """The codec of server-sent data bytes ([MS-SMB2] 2.2: strings are UTF-16LE)."""

    DATABYTES_CODEC = "UTF-16LE"


class DataStrategy(DataStrategyBase):
    """Strict decoding."""

    @staticmethod
    def data_bytes_decode(databytes: BytesLike) -> str:
        """Decode UTF-16LE; malformed input raises :class:`UnicodeDecodeError`."""
        return bytes(databytes).decode(DataStrategyBase.DATABYTES_CODEC)


class DataFaultToleranceStrategy(DataStrategyBase):
    """Tolerant decoding: what pysmb uses for names in listings."""

    @staticmethod
    def data_bytes_decode(databytes: BytesLike) -> str:
        """Decode UTF-16LE, silently dropping unpaired surrogates and a trailing odd byte."""
        return bytes(databytes).decode(DataStrategyBase.DATABYTES_CODEC, errors="ignore")
