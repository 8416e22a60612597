package render

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sseload/sseload/reports"
)

// JUnit XML, the dialect CI systems read (Jenkins, GitLab, GitHub actions
// such as mikepenz/action-junit-report): <testsuites> of one <testsuite>
// named after the scenario.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// RunCompletedCase is the name of junit.xml's test case for the run as a
// whole when it had no thresholds.
const RunCompletedCase = "run completed"

// ConnectionsCase ends the name of each target's connections case,
// "<target>: connections".
const ConnectionsCase = "connections"

// WriteJUnit writes junit.xml: one test case per threshold result (per
// threshold and target), named "<target>: <metric> <op> <value>", a failed
// one carrying the measured value. A run without thresholds gets a case
// "run completed" instead, which fails only when the run was interrupted.
// Then every target has a case "<target>: connections", which fails when
// the target is unusable (reports.Unusable: no stream got an event stream, with the
// errors that say why) or more of its streams failed than the scenario's
// max_failed allows; its message lists the errors with their values
// ("http_status 404 ×5"). The harness verdict is a suite property
// (sseload.harness.reliable) and, when unreliable, text in every case's
// system-out.
func WriteJUnit(w io.Writer, s reports.Summary) error {
	secs := strconv.FormatFloat(s.DurationS, 'f', 3, 64)
	suite := junitSuite{
		Name: "sseload." + orDash(s.Scenario),
		Time: secs,
		Properties: []junitProperty{
			{"sseload.scenario", s.Scenario},
			{"sseload.topology", s.Topology},
			{"sseload.version", s.SSELoadVersion},
			{"sseload.harness.reliable", strconv.FormatBool(s.Harness.Reliable)},
			{"sseload.interrupted", strconv.FormatBool(s.Interrupted)},
		},
	}
	if !s.Started.IsZero() {
		suite.Timestamp = s.Started.UTC().Format("2006-01-02T15:04:05")
	}
	out := ""
	if !s.Harness.Reliable {
		out = "harness " + harnessWords(s.Harness)
	}
	class := func(target string) string {
		return "sseload." + orDash(s.Scenario) + "." + strings.ReplaceAll(orDash(target), ".", "_")
	}
	for _, r := range s.Thresholds {
		c := junitCase{
			Name:      r.Target + ": " + r.Rule(),
			Classname: class(r.Target),
			Time:      "0",
			SystemOut: out,
		}
		if !r.OK {
			c.Failure = &junitFailure{
				Message: fmt.Sprintf("%s: measured %s, threshold %s", r.Target, measuredText(r), r.Expression),
				Type:    "threshold",
				Text:    r.Reason,
			}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, c)
	}
	if len(s.Thresholds) == 0 {
		c := junitCase{Name: RunCompletedCase, Classname: "sseload." + orDash(s.Scenario), Time: secs, SystemOut: out}
		if s.Interrupted {
			c.Failure = &junitFailure{Message: "the run was interrupted before its planned end", Type: "interrupted"}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, c)
	}
	for i := range s.Targets {
		t := &s.Targets[i]
		c := junitCase{Name: t.Name + ": " + ConnectionsCase, Classname: class(t.Name), Time: "0", SystemOut: connectionsText(t)}
		if out != "" {
			c.SystemOut += "\n" + out
		}
		if typ, msg := connectionsFailure(s, t); typ != "" {
			c.Failure = &junitFailure{Message: msg, Type: typ}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Tests = len(suite.Cases)
	doc := junitSuites{Name: "sseload", Tests: suite.Tests, Failures: suite.Failures, Time: secs, Suites: []junitSuite{suite}}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", JUnitFile, err)
	}
	if _, err := io.WriteString(w, xml.Header+string(b)+"\n"); err != nil {
		return fmt.Errorf("write %s: %w", JUnitFile, err)
	}
	return nil
}

// connectionsFailure says why junit.xml's "<target>: connections" case
// fails, as its failure type and message, or returns "" when it passes:
// the target is unusable, or more of its streams failed for good than the
// scenario's max_failed allows (reports.Connections.MaxFailed).
func connectionsFailure(s reports.Summary, t *reports.Target) (typ, msg string) {
	if why := reports.Unusable(s, t); why != "" {
		return "unusable", t.Name + ": target unusable: " + why
	}
	c := t.Connections
	if c.Failed <= c.MaxFailed {
		return "", ""
	}
	msg = fmt.Sprintf("%s: %d of %d %s failed", t.Name, c.Failed, c.Requested, plural(int(c.Requested), "stream", "streams"))
	if e := reports.ErrorList(t.Errors, t.ErrorValues); e != "" {
		msg += " (" + e + ")"
	}
	if c.MaxFailed == 0 {
		return "connections", msg + "; the scenario allows none (max_failed)"
	}
	return "connections", msg + fmt.Sprintf("; max_failed allows %d", c.MaxFailed)
}

// connectionsText is the passing "<target>: connections" case's output:
// what was established, and the errors streams recovered from.
func connectionsText(t *reports.Target) string {
	c := t.Connections
	out := fmt.Sprintf("%d of %d streams established, %d failed", c.Established, c.Requested, c.Failed)
	if c.MaxFailed > 0 {
		out += fmt.Sprintf(" (max_failed allows %d)", c.MaxFailed)
	}
	if e := reports.ErrorList(t.Errors, t.ErrorValues); e != "" {
		out += "; errors: " + e
	}
	return out
}
