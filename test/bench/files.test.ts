import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";

import { readJson, readJsonIfPresent } from "../../bench/lib/files.js";

describe("bench result files", function () {
  let dir: string;

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "bench-files-"));
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("names a missing file", async function () {
    const file = path.join(dir, "absent.json");
    let message = "";
    await readJson(file).catch((error: Error) => (message = error.message));
    expect(message).to.equal(`${file}: no such file`);
    expect(await readJsonIfPresent(file)).to.equal(undefined);
  });

  it("names a file that is not JSON", async function () {
    const file = path.join(dir, "broken.json");
    await writeFile(file, "{ not json");
    let message = "";
    await readJson(file).catch((error: Error) => (message = error.message));
    expect(message).to.match(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not valid JSON \\(`));
  });

  it("reads a JSON file", async function () {
    const file = path.join(dir, "ok.json");
    await writeFile(file, '{"deposit": 51697}');
    expect(await readJson(file)).to.deep.equal({ deposit: 51697 });
  });
});
