import { useEffect, useRef, useState } from "react";
import type { ContractTransactionResponse, JsonRpcSigner } from "ethers";

import type { Chain } from "./chain.js";
import { explain } from "./format.js";

/** What every screen gets: the chain at the current block, and the connected account when it can send. */
export interface Session {
  chain: Chain;
  /** The head block the screens read at; it moves when the chain does. */
  block: number;
  /** The wallet's account, when connected (on any chain). */
  account: string | undefined;
  /** The wallet's signer, only when connected on the deployment's chain. */
  signer: (() => Promise<JsonRpcSigner>) | undefined;
}

/** Data loaded from the chain again whenever `deps` change (the block among them); the last answer wins. */
export function useChainData<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
  chain: Chain,
): { data: T | undefined; error: string | undefined } {
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined }>({
    data: undefined,
    error: undefined,
  });
  const latest = useRef(0);
  useEffect(() => {
    const id = ++latest.current;
    load().then(
      (data) => id === latest.current && setState({ data, error: undefined }),
      (error: unknown) =>
        id === latest.current && setState((s) => ({ data: s.data, error: explain(error, chain.interfaces) })),
    );
  }, deps);
  return state;
}

export type ActionStatus =
  { kind: "idle" } | { kind: "busy"; text: string } | { kind: "done"; text: string } | { kind: "error"; text: string };

/** Runs a user action with a status line: what is happening, what it did, or why it failed (a rejected
 * request, a decoded revert, bad input). */
export function useAction(chain: Chain): {
  status: ActionStatus;
  run: (label: string, action: () => Promise<string>) => Promise<void>;
} {
  const [status, setStatus] = useState<ActionStatus>({ kind: "idle" });
  const run = async (label: string, action: () => Promise<string>): Promise<void> => {
    setStatus({ kind: "busy", text: `${label}…` });
    try {
      setStatus({ kind: "done", text: await action() });
    } catch (error) {
      setStatus({ kind: "error", text: `${label} failed. ${explain(error, chain.interfaces)}` });
    }
  };
  return { status, run };
}

/**
 * Simulates the call against the node (`staticCall` with `from`, through the read provider), so that a revert
 * is shown by its custom error before the wallet is asked to sign; then sends through the wallet and waits for
 * the receipt. The transaction's hash.
 */
export async function transact(
  simulate: () => Promise<unknown>,
  send: () => Promise<ContractTransactionResponse>,
): Promise<string> {
  await simulate();
  const tx = await send();
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`transaction ${tx.hash} failed`);
  return tx.hash;
}
