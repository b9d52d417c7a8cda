// The keeper's figures on a local `hardhat node`: `npm run bench:keeper -- --accounts 1000 --liquidatable 100`
// (also --signers, --max-in-flight, --idle-blocks, --block-ms, --crash-timeout-s, and --before <keeper.json> to
// set an earlier run's figures beside this one's in keeper.md).
// Measures a cold start (a fresh keeper loading every account), the RPC calls per block while nothing is
// liquidatable, and a crash: blocks and seconds from the price gap to the last liquidation mined. Merges its
// entries into bench/results/keeper.json (by size) and rewrites bench/results/keeper.md.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";

import { Wallet, toQuantity } from "ethers";

import { runInfo } from "./lib/run-info.js";
import { parseKeeperResults } from "./lib/results.js";
import type { KeeperResults } from "./lib/results.js";
import { USD } from "#sdk";
import { deploySystemOverRpc } from "../devnet/deploy.js";
import type { DeployedSystem } from "../devnet/deploy.js";
import { createTestKeeper, rpcCalls } from "../devnet/keeper.js";
import type { TestKeeper } from "../devnet/keeper.js";
import { DEV_KEYS, devWallet } from "../devnet/keys.js";
import { startHardhatNode } from "../devnet/node.js";
import type { HardhatNode } from "../devnet/node.js";
import { DEFAULT_GAP } from "../devnet/scenario/plan.js";
import { buildCrash, fundKeepers, priceGap } from "../devnet/scenario/crash.js";

const RESULTS_DIR = "bench/results";
const JSON_PATH = `${RESULTS_DIR}/keeper.json`;
const MD_PATH = `${RESULTS_DIR}/keeper.md`;
const KEEPER_COLLATERAL = 100_000_000n * USD;

/** The shape bench/lib/results.ts reads back (the report merges it into latest.json). */
type ColdStart = KeeperResults["coldStart"][number];
type Idle = KeeperResults["idle"][number];
type CrashRun = KeeperResults["crash"][number];

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got '${raw}'`);
  return n;
}

function options() {
  const { values } = parseArgs({
    options: {
      accounts: { type: "string" },
      liquidatable: { type: "string" },
      "idle-blocks": { type: "string" },
      signers: { type: "string" },
      "max-in-flight": { type: "string" },
      before: { type: "string" },
      "block-ms": { type: "string" },
      "crash-timeout-s": { type: "string" },
    },
  });
  const accounts = positiveInt("accounts", values.accounts, 1000);
  const liquidatable = positiveInt("liquidatable", values.liquidatable, 100);
  if (accounts < 12) throw new Error("--accounts must be at least 12");
  if (liquidatable * 2 > accounts) throw new Error("--liquidatable must be at most half of --accounts");
  return {
    accounts,
    liquidatable,
    // As many as the keeper's default --refresh-blocks, so that the figure includes one full re-read.
    idleBlocks: positiveInt("idle-blocks", values["idle-blocks"], 50),
    /** Keeper signers during the crash. */
    signers: positiveInt("signers", values.signers, 1),
    /** Transactions in flight per signer (the keeper's --max-in-flight). */
    maxInFlight: positiveInt("max-in-flight", values["max-in-flight"], 64),
    /** A keeper.json of an earlier run (same machine) to set beside this one in keeper.md. */
    before: values.before,
    /** Block time of the node during the crash (interval mining). */
    blockMs: positiveInt("block-ms", values["block-ms"], 1000),
    crashTimeoutS: positiveInt("crash-timeout-s", values["crash-timeout-s"], 900),
  };
}

const log = (message: string): void => void process.stderr.write(`${new Date().toISOString()} ${message}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeper signer keys: the dev accounts #1… first, then derived ones funded with ETH. */
async function signerKeys(system: DeployedSystem, count: number): Promise<string[]> {
  const keys = DEV_KEYS.slice(1, 1 + count);
  for (let i = keys.length; i < count; ++i) {
    const wallet = Wallet.createRandom();
    await system.provider.send("hardhat_setBalance", [wallet.address, toQuantity(10n ** 21n)]);
    keys.push(wallet.privateKey);
  }
  return keys;
}

