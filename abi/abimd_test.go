package abi

// ABI.md is the specification a host written in another language follows;
// this package is the one Go hosts and the guest run. These tests read
// ABI.md's tables and hold them to the code: every layout row to the bytes
// the encoders write (and the decoder reads), every enumeration to the
// package's constants, found by type so that a new constant without a row
// fails too.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// mdTable is one Markdown table of ABI.md: its rows without the header.
type mdTable [][]string

// abiTables returns ABI.md's tables under each heading (without the #s).
func abiTables(t *testing.T) map[string][]mdTable {
	t.Helper()
	f, err := os.Open("ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tables := map[string][]mdTable{}
	var heading string
	var cur mdTable
	inTable := false
	flush := func() {
		if inTable {
			tables[heading] = append(tables[heading], cur)
		}
		cur, inTable = nil, false
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#"):
			flush()
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
		case strings.HasPrefix(line, "|"):
			if !inTable { // the header row
				inTable = true
				continue
			}
			if strings.HasPrefix(line, "|---") {
				continue
			}
			cur = append(cur, splitRow(line))
		default:
			flush()
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return tables
}

// splitRow splits a table row into its trimmed cells; `\|` is a literal bar.
func splitRow(line string) []string {
	line = strings.ReplaceAll(line, `\|`, "\x00")
	cells := strings.Split(strings.Trim(line, "|"), "|")
	for i, c := range cells {
		cells[i] = strings.TrimSpace(strings.ReplaceAll(c, "\x00", "|"))
	}
	return cells
}

// table returns the i-th table under heading, failing if there is none.
func table(t *testing.T, tables map[string][]mdTable, heading string, i int) mdTable {
	t.Helper()
	if len(tables[heading]) <= i {
		t.Fatalf("ABI.md: no table %d under the heading %q", i+1, heading)
	}
	return tables[heading][i]
}

// abiConsts type-checks the package's constant and type declarations (the
// rest needs imports this test need not resolve) and returns every
// package-level constant by name.
func abiConsts(t *testing.T) map[string]*types.Const {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var keep []ast.Decl
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			if gd.Tok == token.CONST {
				keep = append(keep, gd)
			}
			if gd.Tok == token.TYPE {
				var specs []ast.Spec
				for _, s := range gd.Specs {
					if _, basic := s.(*ast.TypeSpec).Type.(*ast.Ident); basic {
						specs = append(specs, s)
					}
				}
				if len(specs) > 0 {
					gd.Specs = specs
					keep = append(keep, gd)
				}
			}
		}
		f.Decls, f.Imports = keep, nil
		files = append(files, f)
	}
	pkg, err := new(types.Config).Check("abi", fset, files, nil)
	if err != nil {
		t.Fatalf("type-checking abi's constants: %v", err)
	}
	consts := map[string]*types.Const{}
	for _, name := range pkg.Scope().Names() {
		if c, ok := pkg.Scope().Lookup(name).(*types.Const); ok {
			consts[name] = c
		}
	}
	return consts
}

// constsOfType returns the value of every constant of the named type.
func constsOfType(consts map[string]*types.Const, typeName string) map[string]uint64 {
	out := map[string]uint64{}
	for name, c := range consts {
		if n, ok := c.Type().(*types.Named); ok && n.Obj().Name() == typeName {
			v, _ := constant.Uint64Val(c.Val())
			out[name] = v
		}
	}
	return out
}

// constsNamed returns the value of every constant whose name has prefix.
func constsNamed(consts map[string]*types.Const, prefix string) map[string]uint64 {
	out := map[string]uint64{}
	for name, c := range consts {
		if strings.HasPrefix(name, prefix) {
			v, _ := constant.Uint64Val(c.Val())
			out[name] = v
		}
	}
	return out
}

