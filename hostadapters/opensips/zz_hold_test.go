package opensips

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestZZHold(t *testing.T) {
	s := start(t, options{Plain: os.Getenv("ZZ_PLAIN") != ""})
	os.WriteFile("/tmp/exp/os-port", []byte(fmt.Sprint(s.Port)), 0o644)
	time.Sleep(25 * time.Second)
}
