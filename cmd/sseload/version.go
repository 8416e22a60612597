package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// buildTime is set at build time with
// -ldflags "-X main.buildTime=$(date -u +%Y-%m-%dT%H:%M:%SZ)": Go's build
// info records the commit's time, not the build's.
var buildTime = ""

// buildInfo is what `sseload version` prints about this binary.
type buildInfo struct {
	Version   string // -X main.version, else the module version Go stamped ("devel" when none)
	Module    string
	Revision  string // VCS commit; "" when built outside a checkout (or with -buildvcs=false)
	Modified  bool   // the checkout had uncommitted changes
	Committed string // the commit's time (vcs.time)
	Built     string // -X main.buildTime; "" when not set
	Go        string // toolchain, e.g. go1.26.8
	Platform  string // GOOS/GOARCH
}

// readBuildInfo gathers buildInfo from what the linker and the go command
// recorded in the binary (runtime/debug.ReadBuildInfo). From a checkout,
// `go build` and `go install` stamp the module version (a pseudo-version
// such as v0.0.0-20261129175222-8ce15c1abcde+dirty) and the vcs.* settings.
func readBuildInfo(bi *debug.BuildInfo, ok bool) buildInfo {
	b := buildInfo{Version: version, Built: buildTime, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok || bi == nil {
		if b.Version == "dev" {
			b.Version = "devel"
		}
		return b
	}
	b.Module = bi.Main.Path
	if bi.GoVersion != "" {
		b.Go = bi.GoVersion
	}
	if b.Version == "dev" {
		b.Version = bi.Main.Version
		if b.Version == "" || b.Version == "(devel)" {
			b.Version = "devel"
		}
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		case "vcs.time":
			b.Committed = s.Value
		}
	}
	return b
}

func (b buildInfo) write(w io.Writer) {
	fmt.Fprintf(w, "sseload %s\n", b.Version)
	if b.Module != "" {
		fmt.Fprintf(w, "  module    %s\n", b.Module)
	}
	switch {
	case b.Revision == "":
		fmt.Fprint(w, "  revision  unknown (built outside a git checkout, or with -buildvcs=false)\n")
	case b.Modified:
		fmt.Fprintf(w, "  revision  %s (modified: built with uncommitted changes)\n", b.Revision)
	default:
		fmt.Fprintf(w, "  revision  %s\n", b.Revision)
	}
	if b.Committed != "" {
		fmt.Fprintf(w, "  committed %s\n", b.Committed)
	}
	if b.Built != "" {
		fmt.Fprintf(w, "  built     %s\n", b.Built)
	}
	fmt.Fprintf(w, "  go        %s %s\n", b.Go, b.Platform)
}

// versionCmd is `sseload version`.
func versionCmd(args []string, stdout, _ io.Writer) (int, error) {
	fs := pflag.NewFlagSet("version", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		showHelp(stdout, fs, `Usage: sseload version

Prints sseload's version (set with -ldflags "-X main.version=...", else the
module version the go command stamped), the VCS revision it was built from
and whether the checkout had uncommitted changes, the commit time, the build
time (when set with -ldflags "-X main.buildTime=..."), and the Go toolchain
and platform.
`)
	}
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	if fs.NArg() > 0 {
		return exitUsage, usagef("version takes no arguments, got %q", fs.Args())
	}
	readBuildInfo(debug.ReadBuildInfo()).write(stdout)
	return exitOK, nil
}

// runVersion is the version summary.json records for a run: the same as
// `sseload version`'s first line, with the VCS revision where the binary
// has one, so a result names the build that measured it.
func runVersion() string {
	bi, ok := debug.ReadBuildInfo()
	b := readBuildInfo(bi, ok)
	if b.Revision == "" {
		return b.Version
	}
	v := b.Version + " (" + b.Revision[:min(12, len(b.Revision))]
	if b.Modified {
		v += ", modified"
	}
	return v + ")"
}
