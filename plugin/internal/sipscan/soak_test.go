package sipscan

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// randomRounds gives a random equivalence test its source and round count:
// by default the fixed seed (s1, s2) and n rounds (short under -short), so
// every run checks the same inputs. Two variables turn it into a soak of the
// hand-written scanner (most useful inside wasm, where go test cannot
// fuzz; see the Makefile's soak-wasm):
//
//	SIPSCAN_SOAK=K        K× the rounds, from a fresh seed the test logs
//	SIPSCAN_SEED=S1,S2    that seed again, to replay a failure
func randomRounds(t *testing.T, s1, s2 uint64, n, short int) (*rand.Rand, int) {
	t.Helper()
	if testing.Short() {
		n = short
	}
	k, err := strconv.Atoi(os.Getenv("SIPSCAN_SOAK"))
	if err != nil || k < 1 {
		k = 0
	}
	seed := os.Getenv("SIPSCAN_SEED")
	switch {
	case seed != "":
		if _, err := fmt.Sscanf(seed, "%d,%d", &s1, &s2); err != nil {
			t.Fatalf("SIPSCAN_SEED=%q: want two integers, S1,S2: %v", seed, err)
		}
	case k > 0:
		s1, s2 = rand.Uint64(), rand.Uint64()
	}
	if k > 0 {
		n *= k
	}
	if k > 0 || seed != "" {
		t.Logf("%d rounds from seed %d,%d (replay: SIPSCAN_SEED=%d,%d)", n, s1, s2, s1, s2)
	}
	return rand.New(rand.NewPCG(s1, s2)), n
}
