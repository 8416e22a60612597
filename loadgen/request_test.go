package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sseload/sseload/loadgen/httpstream"
)

// shapedOrigin serves an event stream only to a POST with a JSON body and
// the right Authorization (a token stream of an LLM API), and at /get only
// to a GET without a body (where a 303 leads). Each response carries two
// events with ids, resuming after Last-Event-ID, and 204 after the fourth.
// It records what each request looked like.
type shapedOrigin struct {
	mu   sync.Mutex
	seen []string // "METHOD path last-event-id"
}

const testToken = "Bearer s3cret-token"

func (o *shapedOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	o.mu.Lock()
	o.seen = append(o.seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Last-Event-ID"))
	o.mu.Unlock()
	if r.Header.Get("Authorization") != testToken {
		http.Error(w, "no credentials", http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case "/get":
		if r.Method != http.MethodGet || len(body) != 0 || r.Header.Get("Content-Type") != "" {
			http.Error(w, "want a GET without a body", http.StatusBadRequest)
			return
		}
	default:
		var v struct{ Prompt string }
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &v) != nil || v.Prompt != "hi" {
			http.Error(w, "want a POST of JSON", http.StatusBadRequest)
			return
		}
	}
	from := 1
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		from, _ = strconv.Atoi(last)
		from++
	}
	if from > 4 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprint(w, "retry: 5\n\n")
	for k := from; k < from+2; k++ {
		fmt.Fprintf(w, "id: %d\ndata: {\"seq\":%d,\"sched\":%d}\n\n", k, k, time.Now().UnixNano())
	}
}

func (o *shapedOrigin) requests() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.seen, "|")
}

// TestRequestShape: a POST with a JSON body and an Authorization header
// is sent the same way by the epoll workers and by net/http (https): on
// the first request, on reconnections (with Last-Event-ID), after a 307
// (method and body kept) and after a 303 (a GET without the body).
func TestRequestShape(t *testing.T) {
	shape := httpstream.Shape{
		Header: [][2]string{{"Authorization", testToken}, {"Content-Type", "application/json"}},
		Body:   []byte(`{"prompt":"hi"}`),
	}
	for _, tc := range []struct {
		path string
		want string
	}{
		{"/events", "POST /events |POST /events 2|POST /events 4"},
		{"/r307", "POST /r307 |POST /events |POST /r307 2|POST /events 2|POST /r307 4|POST /events 4"},
		{"/r303", "POST /r303 |GET /get |POST /r303 2|GET /get 2|POST /r303 4|GET /get 4"},
	} {
		for _, tls := range []bool{false, true} {
			t.Run(tc.path+map[bool]string{false: "/http", true: "/https"}[tls], func(t *testing.T) {
				o := &shapedOrigin{}
				mux := http.NewServeMux()
				mux.Handle("/", o)
				mux.HandleFunc("/r307", func(w http.ResponseWriter, r *http.Request) {
					o.ServeHTTPRecordOnly(r)
					http.Redirect(w, r, "/events", http.StatusTemporaryRedirect)
				})
				mux.HandleFunc("/r303", func(w http.ResponseWriter, r *http.Request) {
					o.ServeHTTPRecordOnly(r)
					http.Redirect(w, r, "/get", http.StatusSeeOther)
				})
				cfg := Config{Connections: 1, Reconnect: ReconnectSpec, SequenceField: "seq", MaxDuration: 30 * time.Second, Request: shape}
				var ts *httptest.Server
				if tls {
					ts = httptest.NewTLSServer(mux)
					cfg.TLSConfig = ts.Client().Transport.(*http.Transport).TLSClientConfig
				} else {
					ts = httptest.NewServer(mux)
				}
				defer ts.Close()
				cfg.Targets = []Target{{Name: "a", URL: ts.URL + tc.path}}
				tr := runEngine(t, context.Background(), cfg).Targets[0]
				// The server's 204 after the fourth event is the one error.
				if tr.Established != 1 || tr.EventsReceived != 4 || len(tr.Errors) != 1 || tr.ErrorValues[ErrHTTPStatus]["204"] != 1 {
					t.Errorf("established %d events %d errors %v, want 1, 4 and only the final 204", tr.Established, tr.EventsReceived, tr.ErrorValues)
				}
				// The last request is answered 204 and ends the stream.
				if got := o.requests(); !strings.HasPrefix(got, tc.want) {
					t.Errorf("requests %q, want them to start %q", got, tc.want)
				}
			})
		}
	}
}

// ServeHTTPRecordOnly records a request that a redirect answers.
func (o *shapedOrigin) ServeHTTPRecordOnly(r *http.Request) {
	o.mu.Lock()
	o.seen = append(o.seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Last-Event-ID"))
	o.mu.Unlock()
}

// TestRequestShapeTargetHeaders: a target's own field replaces the run's
// field of the same name; without the right token the origin refuses it.
func TestRequestShapeTargetHeaders(t *testing.T) {
	ts := httptest.NewServer(&shapedOrigin{})
	defer ts.Close()
	res := runEngine(t, context.Background(), Config{
		Connections: 1,
		Request:     httpstream.Shape{Header: [][2]string{{"Authorization", "Bearer wrong"}, {"Content-Type", "application/json"}}, Body: []byte(`{"prompt":"hi"}`)},
		Targets: []Target{
			{Name: "own", URL: ts.URL + "/events", Headers: [][2]string{{"authorization", testToken}}},
			{Name: "run's", URL: ts.URL + "/events"},
		},
	})
	if tr := res.Targets[0]; tr.Established != 1 {
		t.Errorf("own token: established %d errors %v, want 1", tr.Established, tr.Errors)
	}
	if tr := res.Targets[1]; tr.Established != 0 || tr.ErrorValues[ErrHTTPStatus]["401"] != 1 {
		t.Errorf("run's token: established %d errors %v, want none and one 401", tr.Established, tr.ErrorValues)
	}
}
