import { constants } from "node:fs";
import { access, readdir } from "node:fs/promises";
import type { KvmVerdict } from "./unavailable.js";

export interface KvmProbeEnv {
  platform: NodeJS.Platform;
  /** Defaults to /dev/kvm and /sys/module; tests point them elsewhere. */
  devicePath?: string;
  modulesDir?: string;
}

/**
 * Checks, before any image is pulled or any runtime process spawned, whether a microVM can boot:
 * /dev/kvm must exist and be readable and writable. A host whose only KVM is the paravirtual
 * `kvm_pvm` module (some cloud sandboxes) exposes /dev/kvm but every boot dies with
 * KVM_EXIT_INTERNAL_ERROR, so it counts as unusable. macOS uses Hypervisor.framework: not probed.
 */
export async function probeKvm(env: KvmProbeEnv = { platform: process.platform }): Promise<KvmVerdict> {
  if (env.platform !== "linux") return { usable: true, reason: "not-linux-kvm", detail: `${env.platform} does not use KVM (not probed)` };
  const device = env.devicePath ?? "/dev/kvm";
  try {
    await access(device, constants.F_OK);
  } catch {
    return {
      usable: false,
      reason: "kvm-missing",
      detail: `KVM device ${device} is missing (no hardware virtualisation, or the kvm module is not loaded)`,
    };
  }
  try {
    await access(device, constants.R_OK | constants.W_OK);
  } catch {
    return { usable: false, reason: "kvm-denied", detail: `KVM device ${device} is not readable and writable by this user` };
  }
  const modules = await loadedModules(env.modulesDir ?? "/sys/module");
  if (modules.has("kvm_pvm") && !modules.has("kvm_intel") && !modules.has("kvm_amd")) {
    return {
      usable: false,
      reason: "kvm-paravirtual",
      detail: "only the paravirtual kvm_pvm module provides KVM here; microVM boots fail with KVM_EXIT_INTERNAL_ERROR",
    };
  }
  return { usable: true, reason: "ok", detail: `${device} is usable` };
}

async function loadedModules(dir: string): Promise<Set<string>> {
  try {
    return new Set(await readdir(dir));
  } catch {
    return new Set();
  }
}
