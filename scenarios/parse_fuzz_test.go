package scenarios

import (
	"strings"
	"testing"
)

// FuzzParse checks that no input panics, that every error line names the
// file, and that whatever Parse accepts also passes Validate. The seed corpus
// lives in testdata/fuzz/FuzzParse; the embedded scenarios are added here.
func FuzzParse(f *testing.F) {
	for _, name := range Names() {
		data, err := embedded.ReadFile(name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yaml") {
					t.Fatalf("error line %q does not name the file; full error:\n%v", line, err)
				}
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse accepted %q but Validate rejects it: %v", data, err)
		}
	})
}
