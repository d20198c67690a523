export type {
  VolumeSpec, VolumeObject, ResolvedVolume, HostPathPolicy, ParsedVolume, ResolveVolumesOptions,
} from "./types.js";
export { parseVolumeSpec, tryParseVolumeSpec } from "./parse-spec.js";
export {
  validateGuestPaths, guestPathProblems, normalizeGuestPath, isSameOrInside, reservedGuestReason,
  RESERVED_GUEST_EXACT, RESERVED_GUEST_TREES, type GuestEntry,
} from "./guest-paths.js";
export { canonicalizePath, realpathLongestPrefix, expandHome } from "./canonicalize.js";
export { defaultHostPathPolicy, hostPolicyViolation, builtinDenied, canonicalDenied, type DeniedEntry } from "./host-policy.js";
export { resolveVolumes, toVolumeString } from "./resolve.js";
export { problemsToError, describeSpec, type VolumeProblem } from "./problems.js";
