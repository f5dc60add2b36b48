// keepwatch: a WebSocket subclass that reports what RFC 6223 / RFC 5626
// mean on a SIP-over-WebSocket flow, for the page and the Node tests alike.
// Besides adding ;keep to requests (offerKeep), it only watches:
//   - "keep":      a response to REGISTER or INVITE whose top Via carries keep=N
//   - "keepalive": a CRLFCRLF message we sent (RFC 5626 ping)
//   - "pong":      a CRLF message we received (RFC 5626 pong)
//   - "sip":       every other message, with its direction and first line

// topVia returns the first Via (or v) header value of a SIP message.
export function topVia(msg) {
  for (const line of msg.split("\r\n").slice(1)) {
    if (line === "") break;
    const m = /^(via|v)\s*:\s*(.*)$/i.exec(line);
    if (m) return m[2].split(",")[0].trim();
  }
  return "";
}

// keepOf returns N from keep=N on a Via value, or null.
export function keepOf(via) {
  const m = /;\s*keep\s*=\s*(\d+)/i.exec(via);
  return m ? Number(m[1]) : null;
}

function cseqMethod(msg) {
  const m = /\r\n(?:cseq)\s*:\s*\d+\s+(\w+)/i.exec(msg);
  return m ? m[1].toUpperCase() : "";
}

// offerKeep adds ;keep to the top Via of a request (RFC 6223 §4.3, the
// sender's offer). SIP.js and JsSIP have no setting for Via parameters, and
// both compare the Via host of a response with their own, so the parameter
// is added here, on the way to the socket, where neither looks.
export function offerKeep(msg) {
  if (msg.startsWith("SIP/2.0 ")) return msg;
  return msg.replace(/^(Via:[^\r]*?)(;branch=)/im, "$1;keep$2");
}

// watchWebSocket returns a subclass of Base that calls report(event) for
// each message, and offers ;keep on every request it sends. ctorArgs lets
// Node pass options (trust in a throwaway certificate) to ws.
export function watchWebSocket(Base, report, ctorArgs = {}) {
  return class WatchedWebSocket extends Base {
    constructor(url, protocols) {
      super(url, protocols, ctorArgs);
      this.addEventListener("message", (ev) => {
        const data = typeof ev.data === "string" ? ev.data : String(ev.data);
        if (data === "\r\n") return report({ type: "pong", at: Date.now() });
        if (data.startsWith("SIP/2.0 ")) {
          const via = topVia(data);
          const method = cseqMethod(data);
          const status = Number(data.slice(8, 11));
          report({ type: "sip", dir: "in", first: data.split("\r\n")[0], method, via });
          const keep = keepOf(via);
          if (keep !== null && status >= 200 && status < 300) report({ type: "keep", method, keep, via });
          return;
        }
        report({ type: "sip", dir: "in", first: data.split("\r\n")[0], via: topVia(data) });
      });
    }
    send(data) {
      if (data === "\r\n\r\n") report({ type: "keepalive", at: Date.now() });
      else if (typeof data === "string") {
        data = offerKeep(data);
        report({ type: "sip", dir: "out", first: data.split("\r\n")[0], via: topVia(data) });
      }
      super.send(data);
    }
  };
}
