// Package ssetest reads Server-Sent Events streams for the tests of the
// live feed.
package ssetest

import (
	"bufio"
	"io"
	"strings"
)

// Frame is one Server-Sent Events frame: the fields it set, with the data
// lines joined by "\n". Comment is set for a frame of comment lines only
// (": ping").
type Frame struct {
	ID, Event, Data, Retry string
	Comment                bool
}

// Read parses body into frames and sends them to out until body ends, then
// closes out.
func Read(body io.Reader, out chan<- Frame) {
	defer close(out)
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var f Frame
	var data []string
	started := false
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if started {
				f.Data = strings.Join(data, "\n")
				out <- f
			}
			f, data, started = Frame{}, nil, false
			continue
		}
		started = true
		if strings.HasPrefix(line, ":") {
			f.Comment = true
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "id":
			f.ID = value
		case "event":
			f.Event = value
		case "data":
			data = append(data, value)
		case "retry":
			f.Retry = value
		}
	}
}
