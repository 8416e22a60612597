package loadgen

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
)

// httpRequest is the net/http form of the target's request (the https
// path), shaped as the epoll workers' raw one: the same method, fields and
// body, with Last-Event-ID when the stream has one. net/http follows
// redirects as browsers do: 301/302/303 turn a POST into a GET without its
// body; 307 and 308 send the body again (GetBody); Authorization and
// Cookie are not sent to another host.
func (t *target) httpRequest(ctx context.Context, lastEventID [][2]string) (*http.Request, error) {
	s := t.shape
	var body io.Reader
	if s.Body != nil {
		body = bytes.NewReader(s.Body)
	}
	req, err := http.NewRequestWithContext(ctx, s.EffectiveMethod(), t.URL, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("User-Agent", "sseload")
	for _, f := range s.Header {
		if strings.EqualFold(f[0], "Host") {
			req.Host = f[1]
			continue
		}
		req.Header.Del(f[0])
	}
	for _, f := range s.Header {
		if !strings.EqualFold(f[0], "Host") {
			req.Header.Add(f[0], f[1])
		}
	}
	for _, f := range lastEventID {
		req.Header.Set(f[0], f[1])
	}
	return req, nil
}
