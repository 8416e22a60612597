package loadgen

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestEnginesMeasureAlike runs the same load through every engine this
// system has: each must establish every stream, receive and time every
// event, and count the same errors. The suites run once more under
// SSELOAD_ENGINE=portable for the rest (.ci/run).
func TestEnginesMeasureAlike(t *testing.T) {
	const conns, events = 40, 25
	engines := []EngineName{EnginePortable}
	if epollAvailable {
		engines = append(engines, EngineEpoll)
	}
	for _, eng := range engines {
		t.Run(string(eng), func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go http.Serve(ln, sseHandler(events))
			refused, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			refused.Close() // nothing listens there: every connect is refused
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res := runEngine(t, ctx, Config{
				Engine:        eng,
				Targets:       []Target{{Name: "ok", URL: "http://" + ln.Addr().String() + "/"}, {Name: "refused", URL: "http://" + refused.Addr().String() + "/"}},
				Connections:   conns,
				SequenceField: "seq",
			})
			ok, bad := res.Targets[0], res.Targets[1]
			if ok.Established != conns || ok.EventsReceived != conns*events || ok.EventsTimed != conns*events {
				t.Errorf("ok: established %d, events %d, timed %d; want %d, %d, %d", ok.Established, ok.EventsReceived, ok.EventsTimed, conns, conns*events, conns*events)
			}
			if len(ok.Errors) != 0 {
				t.Errorf("ok: errors %v, want none", ok.Errors)
			}
			busyUnchecked := false
			for _, n := range res.Harness.Notes {
				busyUnchecked = busyUnchecked || n.Kind == NoteUnchecked && n.Target == NoteBusy
			}
			if busyUnchecked != (eng == EnginePortable) {
				t.Errorf("harness notes %+v: an unchecked busy note %v, want it only with the portable engine", res.Harness.Notes, busyUnchecked)
			}
			if bad.Established != 0 || bad.Failed != conns || bad.Errors[ErrConnectRefused] != conns {
				t.Errorf("refused: established %d, failed %d, errors %v; want 0, %d, %s: %d", bad.Established, bad.Failed, bad.Errors, conns, ErrConnectRefused, conns)
			}
		})
	}
}

func TestParseEngine(t *testing.T) {
	if got, err := ParseEngine(""); err != nil || got != DefaultEngine() {
		t.Errorf(`ParseEngine("") = %q, %v; want %q`, got, err, DefaultEngine())
	}
	if got, err := ParseEngine("portable"); err != nil || got != EnginePortable {
		t.Errorf(`ParseEngine("portable") = %q, %v`, got, err)
	}
	if _, err := ParseEngine("kqueue"); err == nil || !strings.Contains(err.Error(), "valid: epoll, portable") {
		t.Errorf(`ParseEngine("kqueue") = %v, want an error listing the valid names`, err)
	}
	_, err := ParseEngine("epoll")
	if (runtime.GOOS == "linux") != (err == nil) {
		t.Errorf(`ParseEngine("epoll") on %s: %v`, runtime.GOOS, err)
	}
	if err != nil && !strings.Contains(err.Error(), "Linux only") {
		t.Errorf(`ParseEngine("epoll") off Linux: %v, want it to say Linux only`, err)
	}
	if runtime.GOOS == "linux" && DefaultEngine() != EngineEpoll {
		t.Errorf("DefaultEngine() on Linux = %q, want epoll", DefaultEngine())
	}
}

func TestEngineFromEnv(t *testing.T) {
	t.Setenv(EngineEnv, "bogus")
	if _, err := New(context.Background(), Config{Targets: []Target{{Name: "a", URL: "http://127.0.0.1:1/"}}, Connections: 1, Ramp: 1}); err == nil || !strings.Contains(err.Error(), "$"+EngineEnv) {
		t.Errorf("New with $%s=bogus: %v, want an error naming the variable", EngineEnv, err)
	}
}

// TestUncheckedKeepsReliable: a check the harness could not make is said,
// and does not make the run unreliable; a real doubt after it still does.
func TestUncheckedKeepsReliable(t *testing.T) {
	h := Harness{Reliable: true}
	h.AddUnchecked(HarnessNote{Kind: NoteUnchecked, Target: NoteMachineCPU, Text: "not checked"})
	if !h.Reliable || h.Note != "not checked" || len(h.Notes) != 1 {
		t.Errorf("after AddUnchecked: reliable %v, note %q, notes %d; want true, the sentence, 1", h.Reliable, h.Note, len(h.Notes))
	}
	h.AddNote(HarnessNote{Kind: NoteLag, Text: "late"})
	if h.Reliable || h.Note != "not checked; late" {
		t.Errorf("after AddNote: reliable %v, note %q; want false, both sentences", h.Reliable, h.Note)
	}
}
