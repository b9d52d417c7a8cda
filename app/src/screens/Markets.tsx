import { readOverview } from "../chain.js";
import { baseOf, dateTime, money, percent, shortAddress, size, tokens } from "../format.js";
import { useChainData, type Session } from "../session.js";
import { LoadError } from "./common.js";

/** Every market's oracle price, funding and open interest; the fund's layers; the open deleverage cases. */
export function Markets({ session }: { session: Session }) {
  const { chain, block } = session;
  const { data, error } = useChainData(() => readOverview(chain, block), [block], chain);
  const { symbol, decimals } = chain.token;
  if (data === undefined) return <LoadError error={error} />;
  const symbolOf = (id: number): string => chain.deployment.markets.find((m) => m.id === id)?.symbol ?? `#${id}`;
  const fund = data.fund;
  return (
    <>
      <LoadError error={error} />
      <section>
        <h2>Markets</h2>
        <table data-testid="markets">
          <thead>
            <tr>
              <th>market</th>
              <th>oracle price</th>
              <th>funding rate / day</th>
              <th>long open interest</th>
              <th>short open interest</th>
              <th>initial / maintenance margin</th>
              <th>loss policy</th>
            </tr>
          </thead>
          <tbody>
            {data.markets.map((m) => (
              <tr key={m.market.id} data-testid={`market-${m.market.symbol}`}>
                <td>{m.market.symbol}</td>
                <td data-testid="oracle-price">
                  {m.oraclePrice === undefined ? "feed refused (stale)" : money(m.oraclePrice, symbol)}
                </td>
                <td>{percent(m.fundingRate, 4)}</td>
                <td>{size(m.longOpenInterest, baseOf(m.market.symbol))}</td>
                <td>{size(m.shortOpenInterest, baseOf(m.market.symbol))}</td>
                <td>
                  {percent(m.initialMarginRatio)} / {percent(m.maintenanceMarginRatio)}
                </td>
                <td>{m.market.lossPolicy === "adl" ? "auto-deleverage" : "socialized"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Who pays a bankrupt account's deficit, in order</h2>
        <ol data-testid="fund-layers">
          <li>
            The insurance fund: {tokens(fund.totalAssets, decimals, symbol)} staked, of which{" "}
            {tokens(fund.availableForDraw, decimals, symbol)} can be drawn now.
          </li>
          <li>Fees set aside in the clearing house for the fund: {money(fund.pendingFees, symbol)}.</li>
          <li>
            Then the market's loss policy: auto-deleveraging of the most profitable opposite positions, or the loss
            socialized over the opposite side.
          </li>
        </ol>
      </section>
      <section>
        <h2>Open deleverage cases ({data.cases.length})</h2>
        {data.cases.length === 0 ? (
          <p className="muted">None: no bad debt is waiting.</p>
        ) : (
          <table data-testid="open-cases">
            <thead>
              <tr>
                <th>account</th>
                <th>market</th>
                <th>counterparties</th>
                <th>deficit at opening</th>
                <th>paid by the fund</th>
                <th>deleveraged</th>
                <th>opened</th>
              </tr>
            </thead>
            <tbody>
              {data.cases.map((c) => (
                <tr key={c.account}>
                  <td title={c.account}>{shortAddress(c.account)}</td>
                  <td>{symbolOf(c.marketId)}</td>
                  <td>{c.longCounterparties ? "longs" : "shorts"}</td>
                  <td>{money(c.initialShortfall, symbol)}</td>
                  <td>{money(c.fundPaid, symbol)}</td>
                  <td>{money(c.deleveraged, symbol)}</td>
                  <td>{dateTime(c.startedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
