import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

import type { PendingTx } from "./executor.js";
import type { IndexerState } from "#sdk";

export const CHECKPOINT_VERSION = 1;

/**
 * What the keeper needs to resume without missing or repeating anything: the last block indexed, the known
 * accounts and their positions, transactions sent and not yet mined, and the actions already confirmed.
 */
export interface Checkpoint {
  version: number;
  chainId: number;
  clearingHouse: string;
  lastBlock: number;
  /** Known accounts (also in `indexer.accounts`; kept at the top level for operators and tools). */
  accounts: string[];
  indexer: IndexerState;
  /** account → block from which it has been liquidatable (the episode its liquidation ids belong to). */
  liquidatableSince: Record<string, number>;
  /** Confirmed action id → block it was mined in. */
  confirmed: Record<string, number>;
  /** Sent and unmined, by action id. */
  pending: Record<string, PendingTx>;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a checkpoint; `undefined` when the file does not exist yet. Throws on a damaged file. */
export function readCheckpoint(path: string): Checkpoint | undefined {
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new CheckpointError(`checkpoint ${path} is not valid JSON (${(error as Error).message.split("\n")[0]})`);
  }
  if (!isRecord(json) || json.version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(`checkpoint ${path} has an unknown format`);
  }
  const { indexer } = json;
  if (
    typeof json.lastBlock !== "number" ||
    typeof json.chainId !== "number" ||
    typeof json.clearingHouse !== "string" ||
    !isRecord(indexer) ||
    !Array.isArray(indexer.accounts) ||
    !isRecord(json.pending) ||
    !isRecord(json.confirmed) ||
    !isRecord(json.liquidatableSince)
  ) {
    throw new CheckpointError(`checkpoint ${path} is incomplete`);
  }
  return json as unknown as Checkpoint;
}

/**
 * Writes the whole checkpoint to a temporary file in the same directory, flushes it and renames it over the
 * old one, so that a crash at any moment leaves either the old or the new checkpoint, never half of one.
 */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temp, "w");
  try {
    await handle.writeFile(`${JSON.stringify(checkpoint, null, 2)}\n`, "utf8");
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Serializes writes from one keeper: saves requested while one is running collapse into one write of the
 * latest state, and `flush()` waits for everything requested so far.
 */
export class CheckpointWriter {
  readonly #path: string;
  #running: Promise<void> = Promise.resolve();
  #next: (() => Checkpoint) | undefined;
  #scheduled = false;

  constructor(path: string) {
    this.#path = path;
  }

  /** Requests a save of the state `build` returns at write time. */
  save(build: () => Checkpoint): Promise<void> {
    this.#next = build;
    if (!this.#scheduled) {
      this.#scheduled = true;
      // A failed write must not block the ones after it; its caller got the error.
      this.#running = this.#running
        .catch(() => undefined)
        .then(async () => {
          this.#scheduled = false;
          const next = this.#next;
          this.#next = undefined;
          if (next !== undefined) await writeCheckpoint(this.#path, next());
        });
    }
    return this.#running;
  }

  flush(): Promise<void> {
    return this.#running.catch(() => undefined);
  }
}
