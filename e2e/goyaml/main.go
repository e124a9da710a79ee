// goyaml reads YAML the way kubectl, Argo CD and Flux do (go-yaml v2, YAML 1.1
// scalars: `y`, `n`, `on`, `off`, `yes`, `no` are booleans, `0o17` is not
// octal, `1_000` is a number ...) and prints each document as JSON, as
// sigs.k8s.io/yaml's YAMLToJSON would. Tests compare that with what mtvgen
// meant to write: a string that a YAML 1.1 reader turns into anything else is
// a quoting bug.
//
// Usage: goyaml FILE...   (one JSON document per line)
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	yaml "gopkg.in/yaml.v2"
)

// convert turns yaml.v2's map[interface{}]interface{} into JSON-able maps, keeping keys as
// go-yaml resolved them (a key `on` becomes "true", as YAMLToJSON would print it).
func convert(v interface{}) interface{} {
	switch x := v.(type) {
	case map[interface{}]interface{}:
		m := map[string]interface{}{}
		for k, val := range x {
			m[fmt.Sprint(k)] = convert(val)
		}
		return m
	case []interface{}:
		for i := range x {
			x[i] = convert(x[i])
		}
		return x
	}
	return v
}

func main() {
	for _, path := range os.Args[1:] {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc interface{}
			if err := dec.Decode(&doc); err == io.EOF {
				break
			} else if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
				os.Exit(1)
			}
			out, err := json.Marshal(convert(doc))
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
				os.Exit(1)
			}
			fmt.Println(string(out))
		}
	}
}
