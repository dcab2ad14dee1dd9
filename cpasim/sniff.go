package cpasim

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// connSet tracks every accepted connection so faults and Close can drop
// them.
type connSet struct {
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

func (cs *connSet) init() { cs.conns = make(map[*trackedConn]struct{}) }

func (cs *connSet) add(c net.Conn) *trackedConn {
	tc := &trackedConn{Conn: c, set: cs}
	cs.mu.Lock()
	cs.conns[tc] = struct{}{}
	cs.mu.Unlock()
	return tc
}

func (cs *connSet) remove(tc *trackedConn) {
	cs.mu.Lock()
	delete(cs.conns, tc)
	cs.mu.Unlock()
}

// closeAll closes every tracked connection and reports how many there were.
func (cs *connSet) closeAll() int {
	cs.mu.Lock()
	list := make([]*trackedConn, 0, len(cs.conns))
	for tc := range cs.conns {
		list = append(list, tc)
	}
	cs.mu.Unlock()
	for _, tc := range list {
		_ = tc.Close()
	}
	return len(list)
}

func (cs *connSet) len() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.conns)
}

// trackedConn removes itself from its set when closed.
type trackedConn struct {
	net.Conn
	set  *connSet
	once sync.Once
}

// Close closes the connection and forgets it.
func (tc *trackedConn) Close() error {
	err := tc.Conn.Close()
	tc.once.Do(func() { tc.set.remove(tc) })
	return err
}

// CloseWrite half-closes a TCP connection.
func (tc *trackedConn) CloseWrite() error {
	if cw, ok := tc.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// sniffedConn replays the bytes read while classifying a connection.
type sniffedConn struct {
	net.Conn
	br *bufio.Reader
}

// Read reads the replayed bytes first, then the connection.
func (c *sniffedConn) Read(p []byte) (int, error) { return c.br.Read(p) }

// CloseWrite half-closes the underlying connection when it supports it.
func (c *sniffedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// connListener feeds classified HTTP connections to the net/http server.
type connListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// Accept returns the next HTTP connection.
func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept.
func (l *connListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr returns the shared listen address.
func (l *connListener) Addr() net.Addr { return l.addr }

// handoff passes c to the HTTP server, or closes it when the server is
// gone.
func (l *connListener) handoff(ctx context.Context, c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.done:
		_ = c.Close()
	case <-ctx.Done():
		_ = c.Close()
	}
}

// acceptLoop accepts TCP connections until the listener closes.
func (s *Server) acceptLoop() {
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.opts.ErrorLog.Printf("cpasim: accept: %v; retrying in %v", err, backoff)
				t := time.NewTimer(backoff)
				select {
				case <-t.C:
				case <-s.ctx.Done():
					t.Stop()
					return
				}
				continue
			}
			s.opts.ErrorLog.Printf("cpasim: accept: %v", err)
			return
		}
		backoff = 0
		tc := s.conns.add(c)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.classify(tc)
		}()
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// Protocol prefixes a RESP client may start with; only arrays are served.
func isRESPPrefix(b byte) bool {
	switch b {
	case '*', '$', '+', '-', ':':
		return true
	}
	return false
}

// classify runs the TLS handshake when configured, sniffs the first byte
// and routes the connection to HTTP or RESP.
func (s *Server) classify(tc *trackedConn) {
	var conn net.Conn = tc
	deadline := time.Now().Add(s.opts.SniffTimeout)
	if s.opts.TLSConfig != nil {
		tlsConn := tls.Server(tc, s.opts.TLSConfig)
		hctx, cancel := context.WithDeadline(s.ctx, deadline)
		err := tlsConn.HandshakeContext(hctx)
		cancel()
		if err != nil {
			_ = tc.Close()
			return
		}
		switch tlsConn.ConnectionState().NegotiatedProtocol {
		case "h2", "http/1.1":
			s.httpLn.handoff(s.ctx, tlsConn)
			return
		}
		conn = tlsConn
	}
	if err := conn.SetReadDeadline(deadline); err != nil {
		_ = conn.Close()
		return
	}
	br := bufio.NewReaderSize(conn, 4096)
	first, err := br.Peek(1)
	if err != nil {
		_ = conn.Close()
		return
	}
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		_ = conn.Close()
		return
	}
	if !isRESPPrefix(first[0]) {
		s.httpLn.handoff(s.ctx, &sniffedConn{Conn: conn, br: br})
		return
	}
	if first[0] != '*' {
		_, _ = conn.Write([]byte("-ERR protocol error\r\n"))
		lingerClose(conn)
		return
	}
	s.serveRESP(conn, br, peerIP(tc.RemoteAddr().String()))
}

// lingerClose half-closes conn and drains what the client already sent
// before closing, so a final reply is not destroyed by a TCP reset.
func lingerClose(conn net.Conn) {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	_, _ = io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
	_ = conn.Close()
}
