/**
 * Deleting one of this browser's IndexedDB databases (sign-out with "forget
 * my keys on this device"): the journal, the outbox and the listing cache
 * each keep a database of their own.
 */

/**
 * Deletes the IndexedDB database `dbName`. Resolves when it is deleted, or
 * when another tab holds it open (`blocked`: the browser deletes it once
 * that tab lets go). Rejects with the browser's error, or, when it gives
 * none, with an Error saying `refusal` in plain words.
 */
export async function deleteDatabase(dbName: string, refusal: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(dbName);
    request.onsuccess = () => resolve();
    request.onblocked = () => resolve();
    request.onerror = () => reject(request.error ?? new Error(refusal));
  });
}
