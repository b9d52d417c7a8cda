import { useEffect, useRef } from "react";
import { View, parse } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

import { formatUnitsExact, takenFromTraders } from "#sdk";
import { readLossHistory, type FundPoint } from "../chain.js";
import { baseOf, money, shortAddress, size } from "../format.js";
import { useChainData, type Session } from "../session.js";
import { LoadError } from "./common.js";

/** Every bad-debt receipt from the chain, who paid what, and the fund over time. */
export function LossEvents({ session }: { session: Session }) {
  const { chain, block } = session;
  const { symbol, decimals } = chain.token;
  const { data, error } = useChainData(() => readLossHistory(chain, block), [block], chain);
  if (data === undefined) return <LoadError error={error} />;
  const symbolOf = (id: number): string => chain.deployment.markets.find((m) => m.id === id)?.symbol ?? `#${id}`;
  return (
    <>
      <LoadError error={error} />
      <section>
        <h2>The insurance fund over time</h2>
        <FundChart points={data.fund} decimals={decimals} symbol={symbol} />
      </section>
      <section>
        <h2>Loss events ({data.events.length})</h2>
        {data.events.length === 0 && <p className="muted">No bad debt so far.</p>}
        {data.events.map(({ receipt, liquidations, adlSteps, socialization }) => (
          <div key={`${receipt.txHash}-${receipt.logIndex}`} className="loss-event" data-testid="loss-event">
            <h3>
              {symbolOf(receipt.marketId)}: <span title={receipt.account}>{shortAddress(receipt.account)}</span> went
              bankrupt with a deficit of <span data-testid="shortfall">{money(receipt.shortfall, symbol)}</span> (block{" "}
              {receipt.blockNumber})
            </h3>
            <table>
              <tbody>
                {liquidations.map((l) => (
                  <tr key={`l${l.logIndex}-${l.blockNumber}`}>
                    <td>liquidated by {shortAddress(l.liquidator)}</td>
                    <td>
                      {size(l.size < 0n ? -l.size : l.size, baseOf(symbolOf(l.marketId)))} at{" "}
                      {money(l.oraclePrice, symbol)}
                    </td>
                  </tr>
                ))}
                <tr data-testid="fund-paid">
                  <td>paid by the insurance fund</td>
                  <td>{money(receipt.fundPaid, symbol)}</td>
                </tr>
                {adlSteps.map((s) => (
                  <tr key={`a${s.blockNumber}-${s.logIndex}`} data-testid="adl-step">
                    <td>
                      auto-deleveraged <span title={s.counterparty}>{shortAddress(s.counterparty)}</span> (score{" "}
                      {s.score.toString()})
                    </td>
                    <td>
                      {size(s.size, baseOf(symbolOf(s.marketId)))} at {money(s.price, symbol)}: gave up{" "}
                      {money(s.loss, symbol)}
                    </td>
                  </tr>
                ))}
                {socialization !== undefined && (
                  <tr data-testid="socialized">
                    <td>socialized over the {socialization.longSide ? "longs" : "shorts"}</td>
                    <td>
                      {money(receipt.socialized, symbol)} ({money(receipt.socializedPerUnit, symbol)} per unit)
                    </td>
                  </tr>
                )}
                <tr>
                  <td>total</td>
                  <td>
                    {money(receipt.fundPaid + takenFromTraders(receipt), symbol)} of {money(receipt.shortfall, symbol)}
                  </td>
                </tr>
              </tbody>
            </table>
          </div>
        ))}
      </section>
    </>
  );
}

/** A Vega-Lite step chart of the fund's assets, rendered to SVG in the page. */
function FundChart({ points, decimals, symbol }: { points: FundPoint[]; decimals: number; symbol: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const values = points.map((p) => ({
      time: p.time * 1000,
      assets: Number(formatUnitsExact(p.totalAssets, decimals)),
      event: p.event,
      block: p.block,
    }));
    const spec: TopLevelSpec = {
      width: 700,
      height: 220,
      data: { values },
      layer: [
        { mark: { type: "line", interpolate: "step-after" }, encoding: {} },
        {
          mark: { type: "point", filled: true },
          encoding: { color: { field: "event", type: "nominal", title: "event" } },
        },
      ],
      encoding: {
        x: { field: "time", type: "temporal", title: "time (UTC)", axis: { format: "%H:%M:%S" } },
        // Not from zero: a draw is small next to the fund, and the chart is there to show it.
        y: { field: "assets", type: "quantitative", title: `fund assets (${symbol})`, scale: { zero: false } },
      },
    };
    const view = new View(parse(compile(spec).spec), { renderer: "none" });
    let cancelled = false;
    view.toSVG().then(
      (svg) => {
        if (!cancelled && ref.current !== null) ref.current.innerHTML = svg;
      },
      () => undefined,
    );
    return () => {
      cancelled = true;
      view.finalize();
    };
  }, [points, decimals, symbol]);
  return <div ref={ref} data-testid="fund-chart" data-events={points.map((p) => p.event).join(",")} />;
}
