// Command capi is the sipkeep host as a C library: built with
// -buildmode=c-shared it becomes libsipkeep.so, whose API is sipkeep.h in this
// directory (make capi installs both under build/).
//
// Two ways in. The plugin service (service.go, sipkeep_svc_*): the one
// process of a pre-forking server (Kamailio, OpenSIPS) that loads the
// library after the fork runs the store-backed host, records and timers in
// one place, and serves every worker over a Unix socket through the shared
// C core in hostadapters/sipkeepc. And the store-less calls of sipkeep.h
// (sipkeep_open, sipkeep_call): callers keep flow records and run timers
// themselves.
package main

/*
#include <stdint.h>
*/
import "C"

func main() {}
