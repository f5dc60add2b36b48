package proxy

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sipkeep/sipkeep/abi/proto"
)

// Config is everything the edge proxy can be told. The zero value is not
// usable; start from Defaults. Field names are the JSON keys of --config.
type Config struct {
	// Listen is host:port; the proxy listens there on every transport in
	// Transports (UDP and TCP share the port number).
	Listen     string   `json:"listen"`
	Transports []string `json:"transports"`
	// Advertise is the host put in Record-Route and used to recognise our own
	// Route entries; empty means the host of Listen.
	Advertise string `json:"advertise"`
	// Domains this proxy is the registrar for. Empty (the default): any
	// domain — a REGISTER for any AOR is bound, and a request whose user
	// has live bindings goes to them whatever its domain, as Kamailio's
	// registrar does with use_domain=0 (AORs are then keyed by user alone).
	// Set: AORs are user@domain, a REGISTER for another domain (request-URI
	// or To) gets 404 and is never bound (RFC 3261 §10.3 steps 1 and 5),
	// and only request-URIs in these domains are looked up; anything else
	// is proxied onward.
	Domains []string `json:"domains"`
	// RecordRoute keeps the proxy on the path of the dialogs it forwards. An
	// edge proxy for UAs behind NAT must: mid-dialog requests toward the UA
	// can only reach it over the flow it registered on, and RFC 6223 only
	// lets a proxy in the route set negotiate dialog keep-alives (R8, R12).
	RecordRoute bool `json:"record_route"`

	// Registrar.
	MaxExpires     time.Duration `json:"max_expires"`
	DefaultExpires time.Duration `json:"default_expires"`
	// MaxContacts caps the live bindings of one AOR; a REGISTER that would
	// exceed it gets 403 and changes nothing. 0: no limit.
	MaxContacts int `json:"max_contacts"`
	// AuthRealm enables digest authentication of REGISTER when Users is
	// not empty.
	AuthRealm string            `json:"auth_realm"`
	Users     map[string]string `json:"users"`

	// Plugin. Wasm empty runs the proxy without sipkeep (no keep
	// negotiation, sipgo's own keep-alive handling).
	Wasm  string `json:"wasm"`
	Watch bool   `json:"watch"`
	Keep  Keep   `json:"keep"`
	// NativePlugin runs the plugin's logic compiled into the proxy instead
	// of a wasm module (Wasm is then ignored): the same decisions without
	// the sandbox or hot swap. It exists to measure what wasm costs.
	NativePlugin bool `json:"native_plugin"`

	// Metrics is host:port of the Prometheus endpoint (/metrics); empty: off.
	Metrics string `json:"metrics"`

	// Secure and WebSocket listeners (secure.go); each is host:port, empty:
	// off. TLS and WSS need TLSCert and TLSKey (PEM files).
	TLSListen string `json:"tls_listen"`
	WSListen  string `json:"ws_listen"`
	WSSListen string `json:"wss_listen"`
	TLSCert   string `json:"tls_cert"`
	TLSKey    string `json:"tls_key"`
	// Webphone is a directory served over HTTP(S) on the WS and WSS ports:
	// a request that is not a WebSocket upgrade gets a file from it.
	Webphone string `json:"webphone"`
}

// Keep is the sipkeep policy in the terms an operator thinks in; Policy
// converts it into the plugin's protobuf policy.
type Keep struct {
	Seconds          uint32   `json:"seconds"`            // keep=N granted to senders (and Flow-Timer)
	FloorSeconds     uint32   `json:"floor_seconds"`      // lowest interval accepted or used
	CeilingSeconds   uint32   `json:"ceiling_seconds"`    // highest interval accepted or used
	Methods          []string `json:"methods"`            // methods that negotiate, both roles
	Receiver         bool     `json:"receiver"`           // grant keep=N to UAs (RFC 6223 §4.4)
	Sender           bool     `json:"sender"`             // offer ;keep to next hops (§4.3)
	DeadFlowMultiple uint32   `json:"dead_flow_multiple"` // report a flow dead after this many silent intervals; 0 = off
}

// Defaults returns the configuration `make run` uses.
func Defaults() Config {
	return Config{
		Listen:         "127.0.0.1:5060",
		Transports:     []string{"udp", "tcp"},
		RecordRoute:    true,
		MaxExpires:     time.Hour,
		DefaultExpires: time.Hour,
		MaxContacts:    10,
		AuthRealm:      "sipkeep",
		Watch:          true,
		Keep: Keep{
			Seconds:          30,
			FloorSeconds:     10,
			CeilingSeconds:   3600,
			Methods:          []string{"REGISTER", "INVITE", "SUBSCRIBE", "REFER", "UPDATE"},
			Receiver:         true,
			Sender:           true,
			DeadFlowMultiple: 3,
		},
	}
}

// Policy is the plugin policy for k.
func (k Keep) Policy() *proto.Policy {
	return &proto.Policy{
		ReceiverDisabled:    !k.Receiver,
		ReceiverKeepSeconds: k.Seconds,
		ReceiverMethods:     k.Methods,
		SenderDisabled:      !k.Sender,
		SenderMethods:       k.Methods,
		FloorSeconds:        k.FloorSeconds,
		CeilingSeconds:      k.CeilingSeconds,
		DeadFlowMultiple:    k.DeadFlowMultiple,
		DeadFlowDisabled:    k.DeadFlowMultiple == 0,
	}
}

// sipkeep reports whether the proxy runs the plugin.
func (c *Config) sipkeep() bool { return c.Wasm != "" || c.NativePlugin }

