/**
 * Writes Sealdrop's PNG icons into public/ from the same drawing as
 * public/icon.svg (a white padlock on the accent blue), with nothing but
 * Node: shapes are rasterised here with 4×4 supersampling and the PNG is
 * encoded with node:zlib. Run `node tools/make-icons.mjs` after changing the
 * drawing; the outputs are committed.
 *
 *   icon-192.png, icon-512.png   purpose "any": rounded square, transparent corners
 *   icon-maskable-512.png        purpose "maskable": full bleed, lock inside the 80 % safe zone
 */
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BLUE = [0x1d, 0x4e, 0xd8];
const WHITE = [0xff, 0xff, 0xff];

/** Inside a rounded rectangle (x, y, w, h, r) in 64-unit drawing space. */
function inRoundRect(px, py, x, y, w, h, r) {
  if (px < x || py < y || px > x + w || py > y + h) return false;
  const cx = Math.min(Math.max(px, x + r), x + w - r);
  const cy = Math.min(Math.max(py, y + r), y + h - r);
  return (px - cx) ** 2 + (py - cy) ** 2 <= r * r;
}

/** The lock's shackle: the path "M20 30v-6a12 12 0 0 1 24 0v6" stroked 5 wide. */
function inShackle(px, py) {
  const half = 2.5;
  if (py >= 24 && py <= 30 && (Math.abs(px - 20) <= half || Math.abs(px - 44) <= half)) return true;
  if (py > 24) return false;
  const d = Math.hypot(px - 32, py - 24);
  return Math.abs(d - 12) <= half;
}

/** Colour (RGBA) at a point of the 64-unit drawing; `full` fills the corners (maskable). */
function paint(px, py, full) {
  const inBack = full || inRoundRect(px, py, 0, 0, 64, 64, 14);
  if (!inBack) return [0, 0, 0, 0];
  if (Math.hypot(px - 32, py - 40) <= 4) return [...BLUE, 255];
  if (inRoundRect(px, py, 15, 29, 34, 24, 5) || inShackle(px, py)) return [...WHITE, 255];
  return [...BLUE, 255];
}

/** Renders `size`×`size` RGBA pixels; the lock is scaled by `scale` about the centre. */
function render(size, { full = false, scale = 1 } = {}) {
  const px = Buffer.alloc(size * size * 4);
  const n = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const u = ((x + (sx + 0.5) / n) / size) * 64;
          const v = ((y + (sy + 0.5) / n) / size) * 64;
          // The background keeps its full size; only the lock shrinks into the safe zone.
          const lu = 32 + (u - 32) / scale;
          const lv = 32 + (v - 32) / scale;
          const back = paint(u, v, full);
          const c = back[3] === 0 ? back : paint(lu, lv, true);
          const a = c[3] / 255;
          acc[0] += c[0] * a;
          acc[1] += c[1] * a;
          acc[2] += c[2] * a;
          acc[3] += c[3];
        }
      }
      const samples = n * n;
      const alpha = acc[3] / samples;
      const o = (y * size + x) * 4;
      const w = alpha === 0 ? 0 : 255 / alpha / samples;
      px[o] = Math.round(acc[0] * w);
      px[o + 1] = Math.round(acc[1] * w);
      px[o + 2] = Math.round(acc[2] * w);
      px[o + 3] = Math.round(alpha);
    }
  }
  return px;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** Encodes RGBA pixels as a PNG (colour type 6, 8 bits, no filtering). */
export function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8;
  header[9] = 6;
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const out = new URL('../public/', import.meta.url);
writeFileSync(new URL('icon-192.png', out), encodePng(192, render(192)));
writeFileSync(new URL('icon-512.png', out), encodePng(512, render(512)));
// Maskable: platforms crop to a circle or squircle of 80 %; the lock is shrunk to fit well inside it.
writeFileSync(new URL('icon-maskable-512.png', out), encodePng(512, render(512, { full: true, scale: 0.7 })));
console.log('Wrote public/icon-192.png, public/icon-512.png, public/icon-maskable-512.png');
