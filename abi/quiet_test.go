package abi

import (
	"fmt"
	"testing"
)

func TestMayDeregister(t *testing.T) {
	const reg = "REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;keep\r\nContact: <sip:a@h>%s\r\n%s\r\n"
	for _, tc := range []struct {
		contactParams, extra string
		want                 bool
	}{
		{"", "", false},
		{";expires=3600", "", false},
		{"", "Expires: 300\r\n", false},
		{"", "Expires: 0\r\n", true},
		{"", "expires:0\r\n", true},
		{"", "EXPIRES :\r\n 0\r\n", true},
		{";expires=0", "", true},
		{";Expires = 00", "Expires: 600\r\n", true},
		{";expires=\"0\"", "", true},
		{";expires=600", "Expires: 0\r\n", true}, // not one, but the text cannot tell cheaply
		{"", "Contact: *\r\nExpires: 0\r\n", true},
		{"", "Contact: *\r\n", true},
		{";expires=30", "X-Note: expires=10\r\n", false},
	} {
		msg := []byte(fmt.Sprintf(reg, tc.contactParams, tc.extra))
		if got := MayDeregister(msg); got != tc.want {
			t.Errorf("MayDeregister(%q) = %v, want %v", msg, got, tc.want)
		}
	}
}
