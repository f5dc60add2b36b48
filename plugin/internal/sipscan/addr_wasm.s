//go:build !purego

#include "go_asm.h"
#include "textflag.h"
#include "scan_wasm.h"

// func nextAddr(b []byte, i int, want string) (st, vs, ve, next, us, ue int)
//
// nextAddrGo step for step (skipAddr included); the comments name its
// variables.
//
// R0 base, R1 n, R2 i, R3 j, R4 k, R5 &class, R6 st, R7 ns, R8 ne,
// R9 pe, R10 pvs, R11 pve, R12 pq (addrQuoted or 0), R13 x (a byte or a
// word), R14 scratch, R15 len(want).

// DONE(code): return st | code (the other results are stored as found).
#define DONE(code) Get R6; I64Const $code; I64Or; Set R6; MOVD R6, st+48(FP); RET

// QUOTED(q, r): r just past the quoted-string that starts at b[q] == '"'.
// Each '\\' takes the byte after it, so the first '"' not taken closes it
// (skipQuoted's odd-run rule, read forwards). Not closed: ErrTruncated.
// While eight bytes remain it jumps to the next '"' or '\\' a word at a
// time (display names and +sip.instance values are long and have few
// escapes), then goes byte by byte.
#define QUOTED(q, r) \
	Get q; I64Const $1; I64Add; Set r; \
	Block; Block; Loop; \
	Get r; I64Const $8; I64Add; Get R1; I64GtU; BrIf $1; \
	Get R0; Get r; I64Add; I32WrapI64; I64Load $0; Set R13; \
	ZSUB(0x2222222222222222); ZSUB(0x5c5c5c5c5c5c5c5c); I64Or; NOTX80; Tee R14; I64Eqz; \
	If; Get r; I64Const $8; I64Add; Set r; Br $1; End; \
	Get r; Get R14; I64Ctz; I64Const $3; I64ShrU; I64Add; Set r; \
	AT(r); I64Const $34; I64Eq; BrIf $2; \
	Get r; I64Const $2; I64Add; Set r; \
	Br $0; \
	End; End; \
	Loop; \
	Get r; Get R1; I64GeU; If; DONE(const_addrTrunc); End; \
	AT(r); Tee R13; I64Const $34; I64Eq; BrIf $1; \
	Get r; Get R13; I64Const $92; I64Eq; I64ExtendI32U; I64Const $1; I64Add; I64Add; Set r; \
	Br $0; \
	End; End; \
	Get r; I64Const $1; I64Add; Set r

