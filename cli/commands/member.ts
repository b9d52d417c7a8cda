import type { ContractTransactionReceipt } from "ethers";

import type { DefaultLayers } from "../../typechain-types/index.js";
import { parsePositive, readMember, type MemberState, type NoticeState } from "#sdk";
import { requireSigner, type CommandContext, type CommandResult } from "../command.js";
import { targetAccount } from "../connection.js";
import { InputError, RevertError } from "../errors.js";
import { duration, fields, percent, timestamp } from "../format.js";
import { transact, type SendableMethod } from "../tx.js";
import { approveIfShort, formatToken, requireWalletHolds, tokenInfo, type TokenInfo } from "./token.js";

/**
 * The clearing members' commands (issue 11): `member join <amount>` contributes to the members' default fund,
 * `member leave request|complete` gives notice and leaves after it, `member status [account]` shows a member's
 * contribution, share, assessments and notice. Amounts typed and shown in token units with the symbol; `--json`
 * gives them as integers of the token's smallest unit (strings, exact).
 */

function layersOf(ctx: CommandContext): DefaultLayers {
  const layers = ctx.conn.contracts.layers;
  if (layers === undefined) {
    throw new InputError(
      `'${ctx.parsed.command}': this deployment has no default layers (no members' fund): deploy with layers`,
    );
  }
  return layers;
}

/** Why a refused leave or join was refused, in words, after the decoded error. */
const HINTS: Record<string, (d: unknown[]) => string> = {
  NoNotice: () => "give notice first: 'member leave request'",
  NoticeNotElapsed: (d) => `your notice runs until ${timestamp(d[1] as bigint)}: 'member leave complete' from then`,
  NoticeLapsed: () => "the window to leave after your notice has closed: give notice again ('member leave request')",
  NoticeAlreadyGiven: (d) => `you gave notice already; you may leave from ${timestamp(d[1] as bigint)}`,
  CoolingOff: (d) => `a default drew on the layers: no member leaves until ${timestamp(d[1] as bigint)}`,
  BadDebtPending: () => "a bad debt is being deleveraged: members leave once it is resolved",
  NotMember: () => "the account is not a member ('member join <amount>' first)",
  TooManyMembers: (d) => `the register is full (${String(d[0])} members)`,
};

/** `transact`, with a sentence on what to do after a layers' error the CLI knows. */
async function send<A extends unknown[]>(
  ctx: CommandContext,
  label: string,
  method: SendableMethod<A>,
  ...args: A
): Promise<ContractTransactionReceipt> {
  try {
    return await transact(label, ctx.conn.decoding, method, ...args);
  } catch (error) {
    const hint = error instanceof RevertError && error.decoded ? HINTS[error.decoded.name] : undefined;
    if (hint === undefined || !(error instanceof RevertError) || error.decoded === undefined) throw error;
    throw new RevertError(`${error.message}: ${hint(error.decoded.args)}`, error.decoded);
  }
}

/** `member join <amount>`: approves the layers when needed, then contributes (a new member at least the rule's). */
export async function memberJoin(ctx: CommandContext): Promise<CommandResult> {
  const layers = layersOf(ctx);
  const signer = requireSigner(ctx);
  const { token } = ctx.conn.contracts;
  const info = await tokenInfo(token);
  const amount = parsePositive(ctx.parsed.args.amount ?? "", info.decimals, "amount");
  const [balance, record, required] = await Promise.all([
    token.balanceOf(signer.address),
    layers.memberOf(signer.address),
    layers.requiredContribution(signer.address),
  ]);
  requireWalletHolds(balance, amount, info);
  // Checked before an approval is sent, so that a refused join leaves nothing behind.
  if (record.contribution === 0n && amount < required) {
    throw new InputError(
      `amount ${formatToken(amount, info)} is below the contribution a new member must make now: ` +
        `${formatToken(required, info)} (the larger of the minimum and a share of your initial margin)`,
    );
  }
  const spender = await layers.getAddress();
  const approval = await approveIfShort(ctx.conn.decoding, token, signer, spender, amount);
  const txs: string[] = approval === undefined ? [] : [approval];
  const receipt = await send(ctx, "join", layers.connect(signer).join, amount);
  txs.push(receipt.hash);
  const after = await layers.memberOf(signer.address);
  const raw = (v: bigint): string => v.toString();
  return {
    text:
      `${record.contribution === 0n ? "joined the members' fund with" : "added"} ${formatToken(amount, info)}; ` +
      `contribution now ${formatToken(after.contribution, info)} (tx ${receipt.hash})`,
    json: {
      action: "member-join",
      account: signer.address,
      amount: raw(amount),
      contribution: raw(after.contribution),
      shares: raw(after.shares - record.shares),
      txs,
    },
  };
}

