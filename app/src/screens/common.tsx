import type { AdlPlace } from "#sdk";

import { adlLight } from "../chain.js";
import type { ActionStatus } from "../session.js";

export function Status({ status, testid }: { status: ActionStatus; testid: string }) {
  if (status.kind === "idle") return null;
  const className = status.kind === "error" ? "error" : status.kind === "done" ? "done" : "muted";
  return (
    <p className={className} data-testid={testid}>
      {status.text}
    </p>
  );
}

export function LoadError({ error }: { error: string | undefined }) {
  return error === undefined ? null : <p className="error">Reading the chain failed: {error}</p>;
}

/** The ADL risk light: five dots, as many lit as the rank's quintile from the back of the queue. */
export function RiskLight({ place }: { place: Pick<AdlPlace, "rank" | "queue"> }) {
  const level = adlLight(place);
  const words = ["not in the queue", "low", "low", "medium", "high", "highest"][level];
  return (
    <span className={`light light-${level}`} title={`ADL risk: ${words}`} data-testid="adl-light" data-level={level}>
      {"●".repeat(level)}
      {"○".repeat(5 - level)}
    </span>
  );
}

export function NeedsWallet({ what }: { what: string }) {
  return <p className="muted">Connect a wallet on the deployment's chain to {what}.</p>;
}
