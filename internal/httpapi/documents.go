package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/document"
	"github.com/xinqiao/xinqiao/internal/fault"
)

func (s *Server) listDocuments(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	res, err := s.Documents.List(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, itemsResponse[document.Document]{Items: res}, err)
}

func tooLarge(limit int64) error {
	return &fault.Error{Kind: fault.TooLarge, Message: "the file is larger than " + strconv.FormatInt(limit, 10) + " bytes",
		Fields: []fault.FieldError{fault.Field("file", "too_large", "at most "+strconv.FormatInt(limit, 10)+" bytes")}}
}

// uploadDocument reads a multipart/form-data body with the fields kind, title,
// session_id (optional) and file, in any order. The file is read up to the size cap;
// the domain detects its type from the content and stores it.
func (s *Server) uploadDocument(cl *call) error {
	id, err := cl.pathID("caseFileId")
	if err != nil {
		return err
	}
	if cl.ContentType() != "multipart/form-data" {
		return fault.New(fault.Unsupported, "upload the document as multipart/form-data with the fields kind, title, session_id and file")
	}
	limit := s.Documents.Limit()
	cl.Request.Body = http.MaxBytesReader(cl.Writer, cl.Request.Body, limit+1<<20)
	mr, err := cl.Request.MultipartReader()
	if err != nil {
		return fault.New(fault.Malformed, "the body is not valid multipart/form-data")
	}
	readErr := func(err error) error {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return tooLarge(limit)
		}
		return fault.New(fault.Malformed, "the body is not valid multipart/form-data")
	}
	var in document.Input
	var content []byte
	var fields []fault.FieldError
	haveFile := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return readErr(err)
		}
		name := p.FormName()
		if name == "file" {
			if haveFile {
				return fault.Validation(fault.Field("file", "duplicate", "one file per upload"))
			}
			haveFile = true
			in.Filename = p.FileName()
			// Sized from the request up front: io.ReadAll would grow (and clear and copy)
			// its buffer a dozen times for a large file.
			buf := bytes.NewBuffer(make([]byte, 0, min(limit+1, max(cl.Request.ContentLength, 0))+bytes.MinRead))
			if _, err = io.Copy(buf, io.LimitReader(p, limit+1)); err != nil {
				return readErr(err)
			}
			content = buf.Bytes()
			if int64(len(content)) > limit {
				return tooLarge(limit)
			}
			continue
		}
		v, err := io.ReadAll(io.LimitReader(p, 4<<10))
		if err != nil {
			return readErr(err)
		}
		switch name {
		case "kind":
			in.Kind = string(v)
		case "title":
			in.Title = string(v)
		case "session_id":
			if sv := strings.TrimSpace(string(v)); sv != "" {
				sid, err := uuid.Parse(sv)
				if err != nil {
					fields = append(fields, fault.Field("session_id", "invalid_value", "session_id must be a session's id"))
				} else {
					in.SessionID = &sid
				}
			}
		default:
			fields = append(fields, fault.Field(name, "unknown_field", "unknown field"))
		}
	}
	if !haveFile {
		fields = append(fields, fault.Field("file", "required", "a file field named file is required"))
	}
	if len(fields) > 0 {
		return fault.Validation(fields...)
	}
	res, err := s.Documents.Upload(cl, cl.Actor, cl.School, id, in, bytes.NewReader(content))
	return respond(cl, http.StatusCreated, res, err)
}

// downloadDocument streams a document after its authorization and audit row: always
// as an attachment, never cached, never sniffed.
func (s *Server) downloadDocument(cl *call) error {
	id, err := cl.pathID("documentId")
	if err != nil {
		return err
	}
	d, r, err := s.Documents.Open(cl, cl.Actor, cl.School, id)
	if err != nil {
		return err
	}
	defer r.Close()
	s.streamObject(cl, "document", storedFile{d.ContentType, d.SizeBytes, d.Filename, d.SHA256}, r)
	return nil
}

// storedFile is what a download needs to know of a stored object.
type storedFile struct {
	ContentType string
	SizeBytes   int64
	Filename    string
	SHA256      string
}

// streamObject streams a stored object (a document, plan evidence, a library file) after
// its authorization and audit row: always as an attachment, never cached, never sniffed
// or run (sandbox CSP), with its digest.
func (s *Server) streamObject(cl *call, kind string, f storedFile, r io.Reader) {
	h := cl.Writer.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Length", strconv.FormatInt(f.SizeBytes, 10))
	h.Set("Content-Disposition", attachment(f.Filename))
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	if sum, err := hex.DecodeString(f.SHA256); err == nil {
		h.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
	}
	cl.Writer.WriteHeader(http.StatusOK)
	if n, err := io.Copy(cl.Writer, r); err != nil {
		// Too late for a problem: the client sees a short body.
		s.Log.Error("download interrupted", "request_id", requestID(cl.Context), "kind", kind, "bytes", n, "err", err)
	}
}

// attachment builds a Content-Disposition header (RFC 6266): an ASCII fallback in
// filename and the exact UTF-8 name in filename* (RFC 8187).
func attachment(name string) string {
	var fb, enc strings.Builder
	meaningful := false
	for _, r := range name {
		switch {
		case r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%':
			fb.WriteByte('_')
		default:
			fb.WriteRune(r)
			if r != '.' && r != '_' && r != ' ' {
				meaningful = true
			}
		}
	}
	fallback := fb.String()
	if !meaningful || strings.HasPrefix(strings.TrimLeft(fallback, "_ "), ".") {
		ext := ""
		if i := strings.LastIndex(name, "."); i >= 0 && strings.Trim(name[i:], ".abcdefghijklmnopqrstuvwxyz0123456789") == "" {
			ext = name[i:]
		}
		fallback = "document" + ext
	}
	const hexdigits = "0123456789ABCDEF"
	for _, b := range []byte(name) {
		if b < 0x80 && (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$&+-.^_`|~", b) >= 0) {
			enc.WriteByte(b)
		} else {
			enc.WriteByte('%')
			enc.WriteByte(hexdigits[b>>4])
			enc.WriteByte(hexdigits[b&15])
		}
	}
	return `attachment; filename="` + fallback + `"; filename*=UTF-8''` + enc.String()
}
