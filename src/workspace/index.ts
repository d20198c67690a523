export { Workspace } from "./workspace.js";
export { splitRelPath } from "./rel-path.js";
export type {
  WorkspaceEntry,
  ListOptions,
  WriteOptions,
  RemoveOptions,
  FileDigest,
  WalkStrategy,
  WorkspaceOptions,
} from "./types.js";
