// Daily OHLC series: parsing the shipped Yahoo Finance CSV files, log returns and intraday moves.

/** One trading day in USD. Crypto trades around the clock, so a day's open is the previous close. */
export interface OhlcDay {
  date: string;
  open: number;
  high: number;
  low: number;
  close: number;
}

/** A parsed file: the days kept, and the dates of the `null` rows skipped (missing at the source). */
export interface OhlcSeries {
  days: OhlcDay[];
  skippedNullDates: string[];
}

const HEADER = "Date,Open,High,Low,Close,Adj Close,Volume";
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Parses a Yahoo Finance daily CSV (Date,Open,High,Low,Close,Adj Close,Volume). Rows that are all
 * `null` are days missing at the source: they are skipped and listed, never filled. Any other bad
 * row (a partial null, a non-positive price, low above open/close, dates out of order) is an error
 * naming the source and line, because a silently dropped crash day would bias every tail fit.
 */
export function parseOhlcCsv(text: string, source: string): OhlcSeries {
  const lines = text.split(/\r?\n/);
  if (lines[0] !== HEADER) throw new Error(`${source}: header is not "${HEADER}"`);
  const days: OhlcDay[] = [];
  const skippedNullDates: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    const where = `${source} line ${i + 1}`;
    const cells = lines[i].split(",");
    if (cells.length !== 7) throw new Error(`${where}: expected 7 columns, got ${cells.length}`);
    const [date, ...values] = cells;
    if (!DATE.test(date)) throw new Error(`${where}: date "${date}" is not YYYY-MM-DD`);
    const previous = days.at(-1)?.date ?? skippedNullDates.at(-1);
    if (previous !== undefined && date <= previous) throw new Error(`${where}: date ${date} is not after ${previous}`);
    if (values.every((value) => value === "null")) {
      skippedNullDates.push(date);
      continue;
    }
    const [open, high, low, close] = values.slice(0, 4).map((value, k) => {
      const x = Number(value);
      if (value.trim() === "" || !Number.isFinite(x) || x <= 0) {
        throw new Error(`${where}: ${["open", "high", "low", "close"][k]} "${value}" is not a positive number`);
      }
      return x;
    });
    if (low > Math.min(open, close) || high < Math.max(open, close)) {
      throw new Error(`${where}: low ${low} / high ${high} do not bracket open ${open} and close ${close}`);
    }
    days.push({ date, open, high, low, close });
  }
  if (days.length < 2) throw new Error(`${source}: fewer than two days of prices`);
  return { days, skippedNullDates };
}

const DAY_MS = 86_400_000;

/** True when `b` is the calendar day after `a` (both YYYY-MM-DD, UTC). */
function isNextDay(a: string, b: string): boolean {
  return Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`) === DAY_MS;
}

/** A daily log return ln(close_t / close_{t−1}), dated by day t. */
export interface DatedValue {
  date: string;
  value: number;
}

/**
 * Daily log returns ln(C_t / C_{t−1}) from closes (Tsay, Analysis of Financial Time Series, §1.1).
 * Only pairs of consecutive calendar days count: a return across a missing day would be a
 * two-day move and fatten the one-day tail.
 */
export function logReturns(days: readonly OhlcDay[]): DatedValue[] {
  const out: DatedValue[] = [];
  for (let t = 1; t < days.length; t++) {
    if (isNextDay(days[t - 1].date, days[t].date)) {
      out.push({ date: days[t].date, value: Math.log(days[t].close / days[t - 1].close) });
    }
  }
  return out;
}

/**
 * The intraday move of one day: the open-to-low drawdown 1 − L/O that a long position at the
 * open sees at worst (the figure quoted for crash days, e.g. −38.6% BTC on 2020-03-12), and the
 * excursions beyond the open–close body, ln(min(O,C)/L) down and ln(H/max(O,C)) up, which the
 * simulator adds to a simulated close-to-close day.
 */
export interface IntradayMove {
  date: string;
  openToLow: number;
  down: number;
  up: number;
}

/** Open-to-low drawdowns and the excursions beyond the open–close body, per day. */
export function intradayMoves(days: readonly OhlcDay[]): IntradayMove[] {
  return days.map((d) => ({
    date: d.date,
    openToLow: 1 - d.low / d.open,
    down: Math.log(Math.min(d.open, d.close) / d.low),
    up: Math.log(d.high / Math.max(d.open, d.close)),
  }));
}

/** Pairs the values of two series on the dates both have, in date order. */
export function alignByDate<A extends { date: string }, B extends { date: string }>(
  a: readonly A[],
  b: readonly B[],
): [A, B][] {
  const byDate = new Map(b.map((x) => [x.date, x]));
  const out: [A, B][] = [];
  for (const x of a) {
    const y = byDate.get(x.date);
    if (y !== undefined) out.push([x, y]);
  }
  return out;
}
