import path from "node:path";

import { PROJECT_ROOT, spawnGroup } from "./node.js";

/** A running `npm run relay`. */
export interface RelayProcess {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Longest wait for the relay's "listening" line; it reads the deployment and the chain first. */
const RELAY_START_MS = 60_000;

/**
 * Starts the order relay as `npm run relay` would (node + tsx, relay/main.ts) on `port` with the book at `db`
 * (default in memory) and any further flags, in its own process group, and resolves with its URL once it says it
 * listens. devnet imports nothing from relay/: the relay is another app.
 */
export async function startRelay(
  rpcUrl: string,
  deploymentPath: string,
  port: number,
  options: { db?: string; flags?: readonly string[] } = {},
): Promise<RelayProcess> {
  const args = [
    "--disable-warning=ExperimentalWarning",
    "--import",
    "tsx",
    path.join(PROJECT_ROOT, "relay", "main.ts"),
    ...["--rpc", rpcUrl, "--deployment", deploymentPath, "--port", String(port), "--db", options.db ?? ":memory:"],
    ...(options.flags ?? []),
  ];
  const { child, output, exited, stop } = spawnGroup("relay", args);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`relay did not start within ${RELAY_START_MS} ms:\n${output()}`)),
      RELAY_START_MS,
    );
    // After spawnGroup's own listener, so output() already holds the chunk.
    const read = (): void => {
      const match = /relay: listening on (\S+)/.exec(output());
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`relay exited (${child.exitCode ?? child.signalCode}) before listening:\n${output()}`));
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { url, output, stop };
}
