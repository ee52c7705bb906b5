"""Constants of the SMB2/3 protocol ([MS-SMB2] section 2.2) and the few
MS-FSCC / MS-DTYP values that SMB2 requests carry.

Each group is an ``IntEnum`` or ``IntFlag``; below them are the flat
module-level names that pysmb users import from ``smb.smb2_constants``.
NTSTATUS codes are not here (see ``smb.nt_status``).
"""
from __future__ import annotations

from enum import IntEnum, IntFlag

# Shared with SMB1: defined once in smb_constants, re-exported here under pysmb's module.
from .smb_constants import AccessMask, CreateDisposition, CreateOptions, FileAttributes, ShareAccess

SMB2_HEADER_SIZE = 64
SMB2_PROTOCOL_ID = b"\xfeSMB"
SMB2_TRANSFORM_PROTOCOL_ID = b"\xfdSMB"
SMB2_TRANSFORM_HEADER_SIZE = 52
SMB2_COMPRESSION_PROTOCOL_ID = b"\xfcSMB"

# A FileId whose both halves are all-ones: used by IOCTLs that are not
# addressed to an open, such as FSCTL_VALIDATE_NEGOTIATE_INFO ([MS-SMB2] 2.2.31).
SMB2_NO_FILE_ID = b"\xff" * 16


class Smb2Command(IntEnum):
    """Command codes of the SMB2 header ([MS-SMB2] 2.2.1)."""

    NEGOTIATE = 0x00
    SESSION_SETUP = 0x01
    LOGOFF = 0x02
    TREE_CONNECT = 0x03
    TREE_DISCONNECT = 0x04
    CREATE = 0x05
    CLOSE = 0x06
    FLUSH = 0x07
    READ = 0x08
    WRITE = 0x09
    LOCK = 0x0A
    IOCTL = 0x0B
    CANCEL = 0x0C
    ECHO = 0x0D
    QUERY_DIRECTORY = 0x0E
    CHANGE_NOTIFY = 0x0F
    QUERY_INFO = 0x10
    SET_INFO = 0x11
    OPLOCK_BREAK = 0x12


class Smb2Flags(IntFlag):
    """Flags field of the SMB2 header ([MS-SMB2] 2.2.1)."""

    NONE = 0
    SERVER_TO_REDIR = 0x00000001
    ASYNC_COMMAND = 0x00000002
    RELATED_OPERATIONS = 0x00000004
    SIGNED = 0x00000008
    PRIORITY_MASK = 0x00000070
    DFS_OPERATIONS = 0x10000000
    REPLAY_OPERATION = 0x20000000


class Dialect(IntEnum):
    """Dialect revisions ([MS-SMB2] 2.2.3, 2.2.4)."""

    SMB_2_0_2 = 0x0202
    SMB_2_1 = 0x0210
    SMB_3_0 = 0x0300
    SMB_3_0_2 = 0x0302
    SMB_3_1_1 = 0x0311
    WILDCARD = 0x02FF


class SecurityMode(IntFlag):
    """SecurityMode of NEGOTIATE and SESSION_SETUP ([MS-SMB2] 2.2.3, 2.2.5)."""

    NONE = 0
    SIGNING_ENABLED = 0x0001
    SIGNING_REQUIRED = 0x0002


class GlobalCapabilities(IntFlag):
    """Capabilities of NEGOTIATE ([MS-SMB2] 2.2.3, 2.2.4)."""

    NONE = 0
    DFS = 0x00000001
    LEASING = 0x00000002
    LARGE_MTU = 0x00000004
    MULTI_CHANNEL = 0x00000008
    PERSISTENT_HANDLES = 0x00000010
    DIRECTORY_LEASING = 0x00000020
    ENCRYPTION = 0x00000040
    NOTIFICATIONS = 0x00000080


