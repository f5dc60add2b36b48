package keep_test

import (
	"bytes"
	"reflect"
	"testing"

	sipkeepproto "github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/plugin/keep"
)

// setNonZero gives field i of the struct v points to a value that is not
// its zero and tells fields apart, or fails for a kind it cannot set.
func setNonZero(t *testing.T, v reflect.Value, i int) {
	t.Helper()
	f, name := v.Field(i), v.Type().Field(i).Name
	switch f.Kind() {
	case reflect.Bool:
		f.SetBool(true)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f.SetUint(uint64(100 + i))
	case reflect.Int, reflect.Int32, reflect.Int64:
		f.SetInt(int64(100 + i))
	case reflect.String:
		f.SetString("X" + name)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			t.Fatalf("field %s: %v; teach this test to set one", name, f.Type())
		}
		f.Set(reflect.ValueOf([]string{"X" + name, "Y"}))
	default:
		t.Fatalf("field %s: %v; teach this test to set one", name, f.Type())
	}
}

// TestPolicyProtoRoundTripEveryField sets each field of the control-plane
// Policy message on its own (every struct field the generated code tags as
// a protobuf field) and requires PolicyFromProto then ToProto to give back
// the same encoding: a field added to sipkeep.proto but not to the
// conversions fails here instead of being dropped silently. (go-plugin's
// generated messages implement no protoreflect, so this reflects over the
// Go struct.)
func TestPolicyProtoRoundTripEveryField(t *testing.T) {
	typ := reflect.TypeFor[sipkeepproto.Policy]()
	n := 0
	for i := 0; i < typ.NumField(); i++ {
		if _, ok := typ.Field(i).Tag.Lookup("protobuf"); !ok {
			continue
		}
		n++
		m := &sipkeepproto.Policy{}
		setNonZero(t, reflect.ValueOf(m).Elem(), i)
		want, err := m.MarshalVT()
		if err != nil {
			t.Fatal(err)
		}
		got, err := keep.PolicyFromProto(m).ToProto().MarshalVT()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("Policy.%s does not survive PolicyFromProto and ToProto: encoded % x, want % x",
				typ.Field(i).Name, got, want)
		}
	}
	if n == 0 {
		t.Fatal("found no protobuf fields in the Policy message")
	}
}

// TestPolicyGoRoundTripEveryField is the other direction: each exported
// field of keep.Policy, set on its own, must survive ToProto and
// PolicyFromProto.
func TestPolicyGoRoundTripEveryField(t *testing.T) {
	typ := reflect.TypeFor[keep.Policy]()
	for i := 0; i < typ.NumField(); i++ {
		if !typ.Field(i).IsExported() {
			continue
		}
		var p keep.Policy
		setNonZero(t, reflect.ValueOf(&p).Elem(), i)
		if got := keep.PolicyFromProto(p.ToProto()); !reflect.DeepEqual(got, p) {
			t.Errorf("keep.Policy.%s does not survive ToProto and PolicyFromProto:\n got %+v\nwant %+v",
				typ.Field(i).Name, got, p)
		}
	}
}