func valueSet(m map[string]uint64) []uint64 {
	var out []uint64
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// fieldKey is the name a layout row gives its field: the text before the
// first ':', ',' or '('.
func fieldKey(cell string) string {
	if i := strings.IndexAny(cell, ":,("); i >= 0 {
		cell = cell[:i]
	}
	return strings.TrimSpace(cell)
}

// eval computes a layout cell such as "80+R" or "24·E" with vars.
func eval(t *testing.T, expr string, vars map[string]int) int {
	t.Helper()
	sum := 0
	for _, term := range strings.Split(expr, "+") {
		prod := 1
		for _, f := range strings.Split(term, "·") {
			f = strings.TrimSpace(f)
			if n, err := strconv.Atoi(f); err == nil {
				prod *= n
			} else if v, ok := vars[f]; ok {
				prod *= v
			} else {
				t.Fatalf("ABI.md: cannot evaluate %q (unknown %q)", expr, f)
			}
		}
		sum += prod
	}
	return sum
}

// span is where a layout row puts its field, evaluated.
type span struct {
	key       string
	off, size int
}

// checkLayout holds a layout table to buf, the bytes the code wrote: the
// rows tile the buffer from offset 0 to its end, each row's bytes are
// want[its field] ("reserved" rows: zero), and every field in want has a
// row. "…" as an offset means right after the row before.
func checkLayout(t *testing.T, name string, rows mdTable, buf []byte, vars map[string]int, want map[string][]byte) []span {
	t.Helper()
	var spans []span
	seen := map[string]bool{}
	end := 0
	for _, r := range rows {
		if len(r) < 3 {
			t.Fatalf("ABI.md %s: row %q has fewer than three cells", name, r)
		}
		off := end
		if r[0] != "…" {
			off = eval(t, r[0], vars)
		}
		size := eval(t, r[1], vars)
		key := fieldKey(r[2])
		if off != end {
			t.Errorf("ABI.md %s: %q starts at %d, but the row before ends at %d", name, key, off, end)
		}
		end = off + size
		if end > len(buf) {
			t.Errorf("ABI.md %s: %q ends at %d, past the %d bytes the code wrote", name, key, end, len(buf))
			continue
		}
		spans = append(spans, span{key, off, size})
		got := buf[off:end]
		if key == "reserved" {
			if !bytes.Equal(got, make([]byte, size)) {
				t.Errorf("ABI.md %s: reserved bytes %d..%d are % x, want zero", name, off, end, got)
			}
			continue
		}
		w, ok := want[key]
		if !ok {
			t.Errorf("ABI.md %s: field %q is unknown to this test: a field added to the doc only?", name, key)
			continue
		}
		seen[key] = true
		if !bytes.Equal(got, w) {
			t.Errorf("ABI.md %s: %q at %d, %d bytes: the code wrote % x, want % x", name, key, off, size, got, w)
		}
	}
	if end != len(buf) {
		t.Errorf("ABI.md %s: the rows end at %d, the code wrote %d bytes", name, end, len(buf))
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("ABI.md %s: no row for %q", name, key)
		}
	}
	return spans
}

// rowFor returns the row whose field key is key.
func rowFor(t *testing.T, rows mdTable, key string) []string {
	t.Helper()
	for _, r := range rows {
		if len(r) >= 3 && fieldKey(r[2]) == key {
			return r
		}
	}
	t.Fatalf("ABI.md: no row %q", key)
	return nil
}

var (
	numberedRe = regexp.MustCompile(`(?:^|,\s*)(\d+) ([^,(]+)`)
	bitRe      = regexp.MustCompile(`bit (\d+)`)
	atMostRe   = regexp.MustCompile(`≤ (\d+)`)
)

// numbered parses "kind: 0 none (timer), 1 SIP request, ..." into value →
// name.
func numbered(cell string) map[uint64]string {
	_, list, _ := strings.Cut(cell, ":")
	list = strings.TrimSpace(list)
	out := map[uint64]string{}
	for _, m := range numberedRe.FindAllStringSubmatch(list, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		out[n] = strings.TrimSpace(m[2])
	}
	return out
}

