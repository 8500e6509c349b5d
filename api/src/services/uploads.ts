// Multipart uploads of source images and audio: streamed through busboy with the size limit enforced
// while reading, typed by magic bytes, then forwarded to D-ID and remembered for the uploading key.
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { Priority } from "@kogi/shared/outbound/upstream";
import busboy from "busboy";
import { fileTypeFromBuffer } from "file-type";
import type { Context } from "hono";
import type { Uploaded } from "../adapters/d-id/client.js";
import type { HonoEnv } from "../context.js";
import { ProblemError } from "../errors.js";
import { videoServices } from "./videos.js";

export type UploadKind = "image" | "audio";

// The multipart envelope around the file (boundaries, part headers, a few small fields). nginx's
// client_max_body_size on the upload locations is each file limit plus this (nginx/nginx.conf).
const ENVELOPE_BYTES = 64 * 1024;
const FILE_FIELDS = new Set(["file", "image", "audio"]);

interface Received {
  bytes: Buffer;
  declaredType: string;
  filename: string;
  fields: Record<string, string>;
}

const tooLarge = (maxBytes: number) =>
  new ProblemError(
    413,
    "file_too_large",
    `The file exceeds ${maxBytes} bytes`,
    [{ field: "file", message: `must be at most ${maxBytes} bytes` }],
    {
      // The unread rest of the body must not be parsed as the next request on this connection.
      Connection: "close",
    },
  );

/** Reads one file part, refusing as soon as it passes maxBytes: an oversized body is never held whole. */
export function receiveFile(c: Context<HonoEnv>, maxBytes: number): Promise<Received> {
  const type = c.req.header("content-type") ?? "";
  if (!/^multipart\/form-data/i.test(type))
    throw new ProblemError(
      415,
      "unsupported_media_type",
      "Send the file as multipart/form-data in a field named file",
      [{ field: "Content-Type", message: "must be multipart/form-data" }],
    );
  if (Number(c.req.header("content-length") ?? 0) > maxBytes + ENVELOPE_BYTES) throw tooLarge(maxBytes);
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const source: Readable =
    incoming ?? (c.req.raw.body ? Readable.fromWeb(c.req.raw.body as never) : Readable.from([]));

  return new Promise<Received>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { "content-type": type },
        limits: { files: 1, fileSize: maxBytes, fields: 20, fieldSize: 1024 },
      });
    } catch {
      reject(new ProblemError(400, "malformed_request", "The multipart body has no boundary"));
      return;
    }
    const fields: Record<string, string> = {};
    let file: Omit<Received, "fields"> | undefined;
    let failed = false;
    const fail = (problem: ProblemError) => {
      if (failed) return;
      failed = true;
      source.unpipe(parser);
      reject(problem);
    };
    parser.on("field", (name, value) => {
      fields[name] = value;
    });
    parser.on("file", (name, stream, info) => {
      if (!FILE_FIELDS.has(name) || file) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("limit", () => fail(tooLarge(maxBytes)));
      stream.on("end", () => {
        if (!failed)
          file = { bytes: Buffer.concat(chunks), declaredType: info.mimeType, filename: info.filename ?? "" };
      });
    });
    parser.on("error", () =>
      fail(new ProblemError(400, "malformed_request", "The multipart body could not be read")),
    );
    parser.on("close", () => {
      if (failed) return;
      if (!file || file.bytes.length === 0)
        return fail(
          new ProblemError(400, "validation_failed", "Invalid body: file", [
            { field: "file", message: "a non-empty file part named file is required" },
          ]),
        );
      resolve({ ...file, fields });
    });
    source.on("error", () => fail(new ProblemError(400, "malformed_request", "The upload was interrupted")));
    source.pipe(parser);
  });
}

/** The file's real type from its first bytes; the declared Content-Type is not trusted. */
async function checkType(kind: UploadKind, received: Received): Promise<{ mime: string; ext: string }> {
  const detected = await fileTypeFromBuffer(received.bytes);
  const ok =
    kind === "image"
      ? detected?.mime === "image/jpeg" || detected?.mime === "image/png"
      : !!detected && /^(audio|video)\//.test(detected.mime);
  if (!ok || !detected)
    throw new ProblemError(
      415,
      "unsupported_media_type",
      `The file is not ${kind === "image" ? "a JPEG or PNG image" : "an audio file"}`,
      [
        {
          field: "file",
          message: `must be ${kind === "image" ? "JPEG or PNG" : "audio (mp3, wav, m4a, flac, ogg ...)"}; its content is ${detected?.mime ?? "of unknown type"} (declared ${received.declaredType || "nothing"})`,
        },
      ],
    );
  return { mime: detected.mime, ext: detected.ext };
}

/** D-ID accepts file names of at most 50 of [A-Za-z0-9._-] (research §3). */
function safeName(original: string, kind: UploadKind, ext: string): string {
  const base =
    original
      .replace(/\.[^.]*$/, "")
      .replace(/[^A-Za-z0-9_-]/g, "_")
      .slice(0, 40) || kind;
  return `${base}.${ext}`;
}

export async function uploadFile(c: Context<HonoEnv>, kind: UploadKind, priority?: Priority) {
  const services = c.get("services");
  const videos = videoServices(services);
  const max =
    kind === "image"
      ? services.config.VIDEO_UPLOAD_IMAGE_MAX_BYTES
      : services.config.VIDEO_UPLOAD_AUDIO_MAX_BYTES;
  const received = await receiveFile(c, max);
  const { mime, ext } = await checkType(kind, received);
  const file = { bytes: received.bytes, mimeType: mime, filename: safeName(received.filename, kind, ext) };
  const context = { priority: priority ?? parsePriority(received.fields.priority), signal: c.req.raw.signal };
  const uploaded: Uploaded =
    kind === "image"
      ? await videos.provider.uploadImage(file, context)
      : await videos.provider.uploadAudio(file, context);
  await videos.jobs.insertUpload({
    id: uploaded.id,
    kind,
    owner: c.get("videoOwner"),
    url: uploaded.url,
    mimeType: mime,
    sizeBytes: received.bytes.length,
  });
  return {
    upload: { id: uploaded.id, kind, url: uploaded.url, mimeType: mime, sizeBytes: received.bytes.length },
    raw: uploaded,
  };
}

/** The replaced router took HIGH/NORMAL/LOW in any case; anything else is normal. */
export function parsePriority(value: string | undefined): Priority {
  const lower = value?.trim().toLowerCase();
  return lower === "high" || lower === "low" ? lower : "normal";
}
