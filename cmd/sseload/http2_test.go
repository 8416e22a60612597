package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/reports"
)

// TestRunHTTP2: --http2 and --streams-per-conn reach an https target
// through `sseload run`, which reports the protocol the server chose in
// summary.json and in the table.
func TestRunHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: {\"sched\":%d}\n\n", time.Now().UnixNano())
		w.(http.Flusher).Flush()
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "--topology", "none", "--target", "edge=" + srv.URL + "/events", "--insecure", "--http2", "--streams-per-conn", "2",
		"-c", "4", "-d", "1s", "--no-progress", "-o", dir}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if tg := s.Targets[0]; tg.Protocol != "h2" || tg.TLSVersion != "TLS 1.3" || tg.Connections.Established != 4 {
		t.Errorf("protocol %q %q, established %d; want h2 TLS 1.3, 4", tg.Protocol, tg.TLSVersion, tg.Connections.Established)
	}
	if !strings.Contains(stdout.String(), "h2 TLS 1.3") {
		t.Errorf("table without the protocol:\n%s", stdout.String())
	}
}

// TestHTTP2FlagsRefused: the protocol flags are refused, named, where
// they cannot apply.
func TestHTTP2FlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "seed", "--http2"}, "--http2 asks https --target URLs for HTTP/2, which only --topology none measures"},
		{[]string{"run", "--topology", "none", "--target", "x=http://127.0.0.1:1/events,h2"}, "HTTP/2 (,h2) is negotiated over TLS"},
		{[]string{"run", "--topology", "none", "--target", "x=https://127.0.0.1:1/events", "--streams-per-conn", "4"}, "--streams-per-conn 4: only HTTP/2"},
		{[]string{"run", "--topology", "none", "--target", "x=https://127.0.0.1:1/events", "--http2", "--streams-per-conn", "0"}, "--streams-per-conn 0: must be at least 1"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tc.args, code, stderr.String(), exitUsage, tc.want)
		}
	}
}
