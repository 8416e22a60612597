package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/sseload/sseload/compose"
	"github.com/sseload/sseload/scenarios"
)

// kubernetesDir holds the Kubernetes manifests (docs/distributed.md).
const kubernetesDir = "../../deploy/kubernetes"

// The Secret the manifests read the workers' token from (into tokenEnv,
// which `sseload worker` and `sseload run` read); workers.yaml says how to
// create it.
const (
	tokenSecret = "sseload-token"
	tokenKey    = "token"
)

// manifests is every object of deploy/kubernetes, decoded strictly.
type manifests struct {
	configMaps   map[string]corev1.ConfigMap
	services     map[string]corev1.Service
	claims       map[string]corev1.PersistentVolumeClaim
	deployments  map[string]appsv1.Deployment
	statefulSets map[string]appsv1.StatefulSet
	jobs         map[string]batchv1.Job
	text         map[string]string // file name → its text
}

// loadManifests decodes every document of every .yaml file into its
// k8s.io/api type; an unknown kind or field, or a duplicate key, is an
// error (sigs.k8s.io/yaml's strict mode): a typo'd field would be dropped
// silently by kubectl apply of old clusters, or refused by new ones.
func loadManifests(t *testing.T) manifests {
	t.Helper()
	m := manifests{
		configMaps: map[string]corev1.ConfigMap{}, services: map[string]corev1.Service{},
		claims: map[string]corev1.PersistentVolumeClaim{}, deployments: map[string]appsv1.Deployment{},
		statefulSets: map[string]appsv1.StatefulSet{}, jobs: map[string]batchv1.Job{}, text: map[string]string{},
	}
	files, err := filepath.Glob(filepath.Join(kubernetesDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", kubernetesDir, err)
	}
	docSep := regexp.MustCompile(`(?m)^---\s*$`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m.text[filepath.Base(f)] = string(b)
		for i, doc := range docSep.Split(string(b), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			where := fmt.Sprintf("%s, document %d", filepath.Base(f), i+1)
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			strict := func(into any) {
				if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
					t.Fatalf("%s (%s): %v", where, tm.Kind, err)
				}
			}
			switch tm.APIVersion + " " + tm.Kind {
			case "v1 ConfigMap":
				var o corev1.ConfigMap
				strict(&o)
				m.configMaps[o.Name] = o
			case "v1 Service":
				var o corev1.Service
				strict(&o)
				m.services[o.Name] = o
			case "v1 PersistentVolumeClaim":
				var o corev1.PersistentVolumeClaim
				strict(&o)
				m.claims[o.Name] = o
			case "apps/v1 Deployment":
				var o appsv1.Deployment
				strict(&o)
				m.deployments[o.Name] = o
			case "apps/v1 StatefulSet":
				var o appsv1.StatefulSet
				strict(&o)
				m.statefulSets[o.Name] = o
			case "batch/v1 Job":
				var o batchv1.Job
				strict(&o)
				m.jobs[o.Name] = o
			default:
				t.Fatalf("%s: kind %q %q: not one the test knows; add it", where, tm.APIVersion, tm.Kind)
			}
		}
	}
	return m
}

func stripComments(doc string) string {
	var out []string
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// argValues are the values of --name in args (--name=V or --name V), and
// every value when repeated.
func argValues(args []string, name string) []string {
	var out []string
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			out = append(out, v)
		} else if a == "--"+name && i+1 < len(args) {
			out = append(out, args[i+1])
		}
	}
	return out
}

func argValue(t *testing.T, where string, args []string, name string) string {
	t.Helper()
	vs := argValues(args, name)
	if len(vs) != 1 {
		t.Fatalf("%s: args %q: want --%s once, have %q", where, args, name, vs)
	}
	return vs[0]
}

// envRef is a $(VAR) reference in a container's args, which the kubelet
// expands from the container's env.
var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// parseWithCLI runs `sseload args... --help` through the real command
// table: the real flag set of the command parses every flag and its value
// (a renamed or removed flag, or a value its flag refuses, is a usage
// error), then --help stops it before it does anything. vars replace the
// $(VAR) references, as the kubelet would.
func parseWithCLI(t *testing.T, where string, args []string, vars map[string]string) {
	t.Helper()
	expanded := make([]string, len(args))
	for i, a := range args {
		expanded[i] = envRef.ReplaceAllStringFunc(a, func(ref string) string {
			v, ok := vars[envRef.FindStringSubmatch(ref)[1]]
			if !ok {
				t.Fatalf("%s: %s: no value for %s", where, a, ref)
			}
			return v
		})
	}
	var stderr bytes.Buffer
	if code := run(append(expanded, "--help"), io.Discard, &stderr); code != exitOK {
		t.Errorf("%s: `sseload %s` is refused by the real flags (exit %d): %s", where, strings.Join(expanded, " "), code, strings.TrimSpace(stderr.String()))
	}
}

