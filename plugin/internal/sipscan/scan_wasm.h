// Macros shared by the scanner's wasm assembly (addr_wasm.s,
// via_value_wasm.s, line_walk_wasm.h, scan_wasm.s). They assume R0 the
// message's base and R1 its length n; RUN, VALUERUN and WSRUN also R5
// &class and R13 and R14 scratch (R13 a byte or a word of the message),
// as addr_wasm.s and via_value_wasm.s have them.

// AT(r): b[r] as an i64 (the caller has checked r < n).
#define AT(r) Get R0; Get r; I64Add; I32WrapI64; I64Load8U $0

// LOAD64(r): the eight bytes at b[r] as an i64, little-endian (the caller
// has checked that they are in b, or in its capacity).
#define LOAD64(r) Get R0; Get r; I64Add; I32WrapI64; I64Load $0

// NOTIN(r, c): push whether b[r] is not in class c (R5 &class; the
// caller has checked r < n).
#define NOTIN(r, c) Get R5; AT(r); I64Add; I32WrapI64; I32Load8U $0; I32Const $c; I32And; I32Eqz

// RUN(r, c): advance r while r < n and b[r] is in class c.
#define RUN(r, c) \
	Block; Loop; \
	Get r; Get R1; I64GeU; BrIf $1; \
	NOTIN(r, c); BrIf $1; \
	Get r; I64Const $1; I64Add; Set r; \
	Br $0; \
	End; End

// WSRUN(r): RUN(r, cWS), but that a byte above ' ' (never LWS) ends it
// before the loop: most LWS runs in a value are empty, and entering a
// loop costs wazero's code a reload of the memory's base and length.
#define WSRUN(r) \
	Block; \
	Get r; Get R1; I64GeU; BrIf $0; \
	AT(r); I64Const $32; I64GtU; BrIf $0; \
	RUN(r, const_cWS); \
	End

// ZSUB(c): (x ^ c) - 0x01.. for x in R13, one term of a zero-byte test
// for the byte c (below 0x80) in x: the byte-wise test is
// ((x ^ c) - 0x01..) & ~(x ^ c) & 0x80.., and since c's bytes are below
// 0x80, ~(x ^ c) & 0x80.. is ~x & 0x80.. whatever c is. So several such
// tests (and the "below k" test, (x - k*0x01..) & ~x & 0x80..) are one
// AND of their ORed terms with ~x & 0x80.., bit for bit the OR of the
// separate tests, for half the instructions (see valueRun8).
#define ZSUB(c) Get R13; I64Const $c; I64Xor; I64Const $0x0101010101010101; I64Sub
#define NOTX80 Get R13; I64Const $-1; I64Xor; I64And; I64Const $-9187201950435737472; I64And

// VALUERUN(r): advance r over the cValue run (a token parameter value):
// eight bytes at a time while eight remain (valueRun8: a byte stops the
// run if it is below '!', or ';', ',', '"' or DEL), then the last few as
// one word too when b's capacity holds eight bytes from r, which it does
// for a value that ends its header line (b is the line, sliced from the
// message): the run stops at n, whatever the bytes past it are. Else byte
// by byte. Needs b as its function's first argument.
#define VALUEWORD(r) \
	LOAD64(r); Set R13; \
	Get R13; I64Const $0x2121212121212121; I64Sub; \
	ZSUB(0x3b3b3b3b3b3b3b3b); I64Or; \
	ZSUB(0x2c2c2c2c2c2c2c2c); I64Or; \
	ZSUB(0x2222222222222222); I64Or; \
	ZSUB(0x7f7f7f7f7f7f7f7f); I64Or; \
	NOTX80
