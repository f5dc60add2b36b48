package netkeep

// checkDatagram applies the stream framer's header checks to one UDP
// datagram: it must be a whole message starting at its first byte, with
// well-formed header lines within the limits and at most one Content-Length.
// n is the message's length: with a Content-Length, the datagram is cut after
// that many body bytes, as RFC 3261 §18.3 says a receiver does, so that the
// plugin and the SIP stack above see the same message. A Content-Length
// larger than the datagram is an error (§18.3: discard).
func checkDatagram(d []byte, lim Limits) (n int, err *frameError) {
	if len(d) == 0 || !isToken[d[0]] {
		return 0, unframeable("datagram does not start with a start line")
	}
	f := framer{store: d, w: len(d), lim: lim, st: stStart}
	if err := f.parseHead(d); err != nil {
		return 0, err
	}
	if f.st != stBody {
		return 0, badRequest("Bad Request", "datagram ends inside the headers")
	}
	if !f.clSeen {
		return len(d), nil
	}
	if f.total > len(d) {
		return 0, badRequest("Bad Request", "Content-Length %d exceeds the datagram", f.clValue)
	}
	return f.total, nil
}
