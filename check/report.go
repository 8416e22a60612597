package check

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/targets"
)

// Thresholds of what check says in words. A batch is one read that
// carried several events after a quiet gap of at least batchGap: events
// that were held somewhere and released together. The stream is called
// bursty when at least minBatches such reads carried at least half of its
// events (a server that writes two events at once now and then is not).
// A head "came with the first event" when the first event was parsed
// within sameRead of it.
const (
	batchGap   = 250 * time.Millisecond
	minBatches = 2
	sameRead   = 5 * time.Millisecond
)

// Report is what a check saw, in figures and in words.
type Report struct {
	URL      string
	Streams  int
	Duration time.Duration
	Request  string // the request in words, without its secrets

	Responded   int // streams that got a response head
	Established int // of them, 200 text/event-stream
	Status      string
	ContentType string
	Protocol    string // "HTTP/1.1", "HTTP/2.0"
	TLS         string // "TLS 1.3, ALPN h2", or "" for plain HTTP
	Server, Via string
	Encoding    string // Content-Encoding of the stream, "" for none

	TimeToHeaders    *reports.Hist // µs
	TimeToFirstEvent *reports.Hist // µs
	Gaps             *reports.Hist // µs between successive reads of a body
	Events           int
	Batches          int // reads that carried several events after a quiet gap
	BatchedEvents    int
	HeadWithEvent    int             // streams whose head came with their first event
	Cut              []time.Duration // per stream ended early: the quiet before its end
	CutUnclean       int             // of them, ended without the response's proper end
	Unanswered       int             // streams without a head by the check's end
	Errors           []string        // what failed streams said, each once

	// Findings are symptoms check names itself (a status or content type
	// EventSource refuses, bursts); Diagnoses the rules' (run's rules).
	Findings  []string
	Diagnoses []reports.Diagnosis
}

// Healthy reports whether nothing wrong was found.
func (r *Report) Healthy() bool { return len(r.Findings) == 0 && len(r.Diagnoses) == 0 }

// newReport sums up the streams and applies the diagnosis rules.
func newReport(opts Options, streams []*stream) *Report {
	r := &Report{URL: opts.URL, Streams: len(streams), Duration: opts.Duration, Request: describe(opts)}
	var heads, firsts, gaps, quiet []int64
	var first *stream
	for _, s := range streams {
		if s.resp == nil {
			if s.headAt < 0 {
				r.Unanswered++
			} else if msg := s.err.Error(); !slices.Contains(r.Errors, msg) {
				r.Errors = append(r.Errors, msg)
			}
			continue
		}
		r.Responded++
		if first == nil {
			first = s
		}
		if s.resp.StatusCode != 200 || !isEventStream(s.resp.Header.Get("Content-Type")) {
			continue
		}
		r.Established++
		heads = append(heads, s.headAt.Microseconds())
		if s.firstEvent >= 0 {
			firsts = append(firsts, s.firstEvent.Microseconds())
			if s.firstEvent-s.headAt < sameRead {
				r.HeadWithEvent++
			}
		}
		prev := s.headAt
		for _, rd := range s.reads {
			gaps = append(gaps, (rd.at - prev).Microseconds())
			if rd.events > 1 && rd.at-prev >= batchGap {
				r.Batches++
				r.BatchedEvents += rd.events
			}
			prev = rd.at
		}
		r.Events += s.events
		if s.ended {
			q := s.endAt - s.lastByte()
			r.Cut = append(r.Cut, q)
			quiet = append(quiet, q.Microseconds())
			if s.endErr != nil {
				r.CutUnclean++
			}
		}
	}
	r.TimeToHeaders, r.TimeToFirstEvent, r.Gaps = reports.HistOf(heads), reports.HistOf(firsts), reports.HistOf(gaps)
	if first != nil {
		h := first.resp.Header
		r.Status = first.resp.Status
		r.ContentType = h.Get("Content-Type")
		r.Protocol = first.resp.Proto
		r.Server, r.Via = h.Get("Server"), strings.Join(h.Values("Via"), ", ")
		r.Encoding = h.Get("Content-Encoding")
		if first.tls != nil {
			r.TLS = tls.VersionName(first.tls.Version)
			if p := first.tls.NegotiatedProtocol; p != "" {
				r.TLS += ", ALPN " + p
			}
		}
		if first.resp.StatusCode != 200 {
			r.Findings = append(r.Findings, fmt.Sprintf("status %s: EventSource needs 200 (it fails the connection)", first.resp.Status))
		} else if !isEventStream(r.ContentType) {
			r.Findings = append(r.Findings, fmt.Sprintf("content type %q: EventSource needs text/event-stream", r.ContentType))
		}
	}
	if r.Responded == 0 && r.Unanswered == 0 {
		return r
	}
	t := r.target(quiet)
	r.Diagnoses = reports.DiagnoseTarget(&t, nil)
	if r.bursty() && !slices.ContainsFunc(r.Diagnoses, func(d reports.Diagnosis) bool { return strings.Contains(d.Directive, "buffer") }) {
		r.Diagnoses = append(r.Diagnoses, reports.BurstDiagnosis(&t, fmt.Sprintf("%d of %d events came %d reads at a time after quiet gaps of %s or more", r.BatchedEvents, r.Events, r.Batches, batchGap)))
	}
	return r
}

// bursty says events arrived held back and released together.
func (r *Report) bursty() bool {
	return r.Batches >= minBatches && 2*r.BatchedEvents >= r.Events
}

