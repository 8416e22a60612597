package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/scenarios"
)

const gateWorkflow = ".github/workflows/sseload-gate.yml"

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestGateWorkflow: the workflow docs/ci.md describes is valid YAML of the
// shape GitHub Actions runs, installs with scripts/install-deps, measures a
// baseline and the change and compares them, with sseload command lines
// that the CLI accepts; and docs/ci.md shows the file as it is.
func TestGateWorkflow(t *testing.T) {
	text := readRepoFile(t, gateWorkflow)
	// The keys this workflow uses, as GitHub spells them: a misspelt key
	// is an error (KnownFields), not a silently ignored setting.
	var wf struct {
		Name        string
		On          map[string]any `yaml:"on"`
		Permissions map[string]string
		Jobs        map[string]struct {
			RunsOn         string `yaml:"runs-on"`
			TimeoutMinutes int    `yaml:"timeout-minutes"`
			Env            map[string]string
			Steps          []struct {
				Name, Uses, Run, If, Shell string
				With                       map[string]any
				Env                        map[string]string
			}
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&wf); err != nil {
		t.Fatalf("%s: %v", gateWorkflow, err)
	}
	if wf.Name == "" || wf.On["pull_request"] == nil && !hasKey(wf.On, "pull_request") || len(wf.Jobs) == 0 {
		t.Fatalf("%s: want a name, an on: pull_request trigger and jobs; got %+v", gateWorkflow, wf)
	}
	var lines [][]string
	for name, job := range wf.Jobs {
		if job.RunsOn == "" || len(job.Steps) == 0 {
			t.Errorf("job %s: no runs-on or no steps", name)
		}
		installs := false
		for _, st := range job.Steps {
			if (st.Uses == "") == (st.Run == "") {
				t.Errorf("job %s, step %q: want exactly one of uses and run", name, st.Name)
			}
			if st.Uses != "" && !regexp.MustCompile(`^[\w.-]+/[\w.-]+@v\d+$`).MatchString(st.Uses) {
				t.Errorf("job %s: uses %q: want owner/action@vN", name, st.Uses)
			}
			if strings.Contains(st.Run, "scripts/install-deps") {
				installs = true
			}
			lines = append(lines, sseloadCommands(st.Run)...)
		}
		if !installs {
			t.Errorf("job %s does not run scripts/install-deps", name)
		}
	}
	if fi, err := os.Stat(filepath.Join("..", "..", "scripts", "install-deps")); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("scripts/install-deps is not an executable file: %v", err)
	}
	var cmds []string
	for _, argv := range lines {
		cmds = append(cmds, argv[0])
		if err := checkCommandLine(argv); err != nil {
			t.Errorf("%s: sseload %s: %v", gateWorkflow, strings.Join(argv, " "), err)
		}
	}
	if slices.Index(cmds, "run") < 0 || slices.Index(cmds, "compare") < slices.Index(cmds, "run") {
		t.Errorf("%s runs sseload %v; want runs, then a compare", gateWorkflow, cmds)
	}

	doc := readRepoFile(t, "docs/ci.md")
	if !strings.Contains(doc, "](../"+gateWorkflow+")") {
		t.Errorf("docs/ci.md does not link %s", gateWorkflow)
	}
	if !strings.Contains(doc, "```yaml\n"+text+"```\n") {
		t.Errorf("docs/ci.md does not show %s as it is: copy the file into its yaml block", gateWorkflow)
	}
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// TestDocsCommandLines: every sseload command line in the sh and yaml
// blocks of README.md and docs/*.md is one the CLI accepts: a command, its
// flags with values of their types, its operands (an embedded scenario or a
// .yaml path), and parseable thresholds, SLOs and metrics.
func TestDocsCommandLines(t *testing.T) {
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"README.md"}
	for _, d := range docs {
		names = append(names, "docs/"+filepath.Base(d))
	}
	block := regexp.MustCompile("(?s)```(?:sh|yaml)\n(.*?)```")
	for _, name := range names {
		n := 0
		for _, m := range block.FindAllStringSubmatch(readRepoFile(t, name), -1) {
			for _, argv := range sseloadCommands(m[1]) {
				n++
				if err := checkCommandLine(argv); err != nil {
					t.Errorf("%s: sseload %s: %v", name, strings.Join(argv, " "), err)
				}
			}
		}
		if n == 0 && (name == "README.md" || name == "docs/ci.md") {
			t.Errorf("%s: found no sseload command lines", name)
		}
	}
}

