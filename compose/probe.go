package compose

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"github.com/sseload/sseload/topology"
)

// Probe waits until GET on every URL answers 200, polling each with short
// backoff (5 ms doubling to 250 ms), or until ctx ends. It is the readiness
// check of the compose topology, run inside the compose network by `sseload
// probe`: a proxy has no other way to say "listening and able to reach the
// origin", and /healthz through a proxy says exactly that. The error names
// the first URL that was not ready and its last answer.
//
// roots are the CAs an https URL's certificate must chain to (nil: the
// system's).
func Probe(ctx context.Context, urls []string, roots *x509.CertPool) error {
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	for _, u := range urls {
		backoff := 5 * time.Millisecond
		var last error
		for {
			err := topology.Get200(ctx, client, u)
			if err == nil {
				break
			}
			// A probe cut short by ctx says nothing new; keep the previous
			// answer, which explains the failure.
			if last == nil || ctx.Err() == nil {
				last = err
			}
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%s not ready (%w); last attempt: %w", u, ctx.Err(), last)
			case <-t.C:
			}
			backoff = min(2*backoff, 250*time.Millisecond)
		}
	}
	return nil
}
