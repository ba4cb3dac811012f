/**
 * Standard base64 (with padding) for the recovery kit file, which people may
 * open in a text editor, print or paste. Strict on input.
 */

/** Returns `bytes` as standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  // Chunked: String.fromCharCode with a huge spread overflows the call stack.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Decodes standard base64; whitespace (line breaks from the kit file) is
 * ignored. Returns null when the text is not valid base64.
 */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return null;
  const binary = atob(compact);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
