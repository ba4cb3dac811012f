import { describe, expect, it } from 'vitest';
import { TamperedError } from '../../crypto/errors.ts';
import { messageFor } from '../base/handle-error.ts';
import { Downloads } from './downloads.svelte.ts';
import { driveFile, FakeDriveServices, fileId } from './fake-drive-services.ts';
import type { DriveFile } from './file-tree.ts';
import { DriveNotices } from './notices.svelte.ts';

const text = driveFile(fileId('1'), 'notes.txt', { type: 'text/plain', size: 5 });
const picture = driveFile(fileId('2'), 'cat.png', { type: 'image/png', size: 3 });
const binary = driveFile(fileId('3'), 'tool.exe', { type: 'application/octet-stream', size: 3 });

function setUp() {
  const services = new FakeDriveServices();
  const notices = new DriveNotices();
  const files = new Map<string, DriveFile>([text, picture, binary].map((f) => [f.fileId, f]));
  const downloads = new Downloads(services, notices, (id) => files.get(id));
  const opened = (file: DriveFile, bytes: Uint8Array) =>
    services.contents.set(file.fileId, { metadata: { name: file.name, type: file.type, size: bytes.length, lastModified: 0 }, bytes });
  return { services, notices, downloads, opened };
}

describe('Downloads', () => {
  it('asks where to save first, then opens and saves, and says so', async () => {
    const { services, notices, downloads, opened } = setUp();
    opened(text, new TextEncoder().encode('hello'));
    await downloads.download(text.fileId);
    expect(services.calls).toEqual(['choose notes.txt', `open ${text.fileId}`, 'save notes.txt']);
    expect(downloads.of(text.fileId)).toBeUndefined();
    expect(notices.announcement).toBe('Saved notes.txt.');
  });

  it('does nothing more when the save picker is closed', async () => {
    const { services, notices, downloads } = setUp();
    services.destination = null;
    await downloads.download(text.fileId);
    expect(services.calls).toEqual(['choose notes.txt']);
    expect(downloads.of(text.fileId)).toBeUndefined();
    expect(notices.alert).toBeNull();
  });

  it('marks a tampered download failed and shows why; a cancelled one just goes', async () => {
    const { services, notices, downloads } = setUp();
    services.contents.set(text.fileId, new TamperedError());
    await downloads.download(text.fileId);
    expect(downloads.of(text.fileId)).toEqual({ bytesDone: 0, size: 5, state: 'failed' });
    expect(notices.alert).toEqual(messageFor('tampered'));

    notices.dismiss();
    services.contents.set(picture.fileId, new DOMException('stopped', 'AbortError'));
    await downloads.download(picture.fileId);
    expect(downloads.of(picture.fileId)).toBeUndefined();
    expect(notices.alert).toBeNull();
  });

  it('previews text in the page, and says when a file has no preview', async () => {
    const { downloads, opened } = setUp();
    opened(text, new TextEncoder().encode('hello'));
    await downloads.openPreview(text.fileId);
    expect(downloads.preview).toEqual({ fileId: text.fileId, name: 'notes.txt', status: 'ready', kind: 'text', text: 'hello', cut: false });

    await downloads.openPreview(binary.fileId);
    expect(downloads.preview).toMatchObject({ status: 'failed', problem: { title: 'No preview for this file.' } });
  });

  it('previews a picture through an object URL and frees it on close', async () => {
    const { downloads, opened } = setUp();
    opened(picture, new Uint8Array([1, 2, 3]));
    await downloads.openPreview(picture.fileId);
    const preview = downloads.preview;
    if (preview?.status !== 'ready' || preview.kind === 'text') throw new Error(`expected an image preview, got ${JSON.stringify(preview)}`);
    const blob = await fetch(preview.url).then((r) => r.blob());
    expect(blob.type).toBe('image/png');

    downloads.closePreview();
    expect(downloads.preview).toBeNull();
    await expect(fetch(preview.url)).rejects.toThrow(TypeError);
  });

  it('shows why a preview failed', async () => {
    const { services, downloads } = setUp();
    services.contents.set(text.fileId, new TamperedError());
    await downloads.openPreview(text.fileId);
    expect(downloads.preview).toEqual({ fileId: text.fileId, name: 'notes.txt', status: 'failed', problem: messageFor('tampered') });
  });
});
