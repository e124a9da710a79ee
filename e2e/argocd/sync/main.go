// argocd-sync syncs one unit's manifests the way Argo CD's application controller does:
// through Argo CD's own sync engine (github.com/argoproj/gitops-engine pkg/sync: sync waves,
// sync options, a wait for health between waves) with resource health from Argo CD's
// own Lua runner (argo-cd util/lua) for the kinds mtvgen ships a script for. Nothing of
// either project is copied here: both are module dependencies pinned in ../go.mod.
//
// Usage: argocd-sync -kubeconfig FILE -scripts DIR -timeout 60s < manifests.yaml
// DIR holds <Kind>.lua (from `mtvgen health-checks`). It prints one JSON object: the
// operation's phase and message and, per resource, its sync status, the wave it was in
// and its health when the sync ended; it exits 0 when the sync succeeded, 1 when it
// failed or timed out (the JSON says which), 2 on bad input.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/argoproj/argo-cd/v3/util/lua"
	"github.com/argoproj/gitops-engine/pkg/cache"
	"github.com/argoproj/gitops-engine/pkg/health"
	"github.com/argoproj/gitops-engine/pkg/sync"
	"github.com/argoproj/gitops-engine/pkg/sync/common"
	"github.com/argoproj/gitops-engine/pkg/sync/syncwaves"
	"github.com/argoproj/gitops-engine/pkg/utils/kube"
	"github.com/argoproj/gitops-engine/pkg/utils/tracing"
	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/tools/clientcmd"
)

// luaHealth answers health as Argo CD does with resource customizations installed:
// the kind's Lua script when there is one, else the engine's built-in assessment.
type luaHealth struct{ scripts map[string]string }

func (h luaHealth) GetResourceHealth(obj *unstructured.Unstructured) (*health.HealthStatus, error) {
	if script, ok := h.scripts[obj.GetKind()]; ok {
		return lua.VM{}.ExecuteHealthLua(obj, script)
	}
	// Argo CD's own built-in checks (resource_customizations: ExternalSecret, SealedSecret...)
	script, useOpenLibs, err := lua.VM{}.GetHealthScript(obj)
	if err != nil || script == "" {
		return nil, err
	}
	return lua.VM{UseOpenLibs: useOpenLibs}.ExecuteHealthLua(obj, script)
}

