package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/reports/render"
	"github.com/sseload/sseload/scenarios"
)

// junitDoc is what these tests read of junit.xml.
type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suite    struct {
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, dir string) junitDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, render.JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, b)
	}
	return doc
}

// refusedURL is the URL of a loopback port nothing listens on: one the
// kernel just handed out and that is closed again.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/events"
}

// notSSE answers /missing with 404 and everything else with an HTML page,
// the two ways a wrong URL usually answers.
func notSSE(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<html>login</html>")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// oneEvent serves a stream with one event and holds it until the client
// goes: a healthy external target.
func oneEvent(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRefusedTargetExits3 is the first case: every connection
// refused exits 3 naming the target and its errors, after writing every
// result, and junit.xml's connections case fails naming connect_refused.
func TestRefusedTargetExits3(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "--topology", "none", "--target", "x=" + refusedURL(t), "-c", "5", "-d", "2s", "--no-progress", "-o", dir}, &stdout, &stderr)
	if code != exitNotComplete {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitNotComplete, stdout.String(), stderr.String())
	}
	if want := "sseload: target x unusable: none of 5 streams got an event stream (connect_refused ×5)"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q lacks %q", stderr.String(), want)
	}
	for _, f := range []string{reports.SummaryFile, render.MarkdownFile, render.HTMLFile, render.JUnitFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("results: %v", err)
		}
	}
	doc := readJUnit(t, dir)
	var found bool
	for _, c := range doc.Suite.Cases {
		if c.Name != "x: connections" {
			continue
		}
		found = true
		if c.Failure == nil || c.Failure.Type != "unusable" || !strings.Contains(c.Failure.Message, "connect_refused ×5") {
			t.Errorf("x's connections case %+v: want it failed, unusable, naming connect_refused ×5", c)
		}
	}
	if !found || doc.Failures == 0 {
		t.Errorf("junit.xml: no failing case for x (%+v)", doc)
	}
}

