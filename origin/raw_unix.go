//go:build unix

package origin

import (
	"net"
	"syscall"
)

// rawOf is conn's socket for the non-blocking write path (sub.try); nil
// when conn is no socket.
func rawOf(conn net.Conn) syscall.RawConn {
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			return raw
		}
	}
	return nil
}

// writeFD is one write(2) on a non-blocking socket.
func writeFD(fd uintptr, p []byte) (int, error) { return syscall.Write(int(fd), p) }
