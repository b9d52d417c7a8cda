// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {
    IClearingHouse,
    AccountHealth,
    MarketParams,
    MarketState,
    Order,
    Position,
    PositionView
} from "./interfaces/IClearingHouse.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {FixedPointMath} from "./libraries/FixedPointMath.sol";
import {FundingMath} from "./libraries/FundingMath.sol";
import {MarketParamsLib} from "./libraries/MarketParamsLib.sol";
import {MarketSet} from "./libraries/MarketSet.sol";
import {OrderLib} from "./libraries/OrderLib.sol";
import {PositionMath} from "./libraries/PositionMath.sol";

/// @title ClearingHouse
/// @notice Holds margin, matches signed orders peer to peer, accrues funding. See {IClearingHouse}.
/// @dev Collateral is kept per account as a signed 18-decimal balance. Unrealized PnL and funding are not
/// in it until a position is touched; every view adds them at the oracle price. Token amounts convert to
/// 18 decimals by an exact multiplication, and only whole token units leave the contract, so the
/// contract's token balance always covers Σ equity + fees held (see PositionMath and FundingMath for why
/// trading and funding cannot create value).
contract ClearingHouse is IClearingHouse, AccessControl, Pausable, ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;
    using FixedPointMath for uint256;
    using MarketParamsLib for MarketParams;

    /// @notice Lists markets and moves their parameters inside the hard bounds.
    bytes32 public constant RISK_MANAGER_ROLE = keccak256("RISK_MANAGER_ROLE");
    /// @notice Pauses and unpauses deposits and trading.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Withdraws protocol fee revenue.
    bytes32 public constant TREASURY_ROLE = keccak256("TREASURY_ROLE");

    /// @notice Most markets one account may hold positions in; bounds the cost of every margin check.
    uint256 public constant MAX_OPEN_MARKETS = 16;
    /// @notice Most markets that can be listed: ids must fit the 256-bit {MarketSet}.
    uint256 public constant MAX_MARKETS = 256;

    IERC20 private immutable _token;
    IOracleAdapter private immutable _oracle;
    /// @dev 10^(18 − token decimals): token units → 18-decimal units.
    uint256 private immutable _scale;

    MarketParams[] private _marketParams;
    MarketState[] private _marketStates;

    mapping(address account => int256) private _collateral;
    mapping(address account => mapping(uint256 marketId => Position)) private _positions;
    /// @dev Markets in which the account has a non-zero position, as a {MarketSet} bitmap.
    mapping(address account => uint256) private _openMarkets;

    mapping(bytes32 orderHash => uint256) private _filled;
    mapping(bytes32 orderHash => bool) private _cancelled;
    /// @inheritdoc IClearingHouse
    mapping(address maker => uint256) public minValidNonce;

    /// @dev Both fee pots share a slot: every fill writes both.
    uint128 private _protocolFees;
    uint128 private _insuranceFees;
    /// @inheritdoc IClearingHouse
    uint256 public insuranceFeeShare;

    /// @param token_ The collateral token (at most 18 decimals, no fee on transfer).
    /// @param oracle_ The oracle adapter.
    /// @param admin Receives the admin role, which grants the others.
    /// @param insuranceFeeShare_ Share of trading fees set aside for the insurance fund (18 decimals).
    constructor(
        IERC20Metadata token_,
        IOracleAdapter oracle_,
        address admin,
        uint256 insuranceFeeShare_
    ) EIP712("Backstop", "1") {
        if (address(token_) == address(0)) revert InvalidAddress(address(0));
        if (address(oracle_) == address(0)) revert InvalidAddress(address(0));
        if (admin == address(0)) revert InvalidAddress(address(0));
        uint8 decimals = token_.decimals();
        if (decimals > 18) revert UnsupportedTokenDecimals(decimals);
        _token = IERC20(address(token_));
        _oracle = oracle_;
        _scale = 10 ** (18 - decimals);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setInsuranceFeeShare(insuranceFeeShare_);
    }

    // ================================================================ collateral

    /// @inheritdoc IClearingHouse
    function deposit(uint256 amount) external {
        depositFor(msg.sender, amount);
    }

    /// @inheritdoc IClearingHouse
    function depositFor(address account, uint256 amount) public nonReentrant whenNotPaused {
        if (amount == 0) revert ZeroAmount();
        if (account == address(0)) revert InvalidAddress(account);
        _pullExact(msg.sender, amount);
        _collateral[account] += (amount * _scale).toInt256();
        emit Deposited(account, msg.sender, amount);
    }

    /// @inheritdoc IClearingHouse
    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        address account = msg.sender;
        _settleAllFunding(account);

        uint256 debit = amount * _scale;
        int256 available = _collateral[account];
        if (available < debit.toInt256()) revert InsufficientCollateral(account, available, debit);
        _collateral[account] = available - debit.toInt256();
        _requireInitialMargin(account);

        _token.safeTransfer(account, amount);
        emit Withdrawn(account, amount);
    }

    // ================================================================ trading

    /// @inheritdoc IClearingHouse
    function fillOrder(
        Order calldata order,
        bytes calldata signature,
        uint256 fillSize
    ) external nonReentrant whenNotPaused returns (bytes32 orderHash) {
        if (fillSize == 0) revert ZeroAmount();
        MarketParams memory params = _market(order.marketId);
        if (msg.sender == order.maker) revert SelfTrade(msg.sender);
        orderHash = _hashTypedDataV4(OrderLib.structHash(order));
        _consumeOrder(order, orderHash, signature, fillSize);
        _executeFill(order, orderHash, params, fillSize);
        emit OrderFilled(orderHash, order.maker, msg.sender, order.marketId, order.isBuy, fillSize, order.limitPrice);
    }

    /// @inheritdoc IClearingHouse
    function cancelOrder(Order calldata order) external {
        if (msg.sender != order.maker) revert NotOrderMaker(msg.sender, order.maker);
        bytes32 orderHash = _hashTypedDataV4(OrderLib.structHash(order));
        if (_cancelled[orderHash]) revert OrderCancelled(orderHash);
        _cancelled[orderHash] = true;
        emit OrderCancelledByMaker(orderHash, order.maker);
    }

    /// @inheritdoc IClearingHouse
    function cancelOrdersBelowNonce(uint256 newMinValidNonce) external {
        uint256 current = minValidNonce[msg.sender];
        if (newMinValidNonce <= current) revert NonceNotIncreasing(current, newMinValidNonce);
        minValidNonce[msg.sender] = newMinValidNonce;
        emit NoncesInvalidated(msg.sender, newMinValidNonce);
    }

    // ================================================================ administration

    /// @inheritdoc IClearingHouse
    function listMarket(MarketParams calldata params) external onlyRole(RISK_MANAGER_ROLE) returns (uint256 marketId) {
        if (_marketParams.length == MAX_MARKETS) revert MarketLimitReached(MAX_MARKETS);
        params.validate();
        // A feed that cannot answer now would make the market untradeable; refuse it at listing.
        _oracle.getPrice(params.oracleFeed, params.oracleHeartbeat);
        marketId = _marketParams.length;
        _marketParams.push(params);
        _marketStates.push(
            MarketState({
                fundingIndex: 0,
                premiumEma: 0,
                longOpenInterest: 0,
                shortOpenInterest: 0,
                lastFundingTime: uint64(block.timestamp),
                lastPremiumTime: uint64(block.timestamp)
            })
        );
        emit MarketListed(marketId, params);
    }

    /// @inheritdoc IClearingHouse
    function updateMarketParams(uint256 marketId, MarketParams calldata params) external onlyRole(RISK_MANAGER_ROLE) {
        MarketParams memory current = _market(marketId);
        if (params.lossPolicy != current.lossPolicy) revert LossPolicyImmutable(marketId);
        params.validate();
        // Funding up to now is owed at the old clamp. It is priced through the new feed, which must answer
        // anyway, so that a dead feed can still be replaced.
        _accrueFunding(marketId, current, _oracle.getPrice(params.oracleFeed, params.oracleHeartbeat));
        _marketParams[marketId] = params;
        emit MarketParamsUpdated(marketId, params);
    }

    /// @inheritdoc IClearingHouse
    function setInsuranceFeeShare(uint256 share) external onlyRole(RISK_MANAGER_ROLE) {
        _setInsuranceFeeShare(share);
    }

    /// @inheritdoc IClearingHouse
    function withdrawProtocolFees(address to, uint256 amount) external onlyRole(TREASURY_ROLE) nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (to == address(0)) revert InvalidAddress(to);
        uint256 debit = amount * _scale;
        uint256 available = _protocolFees;
        if (debit > available) revert InsufficientProtocolFees(available, debit);
        _protocolFees = uint128(available - debit);
        _token.safeTransfer(to, amount);
        emit ProtocolFeesWithdrawn(to, amount);
    }

    /// @inheritdoc IClearingHouse
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IClearingHouse
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ================================================================ views

    /// @inheritdoc IClearingHouse
    function collateralToken() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc IClearingHouse
    function oracle() external view returns (address) {
        return address(_oracle);
    }

    /// @inheritdoc IClearingHouse
    function accountHealth(address account) external view returns (AccountHealth memory health) {
        int256 fundingOwed;
        (health.equity, health.initialMargin, health.maintenanceMargin, fundingOwed) = _health(account);
        health.collateral = _collateral[account];
        int256 withdrawable = health.collateral - fundingOwed;
        int256 excess = health.equity - health.initialMargin.toInt256();
        health.freeCollateral = FixedPointMath.positivePart(withdrawable < excess ? withdrawable : excess);
    }

    /// @inheritdoc IClearingHouse
    function positionOf(address account, uint256 marketId) external view returns (PositionView memory view_) {
        MarketParams memory params = _market(marketId);
        Position memory position = _positions[account][marketId];
        uint256 price = _oracle.getPrice(params.oracleFeed, params.oracleHeartbeat);
        view_.size = position.size;
        view_.openNotional = position.openNotional;
        view_.markPrice = price;
        view_.unrealizedPnl = PositionMath.unrealizedPnl(position.size, position.openNotional, price);
        view_.fundingOwed = FundingMath.owed(
            position.size,
            position.lastFundingIndex,
            _currentFundingIndex(marketId, params, price)
        );
    }

    /// @inheritdoc IClearingHouse
    function openMarketsOf(address account) external view returns (uint256[] memory) {
        return MarketSet.toArray(_openMarkets[account]);
    }

    /// @inheritdoc IClearingHouse
    function collateralOf(address account) external view returns (int256) {
        return _collateral[account];
    }

    /// @inheritdoc IClearingHouse
    function marketParams(uint256 marketId) external view returns (MarketParams memory) {
        return _market(marketId);
    }

    /// @inheritdoc IClearingHouse
    function marketState(uint256 marketId) external view returns (MarketState memory state) {
        MarketParams memory params = _market(marketId);
        state = _marketStates[marketId];
        uint256 price = _oracle.getPrice(params.oracleFeed, params.oracleHeartbeat);
        state.fundingIndex = _currentFundingIndex(marketId, params, price).toInt128();
        state.lastFundingTime = uint64(block.timestamp);
    }

    /// @inheritdoc IClearingHouse
    function fundingRate(uint256 marketId) external view returns (int256) {
        MarketParams memory params = _market(marketId);
        return FundingMath.clampedRate(_marketStates[marketId].premiumEma, params.maxFundingRate);
    }

    /// @inheritdoc IClearingHouse
    function marketCount() external view returns (uint256) {
        return _marketParams.length;
    }

    /// @inheritdoc IClearingHouse
    function hashOrder(Order calldata order) external view returns (bytes32) {
        return _hashTypedDataV4(OrderLib.structHash(order));
    }

    /// @inheritdoc IClearingHouse
    function protocolFees() external view returns (uint256) {
        return _protocolFees;
    }

    /// @inheritdoc IClearingHouse
    function insuranceFees() external view returns (uint256) {
        return _insuranceFees;
    }

    /// @inheritdoc IClearingHouse
    function orderStatus(bytes32 orderHash) external view returns (uint256 filled, bool cancelled) {
        return (_filled[orderHash], _cancelled[orderHash]);
    }

    // ================================================================ internal: orders

    function _consumeOrder(
        Order calldata order,
        bytes32 orderHash,
        bytes calldata signature,
        uint256 fillSize
    ) private {
        if (block.timestamp > order.expiry) revert OrderExpired(orderHash, order.expiry);
        if (_cancelled[orderHash]) revert OrderCancelled(orderHash);
        uint256 minNonce = minValidNonce[order.maker];
        if (order.nonce < minNonce) revert OrderNonceInvalidated(order.maker, order.nonce, minNonce);
        uint256 filled = _filled[orderHash];
        if (filled + fillSize > order.size) revert OrderOverfill(orderHash, filled, fillSize, order.size);
        if (!SignatureChecker.isValidSignatureNow(order.maker, orderHash, signature)) {
            revert InvalidSignature(order.maker, orderHash);
        }
        _filled[orderHash] = filled + fillSize;
    }

    /// @dev Moves `fillSize` between maker and taker (the caller) at the order's price.
    function _executeFill(
        Order calldata order,
        bytes32 orderHash,
        MarketParams memory params,
        uint256 fillSize
    ) private {
        uint256 oraclePrice = _oracle.getPrice(params.oracleFeed, params.oracleHeartbeat);
        _requireInsideBand(order.limitPrice, oraclePrice, params.priceBand);
        _accrueFunding(order.marketId, params, oraclePrice);

        uint256 openInterestBefore = _marketStates[order.marketId].longOpenInterest;
        uint256 notional = fillSize.mulWad(order.limitPrice);
        int256 makerDelta = order.isBuy ? fillSize.toInt256() : -fillSize.toInt256();
        (int256 makerBefore, bool makerReduces) = _applyFill(
            order.maker,
            order.marketId,
            makerDelta,
            notional,
            params.makerFeeRatio
        );
        if (order.reduceOnly && !makerReduces) revert ReduceOnlyViolated(orderHash, makerBefore, makerDelta);
        (, bool takerReduces) = _applyFill(msg.sender, order.marketId, -makerDelta, notional, params.takerFeeRatio);

        _requireOpenInterestCap(order.marketId, openInterestBefore, params.maxOpenInterest);
        _takePremium(order.marketId, order.limitPrice, oraclePrice, fillSize, openInterestBefore);
        _requireMarginAfterFill(order.maker, makerReduces);
        _requireMarginAfterFill(msg.sender, takerReduces);
    }

    function _requireInsideBand(uint256 price, uint256 oraclePrice, uint256 band) private pure {
        uint256 distance = price > oraclePrice ? price - oraclePrice : oraclePrice - price;
        if (distance > oraclePrice.mulWad(band)) revert PriceOutsideBand(price, oraclePrice, band);
    }

    // ================================================================ internal: positions

    /// @dev Settles funding, applies the fill and its fee to one side, and keeps open interest and the
    /// account's list of open markets in step. Returns the size before and whether the fill only reduced it.
    function _applyFill(
        address account,
        uint256 marketId,
        int256 sizeDelta,
        uint256 notional,
        uint256 feeRatio
    ) private returns (int256 sizeBefore, bool onlyReduces) {
        Position storage position = _positions[account][marketId];
        _settleFunding(account, marketId, position, _marketStates[marketId].fundingIndex);

        sizeBefore = position.size;
        (int256 sizeAfter, int256 openNotional, int256 realizedPnl) = PositionMath.applyFill(
            sizeBefore,
            position.openNotional,
            sizeDelta,
            notional
        );
        uint256 fee = notional.mulWadUp(feeRatio);

        position.size = sizeAfter.toInt128();
        position.openNotional = openNotional.toInt128();
        _collateral[account] += realizedPnl - fee.toInt256();
        _collectFee(marketId, fee);
        _updateOpenInterest(marketId, sizeBefore, sizeAfter);
        _updateOpenMarkets(account, marketId, sizeBefore, sizeAfter);
        emit PositionChanged(account, marketId, sizeAfter, openNotional, realizedPnl, fee);
        onlyReduces = PositionMath.isReducing(sizeBefore, sizeAfter);
    }

    function _collectFee(uint256 marketId, uint256 fee) private {
        if (fee == 0) return;
        uint256 toInsurance = fee.mulWad(insuranceFeeShare);
        _insuranceFees += toInsurance.toUint128();
        _protocolFees += (fee - toInsurance).toUint128();
        emit FeesCollected(marketId, fee, toInsurance);
    }

    function _updateOpenInterest(uint256 marketId, int256 sizeBefore, int256 sizeAfter) private {
        MarketState storage state = _marketStates[marketId];
        state.longOpenInterest = (state.longOpenInterest +
            FixedPointMath.positivePart(sizeAfter) -
            FixedPointMath.positivePart(sizeBefore)).toUint128();
        state.shortOpenInterest = (state.shortOpenInterest +
            FixedPointMath.positivePart(-sizeAfter) -
            FixedPointMath.positivePart(-sizeBefore)).toUint128();
    }

    /// @dev A fill may not raise open interest above the cap; one that lowers it passes even above a lowered cap.
    function _requireOpenInterestCap(uint256 marketId, uint256 openInterestBefore, uint256 cap) private view {
        // Both sides are equal after a complete fill, so checking one suffices.
        uint256 openInterest = _marketStates[marketId].longOpenInterest;
        if (openInterest > cap && openInterest > openInterestBefore) {
            revert OpenInterestCapExceeded(marketId, openInterest, cap);
        }
    }

    function _updateOpenMarkets(address account, uint256 marketId, int256 sizeBefore, int256 sizeAfter) private {
        if (sizeBefore == 0 && sizeAfter != 0) {
            uint256 open = _openMarkets[account];
            if (MarketSet.count(open) == MAX_OPEN_MARKETS) revert TooManyOpenMarkets(account, MAX_OPEN_MARKETS);
            _openMarkets[account] = MarketSet.add(open, marketId);
        } else if (sizeBefore != 0 && sizeAfter == 0) {
            _openMarkets[account] = MarketSet.remove(_openMarkets[account], marketId);
        }
    }

    // ================================================================ internal: funding

    /// @dev Brings a market's funding index up to now at the current premium average.
    function _accrueFunding(uint256 marketId, MarketParams memory params, uint256 oraclePrice) private {
        MarketState storage state = _marketStates[marketId];
        uint256 elapsed = block.timestamp - state.lastFundingTime;
        if (elapsed == 0) return;
        int256 rate = FundingMath.clampedRate(state.premiumEma, params.maxFundingRate);
        int256 index = state.fundingIndex + FundingMath.indexGrowth(rate, oraclePrice, elapsed);
        state.fundingIndex = index.toInt128();
        state.lastFundingTime = uint64(block.timestamp);
        emit FundingAccrued(marketId, index, rate, oraclePrice);
    }

    function _takePremium(
        uint256 marketId,
        uint256 fillPrice,
        uint256 oraclePrice,
        uint256 fillSize,
        uint256 openInterestBefore
    ) private {
        MarketState storage state = _marketStates[marketId];
        uint256 elapsed = block.timestamp - state.lastPremiumTime;
        if (elapsed == 0) return;
        state.premiumEma = FundingMath
            .nextPremiumEma(state.premiumEma, fillPrice, oraclePrice, elapsed, fillSize, openInterestBefore)
            .toInt128();
        state.lastPremiumTime = uint64(block.timestamp);
    }

    function _settleFunding(address account, uint256 marketId, Position storage position, int256 index) private {
        int256 owed = FundingMath.owed(position.size, position.lastFundingIndex, index);
        position.lastFundingIndex = index.toInt128();
        if (owed == 0) return;
        _collateral[account] -= owed;
        emit FundingSettled(account, marketId, owed);
    }

    function _settleAllFunding(address account) private {
        for (uint256 open = _openMarkets[account]; open != 0; open = MarketSet.dropFirst(open)) {
            uint256 marketId = MarketSet.first(open);
            MarketParams memory params = _marketParams[marketId];
            _accrueFunding(marketId, params, _oracle.getPrice(params.oracleFeed, params.oracleHeartbeat));
            _settleFunding(account, marketId, _positions[account][marketId], _marketStates[marketId].fundingIndex);
        }
    }

    /// @dev The funding index a market would have if accrued now.
    function _currentFundingIndex(
        uint256 marketId,
        MarketParams memory params,
        uint256 oraclePrice
    ) private view returns (int256) {
        MarketState storage state = _marketStates[marketId];
        int256 rate = FundingMath.clampedRate(state.premiumEma, params.maxFundingRate);
        return state.fundingIndex + FundingMath.indexGrowth(rate, oraclePrice, block.timestamp - state.lastFundingTime);
    }

    // ================================================================ internal: margin

    /// @dev Equity, requirements and total funding owed of an account at oracle prices, pending funding included.
    function _health(
        address account
    ) private view returns (int256 equity, uint256 initialMargin, uint256 maintenanceMargin, int256 fundingOwed) {
        equity = _collateral[account];
        for (uint256 open = _openMarkets[account]; open != 0; open = MarketSet.dropFirst(open)) {
            uint256 marketId = MarketSet.first(open);
            MarketParams memory params = _marketParams[marketId];
            Position memory position = _positions[account][marketId];
            uint256 price = _oracle.getPrice(params.oracleFeed, params.oracleHeartbeat);
            int256 owed = FundingMath.owed(
                position.size,
                position.lastFundingIndex,
                _currentFundingIndex(marketId, params, price)
            );
            uint256 notional = PositionMath.notionalAt(position.size, price);
            equity += PositionMath.unrealizedPnl(position.size, position.openNotional, price) - owed;
            fundingOwed += owed;
            initialMargin += notional.mulWadUp(params.initialMarginRatio);
            maintenanceMargin += notional.mulWadUp(params.maintenanceMarginRatio);
        }
    }

    /// @dev A fill that only reduces a position is allowed below initial margin, so that traders can cut risk,
    /// but never into negative equity: a bankrupt account could otherwise close at the band's far edge and
    /// hand unbacked value to a colluding counterparty. Its losses belong to liquidation.
    function _requireMarginAfterFill(address account, bool onlyReduces) private view {
        if (!onlyReduces) return _requireInitialMargin(account);
        (int256 equity, , , ) = _health(account);
        if (equity < 0) revert NegativeEquity(account, equity);
    }

    function _requireInitialMargin(address account) private view {
        (int256 equity, uint256 initialMargin, , ) = _health(account);
        if (equity < initialMargin.toInt256()) revert InsufficientMargin(account, equity, initialMargin);
    }

    // ================================================================ internal: misc

    function _market(uint256 marketId) private view returns (MarketParams memory) {
        if (marketId >= _marketParams.length) revert UnknownMarket(marketId);
        return _marketParams[marketId];
    }

    /// @dev Pulls exactly `amount` from `from`; a token that delivers anything else is refused.
    function _pullExact(address from, uint256 amount) private {
        uint256 balanceBefore = _token.balanceOf(address(this));
        _token.safeTransferFrom(from, address(this), amount);
        uint256 received = _token.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert TransferAmountMismatch(amount, received);
    }

    function _setInsuranceFeeShare(uint256 share) private {
        if (share > FixedPointMath.WAD) revert InsuranceFeeShareOutOfBounds(share);
        insuranceFeeShare = share;
        emit InsuranceFeeShareUpdated(share);
    }
}
