package hlog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sseload/sseload/loadgen"
)

// Name returns the file name of a target's interval log for metric m:
// <target>.<metric>.hlog, e.g. nginx-sse.latency.hlog.
func Name(target string, m loadgen.Metric) string {
	return target + "." + m.String() + ".hlog"
}

// CheckName rejects target names that cannot be used as a file name
// component inside the results directory.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("write results: a target has an empty name; every target needs a name (it names its .hlog files)")
	case name == "." || name == ".." || strings.ContainsAny(name, `/\`+"\x00"):
		return fmt.Errorf("write results: target name %q cannot be used in a file name (<target>.<metric>.hlog); use letters, digits, '-', '_' or '.'", name)
	}
	return nil
}
