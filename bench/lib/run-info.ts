// The commit, date and machine a result was measured on.
import { execFileSync } from "node:child_process";
import os from "node:os";

import type { RunInfo } from "./results.js";

/** Short hash of HEAD, with "-dirty" when tracked files differ from it. */
export function currentCommit(): string {
  const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8" }).trim();
  try {
    const hash = git("rev-parse", "--short", "HEAD");
    return git("status", "--porcelain", "--untracked-files=no") === "" ? hash : `${hash}-dirty`;
  } catch {
    return "unknown";
  }
}

export function machineDescription(): string {
  const cpus = os.cpus();
  const gib = Math.round(os.totalmem() / 2 ** 30);
  return `${cpus.length}× ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${gib} GiB, ${os.platform()}, node ${process.version}`;
}

export function runInfo(): RunInfo {
  return { commit: currentCommit(), date: new Date().toISOString(), machine: machineDescription() };
}
