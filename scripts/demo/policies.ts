import path from "node:path";

import { Wallet, id, toQuantity } from "ethers";
import type { BrowserProvider } from "ethers";

import {
  LOSS_POLICY_NAMES,
  SHARED_CLAIMS_POOL,
  deployBackstop,
  hardhat,
  overshoot,
  readWaterfallEvents,
  sum,
  takenFromTraders,
  type DeployedBackstop,
  type LossPolicyName,
  type NetworkParams,
  type WaterfallEvents,
} from "#sdk";
import { buildCrash, readPrices, setPrices } from "../../devnet/scenario/crash.js";
import type { CrashSystem } from "../../devnet/scenario/crash.js";
import { DEFAULT_HEDGES, openHedges } from "../../devnet/scenario/hedges.js";
import type { Hedger } from "../../devnet/scenario/hedges.js";
import type { DemoOptions } from "./flags.js";
import { settle, startKeeper } from "./keeper.js";
import { priceSteps } from "./steps.js";

/**
 * The three loss policies on the same crash: one fresh deployment per policy, both markets listed under it, no
 * default layers (the fund is the only insurance, so that more of the bad debt reaches the policy), and the same
 * scenario on each: the demo's crash plan (same seed, accounts and price steps) plus hedged traders (long ETH-USD,
 * short BTC-USD; devnet/scenario/hedges.ts). Everything but the policy is identical, so the rows differ only by
 * what the policy does.
 */

/** One policy's run, amounts 18 decimals. */
export interface PolicyRow {
  policy: LossPolicyName;
  receipts: number;
  /** Σ receipts' shortfall: the bankrupt accounts' deficits. */
  badDebt: bigint;
  fundPaid: bigint;
  /** What the fund could not pay: badDebt − fundPaid, the part a loss policy must take from traders. */
  shortfall: bigint;
  /** Taken from traders: Σ receipts' deleveraged + socialized + haircut. */
  taken: bigint;
  /** taken − shortfall, computed (0 when every receipt balances to the wei). */
  overshoot: bigint;
  deleveraged: bigint;
  socialized: bigint;
  haircut: bigint;
  /** Positions an ADL step cut (partly or wholly), each (account, market) once. */
  positionsClosed: number;
  hedgedTraders: number;
  /** Hedged traders with a leg cut by ADL. */
  hedgesBroken: number;
  /** claimsTotals(): Σ taken by the rules (issued) and not yet funded by inflows (outstanding). */
  claimsIssued: bigint;
  claimsOutstanding: bigint;
}

/** A row with what a reader needs to check it against the chain. */
export interface PolicyRun {
  row: PolicyRow;
  /** Address of the deployment's clearing house; its events start at `startBlock`. */
  clearingHouse: string;
  startBlock: number;
  hedgers: Hedger[];
  /** False when the keeper still had work after its cycle limit at some step (the row is then incomplete). */
  settled: boolean;
}

const KEEPER_SIGNERS = 3;
const STAKERS = 3;
const DEPLOYER_GAS = 1000n * 10n ** 18n;

/** The deployment parameters of the local network with every market under `policy` and no default layers. */
export function policyParams(policy: LossPolicyName): NetworkParams {
  return {
    ...hardhat,
    name: `hardhat-${policy}`,
    layers: undefined,
    markets: hardhat.markets.map((m) => ({ ...m, lossPolicy: policy })),
  };
}

/** Runs the crash once per policy, in LOSS_POLICY_NAMES order, on the provider's chain. */
export async function runPolicies(
  options: DemoOptions,
  provider: BrowserProvider,
  print: (line: string) => void,
): Promise<PolicyRun[]> {
  const runs: PolicyRun[] = [];
  for (const policy of LOSS_POLICY_NAMES) {
    const run = await runPolicy(policy, options, provider);
    print(`policy ${policy}: ${policyLine(run.row)}`);
    runs.push(run);
  }
  return runs;
}

