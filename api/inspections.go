package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cpam-caddy/cpam/store"
)

// Limits of the inspection routes.
const (
	// maxInspectionBody bounds the body of POST /api/v1/inspections;
	// larger bodies get 413.
	maxInspectionBody = 4 << 20
	// maxInspectionResults is how many results one run may hold, and how
	// many outcomes one request may record.
	maxInspectionResults = 5000
	// maxInspectionSettings bounds the settings object, in bytes.
	maxInspectionSettings = 4 << 10
	// maxInspectionText is the longest reason or outcome error kept, in
	// characters; longer ones are cut.
	maxInspectionText = 500
	// defaultInspectionLimit and maxInspectionLimit bound the run list.
	defaultInspectionLimit = 20
	maxInspectionLimit     = store.InspectionsKept
)

// inspectionProviders are the providers whose accounts the panel inspects.
var inspectionProviders = []string{"codex", "xai"}

// Route patterns of the inspection routes.
const (
	inspectionsPath        = "/api/v1/inspections"
	inspectionsListPattern = "GET " + inspectionsPath
	inspectionsAddPattern  = "POST " + inspectionsPath
	inspectionGetPattern   = "GET " + inspectionsPath + "/{id}"
	inspectionApplyPattern = "POST " + inspectionsPath + "/{id}/applied"
)

// inspectionQueryParams are the query parameters each inspection route
// accepts (the OpenAPI test compares them with the document); routes that
// take none ignore the query.
var inspectionQueryParams = map[string][]string{
	inspectionsListPattern: {pLimit},
	inspectionsAddPattern:  nil,
	inspectionGetPattern:   nil,
	inspectionApplyPattern: nil,
}

// inspectionBodies are the inspection routes that read a JSON body, all of
// them required.
var inspectionBodies = map[string]bool{inspectionsAddPattern: true, inspectionApplyPattern: true}

// inspectionRoutes registers /api/v1/inspections.
func (h *Handler) inspectionRoutes(mux *routeMux) {
	mux.HandleFunc(inspectionsListPattern, h.listInspections)
	mux.HandleFunc(inspectionsAddPattern, h.addInspection)
	mux.HandleFunc(inspectionGetPattern, h.getInspection)
	mux.HandleFunc(inspectionApplyPattern, h.applyInspection)
}

// ---- documents ----

