package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestFileLimitWarning(t *testing.T) {
	if got := fileLimitWarning(1<<20, 1<<20, 30_000, 30_064); got != "" {
		t.Errorf("limit above need: %q, want no warning", got)
	}
	got := fileLimitWarning(1024, 4096, 30_000, 30_064)
	for _, want := range []string{"1024", "hard limit 4096", "30000 streams", "30064", "ulimit -n 30064", ErrTooManyFiles} {
		if !strings.Contains(got, want) {
			t.Errorf("warning %q lacks %q", got, want)
		}
	}
}

// emfileChildEnv makes the test binary, re-executed, act as the child of
// TestEngineSaysEMFILEOnce; its value is the stream URL.
const emfileChildEnv = "SSELOAD_TEST_EMFILE_URL"

// TestEngineSaysEMFILEOnce runs the engine in a child process whose open
// file limit (soft and hard: the engine raises soft to hard) is a few
// descriptors above what it already uses, against a server in this
// process, so that socket(2) really fails with EMFILE. The limit is never
// lowered in the test process itself. The child checks that every stream
// past the limit is counted as too_many_open_files, that the hint is said
// exactly once, and that the start-up warning names the limit and the fix.
func TestEngineSaysEMFILEOnce(t *testing.T) {
	if url := os.Getenv(emfileChildEnv); url != "" {
		emfileChild(t, url)
		return
	}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: {\"seq\":1}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	cmd := exec.Command(os.Args[0], "-test.run=^TestEngineSaysEMFILEOnce$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), emfileChildEnv+"="+srv.URL+"/events")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "emfile child ran") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child said:\n%s", out)
}

func emfileChild(t *testing.T, url string) {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	// The engine's own descriptors (epoll, its os.File, eventfd, the
	// netpoller's) take a few; what is left goes to streams.
	const room = 16
	limit := uint64(len(fds) + room)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		t.Fatalf("lower the open file limit in the child: %v", err)
	}
	const conns = 60
	var mu sync.Mutex
	var warns []string
	e, err := New(context.Background(), Config{
		Targets:     []Target{{Name: "a", URL: url}},
		Connections: conns,
		Ramp:        10000,
		Workers:     2, // the hint is said once per run, not once per worker
		Hold:        200 * time.Millisecond,
		Warn: func(s string) {
			mu.Lock()
			warns = append(warns, s)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Targets[0]
	emfile := tr.Errors[ErrTooManyFiles]
	if emfile == 0 || emfile >= conns || tr.Established+emfile != conns || tr.Failed != emfile {
		t.Errorf("established %d, failed %d, errors %v; want some streams and the rest (of %d) %s", tr.Established, tr.Failed, tr.Errors, conns, ErrTooManyFiles)
	}
	var hints, startup int
	for _, w := range warns {
		if strings.HasPrefix(w, ErrTooManyFiles) && strings.Contains(w, "ulimit -n") {
			hints++
		}
		if strings.Contains(w, fmt.Sprintf("open file limit is %d", limit)) && strings.Contains(w, "ulimit -n") {
			startup++
		}
	}
	if hints != 1 || startup != 1 {
		t.Errorf("warnings %q: want one %s hint and one start-up limit warning", warns, ErrTooManyFiles)
	}
	t.Logf("emfile child ran: limit %d, established %d, %s %d", limit, tr.Established, ErrTooManyFiles, emfile)
}