#define VALUERUN(r) \
	Block; Block; Loop; \
	Get r; I64Const $8; I64Add; Get R1; I64GtU; BrIf $1; \
	VALUEWORD(r); Tee R14; I64Eqz; \
	If; Get r; I64Const $8; I64Add; Set r; Br $1; End; \
	Get r; Get R14; I64Ctz; I64Const $3; I64ShrU; I64Add; Set r; \
	Br $2; \
	End; End; \
	MOVD b_cap+16(FP), R13; \
	Block; \
	Get r; I64Const $8; I64Add; Get R13; I64GtU; BrIf $0; \
	VALUEWORD(r); \
	I64Ctz; I64Const $3; I64ShrU; Tee R14; \
	Get R1; Get r; I64Sub; Tee R13; \
	Get R14; Get R13; I64LtU; Select; \
	Get r; I64Add; Set r; \
	Br $1; \
	End; \
	RUN(r, const_cValue); \
	End

// NEWLINE(r, y0, y1, y2, y3, s): advance r to the first '\n' at or after
// it, or to n; thirty-two bytes at a time while thirty-two remain, then
// eight, then byte by byte (y0..y3 and s scratch). In y = x ^ 0x0a.. a
// '\n' is a zero byte. The 32-byte loop tests its four words y0..y3
// with the cheap (y - 0x01..) & 0x80.., which never misses a zero byte
// but also flags bytes above 0x80: on a flag, the exact test (ZEROBYTES,
// whose lowest flag is exact) tells a '\n' from a non-ASCII byte, word
// by word, in the words already loaded.
//
// The four loads share one bounds check: the address is put in SP (an
// i32: Go's wasm locals are all i64), which wazero's code reads back as
// the same value, so that a load at offset 0..16 after one at 24 is known
// to be in bounds (through an i64 local, each load's i32.wrap is a new
// value with its own check). Nothing reads SP in between: the loop calls
// nothing and wasm runs nothing else meanwhile; s keeps Go's SP, restored
// at the end.
#define ZEROBYTES(t) Get t; I64Const $0x0101010101010101; I64Sub; Get t; I64Const $-1; I64Xor; I64And; I64Const $-9187201950435737472; I64And
#define NLWORD(off, y) Get SP; I64Load $off; I64Const $0x0a0a0a0a0a0a0a0a; I64Xor; Tee y; I64Const $0x0101010101010101; I64Sub
#define NLEXACT(r, y, off) \
	Block; ZEROBYTES(y); Tee y; I64Eqz; BrIf $0; \
	Get r; Get y; I64Ctz; I64Const $3; I64ShrU; I64Add; I64Const $off; I64Add; Set r; Br $3; \
	End
#define NEWLINE(r, y0, y1, y2, y3, s) \
	Get SP; I64ExtendI32U; Set s; \
	Block; \
	Block; Loop; \
	Get r; I64Const $32; I64Add; Get R1; I64GtU; BrIf $1; \
	Get R0; Get r; I64Add; I32WrapI64; Set SP; \
	NLWORD(24, y3); \
	NLWORD(16, y2); I64Or; \
	NLWORD(8, y1); I64Or; \
	NLWORD(0, y0); I64Or; \
	I64Const $-9187201950435737472; I64And; I64Eqz; \
	If; Get r; I64Const $32; I64Add; Set r; Br $1; End; \
	NLEXACT(r, y0, 0); \
	NLEXACT(r, y1, 8); \
	NLEXACT(r, y2, 16); \
	NLEXACT(r, y3, 24); \
	Get r; I64Const $32; I64Add; Set r; Br $0; \
	End; End; \
	Block; Loop; \
	Get r; I64Const $8; I64Add; Get R1; I64GtU; BrIf $1; \
	LOAD64(r); \
	I64Const $0x0a0a0a0a0a0a0a0a; I64Xor; Set y0; ZEROBYTES(y0); Tee y0; I64Eqz; \
	If; Get r; I64Const $8; I64Add; Set r; Br $1; End; \
	Get r; Get y0; I64Ctz; I64Const $3; I64ShrU; I64Add; Set r; \
	Br $2; \
	End; End; \
	Loop; \
	Get r; Get R1; I64GeU; BrIf $1; \
	AT(r); I64Const $10; I64Eq; BrIf $1; \
	Get r; I64Const $1; I64Add; Set r; \
	Br $0; \
	End; End; \
	Get s; I32WrapI64; Set SP

