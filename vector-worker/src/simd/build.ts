// `npm run kernel:build`: compiles scan.wat into scan-wasm.ts (base64), so search threads and the
// worker bundle load the kernel with no file lookup and no compiler at run time.
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

const WAT = fileURLToPath(new URL("./scan.wat", import.meta.url));
const OUT = fileURLToPath(new URL("./scan-wasm.ts", import.meta.url));

export async function compileKernel(): Promise<string> {
  const wabt = await wabtInit();
  const features = { simd: true, threads: true };
  const module = wabt.parseWat("scan.wat", await readFile(WAT, "utf8"), features);
  try {
    // The typings omit validate's features argument; without it shared memory fails validation.
    (module as unknown as { validate(features: object): void }).validate(features);
    const { buffer } = module.toBinary({});
    return [
      "// Generated from scan.wat by `npm run kernel:build`; do not edit.",
      `export const SCAN_WASM_BASE64 =\n  "${Buffer.from(buffer).toString("base64")}";`,
      "",
    ].join("\n");
  } finally {
    module.destroy();
  }
}

export const generatedPath = OUT;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(OUT, await compileKernel());
  console.log(`wrote ${OUT}`);
}
