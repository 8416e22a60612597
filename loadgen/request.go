package loadgen

import (
	"context"
	"net/http"
)

// httpRequest is the net/http form of the target's request (the https
// path), shaped as the epoll workers' raw one (httpstream.Shape), with
// Last-Event-ID when the stream has one.
func (t *target) httpRequest(ctx context.Context, lastEventID [][2]string) (*http.Request, error) {
	return t.shape.NewHTTPRequest(ctx, t.URL, lastEventID...)
}
