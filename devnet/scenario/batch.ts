import { isCallException } from "ethers";
import type { JsonRpcApiProvider, Signer, TransactionReceipt } from "ethers";

import { ClearingHouse__factory, InsuranceFund__factory } from "../../typechain-types/index.js";

/** One call to send in a batch. */
export interface BatchCall {
  signer: Signer;
  /** Absent for a contract creation. */
  to?: string;
  data: string;
  gasLimit: bigint;
  /** Names the call in errors. */
  label: string;
}

/** Generous and fixed: the node's base fee starts at 1 gwei and only falls on a quiet chain. */
const MAX_FEE_PER_GAS = 100n * 10n ** 9n;
const MAX_PRIORITY_FEE_PER_GAS = 10n ** 9n;
/** More blocks than a batch ever needs: a 60M-gas block holds 100 order fills at their 600k limit. */
const MAX_BLOCKS = 20;

/**
 * Signs every call locally with consecutive nonces per signer, sends them with automine off, and mines until all
 * are included (one block unless their gas limits exceed the block's). Much faster than one block per
 * transaction, and it lets calls from the same signer be sent without waiting. Calls of different signers that
 * depend on each other must go in separate batches: inside a block the node orders them by fee, then arrival.
 * Automine is restored to what it was. Rejects when any call reverts or is not mined.
 */
export async function sendBatch(
  provider: JsonRpcApiProvider,
  calls: readonly BatchCall[],
): Promise<TransactionReceipt[]> {
  if (calls.length === 0) return [];
  const { chainId } = await provider.getNetwork();
  const nonces = new Map<string, number>();
  const addresses = await Promise.all(calls.map((call) => call.signer.getAddress()));
  await Promise.all(
    [...new Set(addresses)].map(async (address) =>
      nonces.set(address, await provider.getTransactionCount(address, "pending")),
    ),
  );
  const raw = await Promise.all(
    calls.map((call, i) => {
      const nonce = nonces.get(addresses[i]) ?? 0;
      nonces.set(addresses[i], nonce + 1);
      return call.signer.signTransaction({
        type: 2,
        chainId,
        nonce,
        to: call.to,
        data: call.data,
        gasLimit: call.gasLimit,
        maxFeePerGas: MAX_FEE_PER_GAS,
        maxPriorityFeePerGas: MAX_PRIORITY_FEE_PER_GAS,
        value: 0n,
      });
    }),
  );

  // A test may have turned automine off on purpose (stuck transactions); leave it as found.
  const automine = (await provider.send("hardhat_getAutomine", [])) as boolean;
  await provider.send("evm_setAutomine", [false]);
  const receipts: (TransactionReceipt | null)[] = raw.map(() => null);
  try {
    const hashes = await Promise.all(raw.map((tx) => provider.send("eth_sendRawTransaction", [tx]) as Promise<string>));
    for (let block = 0; block < MAX_BLOCKS && receipts.includes(null); ++block) {
      await provider.send("evm_mine", []);
      const pending = hashes.flatMap((hash, i) => (receipts[i] === null ? [i] : []));
      const found = await Promise.all(pending.map((i) => provider.getTransactionReceipt(hashes[i])));
      pending.forEach((i, k) => (receipts[i] = found[k]));
    }
  } finally {
    await provider.send("evm_setAutomine", [automine]);
  }

  const failures = receipts
    .map((receipt, i) => ({ receipt, call: calls[i] }))
    .filter(({ receipt }) => receipt === null || receipt.status !== 1);
  if (failures.length > 0) {
    const names = failures.map(({ receipt, call }) => `${call.label} (${receipt === null ? "not mined" : "reverted"})`);
    const first = failures[0].call;
    const why = await simulate(provider, first);
    throw new Error(
      `batch: ${failures.length} of ${calls.length} calls failed: ${names.slice(0, 5).join(", ")}; ` +
        `${first.label} replayed now: ${why}`,
    );
  }
  return receipts.filter((receipt): receipt is TransactionReceipt => receipt !== null);
}

/** Replays a failed call on the current state to name its custom error (the state may differ from the block's). */
async function simulate(provider: JsonRpcApiProvider, call: BatchCall): Promise<string> {
  const interfaces = [ClearingHouse__factory.createInterface(), InsuranceFund__factory.createInterface()];
  try {
    await provider.call({ from: await call.signer.getAddress(), to: call.to, data: call.data });
    return "succeeds";
  } catch (error) {
    if (!isCallException(error) || error.data === null) return String(error);
    for (const iface of interfaces) {
      const parsed = iface.parseError(error.data);
      if (parsed !== null) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
    }
    return error.shortMessage;
  }
}

/**
 * Calls per batch in {@link sendInChunks}: 1,000 order fills at their 600k limit take ten 60M-gas blocks, within
 * a batch's limit of twenty.
 */
const CHUNK = 1_000;

/**
 * {@link sendBatch} for any number of calls (the keeper benchmark's 10,000-account crash): batches of at most
 * {@link CHUNK} calls one after the other, which keeps the order of each signer's calls.
 */
export async function sendInChunks(
  provider: JsonRpcApiProvider,
  calls: readonly BatchCall[],
): Promise<TransactionReceipt[]> {
  const receipts: TransactionReceipt[] = [];
  for (let i = 0; i < calls.length; i += CHUNK)
    receipts.push(...(await sendBatch(provider, calls.slice(i, i + CHUNK))));
  return receipts;
}
