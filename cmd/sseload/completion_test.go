package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/scenarios"
	"github.com/sseload/sseload/targets"
)

func completionScript(t *testing.T, shell string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run([]string{"completion", shell}, &out, &errOut); code != exitOK || errOut.Len() != 0 {
		t.Fatalf("sseload completion %s: exit %d, stderr %q", shell, code, errOut.String())
	}
	return out.String()
}

// TestCompletionListsCommandsAndFlags: each script names every visible
// command and the flags each command's FlagSet has, hidden ones left out.
func TestCompletionListsCommandsAndFlags(t *testing.T) {
	for _, sh := range shells() {
		script := completionScript(t, sh)
		for _, c := range visibleCommands() {
			if !strings.Contains(script, c.name) {
				t.Errorf("%s script does not name command %s", sh, c.name)
			}
		}
		for _, flag := range []string{"connections", "topology", "only", "threshold", "slo", "max-regression", "kinds", "listen"} {
			spelt := "-" + flag
			if sh == "fish" {
				spelt = "-l " + flag
			}
			if !strings.Contains(script, spelt) {
				t.Errorf("%s script does not offer --%s", sh, flag)
			}
		}
		for _, w := range append(scenarios.Names(), targets.PresetNames()...) {
			if !strings.Contains(script, w) {
				t.Errorf("%s script does not offer %s", sh, w)
			}
		}
		if strings.Contains(script, "external-faults") || strings.Contains(script, "probe") {
			t.Errorf("%s script offers something hidden (--external-faults or probe)", sh)
		}
	}
	// capacity's FlagSet hides run's --connections: its script part must not offer it.
	for _, c := range completionModel() {
		if c.name != "capacity" {
			continue
		}
		for _, f := range c.flags {
			if f.name == "connections" || f.name == "only" {
				t.Errorf("capacity completion offers --%s, which capacity refuses", f.name)
			}
		}
	}
}

// TestBashCompletion: the bash script is valid bash, and completing real
// command lines with it offers what a user expects.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		testenv.Missing(t, "bash is missing: apt-get install bash")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "sseload.bash")
	if err := os.WriteFile(file, []byte(completionScript(t, "bash")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", file).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "mine.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		words []string // the command line; the last word is the one completed
		want  string   // COMPREPLY, space-separated
	}{
		{[]string{"sseload", ""}, strings.Join(commandNames(), " ")},
		{[]string{"sseload", "ca"}, "capacity"},
		{[]string{"sseload", "run", "st"}, "steady"},
		{[]string{"sseload", "run", "mi"}, "mine.yaml"},
		{[]string{"sseload", "run", "--topology", ""}, "local compose swarm none"},
		{[]string{"sseload", "run", "--topology", "=", "co"}, "compose"},
		{[]string{"sseload", "run", "--topology", "none", "--target", "x", "=", "http", ":", "//a", "se"}, "seed"},
		{[]string{"sseload", "run", "seed", "se"}, ""}, // one scenario only
		{[]string{"sseload", "run", "--only", "direct,nginx-s"}, "direct,nginx-stock direct,nginx-sse direct,nginx-stock-h2 direct,nginx-sse-h2"},
		{[]string{"sseload", "run", "--conn"}, "--connections"},
		{[]string{"sseload", "capacity", "--target", "haproxy"}, "haproxy-stock haproxy-sse haproxy-stock-h2 haproxy-sse-h2"},
		{[]string{"sseload", "capacity", "--conn"}, ""}, // capacity refuses --connections
		{[]string{"sseload", "compare", "--max-r"}, "--max-regression"},
		{[]string{"sseload", "images", "--kinds", "nginx,h"}, "nginx,haproxy"},
		{[]string{"sseload", "help", "co"}, "compare completion"},
		{[]string{"sseload", "completion", ""}, "bash zsh fish"},
	} {
		var words strings.Builder
		for _, w := range tc.words {
			words.WriteString(" '" + w + "'")
		}
		script := `source ` + file + `
COMP_WORDS=(` + words.String() + `)
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_sseload
echo "${COMPREPLY[*]}"`
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", script)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
			t.Errorf("completing %q: %q (%v), want %q", strings.Join(tc.words, " "), got, err, tc.want)
		}
	}
}

