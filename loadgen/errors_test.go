package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// TestErrorValuesBounded: a server answering every connection with another
// status costs at most MaxErrorValues values per kind; the rest are
// counted as "other", and every error is still counted. Over plain HTTP
// (the epoll workers) and https (net/http streams).
func TestErrorValuesBounded(t *testing.T) {
	const conns = MaxErrorValues + 5
	var n atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400 + int(n.Add(1))) // 401, 402, …: a new status each time
	})
	plain := httptest.NewServer(h)
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(h)
	defer tlsSrv.Close()
	res := runEngine(t, context.Background(), Config{
		Targets:     []Target{{Name: "plain", URL: plain.URL + "/events"}, {Name: "tls", URL: tlsSrv.URL + "/events"}},
		Connections: conns,
		TLSConfig:   tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig,
	})
	for _, tr := range res.Targets {
		vs := tr.ErrorValues[ErrHTTPStatus]
		var sum int64
		for _, c := range vs {
			sum += c
		}
		if tr.Errors[ErrHTTPStatus] != conns || sum != conns {
			t.Errorf("%s: %d http_status errors, values adding up to %d (%v); want %d", tr.Name, tr.Errors[ErrHTTPStatus], sum, vs, conns)
		}
		if len(vs) != MaxErrorValues+1 || vs[OtherErrorValue] != conns-MaxErrorValues {
			t.Errorf("%s: %d values, other %d; want %d values and other %d", tr.Name, len(vs), vs[OtherErrorValue], MaxErrorValues+1, conns-MaxErrorValues)
		}
	}
}

func TestErrorValuesAddAndMerge(t *testing.T) {
	ev := ErrorValues{}
	ev.Add(ErrConnectRefused, "", 3) // no value: nothing kept
	for i := range MaxErrorValues + 2 {
		ev.Add(ErrHTTPStatus, strconv.Itoa(500+i), 1)
	}
	ev.Add(ErrHTTPStatus, "500", 4) // a kept value keeps counting
	if len(ev) != 1 || len(ev[ErrHTTPStatus]) != MaxErrorValues+1 || ev[ErrHTTPStatus]["500"] != 5 || ev[ErrHTTPStatus][OtherErrorValue] != 2 {
		t.Fatalf("after Add: %v", ev)
	}
	into := ErrorValues{}
	into.Merge(ev)
	into.Merge(ErrorValues{ErrContentType: {"text/html": 2}})
	if fmt.Sprint(into) != fmt.Sprint(ErrorValues{ErrHTTPStatus: ev[ErrHTTPStatus], ErrContentType: {"text/html": 2}}) {
		t.Errorf("Merge: %v", into)
	}
	if got := mediaType(""); got != "(none)" {
		t.Errorf("mediaType(\"\") = %q", got)
	}
	if got := mediaType(" Text/HTML ; charset=utf-8"); got != "text/html" {
		t.Errorf("mediaType = %q, want text/html", got)
	}
}