async function runPolicy(policy: LossPolicyName, options: DemoOptions, provider: BrowserProvider): Promise<PolicyRun> {
  const deployer = new Wallet(id(`backstop-demo/${options.seed}/policy/${policy}/deployer`), provider);
  await provider.send("hardhat_setBalance", [deployer.address, toQuantity(DEPLOYER_GAS)]);
  const deployed = await deployBackstop(deployer, policyParams(policy), { dir: path.join(options.outDir, "policies") });
  const system = crashSystem(deployed, provider, deployer);
  const { hedgers } = await openHedges(system, { seed: options.seed, ...DEFAULT_HEDGES });
  const steps = priceSteps(await readPrices(system), options.crashPct);
  await buildCrash(system, {
    accounts: options.accounts,
    seed: options.seed,
    gap: { ethPct: -options.crashPct, btcPct: -options.crashPct },
    stakers: STAKERS,
  });
  const { keeper } = await startKeeper(system, deployed.deployment, deployed.path ?? "", options.seed, KEEPER_SIGNERS);
  await keeper.runOnce();
  let settled = true;
  for (const step of steps) {
    await setPrices(system, step.prices);
    settled = (await settle(keeper, provider, hardhat.deleverageTimeout)).settled && settled;
  }
  await keeper.stop();
  const events = await readWaterfallEvents(deployed.contracts, deployed.deployment.startBlock);
  const [issued, inflow] = await deployed.contracts.clearingHouse.claimsTotals(SHARED_CLAIMS_POOL);
  return {
    row: policyRow(policy, events, hedgers, { issued, inflow }),
    clearingHouse: deployed.deployment.contracts.clearingHouse,
    startBlock: deployed.deployment.startBlock,
    hedgers,
    settled,
  };
}

/** A policy's row from its deployment's events, its hedged traders and its claimsTotals(). Pure. */
export function policyRow(
  policy: LossPolicyName,
  events: Pick<WaterfallEvents, "receipts" | "adlSteps">,
  hedgers: readonly Pick<Hedger, "address">[],
  claims: { issued: bigint; inflow: bigint },
): PolicyRow {
  const r = events.receipts;
  const totals = {
    shortfall: sum(r.map((x) => x.shortfall)),
    fundPaid: sum(r.map((x) => x.fundPaid)),
    deleveraged: sum(r.map((x) => x.deleveraged)),
    socialized: sum(r.map((x) => x.socialized)),
    haircut: sum(r.map((x) => x.haircut)),
  };
  const cut = new Set(events.adlSteps.map((s) => `${s.counterparty.toLowerCase()}/${s.marketId}`));
  const cutAccounts = new Set(events.adlSteps.map((s) => s.counterparty.toLowerCase()));
  return {
    policy,
    receipts: r.length,
    badDebt: totals.shortfall,
    fundPaid: totals.fundPaid,
    shortfall: totals.shortfall - totals.fundPaid,
    taken: takenFromTraders(totals),
    overshoot: overshoot(totals),
    deleveraged: totals.deleveraged,
    socialized: totals.socialized,
    haircut: totals.haircut,
    positionsClosed: cut.size,
    hedgedTraders: hedgers.length,
    hedgesBroken: hedgers.filter((h) => cutAccounts.has(h.address.toLowerCase())).length,
    claimsIssued: claims.issued,
    claimsOutstanding: claims.issued - claims.inflow,
  };
}

function policyLine(row: PolicyRow): string {
  return (
    `${row.receipts} receipts, ${row.positionsClosed} positions closed by ADL, ` +
    `${row.hedgesBroken} of ${row.hedgedTraders} hedges broken`
  );
}

/** The demo's view of a deployment: its contracts, the local feeds and the deployer as the admin. */
export function crashSystem(deployed: DeployedBackstop, provider: BrowserProvider, admin: Wallet): CrashSystem {
  const [ethFeed, btcFeed] = deployed.contracts.feeds;
  return { provider, admin, contracts: { ...deployed.contracts, ethFeed, btcFeed } };
}
