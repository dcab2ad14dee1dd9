package collector

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cpam-caddy/cpam/store"
)

// Entry is one record as received from CPA, before normalisation.
type Entry struct {
	// Upstream names the CPA instance it came from.
	Upstream string
	// Received is when the collector got it.
	Received time.Time
	// Payload is the record exactly as CPA sent it.
	Payload []byte
}

// Spool limits.
const (
	segmentMaxBytes = 64 << 20
	maxEntryBytes   = 4 << 20
	frameHeaderSize = 8 // length + CRC-32C
	segmentSuffix   = ".seg"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Spool is the durable log between the receive path and the database.
// Records are appended as soon as they arrive; the ingester reads them in
// order, commits them to the store together with the position it reached,
// and only then are fully consumed segment files deleted. After a crash the
// ingester resumes from the committed position, so nothing received is lost
// and the event hash absorbs anything committed twice.
//
// Frames are a 4-byte big-endian length, a 4-byte CRC-32C of the body, then
// the body: upstream name length (1 byte), upstream name, receive time
// (8 bytes, Unix nanoseconds), payload. A torn frame at the end of the last
// segment (a crash mid-write) is cut off when the spool opens.
type Spool struct {
	dir    string
	segMax int64 // rotate segments above this size

	mu       sync.Mutex
	w        *os.File
	wbuf     *bufio.Writer
	wseg     uint64
	woff     int64
	pending  int64 // entries appended and not yet committed
	notify   chan struct{}
	closed   bool
	rseg     uint64 // read cursor
	roff     int64
	r        *os.File
	rbuf     *bufio.Reader
	readable int64 // entries appended and not yet read
	skipped  int64 // frames lost to corruption in finished segments

	// retired receives finished segment files; retireLoop syncs and closes
	// them, so a rotation never makes the receive path wait for an fsync
	// of a whole segment (which stalled subscribers long enough for CPA to
	// drop them). retireDone closes when the loop has ended.
	retired    chan *os.File
	retireDone chan struct{}
	retireErr  error // the first sync or close error of a retired segment (under mu)
}

// retireQueue bounds the finished segments waiting for their fsync; a
// rotation beyond it syncs inline.
const retireQueue = 4

// OpenSpool opens the spool in dir (created if needed), deletes segments
// that are entirely before from (the committed position), repairs a torn
// tail, and positions the reader at from.
func OpenSpool(dir string, from store.Checkpoint) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: creating %s: %w", dir, err)
	}
	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{dir: dir, segMax: segmentMaxBytes, notify: make(chan struct{}, 1), rseg: from.Segment, roff: from.Offset}
	var kept []uint64
	for _, seg := range segs {
		if seg < from.Segment {
			if err := os.Remove(s.segPath(seg)); err != nil {
				return nil, fmt.Errorf("spool: removing consumed segment: %w", err)
			}
			continue
		}
		kept = append(kept, seg)
	}
	if len(kept) == 0 {
		// Nothing left to read: start a fresh segment after the checkpoint.
		next := from.Segment + 1
		if from.Segment == 0 && from.Offset == 0 {
			next = 1
		}
		s.rseg, s.roff = next, 0
		if err := s.openWriter(next, 0); err != nil {
			return nil, err
		}
		s.startRetire()
		return s, nil
	}
	if s.rseg < kept[0] {
		s.rseg, s.roff = kept[0], 0
	}
	// Count what is still to be read and find the valid end of the last segment.
	for i, seg := range kept {
		start := int64(0)
		if seg == s.rseg {
			start = s.roff
		}
		n, end, err := scanSegment(s.segPath(seg), start)
		if err != nil {
			return nil, err
		}
		s.pending += n
		if i == len(kept)-1 {
			if err := s.openWriter(seg, end); err != nil {
				return nil, err
			}
		}
	}
	s.readable = s.pending
	s.startRetire()
	return s, nil
}

func (s *Spool) segPath(seg uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%016x%s", seg, segmentSuffix))
}

func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: reading %s: %w", dir, err)
	}
	var segs []uint64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, segmentSuffix) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(name, segmentSuffix), 16, 64)
		if err != nil {
			continue
		}
		segs = append(segs, n)
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i] < segs[j] })
	return segs, nil
}

