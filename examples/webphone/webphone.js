// The webphone: SIP.js registers over WSS; keepwatch shows what the flow
// carries. Query parameters: server (default wss://<this host>/), user.
import { UserAgent, Registerer, RegistererState } from "./node_modules/sip.js/lib/index.js";
import { watchWebSocket } from "./keepwatch.js";

const q = new URLSearchParams(location.search);
const server = q.get("server") || `wss://${location.host}/`;
const user = q.get("user") || "webphone";
const domain = new URL(server).hostname;
const $ = (id) => document.getElementById(id);
$("server").textContent = server;
$("aor").textContent = `sip:${user}@${domain}`;

// window.webphone is what a test (or a curious person in the console) reads.
const state = (window.webphone = { keep: null, sent: 0, pongs: 0, registered: false, events: [] });

function log(cls, text) {
  const line = document.createElement("div");
  line.className = cls;
  line.textContent = `${new Date().toISOString().slice(11, 23)}  ${text}`;
  $("log").appendChild(line);
  $("log").scrollTop = $("log").scrollHeight;
}

function report(ev) {
  state.events.push(ev);
  switch (ev.type) {
    case "keep":
      state.keep = ev.keep;
      $("keep").textContent = `keep=${ev.keep} s`;
      log("keep", `${ev.method} answered with keep=${ev.keep} on our Via: ${ev.via}`);
      startKeepalives(ev.keep);
      break;
    case "keepalive":
      $("sent").textContent = ++state.sent;
      log("keepalive", "→ CRLFCRLF keep-alive");
      break;
    case "pong":
      $("pongs").textContent = ++state.pongs;
      log("pong", "← CRLF pong");
      break;
    case "sip":
      log("sip", `${ev.dir === "out" ? "→" : "←"} ${ev.first}`);
  }
}

// ;keep is added to each request's Via by keepwatch (offerKeep).
const ua = new UserAgent({
  uri: UserAgent.makeURI(`sip:${user}@${domain}`),
  transportOptions: { server },
  logLevel: "warn",
});
// SIP.js opens the socket with the global WebSocket: watch it.
window.WebSocket = watchWebSocket(window.WebSocket, report);

// Keep-alives at the negotiated interval (RFC 6223 §4.3: the sender uses
// the value the receiver granted), in a WebSocket message.
let timer = null;
function startKeepalives(seconds) {
  if (timer) clearInterval(timer);
  timer = setInterval(() => ua.transport.send("\r\n\r\n").catch((e) => log("err", `keep-alive: ${e}`)), seconds * 1000);
}

const registerer = new Registerer(ua, { expires: 600 });
registerer.stateChange.addListener((s) => {
  state.registered = s === RegistererState.Registered;
  $("state").textContent = s;
});
ua.start()
  .then(() => registerer.register())
  .catch((e) => { log("err", String(e)); $("state").textContent = `failed: ${e}`; });