class NegotiateContextType(IntEnum):
    """ContextType of a negotiate context ([MS-SMB2] 2.2.3.1)."""

    PREAUTH_INTEGRITY_CAPABILITIES = 0x0001
    ENCRYPTION_CAPABILITIES = 0x0002
    COMPRESSION_CAPABILITIES = 0x0003
    NETNAME_NEGOTIATE_CONTEXT_ID = 0x0005
    TRANSPORT_CAPABILITIES = 0x0006
    RDMA_TRANSFORM_CAPABILITIES = 0x0007
    SIGNING_CAPABILITIES = 0x0008


class HashAlgorithm(IntEnum):
    """Preauthentication integrity hash ([MS-SMB2] 2.2.3.1.1)."""

    SHA_512 = 0x0001


class Cipher(IntEnum):
    """Encryption ciphers ([MS-SMB2] 2.2.3.1.2)."""

    AES_128_CCM = 0x0001
    AES_128_GCM = 0x0002
    AES_256_CCM = 0x0003
    AES_256_GCM = 0x0004


class SigningAlgorithm(IntEnum):
    """Signing algorithms ([MS-SMB2] 2.2.3.1.7)."""

    HMAC_SHA256 = 0x0000
    AES_CMAC = 0x0001
    AES_GMAC = 0x0002


class SessionSetupFlags(IntFlag):
    """Flags of the SESSION_SETUP request ([MS-SMB2] 2.2.5)."""

    NONE = 0
    BINDING = 0x01


class SessionFlags(IntFlag):
    """SessionFlags of the SESSION_SETUP response ([MS-SMB2] 2.2.6)."""

    NONE = 0
    IS_GUEST = 0x0001
    IS_NULL = 0x0002
    ENCRYPT_DATA = 0x0004


class TreeConnectFlags(IntFlag):
    """Flags of the TREE_CONNECT request, SMB 3.1.1 ([MS-SMB2] 2.2.9)."""

    NONE = 0
    CLUSTER_RECONNECT = 0x0001
    REDIRECT_TO_OWNER = 0x0002
    EXTENSION_PRESENT = 0x0004


class ShareType(IntEnum):
    """ShareType of the TREE_CONNECT response ([MS-SMB2] 2.2.10)."""

    DISK = 0x01
    PIPE = 0x02
    PRINT = 0x03


class ShareFlags(IntFlag):
    """ShareFlags of the TREE_CONNECT response ([MS-SMB2] 2.2.10).

    The caching policy is a 2-bit value inside CACHING_MASK (MANUAL is 0).
    """

    MANUAL_CACHING = 0x00000000
    DFS = 0x00000001
    DFS_ROOT = 0x00000002
    AUTO_CACHING = 0x00000010
    VDO_CACHING = 0x00000020
    NO_CACHING = 0x00000030
    CACHING_MASK = 0x00000030
    RESTRICT_EXCLUSIVE_OPENS = 0x00000100
    FORCE_SHARED_DELETE = 0x00000200
    ALLOW_NAMESPACE_CACHING = 0x00000400
    ACCESS_BASED_DIRECTORY_ENUM = 0x00000800
    FORCE_LEVELII_OPLOCK = 0x00001000
    ENABLE_HASH_V1 = 0x00002000
    ENABLE_HASH_V2 = 0x00004000
    ENCRYPT_DATA = 0x00008000
    IDENTITY_REMOTING = 0x00040000
    COMPRESS_DATA = 0x00100000
    ISOLATED_TRANSPORT = 0x00200000


class ShareCapabilities(IntFlag):
    """Capabilities of the TREE_CONNECT response ([MS-SMB2] 2.2.10)."""

    NONE = 0
    DFS = 0x00000008
    CONTINUOUS_AVAILABILITY = 0x00000010
    SCALEOUT = 0x00000020
    CLUSTER = 0x00000040
    ASYMMETRIC = 0x00000080
    REDIRECT_TO_OWNER = 0x00000100


class OplockLevel(IntEnum):
    """RequestedOplockLevel / OplockLevel ([MS-SMB2] 2.2.13, 2.2.14)."""

    NONE = 0x00
    II = 0x01
    EXCLUSIVE = 0x08
    BATCH = 0x09
    LEASE = 0xFF


