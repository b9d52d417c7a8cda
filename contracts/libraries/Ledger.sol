// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

import {
    DeleverageCase,
    EntryBook,
    HaircutSide,
    ClaimRecord,
    ClaimsPool,
    HaircutSnapshot,
    IsolatedPool,
    LossEvent,
    LossPolicy,
    MarketParams,
    MarketState,
    Position
} from "../interfaces/ClearingHouseTypes.sol";
import {IClearingHouseErrors} from "../interfaces/IClearingHouseErrors.sol";
import {IClearingHouseEvents} from "../interfaces/IClearingHouseEvents.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {FundingMath} from "./FundingMath.sol";
import {AllocationLogic} from "./AllocationLogic.sol";
import {MarketSet} from "./MarketSet.sol";
import {PositionMath} from "./PositionMath.sol";

/// @notice All state of the clearing house, in one struct so that the contract and its external
/// {LiquidationLogic} library work on the same storage.
struct Ledger {
    /// Per listed market, by id (0 .. marketCount − 1). Mappings, not arrays: an array access reads its length for
    /// the bound check, a cold slot per operation. An unlisted id reads as zeros, so every entry taking a market id
    /// checks the listing ({LedgerLib.market}: a listed market's feed is never zero).
    mapping(uint256 marketId => MarketParams) marketParams;
    mapping(uint256 marketId => MarketState) marketStates;
    /// Number of markets listed; the next market's id.
    uint256 marketCount;
    /// Per account: settled collateral and the clearing-member mark, one slot (see {Account}).
    mapping(address account => Account) accounts;
    mapping(address account => mapping(uint256 marketId => Position)) positions;
    /// Markets in which the account has a non-zero position, as a {MarketSet} bitmap.
    mapping(address account => uint256) openMarkets;
    mapping(address account => DeleverageCase) deleverageCases;
    mapping(bytes32 orderHash => uint256) filled;
    mapping(bytes32 orderHash => bool) cancelled;
    mapping(address maker => uint256) minValidNonce;
    /// Both fee pots share a slot: every fill writes both.
    uint128 protocolFees;
    uint128 insuranceFees;
    uint256 insuranceFeeShare;
    IInsuranceFund insuranceFund;
    uint32 openDeleverageCases;
    uint64 deleverageTimeout;
    /// Profit-haircut state per market, [0] long side, [1] short side (HaircutLib).
    mapping(uint256 marketId => HaircutSide[2]) haircutSides;
    mapping(address account => mapping(uint256 marketId => HaircutSnapshot)) haircutSnapshots;
    /// Haircut and ADL markets: each side's positions by entry-price bucket, [0] long, [1] short (EntryBookLib).
    mapping(uint256 marketId => EntryBook[2]) entryBooks;
    /// Haircut markets: per side, a Fenwick tree indexed by 1 + the charge price's entry bucket of each charge's
    /// (rate, rate × price), packed as (low 128 bits, high 128 bits) (HaircutLib).
    mapping(uint256 marketId => mapping(uint256 side => mapping(uint256 node => uint256))) haircutCharges;
    /// Claims (ClaimsLib): every loss event in order, each with its pool and its start within the pool.
    LossEvent[] lossEvents;
    /// Per loss event: Σ of its payers' shares, the denominator of its pro-rata split; 0 for an ADL step, whose one
    /// share is its total.
    mapping(uint256 eventId => uint256) lossEventShares;
    /// Per claims pool (0 shared, 1 + m isolated market m): Σ its events' totals, Σ inflows applied to it (both 18
    /// decimals) and its number of events.
    mapping(uint256 pool => ClaimsPool) claimsPools;
    mapping(address account => ClaimRecord[]) claimRecords;
    /// Records before this index are repaid in full.
    mapping(address account => uint256) claimCursor;
    /// Per market side, [0] long [1] short: the j-th haircut charge (1-based) as (event id, bucket, rate, rate × price)
    /// packed in 32, 16, 64 and 128 bits.
    mapping(uint256 marketId => mapping(uint256 side => mapping(uint256 charge => uint256))) haircutEvents;
    /// Per market side: the j-th socialization (1-based) as (event id, the side's social-loss index after it) packed
    /// in 32 and 224 bits, and their count.
    mapping(uint256 marketId => mapping(uint256 side => mapping(uint256 j => uint256))) socialEvents;
    mapping(uint256 marketId => uint256[2]) socialEventCount;
    /// Isolated markets (FundDrawLib picks the pot and fund): the set of them as a {MarketSet} bitmap, each one's
    /// fund and fee pot, and which addresses are an isolated market's fund (one market each, never the shared fund).
    uint256 isolatedMarkets;
    mapping(uint256 marketId => IsolatedPool) isolatedPools;
    /// Per isolated market's fund: its market id + 1 (0: not an isolated market's fund).
    mapping(address fund => uint256) isolatedFunds;
}

