// Package render draws what people read from a run's results: the text
// table printed on stdout (WriteText), report.md for CI job summaries
// (WriteMarkdown), the self-contained report.html with its SVG charts
// (WriteHTML), junit.xml for CI test reporters (WriteJUnit), and the
// terminal tables of `sseload compare`, thresholds and `sseload capacity`.
// WriteReports writes the three report files into a results directory and
// RegenerateReports redraws them from one (`sseload report DIR`).
//
// Every renderer is a function of data package reports holds (Summary,
// RunData, Comparison, Capacity, ThresholdResult), like vegeta's reporters:
// none reaches back into the engine, and render only formats. Facts about
// the data that reports itself states (how a duration or an error list is
// spelled, a threshold's rule, whether a target was usable) are reports'
// functions and methods, called here, so each is spelled once.
package render
