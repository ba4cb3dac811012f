/**
 * Reading a file again through a `FileSystemFileHandle` the browser kept
 * (Chromium): the permission calls are not in TypeScript's DOM library yet
 * (WICG File System Access), so they are found at run time.
 */

type ReadPermission = (descriptor: { mode: 'read' }) => Promise<PermissionState>;

function permissionCall(handle: FileSystemFileHandle, name: 'queryPermission' | 'requestPermission'): ReadPermission | null {
  const call: unknown = Reflect.get(handle, name);
  if (typeof call !== 'function') return null;
  return (descriptor) => Promise.resolve(Reflect.apply(call, handle, [descriptor])).then((state) => (state === 'granted' || state === 'denied' ? state : 'prompt'));
}

/**
 * Returns the file behind `handle` when reading it is (or, once asked, gets)
 * allowed; null when the person refuses. Call it from a click: asking needs
 * the user's gesture. Rejects when the file is gone or unreadable.
 */
export async function reopenFile(handle: FileSystemFileHandle): Promise<File | null> {
  const query = permissionCall(handle, 'queryPermission');
  const request = permissionCall(handle, 'requestPermission');
  let state: PermissionState = query === null ? 'granted' : await query({ mode: 'read' });
  if (state !== 'granted' && request !== null) state = await request({ mode: 'read' });
  return state === 'granted' ? handle.getFile() : null;
}
