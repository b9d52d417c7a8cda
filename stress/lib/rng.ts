// Seeded random numbers for the stress lab. Every draw comes from one Mersenne Twister stream
// (stdlib's randu with mt19937, 53-bit uniforms), so a seed fixes the whole sequence of uniforms,
// normals and chi-squares, whatever mix of them a simulation asks for.
import chisquareRandom from "@stdlib/random-base-chisquare";
import normalRandom from "@stdlib/random-base-normal";
import randu from "@stdlib/random-base-randu";

/** A seeded source of the three draws the simulators need. */
export interface Rng {
  /** Uniform on [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
  /** Chi-square with `k` degrees of freedom. */
  chisquare(k: number): number;
}

const MAX_SEED = 2 ** 32 - 1;

/**
 * Checks a seed word: mt19937 takes integers in [1, 2^32 − 1].
 * Throws an error naming the bad value, so a CLI can show it as is.
 */
export function checkSeed(seed: number, name = "seed"): number {
  if (!Number.isInteger(seed) || seed < 1 || seed > MAX_SEED) {
    throw new Error(`${name} ${seed} is not an integer in [1, ${MAX_SEED}]`);
  }
  return seed;
}

/**
 * Creates a generator from a seed or a list of seed words. A list seeds mt19937 by
 * `init_by_array` (Matsumoto & Nishimura 1998), which is how one run seed and a path index
 * give each path its own stream: path i is the same whether 10 or 10,000 paths are drawn.
 */
export function createRng(seed: number | readonly number[]): Rng {
  const words = typeof seed === "number" ? [seed] : [...seed];
  if (words.length === 0) throw new Error("seed list is empty");
  words.forEach((word, i) => checkSeed(word, words.length === 1 ? "seed" : `seed word ${i}`));
  const uniform = randu.factory({ name: "mt19937", seed: words.length === 1 ? words[0] : words });
  const normal = normalRandom.factory(0, 1, { prng: uniform });
  const chisquare = chisquareRandom.factory({ prng: uniform });
  return { uniform: () => uniform(), normal: () => normal(), chisquare: (k) => chisquare(k) };
}
