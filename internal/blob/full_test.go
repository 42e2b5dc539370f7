package blob

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/xinqiao/xinqiao/internal/fault"
)

// A write refused because the store is full is a temporary Unavailable error (503 with
// Retry-After) that says so; other store errors pass through unchanged.
func TestFullStoreErrorIsUnavailable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		err  error
		full bool
	}{
		{"minio storage full", minio.ErrorResponse{StatusCode: http.StatusInsufficientStorage, Code: "XMinioStorageFull"}, true},
		{"wrapped", fmt.Errorf("object store: put: %w", minio.ErrorResponse{StatusCode: http.StatusInsufficientStorage}), true},
		{"drive ENOSPC", errors.New("write /data/x/xl.meta: no space left on device"), true},
		{"access denied", minio.ErrorResponse{StatusCode: http.StatusForbidden, Code: "AccessDenied"}, false},
		{"refused", errors.New("dial tcp 127.0.0.1:9000: connect: connection refused"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := StorageFull(c.err); got != c.full {
				t.Errorf("StorageFull = %v, want %v", got, c.full)
			}
			err := fullErr(c.err)
			if c.full {
				if fe, ok := fault.As(err); !ok || fe.Kind != fault.Unavailable || !errors.Is(err, c.err) {
					t.Errorf("fullErr = %v, want Unavailable wrapping the cause", err)
				}
				// A caller's own "not available" wrapping keeps the clearer message.
				if got := fault.Down(err, "the document store is not available"); got != err {
					t.Errorf("fault.Down rewrapped a full store: %v", got)
				}
			} else if err != c.err {
				t.Errorf("fullErr changed %v into %v", c.err, err)
			}
		})
	}
}
