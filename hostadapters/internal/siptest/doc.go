// Package siptest is the test-side SIP kit shared by the tests that drive a
// real Kamailio or OpenSIPS with sipkeep's module loaded
// (hostadapters/kamailio, hostadapters/opensips): a minimal user agent over
// UDP or TCP, header helpers, a UAS that answers INVITEs, and the sipp
// runner. It lives in ordinary (non-test) files so both test packages can
// import it, and under internal/ so nothing outside hostadapters does.
//
// Only what is the same for both servers is here: starting a server,
// its configuration templates and its statistics stay with its package.
package siptest
