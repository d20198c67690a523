import type { SyncReport } from "./types.js";

/** An empty report. */
export function emptyReport(): SyncReport {
  return { filesTransferred: 0, filesDeleted: 0, filesUnchanged: 0, bytesTransferred: 0, archiveBytes: 0, skipped: [], conflicts: [] };
}
