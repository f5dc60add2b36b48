package wasmbin

import (
	"errors"
	"fmt"
)

// Bounds on what a module may declare where its bytes do not bound it: a
// run of locals is a count and a type, so three bytes can declare billions.
const (
	// MaxFunctionLocals is the JavaScript embedding's limit on the locals
	// of one function, enforced by every browser engine, so no toolchain
	// emits more (the plugin's functions declare 17 at most). wazero's own bound
	// is 2^32-1 and it reserves eight bytes per declared local.
	MaxFunctionLocals = 50_000
	// MaxModuleLocals bounds the locals of all functions together: wazero
	// keeps every function's local types for the module's lifetime, and
	// ~7 bytes of body can declare MaxFunctionLocals, so the per-function
	// bound alone still lets a 1 MB module hold billions.
	MaxModuleLocals = 1 << 20
	// MaxTableElements bounds a table's declared minimum size, which
	// wazero allocates (eight bytes an element) in every instance before
	// any guest code runs; its own bound is 2^27 (1 GiB). A Go module's
	// table holds one element per function whose address is taken.
	MaxTableElements = 1 << 20
)

// ErrCount is wrapped by CheckVectorCounts' refusals of a declared size.
var ErrCount = errors.New("declared size out of bounds")

// CheckVectorCounts refuses a module that declares more entries, bytes or
// locals than it can hold, before a decoder reserves room for them: wazero
// allocates each vector, string, data segment and function body at its
// declared size before reading it, so a 60-byte module could cost
// gigabytes (FuzzThread found exports and function type parameters).
// Every count wazero allocates from, top-level or nested, must fit in the
// bytes left in its section (each entry takes one byte at least); locals
// and table sizes, which bytes cannot bound, have the bounds above.
//
// It walks each section once with the grammar wazero decodes, allocating
// nothing, and does not validate beyond that: an encoding wazero would
// refuse anyway may be refused here first. It follows wazero's grammar
// because wazero reads across section ends before it checks a section's
// length, so a section parsed here differently could hide a count.
func CheckVectorCounts(secs []Section) error {
	var locals uint64
	for _, s := range secs {
		c := &counts{Reader: Reader{B: s.Body}, locals: &locals}
		var err error
		switch s.ID {
		case SecCustom:
			err = c.custom()
		case SecType:
			err = c.each("types", c.typeEntry)
		case SecImport:
			err = c.each("imports", c.importEntry)
		case SecTable:
			err = c.each("tables", func(uint32) error { return c.table() })
		case SecExport:
			err = c.each("exports", c.exportEntry)
		case SecElement:
			err = c.each("element segments", c.elemEntry)
		case SecCode:
			err = c.each("function bodies", c.codeEntry)
		case SecData:
			err = c.each("data segments", c.dataEntry)
		case SecFunction, SecMemory, SecGlobal, SecTag:
			// Their entries hold nothing allocated by a declared size.
			_, err = c.vec("entries")
		}
		if err != nil {
			return fmt.Errorf("section %d (%s): %w", s.ID, sectionName(s.ID), err)
		}
	}
	return nil
}

func sectionName(id byte) string {
	names := [...]string{"custom", "type", "import", "function", "table", "memory", "global",
		"export", "start", "element", "code", "data", "data count", "tag"}
	if int(id) < len(names) {
		return names[id]
	}
	return "unknown"
}

// counts reads one section (or a part of one) for CheckVectorCounts.
type counts struct {
	Reader
	locals *uint64 // declared by the module's function bodies so far
}

// vec reads the count of a vector whose elements take a byte at least and
// refuses a count the bytes left cannot hold.
func (c *counts) vec(what string) (uint32, error) {
	n := c.U32()
	if c.Err != nil {
		return 0, fmt.Errorf("%s: count: %w", what, c.Err)
	}
	if left := len(c.B) - c.Off; uint64(n) > uint64(left) {
		return 0, fmt.Errorf("declares %d %s in %d bytes: %w", n, what, left, ErrCount)
	}
	return n, nil
}

// each reads a vector of entries, checking each with entry.
func (c *counts) each(what string, entry func(i uint32) error) error {
	n, err := c.vec(what)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		if err := entry(i); err != nil {
			return fmt.Errorf("%s %d: %w", what, i, err)
		}
		if c.Err != nil {
			return fmt.Errorf("%s %d: %w", what, i, c.Err)
		}
	}
	return nil
}

// name reads a length-prefixed string; what names its bytes.
func (c *counts) name(what string) ([]byte, error) {
	n, err := c.vec(what)
	if err != nil {
		return nil, err
	}
	return c.Bytes(int(n)), c.Err
}

// valType skips a value type: one byte, or a reference type's prefix
// (0x63 nullable, 0x64 not) and its heap type.
func (c *counts) valType() {
	if b := c.Byte(); b == 0x63 || b == 0x64 {
		c.S64()
	}
}

// typeEntry reads a function type or a recursion group (0x4e) of them.
func (c *counts) typeEntry(uint32) error {
	if c.Off < len(c.B) && c.B[c.Off] == 0x4e {
		c.Off++
		return c.each("types in the group", func(uint32) error { return c.funcType() })
	}
	return c.funcType()
}

