import { useCallback, useEffect, useState } from "react";

import { openChain, type Chain } from "./chain.js";
import { loadConfig } from "./config.js";
import { explain, shortAddress } from "./format.js";
import { Account } from "./screens/Account.js";
import { Insurance } from "./screens/Insurance.js";
import { LossEvents } from "./screens/LossEvents.js";
import { Markets } from "./screens/Markets.js";
import { Trade } from "./screens/Trade.js";
import type { Session } from "./session.js";
import { connectWallet, injected, readWallet, switchChain, walletSigner, type WalletState } from "./wallet.js";

const TABS = [
  ["markets", "Markets"],
  ["account", "My account"],
  ["trade", "Trade"],
  ["fund", "Insurance fund"],
  ["losses", "Loss events"],
] as const;
type Tab = (typeof TABS)[number][0];

/** How often the page asks the node for its head block; every screen reads again when it moves. */
const POLL_MS = 1000;

export function App() {
  const [chain, setChain] = useState<Chain>();
  const [fatal, setFatal] = useState<string>();
  const [block, setBlock] = useState(0);
  const [wallet, setWallet] = useState<WalletState>({ kind: "disconnected" });
  const [walletError, setWalletError] = useState<string>();
  const [tab, setTab] = useState<Tab>("markets");

  useEffect(() => {
    loadConfig(window.location.href)
      .then(openChain)
      .then(setChain, (error: unknown) => setFatal(`The page cannot reach the chain: ${explain(error, [])}`));
  }, []);

  useEffect(() => {
    if (chain === undefined) return;
    let stopped = false;
    const poll = (): void => {
      chain.provider.getBlockNumber().then(
        (n) => !stopped && setBlock(n),
        () => undefined, // the next poll tries again; the screens keep what they showed
      );
    };
    poll();
    const timer = setInterval(poll, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [chain]);

  const expected = chain?.deployment.chainId ?? 0;
  const refreshWallet = useCallback(() => {
    if (chain === undefined) return;
    readWallet(injected(), expected).then(setWallet, (error: unknown) =>
      setWalletError(explain(error, chain.interfaces)),
    );
  }, [chain, expected]);

  useEffect(() => {
    refreshWallet();
    const w = injected();
    w?.on?.("accountsChanged", refreshWallet);
    w?.on?.("chainChanged", refreshWallet);
    return () => {
      w?.removeListener?.("accountsChanged", refreshWallet);
      w?.removeListener?.("chainChanged", refreshWallet);
    };
  }, [refreshWallet]);

  if (fatal !== undefined)
    return (
      <p className="error" data-testid="fatal">
        {fatal}
      </p>
    );
  if (chain === undefined || block === 0) return <p>Loading the deployment…</p>;

  const onConnect = async (): Promise<void> => {
    setWalletError(undefined);
    const w = injected();
    if (w === undefined) {
      setWallet({ kind: "missing" });
      return;
    }
    try {
      setWallet(await connectWallet(w, expected));
    } catch (error) {
      setWalletError(`Connecting failed. ${explain(error, chain.interfaces)}`);
    }
  };
  const onSwitch = async (): Promise<void> => {
    const w = injected();
    if (w === undefined) return;
    try {
      await switchChain(w, expected, chain.config.rpcUrl);
      refreshWallet();
    } catch (error) {
      setWalletError(`Switching the chain failed. ${explain(error, chain.interfaces)}`);
    }
  };

  const account = wallet.kind === "connected" || wallet.kind === "wrong-chain" ? wallet.account : undefined;
  const w = injected();
  const session: Session = {
    chain,
    block,
    account,
    signer: wallet.kind === "connected" && w !== undefined ? () => walletSigner(w, wallet.account) : undefined,
  };

  return (
    <div className="app">
      <header>
        <h1>Backstop</h1>
        <span className="muted" data-testid="block">
          chain {chain.deployment.chainId} · block {block}
        </span>
        <span className="spacer" />
        {wallet.kind === "connected" && (
          <span data-testid="wallet-account" title={wallet.account}>
            {shortAddress(wallet.account)}
          </span>
        )}
        {(wallet.kind === "disconnected" || wallet.kind === "missing") && (
          <button onClick={() => void onConnect()} data-testid="connect">
            Connect wallet
          </button>
        )}
      </header>
      {wallet.kind === "missing" && (
        <p className="warning" data-testid="wallet-missing">
          No wallet found in this browser. Install one (MetaMask or another EIP-1193 wallet) to trade or stake;
          everything here can be read without it.
        </p>
      )}
      {wallet.kind === "wrong-chain" && (
        <p className="warning" data-testid="wrong-chain">
          Your wallet is on chain {wallet.chainId}; this deployment is on chain {expected}. Nothing can be sent until
          you switch.{" "}
          <button onClick={() => void onSwitch()} data-testid="switch-chain">
            Switch to chain {expected}
          </button>
        </p>
      )}
      {walletError !== undefined && (
        <p className="error" data-testid="wallet-error">
          {walletError}
        </p>
      )}
      <nav>
        {TABS.map(([id, label]) => (
          <button key={id} className={id === tab ? "active" : ""} onClick={() => setTab(id)} data-testid={`tab-${id}`}>
            {label}
          </button>
        ))}
      </nav>
      <main>
        {tab === "markets" && <Markets session={session} />}
        {tab === "account" && <Account session={session} />}
        {tab === "trade" && <Trade session={session} />}
        {tab === "fund" && <Insurance session={session} />}
        {tab === "losses" && <LossEvents session={session} />}
      </main>
    </div>
  );
}
