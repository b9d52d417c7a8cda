import { Wallet, id, toQuantity } from "ethers";

import { ORDER_TYPES, USD, WAD, orderDomain } from "#sdk";
import type { OrderStruct } from "../../typechain-types/ClearingHouse.js";
import { BTC_MARKET, ETH_MARKET } from "../constants.js";
import { sendBatch } from "./batch.js";
import type { BatchCall } from "./batch.js";
import { readPrices, setPrices } from "./crash.js";
import type { CrashSystem } from "./crash.js";
import { movePrice } from "./plan.js";

/**
 * Hedged traders for the loss-policy comparison: each is long ETH-USD (the crash hurts it) and short BTC-USD (the
 * crash pays it), the same notional on both legs at low leverage, so it stays solvent through any crash that moves
 * both prices alike. A desk takes the other side of every leg. The shorts are opened with BTC 1% above the start
 * price (the price is put back before anything else trades): their entries are then the highest of the BTC shorts,
 * the first entry bucket that enforced ADL takes from. That is where a delta-neutral book sits in a crash (its
 * profitable leg is the most profitable per unit), and Hyperliquid's 10 October 2025 queue closed such legs.
 */

export interface HedgeOptions {
  seed: string;
  /** Number of hedged traders. */
  count: number;
  /** Notional of each leg, whole USD. */
  notionalUsd: bigint;
  /** Leg notional / collateral, in tenths (12 = 1.2x, the leverage of the hedges Hyperliquid's ADL closed). */
  leverageTenths: bigint;
}

export const DEFAULT_HEDGES: Omit<HedgeOptions, "seed"> = { count: 3, notionalUsd: 10_000n, leverageTenths: 12n };

export interface Hedger {
  address: string;
  /** Base units, 18 decimals: long ETH-USD, short BTC-USD. */
  ethSize: bigint;
  btcSize: bigint;
}

export interface Hedges {
  hedgers: Hedger[];
  desk: string;
}

const ETH_FOR_GAS = 10n * 10n ** 18n;
/** The shorts' entry above the start price, percent. */
const SHORT_PREMIUM_PCT = 1;
/** Sizes are whole multiples of 1e-8 base units, as the crash plan's. */
const SIZE_STEP = 10n ** 10n;
const GAS = { mint: 120_000n, approve: 80_000n, depositFor: 150_000n, fill: 1_000_000n } as const;

/** Opens the hedges on `system` and leaves both prices where they were. */
export async function openHedges(system: CrashSystem, options: HedgeOptions): Promise<Hedges> {
  const { provider, admin } = system;
  const { clearingHouse, collateralToken: token } = system.contracts;
  const chAddress = await clearingHouse.getAddress();
  const tokenAddress = await token.getAddress();
  const adminAddress = await admin.getAddress();
  const start = await readPrices(system);
  const entry = { eth: start.eth, btc: movePrice(start.btc, SHORT_PREMIUM_PCT) };

  const key = (role: string, i: number): string => id(`backstop-hedges/${options.seed}/${role}/${i}`);
  const desk = new Wallet(key("desk", 0), provider);
  const wallets = Array.from({ length: options.count }, (_, i) => new Wallet(key("hedger", i), provider));
  const notional = options.notionalUsd * WAD;
  const hedgers = wallets.map((w): Hedger => ({
    address: w.address,
    ethSize: roundDown((notional * WAD) / entry.eth, SIZE_STEP),
    btcSize: roundDown((notional * WAD) / entry.btc, SIZE_STEP),
  }));
  const legCollateral = (options.notionalUsd * USD * 10n) / options.leverageTenths;
  const hedgerCollateral = 2n * legCollateral;
  // The desk holds the mirror of every hedge at 1x per leg: never near maintenance in a crash of either sign.
  const deskCollateral = 2n * options.notionalUsd * USD * BigInt(options.count);
  const total = hedgerCollateral * BigInt(options.count) + deskCollateral;

  await Promise.all(
    [desk, ...wallets].map((w) => provider.send("hardhat_setBalance", [w.address, toQuantity(ETH_FOR_GAS)])),
  );
  await sendBatch(provider, [
    call(admin, tokenAddress, token.interface.encodeFunctionData("mint", [adminAddress, total]), GAS.mint, "mint"),
    call(
      admin,
      tokenAddress,
      token.interface.encodeFunctionData("approve", [chAddress, total]),
      GAS.approve,
      "approve",
    ),
    ...[desk, ...wallets].map((w, i) =>
      call(
        admin,
        chAddress,
        clearingHouse.interface.encodeFunctionData("depositFor", [
          w.address,
          i === 0 ? deskCollateral : hedgerCollateral,
        ]),
        GAS.depositFor,
        `depositFor ${i === 0 ? "desk" : `hedger ${i - 1}`}`,
      ),
    ),
  ]);

  await setPrices(system, entry);
  const latest = await provider.getBlock("latest");
  if (latest === null) throw new Error("hedges: no latest block");
  const { chainId } = await provider.getNetwork();
  const domain = orderDomain(Number(chainId), chAddress);
  const fills: BatchCall[] = [];
  for (const [i, hedger] of hedgers.entries()) {
    // The desk's two orders per hedger: sell ETH (the hedger buys), buy BTC (the hedger sells).
    for (const [k, leg] of [
      { marketId: ETH_MARKET, isBuy: false, size: hedger.ethSize, limitPrice: entry.eth },
      { marketId: BTC_MARKET, isBuy: true, size: hedger.btcSize, limitPrice: entry.btc },
    ].entries()) {
      const order: OrderStruct = {
        maker: desk.address,
        ...leg,
        expiry: BigInt(latest.timestamp) + 3_600n,
        nonce: BigInt(2 * i + k),
        reduceOnly: false,
      };
      const signature = await desk.signTypedData(domain, ORDER_TYPES, order);
      fills.push(
        call(
          wallets[i],
          chAddress,
          clearingHouse.interface.encodeFunctionData("fillOrder", [order, signature, leg.size]),
          GAS.fill,
          `hedger ${i} fills market ${leg.marketId}`,
        ),
      );
    }
  }
  await sendBatch(provider, fills);
  await setPrices(system, start);
  return { hedgers, desk: desk.address };
}

function call(signer: CrashSystem["admin"], to: string, data: string, gasLimit: bigint, label: string): BatchCall {
  return { signer, to, data, gasLimit, label };
}

function roundDown(value: bigint, step: bigint): bigint {
  return (value / step) * step;
}
