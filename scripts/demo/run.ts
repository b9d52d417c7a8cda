import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { BrowserProvider, Wallet, id, toQuantity } from "ethers";
import type { Eip1193Provider } from "ethers";

import {
  LAYER_NAMES,
  USD,
  deployBackstop,
  groupLossEvents,
  hardhat,
  layerTotals,
  readLayers,
  readWaterfallEvents,
  sum,
  type DeployedBackstop,
  type LayersState,
  type ReceiptEvent,
  type WaterfallEvents,
} from "#sdk";
import { buildCrash, readPrices, setPrices } from "../../devnet/scenario/crash.js";
import type { Crash } from "../../devnet/scenario/crash.js";
import type { DemoOptions } from "./flags.js";
import { toJson, tokenUsd } from "./format.js";
import { settle, startKeeper } from "./keeper.js";
import { crashSystem, runPolicies, type PolicyRun } from "./policies.js";
import { renderMarkdown, stepLine } from "./report.js";
import type { DemoReport, FundSnapshot, LayersReport, MarketTotals, ReceiptTotals, StepReport } from "./report.js";
import { NOT_CHECKED_HERE, checkSolvency, failures } from "./solvency.js";
import { readBeforeEvents, readSystemState } from "./state.js";
import { priceSteps } from "./steps.js";

export interface DemoIo {
  /** The chain: the in-process network's EIP-1193 provider (`(await network.create()).provider`). */
  ethereum: Eip1193Provider;
  /** Progress lines; nothing when absent. */
  print?: (line: string) => void;
}

export interface DemoResult {
  report: DemoReport;
  /** True when every invariant held. */
  ok: boolean;
  files: { json: string; markdown: string };
  /** Each loss policy's run on the same crash, with where to check its row on the chain. */
  policies: PolicyRun[];
}

const KEEPER_SIGNERS = 3;
const STAKERS = 3;
const DEPLOYER_GAS = 1000n * 10n ** 18n;
/**
 * The demo's default layers (token units; the contract's parameters are the local networks', in
 * sdk/deploy/networks/local.ts): the treasury's first-loss capital, and clearing members who each hold
 * `collateral` in the clearing house (no positions) and contribute `contribution`. Small next to the crash's
 * bad debt, so that the first loss, the stakers and the members' fund are used up and the members are assessed.
 */
const DEMO_LAYERS = { firstLoss: 100n * USD, members: 3, contribution: 50n * USD, collateral: 1_000n * USD } as const;

/**
 * The demo: deploys Backstop, builds the crash scenario (stakers, traders, signed orders), moves both prices
 * down in steps while the keeper works through the waterfall, then reads every loss event and checks solvency.
 * Writes report.json and report.md to `options.outDir`.
 */
