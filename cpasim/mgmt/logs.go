package mgmt

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// logLine is one line of the simulated main.log.
type logLine struct {
	at   time.Time
	text string
	end  int64 // byte offset just after the line (newline included)
}

// logStore is the simulated main.log. Offsets are byte offsets since the
// file was last truncated; lines beyond Options.MaxLogLines rotate out.
type logStore struct {
	lines   []logLine
	size    int64     // offset of the end of the file
	epoch   int64     // bumped by every truncation
	born    time.Time // when the current file was started
	rotated int       // rotated files not yet removed by DELETE /logs
}

// logCursor is the opaque cursor of GET /logs, base64url-encoded JSON.
type logCursor struct {
	V               int    `json:"v"`
	File            string `json:"file"`
	Offset          int64  `json:"offset"`
	Size            int64  `json:"size"`
	ModTime         string `json:"modTime"`
	ModTimeUnixNano int64  `json:"modTimeUnixNano"`
	LatestTimestamp int64  `json:"latestTimestamp"`
	Fingerprint     string `json:"fingerprint"`
}

// logFile is one request log or request error log file.
type logFile struct {
	name     string
	content  []byte
	modified time.Time
	isError  bool
}

// AppendLog appends one line to the simulated main.log. requestID, when not
// empty, is written as "[xxxxxxxx]" like CPA does. Lines are kept only while
// logging-to-file is on.
func (s *State) AppendLog(requestID, line string) {
	s.AppendLogLevel("info", requestID, line)
}

// AppendLogLevel is AppendLog with a level ("debug", "info", "warn",
// "error").
func (s *State) AppendLogLevel(level, requestID, line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.live.loggingToFile {
		return
	}
	now := s.opts.Now()
	var b strings.Builder
	b.WriteString("[" + now.In(s.opts.Location).Format("2006-01-02 15:04:05") + "] ")
	b.WriteString(fmt.Sprintf("[%-5s] ", strings.ToLower(level)))
	if requestID != "" {
		b.WriteString("[" + requestID + "] ")
	}
	b.WriteString(strings.TrimRight(line, "\r\n"))
	text := b.String()
	ls := &s.logs
	if ls.born.IsZero() {
		ls.born = now
	}
	ls.size += int64(len(text)) + 1
	ls.lines = append(ls.lines, logLine{at: now, text: text, end: ls.size})
	if n := len(ls.lines); n > s.opts.MaxLogLines {
		drop := n - s.opts.MaxLogLines*4/5
		ls.lines = append([]logLine(nil), ls.lines[drop:]...)
		ls.rotated++
	}
}

// fingerprint identifies the current main.log generation.
func (ls *logStore) fingerprint() string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("main.log:%d:%d", ls.epoch, ls.born.UnixNano())))
	return hex.EncodeToString(sum[:8])
}

// firstOffset is the offset where the oldest retained line starts.
func (ls *logStore) firstOffset() int64 {
	if len(ls.lines) == 0 {
		return ls.size
	}
	first := ls.lines[0]
	return first.end - int64(len(first.text)) - 1
}

func (s *State) logRoutes(rt *router) {
	rt.handle("GET", "/logs", s.getLogs)
	rt.handle("DELETE", "/logs", s.deleteLogs)
	rt.handle("GET", "/request-error-logs", s.listErrorLogs)
	rt.handlePrefix("GET", "/request-error-logs/", s.getErrorLog)
	rt.handlePrefix("GET", "/request-log-by-id/", s.getLogByID)
}

func (s *State) getLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "invalid limit")
			return
		}
		limit = n
	}
	var after int64
	hasAfter := false
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid after")
			return
		}
		after, hasAfter = n, true
	}
	var cur *logCursor
	if v := q.Get("cursor"); v != "" {
		c, err := decodeCursor(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid cursor")
			return
		}
		cur = c
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.live.loggingToFile {
		writeError(w, http.StatusBadRequest, "logging to file disabled")
		return
	}
	ls := &s.logs
	selected := ls.lines
	reset := false
	latest := after
	switch {
	case cur != nil:
		latest = cur.LatestTimestamp
		if cur.Fingerprint != ls.fingerprint() || cur.Offset > ls.size || cur.Offset < ls.firstOffset() {
			reset = true
		} else {
			i := sort.Search(len(selected), func(i int) bool { return selected[i].end > cur.Offset })
			selected = selected[i:]
		}
	case hasAfter:
		i := sort.Search(len(selected), func(i int) bool { return selected[i].at.Unix() > after })
		selected = selected[i:]
	}
	if limit > 0 && len(selected) > limit {
		selected = selected[len(selected)-limit:]
	}
	lines := make([]string, 0, len(selected))
	for _, l := range selected {
		lines = append(lines, l.text)
		if u := l.at.Unix(); u > latest {
			latest = u
		}
	}
	modTime := ls.born
	if n := len(ls.lines); n > 0 {
		modTime = ls.lines[n-1].at
	}
	next := logCursor{V: 1, File: "main.log", Offset: ls.size, Size: ls.size,
		ModTime: modTime.UTC().Format(time.RFC3339Nano), ModTimeUnixNano: modTime.UnixNano(),
		LatestTimestamp: latest, Fingerprint: ls.fingerprint()}
	out := map[string]any{
		"lines":            lines,
		"line-count":       len(lines),
		"latest-timestamp": latest,
		"next-cursor":      encodeCursor(next),
	}
	if reset {
		out["cursor-reset"] = true
	}
	writeJSON(w, http.StatusOK, out)
}

