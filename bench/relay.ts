// The order relay under load on loopback: `npm run bench:relay -- --clients 8 --orders 2000 --max-s 60`.
// Starts a `hardhat node`, deploys, funds one maker per client, pre-signs every order, starts `npm run relay`
// as its own process (SQLite file book, limits lifted), then has N concurrent clients post the orders through
// RelayClient until all are posted or the time bound is reached. Each order passes every check the relay makes,
// including the eth_call simulation of fillOrder. Writes bench/results/relay.json and relay.md.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

import { JsonRpcProvider } from "ethers";

import { RelayClient, RelayError, WAD, connectDeployment, orderToJson, type SignedOrderFields } from "#sdk";
import { deploySystemOverRpc } from "../devnet/deploy.js";
import { devWallet } from "../devnet/keys.js";
import { startRelay, type RelayProcess } from "../devnet/relay.js";
import { freePort, startHardhatNode, type HardhatNode } from "../devnet/node.js";
import { dollars, fundTrader, signOrderAs } from "../devnet/traders.js";
import { writeJson, writeText } from "./lib/files.js";
import { RESULTS_DIR } from "./lib/paths.js";
import { runInfo } from "./lib/run-info.js";
import { median, percentile } from "./lib/stats.js";

const JSON_PATH = `${RESULTS_DIR}/relay.json`;
const MD_PATH = `${RESULTS_DIR}/relay.md`;
/** Dev accounts 0 (deployer) and 1 are left alone; makers are 2 onwards. */
const FIRST_MAKER = 2;

function positiveInt(name: string, raw: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > max) throw new Error(`--${name} must be a whole number in 1..${max}`);
  return n;
}

function options() {
  const { values } = parseArgs({
    options: { clients: { type: "string" }, orders: { type: "string" }, "max-s": { type: "string" } },
  });
  return {
    clients: positiveInt("clients", values.clients, 8, 8),
    orders: positiveInt("orders", values.orders, 2000),
    maxS: positiveInt("max-s", values["max-s"], 60),
  };
}

async function main(): Promise<void> {
  const opts = options();
  let node: HardhatNode | undefined;
  let relay: RelayProcess | undefined;
  try {
    node = await startHardhatNode();
    const system = await deploySystemOverRpc(node.url, devWallet(0));
    const makers = Array.from({ length: opts.clients }, (_, i) => devWallet(FIRST_MAKER + i));
    for (const maker of makers) await fundTrader(system, maker, dollars(1_000_000));
    const head = await system.provider.getBlock("latest");
    if (head === null) throw new Error("no head block");

    // Pre-signed, so that signing is not measured: 0.01 ETH bids and asks between 1,950 and 2,049.
    const perClient = Math.ceil(opts.orders / opts.clients);
    const work: { order: SignedOrderFields; signature: string }[][] = [];
    for (const [c, maker] of makers.entries()) {
      const mine = [];
      for (let i = 0; i < perClient && c * perClient + i < opts.orders; ++i) {
        const order: SignedOrderFields = {
          maker: maker.address,
          marketId: 0n,
          isBuy: i % 2 === 0,
          size: WAD / 100n,
          limitPrice: (1950n + BigInt(i % 100)) * WAD,
          expiry: BigInt(head.timestamp) + 86_400n,
          nonce: BigInt(i + 1),
          reduceOnly: false,
        };
        mine.push({ order, signature: await signOrderAs(maker, system.deployment, order) });
      }
      work.push(mine);
    }
    // What one fillOrder simulation costs the node on its own (direct eth_call, no batching): the relay makes one
    // per order, and the node runs them one at a time, so this bounds the rate.
    const simulations: number[] = [];
    const first = work[0][0];
    const simulator = new JsonRpcProvider(node.url, system.deployment.chainId, {
      staticNetwork: true,
      batchMaxCount: 1,
    });
    const ch = connectDeployment(system.deployment, simulator).clearingHouse;
    for (let i = 0; i < 20; ++i) {
      const start = performance.now();
      await ch.fillOrder.staticCall(first.order, first.signature, first.order.size).catch(() => undefined);
      simulations.push(performance.now() - start);
    }
    simulator.destroy();
    const bodyBytes = JSON.stringify({ order: orderToJson(work[0][0].order), signature: work[0][0].signature }).length;

    const dir = await mkdtemp(path.join(tmpdir(), "relay-bench-"));
    relay = await startRelay(node.url, system.path, await freePort(), {
      db: path.join(dir, "orders.sqlite"),
      flags: [
        ...["--post-limit", "1000000000", "--read-limit", "1000000000"],
        ...["--max-orders-per-maker", "1000000000", "--log-level", "warn"],
      ],
    });
    const client = new RelayClient(relay.url);

    const latencies: number[] = [];
    const refusals = new Map<string, number>();
    const deadline = performance.now() + opts.maxS * 1000;
    const t0 = performance.now();
    await Promise.all(
      work.map(async (orders) => {
        for (const { order, signature } of orders) {
          if (performance.now() > deadline) return;
          const start = performance.now();
          try {
            await client.postOrder(order, signature);
            latencies.push(performance.now() - start);
          } catch (error) {
            const reason = error instanceof RelayError ? `${error.status} ${error.reason}` : String(error);
            refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const stored = (await client.health()).orders;
    if (stored !== latencies.length) throw new Error(`relay holds ${stored} orders, ${latencies.length} were accepted`);

    const round = (ms: number) => Math.round(ms * 10) / 10;
    const result = {
      run: runInfo(),
      setup: {
        clients: opts.clients,
        ordersOffered: opts.orders,
        timeBoundS: opts.maxS,
        bodyBytes,
        store: "SQLite file (WAL)",
        chain: "hardhat node (EDR) on loopback, one eth_call fillOrder simulation and three reads per order",
      },
      accepted: latencies.length,
      refused: Object.fromEntries(refusals),
      seconds: round(seconds * 1000) / 1000,
      nodeSimulationMsMedian: round(median(simulations)),
      acceptedPerSecond: round(latencies.length / seconds),
      latencyMs:
        latencies.length === 0
          ? null
          : {
              p50: round(percentile(latencies, 50)),
              p90: round(percentile(latencies, 90)),
              p99: round(percentile(latencies, 99)),
              max: round(Math.max(...latencies)),
            },
    };
    await writeJson(JSON_PATH, result);
    const l = result.latencyMs;
    await writeText(
      MD_PATH,
      [
        "# Order relay load run",
        "",
        `${result.run.date}, commit ${result.run.commit}, ${result.run.machine}`,
        "",
        `${opts.clients} concurrent clients on loopback posted ${result.accepted} valid pre-signed orders ` +
          `(bounded at ${opts.orders} orders and ${opts.maxS} s) in ${result.seconds} s: ` +
          `**${result.acceptedPerSecond} orders accepted per second**` +
          (l === null ? "." : `, latency p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms.`),
        "",
        `Refused: ${refusals.size === 0 ? "none" : JSON.stringify(result.refused)}. One fillOrder simulation alone ` +
          `takes the node ${result.nodeSimulationMsMedian} ms (median of 20); the relay makes one per order.`,
        "",
      ].join("\n"),
    );
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n${JSON_PATH} and ${MD_PATH} written\n`);
  } finally {
    await relay?.stop();
    await node?.stop();
  }
}

await main();