type resource struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Wave    int    `json:"wave"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Health  string `json:"health"`
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster to sync to")
	scriptsDir := flag.String("scripts", "", "folder of <Kind>.lua health scripts")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	namespace := flag.String("namespace", "default", "namespace for objects that name none")
	flag.Parse()

	docs, err := read(os.Stdin)
	if err != nil {
		fail(2, "manifests: %v", err)
	}
	scripts := map[string]string{}
	if *scriptsDir != "" {
		files, _ := filepath.Glob(filepath.Join(*scriptsDir, "*.lua"))
		for _, f := range files {
			text, err := os.ReadFile(f)
			if err != nil {
				fail(2, "%v", err)
			}
			scripts[strings.TrimSuffix(filepath.Base(f), ".lua")] = string(text)
		}
	}
	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fail(2, "kubeconfig: %v", err)
	}
	config.QPS, config.Burst = 200, 400 // the cache lists every kind once; Argo CD raises these too
	override := luaHealth{scripts}
	clusterCache := cache.NewClusterCache(config, cache.SetLogr(logr.Discard()),
		// keep whole objects, as Argo CD does for the resources it manages (health reads them)
		cache.SetPopulateResourceInfoHandler(func(*unstructured.Unstructured, bool) (interface{}, bool) {
			return nil, true
		}))
	if err := clusterCache.EnsureSynced(); err != nil {
		fail(2, "cluster cache: %v", err)
	}
	defer clusterCache.Invalidate()
	kubectl := &kube.KubectlCmd{Log: logr.Discard(), Tracer: tracing.NopTracer{}}
	keys := map[string]bool{}
	for _, d := range docs {
		keys[d.GetKind()+"/"+d.GetNamespace()+"/"+d.GetName()] = true
	}
	isManaged := func(r *cache.Resource) bool { return keys[r.Ref.Kind+"/"+r.Ref.Namespace+"/"+r.Ref.Name] }

	// As Argo CD's application controller runs an operation: each reconciliation builds a new
	// sync context from the live state in the cluster cache and carries the operation's
	// state over (WithInitialState), until the phase is completed. engine.Sync keeps one
	// context with the live objects of its start, so it never sees a wave turn healthy.
	deadline := time.Now().Add(*timeout)
	startedAt := metav1.Now()
	phase, message := common.OperationRunning, ""
	var results []common.ResourceSyncResult
	var syncErr error
	for {
		live, err := clusterCache.GetManagedLiveObjs(docs, isManaged)
		if err != nil {
			fail(2, "live objects: %v", err)
		}
		reconciled := sync.Reconcile(docs, live, *namespace, clusterCache)
		opts := []sync.SyncOpt{sync.WithHealthOverride(override), sync.WithPrune(false), sync.WithLogr(logr.Discard())}
		if results != nil {
			opts = append(opts, sync.WithInitialState(phase, message, results, startedAt))
		}
		syncCtx, cleanup, err := sync.NewSyncContext("e2e", reconciled, config, config, kubectl, *namespace,
			clusterCache.GetOpenAPISchema(), opts...)
		if err != nil {
			fail(2, "sync context: %v", err)
		}
		syncCtx.Sync()
		phase, message, results = syncCtx.GetState()
		cleanup()
		if phase.Completed() {
			if phase != common.OperationSucceeded {
				syncErr = fmt.Errorf("%s: %s", phase, message)
			}
			break
		}
		if time.Now().After(deadline) {
			syncErr = context.DeadlineExceeded
			break
		}
		time.Sleep(500 * time.Millisecond)
	}

	out := map[string]interface{}{"phase": string(common.OperationSucceeded), "message": ""}
	if syncErr != nil {
		phase := common.OperationFailed
		if errors.Is(syncErr, context.DeadlineExceeded) {
			phase = "Timeout"
		}
		out["phase"], out["message"] = string(phase), syncErr.Error()
	}
	byKey := map[string]*unstructured.Unstructured{}
	for _, d := range docs {
		byKey[d.GetKind()+"/"+d.GetName()] = d
	}
	var res []resource
	for _, r := range results {
		obj := byKey[r.ResourceKey.Kind+"/"+r.ResourceKey.Name]
		wave := 0
		if obj != nil {
			wave = syncwaves.Wave(obj)
		}
		res = append(res, resource{Kind: r.ResourceKey.Kind, Name: r.ResourceKey.Name, Wave: wave,
			Status: string(r.Status), Message: r.Message, Health: liveHealth(clusterCache, override, r)})
	}
	out["resources"] = res
	text, _ := json.MarshalIndent(out, "", " ")
	fmt.Println(string(text))
	if syncErr != nil {
		os.Exit(1)
	}
}

// liveHealth is the resource's health now, read from the cluster cache's live object.
func liveHealth(c cache.ClusterCache, override luaHealth, r common.ResourceSyncResult) string {
	var found *unstructured.Unstructured
	_ = c.FindResources(r.ResourceKey.Namespace, func(res *cache.Resource) bool {
		if res.ResourceKey() == r.ResourceKey {
			if res.Resource != nil {
				found = res.Resource
			}
		}
		return false
	})
	if found == nil {
		return ""
	}
	h, err := health.GetResourceHealth(found, override)
	if err != nil || h == nil {
		return ""
	}
	return string(h.Status)
}

func read(r io.Reader) ([]*unstructured.Unstructured, error) {
	dec := yaml.NewYAMLOrJSONDecoder(r, 4096)
	var out []*unstructured.Unstructured
	for {
		obj := map[string]interface{}{}
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(obj) > 0 {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}

func fail(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "argocd-sync: "+format+"\n", args...)
	os.Exit(code)
}
