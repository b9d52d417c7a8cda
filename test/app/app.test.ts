import { existsSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

import { RelayClient, USD, WAD, formatUnitsExact } from "#sdk";
import { DEMO_ROLES, startAppStack, type AppStack } from "../../devnet/app-stack.js";
import { DEV_KEYS, devWallet } from "../../devnet/keys.js";
import { createTestKeeper, runUntilQuiet } from "../../devnet/keeper.js";
import { PROJECT_ROOT } from "../../devnet/node.js";
import { advanceTime, setPrices } from "../../devnet/scenario/crash.js";
import { TestWallet, injectWallet } from "./wallet.js";

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it when missing), or CHROMIUM_PATH. */
function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/lib/chromium/chromium", "/usr/bin/chromium"];
  const found = candidates.find((p) => p !== undefined && p !== "" && existsSync(p));
  if (found === undefined) throw new Error("no chromium: apt-get install -y chromium, or set CHROMIUM_PATH");
  return found;
}

const SHOTS = path.join(PROJECT_ROOT, "results", "app");
const sel = (testid: string): string => `[data-testid="${testid}"]`;

/**
 * The text or an attribute of the first element matching `selector`, undefined when there is none. Evaluated
 * from a string: the test's TypeScript has no DOM types (the page's code has them, under app/).
 */
