import { useState } from "react";
import type { ContractTransactionResponse, JsonRpcSigner } from "ethers";

import { formatDisplay, parsePositive } from "#sdk";
import { readFund, type FundView } from "../chain.js";
import { dateTime, duration, shortAddress, tokens } from "../format.js";
import { transact, useAction, useChainData, type Session } from "../session.js";
import { LoadError, NeedsWallet, Status } from "./common.js";

/**
 * Where a staker's exit stands in the fund's flow (contracts/insurance/InsuranceFund.sol): request → cooldown →
 * confirm within the unstake window → exit exposure → unstake.
 */
function exitStep(view: FundView): {
  step: "none" | "cooldown" | "confirm" | "expired" | "exposure" | "ready";
  text: string;
} {
  const s = view.staker;
  if (s?.request === undefined) return { step: "none", text: "No unstake requested." };
  const { readyAt } = s.request;
  const now = view.now;
  if (s.exitAt !== undefined) {
    if (now < s.exitAt) {
      return {
        step: "exposure",
        text: `Confirmed; the payout can be taken from ${dateTime(s.exitAt)} (in ${duration(s.exitAt - now)}). Until then the escrow still bears losses.`,
      };
    }
    return { step: "ready", text: "Confirmed and past the exit exposure: unstake to be paid." };
  }
  if (now < readyAt) {
    return { step: "cooldown", text: `Cooldown: confirm from ${dateTime(readyAt)} (in ${duration(readyAt - now)}).` };
  }
  const closes = readyAt + view.unstakeWindow;
  if (now < closes) {
    return {
      step: "confirm",
      text: `Cooldown over: confirm before ${dateTime(closes)} (${duration(closes - now)} left).`,
    };
  }
  return {
    step: "expired",
    text: `The confirmation window closed at ${dateTime(closes)}: cancel the request and ask again.`,
  };
}

export function Insurance({ session }: { session: Session }) {
  const { chain, block, account } = session;
  const { symbol, decimals } = chain.token;
  const { data, error } = useChainData(() => readFund(chain, account, block), [account, block], chain);
  const action = useAction(chain);
  const [amount, setAmount] = useState("");
  const [shares, setShares] = useState("");
  if (data === undefined) return <LoadError error={error} />;
  const fund = chain.contracts.insuranceFund;
  const fundAddress = chain.deployment.contracts.insuranceFund;
  const exit = exitStep(data);
  const s = data.staker;
  const shareText = (value: bigint): string => `${formatDisplay(value, data.shareDecimals, 4)} bINS`;

  const send = (
    label: string,
    simulate: () => Promise<unknown>,
    build: (signer: JsonRpcSigner) => Promise<ContractTransactionResponse>,
  ) =>
    action.run(label, async () => {
      const signer = await session.signer!();
      const hash = await transact(simulate, () => build(signer));
      return `${label}: done (tx ${shortAddress(hash)}).`;
    });

  const stake = (): Promise<void> =>
    action.run("Stake", async () => {
      const signer = await session.signer!();
      const value = parsePositive(amount, decimals, "amount");
      if (s !== undefined && s.allowance < value) {
        await transact(
          () => chain.contracts.collateralToken.approve.staticCall(fundAddress, value, { from: account }),
          () => chain.contracts.collateralToken.connect(signer).approve(fundAddress, value),
        );
      }
      const hash = await transact(
        () => fund.deposit.staticCall(value, account!, { from: account }),
        () => fund.connect(signer).deposit(value, account!),
      );
      return `Staked ${tokens(value, decimals, symbol)} (tx ${shortAddress(hash)}).`;
    });
  const request = (): Promise<void> => {
    let value = 0n;
    return send(
      "Request unstake",
      () => {
        value = parsePositive(shares, data.shareDecimals, "shares");
        return fund.requestUnstake.staticCall(value, { from: account });
      },
      (signer) => fund.connect(signer).requestUnstake(value),
    );
  };

  return (
    <>
      <LoadError error={error} />
      <section>
        <h2>Insurance fund</h2>
        <dl data-testid="fund">
          <dt>staked assets</dt>
          <dd data-testid="fund-assets">{tokens(data.state.totalAssets, decimals, symbol)}</dd>
          <dt>shares</dt>
          <dd>{shareText(data.state.totalSupply)}</dd>
          <dt>share price</dt>
          <dd data-testid="share-price">
            {formatDisplay(data.sharePrice, decimals, 6)} {symbol} per bINS
          </dd>
          <dt>can pay now</dt>
          <dd>{tokens(data.state.availableForDraw, decimals, symbol)}</dd>
          <dt>unstake cooldown</dt>
          <dd data-testid="cooldown">
            {duration(data.cooldown)}, then {duration(data.unstakeWindow)} to confirm, paid{" "}
            {duration(data.exitExposure)} after confirming
          </dd>
        </dl>
      </section>
      <section>
        <h2>My stake</h2>
        {s === undefined || session.signer === undefined ? (
          <NeedsWallet what="stake or unstake" />
        ) : (
          <>
            <dl>
              <dt>shares</dt>
              <dd data-testid="my-shares">{shareText(s.shares)}</dd>
              <dt>worth now</dt>
              <dd>{tokens(s.value, decimals, symbol)}</dd>
              {s.request !== undefined && (
                <>
                  <dt>requested</dt>
                  <dd>
                    {shareText(s.request.shares)}, paid at most {tokens(s.request.assets, decimals, symbol)}
                  </dd>
                </>
              )}
            </dl>
            <p data-testid="exit-step" data-step={exit.step}>
              {exit.text}
            </p>
            <div className="row">
              <input
                value={amount}
                onChange={(e) => setAmount(e.target.value)}
                placeholder={`amount in ${symbol}`}
                data-testid="stake-amount"
              />
              <button onClick={() => void stake()} data-testid="stake">
                Stake
              </button>
            </div>
            <div className="row">
              <input
                value={shares}
                onChange={(e) => setShares(e.target.value)}
                placeholder="shares (bINS)"
                data-testid="unstake-shares"
              />
              <button
                onClick={() => void request()}
                disabled={exit.step === "exposure" || exit.step === "ready"}
                data-testid="request-unstake"
              >
                Request unstake
              </button>
              <button
                onClick={() =>
                  void send(
                    "Confirm unstake",
                    () => fund.confirmUnstake.staticCall({ from: account }),
                    (signer) => fund.connect(signer).confirmUnstake(),
                  )
                }
                disabled={exit.step !== "confirm"}
                data-testid="confirm-unstake"
              >
                Confirm
              </button>
              <button
                onClick={() =>
                  void send(
                    "Unstake",
                    () => fund.unstake.staticCall({ from: account }),
                    (signer) => fund.connect(signer).unstake(),
                  )
                }
                disabled={exit.step !== "ready"}
                data-testid="unstake"
              >
                Unstake
              </button>
              <button
                onClick={() =>
                  void send(
                    "Cancel unstake",
                    () => fund.cancelUnstake.staticCall({ from: account }),
                    (signer) => fund.connect(signer).cancelUnstake(),
                  )
                }
                disabled={exit.step === "none"}
                data-testid="cancel-unstake"
              >
                Cancel request
              </button>
            </div>
          </>
        )}
        <Status status={action.status} testid="fund-status" />
      </section>
    </>
  );
}
