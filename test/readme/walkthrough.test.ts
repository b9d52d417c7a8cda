import { existsSync, renameSync, rmSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { Wallet, parseUnits } from "ethers";

import { PROJECT_ROOT, startHardhatNode, type HardhatNode } from "../../devnet/node.js";
import { bash, readmeBlocks, samplePattern, until } from "./support.js";

/** Where README.md's local-node walkthrough starts and ends. */
const SECTION_START = "### Local node, step by step";
const SECTION_END = "### Testnet";
/** Files the walkthrough writes in the repository; a developer's own copies are put back afterwards. */
const WRITTEN = ["deployments/localhost.json", "order.json"];

/**
 * README.md's local-node walkthrough, run as written: terminal 1's `npx hardhat node` is this test's node on a
 * free port (the one substitution: its URL for http://127.0.0.1:8545 in every command), terminal 2's block runs
 * to the keeper and leaves it running, terminal 3's commands run one by one with the exports before them. The
 * checks are the README's own words: the liquidation price its comment states, a liquidation by the keeper after
 * the first move, an ADL of the taker after the second, and `loss-events` printing its sample's lines.
 */
describe("README walkthrough on a local node", function () {
  this.timeout(400_000);

  let node: HardhatNode;
  let keeper: ReturnType<typeof bash> | undefined;
  const saved = new Map<string, string>();

  before(async function () {
    for (const file of WRITTEN) {
      const full = path.join(PROJECT_ROOT, file);
      if (existsSync(full)) {
        renameSync(full, `${full}.walkthrough-saved`);
        saved.set(full, `${full}.walkthrough-saved`);
      }
    }
    node = await startHardhatNode();
  });

  after(async function () {
    // Only when the test failed before stopping it: terminal 2's whole process group.
    const { child } = keeper ?? {};
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid, "SIGKILL");
      await keeper?.done;
    }
    await node?.stop();
    for (const file of WRITTEN) rmSync(path.join(PROJECT_ROOT, file), { force: true });
    for (const [full, copy] of saved) renameSync(copy, full);
  });

  it("ends with a liquidation and an ADL, both in loss-events", async function () {
    const blocks = readmeBlocks(SECTION_START, SECTION_END);
    const shell = blocks.filter((b) => b.lang === "sh");
    expect(shell.map((b) => b.terminal)).to.deep.equal([1, 2, 3, 3]);
    expect(shell[0].lines.filter((l) => !l.startsWith("#"))).to.deep.equal(["npx hardhat node"]);

    // Terminal 2: everything up to the keeper, which is left running (as in its own terminal).
    keeper = bash(shell[1].lines.join("\n"), node.url, true);
    await until("the keeper to start", () => keeper?.output().includes('"msg":"keeper ready"') ?? false, 120_000);

    // Terminal 3, one command at a time.
    const exports: string[] = [];
    const commands = [...shell[2].lines, ...shell[3].lines].filter((l) => !l.startsWith("#"));
    const outputs = new Map<string, string>();
    for (const command of commands) {
      if (command.startsWith("export ")) {
        exports.push(command);
        continue;
      }
      const keeperBefore = keeper.output().length;
      const run = await bash([...exports, command].join("\n"), node.url).done;
      expect(run.code, `${command}\n${run.stderr}`).to.equal(0);
      outputs.set(command, run.stdout);

      const comment = /#\s*(.*)$/.exec(command)?.[1] ?? "";
      const price = /liquidation price ([\d,]+\.\d+)/.exec(comment)?.[1];
      if (price !== undefined) expect(run.stdout).to.match(new RegExp(`ETH-USD +long +\\S+ +\\S+ +${price} `));
      const bankruptcy = /bankruptcy price ([\d,]+\.\d+)/.exec(comment)?.[1];
      if (bankruptcy !== undefined) expect(run.stdout).to.match(new RegExp(`ETH-USD +long( +\\S+){3} +${bankruptcy} `));
      // After a price move, what the comment says the keeper does, in its log.
      const since = (): string => keeper?.output().slice(keeperBefore) ?? "";
      if (/keeper liquidates/.test(comment)) {
        await until("the liquidation", () => /"event":"Liquidated"/.test(since()), 60_000);
      }
      if (/keeper deleverages/.test(comment)) {
        await until("the ADL step and the receipt", () => /"event":"BadDebtResolved"/.test(since()), 60_000);
        expect(since()).to.match(/"event":"Deleveraged"/);
      }
    }

    // loss-events prints the README's sample, line by line (… for amounts, blocks and hashes).
    const sample = blocks.find((b) => b.lang === "text");
    expect(sample, "the README's loss-events sample").to.not.equal(undefined);
    const printed = outputs.get("npm run cli -- --network localhost loss-events") ?? "";
    const wanted = (sample?.lines ?? []).map(samplePattern);
    // npm's own two lines (`> backstop@0.1.0 cli`, `> tsx cli/main.ts …`) come first.
    const actual = printed
      .trimEnd()
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("> "));
    expect(actual.length, printed).to.equal(wanted.length);
    wanted.forEach((pattern, i) => expect(actual[i], `line ${i + 1} of\n${printed}`).to.match(pattern));

    // The same with --json: exact decimal strings, the receipt adding up to the wei, the taker the ADL counterparty.
    const taker = /TAKER_KEY=(0x[0-9a-f]{64})/.exec(shell[2].lines.join("\n"))?.[1] ?? "";
    const json = await bash(
      [...exports, "npm run --silent cli -- --network localhost loss-events --json"].join("\n"),
      node.url,
    ).done;
    const events = JSON.parse(json.stdout) as {
      lossEvents: {
        shortfall: string;
        fundPaid: string;
        deleveraged: string;
        socialized: string;
        adl: { counterparty: string; loss: string }[];
      }[];
    };
    expect(events.lossEvents).to.have.length(1);
    const [loss] = events.lossEvents;
    const wei = (v: string): bigint => parseUnits(v, 18);
    expect(wei(loss.shortfall)).to.equal(wei(loss.fundPaid) + wei(loss.deleveraged) + wei(loss.socialized));
    expect(loss.adl.map((a) => a.counterparty)).to.deep.equal([new Wallet(taker).address]);
    expect(wei(loss.adl[0].loss)).to.equal(wei(loss.deleveraged)).and.to.be.greaterThan(0n);

    // Ctrl-C in terminal 2 stops the keeper.
    if (keeper.child.pid !== undefined) process.kill(-keeper.child.pid, "SIGINT");
    await keeper.done;
    expect(keeper.output()).to.match(/"signal":"SIGINT","msg":"stopping"/);
  });
});
