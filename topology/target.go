// Package topology starts what stands between the load generator and the
// origin: nothing (direct), or real nginx processes running the configs in
// docker/nginx/ — the same bytes the compose topology mounts.
package topology

import (
	"errors"
	"fmt"
	"strings"
)

// Target is one measured endpoint.
type Target struct {
	Name         string // "direct", "nginx-stock", "nginx-sse"
	URL          string // e.g. http://127.0.0.1:41234/events
	Proxy        string // proxy version, e.g. "nginx/1.22.1"; "" for direct
	ConfigSHA256 string // sha256 (hex) of the proxy's config file as embedded; "" for direct
}

// Target names.
const (
	Direct     = "direct"
	NginxStock = "nginx-stock"
	NginxSSE   = "nginx-sse"
)

// configFile maps each proxied target to its config in docker.NginxConfigs.
// A function, not a package-level map, so that nothing package-level is
// mutable.
func configFile(name string) (string, bool) {
	switch name {
	case NginxStock:
		return "nginx/nginx-stock.conf", true
	case NginxSSE:
		return "nginx/nginx-sse.conf", true
	}
	return "", false
}

// ErrNginxMissing is returned (wrapped) when a proxied target is asked for
// and no nginx binary can be found.
var ErrNginxMissing = errors.New("nginx not found: install it with `apt-get install nginx-light` (Debian/Ubuntu), or measure the origin alone with --only direct")

// validateNames checks that names is a non-empty subset of the known targets
// without repeats.
func validateNames(names []string) error {
	known := []string{Direct, NginxStock, NginxSSE}
	if len(names) == 0 {
		return fmt.Errorf("no targets: name at least one of %s", strings.Join(known, ", "))
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n != Direct {
			if _, ok := configFile(n); !ok {
				return fmt.Errorf("unknown target %q: use %s", n, strings.Join(known, ", "))
			}
		}
		if seen[n] {
			return fmt.Errorf("target %q named twice", n)
		}
		seen[n] = true
	}
	return nil
}
