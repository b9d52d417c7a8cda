import { existsSync, readFileSync, statSync } from "node:fs";
import { inspect } from "node:util";
import { Wallet, type Provider } from "ethers";

import { InputError } from "./errors.js";

/** Signing keys: kept in a {@link Secret}, read from an environment variable or an encrypted JSON keystore. */

/**
 * A value that must never reach a log line or a JSON dump: serializing or inspecting it prints a placeholder,
 * and only `reveal()` gives the value.
 */
export class Secret<T> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toJSON(): string {
    return "[redacted]";
  }

  toString(): string {
    return "[redacted]";
  }

  [inspect.custom](): string {
    return "[redacted]";
  }
}

const PRIVATE_KEY = /^(0x)?[0-9a-fA-F]{64}$/;
// secp256k1 group order: a private key must be in [1, n).
const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Comma-separated private keys from the environment variable `variable`; messages name the variable. */
export function parsePrivateKeys(raw: string, variable: string): Secret<string[]> {
  const parts = raw.split(",").map((k) => k.trim());
  const keys: string[] = [];
  parts.forEach((key, i) => {
    // The key itself never appears in the message: only its position.
    if (!PRIVATE_KEY.test(key)) {
      throw new InputError(`${variable}: key ${i + 1} is not a 32-byte hex string`);
    }
    const normalized = key.startsWith("0x") ? key : `0x${key}`;
    const scalar = BigInt(normalized);
    if (scalar === 0n || scalar >= CURVE_ORDER) {
      throw new InputError(`${variable}: key ${i + 1} is not a valid secp256k1 private key`);
    }
    keys.push(normalized.toLowerCase());
  });
  if (new Set(keys).size !== keys.length) throw new InputError(`${variable}: the same key is given twice`);
  return new Secret(keys);
}

/** Checks that `file` exists and holds an encrypted JSON wallet, before any password is asked for. */
export function checkKeystore(file: string): void {
  if (!existsSync(file) || !statSync(file).isFile()) throw new InputError(`keystore file not found: ${file}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new InputError(`keystore file is not JSON: ${file}`);
  }
  const wallet = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  if (!("crypto" in wallet || "Crypto" in wallet)) {
    throw new InputError(`keystore file is not an encrypted JSON wallet: ${file}`);
  }
}

/** Decrypts one keystore file; `passwordVariable` names where the password came from in the error message. */
export async function decryptKeystore(
  file: string,
  password: Secret<string>,
  provider: Provider,
  passwordVariable: string,
): Promise<Wallet> {
  let wallet;
  try {
    wallet = await Wallet.fromEncryptedJson(readFileSync(file, "utf8"), password.reveal());
  } catch {
    throw new InputError(`cannot decrypt keystore ${file}: wrong ${passwordVariable} or damaged file`);
  }
  return new Wallet(wallet.privateKey, provider);
}
