package scenarios

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sseload/sseload/internal/suggest"
	"github.com/sseload/sseload/loadgen/httpstream"
	"github.com/sseload/sseload/targets"
)

// embedded holds the scenario files shipped in the binary. It is read-only.
//
//go:embed *.yaml
var embedded embed.FS

// Names lists the embedded scenario names (file names without .yaml), sorted.
func Names() []string {
	entries, err := fs.ReadDir(embedded, ".")
	if err != nil {
		// The embedded FS is fixed at build time; ReadDir of its root
		// cannot fail.
		return nil
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// DefaultName is the scenario `sseload run` and `sseload capacity` run
// when none is named (with the local and compose topologies).
const DefaultName = "steady"

// AdhocName is the scenario name of a run that names no scenario file:
// `sseload run --topology none --target NAME=URL`, whose load comes from
// the command line. It labels the run's results directory, summary.json's
// "scenario" and every report, so that such a run is never taken for one
// of steady's. It is no file: Load does not resolve it.
const AdhocName = "adhoc"

// Adhoc returns the scenario of such a run: every key at its default
// (docs/scenarios.md), named AdhocName, without a description. Its
// targets are the defaults, which the --target URLs replace.
func Adhoc() Scenario {
	s := Scenario{Name: AdhocName}
	applyDefaults(&s, map[string]int{"name": 0}, "")
	return s
}

// Load resolves ref: first an embedded scenario name such as "seed", else a
// path to a .yaml or .yml file. A ref that is neither gets an error listing
// the embedded names, so a typo shows the choices.
func Load(ref string) (Scenario, error) {
	names := Names()
	choices := fmt.Sprintf("embedded scenarios: %s; or give a path to a .yaml file", strings.Join(names, ", "))
	if slices.Contains(names, ref) {
		file := ref + ".yaml"
		data, err := embedded.ReadFile(file)
		if err != nil {
			return Scenario{}, fmt.Errorf("read embedded scenario %s: %w", ref, err)
		}
		s, err := Parse(file, data)
		if err != nil {
			return Scenario{}, err
		}
		s.Source = "embedded:" + ref
		return s, nil
	}
	switch strings.ToLower(filepath.Ext(ref)) {
	case ".yaml", ".yml":
	default:
		if ref == "" {
			return Scenario{}, fmt.Errorf("no scenario given (%s)", choices)
		}
		if s := suggest.Closest(ref, names); s != "" {
			return Scenario{}, fmt.Errorf("unknown scenario %q: did you mean %q? (%s)", ref, s, choices)
		}
		return Scenario{}, fmt.Errorf("unknown scenario %q: not an embedded name or a .yaml/.yml path (%s)", ref, choices)
	}
	data, err := os.ReadFile(ref)
	if err != nil {
		return Scenario{}, fmt.Errorf("read scenario: %w (%s)", err, choices)
	}
	return Parse(ref, data)
}

// Parse decodes data as one scenario, applies defaults and validates. file
// names the input in errors and becomes Source; its base name without
// extension is the default Name. Every error starts with "file:line: " where
// a line is known. Decoding problems (unknown keys, wrong types) are all
// reported together, one per line; validation runs only when decoding
// succeeded, so its messages are not confused by values that never decoded.
func Parse(file string, data []byte) (Scenario, error) {
	label := file
	if label == "" {
		label = "<input>"
	}
	root, err := decodeDocument(label, data)
	if err != nil {
		return Scenario{}, err
	}

	d := decoder{file: label, dir: filepath.Dir(file), lines: map[string]int{}, items: map[string][]int{}}
	s := d.mapping(root)
	if len(d.errs) > 0 {
		return Scenario{}, errors.Join(d.errs...)
	}
	s.Source = file
	applyDefaults(&s, d.lines, file)

	ps := s.problems()
	if len(ps) == 0 {
		return s, nil
	}
	lines := make([]int, len(ps))
	for i, p := range ps {
		lines[i] = root.Line // absent key: point at the mapping
		if l, ok := d.lines[p.key]; ok {
			lines[i] = l
		}
		if p.index >= 0 && p.index < len(d.items[p.key]) {
			lines[i] = d.items[p.key][p.index]
		}
	}
	// Report in file order, as an editor would walk them.
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return lines[a] - lines[b] })
	errs := make([]error, len(ps))
	for i, j := range order {
		errs[i] = fmt.Errorf("%s:%d: %s", label, lines[j], ps[j])
	}
	return Scenario{}, errors.Join(errs...)
}

