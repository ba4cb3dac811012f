/**
 * The manifest's POST share target: the system share sheet sends a file to
 * `SHARE_TARGET_PATH`; the worker keeps the files in its memory only (never
 * in a cache or on disk: they are plaintext), answers with a redirect to the
 * app, and hands them to the first page that asks ({@link takeSharedFiles}),
 * which seals and uploads them like dropped files.
 */
/// <reference lib="webworker" />

/** Where the manifest's `share_target.action` points. */
export const SHARE_TARGET_PATH = '/share-target';
/** Form field of the shared files (the manifest's `share_target.params.files[0].name`). */
export const SHARE_FIELD = 'file';
/** Where the app is sent after a share; the page then asks for the files. */
export const SHARED_LANDING = '/?shared=1';

let held: File[] = [];

/** Whether `request` is the share target's POST on our origin. */
export function isShareTarget(request: Request, origin: string): boolean {
  const url = new URL(request.url);
  return request.method === 'POST' && url.origin === origin && url.pathname === SHARE_TARGET_PATH;
}

/** Reads the shared files out of the form and keeps them; answers with a 303 to the app. */
export async function receiveShare(request: Request): Promise<Response> {
  try {
    const form = await request.formData();
    const files = form.getAll(SHARE_FIELD).filter((v): v is File => v instanceof File && v.name !== '');
    held = [...held, ...files];
  } catch {
    // A malformed share carries nothing to keep; the app opens as usual.
  }
  return Response.redirect(SHARED_LANDING, 303);
}

/** Gives the held files to one page and forgets them. */
export function takeSharedFiles(): File[] {
  const files = held;
  held = [];
  return files;
}
