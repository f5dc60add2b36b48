// Package kamailio holds the sipkeep adapter for Kamailio (sipkeep_kamailio.py,
// run by app_python3 over libsipkeep.so) and the tests that prove it against
// a real Kamailio: they build the C library and the plugin, render
// examples/kamailio/kamailio.cfg with their own ports and paths, start
// Kamailio in the foreground on 127.0.0.1 and drive it with Go sockets and
// sipp. Without a kamailio binary the tests skip.
package kamailio
