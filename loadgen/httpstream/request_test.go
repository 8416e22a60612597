package httpstream

import (
	"strings"
	"testing"
)

func TestAppendRequest(t *testing.T) {
	got, err := AppendRequest([]byte("prefix|"), "example.com:8080", "/events?topic=a", [2]string{"Last-Event-ID", "42"}, [2]string{"X-Run", "r1"})
	if err != nil {
		t.Fatal(err)
	}
	want := "prefix|GET /events?topic=a HTTP/1.1\r\n" +
		"Host: example.com:8080\r\n" +
		"Accept: text/event-stream\r\n" +
		"Cache-Control: no-cache\r\n" +
		"User-Agent: sseload\r\n" +
		"Last-Event-ID: 42\r\n" +
		"X-Run: r1\r\n" +
		"\r\n"
	if string(got) != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}

	buf := make([]byte, 0, 512)
	if allocs := testing.AllocsPerRun(100, func() {
		buf, _ = AppendRequest(buf[:0], "h", "/", [2]string{"Last-Event-ID", "1"})
	}); allocs != 0 {
		t.Errorf("AppendRequest into a large enough buffer: %v allocations, want 0", allocs)
	}
}

func TestAppendRequestRejects(t *testing.T) {
	for _, tc := range []struct {
		name, host, path string
		extra            [][2]string
		msg              string
	}{
		{"CRLF in host", "a\r\nX-Evil: 1", "/", nil, "request host"},
		{"NUL in host", "a\x00b", "/", nil, "request host"},
		{"empty host", "", "/", nil, "request host"},
		{"LF in path", "h", "/a\nb", nil, "request path"},
		{"CR in path", "h", "/a\rb", nil, "request path"},
		{"NUL in path", "h", "/a\x00", nil, "request path"},
		{"space in path", "h", "/a b", nil, "percent-encoded"},
		{"empty path", "h", "", nil, "request path"},
		{"CRLF in value", "h", "/", [][2]string{{"Last-Event-ID", "1\r\nX: y"}}, "contains CR, LF or NUL"},
		{"LF in value", "h", "/", [][2]string{{"Last-Event-ID", "1\n"}}, "contains CR, LF or NUL"},
		{"NUL in value", "h", "/", [][2]string{{"Last-Event-ID", "\x00"}}, "contains CR, LF or NUL"},
		{"CRLF in name", "h", "/", [][2]string{{"X\r\nY", "1"}}, "want a token"},
		{"colon in name", "h", "/", [][2]string{{"X:", "1"}}, "want a token"},
		{"empty name", "h", "/", [][2]string{{"", "1"}}, "want a token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendRequest(dst, tc.host, tc.path, tc.extra...)
			if err == nil {
				t.Fatalf("accepted; wrote %q", got)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if string(got) != "keep" {
				t.Errorf("dst changed to %q on error", got)
			}
		})
	}
}
