package render

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
	legendCols  = 3
)

// palette gives targets stable colours in summary order: Okabe and Ito's
// colour-blind-safe set (blue for the first target, normally direct;
// vermilion; bluish green; orange; reddish purple; sky blue; black;
// yellow last, the faintest on white). Colour is never the only cue: each
// target also has its own dash pattern (dashes) or marker (markers).
var palette = [maxSeries]string{"#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"}

// dashes are the targets' line patterns (stroke-dasharray), in the same
// order: solid for the first, then patterns that stay distinct when two
// lines lie on top of each other.
var dashes = [maxSeries]string{"", "8 4", "2 3", "10 3 2 3", "4 4", "14 4", "1 4", "6 2 1 2 1 2"}

func seriesColor(i int) string { return palette[i%len(palette)] }

func seriesDash(i int) string { return dashes[i%len(dashes)] }

// Marker shapes, one per target in the same order, for charts whose dash
// patterns say something else (p50 dashed, p99 solid).
const (
	markCircle = iota
	markSquare
	markTriangle
	markDiamond
	markTriangleDown
	markCross
	markPlus
	markStar
	numMarkers
)

// marker returns an SVG element drawing shape at (x, y) in color, filled or
// hollow.
func marker(shape int, x, y float64, color string, filled bool) string {
	const r = 3.2
	fill := color
	if !filled {
		fill = "#fff"
	}
	paint := `" fill="` + fill + `" stroke="` + color + `" stroke-width="1.2"/>`
	pt := func(dx, dy float64) string { return fnum(x+dx) + " " + fnum(y+dy) }
	switch shape % numMarkers {
	case markSquare:
		return `<rect x="` + fnum(x-r+0.4) + `" y="` + fnum(y-r+0.4) + `" width="` + fnum(2*r-0.8) + `" height="` + fnum(2*r-0.8) + paint
	case markTriangle:
		return `<path d="M` + pt(0, -r-0.6) + "L" + pt(r+0.4, r-0.2) + "L" + pt(-r-0.4, r-0.2) + `Z` + paint
	case markDiamond:
		return `<path d="M` + pt(0, -r-0.6) + "L" + pt(r+0.6, 0) + "L" + pt(0, r+0.6) + "L" + pt(-r-0.6, 0) + `Z` + paint
	case markTriangleDown:
		return `<path d="M` + pt(0, r+0.6) + "L" + pt(r+0.4, -r+0.2) + "L" + pt(-r-0.4, -r+0.2) + `Z` + paint
	case markCross:
		return `<path d="M` + pt(-r, -r) + "L" + pt(r, r) + "M" + pt(-r, r) + "L" + pt(r, -r) + `" fill="none" stroke="` + color + `" stroke-width="1.8"/>`
	case markPlus:
		return `<path d="M` + pt(-r-0.5, 0) + "L" + pt(r+0.5, 0) + "M" + pt(0, -r-0.5) + "L" + pt(0, r+0.5) + `" fill="none" stroke="` + color + `" stroke-width="1.8"/>`
	case markStar:
		return `<path d="M` + pt(-r, -r) + "L" + pt(r, r) + "M" + pt(-r, r) + "L" + pt(r, -r) + "M" + pt(0, -r-0.5) + "L" + pt(0, r+0.5) + `" fill="none" stroke="` + color + `" stroke-width="1.4"/>`
	}
	return `<circle cx="` + fnum(x) + `" cy="` + fnum(y) + `" r="` + fnum(r) + paint
}

// swatch is a target's legend sample for a table: a short line in its
// colour and dash pattern.
func swatch(i int) string {
	dash := ""
	if d := seriesDash(i); d != "" {
		dash = ` stroke-dasharray="` + d + `"`
	}
	return `<svg class="swatch" width="28" height="10" viewBox="0 0 28 10" aria-hidden="true"><line x1="1" y1="5" x2="27" y2="5" stroke="` +
		seriesColor(i) + `" stroke-width="2.5"` + dash + `/></svg>`
}

type point struct{ x, y float64 }