// Validate reports the first thing wrong with c.
func (c *Config) Validate() error {
	if c.Listen == "" {
		return errors.New("listen address is empty")
	}
	if len(c.Transports) == 0 {
		return errors.New("no transport")
	}
	for _, t := range c.Transports {
		if t != "udp" && t != "tcp" {
			return fmt.Errorf("transport %q: only udp and tcp", t)
		}
	}
	if c.Keep.Seconds != 0 && (c.Keep.Seconds < c.Keep.FloorSeconds || (c.Keep.CeilingSeconds != 0 && c.Keep.Seconds > c.Keep.CeilingSeconds)) {
		return fmt.Errorf("keep %d s is outside [%d, %d]", c.Keep.Seconds, c.Keep.FloorSeconds, c.Keep.CeilingSeconds)
	}
	if c.MaxContacts < 0 {
		return errors.New("max contacts is negative")
	}
	if err := c.validateSecure(); err != nil {
		return err
	}
	if c.MaxExpires <= 0 || c.DefaultExpires <= 0 {
		return errors.New("expires must be positive")
	}
	return nil
}

// LoadFile overlays the JSON file at path onto c (keys absent from the file
// keep their current values).
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if err := json.Unmarshal(b, c); err != nil {
		return fmt.Errorf("parse config %s: %w", path, err)
	}
	return nil
}

// RegisterFlags binds c to flags in fs; the current values of c are the
// defaults shown by --help.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", c.Listen, "host:port to listen on (UDP and TCP)")
	fs.Var(listFlag{&c.Transports}, "transports", "comma-separated transports: udp,tcp")
	fs.StringVar(&c.Advertise, "advertise", c.Advertise, "host for Record-Route (default: the listen host)")
	fs.Var(listFlag{&c.Domains}, "domains", "comma-separated domains served by the registrar; a REGISTER for another gets 404 (default: any domain, AORs keyed by user alone)")
	fs.BoolVar(&c.RecordRoute, "record-route", c.RecordRoute, "record-route dialogs (needed for dialog keep-alives, RFC 6223 R8/R12)")
	fs.DurationVar(&c.MaxExpires, "max-expires", c.MaxExpires, "longest registration granted")
	fs.DurationVar(&c.DefaultExpires, "default-expires", c.DefaultExpires, "registration lifetime when the REGISTER gives none")
	fs.IntVar(&c.MaxContacts, "max-contacts", c.MaxContacts, "most live bindings per AOR; a REGISTER beyond it gets 403 (0: no limit)")
	fs.StringVar(&c.AuthRealm, "auth-realm", c.AuthRealm, "digest realm (with --user)")
	fs.Var(userFlag{&c.Users}, "user", "user:password allowed to register (repeatable); none = no authentication")
	fs.StringVar(&c.Wasm, "wasm", c.Wasm, "sipkeep plugin module (empty: run without sipkeep)")
	fs.BoolVar(&c.NativePlugin, "native-plugin", c.NativePlugin, "run sipkeep's logic compiled in instead of the wasm module (no sandbox, no hot swap; for measuring what wasm costs)")
	fs.BoolVar(&c.Watch, "watch", c.Watch, "hot-swap the plugin when the module file changes (SIGHUP always reloads)")
	fs.Var(uintFlag{&c.Keep.Seconds}, "keep", "keep=N seconds granted to senders; also the Flow-Timer of outbound registrations (R15)")
	fs.Var(uintFlag{&c.Keep.FloorSeconds}, "keep-floor", "lowest keep-alive interval accepted or used, seconds")
	fs.Var(uintFlag{&c.Keep.CeilingSeconds}, "keep-ceiling", "highest keep-alive interval accepted or used, seconds")
	fs.Var(listFlag{&c.Keep.Methods}, "keep-methods", "comma-separated methods that negotiate keep-alives")
	fs.BoolVar(&c.Keep.Receiver, "keep-receiver", c.Keep.Receiver, "receiver role: grant keep=N to UAs")
	fs.BoolVar(&c.Keep.Sender, "keep-sender", c.Keep.Sender, "sender role: offer ;keep to next hops and send keep-alives")
	fs.Var(uintFlag{&c.Keep.DeadFlowMultiple}, "dead-flow-multiple", "report a flow dead after this many intervals without keep-alives (0: off)")
	fs.StringVar(&c.Metrics, "metrics", c.Metrics, "host:port for the Prometheus endpoint /metrics (empty: off)")
	c.registerSecureFlags(fs)
}

type listFlag struct{ p *[]string }

func (f listFlag) String() string {
	if f.p == nil {
		return ""
	}
	return strings.Join(*f.p, ",")
}

func (f listFlag) Set(s string) error {
	*f.p = nil
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*f.p = append(*f.p, v)
		}
	}
	return nil
}

type userFlag struct{ p *map[string]string }

func (f userFlag) String() string { return "" }

func (f userFlag) Set(s string) error {
	user, pass, ok := strings.Cut(s, ":")
	if !ok || user == "" {
		return errors.New("want user:password")
	}
	if *f.p == nil {
		*f.p = map[string]string{}
	}
	(*f.p)[user] = pass
	return nil
}

type uintFlag struct{ p *uint32 }

func (f uintFlag) String() string {
	if f.p == nil {
		return "0"
	}
	return fmt.Sprint(*f.p)
}

func (f uintFlag) Set(s string) error {
	var v uint32
	if _, err := fmt.Sscan(s, &v); err != nil {
		return fmt.Errorf("want a number of seconds: %w", err)
	}
	*f.p = v
	return nil
}
