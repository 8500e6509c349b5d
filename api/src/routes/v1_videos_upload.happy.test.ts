// Uploads over a real socket: streamed size limits (413 before the body is read), magic-byte types,
// byte-identical forwarding to D-ID, and uploaded ids used by a job.
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createVideoHarness,
  fakeFile,
  KEY_A,
  KEY_B,
  listen,
  type VideoHarness,
} from "../testutil/video-harness.js";

const IMAGE_LIMIT = 1024 * 1024;
let h: VideoHarness;
let server: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  h = await createVideoHarness({ env: { VIDEO_UPLOAD_IMAGE_MAX_BYTES: String(IMAGE_LIMIT) } });
  server = await listen(h.app);
});
afterAll(async () => {
  await server?.close();
  await h?.close();
});

async function upload(
  path: string,
  file: Buffer,
  type: string,
  name = "photo.png",
  key = KEY_A,
  field = "file",
) {
  const form = new FormData();
  form.append(field, new Blob([file], { type }), name);
  form.append("priority", "HIGH");
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    body: form,
    headers: { authorization: `Bearer ${key}` },
  });
  return {
    response,
    body: (await response.json()) as Record<string, unknown> & { errors?: { field: string }[] },
  };
}

describe("POST /v1/videos/uploads/*", () => {
  it("forwards a PNG and a WAV byte-identical, and a job can use both ids", async () => {
    const png = fakeFile("png", 200_000);
    const image = await upload("/v1/videos/uploads/images", png, "image/png");
    expect(image.response.status).toBe(201);
    expect(image.body).toMatchObject({ kind: "image", mimeType: "image/png", sizeBytes: png.length });
    expect(h.video.fake.upload(image.body.id as string)?.bytes.equals(png)).toBe(true);

    const wav = fakeFile("wav", 50_000);
    const audio = await upload("/v1/videos/uploads/audios", wav, "audio/wav", "voice.wav");
    expect(audio.response.status).toBe(201);
    expect(h.video.fake.upload(audio.body.id as string)?.bytes.equals(wav)).toBe(true);

    const { body } = await h.video.create({ sourceImageId: image.body.id, audioId: audio.body.id });
    const done = await h.video.until(body.id, ["done"]);
    const talk = h.video.fake.talk(done.talkId as string) as { source_url: string };
    expect(talk.source_url).toContain(image.body.id as string);
  });

  it("trusts the content, not the label: a PNG sent as audio is 415 naming the field", async () => {
    const { response, body } = await upload(
      "/v1/videos/uploads/audios",
      fakeFile("png", 10_000),
      "audio/mpeg",
      "a.mp3",
    );
    expect(response.status).toBe(415);
    expect(body.code).toBe("unsupported_media_type");
    expect(body.errors?.[0]?.field).toBe("file");
    const text = await upload(
      "/v1/videos/uploads/images",
      Buffer.from("just some text, no image"),
      "image/png",
    );
    expect(text.response.status).toBe(415);
  });

  it("refuses a declared oversize body at once, with 413, reading none of it", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.url}/v1/videos/uploads/images`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${KEY_A}`,
          "content-type": "multipart/form-data; boundary=x",
          "content-length": String(IMAGE_LIMIT * 5),
        },
      });
      req.on("response", (response) => {
        response.resume();
        req.destroy();
        resolve(response.statusCode ?? 0);
      });
      req.on("error", reject);
      req.write("--x\r\n"); // the rest of the declared length never comes
    });
    expect(status).toBe(413);
  });

  it("refuses a streamed oversize file with 413 before the whole body is read", async () => {
    const total = IMAGE_LIMIT * 20;
    const chunk = fakeFile("png", 64 * 1024);
    const result = await new Promise<{ status: number; sentWhenAnswered: number }>((resolve, reject) => {
      let sent = 0;
      const req = httpRequest(`${server.url}/v1/videos/uploads/images`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${KEY_A}`,
          "content-type": "multipart/form-data; boundary=b0undary",
        },
      });
      req.on("response", (response) => {
        const sentWhenAnswered = sent;
        response.resume();
        req.destroy();
        resolve({ status: response.statusCode ?? 0, sentWhenAnswered });
      });
      req.on("error", (error) => (sent >= total ? reject(error) : undefined));
      const head =
        '--b0undary\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n';
      req.write(head);
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end("\r\n--b0undary--\r\n");
      };
      pump();
    });
    expect(result.status).toBe(413);
    expect(result.sentWhenAnswered).toBeLessThan(total / 2);
  });

  it("needs multipart and a file part", async () => {
    const json = await fetch(`${server.url}/v1/videos/uploads/images`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY_A}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(415);
    const form = new FormData();
    form.append("priority", "low");
    const empty = await fetch(`${server.url}/v1/videos/uploads/images`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY_A}` },
      body: form,
    });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe("file");
  });

  it("an upload id is usable only by the key that uploaded it", async () => {
    const image = await upload("/v1/videos/uploads/images", fakeFile("jpeg", 5_000), "image/jpeg", "p.jpg");
    const { response, body } = await h.video.create(
      { sourceImageId: image.body.id, script: { text: "Hello" } },
      {},
      KEY_B,
    );
    expect(response.status).toBe(400);
    expect(body.errors?.[0]?.field).toBe("sourceImageId");
  });
});

describe("legacy upload routes", () => {
  it("take multipart `file` + `priority` and answer with D-ID's upload JSON", async () => {
    const png = fakeFile("png", 1_000);
    const image = await upload("/api/d_id_optimized/upload-source-image", png, "image/png");
    expect(image.response.status).toBe(200);
    expect(image.body.id).toEqual(expect.any(String));
    expect(image.body.url).toMatch(/^https:\/\//);
    const audio = await upload(
      "/api/d_id_optimized/upload-audio",
      fakeFile("wav", 2_000),
      "audio/wav",
      "v.wav",
    );
    expect(audio.response.status).toBe(200);
    expect(audio.body.url).toMatch(/audio\.wav$/);
  });
});