async function measure(node: HardhatNode, opts: ReturnType<typeof options>): Promise<[ColdStart, Idle, CrashRun]> {
  const system = await deploySystemOverRpc(node.url, devWallet(0));
  try {
    log(`setting up ${opts.accounts} accounts (${opts.liquidatable} to become liquidatable)`);
    const crash = await buildCrash(system, {
      accounts: opts.accounts,
      seed: `bench-${opts.accounts}`,
      classCycle: ["liquidatable"],
      // Every loser is built liquidatable at the gap, the rest are winners on the other side: a share just
      // above liquidatable/accounts makes floor(accounts × share) exactly the liquidatable count.
      loserShare: (opts.liquidatable + 0.5) / opts.accounts,
    });
    log(`set up in ${crash.timings.fund + crash.timings.trade} ms`);
    const keys = await signerKeys(system, opts.signers);
    await fundKeepers(
      system,
      keys.map((k) => new Wallet(k).address),
      KEEPER_COLLATERAL,
    );
    const expected = crash.traders.filter((t) => t.role === "loser").map((t) => t.address);

    const keeper = createTestKeeper({
      url: node.url,
      deployment: system.path,
      privateKeys: keys,
      args: ["--poll-ms", "100", "--block-stale-after-s", "0", "--max-in-flight", String(opts.maxInFlight)],
      // A batch of 20 lens calls over 200 accounts each takes seconds on a loaded machine's node.
      timeoutMs: 300_000,
    });
    try {
      const cold = await coldStart(keeper, opts.accounts);
      log(`cold start: ${cold.ms} ms, ${cold.rpcCalls} calls`);
      const idle = await idleBlocks(keeper, node, opts);
      log(`idle: ${idle.rpcCallsPerBlock} calls per block`);
      const run = await crashRun(keeper, node, system, opts, expected);
      log(`crash: ${run.handled}/${opts.liquidatable} in ${run.blocks} blocks, ${run.seconds} s`);
      return [cold, idle, run];
    } finally {
      await keeper.close();
    }
  } finally {
    system.provider.destroy();
  }
}

/** The first cycle of a fresh keeper: backfill every event, read every account, plan. */
async function coldStart(keeper: TestKeeper, accounts: number): Promise<ColdStart> {
  const started = performance.now();
  const report = await keeper.cycle();
  const ms = Math.round(performance.now() - started);
  if (report.liquidatable !== 0) throw new Error(`cold start: ${report.liquidatable} liquidatable before the gap`);
  if (report.accounts < accounts) throw new Error(`cold start: ${report.accounts} of ${accounts} accounts found`);
  const calls = await rpcCalls(keeper.metrics);
  return { accounts, ms, rpcCalls: calls.total, rpcByMethod: calls.byMethod };
}

/** A cycle per mined empty block, as a keeper polling once per block does. */
async function idleBlocks(keeper: TestKeeper, node: HardhatNode, opts: ReturnType<typeof options>): Promise<Idle> {
  const before = (await rpcCalls(keeper.metrics)).total;
  for (let i = 0; i < opts.idleBlocks; ++i) {
    await node.rpc("evm_mine");
    const report = await keeper.cycle();
    if (report.jobs !== 0) throw new Error("idle: the keeper found work");
  }
  const calls = (await rpcCalls(keeper.metrics)).total - before;
  return {
    accounts: opts.accounts,
    blocks: opts.idleBlocks,
    rpcCallsPerBlock: Math.round((calls / opts.idleBlocks) * 100) / 100,
  };
}

/**
 * The node mines a block every `blockMs` (automine off) with the keeper's loop running; the gap goes in, and
 * the run ends when every account built to be liquidatable has a Liquidated event.
 */
