package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sseload/sseload/loadgen"
)

// Metric names. Every name starts with sseload_; per-target series carry a
// target label (the target's name in the run). docs/metrics.md describes
// each, and docs/grafana-sseload.json queries them (a test checks that the
// dashboard names no metric missing here).
const (
	prefix = "sseload_"

	nameStreamsOpen        = prefix + "streams_open"
	nameStreamsEstablished = prefix + "streams_established_total"
	nameStreamsFailed      = prefix + "streams_failed_total"
	nameReconnects         = prefix + "reconnects_total"
	nameEvents             = prefix + "events_received_total"
	nameErrors             = prefix + "errors_total"
	nameLag                = prefix + "harness_lag_seconds"
	nameBusy               = prefix + "harness_busy_ratio"
	nameMachineCPU         = prefix + "harness_machine_cpu_ratio"
)

// histName is the name of the histogram of metric m: sseload_latency_seconds,
// sseload_time_to_headers_seconds, …, one per loadgen.Metric.
func histName(m loadgen.Metric) string { return prefix + m.String() + "_seconds" }

// histHelp says what each histogram measures, from when to when.
var histHelp = map[loadgen.Metric]string{
	loadgen.Latency:          "Event latency: receipt time minus the event's scheduled publish time (the schedule never moves when the origin or a proxy is late), seconds.",
	loadgen.TimeToHeaders:    "From a stream's start (before connect) until its response head is parsed, when EventSource fires onopen, seconds.",
	loadgen.TimeToFirstEvent: "From a stream's start (before connect) until its first event is dispatched, seconds.",
	loadgen.Disconnected:     "For a stream that came back after a drop, from the drop to the head of the stream that replaced it, seconds.",
	loadgen.QuietBeforeDrop:  "For an open stream whose connection was cut or failed, the time since its last byte (an idle timeout shows as a peak at that timeout), seconds.",
	loadgen.OriginDelay:      "The origin's write time minus the event's scheduled publish time: the origin's own lateness (with sseload's origin, its fan-out), seconds. Latency is origin delay plus path latency; both are empty for origins that do not stamp their write time.",
	loadgen.PathLatency:      "Receipt time minus the origin's write time: what the network, the proxy and the receiving side add, seconds.",
}

func helpOf(m loadgen.Metric) string {
	if h, ok := histHelp[m]; ok {
		return h
	}
	return "sseload's " + m.String() + " histogram (summary.json's " + m.String() + "_us), seconds."
}

var (
	targetLabel = []string{"target"}

	descOpen = prometheus.NewDesc(nameStreamsOpen,
		"Streams whose 200 text/event-stream response is open now (a stream waiting to reconnect is not).", targetLabel, nil)
	descEstablished = prometheus.NewDesc(nameStreamsEstablished,
		"Streams that received a 200 text/event-stream response head (each stream once: summary.json's connections.established).", targetLabel, nil)
	descFailed = prometheus.NewDesc(nameStreamsFailed,
		"Streams that ended for good with an error (no reconnect followed: summary.json's connections.failed).", targetLabel, nil)
	descReconnects = prometheus.NewDesc(nameReconnects,
		"Connections opened again for streams that had dropped or ended.", targetLabel, nil)
	descEvents = prometheus.NewDesc(nameEvents,
		"Events dispatched (any event type).", targetLabel, nil)
	descErrors = prometheus.NewDesc(nameErrors,
		"Connection and stream errors by kind (connect_refused, http_status, …; docs/summary.md) and, for the kinds that have one, value (the status of http_status, the media type of wrong_content_type; empty otherwise).",
		[]string{"target", "kind", "value"}, nil)
	descLag = prometheus.NewDesc(nameLag,
		"The generator's scheduling lag: how late its 10 ms self-check timer fired, seconds. The harness is judged unreliable when its p99 over the run exceeds 10 ms.", nil, nil)
	descBusy = prometheus.NewDesc(nameBusy,
		"The largest share (0-1) of the last interval that any engine worker spent working rather than waiting for sockets; above 0.9 the generator is saturated.", nil, nil)
	descMachineCPU = prometheus.NewDesc(nameMachineCPU,
		"The whole machine's busy share (0-1) over the last interval, from /proc/stat; above 0.95 every process on it, the generator included, queued for CPU.", nil, nil)

	descHist = func() [len(loadgen.Metrics)]*prometheus.Desc {
		var out [len(loadgen.Metrics)]*prometheus.Desc
		for _, m := range loadgen.Metrics {
			out[m] = prometheus.NewDesc(histName(m), helpOf(m), targetLabel, nil)
		}
		return out
	}()
)

// Names lists every metric name the exporter serves (histograms by their
// base name, as PromQL queries a native histogram).
func Names() []string {
	names := []string{nameStreamsOpen, nameStreamsEstablished, nameStreamsFailed, nameReconnects, nameEvents, nameErrors, nameLag, nameBusy, nameMachineCPU}
	for _, m := range loadgen.Metrics {
		names = append(names, histName(m))
	}
	return names
}
