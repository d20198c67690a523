import { EmbeddedUnavailableError } from "../../errors/index.js";

/** The way out named by every MSBV_EMBEDDED_UNAVAILABLE error. */
export const DEV_SERVER_WAY_OUT = 'or use the dev server instead (no VM, bubblewrap namespaces): run `msbv dev-server` and drop backend "embedded"';

/** Why no microVM can boot here; `reason` is stable for callers and tests. */
export interface KvmVerdict {
  usable: boolean;
  reason: "ok" | "not-linux-kvm" | "kvm-missing" | "kvm-denied" | "kvm-paravirtual";
  detail: string;
}

export function unavailableFromVerdict(sandbox: string, verdict: KvmVerdict): EmbeddedUnavailableError {
  return new EmbeddedUnavailableError(`Cannot start sandbox "${sandbox}" on the embedded backend: no microVM can boot here: ${verdict.detail}.`, {
    hint: `run on a Linux host with usable KVM (/dev/kvm readable and writable, e.g. in the kvm group; nested virtualisation enabled in a VM), ${DEV_SERVER_WAY_OUT}`,
    details: { sandbox, reason: verdict.reason },
  });
}

/** A boot that failed although the KVM probe passed (or a runtime that aborted during start). */
export function unavailableFromBoot(sandbox: string, message: string, runtimeLog: string | undefined): EmbeddedUnavailableError {
  const kvm = runtimeLog !== undefined && /kvm|KVM_EXIT/i.test(runtimeLog);
  return new EmbeddedUnavailableError(
    `Cannot start sandbox "${sandbox}" on the embedded backend: the microVM failed to boot${kvm ? " (KVM refused to run it)" : ""}: ${message}`,
    {
      hint: `check KVM with \`msbv doctor\` (paravirtual kvm_pvm hosts cannot boot microVMs), ${DEV_SERVER_WAY_OUT}`,
      details: { sandbox, reason: "boot-failed", ...(runtimeLog !== undefined ? { runtimeLog } : {}) },
    },
  );
}
