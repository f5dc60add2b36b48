package wasmbin

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
func leb(v uint32) []byte        { return AppendULEB(nil, v) }
func str(s string) []byte        { return cat(leb(uint32(len(s))), []byte(s)) }

// vec is a vector of the given entries.
func vec(entries ...[]byte) []byte { return cat(leb(uint32(len(entries))), cat(entries...)) }

// fn is a code section entry: its size, then the locals and instructions.
func fn(b ...byte) []byte { return cat(leb(uint32(len(b))), b) }

// locals is a function body declaring groups of n locals of type i64.
func locals(ns ...uint32) []byte {
	b := leb(uint32(len(ns)))
	for _, n := range ns {
		b = append(AppendULEB(b, n), 0x7e)
	}
	return fn(append(b, OpEnd)...)
}

// moduleLocals is a code section declaring n locals in all, as few
// functions as the bound per function allows.
func moduleLocals(n uint32) []byte {
	var bodies [][]byte
	for ; n > MaxFunctionLocals; n -= MaxFunctionLocals {
		bodies = append(bodies, locals(MaxFunctionLocals))
	}
	return vec(append(bodies, locals(n))...)
}

var (
	huge   = leb(0xffffffff)                 // a count of 4,294,967,295 in five bytes
	offset = []byte{OpI32Const, 0x00, OpEnd} // i32.const 0; end
	refFn0 = []byte{0xd2, 0x00, OpEnd}       // ref.func 0; end
	names  = func(b ...[]byte) []byte { return cat(str("name"), cat(b...)) }
)

