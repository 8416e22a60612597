package compose

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sseload/sseload/targets"
	"github.com/sseload/sseload/topology"
)

// Environment variables that name the images instead of building them, e.g.
// NGINX_IMAGE=nginx:1.27 where a registry is reachable. Each proxy kind has
// one, <KIND>_IMAGE (ImageEnv).
const (
	EnvSSELoadImage = "SSELOAD_IMAGE"
	EnvNginxImage   = "NGINX_IMAGE"
	EnvHAProxyImage = "HAPROXY_IMAGE"
	EnvCaddyImage   = "CADDY_IMAGE"
)

// ImageEnv is the environment variable that names kind's image instead of
// building it: NGINX_IMAGE, HAPROXY_IMAGE, CADDY_IMAGE.
func ImageEnv(kind string) string { return strings.ToUpper(kind) + "_IMAGE" }

// SSELoadRepo is the repository of the sseload image BuildImages makes.
// Each build is tagged with a content hash, and also :latest, which
// docker/compose.yaml uses by default when run by hand.
const SSELoadRepo = "sseload"

// ProxyRepo is the repository of kind's image: sseload-nginx,
// sseload-haproxy, sseload-caddy. Tagged like SSELoadRepo.
func ProxyRepo(kind string) string { return "sseload-" + kind }

// NginxRepo is ProxyRepo(targets.Nginx), the image docker/compose.yaml's
// nginx services run by hand.
const NginxRepo = "sseload-nginx"

// The proxy images' recipe: a Debian root with the kind's package
// (topology.Kind.Package: nginx-light, haproxy, caddy). Changing any of it
// changes the images' tags. bookworm's packages are the versions the preset
// configs and docs/proxies.md document: nginx 1.22.1, HAProxy 2.6.12,
// Caddy 2.6.2.
const (
	debianSuite   = "bookworm"
	debianVariant = "minbase"
	// recipeVersion names this way of building; bump it when the build
	// changes in a way the other parts of the recipe do not show.
	recipeVersion = "v2"
	// DefaultMirror is the Debian mirror debootstrap fetches from.
	DefaultMirror = "http://deb.debian.org/debian"
)

// proxyChanges are applied by `docker import`: the default command prints
// the program's version (the compose topology always gives its own command;
// by hand, `docker run --rm sseload-haproxy` says what is inside).
func proxyChanges(k topology.Kind) []string {
	cmd, _ := json.Marshal(append([]string{k.Binary()}, k.VersionArgs()...))
	return []string{"CMD " + string(cmd)}
}

// sseloadChanges make the static binary the image's entrypoint.
func sseloadChanges() []string {
	return []string{`ENTRYPOINT ["/sseload"]`, `CMD ["origin", "--listen", ":8080"]`}
}

// Images names the images a compose run uses.
type Images struct {
	SSELoad string // e.g. sseload:3f9a0c1d2e4b: the origin and the load generator
	// Proxies maps a proxy kind (targets.Nginx, …) to its image, e.g.
	// "nginx" → sseload-nginx:77c1a0b9e2d4; only the kinds the run needs.
	Proxies map[string]string
}