// applyDefaults fills every key that was absent from the file. Events and
// Duration depend on the mode, so they are filled after it.
func applyDefaults(s *Scenario, set map[string]int, file string) {
	has := func(k string) bool { _, ok := set[k]; return ok }
	if !has("name") {
		base := filepath.Base(file)
		s.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if !has("mode") {
		s.Mode = DefaultMode
	}
	if !has("interval") {
		s.Interval = DefaultInterval
	}
	if !has("events") && s.Mode == ModePerConnection {
		s.Events = DefaultEventsPerConn
	}
	if !has("connections") {
		s.Connections = DefaultConnections
	}
	if !has("ramp") {
		s.Ramp = DefaultRamp
	}
	if !has("duration") && s.Mode != ModePerConnection {
		s.Duration = DefaultDuration
	}
	if !has("targets") {
		for _, n := range targets.DefaultNames() {
			t, _ := targets.Preset(n)
			s.Targets = append(s.Targets, t)
		}
	}
	if !has("max_event_bytes") {
		s.MaxEventBytes = DefaultMaxEventBytes
	}
	if !has("reconnect") {
		s.Reconnect = DefaultReconnect
	}
	if !has("reconnect_delay") {
		s.ReconnectDelay = DefaultReconnectDelay
	}
	if !has("fault_down") {
		s.FaultDown = DefaultFaultDown
	}
}

// yamlLineErr matches the parser's "yaml: line N: message" errors.
var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeDocument parses data as exactly one YAML document holding a mapping
// and returns that mapping node. Syntax errors keep the parser's line.
func decodeDocument(label string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty scenario file (write a mapping of keys such as mode, interval, connections, targets)", label)
		}
		return nil, syntaxError(label, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	root = resolve(root)
	if root == nil || root.Kind == yaml.DocumentNode || (root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null") {
		return nil, fmt.Errorf("%s: empty scenario file (write a mapping of keys such as mode, interval, connections, targets)", label)
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: a scenario must be a mapping of keys (such as \"mode: broadcast\"), not %s", label, root.Line, kindName(root))
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(label, err)
	default:
		return nil, fmt.Errorf("%s:%d: more than one YAML document (a scenario file holds one mapping; remove the extra \"---\")", label, extra.Line)
	}
	return root, nil
}

// syntaxError rewrites a parser error as "file:line: invalid YAML: message".
func syntaxError(label string, err error) error {
	msg := err.Error()
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: invalid YAML: %s", label, m[1], m[2])
	}
	return fmt.Errorf("%s: invalid YAML: %s", label, strings.TrimPrefix(msg, "yaml: "))
}

// resolve follows aliases (*anchor) to the node they name. The parser
// rejects an anchor that contains itself, so the chain is short; the bound
// only guards against a malformed tree.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "an unsupported YAML node"
}

// decoder collects decoding errors and remembers where each key and list
// item was, so that validation problems found later can name their line.
type decoder struct {
	file  string
	dir   string // the file's directory: a target's config path is relative to it
	errs  []error
	lines map[string]int   // key -> line of its value
	items map[string][]int // list key -> line of each item
}

func (d *decoder) errorf(line int, format string, args ...any) {
	d.errs = append(d.errs, fmt.Errorf("%s:%d: %s", d.file, line, fmt.Sprintf(format, args...)))
}

// field is one yaml key: how to decode its value into a Scenario.
type field struct {
	key    string
	decode func(d *decoder, s *Scenario, key string, v *yaml.Node)
}

