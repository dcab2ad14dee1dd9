package cpasim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// Limits that keep a hostile RESP client from exhausting memory.
const (
	maxRESPArgs     = 64
	maxRESPBulk     = 64 << 10
	maxRESPLineSize = 32
)

// errProtocol marks a malformed RESP frame.
var errProtocol = errors.New("protocol error")

// respReader reads RESP command frames: arrays of bulk strings.
type respReader struct {
	br *bufio.Reader
}

// readLine reads one CRLF-terminated header line without the CRLF.
func (r *respReader) readLine() ([]byte, error) {
	var line []byte
	for {
		b, err := r.br.ReadByte()
		if err != nil {
			if len(line) > 0 && errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if b == '\n' {
			if len(line) == 0 || line[len(line)-1] != '\r' {
				return nil, errProtocol
			}
			return line[:len(line)-1], nil
		}
		if len(line) >= maxRESPLineSize {
			return nil, errProtocol
		}
		line = append(line, b)
	}
}

// parseCount parses the decimal length of a '*' or '$' header.
func parseCount(b []byte, max int) (int, error) {
	if len(b) == 0 || len(b) > 10 {
		return 0, errProtocol
	}
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 || n > max {
		return 0, errProtocol
	}
	return n, nil
}

// readCommand reads one command. It returns errProtocol for a malformed
// frame and the underlying error for I/O failures.
func (r *respReader) readCommand() ([]string, error) {
	line, err := r.readLine()
	if err != nil {
		return nil, err
	}
	if len(line) == 0 || line[0] != '*' {
		return nil, errProtocol
	}
	n, err := parseCount(line[1:], maxRESPArgs)
	if err != nil {
		return nil, err
	}
	args := make([]string, 0, n)
	for range n {
		line, err := r.readLine()
		if err != nil {
			return nil, unexpected(err)
		}
		if len(line) == 0 || line[0] != '$' {
			return nil, errProtocol
		}
		size, err := parseCount(line[1:], maxRESPBulk)
		if err != nil {
			return nil, err
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(r.br, buf); err != nil {
			return nil, unexpected(err)
		}
		if buf[size] != '\r' || buf[size+1] != '\n' {
			return nil, errProtocol
		}
		args = append(args, string(buf[:size]))
	}
	return args, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// respWriter serializes replies from the command loop and the
// subscription pump onto one connection.
type respWriter struct {
	mu     sync.Mutex
	bw     *bufio.Writer
	before func() // called before each flush, e.g. to set a write deadline
	closed bool
}

func newRESPWriter(w io.Writer, before func()) *respWriter {
	return &respWriter{bw: bufio.NewWriter(w), before: before}
}

// errWriterClosed is returned by writes after stop.
var errWriterClosed = errors.New("resp writer stopped")

// write encodes and flushes one reply atomically.
func (w *respWriter) write(encode func(*bufio.Writer)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errWriterClosed
	}
	encode(w.bw)
	if w.before != nil {
		w.before()
	}
	if err := w.bw.Flush(); err != nil {
		w.closed = true
		return fmt.Errorf("write resp reply: %w", err)
	}
	return nil
}

// stop makes every later write fail, so nothing follows a final reply.
func (w *respWriter) stop() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

func (w *respWriter) simple(s string) error {
	return w.write(func(b *bufio.Writer) { b.WriteString("+" + s + "\r\n") })
}

func (w *respWriter) errorLine(s string) error {
	return w.write(func(b *bufio.Writer) { b.WriteString("-" + s + "\r\n") })
}

func (w *respWriter) nilBulk() error {
	return w.write(func(b *bufio.Writer) { b.WriteString("$-1\r\n") })
}

func (w *respWriter) bulk(p []byte) error {
	return w.write(func(b *bufio.Writer) { writeBulk(b, p) })
}

func (w *respWriter) bulkArray(items [][]byte) error {
	return w.write(func(b *bufio.Writer) {
		b.WriteString("*" + strconv.Itoa(len(items)) + "\r\n")
		for _, it := range items {
			writeBulk(b, it)
		}
	})
}

// subscription writes the *3 subscribe/unsubscribe confirmation.
func (w *respWriter) subscription(kind, channel string, n int) error {
	return w.write(func(b *bufio.Writer) {
		b.WriteString("*3\r\n")
		writeBulk(b, []byte(kind))
		writeBulk(b, []byte(channel))
		b.WriteString(":" + strconv.Itoa(n) + "\r\n")
	})
}

// message writes one pushed message.
func (w *respWriter) message(channel string, payload []byte) error {
	return w.write(func(b *bufio.Writer) {
		b.WriteString("*3\r\n$7\r\nmessage\r\n")
		writeBulk(b, []byte(channel))
		writeBulk(b, payload)
	})
}

// pong answers PING inside a subscription; a nil msg gives a nil bulk.
func (w *respWriter) pong(msg *string) error {
	return w.write(func(b *bufio.Writer) {
		b.WriteString("*2\r\n$4\r\npong\r\n")
		if msg == nil {
			b.WriteString("$-1\r\n")
			return
		}
		writeBulk(b, []byte(*msg))
	})
}

func writeBulk(b *bufio.Writer, p []byte) {
	b.WriteString("$" + strconv.Itoa(len(p)) + "\r\n")
	b.Write(p)
	b.WriteString("\r\n")
}