// TOKENRUN(r, x): RUN(r, cToken), eight bytes at a time where it can: a
// word's leading letters, digits and '-' (NAMERUN; x the word, R13 and
// R14 scratch) are passed at once, and when the byte after them is '='
// or ';' (the usual end of a parameter name) the run ends there without
// a load. Any other byte is classified on its own, and the words go on
// after it ("+sip.instance"). With fewer than eight bytes to n, the word
// is still read when b's capacity holds it (see VALUERUN), and the run
// stops at n. Needs R5 &class, like RUN, and b as the first argument.
#define TOKENRUN(r, x) \
	Block; Loop; \
	Block; \
	Block; \
	Get r; I64Const $8; I64Add; Get R1; I64GtU; BrIf $0; \
	LOAD64(r); Set x; \
	NAMERUN(x); Set R14; \
	Get r; Get R14; I64Add; Set r; \
	Get R14; I64Const $8; I64Eq; BrIf $2; \
	Get x; Get R14; I64Const $3; I64Shl; I64ShrU; I64Const $0xff; I64And; Tee x; \
	I64Const $61; I64Eq; Get x; I64Const $59; I64Eq; I32Or; BrIf $3; \
	Br $1; \
	End; \
	MOVD b_cap+16(FP), R14; \
	Get r; I64Const $8; I64Add; Get R14; I64GtU; BrIf $0; \
	LOAD64(r); Set x; \
	NAMERUN(x); Tee R14; \
	Get R1; Get r; I64Sub; Tee R13; \
	Get R14; Get R13; I64LtU; Select; \
	Get r; I64Add; Set r; \
	End; \
	Get r; Get R1; I64GeU; BrIf $1; \
	NOTIN(r, const_cToken); BrIf $1; \
	Get r; I64Const $1; I64Add; Set r; \
	Br $0; \
	End; End

// NOTDIGIT(v): push, for the 7-bit bytes of v, (0xaf - v) | (v + 0x46),
// whose bit 7 is set in each byte that is not an ASCII digit (below '0',
// or above '9'); no byte borrows or carries into the next.
#define NOTDIGIT(v) I64Const $-5787213827046133841; Get v; I64Sub; Get v; I64Const $0x4646464646464646; I64Add; I64Or

// DIGITRUN(x): push how many of the eight bytes of x are ASCII digits
// before the first that is not (digitRun8; R14 scratch): NOTDIGIT of its
// 7-bit bytes, ORed with x for the bytes above 0x7f.
#define DIGITRUN(x) \
	Get x; I64Const $0x7f7f7f7f7f7f7f7f; I64And; Set R14; \
	NOTDIGIT(R14); \
	Get x; I64Or; I64Const $-9187201950435737472; I64And; \
	I64Ctz; I64Const $3; I64ShrU

// NAMERUN(x): push how many of the eight bytes of x (not R13 or R14) are
// letters, digits or '-' before the first that is not (nameRun8 in
// lex.go; R13 and R14 scratch). Per 7-bit byte v (x7, R13) and its lower
// case l = v | 0x20 (R14), bit 7 of each term is set when v is not:
// a letter, (0xe0 - l) | (l + 0x05) (l below 'a', or above 'z'); a digit,
// NOTDIGIT(v); '-', (v ^ 0x2d) + 0x7f. Their AND is "none of
// the three", ORed with x for the bytes above 0x7f. No byte of these
// sums and differences carries or borrows into the next, and subtracting
// from a constant needs no NOT (two instructions each in wazero's code).
#define NAMERUN(x) \
	Get x; I64Const $0x7f7f7f7f7f7f7f7f; I64And; Tee R13; \
	I64Const $0x2020202020202020; I64Or; Tee R14; \
	I64Const $0x0505050505050505; I64Add; \
	I64Const $-2242545357980376864; Get R14; I64Sub; I64Or; \
	NOTDIGIT(R13); I64And; \
	Get R13; I64Const $0x2d2d2d2d2d2d2d2d; I64Xor; I64Const $0x7f7f7f7f7f7f7f7f; I64Add; I64And; \
	Get x; I64Or; I64Const $-9187201950435737472; I64And; \
	I64Ctz; I64Const $3; I64ShrU