// Every count wazero allocates from must fit in the bytes left of its
// section, top-level or nested; locals and table sizes have fixed bounds.
// Each refused case is a module wazero would reserve that much for.
func TestCheckVectorCounts(t *testing.T) {
	for _, c := range []struct {
		name string
		secs []Section
		want string // in the error; "" when accepted
	}{
		// Top-level counts.
		{"empty vector", []Section{{SecExport, []byte{0x00}}}, ""},
		{"one entry per byte", []Section{{SecFunction, []byte{0x02, 0, 0}}}, ""},
		{"more entries than bytes", []Section{{SecFunction, []byte{0x03, 0, 0}}}, "declares 3 entries in 2 bytes"},
		{"100M exports in 37 bytes", []Section{{SecExport, append([]byte{0x8b, 0x8b, 0x8b, 0x31}, make([]byte, 33)...)}}, "declares 102942091 exports in 33 bytes"},
		{"start holds no vector", []Section{{SecStart, []byte{0x05}}}, ""},
		{"truncated count", []Section{{SecCode, []byte{0x80}}}, "count: truncated"},

		// Function types.
		{"func type () -> (i32)", []Section{{SecType, []byte{0x01, 0x60, 0x00, 0x01, 0x7f}}}, ""},
		{"3.5 billion parameters", []Section{{SecType, []byte{0x01, 0x60, 0xac, 0xac, 0xb9, 0xac, 0x0d, 0x7f}}}, "types 0: declares 3582875180 parameters"},
		{"more results than bytes", []Section{{SecType, []byte{0x01, 0x60, 0x00, 0x02, 0x7f}}}, "declares 2 results in 1 bytes"},
		{"a reference parameter, then 4G results", []Section{{SecType, cat([]byte{0x01, 0x60, 0x01, 0x64, 0x00}, huge)}}, "declares 4294967295 results"},
		{"recursion group", []Section{{SecType, []byte{0x01, 0x4e, 0x02, 0x60, 0x00, 0x00, 0x60, 0x00, 0x00}}}, ""},
		{"recursion group of 4G types", []Section{{SecType, cat([]byte{0x01, 0x4e}, huge, []byte{0x60, 0, 0})}}, "declares 4294967295 types in the group"},
		{"4G results in a recursion group", []Section{{SecType, cat([]byte{0x01, 0x4e, 0x01, 0x60, 0x00}, huge)}}, "types in the group 0: declares 4294967295 results"},

		// Imports.
		{"function import", []Section{{SecImport, vec(cat(str("env"), str("f"), []byte{0x00, 0x00}))}}, ""},
		{"global import of a reference type", []Section{{SecImport, vec(cat(str("env"), str("g"), []byte{0x03, 0x63, 0x70, 0x00}), cat(str("env"), str("h"), []byte{0x00, 0x00}))}}, ""},
		{"4 GB import module name", []Section{{SecImport, vec(cat(huge, []byte("env"), str("f"), []byte{0x00, 0x00}))}}, "imports 0: declares 4294967295 module name bytes"},
		{"4 GB import field name", []Section{{SecImport, vec(cat(str("env"), huge, []byte("f"), []byte{0x00, 0x00}))}}, "declares 4294967295 field name bytes"},
		{"4 GB name after a memory import", []Section{{SecImport, vec(cat(str("env"), str("m"), []byte{0x02, 0x01, 0x01, 0x02}), cat(huge, []byte{0x00}))}}, "imports 1: declares 4294967295 module name bytes"},
		{"imported table of 2^27 elements", []Section{{SecImport, vec(cat(str("env"), str("t"), []byte{0x01, 0x70, 0x00}, leb(1<<27)))}}, "table of 134217728 elements"},

		// Tables: wazero allocates their minimum size in every instance.
		{"Go-sized table", []Section{{SecTable, vec(cat([]byte{0x70, 0x00}, leb(6326)))}}, ""},
		{"table of 2^27 elements", []Section{{SecTable, vec(cat([]byte{0x70, 0x01}, leb(1<<27), leb(1<<27)))}}, "tables 0: declares a table of 134217728 elements"},
		{"table with an initial value", []Section{{SecTable, vec(cat([]byte{0x40, 0x00, 0x64, 0x70, 0x00, 0x01}, refFn0))}}, ""},

		// Exports.
		{"export", []Section{{SecExport, vec(cat(str("f"), []byte{0x00, 0x00}))}}, ""},
		{"4 GB export name", []Section{{SecExport, vec(cat(huge, []byte("f"), []byte{0x00, 0x00}))}}, "exports 0: declares 4294967295 name bytes"},

		// Element segments, each kind.
		{"active function indices", []Section{{SecElement, vec(cat([]byte{0x00}, offset, vec([]byte{0x00}, []byte{0x01})))}}, ""},
		{"4G function indices", []Section{{SecElement, vec(cat([]byte{0x00}, offset, huge, []byte{0x00}))}}, "element segments 0: declares 4294967295 elements"},
		{"4G passive function indices", []Section{{SecElement, vec(cat([]byte{0x01, 0x00}, huge, []byte{0x00}))}}, "declares 4294967295 elements"},
		{"4G function indices, table given", []Section{{SecElement, vec(cat([]byte{0x02, 0x00}, offset, []byte{0x00}, huge, []byte{0x00}))}}, "declares 4294967295 elements"},
		{"4G declared function indices", []Section{{SecElement, vec(cat([]byte{0x03, 0x00}, huge, []byte{0x00}))}}, "declares 4294967295 elements"},
		{"active expressions", []Section{{SecElement, vec(cat([]byte{0x04}, offset, vec(refFn0, refFn0)))}}, ""},
		{"4G active expressions", []Section{{SecElement, vec(cat([]byte{0x04}, offset, huge, refFn0))}}, "declares 4294967295 elements"},
		{"4G passive expressions", []Section{{SecElement, vec(cat([]byte{0x05, 0x70}, huge, refFn0))}}, "declares 4294967295 elements"},
		{"4G expressions, table given", []Section{{SecElement, vec(cat([]byte{0x06, 0x00}, offset, []byte{0x70}, huge, refFn0))}}, "declares 4294967295 elements"},
		{"4G declared expressions of a reference type", []Section{{SecElement, vec(cat([]byte{0x07, 0x64, 0x00}, huge, refFn0))}}, "declares 4294967295 elements"},
		{"4G indices in the second segment", []Section{{SecElement, vec(cat([]byte{0x01, 0x00}, vec([]byte{0x05})), cat([]byte{0x01, 0x00}, huge, []byte{0x00}))}}, "element segments 1: declares"},

		// Data segments.
		{"data", []Section{{SecData, vec(cat([]byte{0x00}, offset, str("hi")), cat([]byte{0x01}, str("x")))}}, ""},
		{"4 GB active data", []Section{{SecData, vec(cat([]byte{0x00}, offset, huge, []byte("hi")))}}, "data segments 0: declares 4294967295 data bytes"},
		{"4 GB passive data", []Section{{SecData, vec(cat([]byte{0x01}, huge, []byte("hi")))}}, "declares 4294967295 data bytes"},
		{"4 GB data, memory given", []Section{{SecData, vec(cat([]byte{0x02, 0x00}, offset, huge, []byte("hi")))}}, "declares 4294967295 data bytes"},

		// Function bodies and their locals.
		{"a body", []Section{{SecCode, vec(locals(2, 3))}}, ""},
		{"4 GB body", []Section{{SecCode, cat(leb(1), huge, []byte{0x00, OpEnd})}}, "function bodies 0: declares 4294967295 body bytes in 2 bytes"},
		{"4G local groups", []Section{{SecCode, vec(fn(cat(huge, []byte{0x01, 0x7e, OpEnd})...))}}, "declares 4294967295 local groups"},
		{"4G locals", []Section{{SecCode, vec(locals(0xffffffff))}}, "declares 4294967295 locals or more, over the bound of 50000"},
		{"a reference local, then 4G locals", []Section{{SecCode, vec(fn(cat([]byte{0x02, 0x01, 0x63, 0x70}, huge, []byte{0x7e, OpEnd})...))}}, "declares 4294967296 locals"},
		{"the bound of locals", []Section{{SecCode, vec(locals(MaxFunctionLocals-1, 1))}}, ""},
		{"one local over the bound, in two groups", []Section{{SecCode, vec(locals(MaxFunctionLocals, 1))}}, "declares 50001 locals"},
		{"the module's bound of locals", []Section{{SecCode, moduleLocals(MaxModuleLocals)}}, ""},
		{"the module's locals over its bound", []Section{{SecCode, moduleLocals(MaxModuleLocals + 1)}}, "brings the module's locals to 1048577"},
		{"locals past the body", []Section{{SecCode, cat(vec(fn(0x01, 0x05)), []byte{0x7e, OpEnd})}}, "local group 0: truncated"},

		// Custom sections.
		{"any custom section", []Section{{SecCustom, cat(str("producers"), huge)}}, ""},
		{"4 GB custom section name", []Section{{SecCustom, cat(huge, []byte("name"))}}, "section 0 (custom): declares 4294967295 section name bytes"},
		{"name section", []Section{{SecCustom, names(
			[]byte{nameModule}, fn(str("m")...),
			[]byte{nameFunctions}, fn(vec(cat(leb(0), str("f")), cat(leb(1), str("g")))...),
			[]byte{nameLocals}, fn(vec(cat(leb(0), vec(cat(leb(0), str("x")))))...),
			[]byte{7}, fn(huge...),
		)}}, ""},
		{"4 GB module name", []Section{{SecCustom, names([]byte{nameModule}, fn(cat(huge, []byte("m"))...))}}, "name subsection 0: declares 4294967295 module name bytes"},
		{"4G function names", []Section{{SecCustom, names([]byte{nameFunctions}, fn(cat(huge, leb(0), str("f"))...))}}, "name subsection 1: declares 4294967295 names"},
		{"4 GB function name", []Section{{SecCustom, names([]byte{nameFunctions}, fn(cat(leb(1), leb(0), huge, []byte("f"))...))}}, "names 0: declares 4294967295 name bytes"},
		{"4G local names", []Section{{SecCustom, names([]byte{nameLocals}, fn(cat(leb(1), leb(0), huge, leb(0), str("x"))...))}}, "functions 0: declares 4294967295 names"},
		{"4G functions of local names", []Section{{SecCustom, names([]byte{nameLocals}, fn(cat(huge, leb(0), leb(0))...))}}, "declares 4294967295 functions"},
		{"subsection past the section", []Section{{SecCustom, names([]byte{9}, leb(100), []byte{0x00})}}, "declares 100 subsection bytes in 1 bytes"},
		{"subsection longer than its contents", []Section{{SecCustom, names([]byte{nameFunctions}, fn(cat(vec(), huge)...))}}, "5 bytes after its contents"},
		{"subsection shorter than its contents", []Section{{SecCustom, names([]byte{nameModule}, leb(1), str("m"))}}, "name subsection 0: declares 1 module name bytes in 0 bytes"},
	} {
		err := CheckVectorCounts(c.secs)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: CheckVectorCounts = %v, want an error with %q", c.name, err, c.want)
		case c.want != "" && strings.Contains(c.want, "declares") && !errors.Is(err, ErrCount):
			t.Errorf("%s: %v does not wrap ErrCount", c.name, err)
		}
	}
}

// An error names the section, and the entry within it.
func TestCheckVectorCounts_ErrorNamesSectionAndEntry(t *testing.T) {
	err := CheckVectorCounts([]Section{{SecCode, vec(locals(1), locals(2), locals(0xffffffff))}})
	const want = "section 10 (code): function bodies 2: declares 4294967295 locals or more, over the bound of 50000 a function"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want it to start %q", err, want)
	}
}