// TestErrorValuesInEveryOutput: a target answering 404 and one answering
// an HTML page say so, with the status and the type, in the table,
// report.md, junit.xml and summary.json.
func TestErrorValuesInEveryOutput(t *testing.T) {
	srv := notSSE(t)
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "--topology", "none", "--target", "gone=" + srv.URL + "/missing", "--target", "page=" + srv.URL + "/login",
		"-c", "5", "-d", "2s", "--no-progress", "-o", dir}, &stdout, &stderr)
	if code != exitNotComplete {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitNotComplete, stdout.String(), stderr.String())
	}
	md, err := os.ReadFile(filepath.Join(dir, render.MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	junit, err := os.ReadFile(filepath.Join(dir, render.JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gone: http_status 404 ×5", "page: wrong_content_type text/html ×5"} {
		if !strings.Contains(stdout.String(), "errors: "+want+"\n") {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
		if !strings.Contains(string(md), "- "+want+"\n") {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
		if !strings.Contains(stderr.String(), strings.Replace(want, ": ", " unusable: none of 5 streams got an event stream (", 1)+")") {
			t.Errorf("stderr lacks %q: %s", want, stderr.String())
		}
	}
	for _, want := range []string{"gone: target unusable: none of 5 streams got an event stream (http_status 404 ×5)", "page: target unusable: none of 5 streams got an event stream (wrong_content_type text/html ×5)"} {
		if !strings.Contains(string(junit), want) {
			t.Errorf("junit.xml lacks %q:\n%s", want, junit)
		}
	}
	s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range s.Targets {
		want := map[string]string{"gone": "http_status 404", "page": "wrong_content_type text/html"}[tg.Name]
		kind, value, _ := strings.Cut(want, " ")
		if tg.Errors[kind] != 5 || tg.ErrorValues[kind][value] != 5 {
			t.Errorf("summary.json %s: errors %v, error_values %v; want %s counted 5 times", tg.Name, tg.Errors, tg.ErrorValues, want)
		}
	}
}

// TestHealthyTargetPassesJUnit: the connections case of a target whose
// streams all opened passes, and the run exits 0.
func TestHealthyTargetPassesJUnit(t *testing.T) {
	srv := oneEvent(t)
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "--topology", "none", "--target", "ok=" + srv.URL + "/events", "-c", "3", "-d", "200ms", "--no-progress", "-o", dir}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s%s", code, stdout.String(), stderr.String())
	}
	doc := readJUnit(t, dir)
	if doc.Failures != 0 || len(doc.Suite.Cases) != 2 || doc.Suite.Cases[1].Name != "ok: connections" {
		t.Errorf("junit.xml %+v: want run completed and ok: connections, both passing", doc)
	}
}

// TestOutDirNeverMixed: a results directory that holds anything is refused
// (exit 2, naming it and --force) and left as it was; --force empties it
// first, so no earlier file survives beside the new results.
func TestOutDirNeverMixed(t *testing.T) {
	srv := oneEvent(t)
	dir := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "old-target.latency.hlog")
	if err := os.WriteFile(stale, []byte("earlier run"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "--topology", "none", "--target", "ok=" + srv.URL + "/events", "-c", "2", "-d", "200ms", "--no-progress", "-o", dir}
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != exitUsage {
		t.Fatalf("reused -o: exit %d, want %d\n%s", code, exitUsage, stderr.String())
	}
	if want := "--out: " + dir + " is not empty (old-target.latency.hlog)"; !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), "--force") {
		t.Errorf("stderr %q: want %q and the fix, --force", stderr.String(), want)
	}
	if _, err := os.Stat(stale); err != nil {
		t.Errorf("refused, yet the directory changed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, reports.SummaryFile)); err == nil {
		t.Error("refused, yet a summary was written")
	}

	stdout.Reset()
	stderr.Reset()
	if code := run(append(args, "--force"), &stdout, &stderr); code != exitOK {
		t.Fatalf("--force: exit %d, want 0\n%s%s", code, stdout.String(), stderr.String())
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("--force left the earlier run's file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ok.latency.hlog")); err != nil {
		t.Errorf("new results: %v", err)
	}

	// capacity refuses the same way, before its first step.
	stderr.Reset()
	if code := run([]string{"capacity", "--topology", "none", "--target", "ok=" + srv.URL + "/events", "-o", dir}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), dir+" is not empty") {
		t.Errorf("capacity with a used -o: exit %d, stderr %q", code, stderr.String())
	}
}

// TestFlagsWithoutEffectRefused: a flag the chosen topology ignores is a
// usage error naming the flag and the topology, before anything runs.
func TestFlagsWithoutEffectRefused(t *testing.T) {
	none := []string{"--topology", "none", "--target", "x=http://127.0.0.1:1/events"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append([]string{"run", "--interval", "1s"}, none...), "--interval sets what sseload's own origin does; with --topology none"},
		{append([]string{"run", "--x-accel"}, none...), "--x-accel sets what sseload's own origin does; with --topology none"},
		{append([]string{"run", "--payload", "100"}, none...), "--payload"},
		{append([]string{"run", "--events", "3"}, none...), "--events"},
		{append([]string{"run", "--mode", "per-connection"}, none...), "--mode"},
		{append([]string{"run", "--retry", "3000"}, none...), "--retry"},
		{append([]string{"run", "--heartbeat", "15s"}, none...), "--heartbeat"},
		{append([]string{"run", "--only", "direct"}, none...), "--only picks among the local topology's targets; with --topology none"},
		{append([]string{"run", "--nginx", "/usr/sbin/nginx"}, none...), "--nginx names the nginx program the local topology runs; with --topology none"},
		{append([]string{"run", "--haproxy", "/usr/sbin/haproxy"}, none...), "--haproxy"},
		{append([]string{"run", "--caddy", "/usr/bin/caddy"}, none...), "--caddy"},
		{append([]string{"run", "--origin-listen", "127.0.0.1:8080"}, none...), "--origin-listen says where sseload's own origin listens; with --topology none"},
		{[]string{"run", "seed", "--insecure"}, "--insecure skips the certificate checks of https --target URLs, which only --topology none measures; with --topology local"},
		{[]string{"run", "seed", "--topology", "compose", "--origin-listen", "127.0.0.1:8080"}, "--origin-listen: on --topology compose"},
		{[]string{"run", "seed", "--topology", "compose", "--source-addrs", "127.0.0.2"}, "--source-addrs: on the compose topology"},
		{[]string{"run", "seed", "--topology", "compose", "--nginx", "/usr/sbin/nginx"}, "--nginx /usr/sbin/nginx: the nginx binary is for the local topology"},
		{[]string{"run", "seed", "--force"}, "--force empties the --out directory first; without --out"},
		{append([]string{"capacity", "--x-accel"}, none...), "--x-accel sets what sseload's own origin does; with --topology none"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("sseload %s: exit %d, stderr %q; want exit %d naming %q", strings.Join(tc.args, " "), code, stderr.String(), exitUsage, tc.want)
		}
	}
}

