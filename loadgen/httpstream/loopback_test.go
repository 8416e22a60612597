package httpstream

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// sseEvents is what the test servers write, event by event.
var sseEvents = []string{
	"retry: 1000\n\n",
	"id: 1\ndata: {\"seq\":1}\n\n",
	": heartbeat\n\n",
	"id: 2\nevent: tick\ndata: line one\ndata: line two\n\n",
	"id: 3\ndata: " + strings.Repeat("x", 300) + "\n\n",
}

// readResponse feeds everything read from conn, through a deliberately small
// buffer, to a Decoder until the response is Done or the connection ends.
func readResponse(t *testing.T, conn net.Conn) (*recorder, *Decoder, error) {
	t.Helper()
	// A guard against a hung test, not a timing assertion.
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	d := &Decoder{}
	r := &recorder{}
	buf := make([]byte, 7)
	for !d.Done() {
		n, err := conn.Read(buf)
		if ferr := d.Feed(buf[:n], r); ferr != nil {
			return r, d, ferr
		}
		if errors.Is(err, io.EOF) {
			return r, d, d.Close()
		}
		if err != nil {
			return r, d, err
		}
	}
	return r, d, nil
}

// TestLoopbackChunked streams SSE events from net/http's server, flushed one
// by one (so chunked), and decodes them off a raw TCP connection.
func TestLoopbackChunked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if got := req.Header.Get("Accept"); got != "text/event-stream" {
			t.Errorf("server saw Accept %q", got)
		}
		if got := req.Header.Get("Last-Event-ID"); got != "41" {
			t.Errorf("server saw Last-Event-ID %q", got)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		f := w.(http.Flusher)
		for _, ev := range sseEvents {
			io.WriteString(w, ev)
			f.Flush()
		}
	}))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req, err := AppendRequest(nil, u.Host, "/events?stream=a", [2]string{"Last-Event-ID", "41"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(req); err != nil {
		t.Fatal(err)
	}

	r, d, err := readResponse(t, conn)
	if err != nil {
		t.Fatalf("decoding: %v", err)
	}
	if !d.Done() {
		t.Error("response not Done after the handler returned")
	}
	if len(r.heads) != 1 {
		t.Fatalf("got %d heads, want 1", len(r.heads))
	}
	h := r.heads[0]
	if h.Status != 200 || h.ContentType != "text/event-stream" || h.TransferEncoding != "chunked" || h.ContentLength != -1 {
		t.Errorf("head: status %d content-type %q transfer-encoding %q length %d, want 200 text/event-stream chunked -1",
			h.Status, h.ContentType, h.TransferEncoding, h.ContentLength)
	}
	if want := strings.Join(sseEvents, ""); string(r.body) != want {
		t.Errorf("body:\n got %q\nwant %q", r.body, want)
	}
}

// TestLoopbackCloseDelimited serves an HTTP/1.0-style response (no length,
// not chunked, ended by closing) from a raw listener, as nginx does with
// proxy_http_version 1.0. The server also checks that AppendRequest's bytes
// parse as a valid request.
func TestLoopbackCloseDelimited(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() { served <- serveCloseDelimited(ln) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req, err := AppendRequest(nil, ln.Addr().String(), "/events", [2]string{"Last-Event-ID", "7"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(req); err != nil {
		t.Fatal(err)
	}

	r, d, err := readResponse(t, conn)
	if serr := <-served; serr != nil {
		t.Fatalf("server: %v", serr)
	}
	if err != nil {
		t.Fatalf("decoding: %v", err)
	}
	if d.Done() {
		t.Error("a close-delimited response reported Done")
	}
	if len(r.heads) != 1 || r.heads[0].Proto != "HTTP/1.0" || r.heads[0].Status != 200 {
		t.Fatalf("heads %+v, want one HTTP/1.0 200", r.heads)
	}
	if want := strings.Join(sseEvents, ""); string(r.body) != want {
		t.Errorf("body:\n got %q\nwant %q", r.body, want)
	}
}

func serveCloseDelimited(ln net.Listener) error {
	conn, err := ln.Accept()
	if err != nil {
		return err
	}
	defer conn.Close()
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	if req.Method != "GET" || req.URL.Path != "/events" || req.Host != ln.Addr().String() ||
		req.Header.Get("Accept") != "text/event-stream" || req.Header.Get("Cache-Control") != "no-cache" ||
		req.UserAgent() != "sseload" || req.Header.Get("Last-Event-ID") != "7" || req.ProtoMinor != 1 {
		return fmt.Errorf("unexpected request %s %s %s host %q header %v", req.Method, req.URL, req.Proto, req.Host, req.Header)
	}
	w := bufio.NewWriter(conn)
	w.WriteString("HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
	for _, ev := range sseEvents {
		w.WriteString(ev)
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}