// scanSegment counts the valid frames of a segment from offset start and
// returns the offset where valid data ends.
func scanSegment(path string, start int64) (count, end int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("spool: opening %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return 0, 0, fmt.Errorf("spool: seeking %s: %w", path, err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	end = start
	for {
		body, n, err := readFrame(br)
		if err != nil {
			return count, end, nil // end of valid data (EOF or torn frame)
		}
		_ = body
		count++
		end += n
	}
}

// openWriter opens seg for appending at offset off, cutting off anything
// after off (a torn frame).
func (s *Spool) openWriter(seg uint64, off int64) error {
	f, err := os.OpenFile(s.segPath(seg), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("spool: opening segment: %w", err)
	}
	if err := f.Truncate(off); err != nil {
		f.Close()
		return fmt.Errorf("spool: repairing segment tail: %w", err)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("spool: seeking segment: %w", err)
	}
	s.w, s.wbuf, s.wseg, s.woff = f, bufio.NewWriterSize(f, 1<<16), seg, off
	return nil
}

// Append writes one entry and wakes the reader. It is safe for concurrent
// use and never waits on the database.
func (s *Spool) Append(e Entry) error {
	if len(e.Upstream) > 255 {
		return errors.New("spool: upstream name longer than 255 bytes")
	}
	bodyLen := 1 + len(e.Upstream) + 8 + len(e.Payload)
	if len(e.Payload) > maxEntryBytes {
		return fmt.Errorf("spool: record of %d bytes is larger than %d", len(e.Payload), maxEntryBytes)
	}
	body := make([]byte, frameHeaderSize+bodyLen)
	b := body[frameHeaderSize:]
	b[0] = byte(len(e.Upstream))
	copy(b[1:], e.Upstream)
	binary.BigEndian.PutUint64(b[1+len(e.Upstream):], uint64(e.Received.UnixNano()))
	copy(b[1+len(e.Upstream)+8:], e.Payload)
	binary.BigEndian.PutUint32(body[0:4], uint32(bodyLen))
	binary.BigEndian.PutUint32(body[4:8], crc32.Checksum(b, crcTable))

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("spool: closed")
	}
	if s.woff > 0 && s.woff+int64(len(body)) > s.segMax {
		if err := s.rotateLocked(); err != nil {
			return err
		}
	}
	if _, err := s.wbuf.Write(body); err != nil {
		return fmt.Errorf("spool: writing: %w", err)
	}
	// Hand the frame to the kernel now: a process crash must not lose it.
	if err := s.wbuf.Flush(); err != nil {
		return fmt.Errorf("spool: writing: %w", err)
	}
	s.woff += int64(len(body))
	s.pending++
	s.readable++
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return nil
}

// rotateLocked starts the next segment. The finished one is already in
// the kernel (every append flushes), so a process crash loses nothing; its
// fsync, for power loss, happens in retireLoop unless that is behind.
func (s *Spool) rotateLocked() error {
	if err := s.wbuf.Flush(); err != nil {
		return fmt.Errorf("spool: flushing segment: %w", err)
	}
	old := s.w
	select {
	case s.retired <- old:
	default:
		if err := syncClose(old); err != nil {
			return err
		}
	}
	return s.openWriter(s.wseg+1, 0)
}

// startRetire starts the goroutine that syncs and closes finished
// segments; Close stops it and waits for it.
func (s *Spool) startRetire() {
	s.retired = make(chan *os.File, retireQueue)
	s.retireDone = make(chan struct{})
	go s.retireLoop()
}

// retireLoop syncs and closes each finished segment until Close closes
// the channel.
func (s *Spool) retireLoop() {
	defer close(s.retireDone)
	for f := range s.retired {
		if err := syncClose(f); err != nil {
			s.mu.Lock()
			if s.retireErr == nil {
				s.retireErr = err
			}
			s.mu.Unlock()
		}
	}
}

// syncClose flushes a finished segment to stable storage and closes it.
func syncClose(f *os.File) error {
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spool: syncing finished segment %s: %w", filepath.Base(f.Name()), err)
	}
	return nil
}

// Notify returns a channel that receives a value after appends.
func (s *Spool) Notify() <-chan struct{} { return s.notify }

