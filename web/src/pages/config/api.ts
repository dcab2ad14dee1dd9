// Calls of the configuration page that read or write config.yaml. The text
// holds the bcrypt hash of the management secret and plaintext provider
// keys: it is shown to the admin in the editor but never logged.
import type { ApiClient } from '../../api/client';

/** The query of the visual editor (GET /config, mapped to scalar settings). */
export const CONFIG_KEY = ['cpa', 'config-settings'] as const;
/** The query of the raw config.yaml text. */
export const CONFIG_YAML_KEY = ['cpa', 'config-yaml'] as const;

/** GET /config.yaml as text (read as a Response so a document starting with "{" is not taken for JSON). */
export async function fetchConfigYaml(api: ApiClient, signal?: AbortSignal): Promise<string> {
  const res = await api.managementResponse('/config.yaml', { signal });
  return res.text();
}

/** PUT /config.yaml with the raw text; CPA validates, writes and hot-reloads it. */
export async function putConfigYaml(api: ApiClient, text: string): Promise<void> {
  await api.management<unknown>('/config.yaml', { method: 'PUT', rawBody: text, contentType: 'application/yaml' });
}