class ImpersonationLevel(IntEnum):
    """ImpersonationLevel of the CREATE request ([MS-SMB2] 2.2.13)."""

    ANONYMOUS = 0x00000000
    IDENTIFICATION = 0x00000001
    IMPERSONATION = 0x00000002
    DELEGATE = 0x00000003












class CreateAction(IntEnum):
    """CreateAction of the CREATE response ([MS-SMB2] 2.2.14)."""

    SUPERSEDED = 0x00000000
    OPENED = 0x00000001
    CREATED = 0x00000002
    OVERWRITTEN = 0x00000003


class CreateResponseFlags(IntFlag):
    """Flags of the CREATE response, SMB 3.x ([MS-SMB2] 2.2.14)."""

    NONE = 0
    REPARSEPOINT = 0x01


class CloseFlags(IntFlag):
    """Flags of the CLOSE request/response ([MS-SMB2] 2.2.15)."""

    NONE = 0
    POSTQUERY_ATTRIB = 0x0001


class ReadFlags(IntFlag):
    """Flags of the READ request ([MS-SMB2] 2.2.19)."""

    NONE = 0
    READ_UNBUFFERED = 0x01
    REQUEST_COMPRESSED = 0x02


class WriteFlags(IntFlag):
    """Flags of the WRITE request ([MS-SMB2] 2.2.21)."""

    NONE = 0
    WRITE_THROUGH = 0x00000001
    WRITE_UNBUFFERED = 0x00000002


class InfoType(IntEnum):
    """InfoType of QUERY_INFO / SET_INFO ([MS-SMB2] 2.2.37)."""

    FILE = 0x01
    FILESYSTEM = 0x02
    SECURITY = 0x03
    QUOTA = 0x04


class FileInfoClass(IntEnum):
    """File information classes ([MS-FSCC] 2.4)."""

    FileDirectoryInformation = 1
    FileFullDirectoryInformation = 2
    FileBothDirectoryInformation = 3
    FileBasicInformation = 4
    FileStandardInformation = 5
    FileInternalInformation = 6
    FileEaInformation = 7
    FileAccessInformation = 8
    FileNameInformation = 9
    FileRenameInformation = 10
    FileLinkInformation = 11
    FileNamesInformation = 12
    FileDispositionInformation = 13
    FilePositionInformation = 14
    FileFullEaInformation = 15
    FileModeInformation = 16
    FileAlignmentInformation = 17
    FileAllInformation = 18
    FileAllocationInformation = 19
    FileEndOfFileInformation = 20
    FileAlternateNameInformation = 21
    FileStreamInformation = 22
    FilePipeInformation = 23
    FileCompressionInformation = 28
    FileNetworkOpenInformation = 34
    FileAttributeTagInformation = 35
    FileIdBothDirectoryInformation = 37
    FileIdFullDirectoryInformation = 38
    FileValidDataLengthInformation = 39
    FileShortNameInformation = 40


class FsInfoClass(IntEnum):
    """File system information classes ([MS-FSCC] 2.5)."""

    FileFsVolumeInformation = 1
    FileFsLabelInformation = 2
    FileFsSizeInformation = 3
    FileFsDeviceInformation = 4
    FileFsAttributeInformation = 5
    FileFsControlInformation = 6
    FileFsFullSizeInformation = 7
    FileFsObjectIdInformation = 8
    FileFsSectorSizeInformation = 11


class QueryDirectoryFlags(IntFlag):
    """Flags of the QUERY_DIRECTORY request ([MS-SMB2] 2.2.33)."""

    NONE = 0
    RESTART_SCANS = 0x01
    RETURN_SINGLE_ENTRY = 0x02
    INDEX_SPECIFIED = 0x04
    REOPEN = 0x10


