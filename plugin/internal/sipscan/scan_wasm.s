#include "go_asm.h"
#include "textflag.h"

// func scanLines(b []byte, i int, s *scanState) (start, e, next, ne, c int, h hdr)
//
// A loop of nextHeader calls; each line it returns is read here (and the
// loop goes on) or left to Go (scanLines returns it). A case reads into
// registers and commits to m and s only once the whole line is read, so a
// line left to Go halfway leaves no trace. Nothing stored is a pointer:
// found values are offsets (field), which ScanFor turns into slices.
//
// The frame holds the callees' arguments and results at 0(SP) (nextHeader
// returns start, ne and c at 40, 64 and 72(SP)); a case that calls
// nextAddr or viaValue, which overwrite them, saves them at 96..112(SP)
// first (SAVE) and puts them back before it leaves the line to Go
// (RESTORE).
//
// R0 base, R1 n, R2 i, R3 s, R4 m, R6 e, R7 next, R10 h, R11 v (the
// value's first byte, then a position in it), R15 &class; R5, R8, R9,
// R12, R13 and R14 are the cases' scratch.

#define AT(r) Get R0; Get r; I64Add; I32WrapI64; I64Load8U $0
#define LOAD64(r) Get R0; Get r; I64Add; I32WrapI64; I64Load $0
#define ISWS(r) Get R15; AT(r); I64Add; I32WrapI64; I32Load8U $0; I32Const $const_cWS; I32And

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
#define SEEN(f) Get R3; I32WrapI64; I32Load8U $(scanState_seen+f)
#define SETSEEN(f) Get R3; I32WrapI64; I32Const $1; I32Store8 $(scanState_seen+f)

// FIELD(off, s, e): m's field at off = found(s, e).
#define FIELD(off, s, e) \
	Get R4; I32WrapI64; Get s; I64Store32 $off; \
	Get R4; I32WrapI64; Get e; I64Const $1; I64Add; I64Store32 $(off+4)

#define SAVE MOVD 40(SP), R12; MOVD R12, 96(SP); MOVD 64(SP), R12; MOVD R12, 104(SP); MOVD 72(SP), R12; MOVD R12, 112(SP)
#define RESTORE(hh) MOVD 96(SP), R12; MOVD R12, 40(SP); MOVD 104(SP), R12; MOVD R12, 64(SP); MOVD 112(SP), R12; MOVD R12, 72(SP); I64Const $hh; Set R10

// DIGITRUN(x): push how many of the eight bytes of x are ASCII digits
// before the first that is not (digitRun8; R14 scratch).
#define DIGITRUN(x) \
	Get x; I64Const $0x7f7f7f7f7f7f7f7f; I64And; Tee R14; \
	I64Const $0x5050505050505050; I64Add; \
	Get R14; I64Const $0x4646464646464646; I64Add; I64Const $-1; I64Xor; I64And; \
	Get x; I64Const $-1; I64Xor; I64And; \
	I64Const $-1; I64Xor; I64Const $-9187201950435737472; I64And; \
	I64Ctz; I64Const $3; I64ShrU

// DIGITSVALUE(x, k): push the number written by the k (1..7) digits in
// the low bytes of x (digitsValue).
#define DIGITSVALUE(x, k) \
	Get x; I64Const $64; Get k; I64Const $3; I64Shl; I64Sub; I64Shl; \
	I64Const $0x0f0f0f0f0f0f0f0f; I64And; \
	I64Const $2561; I64Mul; I64Const $8; I64ShrU; I64Const $0x00ff00ff00ff00ff; I64And; \
	I64Const $6553601; I64Mul; I64Const $16; I64ShrU; I64Const $0x0000ffff0000ffff; I64And; \
	I64Const $42949672960001; I64Mul; I64Const $32; I64ShrU

// NAMERUN(x): push how many of the eight bytes of x are letters, digits
// or '-' before the first that is not (nameRun8; R14 and R13 scratch).
#define NAMERUN(x) \
	Get x; I64Const $0x7f7f7f7f7f7f7f7f; I64And; Tee R13; \
	I64Const $0x2020202020202020; I64Or; Tee R14; \
	I64Const $0x1f1f1f1f1f1f1f1f; I64Add; \
	Get R14; I64Const $0x0505050505050505; I64Add; I64Const $-1; I64Xor; I64And; \
	Get R13; I64Const $0x5050505050505050; I64Add; \
	Get R13; I64Const $0x4646464646464646; I64Add; I64Const $-1; I64Xor; I64And; \
	I64Or; \
	Get R13; I64Const $0x2d2d2d2d2d2d2d2d; I64Xor; I64Const $0x7f7f7f7f7f7f7f7f; I64Add; I64Const $-1; I64Xor; \
	I64Or; \
	Get x; I64Const $-1; I64Xor; I64And; I64Const $-9187201950435737472; I64And; \
	I64Const $-1; I64Xor; I64Const $-9187201950435737472; I64And; \
	I64Ctz; I64Const $3; I64ShrU

