package wasmbin

import "fmt"

// Name section subsections wazero decodes (it skips the others).
const (
	nameModule    = 0
	nameFunctions = 1
	nameLocals    = 2
)

// custom reads a custom section's name and, for the name section, its
// subsections.
//
// wazero decodes a known subsection by its contents, not its declared size,
// and then moves on by the declared size, so a subsection whose contents
// end elsewhere would make it read the bytes after it, even past the
// section, as more subsections: each known subsection must end exactly at
// its size, and every subsection within the section.
func (c *counts) custom() error {
	name, err := c.name("section name bytes")
	if err != nil || string(name) != "name" {
		return err
	}
	for c.Off < len(c.B) {
		id := c.Byte()
		size, err := c.vec("subsection bytes")
		if err != nil {
			return fmt.Errorf("name subsection %d: %w", id, err)
		}
		sub := counts{Reader: Reader{B: c.Bytes(int(size))}}
		switch id {
		case nameModule:
			_, err = sub.name("module name bytes")
		case nameFunctions:
			err = sub.nameMap()
		case nameLocals:
			err = sub.each("functions", func(uint32) error {
				sub.U32() // function index
				return sub.nameMap()
			})
		default:
			continue
		}
		if err == nil && sub.Off != len(sub.B) {
			err = fmt.Errorf("%d bytes after its contents", len(sub.B)-sub.Off)
		}
		if err != nil {
			return fmt.Errorf("name subsection %d: %w", id, err)
		}
	}
	return c.Err
}

// nameMap reads a vector of (index, name).
func (c *counts) nameMap() error {
	return c.each("names", func(uint32) error {
		c.U32()
		_, err := c.name("name bytes")
		return err
	})
}
