package keep

import (
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/sipkeep/sipkeep/abi"
)

// TestRecordSizeAsDocumented holds the record's size as ABI.md states it
// ("84 bytes + 26 per ... binding, at most 48 bindings") to the constants
// the record is encoded with, and the largest record to abi.MaxRecord.
func TestRecordSizeAsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../abi/ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(\d+) bytes \+ (\d+) per [^,]*binding, at most (\d+) bindings`).FindSubmatch(doc)
	if m == nil {
		t.Fatal(`ABI.md, "The flow record": no "N bytes + M per ... binding, at most K bindings"`)
	}
	for i, want := range []int{recordHeaderV1, bindingSize, maxBindings} {
		if got, _ := strconv.Atoi(string(m[i+1])); got != want {
			t.Errorf("ABI.md gives the record as %q; the code has header %d, binding %d, at most %d",
				m[0], recordHeaderV1, bindingSize, maxBindings)
			break
		}
	}
	if largest := recordHeaderV1 + maxBindings*bindingSize; largest > abi.MaxRecord {
		t.Errorf("the largest record is %d bytes, over abi.MaxRecord (%d)", largest, abi.MaxRecord)
	}
}