// inspectionSummaryJSON is a run in the run list.
type inspectionSummaryJSON struct {
	ID         int64          `json:"id"`
	Provider   string         `json:"provider"`
	Upstream   string         `json:"upstream"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt time.Time      `json:"finished_at"`
	Total      int            `json:"total"`
	Counts     map[string]int `json:"counts"`
	Applied    int            `json:"applied"`
}

// inspectionJSON is a whole run. Results are answered as stored (see
// store.InspectionResult): as posted, plus applied.
type inspectionJSON struct {
	inspectionSummaryJSON
	// Settings is null when the run was posted without.
	Settings json.RawMessage          `json:"settings"`
	Results  []store.InspectionResult `json:"results"`
}

func inspectionSummaryView(s store.InspectionSummary) inspectionSummaryJSON {
	return inspectionSummaryJSON{ID: s.ID, Provider: s.Provider, Upstream: s.Upstream, StartedAt: s.StartedAt,
		FinishedAt: s.FinishedAt, Total: s.Total, Counts: s.Counts, Applied: s.Applied}
}

// ---- request bodies ----

const postInspectionExample = `{"provider": "codex", "started_at": "2026-11-27T10:00:00Z", "finished_at": "2026-11-27T10:01:00Z", "settings": {}, "results": [{"auth_index": "…", "name": "codex-x.json", "action": "keep", …}]}`

// inspectionIn is the body of POST /api/v1/inspections.
type inspectionIn struct {
	Provider   string                   `json:"provider"`
	Upstream   string                   `json:"upstream"`
	StartedAt  string                   `json:"started_at"`
	FinishedAt string                   `json:"finished_at"`
	Settings   json.RawMessage          `json:"settings"`
	Results    []store.InspectionResult `json:"results"`
}

// cutText trims s and cuts it to maxInspectionText characters.
func cutText(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	if utf8.RuneCountInString(s) <= maxInspectionText {
		return s
	}
	return string([]rune(s)[:maxInspectionText])
}

// validAction reports whether a is one of store.InspectionActions.
func validAction(a string) bool { return slices.Contains(store.InspectionActions, a) }

// parseRunTime parses a required RFC 3339 time of the run body.
func parseRunTime(name, s string) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, badParamf("%s is missing: send an RFC 3339 time such as 2026-11-27T10:00:00Z", name)
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, badParamf("%s=%q is not an RFC 3339 time: send e.g. 2026-11-27T10:00:00Z", name, truncate(s, 64))
	}
	return t, nil
}

// checkInspection validates a posted run and returns it for the store.
func checkInspection(in *inspectionIn) (store.Inspection, error) {
	var out store.Inspection
	provider := strings.TrimSpace(in.Provider)
	switch {
	case provider == "":
		return out, badParamf("provider is missing: send one of %s", strings.Join(inspectionProviders, ", "))
	case !slices.Contains(inspectionProviders, provider):
		return out, badParamf("unknown provider %q: send one of %s", truncate(provider, 64), strings.Join(inspectionProviders, ", "))
	}
	started, err := parseRunTime("started_at", in.StartedAt)
	if err != nil {
		return out, err
	}
	finished, err := parseRunTime("finished_at", in.FinishedAt)
	if err != nil {
		return out, err
	}
	if finished.Before(started) {
		return out, badParamf("finished_at (%s) is before started_at (%s)", finished.Format(time.RFC3339), started.Format(time.RFC3339))
	}
	settings := json.RawMessage(nil)
	if s := strings.TrimSpace(string(in.Settings)); s != "" && s != "null" {
		if !strings.HasPrefix(s, "{") {
			return out, badParamf("settings must be a JSON object")
		}
		if len(s) > maxInspectionSettings {
			return out, badParamf("settings are %d bytes: send at most %d", len(s), maxInspectionSettings)
		}
		settings = json.RawMessage(s)
	}
	if len(in.Results) > maxInspectionResults {
		return out, badParamf("results lists %d accounts: send at most %d", len(in.Results), maxInspectionResults)
	}
	results := make([]store.InspectionResult, len(in.Results))
	for i, r := range in.Results {
		name := fmt.Sprintf("results[%d]", i)
		r.AuthIndex, r.Name = strings.TrimSpace(r.AuthIndex), strings.TrimSpace(r.Name)
		switch {
		case r.AuthIndex == "":
			return out, badParamf("%s: auth_index is missing", name)
		case r.Name == "":
			return out, badParamf("%s: name is missing", name)
		case !validAction(r.Action):
			return out, badParamf("%s: action %q is not one of %s", name, truncate(r.Action, 64), strings.Join(store.InspectionActions, ", "))
		}
		r.Reason = cutText(r.Reason)
		if r.Windows == nil {
			r.Windows = []store.InspectionWindow{}
		}
		for j, win := range r.Windows {
			if win.ResetAt == "" {
				continue
			}
			if _, err := time.Parse(time.RFC3339Nano, win.ResetAt); err != nil {
				return out, badParamf("%s.windows[%d]: reset_at=%q is not an RFC 3339 time (send \"\" when unknown)", name, j, truncate(win.ResetAt, 64))
			}
		}
		r.Applied = nil // outcomes are recorded by /applied only
		results[i] = r
	}
	out.Provider, out.Upstream = provider, strings.TrimSpace(in.Upstream)
	out.StartedAt, out.FinishedAt = started, finished
	out.Settings, out.Results = settings, results
	return out, nil
}

// ---- handlers ----

// addInspection answers POST /api/v1/inspections: it stores a run and
// answers 201 {"id": n}.
func (h *Handler) addInspection(w http.ResponseWriter, r *http.Request) {
	var in inspectionIn
	if !decodeBody(w, r, &in, maxInspectionBody, false, postInspectionExample) {
		return
	}
	run, err := checkInspection(&in)
	if err != nil {
		answerError(w, "saving the inspection", err)
		return
	}
	s, err := h.store()
	if err != nil {
		answerError(w, "saving the inspection", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), priceWriteTimeout)
	defer cancel()
	id, err := s.AddInspection(ctx, run)
	if err != nil {
		answerError(w, "saving the inspection", err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int64{"id": id})
}

// listInspections answers GET /api/v1/inspections: the newest runs first.
func (h *Handler) listInspections(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if err := checkParams(v, inspectionQueryParams[inspectionsListPattern]); err != nil {
		answerError(w, "listing the inspections", err)
		return
	}
	limit, err := intParam(v, pLimit, defaultInspectionLimit, 1, maxInspectionLimit)
	if err != nil {
		answerError(w, "listing the inspections", err)
		return
	}
	s, err := h.store()
	if err != nil {
		answerError(w, "listing the inspections", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	list, err := s.Inspections(ctx, int(limit))
	if err != nil {
		answerError(w, "listing the inspections", err)
		return
	}
	items := make([]inspectionSummaryJSON, len(list))
	for i, sum := range list {
		items[i] = inspectionSummaryView(sum)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// inspectionID parses the {id} of an inspection route; on failure it
// answers 400 and returns false.
func inspectionID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "bad_parameter",
			fmt.Sprintf("%q is not an inspection id: send the id of GET %s", truncate(raw, 64), inspectionsPath))
		return 0, false
	}
	return id, true
}

// answerInspectionError answers err of an inspection route: 404 for an
// unknown run, else as answerError.
func answerInspectionError(w http.ResponseWriter, what string, id int64, err error) {
	if errors.Is(err, store.ErrInspectionNotFound) {
		writeError(w, http.StatusNotFound, "not_found",
			fmt.Sprintf("there is no inspection %d (only the newest %d are kept): GET %s lists them", id, store.InspectionsKept, inspectionsPath))
		return
	}
	answerError(w, what, err)
}

// getInspection answers GET /api/v1/inspections/{id}: a whole run.
func (h *Handler) getInspection(w http.ResponseWriter, r *http.Request) {
	id, ok := inspectionID(w, r)
	if !ok {
		return
	}
	s, err := h.store()
	if err != nil {
		answerError(w, "reading the inspection", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	run, err := s.Inspection(ctx, id)
	if err != nil {
		answerInspectionError(w, "reading the inspection", id, err)
		return
	}
	writeJSON(w, http.StatusOK, inspectionJSON{inspectionSummaryJSON: inspectionSummaryView(run.InspectionSummary),
		Settings: run.Settings, Results: run.Results})
}

const applyInspectionExample = `{"outcomes": [{"auth_index": "…", "action": "disable", "ok": true, "error": ""}]}`

// applyInspection answers POST /api/v1/inspections/{id}/applied: it records
// what happened when the panel applied results, matched by auth_index.
func (h *Handler) applyInspection(w http.ResponseWriter, r *http.Request) {
	id, ok := inspectionID(w, r)
	if !ok {
		return
	}
	var body struct {
		Outcomes []struct {
			AuthIndex string `json:"auth_index"`
			Action    string `json:"action"`
			OK        bool   `json:"ok"`
			Error     string `json:"error"`
		} `json:"outcomes"`
	}
	if !decodeBody(w, r, &body, maxManagementBody, false, applyInspectionExample) {
		return
	}
	if body.Outcomes == nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "outcomes is missing: send "+applyInspectionExample)
		return
	}
	if len(body.Outcomes) > maxInspectionResults {
		writeError(w, http.StatusBadRequest, "bad_parameter", fmt.Sprintf("outcomes lists %d accounts: send at most %d", len(body.Outcomes), maxInspectionResults))
		return
	}
	outcomes := make([]store.InspectionOutcomeIn, len(body.Outcomes))
	for i, o := range body.Outcomes {
		name := fmt.Sprintf("outcomes[%d]", i)
		o.AuthIndex = strings.TrimSpace(o.AuthIndex)
		switch {
		case o.AuthIndex == "":
			writeError(w, http.StatusBadRequest, "bad_parameter", name+": auth_index is missing")
			return
		case !validAction(o.Action):
			writeError(w, http.StatusBadRequest, "bad_parameter", fmt.Sprintf("%s: action %q is not one of %s",
				name, truncate(o.Action, 64), strings.Join(store.InspectionActions, ", ")))
			return
		}
		outcomes[i] = store.InspectionOutcomeIn{AuthIndex: o.AuthIndex, Action: o.Action, OK: o.OK, Error: cutText(o.Error)}
	}
	s, err := h.store()
	if err != nil {
		answerError(w, "recording the outcomes", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), priceWriteTimeout)
	defer cancel()
	n, unmatched, err := s.ApplyInspectionOutcomes(ctx, id, outcomes, timeNow())
	if err != nil {
		answerInspectionError(w, "recording the outcomes", id, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"applied": n, "unmatched": unmatched})
}