// fields lists every key a scenario file may hold, sorted by key so the
// "valid keys" list in errors reads alphabetically.
func fields() []field {
	return []field{
		{"body", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.text(k, v, &s.Body) }},
		{"connections", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.integer(k, v, &s.Connections) }},
		{"description", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.text(k, v, &s.Description) }},
		{"duration", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.duration(k, v, &s.Duration) }},
		{"events", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.integer(k, v, &s.Events) }},
		{"fault_down", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.duration(k, v, &s.FaultDown) }},
		{"faults", func(d *decoder, s *Scenario, k string, v *yaml.Node) {
			d.list(k, v, `["origin-restart@10s", "proxy-reload@20s"]`, &s.Faults)
		}},
		{"head_with_first_event", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.boolean(k, v, &s.HeadWithFirstEvent) }},
		{"headers", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.headers(k, v, &s.Headers) }},
		{"heartbeat", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.duration(k, v, &s.Heartbeat) }},
		{"interval", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.duration(k, v, &s.Interval) }},
		{"max_event_bytes", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.integer(k, v, &s.MaxEventBytes) }},
		{"max_failed", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.maxFailed(k, v, &s.MaxFailed) }},
		{"method", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.text(k, v, &s.Method) }},
		{"mode", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.text(k, v, &s.Mode) }},
		{"name", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.text(k, v, &s.Name) }},
		{"payload", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.integer(k, v, &s.Payload) }},
		{"proxy_read_timeout", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.duration(k, v, &s.ProxyReadTimeout) }},
		{"ramp", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.number(k, v, &s.Ramp) }},
		{"reconnect", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.text(k, v, &s.Reconnect) }},
		{"reconnect_delay", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.duration(k, v, &s.ReconnectDelay) }},
		{"retry_ms", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.integer(k, v, &s.RetryMS) }},
		{"slow_read_rate", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.integer(k, v, &s.SlowReadRate) }},
		{"slow_share", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.number(k, v, &s.SlowShare) }},
		{"targets", func(d *decoder, s *Scenario, k string, v *yaml.Node) {
			d.targetList(k, v, &s.Targets, &s.TargetHeaders)
		}},
		{"thresholds", func(d *decoder, s *Scenario, k string, v *yaml.Node) {
			d.list(k, v, `["nginx-sse:latency.p99 < 50ms"]`, &s.Thresholds)
		}},
		{"x_accel", func(d *decoder, s *Scenario, k string, v *yaml.Node) { d.boolean(k, v, &s.XAccel) }},
	}
}

// mapping decodes the top-level mapping. Unknown and repeated keys are
// errors: a misspelt key silently taking its default is the bug this
// strictness exists to prevent.
func (d *decoder) mapping(m *yaml.Node) Scenario {
	var s Scenario
	fl := fields()
	keys := make([]string, len(fl))
	for i, f := range fl {
		keys[i] = f.key
	}
	keyLines := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn, v := resolve(m.Content[i]), resolve(m.Content[i+1])
		if kn == nil || v == nil {
			d.errorf(m.Content[i].Line, "alias too deep (use plain values)")
			continue
		}
		if kn.Kind != yaml.ScalarNode {
			d.errorf(kn.Line, "a key must be a plain name, not %s (valid keys: %s)", kindName(kn), strings.Join(keys, ", "))
			continue
		}
		k := kn.Value
		j := slices.IndexFunc(fl, func(f field) bool { return f.key == k })
		if j < 0 {
			if s := suggest.Closest(k, keys); s != "" {
				d.errorf(kn.Line, "unknown key %q: did you mean %q? (valid keys: %s)", k, s, strings.Join(keys, ", "))
				continue
			}
			d.errorf(kn.Line, "unknown key %q (valid keys: %s)", k, strings.Join(keys, ", "))
			continue
		}
		if first, dup := keyLines[k]; dup {
			d.errorf(kn.Line, "duplicate key %q (first set on line %d; keep one)", k, first)
			continue
		}
		keyLines[k] = kn.Line
		d.lines[k] = v.Line
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
			d.errorf(v.Line, "%s: no value (give one, or remove the key to use the default)", k)
			continue
		}
		fl[j].decode(d, &s, k, v)
	}
	return s
}