// BuildConfig says which images BuildImages makes and from what.
type BuildConfig struct {
	// SSELoadImage, when set, is used as it is: nothing is built and
	// nothing is checked (compose pulls it if it can). The callers fill it
	// from SSELOAD_IMAGE.
	SSELoadImage string
	// Kinds are the proxy kinds whose images are needed (targets.Kinds()
	// for all); none for a run with only the direct target.
	Kinds []string
	// ProxyImages maps a kind to an image to use as it is, like
	// SSELoadImage; the callers fill it from <KIND>_IMAGE (NamedImages).
	ProxyImages map[string]string
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

// NamedImages reads the images the user named in the environment:
// SSELOAD_IMAGE, and <KIND>_IMAGE for each proxy kind that has one.
func NamedImages() (sseload string, proxies map[string]string) {
	proxies = map[string]string{}
	for _, k := range targets.Kinds() {
		if v := os.Getenv(ImageEnv(k)); v != "" {
			proxies[k] = v
		}
	}
	return os.Getenv(EnvSSELoadImage), proxies
}

// BuildImages returns the images a compose run needs, building those that
// are missing. Each is tagged with a hash of what it is made from — the
// sseload binary's bytes, a proxy image's recipe — so an unchanged image is
// reused at no cost, and also tagged :latest for docker/compose.yaml by hand.
//
//   - sseload: FROM scratch with one static binary at /sseload, made with
//     `docker import` from a tar stream written here (no Dockerfile, no
//     builder, nothing to pull).
//   - one per proxy kind in cfg.Kinds: a Debian bookworm root made by
//     `debootstrap --variant=minbase --include=PACKAGE` (needs root, and the
//     Debian mirror; 40 to 50 s each, about a minute for all three side by
//     side) and `docker import`ed.
//
// Concurrent builds on one machine (two test packages, two terminals) are
// serialised by a lock file, so the second finds the first one's images.
func BuildImages(ctx context.Context, d *Docker, cfg BuildConfig) (Images, error) {
	var logMu sync.Mutex
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			logMu.Lock()
			defer logMu.Unlock()
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	kinds := make([]topology.Kind, 0, len(cfg.Kinds))
	for _, name := range cfg.Kinds {
		k, err := topology.KindOf(name)
		if err != nil {
			return Images{}, err
		}
		if !slices.ContainsFunc(kinds, func(o topology.Kind) bool { return o.Name() == name }) {
			kinds = append(kinds, k)
		}
	}
	unlock, err := lockBuilds(ctx)
	if err != nil {
		return Images{}, err
	}
	defer unlock()

	// The builds are independent, and each mostly waits (the mirror, dpkg,
	// the engine's import): they run side by side, the first failure
	// cancelling the rest.
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
	)
	imgs := Images{SSELoad: cfg.SSELoadImage, Proxies: map[string]string{}}
	build := func(what string, f func() (string, error), set func(string)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref, err := f()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = fmt.Errorf("%s image: %w", what, err)
				}
				cancel()
				return
			}
			set(ref)
		}()
	}
	if imgs.SSELoad == "" {
		build("sseload", func() (string, error) { return buildSSELoad(bctx, d, cfg, logf) }, func(ref string) { imgs.SSELoad = ref })
	}
	for _, k := range kinds {
		if named := cfg.ProxyImages[k.Name()]; named != "" {
			imgs.Proxies[k.Name()] = named
			continue
		}
		build(k.Name(), func() (string, error) { return buildProxy(bctx, d, k, cfg, logf) }, func(ref string) { imgs.Proxies[k.Name()] = ref })
	}
	wg.Wait()
	if first != nil {
		return Images{}, first
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
		held, err := tryLock(f)
		if held {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if err != nil {
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

// proxyTag is kind's image tag: a hash of its recipe. debootstrap does not
// produce identical bytes twice, so the recipe, not the root file system,
// names the image.
func proxyTag(k topology.Kind) string {
	recipe := strings.Join(append([]string{recipeVersion, debianSuite, debianVariant, k.Package()}, proxyChanges(k)...), "\n")
	sum := sha256.Sum256([]byte(recipe))
	return ProxyRepo(k.Name()) + ":" + hex.EncodeToString(sum[:])[:12]
}

// buildProxy makes sure kind's image exists, building it with debootstrap
// when it does not.
func buildProxy(ctx context.Context, d *Docker, k topology.Kind, cfg BuildConfig, logf func(string, ...any)) (string, error) {
	ref := proxyTag(k)
	if d.imageExists(ctx, ref) {
		logf("image %s: up to date", ref)
	} else {
		start := time.Now()
		if err := debootstrapImport(ctx, d, k, cfg, ref, logf); err != nil {
			return "", err
		}
		logf("image %s: built in %s", ref, time.Since(start).Round(time.Second))
	}
	if _, err := d.dockerCmd(ctx, "tag", ref, ProxyRepo(k.Name())+":latest"); err != nil {
		return "", err
	}
	d.pruneOlder(ctx, ProxyRepo(k.Name()), ref)
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
	return "", errors.New("debootstrap not found: install it (apt-get install debootstrap) to build the proxy images offline, or use images from a registry: NGINX_IMAGE=nginx:1.27 (likewise HAPROXY_IMAGE, CADDY_IMAGE)")
}

// debootstrapImport builds a bookworm root with kind's package in a temp
// dir and imports it as ref.
func debootstrapImport(ctx context.Context, d *Docker, k topology.Kind, cfg BuildConfig, ref string, logf func(string, ...any)) error {
	bin, err := FindDebootstrap()
	if err != nil {
		return err
	}
	env := ImageEnv(k.Name())
	if os.Geteuid() != 0 {
		return fmt.Errorf("debootstrap needs root to build the %s image: run `sudo sseload images` once (later runs reuse it), or name an image in %s", k.Name(), env)
	}
	mirror := cfg.Mirror
	if mirror == "" {
		mirror = DefaultMirror
	}
	tmp, err := os.MkdirTemp("", "sseload-"+k.Name()+"-root-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "root")

	logf("image %s: debootstrap %s with %s from %s (about a minute)", ref, debianSuite, k.Package(), mirror)
	var log bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--variant="+debianVariant, "--include="+k.Package(), debianSuite, root, mirror)
	cmd.Stdout = &log
	cmd.Stderr = &log
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("debootstrap %s with %s: %w\n%s", debianSuite, k.Package(), err, lastLines(log.Bytes(), 12))
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
	ierr := d.importImage(ctx, pipe, ref, proxyChanges(k))
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
