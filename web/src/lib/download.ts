// Saving bytes the panel fetched itself as a file on the user's disk.

/**
 * Saves a Blob as a file through a temporary object URL (works in both panel
 * modes, since the bytes were fetched with the panel's own credentials). The
 * URL is revoked a minute later, long after the browser took the bytes.
 */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
