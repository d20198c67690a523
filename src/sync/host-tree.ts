import type { Workspace } from "../workspace/index.js";
import type { TreeListing } from "./diff.js";

/** The host folder's current state: file hashes (via the workspace snapshot), folders, links and special files. */
export async function hostTree(ws: Workspace): Promise<{ tree: TreeListing; sizes: Map<string, number> }> {
  const tree: TreeListing = { files: new Map(), dirs: new Set(), others: new Set() };
  const sizes = new Map<string, number>();
  for (const e of await ws.list(".", { recursive: true })) {
    if (e.type === "directory") tree.dirs.add(e.path);
    else if (e.type !== "file") tree.others.add(e.path);
  }
  for (const [p, d] of await ws.snapshot()) {
    tree.files.set(p, d.sha256);
    sizes.set(p, d.size);
  }
  return { tree, sizes };
}
