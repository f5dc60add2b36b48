package keeptest_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sipkeep/sipkeep/plugin/keeptest"
)

// requirementIDs returns the ids in the first column of
// abi/REQUIREMENTS.md's tables, in order.
func requirementIDs(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../../abi/REQUIREMENTS.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idRe := regexp.MustCompile(`^\|\s*([A-Z][A-Z0-9.]*)\s*\|`)
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := idRe.FindStringSubmatch(sc.Text()); m != nil {
			ids = append(ids, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestRequirementsHaveCases ties abi/REQUIREMENTS.md to keeptest.Cases: every
// id there has a conformance case, every case's id is there, and a case
// for an RFC id is named after it (R10 → TestR10_..., E7.2 → TestE72_...).
func TestRequirementsHaveCases(t *testing.T) {
	ids := requirementIDs(t)
	if len(ids) < 24 {
		t.Fatalf("read %d ids from abi/REQUIREMENTS.md, want R1–R18 and K1–K6 at least", len(ids))
	}
	listed := map[string]bool{}
	for _, id := range ids {
		if listed[id] {
			t.Errorf("abi/REQUIREMENTS.md lists %s twice", id)
		}
		listed[id] = true
	}
	covered := map[string]bool{}
	names := map[string]bool{}
	rfcID := regexp.MustCompile(`^[RKE][0-9.]+$`)
	for _, c := range keeptest.Cases {
		covered[c.ID] = true
		if !listed[c.ID] {
			t.Errorf("case %s (%s) has an id abi/REQUIREMENTS.md does not list", c.ID, c.Name)
		}
		if names[c.Name] {
			t.Errorf("two cases are named %s", c.Name)
		}
		names[c.Name] = true
		if !strings.HasPrefix(c.Name, "Test") {
			t.Errorf("case %s: name %q does not start with Test", c.ID, c.Name)
		}
		if prefix := "Test" + strings.ReplaceAll(c.ID, ".", "") + "_"; rfcID.MatchString(c.ID) && !strings.HasPrefix(c.Name, prefix) {
			t.Errorf("case %s is named %s, want a name starting %s", c.ID, c.Name, prefix)
		}
	}
	for _, id := range ids {
		if strings.HasPrefix(id, "W") {
			continue // WebSocket transport ids: TestWebSocketIDsHaveTests
		}
		if !covered[id] {
			t.Errorf("abi/REQUIREMENTS.md lists %s, but no conformance case in keeptest.Cases has that id", id)
		}
	}
}

// TestWebSocketIDsHaveTests: the W ids (SIP over WebSocket) are about the
// transport under the plugin, so they are proved by the adapter and edge
// proxy tests over real WebSocket connections, not by keeptest.Cases; each
// must name at least one TestW<n>_ there.
func TestWebSocketIDsHaveTests(t *testing.T) {
	var src []byte
	for _, dir := range []string{"../../examples/edgeproxy", "../../hostadapters/netkeep", "../../hostadapters/sipgokeep"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src = append(src, b...)
		}
	}
	n := 0
	for _, id := range requirementIDs(t) {
		if !strings.HasPrefix(id, "W") {
			continue
		}
		n++
		if !strings.Contains(string(src), "func Test"+id+"_") {
			t.Errorf("abi/REQUIREMENTS.md lists %s, but no func Test%s_ in the WebSocket adapter tests", id, id)
		}
	}
	if n == 0 {
		t.Fatal("no W ids read from abi/REQUIREMENTS.md")
	}
}
