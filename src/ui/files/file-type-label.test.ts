import { expect, test } from 'vitest';
import { typeLabel } from './file-type-label.ts';

test('type labels', () => {
  expect(typeLabel('image/png', 'a.png')).toBe('PNG image');
  expect(typeLabel('image/svg+xml', 'a.svg')).toBe('SVG image');
  expect(typeLabel('application/pdf', 'a.pdf')).toBe('PDF document');
  expect(typeLabel('', 'archive.tar.gz')).toBe('GZ file');
  expect(typeLabel('', 'README')).toBe('File');
  expect(typeLabel('application/octet-stream', 'data.bin')).toBe('BIN file');
});
