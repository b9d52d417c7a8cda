// Small derivative-free minimizers for the maximum-likelihood fits. Written here, not taken from a
// package: the npm optimizers that have Nelder–Mead (e.g. `fmin`) are untyped and unmaintained, and
// stdlib has none. Tested against known minima in test/stress/optimize.test.ts (Rosenbrock, a
// quadratic, a parabola).

/** What a minimization found. */
export interface Minimum {
  x: number[];
  value: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
}

/** Settings of {@link nelderMead}. Tolerances are absolute, like MATLAB's fminsearch TolX/TolFun. */
export interface NelderMeadOptions {
  /** Initial simplex edge along each axis; default 5% of |x0_i|, or 0.00025 where x0_i = 0 (fminsearch). */
  step?: number | readonly number[];
  maxIterations?: number;
  /** Converged when every vertex is within xTolerance of the best one, coordinate-wise ... */
  xTolerance?: number;
  /** ... and every vertex value within fTolerance of the best value. */
  fTolerance?: number;
}

/** Non-finite values (outside a parameter's domain) count as +∞, so the simplex moves away from them. */
function safe(f: (x: readonly number[]) => number): (x: readonly number[]) => number {
  return (x) => {
    const y = f(x);
    return Number.isFinite(y) ? y : Number.POSITIVE_INFINITY;
  };
}

/**
 * Minimizes f by the Nelder–Mead simplex method (Nelder & Mead 1965) with the standard
 * coefficients reflection 1, expansion 2, contraction 1/2, shrink 1/2 and the accept rules of
 * Lagarias, Reeds, Wright & Wright (1998), "Convergence properties of the Nelder–Mead simplex
 * method in low dimensions", SIAM J. Optim. 9(1).
 */
export function nelderMead(
  f: (x: readonly number[]) => number,
  x0: readonly number[],
  options: NelderMeadOptions = {},
): Minimum {
  const n = x0.length;
  if (n === 0) throw new Error("nelderMead: no parameters");
  const maxIterations = options.maxIterations ?? 2000 * n;
  const xTol = options.xTolerance ?? 1e-8;
  const fTol = options.fTolerance ?? 1e-10;
  const g = safe(f);
  let evaluations = 0;
  const evaluate = (x: number[]): number => {
    evaluations++;
    return g(x);
  };
  const stepOf = (i: number): number => {
    const { step } = options;
    if (typeof step === "number") return step;
    if (step !== undefined) return step[i];
    return x0[i] === 0 ? 0.00025 : 0.05 * Math.abs(x0[i]);
  };
  const simplex: number[][] = [Array.from(x0)];
  for (let i = 0; i < n; i++) {
    const v = Array.from(x0);
    v[i] += stepOf(i);
    simplex.push(v);
  }
  let values = simplex.map(evaluate);
  const along = (from: number[], to: number[], t: number): number[] => from.map((a, i) => a + t * (to[i] - a));

  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
    const sorted = order.map((i) => simplex[i]);
    values = order.map((i) => values[i]);
    simplex.splice(0, simplex.length, ...sorted);
    const best = simplex[0];
    const spreadX = Math.max(...simplex.slice(1).map((v) => Math.max(...v.map((c, i) => Math.abs(c - best[i])))));
    const spreadF = Math.max(...values.slice(1).map((v) => Math.abs(v - values[0])));
    if (spreadX <= xTol && spreadF <= fTol) {
      converged = true;
      break;
    }
    iterations++;
    const worst = simplex[n];
    const centroid = new Array<number>(n).fill(0);
    for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) centroid[i] += simplex[k][i] / n;
    const reflected = along(centroid, worst, -1);
    const fr = evaluate(reflected);
    if (fr < values[0]) {
      const expanded = along(centroid, worst, -2);
      const fe = evaluate(expanded);
      [simplex[n], values[n]] = fe < fr ? [expanded, fe] : [reflected, fr];
      continue;
    }
    if (fr < values[n - 1]) {
      [simplex[n], values[n]] = [reflected, fr];
      continue;
    }
    // Contract outside if the reflected point beats the worst, inside otherwise.
    const outside = fr < values[n];
    const contracted = along(centroid, worst, outside ? -0.5 : 0.5);
    const fc = evaluate(contracted);
    if (outside ? fc <= fr : fc < values[n]) {
      [simplex[n], values[n]] = [contracted, fc];
      continue;
    }
    for (let k = 1; k <= n; k++) {
      simplex[k] = along(best, simplex[k], 0.5);
      values[k] = evaluate(simplex[k]);
    }
  }
  const bestIndex = values.indexOf(Math.min(...values));
  return { x: simplex[bestIndex], value: values[bestIndex], iterations, evaluations, converged };
}

