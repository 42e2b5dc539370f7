package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/library"
)

// The resource library: search and add (district and school), copies, loans.

func (s *Server) searchLibrary(cl *call) error {
	q := &query{cl: cl}
	lq := library.Query{Q: q.text("q", 100), Topic: q.text("topic", 30), Audience: q.text("audience", 20), Kind: q.text("kind", 10)}
	if err := q.err(); err != nil {
		return err
	}
	res, err := s.Library.Search(cl, cl.Actor, cl.District, lq)
	return respond(cl, http.StatusOK, itemsResponse[library.Item]{Items: res}, err)
}

func (s *Server) addLibraryItem(cl *call) error {
	var in library.ItemInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Library.Add(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) addLibraryCopy(cl *call) error {
	id, err := cl.pathID("bookId")
	if err != nil {
		return err
	}
	var in library.CopyInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Library.AddCopy(cl, cl.Actor, cl.School, id, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) listLibraryLoans(cl *call) error {
	res, err := s.Library.Loans(cl, cl.Actor, cl.School, cl.Query("all") != "true")
	return respond(cl, http.StatusOK, itemsResponse[library.Loan]{Items: res}, err)
}

func (s *Server) lendLibraryCopy(cl *call) error {
	var in library.LoanInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Library.Lend(cl, cl.Actor, cl.School, in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) returnLibraryCopy(cl *call) error {
	id, err := cl.pathID("loanId")
	if err != nil {
		return err
	}
	res, err := s.Library.Return(cl, cl.Actor, cl.School, id)
	return respond(cl, http.StatusOK, res, err)
}

// uploadLibraryDocument takes multipart/form-data: file, title, summary, author, topics
// and audiences (comma-separated).
func (s *Server) uploadLibraryDocument(cl *call) error {
	if cl.ContentType() != "multipart/form-data" {
		return fault.New(fault.Unsupported, "upload the document as multipart/form-data with the fields file, title, topics and audiences")
	}
	limit := s.Library.Limit()
	cl.Request.Body = http.MaxBytesReader(cl.Writer, cl.Request.Body, limit+1<<20)
	if err := cl.Request.ParseMultipartForm(8 << 20); err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return tooLarge(limit)
		}
		return fault.New(fault.Malformed, "the body is not valid multipart/form-data")
	}
	defer func() { _ = cl.Request.MultipartForm.RemoveAll() }()
	f, hdr, err := cl.Request.FormFile("file")
	if err != nil {
		return fault.Validation(fault.Field("file", "required", "the file is required"))
	}
	defer f.Close()
	split := func(v string) []string {
		var out []string
		for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '，' || r == '、' }) {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	form := cl.Request.FormValue
	in := library.DocumentInput{ItemInput: library.ItemInput{Kind: "document", Title: form("title"), Summary: form("summary"), Author: form("author"),
		Topics: split(form("topics")), Audiences: split(form("audiences"))}, Filename: hdr.Filename}
	res, err := s.Library.AddDocument(cl, cl.Actor, cl.District, in, f)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) downloadLibraryDocument(cl *call) error {
	id, err := cl.pathID("entryId")
	if err != nil {
		return err
	}
	d, r, err := s.Library.OpenDocument(cl, cl.Actor, cl.District, id)
	if err != nil {
		return err
	}
	defer r.Close()
	s.streamObject(cl, "library", storedFile{d.ContentType, d.SizeBytes, d.Filename, d.SHA256}, r)
	return nil
}
