"""sipkeep for Kamailio: RFC 6223 keep-alive negotiation (the Via "keep"
parameter) and RFC 5626 keep-alives, through app_python3 and libsipkeep.so.

Kamailio stays in charge of SIP. This module shows each message to the sipkeep
plugin and applies what it decides:

* receiver (Kamailio as edge proxy or registrar): keep=N on the Via that
  becomes topmost in forwarded replies and in local replies (registrar.save(),
  sl_send_reply), keep values below the top stripped (R17), only for dialogs
  Kamailio record-routes (R12). Kamailio's stun module and its core CRLF pong
  answer the keep-alives themselves.
* sender (Kamailio toward a trunk or upstream proxy): ;keep on the Via Kamailio
  adds, and once a reply grants keep=N, STUN (UDP) or CRLF (TCP) keep-alives
  from Kamailio's own socket, driven by an rtimer; STUN responses taken from the
  raw receive hook; a flow whose keep-alives go unanswered is reported failed.
* flow records live in htable, so every worker agrees; the plugin is loaded
  lazily in each worker (the Go runtime does not survive fork()).
* hot swap: `kamcmd htable.sets sipkeep module /path/new.wasm` then
  `kamcmd htable.seti sipkeep gen 2`: each worker swaps on its next call; a
  module that does not load is refused and the old one keeps serving.
* fail open: an error here is logged and the message goes on unchanged.

Use from a native kamailio.cfg (see examples/kamailio/kamailio.cfg):

    #!define SIPKEEP_LIB "/usr/local/lib/sipkeep/libsipkeep.so"
    #!define SIPKEEP_MODULE "/usr/local/lib/sipkeep/sipkeep.wasm"
    #!define SIPKEEP_POLICY "receiver_keep_seconds=30"          (optional)
    #!define SIPKEEP_OPTIONS "cache_dir=/var/cache/sipkeep"     (optional)
    #!define SIPKEEP_FLOW_TIMER "30"      (optional: registrar's flow_timer, R15)
    modparam("app_python3", "load", "/usr/local/lib/sipkeep/sipkeep_kamailio.py")
    request_route  { python_exec("sipkeep_request"); ... }
    before save()  { python_exec("sipkeep_local_reply"); save("location"); }
    before relay   { python_exec("sipkeep_forward", "rr"); t_on_reply("SK"); t_relay(); }
    onreply_route[SK] { python_exec("sipkeep_reply"); }
    event_route[core:msg-received] { python_exec("sipkeep_received"); if ($var(sipkeep_drop)) drop; }
    route[SIPKEEP_TIMER] { python_exec("sipkeep_timer"); }   (rtimer, every 100 ms)

From a KEMI Python script, call the same methods of ADAPTER (for example
ADAPTER.sipkeep_request(msg)) or make an Adapter with explicit settings.
"""

import ipaddress
import os
import re
import sys
import time

import KSR  # provided by app_python3

try:
    import sipkeep_capi as capi
except ImportError:  # running from the source tree: the binding lives in hostadapters/capi
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "capi"))
    import sipkeep_capi as capi

_KEEP = re.compile(rb"keep", re.I)
_RR = re.compile(rb"^record-route[ \t]*:(.*)$", re.I | re.M)
_URI_IN_BRACKETS = re.compile(rb"<([^>]*)>")
_NEXT_HOP = re.compile(r"^(sips?):(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?(.*)$", re.I)
_TRANSPORT_PARAM = re.compile(r";transport=([a-z]+)", re.I)


def _unquote(v):
    if isinstance(v, str) and len(v) >= 2 and v[0] == v[-1] == '"':
        return v[1:-1]
    return v


def _def(name):
    """The value of a #!define in kamailio.cfg, or None."""
    try:
        return _unquote(KSR.pv.get("$def(%s)" % name))
    except Exception:
        return None


def _headers(mb):
    """The message up to the end of its headers (the plugin needs no body)."""
    if isinstance(mb, str):
        mb = mb.encode("utf-8", "surrogateescape")
    end = mb.find(b"\r\n\r\n")
    return mb if end < 0 else mb[:end + 4]


