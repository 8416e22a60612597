// Package certs makes the TLS material of one run: a certificate authority
// and a server certificate it signs, both ECDSA P-256, made in memory with
// crypto/x509 and written only under the directory the run gives (its temp
// prefix). The load generator trusts exactly that CA (Set.Pool), and the
// proxies of the TLS targets serve the server certificate: nothing is added
// to the system's trust store, and nothing outlives the run's directory.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// File names inside the directory Write fills.
const (
	// CAFile holds the CA's certificate (PEM): what a client trusts.
	CAFile = "ca.crt"
	// CertFile holds the server's certificate, then its private key (PEM):
	// HAProxy's `crt` wants both in one file; nginx's ssl_certificate and
	// Caddy's `tls` read the certificate from it and skip the key block.
	CertFile = "server.pem"
	// KeyFile holds the server's private key alone (PEM).
	KeyFile = "server.key"
)

// validity is how long the certificates are valid: a run, with a margin
// for clocks that differ between the host and its containers.
const validity = 7 * 24 * time.Hour

// Set is one run's CA and server certificate, PEM-encoded.
type Set struct {
	CAPEM   []byte // the CA's certificate
	CertPEM []byte // the server's certificate
	KeyPEM  []byte // the server's private key (PKCS #8)
}

// DefaultHosts are the names every server certificate holds: the loopback
// addresses and localhost, where the local topology's proxies listen.
func DefaultHosts() []string { return []string{"127.0.0.1", "::1", "localhost"} }

// New makes a CA and a server certificate valid for DefaultHosts and hosts
// (more names, such as the compose topology's service names; IP addresses
// become IP SANs).
func New(hosts ...string) (*Set, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls: CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "sseload run CA", Organization: []string{"sseload"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("tls: CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("tls: CA certificate: %w", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls: server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "sseload proxy", Organization: []string{"sseload"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range slices.Concat(DefaultHosts(), hosts) {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("tls: server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tls: server key: %w", err)
	}
	return &Set{
		CAPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// serial is a random 128-bit serial number, as RFC 5280 recommends.
func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	return n
}

// Pool is a certificate pool holding the CA alone: what the load generator
// trusts for the run's TLS targets.
func (s *Set) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(s.CAPEM)
	return p
}

// Write writes CAFile, CertFile and KeyFile into dir (created 0700; the key
// files 0600) and returns dir's absolute path.
func (s *Set) Write(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("tls files: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", fmt.Errorf("tls files: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{CAFile, s.CAPEM, 0o644},
		{CertFile, slices.Concat(s.CertPEM, s.KeyPEM), 0o600},
		{KeyFile, s.KeyPEM, 0o600},
	} {
		if err := os.WriteFile(filepath.Join(abs, f.name), f.data, f.mode); err != nil {
			return "", fmt.Errorf("tls files: %w", err)
		}
	}
	return abs, nil
}

// LoadPool reads a PEM file of CA certificates (such as a Write's CAFile)
// into a pool: what `--ca-cert FILE` trusts.
func LoadPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CA certificates %s: %w", path, err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA certificates %s: no PEM certificate in the file", path)
	}
	return p, nil
}
