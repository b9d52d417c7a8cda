// One worker of stress/lib/chain-pool.ts: opens a chain session on "init", runs each "job" it is sent, and closes
// the session and exits when the parent disconnects.
import { describeError } from "#sdk";

import type { FromWorker, ToWorker } from "./chain-pool.js";
import { openChainSession, type ChainSession } from "./lab.js";

const send = (m: FromWorker): void => {
  process.send?.(m);
};
let session: Promise<ChainSession> | undefined;
// Jobs run one at a time in arrival order: the parent sends the next one only after a row.
let queue: Promise<void> = Promise.resolve();

process.on("message", (m: ToWorker) => {
  queue = queue.then(async () => {
    try {
      if (m.kind === "init") {
        session = openChainSession(m.input);
        send({ kind: "ready", setupSeconds: (await session).setupSeconds });
      } else {
        if (session === undefined) throw new Error("a job before init");
        const opened = await session;
        const cpu = process.cpuUsage();
        const { row, ms } = await opened.run(m.job);
        const used = process.cpuUsage(cpu);
        send({ kind: "row", at: m.at, row, ms, cpuMs: (used.user + used.system) / 1000 });
      }
    } catch (error) {
      send({ kind: "error", message: describeError(error) });
    }
  });
});
process.on("disconnect", () => {
  void queue.then(async () => {
    // A session that failed to open was reported as an error already.
    const opened = await session?.catch(() => undefined);
    await opened?.close();
    process.exit(0);
  });
});
