package collector

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrRESPUnavailable means CPA's port does not speak RESP to us: an HTTP
// proxy in between (the "unsupported RESP prefix 'H'" case), CPA v7.1.17's
// "RESP AUTH disabled", Home mode, or a CPA too old for RESP. The auto mode
// falls back to HTTP polling.
var ErrRESPUnavailable = errors.New("CPA's port does not serve RESP usage")

// respDialer returns a go-redis dialer that authenticates before go-redis
// sends anything. go-redis always opens with HELLO (and may send CLIENT
// SETINFO), and CPA counts every command before AUTH as a failed login; five
// of those ban the host for 30 minutes. Sending AUTH ourselves first makes
// HELLO arrive authenticated, where CPA answers "unknown command" and
// go-redis falls back to RESP2.
func respDialer(base *url.URL, key string, insecure bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		var conn net.Conn
		var err error
		if base.Scheme == "https" {
			// No ALPN: CPA routes a TLS connection that negotiated h2 or
			// http/1.1 to HTTP, and sniffs the rest for RESP.
			td := &tls.Dialer{NetDialer: d, Config: &tls.Config{
				ServerName:         base.Hostname(),
				InsecureSkipVerify: insecure, //nolint:gosec // opted in by tls_insecure_skip_verify
			}}
			conn, err = td.DialContext(ctx, network, addr)
		} else {
			conn, err = d.DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		if err := authenticate(ctx, conn, key); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
}

// authenticate sends AUTH and reads CPA's one-line answer without buffering
// past it.
func authenticate(ctx context.Context, conn net.Conn, key string) error {
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	defer conn.SetDeadline(time.Time{})
	cmd := fmt.Sprintf("*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(key), key)
	if _, err := conn.Write([]byte(cmd)); err != nil {
		return fmt.Errorf("sending AUTH: %w", err)
	}
	line, err := readLine(conn)
	if err != nil {
		if errors.Is(err, errLineTooLong) {
			return ErrRESPUnavailable
		}
		// A connection closed without an answer: CPA's management is off.
		return fmt.Errorf("%w: connection closed after AUTH (%v)", ErrRESPUnavailable, err)
	}
	switch {
	case line == "+OK":
		return nil
	case strings.HasPrefix(line, "HTTP/"):
		return fmt.Errorf("%w: an HTTP server answered (is an HTTP proxy in front of CPA?)", ErrRESPUnavailable)
	case strings.HasPrefix(line, "-"):
		msg := strings.TrimPrefix(line, "-")
		if known, ok := classifyCPAError(msg); ok {
			return known
		}
		return fmt.Errorf("%w: %s", ErrRESPUnavailable, strings.TrimPrefix(msg, "ERR "))
	}
	return fmt.Errorf("%w: unexpected answer to AUTH", ErrRESPUnavailable)
}

var errLineTooLong = errors.New("line too long")

// readLine reads one CRLF-terminated line a byte at a time, so that nothing
// after it is consumed.
func readLine(conn net.Conn) (string, error) {
	var b strings.Builder
	one := make([]byte, 1)
	for b.Len() < 1024 {
		if _, err := conn.Read(one); err != nil {
			return "", err
		}
		if one[0] == '\n' {
			return strings.TrimSuffix(b.String(), "\r"), nil
		}
		b.WriteByte(one[0])
	}
	return "", errLineTooLong
}

// newRESPClient returns a go-redis client for CPA's port that sends nothing
// before our AUTH.
func newRESPClient(base *url.URL, key string, insecure bool) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                  hostPort(base),
		Dialer:                respDialer(base, key, insecure),
		Protocol:              2,
		DisableIdentity:       true,
		MaxRetries:            -1, // retries are ours, with backoff
		PoolSize:              2,
		MinIdleConns:          0,
		ReadTimeout:           -1, // subscriptions wait indefinitely; pops use contexts
		WriteTimeout:          10 * time.Second,
		DialTimeout:           10 * time.Second,
		ContextTimeoutEnabled: true,
	})
}

// hostPort is the dial address of a CPA base URL.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// respError turns a go-redis error into the collector's errors.
func respError(err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		return err
	}
	msg := err.Error()
	if known, ok := classifyCPAError(msg); ok {
		return known
	}
	switch {
	case strings.Contains(msg, "unsupported RESP prefix"),
		strings.Contains(msg, "RESP AUTH disabled"),
		strings.Contains(msg, "disabled in home mode"),
		strings.Contains(msg, "unknown command 'rpop'"),
		strings.Contains(msg, "unknown command 'subscribe'"):
		return fmt.Errorf("%w: %s", ErrRESPUnavailable, msg)
	}
	return err
}