/**
 * Nelder–Mead restarted from its own answer until a restart no longer improves f by more than
 * fTolerance (at most `restarts` times). A restart rebuilds a full-size simplex, the usual remedy
 * for the simplex collapsing early on a curved valley (Press et al., Numerical Recipes, 3rd ed., §10.5).
 */
export function minimize(
  f: (x: readonly number[]) => number,
  x0: readonly number[],
  options: NelderMeadOptions = {},
  restarts = 3,
): Minimum {
  let result = nelderMead(f, x0, options);
  let { iterations, evaluations } = result;
  for (let r = 0; r < restarts; r++) {
    const next = nelderMead(f, result.x, options);
    iterations += next.iterations;
    evaluations += next.evaluations;
    const improved = result.value - next.value > (options.fTolerance ?? 1e-10);
    if (next.value <= result.value) result = next;
    if (!improved) break;
  }
  return { ...result, iterations, evaluations };
}

const INV_PHI = (Math.sqrt(5) - 1) / 2;

/**
 * Minimizes a unimodal f on [a, b] by golden-section search (Kiefer 1953; Numerical Recipes §10.2)
 * until the bracket is narrower than `tolerance`. Returns the midpoint of the last bracket.
 */
export function goldenSection(
  f: (x: number) => number,
  a: number,
  b: number,
  tolerance = 1e-6,
): { x: number; value: number } {
  if (!(a < b)) throw new Error(`goldenSection: bracket [${a}, ${b}] is empty`);
  let c = b - INV_PHI * (b - a);
  let d = a + INV_PHI * (b - a);
  let fc = f(c);
  let fd = f(d);
  while (b - a > tolerance) {
    if (fc < fd) {
      [b, d, fd] = [d, c, fc];
      c = b - INV_PHI * (b - a);
      fc = f(c);
    } else {
      [a, c, fc] = [c, d, fd];
      d = a + INV_PHI * (b - a);
      fd = f(d);
    }
  }
  const x = (a + b) / 2;
  return { x, value: f(x) };
}

/**
 * Hessian of f at x by central differences with step h·max(1, |x_i|) (Numerical Recipes §5.7).
 * Used for standard errors of maximum-likelihood estimates: the inverse Hessian of the negative
 * log-likelihood at the optimum estimates their covariance.
 */
export function numericalHessian(f: (x: readonly number[]) => number, x: readonly number[], h = 1e-4): number[][] {
  const n = x.length;
  const steps = x.map((xi) => h * Math.max(1, Math.abs(xi)));
  const at = (di: number, si: number, dj: number, sj: number): number => {
    const y = Array.from(x);
    y[di] += si * steps[di];
    y[dj] += sj * steps[dj];
    return f(y);
  };
  const H = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const f0 = f(x);
  for (let i = 0; i < n; i++) {
    H[i][i] = (at(i, 1, i, 0) - 2 * f0 + at(i, -1, i, 0)) / (steps[i] * steps[i]);
    for (let j = 0; j < i; j++) {
      const v = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * steps[i] * steps[j]);
      H[i][j] = v;
      H[j][i] = v;
    }
  }
  return H;
}

/** Inverse of a small square matrix by Gauss–Jordan elimination with partial pivoting; throws if singular. */
export function invert(matrix: readonly (readonly number[])[]): number[][] {
  const n = matrix.length;
  const a = matrix.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (Math.abs(a[pivot][col]) < 1e-300) throw new Error("invert: matrix is singular");
    [a[col], a[pivot]] = [a[pivot], a[col]];
    const p = a[col][col];
    for (let j = 0; j < 2 * n; j++) a[col][j] /= p;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = a[r][col];
      for (let j = 0; j < 2 * n; j++) a[r][j] -= factor * a[col][j];
    }
  }
  return a.map((row) => row.slice(n));
}

/**
 * Standard errors of the parameters of a negative log-likelihood at its minimum: square roots of
 * the diagonal of the inverse observed information (Hessian). NaN where that diagonal is not positive
 * (a flat or boundary direction), so a caller shows "n/a" rather than a made-up figure.
 */
export function standardErrors(negLogLik: (x: readonly number[]) => number, x: readonly number[]): number[] {
  try {
    const cov = invert(numericalHessian(negLogLik, x));
    return cov.map((row, i) => (row[i] > 0 ? Math.sqrt(row[i]) : Number.NaN));
  } catch (_) {
    return x.map(() => Number.NaN);
  }
}