export async function runDemo(options: DemoOptions, io: DemoIo): Promise<DemoResult> {
  const started = Date.now();
  const print = io.print ?? ((): void => undefined);
  const provider = new BrowserProvider(io.ethereum, undefined, { cacheTimeout: -1, pollingInterval: 20 });
  try {
    const { chainId } = await provider.getNetwork();
    const deployer = new Wallet(id(`backstop-demo/${options.seed}/deployer`), provider);
    await provider.send("hardhat_setBalance", [deployer.address, toQuantity(DEPLOYER_GAS)]);
    const deployed = await deployBackstop(deployer, hardhat, { dir: options.outDir });
    const deploymentFile = deployed.path ?? "";
    print(`deployed Backstop (clearing house ${deployed.deployment.contracts.clearingHouse}) → ${deploymentFile}`);
    const system = crashSystem(deployed, provider, deployer);

    const startPrices = await readPrices(system);
    const steps = priceSteps(startPrices, options.crashPct);
    const crash = await buildCrash(system, {
      accounts: options.accounts,
      seed: options.seed,
      gap: { ethPct: -options.crashPct, btcPct: -options.crashPct },
      stakers: STAKERS,
    });
    print(
      `${crash.traders.length} traders opened ${crash.plan.fills.length} fills through ${crash.plan.orders.length} ` +
        `signed orders; ${crash.stakers.length} stakers put ${sum(crash.plan.stakes)} token units in the fund`,
    );
    const { keeper, addresses: keepers } = await startKeeper(
      system,
      deployed.deployment,
      deploymentFile,
      options.seed,
      KEEPER_SIGNERS,
    );
    const symbol = await deployed.contracts.collateralToken.symbol();
    const members = await setUpLayers(deployed, deployer, provider, options.seed);
    if (members.length > 0) {
      print(
        `default layers: ${tokenUsd(DEMO_LAYERS.firstLoss)} ${symbol} of first-loss capital, ${members.length} ` +
          `clearing members contributing ${tokenUsd(DEMO_LAYERS.contribution)} ${symbol} each`,
      );
    }
    await keeper.runOnce(); // indexes the set-up; nothing is liquidatable yet
    const fundBefore = await readFund(deployed);
    const layersBefore = await readLayers(deployed.contracts.lens);

    const stepReports: StepReport[] = [];
    for (const step of steps) {
      const fromBlock = (await provider.getBlockNumber()) + 1;
      await setPrices(system, step.prices);
      const health = await deployed.contracts.lens.healthOf(crash.accounts);
      const keeperReport = await settle(keeper, provider, hardhat.deleverageTimeout);
      const report: StepReport = {
        step,
        liquidatable: health.filter((h) => h.liquidatable).length,
        bankrupt: health.filter((h) => h.bankrupt).length,
        keeper: keeperReport,
        badDebt: stepTotals(await readWaterfallEvents(deployed.contracts, fromBlock)),
        fundAssets: (await readFund(deployed)).assets,
      };
      stepReports.push(report);
      print(stepLine(report, symbol));
    }
    await keeper.stop();

    const events = await readWaterfallEvents(deployed.contracts, deployed.deployment.startBlock);
    const [state, before] = await Promise.all([
      readSystemState(deployed.contracts, events.accounts),
      readBeforeEvents(deployed.contracts, events.adlSteps, events.socializations),
    ]);
    const solvency = checkSolvency({ state, events, ...before });
    const policies = await runPolicies(options, provider, print);
    const report: DemoReport = {
      symbol,
      options: { seed: options.seed, accounts: options.accounts, crashPct: options.crashPct },
      chainId: Number(chainId),
      deploymentFile,
      setup: setupSummary(crash, keepers),
      fundBefore,
      fundAfter: await readFund(deployed),
      layers: layersReport(layersBefore, await readLayers(deployed.contracts.lens), events, members),
      steps: stepReports,
      liquidations: solventLiquidations(events),
      lossEvents: groupLossEvents(events),
      totals: marketTotals(events),
      reached: {
        liquidation: events.liquidations.some((l) => !l.bankrupt),
        fundDraw: events.receipts.some((r) => r.fundPaid > 0n),
        assessments: events.assessments.some((a) => a.collected > 0n),
        adl: events.adlSteps.length > 0,
        socialization: events.receipts.some((r) => r.socialized > 0n),
      },
      solvency,
      policies: policies.map((p) => p.row),
      notChecked: NOT_CHECKED_HERE,
      ok:
        failures(solvency).length === 0 &&
        stepReports.every((s) => s.keeper.settled) &&
        policies.every((p) => p.settled),
      durationMs: Date.now() - started,
      labels: labels(crash, keepers, members),
    };
    const files = await writeReport(report, options.outDir);
    return { report, ok: report.ok, files, policies };
  } finally {
    provider.destroy();
  }
}

/**
 * With default layers: the deployer (the treasury) funds the first-loss capital, and each member (a key from the
 * seed) deposits its collateral in the clearing house and joins. Returns the members; none without layers.
 */
async function setUpLayers(
  deployed: DeployedBackstop,
  deployer: Wallet,
  provider: BrowserProvider,
  seed: string,
): Promise<Wallet[]> {
  const { defaultLayers: layers, collateralToken: token, clearingHouse } = deployed.contracts;
  if (layers === undefined) return [];
  const mined = async (pending: Promise<{ wait(): Promise<unknown> }>): Promise<void> => {
    await (await pending).wait();
  };
  const layersAddress = await layers.getAddress();
  await mined(token.connect(deployer).mint(deployer.address, DEMO_LAYERS.firstLoss));
  await mined(token.connect(deployer).approve(layersAddress, DEMO_LAYERS.firstLoss));
  await mined(layers.connect(deployer).fundFirstLoss(DEMO_LAYERS.firstLoss));
  const members: Wallet[] = [];
  for (let i = 1; i <= DEMO_LAYERS.members; i++) {
    const member = new Wallet(id(`backstop-demo/${seed}/member/${i}`), provider);
    await provider.send("hardhat_setBalance", [member.address, toQuantity(10n ** 18n)]);
    await mined(token.connect(deployer).mint(member.address, DEMO_LAYERS.collateral + DEMO_LAYERS.contribution));
    await mined(token.connect(member).approve(await clearingHouse.getAddress(), DEMO_LAYERS.collateral));
    await mined(clearingHouse.connect(member).deposit(DEMO_LAYERS.collateral));
    await mined(token.connect(member).approve(layersAddress, DEMO_LAYERS.contribution));
    await mined(layers.connect(member).join(DEMO_LAYERS.contribution));
    members.push(member);
  }
  return members;
}