// NEXTADDR(want): nextAddr(b[:e], R11, want); st, vs, ve, next, us, ue
// at 48..88(SP).
#define NEXTADDR(want) \
	MOVD R0, 0(SP); MOVD R6, 8(SP); MOVD R1, 16(SP); MOVD R11, 24(SP); \
	MOVD $want(SB), R12; MOVD 0(R12), R13; MOVD R13, 32(SP); MOVD 8(R12), R13; MOVD R13, 40(SP); \
	CALLNORESUME ·nextAddr(SB)

TEXT ·scanLines(SB), NOSPLIT, $120-81
	MOVD b_base+0(FP), R0
	MOVD b_len+8(FP), R1
	MOVD i+24(FP), R2
	MOVD s+32(FP), R3
	MOVD scanState_m(R3), R4
	MOVD $·class(SB), R15

	Block // to Go: return the line nextHeader returned
	Loop // one header line per iteration
		MOVD R0, 0(SP)
		MOVD R1, 8(SP)
		MOVD R1, 16(SP)
		MOVD R2, 24(SP)
		MOVD scanState_kinds(R3), R12
		MOVD R12, 32(SP)
		CALLNORESUME ·nextHeader(SB)
		MOVD 48(SP), R6
		MOVD 56(SP), R7
		MOVB 80(SP), R10
		// Not a header line, or one that may go on past the scan's cap.
		Get R10
		I64Eqz
		BrIf $1
		Get R7
		Get R1
		I64GeU
		BrIf $1
		MOVD 72(SP), R11
		Get R11
		I64Const $1
		I64Add
		Set R11

		// In a case: $1 is done with the line, $3 leaves it to Go.
		Block // done
			Get R10
			I64Const $const_hCallID
			I64Eq
			If
				SEEN(seen_callID)
				BrIf $1 // the first Call-ID counts
				Get R6
				Set R13
				SKIPWS(R11, R13)
				TRIMWS(R11, R13)
				FIELD(Message_callID, R11, R13)
				SETSEEN(seen_callID)
				Br $1
			End

			Get R10
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
				Set R5
				LOAD64(R5)
				Set R12 // x
				DIGITRUN(R12)
				Tee R8 // k
				I64Eqz
				BrIf $3
				Get R8
				I64Const $8
				I64Eq
				BrIf $3
				Get R5
				Get R8
				I64Add
				Tee R5 // j+k
				Set R9
				AT(R9)
				I64Const $32
				I64Ne
				BrIf $3
				Get R5
				I64Const $1
				I64Add
				Tee R5 // s
				Set R9
				LOAD64(R9)
				Set R9 // w
				// l = e - s in 1..8
				Get R6
				Get R5
				I64Sub
				Tee R5 // l
				I64Const $1
				I64Sub
				I64Const $8
				I64GeU
				BrIf $3
				NAMERUN(R9)
				Get R5
				I64LtU
				BrIf $3
				// methodOfWord(w, l)
				Get R5
				I64Const $8
				I64LtU
				If
					Get R9
					I64Const $1
					Get R5
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
				Set R13 // &slot[k] - 8
				Get R8
				Set R14
				Get R4
				I32WrapI64
				DIGITSVALUE(R12, R14)
				I64Store32 $Message_CSeqNum
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
				Get R4
				I32WrapI64
				Get R14
				I64Store8 $Message_CSeqMethod
				SETSEEN(seen_cseq)
				Br $1
			End

			Get R10
			I64Const $const_hTo
			I64Eq
			If
				SEEN(seen_to)
				BrIf $1 // the first To counts
				SAVE
				SKIPWS(R11, R6)
				NEXTADDR(·wantTag)
				// Truncated, or an addr-spec (no '<'): Go's.
				MOVD 48(SP), R12
				MOVD 88(SP), R13
				Get R12
				I64Const $const_addrTrunc
				I64And
				I64Eqz
				I32Eqz
				Get R13
				I64Eqz
				I32Or
				If
					RESTORE(const_hTo)
					Br $4
				End
				MOVD 80(SP), R5
				FIELD(Message_toURI, R5, R13)
				Get R12
				I64Const $const_addrFound
				I64And
				I64Eqz
				I32Eqz
				If
					MOVD 56(SP), R5
					MOVD 64(SP), R13
					FIELD(Message_toTag, R5, R13)
				End
				SETSEEN(seen_to)
				Br $1
			End

			Get R10
			I64Const $const_hContact
			I64Eq
			If
				// R5 values counted, R8 and R9 the expires max and
				// min so far.
				SAVE
				I64Const $0
				Set R5
				MOVD Message_ContactExpiresMax(R4), R8
				MOVD Message_ContactExpiresMin(R4), R9
				Block // the line is read: $1 from the loop
				Loop // one value; $5 leaves the line to Go
					SKIPWS(R11, R6)
					Get R11
					Get R6
					I64GeU
					BrIf $1 // an empty header or a trailing comma
					AT(R11)
					I64Const $42 // '*'
					I64Eq
					If
						RESTORE(const_hContact)
						Br $6
					End
					NEXTADDR(·wantExpires)
					MOVD 48(SP), R12
					Get R12
					I64Const $const_addrTrunc
					I64And
					I64Eqz
					I32Eqz
					If
						RESTORE(const_hContact)
						Br $6
					End
					Get R5
					I64Const $1
					I64Add
					Set R5
					Get R12
					I64Const $(const_addrFound|const_addrQuoted)
					I64And
					I64Const $const_addrFound
					I64Eq
					If
						// An expires of 1..7 digits, and eight bytes
						// from it in b; anything else is Go's.
						MOVD 56(SP), R13 // vs
						MOVD 64(SP), R10 // ve
						Get R10
						Get R13
						I64Sub
						Tee R10 // l
						I64Const $1
						I64Sub
						I64Const $7
						I64GeU
						Get R13
						I64Const $8
						I64Add
						Get R1
						I64GtU
						I32Or
						If
							RESTORE(const_hContact)
							Br $7
						End
						LOAD64(R13)
						Set R13 // x
						DIGITRUN(R13)
						Get R10
						I64Ne
						If
							RESTORE(const_hContact)
							Br $7
						End
						DIGITSVALUE(R13, R10)
						Set R13 // the value
						Get R8
						I64Const $0
						I64LtS
						Get R13
						Get R8
						I64GtS
						I32Or
						If
							Get R13
							Set R8
						End
						Get R9
						I64Const $0
						I64LtS
						Get R13
						Get R9
						I64LtS
						I32Or
						If
							Get R13
							Set R9
						End
					End
					Get R12
					I64Const $const_addrMore
					I64And
					I64Eqz
					BrIf $1
					MOVD 72(SP), R11
					Br $0
				End
				End
				MOVD Message_Contacts(R4), R12
				Get R12
				Get R5
				I64Add
				Set R12
				MOVD R12, Message_Contacts(R4)
				MOVD R8, Message_ContactExpiresMax(R4)
				MOVD R9, Message_ContactExpiresMin(R4)
				Br $1
			End

			Get R10
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
				Tee R5
				Set R12
				LOAD64(R12)
				Set R12
				DIGITRUN(R12)
				Tee R8
				I64Const $1
				I64Sub
				I64Const $7
				I64GeU
				BrIf $3
				Get R5
				Get R8
				I64Add
				Get R6
				I64Ne
				BrIf $3
				Get R4
				I32WrapI64
				DIGITSVALUE(R12, R8)
				I64Store $Message_Expires
				SETSEEN(seen_expires)
				Br $1
			End

			Get R10
			I64Const $const_hVia
			I64Eq
			If
				// The top Via, when ScanFor lets this read it and its
				// line holds no other value.
				Get R3
				I32WrapI64
				I32Load8U $scanState_topVia
				I32Eqz
				BrIf $3
				MOVD Message_NVias(R4), R12
				Get R12
				I64Eqz
				I32Eqz
				BrIf $3
				SAVE
				MOVD R0, 0(SP)
				MOVD R6, 8(SP)
				MOVD R1, 16(SP)
				MOVD R11, 24(SP)
				Get R4
				I64Const $Message_Vias
				I64Add
				Set R12
				MOVD R12, 32(SP)
				CALLNORESUME ·viaValue(SB)
				MOVD 40(SP), R12
				Get R12
				I64Const $const_viaLast
				I64Ne
				If
					RESTORE(const_hVia)
					Br $4
				End
				MOVD $1, Message_NVias(R4)
				MOVD scanState_viaKinds(R3), R12
				Get R12
				I64Eqz
				I32Eqz
				If
					MOVD R12, scanState_kinds(R3)
				End
				Br $1
			End

			Br $2 // any other header: Go's
		End
		Get R7
		Set R2
		Br $0
	End
	End

	MOVD 40(SP), R12
	MOVD R12, start+40(FP)
	MOVD R6, e+48(FP)
	MOVD R7, next+56(FP)
	MOVD 64(SP), R12
	MOVD R12, ne+64(FP)
	MOVD 72(SP), R12
	MOVD R12, c+72(FP)
	MOVB R10, h+80(FP)
	RET
