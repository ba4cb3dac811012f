/**
 * What the app frame and "My files" tell each other without a prop path
 * between them: whether uploads are running (the update prompt and
 * `beforeunload` wait for them), and files shared to Sealdrop from the
 * system share sheet, waiting for the drive to open.
 */

/** The app-wide state: one instance for the page. */
class AppState {
  /** Uploads of this page queued, running or waiting to retry. */
  activeUploads = $state(0);
  /**
   * The app opened without its server (offline, or no answer at all):
   * "My files" shows this device's copy. The browser's `navigator.onLine`
   * can say online meanwhile (a network with no way out), so the connection
   * banner shows this too.
   */
  unreachable = $state(false);
  /** Files shared to Sealdrop that the drive has not taken yet. */
  sharedFiles = $state.raw<File[]>([]);

  /** Hands over the shared files once (the drive calls it when it opens). */
  takeShared(): File[] {
    const files = this.sharedFiles;
    this.sharedFiles = [];
    return files;
  }
}

export const appState = new AppState();