class SecurityInformation(IntFlag):
    """AdditionalInformation for security queries ([MS-SMB2] 2.2.37)."""

    NONE = 0
    OWNER = 0x00000001
    GROUP = 0x00000002
    DACL = 0x00000004
    SACL = 0x00000008
    LABEL = 0x00000010
    ATTRIBUTE = 0x00000020
    SCOPE = 0x00000040
    BACKUP = 0x00010000


class Fsctl(IntEnum):
    """IOCTL/FSCTL control codes ([MS-SMB2] 2.2.31, [MS-FSCC] 2.3)."""

    DFS_GET_REFERRALS = 0x00060194
    DFS_GET_REFERRALS_EX = 0x000601B0
    PIPE_PEEK = 0x0011400C
    PIPE_WAIT = 0x00110018
    PIPE_TRANSCEIVE = 0x0011C017
    SRV_COPYCHUNK = 0x001440F2
    SRV_COPYCHUNK_WRITE = 0x001480F2
    SRV_ENUMERATE_SNAPSHOTS = 0x00144064
    SRV_REQUEST_RESUME_KEY = 0x00140078
    SRV_READ_HASH = 0x001441BB
    LMR_REQUEST_RESILIENCY = 0x001401D4
    QUERY_NETWORK_INTERFACE_INFO = 0x001401FC
    SET_REPARSE_POINT = 0x000900A4
    GET_REPARSE_POINT = 0x000900A8
    FILE_LEVEL_TRIM = 0x00098208
    VALIDATE_NEGOTIATE_INFO = 0x00140204


class IoctlFlags(IntFlag):
    """Flags of the IOCTL request ([MS-SMB2] 2.2.31)."""

    NONE = 0
    IS_IOCTL = 0x00000000
    IS_FSCTL = 0x00000001


class TransformFlags(IntFlag):
    """Flags/EncryptionAlgorithm of the TRANSFORM_HEADER ([MS-SMB2] 2.2.41)."""

    NONE = 0
    ENCRYPTED = 0x0001


class OplockBreakLevel(IntEnum):
    """OplockLevel of an oplock break notification ([MS-SMB2] 2.2.23.1)."""

    NONE = 0x00
    II = 0x01


# --- flat aliases (the names pysmb's smb2_constants exported, and more) ---

SMB2_COM_NEGOTIATE = Smb2Command.NEGOTIATE
SMB2_COM_SESSION_SETUP = Smb2Command.SESSION_SETUP
SMB2_COM_LOGOFF = Smb2Command.LOGOFF
SMB2_COM_TREE_CONNECT = Smb2Command.TREE_CONNECT
SMB2_COM_TREE_DISCONNECT = Smb2Command.TREE_DISCONNECT
SMB2_COM_CREATE = Smb2Command.CREATE
SMB2_COM_CLOSE = Smb2Command.CLOSE
SMB2_COM_FLUSH = Smb2Command.FLUSH
SMB2_COM_READ = Smb2Command.READ
SMB2_COM_WRITE = Smb2Command.WRITE
SMB2_COM_LOCK = Smb2Command.LOCK
SMB2_COM_IOCTL = Smb2Command.IOCTL
SMB2_COM_CANCEL = Smb2Command.CANCEL
SMB2_COM_ECHO = Smb2Command.ECHO
SMB2_COM_QUERY_DIRECTORY = Smb2Command.QUERY_DIRECTORY
SMB2_COM_CHANGE_NOTIFY = Smb2Command.CHANGE_NOTIFY
SMB2_COM_QUERY_INFO = Smb2Command.QUERY_INFO
SMB2_COM_SET_INFO = Smb2Command.SET_INFO
SMB2_COM_OPLOCK_BREAK = Smb2Command.OPLOCK_BREAK

