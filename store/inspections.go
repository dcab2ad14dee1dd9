package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Inspection runs are the panel's credential checks: the panel probes
// accounts itself, classifies each one and stores the run here, so that its
// history survives reloads and is the same in every browser.
//
// A run is stored as one row whose results are a JSON array rather than a
// child table: a run is written once, read whole, holds at most a few
// thousand small results, and its outcomes are updated together. The
// summary columns (total, counts, applied) are kept beside the array so
// that listing runs never decodes it.

// InspectionsKept is how many runs the store keeps: storing a run deletes
// the oldest beyond it.
const InspectionsKept = 200

// InspectionActions are the actions a result may recommend, in display
// order.
var InspectionActions = []string{"keep", "enable", "disable", "reauth", "delete", "error"}

// ErrInspectionNotFound is returned for an inspection id that is not
// stored.
var ErrInspectionNotFound = errors.New("store: inspection not found")

// InspectionWindow is one quota window reported for an account.
type InspectionWindow struct {
	ID            string  `json:"id"`
	UsedPercent   float64 `json:"used_percent"`
	WindowSeconds int64   `json:"window_seconds"`
	// ResetAt is an RFC 3339 time or "".
	ResetAt string `json:"reset_at"`
}

// InspectionOutcome is what happened when the panel applied a result's
// action.
type InspectionOutcome struct {
	Action string    `json:"action"`
	OK     bool      `json:"ok"`
	Error  string    `json:"error"`
	At     time.Time `json:"at"`
}

// InspectionResult is the verdict on one account of a run. The JSON form
// is how results are stored (and answered by the API).
type InspectionResult struct {
	AuthIndex  string             `json:"auth_index"`
	Name       string             `json:"name"`
	Email      string             `json:"email"`
	Plan       string             `json:"plan"`
	StatusCode int                `json:"status_code"`
	Action     string             `json:"action"`
	Reason     string             `json:"reason"`
	Disabled   bool               `json:"disabled"`
	Windows    []InspectionWindow `json:"windows"`
	// Applied is the recorded outcome of the action; nil until one is.
	Applied *InspectionOutcome `json:"applied"`
}

// InspectionSummary describes a run without its results.
type InspectionSummary struct {
	ID         int64
	Provider   string
	Upstream   string
	StartedAt  time.Time
	FinishedAt time.Time
	// Total is the number of results.
	Total int
	// Counts are the results per action; every action of
	// InspectionActions is present.
	Counts map[string]int
	// Applied is the number of results with a recorded outcome.
	Applied int
}

// Inspection is a whole run.
type Inspection struct {
	InspectionSummary
	// Settings is the JSON object the panel ran with, opaque to the store;
	// nil when none was sent.
	Settings json.RawMessage
	Results  []InspectionResult
}

// inspectionCounts counts results per action.
func inspectionCounts(results []InspectionResult) (map[string]int, int) {
	counts := make(map[string]int, len(InspectionActions))
	for _, a := range InspectionActions {
		counts[a] = 0
	}
	applied := 0
	for _, r := range results {
		counts[r.Action]++
		if r.Applied != nil {
			applied++
		}
	}
	return counts, applied
}

