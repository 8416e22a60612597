package reports

// Capacity is summary.json's "capacity" block, written by `sseload
// capacity`: the largest connection count the target carried while every
// SLO held, the smallest that failed, why it failed, and every step the
// search measured (docs/summary.md).
type Capacity struct {
	Target string `json:"target"`
	// MaxOK is the largest connection count at which every SLO held; 0 when
	// none did.
	MaxOK int `json:"max_ok"`
	// FirstFailed is the smallest connection count measured that failed;
	// null when no step failed (the search reached --max).
	FirstFailed *int `json:"first_failed"`
	// Reason names the failing symptom at FirstFailed in words (connections
	// refused, reset or closed without a response; the latency SLO; response
	// buffering), and what it points at; "" when nothing failed.
	Reason string `json:"reason"`
	// Answer is the one-sentence result printed by the command.
	Answer string `json:"answer"`
	// SLOs are the rules every step had to meet, as written, besides "all
	// connections established, none failed", which always applies.
	SLOs  []string       `json:"slos"`
	Steps []CapacityStep `json:"steps"`
}

// CapacityStep is one measured connection count, in the order measured.
type CapacityStep struct {
	Connections int  `json:"connections"`
	OK          bool `json:"ok"`
	// Established counts connections that got a response head.
	Established int64 `json:"established"`
	// P99US is the step's latency p99 in microseconds; null when no event
	// arrived with a publish time.
	P99US *int64 `json:"p99_us"`
	// Errors counts failed connections by kind (summary.json's errors);
	// always an object.
	Errors map[string]int64 `json:"errors"`
	// ErrorValues splits Errors by the value each error carried (the
	// target's error_values: "404" for http_status); absent when no error
	// carried one. Added within schema_version 1.
	ErrorValues map[string]map[string]int64 `json:"error_values,omitempty"`
	// Failed lists, in words, what did not hold at this step; absent when ok.
	Failed []string `json:"failed,omitempty"`
	// Reliable is the harness's verdict on the step's own measurements.
	Reliable bool `json:"reliable"`
	// Dir is the step's results directory, relative to the capacity
	// results directory.
	Dir string `json:"dir"`
}
