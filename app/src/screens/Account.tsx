import { useState } from "react";
import { isAddress } from "ethers";

import { entryPrice, parsePositive } from "#sdk";
import { readAccount } from "../chain.js";
import { baseOf, money, shortAddress, size, tokens } from "../format.js";
import { transact, useAction, useChainData, type Session } from "../session.js";
import { LoadError, NeedsWallet, RiskLight, Status } from "./common.js";

/** Margin, positions with their liquidation and bankruptcy prices and ADL place; deposit and withdraw. */
export function Account({ session }: { session: Session }) {
  const [typed, setTyped] = useState("");
  const viewed = session.account ?? (isAddress(typed) ? typed : undefined);
  return (
    <>
      {session.account === undefined && (
        <section>
          <div className="row">
            <label>
              Account to look at (read-only):{" "}
              <input value={typed} onChange={(e) => setTyped(e.target.value.trim())} placeholder="0x…" size={44} />
            </label>
          </div>
        </section>
      )}
      {viewed !== undefined && <AccountView session={session} account={viewed} />}
    </>
  );
}

function AccountView({ session, account }: { session: Session; account: string }) {
  const { chain, block } = session;
  const { symbol, decimals } = chain.token;
  const { data, error } = useChainData(() => readAccount(chain, account, block), [account, block], chain);
  const action = useAction(chain);
  const [amount, setAmount] = useState("");
  if (data === undefined) return <LoadError error={error} />;

  const state = data.equity < 0n ? "BANKRUPT" : data.equity < data.maintenanceMargin ? "LIQUIDATABLE" : "healthy";
  const own = session.account !== undefined && session.account.toLowerCase() === account.toLowerCase();

  const deposit = (): Promise<void> =>
    action.run("Deposit", async () => {
      const signer = await session.signer!();
      const value = parsePositive(amount, decimals, "amount");
      const { clearingHouse, collateralToken } = chain.contracts;
      if (value > data.walletBalance) {
        throw new Error(
          `the wallet holds ${tokens(data.walletBalance, decimals, symbol)}, less than ${amount} ${symbol}`,
        );
      }
      if (data.allowance < value) {
        await transact(
          () => collateralToken.approve.staticCall(chain.deployment.contracts.clearingHouse, value, { from: account }),
          () => collateralToken.connect(signer).approve(chain.deployment.contracts.clearingHouse, value),
        );
      }
      const hash = await transact(
        () => clearingHouse.deposit.staticCall(value, { from: account }),
        () => clearingHouse.connect(signer).deposit(value),
      );
      return `Deposited ${tokens(value, decimals, symbol)} (tx ${shortAddress(hash)}).`;
    });
  const withdraw = (): Promise<void> =>
    action.run("Withdraw", async () => {
      const signer = await session.signer!();
      const value = parsePositive(amount, decimals, "amount");
      const { clearingHouse } = chain.contracts;
      const hash = await transact(
        () => clearingHouse.withdraw.staticCall(value, { from: account }),
        () => clearingHouse.connect(signer).withdraw(value),
      );
      return `Withdrew ${tokens(value, decimals, symbol)} (tx ${shortAddress(hash)}).`;
    });

  return (
    <>
      <LoadError error={error} />
      <section>
        <h2>
          Account <span title={account}>{shortAddress(account)}</span>:{" "}
          <span data-testid="account-state" className={state === "healthy" ? "positive" : "negative"}>
            {state}
          </span>
        </h2>
        <dl data-testid="margin">
          <dt>collateral</dt>
          <dd data-testid="collateral">{money(data.collateral, symbol)}</dd>
          <dt>equity</dt>
          <dd data-testid="equity">{money(data.equity, symbol)}</dd>
          <dt>initial margin</dt>
          <dd>{money(data.initialMargin, symbol)}</dd>
          <dt>maintenance margin</dt>
          <dd>{money(data.maintenanceMargin, symbol)}</dd>
          <dt>free collateral</dt>
          <dd data-testid="free-collateral">{money(data.freeCollateral, symbol)}</dd>
          <dt>wallet</dt>
          <dd>{tokens(data.walletBalance, decimals, symbol)}</dd>
        </dl>
        {data.deleverageCase !== undefined && (
          <p className="error" data-testid="own-case">
            Bankrupt: a deleverage case is open for a deficit of {money(data.deleverageCase.initialShortfall, symbol)};
            the fund has paid {money(data.deleverageCase.fundPaid, symbol)} and counterparties{" "}
            {money(data.deleverageCase.deleveraged, symbol)}.
          </p>
        )}
      </section>
      <section>
        <h2>Positions</h2>
        {data.positions.length === 0 ? (
          <p className="muted" data-testid="no-positions">
            No open positions.
          </p>
        ) : (
          <div className="scroll">
            <table data-testid="positions">
              <thead>
                <tr>
                  <th>market</th>
                  <th>side</th>
                  <th>size</th>
                  <th>entry</th>
                  <th>oracle</th>
                  <th>unrealized PnL</th>
                  <th>funding owed</th>
                  <th>pending social loss</th>
                  <th>liquidation price</th>
                  <th>bankruptcy price</th>
                  <th>ADL score</th>
                  <th>ADL rank</th>
                </tr>
              </thead>
              <tbody>
                {data.positions.map((p) => (
                  <tr key={p.market.id} data-testid={`position-${p.market.symbol}`}>
                    <td>{p.market.symbol}</td>
                    <td>{p.size > 0n ? "long" : "short"}</td>
                    <td>{size(p.size < 0n ? -p.size : p.size, baseOf(p.market.symbol))}</td>
                    <td>{money(entryPrice(p.size, p.openNotional), symbol)}</td>
                    <td>{money(p.markPrice, symbol)}</td>
                    <td className={p.unrealizedPnl < 0n ? "negative" : "positive"}>{money(p.unrealizedPnl, symbol)}</td>
                    <td>{money(p.fundingOwed, symbol)}</td>
                    <td data-testid="social-loss">{money(p.socialLossOwed, symbol)}</td>
                    <td data-testid="liquidation-price">
                      {p.liquidationPrice === undefined ? "none" : money(p.liquidationPrice, symbol)}
                    </td>
                    <td data-testid="bankruptcy-price">
                      {p.bankruptcyPrice === undefined ? "none" : money(p.bankruptcyPrice, symbol)}
                    </td>
                    <td data-testid="adl-score">{p.adl.score.toString()}</td>
                    <td data-testid="adl-rank">
                      <RiskLight place={p.adl} />{" "}
                      {p.adl.rank === undefined ? `not queued (of ${p.adl.queue})` : `${p.adl.rank} of ${p.adl.queue}`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section>
        <h2>Deposit and withdraw</h2>
        {own && session.signer !== undefined ? (
          <div className="row">
            <input
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
              placeholder={`amount in ${symbol}`}
              data-testid="amount"
            />
            <button onClick={() => void deposit()} data-testid="deposit">
              Deposit
            </button>
            <button onClick={() => void withdraw()} data-testid="withdraw">
              Withdraw
            </button>
          </div>
        ) : (
          <NeedsWallet what="deposit or withdraw" />
        )}
        <Status status={action.status} testid="account-status" />
      </section>
    </>
  );
}
