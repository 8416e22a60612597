package procs

import "testing"

// FuzzDecodeFrame feeds arbitrary lines to the frame decoder and to what
// decodes the histograms an interval or result frame carries: an error
// is fine, a panic is not.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"auth","version":1,"token":"x"}`,
		`{"type":"hello","version":1,"pid":3}`,
		`{"type":"interval","interval":{"seq":0,"targets":[{"name":"a","established":1,"hist":{"latency":"HISTFAAAABx4nJNpmSzMwMDAzAABMJoRTM6Y1NTEwMwAAC3RBYs="}}],"lag":"bad"}}`,
		`{"type":"result","result":{"Targets":[{"Name":"a","Hist":{"latency":"!!"}}]}}`,
		`{"type":"start","version":1,"config":{"Targets":[{"Name":"a","URL":"http://x"}]}}`,
		`{}`, `null`, `[`, "\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := decodeFrame(line)
		if err != nil {
			return
		}
		if m.Interval != nil {
			_, _ = decodeInterval(m.Interval)
		}
		if m.Result != nil {
			_, _ = m.Result.Decode()
		}
	})
}
