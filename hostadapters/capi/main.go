// Command capi is the sipkeep host as a C library: built with
// -buildmode=c-shared it becomes libsipkeep.so, whose API is sipkeep.h in this
// directory (make capi installs both under build/).
//
// The library wraps host.Host in store-less mode: callers keep flow records
// (Kamailio in htable, OpenSIPS in its own store) and run timers themselves,
// so a pre-forking server's workers share state without sharing a Go runtime.
// It is loaded lazily in each worker, after the fork, by the Python adapters
// in hostadapters/kamailio and hostadapters/opensips, or by C code.
package main

/*
#include <stdint.h>
*/
import "C"

func main() {}
