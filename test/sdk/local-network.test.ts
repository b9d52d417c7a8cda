import { expect } from "chai";

import { localhostUrl } from "#sdk";

describe("localhost network URL (hardhat.config.ts)", function () {
  it("is hardhat node's default unless BACKSTOP_LOCALHOST_URL names another node", function () {
    expect(localhostUrl({})).to.equal("http://127.0.0.1:8545");
    expect(localhostUrl({ BACKSTOP_LOCALHOST_URL: "" })).to.equal("http://127.0.0.1:8545");
    expect(localhostUrl({ BACKSTOP_LOCALHOST_URL: "http://127.0.0.1:8546" })).to.equal("http://127.0.0.1:8546");
    expect(localhostUrl({ BACKSTOP_LOCALHOST_URL: "https://node.lan:443/rpc" })).to.equal("https://node.lan:443/rpc");
  });

  it("refuses anything but an http(s) URL, naming the variable", function () {
    for (const bad of ["127.0.0.1:8545", "ws://127.0.0.1:8545", "not a url"]) {
      expect(() => localhostUrl({ BACKSTOP_LOCALHOST_URL: bad })).to.throw(
        `BACKSTOP_LOCALHOST_URL must be an http(s) URL, got '${bad}'`,
      );
    }
  });
});