/// @notice One account's settled collateral and its clearing-member mark, packed in one slot: every fill and
/// withdrawal reads the collateral anyway, so the mark costs an account that is no member nothing (MemberReserveLib).
struct Account {
    /// Settled collateral (18 decimals).
    int240 collateral;
    /// The fund whose clearing member the account is: 0 none, 1 the shared fund, 2 + m isolated market m's fund.
    uint16 memberOf;
}

/// @notice Margin summary computed from the ledger at oracle prices, pending funding and social loss included.
struct Health {
    int256 equity;
    uint256 initialMargin;
    uint256 maintenanceMargin;
    /// Funding plus social loss owed and not yet settled.
    int256 pendingCharges;
}

/// @notice Oracle prices read during one call into the clearing house, by market, so that each market's feed is
/// called once per call however many times the call values it (issue 15). Lives in memory for that call only: a
/// price read in one call is never used by another, even in the same transaction.
struct Prices {
    IOracleAdapter oracle;
    /// Entries filled so far; when all are taken, further markets are read from the oracle each time.
    uint256 count;
    /// Each entry is price << 8 | market id (ids are below 256; a price of 2^248 or more is not kept).
    uint256[32] entries;
}

/// @title LedgerLib
/// @notice Accounting shared by trading and liquidation: pricing, funding accrual, settlement of funding and
/// socialized loss on touch, position changes with open interest, and margin.
/// @dev Social loss. Each market keeps a cumulative loss index per side: socializing an amount R over a side
/// with open interest OI raises that side's index by ⌈R / OI⌉ per unit, in constant gas. A position owes
/// ⌈|size| × (index − lastIndex)⌉ and pays it the next time it is touched; views show it before. Rounding
/// up in both places means the side pays at least R in total, never less.
library LedgerLib {
    using SafeCast for uint256;
    using SafeCast for int256;
    using FixedPointMath for uint256;

    /// @dev Most markets one account may hold positions in; bounds the cost of every margin check.
    uint256 internal constant MAX_OPEN_MARKETS = 16;

    /// @dev A market's parameters; reverts for an id that was never listed. Listing and updates refuse a zero feed
    /// (MarketParamsLib), so a zero feed means the id is unlisted: the check costs no read the copy does not make.
    function market(Ledger storage ledger, uint256 marketId) internal view returns (MarketParams memory params) {
        params = paramsOf(ledger, marketId);
        if (address(params.oracleFeed) == address(0)) revert IClearingHouseErrors.UnknownMarket(marketId);
    }

    /// @dev A listed market's parameters in memory. The one storage-to-memory copy of MarketParams in the code that
    /// links into ClearingHouse: the compiler inlines a struct copy at every site, so sites share this one.
    function paramsOf(Ledger storage ledger, uint256 marketId) internal view returns (MarketParams memory) {
        return ledger.marketParams[marketId];
    }

    function price(IOracleAdapter oracle, MarketParams memory params) internal view returns (uint256) {
        return oracle.getPrice(params.oracleFeed, params.oracleHeartbeat);
    }

    /// @dev An empty price cache for one call.
    function pricesFrom(IOracleAdapter oracle) internal pure returns (Prices memory prices) {
        prices.oracle = oracle;
    }

    /// @dev The market's oracle price, read from the oracle the first time in this call and from `prices` after.
    /// A linear search: a call values at most the account's and the liquidator's markets (2 × MAX_OPEN_MARKETS).
    function priceOf(
        Prices memory prices,
        uint256 marketId,
        MarketParams memory params
    ) internal view returns (uint256 value) {
        uint256 count = prices.count;
        for (uint256 k; k < count; ++k) {
            uint256 entry = prices.entries[k];
            if (uint8(entry) == marketId) return entry >> 8;
        }
        value = price(prices.oracle, params);
        if (count < 32 && value >> 248 == 0) {
            prices.entries[count] = (value << 8) | marketId;
            prices.count = count + 1;
        }
    }

    /// @dev Adds `delta` (18 decimals, signed) to the account's settled collateral.
    function addCollateral(Ledger storage ledger, address account, int256 delta) internal {
        Account storage slot = ledger.accounts[account];
        slot.collateral = (slot.collateral + delta).toInt240();
    }

    // ---------------------------------------------------------------- funding and social loss

    /// @dev Brings a market's funding index up to now along the decaying premium average.
    function accrueFunding(
        Ledger storage ledger,
        uint256 marketId,
        MarketParams memory params,
        uint256 oraclePrice
    ) internal {
        MarketState storage state = ledger.marketStates[marketId];
        if (block.timestamp == state.lastFundingTime) return;
        int256 index = currentFundingIndex(ledger, marketId, params, oraclePrice);
        state.fundingIndex = index.toInt128();
        state.lastFundingTime = uint64(block.timestamp);
        emit IClearingHouseEvents.FundingAccrued(marketId, index, fundingRate(state, params), oraclePrice);
    }

    /// @dev The funding index a market would have if accrued now. The average was set at lastPremiumTime, never
    /// after lastFundingTime (every write of it follows an accrual), so both ages are non-negative.
    function currentFundingIndex(
        Ledger storage ledger,
        uint256 marketId,
        MarketParams memory params,
        uint256 oraclePrice
    ) internal view returns (int256) {
        MarketState storage state = ledger.marketStates[marketId];
        uint256 setAt = state.lastPremiumTime;
        return
            state.fundingIndex +
            FundingMath.indexGrowth(
                state.premiumEma,
                params.maxFundingRate,
                oraclePrice,
                state.lastFundingTime - setAt,
                block.timestamp - setAt
            );
    }

    /// @dev The daily funding rate now: the premium average fallen since it was set, within the clamp.
    function fundingRate(MarketState storage state, MarketParams memory params) internal view returns (int256) {
        int256 ema = FundingMath.decayedPremium(
            state.premiumEma,
            params.maxFundingRate,
            block.timestamp - state.lastPremiumTime
        );
        return FundingMath.clampedRate(ema, params.maxFundingRate);
    }

    /// @dev The social-loss index of the side of `size` (uint128: indices enter only through the checked cast of
    /// LiquidationLogic's socialization, so the positions' copies need none).
    function socialLossIndex(MarketState storage state, int256 size) internal view returns (uint128) {
        return size > 0 ? state.longSocialLossIndex : state.shortSocialLossIndex;
    }

    /// @notice Social loss a position owes since its last settlement, rounded up.
    function socialLossOwed(Position memory position, uint256 index) internal pure returns (uint256) {
        if (position.size == 0) return 0;
        return SignedMath.abs(position.size).mulWadUp(index - position.lastSocialLossIndex);
    }

    /// @dev Settles funding (the market must be accrued), social loss and, in a haircut market, profit haircut of one
    /// position into collateral.
    function settle(Ledger storage ledger, address account, uint256 marketId) internal {
        Position storage position = ledger.positions[account][marketId];
        MarketState storage state = ledger.marketStates[marketId];
        int256 size = position.size;
        int256 index = state.fundingIndex;
        int256 fundingOwed = FundingMath.owed(size, position.lastFundingIndex, index);
        position.lastFundingIndex = index.toInt128();
        if (fundingOwed != 0) {
            addCollateral(ledger, account, -fundingOwed);
            emit IClearingHouseEvents.FundingSettled(account, marketId, fundingOwed);
        }
        if (size == 0) return;
        if (isHaircutMarket(ledger, marketId)) {
            AllocationLogic.settle(ledger, account, marketId, size, position.openNotional);
        }
        uint128 lossIndex = socialLossIndex(state, size);
        uint128 lastLossIndex = position.lastSocialLossIndex;
        if (lossIndex == lastLossIndex) return;
        position.lastSocialLossIndex = lossIndex;
        // Linked: the payment is also a claim record (ClaimsLib), kept out of the clearing house's bytes.
        AllocationLogic.settleSocialLoss(ledger, account, marketId, size, lastLossIndex, lossIndex);
    }

    /// @dev Whether the market's loss policy is Haircut: only those keep side cost bases and haircut snapshots.
    function isHaircutMarket(Ledger storage ledger, uint256 marketId) internal view returns (bool) {
        return ledger.marketParams[marketId].lossPolicy == LossPolicy.Haircut;
    }

    /// @dev Accrues every market the account holds and settles its positions there.
    function settleAll(Ledger storage ledger, Prices memory prices, address account) internal {
        for (uint256 open = ledger.openMarkets[account]; open != 0; open = MarketSet.dropFirst(open)) {
            uint256 marketId = MarketSet.first(open);
            MarketParams memory params = paramsOf(ledger, marketId);
            accrueFunding(ledger, marketId, params, priceOf(prices, marketId, params));
            settle(ledger, account, marketId);
        }
    }

    // ---------------------------------------------------------------- positions

    /// @dev Settles the position, then moves it by `sizeDelta` at `notional` and charges `fee`; keeps open
    /// interest, the open-market set and the social-loss snapshot in step. The market's funding must be
    /// accrued. Returns the size before and whether the change only reduced the position.
    function applyFill(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        int256 sizeDelta,
        uint256 notional,
        uint256 fee
    ) internal returns (int256 sizeBefore, bool onlyReduces) {
        settle(ledger, account, marketId);
        Position storage position = ledger.positions[account][marketId];
        sizeBefore = position.size;
        int256 openNotionalBefore = position.openNotional;
        (int256 sizeAfter, int256 openNotional, int256 realizedPnl) = PositionMath.applyFill(
            sizeBefore,
            openNotionalBefore,
            sizeDelta,
            notional
        );
        // The entry bucket moves with the entry price: the book (the ADL order, the haircut's winners) and a
        // haircut snapshot follow it. Linked, to keep the clearing house under the size limit.
        LossPolicy policy = ledger.marketParams[marketId].lossPolicy;
        if (policy != LossPolicy.Socialized) {
            AllocationLogic.afterFill(
                ledger,
                account,
                marketId,
                sizeBefore,
                openNotionalBefore,
                sizeAfter,
                openNotional,
                policy == LossPolicy.Haircut
            );
        }

        position.size = sizeAfter.toInt128();
        position.openNotional = openNotional.toInt128();
        // A position that opens or changes side starts owing that side's social loss from now on.
        if (sizeAfter != 0 && (sizeBefore == 0 || (sizeBefore > 0) != (sizeAfter > 0))) {
            position.lastSocialLossIndex = socialLossIndex(ledger.marketStates[marketId], sizeAfter);
        }
        addCollateral(ledger, account, realizedPnl - fee.toInt256());
        _updateOpenInterest(ledger.marketStates[marketId], sizeBefore, sizeAfter);
        _updateOpenMarkets(ledger, account, marketId, sizeBefore, sizeAfter);
        emit IClearingHouseEvents.PositionChanged(account, marketId, sizeAfter, openNotional, realizedPnl, fee);
        onlyReduces = PositionMath.isReducing(sizeBefore, sizeAfter);
    }

    function _updateOpenInterest(MarketState storage state, int256 sizeBefore, int256 sizeAfter) private {
        state.longOpenInterest = (state.longOpenInterest +
            FixedPointMath.positivePart(sizeAfter) -
            FixedPointMath.positivePart(sizeBefore)).toUint128();
        state.shortOpenInterest = (state.shortOpenInterest +
            FixedPointMath.positivePart(-sizeAfter) -
            FixedPointMath.positivePart(-sizeBefore)).toUint128();
    }

    function _updateOpenMarkets(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        int256 sizeBefore,
        int256 sizeAfter
    ) private {
        if (sizeBefore == 0 && sizeAfter != 0) {
            uint256 open = ledger.openMarkets[account];
            // Isolation: an account holding a position in an isolated market holds no other market, so that a
            // default's deficit belongs to exactly one market (dYdX v4 keeps isolated positions in subaccounts).
            if (open != 0 && ledger.isolatedMarkets & (open | (1 << marketId)) != 0) {
                revert IClearingHouseErrors.IsolatedMarketConflict(account, marketId, MarketSet.first(open));
            }
            if (MarketSet.count(open) == MAX_OPEN_MARKETS) {
                revert IClearingHouseErrors.TooManyOpenMarkets(account, MAX_OPEN_MARKETS);
            }
            ledger.openMarkets[account] = MarketSet.add(open, marketId);
        } else if (sizeBefore != 0 && sizeAfter == 0) {
            ledger.openMarkets[account] = MarketSet.remove(ledger.openMarkets[account], marketId);
        }
    }

    // ---------------------------------------------------------------- margin

    /// @dev Equity and requirements of an account at oracle prices, pending funding and social loss included.
    function health(
        Ledger storage ledger,
        IOracleAdapter oracle,
        address account
    ) internal view returns (Health memory) {
        return health(ledger, pricesFrom(oracle), account);
    }

    /// @dev {health} with the prices already read in this call.
    function health(
        Ledger storage ledger,
        Prices memory prices,
        address account
    ) internal view returns (Health memory h) {
        h.equity = ledger.accounts[account].collateral;
        for (uint256 open = ledger.openMarkets[account]; open != 0; open = MarketSet.dropFirst(open)) {
            uint256 marketId = MarketSet.first(open);
            MarketParams memory params = paramsOf(ledger, marketId);
            Position memory position = ledger.positions[account][marketId];
            uint256 oraclePrice = priceOf(prices, marketId, params);
            int256 charges =
                FundingMath.owed(
                    position.size,
                    position.lastFundingIndex,
                    currentFundingIndex(ledger, marketId, params, oraclePrice)
                ) + socialLossOwed(position, socialLossIndex(ledger.marketStates[marketId], position.size)).toInt256();
            if (params.lossPolicy == LossPolicy.Haircut) {
                charges += AllocationLogic
                    .owed(ledger, account, marketId, position.size, position.openNotional)
                    .toInt256();
            }
            uint256 notional = PositionMath.notionalAt(position.size, oraclePrice);
            h.equity += PositionMath.unrealizedPnl(position.size, position.openNotional, oraclePrice) - charges;
            h.pendingCharges += charges;
            h.initialMargin += notional.mulWadUp(params.initialMarginRatio);
            h.maintenanceMargin += notional.mulWadUp(params.maintenanceMarginRatio);
        }
    }

    /// @dev What `account` could withdraw now: its collateral less pending charges, at most its equity above
    /// initial margin (18 decimals).
    function freeCollateral(Ledger storage ledger, address account, Health memory h) internal view returns (uint256) {
        int256 withdrawable = ledger.accounts[account].collateral - h.pendingCharges;
        int256 excess = h.equity - h.initialMargin.toInt256();
        return FixedPointMath.positivePart(withdrawable < excess ? withdrawable : excess);
    }

    function requireInitialMargin(Ledger storage ledger, Prices memory prices, address account) internal view {
        Health memory h = health(ledger, prices, account);
        if (h.equity < h.initialMargin.toInt256()) {
            revert IClearingHouseErrors.InsufficientMargin(account, h.equity, h.initialMargin);
        }
    }

    /// @dev A change that only reduces a position is allowed below initial margin, so that traders can cut
    /// risk, but never into negative equity: a bankrupt account could otherwise close at the band's far edge
    /// and hand unbacked value to a colluding counterparty. Its losses belong to liquidation.
    function requireMarginAfterFill(
        Ledger storage ledger,
        Prices memory prices,
        address account,
        bool onlyReduces
    ) internal view {
        if (!onlyReduces) return requireInitialMargin(ledger, prices, account);
        Health memory h = health(ledger, prices, account);
        if (h.equity < 0) revert IClearingHouseErrors.NegativeEquity(account, h.equity);
    }

    /// @dev A fill may neither change a position on a side with an open deleverage case (add to it, reduce it,
    /// leave it or join it): the case's counterparties are those on the side when it opened, and they stay
    /// there, locked, until autoDeleverage or the timeout's socialization charges them.
    function requireSideNotFrozen(
        Ledger storage ledger,
        uint256 marketId,
        int256 sizeBefore,
        int256 sizeAfter
    ) internal view {
        MarketState storage state = ledger.marketStates[marketId];
        bool longChanges = FixedPointMath.positivePart(sizeBefore) != FixedPointMath.positivePart(sizeAfter);
        if (longChanges && state.longDeleverageCases != 0)
            revert IClearingHouseErrors.SideFrozenByDeleverage(marketId, true);
        bool shortChanges = FixedPointMath.positivePart(-sizeBefore) != FixedPointMath.positivePart(-sizeAfter);
        if (shortChanges && state.shortDeleverageCases != 0) {
            revert IClearingHouseErrors.SideFrozenByDeleverage(marketId, false);
        }
    }

    /// @dev Whether withdrawals of `account` must wait for a deleverage case on its side of any market.
    function requireNoDeleverageLock(Ledger storage ledger, address account) internal view {
        for (uint256 open = ledger.openMarkets[account]; open != 0; open = MarketSet.dropFirst(open)) {
            uint256 marketId = MarketSet.first(open);
            MarketState storage state = ledger.marketStates[marketId];
            uint256 cases =
                ledger.positions[account][marketId].size > 0 ? state.longDeleverageCases : state.shortDeleverageCases;
            if (cases != 0) revert IClearingHouseErrors.WithdrawalLockedByDeleverage(account, marketId);
        }
    }
}
