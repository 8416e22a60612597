package testenv

import (
	"testing"

	"github.com/sseload/sseload/topology"
)

// RequireProxy returns the binary of proxy kind (targets.Nginx,
// targets.HAProxy, targets.Caddy) for tests that run the real program,
// found as the local topology finds it (PATH, then /usr/sbin). When it is
// missing the test fails under CI=true and is skipped elsewhere, with
// topology.Find's error, which says what to apt-get install.
//
// Tests of package topology itself cannot import testenv (testenv imports
// topology); they live in package topology_test.
func RequireProxy(t testing.TB, kind string) string {
	t.Helper()
	k, err := topology.KindOf(kind)
	if err != nil {
		t.Fatalf("RequireProxy: %v", err)
	}
	bin, err := topology.Find(k, "")
	if err != nil {
		Missing(t, "this test runs real "+kind+": "+err.Error())
		return ""
	}
	return bin
}