// target is the check's figures as the diagnosis rules read a run's
// target: one target, no baseline.
func (r *Report) target(quiet []int64) reports.Target {
	name := r.URL
	if u, err := url.Parse(r.URL); err == nil {
		name = u.Host
	}
	t := reports.Target{
		Name:      name,
		ProxyKind: kindOf(r.Server),
		Connections: reports.Connections{
			Requested:   int64(r.Streams),
			Established: int64(r.Established),
			Failed:      int64(r.Streams - r.Established),
		},
		TimeToHeadersUS:    r.TimeToHeaders,
		TimeToFirstEventUS: r.TimeToFirstEvent,
		QuietBeforeDropUS:  reports.HistOf(quiet),
		Errors:             map[string]int64{},
	}
	if r.Unanswered > 0 {
		t.Errors[loadgen.ErrNoResponseHeaders] = int64(r.Unanswered)
	}
	if r.Responded > 0 {
		t.ResponseHead = map[string]string{"content-type": r.ContentType, "server": r.Server}
		if r.Encoding != "" {
			t.ResponseHead["content-encoding"] = r.Encoding
		}
	}
	return t
}

// kindOf is the proxy kind a Server field names ("nginx/1.22.1",
// "Caddy"), or "" (HAProxy sends none by default).
func kindOf(server string) string {
	s := strings.ToLower(server)
	for _, k := range targets.Kinds() {
		if strings.HasPrefix(s, k) {
			return k
		}
	}
	return ""
}

func isEventStream(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/event-stream")
}

// describe is the request in words, without header values or the body.
func describe(opts Options) string {
	s := opts.Request
	parts := []string{s.EffectiveMethod()}
	if s.Body != nil {
		parts = append(parts, strconv.Itoa(len(s.Body))+"-byte body")
	}
	if len(s.Header) > 0 {
		names := make([]string, len(s.Header))
		for i, h := range s.Header {
			names[i] = h[0]
		}
		parts = append(parts, "headers "+strings.Join(names, ", "))
	}
	return strings.Join(parts, ", ")
}

// Write prints the report in words.
func (r *Report) Write(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-22s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "sseload check %s\n  %d streams for %s, %s, Accept-Encoding: gzip\n\n", r.URL, r.Streams, r.Duration, r.Request)
	if r.Responded == 0 {
		if r.Unanswered > 0 {
			line("response", "none: no stream got a response head within %s", r.Duration)
		}
		for _, e := range r.Errors {
			line("error", "%s", e)
		}
	} else {
		line("status", "%s (%d of %d streams got an event stream)", r.Status, r.Established, r.Streams)
		line("content type", "%s", orNone(r.ContentType))
		proto := r.Protocol + ", plain (no TLS)"
		if r.TLS != "" {
			proto = r.Protocol + " over " + r.TLS
		}
		line("protocol", "%s", proto)
		line("proxy seen", "Server: %s; Via: %s", orNone(r.Server), orNone(r.Via))
		line("time to headers", "%s", hist(r.TimeToHeaders))
		if r.TimeToFirstEvent != nil {
			line("time to first event", "%s", hist(r.TimeToFirstEvent))
		} else {
			line("time to first event", "no event in %s", r.Duration)
		}
		line("gaps between bytes", "%s", hist(r.Gaps))
		if r.bursty() {
			line("bursts", "yes: %d of %d events came several to a read, %d times, after quiet gaps of %s or more (held and released together)", r.BatchedEvents, r.Events, r.Batches, batchGap)
		} else {
			line("bursts", "no: %d events, %d reads carried several after a quiet gap", r.Events, r.Batches)
		}
		switch {
		case r.TimeToFirstEvent == nil:
			line("headers held", "cannot tell: no event arrived")
		case r.HeadWithEvent > 0:
			line("headers held", "yes, on %d of %d streams: the head came with the first event", r.HeadWithEvent, r.Established)
		default:
			line("headers held", "no: the head came before the first event")
		}
		if r.Encoding != "" {
			line("compression", "yes: Content-Encoding: %s (a compressor holds small events until it flushes)", r.Encoding)
		} else {
			line("compression", "none")
		}
		if len(r.Cut) > 0 {
			qs := make([]string, len(r.Cut))
			for i, q := range r.Cut {
				qs[i] = dur(q.Microseconds())
			}
			how := "cleanly"
			if r.CutUnclean > 0 {
				how = fmt.Sprintf("%d of them cut mid-response", r.CutUnclean)
			}
			line("cut after quiet", "%d of %d streams ended before the check did (%s), after a quiet of %s", len(r.Cut), r.Established, how, strings.Join(qs, ", "))
		} else {
			line("cut after quiet", "no: every stream stayed open for %s", r.Duration)
		}
		if r.Unanswered > 0 {
			line("unanswered", "%d streams got no response head within %s", r.Unanswered, r.Duration)
		}
	}
	b.WriteString("\n")
	switch {
	case r.Responded == 0 && r.Unanswered == 0:
		b.WriteString("could not reach the URL: no stream connected\n")
	case r.Healthy():
		b.WriteString("nothing wrong found\n")
	}
	for _, f := range r.Findings {
		b.WriteString("symptom: " + f + "\n")
	}
	for _, d := range r.Diagnoses {
		fmt.Fprintf(&b, "symptom: %s (%s)\n  probable cause: %s\n  fix: %s\n", d.Symptom, d.Evidence, d.Directive, d.Fix)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// hist is a histogram of microseconds in words.
func hist(h *reports.Hist) string {
	if h == nil {
		return "none"
	}
	return fmt.Sprintf("p50 %s, p90 %s, max %s (%d)", dur(h.P50), dur(h.P90), dur(h.Max), h.Count)
}

// dur is a count of microseconds as a short duration.
func dur(us int64) string {
	d := time.Duration(us) * time.Microsecond
	switch {
	case d < time.Millisecond:
		return d.String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}
