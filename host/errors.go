package host

import (
	"errors"
	"fmt"
)

// ErrPluginDisabled is Result.Err once the crash budget is spent under
// FailClosed: the plugin is not called and adapters may reject the message.
var ErrPluginDisabled = errors.New("sipkeep host: plugin disabled (crash budget spent, fail-closed)")

// ErrPluginStopped is Result.Err once the crash budget is spent under
// FailOpen (or while FailReload reloads): messages pass unchanged until a new
// module is loaded. It is not ErrPluginDisabled: adapters must not reject.
var ErrPluginStopped = errors.New("sipkeep host: plugin stopped (crash budget spent, fail-open)")

// ErrClosed is returned once Close has been called.
var ErrClosed = errors.New("sipkeep host: closed")

// Failure causes, the label of sipkeep_failures_total and the Cause of a CallError.
const (
	CauseTrap        = "trap"        // the guest trapped (panic, unreachable, exit)
	CauseTimeout     = "timeout"     // the call overran WithCallTimeout and was interrupted
	CauseOOM         = "oom"         // the guest ran out of memory (WithMemoryLimitPages)
	CauseBadOutput   = "bad_output"  // the output failed abi.DecodeOutput
	CauseErrno       = "errno"       // a negative return: the guest could not read its input
	CauseNoInstance  = "no_instance" // no instance could be made or obtained in time
	CauseBadInput    = "bad_input"   // the event cannot be encoded (too large, bad kind)
	CauseInstantiate = "instantiate" // a replacement instance failed to start
	CauseCanceled    = "canceled"    // the caller's context ended while waiting for an instance
	CauseBadEdit     = "bad_edit"    // an edit's bytes are not what its op writes (Err is an *EditError)
)

// CallError is Result.Err for a failed call.
type CallError struct {
	Export string // on_request, on_response, on_timer
	Cause  string // one of the Cause* constants
	Err    error
}

func (e *CallError) Error() string {
	return fmt.Sprintf("sipkeep host: %s: %s: %v", e.Export, e.Cause, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }
