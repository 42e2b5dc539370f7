package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/document"
	"github.com/xinqiao/xinqiao/internal/upload"
)

// testImage is a small picture with some structure.
func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for y := 0; y < 12; y++ {
		for x := 0; x < 16; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 20), 128, 255})
		}
	}
	return img
}

// exifPayload is an Exif APP1 body naming a place and a camera owner.
var exifPayload = append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"), []byte("GPS 31.2304N 121.4737E Owner 张老师")...)

// jpegFixture encodes a JPEG, with an Exif APP1 segment after SOI when withExif.
func jpegFixture(withExif bool) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(), &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	b := buf.Bytes()
	if !withExif {
		return b
	}
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(exifPayload)+2))
	seg = append(seg, exifPayload...)
	return append(append(append([]byte{}, b[:2]...), seg...), b[2:]...)
}

func pngChunk(typ string, data []byte) []byte {
	c := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(c, uint32(len(data)))
	copy(c[4:], typ)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// pngFixture encodes a PNG, with eXIf and tEXt chunks after IHDR when withMetadata.
func pngFixture(withMetadata bool) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, testImage()); err != nil {
		panic(err)
	}
	b := buf.Bytes()
	if !withMetadata {
		return b
	}
	ihdrEnd := 8 + 12 + 13
	out := append([]byte{}, b[:ihdrEnd]...)
	out = append(out, pngChunk("eXIf", exifPayload[6:])...)
	out = append(out, pngChunk("tEXt", []byte("Author\x00张老师 GPS 31.2304N"))...)
	return append(out, b[ihdrEnd:]...)
}

var pdfFixture = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// newDocument uploads a small PDF to a case file as the school's counselor.
func (w *world) newDocument(code string, caseFile uuid.UUID) uuid.UUID {
	w.t.Helper()
	d, err := w.docs.Upload(context.Background(), w.counselorActor(w.t, code), w.schools[code], caseFile,
		document.Input{Kind: "report", Title: "测评报告", Filename: "report.pdf"}, bytes.NewReader(pdfFixture))
	if err != nil {
		w.t.Fatal(err)
	}
	return d.ID
}

// objects lists the object keys of a district's bucket under prefix.
func (w *world) objects(district uuid.UUID, prefix string) []string {
	w.t.Helper()
	var keys []string
	if err := w.store.List(context.Background(), district, prefix, func(k string, _ time.Time) error {
		keys = append(keys, k)
		return nil
	}); err != nil {
		w.t.Fatal(err)
	}
	return keys
}

type documentJSON struct {
	ID          uuid.UUID  `json:"id"`
	CaseFileID  uuid.UUID  `json:"case_file_id"`
	SessionID   *uuid.UUID `json:"session_id"`
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	Filename    string     `json:"filename"`
	ContentType string     `json:"content_type"`
	SizeBytes   int64      `json:"size_bytes"`
	SHA256      string     `json:"sha256"`
	UploadedBy  uuid.UUID  `json:"uploaded_by"`
	UploaderNm  string     `json:"uploaded_by_name"`
}

// A counselor uploads a photo of a drawing: it is stored encrypted at rest without its
// EXIF data, its SHA-256 is that of the stored bytes, it is listed, and it downloads as
// an attachment with its Chinese name, never cached; upload and download are audited.
func TestDocumentUploadListDownload(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	tok := w.token("counselor.s1")
	base := "/api/v1/schools/" + own.school.String()
	original := jpegFixture(true)
	if !bytes.Contains(original, []byte("Exif")) || !bytes.Contains(original, []byte("31.2304N")) {
		t.Fatal("the fixture has no EXIF")
	}
	uploads, downloads := w.auditCount("documents.upload", "allowed"), w.auditCount("documents.download", "allowed")

	res := w.upload(tok, base+"/case-files/"+own.caseFile.String()+"/documents", "小明的画 2024.jpeg", original,
		"kind", "drawing", "title", "沙盘后的绘画")
	if res.status != 201 {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	var d documentJSON
	res.decode(t, &d)
	if d.ContentType != "image/jpeg" || d.Kind != "drawing" || d.Title != "沙盘后的绘画" || d.Filename != "小明的画 2024.jpeg" ||
		d.CaseFileID != own.caseFile || d.SessionID != nil || d.UploadedBy != w.counselorActor(t, "s1").UserID || d.UploaderNm == "" {
		t.Fatalf("unexpected document: %+v", d)
	}
	if got := w.auditCount("documents.upload", "allowed"); got != uploads+1 {
		t.Fatalf("upload audit rows: %d -> %d", uploads, got)
	}

	// The stored object: server-side encrypted, EXIF gone, the recorded size and hash.
	key := own.school.String() + "/" + own.caseFile.String() + "/" + d.ID.String()
	info, err := w.store.Stat(context.Background(), own.district, key)
	if err != nil {
		t.Fatal(err)
	}
	if info.ServerSideEncryption != "AES256" {
		t.Fatalf("stored object is not encrypted with SSE-S3: %q", info.ServerSideEncryption)
	}
	if info.Size != d.SizeBytes || info.ContentType != "image/jpeg" {
		t.Fatalf("stored %d bytes as %s, recorded %d", info.Size, info.ContentType, d.SizeBytes)
	}

	// Listed in the case file.
	res = w.do(tok, "GET", base+"/case-files/"+own.caseFile.String()+"/documents", nil)
	var list struct{ Items []documentJSON }
	res.decode(t, &list)
	if res.status != 200 || len(list.Items) != 1 || list.Items[0].ID != d.ID || list.Items[0].SHA256 != d.SHA256 {
		t.Fatalf("list: %d %s", res.status, res.body)
	}

	// Downloaded through the API.
	res = w.do(tok, "GET", base+"/documents/"+d.ID.String()+"/content", nil)
	if res.status != 200 {
		t.Fatalf("download: %d %s", res.status, res.body)
	}
	sum := sha256.Sum256(res.body)
	if hex.EncodeToString(sum[:]) != d.SHA256 || int64(len(res.body)) != d.SizeBytes {
		t.Fatalf("downloaded %d bytes with sha256 %x; recorded %d, %s", len(res.body), sum, d.SizeBytes, d.SHA256)
	}
	for _, leak := range []string{"Exif", "31.2304N", "张老师"} {
		if bytes.Contains(res.body, []byte(leak)) {
			t.Fatalf("the stored JPEG still holds %q", leak)
		}
	}
	if _, err := jpeg.Decode(bytes.NewReader(res.body)); err != nil {
		t.Fatalf("the stripped JPEG does not decode: %v", err)
	}
	wantCD := `attachment; filename="____ 2024.jpeg"; filename*=UTF-8''` + url.PathEscape("小明的画 2024.jpeg")
	for h, want := range map[string]string{
		"Content-Disposition":    wantCD,
		"Cache-Control":          "no-store",
		"Content-Type":           "image/jpeg",
		"Repr-Digest":            "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := res.header.Get(h); got != want {
			t.Errorf("%s: got %q, want %q", h, got, want)
		}
	}
	if got := w.auditCount("documents.download", "allowed"); got != downloads+1 {
		t.Fatalf("download audit rows: %d -> %d", downloads, got)
	}
	// The title and file name are encrypted in the database.
	w.ownerQuery(func(tx pgx.Tx) {
		var title, name []byte
		if err := tx.QueryRow(context.Background(), `SELECT title, filename FROM documents WHERE id = $1`, d.ID).Scan(&title, &name); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(title, []byte("沙盘")) || bytes.Contains(name, []byte("小明")) {
			t.Fatal("title or file name stored in clear")
		}
	})
}

// PNG text and eXIf chunks are stripped; the picture still decodes.
func TestDocumentPNGMetadataStripped(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	tok := w.token("counselor.s1")
	session := w.newSession("s1", own.caseFile, false)
	res := w.upload(tok, "/api/v1/schools/"+own.school.String()+"/case-files/"+own.caseFile.String()+"/documents", "letter-scan", pngFixture(true),
		"kind", "letter", "title", "信箱来信", "session_id", session.String())
	if res.status != 201 {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	var d documentJSON
	res.decode(t, &d)
	if d.ContentType != "image/png" || d.Filename != "letter-scan.png" || d.SessionID == nil || *d.SessionID != session {
		t.Fatalf("unexpected document: %+v", d)
	}
	res = w.do(tok, "GET", "/api/v1/schools/"+own.school.String()+"/documents/"+d.ID.String()+"/content", nil)
	for _, leak := range []string{"eXIf", "tEXt", "张老师", "31.2304N"} {
		if bytes.Contains(res.body, []byte(leak)) {
			t.Fatalf("the stored PNG still holds %q", leak)
		}
	}
	if _, err := png.Decode(bytes.NewReader(res.body)); err != nil {
		t.Fatalf("the stripped PNG does not decode: %v", err)
	}
	if !strings.Contains(res.header.Get("Content-Disposition"), `filename="letter-scan.png"`) {
		t.Fatalf("disposition: %s", res.header.Get("Content-Disposition"))
	}
}

func docxFixture(withDocument bool) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	names := []string{"[Content_Types].xml"}
	if withDocument {
		names = append(names, "word/document.xml")
	}
	for _, n := range names {
		f, _ := z.Create(n)
		f.Write([]byte("<xml/>"))
	}
	z.Close()
	return buf.Bytes()
}

// Bad input is refused with a clear problem and stores nothing: no row, no object.
func TestDocumentBadInputStoresNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own, sibling := w.target("s1"), w.target("s2")
	tok := w.token("counselor.s1")
	base := "/api/v1/schools/" + own.school.String()
	path := base + "/case-files/" + own.caseFile.String() + "/documents"
	otherFile, err := w.cases.Open(context.Background(), w.counselorActor(t, "s1"), own.school,
		w.id(`SELECT id FROM students s WHERE school_id = $1 AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.student_id = s.id) LIMIT 1`, own.school))
	if err != nil {
		t.Fatal(err)
	}
	otherSession := w.newSession("s1", otherFile.ID, false)
	archived, err := w.cases.Open(context.Background(), w.counselorActor(t, "s1"), own.school,
		w.id(`SELECT id FROM students s WHERE school_id = $1 AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.student_id = s.id) LIMIT 1`, own.school))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.cases.SetStatus(context.Background(), w.counselorActor(t, "s1"), own.school, archived.ID, "archived", ""); err != nil {
		t.Fatal(err)
	}
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), bytes.Repeat([]byte{0}, 200)...)
	ok := []string{"kind", "consent_form", "title", "知情同意书"}
	tests := []struct {
		name     string
		path     string
		filename string
		content  []byte
		fields   []string
		status   int
		field    string
	}{
		{"an executable named .pdf", path, "同意书.pdf", exe, ok, 415, "file"},
		{"a text file named .pdf", path, "同意书.pdf", []byte("家长已同意，签名：某某"), ok, 415, "file"},
		{"a zip that is not a Word document", path, "同意书.docx", docxFixture(false), ok, 415, "file"},
		{"an HTML page named .png", path, "scan.png", []byte("<html><script>alert(1)</script></html>"), ok, 415, "file"},
		{"zero bytes", path, "empty.pdf", []byte{}, ok, 422, "file"},
		{"over the size cap", path, "big.pdf", append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), testDocumentCap)...), ok, 413, "file"},
		{"a broken PNG", path, "scan.png", pngFixture(false)[:40], ok, 422, "file"},
		{"no kind", path, "a.pdf", pdfFixture, []string{"title", "x"}, 422, "kind"},
		{"an unknown kind", path, "a.pdf", pdfFixture, []string{"kind", "diary", "title", "x"}, 422, "kind"},
		{"no title", path, "a.pdf", pdfFixture, []string{"kind", "report", "title", "  "}, 422, "title"},
		{"a title too long", path, "a.pdf", pdfFixture, []string{"kind", "report", "title", strings.Repeat("长", 201)}, 422, "title"},
		{"an unknown field", path, "a.pdf", pdfFixture, append([]string{"owner", "x"}, ok...), 422, "owner"},
		{"a malformed session id", path, "a.pdf", pdfFixture, append([]string{"session_id", "nope"}, ok...), 422, "session_id"},
		{"a session of another case file", path, "a.pdf", pdfFixture, append([]string{"session_id", otherSession.String()}, ok...), 422, "session_id"},
		{"a case file of a sibling school", base + "/case-files/" + sibling.caseFile.String() + "/documents", "a.pdf", pdfFixture, ok, 404, ""},
		{"a missing case file", base + "/case-files/" + uuid.NewString() + "/documents", "a.pdf", pdfFixture, ok, 404, ""},
		{"an archived case file", base + "/case-files/" + archived.ID.String() + "/documents", "a.pdf", pdfFixture, ok, 409, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := w.upload(tok, tt.path, tt.filename, tt.content, tt.fields...)
			if res.status != tt.status {
				t.Fatalf("want %d, got %d %s", tt.status, res.status, res.body)
			}
			p := w.problem(t, res)
			if tt.field != "" {
				found := false
				for _, e := range p.Errors {
					found = found || e.Field == tt.field
				}
				if !found {
					t.Fatalf("no error on %s: %s", tt.field, res.body)
				}
			}
		})
	}
	t.Run("not multipart", func(t *testing.T) {
		res := w.do(tok, "POST", path, map[string]string{"kind": "report", "title": "x"})
		if res.status != 415 {
			t.Fatalf("want 415, got %d", res.status)
		}
		w.problem(t, res)
	})
	t.Run("no file", func(t *testing.T) {
		res := w.do(tok, "POST", path, []byte("--b\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nreport\r\n--b--\r\n"),
			"Content-Type", "multipart/form-data; boundary=b")
		if res.status != 422 {
			t.Fatalf("want 422, got %d %s", res.status, res.body)
		}
		w.problem(t, res)
	})
	if n := w.scalar(`SELECT count(*) FROM documents`); n != 0 {
		t.Fatalf("%d rows stored by refused uploads", n)
	}
	if keys := w.objects(own.district, ""); len(keys) != 0 {
		t.Fatalf("objects stored by refused uploads: %v", keys)
	}
}

// Every allowed type is recognised from its content, whatever the client calls it.
func TestDocumentTypesDetectedFromContent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	tok := w.token("counselor.s1")
	path := "/api/v1/schools/" + own.school.String() + "/case-files/" + own.caseFile.String() + "/documents"
	m4a := append([]byte{0, 0, 0, 0x20}, []byte("ftypM4A \x00\x00\x02\x00M4A isommp42\x00\x00\x00\x00")...)
	mp3 := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), bytes.Repeat([]byte{0xFF, 0xFB, 0x90, 0x00}, 8)...)
	tests := []struct {
		filename, want, wantName string
		content                  []byte
	}{
		{"note.txt", "application/pdf", "note.txt.pdf", pdfFixture},
		{"photo.png", "image/jpeg", "photo.png.jpg", jpegFixture(false)},
		{"期末报告.docx", upload.TypeDOCX, "期末报告.docx", docxFixture(true)},
		{"录音.m4a", "audio/mp4", "录音.m4a", m4a},
		{"voice", "audio/mpeg", "voice.mp3", mp3},
	}
	for _, tt := range tests {
		res := w.upload(tok, path, tt.filename, tt.content, "kind", "other", "title", "资料")
		if res.status != 201 {
			t.Fatalf("%s: %d %s", tt.filename, res.status, res.body)
		}
		var d documentJSON
		res.decode(t, &d)
		if d.ContentType != tt.want || d.Filename != tt.wantName {
			t.Errorf("%s: stored as %s named %q, want %s named %q", tt.filename, d.ContentType, d.Filename, tt.want, tt.wantName)
		}
	}
}

