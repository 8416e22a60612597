package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/internal/suggest"
	"github.com/sseload/sseload/scenarios"
)

// command is one subcommand of sseload. The table (commands) is read by the
// dispatcher, the main help, `sseload help COMMAND`, the completion scripts
// and the "did you mean" of an unknown command.
type command struct {
	name    string
	args    string // what follows the name in the synopsis
	summary string
	hidden  bool // run by sseload itself: not in help or completion
	// operands are the positional arguments in order, for completion.
	operands []operand
	run      func(args []string, stdout, stderr io.Writer) (int, error)
}

// operand is a positional argument: what it is, and what completes it.
type operand struct {
	what  string
	words func() []string
	files fileKind
}

// fileKind says which paths complete an argument.
type fileKind int

const (
	noFiles   fileKind = iota
	anyFile            // any path
	dirs               // directories
	yamlFiles          // .yaml and .yml files (and directories to reach them)
)

func commands() []command {
	scenario := operand{what: "scenario", words: scenarios.Names, files: yamlFiles}
	return []command{
		{name: "run", args: "[SCENARIO] [flags]", summary: "measure EventSource streams (default topology: local)",
			operands: []operand{scenario}, run: runCmd},
		{name: "capacity", args: "[SCENARIO] --target NAME [flags]", summary: "find the most streams a target carries within SLOs",
			operands: []operand{scenario}, run: capacityCmd},
		{name: "origin", args: "[flags]", summary: "run the measurement SSE origin on its own", run: noCode(originCmd)},
		{name: "images", args: "[flags]", summary: "build the compose topology's images, offline", run: noCode(imagesCmd)},
		{name: "compare", args: "BASE CUR [flags]", summary: "compare two results directories; exit 1 on a regression",
			operands: []operand{{what: "base results directory", files: dirs}, {what: "current results directory", files: dirs}}, run: compareCmd},
		{name: "merge", args: "DIR DIR... --out DIR", summary: "merge results of one scenario's segments (run --segment I/N)",
			operands: []operand{{what: "results directory", files: dirs}}, run: mergeCmd},
		{name: "report", args: "DIR", summary: "regenerate report.md, report.html, junit.xml in DIR",
			operands: []operand{{what: "results directory", files: dirs}}, run: reportCmd},
		{name: "completion", args: "bash|zsh|fish", summary: "print a shell completion script",
			operands: []operand{{what: "shell", words: shells}}, run: completionCmd},
		{name: "version", summary: "print the version, VCS revision and Go version", run: versionCmd},
		{name: "help", args: "[COMMAND]", summary: "show help for sseload or a command",
			operands: []operand{{what: "command", words: commandNames}}, run: helpCmd},
		{name: "worker", args: "[--listen ADDR [--token T]]", summary: "open streams for a coordinator: sseload run --procs (stdin) or --workers (TCP)",
			run: func(args []string, stdout, stderr io.Writer) (int, error) {
				return exitOK, workerCmd(args, os.Stdin, stdout, stderr)
			}},
		{name: "probe", hidden: true, run: func(args []string, stdout, _ io.Writer) (int, error) {
			return exitOK, probeCmd(args, stdout) // the compose topology's readiness check
		}},
	}
}

// noCode adapts a command that only returns an error.
func noCode(f func(args []string, stdout, stderr io.Writer) error) func([]string, io.Writer, io.Writer) (int, error) {
	return func(args []string, stdout, stderr io.Writer) (int, error) { return exitOK, f(args, stdout, stderr) }
}

// lookupCommand finds a command by name, hidden ones included.
func lookupCommand(name string) (command, bool) {
	cs := commands()
	i := slices.IndexFunc(cs, func(c command) bool { return c.name == name })
	if i < 0 {
		return command{}, false
	}
	return cs[i], true
}

// visibleCommands are the commands help and completion show.
func visibleCommands() []command {
	return slices.DeleteFunc(commands(), func(c command) bool { return c.hidden })
}

func commandNames() []string {
	var names []string
	for _, c := range visibleCommands() {
		names = append(names, c.name)
	}
	return names
}

