package compose

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Environment variables that name the images instead of building them, e.g.
// NGINX_IMAGE=nginx:1.27 where a registry is reachable.
const (
	EnvNginxImage   = "NGINX_IMAGE"
	EnvSSELoadImage = "SSELOAD_IMAGE"
)

// Image repositories of the images BuildImages makes. Each build is tagged
// with a content hash, and also :latest, which docker/compose.yaml uses by
// default when run by hand.
const (
	SSELoadRepo = "sseload"
	NginxRepo   = "sseload-nginx"
)

// The nginx image's recipe. Changing any of it changes the image's tag.
// bookworm's nginx-light is nginx 1.22.1, the version docker/nginx/*.conf
// and docs/proxies.md document.
const (
	nginxSuite   = "bookworm"
	nginxVariant = "minbase"
	nginxInclude = "nginx-light"
	// DefaultMirror is the Debian mirror debootstrap fetches from.
	DefaultMirror = "http://deb.debian.org/debian"
)

// nginxChanges are applied by `docker import`. STOPSIGNAL SIGQUIT would be
// nginx's graceful stop; SIGTERM (its fast stop) is what teardown wants.
func nginxChanges() []string { return []string{`CMD ["nginx", "-g", "daemon off;"]`} }

// sseloadChanges make the static binary the image's entrypoint.
func sseloadChanges() []string {
	return []string{`ENTRYPOINT ["/sseload"]`, `CMD ["origin", "--listen", ":8080"]`}
}

// Images names the two images a compose run uses.
type Images struct {
	SSELoad string // e.g. sseload:3f9a0c1d2e4b: the origin and the load generator
	Nginx   string // e.g. sseload-nginx:77c1a0b9e2d4: nginx-stock and nginx-sse
}

// BuildConfig says which images BuildImages makes and from what.
type BuildConfig struct {
	// SSELoadImage and NginxImage, when set, are used as they are: nothing
	// is built and nothing is checked (compose pulls them if it can). The
	// callers fill them from SSELOAD_IMAGE and NGINX_IMAGE.
	SSELoadImage string
	NginxImage   string
	// SkipNginx leaves the nginx image out (a run with only the direct
	// target needs none).
	SkipNginx bool
	// Binary is a candidate sseload binary for the image, normally the
	// running sseload. It is used only if statically linked (the image has
	// no libc); otherwise one is built with CGO_ENABLED=0 from SourceDir.
	Binary string
	// SourceDir is the sseload module's root for that build; "" = searched
	// upward from the working directory.
	SourceDir string
	// Mirror is the Debian mirror for debootstrap; "" = DefaultMirror.
	Mirror string
	// Log receives one line per step; nil = discarded.
	Log io.Writer
}

// BuildImages returns the images a compose run needs, building those that
// are missing. Each is tagged with a hash of what it is made from — the
// sseload binary's bytes, the nginx recipe — so an unchanged image is reused
// at no cost, and also tagged :latest for docker/compose.yaml by hand.
//
//   - sseload: FROM scratch with one static binary at /sseload, made with
//     `docker import` from a tar stream written here (no Dockerfile, no
//     builder, nothing to pull).
//   - nginx: a Debian bookworm root made by `debootstrap --variant=minbase
//     --include=nginx-light` (needs root, and the Debian mirror; about a
//     minute) and `docker import`ed.
//
// Concurrent builds on one machine (two test packages, two terminals) are
// serialised by a lock file, so the second finds the first one's images.
func BuildImages(ctx context.Context, d *Docker, cfg BuildConfig) (Images, error) {
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	unlock, err := lockBuilds(ctx)
	if err != nil {
		return Images{}, err
	}
	defer unlock()

	var imgs Images
	if cfg.SSELoadImage != "" {
		imgs.SSELoad = cfg.SSELoadImage
	} else if imgs.SSELoad, err = buildSSELoad(ctx, d, cfg, logf); err != nil {
		return Images{}, fmt.Errorf("sseload image: %w", err)
	}
	switch {
	case cfg.NginxImage != "":
		imgs.Nginx = cfg.NginxImage
	case !cfg.SkipNginx:
		if imgs.Nginx, err = buildNginx(ctx, d, cfg, logf); err != nil {
			return Images{}, fmt.Errorf("nginx image: %w", err)
		}
	}
	return imgs, nil
}