// container is one container of the manifests with where it is.
type container struct {
	where string
	pod   corev1.PodSpec
	c     corev1.Container
}

func (m manifests) containers() []container {
	var out []container
	add := func(kind, name string, pod corev1.PodSpec) {
		for _, c := range pod.Containers {
			out = append(out, container{where: kind + "/" + name + " container " + c.Name, pod: pod, c: c})
		}
	}
	for n, o := range m.deployments {
		add("deployment", n, o.Spec.Template.Spec)
	}
	for n, o := range m.statefulSets {
		add("statefulset", n, o.Spec.Template.Spec)
	}
	for n, o := range m.jobs {
		add("job", n, o.Spec.Template.Spec)
	}
	return out
}

// env is the container's environment variable name, if it has it.
func env(c corev1.Container, name string) (corev1.EnvVar, bool) {
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
	if i < 0 {
		return corev1.EnvVar{}, false
	}
	return c.Env[i], true
}

// TestKubernetesManifests checks deploy/kubernetes against the CLI and
// itself: every container runs the sseload image with args the real flag
// sets accept and resource requests; the token comes from the Secret
// workers.yaml says to create; the workers listen on the port of the
// headless Service the coordinator's --workers names; the scenario is
// mounted where the args read it, from a ConfigMap holding a valid
// scenario; the --target is the origin Service's port; the Indexed Job's
// --segment has N equal to its completions, each index writes its own
// directory and the merge Job reads exactly those.
func TestKubernetesManifests(t *testing.T) {
	m := loadManifests(t)
	cs := m.containers()
	byCommand := map[string][]container{}
	for _, c := range cs {
		where := c.where
		repo, _, _ := strings.Cut(path.Base(c.c.Image), ":")
		if repo != compose.SSELoadRepo {
			t.Errorf("%s: image %q, want the %s image", where, c.c.Image, compose.SSELoadRepo)
		}
		if len(c.c.Command) != 0 {
			t.Errorf("%s: command %q replaces the image's entrypoint (/sseload): give args only", where, c.c.Command)
		}
		req := c.c.Resources.Requests
		if req.Cpu().IsZero() || req.Memory().IsZero() {
			t.Errorf("%s: resource requests %v: want cpu and memory", where, req)
		}
		if len(c.c.Args) == 0 {
			t.Fatalf("%s: no args", where)
		}
		byCommand[c.c.Args[0]] = append(byCommand[c.c.Args[0]], c)

		// Every $(VAR) is defined in the container's env.
		vars := map[string]string{}
		for _, a := range c.c.Args {
			for _, ref := range envRef.FindAllStringSubmatch(a, -1) {
				e, ok := env(c.c, ref[1])
				if !ok {
					t.Errorf("%s: %s: %s is not in the container's env, so it is not expanded", where, a, ref[0])
				}
				switch {
				case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && strings.Contains(e.ValueFrom.FieldRef.FieldPath, "job-completion-index"):
					vars[ref[1]] = "0"
				default:
					vars[ref[1]] = "sseload-pod-x7k2q"
				}
			}
		}
		parseWithCLI(t, where, c.c.Args, vars)

		// The token only ever from the Secret, never in args.
		if e, ok := env(c.c, tokenEnv); ok {
			ref := e.ValueFrom
			if e.Value != "" || ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != tokenSecret || ref.SecretKeyRef.Key != tokenKey {
				t.Errorf("%s: %s %+v: want it from Secret %s key %s", where, tokenEnv, e, tokenSecret, tokenKey)
			}
		}
		if len(argValues(c.c.Args, "token")) > 0 {
			t.Errorf("%s: --token in args: the token belongs in %s from the Secret", where, tokenEnv)
		}

		// The scenario, if read, is mounted from a ConfigMap key that holds
		// a valid scenario.
		if c.c.Args[0] == "run" {
			checkScenarioMount(t, m, c)
		}
		// Every claim named exists.
		for _, v := range c.pod.Volumes {
			if pvc := v.PersistentVolumeClaim; pvc != nil {
				if _, ok := m.claims[pvc.ClaimName]; !ok {
					t.Errorf("%s: volume %s: no PersistentVolumeClaim %s", where, v.Name, pvc.ClaimName)
				}
			}
		}
	}
	if !strings.Contains(m.text["workers.yaml"], "kubectl create secret generic "+tokenSecret+" --from-literal="+tokenKey+"=") {
		t.Errorf("workers.yaml does not say how to create Secret %s with key %s", tokenSecret, tokenKey)
	}

	// The workers: a StatefulSet governed by the headless Service whose port
	// is the one they listen on, and which the coordinator names.
	workers := byCommand["worker"]
	if len(workers) != 1 {
		t.Fatalf("%d worker containers, want 1", len(workers))
	}
	w := workers[0]
	if _, ok := env(w.c, tokenEnv); !ok {
		t.Errorf("%s: no %s: a worker listening on a pod address needs the token", w.where, tokenEnv)
	}
	listenPort := port(t, w.where, argValue(t, w.where, w.c.Args, "listen"))
	var ss appsv1.StatefulSet
	for _, s := range m.statefulSets {
		ss = s
	}
	svc, ok := m.services[ss.Spec.ServiceName]
	if !ok {
		t.Fatalf("statefulset %s: serviceName %q names no Service", ss.Name, ss.Spec.ServiceName)
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("service %s: clusterIP %q, want None (headless: its DNS name gives every worker's address)", svc.Name, svc.Spec.ClusterIP)
	}
	checkServiceSelects(t, svc, ss.Spec.Template.Labels, w.c, listenPort)

	coords := slices.DeleteFunc(slices.Clone(byCommand["run"]), func(c container) bool { return len(argValues(c.c.Args, "workers")) == 0 })
	if len(coords) != 1 {
		t.Fatalf("%d coordinators (run --workers), want 1", len(coords))
	}
	co := coords[0]
	if want := fmt.Sprintf("dns:%s:%d", svc.Name, svc.Spec.Ports[0].Port); argValue(t, co.where, co.c.Args, "workers") != want {
		t.Errorf("%s: --workers %s, want %s (the headless Service and its port)", co.where, argValue(t, co.where, co.c.Args, "workers"), want)
	}
	if _, ok := env(co.c, tokenEnv); !ok {
		t.Errorf("%s: no %s: the workers refuse a coordinator without the token", co.where, tokenEnv)
	}

	// Every --target is the origin's Service, on its port, which is the
	// one the origin listens on.
	origins := byCommand["origin"]
	if len(origins) != 1 {
		t.Fatalf("%d origin containers, want 1", len(origins))
	}
	o := origins[0]
	originPort := port(t, o.where, argValue(t, o.where, o.c.Args, "listen"))
	var dep appsv1.Deployment
	for _, d := range m.deployments {
		dep = d
	}
	for _, c := range byCommand["run"] {
		for _, tg := range argValues(c.c.Args, "target") {
			_, u, _ := strings.Cut(tg, "=")
			host, p, err := net.SplitHostPort(strings.TrimPrefix(strings.SplitN(strings.TrimPrefix(u, "http://"), "/", 2)[0], ""))
			if err != nil {
				t.Fatalf("%s: --target %s: %v", c.where, tg, err)
			}
			osvc, ok := m.services[host]
			if !ok {
				t.Errorf("%s: --target %s: no Service %s", c.where, tg, host)
				continue
			}
			if len(osvc.Spec.Ports) != 1 || strconv.Itoa(int(osvc.Spec.Ports[0].Port)) != p {
				t.Errorf("%s: --target %s: Service %s ports %+v", c.where, tg, host, osvc.Spec.Ports)
			}
			checkServiceSelects(t, osvc, dep.Spec.Template.Labels, o.c, originPort)
		}
	}

	// The Indexed Job and its merge.
	var segments []batchv1.Job
	for _, j := range m.jobs {
		if j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion {
			segments = append(segments, j)
		}
	}
	if len(segments) != 1 {
		t.Fatalf("%d Indexed Jobs, want 1", len(segments))
	}
	seg := segments[0]
	sc := seg.Spec.Template.Spec.Containers[0]
	n := int(*seg.Spec.Completions)
	if seg.Spec.Parallelism == nil || int(*seg.Spec.Parallelism) != n {
		t.Errorf("job %s: parallelism %v, completions %d: the segments must run at the same time", seg.Name, seg.Spec.Parallelism, n)
	}
	if got, want := argValue(t, seg.Name, sc.Args, "segment"), fmt.Sprintf("$(JOB_COMPLETION_INDEX)/%d", n); got != want {
		t.Errorf("job %s: --segment %s, want %s", seg.Name, got, want)
	}
	for i := range n { // each index's args parse, not only index 0's
		parseWithCLI(t, fmt.Sprintf("job %s index %d", seg.Name, i), sc.Args, map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(i)})
	}
	segOut := argValue(t, seg.Name, sc.Args, "out")
	if !strings.Contains(segOut, "$(JOB_COMPLETION_INDEX)") {
		t.Errorf("job %s: --out %s: each index needs its own directory", seg.Name, segOut)
	}
	merges := byCommand["merge"]
	if len(merges) != 1 {
		t.Fatalf("%d merge containers, want 1", len(merges))
	}
	mg := merges[0]
	var want []string
	for i := range n {
		want = append(want, strings.ReplaceAll(segOut, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i)))
	}
	var dirs []string
	for i := 1; i < len(mg.c.Args); i++ {
		a := mg.c.Args[i]
		if strings.HasPrefix(a, "--") {
			if !strings.Contains(a, "=") {
				i++
			}
			continue
		}
		dirs = append(dirs, a)
	}
	if !slices.Equal(dirs, want) {
		t.Errorf("%s: merges %q, want the segments' %q", mg.where, dirs, want)
	}
	if slices.Contains(want, argValue(t, mg.where, mg.c.Args, "out")) {
		t.Errorf("%s: --out is one of its inputs", mg.where)
	}
}

