// Package opensips holds the sipkeep adapter for OpenSIPS 3.x
// (sipkeep_opensips.py, run by OpenSIPS's python module over libsipkeep.so).
// OpenSIPS is not packaged for Debian bookworm, so the test runs the adapter
// against a stand-in OpenSIPS module and a recording fake message, with the
// real library and plugin loaded; see README.md for what is and is not
// verified.
package opensips
