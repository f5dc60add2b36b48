//go:build !purego

#include "go_asm.h"
#include "textflag.h"
#include "scan_wasm.h"

// func viaValue(b []byte, i int, v *Via) (st, next int)
//
// viaValueGo step for step, but that hostnames are read eight bytes at a
// time; the comments name its variables. v is written through go_asm.h's
// Via_* offsets, with plain stores: Via holds no pointers, so the garbage
// collector needs no write barrier.
//
// R0 base, R1 n, R2 i, R3 j, R4 k, R5 &class, R6 scratch, R7 ns, R8 ne,
// R9 pe, R10 vs, R11 ve, R12 hasEq/quoted (viaHasEq, viaQuoted),
// R13 x (a byte or a word), R14 scratch, R15 v.

// DONE(code): return code (next is stored when found).
#define DONE(code) MOVD $code, st+40(FP); RET

// EXPECT(r, c): unless r < n and b[r] == c, the value is bad.
#define EXPECT(r, c) \
	Block; Block; \
	Get r; Get R1; I64GeU; BrIf $0; \
	AT(r); I64Const $c; I64Eq; BrIf $1; \
	End; DONE(const_viaBad); End

// TOKEN: the token at i (not empty), i past it.
#define TOKEN \
	Get R2; Set R3; \
	RUN(R2, const_cToken); \
	Get R2; Get R3; I64Eq; If; DONE(const_viaBad); End

// SLASH: SWS "/" SWS from i.
#define SLASH \
	WSRUN(R2); \
	EXPECT(R2, 47); \
	Get R2; I64Const $1; I64Add; Set R2; \
	WSRUN(R2)

// Eight bytes at once, each classified exactly (nameRun8): with x the
// word at r (R13) and x7 = x &^ 0x80.. (R14), every per-byte test below
// adds to 7-bit bytes constants that never carry into the next byte.
// ALNUMDASH(r) leaves a word whose byte high bits flag letters, digits
// and '-'; IS8(c) one that flags the bytes equal to c's; RUNLEN turns the
// flags into the number of leading flagged bytes, non-ASCII ones not.
#define ALNUMDASH(r) \
	Get R0; Get r; I64Add; I32WrapI64; I64Load $0; Tee R13; \
	I64Const $0x7f7f7f7f7f7f7f7f; I64And; Tee R14; \
	I64Const $0x2020202020202020; I64Or; Tee R6; \
	I64Const $0x1f1f1f1f1f1f1f1f; I64Add; \
	Get R6; I64Const $0x0505050505050505; I64Add; I64Const $-1; I64Xor; I64And; \
	Get R14; I64Const $0x5050505050505050; I64Add; \
	Get R14; I64Const $0x4646464646464646; I64Add; I64Const $-1; I64Xor; I64And; I64Or; \
	IS8(0x2d2d2d2d2d2d2d2d); I64Or
#define IS8(c) Get R14; I64Const $c; I64Xor; I64Const $0x7f7f7f7f7f7f7f7f; I64Add; I64Const $-1; I64Xor
#define RUNLEN \
	Get R13; I64Const $-1; I64Xor; I64And; \
	I64Const $-1; I64Xor; I64Const $-9187201950435737472; I64And; \
	I64Ctz; I64Const $3; I64ShrU

