import { Wallet, toQuantity } from "ethers";
import type { JsonRpcApiProvider, Signer } from "ethers";

import { LOCAL_FEED_DECIMALS, LOCAL_RISK, ORDER_TYPES, orderDomain } from "#sdk";
import type {
  ChainlinkOracleAdapter,
  ClearingHouse,
  InsuranceFund,
  MockAggregatorV3,
  MockERC20,
} from "../../typechain-types/index.js";
import type { OrderStruct } from "../../typechain-types/ClearingHouse.js";
import { sendBatch, sendInChunks } from "./batch.js";
import type { BatchCall } from "./batch.js";
import { planCrash } from "./plan.js";
import type { CrashPlan, MarketPrices, PlanOptions, PlannedAccount, PriceGap } from "./plan.js";

/**
 * A system on a local chain (in-process or `hardhat node`) with the mock token and feeds of the local
 * parameters, and an admin that may mint and move the feeds and signs locally (a Wallet).
 */
export interface CrashSystem {
  provider: JsonRpcApiProvider;
  admin: Signer;
  contracts: {
    clearingHouse: ClearingHouse;
    insuranceFund: InsuranceFund;
    oracleAdapter: ChainlinkOracleAdapter;
    collateralToken: MockERC20;
    ethFeed: MockAggregatorV3;
    btcFeed: MockAggregatorV3;
  };
}

/** A planned account with its wallet (not connected to a provider). */
export interface CrashTrader extends PlannedAccount {
  wallet: Wallet;
  address: string;
}

export interface Crash {
  plan: CrashPlan;
  traders: CrashTrader[];
  /** Every trader's address, in plan order. */
  accounts: string[];
  stakers: Wallet[];
  /** Block of the last set-up transaction. */
  blockNumber: number;
  /** Wall time of the set-up phases, in ms. */
  timings: { fund: number; trade: number };
}

/** accounts (≥ 12 for liquidatable and bankrupt accounts in both markets), seed, and the plan's optional knobs. */
export type CrashOptions = Omit<PlanOptions, "prices">;

const ETH_FOR_GAS = 100n * 10n ** 18n;
/** Gas limits with headroom over what these calls use on this system. */
const GAS = {
  mint: 120_000n,
  approve: 80_000n,
  depositFor: 150_000n,
  stake: 300_000n,
  fill: 600_000n,
  setAnswer: 120_000n,
} as const;
const ORDER_LIFETIME = 86_400n;

/**
 * Sets up the crash of plan.ts on a freshly deployed system: funds every trader (gas through hardhat_setBalance,
 * collateral minted to the admin and paid in with depositFor), stakes the insurance fund with the plan's stakers, and
 * opens every position through signed orders filled by the winners. Two batches of transactions, each mined in
 * one or two blocks. The price gap is left to priceGap().
 */