// port is the port of a --listen address.
func port(t *testing.T, where, listen string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatalf("%s: --listen %s: %v", where, listen, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("%s: --listen %s: %v", where, listen, err)
	}
	return n
}

// checkServiceSelects: svc selects pods with labels, and its (only) port
// reaches c's containerPort listenPort, by number or by name.
func checkServiceSelects(t *testing.T, svc corev1.Service, labels map[string]string, c corev1.Container, listenPort int) {
	t.Helper()
	for k, v := range svc.Spec.Selector {
		if labels[k] != v {
			t.Errorf("service %s: selector %s=%s does not select the pods (labels %v)", svc.Name, k, v, labels)
		}
	}
	if len(svc.Spec.Selector) == 0 {
		t.Errorf("service %s selects nothing", svc.Name)
	}
	if len(svc.Spec.Ports) != 1 {
		t.Fatalf("service %s: %d ports, want 1", svc.Name, len(svc.Spec.Ports))
	}
	tp := svc.Spec.Ports[0].TargetPort
	i := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool {
		return int(p.ContainerPort) == listenPort && (tp.String() == p.Name || tp.IntValue() == listenPort)
	})
	if i < 0 {
		t.Errorf("service %s: targetPort %s does not reach the container's port %d (--listen; ports %+v)", svc.Name, tp.String(), listenPort, c.Ports)
	}
}

