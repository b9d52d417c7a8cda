// The chain workers' environment (stress/lib/chain-pool.ts workerEnv): EDR's allocator keeps freed pages unless the
// caller chose a setting of its own, and nothing else of the caller's environment is lost.
import { expect } from "chai";

import { workerEnv } from "../../stress/lib/chain-pool.js";

describe("stress: chain workers' environment", function () {
  it("tells mimalloc to keep freed pages and passes the rest through", function () {
    expect(workerEnv({ PATH: "/bin", STRESS_BENCH_PATHS: "400" })).to.deep.equal({
      PATH: "/bin",
      STRESS_BENCH_PATHS: "400",
      MIMALLOC_PURGE_DELAY: "-1",
    });
  });

  it("leaves a purge delay the caller set alone", function () {
    expect(workerEnv({ MIMALLOC_PURGE_DELAY: "10" }).MIMALLOC_PURGE_DELAY).to.equal("10");
  });
});
