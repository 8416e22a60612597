package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/compose"
)

const imagesHelp = `Usage: sseload images [flags]

Builds the two images the compose topology (docker/compose.yaml) runs, with
nothing pulled from a registry:

  sseload:<hash>        FROM scratch, one static sseload binary (this one if it
                        is statically linked, else CGO_ENABLED=0 go build from
                        the source tree)
  sseload-nginx:<hash>  Debian bookworm with nginx-light, made by debootstrap
                        (needs root and the Debian mirror; about a minute)

Each is tagged with a hash of what it is made from and reused while that is
unchanged; both are also tagged :latest, the defaults of docker/compose.yaml.
'sseload run --topology compose' builds what is missing by itself.

With a registry, name images instead of building them:
  NGINX_IMAGE=nginx:1.27 sseload run seed --topology compose

Flags:
`

// imagesCmd builds (or finds up to date) the compose topology's images and
// prints their names.
func imagesCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("images", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	mirror := fs.String("mirror", compose.DefaultMirror, "Debian mirror for debootstrap")
	fs.Usage = func() { fmt.Fprintf(stderr, "%s%s", imagesHelp, fs.FlagUsages()) }
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("images takes no arguments, got %q", fs.Args())
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d, err := compose.Detect(ctx)
	if err != nil {
		return err
	}
	imgs, err := compose.BuildImages(ctx, d, compose.BuildConfig{
		SSELoadImage: os.Getenv(compose.EnvSSELoadImage),
		NginxImage:   os.Getenv(compose.EnvNginxImage),
		Binary:       selfBinary(),
		Mirror:       *mirror,
		Log:          stderr,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SSELOAD_IMAGE=%s\nNGINX_IMAGE=%s\n", imgs.SSELoad, imgs.Nginx)
	return nil
}

// selfBinary is this executable's path, offered to the sseload image (used
// when statically linked); "" when unknown.
func selfBinary() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return p
}
