// API keys for the video routes (every video costs money): Bearer keys from VIDEO_API_KEYS, kept only
// as SHA-256 digests and compared in constant time. The digest is the owner id stored on each job.
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { HonoEnv } from "../context.js";
import { ProblemError } from "../errors.js";
import { videoServices } from "../services/videos.js";

const digest = (key: string) => createHash("sha256").update(key).digest();

export class ApiKeys {
  readonly #digests: Buffer[];

  constructor(commaSeparated: string | undefined) {
    this.#digests = (commaSeparated ?? "")
      .split(",")
      .map((key) => key.trim())
      .filter(Boolean)
      .map(digest);
  }

  get count(): number {
    return this.#digests.length;
  }

  /** The owner id (hex digest) of an accepted key. Every stored digest is compared, match or not. */
  owner(key: string): string | undefined {
    const presented = digest(key);
    let match: Buffer | undefined;
    for (const known of this.#digests) if (timingSafeEqual(known, presented)) match = known;
    return match?.toString("hex");
  }
}

/** 503 when videos are not configured, 401 without an accepted key; sets `videoOwner`. */
export function requireVideoKey(): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const videos = videoServices(c.get("services"));
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const owner = match?.[1] ? videos.keys.owner(match[1]) : undefined;
    if (!owner)
      throw new ProblemError(
        401,
        "unauthorized",
        match ? "This API key is not accepted" : "Video routes need an API key: Authorization: Bearer <key>",
        undefined,
        { "WWW-Authenticate": 'Bearer realm="kogi-videos"' },
      );
    c.set("videoOwner", owner);
    await next();
  };
}
