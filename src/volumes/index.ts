export type {
  VolumeSpec,
  VolumeObject,
  VolumeMountObject,
  ResolvedVolume,
  HostPathPolicy,
  ParsedVolume,
  ResolveVolumesOptions,
} from "./types.js";
export { parseVolumeSpec, tryParseVolumeSpec, notTextIssue, ACCEPTED_FORMS, type VolumeIssue } from "./parse-spec.js";
export {
  validateGuestPaths,
  guestPathProblems,
  normalizeGuestPath,
  isSameOrInside,
  reservedGuestReason,
  RESERVED_GUEST_EXACT,
  RESERVED_GUEST_TREES,
  mountOrder,
  workdirIssue,
  type GuestEntry,
} from "./guest-paths.js";
export { canonicalizePath, realpathLongestPrefix, expandHome } from "./canonicalize.js";
export { defaultHostPathPolicy, hostPolicyViolation, builtinDenied, canonicalDenied, type DeniedEntry } from "./host-policy.js";
export { resolveVolumes, resolveParsedVolumes, toVolumeString, parseWireVolume, parseVolumeList } from "./resolve.js";
export { checkHostPath, symlinkBelowRoot, type HostIssue, type CheckedHost } from "./host-check.js";
export { problemsToError, describeSpec, type VolumeProblem } from "./problems.js";
export { readonlyOverlapProblems, type HostEntry } from "./readonly-overlap.js";