SMB2_FLAGS_SERVER_TO_REDIR = Smb2Flags.SERVER_TO_REDIR
SMB2_FLAGS_ASYNC_COMMAND = Smb2Flags.ASYNC_COMMAND
SMB2_FLAGS_RELATED_OPERATIONS = Smb2Flags.RELATED_OPERATIONS
SMB2_FLAGS_SIGNED = Smb2Flags.SIGNED
SMB2_FLAGS_PRIORITY_MASK = Smb2Flags.PRIORITY_MASK
SMB2_FLAGS_DFS_OPERATIONS = Smb2Flags.DFS_OPERATIONS
SMB2_FLAGS_REPLAY_OPERATION = Smb2Flags.REPLAY_OPERATION

SMB2_DIALECT_2 = Dialect.SMB_2_0_2
SMB2_DIALECT_21 = Dialect.SMB_2_1
SMB2_DIALECT_30 = Dialect.SMB_3_0
SMB2_DIALECT_302 = Dialect.SMB_3_0_2
SMB2_DIALECT_311 = Dialect.SMB_3_1_1
SMB2_DIALECT_2ALL = Dialect.WILDCARD

SMB2_NEGOTIATE_SIGNING_ENABLED = SecurityMode.SIGNING_ENABLED
SMB2_NEGOTIATE_SIGNING_REQUIRED = SecurityMode.SIGNING_REQUIRED

SMB2_GLOBAL_CAP_DFS = GlobalCapabilities.DFS
SMB2_GLOBAL_CAP_LEASING = GlobalCapabilities.LEASING
SMB2_GLOBAL_CAP_LARGE_MTU = GlobalCapabilities.LARGE_MTU
SMB2_GLOBAL_CAP_MULTI_CHANNEL = GlobalCapabilities.MULTI_CHANNEL
SMB2_GLOBAL_CAP_PERSISTENT_HANDLES = GlobalCapabilities.PERSISTENT_HANDLES
SMB2_GLOBAL_CAP_DIRECTORY_LEASING = GlobalCapabilities.DIRECTORY_LEASING
SMB2_GLOBAL_CAP_ENCRYPTION = GlobalCapabilities.ENCRYPTION

SMB2_PREAUTH_INTEGRITY_CAPABILITIES = NegotiateContextType.PREAUTH_INTEGRITY_CAPABILITIES
SMB2_ENCRYPTION_CAPABILITIES = NegotiateContextType.ENCRYPTION_CAPABILITIES
SMB2_COMPRESSION_CAPABILITIES = NegotiateContextType.COMPRESSION_CAPABILITIES
SMB2_NETNAME_NEGOTIATE_CONTEXT_ID = NegotiateContextType.NETNAME_NEGOTIATE_CONTEXT_ID
SMB2_TRANSPORT_CAPABILITIES = NegotiateContextType.TRANSPORT_CAPABILITIES
SMB2_RDMA_TRANSFORM_CAPABILITIES = NegotiateContextType.RDMA_TRANSFORM_CAPABILITIES
SMB2_SIGNING_CAPABILITIES = NegotiateContextType.SIGNING_CAPABILITIES

SMB2_SESSION_FLAG_IS_GUEST = SessionFlags.IS_GUEST
SMB2_SESSION_FLAG_IS_NULL = SessionFlags.IS_NULL
SMB2_SESSION_FLAG_ENCRYPT_DATA = SessionFlags.ENCRYPT_DATA

SMB2_SHARE_TYPE_DISK = ShareType.DISK
SMB2_SHARE_TYPE_PIPE = ShareType.PIPE
SMB2_SHARE_TYPE_PRINTER = ShareType.PRINT
SMB2_SHAREFLAG_ENCRYPT_DATA = ShareFlags.ENCRYPT_DATA
SMB2_SHARE_CAP_DFS = ShareCapabilities.DFS

SMB2_OPLOCK_LEVEL_NONE = OplockLevel.NONE
SMB2_OPLOCK_LEVEL_II = OplockLevel.II
SMB2_OPLOCK_LEVEL_EXCLUSIVE = OplockLevel.EXCLUSIVE
SMB2_OPLOCK_LEVEL_BATCH = OplockLevel.BATCH
SMB2_OPLOCK_LEVEL_LEASE = OplockLevel.LEASE

