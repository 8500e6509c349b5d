// Settings that depend on each other are derived in one place, so they cannot disagree.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("points the api at the sidecar's own port when VECTOR_URL is unset", () => {
    expect(loadConfig({}).VECTOR_URL).toBe("http://127.0.0.1:8090");
    expect(loadConfig({ VECTOR_PORT: "9191" }).VECTOR_URL).toBe("http://127.0.0.1:9191");
  });

  it("keeps an explicit VECTOR_URL (the sidecar on another host)", () => {
    const config = loadConfig({ VECTOR_PORT: "9191", VECTOR_URL: "http://vector-worker:8090" });
    expect(config.VECTOR_URL).toBe("http://vector-worker:8090");
  });

  it("names every wrong variable", () => {
    expect(() => loadConfig({ VECTOR_URL: "ftp://x", INDEX_FOLLOW_INTERVAL_MS: "-1" })).toThrow(ConfigError);
    try {
      loadConfig({ VECTOR_URL: "ftp://x", INDEX_FOLLOW_INTERVAL_MS: "-1" });
    } catch (error) {
      expect((error as Error).message).toMatch(/VECTOR_URL/);
      expect((error as Error).message).toMatch(/INDEX_FOLLOW_INTERVAL_MS/);
    }
  });
});
