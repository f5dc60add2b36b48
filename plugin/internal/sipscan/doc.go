package sipscan

// The scanner's wasm assembly, and what keeps it honest.
//
// Four functions of the hot path have a hand-written wasm version, used
// only when building for wasm without the purego tag. Each has a Go twin
// that is the specification (the native build and the purego build run
// it), and both are checked against internal/sipscanref, the scanner as
// it was before any performance work:
//
//	assembly                           Go twin               checked by
//	addr_wasm.s       nextAddr         nextAddrGo (addr.go)  TestNextAddrEquivalence
//	via_value_wasm.s  viaValue         viaValueGo            TestViaValueEquivalence
//	                                   (via_value.go)
//	line_wasm.s       nextHeader       nextHeaderGo          TestNextHeaderEquivalence
//	  + line_walk_wasm.h (the walk)    (line.go)
//	scan_wasm.s       scanLines        nextHeader, then      TestScanLinesMatchesReference
//	  + line_walk_wasm.h (inline)      ScanFor's own loop    TestStartLineMatchesReference
//	                                   (scan_other.go)
//	scan_wasm.h       macros shared by all of them (byte classes, word-at-a-time runs)
//
// Whole messages are compared with the reference by TestMatchesReference
// and FuzzScanMatchesReference (seeded with RFC 4475's torture messages,
// testdata/rfc4475). The equivalence tests draw random inputs and compare
// the assembly with its twin result by result; they only reach the
// assembly inside wasm (make test-wasm runs them on wazero; make soak-wasm
// runs them longer with fresh seeds).
//
// # What the assembly relies on
//
// Go's wasm port gives none of this a compatibility promise; a Go release
// can break any of it. Build with -tags purego (make conformance
// TAGS=purego, make test-purego) and the assembly is left out: the Go
// twins are used and the plugin behaves the same, only slower.
//
//   - The ABI0 frame: arguments and results at fixed offsets from FP
//     (name+offset(FP), e.g. b_base+0(FP), st+48(FP)); a slice is base, len,
//     cap words and a string base, len (the VALUERUN macro reads b's cap to
//     load the last word of a line past its length).
//   - Registers R0–R15 as wasm locals of type i64 that Get/Set/Tee address
//     and that need not be saved for the caller; MOVD/MOVB between them and
//     the frame.
//   - NOSPLIT functions with a fixed frame ($0-96 and the like; scanLines
//     has a local frame of 104 bytes): no stack growth check, so no calls
//     and no allocation inside.
//   - Linear memory addresses equal to Go pointers (b's base, &class,
//     the *kindTable, *Via, *scanState) truncated to i32 for loads and
//     stores, and little-endian 8-byte loads anywhere inside b's capacity.
//   - go_asm.h's names for the package's constants (const_cWS,
//     const_addrTrunc, const_hVia, ...) and struct field offsets (Via_Keep,
//     Message_NVias, scanState_m, ...): renaming or reordering them in Go
//     is picked up at build time, but changing a constant's meaning is not.
//   - The -B (no bounds checks) compilation of this package that the
//     Makefile applies: the assembly, like the Go built with it, trusts its
//     own index arithmetic, which the equivalence tests and fuzzers check.
