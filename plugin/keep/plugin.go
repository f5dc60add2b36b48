package keep

import (
	"github.com/sipkeep/sipkeep/abi"
)

// Buffer sizes: exactly the v1 minimums, which already hold the largest
// input (header, record, message) and any output the plugin can produce.
const (
	inputCapacity  = abi.MinInputCapacity
	outputCapacity = abi.MinOutputCapacity
)

// Plugin is one plugin instance: its policy, its buffers and a few counters.
// It holds no per-flow state (that is the flow record's job), so any number
// of instances, of any generation, agree. It is not safe for concurrent use;
// hosts use one instance per concurrent caller.
type Plugin struct {
	in  [inputCapacity]byte
	out [outputCapacity]byte

	pol      Policy // with defaults filled in
	recvMask methodBit
	sendMask methodBit

	stats counters
	// scratch, reused by every call so that calls do not allocate.
	call call
}

type counters struct {
	calls, edits, actions, malformed, badRecords uint64
}

// New returns a plugin configured with the default policy.
func New() *Plugin {
	p := &Plugin{}
	if err := p.Configure(Policy{}); err != nil {
		panic("sipkeep: the default policy is invalid: " + err.Error())
	}
	return p
}

// Configure replaces the policy. An invalid policy is refused and the one in
// force stays.
func (p *Plugin) Configure(pol Policy) error {
	if err := pol.Validate(); err != nil {
		return err
	}
	pol = pol.WithDefaults()
	p.recvMask, _ = methodMask("receiver_methods", pol.ReceiverMethods)
	p.sendMask, _ = methodMask("sender_methods", pol.SenderMethods)
	p.pol = pol
	return nil
}

// Policy returns the policy in force, defaults filled in.
func (p *Plugin) Policy() Policy { return p.pol.WithDefaults() }

// InputBuffer implements abi.Guest.
func (p *Plugin) InputBuffer() []byte { return p.in[:] }

// OutputBuffer implements abi.Guest.
func (p *Plugin) OutputBuffer() []byte { return p.out[:] }

// OnRequest implements abi.Guest: a SIP request, a STUN Binding request or a
// CRLFCRLF ping.
func (p *Plugin) OnRequest(n int32) int32 { return p.run(n, entryRequest) }

// OnResponse implements abi.Guest: a SIP response, a STUN response or a CRLF pong.
func (p *Plugin) OnResponse(n int32) int32 { return p.run(n, entryResponse) }

// OnTimer implements abi.Guest: the flow's deadline has come.
func (p *Plugin) OnTimer(n int32) int32 { return p.run(n, entryTimer) }

var _ abi.Guest = (*Plugin)(nil)
