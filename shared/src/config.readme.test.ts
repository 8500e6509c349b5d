// The README is the users' reference: every setting the service reads must be in it, with its default.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configSchema } from "./config.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README configuration tables", () => {
  it.each(Object.keys(configSchema.shape))("document %s", (name) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${name}\` +\\|`, "m"));
  });
});
