package httpapi

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/rollup"
)

func (s *Server) rollupQuery(cl *call) (rollup.Query, error) {
	q := rollup.Query{Measure: cl.Query("measure"), PeriodKind: cl.Query("period_kind")}
	var err error
	if q.From, err = time.Parse(time.DateOnly, cl.Query("from")); err != nil {
		return q, fault.Validation(fault.Field("from", "invalid_value", "a date YYYY-MM-DD"))
	}
	if q.To, err = time.Parse(time.DateOnly, cl.Query("to")); err != nil {
		return q, fault.Validation(fault.Field("to", "invalid_value", "a date YYYY-MM-DD"))
	}
	return q, nil
}

func (s *Server) rollupMeasures(cl *call) error {
	return respond(cl, http.StatusOK, itemsResponse[rollup.Measure]{Items: rollup.Measures}, nil)
}

func (s *Server) publishRollup(cl *call) error {
	q, err := s.rollupQuery(cl)
	if err != nil {
		return err
	}
	res, err := s.Rollups.Publish(cl, cl.Actor, cl.District, q)
	return respond(cl, http.StatusOK, res, err)
}

// table flattens a report as it is shown: period, row, categories, total.
func rollupTable(r rollup.Report) [][]string {
	head := append([]string{"period", "kind", "row"}, r.Categories...)
	head = append(head, "total")
	out := [][]string{head}
	for _, p := range r.Periods {
		for _, row := range p.Rows {
			label := row.Label
			if row.Kind == "district" {
				label = "全区 district"
			}
			rec := append([]string{p.Start, row.Kind, label}, row.Cells...)
			out = append(out, append(rec, row.Total))
		}
	}
	return out
}

func (s *Server) downloadRollupCSV(cl *call) error {
	q, err := s.rollupQuery(cl)
	if err != nil {
		return err
	}
	res, err := s.Rollups.Publish(cl, cl.Actor, cl.District, q)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	_ = w.WriteAll(rollupTable(res))
	cl.Header("Content-Disposition", attachment("统计-"+res.Measure+"-"+res.PeriodKind+".csv"))
	cl.Header("Cache-Control", "no-store")
	cl.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	return nil
}

func (s *Server) downloadRollupXLSX(cl *call) error {
	q, err := s.rollupQuery(cl)
	if err != nil {
		return err
	}
	res, err := s.Rollups.Publish(cl, cl.Actor, cl.District, q)
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	for i, rec := range rollupTable(res) {
		row := make([]any, len(rec))
		for j, v := range rec {
			row[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			return fault.Wrap(err, "xlsx")
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return fault.Wrap(err, "xlsx")
	}
	cl.Header("Content-Disposition", attachment("统计-"+res.Measure+"-"+res.PeriodKind+".xlsx"))
	cl.Header("Cache-Control", "no-store")
	cl.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
	return nil
}

func (s *Server) getRollupSettings(cl *call) error {
	res, err := s.Rollups.GetSettings(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) saveRollupSettings(cl *call) error {
	var in rollup.Settings
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Rollups.SaveSettings(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusOK, res, err)
}
