// `npm run stress -- <stage> [options]`: the stress lab of issue 12. Only its first stage,
// `calibrate`, is built; scenarios, the trader population and fund sizing come next.
import { DEFAULT_SETTINGS } from "./lib/calibrate.js";
import { parseStressArgs, USAGE } from "./lib/cli.js";
import { calibrationJson, calibrationSummary, runCalibrate } from "./lib/run.js";

try {
  const options = parseStressArgs(process.argv.slice(2));
  if (options === "help") {
    console.log(USAGE);
  } else {
    const { calibration, files } = await runCalibrate({
      dataDir: options.data,
      outDir: options.out,
      settings: { ...DEFAULT_SETTINGS, thresholdQuantile: options.threshold, checkSeed: options.seed },
    });
    if (options.json) {
      process.stdout.write(calibrationJson(calibration));
    } else {
      console.log([...calibrationSummary(calibration), `wrote ${files.join(" and ")}`].join("\n"));
    }
  }
} catch (error) {
  console.error(`stress: ${(error as Error).message}\n\n${USAGE}`);
  process.exitCode = 1;
}
