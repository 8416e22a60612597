// Command tlsorigin is sseload's broadcast origin behind TLS, for the TLS
// self-benchmark (scripts/selfbench-tls): a self-signed certificate made in
// memory for 127.0.0.1, HTTP/1.1 through origin.Server.Serve (the path
// `sseload origin` takes), or with -h2 HTTP/2 and HTTP/1.1 by ALPN through
// net/http's TLS server. The client trusts it with --insecure: the
// benchmark measures streams, not certificate verification. It runs in a
// process of its own so that its sockets do not count against the
// client's open-files limit.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sseload/sseload/origin"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	h2 := flag.Bool("h2", false, "offer HTTP/2 by ALPN (net/http's server) beside HTTP/1.1")
	interval := flag.Duration("interval", time.Second, "time between published events")
	flag.Parse()
	if err := run(*listen, *h2, *interval); err != nil {
		fmt.Fprintln(os.Stderr, "tlsorigin:", err)
		os.Exit(1)
	}
}

func run(listen string, h2 bool, interval time.Duration) error {
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	srv, err := origin.New(origin.Config{Mode: origin.Broadcast, Interval: interval})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Printf("sseload origin: listening on %s\n", ln.Addr())
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	if !h2 {
		return srv.Serve(ctx, tls.NewListener(ln, cfg))
	}
	cfg.NextProtos = []string{"h2", "http/1.1"}
	hs := &http.Server{Handler: srv, TLSConfig: cfg}
	go func() { <-ctx.Done(); hs.Close() }()
	if err := hs.ServeTLS(ln, "", ""); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// selfSigned makes an ECDSA P-256 certificate for 127.0.0.1, valid a day.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tlsorigin"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
