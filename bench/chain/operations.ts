// One scenario per measured operation: it sets up the state the operation needs from the benchmark's base state,
// sends the operation, checks that it took the path it is named after, and returns its gas.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";

import { BTC_MARKET, ETH_MARKET, FUND_COOLDOWN, USD, WAD } from "../../devnet/hardhat/fixture.js";
import { clearingHouseEvents, mined } from "../../devnet/hardhat/trading.js";
import { setPrice } from "../../devnet/hardhat/waterfall.js";
import { networkHelpers } from "../../devnet/hardhat/fixture.js";
import { OP } from "../lib/operation-names.js";
import type { OperationName } from "../lib/operation-names.js";
import { tradeWithMaker } from "./setup.js";
import type { Bench } from "./setup.js";

export interface Scenario {
  bench: Bench;
  /** The account the operation is about (trader, liquidated account or staker). */
  actor: HardhatEthersSigner;
  /** Markets the account (for ADL: the counterparty) holds, counting the operation's own. */
  markets: number;
}

export type Role = "user" | "keeper" | "staker";

export interface Operation {
  name: OperationName;
  role: Role;
  /** How the number of markets enters, or null when it does not apply; shown next to the figure. */
  marketsNote: string | null;
  /** Must not grow with the number of other positions in the market. */
  mustStayFlat: boolean;
  run: (s: Scenario) => Promise<bigint>;
}

/** Liquidation size: as much as the rules allow. */
export const ALL = 10n ** 30n;
export const POSITION_USD = 20_000n;
export const VICTIM_MARGIN = 2_100n * USD; // 10x on 20,000 USD plus fees
const EXTRA_POSITION = 1n * WAD; // 100 USD of an extra market
const EXTRA_MARGIN = 11n * USD; // its initial margin and fees
const TRADER_DEPOSIT = 10_000n * USD;
const STAKE = 1_000n * USD;
const SEED_STAKE = 1_000_000n * USD;
/** Price moves, in basis points of the starting price, that put a 10x long in each state. */
export const PARTIAL_BPS = 9_250n; // equity above the 2% of notional a partial close needs
const FULL_BPS = 9_075n; // equity positive but too small for a partial close
const BANKRUPT_BPS = 8_500n; // equity below zero

async function gasOf(
  tx: Promise<ContractTransactionResponse>,
): Promise<{ gas: bigint; receipt: ContractTransactionReceipt }> {
  const receipt = await mined(tx);
  return { gas: receipt.gasUsed, receipt };
}

function check(condition: boolean, scenario: string, what: string): void {
  if (!condition) throw new Error(`scenario "${scenario}" did not ${what}`);
}

/** Opens 1 unit in each of the first `count` extra markets for `account` (plus their margin). */
async function holdExtraMarkets(bench: Bench, account: HardhatEthersSigner, count: number): Promise<void> {
  if (count > bench.extraMarkets.length) throw new Error(`only ${bench.extraMarkets.length} extra markets listed`);
  if (count > 0) await mined(bench.system.clearingHouse.connect(account).deposit(BigInt(count) * EXTRA_MARGIN));
  for (const marketId of bench.extraMarkets.slice(0, count))
    await tradeWithMaker(bench, account, marketId, EXTRA_POSITION);
}

/** A trader with 10,000 USD, `ethLong` ETH, and 1 unit in each of markets − 1 extra markets. */
async function trader(s: Scenario, ethLong: bigint, markets: number): Promise<void> {
  const { bench, actor } = s;
  await mined(bench.system.clearingHouse.connect(actor).deposit(TRADER_DEPOSIT));
  await holdExtraMarkets(bench, actor, markets - 1);
  if (ethLong > 0n) await tradeWithMaker(bench, actor, ETH_MARKET, ethLong);
}

/** The actor goes 10x long 20,000 USD of `marketId`, holds markets − 1 extra markets, and the price moves. */
async function victim(s: Scenario, marketId: bigint, bps: bigint): Promise<bigint> {
  const { bench, actor } = s;
  const size = (POSITION_USD * WAD * WAD) / bench.priceOf(marketId);
  await mined(bench.system.clearingHouse.connect(actor).deposit(VICTIM_MARGIN));
  await holdExtraMarkets(bench, actor, s.markets - 1);
  await tradeWithMaker(bench, actor, marketId, size);
  await setPrice(bench.feedOf(marketId), (bench.priceOf(marketId) * bps) / 10_000n);
  return size;
}

/** The keeper liquidates every extra market of a bankrupt actor, then `marketId`: the sum of the calls' gas. */
async function liquidateBankrupt(
  s: Scenario,
  marketId: bigint,
): Promise<{ gas: bigint; receipt: ContractTransactionReceipt }> {
  const { clearingHouse } = s.bench.system;
  let gas = 0n;
  for (const extra of s.bench.extraMarkets.slice(0, s.markets - 1)) {
    gas += (await gasOf(clearingHouse.connect(s.bench.keeper).liquidate(s.actor.address, extra, ALL))).gas;
  }
  const last = await gasOf(clearingHouse.connect(s.bench.keeper).liquidate(s.actor.address, marketId, ALL));
  return { gas: gas + last.gas, receipt: last.receipt };
}

