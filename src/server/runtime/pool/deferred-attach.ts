import { isSameOrInside } from "../../../volumes/guest-paths.js";
import { DEFAULT_WORKDIR } from "../sandbox-env.js";
import type { RuntimeLanguage } from "../images.js";

/**
 * Whether a claim may hand the supervisor its environment and workdir with the sandbox's first
 * request instead of waiting for it (supervisor-connection.ts `attachWithNextRequest`).
 *
 * Waking each supervisor inside the claim was about half of a burst's CPU on 2 cores: 50 claims at
 * once took 0.55-0.64 s with it and 0.29-0.33 s without (docs/dev-server.md#pool). Setting the
 * environment cannot fail; making the workdir can, and a cold start reports that failure as its own
 * (docs/dev-server.md#pool). So the wait is skipped only when the workdir cannot fail to be made: the
 * image's default, on the waiting sandbox's own fresh `/home`, with no volume at or above it (a
 * read-only volume there would refuse the `mkdir`). Every other workdir is entered before the start
 * answers, as in a cold start.
 */
export function attachCanWait(language: RuntimeLanguage, workdir: string, volumeGuests: readonly string[]): boolean {
  return workdir === DEFAULT_WORKDIR[language] && !volumeGuests.some((guest) => isSameOrInside(workdir, guest));
}
