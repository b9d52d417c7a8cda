import { existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { PROJECT_ROOT, freePort, startHardhatNode, type HardhatNode } from "../../devnet/node.js";
import { bash, readmeBlocks, until } from "./support.js";

const SECTION_START = "## Order relay";
const SECTION_END = "## Benchmarks";
/** The relay's URL in the README; the test's relay listens on a free port (BACKSTOP_RELAY_PORT) instead. */
const README_RELAY_URL = "http://127.0.0.1:8600";
/** Files the section writes in the repository; a developer's own copies are put back afterwards. */
const WRITTEN = ["deployments/localhost.json", "order.json"];

/**
 * README.md's "Order relay" section, run as written against a node on a free port: deployed as terminal 2 of the
 * walkthrough does, the relay started by the section's first block (on a free port and a temporary book through
 * its environment variables, the command itself unchanged), then the trader's commands one by one, checked
 * against their comments: the POST answers a hash, the book holds it, and after the cancel the book is empty.
 */
describe("README order relay section on a local node", function () {
  this.timeout(300_000);

  let node: HardhatNode;
  let relay: ReturnType<typeof bash> | undefined;
  const saved = new Map<string, string>();

  before(async function () {
    for (const file of WRITTEN) {
      const full = path.join(PROJECT_ROOT, file);
      if (existsSync(full)) {
        renameSync(full, `${full}.relay-readme-saved`);
        saved.set(full, `${full}.relay-readme-saved`);
      }
    }
    node = await startHardhatNode();
  });

  after(async function () {
    const child = relay?.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid, "SIGKILL");
      await relay?.done;
    }
    await node?.stop();
    for (const file of WRITTEN) rmSync(path.join(PROJECT_ROOT, file), { force: true });
    for (const [full, copy] of saved) renameSync(copy, full);
  });

  it("posts a CLI-signed order, serves it in the book, and drops it after the cancel", async function () {
    const shell = readmeBlocks(SECTION_START, SECTION_END).filter((b) => b.lang === "sh");
    expect(shell.map((b) => b.terminal)).to.deep.equal([4, undefined]);
    const deploy = await bash(
      ["export BACKSTOP_RPC_URL=http://127.0.0.1:8545", "npm run deploy -- --network localhost"].join("\n"),
      node.url,
    ).done;
    expect(deploy.code, deploy.stderr).to.equal(0);

    const port = await freePort();
    const relayUrl = `http://127.0.0.1:${port}`;
    const db = path.join(mkdtempSync(path.join(tmpdir(), "relay-readme-")), "orders.sqlite");
    const started = bash(shell[0].lines.join("\n"), node.url, true, {
      BACKSTOP_RELAY_PORT: String(port),
      BACKSTOP_RELAY_DB: db,
    });
    relay = started;
    await until("the relay to listen", () => started.output().includes(`relay: listening on ${relayUrl}`), 60_000);

    const exports: string[] = [];
    const outputs: string[] = [];
    const run = async (command: string): Promise<string> => {
      const result = await bash([...exports, command.replaceAll(README_RELAY_URL, relayUrl)].join("\n"), node.url).done;
      expect(result.code, `${command}\n${result.stderr}`).to.equal(0);
      return result.stdout;
    };
    for (const command of shell[1].lines.filter((l) => !l.startsWith("#"))) {
      if (command.startsWith("export ")) exports.push(command);
      else outputs.push(await run(command));
    }
    const commands = shell[1].lines.filter((l) => !l.startsWith("#") && !l.startsWith("export "));
    const post = commands.findIndex((c) => c.includes("-X POST"));
    const hash = /^\{"hash":"(0x[0-9a-f]{64})"\}$/.exec(outputs[post])?.[1];
    expect(hash, outputs[post]).to.not.equal(undefined);
    const book = JSON.parse(outputs[post + 1]) as { bids: { hash: string }[]; asks: unknown[] };
    expect(book.bids.map((b) => b.hash)).to.deep.equal([hash]);

    // The last command, again until the relay's next poll has seen the cancel (it polls every second).
    const empty = '{"marketId":"0","bids":[],"asks":[]}';
    const last = commands[commands.length - 1];
    let after = outputs[outputs.length - 1];
    for (let tries = 0; after.trim() !== empty && tries < 20; ++tries) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      after = await run(last);
    }
    expect(after.trim()).to.equal(empty);

    // Ctrl-C in terminal 4 stops the relay.
    if (started.child.pid !== undefined) process.kill(-started.child.pid, "SIGINT");
    const stopped = await started.done;
    expect(stopped.code).to.equal(0);
  });
});
