//go:build !linux

package loadgen

import "crypto/tls"

// tlsState is a stream's TLS connection. Off Linux only the portable
// engine runs, whose streams handshake in their own goroutines
// (portable.go); the epoll workers' handshake state (tlsconn_linux.go)
// does not exist here.
type tlsState struct {
	conn *tls.Conn
}

// startHandshaker has nothing to start: no epoll workers here.
func (e *Engine) startHandshaker() (stop func()) { return func() {} }
