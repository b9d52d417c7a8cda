// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {LossKind, MarketParams} from "./ClearingHouseTypes.sol";

/// @title IClearingHouseEvents
/// @notice Events of the clearing house and its libraries: one after every state change a user or keeper cares
/// about. Amounts are 18 decimals unless the event says token decimals.
interface IClearingHouseEvents {
    /// @notice `from` paid `amount` (token decimals) into `account`.
    event Deposited(address indexed account, address indexed from, uint256 amount);
    /// @notice `account` took `amount` (token decimals) out.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice A market was listed with these parameters.
    event MarketListed(uint256 indexed marketId, MarketParams params);
    /// @notice A market's parameters were replaced.
    event MarketParamsUpdated(uint256 indexed marketId, MarketParams params);
    /// @notice The insurance share of trading fees changed.
    event InsuranceFeeShareUpdated(uint256 share);
    /// @notice A market's funding index was brought up to date.
    /// @param fundingIndex The new cumulative index.
    /// @param fundingRate The clamped daily rate applied.
    event FundingAccrued(uint256 indexed marketId, int256 fundingIndex, int256 fundingRate, uint256 oraclePrice);
    /// @notice Funding of one position was settled into its account's collateral.
    /// @param amount Funding the account paid (negative: received), 18 decimals.
    event FundingSettled(address indexed account, uint256 indexed marketId, int256 amount);
    /// @notice A position changed through a fill. `realizedPnl` and `fee` are already applied to collateral.
    event PositionChanged(
        address indexed account,
        uint256 indexed marketId,
        int256 size,
        int256 openNotional,
        int256 realizedPnl,
        uint256 fee
    );
    /// @notice `size` of an order was filled at `price` (the order's limit price).
    event OrderFilled(
        bytes32 indexed orderHash,
        address indexed maker,
        address indexed taker,
        uint256 marketId,
        bool makerIsBuy,
        uint256 size,
        uint256 price
    );
    /// @notice The maker cancelled one order.
    event OrderCancelledByMaker(bytes32 indexed orderHash, address indexed maker);
    /// @notice The maker invalidated every order with a nonce below `minValidNonce`.
    event NoncesInvalidated(address indexed maker, uint256 minValidNonce);
    /// @notice Trading fees were charged on a fill.
    /// @param toInsurance Part of `fee` set aside for the insurance fund; the rest is protocol revenue.
    event FeesCollected(uint256 indexed marketId, uint256 fee, uint256 toInsurance);
    /// @notice Protocol fee revenue (token decimals) left for `to`.
    event ProtocolFeesWithdrawn(address indexed to, uint256 amount);
    /// @notice Step 1 of the waterfall: `liquidator` took `size` (signed, the account's side) of the account's
    /// position at the oracle price moved by `reward` in its favour; `fee` went to the insurance fund. For a
    /// bankrupt account the price is the oracle's and `reward` is what the fund paid the liquidator, after the
    /// deficit.
    event Liquidated(
        address indexed account,
        address indexed liquidator,
        uint256 indexed marketId,
        int256 size,
        uint256 oraclePrice,
        uint256 reward,
        uint256 fee,
        bool bankrupt
    );
    /// @notice Step 2: the insurance fund paid `amount` to `recipient`: the bankrupt account's deficit, or
    /// the liquidator's reward for a bankrupt account.
    event InsuranceFundDrawn(address indexed account, address indexed recipient, uint256 amount);
    /// @notice The fund could not pay a bankrupt account's deficit in an ADL market: it waits for
    /// autoDeleverage, each step of which first draws what the fund can pay then. Withdrawals on the
    /// counterparties' side wait meanwhile.
    /// @param fundAvailable What the fund (with the fees set aside for it) could have paid when the case opened.
    event DeleverageRequired(
        address indexed account,
        uint256 indexed marketId,
        uint256 shortfall,
        uint256 fundAvailable
    );
    /// @notice Step 3 (ADL): `size` of the bankrupt position closed against `counterparty` at `price`; the
    /// counterparty gave up `loss` against the oracle. `score` is its ADL score before the trade.
    event Deleveraged(
        address indexed account,
        address indexed counterparty,
        uint256 indexed marketId,
        uint256 size,
        uint256 price,
        uint256 loss,
        uint256 score
    );
    /// @notice Step 3 (socialized): `amount` charged to every position of one side, `indexDelta` per unit.
    event LossSocialized(uint256 indexed marketId, bool longSide, uint256 amount, uint256 indexDelta);
    /// @notice A position's share of socialized losses was settled into its account's collateral.
    event SocialLossSettled(address indexed account, uint256 indexed marketId, uint256 amount);
    /// @notice Step 3 (haircut): `amount` taken from the profit of one side, the fraction `rate` of each position's
    /// profit at the oracle price (18 decimals); `netProfit` was the side's net unrealized profit then.
    event ProfitHaircut(uint256 indexed marketId, bool longSide, uint256 amount, uint256 netProfit, uint256 rate);
    /// @notice A position's share of profit haircuts was settled into its account's collateral.
    event ProfitHaircutSettled(address indexed account, uint256 indexed marketId, uint256 amount);
    /// @notice Receipt of one bad-debt resolution: shortfall = fundPaid + deleveraged + socialized + haircut, to the
    /// wei. `haircut` was taken from the other side's profit (policy Haircut); `socialized` is what that profit could
    /// not cover, or the whole rest in a socialized market.
    event BadDebtResolved(
        address indexed account,
        uint256 indexed marketId,
        uint256 shortfall,
        uint256 fundPaid,
        uint256 deleveraged,
        uint256 socialized,
        uint256 socializedPerUnit,
        uint256 haircut
    );
    /// @notice A default-fund assessment of `amount` (token decimals) was taken from `member`'s collateral.
    event AssessmentCollected(address indexed member, uint256 amount);
    /// @notice Fees set aside for the insurance fund were paid to it (token decimals).
    event InsuranceFeesSwept(uint256 amount);
    /// @notice Loss event `eventId` took `amount` (18 decimals) from traders on one side of a market; it is repaid
    /// from claim inflows after every earlier event (ClaimsLib).
    event LossEventRecorded(
        uint256 indexed eventId,
        uint256 indexed marketId,
        LossKind kind,
        bool longSide,
        uint256 amount
    );
    /// @notice `account` paid `paid` (18 decimals) to loss events of `kind` in `marketId`: its claim record `record`.
    event ClaimRecorded(address indexed account, uint256 indexed record, LossKind kind, uint256 marketId, uint256 paid);
    /// @notice `amount` (18 decimals) of inflow went to the claims of `pool` (0 the shared pool, 1 + m isolated market
    /// m's); `totalInflow` is that pool's cumulative figure.
    event ClaimsFunded(uint256 indexed pool, uint256 amount, uint256 totalInflow);
    /// @notice `amount` (18 decimals) of claim record `record` was repaid into `account`'s collateral.
    event ClaimRepaid(address indexed account, uint256 indexed record, uint256 amount);
    /// @notice The insurance fund was connected.
    event InsuranceFundSet(address fund);
    /// @notice Market `marketId` was listed isolated, with `fund` as its own insurance fund.
    event IsolatedMarketListed(uint256 indexed marketId, address fund);
    /// @notice `fund` marked `account` as its clearing member (`member` true, on joining) or cleared the mark (on
    /// leaving): a marked account keeps its assessment reserve in fills and withdrawals.
    event MemberMarked(address indexed account, address indexed fund, bool member);
    /// @notice `amount` (token decimals) of an isolated market's fee pot went to its own fund.
    event IsolatedFeesSwept(uint256 indexed marketId, uint256 amount);
    /// @notice The time after which a stuck deleverage case may be socialized changed.
    event DeleverageTimeoutUpdated(uint256 timeout);
    /// @notice Item `index` of a {IClearingHouse.batch} failed with revert data `reason` (its changes undone; the
    /// other items ran).
    event BatchItemFailed(uint256 index, bytes reason);
}