TEXT ·viaValue(SB), NOSPLIT, $0-56
	// The frame's last word first: wazero then checks the frame's bounds
	// once for the argument loads after it.
	MOVD $0, next+48(FP)
	MOVD b_base+0(FP), R0
	MOVD b_len+8(FP), R1
	MOVD i+24(FP), R2
	MOVD v+32(FP), R15
	MOVD $·class(SB), R5

	WSRUN(R2)
	Get R2
	Get R1
	I64GeU
	If
		DONE(const_viaEmpty)
	End
	MOVD R2, Via_Start(R15)
	MOVD $0, Via_End(R15)
	MOVD $0, Via_Insert(R15)
	MOVB $const_KeepAbsent, Via_Keep(R15)
	MOVW $0, Via_KeepValue(R15)
	MOVD $0, Via_KeepStart(R15)
	MOVD $0, Via_KeepEnd(R15)
	MOVD $0, Via_KeepNameEnd(R15)

	// sent-protocol. The usual "SIP/2.0/" (two tokens and two slashes
	// with no LWS between them) as one word, then the second SLASH's
	// trailing LWS; any other form token by token.
	Block
		Block
			Get R2
			I64Const $8
			I64Add
			Get R1
			I64GtU
			BrIf $0
			LOAD64(R2)
			I64Const $0x2f302e322f504953 // "SIP/2.0/", little-endian
			I64Ne
			BrIf $0
			Get R2
			I64Const $8
			I64Add
			Set R2
			WSRUN(R2)
			Br $1
		End
		TOKEN
		SLASH
		TOKEN
		SLASH
	End
	TOKEN

	// LWS is mandatory between transport and host.
	Get R2
	Set R3
	WSRUN(R3)
	Get R3
	Get R2
	I64Eq
	Get R3
	Get R1
	I64GeU
	I32Or
	If
		DONE(const_viaBad)
	End
	Get R3
	Set R2

	// host
	AT(R2)
	I64Const $91 // '['
	I64Eq
	If
		Get R2
		I64Const $1
		I64Add
		Set R3
		RUN(R3, const_cV6)
		Get R3
		Get R2
		I64Const $1
		I64Add
		I64Eq
		If
			DONE(const_viaBad)
		End
		EXPECT(R3, 93) // ']'
		Get R3
		I64Const $1
		I64Add
		Set R2
	Else
		// hostname / IPv4address: letters, digits, '-', '.', '_' eight
		// at a time while eight remain, then byte by byte.
		Block // run found
		Block // fewer than eight left
		Loop
			Get R3
			I64Const $8
			I64Add
			Get R1
			I64GtU
			BrIf $1
			ALNUMDASH(R3)
			IS8(0x2e2e2e2e2e2e2e2e) // '.'
			I64Or
			IS8(0x5f5f5f5f5f5f5f5f) // '_'
			I64Or
			RUNLEN
			Tee R4
			Get R3
			I64Add
			Set R3
			Get R4
			I64Const $8
			I64Ne
			BrIf $2
			Br $0
		End
		End
		RUN(R3, const_cHost)
		End
		Get R3
		Get R2
		I64Eq
		If
			DONE(const_viaBad)
		End
		Get R3
		Set R2
	End

	// [ COLON port ]
	Get R2
	Set R3
	WSRUN(R3)
	Block
		Get R3
		Get R1
		I64GeU
		BrIf $0
		AT(R3)
		I64Const $58 // ':'
		I64Ne
		BrIf $0
		Get R3
		I64Const $1
		I64Add
		Set R3
		WSRUN(R3)
		// The digits eight at a time while eight bytes remain (a port
		// has at most five, so the first word holds its end), then one
		// by one.
		Get R3
		Set R4
		Block // run found
		Block // fewer than eight left, or eight digits
			Get R4
			I64Const $8
			I64Add
			Get R1
			I64GtU
			BrIf $0
			Get R0
			Get R4
			I64Add
			I32WrapI64
			I64Load $0
			Set R13
			DIGITRUN(R13)
			Tee R6
			Get R4
			I64Add
			Set R4
			Get R6
			I64Const $8
			I64Ne
			BrIf $1
		End
		RUN(R4, const_cDigit)
		End
		Get R4
		Get R3
		I64Eq
		If
			DONE(const_viaBad)
		End
		Get R4
		Set R2
	End

	// *( SEMI via-params )
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
		// Most names are letters, digits and '-' followed by '=' or ';'
		// (nameRun8): TOKENRUN passes them a word at a time.
		TOKENRUN(R3, R6)
		Get R3
		Get R7
		I64Eq
		If
			DONE(const_viaBad)
		End
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
			I64Const $const_viaHasEq
			Set R12
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
				// quoted-string: each '\\' takes the byte after it,
				// so the first '"' not taken closes (skipQuoted).
				Get R3
				I64Const $1
				I64Add
				Set R4
				Block
				Loop
					Get R4
					Get R1
					I64GeU
					If
						DONE(const_viaTrunc)
					End
					AT(R4)
					Tee R13
					I64Const $34
					I64Eq
					BrIf $1
					Get R4
					Get R13
					I64Const $92 // '\\'
					I64Eq
					I64ExtendI32U
					I64Const $1
					I64Add
					I64Add
					Set R4
					Br $0
				End
				End
				Get R4
				I64Const $1
				I64Add
				Tee R11
				Set R9
				Get R12
				I64Const $const_viaQuoted
				I64Or
				Set R12
			Else
				// token value: the cValue run, eight bytes at a time
				// while eight remain (valueRun8), then byte by byte.
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

		// keep: four bytes that OR 0x20 to "keep" (each letter has bit
		// 0x20 set, so only it and its upper case do).
		Get R8
		Get R7
		I64Sub
		I64Const $4
		I64Eq
		If
			Get R0
			Get R7
			I64Add
			I32WrapI64
			I32Load $0
			I32Const $0x20202020
			I32Or
			I32Const $0x7065656b // "keep", little-endian
			I32Eq
			If
				MOVB Via_Keep(R15), R6
				Get R6
				I64Eqz
				If
					// setKeep, the first keep: R6 the state.
					MOVD R7, Via_KeepStart(R15)
					MOVD R8, Via_KeepNameEnd(R15)
					MOVD R9, Via_KeepEnd(R15)
					Block
						I64Const $const_KeepBare
						Set R6
						Get R12
						I64Eqz
						BrIf $0
						I64Const $const_KeepBad
						Set R6
						Get R12
						I64Const $const_viaQuoted
						I64And
						I64Eqz
						I32Eqz
						BrIf $0
						Get R10
						Get R11
						I64Eq
						BrIf $0
						// parseUint32(b[vs:ve]): R14 the number, R4 k
						I64Const $0
						Set R14
						Get R10
						Set R4
						Block
						Loop
							Get R4
							Get R11
							I64GeU
							BrIf $1
							AT(R4)
							I64Const $48 // '0'
							I64Sub
							Tee R13
							I64Const $9
							I64GtU
							BrIf $2
							Get R14
							I64Const $10
							I64Mul
							Get R13
							I64Add
							Tee R14
							I64Const $0xffffffff
							I64GtU
							BrIf $2
							Get R4
							I64Const $1
							I64Add
							Set R4
							Br $0
						End
						End
						MOVW R14, Via_KeepValue(R15)
						I64Const $const_KeepValue
						Set R6
					End
					MOVB R6, Via_Keep(R15)
				Else
					// The offsets stay on the first (see setKeep).
					MOVB $const_KeepDuplicate, Via_Keep(R15)
					MOVW $0, Via_KeepValue(R15)
				End
			End
		End
		Br $0
	End
	End

	// Only LWS, then ',' or the end, may follow.
	MOVD R2, Via_End(R15)
	MOVD R2, Via_Insert(R15)
	WSRUN(R2)
	Get R2
	Get R1
	I64GeU
	If
		DONE(const_viaLast)
	End
	AT(R2)
	I64Const $44 // ','
	I64Ne
	If
		DONE(const_viaJunk)
	End
	Get R2
	I64Const $1
	I64Add
	Set R2
	MOVD R2, next+48(FP)
	DONE(const_viaMore)