class Adapter:
    """Kamailio glue around one sipkeep host per worker process.

    Settings default to the #!define values SIPKEEP_LIB, SIPKEEP_MODULE,
    SIPKEEP_POLICY, SIPKEEP_OPTIONS and SIPKEEP_FLOW_TIMER, read in the
    worker on first use.
    """

    def __init__(self, lib=None, module=None, policy=None, options=None, flow_timer=None,
                 flows="skflows", due="skdue", ctl="sipkeep", swap_check_ms=100):
        self.lib, self.module, self.policy, self.options = lib, module, policy, options
        self.flow_timer = flow_timer
        self.flows, self.due, self.ctl = flows, due, ctl
        self.swap_check = swap_check_ms / 1000.0
        self._host = None
        self._pid = None
        self._retry_at = 0.0
        self._gen_seen = None
        self._next_gen_check = 0.0
        self._pending_pongs = []  # TCP flows pinged by this (timer) process

    # ---- python_exec entry points (each fails open) ----

    def sipkeep_request(self, msg, *args):
        """A request was received: show it to the plugin on its flow."""
        return self._safe(self._request)

    def sipkeep_local_reply(self, msg, *args):
        """Before a local reply (registrar.save(), sl_send_reply()): keep=N on Via[1]."""
        return self._safe(self._local_reply, args[0] if args else "200 OK")

    def sipkeep_forward(self, msg, *args):
        """Before t_relay(): offer ;keep on Kamailio's own Via. Pass "rr" when record-routed."""
        return self._safe(self._forward, "rr" in (args[0] if args else ""))

    def sipkeep_reply(self, msg, *args):
        """In an onreply_route: sender side on the upstream flow, receiver side on the request's."""
        return self._safe(self._reply)

    def sipkeep_received(self, msg, *args):
        """In event_route[core:msg-received]: STUN responses to our keep-alives; sets $var(sipkeep_drop)."""
        return self._safe(self._received)

    def sipkeep_timer(self, msg, *args):
        """From an rtimer route: due flows, keep-alive sends, hot swap."""
        return self._safe(self._timer)

    def sipkeep_tcp_closed(self, msg, *args):
        """In event_route[tcp:closed] (tcpops closed_event): the stream's flow is gone."""
        return self._safe(self._tcp_closed)

    def _safe(self, fn, *args):
        try:
            fn(*args)
        except Exception as e:  # never let sipkeep break routing
            try:
                KSR.err("sipkeep: %s failed open: %s: %s\n" % (fn.__name__, type(e).__name__, e))
            except Exception:
                pass
        return 1

    # ---- the host, per process ----

    def _settings(self):
        if self.lib is None:
            self.lib = _def("SIPKEEP_LIB") or os.path.join(
                os.path.dirname(os.path.abspath(__file__)), "libsipkeep.so")
        if self.module is None:
            self.module = _def("SIPKEEP_MODULE")
        if self.policy is None:
            self.policy = _def("SIPKEEP_POLICY") or ""
        if self.options is None:
            self.options = _def("SIPKEEP_OPTIONS") or ""
        if self.flow_timer is None:
            self.flow_timer = _def("SIPKEEP_FLOW_TIMER")
        policy = self.policy
        if "dead_flow" not in policy:
            # Kamailio's stun module and core answer keep-alives before any
            # script sees them, so the plugin cannot watch them arrive.
            policy = "dead_flow_disabled=true;" + policy
        if self.flow_timer:  # R15: keep=N must equal the registrar's Flow-Timer
            policy = "%s;receiver_keep_seconds=%d" % (policy, int(self.flow_timer))
        return policy

    def _get(self):
        """This process's host, loaded on first use (never before the fork)."""
        pid = os.getpid()
        h = self._host
        if h is not None and self._pid == pid:
            self._maybe_swap(h)
            return h
        if self._pid == pid and time.monotonic() < self._retry_at:
            return None
        self._host, self._pid = None, pid
        policy = self._settings()
        gen = KSR.htable.sht_get(self.ctl, "gen")
        module = KSR.htable.sht_get(self.ctl, "module") if gen else None
        try:
            h = capi.Host.for_process(self.lib, module or self.module, policy, self.options)
        except Exception as e:
            self._retry_at = time.monotonic() + 10
            KSR.err("sipkeep: cannot load %s in pid %d (retrying in 10 s): %s\n" % (
                module or self.module, pid, e))
            return None
        self._host, self._gen_seen = h, gen
        self._next_gen_check = time.monotonic() + self.swap_check
        KSR.info("sipkeep: pid %d loaded %s\n" % (pid, h.module_path))
        return h

    def _maybe_swap(self, h):
        now = time.monotonic()
        if now < self._next_gen_check:
            return
        self._next_gen_check = now + self.swap_check
        gen = KSR.htable.sht_get(self.ctl, "gen")
        if not gen or gen == self._gen_seen:
            return
        self._gen_seen = gen
        pid = os.getpid()
        path = KSR.htable.sht_get(self.ctl, "module")
        try:
            if not path:
                raise capi.Error("htable %s has no module" % self.ctl)
            h.swap(path)
        except Exception as e:
            KSR.err("sipkeep: pid %d refused generation %s (%s); the old module keeps serving: %s\n" % (
                pid, gen, path, e))
            KSR.htable.sht_seti(self.ctl, "refused::%d" % pid, int(gen))
            return
        KSR.info("sipkeep: pid %d swapped to %s (generation %s)\n" % (pid, path, gen))
        KSR.htable.sht_seti(self.ctl, "swapped::%d" % pid, int(gen))

    # ---- one call on one flow, its record in htable ----

    def _call(self, h, kind, direction, tp, local, remote, flags, msg, fast=True):
        """Run the plugin with the flow's record; store what comes back; carry out actions.

        fast: skip the call when the message has no keep and the flow has no record
        (nothing to negotiate, nothing to end)."""
        key = "%d|%s|%s" % (tp, local, remote)
        if fast and not _KEEP.search(msg) and KSR.htable.sht_get(self.flows, key) is None:
            return None
        KSR.htable.sht_lock(self.flows, key)
        try:
            old = KSR.htable.sht_get(self.flows, key)
            rec = bytes.fromhex(old) if isinstance(old, str) and old else b""
            r = h.call(kind, direction, tp, capi.ROLE_PROXY, flags, local, remote, rec, msg)
            if r.record_deleted:
                KSR.htable.sht_rm(self.flows, key)
                KSR.htable.sht_rm(self.due, key)
            elif r.record_changed:
                KSR.htable.sht_sets(self.flows, key, r.record.hex())
                if r.deadline_ms:
                    KSR.htable.sht_sets(self.due, key, str(r.deadline_ms))
                else:
                    KSR.htable.sht_rm(self.due, key)
        finally:
            KSR.htable.sht_unlock(self.flows, key)
        if r.failed_open:
            KSR.warn("sipkeep: plugin call failed open on %s: %s\n" % (key, r.error))
        if r.actions:
            self._act(h, tp, remote, key, r.actions)
        return r

    def _act(self, h, tp, remote, key, actions):
        for a in actions:
            name = capi.ACTION_NAMES.get(a.kind, "action-%d" % a.kind)
            KSR.htable.sht_inc(self.ctl, "stat::" + name)
            if a.kind == capi.ACT_SEND_STUN:
                KSR.pv.sets("$var(sipkeep_stun)", h.stun_request(a.txid).hex())
                KSR.x.modf("send_data", _uri(tp, remote), "$(var(sipkeep_stun){s.decode.hexa})")
            elif a.kind == capi.ACT_SEND_PING:
                if KSR.corex.send_data(_uri(tp, remote), "\r\n\r\n") > 0:
                    # Kamailio's stream reader swallows the CRLF pong; a ping the
                    # kernel accepted on a live connection counts as answered,
                    # and tcp:closed reports the end of the connection.
                    self._pending_pongs.append((tp, key))
            elif a.kind in (capi.ACT_FLOW_FAILED, capi.ACT_FLOW_DEAD):
                KSR.warn("sipkeep: %s flow %s (reason %d)\n" % (name, key, a.reason))
            else:
                KSR.dbg("sipkeep: %s flow %s value %d\n" % (name, key, a.value))

    # ---- receiver and sender, message by message ----

    def _arrival(self):
        tp = capi.TRANSPORTS.get(KSR.pv.get("$pr"), capi.UDP)
        local = capi.hostport(KSR.pv.get("$Ri"), KSR.pv.get("$Rp"))
        remote = capi.hostport(KSR.pv.get("$si"), KSR.pv.get("$sp"))
        return tp, local, remote

    def _request(self):
        h = self._get()
        if h is None:
            return
        tp, local, remote = self._arrival()
        self._call(h, capi.KIND_REQUEST, capi.DIR_IN, tp, local, remote, 0, _headers(KSR.pv.get("$mb")))

    def _local_reply(self, status):
        h = self._get()
        if h is None:
            return
        req = _headers(KSR.pv.get("$mb"))
        eol = req.find(b"\r\n")
        if eol < 0:
            return
        # The reply Kamailio is about to generate copies the request's Vias.
        reply = b"SIP/2.0 " + status.encode() + req[eol:]
        tp, local, remote = self._arrival()
        r = self._call(h, capi.KIND_RESPONSE, capi.DIR_OUT, tp, local, remote,
                       capi.F_LOCAL_REPLY | capi.F_IN_ROUTE_SET | capi.F_NO_MESSAGE, reply)
        if r is not None and self._apply(r.edits, 1):
            KSR.textopsx.msg_apply_changes()

    def _forward(self, record_routed):
        h = self._get()
        if h is None:
            return
        hop = _next_hop(KSR.pv.get("$du") or KSR.pv.get("$ru"))
        if hop is None:
            return  # not an IP next hop: no flow to key keep-alives on
        tp, remote = hop
        local = capi.hostport(KSR.pv.get("$Ri"), KSR.pv.get("$Rp"))
        req = _headers(KSR.pv.get("$mb"))
        eol = req.find(b"\r\n")
        if eol < 0:
            return
        # The request as it will leave: Kamailio's own Via on top.
        via = ("\r\nVia: SIP/2.0/%s %s;branch=z9hG4bKsipkeep" % (_TP_NAMES[tp], local)).encode()
        out = req[:eol] + via + req[eol:]
        flags = capi.F_IN_ROUTE_SET if record_routed else 0
        r = self._call(h, capi.KIND_REQUEST, capi.DIR_OUT, tp, local, remote,
                       flags | capi.F_NO_MESSAGE, out, fast=False)
        if r is None:
            return
        for op, idx, _value in r.edits:
            if op == capi.EDIT_ADD_KEEP and idx == 0:
                KSR.pv.sets("$xavp(xvia=>keep)", "")
                KSR.corex.via_add_xavp_params(1)
        self._apply([e for e in r.edits if e[1] > 0], 0)

    def _reply(self):
        h = self._get()
        if h is None:
            return
        mb = _headers(KSR.pv.get("$mb"))
        rr = capi.F_IN_ROUTE_SET if _record_routed(mb) else 0
        # Sender side: the reply on the flow it came from (our Via on top).
        tp, local, remote = self._arrival()
        self._call(h, capi.KIND_RESPONSE, capi.DIR_IN, tp, local, remote, rr | capi.F_NO_MESSAGE, mb)
        # Receiver side: the reply as it leaves on the request's flow (our Via gone).
        tp2 = capi.TRANSPORTS.get(KSR.pv.get("$T_req($pr)"), capi.UDP)
        local2 = capi.hostport(KSR.pv.get("$T_req($Ri)"), KSR.pv.get("$T_req($Rp)"))
        remote2 = capi.hostport(KSR.pv.get("$T_req($si)"), KSR.pv.get("$T_req($sp)"))
        r = self._call(h, capi.KIND_RESPONSE, capi.DIR_OUT, tp2, local2, remote2,
                       rr | capi.F_DROP_TOP_VIA | capi.F_NO_MESSAGE, mb)
        if r is not None:
            self._apply(r.edits, 1)

    def _apply(self, edits, base):
        """Apply Via edits with textopsx; base turns a Via index into Kamailio's Via[n]."""
        done = False
        for op, idx, value in edits:
            hf = "Via[%d].keep" % (idx + base)
            if op == capi.EDIT_SET_KEEP:
                KSR.textopsx.assign_hf_value(hf, str(value))
                done = True
            elif op == capi.EDIT_STRIP_VALUE:
                # Through KEMI an empty value removes the parameter altogether
                # (native cfg leaves a bare keep); either way the hop below sees
                # no value and does not start keep-alives (R17).
                KSR.textopsx.assign_hf_value(hf, "")
                done = True
        return done

    def _received(self):
        KSR.pv.seti("$var(sipkeep_drop)", 0)
        if KSR.pv.get("$rcv(proto)") != 1:
            return
        raw = KSR.pv.get("$(rcv(buf){s.encode.hexa})")
        data = bytes.fromhex(raw) if raw else b""
        if not capi.is_stun(data):
            return
        KSR.pv.seti("$var(sipkeep_drop)", 1)  # STUN is never SIP
        if data[0] & 0x01 == 0:
            return  # requests and indications: Kamailio's stun module answers requests
        h = self._get()
        if h is None:
            return
        local = capi.hostport(KSR.pv.get("$rcv(rcvip)"), KSR.pv.get("$rcv(rcvport)"))
        remote = capi.hostport(KSR.pv.get("$rcv(srcip)"), KSR.pv.get("$rcv(srcport)"))
        self._call(h, capi.KIND_STUN, capi.DIR_IN, capi.UDP, local, remote, 0, data, fast=False)

    def _timer(self):
        h = self._get()
        if h is None:
            return
        now = int(time.time() * 1000)
        pongs, self._pending_pongs = self._pending_pongs, []
        for tp, key in pongs:
            _tp, local, remote = key.split("|")
            self._call(h, capi.KIND_PONG, capi.DIR_IN, tp, local, remote, 0, b"\r\n", fast=False)
        due = []
        KSR.htable.sht_iterator_start("sipkeep_it", self.due)
        try:
            while KSR.htable.sht_iterator_next("sipkeep_it") > 0:
                key = KSR.pv.get("$shtitkey(sipkeep_it)")
                if _int(KSR.pv.get("$shtitval(sipkeep_it)")) <= now:
                    due.append(key)
        finally:
            KSR.htable.sht_iterator_end("sipkeep_it")
        for key in due:
            if _int(KSR.htable.sht_get(self.due, key)) > now:
                continue  # rescheduled meanwhile
            tp, local, remote = key.split("|")
            self._call(h, capi.KIND_TIMER, 0, int(tp), local, remote, 0, b"", fast=False)

    def _tcp_closed(self):
        tp = capi.TRANSPORTS.get(KSR.pv.get("$pr"), capi.TCP)
        local = capi.hostport(KSR.pv.get("$Ri"), KSR.pv.get("$Rp"))
        remote = capi.hostport(KSR.pv.get("$si"), KSR.pv.get("$sp"))
        key = "%d|%s|%s" % (tp, local, remote)
        if KSR.htable.sht_get(self.flows, key) is not None:
            KSR.info("sipkeep: connection closed, flow %s dropped\n" % key)
            KSR.htable.sht_inc(self.ctl, "stat::connection-closed")
            KSR.htable.sht_rm(self.flows, key)
            KSR.htable.sht_rm(self.due, key)