// TestNoneLoadFromTheCommandLine: --topology none without a scenario named
// opens 10 streams per target for 30 s, or what -c says, and is labelled
// adhoc (summary.json, report.md, junit.xml), never steady; a scenario
// named brings its own connections, duration and name. (Every connection
// is refused, so the runs end at once.)
func TestNoneLoadFromTheCommandLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(file, []byte("connections: 7\nduration: 5s\nmax_failed: 10%\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		requests int64
		duration float64
		allowed  int64
		scenario string
	}{
		{"defaults", nil, 10, 30, 0, scenarios.AdhocName},
		{"flags", []string{"-c", "4", "-d", "3s"}, 4, 3, 0, scenarios.AdhocName},
		{"scenario named", []string{file}, 7, 5, 0, "mine"},               // 10% of 7 rounds down to 0
		{"scenario and -c", []string{file, "-c", "20"}, 20, 5, 2, "mine"}, // 10% of 20
	} {
		dir := filepath.Join(t.TempDir(), "out")
		args := append([]string{"run", "--topology", "none", "--target", "x=" + refusedURL(t), "--no-progress", "-o", dir}, tc.args...)
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != exitNotComplete {
			t.Fatalf("%s: exit %d, want %d (refused)\n%s", tc.name, code, exitNotComplete, stderr.String())
		}
		s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		c := s.Targets[0].Connections
		if c.Requested != tc.requests || s.Config.Connections != int(tc.requests) || s.Config.DurationS != tc.duration || c.MaxFailed != tc.allowed {
			t.Errorf("%s: requested %d, config connections %d duration %gs, max_failed %d; want %d, %gs, %d",
				tc.name, c.Requested, s.Config.Connections, s.Config.DurationS, c.MaxFailed, tc.requests, tc.duration, tc.allowed)
		}
		if s.Scenario != tc.scenario {
			t.Errorf("%s: summary.json scenario %q, want %q", tc.name, s.Scenario, tc.scenario)
		}
		md, err := os.ReadFile(filepath.Join(dir, render.MarkdownFile))
		if err != nil {
			t.Fatal(err)
		}
		junit, err := os.ReadFile(filepath.Join(dir, render.JUnitFile))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(md), "## sseload: "+tc.scenario+"\n") || !strings.Contains(string(junit), `<testsuite name="sseload.`+tc.scenario+`"`) ||
			strings.Contains(string(md)+string(junit), "steady") {
			t.Errorf("%s: report.md and junit.xml should name %s, never steady:\n%s\n%s", tc.name, tc.scenario, md, junit)
		}
	}
}

// TestCapacityNoneIsAdhoc: a capacity search of a --target URL without a
// scenario named is labelled adhoc, as run's is, never steady.
func TestCapacityNoneIsAdhoc(t *testing.T) {
	srv := oneEvent(t)
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	code := run([]string{"capacity", "--topology", "none", "--target", "ok=" + srv.URL + "/events", "--start", "2", "--max", "2", "--duration", "200ms", "-o", dir}, &stdout, &stderr)
	if code != exitOK && code != exitThreshold {
		t.Fatalf("exit %d, want a completed search\n%s%s", code, stdout.String(), stderr.String())
	}
	s, err := reports.ReadSummary(filepath.Join(dir, reports.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Scenario != scenarios.AdhocName {
		t.Errorf("capacity summary.json scenario %q, want %q", s.Scenario, scenarios.AdhocName)
	}
}
