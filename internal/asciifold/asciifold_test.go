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
