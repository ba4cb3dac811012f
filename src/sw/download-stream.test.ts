import { describe, expect, it } from 'vitest';
import { contentDisposition } from './download-stream.ts';
import { pageToWorkerSchema } from './messages.ts';

describe('contentDisposition', () => {
  it('saves as an attachment with an ASCII fallback and the UTF-8 name', () => {
    expect(contentDisposition('report.pdf')).toBe(`attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
    const h = contentDisposition('Übersicht 2024 (final).pdf');
    expect(h).toContain(`filename="_bersicht 2024 (final).pdf"`);
    expect(h).toContain(`filename*=UTF-8''%C3%9Cbersicht%202024%20%28final%29.pdf`);
  });

  it('cannot be steered by quotes, separators or control characters', () => {
    const h = contentDisposition('../../evil"; filename=x.exe\r\n.txt');
    expect(h).not.toMatch(/[\r\n]/);
    expect(h).not.toContain('/');
    expect(h.match(/"/g)).toHaveLength(2);
    expect(contentDisposition('')).toContain('filename="download"');
  });
});

describe('page → worker messages', () => {
  it('accepts a well-formed download registration and rejects others', () => {
    const stream = new ReadableStream<Uint8Array>();
    expect(pageToWorkerSchema.safeParse({ type: 'download-register', id: 'a'.repeat(32), filename: 'f', size: 3, stream }).success).toBe(true);
    expect(pageToWorkerSchema.safeParse({ type: 'download-register', id: '../x', filename: 'f', size: 3, stream }).success).toBe(false);
    expect(pageToWorkerSchema.safeParse({ type: 'download-register', id: 'a'.repeat(32), filename: 'f', size: 3, stream: 'no' }).success).toBe(false);
    expect(pageToWorkerSchema.safeParse({ type: 'skip-waiting' }).success).toBe(true);
    expect(pageToWorkerSchema.safeParse({ type: 'other' }).success).toBe(false);
  });
});
