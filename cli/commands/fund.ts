import { parsePositive, readIsolatedFunds, readLayers, type IsolatedFundRow, type LayersState } from "#sdk";
import { requireSigner, type CommandContext, type CommandResult } from "../command.js";
import { targetAccount } from "../connection.js";
import { InputError } from "../errors.js";
import { duration, fields, money, percent, table, timestamp, wad } from "../format.js";
import { transact } from "../tx.js";
import { approveIfShort, formatToken, requireWalletHolds, tokenInfo, type TokenInfo } from "./token.js";

async function shareInfo(ctx: CommandContext): Promise<TokenInfo> {
  const { fund } = ctx.conn.contracts;
  const [decimals, symbol] = await Promise.all([fund.decimals(), fund.symbol()]);
  return { decimals: Number(decimals), symbol };
}

/** `fund stake <amount>`: approves the fund when needed, then deposits into it for shares. */
export async function stake(ctx: CommandContext): Promise<CommandResult> {
  const signer = requireSigner(ctx);
  const { fund, token } = ctx.conn.contracts;
  const [info, shares] = await Promise.all([tokenInfo(token), shareInfo(ctx)]);
  const amount = parsePositive(ctx.parsed.args.amount ?? "", info.decimals, "amount");
  const balance = await token.balanceOf(signer.address);
  requireWalletHolds(balance, amount, info);
  const spender = await fund.getAddress();
  const approval = await approveIfShort(ctx.conn.decoding, token, signer, spender, amount);
  const txs: string[] = approval === undefined ? [] : [approval];
  const before = await fund.balanceOf(signer.address);
  const receipt = await transact("stake", ctx.conn.decoding, fund.connect(signer).deposit, amount, signer.address);
  txs.push(receipt.hash);
  const minted = (await fund.balanceOf(signer.address)) - before;
  return {
    text: `staked ${formatToken(amount, info)} for ${formatToken(minted, shares)} (tx ${receipt.hash})`,
    json: {
      action: "stake",
      amount: formatToken(amount, info, true),
      shares: formatToken(minted, shares, true),
      txs,
    },
  };
}

/** `fund request-unstake <shares|--all>`: escrows shares and starts the cooldown. */
export async function requestUnstake(ctx: CommandContext): Promise<CommandResult> {
  const signer = requireSigner(ctx);
  const { fund } = ctx.conn.contracts;
  const shares = await shareInfo(ctx);
  const text = ctx.parsed.args.shares;
  const all = ctx.parsed.flags.has("--all");
  if (all === (text !== undefined))
    throw new InputError("'fund request-unstake' needs <shares> or --all (one of them)");
  let amount: bigint;
  if (all) {
    amount = await fund.balanceOf(signer.address);
    if (amount === 0n) throw new InputError("--all: you hold no fund shares");
  } else {
    amount = parsePositive(text ?? "", shares.decimals, "shares");
  }
  const receipt = await transact("requestUnstake", ctx.conn.decoding, fund.connect(signer).requestUnstake, amount);
  const request = await fund.unstakeRequests(signer.address);
  return {
    text: `requested unstake of ${formatToken(amount, shares)}; pending ${formatToken(request.shares, shares)}, ready at ${timestamp(request.readyAt)} (tx ${receipt.hash})`,
    json: {
      action: "request-unstake",
      shares: formatToken(amount, shares, true),
      pendingShares: formatToken(request.shares, shares, true),
      readyAt: Number(request.readyAt),
      txs: [receipt.hash],
    },
  };
}

/**
 * `fund confirm-unstake`: the exit decision, after the cooldown and within the fund's window; the payout
 * (`fund unstake`) comes an exposure period later, so the escrow still bears losses realized meanwhile.
 */
export async function confirmUnstake(ctx: CommandContext): Promise<CommandResult> {
  const signer = requireSigner(ctx);
  const { fund } = ctx.conn.contracts;
  const receipt = await transact("confirmUnstake", ctx.conn.decoding, fund.connect(signer).confirmUnstake);
  const exitAt = await fund.unstakeExitAt(signer.address);
  return {
    text: `confirmed unstake; it pays from ${timestamp(exitAt)} on (tx ${receipt.hash})`,
    json: { action: "confirm-unstake", exitAt: Number(exitAt), txs: [receipt.hash] },
  };
}

/** `fund unstake`: pays a confirmed request once its exposure period has passed. */
export async function unstake(ctx: CommandContext): Promise<CommandResult> {
  const signer = requireSigner(ctx);
  const { fund, token } = ctx.conn.contracts;
  const info = await tokenInfo(token);
  const before = await token.balanceOf(signer.address);
  const receipt = await transact("unstake", ctx.conn.decoding, fund.connect(signer).unstake);
  const received = (await token.balanceOf(signer.address)) - before;
  return {
    text: `unstaked: received ${formatToken(received, info)} (tx ${receipt.hash})`,
    json: { action: "unstake", received: formatToken(received, info, true), txs: [receipt.hash] },
  };
}

