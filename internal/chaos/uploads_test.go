package chaos

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/document"
)

// uploadWriter uploads small documents into a case file; an upload's marker is the
// SHA-256 of its content (stored in clear in documents.sha256).
func uploadWriter(cf uuid.UUID) func(n int) op {
	path := "/api/v1/schools/" + env.school.String() + "/case-files/" + cf.String() + "/documents"
	run := uuid.NewString()
	return func(n int) op {
		content := []byte(fmt.Sprintf("%%PDF-1.4\n%% chaos upload %s %d\n%%%%EOF\n", run, n))
		r := upload(env.counselor, path, content, fmt.Sprintf("chaos %d", n))
		sum := sha256.Sum256(content)
		o := op{reply: r, marker: int64(n)}
		o.sum = hex.EncodeToString(sum[:])
		if o.acked() {
			var d struct {
				ID uuid.UUID `json:"id"`
			}
			_ = json.Unmarshal(r.body, &d)
			o.id = d.ID
		}
		return o
	}
}

// uploadState is the final state of a case file's documents after reconciliation.
type uploadState struct {
	rows, objects, rowWithoutObject, objectWithoutRow, orphansRemoved int
}

func (u uploadState) String() string {
	return fmt.Sprintf("rows=%d objects=%d row-without-object=%d object-without-row=%d orphans-removed=%d",
		u.rows, u.objects, u.rowWithoutObject, u.objectWithoutRow, u.orphansRemoved)
}

// checkUploads runs reconciliation (the periodic job, here with no minimum age: objects
// without rows go), then compares the upload history with the case file's rows and
// objects: they must match one to one, and every acknowledged upload is there once.
func checkUploads(t *testing.T, cf uuid.UUID, ops []op) (verdict, uploadState) {
	t.Helper()
	var u uploadState
	docs := &document.Service{DB: env.app, Store: env.store}
	removed, err := docs.RemoveOrphans(bg(), time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	u.orphansRemoved = removed
	rows, err := env.admin.Query(bg(), `SELECT id, encode(sha256, 'hex'), object_key FROM documents WHERE school_id = $1 AND case_file_id = $2`,
		env.school, cf)
	if err != nil {
		t.Fatal(err)
	}
	type doc struct {
		id       uuid.UUID
		sum, key string
	}
	docsByID := map[uuid.UUID]doc{}
	bySum := map[string]int{}
	keys := map[string]bool{}
	for rows.Next() {
		var d doc
		if err := rows.Scan(&d.id, &d.sum, &d.key); err != nil {
			t.Fatal(err)
		}
		docsByID[d.id] = d
		bySum[d.sum]++
		keys[d.key] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	prefix := env.school.String() + "/" + cf.String() + "/"
	objects := map[string]bool{}
	if err := env.store.List(bg(), env.district, prefix, func(key string, _ time.Time) error {
		objects[key] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	u.rows, u.objects = len(keys), len(objects)
	for k := range keys {
		if !objects[k] {
			u.rowWithoutObject++
		}
	}
	for k := range objects {
		if !keys[k] {
			u.objectWithoutRow++
		}
	}
	if u.rowWithoutObject != 0 || u.objectWithoutRow != 0 {
		t.Errorf("rows without objects: %d, objects without rows: %d", u.rowWithoutObject, u.objectWithoutRow)
	}
	var v verdict
	for _, o := range ops {
		d, ok := docsByID[o.id]
		switch {
		case o.acked():
			v.Acknowledged++
			if ok && d.sum == o.sum && objects[d.key] {
				v.Found++
			} else {
				v.Lost++
			}
		case bySum[o.sum] > 0:
			v.InDoubt++
		default:
			v.NotApplied++
		}
		if bySum[o.sum] > 1 {
			v.Duplicated += bySum[o.sum] - 1
		}
	}
	return v, u
}
