import { useEffect, useMemo, useState } from "react";

import {
  ORDER_TYPES,
  RelayClient,
  WAD_DECIMALS,
  fillEffect,
  formatDisplay,
  orderDomain,
  parsePositive,
  type BookEntry,
  type SignedOrderFields,
} from "#sdk";
import { readAccount, readMarkets, type AccountView, type MarketRow } from "../chain.js";
import { baseOf, dateTime, duration, money, shortAddress, size } from "../format.js";
import { transact, useAction, useChainData, type Session } from "../session.js";
import { LoadError, NeedsWallet, Status } from "./common.js";

/** Post a signed order to the relay; take one from the book with fillOrder, its margin effect shown first. */
export function Trade({ session }: { session: Session }) {
  const { chain, block, account } = session;
  const relay = useMemo(
    () => (chain.config.relayUrl === undefined ? undefined : new RelayClient(chain.config.relayUrl)),
    [chain],
  );
  const [marketId, setMarketId] = useState(chain.deployment.markets[0].id);
  const [relayEvents, setRelayEvents] = useState(0);
  const { data, error } = useChainData(
    async () => {
      const [view, book, markets] = await Promise.all([
        account === undefined ? undefined : readAccount(chain, account, block),
        relay?.book(marketId),
        readMarkets(chain, block),
      ]);
      return { view, book, market: markets.find((m) => m.market.id === marketId) };
    },
    [account, block, marketId, relayEvents],
    chain,
  );

  // The book changes between blocks (orders posted): follow the relay's WebSocket for this market.
  useEffect(() => {
    if (relay === undefined) return;
    let closed = false;
    let close = (): void => undefined;
    relay
      .subscribe(marketId, () => setRelayEvents((n) => n + 1))
      .then(
        (sub) => (closed ? sub.close() : (close = () => sub.close())),
        () => undefined, // the book still refreshes every block
      );
    return () => {
      closed = true;
      close();
    };
  }, [relay, marketId]);

  if (relay === undefined) return <p className="warning">No order relay is configured for this page.</p>;
  if (data === undefined) return <LoadError error={error} />;
  return (
    <>
      <LoadError error={error} />
      <div className="row">
        <label>
          Market:{" "}
          <select value={marketId} onChange={(e) => setMarketId(Number(e.target.value))} data-testid="trade-market">
            {chain.deployment.markets.map((m) => (
              <option key={m.id} value={m.id}>
                {m.symbol}
              </option>
            ))}
          </select>
        </label>
      </div>
      <TradeBody session={session} relay={relay} market={data.market} view={data.view} book={data.book} />
    </>
  );
}

interface BodyProps {
  session: Session;
  relay: RelayClient;
  market: MarketRow | undefined;
  view: AccountView | undefined;
  book: { bids: BookEntry[]; asks: BookEntry[] } | undefined;
}

