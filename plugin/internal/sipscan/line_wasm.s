//go:build !purego

#include "go_asm.h"
#include "textflag.h"
#include "scan_wasm.h"

// func nextHeader(b []byte, i int, kinds *kindTable) (start, e, next, ne, c int, h hdr)
//
// The walk itself is line_walk_wasm.h, which scanLines runs inline too;
// it says which registers hold what.
TEXT ·nextHeader(SB), NOSPLIT, $0-81
	MOVD b_base+0(FP), R0
	MOVD b_len+8(FP), R1
	MOVD i+24(FP), R2
	MOVD kinds+32(FP), R9
	MOVD $·class(SB), R8

#include "line_walk_wasm.h"

	MOVD R2, start+40(FP)
	MOVD R5, e+48(FP)
	MOVD R6, next+56(FP)
	MOVD R10, ne+64(FP)
	MOVD R4, c+72(FP)
	MOVB R12, h+80(FP)
	RET
