import { readFileSync } from "node:fs";

import { DeploymentError, parseDeployment, type Deployment } from "./deployment.js";
import { InputError } from "./errors.js";
import { parseOrderFile, type OrderFile } from "./orders.js";

/**
 * The SDK's file reads, kept apart from the parsers they call so that everything else in sdk/ runs in a browser
 * (sdk/browser.ts): only #sdk's Node entry (sdk/index.ts) exports these.
 */

/** Reads and validates `deployments/<network>.json`. Throws {@link DeploymentError} with a one-line message. */
export function readDeployment(path: string): Deployment {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DeploymentError(`deployment file not found: ${path}`);
    throw new DeploymentError(`deployment file cannot be read: ${path} (${code ?? "unknown error"})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DeploymentError(`${path}: bad JSON (${(error as Error).message.split("\n")[0]})`);
  }
  return parseDeployment(path, json);
}

/** Reads and validates an order file. Throws {@link InputError} with a one-line message naming the file. */
export function readOrderFile(path: string): OrderFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`order file ${path}: ${code === "ENOENT" ? "not found" : `cannot be read (${code})`}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`order file ${path}: bad JSON (${(error as Error).message.split("\n")[0]})`);
  }
  return parseOrderFile(path, json);
}