_TP_NAMES = {v: k.upper() for k, v in capi.TRANSPORTS.items()}


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return 1 << 62


def _uri(tp, remote):
    return "sip:%s;transport=%s" % (remote, _TP_NAMES.get(tp, "UDP").lower())


def _next_hop(uri):
    """(transport, "ip:port") of a next-hop SIP URI with an IP host, or None."""
    m = _NEXT_HOP.match(uri or "")
    if m is None:
        return None
    scheme, host, port, rest = m.groups()
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    t = _TRANSPORT_PARAM.search(rest)
    name = t.group(1).lower() if t else ("tls" if scheme.lower() == "sips" else "udp")
    tp = capi.TRANSPORTS.get(name)
    if tp is None:
        return None
    if not port:
        port = "5061" if tp in (capi.TLS, capi.WSS) else "5060"
    return tp, capi.hostport(host.strip("[]"), port)


def _record_routed(mb):
    """Whether one of the message's Record-Route URIs is this Kamailio (R8, R12)."""
    for m in _RR.finditer(mb):
        for uri in _URI_IN_BRACKETS.findall(m.group(1)):
            if KSR.is_myself(uri.decode("utf-8", "replace")):
                return True
    return False


ADAPTER = Adapter()


class _Kamailio:
    """The object app_python3 calls python_exec methods on (native kamailio.cfg)."""

    def child_init(self, rank):
        return 0  # nothing here: the library is loaded lazily, after the fork


for _name in ("sipkeep_request", "sipkeep_local_reply", "sipkeep_forward", "sipkeep_reply",
              "sipkeep_received", "sipkeep_timer", "sipkeep_tcp_closed"):
    setattr(_Kamailio, _name, staticmethod(getattr(ADAPTER, _name)))


def mod_init():
    return _Kamailio()
