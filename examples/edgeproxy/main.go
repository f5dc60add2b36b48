// Command edgeproxy is the sipkeep example: a SIP edge proxy and registrar
// (sipgo) that negotiates RFC 6223 keep-alives with its UAs and answers their
// RFC 5626 keep-alives through the sipkeep wasm plugin.
//
//	make run    # builds build/sipkeep.wasm, listens on 127.0.0.1:5060 (UDP, TCP)
//	edgeproxy --help
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/emiago/sipgo/sip"

	"github.com/sipkeep/sipkeep/examples/edgeproxy/proxy"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "edgeproxy:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg := proxy.Defaults()
	fs := flag.NewFlagSet("edgeproxy", flag.ContinueOnError)
	fs.String("config", "", "JSON file with the same settings (keys as in proxy.Config); flags given on the command line override it")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: edgeproxy [flags]

A SIP edge proxy and registrar for UAs behind NAT, with sipkeep:
  - REGISTER from anyone (or digest-authenticated with --user), bindings kept
    with the flow (UDP 5-tuple / TCP connection) they arrived on; requests for
    a registered UA go back over that flow;
  - dialogs record-routed; other requests proxied statefully by Route or
    request-URI;
  - with --wasm: keep=N granted on the top Via of responses to REGISTER and to
    record-routed dialogs that asked with ;keep (RFC 6223), keep values below
    the top Via stripped, STUN (UDP) and CRLF (TCP) keep-alives answered
    (RFC 5626), Require: outbound + Flow-Timer for outbound registrations,
    hot swap when the module file changes, reload on SIGHUP.

Flags:
`)
		fs.PrintDefaults()
	}
	// The config file is read before the flags are parsed, so flags given
	// on the command line override it and --help shows the defaults.
	if path := configArg(args); path != "" {
		if err := cfg.LoadFile(path); err != nil {
			return err
		}
	}
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	// The parts of sipgo that log through its package default, under the
	// same level and without raw payloads (must precede any sipgo use).
	sip.SetDefaultLogger(proxy.SipgoLogger(log))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := proxy.New(ctx, cfg, proxy.WithLogger(log))
	if err != nil {
		return err
	}
	defer p.Close()
	if a := p.MetricsAddr(); a != "" {
		log.Info("metrics", "url", "http://"+a+"/metrics")
	}

	// SIGHUP reloads in the background, one reload at a time, so SIGTERM is
	// always served at once: a slow module (its load is bounded by the
	// host, but takes up to its init timeout per instance) never holds up
	// the stop, and a SIGHUP during a reload is refused, not queued.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reloading := make(chan struct{}, 1)
	for {
		select {
		case <-ctx.Done():
			log.Info("stopping")
			return nil
		case <-hup:
			select {
			case reloading <- struct{}{}:
			default:
				log.Warn("reload already in progress; SIGHUP refused")
				continue
			}
			log.Info("reloading the plugin")
			go func() {
				defer func() { <-reloading }()
				if err := p.Reload(ctx); err != nil {
					log.Error("reload failed; the old module keeps serving", "err", err)
				} else {
					log.Info("plugin reloaded", "generation", p.Generation())
				}
			}()
		}
	}
}

// configArg finds the value of -config/--config in args.
func configArg(args []string) string {
	for i, a := range args {
		for _, name := range []string{"-config", "--config"} {
			if a == name && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, name+"="); ok {
				return v
			}
		}
	}
	return ""
}
