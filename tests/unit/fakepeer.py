"""A scripted SMB2/3 server for unit tests of the IO-free core (no sockets).

:class:`FakeSmb2Server` plays the server side of one connection.  It takes
whole SMB messages (framing header already removed) with :meth:`handle` and
queues its answers; :meth:`flush` hands them out, after the optional
``transform`` hook has had a chance to reorder, hold back, corrupt or add
messages.  :func:`run` drives an operation of :class:`smb.base.SMB` against
the peer the way the blocking driver does, without a socket.

The server side is written from the specs, independently of the client code
it tests: requests are parsed and responses built here with ``struct``
([MS-SMB2] 2.2), the NTLMv2 proof is checked and the session key recovered
as a server would ([MS-NLMP] 3.2.5.1.2, 3.3.2, 3.4.5.1), and responses are
signed with the per-dialect algorithm ([MS-SMB2] 3.1.4.1, 3.1.4.2).  Only
leaf primitives are borrowed from ``smb.crypto`` (MD4, HMAC, CMAC, GMAC,
KDF, RC4), which have their own known-answer tests.

What it serves: a single disk share (any name) holding ``files`` (path ->
bytes) and ``dirs`` (a set of paths), with CREATE/READ/WRITE/CLOSE,
QUERY_DIRECTORY (FileIdBothDirectoryInformation), ECHO, TREE_CONNECT,
TREE_DISCONNECT, LOGOFF and FSCTL_VALIDATE_NEGOTIATE_INFO.

It also acts as a checker: a request that spends a message id the server did
not grant, or whose CreditCharge is too small for its payload ([MS-SMB2]
3.3.5.2.3, 3.3.5.2.5), raises :class:`PeerError` and fails the test.
"""
from __future__ import annotations

import struct
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from smb import crypto
from smb._framing import Framer

__all__ = [
    "FakeSmb2Server", "PeerError", "Stuck", "run", "pump", "split_frames",
    "build_header", "sign_message", "parse_header",
    "STATUS_SUCCESS", "STATUS_PENDING", "STATUS_MORE_PROCESSING_REQUIRED", "STATUS_LOGON_FAILURE",
    "STATUS_END_OF_FILE", "STATUS_NO_MORE_FILES", "STATUS_OBJECT_NAME_NOT_FOUND",
    "STATUS_ACCESS_DENIED", "STATUS_FILE_CLOSED", "STATUS_INVALID_PARAMETER",
]

# -- constants ([MS-SMB2] 2.2.1, 2.2.3, [MS-ERREF] 2.3) -----------------------
NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT, TREE_DISCONNECT = 0, 1, 2, 3, 4
CREATE, CLOSE, FLUSH, READ, WRITE, LOCK, IOCTL, CANCEL, ECHO, QUERY_DIRECTORY = range(5, 15)

FLAG_SERVER_TO_REDIR = 0x01
FLAG_ASYNC = 0x02
FLAG_RELATED = 0x04
FLAG_SIGNED = 0x08

STATUS_SUCCESS = 0x00000000
STATUS_PENDING = 0x00000103
STATUS_NO_MORE_FILES = 0x80000006
STATUS_INVALID_PARAMETER = 0xC000000D
STATUS_END_OF_FILE = 0xC0000011
STATUS_MORE_PROCESSING_REQUIRED = 0xC0000016
STATUS_ACCESS_DENIED = 0xC0000022
STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034
STATUS_OBJECT_NAME_COLLISION = 0xC0000035
STATUS_LOGON_FAILURE = 0xC000006D
STATUS_NOT_SUPPORTED = 0xC00000BB
STATUS_FILE_CLOSED = 0xC0000128
STATUS_USER_SESSION_DELETED = 0xC0000203

SIGNING_ENABLED = 0x01
SIGNING_REQUIRED = 0x02
CAP_LARGE_MTU = 0x04
CAP_ENCRYPTION = 0x40

D202, D210, D300, D302, D311, WILDCARD = 0x0202, 0x0210, 0x0300, 0x0302, 0x0311, 0x02FF
ALG_HMAC_SHA256, ALG_AES_CMAC, ALG_AES_GMAC = 0, 1, 2

FSCTL_VALIDATE_NEGOTIATE_INFO = 0x00140204
ATTR_DIRECTORY = 0x10
ATTR_ARCHIVE = 0x20
NTLMSSP = b"NTLMSSP\x00"
NTLM_KEY_EXCH = 0x40000000
OID_NTLMSSP_DER = bytes.fromhex("060a2b0601040182370202 0a".replace(" ", ""))

HEADER = struct.Struct("<4sHHIHHIIQIIQ16s")
#: Where the FileId sits in a request body ([MS-SMB2] 2.2.15, 2.2.19, 2.2.21, 2.2.31, 2.2.33).
_FID_AT = {CLOSE: 8, FLUSH: 8, READ: 16, WRITE: 16, IOCTL: 8, QUERY_DIRECTORY: 8, 0x10: 24, 0x11: 16}
_CREDIT_UNIT = 65536


class PeerError(AssertionError):
    """The client broke a rule the server checks (a test failure)."""


class Stuck(AssertionError):
    """The operation waits but neither side has anything to say."""


