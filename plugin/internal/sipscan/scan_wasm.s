//go:build !purego

#include "go_asm.h"
#include "textflag.h"
#include "scan_wasm.h"

// func scanLines(b []byte, i int, s *scanState) (start, e, next, ne, c int, h hdr)
//
// A loop of the header-line walk (line_walk_wasm.h, inline); each line it
// stops at is read here (and the loop goes on) or left to Go (scanLines
// returns it). A case reads into scratch registers and commits to m and s
// only once the whole line is read, so a line left to Go halfway leaves no
// trace. Nothing stored is a pointer: found values are offsets (field),
// which ScanFor turns into slices.
//
// R0 base, R1 n, R8 &class, R15 s; the walk's results R2 start, R5 e,
// R6 next, R10 ne, R4 c, R12 h stay as they are until the line is done
// with, since a line left to Go returns them. R3 (m, loaded from s for
// each line), R7, R9, R11 (v, the value's first byte, then a position in
// it), R13 and R14 are the cases' scratch. The frame holds the callees'
// arguments and results at 0(SP), and a count at 96(SP).

#define ISWS(r) Get R8; AT(r); I64Add; I32WrapI64; I32Load8U $0; I32Const $const_cWS; I32And

// SKIPWS(r, end): advance r over LWS, stopping at end.
#define SKIPWS(r, end) \
	Block; Loop; \
	Get r; Get end; I64GeU; BrIf $1; \
	ISWS(r); I32Eqz; BrIf $1; \
	Get r; I64Const $1; I64Add; Set r; \
	Br $0; \
	End; End

// TRIMWS(s, r): move r back over the LWS before it, stopping at s (R14
// scratch).
#define TRIMWS(s, r) \
	Block; Loop; \
	Get r; Get s; I64LeU; BrIf $1; \
	Get r; I64Const $1; I64Sub; Set R14; \
	ISWS(R14); I32Eqz; BrIf $1; \
	Get R14; Set r; \
	Br $0; \
	End; End

// SEEN(f): push s.seen.f (a bool, 0 or 1).
#define SEEN(f) Get R15; I32WrapI64; I32Load8U $(scanState_seen+f)
#define SETSEEN(f) Get R15; I32WrapI64; I32Const $1; I32Store8 $(scanState_seen+f)

// FIELD(off, s, e): m's field at off = found(s, e).
#define FIELD(off, s, e) \
	Get R3; I32WrapI64; Get s; I64Store32 $off; \
	Get R3; I32WrapI64; Get e; I64Const $1; I64Add; I64Store32 $(off+4)

// DIGITSVALUE(x, k): push the number written by the k (1..7) digits in
// the low bytes of x (digitsValue).
#define DIGITSVALUE(x, k) \
	Get x; I64Const $64; Get k; I64Const $3; I64Shl; I64Sub; I64Shl; \
	I64Const $0x0f0f0f0f0f0f0f0f; I64And; \
	I64Const $2561; I64Mul; I64Const $8; I64ShrU; I64Const $0x00ff00ff00ff00ff; I64And; \
	I64Const $6553601; I64Mul; I64Const $16; I64ShrU; I64Const $0x0000ffff0000ffff; I64And; \
	I64Const $42949672960001; I64Mul; I64Const $32; I64ShrU

// NEXTADDR(want): nextAddr(b[:e], R11, want); st, vs, ve, next, us, ue
// at 48..88(SP) (R14 scratch).
#define NEXTADDR(want) \
	MOVD R0, 0(SP); MOVD R5, 8(SP); MOVD R1, 16(SP); MOVD R11, 24(SP); \
	MOVD $want(SB), R14; \
	Get SP; Get R14; I32WrapI64; I64Load $0; I64Store $32; \
	Get SP; Get R14; I32WrapI64; I64Load $8; I64Store $40; \
	CALLNORESUME ·nextAddr(SB)

