package cpasim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// authFirstDialer returns a go-redis dialer that sends AUTH as the very
// first command of every connection. go-redis itself always opens with
// HELLO, which CPA counts as a failed login before AUTH.
func authFirstDialer(key string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte(encodeCommand("AUTH", key))); err != nil {
			c.Close()
			return nil, err
		}
		// Read byte by byte so nothing meant for go-redis is buffered away.
		line, err := readLineUnbuffered(c)
		if err != nil {
			c.Close()
			return nil, err
		}
		if line != "+OK" {
			c.Close()
			return nil, fmt.Errorf("AUTH refused: %s", line)
		}
		_ = c.SetDeadline(time.Time{})
		return c, nil
	}
}

func readLineUnbuffered(c net.Conn) (string, error) {
	var b strings.Builder
	one := make([]byte, 1)
	for b.Len() < 512 {
		if _, err := c.Read(one); err != nil {
			return "", err
		}
		if one[0] == '\n' {
			return strings.TrimSuffix(b.String(), "\r"), nil
		}
		b.WriteByte(one[0])
	}
	return "", errors.New("reply line too long")
}

// TestGoRedisInterop reads the simulator with go-redis the way a collector
// reads CPA: pops with and without a count, a subscription with its control
// message and records, PING inside the subscription, and many reconnects
// that never add up to a ban.
func TestGoRedisInterop(t *testing.T) {
	s := newTestServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := redis.NewClient(&redis.Options{
		Addr:            s.Addr().String(),
		Dialer:          authFirstDialer(testKey),
		Protocol:        2,
		DisableIdentity: true,
		MaxRetries:      -1,
	})
	defer client.Close()

	if _, err := client.RPop(ctx, "usage").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("RPOP on an empty queue: %v, want redis.Nil ($-1)", err)
	}
	if got, err := client.RPopCount(ctx, "usage", 5).Result(); err != nil || len(got) != 0 {
		t.Fatalf("RPOP usage 5 on an empty queue: %v, %v; want an empty array (*0)", got, err)
	}
	if n, err := s.Emit(ctx, 3); err != nil || n != 3 {
		t.Fatalf("Emit: %d, %v", n, err)
	}
	syncServer(t, s)
	records, err := client.LPopCount(ctx, "usage", 10).Result()
	if err != nil || len(records) != 3 {
		t.Fatalf("LPOP usage 10: %d records, %v", len(records), err)
	}
	if !strings.Contains(records[0], `"request_id":`) || !strings.Contains(records[0], `"token_breakdown":`) {
		t.Errorf("popped record = %s", records[0])
	}
	if err := client.LPop(ctx, "errors").Err(); err == nil || err.Error() != "ERR unsupported channel 'errors'" {
		t.Errorf("LPOP errors: %v", err)
	}

	sub := client.Subscribe(ctx, "usage")
	defer sub.Close()
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil || msg.Channel != "usage" || msg.Payload != `{"support_refresh":true}` {
		t.Fatalf("first message: %+v, %v", msg, err)
	}
	if err := sub.Ping(ctx, "hello"); err != nil {
		t.Fatalf("PING inside the subscription: %v", err)
	}
	if _, err := s.Emit(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for {
		v, err := sub.Receive(ctx)
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if m, ok := v.(*redis.Message); ok {
			if !strings.Contains(m.Payload, `"request_id":`) {
				t.Errorf("record message = %s", m.Payload)
			}
			break
		}
		if p, ok := v.(*redis.Pong); !ok || p.Payload != "hello" {
			t.Fatalf("unexpected %T %+v before the record", v, v)
		}
	}
	if s.QueueLen() != 0 {
		t.Errorf("queue holds %d records while a subscriber is attached", s.QueueLen())
	}

	for i := range 50 {
		c := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Dialer: authFirstDialer(testKey), Protocol: 2, DisableIdentity: true, MaxRetries: -1})
		if err := c.RPop(ctx, "usage").Err(); err != nil && !errors.Is(err, redis.Nil) {
			t.Fatalf("reconnect %d: %v", i, err)
		}
		c.Close()
	}
	expectHTTP(t, mgmtGet(t, s, "/usage-statistics-enabled", nil), http.StatusOK, `{"usage-statistics-enabled":true}`)
}

// TestGoRedisDefaultHelloCountsAsFailure shows why the collector must not
// use go-redis as it comes: its HELLO arrives before AUTH and counts as a
// failed login, so after four earlier failures it bans the address and its
// own correct AUTH is refused.
func TestGoRedisDefaultHelloCountsAsFailure(t *testing.T) {
	s := newTestServer(t, nil)
	rc := dialRESP(t, s)
	for range 4 {
		rc.do("-ERR invalid management key\r\n", "AUTH", "wrong")
	}
	client := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Password: testKey, MaxRetries: -1})
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := client.RPop(ctx, "usage").Err()
	if err == nil || !strings.Contains(err.Error(), "IP banned due to too many failed attempts") {
		t.Fatalf("default go-redis client: %v; want the IP ban its HELLO caused", err)
	}
	res := mgmtGet(t, s, "/config", nil)
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "IP banned") {
		t.Errorf("HTTP after the ban: %d %s", res.status, res.body)
	}
}
