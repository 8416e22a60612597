package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/internal/certs"
)

// probeCmd waits until every URL answers GET with 200. The compose topology
// runs it inside the compose network as its readiness check (the images
// have no curl: the sseload image is one static binary).
func probeCmd(args []string, stdout io.Writer) error {
	fs := pflag.NewFlagSet("probe", pflag.ContinueOnError)
	fs.SetOutput(stdout)
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	caCert := fs.String("ca-cert", "", "https URLs: trust the CAs in this PEM file instead of the system's")
	fs.Usage = func() {
		showHelp(stdout, fs, fmt.Sprintf("Usage: sseload probe [--timeout D] [--ca-cert FILE] URL...\n\nWaits until GET on every URL answers 200 (the compose topology's readiness check).\n\nFlags:\n%s", fs.FlagUsages()))
	}
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() == 0 {
		return usagef("probe needs at least one URL, e.g. http://origin:8080/healthz")
	}
	var roots *x509.CertPool
	if *caCert != "" {
		var err error
		if roots, err = certs.LoadPool(*caCert); err != nil {
			return usagef("--ca-cert: %v", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	return compose.Probe(ctx, fs.Args(), roots)
}