/**
 * `fund status [address]`: the fund, its limits, the default layers and the isolated markets' own funds, and the
 * stake of the address (or the key's owner).
 */
export async function fundStatus(ctx: CommandContext): Promise<CommandResult> {
  const { fund, token, lens } = ctx.conn.contracts;
  const [info, shares, state, head, layers, isolated] = await Promise.all([
    tokenInfo(token),
    shareInfo(ctx),
    lens.fundState(),
    ctx.conn.provider.getBlock("latest"),
    readLayers(lens),
    readIsolatedFunds(lens, ctx.conn.provider),
  ]);
  if (head === null) throw new Error("the node returned no latest block");
  const [floor, drawCap, drawnInWindow, windowStart, drawWindow, cooldown, sharePrice, unstakeWindow] =
    await Promise.all([
      fund.floor(),
      fund.drawCap(),
      fund.drawnInWindow(),
      fund.windowStart(),
      fund.drawWindow(),
      fund.cooldown(),
      fund.convertToAssets(10n ** BigInt(shares.decimals)),
      fund.UNSTAKE_WINDOW(),
    ]);
  const now = BigInt(head.timestamp);
  const windowEnd = windowStart + drawWindow;
  // The contract rolls the window lazily: once it has ended, nothing counts as drawn in it.
  const drawn = now >= windowEnd ? 0n : drawnInWindow;
  const tok = (v: bigint): string => formatToken(v, info);
  const raw = (v: bigint): string => formatToken(v, info, true);
  const status = {
    fund: state.fund,
    totalAssets: raw(state.totalAssets),
    totalShares: formatToken(state.totalSupply, shares, true),
    sharePrice: raw(sharePrice),
    floor: raw(floor),
    drawCap: raw(drawCap),
    drawnInWindow: raw(drawn),
    windowEnd: now >= windowEnd ? null : Number(windowEnd),
    availableForDraw: raw(state.availableForDraw),
    pendingFees: wad(state.pendingFees),
    cooldownSeconds: Number(cooldown),
    openDeleverageCases: Number(state.openDeleverageCases),
  };
  const lines: [string, string][] = [
    ["fund", state.fund],
    ["assets", tok(state.totalAssets)],
    ["shares", formatToken(state.totalSupply, shares)],
    ["share price", `${tok(sharePrice)} per share`],
    ["floor", tok(floor)],
    ["draw cap", `${tok(drawCap)} per ${drawWindow} s window`],
    [
      "drawn in window",
      `${tok(drawn)}${now >= windowEnd ? " (window over)" : `, window ends ${timestamp(windowEnd)}`}`,
    ],
    [layers === undefined ? "available to draw" : "available to draw (all layers)", tok(state.availableForDraw)],
    [
      "fees set aside",
      `${money(state.pendingFees, info.symbol)} (not yet swept into the fund; a loss is paid from them first)`,
    ],
    ["unstake cooldown", `${cooldown} s`],
    ["open ADL cases", state.openDeleverageCases.toString()],
  ];
  const given = ctx.parsed.args.address;
  let staker: Record<string, unknown> | null = null;
  if (given !== undefined || ctx.signer !== undefined) {
    const account = targetAccount(given, ctx.signer);
    const [balance, request, exitAt] = await Promise.all([
      fund.balanceOf(account),
      fund.unstakeRequests(account),
      fund.unstakeExitAt(account),
    ]);
    const value = await fund.previewRedeem(balance);
    const confirmBy = request.readyAt + unstakeWindow;
    staker = {
      account,
      shares: formatToken(balance, shares, true),
      value: raw(value),
      pendingUnstakeShares: formatToken(request.shares, shares, true),
      pendingUnstakeAssets: raw(request.assets),
      cooldownEnd: request.shares === 0n ? null : Number(request.readyAt),
      confirmBy: request.shares === 0n ? null : Number(confirmBy),
      exitAt: exitAt === 0n ? null : Number(exitAt),
    };
    lines.push(
      ["account", account],
      ["your shares", `${formatToken(balance, shares)} (worth ${tok(value)})`],
      [
        "pending unstake",
        request.shares === 0n
          ? "none"
          : `${formatToken(request.shares, shares)} for at most ${tok(request.assets)}, ${pendingStage(now, request.readyAt, confirmBy, exitAt)}`,
      ],
    );
  }
  const sections = [fields(lines)];
  if (layers !== undefined) sections.push(layersText(layers, info));
  const marketName = (id: number): string =>
    ctx.conn.deployment.markets.find((m) => m.id === id)?.symbol ?? `market #${id}`;
  if (isolated.length > 0) sections.push(isolatedText(isolated, info, marketName));
  return {
    text: sections.join("\n\n"),
    json: {
      ...status,
      layers: layers === undefined ? null : layersJson(layers),
      isolated: isolated.map((r) => ({
        marketId: r.marketId,
        market: marketName(r.marketId),
        fund: r.fund,
        kind: r.kind,
        size: r.size.toString(),
        pendingFees: r.pendingFees.toString(),
        wouldPay: r.wouldPay.toString(),
      })),
      staker,
    },
  };
}

