// argocd-windows says whether Argo CD would sync an Application now, under the sync
// windows of its AppProject, with Argo CD's own code (pkg/apis/application/v1alpha1:
// SyncWindows.Matches, then CanSync as the application controller calls it for an
// automated sync and the API server for a manual one). Nothing of Argo CD is copied:
// it is a module dependency pinned in ../go.mod.
//
// Usage: argocd-windows < {"project": AppProject, "application": Application}
// Prints {"windows": N, "automated": bool, "manual": bool}: N windows match the app.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
)

func main() {
	var in struct {
		Project     v1alpha1.AppProject  `json:"project"`
		Application v1alpha1.Application `json:"application"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "bad input:", err)
		os.Exit(2)
	}
	windows := in.Project.Spec.SyncWindows.Matches(&in.Application)
	automated, err := windows.CanSync(false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	manual, err := windows.CanSync(true)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	count := 0
	if windows != nil {
		count = len(*windows)
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"windows": count, "automated": automated, "manual": manual})
}
