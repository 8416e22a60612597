package render

import (
	"slices"

	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/reports"
)

// withProtocol adds a "protocol" column after the target's name to a
// table of targets when any of them spoke TLS or HTTP/2: "h1", "h2",
// followed by the TLS version ("h2 TLS 1.3"). Plaintext HTTP/1.1 runs,
// the common case, keep their table as it was.
func withProtocol(targets []reports.Target, header []string, row func(*reports.Target) []string) ([]string, func(*reports.Target) []string) {
	if !slices.ContainsFunc(targets, func(t reports.Target) bool { return t.TLSVersion != "" || t.Protocol == loadgen.ProtoH2 }) {
		return header, row
	}
	header = slices.Insert(slices.Clone(header), 1, "protocol")
	return header, func(t *reports.Target) []string {
		cell := orDash(t.Protocol)
		if t.TLSVersion != "" {
			cell += " " + t.TLSVersion
		}
		return slices.Insert(row(t), 1, cell)
	}
}