// When the database refuses the row after the object was written, the object is
// removed: nothing is left behind.
func TestDocumentDatabaseFailureLeavesNoObject(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	w.ownerQuery(func(tx pgx.Tx) {
		ctx := context.Background()
		for _, sql := range []string{
			`CREATE FUNCTION test_refuse_document() RETURNS trigger LANGUAGE plpgsql AS $$
			 BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
			`CREATE TRIGGER test_refuse_document BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION test_refuse_document()`,
		} {
			if _, err := tx.Exec(ctx, sql); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	})
	uploads := w.auditCount("documents.upload", "allowed")
	res := w.upload(w.token("counselor.s1"), "/api/v1/schools/"+own.school.String()+"/case-files/"+own.caseFile.String()+"/documents",
		"a.pdf", pdfFixture, "kind", "report", "title", "报告")
	if res.status != 500 {
		t.Fatalf("want 500, got %d %s", res.status, res.body)
	}
	w.problem(t, res)
	if keys := w.objects(own.district, ""); len(keys) != 0 {
		t.Fatalf("orphan objects left: %v", keys)
	}
	if n := w.scalar(`SELECT count(*) FROM documents`); n != 0 {
		t.Fatalf("%d rows", n)
	}
	if got := w.auditCount("documents.upload", "allowed"); got != uploads {
		t.Fatal("a failed upload was audited as done")
	}
	if strings.Contains(w.logs.String(), "报告") {
		t.Fatal("the log holds the title")
	}
}

// The reconciliation job removes objects without a row once they are old enough, and
// nothing else: not a fresh orphan (an upload in flight), not a stored document, not an
// object that is not a document, not another deployment's document (tests running in
// parallel are such deployments: each has its own database and the same store).
func TestDocumentOrphanReconciliation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	ctx := context.Background()
	kept := w.newDocument("s1", own.caseFile)
	keyOf := func(id uuid.UUID) string {
		return own.school.String() + "/" + own.caseFile.String() + "/" + id.String()
	}
	put := func(key string) {
		if err := w.store.Put(ctx, own.district, key, bytes.NewReader(pdfFixture), int64(len(pdfFixture)), "application/pdf"); err != nil {
			t.Fatal(err)
		}
	}
	oldOrphan, freshOrphan, foreign := keyOf(uuid.New()), keyOf(uuid.New()), "exports/2024.csv"
	// A document key of a school this database does not know: another deployment's.
	otherDeployment := uuid.NewString() + "/" + uuid.NewString() + "/" + uuid.NewString()
	put(oldOrphan)
	put(foreign)
	put(otherDeployment)
	time.Sleep(1500 * time.Millisecond)
	cutoff := time.Now().Add(-500 * time.Millisecond)
	put(freshOrphan)
	before := w.auditCount("documents.orphans_removed", "allowed")

	n, err := w.docs.RemoveOrphans(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("removed %d objects, want 1", n)
	}
	left := map[string]bool{}
	for _, k := range w.objects(own.district, "") {
		left[k] = true
	}
	if left[oldOrphan] || !left[freshOrphan] || !left[keyOf(kept)] || !left[foreign] || !left[otherDeployment] {
		t.Fatalf("after reconciliation: %v", left)
	}
	if got := w.auditCount("documents.orphans_removed", "allowed"); got != before+1 {
		t.Fatalf("reconciliation audit rows: %d -> %d", before, got)
	}
	// The stored document still downloads.
	res := w.do(w.token("counselor.s1"), "GET", "/api/v1/schools/"+own.school.String()+"/documents/"+kept.String()+"/content", nil)
	if res.status != 200 || !bytes.Equal(res.body, pdfFixture) {
		t.Fatalf("download after reconciliation: %d", res.status)
	}
	// Idempotent.
	if n, err := w.docs.RemoveOrphans(ctx, cutoff); err != nil || n != 0 {
		t.Fatalf("second run: %d %v", n, err)
	}
}

// A counselor's own school path with another school's ids finds nothing.
func TestDocumentForeignIdsAreNotFound(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own, sibling, foreign := w.target("s1"), w.target("s2"), w.target("d2.s1")
	tok := w.token("counselor.s1")
	base := "/api/v1/schools/" + own.school.String()
	downloads := w.auditCount("documents.download", "allowed")
	for _, tg := range []target{sibling, foreign} {
		doc := w.newDocument(tg.code, tg.caseFile)
		for _, p := range []string{base + "/documents/" + doc.String() + "/content", base + "/case-files/" + tg.caseFile.String() + "/documents"} {
			res := w.do(tok, "GET", p, nil)
			if res.status != 404 {
				t.Fatalf("%s: want 404, got %d %s", p, res.status, res.body)
			}
			w.problem(t, res)
		}
	}
	if res := w.do(tok, "GET", base+"/documents/"+uuid.NewString()+"/content", nil); res.status != 404 {
		t.Fatalf("missing document: %d", res.status)
	}
	if got := w.auditCount("documents.download", "allowed"); got != downloads {
		t.Fatal("a refused download was audited as allowed")
	}
}

var _ = fmt.Sprintf
