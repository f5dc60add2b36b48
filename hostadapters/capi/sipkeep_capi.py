"""ctypes binding of libsipkeep.so (sipkeep.h), shared by the Kamailio and
OpenSIPS adapters.

libsipkeep.so starts a Go runtime when it is loaded, and a Go runtime does not
survive fork(). Load it only through Host.for_process(), which loads lazily in
the calling process and again in every child after a fork: never at import
time, in mod_init or in child_init of a pre-forking server.

Only the standard library is used.
"""

import ctypes
import os
import struct

# Event fields (sipkeep.h).
KIND_TIMER, KIND_REQUEST, KIND_RESPONSE, KIND_STUN, KIND_PING, KIND_PONG = 0, 1, 2, 3, 4, 5
DIR_IN, DIR_OUT = 1, 2
UDP, TCP, TLS, SCTP, WS, WSS = 1, 2, 3, 4, 5, 6
ROLE_UA, ROLE_PROXY = 1, 2
F_IN_ROUTE_SET, F_LOCAL_REPLY, F_DROP_TOP_VIA, F_NO_MESSAGE = 0x1, 0x2, 0x100, 0x200

TRANSPORTS = {"udp": UDP, "tcp": TCP, "tls": TLS, "sctp": SCTP, "ws": WS, "wss": WSS}

# Result flags.
R_RECORD_CHANGED, R_RECORD_DELETED, R_MESSAGE_CHANGED, R_FAILED_OPEN, R_ENTERED = 1, 2, 4, 8, 16

# Edit ops and action kinds.
EDIT_SET_KEEP, EDIT_ADD_KEEP, EDIT_STRIP_VALUE = 1, 2, 3
(ACT_SEND_STUN, ACT_SEND_PING, ACT_FLOW_FAILED, ACT_FLOW_DEAD, ACT_KEEPALIVE_STARTED,
 ACT_KEEPALIVE_STOPPED, ACT_KEEPALIVE_ANSWERED, ACT_RECEIVE_STARTED) = range(1, 9)
ACTION_NAMES = {1: "send-stun", 2: "send-ping", 3: "flow-failed", 4: "flow-dead",
                5: "keepalive-started", 6: "keepalive-stopped", 7: "keepalive-answered",
                8: "receive-started"}

RESULT_MAX = 40 + 64 * 8 + 32 * 24 + 65536 + 2048 + 256
MAX_MESSAGE = 65536

_HEADER = struct.Struct("<HHHHIIqQII")
_EDIT = struct.Struct("<BBHI")
_ACTION = struct.Struct("<BBHHHI12s")

STUN_MAGIC = b"\x21\x12\xa4\x42"


class Error(Exception):
    """A library call failed (the caller fails open)."""


class Action:
    __slots__ = ("kind", "reason", "attempt", "value", "txid")

    def __init__(self, kind, reason, attempt, value, txid):
        self.kind, self.reason, self.attempt, self.value, self.txid = kind, reason, attempt, value, txid

    def __repr__(self):
        return "Action(%s reason=%d attempt=%d value=%d txid=%s)" % (
            ACTION_NAMES.get(self.kind, self.kind), self.reason, self.attempt, self.value, self.txid.hex())


class Result:
    """One call's outcome. edits: [(op, via, value)]; actions: [Action]."""
    __slots__ = ("flags", "reason", "edits", "actions", "message", "record", "deadline_ms",
                 "generation", "error")

    @property
    def record_changed(self):
        return self.flags & R_RECORD_CHANGED != 0

    @property
    def record_deleted(self):
        return self.flags & R_RECORD_DELETED != 0

    @property
    def failed_open(self):
        return self.flags & R_FAILED_OPEN != 0


def _bind(lib):
    c = ctypes
    lib.sipkeep_open.argtypes = [c.c_char_p, c.c_char_p, c.c_char_p, c.c_char_p, c.c_int32]
    lib.sipkeep_open.restype = c.c_int64
    lib.sipkeep_swap.argtypes = [c.c_int64, c.c_char_p, c.c_char_p, c.c_int32]
    lib.sipkeep_swap.restype = c.c_int32
    lib.sipkeep_configure.argtypes = [c.c_int64, c.c_char_p, c.c_char_p, c.c_int32]
    lib.sipkeep_configure.restype = c.c_int32
    lib.sipkeep_generation.argtypes = [c.c_int64]
    lib.sipkeep_generation.restype = c.c_uint64
    lib.sipkeep_close.argtypes = [c.c_int64]
    lib.sipkeep_close.restype = None
    lib.sipkeep_call.argtypes = [c.c_int64, c.c_uint8, c.c_uint8, c.c_uint8, c.c_uint8, c.c_uint16,
                                 c.c_int64, c.c_char_p, c.c_char_p, c.c_char_p, c.c_uint32,
                                 c.c_char_p, c.c_uint32, c.c_void_p, c.c_uint32]
    lib.sipkeep_call.restype = c.c_int32
    lib.sipkeep_stun_request.argtypes = [c.c_char_p, c.c_void_p, c.c_uint32]
    lib.sipkeep_stun_request.restype = c.c_int32
    lib.sipkeep_stun_parse.argtypes = [c.c_char_p, c.c_uint32, c.c_void_p, c.c_char_p, c.c_int32]
    lib.sipkeep_stun_parse.restype = c.c_int32
    lib.sipkeep_stun_response.argtypes = [c.c_char_p, c.c_uint32, c.c_char_p, c.c_void_p, c.c_uint32]
    lib.sipkeep_stun_response.restype = c.c_int32
    return lib