async function textOf(page: Page, selector: string): Promise<string | undefined> {
  const value: unknown = await page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent`);
  return typeof value === "string" ? value : undefined;
}

async function attributeOf(page: Page, selector: string, name: string): Promise<string | undefined> {
  const value: unknown = await page.evaluate(
    `document.querySelector(${JSON.stringify(selector)})?.getAttribute(${JSON.stringify(name)})`,
  );
  return typeof value === "string" ? value : undefined;
}

/** Polls the text of `selector` until it matches; fails with the last text seen. */
async function waitText(page: Page, selector: string, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = "(not on the page)";
  for (;;) {
    const text = await textOf(page, selector);
    if (text !== undefined) {
      last = text;
      if (pattern.test(text)) return text;
    }
    if (Date.now() > deadline) throw new Error(`${selector}: expected ${pattern}, last saw "${last}"`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Clicks `testid` once it is on the page (screens render after their first read). */
async function click(page: Page, testid: string): Promise<void> {
  await page.waitForSelector(sel(testid), { visible: true, timeout: 20_000 });
  await page.click(sel(testid));
}

async function typeInto(page: Page, testid: string, text: string): Promise<void> {
  await page.waitForSelector(sel(testid), { visible: true, timeout: 20_000 });
  await page.click(sel(testid), { count: 3 });
  await page.keyboard.press("Backspace");
  await page.type(sel(testid), text);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/**
 * The web page in headless Chromium against a hardhat node, the relay and the built bundle, with a test wallet
 * injected per trader: two traders trade through the relay and the page, the price crashes, the keeper (in
 * process) liquidates, and the page shows the liquidation, the loss event and the counterparty's ADL rank.
 */
describe("web app in a browser", function () {
  this.timeout(120_000);

  let stack: AppStack;
  let browser: Browser;
  const pages: Page[] = [];
  let relay: RelayClient;

  before(async function () {
    await mkdir(SHOTS, { recursive: true });
    stack = await startAppStack({ serve: "preview", dir: await mkdtemp(path.join(tmpdir(), "backstop-app-")) });
    relay = new RelayClient(stack.relayUrl);
    browser = await puppeteer.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
      defaultViewport: { width: 1440, height: 900 },
    });
  });

  after(async function () {
    // Pages first: a closed page ends its relay WebSocket cleanly, where a killed browser resets it.
    for (const page of pages) await page.close();
    await browser?.close();
    await stack?.stop();
  });

  /** A page in its own browser context, with a test wallet for dev account `index` (none when undefined). */
  async function open(index: number | undefined, chainId = stack.system.deployment.chainId) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    pages.push(page);
    const wallet =
      index === undefined ? undefined : new TestWallet(DEV_KEYS[index], stack.node.url, stack.system.provider, chainId);
    if (wallet !== undefined) await injectWallet(page, wallet);
    await page.goto(stack.pageUrl);
    await waitText(page, sel("block"), /block \d+/);
    return { page, wallet };
  }

  async function connect(page: Page, address: string): Promise<void> {
    await click(page, "connect");
    await waitText(page, sel("wallet-account"), new RegExp(`^${address.slice(0, 6)}`));
  }

  async function deposit(page: Page, amount: string): Promise<void> {
    await click(page, "tab-account");
    await typeInto(page, "amount", amount);
    await click(page, "deposit");
    await waitText(page, sel("account-status"), /Deposited|failed/);
    expect(await waitText(page, sel("account-status"), /./)).to.match(/^Deposited /);
    await waitText(page, sel("collateral"), new RegExp(`^${Number(amount).toLocaleString("en-US")}\\.00 mUSD$`));
  }

  it("reads the chain without a wallet and says that none is installed", async function () {
    const { page } = await open(undefined);
    expect(await waitText(page, `${sel("market-ETH-USD")} ${sel("oracle-price")}`, /2,000\.00 mUSD/)).to.equal(
      "2,000.00 mUSD",
    );
    expect(await waitText(page, sel("fund-layers"), /5,000\.00 mUSD staked/)).to.contain(
      "The insurance fund: 5,000.00 mUSD staked",
    );
    expect(await waitText(page, sel("wallet-missing"), /No wallet/)).to.match(/^No wallet found in this browser/);
    await shot(page, "missing-wallet");
  });

  let staker: Page;

  it("asks a wallet on another chain to switch, and sends nothing until it has", async function () {
    const { page, wallet } = await open(DEMO_ROLES.staker, 1);
    staker = page;
    await click(page, "connect");
    expect(await waitText(page, sel("wrong-chain"), /chain 1;/)).to.match(
      /^Your wallet is on chain 1; this deployment is on chain 31337\. Nothing can be sent until you switch\./,
    );
    await click(page, "tab-fund");
    await waitText(page, "main", /Connect a wallet on the deployment's chain to stake or unstake/);
    await shot(page, "wrong-chain");
    await click(page, "switch-chain");
    await waitText(page, sel("wallet-account"), /^0x15d3/);
    expect(wallet?.requests).to.include("wallet_switchEthereumChain");
    expect(wallet?.chainId).to.equal(31337);
    expect(await page.$(sel("wrong-chain"))).to.equal(null);
    // Now the staker's 5,000 staked shows, with the cooldown of the fund's exit flow.
    await waitText(page, sel("my-shares"), /bINS/);
    expect(await waitText(page, sel("exit-step"), /./)).to.equal("No unstake requested.");
    expect(await waitText(page, sel("cooldown"), /./)).to.match(
      /^1 d, then 1 d to confirm, paid 1 h after confirming$/,
    );
  });

  let a: { page: Page; wallet: TestWallet | undefined };
  let b: { page: Page; wallet: TestWallet | undefined };
  const traderA = devWallet(DEMO_ROLES.traderA).address;
  const traderB = devWallet(DEMO_ROLES.traderB).address;

  it("two traders connect and deposit; one posts a signed order through the relay", async function () {
    a = await open(DEMO_ROLES.traderA);
    b = await open(DEMO_ROLES.traderB);
    await connect(a.page, traderA);
    await connect(b.page, traderB);
    await deposit(a.page, "1000");
    await deposit(b.page, "5000");

    await click(a.page, "tab-trade");
    await typeInto(a.page, "order-size", "4");
    await typeInto(a.page, "order-price", "2000");
    await click(a.page, "post-order");
    expect(await waitText(a.page, sel("post-status"), /^Posted|failed/)).to.match(
      /^Posted: buy 4\.0000 ETH at 2,000\.00 mUSD, valid 1 h \(order 0x/,
    );
    expect(a.wallet?.requests).to.include("eth_signTypedData_v4");
    const book = await relay.book(0);
    expect(book.bids.map((e) => [e.order.maker, e.order.size, e.order.limitPrice])).to.deep.equal([
      [traderA, 4n * WAD, 2000n * WAD],
    ]);
  });

  it("a rejected signature and a revert each say what happened, and change nothing", async function () {
    a.wallet!.rejectNext = true;
    await typeInto(a.page, "order-size", "1");
    await typeInto(a.page, "order-price", "1990");
    await click(a.page, "post-order");
    expect(await waitText(a.page, sel("post-status"), /failed/)).to.equal(
      "Posting the order failed. You rejected the request in your wallet; nothing was signed or sent.",
    );
    expect((await relay.book(0)).bids).to.have.length(1);
    await shot(a.page, "rejected-signature");

    // More than the collateral: the clearing house's custom error, by name, before the wallet is asked to sign.
    await click(b.page, "tab-account");
    await typeInto(b.page, "amount", "6000");
    const sent = b.wallet!.requests.filter((m) => m === "eth_sendTransaction").length;
    await click(b.page, "withdraw");
    expect(await waitText(b.page, sel("account-status"), /failed/)).to.match(
      /^Withdraw failed\. The contract refused: Insufficient\w+\(/,
    );
    expect(b.wallet!.requests.filter((m) => m === "eth_sendTransaction")).to.have.length(sent);
    expect(await stack.system.contracts.clearingHouse.collateralOf(traderB)).to.equal(5000n * WAD);
  });

  it("the other trader takes the order on the page, the margin effect shown before signing", async function () {
    await click(b.page, "tab-trade");
    await waitText(b.page, sel("book"), /2,000\.00 mUSD/);
    await b.page.click(`${sel("book-row")} ${sel("take")}`);
    // Short 4 at the oracle price: taker fee ⌈8,000 × 0.05 %⌉ = 4; collateral and equity 4,996; IM 10 % of
    // 8,000 = 800; margin left 4,196.
    expect(await waitText(b.page, sel("position-after"), /short/)).to.equal("short 4.0000 ETH");
    expect(await waitText(b.page, sel("equity-after"), /./)).to.equal("4,996.00 mUSD");
    expect(await waitText(b.page, sel("margin-left"), /./)).to.equal("4,196.00 mUSD");
    await shot(b.page, "take-order-margin-effect");
    const predicted = await attributeOf(b.page, sel("margin-effect"), "data-equity-after");

    await click(b.page, "fill");
    expect(await waitText(b.page, sel("fill-status"), /^Filled|failed/)).to.match(
      /^Filled 4\.0000 ETH at 2,000\.00 mUSD \(tx 0x/,
    );
    const ch = stack.system.contracts.clearingHouse;
    expect((await ch.positionOf(traderB, 0)).size).to.equal(-4n * WAD);
    expect((await ch.positionOf(traderA, 0)).size).to.equal(4n * WAD);
    // The SDK's fill mirror on the page, against the chain, to the wei.
    expect((await ch.accountHealth(traderB)).equity.toString()).to.equal(predicted);
    // The relay saw the fill and dropped the order.
    for (let i = 0; (await relay.book(0)).bids.length > 0; i++) {
      if (i > 100) throw new Error("the relay still holds the filled order");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The maker's liquidation and bankruptcy prices: collateral 1,000 − maker fee 1.6 = 998.4 on a long of 4
    // at 2,000 with 5 % maintenance: liquidatable below 7,001.6 / 3.8 = 1,842.526…, bankrupt at 2,000 − 249.6.
    await click(a.page, "tab-account");
    expect(await waitText(a.page, sel("liquidation-price"), /mUSD/)).to.equal("1,842.52 mUSD");
    expect(await waitText(a.page, sel("bankruptcy-price"), /mUSD/)).to.equal("1,750.40 mUSD");
  });

  it("the price crashes, the keeper liquidates, and the page shows the liquidation, the loss event and the ADL rank", async function () {
    const keeperWallet = devWallet(DEMO_ROLES.keeper, stack.system.provider);
    const { clearingHouse, collateralToken } = stack.system.contracts;
    await (await collateralToken.connect(keeperWallet).approve(await clearingHouse.getAddress(), 20_000n * USD)).wait();
    await (await clearingHouse.connect(keeperWallet).deposit(20_000n * USD)).wait();

    await setPrices(stack.system, { eth: 1700n * WAD, btc: 60_000n * WAD });
    await waitText(a.page, sel("account-state"), /BANKRUPT/);
    const keeper = createTestKeeper({
      url: stack.node.url,
      deployment: stack.system.path,
      devKeys: [DEMO_ROLES.keeper],
    });
    try {
      await runUntilQuiet(keeper);
    } finally {
      await keeper.close();
    }

    // The maker: equity 998.4 + 4 × (1,700 − 2,000) = −201.6, all of it paid by the fund.
    await waitText(a.page, sel("no-positions"), /No open positions/);
    expect(await waitText(a.page, sel("collateral"), /./)).to.equal("0.00 mUSD");
    await click(a.page, "tab-losses");
    const event = await waitText(a.page, sel("loss-event"), /bankrupt/);
    expect(event).to.contain(`${traderA.slice(0, 6)}…${traderA.slice(-4)} went bankrupt with a deficit of 201.60 mUSD`);
    expect(event).to.contain(`liquidated by ${keeperWallet.address.slice(0, 6)}…${keeperWallet.address.slice(-4)}`);
    expect(await waitText(a.page, sel("fund-paid"), /./)).to.equal("paid by the insurance fund201.60 mUSD");
    // The fund's chart: the stake, then the draw.
    await a.page.waitForSelector(`${sel("fund-chart")} svg`);
    expect(await attributeOf(a.page, sel("fund-chart"), "data-events")).to.equal("stake,draw");
    await shot(a.page, "loss-events");

    // The counterparty: short 4 from 2,000 at 1,700 is 1,200 in profit, first (and only) in the short side's queue.
    await click(b.page, "tab-account");
    expect(await waitText(b.page, sel("adl-rank"), /1 of 1/)).to.match(/1 of 1$/);
    expect(await attributeOf(b.page, sel("adl-light"), "data-level")).to.equal("5");
    await shot(b.page, "account-adl-rank");
  });

  // Last: it moves the clock past the oracle's heartbeat.
  it("a staker stakes, requests an unstake, waits out the cooldown, confirms and is paid, on the page", async function () {
    const address = devWallet(DEMO_ROLES.staker).address;
    const { insuranceFund: fund, collateralToken: token } = stack.system.contracts;
    await click(staker, "tab-fund");
    await typeInto(staker, "stake-amount", "100");
    await click(staker, "stake");
    expect(await waitText(staker, sel("fund-status"), /^Staked|failed/)).to.match(/^Staked 100\.00 mUSD \(tx 0x/);

    const shares = await fund.balanceOf(address);
    await typeInto(staker, "unstake-shares", formatUnitsExact(shares, Number(await fund.decimals())));
    await click(staker, "request-unstake");
    // The local fund's cooldown is a day, then a day to confirm, then an hour of exposure.
    expect(await waitText(staker, sel("exit-step"), /^Cooldown:/)).to.match(
      /^Cooldown: confirm from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (1 d|23 h 59 min)\)\.$/,
    );
    expect(await attributeOf(staker, sel("confirm-unstake"), "disabled")).to.equal("");
    await advanceTime(stack.system, 86_400);
    expect(await waitText(staker, sel("exit-step"), /^Cooldown over/)).to.match(/\((1 d|23 h 59 min) left\)\.$/);
    await click(staker, "confirm-unstake");
    expect(await waitText(staker, sel("exit-step"), /^Confirmed;/)).to.match(/\(in (1 h|59 min)\)\./);
    expect(await attributeOf(staker, sel("unstake"), "disabled")).to.equal("");
    await advanceTime(stack.system, 3_600);
    await waitText(staker, sel("exit-step"), /^Confirmed and past the exit exposure/);

    const request = await fund.unstakeRequests(address);
    const before = await token.balanceOf(address);
    await click(staker, "unstake");
    expect(await waitText(staker, sel("fund-status"), /^Unstake: done|failed/)).to.match(/^Unstake: done \(tx 0x/);
    expect(await waitText(staker, sel("exit-step"), /^No unstake/)).to.equal("No unstake requested.");
    expect(await fund.balanceOf(address)).to.equal(0n);
    // Paid the value at request, which already carried the liquidation's draw: less than the 5,100 staked.
    expect((await token.balanceOf(address)) - before).to.equal(request.assets);
    expect(request.assets).to.be.lessThan(5_100n * USD);
  });
});
