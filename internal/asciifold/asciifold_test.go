package asciifold

import "testing"

func TestContains(t *testing.T) {
	for _, tc := range []struct {
		b, lower string
		want     bool
	}{
		{"", "keep", false},
		{"x;Keep", "keep", true},
		{"x;KEEP=30", "keep", true},
		{"kee", "keep", false},
		{"k e e p", "keep", false},
		{"record-rout", "record-route", false},
		{"record-route", "record-route", true},
		{"xxRecord-Routexx", "record-route", true},
		{"rrrECORD-ROUTE", "record-route", true},
		{"record_route", "record-route", false},
		{"Record-Rout\r\ne", "record-route", false},
		{"a+sip.instance", "+sip.instance", true},
	} {
		if got := Contains([]byte(tc.b), tc.lower); got != tc.want {
			t.Errorf("Contains(%q, %q) = %v, want %v", tc.b, tc.lower, got, tc.want)
		}
	}
}

func TestIndex(t *testing.T) {
	for _, tc := range []struct {
		b, lower string
		want     int
	}{
		{"", "expires", -1},
		{"Expires: 0", "expires", 0},
		{"x;EXPIRES=1;expires=2", "expires", 2},
		{"x;expires=1;EXPIRES=2", "expires", 2},
		{"eexpire", "expires", -1},
		{"EEXPIRES", "expires", 1},
		{"+sip.x", "+sip.x", 0},
	} {
		if got := Index([]byte(tc.b), tc.lower); got != tc.want {
			t.Errorf("Index(%q, %q) = %d, want %d", tc.b, tc.lower, got, tc.want)
		}
	}
}

func TestEqual(t *testing.T) {
	for _, tc := range []struct {
		b, lower string
		want     bool
	}{
		{"Via", "via", true}, {"VIA", "via", true}, {"v", "v", true}, {"vias", "via", false},
		{"vi", "via", false}, {"KeeP", "keep", true}, {"keeq", "keep", false}, {"", "", true},
		{"[eep", "keep", false}, // '[' is 'K'+16, not a letter: no folding
	} {
		if got := Equal([]byte(tc.b), tc.lower); got != tc.want {
			t.Errorf("Equal(%q, %q) = %v", tc.b, tc.lower, got)
		}
	}
}