async function crashRun(
  keeper: TestKeeper,
  node: HardhatNode,
  system: DeployedSystem,
  opts: ReturnType<typeof options>,
  expected: readonly string[],
): Promise<CrashRun> {
  const loop = keeper.keeper.start();
  await node.rpc("evm_setAutomine", [false]);
  await node.rpc("evm_setIntervalMining", [opts.blockMs]);
  try {
    const { blockNumber: gapBlock } = await priceGap(system, DEFAULT_GAP);
    const started = performance.now();
    const { clearingHouse } = system.contracts;
    const pending = new Set(expected);
    const callsBefore = await rpcCalls(keeper.metrics);
    /** Liquidations of expected accounts by block after the gap: where the blocks go. */
    const perBlock = new Map<number, number>();
    let lastBlock = gapBlock;
    /** Blocks before this one are read: each poll asks only for the new ones (the bench's reads load the node too). */
    let from = gapBlock + 1;
    // A node that cannot keep up is a result too: stop at the time limit and report how many were handled.
    while (pending.size > 0 && performance.now() - started < opts.crashTimeoutS * 1000) {
      await sleep(250);
      const head = await system.provider.getBlockNumber();
      if (head < from) continue;
      const events = await clearingHouse.queryFilter(clearingHouse.filters.Liquidated(), from, head);
      from = head + 1;
      for (const e of events) {
        if (!pending.delete(e.args.account)) continue;
        lastBlock = Math.max(lastBlock, e.blockNumber);
        perBlock.set(e.blockNumber - gapBlock, (perBlock.get(e.blockNumber - gapBlock) ?? 0) + 1);
      }
    }
    if (pending.size > 0) log(`crash: ${pending.size} accounts not liquidated after ${opts.crashTimeoutS} s`);
    const seconds = Math.round((performance.now() - started) / 10) / 100;
    const handled = expected.length - pending.size;
    const calls = await rpcCalls(keeper.metrics);
    const during = Object.entries(calls.byMethod)
      .map(([m, n]) => [m, n - (callsBefore.byMethod[m] ?? 0)] as const)
      .filter(([, n]) => n > 0);
    log(
      `crash profile: liquidated per block after the gap ${[...perBlock]
        .sort(([a], [b]) => a - b)
        .map(([b, n]) => `+${b}:${n}`)
        .join(" ")}; keeper RPC calls ${during.map(([m, n]) => `${m} ${n}`).join(", ")}`,
    );
    return {
      accounts: opts.accounts,
      liquidatable: expected.length,
      blocks: lastBlock - gapBlock,
      seconds,
      handled,
    };
  } finally {
    await node.rpc("evm_setIntervalMining", [0]);
    await node.rpc("evm_setAutomine", [true]);
    await keeper.close();
    await loop;
  }
}

function merge(results: KeeperResults | undefined, cold: ColdStart, idle: Idle, crash: CrashRun): KeeperResults {
  const sameSize = <T extends { accounts: number }>(list: T[] | undefined, entry: T, also = (_: T) => true): T[] =>
    [...(list ?? []).filter((e) => e.accounts !== entry.accounts || !also(e)), entry].sort(
      (a, b) => a.accounts - b.accounts,
    );
  return {
    ...runInfo(),
    coldStart: sameSize(results?.coldStart, cold),
    idle: sameSize(results?.idle, idle),
    crash: sameSize(results?.crash, crash, (e) => e.liquidatable === crash.liquidatable),
  };
}