function TradeBody({ session, relay, market, view, book }: BodyProps) {
  const { chain } = session;
  const symbol = chain.token.symbol;
  const [taking, setTaking] = useState<BookEntry>();
  const base = baseOf(market?.market.symbol ?? "");
  const rows =
    book === undefined
      ? []
      : [...book.asks.map((e) => ({ e, side: "sell" })), ...book.bids.map((e) => ({ e, side: "buy" }))];
  return (
    <>
      <section>
        <h2>Post an order</h2>
        {view === undefined || session.signer === undefined || market === undefined ? (
          <NeedsWallet what="sign orders" />
        ) : (
          <PostOrder session={session} relay={relay} market={market} view={view} />
        )}
      </section>
      <section>
        <h2>Order book ({rows.length})</h2>
        {rows.length === 0 ? (
          <p className="muted">The relay holds no order in this market.</p>
        ) : (
          <table data-testid="book">
            <thead>
              <tr>
                <th>maker</th>
                <th>maker side</th>
                <th>remaining</th>
                <th>price</th>
                <th>expires</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map(({ e, side }) => {
                const own = session.account?.toLowerCase() === e.order.maker.toLowerCase();
                return (
                  <tr key={e.hash} data-testid="book-row" data-hash={e.hash}>
                    <td title={e.order.maker}>{shortAddress(e.order.maker)}</td>
                    <td className={side === "buy" ? "positive" : "negative"}>{side}</td>
                    <td>{size(e.remaining, base)}</td>
                    <td>{money(e.order.limitPrice, symbol)}</td>
                    <td>{dateTime(e.order.expiry)}</td>
                    <td>
                      <button
                        disabled={own || session.signer === undefined}
                        onClick={() => setTaking(e)}
                        data-testid="take"
                      >
                        {own ? "yours" : "Take"}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
      {taking !== undefined && view !== undefined && market !== undefined && (
        <TakeOrder session={session} entry={taking} market={market} view={view} onDone={() => setTaking(undefined)} />
      )}
    </>
  );
}

function PostOrder({
  session,
  relay,
  market,
  view,
}: {
  session: Session;
  relay: RelayClient;
  market: MarketRow;
  view: AccountView;
}) {
  const { chain, block } = session;
  const symbol = chain.token.symbol;
  const base = baseOf(market.market.symbol);
  const [side, setSide] = useState<"buy" | "sell">("buy");
  const [amount, setAmount] = useState("");
  const [price, setPrice] = useState("");
  const [minutes, setMinutes] = useState("60");
  const action = useAction(chain);
  const account = view.account;

  const post = (): Promise<void> =>
    action.run("Posting the order", async () => {
      const sizeWad = parsePositive(amount, WAD_DECIMALS, "size");
      const limitPrice = parsePositive(price, WAD_DECIMALS, "price");
      const lifetime = parsePositive(minutes, 0, "minutes");
      const [head, minNonce] = await Promise.all([
        chain.provider.getBlock(block),
        chain.contracts.clearingHouse.minValidNonce(account),
      ]);
      // Expiry from the later of the clock and the chain (a local chain's clock runs ahead when moved).
      const now = BigInt(Math.max(Math.floor(Date.now() / 1000), head?.timestamp ?? 0));
      // The time in milliseconds as nonce, as the CLI does: two otherwise equal orders differ.
      const nonce = BigInt(Date.now()) > minNonce ? BigInt(Date.now()) : minNonce;
      const order: SignedOrderFields = {
        maker: account,
        marketId: BigInt(market.market.id),
        isBuy: side === "buy",
        size: sizeWad,
        limitPrice,
        expiry: now + lifetime * 60n,
        nonce,
        reduceOnly: false,
      };
      const signer = await session.signer!();
      const signature = await signer.signTypedData(
        orderDomain(chain.deployment.chainId, chain.deployment.contracts.clearingHouse),
        ORDER_TYPES,
        order,
      );
      const hash = await relay.postOrder(order, signature);
      return `Posted: ${side} ${size(sizeWad, base)} at ${money(limitPrice, symbol)}, valid ${duration(lifetime * 60n)} (order ${shortAddress(hash)}).`;
    });

  let preview: SignedPreview | undefined;
  try {
    const sizeWad = parsePositive(amount, WAD_DECIMALS, "size");
    const limitPrice = parsePositive(price, WAD_DECIMALS, "price");
    preview = { sizeDelta: side === "buy" ? sizeWad : -sizeWad, price: limitPrice, feeRatio: market.makerFeeRatio };
  } catch {
    preview = undefined; // not a complete order yet
  }
  return (
    <>
      <div className="row">
        <select
          value={side}
          onChange={(e) => setSide(e.target.value === "sell" ? "sell" : "buy")}
          data-testid="order-side"
        >
          <option value="buy">buy (long)</option>
          <option value="sell">sell (short)</option>
        </select>
        <input
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          placeholder={`size in ${base}`}
          data-testid="order-size"
        />
        <input
          value={price}
          onChange={(e) => setPrice(e.target.value)}
          placeholder={
            market.oraclePrice === undefined
              ? `price in ${symbol}`
              : `price (oracle ${formatDisplay(market.oraclePrice, 18, 2)})`
          }
          data-testid="order-price"
        />
        <input value={minutes} onChange={(e) => setMinutes(e.target.value)} size={5} data-testid="order-minutes" />{" "}
        minutes
        <button onClick={() => void post()} data-testid="post-order">
          Sign and post
        </button>
      </div>
      {preview !== undefined && (
        <MarginEffect session={session} view={view} market={market} fill={preview} who="when it fills" />
      )}
      <Status status={action.status} testid="post-status" />
    </>
  );
}

interface SignedPreview {
  sizeDelta: bigint;
  price: bigint;
  feeRatio: bigint;
}

/** The account before and after a fill, from the SDK's mirror of the clearing house's fill accounting. */
function MarginEffect({
  session,
  view,
  market,
  fill,
  who,
}: {
  session: Session;
  view: AccountView;
  market: MarketRow;
  fill: SignedPreview;
  who: string;
}) {
  const symbol = session.chain.token.symbol;
  if (market.oraclePrice === undefined)
    return <p className="warning">The market's feed is refused: no fill can happen now.</p>;
  const effect = fillEffect(
    view.collateral,
    view.inputs,
    { marketId: market.market.id, ...fill },
    {
      oraclePrice: market.oraclePrice,
      initialMarginRatio: market.initialMarginRatio,
      maintenanceMarginRatio: market.maintenanceMarginRatio,
    },
  );
  const left = effect.health.equity - effect.health.initialMargin;
  const refused = effect.reduces ? effect.health.equity < 0n : left < 0n;
  const p = effect.position;
  return (
    <table
      data-testid="margin-effect"
      data-size-after={p.size.toString()}
      data-equity-after={effect.health.equity.toString()}
    >
      <thead>
        <tr>
          <th>{who}</th>
          <th>position</th>
          <th>collateral</th>
          <th>equity</th>
          <th>initial margin</th>
          <th>margin left</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <td>before</td>
          <td>
            {positionText(
              view.inputs.find((i) => i.marketId === market.market.id)?.size ?? 0n,
              baseOf(market.market.symbol),
            )}
          </td>
          <td>{money(view.collateral, symbol)}</td>
          <td>{money(view.equity, symbol)}</td>
          <td>{money(view.initialMargin, symbol)}</td>
          <td>{money(view.equity - view.initialMargin, symbol)}</td>
        </tr>
        <tr>
          <td>after (fee {money(effect.fee, symbol)})</td>
          <td data-testid="position-after">{positionText(p.size, baseOf(market.market.symbol))}</td>
          <td>{money(effect.collateral, symbol)}</td>
          <td data-testid="equity-after">{money(effect.health.equity, symbol)}</td>
          <td>{money(effect.health.initialMargin, symbol)}</td>
          <td className={refused ? "negative" : "positive"} data-testid="margin-left">
            {money(left, symbol)}
            {refused
              ? ` — the clearing house would refuse it (${effect.reduces ? "NegativeEquity" : "InsufficientMargin"})`
              : ""}
          </td>
        </tr>
      </tbody>
    </table>
  );
}

const positionText = (s: bigint, base: string): string =>
  s === 0n ? "flat" : `${s > 0n ? "long" : "short"} ${size(s < 0n ? -s : s, base)}`;

function TakeOrder({
  session,
  entry,
  market,
  view,
  onDone,
}: {
  session: Session;
  entry: BookEntry;
  market: MarketRow;
  view: AccountView;
  onDone: () => void;
}) {
  const { chain } = session;
  const base = baseOf(market.market.symbol);
  const [amount, setAmount] = useState(
    formatDisplay(entry.remaining, WAD_DECIMALS, 18)
      .replace(/,/g, "")
      .replace(/\.?0+$/, ""),
  );
  const action = useAction(chain);
  let fillSize: bigint | undefined;
  try {
    fillSize = parsePositive(amount, WAD_DECIMALS, "fill size");
  } catch {
    fillSize = undefined;
  }
  const o = entry.order;
  const take = (): Promise<void> =>
    action.run("Filling the order", async () => {
      const value = parsePositive(amount, WAD_DECIMALS, "fill size");
      const signer = await session.signer!();
      const ch = chain.contracts.clearingHouse;
      const hash = await transact(
        () => ch.fillOrder.staticCall(o, entry.signature, value, { from: view.account }),
        () => ch.connect(signer).fillOrder(o, entry.signature, value),
      );
      return `Filled ${size(value, base)} at ${money(o.limitPrice, chain.token.symbol)} (tx ${shortAddress(hash)}).`;
    });
  return (
    <section data-testid="take-panel">
      <h2>
        Take {shortAddress(o.maker)}'s {o.isBuy ? "bid" : "ask"}: you {o.isBuy ? "sell" : "buy"} at{" "}
        {money(o.limitPrice, chain.token.symbol)}
      </h2>
      <div className="row">
        <input value={amount} onChange={(e) => setAmount(e.target.value)} data-testid="fill-size" /> {base}
        <button onClick={() => void take()} data-testid="fill">
          Sign and fill
        </button>
        <button onClick={onDone}>Close</button>
      </div>
      {fillSize !== undefined && (
        <MarginEffect
          session={session}
          view={view}
          market={market}
          fill={{ sizeDelta: o.isBuy ? -fillSize : fillSize, price: o.limitPrice, feeRatio: market.takerFeeRatio }}
          who="your account"
        />
      )}
      <Status status={action.status} testid="fill-status" />
    </section>
  );
}