func encodeCursor(c logCursor) string {
	data, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodeCursor(v string) (*logCursor, error) {
	data, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
	if err != nil {
		return nil, fmt.Errorf("decode cursor: %w", err)
	}
	var c logCursor
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("decode cursor: %w", err)
	}
	if c.V != 1 {
		return nil, fmt.Errorf("decode cursor: unsupported version %d", c.V)
	}
	return &c, nil
}

func (s *State) deleteLogs(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if !s.live.loggingToFile {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "logging to file disabled")
		return
	}
	removed := s.logs.rotated
	s.logs = logStore{epoch: s.logs.epoch + 1, born: s.opts.Now()}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Logs cleared successfully", "removed": removed})
}

// endpointSlug turns "POST /v1/chat/completions" or "/v1/chat/completions"
// into "v1-chat-completions".
func endpointSlug(endpoint string) string {
	if _, p, ok := strings.Cut(endpoint, " "); ok {
		endpoint = p
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.Trim(endpoint, "/") {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if ok {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	slug := strings.TrimRight(b.String(), "-")
	if slug == "" {
		slug = "root"
	}
	return slug
}

// WriteErrorLog stores the error log of a failed request, as CPA does
// while request-log is off; it does nothing while request-log is on. The
// file is named error-<endpoint slug>-<timestamp>-<requestID>.log, e.g.
// error-v1-chat-completions-2026-11-27T010708-f1c0ced8.log, and the oldest
// error logs beyond error-logs-max-files are removed.
func (s *State) WriteErrorLog(requestID, endpoint string, at time.Time, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live.requestLog {
		return
	}
	name := "error-" + endpointSlug(endpoint) + "-" + at.In(s.opts.Location).Format("2006-01-02T150405") + "-" + requestID + ".log"
	s.addLogFile(logFile{name: name, content: []byte(content), modified: at, isError: true})
	if limit := s.live.errorLogsMax; limit > 0 {
		var errs int
		for i := len(s.reqLogs) - 1; i >= 0; i-- {
			if !s.reqLogs[i].isError {
				continue
			}
			errs++
			if errs > limit {
				s.reqLogs = append(s.reqLogs[:i:i], s.reqLogs[i+1:]...)
			}
		}
	}
}

// WriteRequestLog stores the full log of a request, as CPA does while
// request-log is on; it does nothing while request-log is off. The file is
// named <endpoint slug>-<timestamp>-<requestID>.log.
func (s *State) WriteRequestLog(requestID, endpoint string, at time.Time, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.live.requestLog {
		return
	}
	name := endpointSlug(endpoint) + "-" + at.In(s.opts.Location).Format("2006-01-02T150405") + "-" + requestID + ".log"
	s.addLogFile(logFile{name: name, content: []byte(content), modified: at})
	const maxRequestLogs = 1000
	var n int
	for i := len(s.reqLogs) - 1; i >= 0; i-- {
		if s.reqLogs[i].isError {
			continue
		}
		n++
		if n > maxRequestLogs {
			s.reqLogs = append(s.reqLogs[:i:i], s.reqLogs[i+1:]...)
		}
	}
}

// addLogFile adds or replaces a log file. s.mu must be held.
func (s *State) addLogFile(f logFile) {
	for i := range s.reqLogs {
		if s.reqLogs[i].name == f.name {
			s.reqLogs[i] = f
			return
		}
	}
	s.reqLogs = append(s.reqLogs, f)
}

func (s *State) listErrorLogs(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	var files []logFile
	for _, f := range s.reqLogs {
		if f.isError {
			files = append(files, f)
		}
	}
	s.mu.RUnlock()
	sort.SliceStable(files, func(i, j int) bool { return files[i].modified.After(files[j].modified) })
	out := make([]map[string]any, 0, len(files))
	for _, f := range files {
		out = append(out, map[string]any{"name": f.name, "size": len(f.content), "modified": f.modified.Unix()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"files": out})
}

func serveLogFile(w http.ResponseWriter, f logFile) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.name}))
	_, _ = w.Write(f.content)
}

func (s *State) getErrorLog(w http.ResponseWriter, r *http.Request, name string) {
	if name == "." || name == ".." || strings.ContainsAny(name, `/\`) || !strings.HasPrefix(name, "error-") || !strings.HasSuffix(name, ".log") {
		writeError(w, http.StatusBadRequest, "invalid log file name")
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, f := range s.reqLogs {
		if f.isError && f.name == name {
			serveLogFile(w, f)
			return
		}
	}
	writeError(w, http.StatusNotFound, "log file not found")
}

func (s *State) getLogByID(w http.ResponseWriter, r *http.Request, id string) {
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			writeError(w, http.StatusBadRequest, "invalid request id")
			return
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := len(s.reqLogs) - 1; i >= 0; i-- {
		if f := s.reqLogs[i]; strings.HasSuffix(f.name, "-"+id+".log") {
			serveLogFile(w, f)
			return
		}
	}
	writeError(w, http.StatusNotFound, "log file not found")
}
