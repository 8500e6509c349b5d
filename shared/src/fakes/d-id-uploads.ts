// `POST /images` and `POST /audios` for the fake D-ID: streaming multipart parsing with D-ID's limits, and the store.
import type { IncomingMessage } from "node:http";
import busboy from "busboy";
import { DIdError, newDIdId, validationError } from "./d-id-wire.js";

export type UploadKind = "image" | "audio";

export interface StoredUpload {
  kind: UploadKind;
  bytes: Buffer;
  mimeType: string;
  filename?: string;
  /** The URL the upload answer gave; a talk may name it as `source_url` or `script.audio_url`. */
  url: string;
  /** Seconds; audio only. */
  duration?: number;
}

interface UploadRule {
  field: string;
  maxBytes: number;
  accepts: (mimeType: string) => boolean;
  supported: string[];
}

// Limits from D-ID's docs and FAQ (research doc §3): images ≤ 10 MB jpeg/png, audio ≤ 6 MB audio/* or video/*.
const RULES: Record<UploadKind, UploadRule> = {
  image: {
    field: "image",
    maxBytes: 10 * 1024 * 1024,
    accepts: (mimeType) => mimeType === "image/jpeg" || mimeType === "image/png",
    supported: ["image/jpeg", "image/png"],
  },
  audio: {
    field: "audio",
    maxBytes: 6 * 1024 * 1024,
    accepts: (mimeType) => mimeType.startsWith("audio/") || mimeType.startsWith("video/"),
    supported: ["audio/*", "video/*"],
  },
};

/** The fake does not decode audio; it sizes the clip as a 128 kbit/s MP3 would be, enough for a plausible duration. */
function audioSeconds(bytes: number): number {
  return Math.round((bytes / 16_000) * 100) / 100;
}

interface ReceivedFile {
  bytes: Buffer;
  mimeType: string;
  filename?: string;
}

/**
 * Reads the one file field D-ID wants. A wrong type (415) is answered from the part headers and an oversized file
 * (400) as soon as the limit is passed; the rest of the body is then drained without being kept, so the client
 * still reads the answer (closing the socket mid-upload would turn it into a connection reset).
 */
function receiveFile(request: IncomingMessage, rule: UploadRule): Promise<ReceivedFile> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // One byte over the limit so a file of exactly maxBytes is still taken: busboy flags `limit` on reaching it.
      parser = busboy({ headers: request.headers, limits: { fileSize: rule.maxBytes + 1 } });
    } catch {
      request.resume();
      reject(validationError(rule.field, `'${rule.field}' is required`));
      return;
    }
    let settled = false;
    let received: ReceivedFile | undefined;
    const fail = (error: DIdError) => {
      if (settled) return;
      settled = true;
      request.unpipe(parser);
      request.resume();
      reject(error);
    };

    parser.on("file", (name, stream, info) => {
      if (name !== rule.field || received || settled) {
        stream.resume();
        return;
      }
      if (!rule.accepts(info.mimeType)) {
        stream.resume();
        fail(
          new DIdError(415, "UnsupportedMimeTypeError", "The provided mime type is not supported", {
            received: info.mimeType,
            supported: rule.supported,
          }),
        );
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("limit", () =>
        fail(
          new DIdError(
            400,
            "InvalidFileSizeError",
            `${rule.field} file size must not exceed ${rule.maxBytes / (1024 * 1024)}MB`,
          ),
        ),
      );
      stream.on("end", () => {
        if (stream.truncated) return;
        received = { bytes: Buffer.concat(chunks), mimeType: info.mimeType, filename: info.filename };
      });
    });
    parser.on("close", () => {
      if (settled) return;
      if (!received) {
        fail(validationError(rule.field, `'${rule.field}' is required`));
        return;
      }
      settled = true;
      resolve(received);
    });
    parser.on("error", (error: Error) => fail(new DIdError(400, "BadRequestError", error.message)));
    // A client leaving mid-upload never lets busboy finish; settle so the request's promise does not linger.
    request.once("close", () => {
      if (!request.complete) fail(new DIdError(400, "BadRequestError", "request aborted"));
    });
    request.pipe(parser);
  });
}

/** Uploaded images and audios by id, as the fake's `POST /images` / `POST /audios` stored them. */
export class UploadStore {
  private readonly uploads = new Map<string, StoredUpload>();

  /** `user` is the account id as it appears in D-ID's upload URLs (URL-encoded there). */
  constructor(private readonly user: string) {}

  /** Stores the upload and returns D-ID's 201 body for it. */
  async receive(kind: UploadKind, request: IncomingMessage): Promise<object> {
    const file = await receiveFile(request, RULES[kind]);
    const owner = encodeURIComponent(this.user);
    if (kind === "image") {
      const id = `upl_${newDIdId()}`;
      const url = `https://create-images-results.d-id.com/${owner}/${id}/image.jpeg`;
      this.uploads.set(id, { kind, ...file, url });
      return { id, url };
    }
    const id = newDIdId();
    const url = `s3://d-id-audios-prod/${owner}/${id}/audio.wav`;
    const duration = audioSeconds(file.bytes.length);
    this.uploads.set(id, { kind, ...file, url, duration });
    return { id, url, duration, moderation_metadata: {} };
  }

  get(id: string): StoredUpload | undefined {
    return this.uploads.get(id);
  }

  /** The upload a talk's URL points at; undefined for URLs elsewhere or uploads deleted since. */
  byUrl(url: string): StoredUpload | undefined {
    const bare = url.split(/[?#]/)[0];
    for (const upload of this.uploads.values()) if (upload.url === bare) return upload;
    return undefined;
  }

  /** Whether `url` has the shape of this fake's upload URLs (so a missing upload means it was deleted). */
  isUploadUrl(url: string): boolean {
    return /^https:\/\/create-images-results\.d-id\.com\/|^s3:\/\/d-id-audios-prod\//.test(url);
  }

  delete(kind: UploadKind, id: string): boolean {
    if (this.uploads.get(id)?.kind !== kind) return false;
    return this.uploads.delete(id);
  }

  clear(): void {
    this.uploads.clear();
  }
}