// lockBuilds takes an exclusive lock on a file in the temp dir, waiting for
// another sseload's build if one holds it.
func lockBuilds(ctx context.Context) (func(), error) {
	path := filepath.Join(os.TempDir(), "sseload-images.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("image build lock %s: %w", path, err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("image build lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// buildSSELoad makes sure an image holding a static sseload exists.
func buildSSELoad(ctx context.Context, d *Docker, cfg BuildConfig, logf func(string, ...any)) (string, error) {
	bin := cfg.Binary
	if bin == "" || !IsStatic(bin) {
		tmp, err := os.MkdirTemp("", "sseload-bin-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(tmp)
		logf("building a static sseload binary (CGO_ENABLED=0 go build) for the sseload image")
		if bin, err = buildStatic(ctx, cfg.SourceDir, filepath.Join(tmp, "sseload")); err != nil {
			return "", err
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("read binary: %w", err)
	}
	sum := sha256.Sum256(data)
	ref := SSELoadRepo + ":" + hex.EncodeToString(sum[:])[:12]
	if d.imageExists(ctx, ref) {
		logf("image %s: up to date", ref)
	} else {
		logf("image %s: importing the static binary (FROM scratch)", ref)
		if err := d.importImage(ctx, bytes.NewReader(scratchTar(data)), ref, sseloadChanges()); err != nil {
			return "", err
		}
	}
	if _, err := d.dockerCmd(ctx, "tag", ref, SSELoadRepo+":latest"); err != nil {
		return "", err
	}
	d.pruneOlder(ctx, SSELoadRepo, ref)
	return ref, nil
}

// pruneOlder removes the repository's other content-hash tags: each
// rebuilt binary makes a new image, and old ones would pile up. Best effort:
// docker refuses to remove an image a container (another run) still uses.
func (d *Docker) pruneOlder(ctx context.Context, repo, keep string) {
	out, err := d.output(ctx, d.docker, "images", repo, "--format", "{{.Repository}}:{{.Tag}}")
	if err != nil {
		return
	}
	for _, ref := range strings.Fields(string(out)) {
		if ref != keep && ref != repo+":latest" && strings.HasPrefix(ref, repo+":") {
			_, _ = d.output(ctx, d.docker, "rmi", ref)
		}
	}
}

// scratchTar is a root file system holding only /sseload and an empty /tmp.
// Container runtimes provide /etc/hosts and /etc/resolv.conf, which is all a
// static Go binary needs to reach other services by name.
func scratchTar(bin []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mod := time.Unix(0, 0)
	// Writes to a bytes.Buffer cannot fail.
	_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: mod})
	_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "sseload", Mode: 0o755, Size: int64(len(bin)), ModTime: mod})
	_, _ = tw.Write(bin)
	_ = tw.Close()
	return buf.Bytes()
}

// IsStatic says whether path is an ELF executable without a program
// interpreter, i.e. one that runs in an image without libc.
func IsStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return f.Type == elf.ET_EXEC || f.Type == elf.ET_DYN
}

// buildStatic builds ./cmd/sseload from the module at srcDir (or found from
// the working directory) into out, with cgo off and paths trimmed so the
// same source gives the same bytes, hence the same image tag.
func buildStatic(ctx context.Context, srcDir, out string) (string, error) {
	root, err := moduleRoot(srcDir)
	if err != nil {
		return "", err
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		if _, serr := os.Stat("/usr/local/go/bin/go"); serr != nil {
			return "", errors.New("go not found in PATH: the sseload image needs a static binary; build one (CGO_ENABLED=0 go build ./cmd/sseload) and run it, or set SSELOAD_IMAGE")
		}
		gobin = "/usr/local/go/bin/go"
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-o", out, "./cmd/sseload")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("CGO_ENABLED=0 go build ./cmd/sseload in %s: %w\n%s", root, err, bytes.TrimSpace(b))
	}
	return out, nil
}