// writeMainUsage prints sseload's own help: the commands and the exit codes.
func writeMainUsage(w io.Writer) {
	fmt.Fprint(w, "sseload: load and latency harness for Server-Sent Events behind reverse proxies\n\nUsage:\n")
	const width = 32 // of the synopsis column; a longer synopsis gets a line of its own
	for _, c := range visibleCommands() {
		syn := strings.TrimSpace("sseload " + c.name + " " + c.args)
		if len(syn) > width {
			fmt.Fprintf(w, "  %s\n  %*s %s\n", syn, width, "", c.summary)
			continue
		}
		fmt.Fprintf(w, "  %-*s %s\n", width, syn, c.summary)
	}
	fmt.Fprint(w, "\nRun 'sseload help COMMAND' (or 'sseload COMMAND --help') for a command's flags and examples.\n")
	writeExitCodes(w, "")
}

// helpCmd is `sseload help [COMMAND]`: sseload's help, or COMMAND's, on
// stdout.
func helpCmd(args []string, stdout, _ io.Writer) (int, error) {
	fs := pflag.NewFlagSet("help", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		showHelp(stdout, fs, "Usage: sseload help [COMMAND]\n\nPrints sseload's help, or a command's (the same as 'sseload COMMAND --help').\nCommands: "+strings.Join(commandNames(), ", ")+".\n")
	}
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	switch fs.NArg() {
	case 0:
		writeMainUsage(stdout)
		return exitOK, nil
	case 1:
		c, ok := lookupCommand(fs.Arg(0))
		if !ok || c.hidden {
			return exitUsage, unknownCommand(fs.Arg(0))
		}
		return c.run([]string{"--help"}, stdout, io.Discard)
	}
	return exitUsage, usagef("help takes one command, got %q", fs.Args())
}

// showHelp is what every command's pflag Usage calls (on --help, -h or
// `sseload help COMMAND`): the command's own text, then the exit codes it
// returns, on w — stdout, since help is the output the user asked for.
//
// Given a *flagCapture instead, it hands over the FlagSet and prints
// nothing: flagsOf asks each command for its help this way, so completion
// and the unknown-flag suggestion read the very FlagSet the command parses.
func showHelp(w io.Writer, fs *pflag.FlagSet, text string) {
	if fc, ok := w.(*flagCapture); ok {
		fc.fs = fs
		return
	}
	fmt.Fprint(w, text)
	writeExitCodes(w, fs.Name())
}

// flagCapture is the writer flagsOf gives a command instead of stdout.
type flagCapture struct{ fs *pflag.FlagSet }

func (*flagCapture) Write(p []byte) (int, error) { return len(p), nil }

// flagsOf returns the FlagSet command c parses, by running it with --help
// (every command parses its flags before it does anything); nil for a
// command without flags.
func flagsOf(c command) *pflag.FlagSet {
	var fc flagCapture
	_, _ = c.run([]string{"--help"}, &fc, io.Discard)
	return fc.fs
}

// unknownCommand is the error for a first argument that is no command,
// with the command (or the `run`) that was probably meant.
func unknownCommand(name string) error {
	names := commandNames()
	valid := strings.Join(names, ", ")
	if strings.HasPrefix(name, "-") {
		return usagef("unknown flag %s: a command comes first, then its flags, as in 'sseload run --help' (commands: %s)", name, valid)
	}
	if slices.Contains(scenarios.Names(), name) {
		return usagef("unknown command %q: %s is a scenario, run it with 'sseload run %s'", name, name, name)
	}
	if s := suggest.Closest(name, names); s != "" {
		return usagef("unknown command %q: did you mean %q? (commands: %s)", name, s, valid)
	}
	return usagef("unknown command %q (commands: %s)", name, valid)
}

// suggestFlag turns pflag's "unknown flag: --conections" into one that
// names the nearest flag of the command and where the flags are listed.
func suggestFlag(err error, c command) error {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) || ne.GetSpecifiedName() == "" {
		return err
	}
	hint := fmt.Sprintf("'sseload %s --help' lists the flags", c.name)
	if ne.GetSpecifiedShortnames() != "" { // -x: a letter is too little to guess from
		return usagef("%v (%s)", ne, hint)
	}
	var names []string
	if fs := flagsOf(c); fs != nil {
		fs.VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && f.Deprecated == "" {
				names = append(names, f.Name)
			}
		})
	}
	name := ne.GetSpecifiedName()
	if s := suggest.Closest(name, names); s != "" {
		return usagef("unknown flag --%s: did you mean --%s? (%s)", name, s, hint)
	}
	return usagef("unknown flag --%s (%s)", name, hint)
}
