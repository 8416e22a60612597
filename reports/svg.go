package reports

import (
	"html"
	"math"
	"strconv"
	"strings"
)

// A small SVG line-chart writer for report.html: enough for percentile
// plots, time series and step lines, with linear or logarithmic axes. It
// writes plain SVG 1.1 elements with presentation attributes, so the chart
// needs no script, no font file and no stylesheet beyond the page's own.

// Chart geometry, in SVG user units (the chart scales with its container).
const (
	chartW      = 640
	chartH      = 330
	plotLeft    = 72
	plotRight   = 30
	plotTop     = 34
	plotBottom  = 48
	maxSeries   = 8
	legendRowPx = 15
)

// palette gives targets stable, distinguishable colours in summary order
// (blue for the first target, normally direct; red; green; ...).
var palette = [maxSeries]string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

func seriesColor(i int) string { return palette[i%len(palette)] }

type point struct{ x, y float64 }

// series is one line. A NaN y breaks the line (no data in that interval).
type series struct {
	name   string
	color  string
	dashed bool
	step   bool // horizontal then vertical between points (a count that changes at instants)
	pts    []point
	endDot bool // mark the last point (a percentile line's max)
	marks  bool // mark every point (sparse series: an isolated point still shows)
}

type tick struct {
	v     float64
	label string
}

// axis maps data values to pixels. For a log axis, min and max are the data
// range and must be > 0.
type axis struct {
	min, max float64
	log      bool
	ticks    []tick
	title    string
}

func (a axis) frac(v float64) float64 {
	if a.log {
		lo, hi := math.Log10(a.min), math.Log10(a.max)
		if hi == lo {
			return 0.5
		}
		return (math.Log10(v) - lo) / (hi - lo)
	}
	if a.max == a.min {
		return 0.5
	}
	return (v - a.min) / (a.max - a.min)
}

type chart struct {
	title  string
	x, y   axis
	series []series
	empty  string // shown instead of the plot when there is nothing to draw
}

