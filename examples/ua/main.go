// Command ua is a SIP user agent that registers with RFC 6223 ";keep" and
// keeps its flow alive with RFC 5626 keep-alives (STUN over UDP, CRLF over
// TCP) at the rate the registrar grants, re-registering before expiry and
// after a failed flow. The logic lives in examples/ua/uaclient.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sipkeep/sipkeep/examples/ua/uaclient"
)

func main() {
	var cfg uaclient.Config
	var expires int
	var duration time.Duration
	var debug bool
	flag.StringVar(&cfg.Proxy, "proxy", "127.0.0.1:5060", "registrar or edge proxy `host:port`")
	flag.StringVar(&cfg.Transport, "transport", "udp", "`udp` (STUN keep-alives) or tcp (CRLF keep-alives)")
	flag.StringVar(&cfg.User, "user", "alice", "user part of the address of record")
	flag.IntVar(&expires, "expires", 600, "registration lifetime to ask for, in `seconds`")
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:0", "local `address` to bind")
	flag.StringVar(&cfg.WASM, "wasm", "build/sipkeep.wasm", "sipkeep plugin `file` (make plugin)")
	flag.DurationVar(&duration, "duration", 0, "stop (and unregister) after this long; 0 = until SIGINT/SIGTERM")
	flag.BoolVar(&debug, "debug", false, "debug logs (every plugin action, netkeep details)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `ua registers with ;keep and keeps its flow alive (RFC 6223, RFC 5626).

Usage: ua [flags]

Each keep-alive sent, each answer and each failure is logged. The UA
re-registers before expiry (re-negotiating keep) and after a failed flow
(a new connection on TCP); on exit it unregisters (Expires: 0).

Flags:
`)
		flag.PrintDefaults()
	}
	flag.Parse()
	cfg.Expires = time.Duration(expires) * time.Second
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	if err := run(ctx, cfg); err != nil {
		cfg.Logger.Error("ua", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg uaclient.Config) error {
	c, err := uaclient.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Run(ctx)
}
