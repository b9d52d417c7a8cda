// Reading and writing the JSON result files, with errors that name the file and what is wrong with it.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/** Parses `text` as JSON; `what` names the source in the error. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${what}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** The parsed JSON of a file; a missing file is an error naming it. */
export async function readJson(file: string): Promise<unknown> {
  const parsed = await readJsonIfPresent(file);
  if (parsed === undefined) throw new Error(`${file}: no such file`);
  return parsed;
}

/** The parsed JSON of a file, or undefined when there is no such file. */
export async function readJsonIfPresent(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`${file}: cannot read (${String(error)})`, { cause: error });
  }
  return parseJson(text, file);
}

export async function writeText(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeText(file, JSON.stringify(value, null, 2) + "\n");
}
