// The fake D-ID's result videos: S3-style presigned URLs that expire, the tiny MP4 behind them, S3's XML errors.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const RESULT_PATH = /^\/__fake\/results\/(tlk_[A-Za-z0-9_-]{21})\.mp4$/;

export type ResultCheck = { talkId: string } | { status: 403 | 404; xml: string };

/** S3's error document, which is what a client fetching an expired D-ID `result_url` actually receives. */
export function s3Error(code: string, message: string, extra: Record<string, string> = {}): string {
  const fields = Object.entries(extra)
    .map(([name, value]) => `<${name}>${value}</${name}>`)
    .join("");
  const requestId = randomBytes(8).toString("hex").toUpperCase();
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${fields}<RequestId>${requestId}</RequestId></Error>`;
}

/** A few bytes that file-type sniffers take for an MP4: an `ftyp` box, then a `free` box naming the talk. */
export function fakeMp4(talkId: string): Buffer {
  const ftyp = Buffer.alloc(32);
  ftyp.writeUInt32BE(32, 0);
  ftyp.write("ftypisom", 4, "latin1");
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write("isomiso2avc1mp41", 16, "latin1");
  const note = Buffer.from(`fake D-ID result ${talkId}`, "utf8");
  const free = Buffer.alloc(8);
  free.writeUInt32BE(8 + note.length, 0);
  free.write("free", 4, "latin1");
  return Buffer.concat([ftyp, free, note]);
}

/** Signs and checks `result_url`s the way S3 SigV2 presigning looks from outside: `Expires` + `Signature`. */
export class ResultUrls {
  private readonly secret = randomBytes(32);

  constructor(private readonly baseUrl: string) {}

  /** Signed afresh on every GET, so a client that re-GETs a talk after a 403 gets a live URL. */
  sign(talkId: string, ttlMs: number, now = Date.now()): string {
    // Expires is whole epoch seconds, as in S3; rounding down makes a TTL of 0 expire at once.
    const expires = Math.floor((now + ttlMs) / 1000);
    const signature = encodeURIComponent(this.signature(talkId, String(expires)));
    return `${this.baseUrl}/__fake/results/${talkId}.mp4?Expires=${expires}&Signature=${signature}`;
  }

  check(url: URL, now = Date.now()): ResultCheck {
    const talkId = RESULT_PATH.exec(url.pathname)?.[1];
    if (!talkId) return { status: 404, xml: s3Error("NoSuchKey", "The specified key does not exist.") };
    const expires = url.searchParams.get("Expires");
    const signature = url.searchParams.get("Signature");
    if (!expires || !signature) {
      return {
        status: 403,
        xml: s3Error(
          "AccessDenied",
          "Query-string authentication requires the Signature and Expires parameters",
        ),
      };
    }
    const expected = Buffer.from(this.signature(talkId, expires));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return {
        status: 403,
        xml: s3Error(
          "SignatureDoesNotMatch",
          "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        ),
      };
    }
    const expiresMs = Number(expires) * 1000;
    if (now >= expiresMs) {
      return {
        status: 403,
        xml: s3Error("AccessDenied", "Request has expired", {
          Expires: new Date(expiresMs).toISOString(),
          ServerTime: new Date(now).toISOString(),
        }),
      };
    }
    return { talkId };
  }

  private signature(talkId: string, expires: string): string {
    return createHmac("sha1", this.secret).update(`GET\n${talkId}.mp4\n${expires}`).digest("base64");
  }
}