SEC_ANONYMOUS = ImpersonationLevel.ANONYMOUS
SEC_IDENTIFY = ImpersonationLevel.IDENTIFICATION
SEC_IMPERSONATE = ImpersonationLevel.IMPERSONATION
SEC_DELEGATE = ImpersonationLevel.DELEGATE

FILE_SUPERSEDE = CreateDisposition.SUPERSEDE
FILE_OPEN = CreateDisposition.OPEN
FILE_CREATE = CreateDisposition.CREATE
FILE_OPEN_IF = CreateDisposition.OPEN_IF
FILE_OVERWRITE = CreateDisposition.OVERWRITE
FILE_OVERWRITE_IF = CreateDisposition.OVERWRITE_IF

FILE_SUPERSEDED = CreateAction.SUPERSEDED
FILE_OPENED = CreateAction.OPENED
FILE_CREATED = CreateAction.CREATED
FILE_OVERWRITTEN = CreateAction.OVERWRITTEN

FILE_DIRECTORY_FILE = CreateOptions.DIRECTORY_FILE
FILE_WRITE_THROUGH = CreateOptions.WRITE_THROUGH
FILE_SEQUENTIAL_ONLY = CreateOptions.SEQUENTIAL_ONLY
FILE_NO_INTERMEDIATE_BUFFERING = CreateOptions.NO_INTERMEDIATE_BUFFERING
FILE_SYNCHRONOUS_IO_ALERT = CreateOptions.SYNCHRONOUS_IO_ALERT
FILE_SYNCHRONOUS_IO_NONALERT = CreateOptions.SYNCHRONOUS_IO_NONALERT
FILE_NON_DIRECTORY_FILE = CreateOptions.NON_DIRECTORY_FILE
FILE_COMPLETE_IF_OPLOCKED = CreateOptions.COMPLETE_IF_OPLOCKED
FILE_NO_EA_KNOWLEDGE = CreateOptions.NO_EA_KNOWLEDGE
FILE_RANDOM_ACCESS = CreateOptions.RANDOM_ACCESS
FILE_DELETE_ON_CLOSE = CreateOptions.DELETE_ON_CLOSE
FILE_OPEN_BY_FILE_ID = CreateOptions.OPEN_BY_FILE_ID
FILE_OPEN_FOR_BACKUP_INTENT = CreateOptions.OPEN_FOR_BACKUP_INTENT
FILE_NO_COMPRESSION = CreateOptions.NO_COMPRESSION
FILE_OPEN_REPARSE_POINT = CreateOptions.OPEN_REPARSE_POINT

FILE_SHARE_READ = ShareAccess.READ
FILE_SHARE_WRITE = ShareAccess.WRITE
FILE_SHARE_DELETE = ShareAccess.DELETE

FILE_READ_DATA = AccessMask.FILE_READ_DATA
FILE_LIST_DIRECTORY = AccessMask.FILE_READ_DATA
FILE_WRITE_DATA = AccessMask.FILE_WRITE_DATA
FILE_ADD_FILE = AccessMask.FILE_WRITE_DATA
FILE_APPEND_DATA = AccessMask.FILE_APPEND_DATA
FILE_ADD_SUBDIRECTORY = AccessMask.FILE_APPEND_DATA
FILE_READ_EA = AccessMask.FILE_READ_EA
FILE_WRITE_EA = AccessMask.FILE_WRITE_EA
FILE_EXECUTE = AccessMask.FILE_EXECUTE
FILE_TRAVERSE = AccessMask.FILE_EXECUTE
FILE_DELETE_CHILD = AccessMask.FILE_DELETE_CHILD
FILE_READ_ATTRIBUTES = AccessMask.FILE_READ_ATTRIBUTES
FILE_WRITE_ATTRIBUTES = AccessMask.FILE_WRITE_ATTRIBUTES
DELETE = AccessMask.DELETE
READ_CONTROL = AccessMask.READ_CONTROL
WRITE_DAC = AccessMask.WRITE_DAC
WRITE_OWNER = AccessMask.WRITE_OWNER
SYNCHRONIZE = AccessMask.SYNCHRONIZE
ACCESS_SYSTEM_SECURITY = AccessMask.ACCESS_SYSTEM_SECURITY
MAXIMUM_ALLOWED = AccessMask.MAXIMUM_ALLOWED
GENERIC_ALL = AccessMask.GENERIC_ALL
GENERIC_EXECUTE = AccessMask.GENERIC_EXECUTE
GENERIC_WRITE = AccessMask.GENERIC_WRITE
GENERIC_READ = AccessMask.GENERIC_READ

