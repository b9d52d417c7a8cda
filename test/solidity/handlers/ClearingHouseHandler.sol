// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {IClearingHouse, Order, PositionView} from "../../../contracts/interfaces/IClearingHouse.sol";
import {IClearingHouseErrors} from "../../../contracts/interfaces/IClearingHouseErrors.sol";
import {FundingMath} from "../../../contracts/libraries/FundingMath.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {MockAggregatorV3} from "../../../contracts/mocks/MockAggregatorV3.sol";
import {CheatCodes, Bound} from "../utils/Vm.sol";

/// @notice Drives a ClearingHouse through bounded user actions for the invariant fuzzer. It owns a few accounts
/// (private keys, so that it can sign orders with vm.sign), deploys nothing, and keeps ghost variables:
/// net tokens deposited, number of funding settlements (each may round by < 1 wei), outcome counters, and flags
/// that invariants check (a withdrawal that left an account under initial margin, an overdraw that was accepted,
/// a call that reverted for a reason the handler did not expect).
contract ClearingHouseHandler is CheatCodes {
    using Bound for uint256;

    uint256 public constant ACCOUNT_COUNT = 4;
    uint256 public constant MARKET_COUNT = 2;
    /// @dev Token units (6 decimals) → 18-decimal internal units.
    uint256 internal constant SCALE = 1e12;
    /// @dev Chainlink answers have 8 decimals: → 18 decimals.
    uint256 internal constant FEED_SCALE = 1e10;
    /// @dev Largest fill price offset from the oracle, in basis points; the markets' band is 5% (500 bp).
    uint256 internal constant MAX_PRICE_OFFSET_BP = 490;
    /// @dev Largest oracle move per call, in basis points.
    uint256 internal constant MAX_PRICE_MOVE_BP = 500;

    struct FillArgs {
        uint256 maker; // account index
        uint256 taker; // account index
        uint256 marketId;
        bool makerBuys;
        uint256 size;
        uint256 price;
        uint256 fillSize;
        bool reduceOnly;
    }

    IClearingHouse public immutable clearingHouse;
    MockERC20 public immutable token;
    MockAggregatorV3 internal immutable _feed0;
    MockAggregatorV3 internal immutable _feed1;
    int256 internal immutable _initialAnswer0;
    int256 internal immutable _initialAnswer1;

    uint256[ACCOUNT_COUNT] internal _keys;
    address[ACCOUNT_COUNT] internal _accounts;
    uint256 internal _nonce;
    bytes internal _lastFillRevert;
    bool internal _lastFillWasMarginSkip;

    // ------------------------------------------------------------ ghost variables

    /// Tokens deposited minus tokens withdrawn (token decimals).
    uint256 public netDeposited;
    /// Funding settlements executed (two per fill, one per open market per withdrawal): each rounds by < 1 wei.
    uint256 public fundingSettlements;
    uint256 public calls;
    uint256 public tradeAttempts;
    uint256 public fills;
    uint256 public closes;
    uint256 public marginSkips;
    uint256 public deposits;
    uint256 public withdrawals;
    uint256 public rejectedOverdraws;
    uint256 public priceMoves;
    uint256 public warps;
    uint256 public unexpectedReverts;
    uint256 public unexpectedFillReverts;
    bytes public lastUnexpectedRevert;
    /// Fills refused for margin although both sides had ample free collateral (see trade).
    uint256 public wronglyRejectedFills;
    bytes public lastWronglyRejectedFill;
    /// Set when a withdrawal succeeded and left equity < initialMargin or collateral < 0.
    bool public withdrewBelowInitialMargin;
    /// Set when a withdrawal of more than freeCollateral succeeded.
    bool public overdrawSucceeded;

    // Pause (issue 9, finding 8): while paused only fills that reduce both sides pass, and deposits stay open.
    /// Whether the handler has paused the clearing house (it holds the pauser role).
    bool public pausedNow;
    uint256 public pauseToggles;
    /// Fills refused with EnforcedPause while paused because one side added risk (expected).
    uint256 public pausedFillRefusals;
    /// Fills that went through while paused (each reduced both sides).
    uint256 public fillsWhilePaused;
    /// Set when a fill went through while paused although a side opened, added or flipped.
    bool public riskAddedWhilePaused;
    /// Fills refused with EnforcedPause although they reduced both sides (must stay 0).
    uint256 public pausedReductionRefusals;
    /// Set when a fill that reduced both sides, or a deposit, was refused for the pause.
    bool public riskReductionRefusedWhilePaused;

    // Same-block round trips (issue 9, finding 3): open at the band edge and close again in one block.
    uint256 public roundTrips;
    /// Round trips whose next-block intake was observed (the probe fill went through).
    uint256 public roundTripsProbed;
    /// Set when a round trip moved the funding rate: between its two fills, or at the next block's intake.
    bool public roundTripMovedFunding;
    string public roundTripFailure;
    /// Round trips played beside an honest fill in the same block, whose sample was observed at a later intake.
    uint256 public roundTripsBesideFill;
    /// Set when the average left the range [sample 0, sample = the honest fill's premium] (see roundTripBesideFill).
    bool public roundTripPulledSample;
    string public roundTripPullFailure;

    /// @dev What roundTripBesideFill records of the honest fill, before the round trip.
    struct HonestFill {
        uint256 marketId;
        uint256 base;
        uint256 added;
        int256 premium;
        int256 ema;
        uint256 elapsed;
    }

    constructor(IClearingHouse clearingHouse_, MockERC20 token_, MockAggregatorV3 feed0, MockAggregatorV3 feed1) {
        clearingHouse = clearingHouse_;
        token = token_;
        _feed0 = feed0;
        _feed1 = feed1;
        (, _initialAnswer0, , , ) = feed0.latestRoundData();
        (, _initialAnswer1, , , ) = feed1.latestRoundData();
        for (uint256 i = 0; i < ACCOUNT_COUNT; ++i) {
            uint256 key = 0xB0B000 + i;
            address acct = vm.addr(key);
            _keys[i] = key;
            _accounts[i] = acct;
            vm.label(acct, string.concat("account", string(abi.encodePacked(bytes1(uint8(48 + i))))));
            token.mint(acct, 1_000_000_000e6);
            vm.prank(acct);
            token.approve(address(clearingHouse_), type(uint256).max);
        }
    }

    // ------------------------------------------------------------ views for the test

    function account(uint256 i) external view returns (address) {
        return _accounts[i];
    }

    function oraclePrice(uint256 marketId) public view returns (uint256) {
        (, int256 answer, , , ) = _feed(marketId).latestRoundData();
        return uint256(answer) * FEED_SCALE;
    }

    /// Σ ceil(ceil(|size| × price / 1e18) × initialMarginRatio / 1e18) over the markets, at the oracle price
    /// (DESIGN: initialMargin = Σ |size|·price·imr, each product rounded up against the account).
    function initialMarginOf(address a) public view returns (uint256 im) {
        for (uint256 m = 0; m < MARKET_COUNT; ++m) {
            PositionView memory p = clearingHouse.positionOf(a, m);
            uint256 notional = _ceilDiv(Bound.abs(p.size) * p.markPrice, 1e18);
            im += _ceilDiv(notional * clearingHouse.marketParams(m).initialMarginRatio, 1e18);
        }
    }

    /// Same with the maintenance ratio.
    function maintenanceMarginOf(address a) public view returns (uint256 mm) {
        for (uint256 m = 0; m < MARKET_COUNT; ++m) {
            PositionView memory p = clearingHouse.positionOf(a, m);
            uint256 notional = _ceilDiv(Bound.abs(p.size) * p.markPrice, 1e18);
            mm += _ceilDiv(notional * clearingHouse.marketParams(m).maintenanceMarginRatio, 1e18);
        }
    }

    /// collateral + Σ (floor(size × price / 1e18) − openNotional − fundingOwed) (DESIGN: equity).
    function equityOf(address a) public view returns (int256 equity) {
        equity = clearingHouse.collateralOf(a);
        for (uint256 m = 0; m < MARKET_COUNT; ++m) {
            PositionView memory p = clearingHouse.positionOf(a, m);
            int256 value = p.size * int256(p.markPrice);
            int256 floored = value / 1e18;
            if (value % 1e18 != 0 && value < 0) floored -= 1;
            equity += floored - p.openNotional - p.fundingOwed;
        }
    }

    // ------------------------------------------------------------ actions

    /// Deposits 1 token unit to 100,000 USD into one account.
    function deposit(uint256 accountSeed, uint256 amountSeed) public {
        ++calls;
        address a = _accounts[accountSeed % ACCOUNT_COUNT];
        uint256 amount = amountSeed.bound(1, 100_000e6);
        vm.prank(a);
        try clearingHouse.deposit(amount) {
            ++deposits;
            netDeposited += amount;
        } catch (bytes memory reason) {
            if (pausedNow && bytes4(reason) == Pausable.EnforcedPause.selector) riskReductionRefusedWhilePaused = true;
            _unexpected(reason);
        }
    }

    /// One account signs an order, another fills it (fully or partly) at a price inside the band. The notional goes
    /// up to 10× the smaller free collateral of the two (plus 1,000 USD), so many fills pass the margin check and
    /// some do not; those are counted as margin skips, not failed, unless both sides had ample free collateral.
    function trade(
        uint256 makerSeed,
        uint256 takerSeed,
        uint256 marketSeed,
        bool makerBuys,
        uint256 sizeSeed,
        uint256 priceSeed,
        uint256 fillSeed
    ) public {
        ++calls;
        FillArgs memory f;
        (f.maker, f.taker) = _pair(makerSeed, takerSeed);
        f.marketId = marketSeed % MARKET_COUNT;
        f.makerBuys = makerBuys;
        f.price = _bandPrice(oraclePrice(f.marketId), priceSeed);

        uint256 free = _min(
            clearingHouse.accountHealth(_accounts[f.maker]).freeCollateral,
            clearingHouse.accountHealth(_accounts[f.taker]).freeCollateral
        );
        f.size = sizeSeed.bound(1, ((free * 10 + 1_000e18) * 1e18) / f.price);
        f.fillSize = fillSeed % 4 == 0 ? (fillSeed >> 2).bound(1, f.size) : f.size;
        // A fill costs each side at most: initial margin 10% of |size| × oracle (≤ 10.6% of the fill notional,
        // the price being within 5% of the oracle), the loss of trading up to 4.9% off the oracle (≤ 5.2%) and
        // the 5 bp fee. With 20% of the notional plus 1 USD free on both sides it must pass the margin check.
        bool wellCollateralized = free >= (f.fillSize * f.price) / 1e18 / 5 + 1e18;
        if (!_fill(f) && wellCollateralized && _lastFillWasMarginSkip) {
            ++wronglyRejectedFills;
            lastWronglyRejectedFill = _lastFillRevert;
        }
    }

    /// One account closes its whole position in a market with a reduce-only order that another account fills (which
    /// may open, add to, reduce, close or flip the filler's position).
    function closePosition(
        uint256 accountSeed,
        uint256 counterpartySeed,
        uint256 marketSeed,
        uint256 priceSeed
    ) public {
        ++calls;
        (uint256 makerIndex, uint256 takerIndex) = _pair(accountSeed, counterpartySeed);
        uint256 marketId = marketSeed % MARKET_COUNT;
        int256 size = clearingHouse.positionOf(_accounts[makerIndex], marketId).size;
        if (size == 0) return;
        uint256 absSize = Bound.abs(size);
        FillArgs memory f = FillArgs({
            maker: makerIndex,
            taker: takerIndex,
            marketId: marketId,
            makerBuys: size < 0,
            size: absSize,
            price: _bandPrice(oraclePrice(marketId), priceSeed),
            fillSize: absSize,
            reduceOnly: true
        });
        if (_fill(f)) ++closes;
    }

    /// Moves one oracle price by up to ±5%, kept within [¼, 4×] of its initial value. Steps this large (with fills
    /// up to 10× free collateral) let accounts reach negative equity within a 40-call run.
    function movePrice(uint256 marketSeed, uint256 moveSeed) public {
        ++calls;
        uint256 marketId = marketSeed % MARKET_COUNT;
        MockAggregatorV3 feed = _feed(marketId);
        (, int256 answer, , , ) = feed.latestRoundData();
        int256 moveBp = int256(moveSeed % (2 * MAX_PRICE_MOVE_BP + 1)) - int256(MAX_PRICE_MOVE_BP);
        int256 next = (answer * (10_000 + moveBp)) / 10_000;
        int256 initial = marketId == 0 ? _initialAnswer0 : _initialAnswer1;
        if (next < initial / 4) next = initial / 4;
        if (next > initial * 4) next = initial * 4;
        feed.setAnswer(next);
        ++priceMoves;
    }

    /// Advances time by 1 second to 12 hours (funding accrues) and republishes both prices so that they stay fresh.
    function warp(uint256 secondsSeed) public {
        ++calls;
        _warpBy(secondsSeed.bound(1, 12 hours));
        ++warps;
    }

    /// Withdraws a random amount up to freeCollateral, which must succeed and leave equity ≥ initialMargin; or,
    /// with `overdraw`, 1 token unit to 1,000,000 USD more than freeCollateral, which must revert.
    function withdraw(uint256 accountSeed, uint256 amountSeed, bool overdraw) public {
        ++calls;
        address a = _accounts[accountSeed % ACCOUNT_COUNT];
        uint256 maxUnits = clearingHouse.accountHealth(a).freeCollateral / SCALE;
        uint256 openMarkets = clearingHouse.openMarketsOf(a).length;
        uint256 amount;
        if (overdraw) {
            amount = amountSeed.bound(maxUnits + 1, maxUnits + 1_000_000e6);
        } else {
            if (maxUnits == 0) return;
            amount = amountSeed.bound(1, maxUnits);
        }
        vm.prank(a);
        try clearingHouse.withdraw(amount) {
            netDeposited -= amount;
            fundingSettlements += openMarkets;
            if (overdraw) overdrawSucceeded = true;
            else ++withdrawals;
            // Equity and initial margin recomputed here from the positions, not taken from accountHealth.
            if (equityOf(a) < int256(initialMarginOf(a)) || clearingHouse.collateralOf(a) < 0) {
                withdrewBelowInitialMargin = true;
            }
        } catch (bytes memory reason) {
            bytes4 selector = bytes4(reason);
            if (
                overdraw &&
                (selector == IClearingHouseErrors.InsufficientCollateral.selector ||
                    selector == IClearingHouseErrors.InsufficientMargin.selector)
            ) {
                ++rejectedOverdraws;
            } else {
                _unexpected(reason);
            }
        }
    }

    /// Pauses or unpauses the clearing house (the handler holds the pauser role).
    function setPaused(bool pause_) public {
        ++calls;
        if (pause_ == pausedNow) return;
        if (pause_) clearingHouse.pause();
        else clearingHouse.unpause();
        pausedNow = pause_;
        ++pauseToggles;
    }

    /// A same-block round trip: at a fresh timestamp, one account buys (or sells) at up to 4.9% off the oracle and
    /// sells (buys) the same size back to the same counterparty at the same price, leaving both positions and the
    /// open interest as they were. The rate may not move between the two fills, and one second later a probe fill
    /// at the oracle price (which takes the round trip's block into the average) may not move it either.
    function roundTrip(
        uint256 makerSeed,
        uint256 takerSeed,
        uint256 marketSeed,
        bool makerBuys,
        uint256 sizeSeed,
        uint256 priceSeed
    ) public {
        ++calls;
        if (pausedNow) return;
        _warpBy(1);
        FillArgs memory f;
        (f.maker, f.taker) = _pair(makerSeed, takerSeed);
        f.marketId = marketSeed % MARKET_COUNT;
        f.makerBuys = makerBuys;
        // At the band's edge (4.9% off the oracle), the price that moved the average most on the old code.
        f.price = _bandPrice(oraclePrice(f.marketId), (MAX_PRICE_OFFSET_BP << 1) | (priceSeed & 1));
        uint256 free = _min(
            clearingHouse.accountHealth(_accounts[f.maker]).freeCollateral,
            clearingHouse.accountHealth(_accounts[f.taker]).freeCollateral
        );
        f.size = sizeSeed.bound(1, ((free * 5 + 1e18) * 1e18) / f.price);
        f.fillSize = f.size;
        if (!_fill(f)) return;
        int256 rateOpen = clearingHouse.fundingRate(f.marketId);
        f.makerBuys = !makerBuys;
        if (!_fill(f)) return;
        ++roundTrips;
        int256 rateClosed = clearingHouse.fundingRate(f.marketId);
        if (rateClosed != rateOpen) _roundTripMoved("the closing fill moved the rate", rateOpen, rateClosed);

        // One second later: the rate as it stands, then after a probe fill that takes the round trip's block in.
        _warpBy(1);
        int256 rateBefore = clearingHouse.fundingRate(f.marketId);
        FillArgs memory probe = FillArgs({
            maker: f.maker,
            taker: f.taker,
            marketId: f.marketId,
            makerBuys: makerBuys,
            size: 1e12,
            price: oraclePrice(f.marketId),
            fillSize: 1e12,
            reduceOnly: false
        });
        if (!_fill(probe)) return;
        ++roundTripsProbed;
        int256 rateAfter = clearingHouse.fundingRate(f.marketId);
        if (rateAfter != rateBefore) _roundTripMoved("the next block's intake moved the rate", rateBefore, rateAfter);
    }

    /// A round trip beside an honest fill (the gap left open by the first fix of finding 3): at a fresh timestamp
    /// one pair trades at a price inside the band and keeps what it opened; in the same block a pair (any
    /// accounts, possibly the same) trades at the band's edge and back. `elapsed` (1 min to 1 h) later a probe fill
    /// takes the block in. The honest fill alone is a possible held part, so the sample taken in must lie between 0
    /// and the honest fill's premium: the average must land between where samples 0 and that premium put it.
    function roundTripBesideFill(
        uint256 honestSeed,
        uint256 attackSeed,
        uint256 marketSeed,
        uint256 elapsedSeed
    ) public {
        ++calls;
        if (pausedNow) return;
        _warpBy(1);
        HonestFill memory h;
        h.marketId = marketSeed % MARKET_COUNT;
        h.base = clearingHouse.marketState(h.marketId).longOpenInterest;
        FillArgs memory f = _boundedFill(honestSeed, h.marketId, false);
        if (!_fill(f)) return;
        h.added = _positivePart(clearingHouse.marketState(h.marketId).longOpenInterest, h.base);
        h.premium = FundingMath.premium(f.price, oraclePrice(h.marketId));
        h.ema = clearingHouse.marketState(h.marketId).premiumEma;

        // The attacker's round trip at the band's edge, in the same block.
        FillArgs memory a = _boundedFill(attackSeed, h.marketId, true);
        if (!_fill(a)) return;
        a.makerBuys = !a.makerBuys;
        if (!_fill(a)) return;

        h.elapsed = elapsedSeed.bound(1 minutes, 1 hours);
        _warpBy(h.elapsed);
        FillArgs memory probe = FillArgs({
            maker: a.maker,
            taker: a.taker,
            marketId: h.marketId,
            makerBuys: true,
            size: 1e12,
            price: oraclePrice(h.marketId),
            fillSize: 1e12,
            reduceOnly: false
        });
        if (!_fill(probe)) return;
        ++roundTripsBesideFill;
        int256 actual = clearingHouse.marketState(h.marketId).premiumEma;
        int256 atZero = _intake(h, 0);
        int256 atHonest = _intake(h, h.premium);
        (int256 low, int256 high) = atZero < atHonest ? (atZero, atHonest) : (atHonest, atZero);
        // Rounding: each fill's premium × size is rounded by < 1 wei, which moves the sample by < fills / held and
        // the average by < fills / (held + base); four fills, so a slack of 4 / base (in WAD) covers it.
        int256 slack = h.base == 0 ? int256(0) : int256((4 * 1e18) / h.base + 2);
        if ((actual < low - slack || actual > high + slack) && !roundTripPulledSample) {
            roundTripPulledSample = true;
            roundTripPullFailure = string.concat(
                "average ",
                _toString(actual),
                " outside [",
                _toString(low),
                ", ",
                _toString(high),
                "]; honest premium ",
                _toString(h.premium)
            );
        }
    }

    // ------------------------------------------------------------ internal

    /// @dev The average FundingLogic.takePendingPremium sets at the probe if the sample's held premium is `sample`.
    function _intake(HonestFill memory h, int256 sample) internal view returns (int256) {
        uint256 maxRate = clearingHouse.marketParams(h.marketId).maxFundingRate;
        int256 ema = FundingMath.decayedPremium(h.ema, maxRate, h.elapsed);
        uint256 held = h.added < h.base ? h.added : h.base;
        if (held != 0) ema = FundingMath.nextPremiumEma(ema, sample, h.elapsed, held, h.base);
        return FundingMath.clampedRate(ema, maxRate);
    }

    /// @dev A fill between two accounts drawn from `seed`, sized to what both can carry at five times leverage.
    /// Bits 0–7 pick the maker, 8–15 the taker, bit 16 whether the maker sells, bits 24–55 the price (`atEdge`: only
    /// bit 24, the edge's side), bits 64 and up the size.
    function _boundedFill(uint256 seed, uint256 marketId, bool atEdge) internal view returns (FillArgs memory f) {
        (f.maker, f.taker) = _pair(seed & 0xff, (seed >> 8) & 0xff);
        f.marketId = marketId;
        f.makerBuys = (seed >> 16) & 1 == 0;
        uint256 priceSeed = (seed >> 24) & 0xffffffff;
        f.price = _bandPrice(oraclePrice(marketId), atEdge ? (MAX_PRICE_OFFSET_BP << 1) | (priceSeed & 1) : priceSeed);
        uint256 free = _min(
            clearingHouse.accountHealth(_accounts[f.maker]).freeCollateral,
            clearingHouse.accountHealth(_accounts[f.taker]).freeCollateral
        );
        f.size = (seed >> 64).bound(1e15, ((free * 5 + 1e18) * 1e18) / f.price + 1e15);
        f.fillSize = f.size;
    }

    function _positivePart(uint256 x, uint256 y) internal pure returns (uint256) {
        return x > y ? x - y : 0;
    }

    function _roundTripMoved(string memory what, int256 before, int256 afterwards) internal {
        if (roundTripMovedFunding) return;
        roundTripMovedFunding = true;
        roundTripFailure = string.concat(what, ": ", _toString(before), " -> ", _toString(afterwards));
    }

    function _warpBy(uint256 elapsed) internal {
        vm.warp(block.timestamp + elapsed);
        (, int256 answer0, , , ) = _feed0.latestRoundData();
        (, int256 answer1, , , ) = _feed1.latestRoundData();
        _feed0.setAnswer(answer0);
        _feed1.setAnswer(answer1);
    }

    /// @dev Whether a fill of `delta` on a position of `size` only reduces it (no open, add or flip).
    function _reduces(int256 size, int256 delta) internal pure returns (bool) {
        return size != 0 && (size > 0) != (delta > 0) && Bound.abs(delta) <= Bound.abs(size);
    }

    function _toString(int256 x) internal pure returns (string memory) {
        uint256 magnitude = Bound.abs(x);
        bytes memory digits = new bytes(78);
        uint256 n = digits.length;
        do {
            digits[--n] = bytes1(uint8(48 + (magnitude % 10)));
            magnitude /= 10;
        } while (magnitude != 0);
        if (x < 0) digits[--n] = "-";
        bytes memory out = new bytes(digits.length - n);
        for (uint256 i = 0; i < out.length; ++i) out[i] = digits[n + i];
        return string(out);
    }

    /// @dev The maker signs an order for `size` at `price`; the taker fills `fillSize` of it. Returns whether it filled.
    function _fill(FillArgs memory f) internal returns (bool filled) {
        ++tradeAttempts;
        Order memory order = Order({
            maker: _accounts[f.maker],
            marketId: f.marketId,
            isBuy: f.makerBuys,
            size: f.size,
            limitPrice: f.price,
            expiry: block.timestamp + 1 hours,
            nonce: _nonce++,
            reduceOnly: f.reduceOnly
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_keys[f.maker], clearingHouse.hashOrder(order));
        int256 makerDelta = f.makerBuys ? int256(f.fillSize) : -int256(f.fillSize);
        bool bothReduce =
            _reduces(clearingHouse.positionOf(_accounts[f.maker], f.marketId).size, makerDelta) &&
                _reduces(clearingHouse.positionOf(_accounts[f.taker], f.marketId).size, -makerDelta);
        vm.prank(_accounts[f.taker]);
        try clearingHouse.fillOrder(order, abi.encodePacked(r, s, v), f.fillSize) {
            ++fills;
            fundingSettlements += 2;
            if (pausedNow) {
                ++fillsWhilePaused;
                if (!bothReduce) riskAddedWhilePaused = true;
            }
            return true;
        } catch (bytes memory reason) {
            _lastFillRevert = reason;
            // A bankrupt account may not even reduce (NegativeEquity): also a margin refusal, not a failure.
            bytes4 selector = bytes4(reason);
            _lastFillWasMarginSkip =
                selector == IClearingHouseErrors.InsufficientMargin.selector ||
                selector == IClearingHouseErrors.NegativeEquity.selector;
            if (pausedNow && selector == Pausable.EnforcedPause.selector) {
                // Refusing a fill that adds risk is the pause working; refusing one that only reduces traps traders.
                if (bothReduce) {
                    riskReductionRefusedWhilePaused = true;
                    ++pausedReductionRefusals;
                } else {
                    ++pausedFillRefusals;
                }
            } else if (_lastFillWasMarginSkip) {
                ++marginSkips;
            } else {
                ++unexpectedFillReverts;
                _unexpected(reason);
            }
            return false;
        }
    }

    function _unexpected(bytes memory reason) internal {
        ++unexpectedReverts;
        lastUnexpectedRevert = reason;
    }

    /// @dev Two distinct account indices.
    function _pair(uint256 firstSeed, uint256 secondSeed) internal pure returns (uint256 first, uint256 second) {
        first = firstSeed % ACCOUNT_COUNT;
        second = secondSeed % (ACCOUNT_COUNT - 1);
        if (second >= first) ++second;
    }

    /// @dev oracle × (1 ± offset), offset ≤ 4.9%, so always inside the 5% band.
    function _bandPrice(uint256 oracle, uint256 priceSeed) internal pure returns (uint256) {
        uint256 offset = (oracle * ((priceSeed >> 1) % (MAX_PRICE_OFFSET_BP + 1))) / 10_000;
        return priceSeed & 1 == 0 ? oracle + offset : oracle - offset;
    }

    function _feed(uint256 marketId) internal view returns (MockAggregatorV3) {
        return marketId == 0 ? _feed0 : _feed1;
    }

    function _ceilDiv(uint256 x, uint256 d) internal pure returns (uint256) {
        return x == 0 ? 0 : (x - 1) / d + 1;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}
