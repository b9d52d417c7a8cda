import { expect } from "chai";

import { InputError, createProvider, observeRequests, parseRpcUrl } from "#sdk";
import { counterTotal, createMetrics, rpcCounter } from "#keeper";

/** Sends one request (and a batch of two) to a port nothing listens on: the hooks see them before the failure. */
async function sendSome(provider: ReturnType<typeof createProvider>): Promise<void> {
  const request = (id: number, method: string) => ({ id, jsonrpc: "2.0" as const, method, params: [] });
  await provider._send(request(1, "eth_chainId")).catch(() => undefined);
  await provider._send([request(2, "eth_blockNumber"), request(3, "eth_gasPrice")]).catch(() => undefined);
}

describe("sdk rpc provider", function () {
  it("tells onRequest and every observer each request's method, batches included, once per hook", async function () {
    const seen: string[] = [];
    const other: string[] = [];
    const hook = (method: string): void => void seen.push(method);
    const provider = createProvider("http://127.0.0.1:9", { chainId: 31337, timeoutMs: 2_000, onRequest: hook });
    observeRequests(provider, hook); // the same hook again: still counted once
    observeRequests(provider, (method) => void other.push(method));
    await sendSome(provider);
    provider.destroy();
    expect(seen).to.deep.equal(["eth_chainId", "eth_blockNumber", "eth_gasPrice"]);
    expect(other).to.deep.equal(["eth_chainId", "eth_blockNumber", "eth_gasPrice"]);
  });

  it("counts into the keeper's metrics through rpcCounter, one hook per metrics object", async function () {
    const metrics = createMetrics();
    const provider = createProvider("http://127.0.0.1:9", {
      chainId: 31337,
      timeoutMs: 2_000,
      onRequest: rpcCounter(metrics),
    });
    observeRequests(provider, rpcCounter(metrics)); // as the Keeper constructor does on the same provider
    await sendSome(provider);
    provider.destroy();
    expect(await counterTotal(metrics.rpcCalls)).to.equal(3);
    expect(await counterTotal(metrics.rpcCalls, { method: "eth_chainId" })).to.equal(1);
  });

  it("takes only http(s) URLs", function () {
    expect(parseRpcUrl("https://rpc.example.org/v1")).to.equal("https://rpc.example.org/v1");
    expect(() => parseRpcUrl("ws://127.0.0.1:8545")).to.throw(InputError, "--rpc must be an http(s) URL, got 'ws:'");
    expect(() => parseRpcUrl("not a url")).to.throw(InputError, "--rpc is not a valid URL: 'not a url'");
  });
});
