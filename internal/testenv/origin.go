package testenv

import (
	"context"
	"net"
	"testing"

	"github.com/sseload/sseload/origin"
)

// ServeOrigin serves sseload's origin with cfg on a loopback port until the
// test ends, and returns its address (host:port).
func ServeOrigin(t testing.TB, cfg origin.Config) string {
	t.Helper()
	srv, err := origin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })
	return ln.Addr().String()
}
