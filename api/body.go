package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// decodeBody decodes the JSON body of r into v, reading at most limit
// bytes; unknown fields are ignored. An empty body leaves v alone when
// optional. On failure it answers the request (413 or 400, with example as
// the expected shape) and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, limit int64, optional bool, example string) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("data after the JSON value")
			var mbe *http.MaxBytesError
			if errors.As(terr, &mbe) {
				err = terr
			}
		}
	}
	if errors.Is(err, io.EOF) && optional {
		return true
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("the request body is larger than %d KiB: send less at once", limit>>10))
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "bad_request", "the request has no body: send "+example)
	default:
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("the body is not valid JSON (%v): send %s", err, example))
	}
	return false
}
