// Package keep is the pure-Go logic of the sipkeep plugin: RFC 6223 keep
// negotiation (the Via "keep" parameter) and RFC 5626 keep-alives (CRLF on
// streams, STUN Binding on UDP). It has no wasm-specific code: the wasm
// exports in package main (plugin/main.go) and the native test harness
// (plugin/keeptest) both drive a *Plugin through the same three entry points,
// OnRequest, OnResponse and OnTimer, which implement abi/ABI.md exactly:
// decode the input with abi.DecodeInputNoAddrs, scan, decide, encode the output into
// the caller's buffer and return its length or -Errno. None of them allocates.
package keep
