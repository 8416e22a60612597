package topology

import (
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/docker"
)

func TestWithReadTimeout(t *testing.T) {
	for _, file := range []string{"nginx/nginx-stock.conf", "nginx/nginx-sse.conf"} {
		conf, err := docker.NginxConfigs.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out, err := withReadTimeout(conf, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		m := readTimeoutDirective.FindAll(out, -1)
		if len(m) != 1 || !strings.HasSuffix(string(m[0]), "proxy_read_timeout 5s;") {
			t.Errorf("%s: proxy_read_timeout directives after the override: %q, want one, 5s", file, m)
		}
	}
	if _, err := withReadTimeout([]byte("events {}\n"), time.Second); err == nil || !strings.Contains(err.Error(), "http {") {
		t.Errorf("a config without http {}: error %v, want one naming the missing block", err)
	}
}