// checkScenarioMount: the run's scenario argument is a file in a mounted
// ConfigMap volume, under the key of its name, and that key holds a
// scenario sseload loads.
func checkScenarioMount(t *testing.T, m manifests, c container) {
	t.Helper()
	args := c.c.Args[1:]
	// The first argument not a flag is the scenario (every flag here is
	// written --name=value or is a switch).
	i := slices.IndexFunc(args, func(a string) bool { return !strings.HasPrefix(a, "-") })
	if i < 0 {
		t.Errorf("%s: run without a scenario file", c.where)
		return
	}
	file := args[i]
	var volume string
	for _, vm := range c.c.VolumeMounts {
		if path.Dir(file) == path.Clean(vm.MountPath) {
			volume = vm.Name
		}
	}
	if volume == "" {
		t.Errorf("%s: scenario %s is on no mounted volume (mounts %+v)", c.where, file, c.c.VolumeMounts)
		return
	}
	vi := slices.IndexFunc(c.pod.Volumes, func(v corev1.Volume) bool { return v.Name == volume })
	if vi < 0 || c.pod.Volumes[vi].ConfigMap == nil {
		t.Errorf("%s: volume %s is not a ConfigMap", c.where, volume)
		return
	}
	cm, ok := m.configMaps[c.pod.Volumes[vi].ConfigMap.Name]
	if !ok {
		t.Errorf("%s: no ConfigMap %s", c.where, c.pod.Volumes[vi].ConfigMap.Name)
		return
	}
	data, ok := cm.Data[path.Base(file)]
	if !ok {
		t.Errorf("%s: ConfigMap %s has no key %s", c.where, cm.Name, path.Base(file))
		return
	}
	if _, err := scenarios.Parse(file, []byte(data)); err != nil {
		t.Errorf("%s: ConfigMap %s key %s: %v", c.where, cm.Name, path.Base(file), err)
	}
}
