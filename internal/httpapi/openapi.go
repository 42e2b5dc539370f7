package httpapi

import (
	"embed"
	"encoding/json"
	"io/fs"
	"maps"
	"path"
	"slices"
)

// OpenAPI is the OpenAPI 3.1 document of the API. It is kept in the repository as
// internal/httpapi/openapi.json (info, shared components, the foundation's paths) plus
// one fragment per domain in internal/httpapi/openapi/*.json, each holding "paths" and
// "components.schemas"; they are merged here once. A test keeps the document and the
// router in step.
var OpenAPI = mustMergeOpenAPI()

//go:embed openapi.json openapi/*.json
var openAPIFiles embed.FS

func mustMergeOpenAPI() []byte {
	b, err := mergeOpenAPI(openAPIFiles)
	if err != nil {
		panic(err)
	}
	return b
}

func mergeOpenAPI(files fs.FS) ([]byte, error) {
	base, err := fs.ReadFile(files, "openapi.json")
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, err
	}
	paths := doc["paths"].(map[string]any)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	names, err := fs.Glob(files, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	for _, name := range names {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, err
		}
		var frag struct {
			Paths      map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(b, &frag); err != nil {
			return nil, &fs.PathError{Op: "parse", Path: path.Join("openapi", name), Err: err}
		}
		for p, ops := range frag.Paths {
			if existing, ok := paths[p].(map[string]any); ok {
				maps.Copy(existing, ops.(map[string]any))
				continue
			}
			paths[p] = ops
		}
		maps.Copy(schemas, frag.Components.Schemas)
	}
	return json.MarshalIndent(doc, "", "  ")
}
