// Package deploy holds the deployment files; its tests check them offline: the
// Dockerfile and compose file by parsing, the systemd units as INI, and the Helm chart
// with `helm lint --strict`, `helm template` and a strict decode of every rendered
// manifest into the Kubernetes API types, so a misspelled field fails.
package deploy

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

func TestDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms, users []string
	var healthcheck, cgoOff, embedsUI bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(line, "#") {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			froms = append(froms, line)
			users = nil // USER applies to the current stage
		case "USER":
			users = append(users, fields[1])
		case "HEALTHCHECK":
			healthcheck = true
		case "ADD":
			if strings.Contains(line, "http://") || strings.Contains(line, "https://") {
				t.Errorf("remote ADD: %s", line)
			}
		case "RUN":
			cgoOff = cgoOff || strings.Contains(line, "CGO_ENABLED=0")
		case "COPY":
			embedsUI = embedsUI || strings.Contains(line, "--from=web")
		}
	}
	if len(froms) < 3 {
		t.Errorf("want a multi-stage build (web, go, runtime), got %d stages", len(froms))
	}
	if !strings.Contains(froms[len(froms)-1], "distroless") && !strings.Contains(froms[len(froms)-1], "scratch") {
		t.Errorf("final stage is not minimal: %s", froms[len(froms)-1])
	}
	if len(users) == 0 || users[len(users)-1] == "root" || users[len(users)-1] == "0" {
		t.Errorf("final stage must run as a non-root USER, got %v", users)
	}
	if !healthcheck || !cgoOff || !embedsUI {
		t.Errorf("healthcheck=%v static=%v embeds UI=%v", healthcheck, cgoOff, embedsUI)
	}
}