func fnum(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// svg renders the chart.
func (c chart) svg() string {
	var b strings.Builder
	legendRows := (len(c.series) + 2) / 3
	h := chartH + 6 + legendRows*legendRowPx
	pw, ph := float64(chartW-plotLeft-plotRight), float64(chartH-plotTop-plotBottom)
	px := func(v float64) float64 { return plotLeft + c.x.frac(v)*pw }
	py := func(v float64) float64 { return plotTop + (1-c.y.frac(v))*ph }

	b.WriteString(`<svg class="chart" viewBox="0 0 ` + strconv.Itoa(chartW) + " " + strconv.Itoa(h) +
		`" role="img" aria-label="` + html.EscapeString(c.title) + `" font-family="sans-serif" font-size="11">`)
	b.WriteString(`<title>` + html.EscapeString(c.title) + `</title>`)
	b.WriteString(`<text x="` + strconv.Itoa(plotLeft) + `" y="18" font-size="13" font-weight="bold" fill="#222">` + html.EscapeString(c.title) + `</text>`)
	// Plot frame.
	b.WriteString(`<rect x="` + strconv.Itoa(plotLeft) + `" y="` + strconv.Itoa(plotTop) + `" width="` + fnum(pw) + `" height="` + fnum(ph) + `" fill="#fff" stroke="#bbb"/>`)
	if c.empty != "" {
		b.WriteString(`<text x="` + fnum(plotLeft+pw/2) + `" y="` + fnum(plotTop+ph/2) + `" text-anchor="middle" fill="#666" font-size="13">` + html.EscapeString(c.empty) + `</text></svg>`)
		return b.String()
	}
	// Grid lines and tick labels.
	for _, t := range c.x.ticks {
		x := px(t.v)
		b.WriteString(`<line x1="` + fnum(x) + `" y1="` + strconv.Itoa(plotTop) + `" x2="` + fnum(x) + `" y2="` + fnum(plotTop+ph) + `" stroke="#e4e4e4"/>`)
		b.WriteString(`<text x="` + fnum(x) + `" y="` + fnum(plotTop+ph+15) + `" text-anchor="middle" fill="#444">` + html.EscapeString(t.label) + `</text>`)
	}
	for _, t := range c.y.ticks {
		y := py(t.v)
		b.WriteString(`<line x1="` + strconv.Itoa(plotLeft) + `" y1="` + fnum(y) + `" x2="` + fnum(plotLeft+pw) + `" y2="` + fnum(y) + `" stroke="#e4e4e4"/>`)
		b.WriteString(`<text x="` + strconv.Itoa(plotLeft-6) + `" y="` + fnum(y+4) + `" text-anchor="end" fill="#444">` + html.EscapeString(t.label) + `</text>`)
	}
	b.WriteString(`<text x="` + fnum(plotLeft+pw/2) + `" y="` + fnum(plotTop+ph+33) + `" text-anchor="middle" fill="#333">` + html.EscapeString(c.x.title) + `</text>`)
	b.WriteString(`<text transform="translate(14 ` + fnum(plotTop+ph/2) + `) rotate(-90)" text-anchor="middle" fill="#333">` + html.EscapeString(c.y.title) + `</text>`)

	// Data. Earlier series are drawn wider, so a later line lying exactly
	// on top of one (direct and nginx-sse often agree) leaves it visible.
	for i, s := range c.series {
		width := fnum(min(4, 2+0.8*float64(len(c.series)-1-i)))
		var d, marks strings.Builder
		pen := false
		var last point
		for _, p := range s.pts {
			if math.IsNaN(p.y) || (c.y.log && p.y <= 0) {
				pen = false
				continue
			}
			x, y := px(p.x), py(p.y)
			switch {
			case !pen:
				d.WriteString("M" + fnum(x) + " " + fnum(y))
			case s.step:
				d.WriteString("H" + fnum(x) + "V" + fnum(y))
			default:
				d.WriteString("L" + fnum(x) + " " + fnum(y))
			}
			pen, last = true, point{x, y}
			if s.marks {
				marks.WriteString(`<circle cx="` + fnum(x) + `" cy="` + fnum(y) + `" r="2.5" fill="` + s.color + `"/>`)
			}
		}
		if d.Len() == 0 {
			continue
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="5 3"`
		}
		b.WriteString(`<path class="series" data-series="` + html.EscapeString(s.name) + `" d="` + d.String() + `" fill="none" stroke="` + s.color + `" stroke-width="` + width + `"` + dash + ` stroke-linejoin="round"/>`)
		b.WriteString(marks.String())
		if s.endDot && pen {
			b.WriteString(`<circle cx="` + fnum(last.x) + `" cy="` + fnum(last.y) + `" r="3" fill="` + s.color + `"/>`)
		}
	}
	// Legend under the axis title, three entries a row.
	for i, s := range c.series {
		x := plotLeft + float64(i%3)*(pw/3)
		y := float64(chartH) + float64(i/3)*legendRowPx
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="5 3"`
		}
		b.WriteString(`<line x1="` + fnum(x) + `" y1="` + fnum(y-4) + `" x2="` + fnum(x+22) + `" y2="` + fnum(y-4) + `" stroke="` + s.color + `" stroke-width="2"` + dash + `/>`)
		b.WriteString(`<text x="` + fnum(x+27) + `" y="` + fnum(y) + `" fill="#222">` + html.EscapeString(s.name) + `</text>`)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// timeAxis returns a y axis for microsecond values between lo and hi:
// logarithmic when they span more than a factor of 20 (a proxy's seconds and
// the direct path's milliseconds on one chart), linear from zero otherwise.
func timeAxis(lo, hi float64, title string) axis {
	lo, hi = math.Max(lo, 1), math.Max(hi, 1)
	if hi/lo > 20 {
		a := axis{log: true, title: title}
		a.min = math.Pow(10, math.Floor(math.Log10(lo)))
		a.max = math.Pow(10, math.Ceil(math.Log10(hi)))
		decades := math.Log10(a.max) - math.Log10(a.min)
		mults := []float64{1, 2, 5}
		if decades > 3 {
			mults = []float64{1}
		}
		for e := math.Log10(a.min); e <= math.Log10(a.max)+1e-9; e++ {
			for _, m := range mults {
				v := m * math.Pow(10, e)
				if v <= a.max*(1+1e-9) {
					a.ticks = append(a.ticks, tick{v, formatMicros(int64(math.Round(v)))})
				}
			}
		}
		return a
	}
	a := linearAxis(0, hi*1.05, title)
	for i := range a.ticks {
		a.ticks[i].label = formatMicros(int64(math.Round(a.ticks[i].v)))
	}
	return a
}

// linearAxis returns an axis from lo to a round number at or above hi with
// about five ticks at 1, 2 or 5 × 10^k steps.
func linearAxis(lo, hi float64, title string) axis {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	a := axis{min: lo, max: math.Ceil(hi/step-1e-9) * step, title: title}
	for v := lo; v <= a.max+step/1e6; v += step {
		a.ticks = append(a.ticks, tick{v, strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return a
}