// sseloadCommands finds the sseload invocations in a shell script: a word
// in command position (after VAR=value words, or after ;, &&, ||, |)
// whose file name is sseload or sseload-*, or `go run ./cmd/sseload`; it
// returns each one's arguments. Line continuations are joined; quotes are
// removed; variables are left as written.
func sseloadCommands(script string) [][]string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var out [][]string
	for _, line := range strings.Split(script, "\n") {
		words := shellWords(line)
		start := true
		for i := 0; i < len(words); i++ {
			w := words[i]
			switch {
			case slices.Contains([]string{";", "&&", "||", "|", "then", "do", "else", "!"}, w):
				start = true
				continue
			case !start:
				continue
			case regexp.MustCompile(`^[A-Za-z_]\w*=`).MatchString(w):
				continue // an environment assignment before the command
			}
			start = false
			prog := path.Base(w)
			switch {
			case w == "go" && i+2 < len(words) && words[i+1] == "run" && path.Base(words[i+2]) == "sseload":
				i += 2
			case prog != "sseload" && !strings.HasPrefix(prog, "sseload-"):
				continue
			}
			j := i + 1
			for j < len(words) && !slices.Contains([]string{";", "&&", "||", "|", ">", ">>", "2>&1", ")"}, words[j]) {
				j++
			}
			if j > i+1 {
				out = append(out, words[i+1:j])
			}
			i = j - 1
		}
	}
	return out
}

// shellWords splits one line into words as sh would, for the simple lines
// of the docs: '…' and "…" quoting, backslash escapes, # comments.
func shellWords(line string) []string {
	var words []string
	var w strings.Builder
	inWord, quote := false, byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == '\'':
			w.WriteByte(c)
		case quote == '"' && c == '\\' && i+1 < len(line):
			i++
			w.WriteByte(line[i])
		case quote == '"':
			w.WriteByte(c)
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '\\' && i+1 < len(line):
			i++
			w.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words
		case c == ';':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
			words = append(words, ";")
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// checkCommandLine parses argv (without the program name) as sseload would
// before it starts anything: the command's own FlagSet, its operands, and
// the values sseload parses further.
func checkCommandLine(argv []string) error {
	c, ok := lookupCommand(argv[0])
	if !ok || c.hidden {
		return fmt.Errorf("%q is no command", argv[0])
	}
	fs := flagsOf(c)
	if fs == nil {
		return fmt.Errorf("command %s has no FlagSet", c.name)
	}
	if err := fs.Parse(argv[1:]); err != nil {
		return err
	}
	ops := fs.Args()
	// merge takes any number of results directories, at least two.
	variadic := c.name == "merge"
	if !variadic && len(ops) > len(c.operands) || c.name == "compare" && len(ops) != 2 || variadic && len(ops) < 2 {
		return fmt.Errorf("%d operands %q; %s takes %d", len(ops), ops, c.name, len(c.operands))
	}
	for i, op := range ops {
		o := c.operands[min(i, len(c.operands)-1)]
		switch {
		case o.files == yamlFiles:
			if ext := filepath.Ext(op); ext != ".yaml" && ext != ".yml" && !slices.Contains(scenarios.Names(), op) {
				return fmt.Errorf("%q is no embedded scenario (%v) and no .yaml path", op, scenarios.Names())
			}
		case o.files == noFiles && o.words != nil && !slices.Contains(o.words(), op):
			return fmt.Errorf("%s %q: want one of %v", o.what, op, o.words())
		}
	}
	for _, name := range []string{"threshold", "slo"} {
		if fs.Lookup(name) == nil {
			continue
		}
		exprs, _ := fs.GetStringArray(name)
		if _, err := reports.ParseThresholds(exprs); err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
	}
	if fs.Lookup("metric") != nil {
		ms, _ := fs.GetStringSlice("metric")
		for _, m := range ms {
			if _, err := reports.ParseCompareMetric(m); err != nil {
				return fmt.Errorf("--metric: %w", err)
			}
		}
		r, _ := fs.GetString("max-regression")
		if _, err := reports.ParseRegression(r); err != nil {
			return fmt.Errorf("--max-regression: %w", err)
		}
	}
	return nil
}

// TestCheckCommandLine: the docs check refuses what sseload refuses.
func TestCheckCommandLine(t *testing.T) {
	for _, argv := range [][]string{
		{"run", "--conections", "5"},
		{"run", "stedy"},
		{"run", "seed", "steady"},
		{"run", "--duration", "5"},
		{"run", "--threshold", "latency.p99 <"},
		{"capacity", "--slo", "lat.p99 < 1ms"},
		{"compare", "a"},
		{"compare", "a", "b", "--metric", "nope"},
		{"compare", "a", "b", "--max-regression", "lots"},
		{"completion", "tcsh"},
		{"worker"},
		{"nosuch"},
	} {
		if err := checkCommandLine(argv); err == nil {
			t.Errorf("sseload %s passed the docs check", strings.Join(argv, " "))
		}
	}
	got := sseloadCommands(`go build -o sseload ./cmd/sseload
NGINX_IMAGE=x ./sseload run seed --threshold 'a < 1ms' \
    --out "results/x y" # a comment
if [ -f b ]; then "$RUNNER_TEMP/sseload-baseline" compare b c; fi
scripts/install-deps && go run ./cmd/sseload run seed`)
	want := [][]string{
		{"run", "seed", "--threshold", "a < 1ms", "--out", "results/x y"},
		{"compare", "b", "c"},
		{"run", "seed"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sseloadCommands = %q, want %q", got, want)
	}
}
