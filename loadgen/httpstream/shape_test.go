package httpstream

import (
	"strings"
	"testing"
)

func TestShapeAppendRequest(t *testing.T) {
	s := Shape{Header: [][2]string{{"Authorization", "Bearer x"}, {"user-agent", "app/1"}, {"Content-Type", "application/json"}}, Body: []byte(`{"a":1}`)}
	got, err := s.AppendRequest(nil, "h:80", "/v1?s=1", [2]string{"Last-Event-ID", "7"})
	if err != nil {
		t.Fatal(err)
	}
	want := "POST /v1?s=1 HTTP/1.1\r\nHost: h:80\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n" +
		"Authorization: Bearer x\r\nuser-agent: app/1\r\nContent-Type: application/json\r\nLast-Event-ID: 7\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
	if string(got) != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	zero, err := Shape{}.AppendRequest(nil, "h", "/e")
	plain, _ := AppendRequest(nil, "h", "/e")
	if err != nil || string(zero) != string(plain) {
		t.Errorf("the zero Shape: %q, %v; want EventSource's GET %q", zero, err, plain)
	}
	host, _ := Shape{Method: "GET", Header: [][2]string{{"Host", "virt.example"}}}.AppendRequest(nil, "127.0.0.1:8080", "/")
	if !strings.HasPrefix(string(host), "GET / HTTP/1.1\r\nHost: virt.example\r\n") || strings.Count(string(host), "Host") != 1 {
		t.Errorf("Host field: %q, want it replaced", host)
	}
}

func TestShapeRedirects(t *testing.T) {
	s := Shape{Header: [][2]string{{"Authorization", "a"}, {"Cookie", "c"}, {"Content-Type", "application/json"}, {"X", "1"}}, Body: []byte("{}")}
	g := s.AsGet()
	if g.EffectiveMethod() != "GET" || g.Body != nil || len(g.Header) != 3 {
		t.Errorf("AsGet = %+v, want GET without the body and its Content-Type", g)
	}
	if o := s.ForHost("a:1", "b:1"); len(o.Header) != 2 {
		t.Errorf("ForHost another host = %q, want Authorization and Cookie dropped", o.Header)
	}
	if o := s.ForHost("a:1", "A:1"); len(o.Header) != 4 {
		t.Errorf("ForHost same host = %q, want all kept", o.Header)
	}
	if len(s.Header) != 4 {
		t.Errorf("the original changed: %q", s.Header)
	}
}