// TestZshCompletion: the zsh script is a #compdef file with a spec per
// command, valid zsh where zsh is installed (Debian's zsh).
func TestZshCompletion(t *testing.T) {
	script := completionScript(t, "zsh")
	if !strings.HasPrefix(script, "#compdef sseload\n") || !strings.Contains(script, "compdef _sseload sseload") {
		t.Errorf("zsh script lacks #compdef sseload or compdef _sseload sseload")
	}
	for _, c := range visibleCommands() {
		if !strings.Contains(script, "\n\t\t'"+c.name+":") || !strings.Contains(script, "\n\t\t"+c.name+")\n\t\t\t_arguments") {
			t.Errorf("zsh script lacks command %s in the list or its _arguments", c.name)
		}
	}
	for _, spec := range []string{
		`'(-c --connections)'{-c+,--connections=}'[concurrent streams per target]`,
		`'--topology=[local, compose, swarm or none]:topology:(local compose swarm none)'`,
		`'*--threshold=[`,
		`'1:scenario:{_alternative`,
	} {
		if !strings.Contains(script, spec) {
			t.Errorf("zsh script lacks %s", spec)
		}
	}
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		testenv.Missing(t, "zsh is missing, so the zsh script's syntax is not checked: apt-get install zsh (scripts/install-deps installs it)")
		return
	}
	file := filepath.Join(t.TempDir(), "_sseload")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zsh, "-n", file).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
}

// TestFishCompletion: the fish script has a complete line per command and
// flag; where fish is installed (Debian's fish), it parses and completes
// real command lines (complete -C).
func TestFishCompletion(t *testing.T) {
	script := completionScript(t, "fish")
	for _, c := range visibleCommands() {
		if !strings.Contains(script, "complete -c sseload -n 'not __sseload_command' -a "+c.name+" -d ") {
			t.Errorf("fish script does not offer command %s", c.name)
		}
	}
	for _, line := range []string{
		"complete -c sseload -n '__sseload_using run' -s c -l connections -x -d 'concurrent streams per target'",
		"complete -c sseload -n '__sseload_using run' -l topology -x -a 'local compose swarm none'",
		"complete -c sseload -n '__sseload_using run' -l x-accel -d ",
	} {
		if !strings.Contains(script, line) {
			t.Errorf("fish script lacks %s", line)
		}
	}
	fish, err := exec.LookPath("fish")
	if err != nil {
		testenv.Missing(t, "fish is missing, so the fish script's syntax and completions are not checked: apt-get install fish (scripts/install-deps installs it)")
		return
	}
	file := filepath.Join(t.TempDir(), "sseload.fish")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(fish, "--no-execute", file).CombinedOutput(); err != nil {
		t.Fatalf("fish --no-execute: %v\n%s", err, out)
	}
	for _, tc := range []struct{ line, want string }{
		{"sseload ru", "run"},
		{"sseload run st", "steady"},
		{"sseload run --topology ", "compose local none swarm"},
		{"sseload run --topology none se", "seed"},
		{"sseload capacity --target nginx-s", "nginx-sse nginx-sse-h2 nginx-stock nginx-stock-h2"},
		{"sseload completion ", "bash fish zsh"},
	} {
		cmd := exec.Command(fish, "--no-config", "-c", "source "+file+"; complete -C '"+tc.line+"' | string replace -r '\\t.*' '' | string join ' '; exit 0")
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+cmd.Dir, "XDG_DATA_HOME="+cmd.Dir) // fish keeps its state there
		out, err := cmd.CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
			t.Errorf("fish completing %q: %q (%v), want %q", tc.line, got, err, tc.want)
		}
	}
}

// TestCompletionNeedsAShell: a usage error otherwise.
func TestCompletionNeedsAShell(t *testing.T) {
	for _, args := range [][]string{{"completion"}, {"completion", "bash", "zsh"}, {"completion", "powershell"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != exitUsage || out.Len() != 0 {
			t.Errorf("sseload %s: exit %d, stdout %q", strings.Join(args, " "), code, out.String())
		}
	}
}
