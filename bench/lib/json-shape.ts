// Minimal checked access to parsed JSON: every reader names the file and the path of what is missing or wrong.

export type JsonObject = Record<string, unknown>;

/** Where a value came from: the file (or other source) and the path inside it. */
export interface At {
  source: string;
  path: string;
}

function fail(at: At, expected: string, value: unknown): never {
  const shown = value === undefined ? "nothing" : JSON.stringify(value);
  throw new Error(`${at.source}: ${at.path || "(top level)"} must be ${expected}, got ${shown}`);
}

export function child(at: At, key: string | number): At {
  return {
    source: at.source,
    path: typeof key === "number" ? `${at.path}[${key}]` : at.path ? `${at.path}.${key}` : key,
  };
}

export function asObject(value: unknown, at: At): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(at, "an object", value);
  return value as JsonObject;
}

export function asNumber(value: unknown, at: At): number {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(at, "a finite number", value);
  return value;
}

export function asString(value: unknown, at: At): string {
  if (typeof value !== "string") fail(at, "a string", value);
  return value;
}

export function asBoolean(value: unknown, at: At): boolean {
  if (typeof value !== "boolean") fail(at, "true or false", value);
  return value;
}

export function asArray<T>(value: unknown, at: At, item: (v: unknown, at: At) => T): T[] {
  if (!Array.isArray(value)) fail(at, "an array", value);
  return value.map((v, i) => item(v, child(at, i)));
}

/** Reads `key` of `obj` with `read`. */
export function field<T>(obj: JsonObject, key: string, at: At, read: (v: unknown, at: At) => T): T {
  return read(obj[key], child(at, key));
}

/** A JSON object whose values are all numbers. */
export function asNumberRecord(value: unknown, at: At): Record<string, number> {
  const obj = asObject(value, at);
  const out: Record<string, number> = {};
  for (const [key, v] of Object.entries(obj)) out[key] = asNumber(v, child(at, key));
  return out;
}
