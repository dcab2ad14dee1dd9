package collector

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cpam-caddy/cpam/store"
)

func entry(i int) Entry {
	return Entry{Upstream: "main", Received: time.Unix(1700000000, int64(i)).UTC(), Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))}
}

func readAll(t *testing.T, s *Spool) ([]Entry, store.Checkpoint) {
	t.Helper()
	var all []Entry
	for {
		got, pos, err := s.Read(7)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(got) == 0 {
			return all, pos
		}
		all = append(all, got...)
	}
}

func checkSequence(t *testing.T, got []Entry, from, to int) {
	t.Helper()
	if len(got) != to-from {
		t.Fatalf("read %d entries, want %d", len(got), to-from)
	}
	for i, e := range got {
		want := entry(from + i)
		if e.Upstream != want.Upstream || !e.Received.Equal(want.Received) || string(e.Payload) != string(want.Payload) {
			t.Fatalf("entry %d = %+v, want %+v", i, e, want)
		}
	}
}

func TestSpoolReplaysWhatWasNotCommitted(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir, store.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := s.Append(entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	first, cp, err := s.Read(4)
	if err != nil {
		t.Fatal(err)
	}
	checkSequence(t, first, 0, 4)
	if err := s.Committed(cp, len(first)); err != nil {
		t.Fatal(err)
	}
	rest, _ := readAll(t, s)
	checkSequence(t, rest, 4, 10)
	if s.Depth() != 6 {
		t.Errorf("depth = %d, want 6 read but uncommitted", s.Depth())
	}
	// The process dies here without committing the rest and without Close.

	again, err := OpenSpool(dir, cp)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Depth() != 6 {
		t.Errorf("depth after reopen = %d, want 6", again.Depth())
	}
	replayed, end := readAll(t, again)
	checkSequence(t, replayed, 4, 10)
	if err := again.Committed(end, len(replayed)); err != nil {
		t.Fatal(err)
	}
	if again.Depth() != 0 {
		t.Errorf("depth after commit = %d", again.Depth())
	}
	if err := again.Append(entry(10)); err != nil {
		t.Fatal(err)
	}
	next, _ := readAll(t, again)
	checkSequence(t, next, 10, 11)
}

func TestSpoolCutsATornTail(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir, store.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Append(entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	seg := s.segPath(s.wseg)
	s.Close()
	f, err := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0, 0, 0, 40, 1, 2, 3, 4, '{', '"'}) // a frame cut short by a crash
	f.Close()

	again, err := OpenSpool(dir, store.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if err := again.Append(entry(3)); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, again)
	checkSequence(t, got, 0, 4)
}

func TestSpoolRotatesAndDeletesConsumedSegments(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir, store.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.segMax = 200
	for i := range 50 {
		if err := s.Append(entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := listSegments(dir)
	if len(segs) < 5 {
		t.Fatalf("%d segments after 50 appends with a 200-byte limit", len(segs))
	}
	got, cp := readAll(t, s)
	checkSequence(t, got, 0, 50)
	if err := s.Committed(cp, len(got)); err != nil {
		t.Fatal(err)
	}
	segs, _ = listSegments(dir)
	if len(segs) != 1 || segs[0] != s.wseg {
		t.Errorf("segments left after committing everything: %v (writing %d)", segs, s.wseg)
	}
	// A restart from the committed position reads nothing old.
	s.Close()
	again, err := OpenSpool(dir, cp)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if left, _ := readAll(t, again); len(left) != 0 {
		t.Errorf("replayed %d committed entries", len(left))
	}
}

func TestSpoolSkipsACorruptFinishedSegment(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir, store.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	s.segMax = 100
	for i := range 6 {
		if err := s.Append(entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	segs, _ := listSegments(dir)
	// Flip a byte in the first segment's first frame body.
	p := filepath.Join(dir, fmt.Sprintf("%016x%s", segs[0], segmentSuffix))
	b, _ := os.ReadFile(p)
	b[frameHeaderSize+3] ^= 0xff
	os.WriteFile(p, b, 0o600)

	again, err := OpenSpool(dir, store.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	again.segMax = 100
	got, _ := readAll(t, again)
	if len(got) == 0 || len(got) >= 6 || again.Corrupted() != 1 {
		t.Errorf("read %d entries with %d corruptions; want the damaged segment skipped and counted", len(got), again.Corrupted())
	}
}

func TestSpoolConcurrentAppends(t *testing.T) {
	s, err := OpenSpool(t.TempDir(), store.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.segMax = 4096
	const writers, each = 4, 250
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := s.Append(Entry{Upstream: fmt.Sprint("u", w), Received: time.Now(), Payload: []byte(fmt.Sprint(i))}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	seen := make(map[string]int)
	total := 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for finished := false; !finished || total < writers*each; {
		select {
		case <-done:
			finished = true
		case <-s.Notify():
		case <-time.After(10 * time.Millisecond):
		}
		got, cp, err := s.Read(100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got {
			if want := fmt.Sprint(seen[e.Upstream]); string(e.Payload) != want {
				t.Fatalf("%s: payload %s out of order, want %s", e.Upstream, e.Payload, want)
			}
			seen[e.Upstream]++
		}
		total += len(got)
		if err := s.Committed(cp, len(got)); err != nil {
			t.Fatal(err)
		}
		if finished && len(got) == 0 && total < writers*each {
			t.Fatalf("reader stopped at %d of %d", total, writers*each)
		}
	}
	if s.Depth() != 0 {
		t.Errorf("depth = %d after reading everything", s.Depth())
	}
}

func TestSpoolRejectsOversizedRecords(t *testing.T) {
	s, err := OpenSpool(t.TempDir(), store.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Append(Entry{Upstream: "u", Payload: make([]byte, maxEntryBytes+1)}); err == nil {
		t.Error("accepted a record above the limit")
	}
}

// TestSpoolRetiresRotatedSegmentsInTheBackground rotates often while
// another goroutine syncs (as the ingester does when idle): every entry
// survives a close and reopen, Close waits for the finished segments'
// fsyncs, and no file handle of a finished segment stays open.
func TestSpoolRetiresRotatedSegmentsInTheBackground(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir, store.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	s.segMax = 120 // a few entries per segment
	stop := make(chan struct{})
	syncer := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				syncer <- nil
				return
			default:
			}
			if err := s.Sync(); err != nil {
				syncer <- err
				return
			}
		}
	}()
	const n = 300
	for i := range n {
		if err := s.Append(entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if err := <-syncer; err != nil {
		t.Fatalf("Sync during rotations: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Every retired file was closed: the loop has drained its queue.
	select {
	case <-s.retireDone:
	default:
		t.Fatal("Close returned before the finished segments were synced")
	}
	if _, ok := <-s.retired; ok {
		t.Fatal("a finished segment was left in the retire queue")
	}
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < n/10 {
		t.Fatalf("only %d segments for %d entries: the test did not rotate", len(segs), n)
	}
	again, err := OpenSpool(dir, store.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	got, _ := readAll(t, again)
	checkSequence(t, got, 0, n)
}