// scalar reports whether v is a scalar and records an error naming what was
// expected otherwise.
func (d *decoder) scalar(key string, v *yaml.Node, want string) bool {
	if v.Kind == yaml.ScalarNode {
		return true
	}
	d.errorf(v.Line, "%s: expected %s, got %s", key, want, kindName(v))
	return false
}

// text accepts any scalar: free text such as a description may look like
// a number or a boolean to YAML, and mode is checked by Validate.
func (d *decoder) text(key string, v *yaml.Node, out *string) {
	if d.scalar(key, v, "text") {
		*out = v.Value
	}
}

func (d *decoder) integer(key string, v *yaml.Node, out *int) {
	if !d.scalar(key, v, "a whole number") {
		return
	}
	if v.ShortTag() != "!!int" {
		if strings.Trim(v.Value, "+-0123456789") == "" && v.Value != "" {
			// All digits, yet YAML resolved it as a float: too large.
			d.errorf(v.Line, "%s %q: too large (write a smaller number)", key, v.Value)
			return
		}
		d.errorf(v.Line, "%s %q: not a whole number (write digits, such as %s: 100)", key, v.Value, key)
		return
	}
	var n int
	if err := v.Decode(&n); err != nil {
		d.errorf(v.Line, "%s %q: not a whole number in range (write a smaller number)", key, v.Value)
		return
	}
	*out = n
}

func (d *decoder) number(key string, v *yaml.Node, out *float64) {
	if !d.scalar(key, v, "a number") {
		return
	}
	if t := v.ShortTag(); t != "!!int" && t != "!!float" {
		d.errorf(v.Line, "%s %q: not a number (write one such as %s: 1000 or %s: 2.5)", key, v.Value, key, key)
		return
	}
	var f float64
	if err := v.Decode(&f); err != nil {
		d.errorf(v.Line, "%s %q: not a number (write one such as %s: 1000 or %s: 2.5)", key, v.Value, key, key)
		return
	}
	*out = f
}

func (d *decoder) boolean(key string, v *yaml.Node, out *bool) {
	if !d.scalar(key, v, "true or false") {
		return
	}
	var b bool
	if v.ShortTag() != "!!bool" || v.Decode(&b) != nil {
		d.errorf(v.Line, "%s %q: not true or false", key, v.Value)
		return
	}
	*out = b
}

// maxFailed accepts a count of streams (3) or a share of them (5%).
func (d *decoder) maxFailed(key string, v *yaml.Node, out *MaxFailed) {
	if !d.scalar(key, v, "a count such as 3 or a share such as 5%") {
		return
	}
	m, err := ParseMaxFailed(v.Value)
	if err != nil {
		d.errorf(v.Line, "%s %v", key, err)
		return
	}
	*out = m
}

// duration accepts Go duration strings (time.ParseDuration): 500ms, 5s,
// 1m30s. A bare number other than 0 is rejected rather than guessed at:
// "interval: 5" could mean seconds or milliseconds, and guessing wrong is a
// thousandfold error. 0 needs no unit (time.ParseDuration accepts "0" too).
func (d *decoder) duration(key string, v *yaml.Node, out *time.Duration) {
	if !d.scalar(key, v, "a duration such as 5s") {
		return
	}
	raw := strings.TrimSpace(v.Value)
	if t := v.ShortTag(); t == "!!int" || t == "!!float" || isNumber(raw) {
		if f, err := strconv.ParseFloat(raw, 64); err == nil && f == 0 {
			*out = 0
			return
		}
		d.errorf(v.Line, "%s %q: a duration needs a unit (write %ss or %sms)", key, v.Value, raw, raw)
		return
	}
	dur, err := time.ParseDuration(raw)
	if err != nil {
		d.errorf(v.Line, "%s %q: not a duration (use Go durations such as 500ms, 5s, 1m)", key, v.Value)
		return
	}
	*out = dur
}

// isNumber reports whether s is a plain decimal number, such as a quoted "5".
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && s != "" && strings.Trim(s, "+-.0123456789") == ""
}