// series is one line. A NaN y breaks the line (no data in that interval).
type series struct {
	name   string
	color  string
	dash   string  // stroke-dasharray; "" is solid
	width  float64 // stroke width; 0: by drawing order (see svg)
	step   bool    // horizontal then vertical between points (a count that changes at instants)
	pts    []point
	endDot bool // mark the last point (a percentile line's max)
	// marks, when > 0, puts a marker of shape marker on every marks-th
	// point (1: every point, so that an isolated point still shows),
	// filled unless hollow.
	marks  int
	marker int
	hollow bool
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
	legendRows := (len(c.series) + legendCols - 1) / legendCols
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
		if s.width > 0 {
			width = fnum(s.width)
		}
		var d, marks strings.Builder
		pen := false
		var last point
		for j, p := range s.pts {
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
			if s.marks > 0 && j%s.marks == 0 {
				marks.WriteString(marker(s.marker, x, y, s.color, !s.hollow))
			}
		}
		if d.Len() == 0 {
			continue
		}
		dash := ""
		if s.dash != "" {
			dash = ` stroke-dasharray="` + s.dash + `"`
		}
		b.WriteString(`<path class="series" data-series="` + html.EscapeString(s.name) + `" d="` + d.String() + `" fill="none" stroke="` + s.color + `" stroke-width="` + width + `"` + dash + ` stroke-linejoin="round"/>`)
		b.WriteString(marks.String())
		if s.endDot && pen {
			b.WriteString(`<circle cx="` + fnum(last.x) + `" cy="` + fnum(last.y) + `" r="3" fill="` + s.color + `"/>`)
		}
	}
	// Legend under the axis title, legendCols entries a row: each entry's
	// line sample has the series' dash pattern and marker.
	for i, s := range c.series {
		x := plotLeft + float64(i%legendCols)*(pw/legendCols)
		y := float64(chartH) + float64(i/legendCols)*legendRowPx
		dash := ""
		if s.dash != "" {
			dash = ` stroke-dasharray="` + s.dash + `"`
		}
		b.WriteString(`<line x1="` + fnum(x) + `" y1="` + fnum(y-4) + `" x2="` + fnum(x+30) + `" y2="` + fnum(y-4) + `" stroke="` + s.color + `" stroke-width="2.5"` + dash + `/>`)
		if s.marks > 0 {
			b.WriteString(marker(s.marker, x+15, y-4, s.color, !s.hollow))
		}
		b.WriteString(`<text x="` + fnum(x+35) + `" y="` + fnum(y) + `" fill="#222">` + html.EscapeString(s.name) + `</text>`)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// timeUnit picks the unit a time axis whose values reach hi µs is
// labelled in: µs below 1 ms, ms below 10 s, else s. It returns the unit's
// name and its size in µs.
func timeUnit(hi float64) (string, float64) {
	switch {
	case hi < 1_000:
		return "µs", 1
	case hi < 10_000_000:
		return "ms", 1_000
	}
	return "s", 1_000_000
}

// unitLabel writes v (µs) in a unit of size unit µs as a plain number:
// 0.5, 2, 1500.
func unitLabel(v, unit float64) string {
	return strconv.FormatFloat(v/unit, 'g', 4, 64)
}

// withUnit writes v µs with the unit that suits it: 500µs, 2ms, 10s.
func withUnit(v float64) string {
	name, unit := timeUnit(v + 1e-9)
	if name == "ms" && v >= 1_000_000 {
		name, unit = "s", 1_000_000
	}
	return unitLabel(v, unit) + name
}

// timeAxis returns a y axis for microsecond values between lo and hi:
// logarithmic when they span more than a factor of 20 (a proxy's seconds
// and the direct path's milliseconds on one chart), titled "what (log
// scale)" with each tick in its own unit (100µs, 1ms, 10s); linear from
// zero otherwise, titled "what (unit)" and labelled in that unit. Either
// way it ends just above hi (so that the top line stays off the frame),
// not at the next round number.
func timeAxis(lo, hi float64, what string) axis {
	lo, hi = math.Max(lo, 1), math.Max(hi, 1)
	name, unit := timeUnit(hi)
	title := what + " (" + name + ")"
	if hi/lo > 20 {
		a := axis{log: true, title: what + " (log scale)", min: lo / 1.1, max: hi * 1.1}
		decades := math.Log10(a.max) - math.Log10(a.min)
		mults := []float64{1, 2, 5}
		if decades > 3 {
			mults = []float64{1}
		}
		for e := math.Floor(math.Log10(a.min)); e <= math.Log10(a.max); e++ {
			for _, m := range mults {
				if v := m * math.Pow(10, e); v >= a.min && v <= a.max {
					a.ticks = append(a.ticks, tick{v, withUnit(v)})
				}
			}
		}
		return a
	}
	a := linearAxis(0, hi*1.05, title)
	for i := range a.ticks {
		a.ticks[i].label = unitLabel(a.ticks[i].v, unit)
	}
	return a
}

// linearAxis returns an axis from lo to hi exactly (the data's range, not
// the next round number) with ticks at 1, 2 or 5 × 10^k steps, about five
// of them, none past hi.
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
	a := axis{min: lo, max: hi, title: title}
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	for k := 0.0; ; k++ {
		v := lo + k*step
		if v > hi+step/1e6 {
			break
		}
		a.ticks = append(a.ticks, tick{v, strconv.FormatFloat(v, 'f', decimals, 64)})
	}
	return a
}
