/**
 * Which files the page may show inline, and as what.
 *
 * The MIME type comes from the sealed metadata, which the uploader chose: we
 * only preview from an allow-list and rebuild the Blob with a type we pick,
 * so a file can never be rendered as HTML or script in our origin.
 */

/** Largest file previewed in the page; bigger ones are downloaded instead. */
export const PREVIEW_LIMIT_BYTES = 50 * 1024 * 1024;

/** How a preview is shown. */
export type PreviewKind = 'image' | 'pdf' | 'text' | 'audio' | 'video';

const IMAGE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp', 'image/svg+xml']);
const TEXT = new Set(['application/json', 'application/xml', 'application/x-yaml', 'application/yaml', 'application/javascript']);
const TEXT_EXTENSIONS = new Set(['txt', 'md', 'csv', 'log', 'json', 'yaml', 'yml', 'xml', 'ts', 'js', 'py', 'sh', 'ini', 'toml']);
const AUDIO = new Set(['audio/mpeg', 'audio/ogg', 'audio/wav', 'audio/webm', 'audio/flac', 'audio/mp4', 'audio/aac']);
const VIDEO = new Set(['video/mp4', 'video/webm', 'video/ogg']);

/** Returns how to preview a file of this type and name, or null when it is not previewable. */
export function previewKind(type: string, name: string): PreviewKind | null {
  const mime = type.split(';')[0]?.trim().toLowerCase() ?? '';
  if (IMAGE.has(mime)) return 'image';
  if (mime === 'application/pdf') return 'pdf';
  if (AUDIO.has(mime)) return 'audio';
  if (VIDEO.has(mime)) return 'video';
  // text/html is deliberately shown as source text, never rendered.
  if (mime.startsWith('text/') || TEXT.has(mime)) return 'text';
  const extension = name.includes('.') ? name.split('.').pop()?.toLowerCase() : undefined;
  if (mime === '' || mime === 'application/octet-stream') {
    if (extension !== undefined && TEXT_EXTENSIONS.has(extension)) return 'text';
  }
  return null;
}

/** Returns true when a file of `size` bytes and this kind may be previewed in the page. */
export function canPreview(type: string, name: string, size: number): boolean {
  return size <= PREVIEW_LIMIT_BYTES && previewKind(type, name) !== null;
}

/** Returns the MIME type to give the preview Blob: the file's own for media, plain text for anything textual. */
export function safePreviewType(kind: PreviewKind, type: string): string {
  if (kind === 'text') return 'text/plain;charset=utf-8';
  if (kind === 'pdf') return 'application/pdf';
  return type.split(';')[0]?.trim().toLowerCase() ?? 'application/octet-stream';
}
