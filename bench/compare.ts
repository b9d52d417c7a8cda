// Prints every figure of two result files and the ratio b/a: `npm run bench:compare -- a.json b.json`.
import { readJson } from "./lib/files.js";
import { compareFigures, figuresOf, formatComparison, parseAnyResults } from "./lib/figures.js";

const USAGE = "usage: npm run bench:compare -- <a.json> <b.json>   (latest.json, gas.json or keeper.json)";

try {
  const files = process.argv.slice(2);
  if (files.length !== 2) throw new Error(`expected two result files, got ${files.length}\n${USAGE}`);
  const [a, b] = await Promise.all(files.map(async (file) => figuresOf(parseAnyResults(await readJson(file), file))));
  console.log(formatComparison(compareFigures(a, b)).join("\n"));
} catch (error) {
  console.error(`bench:compare: ${(error as Error).message}`);
  process.exitCode = 1;
}