export async function buildCrash(system: CrashSystem, options: CrashOptions): Promise<Crash> {
  const { provider, admin } = system;
  const { clearingHouse, collateralToken: token, insuranceFund: fund } = system.contracts;
  const plan = planCrash({ ...options, prices: await readPrices(system) });
  const traders = plan.accounts.map((account): CrashTrader => {
    const wallet = new Wallet(account.privateKey);
    return { ...account, wallet, address: wallet.address };
  });
  const stakers = plan.stakerKeys.map((key) => new Wallet(key));
  const chAddress = await clearingHouse.getAddress();
  const fundAddress = await fund.getAddress();
  const tokenAddress = await token.getAddress();
  const adminAddress = await admin.getAddress();

  const fundStart = Date.now();
  await Promise.all(
    [...traders.map((t) => t.address), ...stakers.map((s) => s.address)].map((address) =>
      provider.send("hardhat_setBalance", [address, toQuantity(ETH_FOR_GAS)]),
    ),
  );
  const collateral = traders.reduce((sum, t) => sum + t.collateral, 0n);
  await sendInChunks(provider, [
    ...mintAndDeposit(system, adminAddress, chAddress, tokenAddress, collateral),
    ...traders.map((t): BatchCall => ({
      signer: admin,
      to: chAddress,
      data: clearingHouse.interface.encodeFunctionData("depositFor", [t.address, t.collateral]),
      gasLimit: GAS.depositFor,
      label: `depositFor #${t.index}`,
    })),
    ...stakers.map((s, i): BatchCall => ({
      signer: admin,
      to: tokenAddress,
      data: token.interface.encodeFunctionData("mint", [s.address, plan.stakes[i]]),
      gasLimit: GAS.mint,
      label: `mint staker ${i}`,
    })),
  ]);
  const fundTime = Date.now() - fundStart;

  const tradeStart = Date.now();
  const latest = await provider.getBlock("latest");
  if (latest === null) throw new Error("no latest block");
  const expiry = BigInt(latest.timestamp) + ORDER_LIFETIME;
  const { chainId } = await provider.getNetwork();
  const domain = orderDomain(Number(chainId), chAddress);
  const orders = plan.orders.map((order): OrderStruct => ({
    maker: traders[order.makerIndex].address,
    marketId: order.marketId,
    isBuy: order.isBuy,
    size: order.size,
    limitPrice: order.limitPrice,
    expiry,
    nonce: order.nonce,
    reduceOnly: false,
  }));
  const signatures = await Promise.all(
    orders.map((order, i) => traders[plan.orders[i].makerIndex].wallet.signTypedData(domain, ORDER_TYPES, order)),
  );
  const receipts = await sendInChunks(provider, [
    ...stakers.flatMap((s, i): BatchCall[] => [
      {
        signer: s,
        to: tokenAddress,
        data: token.interface.encodeFunctionData("approve", [fundAddress, plan.stakes[i]]),
        gasLimit: GAS.approve,
        label: `approve staker ${i}`,
      },
      {
        signer: s,
        to: fundAddress,
        data: fund.interface.encodeFunctionData("deposit", [plan.stakes[i], s.address]),
        gasLimit: GAS.stake,
        label: `stake ${i}`,
      },
    ]),
    ...plan.fills.map((fill, i): BatchCall => ({
      signer: traders[fill.takerIndex].wallet,
      to: chAddress,
      data: clearingHouse.interface.encodeFunctionData("fillOrder", [
        orders[fill.orderIndex],
        signatures[fill.orderIndex],
        fill.size,
      ]),
      gasLimit: GAS.fill,
      label: `fill #${i} (order ${fill.orderIndex}, taker #${fill.takerIndex})`,
    })),
  ]);
  const tradeTime = Date.now() - tradeStart;

  return {
    plan,
    traders,
    accounts: traders.map((t) => t.address),
    stakers,
    blockNumber: Math.max(...receipts.map((r) => r.blockNumber)),
    timings: { fund: fundTime, trade: tradeTime },
  };
}

/**
 * Moves both feeds by the given percentages in one block (a gap, not a slide) and returns the new oracle prices
 * (18 decimals) and that block.
 */
export async function priceGap(
  system: CrashSystem,
  gap: PriceGap,
): Promise<{ prices: MarketPrices; blockNumber: number }> {
  const { ethFeed, btcFeed } = system.contracts;
  const move = (answer: bigint, pct: number): bigint => (answer * (10_000n + BigInt(Math.round(pct * 100)))) / 10_000n;
  const [eth, btc] = await Promise.all([ethFeed.latestRoundData(), btcFeed.latestRoundData()]);
  const answers = { eth: move(eth[1], gap.ethPct), btc: move(btc[1], gap.btcPct) };
  if (answers.eth <= 0n || answers.btc <= 0n) throw new Error("priceGap: a price would not be positive");
  return setAnswers(system, answers);
}

/**
 * Sets both feeds to `prices` (18 decimals, whole multiples of the feeds' 8-decimal unit) in one block and
 * returns the oracle prices and that block.
 */
export async function setPrices(
  system: CrashSystem,
  prices: MarketPrices,
): Promise<{ prices: MarketPrices; blockNumber: number }> {
  const unit = 10n ** BigInt(18 - LOCAL_FEED_DECIMALS);
  if (prices.eth <= 0n || prices.btc <= 0n) throw new Error("setPrices: a price is not positive");
  if (prices.eth % unit !== 0n || prices.btc % unit !== 0n) {
    throw new Error(`setPrices: prices must be whole multiples of 1e-${LOCAL_FEED_DECIMALS}`);
  }
  return setAnswers(system, { eth: prices.eth / unit, btc: prices.btc / unit });
}

