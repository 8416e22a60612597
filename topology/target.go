// Package topology starts what stands between the load generator and the
// origin on this machine: nothing (direct), or real proxy processes —
// nginx, HAProxy, Caddy — each running a config from docker/ or the user's
// own, the same bytes the compose topology mounts. Each proxy program is a
// Kind; nothing outside a Kind knows its command line.
package topology

// Target is one measured endpoint.
type Target struct {
	Name         string // as in targets.Spec
	URL          string // e.g. http://127.0.0.1:41234/events
	Kind         string // proxy kind (targets.Nginx, …); "" for direct
	Proxy        string // proxy version, e.g. "nginx/1.22.1"; "" for direct
	ConfigSHA256 string // sha256 (hex) of the proxy's config as run; "" for direct
	ConfigName   string // the config's file: docker/… for a preset, else the user's path
	HTTP2        bool   // the listener offers HTTP/2 by ALPN (targets.Spec.HTTP2), which the generator asks for
}
