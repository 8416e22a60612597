package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/targets"
)

const imagesHelp = `Usage: sseload images [flags]

Builds the images the compose topology runs, with nothing pulled from a
registry:

  sseload:<hash>          FROM scratch, one static sseload binary (this one if
                          it is statically linked, else CGO_ENABLED=0 go build
                          from the source tree)
  sseload-nginx:<hash>    Debian bookworm with nginx-light (nginx 1.22.1)
  sseload-haproxy:<hash>  Debian bookworm with haproxy (HAProxy 2.6)
  sseload-caddy:<hash>    Debian bookworm with caddy (Caddy 2.6)

The proxy images are made by debootstrap (needs root and the Debian mirror;
about a minute each). Each image is tagged with a hash of what it is made
from and reused while that is unchanged; each is also tagged :latest, the
defaults of docker/compose.yaml. 'sseload run --topology compose' builds
what its targets need by itself.

With a registry, name images instead of building them:
  NGINX_IMAGE=nginx:1.27 sseload run seed --topology compose
(likewise HAPROXY_IMAGE, CADDY_IMAGE and SSELOAD_IMAGE).

Flags:
`

// imagesCmd builds (or finds up to date) the compose topology's images and
// prints their names.
func imagesCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("images", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	mirror := fs.String("mirror", compose.DefaultMirror, "Debian mirror for debootstrap")
	kinds := fs.StringSlice("kinds", targets.Kinds(), "proxy kinds whose images to build ("+strings.Join(targets.Kinds(), ", ")+"; none: --kinds '')")
	fs.Usage = func() { showHelp(stdout, fs, imagesHelp+fs.FlagUsages()) }
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("images takes no arguments, got %q", fs.Args())
	}
	for _, k := range *kinds {
		if !slices.Contains(targets.Kinds(), k) {
			return usagef("--kinds %q: unknown proxy kind (valid: %s)", k, strings.Join(targets.Kinds(), ", "))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d, err := compose.Detect(ctx)
	if err != nil {
		return err
	}
	sseloadImage, proxyImages := compose.NamedImages()
	imgs, err := compose.BuildImages(ctx, d, compose.BuildConfig{
		SSELoadImage: sseloadImage,
		Kinds:        *kinds,
		ProxyImages:  proxyImages,
		Binary:       selfBinary(),
		Mirror:       *mirror,
		Log:          stderr,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s=%s\n", compose.EnvSSELoadImage, imgs.SSELoad)
	for _, k := range *kinds {
		fmt.Fprintf(stdout, "%s=%s\n", compose.ImageEnv(k), imgs.Proxies[k])
	}
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