def _b(s):
    return s if isinstance(s, bytes) else (s or "").encode()


class Host:
    """One sipkeep host in this process (a handle of libsipkeep.so)."""

    _per_pid = {}  # (pid, key) -> Host

    def __init__(self, lib_path, module_path, policy="", options=""):
        self.pid = os.getpid()
        self.lib = _bind(ctypes.CDLL(lib_path))
        err = ctypes.create_string_buffer(512)
        self.handle = self.lib.sipkeep_open(_b(module_path), _b(policy), _b(options), err, len(err))
        if self.handle <= 0:
            raise Error("sipkeep_open %s: %s" % (module_path, err.value.decode(errors="replace")))
        self.module_path = module_path
        self._out = ctypes.create_string_buffer(RESULT_MAX)
        self._outp = ctypes.addressof(self._out)
        self._mv = memoryview(self._out).cast("B")
        self._stun = ctypes.create_string_buffer(64)

    @classmethod
    def for_process(cls, lib_path, module_path, policy="", options=""):
        """The Host of the calling process, loaded on first use in that process.

        The library must not have been loaded before the process forked: a
        child re-opening it gets the parent's copy, whose Go runtime threads
        did not survive the fork (calls would hang)."""
        key = (os.getpid(), lib_path)
        h = cls._per_pid.get(key)
        if h is None:
            h = cls(lib_path, module_path, policy, options)
            # Hosts inherited from a parent process are unusable (their runtime is gone): drop them.
            live = {k: v for k, v in cls._per_pid.items() if k[0] == key[0]}
            live[key] = h
            cls._per_pid = live
        return h

    def swap(self, module_path):
        err = ctypes.create_string_buffer(512)
        rc = self.lib.sipkeep_swap(self.handle, _b(module_path), err, len(err))
        if rc != 0:
            raise Error("swap to %s refused: %s" % (module_path, err.value.decode(errors="replace")))
        self.module_path = module_path

    def configure(self, policy):
        """Replace the policy; a refused one raises Error and the old one stays."""
        err = ctypes.create_string_buffer(512)
        if self.lib.sipkeep_configure(self.handle, _b(policy), err, len(err)) != 0:
            raise Error("policy refused: %s" % err.value.decode(errors="replace"))

    @property
    def generation(self):
        return self.lib.sipkeep_generation(self.handle)

    def close(self):
        if self.handle > 0:
            self.lib.sipkeep_close(self.handle)
            self.handle = 0

    def call(self, kind, direction, transport, role, flags, local, remote, record=b"", message=b"",
             now_ms=0):
        """Run the plugin for one event. Raises Error when the library refuses the arguments."""
        n = self.lib.sipkeep_call(self.handle, kind, direction, transport, role, flags, now_ms,
                                  local.encode(), remote.encode(), record, len(record),
                                  message, len(message), self._outp, RESULT_MAX)
        if n < 0:
            raise Error("sipkeep_call: error %d" % n)
        return self._decode()

    def _decode(self):
        mv = self._mv
        (flags, reason, ne, na, mlen, rlen, deadline, gen, elen, _) = _HEADER.unpack_from(mv, 0)
        r = Result()
        r.flags, r.reason, r.deadline_ms, r.generation = flags, reason, deadline, gen
        off = 40
        edits = []
        for _ in range(ne):
            op, via, _r, value = _EDIT.unpack_from(mv, off)
            edits.append((op, via, value))
            off += 8
        actions = []
        for _ in range(na):
            kind, _r0, areason, attempt, _r1, value, txid = _ACTION.unpack_from(mv, off)
            actions.append(Action(kind, areason, attempt, value, txid))
            off += 24
        r.edits, r.actions = edits, actions
        r.message = mv[off:off + mlen].tobytes()
        off += mlen
        r.record = mv[off:off + rlen].tobytes()
        off += rlen
        r.error = mv[off:off + elen].tobytes().decode(errors="replace") if elen else ""
        return r

    def stun_request(self, txid):
        n = self.lib.sipkeep_stun_request(txid, self._stun, len(self._stun))
        if n < 0:
            raise Error("sipkeep_stun_request: error %d" % n)
        return self._stun.raw[:n]

    def stun_parse(self, data):
        """(class, txid, mapped): class 0 = not STUN, 1 request, 2 indication, 3 success, 4 error."""
        txid = ctypes.create_string_buffer(12)
        mapped = ctypes.create_string_buffer(64)
        cls = self.lib.sipkeep_stun_parse(data, len(data), txid, mapped, len(mapped))
        return cls, txid.raw, mapped.value.decode()

    def stun_response(self, request, mapped):
        out = ctypes.create_string_buffer(128)
        n = self.lib.sipkeep_stun_response(request, len(request), mapped.encode(), out, len(out))
        if n < 0:
            raise Error("sipkeep_stun_response: error %d" % n)
        return out.raw[:n]


def is_stun(data):
    """A STUN message: first two bits zero, the magic cookie, 20+ bytes (RFC 5389 §6)."""
    return len(data) >= 20 and data[0] < 0x40 and data[4:8] == STUN_MAGIC


def hostport(ip, port):
    """ "ip:port", bracketing IPv6."""
    ip = str(ip)
    if ":" in ip and not ip.startswith("["):
        ip = "[" + ip + "]"
    return "%s:%s" % (ip, port)
