// Pure logic of the System page: the model catalogue merged from CPA's
// /model-definitions/:channel answers, and its search.

/** Channels whose static catalogue CPA serves at /model-definitions/:channel. */
export const MODEL_CHANNELS = ['claude', 'codex', 'gemini', 'gemini-cli', 'vertex', 'aistudio', 'antigravity', 'kimi', 'xai'] as const;

export interface ModelDefinition {
  id: string;
  display_name?: string;
  owned_by?: string;
  context_length?: number;
}

export interface CatalogModel {
  id: string;
  name: string;
  channels: string[];
}

/** One list of models, by id, with every channel that serves each. */
export function mergeCatalog(answers: readonly { channel: string; models: readonly ModelDefinition[] }[]): CatalogModel[] {
  const byId = new Map<string, CatalogModel>();
  for (const a of answers) {
    for (const m of a.models) {
      if (!m.id) continue;
      const cur = byId.get(m.id);
      if (cur) {
        if (!cur.channels.includes(a.channel)) cur.channels.push(a.channel);
      } else {
        byId.set(m.id, { id: m.id, name: m.display_name ?? m.id, channels: [a.channel] });
      }
    }
  }
  return [...byId.values()].sort((x, y) => x.id.localeCompare(y.id));
}

/** Models whose id, name or channel contains every word of the search. */
export function searchModels(models: readonly CatalogModel[], search: string): CatalogModel[] {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...models];
  return models.filter((m) => {
    const hay = (m.id + ' ' + m.name + ' ' + m.channels.join(' ')).toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}
