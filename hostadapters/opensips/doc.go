// Package opensips tests sipkeep's native OpenSIPS module (module/, the C
// glue of sipkeep.so on the shared core in hostadapters/sipkeepc) against a
// real OpenSIPS built from its source: `make opensips-test
// OPENSIPS_SRC=<tree>`. Without such a build the tests skip, saying why:
// OpenSIPS is not packaged for Debian and CI cannot fetch its source. See
// README.md.
package opensips
