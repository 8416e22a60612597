package render

import (
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/sseload/sseload/reports"
)

// The event-arrivals chart: how many events each target received in each
// interval, one lane per target, drawn as bars over the intervals they
// count. It is the seed bug at a glance: a stream delivered as it is
// published is a flat band, one delivered by a buffering proxy is an empty
// lane with one spike at the end, when the proxy lets go.
//
// The counts are the latency samples of each interval of the target's
// latency .hlog file (reports.RunData.Latency): events whose publish time could be
// read, which with sseload's origin is every event received. Each lane is
// scaled to its own busiest interval, whose count is written at the lane's
// right: a lane's shape is what tells batching from streaming, and a shared
// scale would flatten a steady lane to nothing beside a spike of 60
// intervals' events.

// Lane geometry, in SVG user units.
const (
	laneH     = 34
	laneGap   = 6
	laneLeft  = 104 // room for a target's name
	laneRight = 64  // room for the busiest interval's count
	minBarPx  = 5
)

// arrival is one bar: an interval's span, in seconds since the start, and
// its event count.
type arrival struct {
	from, to float64
	n        int64
}

// arrivalsChart renders the chart as SVG.
func arrivalsChart(d *reports.RunData) string {
	const title = "Events received per interval"
	type lane struct {
		name  string
		color string
		bars  []arrival
		peak  int64
	}
	var lanes []lane
	end := 0.0
	for i, t := range d.Summary.Targets {
		ivs := d.Latency[t.Name]
		if len(ivs) == 0 {
			continue
		}
		l := lane{name: t.Name, color: seriesColor(i)}
		for _, iv := range ivs {
			a := arrival{from: iv.Start.Seconds(), to: iv.End.Seconds(), n: iv.Count}
			end = math.Max(end, a.to)
			l.peak = max(l.peak, a.n)
			l.bars = append(l.bars, a)
		}
		lanes = append(lanes, l)
	}
	var b strings.Builder
	e := html.EscapeString
	plotH := max(1, len(lanes))*(laneH+laneGap) - laneGap
	h := plotTop + plotH + plotBottom
	b.WriteString(`<svg class="chart" viewBox="0 0 ` + strconv.Itoa(chartW) + " " + strconv.Itoa(h) +
		`" role="img" aria-label="` + e(title) + `" font-family="sans-serif" font-size="11">`)
	b.WriteString(`<title>` + e(title) + `</title>`)
	b.WriteString(`<text x="` + strconv.Itoa(laneLeft) + `" y="18" font-size="13" font-weight="bold" fill="#222">` + e(title) + `</text>`)
	pw := float64(chartW - laneLeft - laneRight)
	if len(lanes) == 0 || end <= 0 {
		b.WriteString(`<rect x="` + strconv.Itoa(laneLeft) + `" y="` + strconv.Itoa(plotTop) + `" width="` + fnum(pw) + `" height="` + strconv.Itoa(plotH) + `" fill="#fff" stroke="#bbb"/>`)
		b.WriteString(`<text x="` + fnum(laneLeft+pw/2) + `" y="` + fnum(float64(plotTop)+float64(plotH)/2+4) + `" text-anchor="middle" fill="#666" font-size="13">no latency intervals (.hlog files missing)</text></svg>`)
		return b.String()
	}
	x := secondsAxis(end)
	px := func(v float64) float64 { return laneLeft + x.frac(v)*pw }
	bottom := float64(plotTop + plotH)
	for _, t := range x.ticks {
		b.WriteString(`<line x1="` + fnum(px(t.v)) + `" y1="` + strconv.Itoa(plotTop) + `" x2="` + fnum(px(t.v)) + `" y2="` + fnum(bottom) + `" stroke="#e4e4e4"/>`)
		b.WriteString(`<text x="` + fnum(px(t.v)) + `" y="` + fnum(bottom+15) + `" text-anchor="middle" fill="#444">` + e(t.label) + `</text>`)
	}
	b.WriteString(`<text x="` + fnum(laneLeft+pw/2) + `" y="` + fnum(bottom+33) + `" text-anchor="middle" fill="#333">` + e(x.title) + `</text>`)
	for i, l := range lanes {
		top := float64(plotTop + i*(laneH+laneGap))
		base := top + laneH
		b.WriteString(`<rect x="` + strconv.Itoa(laneLeft) + `" y="` + fnum(top) + `" width="` + fnum(pw) + `" height="` + strconv.Itoa(laneH) + `" fill="#fff" stroke="#ddd"/>`)
		b.WriteString(`<text x="` + strconv.Itoa(laneLeft-6) + `" y="` + fnum(top+laneH/2+4) + `" text-anchor="end" fill="#222">` + e(l.name) + `</text>`)
		peak := "none"
		if l.peak > 0 {
			peak = "max " + strconv.FormatInt(l.peak, 10)
		}
		b.WriteString(`<text x="` + fnum(laneLeft+pw+6) + `" y="` + fnum(top+laneH/2+4) + `" fill="#444">` + e(peak) + `</text>`)
		var d strings.Builder
		for _, a := range l.bars {
			if a.n <= 0 {
				continue
			}
			// A bar is at least minBarPx wide, so that a short interval
			// (the last one, often) or many intervals to a pixel still
			// show; one that would then pass the axis's end ends there.
			x0, x1 := px(a.from), px(a.to)
			if x1-x0 < minBarPx {
				x1 = x0 + minBarPx
				if right := laneLeft + pw; x1 > right {
					x0, x1 = right-minBarPx, right
				}
			}
			y := base - float64(laneH-3)*float64(a.n)/float64(l.peak)
			d.WriteString("M" + fnum(x0) + " " + fnum(base) + "V" + fnum(y) + "H" + fnum(x1) + "V" + fnum(base) + "Z")
		}
		if d.Len() > 0 {
			b.WriteString(`<path class="arrivals" data-series="` + e(l.name) + `" d="` + d.String() + `" fill="` + l.color + `" fill-opacity="0.85" stroke="` + l.color + `" stroke-width="0.6"/>`)
		}
		b.WriteString(`<line x1="` + strconv.Itoa(laneLeft) + `" y1="` + fnum(base) + `" x2="` + fnum(laneLeft+pw) + `" y2="` + fnum(base) + `" stroke="#888"/>`)
	}
	b.WriteString(`</svg>`)
	return b.String()
}
