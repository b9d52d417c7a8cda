// Running README.md's fenced shell blocks as a user would type them, against a node on a free port.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

import { PROJECT_ROOT, childEnv } from "../../devnet/node.js";

/** The URL the README gives the node; the tests' node runs on a free port instead. */
export const README_URL = "http://127.0.0.1:8545";

export interface Block {
  lang: string;
  terminal: number | undefined;
  lines: string[];
}

/** The fenced blocks of README.md from the heading `start` to `end`, with the terminal their first comment names. */
export function readmeBlocks(start: string, end: string): Block[] {
  const readme = readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
  const from = readme.indexOf(start);
  if (from < 0) throw new Error(`README.md has no ${start}`);
  const section = readme.slice(from, readme.indexOf(end, from));
  const blocks: Block[] = [];
  for (const match of section.matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
    // Commands continued with a trailing backslash are one command.
    const lines = match[2]
      .replace(/\\\n\s*/g, "")
      .split("\n")
      .filter(Boolean);
    const terminal = /^# terminal (\d)/.exec(lines[0] ?? "")?.[1];
    blocks.push({ lang: match[1], terminal: terminal === undefined ? undefined : Number(terminal), lines });
  }
  return blocks;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * One command line through bash, after the terminal's exports, as a user would type it; `extraEnv` is set after the
 * user's own BACKSTOP_* and KEEPER_* variables are cleared.
 */
export function bash(
  script: string,
  url: string,
  detached = false,
  extraEnv: NodeJS.ProcessEnv = {},
): { child: ChildProcess; done: Promise<Run>; output: () => string } {
  const env = childEnv();
  for (const key of Object.keys(env)) if (key.startsWith("BACKSTOP_") || key.startsWith("KEEPER_")) delete env[key];
  Object.assign(env, extraEnv);
  const child = spawn("bash", ["-e", "-c", script.replaceAll(README_URL, url)], {
    cwd: PROJECT_ROOT,
    env,
    // A terminal of its own: its process group is what Ctrl-C reaches.
    detached,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const done = new Promise<Run>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done, output: () => stdout + stderr };
}

export async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A README sample line as a pattern: `…` stands for any text (amounts, blocks, hashes), the rest is literal. */
export function samplePattern(line: string): RegExp {
  const parts = line.split("…").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".+?")}$`);
}