/**
 * A row per isolated market: its own fund (an InsuranceFund vault or a DefaultLayers), the fund's balance, the
 * market's fees set aside for it, and what a draw for the market would take now (BackstopLens.isolatedFunds). The
 * shared layers above never pay for these markets, nor these funds for any other market.
 */
function isolatedText(rows: readonly IsolatedFundRow[], info: TokenInfo, marketName: (id: number) => string): string {
  const tok = (v: bigint): string => formatToken(v, info);
  return [
    "isolated markets, each paid by its own fund only:",
    table([
      ["market", "fund", "kind", "size", "fees set aside", "would pay now"],
      ...rows.map((r) => [
        marketName(r.marketId),
        r.fund,
        r.kind,
        tok(r.size),
        money(r.pendingFees, info.symbol),
        tok(r.wouldPay),
      ]),
    ]),
  ].join("\n");
}

/**
 * A row per default layer in the order they pay, then the drawdown trigger. "would pay now" is what each layer
 * would give towards a draw made now after the layers above it (BackstopLens.layersState).
 */
function layersText(l: LayersState, info: TokenInfo): string {
  const tok = (v: bigint): string => formatToken(v, info);
  const rows = table([
    ["layer", "size", "would pay now"],
    ...l.rows.map((r) => [
      r.layer,
      r.layer === "assessments" ? `${tok(r.size)} (cap left)` : tok(r.size),
      tok(r.wouldPay),
    ]),
    ["total", "", tok(l.availableForDraw)],
  ]);
  const d = l.drawdown;
  const trigger =
    d.budget === undefined
      ? "off"
      : `${percent(d.fraction)} of the funded layers within ${duration(d.window)}: ` +
        (d.drawn === 0n
          ? `no draw in the current window (base ${tok(d.base)}, ${tok(d.budget)} may be paid)`
          : `window from ${timestamp(d.windowStart)}, ${tok(d.drawn)} of ${tok(d.base)} paid, ${tok(d.budget)} left`) +
        (d.tripped ? " — TRIPPED: the loss policy takes the rest until the window ends" : "");
  return [
    `default layers (${l.layers}), in the order they pay:`,
    rows,
    "",
    fields([
      ["drawdown trigger", trigger],
      ["members", `${l.members}, contributions ${tok(l.totalContribution)}`],
      ["last default", l.lastDefaultAt === 0n ? "none" : timestamp(l.lastDefaultAt)],
      ["paid ever", `first loss ${tok(l.firstLossPaid)}, assessments ${tok(l.assessedTotal)}`],
    ]),
  ].join("\n");
}

/** The layers for --json: amounts as integers of the token's smallest unit (strings, exact). */
function layersJson(l: LayersState): Record<string, unknown> {
  const raw = (v: bigint): string => v.toString();
  const d = l.drawdown;
  return {
    address: l.layers,
    stakers: l.stakers,
    rows: l.rows.map((r) => ({ layer: r.layer, size: raw(r.size), wouldPay: raw(r.wouldPay) })),
    availableForDraw: raw(l.availableForDraw),
    drawdown: {
      fraction: raw(d.fraction),
      windowSeconds: Number(d.window),
      windowStart: Number(d.windowStart),
      base: raw(d.base),
      drawn: raw(d.drawn),
      budget: d.budget === undefined ? null : raw(d.budget),
      tripped: d.tripped,
    },
    members: l.members,
    totalContribution: raw(l.totalContribution),
    lastDefaultAt: l.lastDefaultAt === 0n ? null : Number(l.lastDefaultAt),
    firstLossPaid: raw(l.firstLossPaid),
    assessedTotal: raw(l.assessedTotal),
  };
}

/** Where a pending request stands: cooling down, open for confirmation, lapsed, or confirmed and paying from exitAt. */
function pendingStage(now: bigint, readyAt: bigint, confirmBy: bigint, exitAt: bigint): string {
  if (exitAt !== 0n) return `confirmed, pays from ${timestamp(exitAt)}${exitAt <= now ? " (ready)" : ""}`;
  if (now < readyAt) return `cooldown ends ${timestamp(readyAt)}, then confirm by ${timestamp(confirmBy)}`;
  if (now < confirmBy) return `confirm by ${timestamp(confirmBy)} (fund confirm-unstake)`;
  return "confirmation window closed: cancel and request again";
}