async function setAnswers(
  system: CrashSystem,
  answers: { eth: bigint; btc: bigint },
): Promise<{ prices: MarketPrices; blockNumber: number }> {
  const { ethFeed, btcFeed } = system.contracts;
  const receipts = await sendBatch(system.provider, [
    {
      signer: system.admin,
      to: await ethFeed.getAddress(),
      data: ethFeed.interface.encodeFunctionData("setAnswer", [answers.eth]),
      gasLimit: GAS.setAnswer,
      label: "ETH feed",
    },
    {
      signer: system.admin,
      to: await btcFeed.getAddress(),
      data: btcFeed.interface.encodeFunctionData("setAnswer", [answers.btc]),
      gasLimit: GAS.setAnswer,
      label: "BTC feed",
    },
  ]);
  return { prices: await readPrices(system), blockNumber: receipts[receipts.length - 1].blockNumber };
}

/** Both markets' oracle prices (18 decimals) as the clearing house reads them. */
export async function readPrices(system: CrashSystem): Promise<MarketPrices> {
  const { oracleAdapter, ethFeed, btcFeed } = system.contracts;
  const [eth, btc] = await Promise.all([
    oracleAdapter.getPrice(await ethFeed.getAddress(), LOCAL_RISK.oracleHeartbeat),
    oracleAdapter.getPrice(await btcFeed.getAddress(), LOCAL_RISK.oracleHeartbeat),
  ]);
  return { eth, btc };
}

/**
 * Gives each keeper account `amount` (token units) of collateral in the clearing house. A liquidator takes over
 * the positions it liquidates and must keep initial margin on them, so keeper signers need collateral there.
 */
export async function fundKeepers(system: CrashSystem, accounts: readonly string[], amount: bigint): Promise<void> {
  const { clearingHouse, collateralToken: token } = system.contracts;
  const chAddress = await clearingHouse.getAddress();
  const adminAddress = await system.admin.getAddress();
  await sendBatch(system.provider, [
    ...mintAndDeposit(system, adminAddress, chAddress, await token.getAddress(), amount * BigInt(accounts.length)),
    ...accounts.map((account): BatchCall => ({
      signer: system.admin,
      to: chAddress,
      data: clearingHouse.interface.encodeFunctionData("depositFor", [account, amount]),
      gasLimit: GAS.depositFor,
      label: `depositFor keeper ${account}`,
    })),
  ]);
}

/**
 * Takes an evm_snapshot; `restore()` reverts the chain to it and can be called again (Hardhat consumes a snapshot
 * on revert, so a new one is taken each time). Lets a suite deploy and build a crash once and start each test
 * from the same state. Anything holding chain state (a keeper's nonces, a checkpoint) must start afresh.
 */
export async function takeSnapshot(system: Pick<CrashSystem, "provider">): Promise<{ restore(): Promise<void> }> {
  let id = (await system.provider.send("evm_snapshot", [])) as string;
  return {
    restore: async () => {
      const reverted = (await system.provider.send("evm_revert", [id])) as boolean;
      if (!reverted) throw new Error(`evm_revert ${id} failed`);
      id = (await system.provider.send("evm_snapshot", [])) as string;
    },
  };
}

/** Moves the node's clock forward and mines a block with the new time. */
export async function advanceTime(system: Pick<CrashSystem, "provider">, seconds: number): Promise<void> {
  await system.provider.send("evm_increaseTime", [seconds]);
  await system.provider.send("evm_mine", []);
}

/** The admin mints `amount` to itself and lets the clearing house pull it. */
function mintAndDeposit(
  system: CrashSystem,
  adminAddress: string,
  chAddress: string,
  tokenAddress: string,
  amount: bigint,
): BatchCall[] {
  const token = system.contracts.collateralToken;
  return [
    {
      signer: system.admin,
      to: tokenAddress,
      data: token.interface.encodeFunctionData("mint", [adminAddress, amount]),
      gasLimit: GAS.mint,
      label: "mint to admin",
    },
    {
      signer: system.admin,
      to: tokenAddress,
      data: token.interface.encodeFunctionData("approve", [chAddress, amount]),
      gasLimit: GAS.approve,
      label: "approve clearing house",
    },
  ];
}
