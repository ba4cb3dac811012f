/**
 * A file's type in words for the list ("PNG image", "PDF document"), from
 * its decrypted MIME type and name.
 */

const NAMED: Record<string, string> = {
  'application/pdf': 'PDF document',
  'application/zip': 'ZIP archive',
  'application/json': 'JSON',
  'text/plain': 'Text',
  'text/markdown': 'Markdown',
  'text/csv': 'CSV table',
  'text/html': 'HTML page',
};

const FAMILY: Record<string, string> = { image: 'image', audio: 'audio', video: 'video', text: 'text', font: 'font' };

/** Returns a short human label for a file's type; "File" when nothing is known. */
export function typeLabel(type: string, name: string): string {
  const mime = type.split(';')[0]?.trim().toLowerCase() ?? '';
  const named = NAMED[mime];
  if (named !== undefined) return named;
  const [family, sub] = mime.split('/');
  const word = family === undefined ? undefined : FAMILY[family];
  if (word !== undefined && sub !== undefined && sub !== '') {
    const short = sub.replace(/^(x-|vnd\.)/, '').split(/[+.]/)[0] ?? sub;
    return `${short.toUpperCase()} ${word}`;
  }
  const dot = name.lastIndexOf('.');
  if (dot > 0 && dot < name.length - 1 && name.length - dot <= 8) return `${name.slice(dot + 1).toUpperCase()} file`;
  return 'File';
}
