"""Tests of sipkeep_opensips.py against a stand-in OpenSIPS module and a fake
message object that records calls, with the real libsipkeep.so and plugin
(SIPKEEP_LIB, SIPKEEP_MODULE). Run by opensips_test.go (go test ./...)."""

import os
import re
import subprocess
import sys
import types
import unittest

LOGGED = []
fake = types.ModuleType("OpenSIPS")
fake.LM_ERR = LOGGED.append
sys.modules["OpenSIPS"] = fake

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipkeep_opensips as sk  # noqa: E402
import sipkeep_capi as capi  # noqa: E402


class FakeMsg:
    """What OpenSIPS's python module hands to python_exec: pseudo-variables and
    call_function; replace() is applied to the buffer as OpenSIPS would
    (first match of a POSIX ERE, which these escaped patterns read the same in Python)."""

    def __init__(self, buf, pvs):
        self.buf, self.pvs, self.calls = buf, pvs, []

    def get_pseudoVar(self, name):
        return self.buf if name == "$mb" else self.pvs.get(name)

    def call_function(self, name, *args):
        self.calls.append((name,) + args)
        if name == "replace":
            self.buf = re.sub(args[0], lambda m: args[1], self.buf, count=1)
        return 1


REQ_FLOW = {"$T_req($pr)": "udp", "$T_req($Ri)": "127.0.0.1", "$T_req($Rp)": 5060,
            "$T_req($si)": "192.0.2.10", "$T_req($sp)": 40000}


def reply(method="REGISTER", lower="SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKlow;keep=40"):
    return ("SIP/2.0 200 OK\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKops\r\n"  # OpenSIPS's own, removed when forwarded
            "Via: SIP/2.0/UDP 192.0.2.10:40000;branch=z9hG4bKua;rport=40000;keep, " + lower + "\r\n"
            "From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>;tag=2\r\n"
            "Call-ID: c1\r\nCSeq: 1 " + method + "\r\nContact: <sip:a@192.0.2.10:40000>;expires=300\r\n"
            "Content-Length: 0\r\n\r\n")


def vias(buf):
    head = buf.split("\r\n\r\n")[0].split("\r\n")[1:]
    out = []
    for line in head:
        if line.lower().startswith("via:"):
            out += [v.strip() for v in line[4:].split(",")]
    return out


class AdapterTest(unittest.TestCase):
    def setUp(self):
        self.a = sk.Adapter(policy="receiver_keep_seconds=25")

    def test_import_loads_nothing(self):
        # The Go runtime must not start before the fork: importing the module
        # (done by OpenSIPS in its main process) loads no library.
        fresh = sk.Adapter()
        self.assertIsNone(fresh._host)

    def test_R10_register_reply_gets_keep_and_R17_lower_stripped(self):
        m = FakeMsg(reply(), REQ_FLOW)
        self.assertEqual(self.a.sipkeep_reply(m), 1)
        v = vias(m.buf)
        self.assertIn(";keep=25", v[1], m.calls)
        self.assertNotRegex(v[2], r"keep=\d", m.calls)
        self.assertIn(";keep", v[2])
        self.assertTrue(all(c[0] == "replace" for c in m.calls))

    def test_R12_invite_keep_only_when_record_routed(self):
        m = FakeMsg(reply("INVITE"), REQ_FLOW)
        self.a.sipkeep_reply(m)
        self.assertNotRegex(vias(m.buf)[1], r"keep=\d", "keep granted without record-routing")
        m = FakeMsg(reply("INVITE").replace("CSeq", "Record-Route: <sip:127.0.0.1;lr>\r\nCSeq"),
                    dict(REQ_FLOW, **{"$T_req($si)": "192.0.2.11"}))
        self.a.sipkeep_reply(m, "rr")
        self.assertIn(";keep=25", vias(m.buf)[1])

    def test_no_keep_no_call(self):
        m = FakeMsg(reply().replace(";keep", ""), REQ_FLOW)
        self.a.sipkeep_reply(m)
        self.assertEqual(m.calls, [])

    def test_fail_open_on_bad_library(self):
        a = sk.Adapter(lib="/nonexistent/libsipkeep.so")
        m = FakeMsg(reply(), REQ_FLOW)
        self.assertEqual(a.sipkeep_reply(m), 1)
        self.assertEqual(m.calls, [])
        self.assertTrue(any("cannot load" in l for l in LOGGED))

    def test_fail_open_on_garbage(self):
        m = FakeMsg("SIP/2.0 200 OK\r\nVia: ;;;keep=\x00\r\n\r\n", REQ_FLOW)
        self.assertEqual(self.a.sipkeep_reply(m), 1)

    def test_lazy_load_per_process_after_fork(self):
        # As in OpenSIPS: the main process imports the adapter (nothing
        # loaded), then forks workers; each worker loads its own Go runtime.
        script = (
            "import os, sys, types\n"
            "fake = types.ModuleType('OpenSIPS'); fake.LM_ERR = print; sys.modules['OpenSIPS'] = fake\n"
            "sys.path.insert(0, %r)\n"
            "import sipkeep_opensips as sk, test_sipkeep_opensips as t\n"
            "assert sk.ADAPTER._host is None\n"
            "kids = []\n"
            "for i in range(2):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        m = t.FakeMsg(t.reply(), t.REQ_FLOW)\n"
            "        sk.ADAPTER.sipkeep_reply(m)\n"
            "        ok = ';keep=' in t.vias(m.buf)[1] and sk.ADAPTER._pid == os.getpid()\n"
            "        os._exit(0 if ok else 3)\n"
            "    kids.append(pid)\n"
            "sys.exit(max(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids))\n"
        ) % os.path.dirname(os.path.abspath(__file__))
        r = subprocess.run([sys.executable, "-c", script], timeout=60, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_posix_escape(self):
        s = "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK.a+b*c?(d)|e^$\\"
        self.assertIsNotNone(re.fullmatch(sk._posix_escape(s), s))


if __name__ == "__main__":
    unittest.main()
