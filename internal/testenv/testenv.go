// Package testenv holds the checks integration tests share: which real
// programs they need and what to do when one is missing.
package testenv

import (
	"os"
	"testing"

	"github.com/sseload/sseload/targets"
)

// RequireNginx returns the nginx binary for tests that run real nginx:
// RequireProxy(t, targets.Nginx).
func RequireNginx(t testing.TB) string {
	t.Helper()
	return RequireProxy(t, targets.Nginx)
}

// Missing ends a test that needs something the machine lacks: it fails
// under CI=true (CI must install what tests need) and is skipped
// elsewhere. msg says what is missing and how to install it.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