FILE_ATTRIBUTE_READONLY = FileAttributes.READONLY
FILE_ATTRIBUTE_HIDDEN = FileAttributes.HIDDEN
FILE_ATTRIBUTE_SYSTEM = FileAttributes.SYSTEM
FILE_ATTRIBUTE_DIRECTORY = FileAttributes.DIRECTORY
FILE_ATTRIBUTE_ARCHIVE = FileAttributes.ARCHIVE
FILE_ATTRIBUTE_NORMAL = FileAttributes.NORMAL
FILE_ATTRIBUTE_TEMPORARY = FileAttributes.TEMPORARY
FILE_ATTRIBUTE_SPARSE_FILE = FileAttributes.SPARSE_FILE
FILE_ATTRIBUTE_REPARSE_POINT = FileAttributes.REPARSE_POINT
FILE_ATTRIBUTE_COMPRESSED = FileAttributes.COMPRESSED
FILE_ATTRIBUTE_OFFLINE = FileAttributes.OFFLINE
FILE_ATTRIBUTE_NOT_CONTENT_INDEXED = FileAttributes.NOT_CONTENT_INDEXED
FILE_ATTRIBUTE_ENCRYPTED = FileAttributes.ENCRYPTED

SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB = CloseFlags.POSTQUERY_ATTRIB

SMB2_0_INFO_FILE = InfoType.FILE
SMB2_0_INFO_FILESYSTEM = InfoType.FILESYSTEM
SMB2_0_INFO_SECURITY = InfoType.SECURITY
SMB2_0_INFO_QUOTA = InfoType.QUOTA
SMB2_INFO_FILE = InfoType.FILE
SMB2_INFO_FILESYSTEM = InfoType.FILESYSTEM
SMB2_INFO_SECURITY = InfoType.SECURITY
SMB2_INFO_QUOTA = InfoType.QUOTA

SMB2_FILE_DIRECTORY_INFO = FileInfoClass.FileDirectoryInformation
SMB2_FILE_FULL_DIRECTORY_INFO = FileInfoClass.FileFullDirectoryInformation
SMB2_FILE_BOTH_DIRECTORY_INFO = FileInfoClass.FileBothDirectoryInformation
SMB2_FILE_BASIC_INFO = FileInfoClass.FileBasicInformation
SMB2_FILE_STANDARD_INFO = FileInfoClass.FileStandardInformation
SMB2_FILE_INTERNAL_INFO = FileInfoClass.FileInternalInformation
SMB2_FILE_RENAME_INFO = FileInfoClass.FileRenameInformation
SMB2_FILE_NAMES_INFO = FileInfoClass.FileNamesInformation
SMB2_FILE_DISPOSITION_INFO = FileInfoClass.FileDispositionInformation
SMB2_FILE_ALL_INFO = FileInfoClass.FileAllInformation
SMB2_FILE_END_OF_FILE_INFO = FileInfoClass.FileEndOfFileInformation
SMB2_FILE_ALTERNATE_NAME_INFO = FileInfoClass.FileAlternateNameInformation
SMB2_FILE_STREAM_INFO = FileInfoClass.FileStreamInformation
SMB2_FILE_NETWORK_OPEN_INFO = FileInfoClass.FileNetworkOpenInformation
SMB2_FILE_ID_BOTH_DIRECTORY_INFO = FileInfoClass.FileIdBothDirectoryInformation
SMB2_FILE_ID_FULL_DIRECTORY_INFO = FileInfoClass.FileIdFullDirectoryInformation

