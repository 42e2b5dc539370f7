package httpapi

import (
	"net/http"

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