function eventArgs(s: Scenario, receipt: ContractTransactionReceipt, name: string): unknown[] | undefined {
  return clearingHouseEvents(s.bench.system.clearingHouse, receipt).find((e) => e.name === name)?.args;
}

async function stakeSeed(bench: Bench): Promise<void> {
  await mined(bench.system.fund.connect(bench.seedStaker).deposit(SEED_STAKE, bench.seedStaker.address));
}

const SIZE_ETH = 1n * WAD;

export const OPERATIONS: readonly Operation[] = [
  {
    name: OP.deposit,
    role: "user",
    marketsNote: "top-up of an account with positions",
    mustStayFlat: false,
    run: async (s) => {
      await trader(s, SIZE_ETH, s.markets);
      return (await gasOf(s.bench.system.clearingHouse.connect(s.actor).deposit(100n * USD))).gas;
    },
  },
  {
    name: OP.withdraw,
    role: "user",
    marketsNote: "",
    mustStayFlat: false,
    run: async (s) => {
      await trader(s, SIZE_ETH, s.markets);
      return (await gasOf(s.bench.system.clearingHouse.connect(s.actor).withdraw(100n * USD))).gas;
    },
  },
  {
    name: OP.fillOpen,
    role: "user",
    marketsNote: "",
    mustStayFlat: false,
    run: async (s) => {
      await trader(s, 0n, s.markets);
      return (await tradeWithMaker(s.bench, s.actor, ETH_MARKET, SIZE_ETH)).gasUsed;
    },
  },
  {
    name: OP.fillIncrease,
    role: "user",
    marketsNote: "",
    mustStayFlat: false,
    run: async (s) => {
      await trader(s, SIZE_ETH, s.markets);
      return (await tradeWithMaker(s.bench, s.actor, ETH_MARKET, SIZE_ETH)).gasUsed;
    },
  },
  {
    name: OP.fillReduce,
    role: "user",
    marketsNote: "",
    mustStayFlat: false,
    run: async (s) => {
      await trader(s, 2n * SIZE_ETH, s.markets);
      return (await tradeWithMaker(s.bench, s.actor, ETH_MARKET, -SIZE_ETH)).gasUsed;
    },
  },
  {
    name: OP.fillClose,
    role: "user",
    marketsNote: "",
    mustStayFlat: false,
    run: async (s) => {
      await trader(s, SIZE_ETH, s.markets);
      const gas = (await tradeWithMaker(s.bench, s.actor, ETH_MARKET, -SIZE_ETH)).gasUsed;
      const p = await s.bench.system.clearingHouse.positionOf(s.actor.address, ETH_MARKET);
      check(p.size === 0n, OP.fillClose, "close the position");
      return gas;
    },
  },
  {
    name: OP.partialLiquidation,
    role: "keeper",
    marketsNote: "",
    mustStayFlat: true,
    run: async (s) => {
      const size = await victim(s, ETH_MARKET, PARTIAL_BPS);
      const { gas } = await gasOf(
        s.bench.system.clearingHouse.connect(s.bench.keeper).liquidate(s.actor.address, ETH_MARKET, ALL),
      );
      const left = (await s.bench.system.clearingHouse.positionOf(s.actor.address, ETH_MARKET)).size;
      check(left > 0n && left < size, OP.partialLiquidation, "leave part of the position");
      return gas;
    },
  },
  {
    name: OP.fullLiquidation,
    role: "keeper",
    marketsNote: "",
    mustStayFlat: true,
    run: async (s) => {
      await victim(s, ETH_MARKET, FULL_BPS);
      const { gas, receipt } = await gasOf(
        s.bench.system.clearingHouse.connect(s.bench.keeper).liquidate(s.actor.address, ETH_MARKET, ALL),
      );
      const left = (await s.bench.system.clearingHouse.positionOf(s.actor.address, ETH_MARKET)).size;
      const liquidated = eventArgs(s, receipt, "Liquidated");
      check(
        left === 0n && liquidated?.[7] === false,
        OP.fullLiquidation,
        "close the whole position of a solvent account",
      );
      return gas;
    },
  },
  {
    name: OP.bankruptCovered,
    role: "keeper",
    marketsNote: "sum of the N liquidations; the last realizes the deficit",
    mustStayFlat: true,
    run: async (s) => {
      await stakeSeed(s.bench);
      await victim(s, ETH_MARKET, BANKRUPT_BPS);
      const { gas, receipt } = await liquidateBankrupt(s, ETH_MARKET);
      const resolved = eventArgs(s, receipt, "BadDebtResolved");
      check(
        resolved !== undefined && resolved[3] === resolved[2] && resolved[5] === 0n,
        OP.bankruptCovered,
        "have the fund pay the whole deficit",
      );
      return gas;
    },
  },
  {
    name: OP.bankruptSocialized,
    role: "keeper",
    marketsNote: "sum of the N liquidations; the last realizes the deficit",
    mustStayFlat: true,
    run: async (s) => {
      await victim(s, BTC_MARKET, BANKRUPT_BPS);
      const { gas, receipt } = await liquidateBankrupt(s, BTC_MARKET);
      const resolved = eventArgs(s, receipt, "BadDebtResolved");
      check(
        resolved !== undefined && (resolved[5] as bigint) > 0n,
        OP.bankruptSocialized,
        "socialize part of the deficit",
      );
      return gas;
    },
  },
  {
    name: OP.bankruptAccount,
    role: "keeper",
    marketsNote: "one liquidateAccount for all N markets; the largest realizes the deficit",
    mustStayFlat: true,
    run: async (s) => {
      await victim(s, BTC_MARKET, BANKRUPT_BPS);
      const { gas, receipt } = await gasOf(
        s.bench.system.clearingHouse.connect(s.bench.keeper).liquidateAccount(s.actor.address),
      );
      const resolved = eventArgs(s, receipt, "BadDebtResolved");
      const liquidated = clearingHouseEvents(s.bench.system.clearingHouse, receipt).filter(
        (e) => e.name === "Liquidated",
      );
      check(
        resolved !== undefined && (resolved[5] as bigint) > 0n && liquidated.length === s.markets,
        OP.bankruptAccount,
        "hand every market over and socialize part of the deficit",
      );
      return gas;
    },
  },
  {
    name: OP.adl,
    role: "keeper",
    marketsNote: "markets held by the counterparty",
    mustStayFlat: true,
    run: async (s) => {
      const { bench, actor } = s;
      const { clearingHouse } = bench.system;
      const cp: Scenario = { bench, actor: bench.counterparty, markets: s.markets };
      await trader(cp, 0n, s.markets);
      const size = await victim({ ...s, markets: 1 }, ETH_MARKET, 10_000n);
      await tradeWithMaker(bench, bench.counterparty, ETH_MARKET, -size);
      await setPrice(bench.feedOf(ETH_MARKET), (bench.priceOf(ETH_MARKET) * BANKRUPT_BPS) / 10_000n);
      const opened = await mined(clearingHouse.connect(bench.keeper).liquidate(actor.address, ETH_MARKET, ALL));
      check(eventArgs(s, opened, "DeleverageRequired") !== undefined, OP.adl, "open a deleverage case");
      const { gas, receipt } = await gasOf(
        clearingHouse.connect(bench.keeper).autoDeleverage(actor.address, ETH_MARKET, bench.counterparty.address, ALL),
      );
      const closed = !(await clearingHouse.deleverageCaseOf(actor.address)).open;
      check(
        eventArgs(s, receipt, "Deleveraged") !== undefined && closed,
        OP.adl,
        "deleverage the whole position in one step",
      );
      return gas;
    },
  },
  {
    name: OP.stake,
    role: "staker",
    marketsNote: null,
    mustStayFlat: false,
    run: async (s) => {
      await stakeSeed(s.bench);
      return (await gasOf(s.bench.system.fund.connect(s.actor).deposit(STAKE, s.actor.address))).gas;
    },
  },
  {
    name: OP.unstakeRequest,
    role: "staker",
    marketsNote: null,
    mustStayFlat: false,
    run: async (s) => {
      const { fund } = s.bench.system;
      await stakeSeed(s.bench);
      await mined(fund.connect(s.actor).deposit(STAKE, s.actor.address));
      return (await gasOf(fund.connect(s.actor).requestUnstake(await fund.balanceOf(s.actor.address)))).gas;
    },
  },
  {
    name: OP.unstake,
    role: "staker",
    marketsNote: null,
    mustStayFlat: false,
    run: async (s) => {
      const { fund } = s.bench.system;
      await stakeSeed(s.bench);
      await mined(fund.connect(s.actor).deposit(STAKE, s.actor.address));
      await mined(fund.connect(s.actor).requestUnstake(await fund.balanceOf(s.actor.address)));
      await networkHelpers.time.increase(FUND_COOLDOWN);
      // The exit is confirmed after the cooldown and paid EXIT_EXPOSURE later (issue 9's exit rule).
      await mined(fund.connect(s.actor).confirmUnstake());
      await networkHelpers.time.increase(await fund.EXIT_EXPOSURE());
      const { gas } = await gasOf(fund.connect(s.actor).unstake());
      check((await fund.balanceOf(s.actor.address)) === 0n, OP.unstake, "pay out the whole stake");
      return gas;
    },
  },
];

export function operationNamed(name: string): Operation {
  const op = OPERATIONS.find((o) => o.name === name);
  if (op === undefined) throw new Error(`no operation named "${name}"`);
  return op;
}