SMB2_FILESYSTEM_VOLUME_INFO = FsInfoClass.FileFsVolumeInformation
SMB2_FILESYSTEM_SIZE_INFO = FsInfoClass.FileFsSizeInformation
SMB2_FILESYSTEM_DEVICE_INFO = FsInfoClass.FileFsDeviceInformation
SMB2_FILESYSTEM_ATTRIBUTE_INFO = FsInfoClass.FileFsAttributeInformation
SMB2_FILESYSTEM_FULL_SIZE_INFO = FsInfoClass.FileFsFullSizeInformation

SMB2_RESTART_SCANS = QueryDirectoryFlags.RESTART_SCANS
SMB2_RETURN_SINGLE_ENTRY = QueryDirectoryFlags.RETURN_SINGLE_ENTRY
SMB2_INDEX_SPECIFIED = QueryDirectoryFlags.INDEX_SPECIFIED
SMB2_REOPEN = QueryDirectoryFlags.REOPEN

OWNER_SECURITY_INFORMATION = SecurityInformation.OWNER
GROUP_SECURITY_INFORMATION = SecurityInformation.GROUP
DACL_SECURITY_INFORMATION = SecurityInformation.DACL
SACL_SECURITY_INFORMATION = SecurityInformation.SACL

FSCTL_DFS_GET_REFERRALS = Fsctl.DFS_GET_REFERRALS
FSCTL_PIPE_TRANSCEIVE = Fsctl.PIPE_TRANSCEIVE
FSCTL_PIPE_WAIT = Fsctl.PIPE_WAIT
FSCTL_SRV_ENUMERATE_SNAPSHOTS = Fsctl.SRV_ENUMERATE_SNAPSHOTS
FSCTL_VALIDATE_NEGOTIATE_INFO = Fsctl.VALIDATE_NEGOTIATE_INFO
SMB2_0_IOCTL_IS_FSCTL = IoctlFlags.IS_FSCTL

SMB2_TRANSFORM_FLAG_ENCRYPTED = TransformFlags.ENCRYPTED

# pysmb's flat names.
#: SMB2 command code -> "SMB2_COM_<NAME>" ([MS-SMB2] 2.2.1).
SMB2_COMMAND_NAMES = {int(cmd): "SMB2_COM_" + cmd.name for cmd in Smb2Command}
#: [MS-FSCC] 2.6 file attributes under pysmb's ``SMB2_`` names.
SMB2_FILE_ATTRIBUTE_READONLY = 0x00000001
SMB2_FILE_ATTRIBUTE_HIDDEN = 0x00000002
SMB2_FILE_ATTRIBUTE_SYSTEM = 0x00000004
SMB2_FILE_ATTRIBUTE_DIRECTORY = 0x00000010
SMB2_FILE_ATTRIBUTE_ARCHIVE = 0x00000020
SMB2_FILE_ATTRIBUTE_NORMAL = 0x00000080
SMB2_FILE_ATTRIBUTE_TEMPORARY = 0x00000100
SMB2_FILE_ATTRIBUTE_SPARSE = 0x00000200
SMB2_FILE_ATTRIBUTE_COMPRESSED = 0x00000800
SMB2_FILE_ATTRIBUTE_OFFLINE = 0x00001000
SMB2_FILE_ATTRIBUTE_NOTINDEXED = 0x00002000
SMB2_FILE_ATTRIBUTE_ENCRYPTED = 0x00004000
#: [MS-SMB2] 2.2.14 CREATE response CreateAction.
SMB2_FILE_SUPERCEDED = 0
SMB2_FILE_OPENED = 1
SMB2_FILE_CREATED = 2
SMB2_FILE_OVERWRITTEN = 3
