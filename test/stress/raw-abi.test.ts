// The replay's hand-written encoding (stress/lib/raw-abi.ts, chain.ts encodeAction) against ethers' Interface on
// the contracts' own ABIs: the same calldata byte for byte, and the same healthOf rows from the same result.
import { expect } from "chai";
import { getAddress, hexlify, keccak256, toUtf8Bytes } from "ethers";

import { MAX_UINT256 } from "#sdk";
import {
  BackstopLens__factory,
  ClearingHouse__factory,
  MockAggregatorV3__factory,
} from "../../typechain-types/index.js";

import { encodeAction, keeperSelectors } from "../../stress/lib/chain.js";
import type { Action } from "../../stress/lib/engine.js";
import { addressWord, decodeHealthRows, healthOfCall, staticCall, uintWord } from "../../stress/lib/raw-abi.js";

const ch = ClearingHouse__factory.createInterface();
const lens = BackstopLens__factory.createInterface();
/** A deterministic address per label, lower-case as the engine's ids. */
const address = (label: string): string => `0x${keccak256(toUtf8Bytes(label)).slice(26)}`;

describe("stress: hand-written ABI encoding of the replay's calls", function () {
  it("encodes each keeper call as ethers does (the forwarder as the taking-over counterparty)", function () {
    const s = keeperSelectors(ch);
    const account = address("account");
    const other = address("counterparty");
    const keeper = address("forwarder");
    const cases: [Action, string][] = [
      [
        { kind: "liquidate", account, market: 1, price: 1n },
        ch.encodeFunctionData("liquidate", [account, 1, MAX_UINT256]),
      ],
      [
        { kind: "adl", account, market: 0, price: 1n, counterparty: other },
        ch.encodeFunctionData("autoDeleverage", [account, 0, other, MAX_UINT256]),
      ],
      [
        { kind: "adl-takeover", account, market: 1, price: 1n },
        ch.encodeFunctionData("autoDeleverage", [account, 1, keeper, MAX_UINT256]),
      ],
      [{ kind: "timeout", account, market: 0, price: 1n }, ch.encodeFunctionData("socializeAfterTimeout", [account])],
    ];
    for (const [action, expected] of cases) expect(encodeAction(s, action, keeper), action.kind).to.equal(expected);
  });

  it("encodes healthOf and setAnswer as ethers does", function () {
    const accounts = ["a", "b", "c"].map(address);
    const healthOf = lens.getFunction("healthOf").selector;
    expect(healthOfCall(healthOf, accounts)).to.equal(lens.encodeFunctionData("healthOf", [accounts]));
    expect(healthOfCall(healthOf, [])).to.equal(lens.encodeFunctionData("healthOf", [[]]));
    const feed = MockAggregatorV3__factory.createInterface();
    const price = 6_012_345_678_901n;
    expect(staticCall(feed.getFunction("setAnswer").selector, [uintWord(price)])).to.equal(
      feed.encodeFunctionData("setAnswer", [price]),
    );
  });

  it("decodes healthOf rows as ethers does: negative equity, both flags, the largest words", function () {
    const rows = [
      [address("x"), -5n, -(10n ** 30n), 7n, MAX_UINT256, true, true],
      [address("y"), 2n ** 255n - 1n, -(2n ** 255n), 0n, 1n, false, false],
      [address("z"), 0n, 123n, 10n ** 24n, 10n ** 25n, true, false],
    ] as const;
    const result = lens.encodeFunctionResult("healthOf", [rows]);
    const [decoded] = lens.decodeFunctionResult("healthOf", result);
    const mine = decodeHealthRows(result);
    expect(mine.map((r) => ({ ...r, account: getAddress(r.account) }))).to.deep.equal(
      (decoded as readonly (readonly unknown[])[]).map((r) => ({
        account: r[0],
        collateral: r[1],
        equity: r[2],
        initialMargin: r[3],
        maintenanceMargin: r[4],
        liquidatable: r[5],
        bankrupt: r[6],
      })),
    );
    expect(mine[0].account).to.equal(address("x"));
    expect(decodeHealthRows(lens.encodeFunctionResult("healthOf", [[]]))).to.deep.equal([]);
  });

  it("refuses what it cannot encode or decode, saying what was wrong", function () {
    expect(() => addressWord("0x1234")).to.throw("not an address: 0x1234");
    expect(() => uintWord(-1n)).to.throw("not a uint256: -1");
    expect(() => uintWord(1n << 256n)).to.throw("not a uint256");
    expect(() => staticCall("0x1234", [])).to.throw("not a selector: 0x1234");
    const result = lens.encodeFunctionResult("healthOf", [[[address("x"), 1n, 1n, 1n, 1n, true, false]]]);
    expect(() => decodeHealthRows(result.slice(0, -64))).to.throw("for 1 rows");
    expect(() => decodeHealthRows(hexlify(new Uint8Array(32)))).to.throw("not a healthOf result");
    const badFlag = `${result.slice(0, -128)}${uintWord(2n)}${result.slice(-64)}`;
    expect(() => decodeHealthRows(badFlag)).to.throw("2 is not a bool");
  });
});
