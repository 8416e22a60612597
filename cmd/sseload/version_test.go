package main

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestBuildInfo: the version, revision, modified flag and commit time come
// from what the go command stamped; a binary without them says so.
func TestBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/sseload/sseload", Version: "v0.0.0-20261129175222-8ce15c1abcde+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "8ce15c1abcdef0123456789abcdef0123456789a"},
			{Key: "vcs.time", Value: "2026-11-29T17:52:22Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	var out bytes.Buffer
	readBuildInfo(bi, true).write(&out)
	want := "sseload v0.0.0-20261129175222-8ce15c1abcde+dirty\n" +
		"  module    github.com/sseload/sseload\n" +
		"  revision  8ce15c1abcdef0123456789abcdef0123456789a (modified: built with uncommitted changes)\n" +
		"  committed 2026-11-29T17:52:22Z\n" +
		"  go        go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if out.String() != want {
		t.Errorf("version:\n%s\nwant:\n%s", out.String(), want)
	}

	out.Reset()
	readBuildInfo(&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/sseload/sseload", Version: "(devel)"}}, true).write(&out)
	if s := out.String(); !strings.HasPrefix(s, "sseload devel\n") || !strings.Contains(s, "revision  unknown (built outside a git checkout, or with -buildvcs=false)") {
		t.Errorf("version without VCS stamps:\n%s", s)
	}
}

// TestVersionCommand: sseload version prints on stdout, exit 0, with the
// toolchain; arguments are refused.
func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != exitOK || errOut.Len() != 0 || !strings.HasPrefix(out.String(), "sseload ") || !strings.Contains(out.String(), "  go        "+runtime.Version()) {
			t.Errorf("sseload %s: exit %d, stdout %q, stderr %q", args[0], code, out.String(), errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"version", "x"}, &out, &errOut); code != exitUsage {
		t.Errorf("sseload version x: exit %d, want 2", code)
	}
}

// TestRunVersionIsTheBuildsVersion: summary.json records the version
// `sseload version` prints, not a placeholder.
func TestRunVersionIsTheBuildsVersion(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	want := readBuildInfo(bi, ok).Version
	if got := runVersion(); !strings.HasPrefix(got, want) || got == "dev" {
		t.Errorf("runVersion() = %q, want it to start with %q", got, want)
	}
}
