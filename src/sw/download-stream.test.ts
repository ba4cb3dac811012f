import { describe, expect, it } from 'vitest';
import { TamperedError } from '../crypto/index.ts';
import { contentDisposition, handleDownloadFetch, registerDownload } from './download-stream.ts';
import { DOWNLOAD_PREFIX, pageToWorkerSchema } from './messages.ts';

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

describe('a download whose stream fails at the very end', () => {
  it('answers with a body that errors and stays shorter than its Content-Length, so the browser marks it failed', async () => {
    // What openPayloadStream does when the payload digest differs: every segment
    // but the last is delivered, then the stream errors instead of closing.
    const id = 'd'.repeat(32);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(1000));
        controller.error(new TamperedError('The file’s content does not match what its owner signed.'));
      },
    });
    registerDownload({ type: 'download-register', id, filename: 'report.pdf', size: 1500, stream }, undefined);
    const origin = 'http://localhost:5173';
    let answer: Response | undefined;
    const event = {
      request: new Request(`${origin}${DOWNLOAD_PREFIX}${id}`),
      respondWith: (r: Response | Promise<Response>) => {
        void Promise.resolve(r).then((res) => (answer = res));
      },
    };
    expect(handleDownloadFetch(event as unknown as FetchEvent, origin)).toBe(true);
    await Promise.resolve();
    if (answer === undefined) throw new Error('no response');
    expect(answer.headers.get('Content-Length')).toBe('1500');
    const reader = answer.body?.getReader();
    let received = 0;
    const failure = await (async () => {
      for (;;) {
        const next = await reader?.read();
        if (next === undefined || next.done) return null;
        received += next.value.length;
      }
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TamperedError);
    expect(received).toBeLessThan(1500);
  });
});
