package mgmt

// modelDef is one entry of the static model catalog served by
// /model-definitions/:channel and used to resolve the models of
// credentials that list none.
type modelDef struct {
	ID                  string    `json:"id"`
	Object              string    `json:"object"`
	Created             int64     `json:"created"`
	OwnedBy             string    `json:"owned_by"`
	Type                string    `json:"type"`
	DisplayName         string    `json:"display_name"`
	ContextLength       int       `json:"context_length"`
	MaxCompletionTokens int       `json:"max_completion_tokens"`
	Thinking            *thinking `json:"thinking,omitempty"`
}

// thinking describes a model's reasoning budget range.
type thinking struct {
	Min            int  `json:"min"`
	Max            int  `json:"max"`
	ZeroAllowed    bool `json:"zero_allowed"`
	DynamicAllowed bool `json:"dynamic_allowed"`
}

func def(id, owner, typ, display string, ctx, maxOut int, th *thinking) modelDef {
	return modelDef{ID: id, Object: "model", Created: 1759276800, OwnedBy: owner, Type: typ,
		DisplayName: display, ContextLength: ctx, MaxCompletionTokens: maxOut, Thinking: th}
}

var (
	claudeThinking = &thinking{Min: 1024, Max: 64000, ZeroAllowed: true, DynamicAllowed: false}
	geminiThinking = &thinking{Min: 128, Max: 32768, ZeroAllowed: false, DynamicAllowed: true}
	flashThinking  = &thinking{Min: 0, Max: 24576, ZeroAllowed: true, DynamicAllowed: true}
)

func geminiModels(owner, typ string) []modelDef {
	return []modelDef{
		def("gemini-2.5-pro", owner, typ, "Gemini 2.5 Pro", 1048576, 65536, geminiThinking),
		def("gemini-2.5-flash", owner, typ, "Gemini 2.5 Flash", 1048576, 65536, flashThinking),
		def("gemini-2.5-flash-lite", owner, typ, "Gemini 2.5 Flash Lite", 1048576, 65536, flashThinking),
	}
}

// modelCatalog maps a channel to its static model list.
var modelCatalog = map[string][]modelDef{
	"claude": {
		def("claude-opus-4-1", "anthropic", "claude", "Claude Opus 4.1", 200000, 32000, claudeThinking),
		def("claude-sonnet-4-5", "anthropic", "claude", "Claude Sonnet 4.5", 200000, 64000, claudeThinking),
		def("claude-haiku-4-5", "anthropic", "claude", "Claude Haiku 4.5", 200000, 64000, claudeThinking),
	},
	"codex": {
		def("gpt-5", "openai", "openai", "GPT 5", 400000, 128000, nil),
		def("gpt-5-codex", "openai", "openai", "GPT 5 Codex", 400000, 128000, nil),
		def("gpt-5-codex-mini", "openai", "openai", "GPT 5 Codex Mini", 400000, 128000, nil),
	},
	"gemini":       geminiModels("google", "gemini"),
	"gemini-cli":   geminiModels("google", "gemini"),
	"vertex":       geminiModels("google", "gemini"),
	"aistudio":     geminiModels("google", "gemini"),
	"interactions": geminiModels("google", "gemini"),
	"antigravity": {
		def("gemini-3-pro-preview", "antigravity", "antigravity", "Gemini 3 Pro Preview", 1048576, 65535, geminiThinking),
		def("gemini-2.5-flash", "antigravity", "antigravity", "Gemini 2.5 Flash", 1048576, 65535, flashThinking),
		def("claude-sonnet-4-5-thinking", "antigravity", "antigravity", "Claude Sonnet 4.5 (Thinking)", 200000, 64000, claudeThinking),
	},
	"kimi": {
		def("kimi-k2", "moonshot", "kimi", "Kimi K2", 262144, 32768, nil),
		def("kimi-k2-thinking", "moonshot", "kimi", "Kimi K2 Thinking", 262144, 32768, nil),
	},
	"xai": {
		def("grok-4", "xai", "xai", "Grok 4", 256000, 32768, nil),
		def("grok-code-fast-1", "xai", "xai", "Grok Code Fast 1", 256000, 32768, nil),
	},
}

// catalogIDs returns the model ids of a channel.
func catalogIDs(channel string) []string {
	defs := modelCatalog[channel]
	out := make([]string, 0, len(defs))
	for _, d := range defs {
		out = append(out, d.ID)
	}
	return out
}
