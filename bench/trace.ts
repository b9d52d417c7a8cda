// Where a snapshot operation's gas goes: runs its bench scenario (bench/chain/operations.ts, the snapshot's state)
// on the in-process network, traces the measured transaction with `debug_traceTransaction` and prints storage
// reads and writes (cold/warm), calls by kind and target, and gas by contract or library.
//   npm run bench:trace                                   (partial liquidation, fill open, fill close, withdraw)
//   TRACE_OPS="withdraw" TRACE_MARKETS=10 npm run bench:trace
import hre from "hardhat";

import { ethers } from "../devnet/hardhat/fixture.js";
import { saveState } from "./chain/measure.js";
import { operationNamed } from "./chain/operations.js";
import { addOtherAccounts, createBench } from "./chain/setup.js";
import { OP } from "./lib/operation-names.js";
import { formatProfile, profileTrace } from "./lib/trace-profile.js";
import type { StructLog } from "./lib/trace-profile.js";

const DEFAULT_OPS = [OP.partialLiquidation, OP.fillOpen, OP.fillClose, OP.withdraw];
const ops = process.env.TRACE_OPS?.split(",").map((s) => s.trim()) ?? DEFAULT_OPS;
const markets = Number(process.env.TRACE_MARKETS ?? "1");

/** Deployed code length → contract names, from the build's artifacts (links and immutables keep the length). */
async function namesByCodeLength(): Promise<Map<number, string[]>> {
  const byLength = new Map<number, string[]>();
  for (const name of await hre.artifacts.getAllFullyQualifiedNames()) {
    if (!name.startsWith("contracts/")) continue;
    const artifact = await hre.artifacts.readArtifact(name);
    const length = (artifact.deployedBytecode.length - 2) / 2;
    if (length === 0) continue;
    byLength.set(length, [...(byLength.get(length) ?? []), artifact.contractName]);
  }
  return byLength;
}

const bench = await createBench();
await addOtherAccounts(bench, 1);
const base = await saveState();
const byLength = await namesByCodeLength();
const known = new Map<string, string>();
const s = bench.system;
for (const [name, contract] of Object.entries({
  ClearingHouse: s.clearingHouse,
  InsuranceFund: s.fund,
  token: s.token,
  ChainlinkOracleAdapter: s.adapter,
  "feed ETH": s.ethFeed,
  "feed BTC": s.btcFeed,
})) {
  known.set((await contract.getAddress()).toLowerCase(), name);
}
const codeNames = new Map<string, string>();
for (const [address, name] of known) codeNames.set(address, name);

async function nameOf(address: string): Promise<string> {
  const cached = codeNames.get(address);
  if (cached !== undefined) return cached;
  const code = await ethers.provider.getCode(address);
  const length = (code.length - 2) / 2;
  const name =
    BigInt(address) < 0x100n
      ? `precompile ${BigInt(address)}`
      : length === 0
        ? `${address} (no code)`
        : (byLength.get(length)?.join("|") ?? `${address.slice(0, 10)}… (${length} B)`);
  codeNames.set(address, name);
  return name;
}

for (const opName of ops) {
  await base.restore();
  const gas = await operationNamed(opName).run({ bench, actor: bench.actors[0], markets });
  const block = await ethers.provider.getBlock("latest");
  const hash = block?.transactions.at(-1);
  if (hash === undefined) throw new Error(`no transaction for "${opName}"`);
  const receipt = await ethers.provider.getTransactionReceipt(hash);
  if (receipt === null || receipt.gasUsed !== gas) throw new Error(`the last transaction is not "${opName}"'s`);
  const trace = (await ethers.provider.send("debug_traceTransaction", [
    hash,
    { disableMemory: true, disableStorage: true },
  ])) as { structLogs: StructLog[] };
  // Name every address the trace calls first (async), then profile synchronously.
  for (const log of trace.structLogs) {
    if (["CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"].includes(log.op) && log.stack !== undefined) {
      const word = log.stack[log.stack.length - 2] ?? "0x0";
      await nameOf(`0x${word.replace(/^0x/, "").padStart(64, "0").slice(24)}`.toLowerCase());
    }
  }
  const to = (receipt.to ?? "").toLowerCase();
  await nameOf(to);
  const profile = profileTrace(trace.structLogs, to, (a) => codeNames.get(a) ?? a);
  for (const line of formatProfile(`${opName} (${markets} market${markets === 1 ? "" : "s"})`, gas, profile))
    console.log(line);
}
await base.restore();
