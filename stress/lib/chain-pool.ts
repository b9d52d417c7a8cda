// The chain check in worker processes: each forks stress/lib/chain-worker.ts, deploys its own in-process network
// from the same seed (so the same addresses and the same snapshot), and takes the next path when it finishes one.
// A path starts from the snapshot whatever ran before it, so which worker runs it changes nothing in its row.
// Processes, not threads: each holds a Hardhat runtime and an EDR provider of its own, and uses a core of its own.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

import type { ChainCheckInput, ChainJob, ChainRun, ContractPathRow } from "./lab.js";

/** Parent → worker. */
export type ToWorker = { kind: "init"; input: ChainCheckInput } | { kind: "job"; at: number; job: ChainJob };
/** Worker → parent. */
export type FromWorker =
  | { kind: "ready"; setupSeconds: number }
  | { kind: "row"; at: number; row: ContractPathRow; ms: number; cpuMs: number }
  | { kind: "error"; message: string };

const WORKER = fileURLToPath(new URL("./chain-worker.ts", import.meta.url));

/**
 * The workers' environment: this one's, with EDR's allocator (mimalloc) told to keep the pages it frees
 * (MIMALLOC_PURGE_DELAY=-1) unless the caller chose otherwise. EDR's tracer allocates and frees a record per EVM
 * step; purged pages came back through page faults and the kernel zeroing them, 18% of a chain path's CPU
 * (docs/DESIGN-NOTES.md, "Stress lab: CPU per chain path"). Read when the native module loads, so it is set here.
 */
export function workerEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, MIMALLOC_PURGE_DELAY: env.MIMALLOC_PURGE_DELAY ?? "-1" };
}

/**
 * Runs `first`, then `later` once it resolves, on `workers` processes, each pulling the next job; rows come back in
 * job order. A worker with nothing to do while `later` is pending waits for it.
 */
export async function runInWorkers(
  input: ChainCheckInput,
  first: readonly ChainJob[],
  later: Promise<readonly ChainJob[]> | undefined,
  workers: number,
  onProgress: ((done: number, total: number) => void) | undefined,
): Promise<ChainRun> {
  if (first.length === 0 && later === undefined)
    return { rows: [], setupSeconds: 0, seconds: 0, secondsByMode: { keeper: 0, replay: 0 }, cpuSeconds: 0 };
  const jobs = [...first];
  let pending = later !== undefined;
  const rows: (ContractPathRow | undefined)[] = [];
  const msByMode = { keeper: 0, replay: 0 };
  let cpuMs = 0;
  let next = 0;
  let finished = 0;
  let setupSeconds = 0;
  let started = 0;
  const children: ChildProcess[] = [];
  /** Workers sent away with no more jobs: their exit is the expected end. */
  const released = new Set<ChildProcess>();
  /** Workers waiting for `later`. */
  const idle: ChildProcess[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => reject(error);
      const give = (child: ChildProcess): void => {
        if (next >= jobs.length && pending) {
          idle.push(child);
          return;
        }
        if (next >= jobs.length) {
          released.add(child);
          child.disconnect();
          return;
        }
        const message: ToWorker = { kind: "job", at: next, job: jobs[next] };
        next++;
        child.send(message);
      };
      for (let w = 0; w < workers; w++) {
        // `--import tsx`: the worker is TypeScript, as the lab; advanced serialization carries bigints.
        const child = fork(WORKER, [], { execArgv: ["--import", "tsx"], serialization: "advanced", env: workerEnv() });
        children.push(child);
        child.on("message", (m: FromWorker) => {
          if (m.kind === "error") return fail(new Error(`chain worker ${w + 1}: ${m.message}`));
          if (m.kind === "ready") {
            setupSeconds = Math.max(setupSeconds, m.setupSeconds);
            if (started === 0) started = performance.now();
          } else {
            rows[m.at] = m.row;
            msByMode[jobs[m.at].mode] += m.ms;
            cpuMs += m.cpuMs;
            finished++;
            onProgress?.(finished, jobs.length);
            if (finished === jobs.length && !pending) resolve();
          }
          give(child);
        });
        child.on("exit", (code) => {
          if (!released.has(child) && (pending || finished < jobs.length))
            fail(new Error(`chain worker ${w + 1} exited (code ${code}) before the last path`));
        });
        child.send({ kind: "init", input } satisfies ToWorker);
      }
      later?.then((more) => {
        jobs.push(...more);
        pending = false;
        if (finished === jobs.length) resolve();
        for (const child of idle.splice(0)) give(child);
      }, fail);
    });
  } finally {
    for (const child of children) if (child.exitCode === null && child.connected) child.disconnect();
    const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(running.map((c) => new Promise((r) => c.once("exit", r))));
  }
  return {
    rows: rows.map((r, k) => {
      if (r === undefined) throw new Error(`chain path ${jobs[k].index} came back from no worker`);
      return r;
    }),
    setupSeconds,
    seconds: (performance.now() - started) / 1000,
    secondsByMode: { keeper: msByMode.keeper / 1000, replay: msByMode.replay / 1000 },
    cpuSeconds: cpuMs / 1000,
  };
}
