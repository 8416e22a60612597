package reports

import (
	"encoding/json"
	"testing"

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