func (c *counts) funcType() error {
	c.Byte() // 0x60
	for _, what := range [...]string{"parameters", "results"} {
		n, err := c.vec(what)
		if err != nil {
			return err
		}
		for j := uint32(0); j < n && c.Err == nil; j++ {
			c.valType()
		}
	}
	return c.Err
}

func (c *counts) importEntry(uint32) error {
	if _, err := c.name("module name bytes"); err != nil {
		return err
	}
	if _, err := c.name("field name bytes"); err != nil {
		return err
	}
	switch kind := c.Byte(); kind {
	case 0: // function: type index
		c.U32()
	case 1:
		return c.table()
	case 2:
		c.limits()
	case 3: // global: value type, mutability
		c.valType()
		c.Byte()
	case 4: // tag: attribute, type index
		c.Byte()
		c.U32()
	default:
		if c.Err == nil {
			return fmt.Errorf("import kind %#x", kind)
		}
	}
	return c.Err
}

// table reads a table type, with its initial value when prefixed by 0x40 0x00.
func (c *counts) table() error {
	b := c.Byte()
	init := b == 0x40
	if init {
		c.Byte()
		b = c.Byte()
	}
	if b == 0x63 || b == 0x64 {
		c.S64()
	}
	min, err := c.limits()
	if err != nil {
		return err
	}
	if min > MaxTableElements {
		return fmt.Errorf("declares a table of %d elements, over the bound of %d: %w", min, MaxTableElements, ErrCount)
	}
	if init {
		return c.constExpr()
	}
	return c.Err
}

// limits reads a table's or memory's limits and returns the minimum.
func (c *counts) limits() (uint32, error) {
	flags := c.Byte()
	if flags > 3 && c.Err == nil {
		return 0, fmt.Errorf("limits flags %#x", flags)
	}
	min := c.U32()
	if flags&1 != 0 {
		c.U32()
	}
	return min, c.Err
}

// constExpr skips a constant expression through its end.
func (c *counts) constExpr() error {
	for c.Err == nil {
		switch op := c.Byte(); op {
		case OpEnd:
			return nil
		case 0x41, 0x42: // i32.const, i64.const
			c.S64()
		case 0x43: // f32.const
			c.Bytes(4)
		case 0x44: // f64.const
			c.Bytes(8)
		case 0x23, 0xd0, 0xd2: // global.get, ref.null (heap type), ref.func
			c.U32()
		case 0xfd: // v128.const
			c.Byte()
			c.Bytes(16)
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended-const add, sub, mul
		default:
			if c.Err == nil {
				return fmt.Errorf("opcode %#x in a constant expression", op)
			}
		}
	}
	return c.Err
}

func (c *counts) exportEntry(uint32) error {
	if _, err := c.name("name bytes"); err != nil {
		return err
	}
	c.Byte() // kind
	c.U32()  // index
	return c.Err
}

// elemEntry reads an element segment. Its flags: bit 0 passive or
// declarative (no offset), bit 1 an explicit table index (active) or
// declarative, bit 2 expressions rather than function indices; an element
// kind or reference type follows unless the flags are 0 or 4.
func (c *counts) elemEntry(uint32) error {
	flags := c.U32()
	if flags > 7 && c.Err == nil {
		return fmt.Errorf("flags %#x", flags)
	}
	if flags == 2 || flags == 6 {
		c.U32() // table index
	}
	if flags&1 == 0 {
		if err := c.constExpr(); err != nil {
			return fmt.Errorf("offset: %w", err)
		}
	}
	exprs := flags&4 != 0
	if flags&3 != 0 {
		if exprs {
			c.valType() // reference type
		} else {
			c.Byte() // element kind
		}
	}
	n, err := c.vec("elements")
	if err != nil {
		return err
	}
	for j := uint32(0); j < n && c.Err == nil; j++ {
		if !exprs {
			c.U32()
		} else if err := c.constExpr(); err != nil {
			return fmt.Errorf("element %d: %w", j, err)
		}
	}
	return c.Err
}

// codeEntry reads a function body's size and its local declarations.
func (c *counts) codeEntry(uint32) error {
	size, err := c.vec("body bytes")
	if err != nil {
		return err
	}
	b := counts{Reader: Reader{B: c.Bytes(int(size))}}
	groups, err := b.vec("local groups")
	if err != nil {
		return err
	}
	var n uint64
	for g := uint32(0); g < groups; g++ {
		n += uint64(b.U32())
		b.valType()
		if b.Err != nil {
			return fmt.Errorf("local group %d: %w", g, b.Err)
		}
		if n > MaxFunctionLocals {
			return fmt.Errorf("declares %d locals or more, over the bound of %d a function: %w", n, MaxFunctionLocals, ErrCount)
		}
	}
	if *c.locals += n; *c.locals > MaxModuleLocals {
		return fmt.Errorf("brings the module's locals to %d, over the bound of %d: %w", *c.locals, MaxModuleLocals, ErrCount)
	}
	return nil
}

// dataEntry reads a data segment: flags 0 active, 1 passive, 2 active
// with a memory index.
func (c *counts) dataEntry(uint32) error {
	switch flags := c.U32(); flags {
	case 0, 2:
		if flags == 2 {
			c.U32()
		}
		if err := c.constExpr(); err != nil {
			return fmt.Errorf("offset: %w", err)
		}
	case 1:
	default:
		if c.Err == nil {
			return fmt.Errorf("flags %#x", flags)
		}
	}
	_, err := c.name("data bytes")
	return err
}