// list decodes a list of scalars and records each item's line so that
// validation can point at the bad item.
func (d *decoder) list(key string, v *yaml.Node, example string, out *[]string) {
	if v.Kind != yaml.SequenceNode {
		d.errorf(v.Line, "%s: expected a list such as %s, got %s", key, example, kindName(v))
		return
	}
	list := make([]string, 0, len(v.Content))
	lines := make([]int, 0, len(v.Content))
	for _, item := range v.Content {
		line := item.Line
		item = resolve(item)
		if item == nil || item.Kind != yaml.ScalarNode || item.ShortTag() == "!!null" {
			what := "an empty item"
			if item != nil && item.Kind != yaml.ScalarNode {
				what = kindName(item)
			}
			d.errorf(line, "%s: each item must be text, got %s", key, what)
			continue
		}
		list = append(list, item.Value)
		lines = append(lines, line)
	}
	if len(list) == 0 {
		list = nil // "thresholds: []" and an absent key mean the same
	}
	*out = list
	d.items[key] = lines
}

// targetList decodes the targets key: each item is a built-in target's
// name (direct, nginx-sse, …) or a mapping naming the user's own proxy,
// {name: mine, proxy: nginx, config: ./deploy/nginx.conf}, whose config
// path is relative to the scenario file.
func (d *decoder) targetList(key string, v *yaml.Node, out *[]targets.Spec, headers *map[string][][2]string) {
	const example = "[direct, nginx-sse, {name: mine, proxy: nginx, config: ./nginx.conf}]"
	if v.Kind != yaml.SequenceNode {
		d.errorf(v.Line, "%s: expected a list such as %s, got %s", key, example, kindName(v))
		return
	}
	var list []targets.Spec
	var lines []int
	for _, item := range v.Content {
		line := item.Line
		item = resolve(item)
		switch {
		case item != nil && item.Kind == yaml.ScalarNode && item.ShortTag() != "!!null":
			t, ok := targets.Preset(item.Value)
			if !ok {
				d.errorf(line, "%s: %v", key, targets.UnknownPreset(item.Value))
				continue
			}
			list = append(list, t)
		case item != nil && item.Kind == yaml.MappingNode:
			item, h, ok := d.targetHeaders(key, item)
			if !ok {
				continue
			}
			t, ok := d.targetEntry(key, item)
			if !ok {
				continue
			}
			list = append(list, t)
			if h != nil {
				if *headers == nil {
					*headers = map[string][][2]string{}
				}
				(*headers)[t.Name] = h
			}
		default:
			d.errorf(line, "%s: each item is a target's name or a mapping such as {name: mine, proxy: nginx, config: ./nginx.conf}", key)
			continue
		}
		lines = append(lines, line)
	}
	*out = list
	d.items[key] = lines
}

// targetHeaders takes a target entry's "headers" key out of m: the
// entry without it, and the fields (nil when absent).
func (d *decoder) targetHeaders(key string, m *yaml.Node) (*yaml.Node, [][2]string, bool) {
	rest := &yaml.Node{Kind: yaml.MappingNode, Line: m.Line, Column: m.Column}
	var h [][2]string
	ok := true
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := resolve(m.Content[i])
		if k != nil && k.Kind == yaml.ScalarNode && k.Value == "headers" {
			v := resolve(m.Content[i+1])
			if v == nil {
				d.errorf(k.Line, "%s: headers: alias too deep (use plain values)", key)
				ok = false
				continue
			}
			n := len(d.errs)
			d.headers(key+": headers", v, &h)
			ok = ok && len(d.errs) == n
			continue
		}
		rest.Content = append(rest.Content, m.Content[i], m.Content[i+1])
	}
	return rest, h, ok
}

// targetEntry decodes a target mapping: {name} alone names a built-in
// target (to give it headers), else {name, proxy, config}.
func (d *decoder) targetEntry(key string, m *yaml.Node) (targets.Spec, bool) {
	if len(m.Content) == 2 {
		k, v := resolve(m.Content[0]), resolve(m.Content[1])
		if k != nil && v != nil && k.Value == "name" && v.Kind == yaml.ScalarNode {
			if t, ok := targets.Preset(v.Value); ok {
				return t, true
			}
		}
	}
	return d.customTarget(key, m)
}

