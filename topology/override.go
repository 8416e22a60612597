package topology

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// readTimeoutDirective matches every proxy_read_timeout line of a config.
var readTimeoutDirective = regexp.MustCompile(`(?m)^([ \t]*)proxy_read_timeout[ \t]+[^;]*;`)

// withReadTimeout returns conf with proxy_read_timeout set to d: every
// existing directive rewritten, or one added at the top of http {} when the
// config relies on the default (60 s). The idle-timeout scenario uses it to
// make a proxy cut quiet streams soon. d is whole seconds or milliseconds.
func withReadTimeout(conf []byte, d time.Duration) ([]byte, error) {
	v := fmt.Sprintf("%dms", d.Milliseconds())
	if d%time.Second == 0 {
		v = fmt.Sprintf("%ds", int64(d/time.Second))
	}
	if readTimeoutDirective.Match(conf) {
		return readTimeoutDirective.ReplaceAll(conf, []byte("${1}proxy_read_timeout "+v+";")), nil
	}
	i := bytes.Index(conf, []byte("\nhttp {\n"))
	if i < 0 {
		return nil, fmt.Errorf("proxy_read_timeout %s: the config has no top-level `http {` line to add it to", v)
	}
	i += len("\nhttp {\n")
	out := append([]byte(nil), conf[:i]...)
	out = append(out, "\t# Set by sseload (proxy_read_timeout in the scenario).\n\tproxy_read_timeout "+v+";\n"...)
	return append(out, conf[i:]...), nil
}

// groupSize counts the processes in process group pgid, from /proc.
func groupSize(pgid int) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	n := 0
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the process exited meanwhile
		}
		// Fields after the command (which may hold spaces), from ") ":
		// state ppid pgrp ...
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) {
			n++
		}
	}
	return n
}
