// argocd-lua runs a resource health script with Argo CD's own Lua runner
// (github.com/argoproj/argo-cd/v3/util/lua, VM.ExecuteHealthLua): the libraries
// Argo CD opens (package, base, table and its safe os), its 1 s deadline, its
// decoding of the object and of the returned table, and its rule that an unknown
// status reads as Unknown. Nothing of Argo CD is copied here: it is a module
// dependency pinned in go.mod.
//
// Usage: argocd-lua SCRIPT < object.json   (prints {"status", "message"} as JSON)
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/argoproj/argo-cd/v3/util/lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: argocd-lua SCRIPT < object.json")
		os.Exit(2)
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	raw, _ := io.ReadAll(os.Stdin)
	obj := &unstructured.Unstructured{}
	if err := json.Unmarshal(raw, &obj.Object); err != nil {
		fmt.Fprintln(os.Stderr, "object:", err)
		os.Exit(2)
	}
	// a zero VM: no resource overrides, UseOpenLibs false (as the application controller runs it)
	status, err := lua.VM{}.ExecuteHealthLua(obj, string(script))
	if err != nil {
		fmt.Fprintln(os.Stderr, "script error:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]string{"status": string(status.Status), "message": status.Message})
	fmt.Println(string(out))
}