# -- header helpers ----------------------------------------------------------
def build_header(command: int, message_id: int, *, status: int = 0, credits: int = 1,
                 flags: int = FLAG_SERVER_TO_REDIR, tree_id: int = 0, session_id: int = 0,
                 async_id: int = 0, credit_charge: int = 0, next_command: int = 0) -> bytes:
    """A 64-byte SMB2 header ([MS-SMB2] 2.2.1.1 async / 2.2.1.2 sync)."""
    if flags & FLAG_ASYNC:
        middle = (async_id & 0xFFFFFFFF, async_id >> 32)
    else:
        middle = (0xFEFF, tree_id)
    return HEADER.pack(b"\xfeSMB", 64, credit_charge, status, command, credits, flags, next_command,
                       message_id, middle[0], middle[1], session_id, b"\0" * 16)


def parse_header(msg: bytes) -> Dict[str, Any]:
    (proto, size, charge, status, command, credits, flags, next_command, mid, a, b, sid,
     sig) = HEADER.unpack_from(msg, 0)
    if proto != b"\xfeSMB" or size != 64:
        raise PeerError("bad SMB2 request header %r" % bytes(msg[:8]))
    return {"credit_charge": charge, "status": status, "command": command, "credits": credits,
            "flags": flags, "next_command": next_command, "message_id": mid, "tree_id": b,
            "session_id": sid, "signature": sig}


def sign_message(msg: bytes, dialect: int, algorithm: int, key: bytes) -> bytes:
    """Set SMB2_FLAGS_SIGNED and the signature ([MS-SMB2] 3.1.4.1)."""
    data = bytearray(msg)
    flags = struct.unpack_from("<I", data, 16)[0] | FLAG_SIGNED
    struct.pack_into("<I", data, 16, flags)
    data[48:64] = b"\0" * 16
    data[48:64] = compute_signature(bytes(data), dialect, algorithm, key)
    return bytes(data)


def compute_signature(msg: bytes, dialect: int, algorithm: int, key: bytes) -> bytes:
    """The signature of ``msg`` (its signature field already zeroed)."""
    if dialect <= D210:
        return crypto.hmac_sha256(key, msg)[:16]
    if algorithm == ALG_AES_GMAC:
        flags = struct.unpack_from("<I", msg, 16)[0]
        command = struct.unpack_from("<H", msg, 12)[0]
        mid = struct.unpack_from("<Q", msg, 24)[0]
        role = (1 if flags & FLAG_SERVER_TO_REDIR else 0) | (2 if command == CANCEL else 0)
        return crypto.aes_gmac(key, struct.pack("<QI", mid, role), msg)
    return crypto.aes_cmac(key, msg)


# -- tiny DER encoder for the SPNEGO answers ([RFC 4178] 4.2.2) --------------------
def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def neg_token_resp(state: Optional[int], token: Optional[bytes] = None, mech: bool = False) -> bytes:
    """NegTokenResp ::= [1] SEQUENCE { negState [0], supportedMech [1], responseToken [2] }."""
    parts = b""
    if state is not None:
        parts += _der(0xA0, _der(0x0A, bytes([state])))
    if mech:
        parts += _der(0xA1, OID_NTLMSSP_DER)
    if token is not None:
        parts += _der(0xA2, _der(0x04, token))
    return _der(0xA1, _der(0x30, parts))


def _ntlm_field(msg: bytes, pos: int) -> bytes:
    length, _max, offset = struct.unpack_from("<HHI", msg, pos)
    if offset + length > len(msg):
        raise PeerError("NTLM AUTHENTICATE field outside the message")
    return msg[offset:offset + length]


def split_frames(buffers: List[Any], netbios: bool) -> List[bytes]:
    """Re-split what ``SMB.data_to_send()`` returned into SMB messages."""
    framer = Framer(netbios=netbios, max_frame=1 << 24)
    framer.feed(b"".join(bytes(b) for b in buffers))
    frames = []
    while True:
        item = framer.next_frame()
        if item is None:
            break
        ptype, payload = item
        if ptype != 0:
            raise PeerError("client sent NetBIOS packet type 0x%02X" % ptype)
        frames.append(payload)
    if framer._buf:
        raise PeerError("client left %d bytes of a partial frame" % len(framer._buf))
    return frames


class _Open:
    __slots__ = ("path", "is_dir", "listed")

    def __init__(self, path: str, is_dir: bool) -> None:
        self.path = path
        self.is_dir = is_dir
        self.listed = False


