"""The one exception tree of the library.

Every error the library raises on purpose derives from :class:`SMBError`.  The
classes are re-exported from the module paths pysmb users already import them
from (``smb.base``, ``smb.smb_structs``, ``nmb.base``).

All constructors give their extra arguments defaults so that the exceptions
pickle (``pickle`` re-creates an exception by calling the class with
``self.args``).
"""
from __future__ import annotations

import errno
from typing import Any, List, Optional, Sequence

__all__ = [
    "SMBError",
    "ProtocolError",
    "MalformedResponse",
    "OperationFailure",
    "NotConnectedError",
    "SMBTimeout",
    "NotReadyError",
    "UnsupportedFeature",
    "KerberosError",
    "SMBFileNotFoundError",
    "SMBFileExistsError",
    "SMBIsADirectoryError",
    "SMBPermissionError",
]


class SMBError(Exception):
    """Root of every exception raised by ``smb`` and ``nmb``.

    pysmb used the name ``SMBError`` for the holder of an SMB1 status
    (``internal_value``, ``is_ntstatus``, ``hasError``, ``reset()``); those
    members are kept so that code written against it still runs.  The status
    of a received SMB1 message is a :class:`smb.smb_structs.Smb1Status`.
    """

    #: pysmb's status-holder fields (an exception carries no status: 0).
    internal_value = 0
    is_ntstatus = True

    def reset(self) -> None:
        """pysmb's status-holder API: clear the held status."""
        self.internal_value = 0
        self.is_ntstatus = True

    @property
    def hasError(self) -> bool:
        """pysmb's status-holder API (a property): True when the held status is not 0."""
        return self.internal_value != 0


class ProtocolError(SMBError):
    """The peer sent something that breaks the protocol.

    Malformed frames, offsets outside a message, bad signatures, failed
    decryption and unexpected message ids all end up here.  After a
    ``ProtocolError`` the connection is marked broken, except for its
    subclass :class:`MalformedResponse` (one undecodable response body).

    ``data_buf`` (also readable as ``data``) optionally holds the offending
    bytes (never secrets); ``smb_message`` the message involved, if any
    (pysmb's constructor arguments and attributes).
    """

    def __init__(self, message: str = "", data_buf: Optional[bytes] = None, smb_message: Any = None) -> None:
        super().__init__(message, data_buf, smb_message)
        self.message = message
        self.data_buf = data_buf
        self.smb_message = smb_message

    @property
    def data(self) -> Optional[bytes]:
        """The offending bytes (same as ``data_buf``)."""
        return self.data_buf

    def __str__(self) -> str:
        return self.message


class MalformedResponse(ProtocolError):
    """A response arrived whole (framed, and signed or encrypted where that is
    required) but its body does not decode.

    Only the operation that waited for it fails; the connection stays usable,
    because nothing about the message stream is in doubt.  Framing, signature,
    message-id and decryption errors are plain :class:`ProtocolError` and
    break the connection.
    """


class OperationFailure(SMBError):
    """The server refused an operation.

    Compatible with pysmb: ``args[0]`` is a message and ``args[1]`` the list of
    SMB messages involved (each with a ``.status``).  In addition ``status``
    holds the NTSTATUS of the failure (or ``None`` when no status applies).
    """

    def __init__(self, message: str = "", smb_messages: Optional[Sequence[Any]] = None,
                 status: Optional[int] = None) -> None:
        messages: List[Any] = list(smb_messages or [])
        if status is None:
            for msg in reversed(messages):
                st = getattr(msg, "status", None)
                if st:
                    status = st
                    break
        super().__init__(message, messages, status)
        self.message = message
        self.smb_messages = messages
        self.status = status

    def __str__(self) -> str:
        return self.message


class _OSErrorFailure(OperationFailure, OSError):
    """An :class:`OperationFailure` that is also one of Python's ``OSError``
    subclasses (what :func:`open` raises for the same condition), so that
    ``except FileNotFoundError`` works on :meth:`SMBConnection.openFile`.

    ``errno`` is the matching POSIX code and ``strerror`` the message;
    ``args`` stay OperationFailure's ``(message, messages, status)``.
    """

    _ERRNO = 0

    def __init__(self, message: str = "", smb_messages: Optional[Sequence[Any]] = None,
                 status: Optional[int] = None) -> None:
        super().__init__(message, smb_messages, status)
        # OSError.__init__ read our three arguments as (errno, strerror, filename)
        # and kept only two of them as args: put back what pickle needs.
        self.args = (message, self.smb_messages, self.status)
        self.errno = self._ERRNO
        self.strerror = message
        self.filename = None


class SMBFileNotFoundError(_OSErrorFailure, FileNotFoundError):
    """The file (or a folder on its path) does not exist (STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_OBJECT_PATH_NOT_FOUND, STATUS_NO_SUCH_FILE)."""

    _ERRNO = errno.ENOENT


class SMBFileExistsError(_OSErrorFailure, FileExistsError):
    """The file exists and was to be created (STATUS_OBJECT_NAME_COLLISION)."""

    _ERRNO = errno.EEXIST


class SMBIsADirectoryError(_OSErrorFailure, IsADirectoryError):
    """A folder was opened as a file (STATUS_FILE_IS_A_DIRECTORY)."""

    _ERRNO = errno.EISDIR


class SMBPermissionError(_OSErrorFailure, PermissionError):
    """Access was refused (STATUS_ACCESS_DENIED) or another open's share mode
    forbids this one (STATUS_SHARING_VIOLATION)."""

    _ERRNO = errno.EACCES


class NotConnectedError(SMBError, ConnectionError):
    """The connection is closed, was never opened, or broke."""


class SMBTimeout(SMBError, TimeoutError):
    """An operation did not finish before its deadline."""


class NotReadyError(SMBError):
    """The connection is not ready for this operation (e.g. not logged on)."""


class UnsupportedFeature(SMBError):
    """The server (or this library) does not support what was asked."""


class KerberosError(SMBError):
    """Kerberos failed: the KDC answered with a KRB-ERROR, a reply did not
    decrypt or verify (wrong key, tampering), or a reply was malformed.

    ``code`` is the KRB-ERROR error-code ([RFC 4120] 7.5.9, e.g. 24
    KDC_ERR_PREAUTH_FAILED, 37 KRB_AP_ERR_SKEW) when the KDC sent one, else
    ``None``.  Messages never contain keys, tickets or passwords.
    """

    def __init__(self, message: str = "", code: Optional[int] = None) -> None:
        super().__init__(message, code)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message
