package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestHelpOnStdout: help the user asked for is output (stdout, exit 0), the
// same from 'sseload COMMAND --help', '-h' and 'sseload help COMMAND';
// sseload without a command is a usage error (the help on stderr, exit 2).
func TestHelpOnStdout(t *testing.T) {
	for _, c := range visibleCommands() {
		var first string
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			var out, errOut bytes.Buffer
			code := run(args, &out, &errOut)
			if code != exitOK || errOut.Len() != 0 {
				t.Errorf("sseload %s: exit %d, stderr %q; want exit 0 and nothing on stderr", strings.Join(args, " "), code, errOut.String())
			}
			if !strings.HasPrefix(out.String(), "Usage: sseload "+c.name) || !strings.Contains(out.String(), "\nExit codes:\n") {
				t.Errorf("sseload %s: stdout %q; want Usage: sseload %s ... Exit codes:", strings.Join(args, " "), out.String(), c.name)
			}
			if first == "" {
				first = out.String()
			} else if out.String() != first {
				t.Errorf("sseload %s differs from sseload %s --help", strings.Join(args, " "), c.name)
			}
		}
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != exitOK || errOut.Len() != 0 || !strings.Contains(out.String(), "Usage:\n  sseload run") {
			t.Errorf("sseload %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out.String(), errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run(nil, &out, &errOut); code != exitUsage || out.Len() != 0 || !strings.Contains(errOut.String(), "Usage:\n  sseload run") {
		t.Errorf("sseload: exit %d, stdout %q, stderr %q; want the help on stderr, exit 2", code, out.String(), errOut.String())
	}
}

// TestMainHelpListsEveryCommand: the main help names every visible command
// and none of the internal ones.
func TestMainHelpListsEveryCommand(t *testing.T) {
	var out bytes.Buffer
	writeMainUsage(&out)
	for _, c := range commands() {
		listed := strings.Contains(out.String(), "\n  sseload "+c.name+" ") || strings.Contains(out.String(), "\n  sseload "+c.name+"\n")
		if listed == c.hidden {
			t.Errorf("main help lists %s: %v, hidden: %v", c.name, listed, c.hidden)
		}
	}
}

// TestEveryHelpListsItsExitCodes: each command's help ends with the exit
// codes that command returns, in its words, from the one table.
func TestEveryHelpListsItsExitCodes(t *testing.T) {
	for _, c := range visibleCommands() {
		var out bytes.Buffer
		run([]string{c.name, "--help"}, &out, &out)
		_, block, ok := strings.Cut(out.String(), "\nExit codes:\n")
		if !ok {
			t.Errorf("%s --help has no Exit codes block", c.name)
			continue
		}
		var want []int
		for _, e := range exitCodes() {
			if text, ok := e.by[c.name]; ok {
				want = append(want, e.code)
				flat := strings.Join(strings.Fields(block), " ")
				if !strings.Contains(flat, fmt.Sprintf("%d %s", e.code, text)) {
					t.Errorf("%s --help: exit code %d should read %q; block:\n%s", c.name, e.code, text, block)
				}
			}
		}
		var got []int
		for _, m := range regexp.MustCompile(`(?m)^  (\d+) `).FindAllStringSubmatch(block, -1) {
			var n int
			fmt.Sscan(m[1], &n)
			got = append(got, n)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s --help lists exit codes %v, want %v", c.name, got, want)
		}
		if !slices.Contains(want, exitOK) || !slices.Contains(want, exitUsage) {
			t.Errorf("%s: every command can exit 0 and 2; the table gives %v", c.name, want)
		}
	}
	for _, e := range exitCodes() {
		for name := range e.by {
			if _, ok := lookupCommand(name); !ok {
				t.Errorf("exit code %d: %q is no command", e.code, name)
			}
		}
	}
}

// TestREADMEExitCodes: README's exit code table is the table the help is
// made from.
func TestREADMEExitCodes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n### Exit codes\n")
	if !ok {
		t.Fatal("README.md has no '### Exit codes' section")
	}
	i := strings.Index(section, "| code |")
	if i < 0 {
		t.Fatal("README.md's Exit codes section has no table")
	}
	table := section[i:]
	if j := strings.Index(table, "\n\n"); j >= 0 {
		table = table[:j+1]
	}
	if want := exitCodesMarkdown(); table != want {
		t.Errorf("README.md's exit code table differs from exitCodes(); replace it with:\n\n%s", want)
	}
}

// TestDidYouMean: a near miss of a command, scenario, flag, target or
// shell names what was probably meant; exit 2.
func TestDidYouMean(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rn"}, `unknown command "rn": did you mean "run"?`},
		{[]string{"compre", "a", "b"}, `unknown command "compre": did you mean "compare"?`},
		{[]string{"steady"}, `'sseload run steady'`},
		{[]string{"bogus"}, `unknown command "bogus" (commands: run, capacity, origin, images, compare, merge, report, completion, version, help, worker)`},
		{[]string{"--conections"}, "unknown flag --conections: a command comes first"},
		{[]string{"help", "capasity"}, `did you mean "capacity"?`},
		{[]string{"run", "stedy"}, `unknown scenario "stedy": did you mean "steady"?`},
		{[]string{"capacity", "sede", "--target", "direct"}, `unknown scenario "sede": did you mean "seed"?`},
		{[]string{"run", "--conections", "5"}, "unknown flag --conections: did you mean --connections? ('sseload run --help' lists the flags)"},
		{[]string{"capacity", "--sol", "x"}, "did you mean --slo?"},
		{[]string{"compare", "--max-regresion", "5%", "a", "b"}, "did you mean --max-regression?"},
		{[]string{"run", "--zzz"}, "unknown flag --zzz ('sseload run --help' lists the flags)"},
		{[]string{"run", "-x"}, "unknown shorthand flag: 'x' in -x"},
		{[]string{"run", "seed", "--only", "nginx-stok"}, `--only "nginx-stok": unknown target: did you mean "nginx-stock"?`},
		{[]string{"completion", "bsh"}, `unknown shell "bsh": did you mean "bash"?`},
	} {
		var out, errOut bytes.Buffer
		code := run(tc.args, &out, &errOut)
		if code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("sseload %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, errOut.String(), tc.want)
		}
	}
}

// TestScenarioKeySuggestion: a misspelt key in a scenario file names the key
// meant, through the CLI.
func TestScenarioKeySuggestion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(path, []byte("mode: broadcast\nconections: 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run([]string{"run", path}, &out, &errOut)
	if want := path + `:2: unknown key "conections": did you mean "connections"?`; code != exitUsage || !strings.Contains(errOut.String(), want) {
		t.Errorf("sseload run %s: exit %d, stderr %q; want exit 2 and %q", path, code, errOut.String(), want)
	}
}
