package soak

import (
	"errors"
	"fmt"
)

// Module is one kind of module the soak swaps in.
type Module int

const (
	// Good is the sipkeep module with a unique custom section appended:
	// the same code in new bytes, so every good swap is a real swap.
	Good Module = iota
	// Corrupt is the good module with bytes in the middle of its code
	// section overwritten by 0xFF (no wasm opcode): it must not compile.
	Corrupt
	// Truncated is the first half of the good module.
	Truncated
	// SlowInit is a module with the ABI's exports whose _initialize never
	// returns (testdata/slowinit).
	SlowInit
)

func (m Module) String() string {
	return [...]string{"good", "corrupt", "truncated", "slow-init"}[m]
}

// Accepted reports whether a swap to m must succeed.
func (m Module) Accepted() bool { return m == Good }

// moduleBytes returns the bytes of variant m of the good module (slow is
// the slow-_initialize module); n makes each good variant unique.
func moduleBytes(m Module, good, slow []byte, n int) ([]byte, error) {
	switch m {
	case Good:
		// A custom section (id 0): name "soak", then n as payload.
		payload := fmt.Appendf(nil, "%d", n)
		sec := append([]byte{4}, "soak"...)
		sec = append(sec, payload...)
		out := append([]byte(nil), good...)
		out = append(out, 0)
		out = appendULEB(out, uint64(len(sec)))
		return append(out, sec...), nil
	case Corrupt:
		start, size, err := codeSection(good)
		if err != nil {
			return nil, err
		}
		out := append([]byte(nil), good...)
		mid := start + size/2
		for i := mid; i < mid+64 && i < start+size; i++ {
			out[i] = 0xFF
		}
		return out, nil
	case Truncated:
		return append([]byte(nil), good[:len(good)/2]...), nil
	case SlowInit:
		return slow, nil
	}
	return nil, fmt.Errorf("module kind %d", m)
}

func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

// codeSection finds the contents of the code section (id 10) of a wasm
// module: offset and length.
func codeSection(m []byte) (start, size int, err error) {
	if len(m) < 8 || string(m[:4]) != "\x00asm" {
		return 0, 0, errors.New("not a wasm module")
	}
	for i := 8; i < len(m); {
		id := m[i]
		i++
		var n uint64
		for shift := 0; ; shift += 7 {
			if i >= len(m) || shift > 28 {
				return 0, 0, errors.New("bad section size")
			}
			c := m[i]
			i++
			n |= uint64(c&0x7f) << shift
			if c&0x80 == 0 {
				break
			}
		}
		if uint64(len(m)-i) < n {
			return 0, 0, errors.New("section past the end")
		}
		if id == 10 {
			return i, int(n), nil
		}
		i += int(n)
	}
	return 0, 0, errors.New("no code section")
}
