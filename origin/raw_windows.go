package origin

import (
	"errors"
	"net"
	"syscall"
)

// rawOf is nil on Windows: its sockets are not non-blocking file
// descriptors that a write(2) could try, so every stream is served by the
// writer path (catchUp), as a conn that is no socket is elsewhere.
func rawOf(net.Conn) syscall.RawConn { return nil }

// writeFD is never called on Windows (rawOf is nil).
func writeFD(uintptr, []byte) (int, error) {
	return 0, errors.ErrUnsupported
}
