// Package testenv holds the checks integration tests share: which real
// programs they need and what to do when one is missing.
package testenv

import (
	"os"
	"testing"

	"github.com/sseload/sseload/topology"
)

// RequireNginx returns the nginx binary for tests that run real nginx. When
// it is missing the test fails under CI=true (CI must install it) and is
// skipped elsewhere; both say what to install.
func RequireNginx(t testing.TB) string {
	t.Helper()
	bin, err := topology.FindNginx("")
	if err == nil {
		return bin
	}
	Missing(t, "this test runs real nginx: "+err.Error())
	return ""
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