class FakeSmb2Server:
    """The scripted server.  Every knob is a public attribute a test may set.

    ``dialect``: what to choose among the client's offer (0x0202 makes the
    answer to the SMB1 NEGOTIATE choose 2.0.2 directly).  ``security_mode``:
    the NEGOTIATE SecurityMode.  ``max_read``/``max_write``/``max_transact``:
    the sizes announced.  ``grant_cap``: the most credits one response grants.
    ``overrides[command]``: ``fn(server, request_header, request_bytes)`` returning a
    list of response messages instead of the built-in handler (use
    :meth:`respond` / :meth:`error` / :meth:`finish` to build them).
    ``transform``: ``fn(list_of_messages) -> list_of_messages`` applied at each
    :meth:`flush`.
    """

    def __init__(self, dialect: int = D210, *, username: str = "alice", password: str = "s3cret",
                 domain: str = "", security_mode: int = SIGNING_ENABLED,
                 capabilities: int = CAP_LARGE_MTU, max_read: int = 65536, max_write: int = 65536,
                 max_transact: int = 65536, grant_cap: int = 64, signing_algorithm: int = ALG_AES_CMAC,
                 cipher: int = 0x0002, files: Optional[Dict[str, bytes]] = None,
                 dirs: Optional[Set[str]] = None, logon_status: Optional[int] = None,
                 first_leg_status: Optional[int] = None, session_flags: int = 0) -> None:
        self.dialect = dialect
        self.username = username
        self.password = password
        self.domain = domain
        self.security_mode = security_mode
        self.capabilities = capabilities
        self.max_read = max_read
        self.max_write = max_write
        self.max_transact = max_transact
        self.grant_cap = grant_cap
        self.signing_algorithm = signing_algorithm
        self.cipher = cipher
        self.files: Dict[str, bytearray] = {k.upper(): bytearray(v) for k, v in (files or {}).items()}
        self.names: Dict[str, str] = {k.upper(): k for k in (files or {})}
        self.dirs: Set[str] = {d.upper() for d in (dirs or set())} | {""}
        for d in dirs or set():
            self.names[d.upper()] = d
        self.server_guid = bytes(range(0x10, 0x20))
        self.server_challenge = bytes.fromhex("0123456789abcdef")
        self.session_id = 0x0000400000000011
        self.tree_id = 0x00000005
        #: What the first / second SESSION_SETUP leg answers (None: the real check).
        self.logon_status = logon_status
        self.first_leg_status = first_leg_status
        self.session_flags = session_flags
        self.overrides: Dict[int, Callable[..., List[bytes]]] = {}
        self.transform: Optional[Callable[[List[bytes]], List[bytes]]] = None
        # state
        self.negotiated = 0
        self.preauth = b"\0" * 64
        self.session_preauth = b""
        self.session_key = b""
        self.signing_key = b""
        self.authenticated = False
        self.granted_upto = 1          # message ids below this may be used
        self.used: Set[int] = set()
        self.opens: Dict[bytes, _Open] = {}
        self._next_fid = 1
        self._next_async = 0x77
        self.outbox: List[bytes] = []
        #: Every request handled, as (header dict, message bytes), in arrival order.
        self.requests: List[Tuple[Dict[str, Any], bytes]] = []
        self.client_dialects: Tuple[int, ...] = ()
        self.client_security_mode = 0
        self.client_capabilities = 0
        self.client_guid = b""

    # ------------------------------------------------------------------ plumbing
    def handle(self, frame: bytes) -> None:
        """Take one SMB message from the client; queue the answers."""
        frame = bytes(frame)
        if frame[:4] == b"\xffSMB":
            self._smb1_negotiate(frame)
            return
        if frame[:4] != b"\xfeSMB":
            raise PeerError("client sent protocol id %r" % frame[:4])
        offset = 0
        chain: List[List[bytes]] = []
        chain_fid = b""
        chain_status = STATUS_SUCCESS
        while True:
            hdr = parse_header(frame[offset:])
            end = len(frame) if hdr["next_command"] == 0 else offset + hdr["next_command"]
            msg = raw = frame[offset:end]
            if offset and hdr["flags"] & FLAG_RELATED:
                # [MS-SMB2] 3.3.5.2.7.2: a related request works on the FileId
                # the chain produced, and fails the way the chain failed.
                if chain_status != STATUS_SUCCESS:
                    self.requests.append((hdr, msg))
                    self._check_credits(hdr, msg)
                    chain.append([self.error(hdr, chain_status)])
                    offset = end
                    if hdr["next_command"] == 0:
                        break
                    continue
                pos = _FID_AT.get(hdr["command"])
                if pos is not None and msg[64 + pos:64 + pos + 16] == b"\xff" * 16 and chain_fid:
                    msg = msg[:64 + pos] + chain_fid + msg[64 + pos + 16:]
            before = len(self.outbox)
            self._handle_one(hdr, msg, raw)
            produced = self.outbox[before:]
            del self.outbox[before:]
            chain.append(produced)
            if produced:
                status = struct.unpack_from("<I", produced[-1], 8)[0]
                if hdr["command"] == CREATE and status == STATUS_SUCCESS:
                    chain_fid = produced[-1][64 + 64:64 + 80]
                elif status not in (STATUS_SUCCESS, STATUS_PENDING, STATUS_NO_MORE_FILES) \
                        and hdr["command"] == CREATE:
                    chain_status = status
            if hdr["next_command"] == 0:
                break
            offset = end
        if len(chain) > 1 and all(len(answers) == 1 for answers in chain):
            self.outbox.append(self.compound([answers[0] for answers in chain]))
        else:
            for answers in chain:
                self.outbox.extend(answers)

    def compound(self, messages: List[bytes]) -> bytes:
        """Chain responses with NextCommand and 8-byte padding ([MS-SMB2] 3.3.4.1.3),
        re-signing those that were signed."""
        out = b""
        for index, msg in enumerate(messages):
            data = bytearray(msg)
            if index < len(messages) - 1:
                data += b"\0" * ((-len(data)) % 8)
                struct.pack_into("<I", data, 20, len(data))
            if struct.unpack_from("<I", data, 16)[0] & FLAG_SIGNED:
                data = bytearray(sign_message(bytes(data), self.negotiated, self._algorithm(), self.signing_key))
            out += bytes(data)
        return out

    def flush(self) -> List[bytes]:
        """The queued answers, through ``transform`` if set."""
        out, self.outbox = self.outbox, []
        if self.transform is not None:
            out = self.transform(out)
        return out

    def _check_credits(self, hdr: Dict[str, Any], msg: bytes) -> int:
        mid = hdr["message_id"]
        if hdr["command"] == CANCEL:
            # [MS-SMB2] 3.3.5.16: a CANCEL names a request sent before and takes no credit.
            if mid not in self.used:
                raise PeerError("CANCEL of message %d that was never sent" % mid)
            if hdr["credit_charge"]:
                raise PeerError("CANCEL with CreditCharge %d" % hdr["credit_charge"])
            return 0
        charge = max(1, hdr["credit_charge"]) if self.negotiated >= D210 else 1
        if self.negotiated >= D210 and self.capabilities & CAP_LARGE_MTU:
            need = (max(1, self._payload_size(hdr["command"], msg)) - 1) // _CREDIT_UNIT + 1
            if hdr["credit_charge"] < need:
                raise PeerError("message %d: CreditCharge %d < %d needed" % (mid, hdr["credit_charge"], need))
        for m in range(mid, mid + charge):
            if m >= self.granted_upto:
                raise PeerError("message id %d used but only ids < %d were granted" % (m, self.granted_upto))
            if m in self.used:
                raise PeerError("message id %d used twice" % m)
            self.used.add(m)
        return charge

    @staticmethod
    def _payload_size(command: int, msg: bytes) -> int:
        # [MS-SMB2] 3.3.5.2.5: the larger of what is sent and what may come back.
        if command == READ:
            return struct.unpack_from("<I", msg, 64 + 4)[0]
        if command == WRITE:
            return struct.unpack_from("<I", msg, 64 + 4)[0]
        if command == QUERY_DIRECTORY:
            return struct.unpack_from("<I", msg, 64 + 28)[0]
        if command == IOCTL:
            in_count = struct.unpack_from("<I", msg, 64 + 28)[0]
            max_out = struct.unpack_from("<I", msg, 64 + 44)[0]
            return max(in_count, max_out)
        return 0

    def grant(self, hdr: Dict[str, Any]) -> int:
        """Credits the response to ``hdr`` grants (and the server's bookkeeping)."""
        granted = max(0, min(hdr["credits"], self.grant_cap))
        self.granted_upto += granted
        return granted

    def respond(self, hdr: Dict[str, Any], body: bytes, status: int = STATUS_SUCCESS, *,
                credits: Optional[int] = None, flags: int = 0, async_id: int = 0,
                sign: Optional[bool] = None) -> bytes:
        """Build (and sign when due) the response to the request ``hdr``."""
        if credits is None:
            credits = self.grant(hdr)
        else:
            self.granted_upto += credits
        session_id = hdr["session_id"] if hdr["command"] != SESSION_SETUP else self.session_id
        if hdr["command"] == NEGOTIATE:
            session_id = 0
        msg = build_header(hdr["command"], hdr["message_id"], status=status, credits=credits,
                           flags=FLAG_SERVER_TO_REDIR | flags, tree_id=hdr["tree_id"],
                           session_id=session_id, async_id=async_id,
                           credit_charge=hdr["credit_charge"]) + body
        if sign is None:
            sign = bool(hdr["flags"] & FLAG_SIGNED) and status != STATUS_PENDING
        if sign:
            msg = sign_message(msg, self.negotiated, self._algorithm(), self.signing_key)
        return msg

    def error(self, hdr: Dict[str, Any], status: int, **kw: Any) -> bytes:
        """An ERROR response ([MS-SMB2] 2.2.2)."""
        return self.respond(hdr, struct.pack("<HBBI", 9, 0, 0, 0) + b"\0", status, **kw)

    def interim(self, hdr: Dict[str, Any]) -> Tuple[bytes, int]:
        """A STATUS_PENDING interim response; returns it and its AsyncId."""
        async_id = self._next_async
        self._next_async += 1
        msg = self.error(hdr, STATUS_PENDING, flags=FLAG_ASYNC, async_id=async_id, sign=False)
        return msg, async_id

    def _algorithm(self) -> int:
        if self.negotiated == D311:
            return self.signing_algorithm
        return ALG_AES_CMAC if self.negotiated >= D300 else ALG_HMAC_SHA256

    def _handle_one(self, hdr: Dict[str, Any], msg: bytes, raw: Optional[bytes] = None) -> None:
        self.requests.append((hdr, msg))
        if hdr["flags"] & FLAG_SERVER_TO_REDIR:
            raise PeerError("request with SERVER_TO_REDIR set")
        self._check_credits(hdr, msg)
        if hdr["flags"] & FLAG_SIGNED:
            # The signature covers the bytes as sent, before the chain's FileId
            # is substituted into a related request.
            self._verify_request(raw if raw is not None else msg)
        elif (self.authenticated and self.security_mode & SIGNING_REQUIRED
              and hdr["command"] not in (NEGOTIATE, SESSION_SETUP)):
            raise PeerError("unsigned %d request on a signing-required session" % hdr["command"])
        override = self.overrides.get(hdr["command"])
        if override is not None:
            self.outbox.extend(override(self, hdr, msg))
            return
        handler = _HANDLERS.get(hdr["command"])
        if handler is None:
            self.outbox.append(self.error(hdr, STATUS_NOT_SUPPORTED))
            return
        self.outbox.extend(handler(self, hdr, msg))

    def _verify_request(self, msg: bytes) -> None:
        if not self.signing_key:
            raise PeerError("signed request before the session has a key")
        data = bytearray(msg)
        got = bytes(data[48:64])
        data[48:64] = b"\0" * 16
        want = compute_signature(bytes(data), self.negotiated, self._algorithm(), self.signing_key)
        if got != want:
            raise PeerError("bad signature on client request")

    # ------------------------------------------------------------------ NEGOTIATE
    def _smb1_negotiate(self, frame: bytes) -> None:
        # [MS-SMB2] 3.3.5.3.1: answer an SMB1 NEGOTIATE offering "SMB 2.???" with
        # an SMB2 NEGOTIATE response, dialect 0x02FF (or 0x0202), message id 0.
        if frame[4] != 0x72:
            raise PeerError("SMB1 command 0x%02X is not NEGOTIATE" % frame[4])
        if b"SMB 2.???" not in frame or b"SMB 2.002" not in frame:
            raise PeerError("SMB1 NEGOTIATE does not offer SMB2")
        if 0 in self.used:
            raise PeerError("second SMB1 NEGOTIATE")
        self.used.add(0)
        chosen = D202 if self.dialect == D202 else WILDCARD
        if chosen == D202:
            self.negotiated = D202
        self.granted_upto = 1 + 1
        body = self._negotiate_body(chosen)
        self.outbox.append(build_header(NEGOTIATE, 0, credits=1) + body)

    def _negotiate_body(self, dialect: int, contexts: bytes = b"", count: int = 0) -> bytes:
        fixed = struct.Struct("<HHHH16sIIIIQQHHI")
        blob = b""
        sb_off = 64 + fixed.size
        ctx_off = 0
        tail = blob
        if count:
            ctx_off = (sb_off + len(blob) + 7) & ~7
            tail = blob + b"\0" * (ctx_off - sb_off - len(blob)) + contexts
        body = fixed.pack(65, self.security_mode, dialect, count, self.server_guid, self.capabilities,
                          self.max_transact, self.max_read, self.max_write, 132000000000000000,
                          0, sb_off if blob else 0, len(blob), ctx_off)
        return body + (tail or b"\0")

    def _negotiate(self, hdr: Dict[str, Any], msg: bytes) -> List[bytes]:
        (size, count, mode, _, caps, guid, ctx_off, ctx_count, _) = struct.unpack_from(
            "<HHHHI16sIHH", msg, 64)
        if size != 36:
            raise PeerError("NEGOTIATE StructureSize %d" % size)
        dialects = struct.unpack_from("<%dH" % count, msg, 100)
        self.client_dialects = dialects
        self.client_security_mode = mode
        self.client_capabilities = caps
        self.client_guid = guid
        if self.dialect not in dialects:
            raise PeerError("client did not offer 0x%04X (offered %r)" % (self.dialect, dialects))
        self.negotiated = self.dialect
        contexts = b""
        n = 0
        if self.dialect == D311:
            offered = self._client_contexts(msg, ctx_off, ctx_count)
            if 1 not in offered:
                raise PeerError("3.1.1 NEGOTIATE without preauth integrity context")
            ctxs = [(1, struct.pack("<HHH", 1, 32, 1) + bytes(range(32)))]
            ctxs.append((2, struct.pack("<HH", 1, self.cipher)))
            if 8 in offered:
                ctxs.append((8, struct.pack("<HH", 1, self.signing_algorithm)))
            for i, (ctype, data) in enumerate(ctxs):
                if i:
                    contexts += b"\0" * ((-len(contexts)) % 8)
                contexts += struct.pack("<HHI", ctype, len(data), 0) + data
            n = len(ctxs)
        resp = self.respond(hdr, self._negotiate_body(self.dialect, contexts, n))
        if self.dialect == D311:
            self.preauth = crypto.sha512(crypto.sha512(b"\0" * 64 + msg) + resp)
        return [resp]

    @staticmethod
    def _client_contexts(msg: bytes, offset: int, count: int) -> Dict[int, bytes]:
        out = {}
        pos = offset
        for i in range(count):
            if i:
                pos = (pos + 7) & ~7
            ctype, length, _ = struct.unpack_from("<HHI", msg, pos)
            out[ctype] = msg[pos + 8:pos + 8 + length]
            pos += 8 + length
        return out

    # ------------------------------------------------------------------ SESSION_SETUP
    def _session_setup(self, hdr: Dict[str, Any], msg: bytes) -> List[bytes]:
        size, flags, mode, caps, channel, sb_off, sb_len, prev = struct.unpack_from("<HBBIIHHQ", msg, 64)
        blob = msg[sb_off:sb_off + sb_len]
        pos = blob.find(NTLMSSP)
        if pos < 0:
            raise PeerError("SESSION_SETUP without an NTLMSSP token")
        ntlm = blob[pos:]
        msg_type = struct.unpack_from("<I", ntlm, 8)[0]
        if self.negotiated == D311:
            # [MS-SMB2] 3.3.5.5: the session's preauth hash starts from the
            # connection's and takes every SESSION_SETUP request and every
            # response except the final one.
            previous = self.preauth if msg_type == 1 else self.session_preauth
            self.session_preauth = crypto.sha512(previous + msg)
        if msg_type == 1:
            if self.first_leg_status is not None:
                return [self.error(hdr, self.first_leg_status)]
            token = neg_token_resp(1, self._challenge_message(), mech=True)
            resp = self.respond(hdr, self._session_body(0, token), STATUS_MORE_PROCESSING_REQUIRED)
            if self.negotiated == D311:
                self.session_preauth = crypto.sha512(self.session_preauth + resp)
            return [resp]
        if msg_type != 3:
            raise PeerError("unexpected NTLM message type %d" % msg_type)
        status = self._check_authenticate(ntlm)
        if self.logon_status is not None:
            status = self.logon_status
        if status != STATUS_SUCCESS:
            return [self.error(hdr, status)]
        self._derive_keys()
        self.authenticated = True
        token = neg_token_resp(0)
        sign = self.negotiated >= D300 or bool(self.security_mode & SIGNING_REQUIRED)
        return [self.respond(hdr, self._session_body(self.session_flags, token), sign=sign)]

    @staticmethod
    def _session_body(flags: int, token: bytes) -> bytes:
        return struct.pack("<HHHH", 9, flags, 64 + 8, len(token)) + token

    def _challenge_message(self) -> bytes:
        """CHALLENGE_MESSAGE ([MS-NLMP] 2.2.1.2) with TargetInfo and a timestamp."""
        def av(av_id: int, value: bytes) -> bytes:
            return struct.pack("<HH", av_id, len(value)) + value
        name = "FAKESRV".encode("utf-16-le")
        info = (av(2, "WORKGROUP".encode("utf-16-le")) + av(1, name)
                + av(7, struct.pack("<Q", 132000000000000000)) + av(0, b""))
        # UNICODE | REQUEST_TARGET | SIGN | NTLM | ALWAYS_SIGN | TARGET_TYPE_SERVER | ESS
        # | TARGET_INFO | VERSION | 128 | KEY_EXCH | 56
        return self._pack_challenge(0xE2898215, name, info)

    def _pack_challenge(self, flags: int, name: bytes, info: bytes) -> bytes:
        fixed = 56
        return (NTLMSSP + struct.pack("<I", 2) + struct.pack("<HHI", len(name), len(name), fixed)
                + struct.pack("<I", flags) + self.server_challenge + b"\0" * 8
                + struct.pack("<HHI", len(info), len(info), fixed + len(name))
                + bytes([10, 0]) + struct.pack("<H", 17763) + b"\0\0\0\x0f" + name + info)

    def _check_authenticate(self, auth: bytes) -> int:
        """Verify the NTLMv2 proof; recover the exported session key."""
        nt = _ntlm_field(auth, 20)
        domain = _ntlm_field(auth, 28).decode("utf-16-le")
        user = _ntlm_field(auth, 36).decode("utf-16-le")
        enc_key = _ntlm_field(auth, 52)
        flags = struct.unpack_from("<I", auth, 60)[0]
        if user.upper() != self.username.upper() or len(nt) < 24:
            return STATUS_LOGON_FAILURE
        response_key = crypto.hmac_md5(crypto.md4(self.password.encode("utf-16-le")),
                                       (user.upper() + domain).encode("utf-16-le"))
        proof = crypto.hmac_md5(response_key, self.server_challenge + nt[16:])
        if proof != nt[:16]:
            return STATUS_LOGON_FAILURE
        base_key = crypto.hmac_md5(response_key, proof)
        if flags & NTLM_KEY_EXCH:
            if len(enc_key) != 16:
                raise PeerError("KEY_EXCH without a 16-byte EncryptedRandomSessionKey")
            self.session_key = crypto.rc4(base_key, enc_key)
        else:
            self.session_key = base_key
        return STATUS_SUCCESS

    def _derive_keys(self) -> None:
        # [MS-SMB2] 3.3.5.5.3
        if self.negotiated <= D210:
            self.signing_key = self.session_key
        elif self.negotiated < D311:
            self.signing_key = crypto.smb3_kdf(self.session_key, b"SMB2AESCMAC\0", b"SmbSign\0")
        else:
            self.signing_key = crypto.smb3_kdf(self.session_key, b"SMBSigningKey\0", self.session_preauth)

    # ------------------------------------------------------------------ trees, files
    def _tree_connect(self, hdr: Dict[str, Any], msg: bytes) -> List[bytes]:
        _, _, off, length = struct.unpack_from("<HHHH", msg, 64)
        path = msg[off:off + length].decode("utf-16-le")
        if not path.startswith("\\\\") or path.count("\\") != 3:
            return [self.error(hdr, 0xC00000CC)]
        hdr = dict(hdr, tree_id=self.tree_id)
        return [self.respond(hdr, struct.pack("<HBBIII", 16, 1, 0, 0, 0, 0x001F01FF))]

    def _simple(self, hdr: Dict[str, Any], msg: bytes) -> List[bytes]:
        return [self.respond(hdr, struct.pack("<HH", 4, 0))]

    def _ioctl(self, hdr: Dict[str, Any], msg: bytes) -> List[bytes]:
        (_, _, code, fid, in_off, in_count) = struct.unpack_from("<HHI16sII", msg, 64)
        if code != FSCTL_VALIDATE_NEGOTIATE_INFO:
            return [self.error(hdr, STATUS_NOT_SUPPORTED)]
        caps, guid, mode, n = struct.unpack_from("<I16sHH", msg, in_off)
        dialects = struct.unpack_from("<%dH" % n, msg, in_off + 24)
        if (caps, guid, mode, dialects) != (self.client_capabilities, self.client_guid,
                                           self.client_security_mode, self.client_dialects):
            raise PeerError("VALIDATE_NEGOTIATE_INFO differs from the NEGOTIATE request")
        out = struct.pack("<I16sHH", self.capabilities, self.server_guid, self.security_mode, self.negotiated)
        body = struct.pack("<HHI16sIIIIII", 49, 0, code, fid, 64 + 48, 0, 64 + 48, len(out), 0, 0) + out
        return [self.respond(hdr, body)]

    def _create(self, hdr: Dict[str, Any], msg: bytes) -> List[bytes]:
        fields = struct.unpack_from("<HBBIQQIIIIIHHII", msg, 64)
        disposition, options, name_off, name_len = fields[9], fields[10], fields[11], fields[12]
        name = msg[name_off:name_off + name_len].decode("utf-16-le")
        key = name.upper()
        is_dir = key in self.dirs
        exists = is_dir or key in self.files
        action = 1  # FILE_OPENED
        if disposition == 1 and not exists:            # FILE_OPEN
            return [self.error(hdr, STATUS_OBJECT_NAME_NOT_FOUND)]
        if disposition == 2 and exists:                # FILE_CREATE
            return [self.error(hdr, STATUS_OBJECT_NAME_COLLISION)]
        if options & 0x01 and not is_dir and exists:   # FILE_DIRECTORY_FILE on a file
            return [self.error(hdr, 0xC0000103)]
        if options & 0x40 and is_dir:                  # FILE_NON_DIRECTORY_FILE on a folder
            return [self.error(hdr, 0xC00000BA)]
        if not exists:
            action = 2  # FILE_CREATED
            if options & 0x01:
                self.dirs.add(key)
                is_dir = True
            else:
                self.files[key] = bytearray()
            self.names[key] = name
        elif disposition in (4, 5) and not is_dir:     # FILE_OVERWRITE(_IF)
            self.files[key] = bytearray()
            action = 3
        fid = struct.pack("<QQ", self._next_fid, 0xF1D)
        self._next_fid += 1
        self.opens[fid] = _Open(key, is_dir)
        size = 0 if is_dir else len(self.files[key])
        attrs = ATTR_DIRECTORY if is_dir else ATTR_ARCHIVE
        t = 132000000000000000
        body = struct.pack("<HBBIQQQQQQII16sII", 89, 0, 0, action, t, t, t, t, size, size, attrs, 0,
                           fid, 0, 0)
        return [self.respond(hdr, body)]

    def _close(self, hdr: Dict[str, Any], msg: bytes) -> List[bytes]:
        _, flags, _, fid = struct.unpack_from("<HHI16s", msg, 64)
        if self.opens.pop(fid, None) is None:
            return [self.error(hdr, STATUS_FILE_CLOSED)]
        return [self.respond(hdr, struct.pack("<HHIQQQQQQI", 60, 0, 0, 0, 0, 0, 0, 0, 0, 0))]

    def read_body(self, data: bytes, remaining: int = 0) -> bytes:
        """A READ response body with ``data`` at offset 0x50 ([MS-SMB2] 2.2.20)."""
        return struct.pack("<HBBIII", 17, 0x50, 0, len(data), remaining, 0) + data

    def _read(self, hdr: Dict[str, Any], msg: bytes) -> List[bytes]:
        _, _, _, length, offset, fid = struct.unpack_from("<HBBIQ16s", msg, 64)
        handle = self.opens.get(fid)
        if handle is None:
            return [self.error(hdr, STATUS_FILE_CLOSED)]
        if length > self.max_read:
            return [self.error(hdr, STATUS_INVALID_PARAMETER)]
        content = self.files[handle.path]
        if offset >= len(content):
            return [self.error(hdr, STATUS_END_OF_FILE)]
        return [self.respond(hdr, self.read_body(bytes(content[offset:offset + length])))]

    def _write(self, hdr: Dict[str, Any], msg: bytes) -> List[bytes]:
        _, data_off, length, offset, fid = struct.unpack_from("<HHIQ16s", msg, 64)
        handle = self.opens.get(fid)
        if handle is None:
            return [self.error(hdr, STATUS_FILE_CLOSED)]
        if length > self.max_write or data_off + length > len(msg):
            return [self.error(hdr, STATUS_INVALID_PARAMETER)]
        content = self.files[handle.path]
        if len(content) < offset:
            content.extend(b"\0" * (offset - len(content)))
        content[offset:offset + length] = msg[data_off:data_off + length]
        return [self.respond(hdr, struct.pack("<HHIIHH", 17, 0, length, 0, 0, 0))]

    def directory_entries(self, folder: str) -> List[Tuple[str, bool, int]]:
        prefix = folder + "\\" if folder else ""
        out = [(".", True, 0), ("..", True, 0)]
        for key in sorted(set(self.files) | self.dirs):
            if key and key.startswith(prefix) and "\\" not in key[len(prefix):]:
                name = self.names[key].rsplit("\\", 1)[-1]
                is_dir = key in self.dirs
                out.append((name, is_dir, 0 if is_dir else len(self.files[key])))
        return out

    def _query_directory(self, hdr: Dict[str, Any], msg: bytes) -> List[bytes]:
        _, info_class, flags, _, fid, name_off, name_len, out_len = struct.unpack_from("<HBBI16sHHI", msg, 64)
        handle = self.opens.get(fid)
        if handle is None or not handle.is_dir:
            return [self.error(hdr, STATUS_INVALID_PARAMETER)]
        if info_class != 37:  # FileIdBothDirectoryInformation
            return [self.error(hdr, 0xC0000003)]
        if flags & 0x01:      # RESTART_SCANS
            handle.listed = False
        if handle.listed:
            return [self.error(hdr, STATUS_NO_MORE_FILES)]
        handle.listed = True
        entries = []
        fixed = struct.Struct("<IIQQQQQQIIIBB24sHQ")  # [MS-FSCC] 2.4.17
        for index, (name, is_dir, size) in enumerate(self.directory_entries(handle.path)):
            raw = name.encode("utf-16-le")
            attrs = ATTR_DIRECTORY if is_dir else ATTR_ARCHIVE
            t = 132000000000000000 + index
            entry = fixed.pack(0, 0, t, t, t, t, size, (size + 4095) & ~4095, attrs, len(raw), 0, 0, 0,
                               b"\0" * 24, 0, 1000 + index) + raw
            entries.append(entry + b"\0" * ((-len(entry)) % 8))
        buf = b""
        for i, entry in enumerate(entries):
            if i < len(entries) - 1:
                entry = struct.pack("<I", len(entry)) + entry[4:]
            buf += entry
        if len(buf) > out_len:
            return [self.error(hdr, 0xC0000023)]
        return [self.respond(hdr, struct.pack("<HHI", 9, 64 + 8, len(buf)) + buf)]


