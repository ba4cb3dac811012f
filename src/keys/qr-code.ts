/**
 * QR codes as plain data (module count and one SVG path), so components draw
 * them with ordinary Svelte markup: no `{@html}`, no `data:` URL for a strict
 * CSP to refuse. The `qrcode` package is loaded on demand to keep it out of
 * the first load.
 */

/** A QR code ready to draw: an SVG `viewBox` of `0 0 size size` and one path of dark modules. */
export interface QrCode {
  /** Modules per side, including the 4-module quiet zone on each side. */
  size: number;
  /** SVG path data: one 1×1 square per dark module. */
  path: string;
  /** The text the code holds. */
  text: string;
}

const QUIET_ZONE = 4;

/** Returns the QR code of `text` (error correction level M). Throws when the text is too long for any QR version. */
export async function makeQrCode(text: string): Promise<QrCode> {
  const { create } = await import('qrcode');
  const { modules } = create(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  let path = '';
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      if (modules.get(row, col) !== 0) path += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
    }
  }
  return { size: n + 2 * QUIET_ZONE, path, text };
}