/** A row per layer: its size before the crash and after, and what it paid (Σ LayerDrawn); who was assessed. */
function layersReport(
  before: LayersState | undefined,
  after: LayersState | undefined,
  events: WaterfallEvents,
  members: readonly Wallet[],
): LayersReport | null {
  if (before === undefined || after === undefined) return null;
  const paid = layerTotals(events.layerDraws);
  const assessed = new Map<string, { address: string; asked: bigint; collected: bigint }>();
  for (const a of events.assessments) {
    const row = assessed.get(a.member) ?? { address: a.member, asked: 0n, collected: 0n };
    row.asked += a.asked;
    row.collected += a.collected;
    assessed.set(a.member, row);
  }
  return {
    rows: LAYER_NAMES.map((layer, i) => ({
      layer,
      before: before.rows[i].size,
      paid: paid[layer],
      after: after.rows[i].size,
    })),
    firstLossFunded: events.flows.firstLossFunded,
    assessmentMultiple: hardhat.layers?.assessmentMultiple ?? 0n,
    members: members.map((m, i) => ({
      label: `member ${i + 1}`,
      address: m.address,
      contribution: DEMO_LAYERS.contribution,
      collateral: DEMO_LAYERS.collateral,
    })),
    assessed: [...assessed.values()],
  };
}

async function readFund(deployed: DeployedBackstop): Promise<FundSnapshot> {
  const state = await deployed.contracts.lens.fundState();
  return { assets: state.totalAssets, pendingFees: state.pendingFees };
}

function setupSummary(crash: Crash, keepers: string[]): DemoReport["setup"] {
  const leverages = crash.traders.map((t) => t.leverage);
  return {
    traders: crash.traders.length,
    stakers: crash.plan.stakes.map((stake, i) => ({ label: `staker ${i + 1}`, stake })),
    keepers: keepers.map((_, i) => `keeper ${i + 1}`),
    markets: hardhat.markets.map((market, id) => {
      const legs = crash.traders.flatMap((t) => t.legs.filter((l) => l.marketId === BigInt(id)));
      const longs = legs.filter((l) => l.side === "long");
      return {
        symbol: market.symbol,
        policy: market.lossPolicy,
        longs: longs.length,
        shorts: legs.length - longs.length,
        openInterest: sum(longs.map((l) => l.size)),
      };
    }),
    leverage: { min: Math.min(...leverages), max: Math.max(...leverages) },
  };
}

function solventLiquidations(events: WaterfallEvents): DemoReport["liquidations"] {
  const solvent = events.liquidations.filter((l) => !l.bankrupt);
  return {
    count: solvent.length,
    keeperRewards: sum(solvent.map((l) => l.reward)),
    fundFees: sum(solvent.map((l) => l.fee)),
  };
}

/**
 * A step's bad debt: the receipts resolved in it, and what its events paid toward deficits — fund draws to
 * bankrupt accounts, ADL losses, socialized charges — whether or not the case closed in the same step (an ADL
 * case can take several steps of the keeper, and a receipt only comes with the last).
 */
function stepTotals(events: WaterfallEvents): ReceiptTotals {
  return {
    receipts: events.receipts.length,
    shortfall: sum(events.receipts.map((r) => r.shortfall)),
    fundPaid: sum(events.fundDraws.filter((d) => d.recipient === d.account).map((d) => d.amount)),
    deleveraged: sum(events.adlSteps.map((s) => s.loss)),
    socialized: sum(events.socializations.map((s) => s.amount)),
    haircut: sum(events.receipts.map((r) => r.haircut)),
  };
}

function receiptTotals(receipts: readonly ReceiptEvent[]): ReceiptTotals {
  return {
    receipts: receipts.length,
    shortfall: sum(receipts.map((r) => r.shortfall)),
    fundPaid: sum(receipts.map((r) => r.fundPaid)),
    deleveraged: sum(receipts.map((r) => r.deleveraged)),
    socialized: sum(receipts.map((r) => r.socialized)),
    haircut: sum(receipts.map((r) => r.haircut)),
  };
}

function marketTotals(events: WaterfallEvents): MarketTotals[] {
  return hardhat.markets.map((market, id) => ({
    symbol: market.symbol,
    policy: market.lossPolicy,
    ...receiptTotals(events.receipts.filter((r) => r.marketId === id)),
  }));
}

function labels(crash: Crash, keepers: string[], members: readonly Wallet[]): Record<string, string> {
  const entries: [string, string][] = crash.traders.map((t) => {
    const legs = t.legs.map((l) => `${l.side} ${l.marketId === 0n ? "ETH" : "BTC"}`).join(" + ");
    return [t.address.toLowerCase(), `#${t.index} (${legs}, ${t.leverage}x)`];
  });
  keepers.forEach((k, i) => entries.push([k.toLowerCase(), `keeper ${i + 1}`]));
  crash.stakers.forEach((s, i) => entries.push([s.address.toLowerCase(), `staker ${i + 1}`]));
  members.forEach((m, i) => entries.push([m.address.toLowerCase(), `member ${i + 1}`]));
  return Object.fromEntries(entries);
}

async function writeReport(report: DemoReport, dir: string): Promise<{ json: string; markdown: string }> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, "report.json");
  const markdown = path.join(dir, "report.md");
  await Promise.all([writeFile(json, toJson(report)), writeFile(markdown, renderMarkdown(report))]);
  return { json, markdown };
}
