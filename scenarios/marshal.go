package scenarios

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sseload/sseload/targets"
)

// Marshal writes sc as a scenario file that Parse reads back to an equal
// Scenario (Source aside, which names where a scenario was read from). Every
// key is written, defaults included, so the file means the same whatever
// the defaults of the sseload that reads it; the compose topology hands the
// load generator its scenario this way, flags applied.
//
// Targets are written as the built-in names and, for the user's own
// proxies, {name, proxy, config} with the config's absolute path. With no
// targets the key is left out, and Parse fills in its default ones: for a
// reader that measures other targets (`--topology none --target`).
func Marshal(sc Scenario) ([]byte, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v *yaml.Node) {
		m.Content = append(m.Content, str(key), v)
	}
	dur := func(d time.Duration) *yaml.Node { return str(d.String()) }
	add("name", str(sc.Name))
	add("description", str(sc.Description))
	add("mode", str(sc.Mode))
	add("interval", dur(sc.Interval))
	add("events", num(strconv.Itoa(sc.Events), "!!int"))
	add("payload", num(strconv.Itoa(sc.Payload), "!!int"))
	add("x_accel", num(strconv.FormatBool(sc.XAccel), "!!bool"))
	add("retry_ms", num(strconv.Itoa(sc.RetryMS), "!!int"))
	add("head_with_first_event", num(strconv.FormatBool(sc.HeadWithFirstEvent), "!!bool"))
	add("heartbeat", dur(sc.Heartbeat))
	add("connections", num(strconv.Itoa(sc.Connections), "!!int"))
	add("ramp", float(sc.Ramp))
	add("duration", dur(sc.Duration))
	if len(sc.Targets) > 0 {
		list := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, t := range sc.Targets {
			n, err := targetNode(t, sc.TargetHeaders[t.Name])
			if err != nil {
				return nil, err
			}
			list.Content = append(list.Content, n)
		}
		add("targets", list)
	}
	add("max_event_bytes", num(strconv.Itoa(sc.MaxEventBytes), "!!int"))
	add("thresholds", strList(sc.Thresholds))
	add("reconnect", str(sc.Reconnect))
	add("reconnect_delay", dur(sc.ReconnectDelay))
	add("faults", strList(sc.Faults))
	add("fault_down", dur(sc.FaultDown))
	add("proxy_read_timeout", dur(sc.ProxyReadTimeout))
	add("slow_share", float(sc.SlowShare))
	add("slow_read_rate", num(strconv.Itoa(sc.SlowReadRate), "!!int"))
	add("max_failed", str(sc.MaxFailed.String()))
	add("method", str(sc.Method))
	add("body", str(sc.Body))
	add("headers", headerList(sc.Headers))
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	return buf.Bytes(), nil
}

// targetNode is one targets item: a built-in's name, or the user's proxy as
// a mapping whose config path is absolute (Parse would take a relative one
// relative to the file, wherever that is).
func targetNode(t targets.Spec, headers [][2]string) (*yaml.Node, error) {
	if p, ok := targets.Preset(t.Name); ok {
		if p != t {
			return nil, fmt.Errorf("target %s: not the built-in target of that name (%+v)", t.Name, t)
		}
		if headers != nil {
			return &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
				str("name"), str(t.Name), str("headers"), headerList(headers),
			}}, nil
		}
		return str(t.Name), nil
	}
	if t.Kind == "" || t.Config == "" {
		return nil, fmt.Errorf("target %s: neither a built-in target nor a proxy with a config", t.Name)
	}
	conf, err := filepath.Abs(t.Config)
	if err != nil {
		return nil, fmt.Errorf("target %s: config %s: %w", t.Name, t.Config, err)
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
		str("name"), str(t.Name), str("proxy"), str(t.Kind), str("config"), str(conf),
	}}
	if t.TLS {
		n.Content = append(n.Content, str("tls"), num("true", "!!bool"))
	}
	if t.HTTP2 {
		n.Content = append(n.Content, str("http2"), num("true", "!!bool"))
	}
	if headers != nil {
		n.Content = append(n.Content, str("headers"), headerList(headers))
	}
	return n, nil
}

// headerList writes header fields as a list of "Name: value" strings,
// which keeps their order and a name given twice.
func headerList(h [][2]string) *yaml.Node {
	ss := make([]string, len(h))
	for i, f := range h {
		ss[i] = f[0] + ": " + f[1]
	}
	return strList(ss)
}

// str is a string scalar; the encoder quotes it where YAML would read it
// as something else ("123", "true", "").
func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// num is a scalar of a resolved tag (!!int, !!bool, !!float), written
// plainly.
func num(s, tag string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: s} }

// float writes f so that it reads back as the same float64: the shortest
// representation that does. A whole number reads as an integer ("1000"),
// which Parse takes for a number key as well.
func float(f float64) *yaml.Node {
	return num(strconv.FormatFloat(f, 'g', -1, 64), "")
}

// strList is a flow list of strings; [] when empty, which Parse reads as
// none.
func strList(ss []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range ss {
		n.Content = append(n.Content, str(s))
	}
	return n
}
