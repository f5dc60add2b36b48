// Node drivers for SIP.js and JsSIP against the sipkeep edge proxy, run by
// examples/edgeproxy/webphone_test.go. Each mode prints one line
// "RESULT <json>" and exits 0, or prints the error and exits 1.
//
//   node clients.mjs sipjs-register <ws-url> <user> [pairs]
//   node clients.mjs jssip-register <ws-url> <user>
//   node clients.mjs sipjs-call <ws-url>            two SIP.js UAs call each other
//   node clients.mjs sipjs-answer <ws-url> <user>   register, answer one call, wait for its BYE
import { WebSocket as NodeWebSocket } from "ws";
import { UserAgent, Registerer, Inviter, SessionState } from "sip.js";
import JsSIP from "jssip";
import { watchWebSocket } from "../keepwatch.js";

const [mode, url, user = "alice", arg] = process.argv.slice(2);
const domain = new URL(url).hostname;
const events = [];
const log = (ev) => events.push(ev);

// The proxy's certificate is a throwaway one: trust it for this process.
globalThis.WebSocket = watchWebSocket(NodeWebSocket, log, { rejectUnauthorized: false });

const until = (pred, what, ms = 20000) =>
  new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const v = pred();
      if (v) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.filter((e) => e.dir !== "out" || !e.first.startsWith("SIP")).slice(-12))}`));
      setTimeout(tick, 50);
    };
    tick();
  });
const count = (type) => events.filter((e) => e.type === type).length;
const keepFor = (method) => events.find((e) => e.type === "keep" && e.method === method);

// Sessions need an SDP; Node has no WebRTC. This handler offers and
// answers a fixed audio SDP (SIP.js's documented extension point).
const SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
const fakeSDH = () => ({
  getDescription: async () => ({ body: SDP, contentType: "application/sdp" }),
  setDescription: async () => {},
  hasDescription: (ct) => ct === "application/sdp",
  rollbackDescription: async () => {},
  sendDtmf: () => true,
  close: () => {},
});

function sipjsUA(name, extra = {}) {
  return new UserAgent({
    uri: UserAgent.makeURI(`sip:${name}@${domain}`),
    transportOptions: { server: url, ...extra.transportOptions },
    viaHost: `${name}.invalid`, // ;keep: added by keepwatch (offerKeep)
    sessionDescriptionHandlerFactory: fakeSDH,
    logLevel: process.env.DEBUG ? "debug" : "error",
    ...extra.ua,
  });
}

async function sipjsRegister() {
  const pairs = Number(arg || 2);
  const ua = sipjsUA(user, { transportOptions: { keepAliveInterval: 1 } });
  await ua.start();
  await new Registerer(ua, { expires: 600 }).register();
  const keep = await until(() => keepFor("REGISTER"), "keep=N on the REGISTER 200");
  await until(() => count("keepalive") >= pairs && count("pong") >= pairs, `${pairs} keep-alives answered`);
  const res = { keep: keep.keep, via: keep.via, keepalives: count("keepalive"), pongs: count("pong"), connected: ua.transport.isConnected() };
  await ua.stop();
  return res;
}

async function jssipRegister() {
  const socket = new JsSIP.WebSocketInterface(url);
  const ua = new JsSIP.UA({
    sockets: [socket],
    uri: `sip:${user}@${domain}`,
    register: true,
    register_expires: 600,
  });
  const registered = new Promise((resolve, reject) => {
    ua.on("registered", resolve);
    ua.on("registrationFailed", (e) => reject(new Error(`registration failed: ${e.cause}`)));
  });
  ua.start();
  await registered;
  const keep = await until(() => keepFor("REGISTER"), "keep=N on the REGISTER 200");
  ua.stop();
  return { keep: keep.keep, via: keep.via };
}

async function answer(ua, onInvite) {
  ua.delegate = {
    onInvite: async (inv) => {
      onInvite?.(inv);
      inv.progress();
      await inv.accept();
    },
  };
}

async function sipjsCall() {
  const bob = sipjsUA("bob");
  let invite = null;
  await answer(bob, (inv) => (invite = inv.request));
  await bob.start();
  await new Registerer(bob, { expires: 600 }).register();
  // The caller registers too: the BYE from the callee reaches it through
  // its binding's flow (the proxy has no flow token in its Record-Route).
  const alice = sipjsUA("alice");
  await alice.start();
  await new Registerer(alice, { expires: 600 }).register();
  const inviter = new Inviter(alice, UserAgent.makeURI(`sip:bob@${domain}`));
  let state = "";
  inviter.stateChange.addListener((s) => (state = s));
  await inviter.invite();
  await until(() => state === SessionState.Established, "the call established");
  if (process.env.DEBUG) console.error("established");
  const keep = await until(() => keepFor("INVITE"), "keep=N on the INVITE 2xx");
  const bobVia = invite.getHeaders("via")[0];
  if (process.env.DEBUG) console.error("bye");
  await inviter.bye();
  if (process.env.DEBUG) console.error("bye sent");
  await alice.stop();
  await bob.stop();
  return { keep: keep.keep, via: keep.via, calleeTopVia: bobVia, recordRoute: invite.getHeaders("record-route") };
}

async function sipjsAnswer() {
  const ua = sipjsUA(user);
  let invite = null;
  let ended = null;
  const done = new Promise((resolve) => (ended = resolve));
  ua.delegate = {
    onInvite: async (inv) => {
      invite = inv.request;
      inv.stateChange.addListener((s) => s === SessionState.Terminated && ended());
      inv.progress();
      // Ring a little before answering: the caller's scenario expects the
      // 180 before the 200, and back to back they can cross in the proxy.
      await new Promise((r) => setTimeout(r, 300));
      await inv.accept();
    },
  };
  await ua.start();
  await new Registerer(ua, { expires: 600 }).register();
  const keep = await until(() => keepFor("REGISTER"), "keep=N on the REGISTER 200");
  console.log("REGISTERED");
  await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error("no call ended")), 30000))]);
  await ua.stop();
  return { keep: keep.keep, calleeTopVia: invite.getHeaders("via")[0] };
}

const modes = { "sipjs-register": sipjsRegister, "jssip-register": jssipRegister, "sipjs-call": sipjsCall, "sipjs-answer": sipjsAnswer };
try {
  if (!modes[mode]) throw new Error(`unknown mode ${mode}`);
  const res = await modes[mode]();
  console.log("RESULT " + JSON.stringify(res));
  process.exit(0);
} catch (e) {
  console.error(String(e?.stack || e));
  process.exit(1);
}
