import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { PROJECT_ROOT, childEnv, freePort } from "../../devnet/node.js";

/** `tsx scripts/app.ts` (what `npm run app` runs after the build) as a child: its output and exit code. */
function launch(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/app.ts", ...args], {
    cwd: PROJECT_ROOT,
    env: childEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe("npm run app", function () {
  this.timeout(120_000);

  it("starts node, relay and page, prints the URLs and the dev keys, and stops them all on Ctrl-C", async function () {
    const [page, node, relay] = [await freePort(), await freePort(), await freePort()];
    // Its deployment file away from deployments/, which a developer's own `npm run app` uses.
    const dir = await mkdtemp(path.join(tmpdir(), "backstop-app-launch-"));
    const app = launch([
      ...["--port", String(page), "--node-port", String(node), "--relay-port", String(relay), "--dir", dir],
    ]);
    try {
      for (let i = 0; !app.output().includes("Ctrl-C stops"); i++) {
        if (i > 900) throw new Error(`npm run app did not come up:\n${app.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const out = app.output();
      expect(out).to.contain(`page:       http://127.0.0.1:${page}/`);
      expect(out).to.contain(`JSON-RPC:   http://127.0.0.1:${node} (chain id 31337)`);
      expect(out).to.contain(`relay:      http://127.0.0.1:${relay} (the page reaches it as /relay)`);
      expect(out).to.contain(`deployment: ${path.join(dir, "localhost.json")}`);
      // The traders' keys, to import into a wallet.
      expect(out).to.contain("#2 trader A (100,000 mUSD in the wallet)");
      expect(out).to.contain("key     0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");

      const html = await (await fetch(`http://127.0.0.1:${page}/`)).text();
      expect(html).to.contain('<div id="root"></div>');
      const config = (await (await fetch(`http://127.0.0.1:${page}/config.json`)).json()) as {
        rpcUrl: string;
        relayUrl: string;
        deployment: { chainId: number };
      };
      expect(config).to.deep.include({ rpcUrl: `http://127.0.0.1:${node}`, relayUrl: "/relay" });
      expect(config.deployment.chainId).to.equal(31337);
      const health = (await (await fetch(`http://127.0.0.1:${page}/relay/health`)).json()) as { ok: boolean };
      expect(health.ok).to.equal(true);
    } finally {
      app.child.kill("SIGINT");
    }
    expect(await app.exited).to.equal(0);
    expect(app.output()).to.contain("stopping…");
    // Nothing left listening.
    for (const port of [page, node, relay]) {
      const error = await fetch(`http://127.0.0.1:${port}/`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `port ${port}`).to.be.instanceOf(Error);
    }
  });

  it("refuses a bad flag with one line and exit status 2", async function () {
    const app = launch(["--port", "70000"]);
    expect(await app.exited).to.equal(2);
    expect(app.output()).to.match(/^app: --port must be between 1 and 65535, got 70000\nusage: npm run app/);
  });
});
