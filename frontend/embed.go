// Package frontend embeds the built web UI (frontend/dist, built by `make frontend`).
package frontend

import "embed"

// Dist holds dist/: index.html and the hashed assets.
//
//go:embed all:dist
var Dist embed.FS
