import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, where hardhat.config.ts lives. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * `hardhat node` serves the network named "node" unless told otherwise, and Hardhat 3 gives that network its own
 * defaults: the config's `default` network (where allowUnlimitedContractSize is set, because the unoptimized
 * ClearingHouse is over 24 KiB) does not apply to it. `--network default` makes the node serve that one.
 */
export const NODE_NETWORK = "default";

/** Longest wait for the node to answer eth_chainId; Hardhat loads its config and plugins first. */
const DEFAULT_START_TIMEOUT_MS = 60_000;
/** Output kept for diagnostics: the node logs every RPC method, so only the tail is worth keeping. */
const OUTPUT_TAIL_CHARS = 64 * 1024;

export interface HardhatNode {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Process id of the node, which leads its own process group. */
  pid: number;
  /** One JSON-RPC call over HTTP; rejects with the node's error message on a JSON-RPC error. */
  rpc<T = unknown>(method: string, params?: readonly unknown[]): Promise<T>;
  /** The last 64 KiB of the node's stdout and stderr. */
  output(): string;
  /** Kills the node's whole process group and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartNodeOptions {
  /** Default 60 s. */
  timeoutMs?: number;
  /**
   * Keep the node's per-request console log (`hardhat node` turns it on). Off by default: decoding and printing
   * every call made a block of 64 order fills take 3.2 s instead of 0.9 s.
   */
  logging?: boolean;
  /** A fixed port (a wallet's network setting names it); a free one by default. */
  port?: number;
}

/**
 * Starts `hardhat node --network default` on a free loopback port and resolves once it answers eth_chainId.
 *
 * The Hardhat CLI is run with this Node binary directly rather than through `npx`: `npm exec` needs no network
 * here but took minutes to start under load, and the process tree is the same otherwise.
 */
export async function startHardhatNode(options: StartNodeOptions = {}): Promise<HardhatNode> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  // Another process may take the port between the probe and the node's bind; a second port settles it.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; ++attempt) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(port, timeoutMs, options.logging ?? false);
    } catch (error) {
      lastError = error;
      if (!(error instanceof NodeStartError) || !error.portInUse || options.port !== undefined) throw error;
    }
  }
  throw lastError;
}

class NodeStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

async function launch(port: number, timeoutMs: number, logging: boolean): Promise<HardhatNode> {
  const cli = path.join(PROJECT_ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");
  const args = [cli, "node", "--network", NODE_NETWORK, "--port", String(port), "--hostname", "127.0.0.1"];
  const { child, pid, output, stop } = spawnGroup("hardhat node", args);

  const url = `http://127.0.0.1:${port}`;
  const rpc = <T = unknown>(method: string, params: readonly unknown[] = []): Promise<T> =>
    jsonRpc<T>(url, method, params);

  try {
    await waitUntilReady(url, child, timeoutMs, output);
    if (!logging) await rpc("hardhat_setLoggingEnabled", [false]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, pid, rpc, output, stop };
}

/** A child Node process in its own process group, started by {@link spawnGroup}. */
export interface GroupProcess {
  child: ChildProcess;
  pid: number;
  /** The last OUTPUT_TAIL_CHARS characters it wrote to stdout and stderr. */
  output: () => string;
  /** Resolves when it has exited. */
  exited: Promise<void>;
  /** SIGTERM to the group, SIGKILL after 5 s, then SIGKILL to whatever it left in the group; idempotent. */
  stop: () => Promise<void>;
}

/**
 * Runs `node args…` from the project root with {@link childEnv}, in its own process group (so that stop() reaches
 * every process it starts), keeping the tail of its output and killing the group if this process exits first.
 */
export function spawnGroup(label: string, args: readonly string[]): GroupProcess {
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: childEnv(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${label}: spawn failed`);

  let output = "";
  const append = (chunk: Buffer): void => {
    output += chunk.toString("utf8");
    if (output.length > 2 * OUTPUT_TAIL_CHARS) output = output.slice(-OUTPUT_TAIL_CHARS);
  };
  // Reading both pipes also matters for liveness: a child whose pipe fills up blocks on its next log line.
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);

  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // A detached child would outlive a test process that dies without running its after() hooks.
  const killOnExit = (): void => killGroup(pid, "SIGKILL");
  process.once("exit", killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off("exit", killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(pid, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      // The child may have started helpers in the group that outlive it.
      killGroup(pid, "SIGKILL");
    })();
    return stopping;
  };
  return { child, pid, output: () => output.slice(-OUTPUT_TAIL_CHARS), exited, stop };
}

/**
 * The test runner's environment without what would change how a child Node process runs: use it for any child
 * started from a test (the node here, the keeper CLI).
 */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // `hardhat test` exports its global options as HARDHAT_* (network, coverage, config, ...) and a parallel
    // mocha run loads its workers' hooks through NODE_OPTIONS; neither belongs to a child.
    if (key.startsWith("HARDHAT_") || key === "NODE_OPTIONS" || key === "HH_TEST") continue;
    env[key] = value;
  }
  return env;
}

async function waitUntilReady(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const text = output();
      throw new NodeStartError(
        `hardhat node exited (${child.exitCode ?? child.signalCode}) before answering:\n${text.slice(-4000)}`,
        /EADDRINUSE/.test(text),
      );
    }
    try {
      await jsonRpc(url, "eth_chainId", [], 1_000);
      return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new NodeStartError(`hardhat node did not answer within ${timeoutMs} ms:\n${output().slice(-4000)}`, false);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Signals a detached child's whole process group; nothing when it is gone. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("no port"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

interface JsonRpcReply {
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** A single JSON-RPC request over HTTP with fetch, independent of ethers. */
export async function jsonRpc<T = unknown>(
  url: string,
  method: string,
  params: readonly unknown[] = [],
  timeoutMs = 30_000,
): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const reply = (await response.json()) as JsonRpcReply;
  if (reply.error !== undefined) throw new Error(`${method}: ${reply.error.message}`);
  return reply.result as T;
}
