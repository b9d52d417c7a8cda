import { expect } from "chai";

import {
  goldenSection,
  invert,
  minimize,
  nelderMead,
  numericalHessian,
  standardErrors,
} from "../../stress/lib/optimize.js";
import { expectNear } from "./near.js";

const rosenbrock = (x: readonly number[]): number => 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2;

describe("stress optimizer", function () {
  it("finds the Rosenbrock minimum (1, 1) from the classic start (−1.2, 1)", function () {
    const m = nelderMead(rosenbrock, [-1.2, 1]);
    expect(m.converged).to.equal(true);
    expectNear(m.x[0], 1, 1e-4);
    expectNear(m.x[1], 1, 1e-4);
    expect(m.value).to.be.below(1e-8);
  });

  it("finds the minimum of a shifted 5-dimensional quadratic with restarts", function () {
    const centre = [1, -2, 3, 0.5, -0.25];
    const f = (x: readonly number[]): number => x.reduce((s, xi, i) => s + (i + 1) * (xi - centre[i]) ** 2, 0);
    const m = minimize(f, [0, 0, 0, 0, 0], { step: 1 });
    m.x.forEach((xi, i) => expectNear(xi, centre[i], 1e-4));
  });

  it("moves away from points where the function is not finite", function () {
    // log barrier: minimum at x = 1, undefined for x ≤ 0.
    const m = nelderMead((x) => x[0] - Math.log(x[0]) + (x[0] <= 0 ? Number.NaN : 0), [3]);
    expectNear(m.x[0], 1, 1e-4);
  });

  it("stops at the iteration limit and says it did not converge", function () {
    const m = nelderMead(rosenbrock, [-1.2, 1], { maxIterations: 5 });
    expect(m.converged).to.equal(false);
    expect(m.iterations).to.equal(5);
  });

  it("golden-section search finds the vertex of a parabola", function () {
    const { x, value } = goldenSection((t) => (t - 2) ** 2 + 3, -10, 10, 1e-8);
    expectNear(x, 2, 1e-6);
    expectNear(value, 3, 1e-10);
    expect(() => goldenSection((t) => t, 1, 1)).to.throw("bracket [1, 1] is empty");
  });

  it("differentiates a quadratic form exactly and inverts it", function () {
    // f = ½ xᵀAx with A = [[4, 1], [1, 3]]: Hessian A, inverse [[3, −1], [−1, 4]]/11.
    const f = (x: readonly number[]): number => 0.5 * (4 * x[0] ** 2 + 2 * x[0] * x[1] + 3 * x[1] ** 2);
    const h = numericalHessian(f, [0.3, -0.7]);
    expectNear(h[0][0], 4, 1e-5);
    expectNear(h[0][1], 1, 1e-5);
    expectNear(h[1][1], 3, 1e-5);
    const inv = invert(h);
    expectNear(inv[0][0], 3 / 11, 1e-6);
    expectNear(inv[0][1], -1 / 11, 1e-6);
    expectNear(inv[1][1], 4 / 11, 1e-6);
    expect(standardErrors(f, [0, 0]).map((s) => s ** 2)).to.satisfy((v: number[]) => Math.abs(v[0] - 3 / 11) < 1e-6);
    expect(() =>
      invert([
        [1, 2],
        [2, 4],
      ]),
    ).to.throw("singular");
  });
});
