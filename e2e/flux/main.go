// flux-cel: Flux's own CEL evaluation, for the tests. It reads one JSON request a
// line on stdin and answers one JSON line on stdout:
//
//	{"healthCheck": {"apiVersion": "...", "kind": "...", "current": "...", "failed": "..."}, "object": {...}}
//	  -> {"status": "Current" | "Failed" | "InProgress" | "Unknown", "message": "..."}
//	     (fluxcd/pkg/runtime/cel NewStatusReader, read for the object as kustomize-controller
//	     reads each applied object for spec.healthCheckExprs: an expression that cannot
//	     evaluate yet, say before `status` exists, is Unknown)
//	{"readyExpr": "...", "self": {...}, "dep": {...}}
//	  -> {"ready": true | false}
//	     (an Expression compiled as kustomize-controller compiles spec.dependsOn[].readyExpr:
//	     bool output, struct variables self and dep)
//
// Objects are decoded as the API machinery decodes them (integers as int64: the built-in
// observedGeneration check needs that). An expression that does not compile answers
// {"error": "..."}.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"

	celgo "github.com/google/cel-go/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/runtime/cel"
)

type request struct {
	Health    *kustomize.CustomHealthCheck `json:"healthCheck"`
	Object    map[string]any                    `json:"object"`
	ReadyExpr string                            `json:"readyExpr"`
	Self      map[string]any                    `json:"self"`
	Dep       map[string]any                    `json:"dep"`
}

func answer(req request) map[string]any {
	ctx := context.Background()
	if req.Health != nil {
		reader, err := cel.NewStatusReader([]kustomize.CustomHealthCheck{*req.Health})
		if err != nil {
			return map[string]any{"error": err.Error()}
		}
		result, err := reader(nil).ReadStatusForObject(ctx, nil, &unstructured.Unstructured{Object: req.Object})
		if err != nil {
			return map[string]any{"error": err.Error()}
		}
		return map[string]any{"status": result.Status.String(), "message": result.Message}
	}
	expr, err := cel.NewExpression(req.ReadyExpr, cel.WithCompile(), cel.WithOutputType(celgo.BoolType),
		cel.WithStructVariables("self", "dep"))
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	ready, err := expr.EvaluateBoolean(ctx, map[string]any{"self": req.Self, "dep": req.Dep})
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return map[string]any{"ready": ready}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		if err := utiljson.Unmarshal(in.Bytes(), &req); err != nil {
			_ = out.Encode(map[string]any{"error": fmt.Sprintf("bad request: %v", err)})
			continue
		}
		_ = out.Encode(answer(req))
	}
}