/** `member leave request|complete`: give notice, or leave with the fund share once the notice allows it. */
export async function memberLeave(ctx: CommandContext): Promise<CommandResult> {
  const layers = layersOf(ctx);
  const step = ctx.parsed.args.step;
  if (step !== "request" && step !== "complete") {
    throw new InputError(`'member leave' takes 'request' (give notice) or 'complete' (leave after it), not '${step}'`);
  }
  const signer = requireSigner(ctx);
  const info = await tokenInfo(ctx.conn.contracts.token);
  if (step === "request") {
    const receipt = await send(ctx, "requestLeave", layers.connect(signer).requestLeave);
    const [record, window] = await Promise.all([layers.memberOf(signer.address), layers.LEAVE_WINDOW()]);
    return {
      text:
        `notice given: you may leave from ${timestamp(record.leaveAt)} until ${timestamp(record.leaveAt + window)} ` +
        `('member leave complete'); you stay liable until you do (tx ${receipt.hash})`,
      json: {
        action: "member-leave-request",
        account: signer.address,
        leaveAt: Number(record.leaveAt),
        closesAt: Number(record.leaveAt + window),
        txs: [receipt.hash],
      },
    };
  }
  const before = await ctx.conn.contracts.token.balanceOf(signer.address);
  const receipt = await send(ctx, "leaveFund", layers.connect(signer).leaveFund);
  const received = (await ctx.conn.contracts.token.balanceOf(signer.address)) - before;
  return {
    text: `left the members' fund: received ${formatToken(received, info)} (tx ${receipt.hash})`,
    json: { action: "member-leave", account: signer.address, received: received.toString(), txs: [receipt.hash] },
  };
}

/** `member status [account]`: contribution, share, required contribution, assessments and cap, notice. */
export async function memberStatus(ctx: CommandContext): Promise<CommandResult> {
  const layers = layersOf(ctx);
  const account = targetAccount(ctx.parsed.args.address, ctx.signer);
  const [info, head, cases] = await Promise.all([
    tokenInfo(ctx.conn.contracts.token),
    ctx.conn.provider.getBlock("latest"),
    ctx.conn.contracts.clearingHouse.openDeleverageCases(),
  ]);
  if (head === null) throw new Error("the node returned no latest block");
  const now = BigInt(head.timestamp);
  const m = await readMember(layers, account, now, cases);
  return { text: memberText(m, info, now), json: memberJson(m, info) };
}

function memberText(m: MemberState, info: TokenInfo, now: bigint): string {
  const tok = (v: bigint): string => formatToken(v, info);
  if (!m.member) {
    return fields([
      ["account", m.account],
      ["member", "no"],
      ["required contribution", `${tok(m.requiredContribution)} to join now ('member join <amount>')`],
    ]);
  }
  return fields([
    ["account", m.account],
    ["member", "yes"],
    ["contribution", tok(m.contribution)],
    ["share of the fund", `${percent(m.fundShare)} (worth ${tok(m.value)})`],
    ["required contribution", `${tok(m.requiredContribution)} (for a new member now)`],
    [
      "assessed this period",
      `${tok(m.assessedInPeriod)} of at most ${tok(m.assessmentCap)}; ${tok(m.capLeft)} left` +
        (m.periodEnd === undefined ? " (no period running)" : `, period ends ${timestamp(m.periodEnd)}`),
    ],
    ["notice to leave", noticeText(m.notice, now)],
  ]);
}

function noticeText(n: NoticeState, now: bigint): string {
  switch (n.stage) {
    case "none":
      return "none given ('member leave request')";
    case "running":
      return `runs until ${timestamp(n.leaveAt)} (${duration(n.leaveAt - now)}), then leave until ${timestamp(n.closesAt)}`;
    case "lapsed":
      return `lapsed at ${timestamp(n.closesAt)}: give notice again`;
    case "open":
      if (n.blocked === undefined) return `open: 'member leave complete' until ${timestamp(n.closesAt)}`;
      return n.blocked.reason === "cooling-off"
        ? `open until ${timestamp(n.closesAt)}, but a default drew on the layers: nobody leaves before ${timestamp(n.blocked.until)}`
        : `open until ${timestamp(n.closesAt)}, but a bad debt is being deleveraged: wait until it is resolved`;
  }
}

function memberJson(m: MemberState, info: TokenInfo): Record<string, unknown> {
  const raw = (v: bigint): string => v.toString();
  const n = m.notice;
  return {
    account: m.account,
    member: m.member,
    symbol: info.symbol,
    decimals: info.decimals,
    contribution: raw(m.contribution),
    shares: raw(m.shares),
    value: raw(m.value),
    fundShare: raw(m.fundShare),
    requiredContribution: raw(m.requiredContribution),
    assessedInPeriod: raw(m.assessedInPeriod),
    assessmentCap: raw(m.assessmentCap),
    assessmentCapLeft: raw(m.capLeft),
    periodEnd: m.periodEnd === undefined ? null : Number(m.periodEnd),
    notice: {
      stage: n.stage,
      leaveAt: n.stage === "none" ? null : Number(n.leaveAt),
      closesAt: n.stage === "none" ? null : Number(n.closesAt),
      blocked:
        n.stage !== "open" || n.blocked === undefined
          ? null
          : n.blocked.reason === "cooling-off"
            ? { reason: n.blocked.reason, until: Number(n.blocked.until) }
            : { reason: n.blocked.reason },
    },
  };
}