function markdown(r: KeeperResults, opts: ReturnType<typeof options>, before?: KeeperResults): string {
  const lines = [
    `# Keeper benchmark (commit ${r.commit}, ${r.date})`,
    "",
    `Machine: ${r.machine}. Local \`hardhat node\`; \`npm run bench:keeper -- --accounts <n> --liquidatable <n>\`.`,
    "",
    "## Cold start (a fresh keeper: backfill, read every account, plan)",
    "",
    "| accounts | ms | RPC calls | by method |",
    "| -------: | -: | --------: | --------- |",
    ...r.coldStart.map(
      (c) =>
        `| ${c.accounts} | ${c.ms} | ${c.rpcCalls} | ${Object.entries(c.rpcByMethod)
          .map(([m, n]) => `${m} ${n}`)
          .join(", ")} |`,
    ),
    "",
    "## Idle (one cycle per new block, nothing liquidatable; every account is re-read once per 50 blocks)",
    "",
    "| accounts | blocks | RPC calls per block |",
    "| -------: | -----: | ------------------: |",
    ...r.idle.map((i) => `| ${i.accounts} | ${i.blocks} | ${i.rpcCallsPerBlock} |`),
    "",
    "## Crash (price gap to the last liquidation mined)",
    "",
    `Last run: ${opts.signers} keeper signer(s), up to ${opts.maxInFlight} transactions in flight each, a block every ${opts.blockMs} ms.`,
    "",
    "| accounts | liquidatable | handled | blocks | seconds |",
    "| -------: | -----------: | ------: | -----: | ------: |",
    ...r.crash.map((c) => `| ${c.accounts} | ${c.liquidatable} | ${c.handled} | ${c.blocks} | ${c.seconds} |`),
    "",
    ...(before === undefined ? [] : beforeAfter(before, r)),
  ];
  return lines.join("\n");
}

/** The figures of an earlier keeper.json beside this run's, size by size (only sizes both measured). */
function beforeAfter(before: KeeperResults, after: KeeperResults): string[] {
  const rows: string[] = [];
  const pair = <T extends { accounts: number }>(
    a: readonly T[],
    b: readonly T[],
    same: (x: T, y: T) => boolean,
    row: (x: T, y: T) => string,
  ): void => {
    for (const x of a) {
      const y = b.find((e) => same(x, e));
      if (y !== undefined) rows.push(row(x, y));
    }
  };
  const sameSize = <T extends { accounts: number }>(x: T, y: T): boolean => x.accounts === y.accounts;
  pair(before.coldStart, after.coldStart, sameSize, (x, y) => {
    return `| cold start, ${x.accounts} accounts | ${x.ms} ms, ${x.rpcCalls} calls | ${y.ms} ms, ${y.rpcCalls} calls |`;
  });
  pair(before.idle, after.idle, sameSize, (x, y) => {
    return `| idle, ${x.accounts} accounts | ${x.rpcCallsPerBlock} calls/block | ${y.rpcCallsPerBlock} calls/block |`;
  });
  pair(
    before.crash,
    after.crash,
    (x, y) => x.accounts === y.accounts && x.liquidatable === y.liquidatable,
    (x, y) =>
      `| crash, ${x.liquidatable} of ${x.accounts} accounts | ${x.blocks} blocks, ${x.seconds} s (${x.handled} handled) | ${y.blocks} blocks, ${y.seconds} s (${y.handled} handled) |`,
  );
  return [
    `## Before and after (before: commit ${before.commit}, ${before.date}; same machine)`,
    "",
    "| figure | before | after |",
    "| ------ | ------ | ----- |",
    ...rows,
    "",
  ];
}

const opts = options();
const node = await startHardhatNode({ timeoutMs: 120_000 });
try {
  const [cold, idle, crash] = await measure(node, opts);
  const previous = existsSync(JSON_PATH)
    ? parseKeeperResults(JSON.parse(await readFile(JSON_PATH, "utf8")), JSON_PATH)
    : undefined;
  const results = merge(previous, cold, idle, crash);
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(JSON_PATH, `${JSON.stringify(results, null, 2)}\n`);
  const before =
    opts.before === undefined
      ? undefined
      : parseKeeperResults(JSON.parse(await readFile(opts.before, "utf8")), opts.before);
  await writeFile(MD_PATH, markdown(results, opts, before));
  process.stdout.write(markdown(results, opts, before));
} finally {
  await node.stop();
}
