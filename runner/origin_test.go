package runner

import (
	"slices"
	"testing"

	"github.com/sseload/sseload/scenarios"
)

// TestOriginFlagsCarryTheHeadChoice: the scenario's head_with_first_event
// reaches the `sseload origin` command line (the local child process and
// the compose topology's origin service), both ways, so a scenario that
// reproduces an origin that does not flush is not flushed by accident.
func TestOriginFlagsCarryTheHeadChoice(t *testing.T) {
	sc, err := scenarios.Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	for _, held := range []bool{false, true} {
		sc.HeadWithFirstEvent = held
		cfg := originConfig(sc)
		if cfg.HeadWithFirstEvent != held {
			t.Errorf("head_with_first_event %v: origin config has %v", held, cfg.HeadWithFirstEvent)
		}
		want := "--head-with-first-event=false"
		if held {
			want = "--head-with-first-event=true"
		}
		if args := originFlags(cfg); !slices.Contains(args, want) {
			t.Errorf("head_with_first_event %v: origin flags %q lack %s", held, args, want)
		}
	}
}
