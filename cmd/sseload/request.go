package main

import (
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/loadgen/httpstream"
)

// requestFlags are the flags that shape every stream's request, shared by
// run, capacity and check: one parser, one set of messages.
type requestFlags struct {
	headers  []string
	method   string
	body     string
	bodyFile string
	insecure bool
}

// requestExamples shows each request flag at work, in every command's help.
const requestExamples = `  -H 'Authorization: Bearer $TOKEN'        # repeatable; values are never written to results
  --method POST --body '{"prompt":"hi"}' -H 'Content-Type: application/json'
  --body-file ./prompt.json -H 'Content-Type: application/json'   # POST, the body read from a file
  -k https://staging.example/events        # --insecure: do not verify the certificate
`

// add registers the request flags on fs.
func (f *requestFlags) add(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "request header 'Name: value' on every stream, e.g. -H 'Authorization: Bearer $TOKEN' (repeatable; replaces a field sseload sends of the same name; the value is never written to results)")
	fs.StringVar(&f.method, "method", "", "request method, e.g. --method POST (default GET, or POST with a body; one of "+strings.Join(httpstream.Methods(), ", ")+")")
	fs.StringVar(&f.body, "body", "", `request body, e.g. --body '{"prompt":"hi"}' (no Content-Type is added: give it with -H; never written to results)`)
	fs.StringVar(&f.bodyFile, "body-file", "", "request body read from a file, e.g. --body-file ./prompt.json (instead of --body)")
	fs.BoolVarP(&f.insecure, "insecure", "k", false, "https targets: do not verify the server's certificate (self-signed staging), e.g. -k")
}

// shape checks the request flags the user set and returns what they say:
// the method ("" when not given), the header fields and the body (nil when
// not given). Every mistake is a usage error naming the flag.
func (f *requestFlags) shape(fs *pflag.FlagSet) (httpstream.Shape, error) {
	var s httpstream.Shape
	for _, h := range f.headers {
		field, err := httpstream.ParseHeader(h)
		if err != nil {
			return s, usagef("--header: %v", err)
		}
		s.Header = append(s.Header, field)
	}
	if fs.Changed("method") {
		m, err := httpstream.ParseMethod(f.method)
		if err != nil {
			return s, usagef("--method: %v", err)
		}
		s.Method = m
	}
	switch {
	case fs.Changed("body") && fs.Changed("body-file"):
		return s, usagef("--body and --body-file both give the request body: keep one")
	case fs.Changed("body"):
		s.Body = []byte(f.body)
	case fs.Changed("body-file"):
		b, err := os.ReadFile(f.bodyFile)
		if err != nil {
			return s, usagef("--body-file: %v (give a readable file holding the request body)", err)
		}
		s.Body = b
	}
	return s, nil
}

// redactedArgs is args with the values of header and body flags replaced
// by [redacted] (a header keeps its name), for the command line quoted in
// summary.json and the reports. A token given with -H must not end up in
// a results directory that is shared or attached to a ticket.
func redactedArgs(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	header := func(v string) string {
		if name, _, ok := strings.Cut(v, ":"); ok {
			return name + ": " + httpstream.Redacted
		}
		return httpstream.Redacted
	}
	for i := 0; i < len(out); i++ {
		a := out[i]
		switch {
		case a == "--":
			return out
		case a == "-H" || a == "--header":
			if i+1 < len(out) {
				out[i+1] = header(out[i+1])
				i++
			}
		case strings.HasPrefix(a, "--header="):
			out[i] = "--header=" + header(strings.TrimPrefix(a, "--header="))
		case strings.HasPrefix(a, "-H"):
			out[i] = "-H" + header(strings.TrimPrefix(strings.TrimPrefix(a, "-H"), "="))
		case a == "--body":
			if i+1 < len(out) {
				out[i+1] = httpstream.Redacted
				i++
			}
		case strings.HasPrefix(a, "--body="):
			out[i] = "--body=" + httpstream.Redacted
		}
	}
	return out
}