// bits parses "bit 0 ..., bit 1 ..." into the set of 1<<bit.
func bits(cell string) []uint64 {
	var out []uint64
	for _, m := range bitRe.FindAllStringSubmatch(cell, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		out = append(out, 1<<n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func keys(m map[uint64]string) []uint64 {
	var out []uint64
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func sameSet(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// addrBytes is ABI.md's address encoding: 16-byte IPv6 (IPv4 mapped),
// 2-byte port, 2 zero bytes.
func addrBytes(ap netip.AddrPort) []byte {
	a := ap.Addr().As16()
	return append(append(a[:], le16(ap.Port())...), 0, 0)
}

func TestABIMarkdownInputLayout(t *testing.T) {
	tables := abiTables(t)
	rows := table(t, tables, "Input (little-endian)", 0)
	in := Input{Kind: KindPong, Dir: DirOut, Transport: TransportWSS, Role: RoleProxy,
		Flags: FlagInRouteSet | FlagLocalReply, Now: 0x0102030405060708, Random: 0x1112131415161718,
		FlowID:  0x2122232425262728,
		Remote:  netip.MustParseAddrPort("[2001:db8::31]:4660"),
		Local:   netip.MustParseAddrPort("192.0.2.41:5061"),
		Record:  []byte{0x51, 0x52, 0x53},
		Message: []byte("OPTIONS sip:a SIP/2.0\r\n\r\n"),
	}
	buf := make([]byte, MinInputCapacity)
	n := EncodeInput(buf, &in)
	if n < 0 {
		t.Fatal("EncodeInput failed")
	}
	checkLayout(t, "input", rows, buf[:n],
		map[string]int{"R": len(in.Record), "M": len(in.Message)},
		map[string][]byte{
			"kind":             {byte(in.Kind)},
			"direction":        {byte(in.Dir)},
			"transport":        {byte(in.Transport)},
			"role":             {byte(in.Role)},
			"flags":            le16(in.Flags),
			"record length R":  le16(uint16(len(in.Record))),
			"message length M": le32(uint32(len(in.Message))),
			"now":              le64(uint64(in.Now)),
			"64 random bits":   le64(in.Random),
			"flow id":          le64(in.FlowID),
			"remote address":   addrBytes(in.Remote),
			"local address":    addrBytes(in.Local),
			"the flow record":  in.Record,
			"the message":      in.Message,
		})
	if got := eval(t, rowFor(t, rows, "the flow record")[0], nil); got != InputHeaderSize {
		t.Errorf("ABI.md input: the record starts at %d, InputHeaderSize is %d", got, InputHeaderSize)
	}

	consts := abiConsts(t)
	for key, typ := range map[string]string{"kind": "Kind", "direction": "Direction", "transport": "Transport", "role": "Role"} {
		doc := numbered(rowFor(t, rows, key)[2])
		if code := valueSet(constsOfType(consts, typ)); !sameSet(keys(doc), code) {
			t.Errorf("ABI.md input %s lists %v, abi's %s constants are %v", key, keys(doc), typ, code)
		}
		if typ == "Transport" {
			for v, name := range doc {
				if s := Transport(v).String(); s != name {
					t.Errorf("ABI.md input transport %d is %q, Transport(%d).String() is %q", v, name, v, s)
				}
			}
		}
	}
	if doc, code := bits(rowFor(t, rows, "flags")[2]), valueSet(constsNamed(consts, "Flag")); !sameSet(doc, code) {
		t.Errorf("ABI.md input flags are %v, abi's Flag constants %v", doc, code)
	}
}

func TestABIMarkdownOutputLayout(t *testing.T) {
	tables := abiTables(t)
	rows := table(t, tables, "Output (little-endian)", 0)
	const msgLen = 100
	edits := []Edit{{Op: EditSetKeep, Value: 30, Start: 10, End: 10, TextOff: 0, TextLen: 8},
		{Op: EditStripKeepValue, Via: 2, Start: 40, End: 43, TextOff: 8}}
	actions := []Action{{Kind: ActSendSTUN, Reason: ReasonNone, Attempt: 2, Value: 1000, FlowID: 0x3132333435363738,
		TxID: [12]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}}
	text := []byte(";keep=30")
	record := []byte{2, 0x61, 0x62, 0x63, 0x64}
	h := OutputHeader{Reason: ReasonEdited, Flags: OutRecordChanged, Edits: len(edits), Actions: len(actions),
		RecordLen: len(record), TextLen: len(text), Deadline: 0x4142434445464748}
	var editBytes, actionBytes []byte
	for i := range edits {
		b := make([]byte, EditSize)
		PutEdit(b, &edits[i])
		editBytes = append(editBytes, b...)
	}
	for i := range actions {
		b := make([]byte, ActionSize)
		PutAction(b, &actions[i])
		actionBytes = append(actionBytes, b...)
	}
	want := map[string][]byte{
		"reason":                  le16(uint16(h.Reason)),
		"flags":                   le16(h.Flags),
		"edit count E":            le16(uint16(h.Edits)),
		"action count A":          le16(uint16(h.Actions)),
		"record length R":         le16(uint16(h.RecordLen)),
		"text length T":           le16(uint16(h.TextLen)),
		"next deadline":           le64(uint64(h.Deadline)),
		"edits":                   editBytes,
		"actions":                 actionBytes,
		"text area":               text,
		"the updated flow record": record,
	}
	vars := map[string]int{"E": len(edits), "A": len(actions), "T": len(text), "R": len(record)}

	// The header as PutOutputHeader writes it; the rest laid out where
	// ABI.md puts it, which DecodeOutput must read back.
	buf := make([]byte, OutputSize(&h))
	PutOutputHeader(buf, &h)
	end := 0
	for _, r := range rows {
		off := end
		if r[0] != "…" {
			off = eval(t, r[0], vars)
		}
		end = off + eval(t, r[1], vars)
		if off >= OutputHeaderSize && end <= len(buf) {
			copy(buf[off:end], want[fieldKey(r[2])])
		}
	}
	checkLayout(t, "output", rows, buf, vars, want)
	var out Output
	if err := DecodeOutput(buf, msgLen, &out); err != nil {
		t.Fatalf("DecodeOutput of an output laid out as ABI.md says: %v", err)
	}
	if out.OutputHeader != h || !bytes.Equal(out.Text, text) || !bytes.Equal(out.Record, record) ||
		len(out.EditList) != len(edits) || out.EditList[0] != edits[0] || out.EditList[1] != edits[1] ||
		len(out.ActionList) != len(actions) || out.ActionList[0] != actions[0] {
		t.Errorf("DecodeOutput read back\n%+v\nwant header %+v, edits %+v, actions %+v", out, h, edits, actions)
	}
	if got := eval(t, rowFor(t, rows, "edits")[0], nil); got != OutputHeaderSize {
		t.Errorf("ABI.md output: the edits start at %d, OutputHeaderSize is %d", got, OutputHeaderSize)
	}

	consts := abiConsts(t)
	if doc, code := bits(rowFor(t, rows, "flags")[2]), valueSet(constsNamed(consts, "OutRecord")); !sameSet(doc, code) {
		t.Errorf("ABI.md output flags are %v, abi's OutRecord constants %v", doc, code)
	}
	for key, max := range map[string]int{"edit count E": MaxEdits, "action count A": MaxActions} {
		m := atMostRe.FindStringSubmatch(rowFor(t, rows, key)[2])
		if m == nil || m[1] != strconv.Itoa(max) {
			t.Errorf("ABI.md output %q: want ≤ %d in its row", key, max)
		}
	}
}

func TestABIMarkdownEditLayout(t *testing.T) {
	tables := abiTables(t)
	heading := "Edits (" + strconv.Itoa(EditSize) + " bytes)"
	rows := table(t, tables, heading, 0)
	e := Edit{Op: EditStripKeepValue, Via: 0x11, Value: 0x21222324, Start: 0x31323334, End: 0x41424344,
		TextOff: 0x51525354, TextLen: 0x61626364}
	buf := make([]byte, EditSize)
	for i := range buf {
		buf[i] = 0xee // reserved bytes must be written as zero
	}
	PutEdit(buf, &e)
	checkLayout(t, "edit", rows, buf, nil, map[string][]byte{
		"op":                               {byte(e.Op)},
		"Via index":                        {e.Via},
		"value":                            le32(e.Value),
		"start byte offset in the message": le32(e.Start),
		"end byte offset":                  le32(e.End),
		"text offset in the text area":     le32(e.TextOff),
		"text length":                      le32(e.TextLen),
	})
	if got := GetEdit(buf); got != e {
		t.Errorf("GetEdit = %+v, want %+v", got, e)
	}
	doc := numbered(rowFor(t, rows, "op")[2])
	if code := valueSet(constsOfType(abiConsts(t), "EditOp")); !sameSet(keys(doc), code) {
		t.Errorf("ABI.md edit ops are %v, abi's EditOp constants %v", keys(doc), code)
	}
	for v, name := range doc {
		if s := EditOp(v).String(); s != name {
			t.Errorf("ABI.md edit op %d is %q, EditOp(%d).String() is %q", v, name, v, s)
		}
	}
}

func TestABIMarkdownActionLayout(t *testing.T) {
	tables := abiTables(t)
	heading := "Actions (" + strconv.Itoa(ActionSize) + " bytes)"
	rows := table(t, tables, heading, 0)
	a := Action{Kind: ActReceiveStarted, Reason: 0x2122, Attempt: 0x3132, Value: 0x41424344,
		FlowID: 0x5152535455565758, TxID: [12]byte{0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c}}
	buf := make([]byte, ActionSize)
	for i := range buf {
		buf[i] = 0xee
	}
	PutAction(buf, &a)
	checkLayout(t, "action", rows, buf, nil, map[string][]byte{
		"kind":                {byte(a.Kind)},
		"reason":              le16(uint16(a.Reason)),
		"attempt":             le16(a.Attempt),
		"value":               le32(a.Value),
		"flow id":             le64(a.FlowID),
		"STUN transaction id": a.TxID[:],
	})
	if got := GetAction(buf); got != a {
		t.Errorf("GetAction = %+v, want %+v", got, a)
	}

	kinds := table(t, tables, heading, 1)
	doc := map[uint64]string{}
	for _, r := range kinds {
		n, err := strconv.ParseUint(r[0], 10, 8)
		if err != nil {
			t.Fatalf("ABI.md action kinds: %q is not a number", r[0])
		}
		doc[n] = r[1]
		if s := ActionKind(n).String(); s != r[1] {
			t.Errorf("ABI.md action kind %d is %q, ActionKind(%d).String() is %q", n, r[1], n, s)
		}
	}
	if code := valueSet(constsOfType(abiConsts(t), "ActionKind")); !sameSet(keys(doc), code) {
		t.Errorf("ABI.md action kinds are %v, abi's ActionKind constants %v", keys(doc), code)
	}
}

func TestABIMarkdownFeatures(t *testing.T) {
	rows := table(t, abiTables(t), "Features (`sipkeep_features`)", 0)
	code := constsOfType(abiConsts(t), "Feature")
	listed := map[string]bool{}
	for _, r := range rows {
		bit, err := strconv.Atoi(r[0])
		name := strings.Trim(r[1], "`")
		if err != nil {
			t.Fatalf("ABI.md features: bit %q is not a number", r[0])
		}
		listed[name] = true
		v, ok := code[name]
		switch {
		case !ok:
			t.Errorf("ABI.md features: %s is not an abi.Feature constant", name)
		case v != 1<<bit:
			t.Errorf("ABI.md features: %s is bit %d, abi has %#x", name, bit, v)
		}
	}
	for name := range code {
		if !listed[name] {
			t.Errorf("abi.%s is not in ABI.md's features table", name)
		}
	}
}

func TestABIMarkdownExports(t *testing.T) {
	rows := table(t, abiTables(t), "Exports", 0)
	doc := map[string]bool{}
	for _, r := range rows {
		doc[strings.Trim(r[0], "`")] = true
	}
	code := map[string]bool{}
	for name, c := range abiConsts(t) {
		if strings.HasPrefix(name, "Export") {
			code[constant.StringVal(c.Val())] = true
		}
	}
	for name := range doc {
		if !code[name] {
			t.Errorf("ABI.md exports %q, which no abi.Export constant names", name)
		}
	}
	for name := range code {
		if !doc[name] {
			t.Errorf("abi names the export %q, which ABI.md's exports table does not list", name)
		}
	}
}

// TestABIMarkdownNumbers holds the numbers ABI.md's prose gives for abi's
// constants — "`MaxMessage` (64 KiB)", "`MinInputCapacity` (67,664)" — and
// its version to theirs.
func TestABIMarkdownNumbers(t *testing.T) {
	doc, err := os.ReadFile("ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	consts := abiConsts(t)
	re := regexp.MustCompile("`(?:[^`]*\\s)?(\\w+)` \\(([\\d,]+)( KiB)?\\)")
	found := 0
	for _, m := range re.FindAllStringSubmatch(string(doc), -1) {
		c, ok := consts[m[1]]
		if !ok {
			continue
		}
		found++
		n, _ := strconv.ParseInt(strings.ReplaceAll(m[2], ",", ""), 10, 64)
		if m[3] != "" {
			n *= 1024
		}
		if v, _ := constant.Int64Val(c.Val()); v != n {
			t.Errorf("ABI.md says %s is %s%s, abi has %d", m[1], m[2], m[3], v)
		}
	}
	if found < 4 {
		t.Errorf("ABI.md: found %d constants given with their values, want at least 4 (capacities and limits)", found)
	}
	title := "# sipkeep plugin ABI, version " + strconv.Itoa(VersionMajor) + "." + strconv.Itoa(VersionMinor) + "\n"
	if !bytes.HasPrefix(doc, []byte(title)) {
		t.Errorf("ABI.md's title is not %q", strings.TrimSpace(title))
	}
	marker := "`0x" + strconv.FormatUint(uint64(Version)|1<<32, 16)[1:] + "`"
	if !bytes.Contains(doc, []byte(marker)) {
		t.Errorf("ABI.md does not give the version marker as %s", marker)
	}
}