func TestCompose(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image       string         `yaml:"image"`
			Command     []string       `yaml:"command"`
			Environment map[string]any `yaml:"environment"`
			Healthcheck *struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			DependsOn map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Restart string `yaml:"restart"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"postgres", "redis", "minio", "migrate", "api", "worker"} {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("service %s missing", name)
			continue
		}
		if s.Healthcheck == nil && name != "migrate" {
			t.Errorf("service %s has no healthcheck", name)
		}
	}
	if c.Services["migrate"].Restart != "no" {
		t.Error("migrate must be one-shot")
	}
	for _, svc := range []string{"api", "worker"} {
		if c.Services[svc].DependsOn["migrate"].Condition != "service_completed_successfully" {
			t.Errorf("%s must wait for migrations", svc)
		}
	}
	for _, v := range []string{"pgdata", "redisdata", "miniodata"} {
		if _, ok := c.Volumes[v]; !ok {
			t.Errorf("named volume %s missing", v)
		}
	}
	// Secrets come from the env file: no literal passwords or keys.
	secretish := regexp.MustCompile(`(?i)(password|secret|key)`)
	for name, s := range c.Services {
		for k, v := range s.Environment {
			str, _ := v.(string)
			if secretish.MatchString(k) && !strings.Contains(str, "${") {
				t.Errorf("%s: %s has a literal value", name, k)
			}
		}
	}
}

func TestSystemdUnits(t *testing.T) {
	t.Parallel()
	for unit, cmd := range map[string]string{"xinqiao-api.service": "serve", "xinqiao-worker.service": "worker", "xinqiao-migrate.service": "migrate"} {
		b, err := os.ReadFile(filepath.Join("systemd", unit))
		if err != nil {
			t.Fatal(err)
		}
		kv := map[string]string{}
		section := ""
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "["):
				section = strings.Trim(line, "[]")
			default:
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					t.Fatalf("%s: not INI: %q", unit, line)
				}
				kv[section+"."+k] = v
			}
		}
		if !strings.HasSuffix(kv["Service.ExecStart"], " "+cmd) {
			t.Errorf("%s: ExecStart %q", unit, kv["Service.ExecStart"])
		}
		for _, k := range []string{"Service.EnvironmentFile", "Service.User", "Service.NoNewPrivileges", "Service.ProtectSystem", "Service.PrivateTmp"} {
			if kv[k] == "" {
				t.Errorf("%s: %s missing", unit, k)
			}
		}
	}
}

// helm returns the helm binary, building it once into the cache when missing.
func helm(t *testing.T) string {
	t.Helper()
	cache := os.Getenv("XINQIAO_CACHE_DIR")
	if cache == "" {
		cache = "/var/tmp/xinqiao-cache"
	}
	bin := filepath.Join(cache, "bin", "helm")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "install", "helm.sh/helm/v3/cmd/helm@v3.22.0")
	cmd.Env = append(os.Environ(), "GOBIN="+filepath.Dir(bin), "GOFLAGS=-mod=mod")
	cmd.Dir = os.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build helm: %v\n%s", err, out)
	}
	return bin
}

func runHelm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	cmd.Dir = ".."
	return cmd.CombinedOutput()
}

func TestHelmChart(t *testing.T) {
	for _, values := range []string{"", "charts/xinqiao/ci/production-values.yaml"} {
		name := values
		if name == "" {
			name = "defaults"
		}
		t.Run(name, func(t *testing.T) {
			args := []string{"lint", "--strict", "charts/xinqiao"}
			tmpl := []string{"template", "xq", "charts/xinqiao", "--namespace", "xinqiao"}
			if values != "" {
				args = append(args, "-f", values)
				tmpl = append(tmpl, "-f", values)
			}
			if out, err := runHelm(t, args...); err != nil {
				t.Fatalf("helm lint: %v\n%s", err, out)
			}
			out, err := runHelm(t, tmpl...)
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, out)
			}
			checkManifests(t, out, values != "")
		})
	}
	bad, _ := filepath.Glob("../charts/xinqiao/ci/bad/*.yaml")
	if len(bad) < 5 {
		t.Fatalf("want bad values files, found %d", len(bad))
	}
	for _, f := range bad {
		if out, err := runHelm(t, "template", "xq", "charts/xinqiao", "-f", strings.TrimPrefix(f, "../")); err == nil {
			t.Errorf("%s: bad values rendered without error:\n%.300s", f, out)
		}
	}
}

func strict(t *testing.T, doc []byte, into any) {
	t.Helper()
	if err := sigsyaml.UnmarshalStrict(doc, into); err != nil {
		t.Fatalf("strict decode: %v\n%s", err, doc)
	}
}

func checkManifests(t *testing.T, out []byte, production bool) {
	kinds := map[string]int{}
	var deployments []appsv1.Deployment
	var job *batchv1.Job
	var hpa *autoscalingv2.HorizontalPodAutoscaler
	for _, doc := range bytes.Split(out, []byte("\n---")) {
		var meta struct {
			Kind string `json:"kind"`
		}
		if err := sigsyaml.Unmarshal(doc, &meta); err != nil {
			t.Fatal(err)
		}
		if meta.Kind == "" {
			continue
		}
		kinds[meta.Kind]++
		switch meta.Kind {
		case "Deployment":
			var d appsv1.Deployment
			strict(t, doc, &d)
			deployments = append(deployments, d)
		case "Job":
			job = &batchv1.Job{}
			strict(t, doc, job)
		case "HorizontalPodAutoscaler":
			hpa = &autoscalingv2.HorizontalPodAutoscaler{}
			strict(t, doc, hpa)
		case "Service":
			strict(t, doc, &corev1.Service{})
		case "ConfigMap":
			strict(t, doc, &corev1.ConfigMap{})
		case "Secret":
			var s corev1.Secret
			strict(t, doc, &s)
			if production {
				t.Error("production renders no Secret: it uses existingSecret")
			}
		case "ServiceAccount":
			strict(t, doc, &corev1.ServiceAccount{})
		case "PodDisruptionBudget":
			strict(t, doc, &policyv1.PodDisruptionBudget{})
		case "NetworkPolicy":
			strict(t, doc, &networkingv1.NetworkPolicy{})
		case "Ingress":
			strict(t, doc, &networkingv1.Ingress{})
		case "ServiceMonitor":
			var sm struct {
				APIVersion string         `json:"apiVersion"`
				Kind       string         `json:"kind"`
				Metadata   map[string]any `json:"metadata"`
				Spec       struct {
					Selector  map[string]any `json:"selector"`
					Endpoints []struct {
						Port     string `json:"port"`
						Path     string `json:"path"`
						Interval string `json:"interval"`
					} `json:"endpoints"`
				} `json:"spec"`
			}
			strict(t, doc, &sm)
		default:
			t.Errorf("unexpected kind %s", meta.Kind)
		}
	}
	for _, k := range []string{"Deployment", "Job", "Service", "ConfigMap", "ServiceAccount", "PodDisruptionBudget", "NetworkPolicy", "HorizontalPodAutoscaler"} {
		if kinds[k] == 0 {
			t.Errorf("no %s rendered", k)
		}
	}
	if production && (kinds["Ingress"] == 0 || kinds["ServiceMonitor"] == 0) {
		t.Error("production values enable an Ingress and a ServiceMonitor")
	}
	if len(deployments) != 2 {
		t.Fatalf("want api and worker deployments, got %d", len(deployments))
	}
	pods := []corev1.PodSpec{job.Spec.Template.Spec}
	for _, d := range deployments {
		pods = append(pods, d.Spec.Template.Spec)
		if d.Name == "xq-xinqiao-api" {
			c := d.Spec.Template.Spec.Containers[0]
			if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Error("api probes must be /healthz and /readyz")
			}
		}
	}
	for _, p := range pods {
		if p.SecurityContext == nil || p.SecurityContext.RunAsNonRoot == nil || !*p.SecurityContext.RunAsNonRoot {
			t.Error("pod must run as non-root")
		}
		for _, c := range p.Containers {
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
				sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("container %s: non-root, read-only root filesystem, no privilege escalation required", c.Name)
			}
		}
	}
	if job.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" {
		t.Errorf("migration job hook: %q", job.Annotations["helm.sh/hook"])
	}
	if hpa.Spec.ScaleTargetRef.Name != "xq-xinqiao-api" || hpa.Spec.ScaleTargetRef.Kind != "Deployment" {
		t.Errorf("HPA targets %+v", hpa.Spec.ScaleTargetRef)
	}
}
