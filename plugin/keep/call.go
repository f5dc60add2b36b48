package keep

import "github.com/sipkeep/sipkeep/abi"

type entry uint8

const (
	entryRequest entry = iota
	entryResponse
	entryTimer
)

// call is the scratch state of one call. It lives in the Plugin and is reset
// at the start of every call, so calls allocate nothing.
type call struct {
	in abi.Input
}

// run is the body of every entry point (placeholder until the logic lands).
func (p *Plugin) run(n int32, e entry) int32 {
	if n < 0 || int(n) > len(p.in) {
		return -int32(abi.ErrnoTooLarge)
	}
	c := &p.call
	if errno := abi.DecodeInput(p.in[:n], &c.in); errno != abi.ErrnoNone {
		return -int32(errno)
	}
	p.stats.calls++
	h := abi.OutputHeader{Reason: abi.ReasonNoKeep}
	abi.PutOutputHeader(p.out[:], &h)
	return abi.OutputHeaderSize
}
