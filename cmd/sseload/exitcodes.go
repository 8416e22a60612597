package main

import (
	"fmt"
	"io"
	"maps"
	"strings"
)

// exitCode is one exit status, the single source of what it means: README's
// "Exit codes" table is this table's Markdown (exitCodesMarkdown, checked by
// a test), `sseload --help` prints the general meanings and each command's
// --help the codes that command returns, in its own words.
type exitCode struct {
	code int
	// meaning is what the code means in general, as README's table says it
	// (Markdown: `code` spans are printed without the backticks in help).
	meaning string
	// by is what the code means from each command that can return it; a
	// command absent here never returns the code.
	by map[string]string
}

// exitCodes lists the exit statuses in order. The constants are in main.go.
func exitCodes() []exitCode {
	printed := map[string]string{"version": "printed", "help": "printed", "completion": "printed"}
	usage := "usage error: the message names the flag or argument"
	return []exitCode{
		{exitOK, "the run completed and every threshold held; `capacity`: some stream count held every SLO; `compare`: no regression; other commands: done", merge(printed, map[string]string{
			"run":      "the run completed and every threshold held",
			"capacity": "some stream count held every SLO",
			"compare":  "no metric regressed beyond --max-regression",
			"report":   "the reports were written",
			"origin":   "stopped by SIGINT or SIGTERM",
			"images":   "the images are built, or were up to date",
			"probe":    "every URL answered 200",
			"merge":    "the results were merged and every threshold held",
			"worker":   "stopped by SIGINT or SIGTERM (--listen), or its run reported (stdin)",
		})},
		{exitThreshold, "a threshold failed; `capacity`: no stream count held; `compare`: a metric regressed beyond `--max-regression`", map[string]string{
			"run":      "a threshold failed (the failed ones are printed with their measured values)",
			"capacity": "no stream count held (the reason is printed)",
			"compare":  "a metric regressed beyond --max-regression",
			"merge":    "a threshold failed on the merged figures",
		}},
		{exitUsage, "usage or input error: the message names the flag, threshold or file; also a flag without effect on the chosen topology, an `--out` directory that is not empty (without `--force`), and a proxy config that does not start (the proxy's own error lines and the file name are quoted)", map[string]string{
			"run":        "usage or input error: a flag, scenario, threshold or file (the message names it), a flag without effect on the chosen topology, or an --out directory that is not empty (without --force); also a proxy config that does not start (the proxy's error lines are quoted)",
			"capacity":   "usage or input error: a flag, scenario, SLO or file (the message names it), a flag without effect on the chosen topology, or an --out directory that is not empty (without --force); also a proxy config that does not start",
			"compare":    "usage or input error: a flag, or a directory without a readable summary.json",
			"report":     "DIR is not a readable results directory, or a usage error",
			"origin":     usage + "; also an address --listen cannot bind",
			"images":     usage,
			"probe":      usage,
			"version":    usage,
			"help":       usage + ", such as an unknown command",
			"completion": usage + ", such as an unknown shell",
			"merge":      "usage or input error, or runs that cannot be merged: different scenarios, settings, targets or schema versions, or a segment given twice (the message says which)",
			"worker":     usage + "; also --listen on a non-loopback address without a token",
		}},
		{exitNotComplete, "the run could not be completed: topology failed to start, a target unusable (none of its streams got an event stream; the results are written), or the harness was unreliable and `--require-reliable` is set; `capacity`: a step could not run", map[string]string{
			"run":      "the run could not be completed: the topology did not start, a target was unusable (none of its streams got an event stream; the message names it and its errors, and the results are written), or the harness judged itself unreliable and --require-reliable is set",
			"capacity": "a step could not run (the topology did not start, or a target was unusable)",
			"origin":   "serving failed",
			"images":   "no Docker engine answered, or a build failed",
			"probe":    "a URL did not answer 200 within --timeout",
			"merge":    "a results directory could not be read or the merged one written, or a target was unusable",
			"worker":   "--listen could not bind, or its run failed (stdin)",
		}},
		{exitInterrupted, "interrupted; the results measured so far are written", map[string]string{
			"run":      "interrupted (SIGINT or SIGTERM); the results measured so far are written",
			"capacity": "interrupted; the steps measured so far are written",
		}},
	}
}

// merge returns a copy of a with b's entries added.
func merge(a, b map[string]string) map[string]string {
	m := maps.Clone(a)
	maps.Copy(m, b)
	return m
}

// writeExitCodes prints the "Exit codes:" block of cmd's help; cmd "" prints
// the general meanings (sseload's own help).
func writeExitCodes(w io.Writer, cmd string) {
	fmt.Fprint(w, "\nExit codes:\n")
	for _, c := range exitCodes() {
		text := strings.ReplaceAll(c.meaning, "`", "")
		if cmd != "" {
			var ok bool
			if text, ok = c.by[cmd]; !ok {
				continue
			}
		}
		fmt.Fprint(w, wrapIndented(fmt.Sprintf("  %-4d %s", c.code, text), 80, "       "))
	}
}

// exitCodesMarkdown is README's exit code table.
func exitCodesMarkdown() string {
	var b strings.Builder
	b.WriteString("| code | meaning |\n|---|---|\n")
	for _, c := range exitCodes() {
		fmt.Fprintf(&b, "| %d | %s |\n", c.code, c.meaning)
	}
	return b.String()
}

// wrapIndented breaks line at spaces so no line is longer than width
// (unless one word is), continuing with indent; it ends with a newline.
func wrapIndented(line string, width int, indent string) string {
	var b strings.Builder
	for len(line) > width {
		i := strings.LastIndexByte(line[:width+1], ' ')
		if i <= len(indent) {
			break
		}
		b.WriteString(line[:i] + "\n")
		line = indent + strings.TrimLeft(line[i:], " ")
	}
	b.WriteString(line + "\n")
	return b.String()
}
