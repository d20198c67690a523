// Workspace round trip: sandbox code writes 1,000 small files / one 64 MiB file, the host reads
// them back. Three ways: the host writing the bytes itself (floor), a mounted volume, and the
// copy-out workaround users fall back to without volumes (tar | base64 through command.run).
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import { flushDisk } from "./lib/flush.mjs";
import { createSandbox, newProject, runChecked, stopAll } from "./lib/sandbox.mjs";
import { startServerProcess } from "./lib/server.mjs";
import { summarize } from "./lib/stats.mjs";
import { hostReadBack, hostWrite, prepareHostBuffers, PY_SETUP, pyClean, pyWrite } from "./lib/workload.mjs";

// The dev server keeps at most 16 MiB of output per command (the legacy server has no cap), so the
// archive is staged as base64 in the sandbox and fetched in slices below that, as a user would.
const SLICE_CHARS = 12 * 1024 * 1024; // multiple of 4: every slice decodes on its own

/**
 * The workaround: tar the folder inside the sandbox, ship it out base64-encoded through
 * command.run output (JSON lines), decode on the host.
 * @returns {Promise<Buffer>} the tar archive
 */
async function copyOut(sb, guestDir) {
  const sh = async (script) => {
    const res = await sb.command.run("sh", ["-c", script], 300);
    if (!res.success) throw new Error(`sh -c ${JSON.stringify(script)} exited ${res.exitCode}: ${(await res.error()).slice(0, 300)}`);
    return res.output();
  };
  const staged = "/tmp/copy-out.b64";
  const size = Number(await sh(`tar -C ${guestDir} -cf - . | base64 -w0 > ${staged} && wc -c < ${staged}`));
  const parts = [];
  for (let off = 0; off < size; off += SLICE_CHARS) {
    // Long lines arrive split at 1 MiB; base64 ignores the joining newlines only if we drop them.
    const text = await sh(`tail -c +${off + 1} ${staged} | head -c ${SLICE_CHARS}`);
    parts.push(Buffer.from(text.replace(/\s+/g, ""), "base64"));
  }
  await sh(`rm -f ${staged}`);
  return Buffer.concat(parts);
}

export const SCENARIOS = /** @type {const} */ (["small", "large"]);

/**
 * @param {{ log: (m: string) => void, lib: any, reps: { warmup: number, reps: number } }} ctx
 */
export async function benchRoundTrip(ctx) {
  const { log, lib, reps } = ctx;
  const project = await newProject("roundtrip");
  prepareHostBuffers();
  const out = { floor: {}, mounted: {}, copyOut: {}, notes: [] };

  /** @type {Record<string, { prepare: (s: string) => Promise<void>, timed: (s: string) => Promise<void> }>} */
  const methods = {
    floor: {
      prepare: (s) => rm(join(project, "floor", s), { recursive: true, force: true }),
      timed: async (s) => {
        hostWrite(s, join(project, "floor", s));
        hostReadBack(s, join(project, "floor", s));
      },
    },
  };

  const server = lib.ok ? await startServerProcess(project) : undefined;
  const sandboxes = [];
  try {
    if (!lib.ok) out.notes.push(`mounted and copy-out not measured: ${lib.reason}`);
    else {
      const mounted = await createSandbox(lib.PythonSandbox, { project, serverUrl: server.url, name: "rt-mounted", workspaces: ["ws"] });
      sandboxes.push(mounted);
      await runChecked(mounted, PY_SETUP);
      methods.mounted = {
        prepare: (s) => rm(join(project, "ws", s), { recursive: true, force: true }),
        timed: async (s) => {
          await runChecked(mounted, pyWrite(s, `/workspace/${s}`));
          hostReadBack(s, join(project, "ws", s));
        },
      };
      // Copy-out: no volume; the files live in the sandbox's private /tmp until shipped out.
      const copy = await createSandbox(lib.PythonSandbox, { project, serverUrl: server.url, name: "rt-copyout" });
      sandboxes.push(copy);
      await runChecked(copy, PY_SETUP);
      methods.copyOut = {
        prepare: async (s) => {
          await runChecked(copy, pyClean(`/tmp/rt-${s}`));
          await rm(join(project, "copied", s), { recursive: true, force: true });
        },
        timed: async (s) => {
          await runChecked(copy, pyWrite(s, `/tmp/rt-${s}`));
          const archive = await copyOut(copy, `/tmp/rt-${s}`);
          const hostDir = join(project, "copied", s);
          await mkdir(hostDir, { recursive: true });
          await pipeline(Readable.from([archive]), tar.x({ cwd: hostDir }));
          hostReadBack(s, hostDir);
        },
      };
    }

    // Methods alternate rep by rep (rotating order) so load drift on a shared machine hits all alike.
    const names = Object.keys(methods);
    for (const s of SCENARIOS) {
      log(`round trip ${s}: ${names.join(", ")} — ${reps.warmup} warm-up + ${reps.reps} interleaved reps`);
      const samples = Object.fromEntries(names.map((n) => [n, []]));
      const failed = {};
      for (let i = 0; i < reps.warmup + reps.reps; i++) {
        for (let k = 0; k < names.length; k++) {
          const name = names[(i + k) % names.length];
          if (failed[name]) continue;
          try {
            await methods[name].prepare(s);
            // Untimed: flush dirty pages left by the previous method so no write starts throttled.
            await flushDisk();
            const t0 = performance.now();
            await methods[name].timed(s);
            if (i >= reps.warmup) samples[name].push(performance.now() - t0);
          } catch (e) {
            failed[name] = String(e instanceof Error ? e.message : e).slice(0, 300);
            log(`round trip ${s}: ${name} failed: ${failed[name]}`);
          }
        }
      }
      for (const n of names) {
        out[n][s] = failed[n] ? { failed: failed[n] } : summarize(samples[n]);
        await methods[n].prepare(s).catch(() => undefined);
      }
    }
  } finally {
    await stopAll(sandboxes);
    await server?.close();
  }
  return out;
}
