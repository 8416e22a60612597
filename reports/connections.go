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

// connectionsFailure says why junit.xml's "<target>: connections" case
// fails, as its failure type and message, or returns "" when it passes:
// the target is unusable, or more of its streams failed for good than the
// scenario's max_failed allows (Connections.MaxFailed).
func connectionsFailure(s Summary, t *Target) (typ, msg string) {
	if why := Unusable(s, t); why != "" {
		return "unusable", t.Name + ": target unusable: " + why
	}
	c := t.Connections
	if c.Failed <= c.MaxFailed {
		return "", ""
	}
	msg = fmt.Sprintf("%s: %d of %d %s failed", t.Name, c.Failed, c.Requested, plural(int(c.Requested), "stream", "streams"))
	if e := ErrorList(t.Errors, t.ErrorValues); e != "" {
		msg += " (" + e + ")"
	}
	if c.MaxFailed == 0 {
		return "connections", msg + "; the scenario allows none (max_failed)"
	}
	return "connections", msg + fmt.Sprintf("; max_failed allows %d", c.MaxFailed)
}

// connectionsText is the passing "<target>: connections" case's output:
// what was established, and the errors streams recovered from.
func connectionsText(t *Target) string {
	c := t.Connections
	out := fmt.Sprintf("%d of %d streams established, %d failed", c.Established, c.Requested, c.Failed)
	if c.MaxFailed > 0 {
		out += fmt.Sprintf(" (max_failed allows %d)", c.MaxFailed)
	}
	if e := ErrorList(t.Errors, t.ErrorValues); e != "" {
		out += "; errors: " + e
	}
	return out
}
