package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sipkeep/sipkeep/abi/proto"
	"github.com/sipkeep/sipkeep/host"
)

// parsePolicy reads a policy given as JSON ("{...}") or as key=value pairs
// separated by ';', ',' or blanks. Names are the proto field names
// (receiver_keep_seconds) or their JSON names (receiverKeepSeconds).
// Repeated string fields take a JSON array or '|'-separated values; a bool
// given without a value is true. Empty input is the default policy.
func parsePolicy(s string) (*proto.Policy, error) {
	p := &proto.Policy{}
	s = strings.TrimSpace(s)
	if s == "" {
		return p, nil
	}
	if s[0] == '{' {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("policy JSON: %w", err)
		}
		for name, v := range m {
			if err := setPolicyField(p, name, jsonValue(v), true); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
	for _, kv := range splitPairs(s) {
		name, val, hasVal := strings.Cut(kv, "=")
		if err := setPolicyField(p, name, val, hasVal); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// jsonValue renders a decoded JSON value in the key=value syntax.
func jsonValue(v any) string {
	switch v := v.(type) {
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, "|")
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// setPolicyField sets the Policy field called name (proto or JSON name) from
// its text form. The generated Policy has no protoreflect support (go-plugin
// code), so fields are found through their protobuf struct tags.
func setPolicyField(p *proto.Policy, name, val string, hasVal bool) error {
	rv := reflect.ValueOf(p).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		if !tagNames(rt.Field(i).Tag.Get("protobuf"), name) {
			continue
		}
		if err := setValue(rv.Field(i), val, hasVal); err != nil {
			return fmt.Errorf("policy: %s: %w", name, err)
		}
		return nil
	}
	return fmt.Errorf("policy: unknown field %q", name)
}

func tagNames(tag, name string) bool {
	if tag == "" {
		return false
	}
	for _, part := range strings.Split(tag, ",") {
		if part == "name="+name || part == "json="+name {
			return true
		}
	}
	return false
}

func setValue(f reflect.Value, val string, hasVal bool) error {
	switch f.Kind() {
	case reflect.Bool:
		b := true
		if hasVal {
			var err error
			if b, err = strconv.ParseBool(val); err != nil {
				return err
			}
		}
		f.SetBool(b)
	case reflect.Uint32:
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil {
			return err
		}
		f.SetUint(n)
	case reflect.String:
		f.SetString(val)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", f.Type())
		}
		var l []string
		for _, v := range strings.Split(val, "|") {
			if v = strings.TrimSpace(v); v != "" {
				l = append(l, v)
			}
		}
		f.Set(reflect.ValueOf(l))
	default:
		return fmt.Errorf("unsupported field type %s", f.Type())
	}
	return nil
}

func splitPairs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || unicode.IsSpace(r) })
}

// parseOptions turns the options string of sipkeep_open into host options:
// the caller keeps records, so the host runs no timers of its own.
func parseOptions(s string) ([]host.Option, error) {
	opts, level, logTo, err := hostOptions(s)
	if err != nil {
		return nil, err
	}
	var logger *slog.Logger
	if logTo == "none" {
		logger = slog.New(slog.DiscardHandler)
	} else {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).
			With("pid", os.Getpid())
	}
	return append(opts, host.WithoutTimers(), host.WithLogger(logger)), nil
}

// parseHostOptions reads the service's options (same syntax; its logger is
// the server's, so log= is accepted and ignored). The service keeps the
// records and runs the timers itself.
func parseHostOptions(s string) ([]host.Option, slog.Level, error) {
	opts, level, _, err := hostOptions(s)
	return opts, level, err
}

// hostOptions parses the key=value options common to both uses.
func hostOptions(s string) (opts []host.Option, level slog.Level, logTo string, err error) {
	var (
		cacheDir string
		pool     = 1
	)
	level, logTo = slog.LevelWarn, "stderr"
	for _, kv := range splitPairs(s) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "cache_dir":
			cacheDir = v
		case "pool":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, level, logTo, fmt.Errorf("options: pool=%q: want a positive integer", v)
			}
			pool = n
		case "timeout_ms":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, level, logTo, fmt.Errorf("options: timeout_ms=%q: want a positive integer", v)
			}
			opts = append(opts, host.WithCallTimeout(time.Duration(n)*time.Millisecond))
		case "log":
			if v != "stderr" && v != "none" {
				return nil, level, logTo, fmt.Errorf("options: log=%q: want stderr or none", v)
			}
			logTo = v
		case "log_level":
			if err := level.UnmarshalText([]byte(v)); err != nil {
				return nil, level, logTo, fmt.Errorf("options: log_level=%q: %w", v, err)
			}
		default:
			return nil, level, logTo, fmt.Errorf("options: unknown option %q", k)
		}
	}
	opts = append(opts, host.WithPoolSize(pool), host.WithCompilationCacheDir(cacheDir))
	return opts, level, logTo, nil
}
