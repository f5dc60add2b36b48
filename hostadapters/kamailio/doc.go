// Package kamailio holds the tests that prove sipkeep's native Kamailio
// module (module/sipkeep_mod.c over the shared C core in
// hostadapters/sipkeepc, with the plugin service of hostadapters/capi)
// against a real Kamailio: they build libsipkeep.so, the plugin and the
// module (make kamailio-module), render examples/kamailio/kamailio.cfg with
// their own ports and paths, start Kamailio in the foreground on 127.0.0.1
// and drive it with Go sockets and sipp. Without a kamailio binary the tests
// skip.
package kamailio
