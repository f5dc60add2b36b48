//go:build !unix

package host

import "time"

func processCPU() time.Duration { return -1 << 62 }
