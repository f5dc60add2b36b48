// The header-line walk of nextHeader (line_wasm.s), included by it and
// by scanLines (scan_wasm.s), which runs it inline: in wazero a call into
// a function costs ~20 ns of prologue, argument loads and epilogue, more
// than most lines the walk passes over.
//
// From the logical header line that starts at R2, it passes over every
// line the kinds table (R9) does not name and stops at the first other
// one (nextHeaderGo's loop). In: R0 base, R1 n, R2 i, R8 &class, R9
// kinds. Out: R2 start, R5 e, R6 next, R10 ne, R4 c, R12 h. Scratch: R3
// (pos, the start of the current physical line), R7 (then the name's
// length l), R11 (a word of the name, then c0), R13, R14, and R5 and R6
// until they are set (NEWLINE's words). It uses scan_wasm.h's NEWLINE
// and NAMERUN, which its includer includes first.

	Block // found: return the line at R2
	Loop // one logical header line per iteration
		Get R2
		Set R3

		Block // lines
		Loop
			// R4 = index of the first '\n' in [pos, n), or n.
			Get R3
			Set R4
			NEWLINE(R4, R7, R13, R5, R6, R11)

			// No terminator: e, next = n, n.
			Get R4
			Get R1
			I64Eq
			If
				Get R1
				Set R5
				Get R1
				Set R6
				Br $2
			End
			Get R4
			Set R5
			Get R4
			I64Const $1
			I64Add
			Set R6
			// if e > pos && b[e-1] == '\r' { e-- }
			Get R5
			Get R3
			I64GtU
			If
				Get R0
				Get R5
				I64Add
				I64Const $1
				I64Sub
				I32WrapI64
				I64Load8U $0
				I64Const $13
				I64Eq
				If
					Get R5
					I64Const $1
					I64Sub
					Set R5
				End
			End
			// A line starting with SP or HTAB continues this one.
			Get R6
			Get R1
			I64GeU
			BrIf $1
			Get R0
			Get R6
			I64Add
			I32WrapI64
			I64Load8U $0
			Tee R7
			I64Const $32
			I64Eq
			If
				Get R6
				Set R3
				Br $1
			End
			// (Two tests: wazero's code for b == ' ' || b == '\t'
			// sets, extends and ors both results before one test.)
			Get R7
			I64Const $9
			I64Ne
			BrIf $1
			Get R6
			Set R3
			Br $0
		End
		End

		// ne: the cToken run from start, stopping at e. First eight
		// bytes at a time while they are letters, digits and '-' (almost
		// every name; nameRun8 in lex.go), then byte by byte.
		//
		// Almost always the byte that ends the run is the ':' itself, in
		// the word just read: then ne and c are where the run stopped and
		// the colon is there, and the byte loops and the colon's load
		// below (three loads with their bounds checks, two of them in
		// loops that wazero's code enters at a cost) are skipped.
		Get R2
		Set R4
		Block // colon: ne = c = R4, b[R4] == ':'
		Block // the general way
		Loop
			Get R4
			I64Const $8
			I64Add
			Get R5
			I64GtU
			BrIf $1
			Get R0
			Get R4
			I64Add
			I32WrapI64
			I64Load $0
			Tee R11
			NAMERUN(R11)
			Tee R7
			Get R4
			I64Add
			Set R4
			Get R7
			I64Const $8
			I64Eq
			BrIf $0
			// b[R4] is byte R7 of the word.
			Get R11
			Get R7
			I64Const $3
			I64Shl
			I64ShrU
			I64Const $0xff
			I64And
			I64Const $58 // ':'
			I64Ne
			BrIf $1
			Get R4
			Set R10
			Br $2
		End
		End
		Block
		Loop
			Get R4
			Get R5
			I64GeU
			BrIf $1
			Get R8
			Get R0
			Get R4
			I64Add
			I32WrapI64
			I64Load8U $0
			I64Add
			I32WrapI64
			I32Load8U $0
			I32Const $const_cToken
			I32And
			I32Eqz
			BrIf $1
			Get R4
			I64Const $1
			I64Add
			Set R4
			Br $0
		End
		End
		Get R4
		Set R10

		// c: the cWS run from ne, stopping at e.
		Block
		Loop
			Get R4
			Get R5
			I64GeU
			BrIf $1
			Get R8
			Get R0
			Get R4
			I64Add
			I32WrapI64
			I64Load8U $0
			I64Add
			I32WrapI64
			I32Load8U $0
			I32Const $const_cWS
			I32And
			I32Eqz
			BrIf $1
			Get R4
			I64Const $1
			I64Add
			Set R4
			Br $0
		End
		End

		// A line that is not a well-formed header (no name, or no ':'
		// after the name's LWS) goes back to Go as hOther.
		I64Const $0
		Set R12
		Get R4
		Get R5
		I64GeU
		BrIf $2
		Get R0
		Get R4
		I64Add
		I32WrapI64
		I64Load8U $0
		I64Const $58 // ':'
		I64Ne
		BrIf $2
		End // colon
		I64Const $0
		Set R12
		Get R10
		Get R2
		I64Eq
		BrIf $1

		// headerKind: a name shorter than kindRows bytes starting with a letter
		// whose kinds entry is not hOther, and equal to its hdrName.
		Block // skip
			Get R10
			Get R2
			I64Sub
			Tee R7 // l
			I64Const $const_kindRows
			I64GeU
			BrIf $0
			Get R0
			Get R2
			I64Add
			I32WrapI64
			I64Load8U $0
			Tee R11
			I64Const $0x20
			I64Or
			I64Const $97 // 'a'
			I64Sub
			I64Const $25 // 'z'-'a'
			I64GtU
			BrIf $0
			Get R9
			Get R7
			I64Const $5
			I64Shl
			I64Add
			Get R11
			I64Const $31
			I64And
			I64Add
			I32WrapI64
			I64Load8U $0
			Tee R12
			I64Eqz
			BrIf $0
			// A compact form is the letter alone.
			Get R7
			I64Const $1
			I64Eq
			BrIf $2
			// "call-id" and "contact": told apart by the second byte.
			Get R12
			I64Const $const_hCallID
			I64Eq
			If
				Get R0
				Get R2
				I64Add
				I32WrapI64
				I64Load8U $1
				I64Const $0x20
				I64Or
				I64Const $111 // 'o'
				I64Eq
				If
					// kinds[0][0]: hContact, or hOther when the
					// scan leaves Contact out.
					Get R9
					I32WrapI64
					I64Load8U $0
					Set R12
				End
			End
			// R13 = &hdrName[h] (a string: pointer, length); the
			// lengths must match.
			MOVD $·hdrName(SB), R13
			Get R12
			I64Const $4
			I64Shl
			Get R13
			I64Add
			Tee R13
			I32WrapI64
			I64Load $8
			Get R7
			I64Ne
			BrIf $0
			// Name bytes are tokens, for which c|0x20 is the lower-case
			// letter exactly when c is that letter in either case, and
			// '-' only for '-'. So a name of up to 16 bytes is compared
			// as two words ORed with 0x20.. and masked to its length,
			// against hdrWords[h]; a longer one, or one too near the
			// end of b for the loads, byte by byte below.
			Block // bytes
				Get R7
				I64Const $16
				I64GtU
				Get R2
				I64Const $16
				I64Add
				Get R1
				I64GtU
				I32Or
				BrIf $0
				MOVD $·hdrWords(SB), R14
				Get R12
				I64Const $4
				I64Shl
				Get R14
				I64Add
				Set R14
				// first word, masked to min(l, 8) bytes
				Get R0
				Get R2
				I64Add
				I32WrapI64
				I64Load $0
				I64Const $0x2020202020202020
				I64Or
				I64Const $-1
				I64Const $0
				I64Const $64
				Get R7
				I64Const $3
				I64Shl
				I64Sub
				Get R7
				I64Const $8
				I64GeU
				Select
				I64ShrU
				I64And
				Get R14
				I32WrapI64
				I64Load $0
				I64Xor
				// second word, masked to l-8 bytes (none when l <= 8)
				Get R0
				Get R2
				I64Add
				I32WrapI64
				I64Load $8
				I64Const $0x2020202020202020
				I64Or
				I64Const $-1
				I64Const $128
				Get R7
				I64Const $3
				I64Shl
				I64Sub
				I64ShrU
				I64Const $0
				Get R7
				I64Const $8
				I64GtU
				Select
				I64And
				Get R14
				I32WrapI64
				I64Load $8
				I64Xor
				I64Or
				I64Eqz
				BrIf $3 // found
				Br $1 // skipped
			End
			Get R13
			I32WrapI64
			I64Load $0
			Set R13
			I64Const $0
			Set R14
			Loop
				Get R14
				Get R7
				I64GeU
				BrIf $3
				Get R0
				Get R2
				I64Add
				Get R14
				I64Add
				I32WrapI64
				I64Load8U $0
				I64Const $0x20
				I64Or
				Get R13
				Get R14
				I64Add
				I32WrapI64
				I64Load8U $0
				I64Ne
				BrIf $1
				Get R14
				I64Const $1
				I64Add
				Set R14
				Br $0
			End
		End

		// Skipped: on to the next line.
		Get R6
		Set R2
		Br $0
	End
	End
