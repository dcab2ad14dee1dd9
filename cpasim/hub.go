package cpasim

import "sync"

// Channel names of the RESP subscription.
const (
	ChannelUsage  = "usage"
	ChannelErrors = "errors"
)

// subscriberBuffer is CPA's per-subscriber buffer size.
const subscriberBuffer = 256

var (
	msgSupportRefresh = []byte(`{"support_refresh":true}`)
	msgRefresh        = []byte(`{"refresh":true}`)
)

// subscriber is one RESP subscription. The hub closes ch when the
// subscriber is removed (overflow, management switched off, restart).
type subscriber struct {
	channel string
	ch      chan []byte
}

// hub fans published messages out to subscribers.
type hub struct {
	mu     sync.Mutex
	subs   map[string]map[*subscriber]struct{}
	closed bool
	// usageSubscriptions counts subscriptions to the usage channel.
	usageSubscriptions int64
}

func newHub() *hub {
	return &hub{subs: make(map[string]map[*subscriber]struct{})}
}

// subscribe registers a subscriber. A usage subscriber finds
// {"support_refresh":true} as its first message. It returns nil when the
// hub is closed.
func (h *hub) subscribe(channel string) *subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	sub := &subscriber{channel: channel, ch: make(chan []byte, subscriberBuffer)}
	if channel == ChannelUsage {
		sub.ch <- msgSupportRefresh
		h.usageSubscriptions++
	}
	set := h.subs[channel]
	if set == nil {
		set = make(map[*subscriber]struct{})
		h.subs[channel] = set
	}
	set[sub] = struct{}{}
	return sub
}

// unsubscribe removes sub if it is still registered.
func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(sub)
}

func (h *hub) removeLocked(sub *subscriber) {
	set := h.subs[sub.channel]
	if _, ok := set[sub]; !ok {
		return
	}
	delete(set, sub)
	close(sub.ch)
}

// publish copies msg to every subscriber of channel. A subscriber whose
// buffer is full is removed and its channel closed. Like CPA, it reports
// whether the channel had subscribers at all (a record that overflowed the
// only subscriber is lost, not queued), and how many took the message.
func (h *hub) publish(channel string, msg []byte) (had bool, delivered int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.subs[channel]
	had = len(subs) > 0
	for sub := range subs {
		select {
		case sub.ch <- msg:
			delivered++
		default:
			h.removeLocked(sub)
		}
	}
	return had, delivered
}

// count returns the number of subscribers of channel.
func (h *hub) count(channel string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[channel])
}

// dropAll removes every subscriber, which ends their connections.
func (h *hub) dropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.subs {
		for sub := range set {
			h.removeLocked(sub)
		}
	}
}

// close drops every subscriber and refuses new ones.
func (h *hub) close() {
	h.dropAll()
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
}
