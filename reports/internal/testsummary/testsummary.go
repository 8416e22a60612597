// Package testsummary holds the summaries the tests of reports and
// reports/render share: the seed scenario's typical outcome and a steady
// run whose latency was split.
package testsummary

import (
	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
)

// Text is the seed scenario's typical outcome: direct is healthy,
// nginx-stock buffers (headers after 30 s), nginx-sse streams. Its
// diagnoses are reports.Diagnose's, as Summarize would fill them.
func Text() reports.Summary {
	s := reports.Summary{
		SchemaVersion: reports.SchemaVersion, Scenario: "seed", Topology: "local", DurationS: 7.2,
		Targets: []reports.Target{
			{
				Name: "direct", Connections: reports.Connections{Requested: 20, Established: 20}, Events: reports.Events{Received: 120, Timed: 120},
				TimeToHeadersUS:    &reports.Hist{Count: 20, P50: 1200},
				TimeToFirstEventUS: &reports.Hist{Count: 20, P50: 5_000_000},
				LatencyUS:          &reports.Hist{Count: 120, Min: 150, P50: 410, P90: 800, P99: 1_530, P999: 2_010, Max: 2_010},
				Errors:             map[string]int64{},
			},
			{
				Name: "nginx-stock", ProxyKind: "nginx", Connections: reports.Connections{Requested: 20, Established: 20, Failed: 4}, Events: reports.Events{Received: 120, Timed: 120},
				TimeToHeadersUS:    &reports.Hist{Count: 20, P50: 30_015_000},
				TimeToFirstEventUS: &reports.Hist{Count: 20, P50: 30_015_000},
				LatencyUS:          &reports.Hist{Count: 120, Min: 10, P50: 15_007_000, P90: 27_000_000, P99: 29_900_000, P999: 30_010_000, Max: 30_015_000},
				Errors:             map[string]int64{loadgen.ErrReset: 3, loadgen.ErrNoResponseHeaders: 1},
			},
			{
				Name: "nginx-sse", ProxyKind: "nginx", Connections: reports.Connections{Requested: 20, Established: 20}, Events: reports.Events{Received: 120},
				TimeToHeadersUS:    &reports.Hist{Count: 20, P50: 3_100},
				TimeToFirstEventUS: &reports.Hist{Count: 20, P50: 13_000},
				Errors:             map[string]int64{},
			},
		},
		Harness: reports.Harness{LagP99US: 300, LagMaxUS: 1200, BusyMax: 0.1, Reliable: true},
	}
	s.Diagnoses = reports.Diagnose(s)
	return s
}

// Split is a steady run on a small machine: direct's latency is
// mostly the origin's fan-out, nginx-stock's mostly its path (buffering),
// and an external target was not split.
func Split() reports.Summary {
	s := reports.Summary{
		SchemaVersion: reports.SchemaVersion, Scenario: "steady", Topology: "local", DurationS: 25.3,
		Config: reports.RunConfig{Mode: "broadcast", IntervalMS: 1000, Connections: 1000},
		Targets: []reports.Target{
			{
				Name: "direct", Connections: reports.Connections{Requested: 1000, Established: 1000}, Events: reports.Events{Received: 20_000, Timed: 20_000},
				TimeToHeadersUS:    &reports.Hist{Count: 1000, P50: 1_100},
				TimeToFirstEventUS: &reports.Hist{Count: 1000, P50: 600_000},
				LatencyUS:          &reports.Hist{Count: 20_000, P50: 21_000, P90: 48_000, P99: 67_000, P999: 80_000, Max: 91_000},
				OriginDelayUS:      &reports.Hist{Count: 20_000, P50: 18_000, P99: 52_000},
				PathLatencyUS:      &reports.Hist{Count: 20_000, P50: 2_100, P99: 15_000},
				Errors:             map[string]int64{},
			},
			{
				Name: "nginx-stock", ProxyKind: "nginx", Connections: reports.Connections{Requested: 1000, Established: 1000}, Events: reports.Events{Received: 20_000, Timed: 20_000},
				TimeToHeadersUS:    &reports.Hist{Count: 1000, P50: 1_200},
				TimeToFirstEventUS: &reports.Hist{Count: 1000, P50: 600_000},
				LatencyUS:          &reports.Hist{Count: 20_000, P50: 1_000_000, P90: 2_000_000, P99: 2_500_000, P999: 2_500_000, Max: 2_500_000},
				OriginDelayUS:      &reports.Hist{Count: 20_000, P50: 18_000, P99: 53_000},
				PathLatencyUS:      &reports.Hist{Count: 20_000, P50: 990_000, P99: 2_480_000},
				Errors:             map[string]int64{},
			},
			{
				Name: "app", Connections: reports.Connections{Requested: 1000, Established: 1000}, Events: reports.Events{Received: 20_000, Timed: 20_000},
				TimeToHeadersUS:    &reports.Hist{Count: 1000, P50: 900},
				TimeToFirstEventUS: &reports.Hist{Count: 1000, P50: 500_000},
				LatencyUS:          &reports.Hist{Count: 20_000, P50: 3_000, P90: 5_000, P99: 9_000, P999: 9_500, Max: 9_900},
				Errors:             map[string]int64{},
			},
		},
		Harness: reports.Harness{LagP99US: 800, BusyMax: 0.3, Reliable: true},
	}
	s.Harness.LatencySplit = reports.SplitVerdicts(s.Targets)
	return s
}
