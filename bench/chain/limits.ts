// Physical limits: liquidations packed into one 30M-gas block, and accounts the lens reads in one call.
import { Wallet, toQuantity } from "ethers";

import { ETH_MARKET, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import { setPrice } from "../../devnet/hardhat/waterfall.js";
import { DEV_KEYS } from "../../devnet/keys.js";
import { OP } from "../lib/operation-names.js";
import type { BatchedLiquidations, BlockLimit, LensLimit } from "../lib/results.js";
import { mined } from "../../devnet/hardhat/trading.js";
import { batchPacking, largestWithin, quadraticThrough } from "../lib/stats.js";
import { ALL, PARTIAL_BPS, POSITION_USD, VICTIM_MARGIN } from "./operations.js";
import { saveState } from "./measure.js";
import { addOtherAccounts, openWalletLong, refreshAllFeeds, seededWallet } from "./setup.js";
import type { Bench } from "./setup.js";

export const BLOCK_GAS_LIMIT = 30_000_000;
/** EIP-7825 (Osaka): no transaction, and on this node no eth_call either, may have more gas than 2^24. */
export const CALL_GAS_CAP = 16_777_216;
/**
 * More victims than fit, so that the block is full: after the first, each liquidation only adds to the keeper's
 * position and costs less than the measured (first) one.
 */
const VICTIMS_PER_PREDICTED = 1.5;
/** Far above the in-process node's base fee, which starts at 1 gwei. */
const MAX_FEE_PER_GAS = 100n * 10n ** 9n;
const MAX_PRIORITY_FEE_PER_GAS = 10n ** 9n;

/** The keeper's key: the benchmark's signers are the node's well-known development accounts. */
function keeperWallet(address: string): Wallet {
  const wallet = DEV_KEYS.map((key) => new Wallet(key)).find((w) => w.address === address);
  if (wallet === undefined)
    throw new Error(`the keeper ${address} is not one of the first ${DEV_KEYS.length} dev accounts`);
  return wallet;
}

/**
 * Opens 1.5 × floor(30M / gasEach) positions like the partial-liquidation scenario's, moves the price, sends one
 * liquidation of each from the keeper with automine off, mines one 30M-gas block and counts what it holds.
 */
export async function liquidationsPerBlock(bench: Bench, gasEach: number): Promise<BlockLimit> {
  const { clearingHouse } = bench.system;
  const provider = ethers.provider;
  const predicted = Math.floor(BLOCK_GAS_LIMIT / gasEach);
  await refreshAllFeeds(bench);
  const victims = Array.from({ length: Math.ceil(predicted * VICTIMS_PER_PREDICTED) }, (_, i) =>
    seededWallet("block-victim", i),
  );
  for (const wallet of victims) await openWalletLong(bench, wallet, ETH_MARKET, POSITION_USD, VICTIM_MARGIN);
  await setPrice(bench.feedOf(ETH_MARKET), (bench.priceOf(ETH_MARKET) * PARTIAL_BPS) / 10_000n);

  const previousLimit = (await provider.getBlock("latest"))?.gasLimit;
  if (previousLimit === undefined) throw new Error("no latest block");
  await provider.send("evm_setBlockGasLimit", [toQuantity(BLOCK_GAS_LIMIT)]);
  await networkHelpers.mine();
  // The first liquidation opens the keeper's position and is the dearest; every one gets its gas as limit.
  const txGasLimit = await clearingHouse
    .connect(bench.keeper)
    .liquidate.estimateGas(victims[0].address, ETH_MARKET, ALL);
  // Signed here and sent raw: the node's own eth_sendTransaction path waits on each pending transaction.
  const keeper = keeperWallet(bench.keeper.address);
  const { chainId } = await provider.getNetwork();
  const nonce = await provider.getTransactionCount(keeper.address, "pending");
  const chAddress = await clearingHouse.getAddress();
  const raw = await Promise.all(
    victims.map((wallet, i) =>
      keeper.signTransaction({
        type: 2,
        chainId,
        nonce: nonce + i,
        to: chAddress,
        data: clearingHouse.interface.encodeFunctionData("liquidate", [wallet.address, ETH_MARKET, ALL]),
        gasLimit: txGasLimit,
        maxFeePerGas: MAX_FEE_PER_GAS,
        maxPriorityFeePerGas: MAX_PRIORITY_FEE_PER_GAS,
      }),
    ),
  );
  const hashes: string[] = [];
  await provider.send("evm_setAutomine", [false]);
  try {
    for (const tx of raw) hashes.push((await provider.send("eth_sendRawTransaction", [tx])) as string);
    await networkHelpers.mine();
  } finally {
    await provider.send("evm_setAutomine", [true]);
  }
  const block = await provider.getBlock("latest");
  if (block === null) throw new Error("no block mined");
  const receipts = await Promise.all(block.transactions.map((hash) => provider.getTransactionReceipt(hash)));
  const reverted = receipts.filter((r) => r === null || r.status !== 1).length;
  if (reverted > 0) throw new Error(`${reverted} liquidations in the full block reverted`);
  const left = hashes.filter((hash) => !block.transactions.includes(hash));
  if (left.length === 0) throw new Error(`all ${hashes.length} liquidations fit in one block: send more to fill it`);
  for (const hash of left) await provider.send("hardhat_dropTransaction", [hash]);
  await provider.send("evm_setBlockGasLimit", [toQuantity(previousLimit)]);
  return {
    blockGasLimit: BLOCK_GAS_LIMIT,
    operation: OP.partialLiquidation,
    gasEach,
    predicted,
    sent: victims.length,
    included: block.transactions.length,
    blockGasUsed: Number(block.gasUsed),
    txGasLimit: Number(txGasLimit),
  };
}

/**
 * Partial liquidations sent by one keeper as `ClearingHouse.batch` (issue 15): for each size n, from the same state,
 * opens n positions like the partial-liquidation scenario's (distinct accounts, the ETH market), moves the price
 * and liquidates all n in one batch transaction. The gas of the two largest batches gives the fixed and per-item
 * parts; the block figure packs batches of at most the 2^24 per-transaction cap into a 30M-gas block with them.
 */
export async function batchedLiquidations(bench: Bench, sizes: readonly number[]): Promise<BatchedLiquidations> {
  const { clearingHouse } = bench.system;
  const batches: BatchedLiquidations["batches"] = [];
  for (const items of sizes) {
    const base = await saveState();
    await refreshAllFeeds(bench);
    const victims = Array.from({ length: items }, (_, i) => seededWallet(`batch-victim-${items}`, i));
    for (const wallet of victims) await openWalletLong(bench, wallet, ETH_MARKET, POSITION_USD, VICTIM_MARGIN);
    await setPrice(bench.feedOf(ETH_MARKET), (bench.priceOf(ETH_MARKET) * PARTIAL_BPS) / 10_000n);
    const calls = victims.map((wallet) =>
      clearingHouse.interface.encodeFunctionData("liquidate", [wallet.address, ETH_MARKET, ALL]),
    );
    const receipt = await mined(clearingHouse.connect(bench.keeper).batch(calls, { gasLimit: CALL_GAS_CAP }));
    const failed = receipt.logs.filter((log) => clearingHouse.interface.parseLog(log)?.name === "BatchItemFailed");
    if (failed.length > 0) throw new Error(`${failed.length} of ${items} batched liquidations failed`);
    const gasUsed = Number(receipt.gasUsed);
    batches.push({ items, gasUsed, gasPerItem: Math.round(gasUsed / items) });
    await base.restore();
  }
  if (batches.length < 2) throw new Error("batched liquidations: at least two batch sizes are needed for the fit");
  const [a, b] = batches.slice(-2);
  const perItem = Math.ceil((b.gasUsed - a.gasUsed) / (b.items - a.items));
  const fixed = b.gasUsed - perItem * b.items;
  const packing = batchPacking(fixed, perItem, CALL_GAS_CAP, BLOCK_GAS_LIMIT);
  return { blockGasLimit: BLOCK_GAS_LIMIT, callGasCap: CALL_GAS_CAP, batches, fixed, perItem, ...packing };
}

/** Gas of one healthOf call over the first `n` other accounts, or null when it does not fit the node's cap. */
async function lensGas(bench: Bench, n: number): Promise<number | null> {
  if (bench.others.length < n) await addOtherAccounts(bench, n - bench.others.length);
  const lens = bench.system.lens;
  try {
    return Number(await lens.healthOf.estimateGas(bench.others.slice(0, n)));
  } catch (error) {
    if (/out of gas/i.test(String(error))) return null;
    throw error;
  }
}

/**
 * Doubles the batch until healthOf no longer fits in one call of the node's cap, bisects for the largest batch
 * that fits, and extrapolates to `budget` through the last three doublings (memory makes the curve slightly
 * convex). Adds other accounts as needed, each with two open positions.
 */
export async function lensCapacity(bench: Bench, budget: number): Promise<LensLimit> {
  const curve: { accounts: number; gas: number }[] = [];
  let fits = 0;
  let fails = 0;
  for (let n = 25; fails === 0; n *= 2) {
    const gas = await lensGas(bench, n);
    if (gas === null) fails = n;
    else {
      curve.push({ accounts: n, gas });
      fits = n;
    }
  }
  let gasAtCap = curve[curve.length - 1]?.gas ?? 0;
  while (fails - fits > 1) {
    const mid = Math.floor((fits + fails) / 2);
    const gas = await lensGas(bench, mid);
    if (gas === null) fails = mid;
    else [fits, gasAtCap] = [mid, gas];
  }
  if (curve.length < 3) throw new Error(`lens: only ${curve.length} batch sizes fit in one call; cannot extrapolate`);
  const fit = quadraticThrough(curve.slice(-3).map((p) => ({ x: p.accounts, y: p.gas })));
  const verified = budget <= CALL_GAS_CAP;
  return {
    callGasCap: CALL_GAS_CAP,
    accountsAtCap: fits,
    gasAtCap,
    positionsPerAccount: 2,
    budget,
    accountsAtBudget: verified ? fits : largestWithin(fit, budget),
    budgetVerified: verified,
    curve,
  };
}
