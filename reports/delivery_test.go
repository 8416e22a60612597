package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sseload/sseload/loadgen"
)

func TestSummarizeCarriesDelivery(t *testing.T) {
	d := loadgen.Delivery{Accounted: true, Expected: 40, Sequenced: 39, Lost: 2, Duplicated: 1, OutOfOrder: 3}
	res := &loadgen.Result{Targets: []*loadgen.TargetResult{{Name: "a", EventsReceived: 39, Delivery: d}}}
	s := Summarize(res, Meta{})
	b, err := json.Marshal(s.Targets[0].Events)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"received":39,"timed":0,"clock_skewed":0,"accounted":true,"sequenced":39,"expected":40,"lost":2,"duplicated":1,"out_of_order":3,"replayed":0}`
	if string(b) != want {
		t.Errorf("events = %s\nwant     %s", b, want)
	}
	// A summary written before the delivery fields reads back unaccounted.
	var old Events
	if err := json.Unmarshal([]byte(`{"received":5,"timed":5,"clock_skewed":0}`), &old); err != nil || old.Accounted || old.Received != 5 {
		t.Errorf("old events read as %+v, %v", old, err)
	}
}

func TestTextShowsLostOnlyWhenSomethingWasLost(t *testing.T) {
	s := textSummary()
	for i := range s.Targets {
		s.Targets[i].Events.Accounted = true
		s.Targets[i].Events.Expected = 120
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, s); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "lost") {
		t.Errorf("nothing lost, but the table has a lost column:\n%s", buf.String())
	}

	s.Targets[1].Events.Lost = 7
	s.Targets[2].Events.Accounted = false
	buf.Reset()
	if err := WriteText(&buf, s); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	header, stock, sse := strings.Fields(lines[2]), strings.Fields(lines[4]), strings.Fields(lines[5])
	// target conns failed events lost ...: the header's "conns ok/req" is
	// two words, so lost is header word 5 and row word 4.
	if header[5] != "lost" || stock[4] != "7" || sse[4] != absent {
		t.Errorf("lost column: header %q, nginx-stock %q, nginx-sse (unaccounted) %q:\n%s", header, stock, sse, buf.String())
	}
	for _, l := range lines[2:6] {
		if n := utf8.RuneCountInString(l); n > 120 {
			t.Errorf("table line is %d columns: %q", n, l)
		}
	}
}

func TestDeliveryThresholds(t *testing.T) {
	s := textSummary()
	s.Targets[0].Events = Events{Received: 120, Accounted: true, Sequenced: 120, Expected: 121, Lost: 1, Duplicated: 2, OutOfOrder: 3}
	ths, err := ParseThresholds([]string{
		"direct:events.lost == 0",
		"direct:events.expected == 121",
		"direct:events.duplicated == 2",
		"direct:events.out_of_order == 3",
		"nginx-sse:events.lost == 0",
	})
	if err != nil {
		t.Fatal(err)
	}
	rs := EvaluateThresholds(s, ths)
	want := []bool{false, true, true, true, false}
	if len(rs) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(rs), len(want), rs)
	}
	for i, r := range rs {
		if r.OK != want[i] {
			t.Errorf("%s on %s: ok %v (%s), want %v", r.Expression, r.Target, r.OK, r.Reason, want[i])
		}
	}
	if r := rs[4]; r.Measured != nil || !strings.Contains(r.Reason, "sequence") {
		t.Errorf("unaccounted target: measured %v reason %q, want not measured, naming the sequence field", r.Measured, r.Reason)
	}
}
