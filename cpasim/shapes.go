package cpasim

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/cpam-caddy/cpam/cpasim/mgmt"
)

// openAIUsage is the usage block of an OpenAI chat completion.
func openAIUsage(u Usage) map[string]any {
	return map[string]any{
		"prompt_tokens":             u.PromptTokens,
		"completion_tokens":         u.CompletionTokens,
		"total_tokens":              u.TotalTokens,
		"prompt_tokens_details":     map[string]any{"cached_tokens": u.CachedTokens},
		"completion_tokens_details": map[string]any{"reasoning_tokens": u.ReasoningTokens},
	}
}

func chatCompletion(id, model string, created int64, u Usage) map[string]any {
	return map[string]any{
		"id":      id,
		"object":  "chat.completion",
		"created": created,
		"model":   model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": mockReply},
			"finish_reason": "stop",
		}},
		"usage": openAIUsage(u),
	}
}

func claudeUsage(u Usage) map[string]any {
	return map[string]any{
		"input_tokens":                u.PromptTokens - u.CachedTokens,
		"cache_creation_input_tokens": 0,
		"cache_read_input_tokens":     u.CachedTokens,
		"output_tokens":               u.CompletionTokens,
	}
}

func claudeMessage(id, model string, u Usage) map[string]any {
	return map[string]any{
		"id":            id,
		"type":          "message",
		"role":          "assistant",
		"model":         model,
		"content":       []any{map[string]any{"type": "text", "text": mockReply}},
		"stop_reason":   "end_turn",
		"stop_sequence": nil,
		"usage":         claudeUsage(u),
	}
}

func responsesUsage(u Usage) map[string]any {
	return map[string]any{
		"input_tokens":          u.PromptTokens,
		"input_tokens_details":  map[string]any{"cached_tokens": u.CachedTokens},
		"output_tokens":         u.CompletionTokens,
		"output_tokens_details": map[string]any{"reasoning_tokens": u.ReasoningTokens},
		"total_tokens":          u.TotalTokens,
	}
}

func responseObject(id, model string, created int64, status string, u *Usage) map[string]any {
	obj := map[string]any{
		"id":         id,
		"object":     "response",
		"created_at": created,
		"status":     status,
		"model":      model,
		"output":     []any{},
	}
	if u != nil {
		obj["output"] = []any{map[string]any{
			"type":   "message",
			"id":     "msg_" + strings.TrimPrefix(id, "resp_"),
			"status": "completed",
			"role":   "assistant",
			"content": []any{map[string]any{
				"type": "output_text", "text": mockReply, "annotations": []any{},
			}},
		}}
		obj["usage"] = responsesUsage(*u)
	}
	return obj
}

// completionBody renders a non-stream success in the route's shape.
func completionBody(rt route, requestID, model string, created int64, u Usage) []byte {
	var v any
	switch rt {
	case routeMessages:
		v = claudeMessage("msg_"+requestID, model, u)
	case routeResponses:
		v = responseObject("resp_"+requestID, model, created, "completed", &u)
	default:
		v = chatCompletion("chatcmpl-"+requestID, model, created, u)
	}
	b, _ := json.Marshal(v)
	return b
}

// sseWriter writes server-sent events and flushes each one.
type sseWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

func (e *sseWriter) event(name string, v any) {
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	default:
		b, _ = json.Marshal(v)
	}
	var sb strings.Builder
	if name != "" {
		sb.WriteString("event: " + name + "\n")
	}
	sb.WriteString("data: ")
	sb.Write(b)
	sb.WriteString("\n\n")
	_, _ = e.w.Write([]byte(sb.String()))
	if e.f != nil {
		e.f.Flush()
	}
}

// writeStream streams a successful attempt in the route's SSE shape. The
// record is submitted once the content is out, before the terminating
// event.
func (s *Server) writeStream(w http.ResponseWriter, req *proxyRequest, m *requestMeta, c mgmt.Credential, a *attempt) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	sse := &sseWriter{w: w, f: f}
	created := s.opts.Now().Unix()
	words := strings.SplitAfter(mockReply, " ")
	switch m.route {
	case routeMessages:
		id := "msg_" + m.requestID
		start := claudeMessage(id, m.model, Usage{PromptTokens: a.usage.PromptTokens, CachedTokens: a.usage.CachedTokens})
		start["content"] = []any{}
		start["stop_reason"] = nil
		sse.event("message_start", map[string]any{"type": "message_start", "message": start})
		sse.event("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "text", "text": ""}})
		for _, wd := range words {
			sse.event("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]any{"type": "text_delta", "text": wd}})
		}
		sse.event("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
		sse.event("message_delta", map[string]any{"type": "message_delta",
			"delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil},
			"usage": map[string]any{"output_tokens": a.usage.CompletionTokens}})
		s.submitRecord(m, c, a, s.opts.Now())
		sse.event("message_stop", map[string]any{"type": "message_stop"})
	case routeResponses:
		id := "resp_" + m.requestID
		sse.event("response.created", map[string]any{"type": "response.created",
			"response": responseObject(id, m.model, created, "in_progress", nil)})
		for _, wd := range words {
			sse.event("response.output_text.delta", map[string]any{"type": "response.output_text.delta",
				"item_id": "msg_" + m.requestID, "output_index": 0, "content_index": 0, "delta": wd})
		}
		s.submitRecord(m, c, a, s.opts.Now())
		sse.event("response.completed", map[string]any{"type": "response.completed",
			"response": responseObject(id, m.model, created, "completed", &a.usage)})
	default:
		id := "chatcmpl-" + m.requestID
		chunk := func(delta map[string]any, finish any) map[string]any {
			return map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": m.model,
				"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
		}
		sse.event("", chunk(map[string]any{"role": "assistant", "content": ""}, nil))
		for _, wd := range words {
			sse.event("", chunk(map[string]any{"content": wd}, nil))
		}
		sse.event("", chunk(map[string]any{}, "stop"))
		if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
			sse.event("", map[string]any{"id": id, "object": "chat.completion.chunk", "created": created,
				"model": m.model, "choices": []any{}, "usage": openAIUsage(a.usage)})
		}
		s.submitRecord(m, c, a, s.opts.Now())
		sse.event("", "[DONE]")
	}
}