// AddInspection stores a run and returns its id; the ID, Total, Counts and
// Applied of in are ignored (they are derived from the results). Runs
// beyond the newest InspectionsKept are deleted in the same transaction.
func (s *Store) AddInspection(ctx context.Context, in Inspection) (int64, error) {
	if in.Provider == "" {
		return 0, errors.New("store: inspection without provider")
	}
	if len(in.Settings) > 0 && !json.Valid(in.Settings) {
		return 0, errors.New("store: inspection settings are not valid JSON")
	}
	results := in.Results
	if results == nil {
		results = []InspectionResult{}
	}
	counts, applied := inspectionCounts(results)
	countsJSON, err := json.Marshal(counts)
	if err != nil {
		return 0, fmt.Errorf("store: encoding inspection counts: %w", err)
	}
	resultsJSON, err := json.Marshal(results)
	if err != nil {
		return 0, fmt.Errorf("store: encoding inspection results: %w", err)
	}
	var settings any
	if len(in.Settings) > 0 {
		settings = string(in.Settings)
	}
	var id int64
	err = s.do(ctx, func(w *writer) error {
		r, err := w.exec(`INSERT INTO inspections(provider, upstream, started, finished, created, total, counts, applied, settings, results)
			VALUES(?,?,?,?,?,?,?,?,?,?)`, in.Provider, in.Upstream, timeMS(in.StartedAt), timeMS(in.FinishedAt),
			time.Now().UnixMilli(), len(results), string(countsJSON), applied, settings, string(resultsJSON))
		if err != nil {
			return fmt.Errorf("store: saving inspection: %w", err)
		}
		if id, err = r.LastInsertId(); err != nil {
			return fmt.Errorf("store: saving inspection: %w", err)
		}
		if _, err := w.exec(`DELETE FROM inspections WHERE id NOT IN (SELECT id FROM inspections ORDER BY id DESC LIMIT ?)`,
			InspectionsKept); err != nil {
			return fmt.Errorf("store: pruning inspections: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// inspectionSummaryCols are the columns scanSummary reads, in order.
const inspectionSummaryCols = "id, provider, upstream, started, finished, total, counts, applied"

// scanInspectionSummary reads the inspectionSummaryCols of a row, plus
// extra destinations.
func scanInspectionSummary(sc interface{ Scan(...any) error }, extra ...any) (InspectionSummary, error) {
	var sum InspectionSummary
	var started, finished int64
	var counts string
	dest := append([]any{&sum.ID, &sum.Provider, &sum.Upstream, &started, &finished, &sum.Total, &counts, &sum.Applied}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return InspectionSummary{}, err
	}
	sum.StartedAt, sum.FinishedAt = msTime(started), msTime(finished)
	sum.Counts = make(map[string]int, len(InspectionActions))
	for _, a := range InspectionActions {
		sum.Counts[a] = 0
	}
	if err := json.Unmarshal([]byte(counts), &sum.Counts); err != nil {
		return InspectionSummary{}, fmt.Errorf("decoding counts of inspection %d: %w", sum.ID, err)
	}
	return sum, nil
}

// Inspections returns the newest runs first (by storage order), at most
// limit of them (InspectionsKept when limit <= 0).
func (s *Store) Inspections(ctx context.Context, limit int) ([]InspectionSummary, error) {
	if limit <= 0 || limit > InspectionsKept {
		limit = InspectionsKept
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+inspectionSummaryCols+" FROM inspections ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("store: listing inspections: %w", err)
	}
	defer rows.Close()
	out := []InspectionSummary{}
	for rows.Next() {
		sum, err := scanInspectionSummary(rows)
		if err != nil {
			return nil, fmt.Errorf("store: listing inspections: %w", err)
		}
		out = append(out, sum)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: listing inspections: %w", err)
	}
	return out, nil
}

// Inspection returns a whole run; the error is ErrInspectionNotFound when
// id is not stored.
func (s *Store) Inspection(ctx context.Context, id int64) (Inspection, error) {
	return readInspection(ctx, s.rdb, id)
}

// readInspection reads a whole run through q.
func readInspection(ctx context.Context, q queryer, id int64) (Inspection, error) {
	var in Inspection
	var settings sql.NullString
	var results string
	row := q.QueryRowContext(ctx, "SELECT "+inspectionSummaryCols+", settings, results FROM inspections WHERE id = ?", id)
	sum, err := scanInspectionSummary(row, &settings, &results)
	if errors.Is(err, sql.ErrNoRows) {
		return Inspection{}, ErrInspectionNotFound
	}
	if err != nil {
		return Inspection{}, fmt.Errorf("store: reading inspection %d: %w", id, err)
	}
	in.InspectionSummary = sum
	if settings.Valid {
		in.Settings = json.RawMessage(settings.String)
	}
	if err := json.Unmarshal([]byte(results), &in.Results); err != nil {
		return Inspection{}, fmt.Errorf("store: decoding results of inspection %d: %w", id, err)
	}
	if in.Results == nil {
		in.Results = []InspectionResult{}
	}
	return in, nil
}

// InspectionOutcomeIn is an outcome to record: the result it belongs to
// (by auth_index) and what happened.
type InspectionOutcomeIn struct {
	AuthIndex string
	Action    string
	OK        bool
	Error     string
}

// ApplyInspectionOutcomes records outcomes on the results of run id with
// the same auth_index, replacing earlier ones, at time at. It returns how
// many outcomes matched a result and the auth_index of those that did
// not; the error is ErrInspectionNotFound when id is not stored.
func (s *Store) ApplyInspectionOutcomes(ctx context.Context, id int64, outcomes []InspectionOutcomeIn, at time.Time) (int, []string, error) {
	var matched int
	var unmatched []string
	err := s.do(ctx, func(w *writer) error {
		matched, unmatched = 0, []string{}
		in, err := readInspection(w.ctx, w.conn, id)
		if err != nil {
			return err
		}
		byIndex := make(map[string][]int, len(in.Results))
		for i, r := range in.Results {
			byIndex[r.AuthIndex] = append(byIndex[r.AuthIndex], i)
		}
		for _, o := range outcomes {
			idx, ok := byIndex[o.AuthIndex]
			if !ok {
				unmatched = append(unmatched, o.AuthIndex)
				continue
			}
			matched++
			for _, i := range idx {
				in.Results[i].Applied = &InspectionOutcome{Action: o.Action, OK: o.OK, Error: o.Error, At: at.UTC()}
			}
		}
		if matched == 0 {
			return nil
		}
		_, applied := inspectionCounts(in.Results)
		data, err := json.Marshal(in.Results)
		if err != nil {
			return fmt.Errorf("store: encoding inspection results: %w", err)
		}
		if _, err := w.exec("UPDATE inspections SET results = ?, applied = ? WHERE id = ?", string(data), applied, id); err != nil {
			return fmt.Errorf("store: saving outcomes of inspection %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return matched, unmatched, nil
}
