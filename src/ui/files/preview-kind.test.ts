import { expect, test } from 'vitest';
import { canPreview, PREVIEW_LIMIT_BYTES, previewKind, safePreviewType } from './preview-kind.ts';

test('allow-listed kinds only', () => {
  expect(previewKind('image/png', 'a.png')).toBe('image');
  expect(previewKind('application/pdf', 'a.pdf')).toBe('pdf');
  expect(previewKind('text/plain; charset=utf-8', 'a.txt')).toBe('text');
  expect(previewKind('text/html', 'a.html')).toBe('text');
  expect(previewKind('', 'notes.md')).toBe('text');
  expect(previewKind('audio/mpeg', 'a.mp3')).toBe('audio');
  expect(previewKind('video/mp4', 'a.mp4')).toBe('video');
  expect(previewKind('application/octet-stream', 'a.bin')).toBeNull();
  expect(previewKind('application/x-msdownload', 'a.exe')).toBeNull();
});

test('HTML is previewed as plain text, never rendered', () => {
  expect(safePreviewType('text', 'text/html')).toBe('text/plain;charset=utf-8');
});

test('size limit', () => {
  expect(canPreview('image/png', 'a.png', PREVIEW_LIMIT_BYTES)).toBe(true);
  expect(canPreview('image/png', 'a.png', PREVIEW_LIMIT_BYTES + 1)).toBe(false);
});
