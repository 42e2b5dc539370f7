package httpapi

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// serveUI serves the embedded single-page app: real files as they are (hashed assets
// cached long), any other path as index.html so client-side routes work on reload.
func (s *Server) serveUI(c *gin.Context) {
	name := strings.TrimPrefix(path.Clean(c.Request.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	if st, err := fs.Stat(s.UI, name); err != nil || st.IsDir() {
		name = "index.html"
	}
	if strings.HasPrefix(name, "assets/") {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "no-cache")
	}
	if name == "index.html" {
		// http.FileServer would redirect /index.html to /; serve the bytes directly.
		b, err := fs.ReadFile(s.UI, name)
		if err != nil {
			c.String(http.StatusNotFound, "the web UI is not built")
			return
		}
		c.Data(http.StatusOK, "text/html; charset=utf-8", b)
		return
	}
	c.FileFromFS(name, http.FS(s.UI))
}
