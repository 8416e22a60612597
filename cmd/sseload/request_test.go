package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/reports"
)

const (
	secretToken = "Bearer tok-8f2c1e77d1"
	secretBody  = `{"prompt":"the-secret-prompt-4411","stream":true}`
)

// llmOrigin serves an event stream only to what an LLM API's token
// stream accepts: a POST of JSON with the right Authorization. Anything
// else gets 401 or 400, so an established stream proves the request's
// shape.
func llmOrigin(t *testing.T) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != secretToken {
			http.Error(w, "missing credentials", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var v map[string]any
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &v) != nil || string(body) != secretBody {
			http.Error(w, "want a POST of the JSON prompt", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "data: {\"seq\":%d}\n\n", i); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestRunPostStreamKeepsSecrets: a POST stream with a JSON body and an
// Authorization header is established, in this process and over worker
// processes, and neither the token nor the body appears in any file of
// the results directory (the command line quoted there included).
func TestRunPostStreamKeepsSecrets(t *testing.T) {
	ts := llmOrigin(t)
	bodyFile := filepath.Join(t.TempDir(), "prompt.json")
	if err := os.WriteFile(bodyFile, []byte(secretBody), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"one process", []string{"--procs", "1", "--body", secretBody, "--method", "POST"}},
		{"two processes", []string{"--procs", "2", "--body-file", bodyFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			args := append([]string{"run", "--topology", "none", "--target", "llm=" + ts.URL + "/v1/stream",
				"-c", "4", "-d", "1s", "--no-progress", "--out", dir,
				"-H", "Authorization: " + secretToken, "--header=Content-Type: application/json"}, tc.args...)
			cmd := exec.CommandContext(ctx, os.Args[0], args...)
			cmd.Env = append(os.Environ(), "SSELOAD_TEST_MAIN=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("sseload %q: %v\nstderr: %s", args, err, stderr.String())
			}
			s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
			if err != nil {
				t.Fatal(err)
			}
			if c := s.Targets[0].Connections; c.Established != 4 || c.Failed != 0 {
				t.Errorf("connections %+v, want 4 established", c)
			}
			rq := s.Config.Request
			if rq == nil || rq.Method != "POST" || rq.Headers["Authorization"] != "[redacted]" || rq.BodyBytes != len(secretBody) {
				t.Errorf("config.request %+v: want POST, Authorization [redacted], the body's length", rq)
			}
			if !strings.Contains(strings.Join(s.Command, " "), "Authorization: [redacted]") {
				t.Errorf("command %q: want the header's name kept and its value redacted", s.Command)
			}
			files := 0
			err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				files++
				for _, secret := range []string{"tok-8f2c1e77d1", "the-secret-prompt-4411"} {
					if bytes.Contains(b, []byte(secret)) {
						t.Errorf("%s holds the secret %q", p, secret)
					}
				}
				return nil
			})
			if err != nil || files < 3 {
				t.Fatalf("walked %d files of %s: %v", files, dir, err)
			}
			for _, out := range []string{stdout.String(), stderr.String()} {
				if strings.Contains(out, "tok-8f2c1e77d1") || strings.Contains(out, "the-secret-prompt-4411") {
					t.Errorf("output holds a secret:\n%s", out)
				}
			}
		})
	}
}

// TestRequestFlagErrors: each mistake in the request flags is a usage
// error (exit 2) naming the flag, and never quotes a value.
func TestRequestFlagErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.json")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-H", "Authorization Bearer tok-1"}, `--header: header "Authorization …": no colon`},
		{[]string{"-H", "X-A: tok-1\r\nX-B: 2"}, "--header: header X-A: the value contains CR, LF or NUL"},
		{[]string{"-H", "X\nY: tok-1"}, "--header: header name"},
		{[]string{"--body-file", missing}, "--body-file: open " + missing},
		{[]string{"--body", "tok-1", "--body-file", missing}, "--body and --body-file both give the request body"},
		{[]string{"--method", "FETCH"}, `--method: method "FETCH": unknown (valid: GET, POST`},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"run", "--topology", "none", "--target", "a=http://127.0.0.1:1/events"}, tc.args...)
		code := run(args, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("sseload %q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), exitUsage, tc.want)
		}
		if strings.Contains(stderr.String(), "tok-1") {
			t.Errorf("sseload %q: stderr quotes a value: %q", tc.args, stderr.String())
		}
	}
}

func TestRedactedArgs(t *testing.T) {
	got := redactedArgs([]string{"sseload", "run", "-H", "Authorization: Bearer x", "-HCookie: a=b", "--header=X-Key: k", "--header", "novalue",
		"--body", "{}", "--body={\"a\":1}", "--body-file", "p.json", "-c", strconv.Itoa(3)})
	want := []string{"sseload", "run", "-H", "Authorization: [redacted]", "-HCookie: [redacted]", "--header=X-Key: [redacted]", "--header", "[redacted]",
		"--body", "[redacted]", "--body=[redacted]", "--body-file", "p.json", "-c", "3"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("redactedArgs:\n got %q\nwant %q", got, want)
	}
}
