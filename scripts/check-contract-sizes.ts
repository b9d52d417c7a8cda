// Fails when a deployable contract exceeds the EIP-170 runtime limit (24 KiB) or the EIP-3860 init-code
// limit (48 KiB). Run it against the production build: `npm run check:sizes`.
import hre from "hardhat";

const RUNTIME_LIMIT = 24_576;
const INITCODE_LIMIT = 49_152;

function byteLength(hex: string): number {
  return (hex.length - 2) / 2;
}

const names = [...(await hre.artifacts.getAllFullyQualifiedNames())]
  .filter((name) => name.startsWith("contracts/") && !name.startsWith("contracts/mocks/"))
  .sort();

let failures = 0;
for (const name of names) {
  const artifact = await hre.artifacts.readArtifact(name);
  const runtime = byteLength(artifact.deployedBytecode);
  if (runtime === 0) continue; // interfaces and libraries with only internal functions
  const initcode = byteLength(artifact.bytecode);
  const over = runtime > RUNTIME_LIMIT || initcode > INITCODE_LIMIT;
  if (over) failures += 1;
  console.log(
    `${over ? "TOO BIG" : "ok     "} ${artifact.contractName.padEnd(28)} runtime ${String(runtime).padStart(6)} / ${RUNTIME_LIMIT}  init ${String(initcode).padStart(6)} / ${INITCODE_LIMIT}`,
  );
}
if (failures > 0) {
  console.error(`${failures} contract(s) exceed the size limits`);
  process.exitCode = 1;
}