TEXT ·scanLines(SB), NOSPLIT, $104-81
	// h, the frame's last byte, first (it is set again on return):
	// wazero then checks the frame's bounds once for the argument loads
	// after it.
	MOVB $0, h+80(FP)
	MOVD b_base+0(FP), R0
	MOVD b_len+8(FP), R1
	MOVD i+24(FP), R2
	MOVD s+32(FP), R15
	MOVD $·class(SB), R8

	// The start line, when it is the line at i: the usual status line,
	// "SIP/2.0 ddd " (SIP in either case) with sixteen bytes in b and a
	// line after it, is read here (m.Status, and on to the headers);
	// any other start line goes back to Go as hStartLine.
	Get R15
	I32WrapI64
	I32Load8U $scanState_startLine
	If
		Block // read
		Block // Go's
			Get R2
			I64Const $16
			I64Add
			Get R1
			I64GtU
			BrIf $0
			LOAD64(R2)
			I64Const $0x202020
			I64Or
			I64Const $0x20302e322f706973 // "sip/2.0 ", little-endian
			I64Ne
			BrIf $0
			Get R2
			I64Const $8
			I64Add
			Set R11
			LOAD64(R11)
			Set R7 // "ddd " in the low four bytes
			DIGITRUN(R7)
			I64Const $3
			I64LtU
			BrIf $0
			Get R7
			I64Const $24
			I64ShrU
			I64Const $255
			I64And
			I64Const $32
			I64Ne
			BrIf $0
			I64Const $3
			Set R13
			DIGITSVALUE(R7, R13)
			Tee R9 // the status
			I64Const $100
			I64Sub
			I64Const $600
			I64GeU
			BrIf $0
			// R3: the line's '\n' (none: Go's).
			Get R2
			I64Const $12
			I64Add
			Set R3
			NEWLINE(R3, R13, R14, R5, R6, R11)
			Get R3
			Get R1
			I64GeU
			BrIf $0 // none: Go's
			// A status line that may go on past the scan's cap is Go's.
			Get R3
			I64Const $1
			I64Add
			Tee R3
			Get R1
			I64GeU
			BrIf $0
			MOVD scanState_m(R15), R13
			MOVD R9, Message_Status(R13)
			Get R15
			I32WrapI64
			I32Const $0
			I32Store8 $scanState_startLine
			Get R3
			Set R2
			Br $1
		End
		MOVD R2, start+40(FP)
		MOVD $0, e+48(FP)
		MOVD $0, next+56(FP)
		MOVD $0, ne+64(FP)
		MOVD $0, c+72(FP)
		MOVB $const_hStartLine, h+80(FP)
		RET
		End
	End

	Block // to Go: return the line the walk stopped at
	Loop // one header line per iteration
		MOVD scanState_kinds(R15), R9

