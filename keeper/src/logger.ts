import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** pino level name; `silent` turns logging off. Default `info`. */
  level?: string;
  /** Where the JSON lines go; standard output by default. */
  destination?: DestinationStream;
  /** Bound to every line, e.g. to tell two keepers apart in one process. */
  name?: string;
}

/**
 * A pino JSON logger. Modules take child loggers (`logger.child({ module: "executor" })`). Fields that could
 * carry a key are redacted as a second line of defence; keys are {@link Secret}s and print as such anyway.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? "info",
    name: options.name ?? "keeper",
    base: undefined,
    redact: { paths: ["privateKey", "privateKeys", "password", "*.privateKey", "*.privateKeys", "*.password"] },
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}
