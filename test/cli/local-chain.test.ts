import { expect } from "chai";

import { InputError } from "../../cli/errors.js";
import { requireLocalChain } from "../../cli/local-chain.js";

describe("cli local-chain check", function () {
  it("lets a command run on chain 31337 with a hardhat or localhost deployment", function () {
    expect(() => requireLocalChain("faucet", 31337, "hardhat")).to.not.throw();
    expect(() => requireLocalChain("faucet", 31337, "localhost")).to.not.throw();
  });

  it("refuses any other chain id, and any other deployment network even on chain 31337", function () {
    const cases: [number, string][] = [
      [11_155_111, "sepolia"],
      // A deployment file labelled local but made for another chain: the chain id decides.
      [11_155_111, "localhost"],
      [1, "hardhat"],
      [31337, "sepolia"],
      [31337, "Localhost"],
    ];
    for (const [chainId, network] of cases) {
      expect(() => requireLocalChain("faucet", chainId, network), `${chainId} ${network}`).to.throw(
        InputError,
        `'faucet' only runs on a local network (chain 31337, deployment hardhat or localhost); this is chain ${chainId}, deployment ${network}`,
      );
    }
  });
});