#include "line_walk_wasm.h"

		// Not a header line, or one that may go on past the scan's cap.
		Get R12
		I64Eqz
		BrIf $1
		Get R6
		Get R1
		I64GeU
		BrIf $1
		Get R4
		I64Const $1
		I64Add
		Set R11
		MOVD scanState_m(R15), R3

		// In a case (an If in this block): $1 is done with the line,
		// $3 leaves it to Go.
		Block // done
			Get R12
			I64Const $const_hCallID
			I64Eq
			If
				SEEN(seen_callID)
				BrIf $1 // the first Call-ID counts
				Get R5
				Set R13
				SKIPWS(R11, R13)
				TRIMWS(R11, R13)
				FIELD(Message_callID, R11, R13)
				SETSEEN(seen_callID)
				Br $1
			End

			Get R12
			I64Const $const_hCSeq
			I64Eq
			If
				SEEN(seen_cseq)
				BrIf $3 // a second CSeq: Go's error
				// " 1*7DIGIT SP method", the method of 1..8 letters,
				// digits or '-' running to e; sixteen bytes from v+1
				// must be in b (as scanCSeq).
				Get R11
				I64Const $17
				I64Add
				Get R1
				I64GtU
				BrIf $3
				AT(R11)
				I64Const $32
				I64Ne
				BrIf $3
				Get R11
				I64Const $1
				I64Add
				Set R11 // j
				LOAD64(R11)
				Set R7 // x
				DIGITRUN(R7)
				Tee R9 // k
				I64Eqz
				BrIf $3
				Get R9
				I64Const $8
				I64Eq
				BrIf $3
				Get R11
				Get R9
				I64Add
				Set R11 // j+k
				AT(R11)
				I64Const $32
				I64Ne
				BrIf $3
				DIGITSVALUE(R7, R9)
				Set R7 // the number
				Get R11
				I64Const $1
				I64Add
				Set R11 // the method's start
				LOAD64(R11)
				Set R9 // w
				// l = e - start in 1..8
				Get R5
				Get R11
				I64Sub
				Tee R11 // l
				I64Const $1
				I64Sub
				I64Const $8
				I64GeU
				BrIf $3
				NAMERUN(R9)
				Get R11
				I64LtU
				BrIf $3
				// methodOfWord(w, l): R13 = &methodSlots.slot[k] - 8,
				// R14 the method.
				Get R11
				I64Const $8
				I64LtU
				If
					Get R9
					I64Const $1
					Get R11
					I64Const $3
					I64Shl
					I64Shl
					I64Const $1
					I64Sub
					I64And
					Set R9
				End
				MOVD $·methodSlots(SB), R13
				Get R9
				Get R13
				I32WrapI64
				I64Load $0
				I64Mul
				I64Const $(64-const_methodSlotBits)
				I64ShrU
				I64Const $4
				I64Shl
				Get R13
				I64Add
				Set R13
				I64Const $const_MethodOther
				Set R14
				Get R13
				I32WrapI64
				I64Load $8
				Get R9
				I64Eq
				If
					Get R13
					I32WrapI64
					I64Load8U $16
					Set R14
				End
				Get R3
				I32WrapI64
				Get R7
				I64Store32 $Message_CSeqNum
				Get R3
				I32WrapI64
				Get R14
				I64Store8 $Message_CSeqMethod
				SETSEEN(seen_cseq)
				Br $1
			End

			Get R12
			I64Const $const_hTo
			I64Eq
			If
				SEEN(seen_to)
				BrIf $1 // the first To counts
				SKIPWS(R11, R5)
				NEXTADDR(·wantTag)
				// Truncated, or an addr-spec (no '<'): Go's.
				MOVD 48(SP), R7 // st
				MOVD 88(SP), R13 // ue
				Get R7
				I64Const $const_addrTrunc
				I64And
				I64Eqz
				I32Eqz
				Get R13
				I64Eqz
				I32Or
				BrIf $3
				MOVD 80(SP), R9 // us
				FIELD(Message_toURI, R9, R13)
				Get R7
				I64Const $const_addrFound
				I64And
				I64Eqz
				I32Eqz
				If
					MOVD 56(SP), R9
					MOVD 64(SP), R13
					FIELD(Message_toTag, R9, R13)
				End
				SETSEEN(seen_to)
				Br $1
			End

			Get R12
			I64Const $const_hContact
			I64Eq
			If
				// 96(SP) the values counted, R9 and R13 the expires
				// max and min so far; per value R3 st, R11 then its
				// expires, R7 the expires' length.
				MOVD $0, 96(SP)
				MOVD Message_ContactExpiresMax(R3), R9
				MOVD Message_ContactExpiresMin(R3), R13
				Block // the line is read: $1 from the loop
				Loop // one value; $5 leaves the line to Go
					SKIPWS(R11, R5)
					Get R11
					Get R5
					I64GeU
					BrIf $1 // an empty header or a trailing comma
					AT(R11)
					I64Const $42 // '*'
					I64Eq
					BrIf $5
					NEXTADDR(·wantExpires)
					MOVD 48(SP), R3
					Get R3
					I64Const $const_addrTrunc
					I64And
					I64Eqz
					I32Eqz
					BrIf $5
					MOVD 96(SP), R7
					Get R7
					I64Const $1
					I64Add
					Set R7
					MOVD R7, 96(SP)
					Get R3
					I64Const $(const_addrFound|const_addrQuoted)
					I64And
					I64Const $const_addrFound
					I64Eq
					If
						// An expires of 1..7 digits, and eight bytes
						// from it in b; anything else is Go's.
						MOVD 56(SP), R11 // vs
						MOVD 64(SP), R7 // ve
						Get R7
						Get R11
						I64Sub
						Tee R7 // l
						I64Const $1
						I64Sub
						I64Const $7
						I64GeU
						Get R11
						I64Const $8
						I64Add
						Get R1
						I64GtU
						I32Or
						BrIf $6
						LOAD64(R11)
						Set R11 // x
						DIGITRUN(R11)
						Get R7
						I64Ne
						BrIf $6
						DIGITSVALUE(R11, R7)
						Set R11 // the value
						Get R9
						I64Const $0
						I64LtS
						Get R11
						Get R9
						I64GtS
						I32Or
						If
							Get R11
							Set R9
						End
						Get R13
						I64Const $0
						I64LtS
						Get R11
						Get R13
						I64LtS
						I32Or
						If
							Get R11
							Set R13
						End
					End
					Get R3
					I64Const $const_addrMore
					I64And
					I64Eqz
					BrIf $1
					MOVD 72(SP), R11
					Br $0
				End
				End
				MOVD scanState_m(R15), R3
				MOVD Message_Contacts(R3), R7
				MOVD 96(SP), R11
				Get R7
				Get R11
				I64Add
				Set R7
				MOVD R7, Message_Contacts(R3)
				MOVD R9, Message_ContactExpiresMax(R3)
				MOVD R13, Message_ContactExpiresMin(R3)
				Br $1
			End

			Get R12
			I64Const $const_hExpires
			I64Eq
			If
				SEEN(seen_expires)
				BrIf $1 // the first Expires counts
				// " 1*7DIGIT" to e, eight bytes from v+1 in b.
				Get R11
				I64Const $9
				I64Add
				Get R1
				I64GtU
				BrIf $3
				AT(R11)
				I64Const $32
				I64Ne
				BrIf $3
				Get R11
				I64Const $1
				I64Add
				Set R7 // j
				LOAD64(R7)
				Set R9 // x
				DIGITRUN(R9)
				Tee R13 // k
				I64Const $1
				I64Sub
				I64Const $7
				I64GeU
				BrIf $3
				Get R7
				Get R13
				I64Add
				Get R5
				I64Ne
				BrIf $3
				Get R3
				I32WrapI64
				DIGITSVALUE(R9, R13)
				I64Store $Message_Expires
				SETSEEN(seen_expires)
				Br $1
			End

			Get R12
			I64Const $const_hVia
			I64Eq
			If
				// The top Via, when ScanFor lets this read it and its
				// line holds no other value.
				Get R15
				I32WrapI64
				I32Load8U $scanState_topVia
				I32Eqz
				BrIf $3
				MOVD Message_NVias(R3), R7
				Get R7
				I64Eqz
				I32Eqz
				BrIf $3
				MOVD R0, 0(SP)
				MOVD R5, 8(SP)
				MOVD R1, 16(SP)
				MOVD R11, 24(SP)
				Get R3
				I64Const $Message_Vias
				I64Add
				Set R7
				MOVD R7, 32(SP)
				CALLNORESUME ·viaValue(SB)
				MOVD 40(SP), R7
				Get R7
				I64Const $const_viaLast
				I64Ne
				BrIf $3
				MOVD $1, Message_NVias(R3)
				MOVD scanState_viaKinds(R15), R7
				Get R7
				I64Eqz
				I32Eqz
				If
					MOVD R7, scanState_kinds(R15)
				End
				Br $1
			End

			Br $2 // any other header: Go's
		End
		Get R6
		Set R2
		Br $0
	End
	End

	MOVD R2, start+40(FP)
	MOVD R5, e+48(FP)
	MOVD R6, next+56(FP)
	MOVD R10, ne+64(FP)
	MOVD R4, c+72(FP)
	MOVB R12, h+80(FP)
	RET
