import { inspect } from "node:util";

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
