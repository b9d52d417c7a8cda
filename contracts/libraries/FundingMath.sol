// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMath} from "./FixedPointMath.sol";

/// @title FundingMath
/// @notice Continuous funding through a cumulative index per market.
/// @dev Accounting model. `fundingIndex` is the funding paid by one unit of long size since listing, in
/// collateral units (18 decimals). Between two updates it grows by ∫ rate(t) dt × oraclePrice / 1 day, where
///
///     rate(t) = sign(ema) × max(0, |ema| − maxFundingRate × (t − t₀) / PREMIUM_DECAY)
///
/// is the premium average `ema`, set at time t₀ (never above the clamp ±maxFundingRate), falling linearly to
/// zero: without fills a rate at the clamp is gone after PREMIUM_DECAY. The fall depends only on the time since
/// t₀, so accruing often or rarely gives the same index up to the floor of each accrual.
///
/// The average takes in what fills show only once the open interest they added has stayed open: the fills of
/// one block form a sample (their premiums (fill − oracle) / oracle weighted by the open interest each added),
/// taken in at the first fill of a later block as the premium of its held part (`heldPremium`: the value closest
/// to zero that the held part can have, so that interest that did not stay cannot pull it) with weight
///
///     min(elapsed, PREMIUM_WINDOW) / PREMIUM_WINDOW × held / (held + base),   held = min(added, still open, base)
///
/// where `base` is the open interest before the sample's block. A round trip inside one block adds nothing that
/// stays, a fill into an empty market (base 0) has no weight, one sample moves the average at most halfway, and
/// a dust fill against a large open interest barely moves it.
///
/// A position owes size × (index − lastIndex): longs pay shorts when the index rises. Because Σ size = 0 in
/// every market, payments sum to zero; each is rounded toward +∞ (against the account), so the dust stays with
/// the protocol.
library FundingMath {
    using SafeCast for uint256;

    /// @dev Funding rates are quoted per day.
    uint256 internal constant FUNDING_PERIOD = 1 days;
    /// @dev Time a sample's open interest must be held for its premium to fully replace the average.
    uint256 internal constant PREMIUM_WINDOW = 1 hours;
    /// @dev Time over which an average at the clamp falls to zero without fills.
    uint256 internal constant PREMIUM_DECAY = 1 hours;

    /// @notice The premium average clamped to ±maxFundingRate: the daily funding rate.
    function clampedRate(int256 premiumEma, uint256 maxFundingRate) internal pure returns (int256) {
        int256 max = maxFundingRate.toInt256();
        if (premiumEma > max) return max;
        if (premiumEma < -max) return -max;
        return premiumEma;
    }

    /// @notice (fillPrice − oraclePrice) / oraclePrice, 18 decimals, rounded toward −∞.
    function premium(uint256 fillPrice, uint256 oraclePrice) internal pure returns (int256) {
        return
            FixedPointMath.mulDivFloor(
                fillPrice.toInt256() - oraclePrice.toInt256(),
                int256(FixedPointMath.WAD),
                oraclePrice
            );
    }

    /// @notice The premium of the part of a block's sample that is still open, as the contract can bound it.
    /// @dev The sample's fills added open interest `added` with Σ premium × size `premiumSum`, each premium within
    /// [minPremium, maxPremium]; `held` of it is still open. Which fills' interest stayed is unknown (positions
    /// are fungible, and a round trip can close someone else's older position), so Σ premium × size of the held
    /// part is only known to lie within
    ///
    ///     [max(premiumSum − gone × maxPremium, held × minPremium), min(premiumSum − gone × minPremium, held × maxPremium)]
    ///
    /// with gone = added − held. The held premium is the point of that interval closest to zero, per unit held:
    /// where the contract cannot tell what stayed, it assumes what moves funding least. With nothing gone the
    /// interval is the single point premiumSum (the plain average); a round trip beside an honest fill can pull
    /// the result toward zero, never past it and never away from it. Rounded toward zero throughout.
    /// @param premiumSum Σ premium × open interest added over the sample's fills (18 decimals).
    /// @param added Open interest the sample's fills added.
    /// @param held Part of `added` still open (≤ added, > 0).
    /// @param minPremium Lowest premium among the sample's fills that added open interest.
    /// @param maxPremium Highest premium among them.
    /// @return The premium of the held part (18 decimals).
    function heldPremium(
        int256 premiumSum,
        uint256 added,
        uint256 held,
        int256 minPremium,
        int256 maxPremium
    ) internal pure returns (int256) {
        int256 gone = (added - held).toInt256();
        int256 heldSigned = held.toInt256();
        int256 lower = SignedMath.max(
            premiumSum - FixedPointMath.mulDivCeil(gone, maxPremium, FixedPointMath.WAD),
            FixedPointMath.mulDivFloor(heldSigned, minPremium, FixedPointMath.WAD)
        );
        if (lower > 0) return FixedPointMath.mulDivFloor(lower, int256(FixedPointMath.WAD), held);
        int256 upper = SignedMath.min(
            premiumSum - FixedPointMath.mulDivFloor(gone, minPremium, FixedPointMath.WAD),
            FixedPointMath.mulDivCeil(heldSigned, maxPremium, FixedPointMath.WAD)
        );
        if (upper < 0) return FixedPointMath.mulDivCeil(upper, int256(FixedPointMath.WAD), held);
        return 0;
    }

    /// @notice The premium average after taking in a sample `premium_` of `held` open interest.
    /// @param elapsed Seconds the sample's open interest has been held.
    /// @param openInterest One side's open interest before the sample.
    function nextPremiumEma(
        int256 premiumEma,
        int256 premium_,
        uint256 elapsed,
        uint256 held,
        uint256 openInterest
    ) internal pure returns (int256) {
        // Weighted by time held, so that open interest closed in the block it opened cannot move it, and by
        // size against the open interest, so that a dust fill at the band's edge cannot set the rate for everyone.
        uint256 timeWeight = elapsed < PREMIUM_WINDOW ? elapsed : PREMIUM_WINDOW;
        uint256 weight = Math.mulDiv(timeWeight, held, held + openInterest);
        return premiumEma + FixedPointMath.mulDivFloor(premium_ - premiumEma, weight.toInt256(), PREMIUM_WINDOW);
    }

    /// @notice The premium average `age` seconds after it was set, fallen toward zero by maxFundingRate per
    /// PREMIUM_DECAY (the fall rounded down).
    function decayedPremium(int256 premiumEma, uint256 maxFundingRate, uint256 age) internal pure returns (int256) {
        uint256 magnitude = SignedMath.abs(premiumEma);
        uint256 fall = Math.mulDiv(maxFundingRate, age, PREMIUM_DECAY);
        if (fall >= magnitude) return 0;
        int256 left = (magnitude - fall).toInt256();
        return premiumEma > 0 ? left : -left;
    }

    /// @notice Growth of the funding index between `fromAge` and `toAge` seconds after the average `premiumEma`
    /// was set, at `price`: ∫ rate(t) dt × price / (1e18 × 1 day), rounded toward −∞.
    function indexGrowth(
        int256 premiumEma,
        uint256 maxFundingRate,
        uint256 price,
        uint256 fromAge,
        uint256 toAge
    ) internal pure returns (int256) {
        if (premiumEma == 0 || maxFundingRate == 0) return 0;
        uint256 rate = SignedMath.abs(clampedRate(premiumEma, maxFundingRate));
        uint256 area = _area(rate, maxFundingRate, toAge) - _area(rate, maxFundingRate, fromAge);
        // area = 2 × PREMIUM_DECAY × maxFundingRate × ∫ |rate| dt, exactly.
        uint256 divisor = 2 * PREMIUM_DECAY * maxFundingRate * FixedPointMath.WAD * FUNDING_PERIOD;
        if (premiumEma > 0) return Math.mulDiv(area, price, divisor).toInt256();
        return -Math.mulDiv(area, price, divisor, Math.Rounding.Ceil).toInt256();
    }

    /// @dev 2·D·m × ∫₀ᵗ max(0, r − m·s/D) ds = m·t·(2·D·r − m·t) until the rate reaches zero at t = r·D/m, and
    /// r²·D² after (D = PREMIUM_DECAY). Integers throughout, so the growth between two ages is exact.
    function _area(uint256 rate, uint256 maxFundingRate, uint256 age) private pure returns (uint256) {
        uint256 fall = maxFundingRate * age;
        uint256 start = rate * PREMIUM_DECAY;
        if (fall >= start) return start * start;
        return fall * (2 * start - fall);
    }

    /// @notice Funding a position of `size` owes for an index move from `lastIndex` to `index`, rounded up.
    function owed(int256 size, int256 lastIndex, int256 index) internal pure returns (int256) {
        return FixedPointMath.mulDivCeil(size, index - lastIndex, FixedPointMath.WAD);
    }
}
