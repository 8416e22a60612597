//go:build !linux

package loadgen

import "fmt"

// Off Linux there is no epoll engine: Config.validate refuses
// Config.Engine "epoll" here and the default is the portable engine
// (portable.go), so no worker ever has an epoll set. What follows is the
// part of the epoll worker's interface the portable files call, doing
// nothing, and a constructor that refuses.

// epollAvailable is false: there is no epoll here.
const epollAvailable = false

// epollState is empty: no worker has an epoll set here.
type epollState struct{}

func noEpoll() epollState { return epollState{} }

// newWorker refuses: the epoll engine runs on Linux only.
func newWorker(e *Engine, id int) (*worker, error) {
	return nil, fmt.Errorf("engine worker %d: %w", id, errNoEpoll)
}

// closeFD has nothing to close: each stream's goroutine closes its own
// connection.
func (w *worker) closeFD(*conn) {}

// closeFDs has nothing to close.
func (w *worker) closeFDs() {}

// run is the epoll loop's place. No worker here has an epoll set (newWorker
// refuses), so the engine never calls it: every worker here runs
// runStreams.
func (w *worker) run() {}

// wake has nothing to wake: goroutine-per-stream workers start a stream
// when it is enqueued.
func (w *worker) wake() {}