_HANDLERS: Dict[int, Callable[[FakeSmb2Server, Dict[str, Any], bytes], List[bytes]]] = {
    NEGOTIATE: FakeSmb2Server._negotiate,
    SESSION_SETUP: FakeSmb2Server._session_setup,
    LOGOFF: FakeSmb2Server._simple,
    TREE_CONNECT: FakeSmb2Server._tree_connect,
    TREE_DISCONNECT: FakeSmb2Server._simple,
    CREATE: FakeSmb2Server._create,
    CLOSE: FakeSmb2Server._close,
    READ: FakeSmb2Server._read,
    WRITE: FakeSmb2Server._write,
    IOCTL: FakeSmb2Server._ioctl,
    ECHO: FakeSmb2Server._simple,
    QUERY_DIRECTORY: FakeSmb2Server._query_directory,
}


# -- the driver ---------------------------------------------------------------------
def pump(core: Any, peer: FakeSmb2Server, op: Any, scribble: bool = True, max_rounds: int = 10000) -> None:
    """Exchange messages until ``op`` is done, like ``SMBConnection._run``.

    Each response is handed to the core as a view of one reused buffer that
    is overwritten right after ``receive_frame`` returns, which catches a
    core that keeps a reference instead of a copy.
    """
    buf = bytearray(1 << 20)
    for _ in range(max_rounds):
        out = core.data_to_send()
        for frame in split_frames(out, netbios=not core.is_direct_tcp):
            peer.handle(frame)
        if op.done:
            return
        answers = peer.flush()
        if not answers and not out:
            raise Stuck("operation %r waits but the peer has nothing to send" % (op.name,))
        for answer in answers:
            feed(core, answer, buf if scribble else None)
    raise Stuck("no progress after %d rounds" % max_rounds)


def feed(core: Any, message: bytes, buf: Optional[bytearray] = None) -> None:
    """Hand one message to ``core.receive_frame`` (through a scribbled buffer)."""
    if buf is None or len(message) > len(buf):
        core.receive_frame(memoryview(bytes(message)))
        return
    n = len(message)
    buf[:n] = message
    view = memoryview(buf)[:n]
    try:
        core.receive_frame(view)
    finally:
        view.release()
        buf[:n] = b"\xee" * n


def run(core: Any, peer: FakeSmb2Server, gen: Any, name: str = "", scribble: bool = True) -> Any:
    """Start ``gen`` on ``core``, pump until done, return its outcome (or raise)."""
    op = core.start(gen, name)
    pump(core, peer, op, scribble)
    return op.outcome()