// headers decodes request header fields: a mapping {Name: value} or a list
// of "Name: value" strings (httpstream.ParseHeader), in order. Messages
// name a field, never its value.
func (d *decoder) headers(key string, v *yaml.Node, out *[][2]string) {
	const example = "{Authorization: Bearer TOKEN} or [\"Authorization: Bearer TOKEN\"]"
	var h [][2]string
	switch v.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, val := resolve(v.Content[i]), resolve(v.Content[i+1])
			if k == nil || val == nil || k.Kind != yaml.ScalarNode || val.Kind != yaml.ScalarNode {
				d.errorf(v.Content[i].Line, "%s: each field is Name: value, both plain text (such as %s)", key, example)
				continue
			}
			f := [2]string{k.Value, val.Value}
			if err := httpstream.CheckField(f); err != nil {
				d.errorf(k.Line, "%s: %v", key, err)
				continue
			}
			h = append(h, f)
		}
	case yaml.SequenceNode:
		for _, item := range v.Content {
			line := item.Line
			item = resolve(item)
			if item == nil || item.Kind != yaml.ScalarNode {
				d.errorf(line, "%s: each item is \"Name: value\" text (such as %s)", key, example)
				continue
			}
			f, err := httpstream.ParseHeader(item.Value)
			if err != nil {
				d.errorf(line, "%s: %v", key, err)
				continue
			}
			h = append(h, f)
		}
	default:
		d.errorf(v.Line, "%s: expected %s, got a single value (not quoted here: it may be a secret)", key, example)
		return
	}
	*out = h
}

// targetKeys are the keys of a target of the user's own: name, proxy and
// config are required; tls and http2 (booleans) choose the listener's
// protocols (targets.Spec.TLS, HTTP2).
var targetKeys = []string{"name", "proxy", "config", "tls", "http2"}

// customTarget decodes {name, proxy, config, tls, http2}.
func (d *decoder) customTarget(key string, m *yaml.Node) (targets.Spec, bool) {
	vals := map[string]string{}
	valid := strings.Join(targetKeys, ", ")
	ok := true
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), resolve(m.Content[i+1])
		if k == nil || v == nil || k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			d.errorf(m.Content[i].Line, "%s: a target's keys and values are plain text (%s)", key, valid)
			ok = false
			continue
		}
		switch k.Value {
		case "name", "proxy", "config", "tls", "http2":
			if _, dup := vals[k.Value]; dup {
				d.errorf(k.Line, "%s: duplicate key %q in a target (keep one)", key, k.Value)
				ok = false
			}
			if (k.Value == "tls" || k.Value == "http2") && v.ShortTag() != "!!bool" {
				d.errorf(v.Line, "%s: %s: expected true or false, got %q", key, k.Value, v.Value)
				ok = false
			}
			vals[k.Value] = v.Value
		default:
			if s := suggest.Closest(k.Value, targetKeys); s != "" {
				d.errorf(k.Line, "%s: unknown key %q in a target: did you mean %q? (valid: %s)", key, k.Value, s, valid)
			} else {
				d.errorf(k.Line, "%s: unknown key %q in a target (valid: %s)", key, k.Value, valid)
			}
			ok = false
		}
	}
	for _, k := range []string{"name", "proxy", "config"} {
		if vals[k] == "" && ok {
			d.errorf(m.Line, "%s: a target of your own needs %s (write {name: mine, proxy: %s, config: ./path})", key, k, strings.Join(targets.Kinds(), "|"))
			ok = false
		}
	}
	if !ok {
		return targets.Spec{}, false
	}
	isTrue := func(s string) bool { b, _ := strconv.ParseBool(strings.ToLower(s)); return b }
	t, err := targets.CustomTLS(vals["name"], vals["proxy"], vals["config"], d.dir, isTrue(vals["tls"]), isTrue(vals["http2"]))
	if err != nil {
		d.errorf(m.Line, "%s: %v", key, err)
		return targets.Spec{}, false
	}
	return t, true
}
