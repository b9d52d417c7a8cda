import { InputError } from "../errors.js";
import type { IsolatedFundParams, NetworkParams } from "./params.js";

/** An isolated market of a network's parameters with the fund it names. */
export interface IsolatedListing {
  /** Index in `markets`: the market id it gets. */
  marketId: number;
  symbol: string;
  fundName: string;
  fund: IsolatedFundParams;
}

/**
 * Checks the parts of `params` the contracts cannot check before something is deployed (deployBackstop runs it
 * before its first transaction): market symbols are unique, every market's `isolatedFund` is declared in
 * `isolatedFunds` and named by that market alone (a fund backs one market: ClearingHouse's FundAlreadyInUse), and
 * every declared fund is used. Returns the isolated markets in listing order. Throws {@link InputError} with one
 * line naming the network, the market or fund and what to change. Numeric bounds stay the contracts' (their
 * custom errors name the field).
 */
export function isolatedListings(params: NetworkParams): IsolatedListing[] {
  const where = `network parameters '${params.name}'`;
  const funds = params.isolatedFunds ?? {};
  const declared = Object.keys(funds);
  const symbols = new Set<string>();
  const usedBy = new Map<string, string>();
  const listings: IsolatedListing[] = [];
  for (const [marketId, market] of params.markets.entries()) {
    if (symbols.has(market.symbol)) throw new InputError(`${where}: two markets are called ${market.symbol}`);
    symbols.add(market.symbol);
    const fundName = market.isolatedFund;
    if (fundName === undefined) continue;
    const fund = Object.hasOwn(funds, fundName) ? funds[fundName] : undefined;
    if (fund === undefined) {
      const known = declared.length === 0 ? "none is declared" : `declared: ${declared.join(", ")}`;
      throw new InputError(
        `${where}: market ${market.symbol} names isolatedFund '${fundName}', which isolatedFunds does not declare (${known})`,
      );
    }
    const holder = usedBy.get(fundName);
    if (holder !== undefined) {
      throw new InputError(
        `${where}: market ${market.symbol} names isolatedFund '${fundName}', already used by ${holder}: ` +
          "an isolated market needs a fund of its own (a shared fund would carry one market's default into the other)",
      );
    }
    usedBy.set(fundName, market.symbol);
    listings.push({ marketId, symbol: market.symbol, fundName, fund });
  }
  const unused = declared.filter((name) => !usedBy.has(name));
  if (unused.length > 0) {
    throw new InputError(
      `${where}: isolatedFunds '${unused[0]}' is named by no market (give a market isolatedFund: '${unused[0]}' or remove it)`,
    );
  }
  return listings;
}
