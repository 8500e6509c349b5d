// `npm run catalog:generate -- --courses N --seed S [--terms T] [--out file.json]`: writes a synthetic catalog.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { CliError, runCli } from "@kogi/shared/cli";
import { generateCatalog } from "../catalog/generator.js";

const USAGE = "usage: npm run catalog:generate -- --courses N --seed S [--terms 1..3] [--out file.json]";

await runCli("catalog:generate", async () => {
  const { values } = (() => {
    try {
      return parseArgs({
        args: process.argv.slice(2).filter((arg) => arg !== "--"),
        options: {
          courses: { type: "string", default: "2000" },
          seed: { type: "string", default: "42" },
          terms: { type: "string", default: "1" },
          out: { type: "string", default: "data/catalog-synthetic.json" },
        },
      });
    } catch (error) {
      throw new CliError(`${(error as Error).message}\n${USAGE}`);
    }
  })();
  const courses = Number(values.courses);
  const seed = Number(values.seed);
  const terms = Number(values.terms);
  if (
    !Number.isInteger(courses) ||
    courses < 1 ||
    !Number.isInteger(seed) ||
    !Number.isInteger(terms) ||
    terms < 1
  ) {
    console.error(USAGE);
    return 2;
  }
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, JSON.stringify(generateCatalog({ courses, seed, terms })));
  console.log(
    `wrote ${courses} courses (seed ${seed}) to ${values.out}; import it with npm run catalog:import -- ${values.out}`,
  );
  return 0;
});
