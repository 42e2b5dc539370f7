package httpapi

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of the API, kept in the repository as
// internal/httpapi/openapi.json; a test keeps it and the router in step.
//
//go:embed openapi.json
var OpenAPI []byte