// Read returns up to max entries that follow the read cursor, and the
// position after the last one. It returns no entries when the reader has
// caught up. Only one goroutine may read.
func (s *Spool) Read(max int) ([]Entry, store.Checkpoint, error) {
	s.mu.Lock()
	avail := s.readable
	wseg, woff := s.wseg, s.woff
	s.mu.Unlock()
	var out []Entry
	for int64(len(out)) < avail && len(out) < max {
		if s.rseg == wseg && s.roff >= woff {
			break
		}
		if s.rbuf == nil {
			if err := s.openReader(); err != nil {
				return out, s.position(), err
			}
		}
		body, n, err := readFrame(s.rbuf)
		if err != nil {
			if s.rseg < wseg {
				// End of a finished segment: move to the next one. Anything
				// but a clean end means the rest of it is unreadable.
				if !errors.Is(err, io.EOF) {
					s.mu.Lock()
					s.skipped++
					s.mu.Unlock()
				}
				s.closeReader()
				s.rseg, s.roff = s.rseg+1, 0
				continue
			}
			return out, s.position(), fmt.Errorf("spool: reading segment %d at %d: %w", s.rseg, s.roff, err)
		}
		e, err := decodeEntry(body)
		if err != nil {
			return out, s.position(), err
		}
		s.roff += n
		out = append(out, e)
	}
	s.mu.Lock()
	s.readable -= int64(len(out))
	s.mu.Unlock()
	return out, s.position(), nil
}

func (s *Spool) position() store.Checkpoint { return store.Checkpoint{Segment: s.rseg, Offset: s.roff} }

func (s *Spool) openReader() error {
	f, err := os.Open(s.segPath(s.rseg))
	if err != nil {
		return fmt.Errorf("spool: opening segment %d: %w", s.rseg, err)
	}
	if _, err := f.Seek(s.roff, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("spool: seeking segment %d: %w", s.rseg, err)
	}
	s.r, s.rbuf = f, bufio.NewReaderSize(f, 1<<16)
	return nil
}

func (s *Spool) closeReader() {
	if s.r != nil {
		s.r.Close()
	}
	s.r, s.rbuf = nil, nil
}

// Committed tells the spool that everything before cp is in the database:
// count entries as done and delete segments that are entirely consumed.
func (s *Spool) Committed(cp store.Checkpoint, entries int) error {
	s.mu.Lock()
	s.pending -= int64(entries)
	wseg := s.wseg
	s.mu.Unlock()
	segs, err := listSegments(s.dir)
	if err != nil {
		return err
	}
	for _, seg := range segs {
		if seg >= cp.Segment || seg >= wseg {
			break
		}
		if err := os.Remove(s.segPath(seg)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool: removing consumed segment: %w", err)
		}
	}
	return nil
}

// Depth returns the number of entries received and not yet committed.
func (s *Spool) Depth() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// Corrupted returns how many times an unreadable frame cut a segment short.
func (s *Spool) Corrupted() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.skipped
}

// Sync flushes the current segment to stable storage. The fsync runs
// without the lock, so appends go on meanwhile; it also reports a failed
// sync of a finished segment (once).
func (s *Spool) Sync() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	if err := s.wbuf.Flush(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("spool: flushing: %w", err)
	}
	f := s.w
	retireErr := s.retireErr
	s.retireErr = nil
	s.mu.Unlock()
	if retireErr != nil {
		return retireErr
	}
	// A rotation or Close may close f meanwhile; both sync it themselves.
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("spool: syncing: %w", err)
	}
	return nil
}

// Close syncs and closes the spool files.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.closeReader()
	err := s.wbuf.Flush()
	if serr := s.w.Sync(); err == nil {
		err = serr
	}
	if cerr := s.w.Close(); err == nil {
		err = cerr
	}
	// Finished segments still waiting are synced before Close returns.
	close(s.retired)
	s.mu.Unlock()
	<-s.retireDone
	s.mu.Lock()
	if err == nil {
		err = s.retireErr
	}
	if err != nil {
		return fmt.Errorf("spool: closing: %w", err)
	}
	return nil
}

// readFrame reads one frame and returns its body and total size.
func readFrame(r *bufio.Reader) ([]byte, int64, error) {
	var hdr [frameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, 0, err
	}
	n := binary.BigEndian.Uint32(hdr[0:4])
	if n < 9 || n > maxEntryBytes+264 {
		return nil, 0, fmt.Errorf("spool: bad frame length %d", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, 0, err
	}
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(hdr[4:8]) {
		return nil, 0, errors.New("spool: frame checksum mismatch")
	}
	return body, int64(frameHeaderSize) + int64(n), nil
}

func decodeEntry(body []byte) (Entry, error) {
	ul := int(body[0])
	if len(body) < 1+ul+8 {
		return Entry{}, errors.New("spool: frame too short")
	}
	return Entry{
		Upstream: string(body[1 : 1+ul]),
		Received: time.Unix(0, int64(binary.BigEndian.Uint64(body[1+ul:]))).UTC(),
		Payload:  body[1+ul+8:],
	}, nil
}
