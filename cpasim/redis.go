package cpasim

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"
)

// respWriteTimeout bounds a single reply write to a RESP client that stops
// reading.
const respWriteTimeout = 10 * time.Second

// respSession is one RESP connection.
type respSession struct {
	s      *Server
	conn   net.Conn
	r      *respReader
	w      *respWriter
	ip     string
	authed bool

	sub      *subscriber
	pumpStop context.CancelFunc
	pumpDone chan struct{}
}

// serveRESP runs the RESP command loop until the connection ends.
func (s *Server) serveRESP(conn net.Conn, br *bufio.Reader, ip string) {
	ss := &respSession{
		s:    s,
		conn: conn,
		r:    &respReader{br: br},
		ip:   ip,
	}
	ss.w = newRESPWriter(conn, func() {
		_ = conn.SetWriteDeadline(time.Now().Add(respWriteTimeout))
	})
	defer ss.stopPump()

	refusal := ""
	switch {
	case s.opts.Home:
		refusal = "ERR redis usage output disabled in home mode"
	case s.opts.RESPRegression:
		refusal = "ERR RESP AUTH disabled; use mTLS"
	}
	if refusal != "" {
		// Answer the first command, then hang up.
		_ = conn.SetReadDeadline(time.Now().Add(s.opts.SniffTimeout))
		if _, err := ss.r.readCommand(); err != nil && !errors.Is(err, errProtocol) {
			_ = conn.Close()
			return
		}
		_ = ss.w.errorLine(refusal)
		lingerClose(conn)
		return
	}
	for {
		if !s.managementAvailable() {
			lingerClose(conn)
			return
		}
		args, err := ss.r.readCommand()
		if err != nil {
			if errors.Is(err, errProtocol) {
				_ = ss.w.errorLine("ERR protocol error")
				ss.w.stop()
				lingerClose(conn)
				return
			}
			_ = conn.Close()
			return
		}
		if !s.managementAvailable() {
			lingerClose(conn)
			return
		}
		if done := ss.handle(args); done {
			return
		}
	}
}

// handle executes one command and reports whether the connection ended.
func (ss *respSession) handle(args []string) bool {
	if len(args) == 0 {
		return ss.reply(ss.w.errorLine("ERR empty command"))
	}
	name := strings.ToLower(args[0])
	if ss.sub != nil {
		return ss.handleSubscribed(name, args[1:])
	}
	if name == "auth" {
		return ss.auth(args[1:])
	}
	if !ss.authed {
		res := ss.s.guard.authorize(ss.s.ctx, ss.ip, "")
		if res.msg == msgMissingKey {
			return ss.reply(ss.w.errorLine("NOAUTH Authentication required."))
		}
		return ss.reply(ss.w.errorLine("ERR " + res.msg))
	}
	switch name {
	case "lpop", "rpop":
		return ss.pop(name, args[1:])
	case "subscribe":
		return ss.subscribe(args[1:])
	}
	return ss.reply(ss.w.errorLine("ERR unknown command '" + name + "'"))
}

// reply turns a write error into the end of the connection.
func (ss *respSession) reply(err error) bool {
	if err != nil {
		_ = ss.conn.Close()
		return true
	}
	return false
}

func wrongArgs(cmd string) string {
	return "ERR wrong number of arguments for '" + cmd + "' command"
}

func (ss *respSession) auth(args []string) bool {
	if len(args) < 1 || len(args) > 2 {
		return ss.reply(ss.w.errorLine(wrongArgs("auth")))
	}
	res := ss.s.guard.authorize(ss.s.ctx, ss.ip, args[len(args)-1])
	if !res.ok() {
		return ss.reply(ss.w.errorLine("ERR " + res.msg))
	}
	ss.authed = true
	return ss.reply(ss.w.simple("OK"))
}

func (ss *respSession) pop(cmd string, args []string) bool {
	if len(args) < 1 || len(args) > 2 {
		return ss.reply(ss.w.errorLine(wrongArgs(cmd)))
	}
	if args[0] != ChannelUsage {
		return ss.reply(ss.w.errorLine("ERR unsupported channel '" + args[0] + "'"))
	}
	n := 1
	if len(args) == 2 {
		var err error
		if n, err = strconv.Atoi(args[1]); err != nil || n <= 0 {
			return ss.reply(ss.w.errorLine("ERR value is not an integer or out of range"))
		}
	}
	// A pop and its reply are one step for DropConnections (see popMu).
	ss.s.popMu.RLock()
	defer ss.s.popMu.RUnlock()
	items := ss.s.queue.pop(n)
	if len(args) == 2 {
		return ss.reply(ss.w.bulkArray(items))
	}
	if len(items) == 0 {
		return ss.reply(ss.w.nilBulk())
	}
	return ss.reply(ss.w.bulk(items[0]))
}

func (ss *respSession) subscribe(args []string) bool {
	if len(args) != 1 {
		return ss.reply(ss.w.errorLine(wrongArgs("subscribe")))
	}
	ch := args[0]
	if ch != ChannelUsage && ch != ChannelErrors {
		return ss.reply(ss.w.errorLine("ERR unsupported channel '" + ch + "'"))
	}
	sub := ss.s.hub.subscribe(ch)
	if sub == nil {
		_ = ss.conn.Close()
		return true
	}
	ss.sub = sub
	if err := ss.w.subscription("subscribe", ch, 1); err != nil {
		_ = ss.conn.Close()
		return true
	}
	ctx, cancel := context.WithCancel(ss.s.ctx)
	ss.pumpStop = cancel
	ss.pumpDone = make(chan struct{})
	go func() {
		defer close(ss.pumpDone)
		ss.pump(ctx, sub)
	}()
	return false
}

// pump writes published messages to the client. When the hub drops the
// subscriber, the buffered messages are written and the connection ends.
func (ss *respSession) pump(ctx context.Context, sub *subscriber) {
	for {
		if err := ss.s.faults.waitUnstalled(ctx); err != nil {
			return
		}
		select {
		case msg, ok := <-sub.ch:
			if !ok {
				// Dropped: half-close so the client reads what was sent,
				// and make the command loop give up on the connection.
				ss.w.stop()
				if cw, ok := ss.conn.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				}
				_ = ss.conn.SetReadDeadline(time.Now().Add(time.Second))
				return
			}
			if err := ss.w.message(sub.channel, msg); err != nil {
				ss.s.discard(sub, msg)
				_ = ss.conn.Close()
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// stopPump ends the subscription pump, if any, and unsubscribes.
func (ss *respSession) stopPump() {
	if ss.sub == nil {
		return
	}
	if ss.pumpStop != nil {
		ss.pumpStop()
		<-ss.pumpDone
		ss.pumpStop = nil
	}
	ss.s.hub.unsubscribe(ss.sub)
	// What is still buffered never reaches the client: CPA loses it too.
	for msg := range ss.sub.ch {
		ss.s.discard(ss.sub, msg)
	}
}

func (ss *respSession) handleSubscribed(name string, args []string) bool {
	switch name {
	case "ping":
		var msg *string
		if len(args) > 0 {
			msg = &args[0]
		}
		return ss.reply(ss.w.pong(msg))
	case "unsubscribe":
		ch := ss.sub.channel
		ss.stopPump()
		_ = ss.w.subscription("unsubscribe", ch, 0)
		ss.w.stop()
		lingerClose(ss.conn)
		return true
	case "quit":
		ss.stopPump()
		_ = ss.w.simple("OK")
		ss.w.stop()
		lingerClose(ss.conn)
		return true
	}
	return ss.reply(ss.w.errorLine("ERR unknown command '" + name + "'"))
}
