package scenarios

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRequestKeys(t *testing.T) {
	for _, src := range []string{
		"method: POST\nbody: '{\"a\":1}'\nheaders: {Authorization: Bearer x, Content-Type: application/json}\ntargets: [direct, {name: nginx-sse, headers: [\"X-Tenant: 7\"]}]\n",
		"method: POST\nbody: '{\"a\":1}'\nheaders: [\"Authorization: Bearer x\", \"Content-Type:application/json\"]\ntargets: [direct, {name: nginx-sse, headers: {X-Tenant: \"7\"}}]\n",
	} {
		s, err := Parse("r.yaml", []byte(src))
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		want := [][2]string{{"Authorization", "Bearer x"}, {"Content-Type", "application/json"}}
		if s.Method != "POST" || s.Body != `{"a":1}` || !reflect.DeepEqual(s.Headers, want) {
			t.Errorf("method %q body %q headers %q", s.Method, s.Body, s.Headers)
		}
		if got := s.TargetHeaders; !reflect.DeepEqual(got, map[string][][2]string{"nginx-sse": {{"X-Tenant", "7"}}}) || len(s.Targets) != 2 || s.Targets[1].PresetFile == "" {
			t.Errorf("target headers %q, targets %+v: want nginx-sse's own X-Tenant, the built-in target", got, s.Targets)
		}
		if sh := s.Request(); sh.EffectiveMethod() != "POST" || string(sh.Body) != `{"a":1}` {
			t.Errorf("Request() = %+v", sh)
		}
	}
}

// TestParseRequestErrors: every mistake names the key and the field, and
// no message quotes a header's value.
func TestParseRequestErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"headers: [\"Authorization Bearer s3cret\"]\n", `headers: header "Authorization …": no colon`},
		{"headers: {\"X Y\": s3cret}\n", `header name "X Y": not a token`},
		{"headers: {X-A: \"s3cret\\r\\nX-B: 1\"}\n", "header X-A: the value contains CR, LF or NUL"},
		{"headers: {Content-Length: \"s3cret\"}\n", "header Content-Length: sseload sets the framing"},
		{"method: post\n", `method "post": methods are case-sensitive: write POST`},
		{"method: HEAD\n", `method "HEAD": unknown (valid: GET, POST`},
		{"headers: s3cret\n", "headers: expected {Authorization: Bearer TOKEN}"},
		{"targets: [{name: direct, headers: [\"s3cret\"]}]\n", `targets: headers: header "s3cret": no colon`},
	} {
		_, err := Parse("r.yaml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", tc.src, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") && !strings.Contains(tc.want, "s3cret") {
			t.Errorf("Parse(%q): the error quotes the value: %v", tc.src, err)
		}
	}
}