// moduleRoot finds the directory whose go.mod declares sseload's module,
// starting at dir ("" = the working directory) and going up.
func moduleRoot(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		dir = wd
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/sseload/sseload")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("the sseload image needs a static binary and %s is not inside the sseload source: run a statically linked sseload (CGO_ENABLED=0 go build ./cmd/sseload), run from the source tree, or set SSELOAD_IMAGE", dir)
		}
	}
}

// nginxTag is the nginx image's content tag: a hash of its recipe. debootstrap
// does not produce identical bytes twice, so the recipe, not the root file
// system, names the image.
func nginxTag() string {
	recipe := strings.Join(append([]string{"v1", nginxSuite, nginxVariant, nginxInclude}, nginxChanges()...), "\n")
	sum := sha256.Sum256([]byte(recipe))
	return NginxRepo + ":" + hex.EncodeToString(sum[:])[:12]
}

// buildNginx makes sure the nginx image exists, building it with
// debootstrap when it does not.
func buildNginx(ctx context.Context, d *Docker, cfg BuildConfig, logf func(string, ...any)) (string, error) {
	ref := nginxTag()
	if d.imageExists(ctx, ref) {
		logf("image %s: up to date", ref)
	} else {
		if err := debootstrapImport(ctx, d, cfg, ref, logf); err != nil {
			return "", err
		}
	}
	if _, err := d.dockerCmd(ctx, "tag", ref, NginxRepo+":latest"); err != nil {
		return "", err
	}
	return ref, nil
}

// FindDebootstrap returns the debootstrap program, or an error saying how to
// install it or avoid it.
func FindDebootstrap() (string, error) {
	if p, err := exec.LookPath("debootstrap"); err == nil {
		return p, nil
	}
	const sbin = "/usr/sbin/debootstrap"
	if _, err := os.Stat(sbin); err == nil {
		return sbin, nil
	}
	return "", errors.New("debootstrap not found: install it (apt-get install debootstrap) to build the nginx image offline, or use an image from a registry: NGINX_IMAGE=nginx:1.27")
}

// debootstrapImport builds a bookworm root with nginx-light in a temp dir
// and imports it as ref.
func debootstrapImport(ctx context.Context, d *Docker, cfg BuildConfig, ref string, logf func(string, ...any)) error {
	bin, err := FindDebootstrap()
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("debootstrap needs root to build the nginx image: run `sudo sseload images` once (later runs reuse it), or set NGINX_IMAGE=nginx:1.27")
	}
	mirror := cfg.Mirror
	if mirror == "" {
		mirror = DefaultMirror
	}
	tmp, err := os.MkdirTemp("", "sseload-nginx-root-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "root")

	logf("image %s: debootstrap %s with %s from %s (about a minute)", ref, nginxSuite, nginxInclude, mirror)
	var log bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--variant="+nginxVariant, "--include="+nginxInclude, nginxSuite, root, mirror)
	cmd.Stdout = &log
	cmd.Stderr = &log
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("debootstrap %s: %w\n%s", nginxSuite, err, lastLines(log.Bytes(), 12))
	}
	// The package cache and lists are not part of what runs (~85 MB).
	for _, glob := range []string{"var/cache/apt/archives/*.deb", "var/lib/apt/lists/*"} {
		matches, _ := filepath.Glob(filepath.Join(root, glob))
		for _, m := range matches {
			_ = os.RemoveAll(m)
		}
	}

	logf("image %s: importing the root file system", ref)
	tarCmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "-C", root, "-c", ".")
	pipe, err := tarCmd.StdoutPipe()
	if err != nil {
		return err
	}
	var tarErr bytes.Buffer
	tarCmd.Stderr = &tarErr
	if err := tarCmd.Start(); err != nil {
		return fmt.Errorf("tar: %w", err)
	}
	ierr := d.importImage(ctx, pipe, ref, nginxChanges())
	if ierr != nil {
		_ = tarCmd.Process.Kill()
	}
	werr := tarCmd.Wait()
	if ierr != nil {
		return ierr
	}
	if werr != nil {
		return fmt.Errorf("tar %s: %w: %s", root, werr, bytes.TrimSpace(tarErr.Bytes()))
	}
	return nil
}

// lastLines returns at most n last lines of b.
func lastLines(b []byte, n int) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