TEXT ·nextAddr(SB), NOSPLIT, $0-96
	// Results a path does not reach read 0, as in nextAddrGo. The frame's
	// last word first: wazero then knows the frame is in bounds, and the
	// other accesses to it here need no check of their own.
	I64Const $0
	Set R6
	MOVD R6, ue+88(FP)
	MOVD R6, us+80(FP)
	MOVD R6, next+72(FP)
	MOVD R6, ve+64(FP)
	MOVD R6, vs+56(FP)
	MOVD b_base+0(FP), R0
	MOVD b_len+8(FP), R1
	MOVD i+24(FP), R2
	MOVD want_len+40(FP), R15
	MOVD $·class(SB), R5

	Loop // one pass per stretch of the value; junk starts another
		// skipAddr: to the header parameters.
		Block
		Loop
			Get R2
			Get R1
			I64GeU
			BrIf $1
			AT(R2)
			Tee R13
			I64Const $34 // '"'
			I64Eq
			If
				QUOTED(R2, R2)
				Br $1
			End
			Get R13
			I64Const $60 // '<'
			I64Eq
			If
				// the first '>' after it: eight bytes at a time while
				// eight remain (a zero-byte test of x ^ '>'s: its
				// lowest flag is exact), then the last few as one word
				// when b's capacity holds it (see VALUERUN), then byte
				// by byte.
				Get R2
				I64Const $1
				I64Add
				Set R2
				MOVD R2, us+80(FP)
				Block // found at R2
				Block // fewer than eight left
				Loop
					Get R2
					I64Const $8
					I64Add
					Get R1
					I64GtU
					BrIf $1
					LOAD64(R2)
					Set R13
					ZSUB(0x3e3e3e3e3e3e3e3e)
					NOTX80
					Tee R14
					I64Eqz
					If
						Get R2
						I64Const $8
						I64Add
						Set R2
						Br $1
					End
					Get R2
					Get R14
					I64Ctz
					I64Const $3
					I64ShrU
					I64Add
					Set R2
					Br $2
				End
				End
				MOVD b_cap+16(FP), R13
				Block // the capacity is short too
					Get R2
					I64Const $8
					I64Add
					Get R13
					I64GtU
					BrIf $0
					LOAD64(R2)
					Set R13
					ZSUB(0x3e3e3e3e3e3e3e3e)
					NOTX80
					I64Ctz
					I64Const $3
					I64ShrU
					Get R2
					I64Add
					Tee R2
					Get R1
					I64GeU
					If
						DONE(const_addrTrunc)
					End
					Br $1
				End
				Loop
					Get R2
					Get R1
					I64GeU
					If
						DONE(const_addrTrunc)
					End
					AT(R2)
					I64Const $62 // '>'
					I64Eq
					BrIf $1
					Get R2
					I64Const $1
					I64Add
					Set R2
					Br $0
				End
				End
				MOVD R2, ue+88(FP)
				Get R2
				I64Const $1
				I64Add
				Set R2
				Br $2
			End
			Get R13
			I64Const $59 // ';'
			I64Eq
			Get R13
			I64Const $44 // ','
			I64Eq
			I32Or
			BrIf $1
			Get R2
			I64Const $1
			I64Add
			Set R2
			Br $0
		End
		End

		// *( SWS ';' SWS name [SWS '=' SWS value] )
		Block
		Loop
			Get R2
			Set R3
			WSRUN(R3)
			Get R3
			Get R1
			I64GeU
			BrIf $1
			AT(R3)
			I64Const $59 // ';'
			I64Ne
			BrIf $1
			Get R3
			I64Const $1
			I64Add
			Set R3
			WSRUN(R3)
			Get R3
			Set R7
			TOKENRUN(R3, R4)
			Get R3
			Get R7
			I64Eq
			BrIf $1 // a ';' with no name: checked below
			Get R3
			Tee R8
			Set R9
			I64Const $0
			Tee R10
			Tee R11
			Set R12
			WSRUN(R3)

			Block // [ '=' value ]
				Get R3
				Get R1
				I64GeU
				BrIf $0
				AT(R3)
				I64Const $61 // '='
				I64Ne
				BrIf $0
				Get R3
				I64Const $1
				I64Add
				Tee R3
				Set R9
				WSRUN(R3)
				Get R3
				Tee R10
				Set R11
				Get R3
				Get R1
				I64GeU
				BrIf $0
				AT(R3)
				I64Const $34 // '"'
				I64Eq
				If
					QUOTED(R3, R4)
					Get R4
					Tee R11
					Set R9
					I64Const $const_addrQuoted
					Set R12
				Else
					// token value: the cValue run, eight bytes at a
					// time while eight remain (valueRun8), then byte by
					// byte.
					Get R3
					Set R4
					VALUERUN(R4)
					Get R4
					Get R3
					I64GtU
					If
						Get R4
						Tee R11
						Set R9
					End
				End
			End
			Get R9
			Set R2

			// The first parameter named want wins: same length, then
			// eqFold (only names of want's length get here). want is
			// lower case without '_' (its callers' literals): each of
			// its bytes has 0x20 set, and w&^0x20 is w's upper case or
			// not a token. The name's bytes are tokens, so c|0x20 ==
			// want[k] exactly when eqFold's fold of c is. A name of 1..8 bytes with eight
			// bytes of b from it compares as one word; want's word may
			// read past the literal, into the module's data, and is
			// masked. Else byte by byte, folding 'A'..'Z' alone.
			Get R6
			I64Const $const_addrFound
			I64And
			I64Eqz
			Get R8
			Get R7
			I64Sub
			Get R15
			I64Eq
			I32And
			If
				MOVD want_base+32(FP), R14
				I64Const $0
				Set R4
				Block // a byte differs
				Block // found
					Block // bytes
						Get R15
						I64Const $1
						I64Sub
						I64Const $8
						I64GeU
						Get R7
						I64Const $8
						I64Add
						Get R1
						I64GtU
						I32Or
						BrIf $0
						Get R0
						Get R7
						I64Add
						I32WrapI64
						I64Load $0
						I64Const $0x2020202020202020
						I64Or
						Get R14
						I32WrapI64
						I64Load $0
						I64Xor
						I64Const $-1
						I64Const $64
						Get R15
						I64Const $3
						I64Shl
						I64Sub
						I64ShrU
						I64And
						I64Eqz
						BrIf $1
						Br $2
					End
					Loop
						Get R4
						Get R15
						I64LtU
						If
							// b[ns+k], upper case folded: + 0x20 when
							// it is in 'A'..'Z'
							Get R0
							Get R7
							I64Add
							Get R4
							I64Add
							I32WrapI64
							I64Load8U $0
							Tee R13
							Get R13
							I64Const $65 // 'A'
							I64Sub
							I64Const $26
							I64LtU
							I64ExtendI32U
							I64Const $5
							I64Shl
							I64Add
							Get R14
							Get R4
							I64Add
							I32WrapI64
							I64Load8U $0
							I64Ne
							BrIf $3
							Get R4
							I64Const $1
							I64Add
							Set R4
							Br $1
						End
					End
				End
					Get R6
					I64Const $const_addrFound
					I64Or
					Get R12
					I64Or
					Set R6
					MOVD R10, vs+56(FP)
					MOVD R11, ve+64(FP)
				End
			End
			Br $0
		End
		End

		WSRUN(R2)
		Get R2
		Get R1
		I64GeU
		If
			MOVD R1, next+72(FP)
			DONE(0)
		End
		AT(R2)
		Tee R13
		I64Const $44 // ','
		I64Eq
		If
			Get R2
			I64Const $1
			I64Add
			Set R2
			MOVD R2, next+72(FP)
			DONE(const_addrMore)
		End
		// A parameter with an empty name is skipped like other junk;
		// anything else is junk inside this value: skipAddr goes on to
		// the next comma, honouring quotes and '<...>'.
		Get R13
		I64Const $59 // ';'
		I64Eq
		If
			Get R2
			I64Const $1
			I64Add
			Set R2
		End
		Br $0
	End
	DONE(0)
