package reports

import (
	"testing"
)

func TestErrorList(t *testing.T) {
	for _, tc := range []struct {
		name   string
		errs   map[string]int64
		values map[string]map[string]int64
		want   string
	}{
		{"none", map[string]int64{}, nil, ""},
		{"zero counts", map[string]int64{"reset_by_peer": 0}, nil, ""},
		{"kinds without values", map[string]int64{"connect_refused": 5, "reset_by_peer": 7}, nil, "reset_by_peer ×7, connect_refused ×5"},
		{"values", map[string]int64{"http_status": 5, "wrong_content_type": 2},
			map[string]map[string]int64{"http_status": {"404": 3, "502": 2}, "wrong_content_type": {"text/html": 2}},
			"http_status 404 ×3, http_status 502 ×2, wrong_content_type text/html ×2"},
		// A summary from before error_values: the kind's count stays whole.
		{"count beyond the values", map[string]int64{"http_status": 5},
			map[string]map[string]int64{"http_status": {"404": 2}}, "http_status ×3, http_status 404 ×2"},
	} {
		if got := ErrorList(tc.errs, tc.values); got != tc.want {
			t.Errorf("%s: ErrorList = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got, want := ValueList("http_status", map[string]map[string]int64{"http_status": {"404": 3, "502": 4}}), "502 ×4, 404 ×3"; got != want {
		t.Errorf("valueList = %q, want %q", got, want)
	}
}
