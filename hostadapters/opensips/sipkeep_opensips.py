"""sipkeep for OpenSIPS 3.x (python module): RFC 6223 keep=N on replies that
OpenSIPS forwards (receiver role), through libsipkeep.so.

    loadmodule "python.so"
    modparam("python", "script_name", "/usr/local/lib/sipkeep/sipkeep_opensips.py")
    route { ... python_exec("sipkeep_request"); record_route(); t_on_reply("SK"); t_relay(); }
    onreply_route[SK] { python_exec("sipkeep_reply", "rr"); }   # "rr" when this dialog is record-routed

Settings come from the environment of the OpenSIPS process (SIPKEEP_LIB,
SIPKEEP_MODULE, SIPKEEP_POLICY, SIPKEEP_OPTIONS) or from Adapter(...).

What this covers: keep=N on the Via that becomes topmost when a reply is
forwarded, keep values below it removed (R17), only for record-routed dialogs
(R12). What it cannot do from a script (a C module would): put ;keep on
OpenSIPS's own Via (sender role), set keep=N on local replies (a local reply
copies the request's Vias from the raw buffer and there is no
msg_apply_changes), send keep-alives from OpenSIPS's socket. See README.md.

The library is loaded lazily, per process, after the fork (the Go runtime does
not survive fork()); every error fails open.
"""

import os
import re
import sys

import OpenSIPS  # provided by the python module

try:
    import sipkeep_capi as capi
except ImportError:  # source tree: the binding lives in hostadapters/capi
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "capi"))
    import sipkeep_capi as capi

_KEEP = re.compile(rb"keep", re.I)
_VIA = re.compile(rb"^(?:via|v)[ \t]*:", re.I | re.M)
_TRANSPORT = {"UDP": capi.UDP, "TCP": capi.TCP, "TLS": capi.TLS, "SCTP": capi.SCTP,
              "WS": capi.WS, "WSS": capi.WSS}


def _log(text):
    try:
        OpenSIPS.LM_ERR("sipkeep: %s\n" % text)
    except Exception:
        pass


class Adapter:
    def __init__(self, lib=None, module=None, policy=None, options=None):
        env = os.environ.get
        here = os.path.dirname(os.path.abspath(__file__))
        self.lib = lib or env("SIPKEEP_LIB") or os.path.join(here, "libsipkeep.so")
        self.module = module or env("SIPKEEP_MODULE") or os.path.join(here, "sipkeep.wasm")
        # OpenSIPS answers keep-alives itself (stun module, CRLF): the plugin never sees them.
        self.policy = policy if policy is not None else env("SIPKEEP_POLICY", "")
        if "dead_flow" not in self.policy:
            self.policy = "dead_flow_disabled=true;" + self.policy
        self.options = options if options is not None else env("SIPKEEP_OPTIONS", "")
        self.records = {}  # receiver records, per process: OpenSIPS has no shared store from Python
        self._host, self._pid, self._broken_pid = None, None, None

    def _get(self):
        pid = os.getpid()
        if self._host is not None and self._pid == pid:
            return self._host
        if self._broken_pid == pid:
            return None
        try:
            self._host = capi.Host.for_process(self.lib, self.module, self.policy, self.options)
            self._pid = pid
            self.records = {}
        except Exception as e:
            self._broken_pid = pid
            _log("cannot load %s in pid %d: %s" % (self.module, pid, e))
            return None
        return self._host

    # python_exec entry points: always return 1 (fail open).

    def sipkeep_request(self, msg, *args):
        return 1  # the receiver side acts on replies; nothing to do per request yet

    def sipkeep_reply(self, msg, *args):
        try:
            self._reply(msg, bool(args and "rr" in (args[0] or "")))
        except Exception as e:
            _log("reply failed open: %s: %s" % (type(e).__name__, e))
        return 1

    def _reply(self, msg, record_routed):
        raw = msg.get_pseudoVar("$mb")
        if not raw:
            return
        mb = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
        end = mb.find(b"\r\n\r\n")
        mb = mb if end < 0 else mb[:end + 4]
        if not _KEEP.search(mb):
            return
        h = self._get()
        if h is None:
            return
        # The reply leaves on the flow its request came from.
        proto = (msg.get_pseudoVar("$T_req($pr)") or "udp").upper()
        tp = _TRANSPORT.get(proto, capi.UDP)
        local = capi.hostport(msg.get_pseudoVar("$T_req($Ri)"), msg.get_pseudoVar("$T_req($Rp)"))
        remote = capi.hostport(msg.get_pseudoVar("$T_req($si)"), msg.get_pseudoVar("$T_req($sp)"))
        key = (tp, local, remote)
        flags = capi.F_DROP_TOP_VIA | capi.F_NO_MESSAGE
        if record_routed:
            flags |= capi.F_IN_ROUTE_SET
        r = h.call(capi.KIND_RESPONSE, capi.DIR_OUT, tp, capi.ROLE_PROXY, flags, local, remote,
                   self.records.get(key, b""), mb)
        if r.record_deleted:
            self.records.pop(key, None)
        elif r.record_changed:
            self.records[key] = r.record
        for op, idx, value in r.edits:
            self._apply(msg, mb, op, idx, value)

    def _apply(self, msg, mb, op, idx, value):
        """Rewrite the keep parameter of Via value #idx with textops replace().

        replace(re, txt) changes the first match of a POSIX regular
        expression; the expression is the whole Via value, escaped, which is
        unique in the message because of its branch."""
        old = _via_value(mb, idx)
        if old is None:
            return
        old = old.strip().decode("utf-8", "surrogateescape")
        if op == capi.EDIT_SET_KEEP:
            new, n = _KEEP_PARAM.subn(";keep=%d" % value, old, count=1)
            if n == 0:
                new = old + ";keep=%d" % value
        elif op == capi.EDIT_STRIP_VALUE:
            new = _KEEP_PARAM.sub(";keep", old, count=1)
        else:
            return
        if new != old:
            msg.call_function("replace", _posix_escape(old), new)


_KEEP_PARAM = re.compile(r";[ \t]*keep(?:[ \t]*=[ \t]*[0-9]*)?(?=[;, \t]|$)", re.I)


def _posix_escape(s):
    """s as a POSIX extended regular expression matching itself."""
    return re.sub(r"([.\[\]()*+?{}|^$\\])", r"\\\1", s)


def _via_value(mb, idx):
    """The text of Via value #idx (0 = topmost) in the headers of mb, or None."""
    n = 0
    for m in _VIA.finditer(mb):
        line_end = mb.find(b"\r\n", m.end())
        values = mb[m.end():line_end if line_end >= 0 else len(mb)].split(b",")
        for v in values:
            if n == idx:
                return v
            n += 1
    return None


ADAPTER = Adapter()


class _OpenSIPS:
    """The object OpenSIPS's python module calls python_exec methods on."""

    def child_init(self, rank):
        return 0  # nothing: the library is loaded lazily, after the fork

    def sipkeep_request(self, msg, *args):
        return ADAPTER.sipkeep_request(msg, *args)

    def sipkeep_reply(self, msg, *args):
        return ADAPTER.sipkeep_reply(msg, *args)


def mod_init():
    return _OpenSIPS()
