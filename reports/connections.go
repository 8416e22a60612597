package reports

import (
	"fmt"
	"slices"
)

// Unusable says why target t of s is unusable, or returns "" when it is
// not: streams were requested and none got a response head that opens an
// EventSource (200 text/event-stream), and no known proxy symptom
// (s.Diagnoses, such as a buffering proxy holding every head back) explains
// why. Nothing listens there, or what answers is not an event stream: the
// run measured nothing of that target, and `sseload run` exits 3 after
// writing the results.
func Unusable(s Summary, t *Target) string {
	c := t.Connections
	if c.Requested == 0 || c.Established > 0 {
		return ""
	}
	if slices.ContainsFunc(s.Diagnoses, func(d Diagnosis) bool { return d.Target == t.Name }) {
		return ""
	}
	why := fmt.Sprintf("none of %d %s got an event stream", c.Requested, plural(int(c.Requested), "stream", "streams"))
	if e := ErrorList(t.Errors, t.ErrorValues); e != "" {
		why += " (" + e + ")"
	}
	return why
}

// plural picks the word for n things. render keeps its own copy: a word
// chooser is no fact about the data worth exporting.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
