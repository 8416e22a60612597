package compose_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/internal/testenv"
	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

// TestUpFailedStartNamesServiceAndCleansUp starts a project whose
// nginx-stock cannot start (its image is the sseload image: no sh, no
// nginx). Up must name that service, leave its log lines in the results
// directory, and leave no container or network of the project behind.
func TestUpFailedStartNamesServiceAndCleansUp(t *testing.T) {
	d := testenv.RequireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	imgs, err := compose.BuildImages(ctx, d, compose.BuildConfig{SourceDir: ".."})
	if err != nil {
		t.Fatal(err)
	}
	stock, _ := targets.Preset("nginx-stock")
	pr, err := topology.PrepareConfig(stock, 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	name := "sseload-test-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))[:20]
	_, err = compose.Up(ctx, d, compose.Config{
		Name:       name,
		Images:     compose.Images{SSELoad: imgs.SSELoad, Proxies: map[string]string{targets.Nginx: imgs.SSELoad}},
		Proxies:    []topology.Prepared{pr},
		Scenario:   []byte("name: test\n"),
		ResultsDir: dir,
	})
	if err == nil {
		t.Fatal("Up succeeded with an nginx service that cannot start")
	}
	t.Logf("Up error: %v", err)
	if !strings.Contains(err.Error(), "service nginx-stock") {
		t.Errorf("Up error %q does not name service nginx-stock", err)
	}
	if b, serr := os.ReadFile(filepath.Join(dir, "nginx-stock.log")); serr != nil {
		t.Errorf("no nginx-stock.log in the results directory: %v", serr)
	} else {
		t.Logf("nginx-stock.log:\n%s", b)
	}
	if left := testenv.ComposeLeftovers(t, name); left != "" {
		t.Errorf("after a failed start, project %s left: %s", name, left)
	}
}
