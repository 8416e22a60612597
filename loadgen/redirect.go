package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/sseload/sseload/loadgen/httpstream"
)

// Redirects are followed as browsers follow them for EventSource: up to
// maxRedirects in one connection attempt, each answered by a new request
// to the Location (resolved against the URL that redirected), on a new
// connection. A plain-HTTP target follows http:// locations only and an
// https one https:// only (a TLS stream does not fall back to plaintext,
// and a plain one is not the TLS measurement it was asked to be); a
// redirect elsewhere fails the stream with ErrRedirect, named.

const maxRedirects = 10

// errFollow tells the worker that Head took a redirect: open the stream
// again at c.addr with c.req.
var errFollow = errors.New("follow redirect")

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// redirect prepares c to follow the redirect in h.
func (c *conn) redirect(h *httpstream.Head) error {
	var loc string
	for _, f := range h.Fields {
		if f[0] == "location" {
			loc = f[1]
		}
	}
	if loc == "" {
		return &streamError{kind: ErrRedirect, msg: fmt.Sprintf("status %d without a Location field", h.Status), cause: dropHTTP}
	}
	if c.redirects >= maxRedirects {
		return &streamError{kind: ErrRedirect, msg: fmt.Sprintf("more than %d redirects (the last to %q): a redirect loop?", maxRedirects, loc), cause: dropHTTP}
	}
	u, err := c.targetURL().Parse(loc)
	if err != nil {
		return &streamError{kind: ErrRedirect, msg: fmt.Sprintf("status %d to Location %q: %v", h.Status, loc, err), cause: dropHTTP}
	}
	if u.Scheme != c.t.u.Scheme {
		return &streamError{kind: ErrRedirect, msg: fmt.Sprintf("status %d to %q: only %s:// redirects are followed on a %s:// target (give that URL as the target)", h.Status, u.Redacted(), c.t.u.Scheme, c.t.u.Scheme), cause: dropHTTP}
	}
	addr, err := resolve(context.Background(), u)
	if err != nil {
		return &streamError{kind: ErrRedirect, msg: fmt.Sprintf("status %d to %q: %v", h.Status, u.Redacted(), err), cause: dropNetwork}
	}
	shape := redirectShape(c.requestShape(), h.Status).ForHost(c.targetURL().Host, u.Host)
	req, err := shape.AppendRequest(nil, u.Host, u.RequestURI(), c.lastEventID()...)
	if err != nil {
		return &streamError{kind: ErrRedirect, msg: fmt.Sprintf("status %d to %q: %v", h.Status, u.Redacted(), err), cause: dropHTTP}
	}
	c.url, c.addr, c.req, c.shape = u, addr, req, &shape
	c.redirects++
	return errFollow
}

// targetURL is the URL the stream's current request went to: where the
// last redirect led, else the target's.
func (c *conn) targetURL() *url.URL {
	if c.url != nil {
		return c.url
	}
	return c.t.u
}

// requestShape is the shape of the stream's current request: the
// target's, or what a redirect made of it.
func (c *conn) requestShape() httpstream.Shape {
	if c.shape != nil {
		return *c.shape
	}
	return c.t.shape
}

// redirectShape is the request that follows a redirect of status, as
// browsers and net/http send it: 301 and 302 turn a POST into a GET, 303
// turns anything but GET and HEAD into one (without the body); 307 and 308
// keep the method and the body.
func redirectShape(s httpstream.Shape, status int) httpstream.Shape {
	m := s.EffectiveMethod()
	switch {
	case (status == 301 || status == 302) && m == "POST",
		status == 303 && m != "GET" && m != "HEAD":
		return s.AsGet()
	}
	return s
}
