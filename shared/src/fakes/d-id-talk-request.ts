// Validation of a fake D-ID `POST /talks` body against the rules of D-ID's OpenAPI schema (research doc §2.1).
import { validationError } from "./d-id-wire.js";

export type TalkScript =
  | { type: "text"; input: string; ssml: boolean; subtitles: boolean }
  | { type: "audio"; audio_url: string; subtitles: boolean };

export interface TalkRequest {
  script: TalkScript;
  source_url: string;
  driver_url: string;
  /** As GET echoes it: D-ID's defaults overlaid with the request's, `result_format` with its leading dot. */
  config: Record<string, unknown>;
  padAudioSeconds: number;
  user_data?: string;
  name?: string;
  /** Undefined when absent or "" (D-ID: "In a case of empty value, the webhook will not be triggered"). */
  webhook?: string;
}

const DEFAULT_SOURCE_URL = "https://d-id-public-bucket.s3.us-west-2.amazonaws.com/alice.jpg";
// Presigned copies carry a query string after the extension, so one is allowed there.
const SOURCE_URL = /^(https|s3):\/\/\S+\.(jpg|jpeg|png)([?#]\S*)?$/i;
const AUDIO_URL = /^(https|s3):\/\/\S+\.(m4a|flac|mp3|mp4|wav)([?#]\S*)?$/i;
const PROVIDERS = new Set(["microsoft", "elevenlabs", "amazon", "google", "azure-openai"]);

// The config a real talk echoes when the request set none (D-ID's own docs example, research doc §2.4).
const DEFAULT_CONFIG = {
  stitch: false,
  pad_audio: 0,
  align_driver: true,
  sharpen: true,
  auto_match: true,
  normalization_factor: 1,
  logo: { url: "ai", position: [0, 0] },
  motion_factor: 1,
  result_format: ".mp4",
  fluent: false,
  align_expand_factor: 0.3,
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

// Clients send `"fluent":"false"` and `"pad_audio":"0.0"` and D-ID takes them, so the fake does too.
function lenientBoolean(field: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  throw validationError(field, "invalid boolean value", value);
}

function lenientNumber(field: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number)) {
    throw validationError(field, "invalid float number", value);
  }
  if (number < min || number > max) throw validationError(field, `must be between ${min} and ${max}`, value);
  return number;
}

function optionalString(field: string, value: unknown): string | undefined {
  if (value === undefined || typeof value === "string") return value;
  throw validationError(field, "invalid string value", value);
}

function parseScript(script: unknown): TalkScript {
  if (!isObject(script)) throw validationError("body.script", "'script' is required");
  const subtitles = lenientBoolean("body.script.subtitles", script.subtitles) ?? false;
  if (script.type === "text") {
    const input = script.input;
    if (typeof input !== "string") throw validationError("body.script.input", "'input' is required");
    if (input.length < 3) throw validationError("body.script.input", "minLength 3", input);
    if (input.length > 40_000) throw validationError("body.script.input", "maxLength 40000", input.length);
    const provider = script.provider;
    if (provider !== undefined && !(isObject(provider) && PROVIDERS.has(String(provider.type)))) {
      throw validationError(
        "body.script.provider",
        "Could not match the union against any of the items",
        provider,
      );
    }
    const ssml = lenientBoolean("body.script.ssml", script.ssml) ?? false;
    return { type: "text", input, ssml, subtitles };
  }
  if (script.type === "audio") {
    const audioUrl = script.audio_url;
    if (typeof audioUrl !== "string")
      throw validationError("body.script.audio_url", "'audio_url' is required");
    if (!AUDIO_URL.test(audioUrl)) {
      throw validationError("body.script.audio_url", `Not match in '${AUDIO_URL.source}'`, audioUrl);
    }
    return { type: "audio", audio_url: audioUrl, subtitles };
  }
  throw validationError("body.script.type", "should be one of the following; ['text','audio']", script.type);
}

function parseConfig(config: unknown): { echo: Record<string, unknown>; padAudioSeconds: number } {
  if (config === undefined) return { echo: { ...DEFAULT_CONFIG }, padAudioSeconds: 0 };
  if (!isObject(config)) throw validationError("body.config", "invalid object", config);
  const echo: Record<string, unknown> = { ...DEFAULT_CONFIG, ...config };
  for (const flag of ["stitch", "fluent"] as const) {
    echo[flag] = lenientBoolean(`body.config.${flag}`, config[flag]) ?? DEFAULT_CONFIG[flag];
  }
  const padAudioSeconds = lenientNumber("body.config.pad_audio", config.pad_audio, 0, 60) ?? 0;
  echo.pad_audio = padAudioSeconds;
  const format = config.result_format ?? "mp4";
  if (format !== "mp4" && format !== "mov") {
    throw validationError(
      "body.config.result_format",
      "should be one of the following; ['mp4','mov']",
      format,
    );
  }
  echo.result_format = `.${format}`;
  return { echo, padAudioSeconds };
}

/** Parses a `POST /talks` JSON body or throws D-ID's 400 ValidationError; unknown fields are ignored. */
export function parseTalkRequest(body: unknown, options: { allowHttpWebhooks: boolean }): TalkRequest {
  if (!isObject(body)) throw validationError("body.script", "'script' is required");
  const script = parseScript(body.script);

  const sourceUrl = optionalString("body.source_url", body.source_url) ?? DEFAULT_SOURCE_URL;
  if (!SOURCE_URL.test(sourceUrl)) {
    throw validationError("body.source_url", `Not match in '${SOURCE_URL.source}'`, sourceUrl);
  }

  const userData = optionalString("body.user_data", body.user_data);
  if (userData !== undefined && (userData.length > 1000 || userData.trim() === "")) {
    throw validationError("body.user_data", "must be 1 to 1000 characters and not blank", userData);
  }

  let webhook = optionalString("body.webhook", body.webhook);
  if (webhook === "") webhook = undefined;
  // Real D-ID takes https only; loopback tests can't serve https, hence the option.
  const webhookPattern = options.allowHttpWebhooks ? /^https?:\/\/\S+$/ : /^https:\/\/\S+$/;
  if (webhook !== undefined && !webhookPattern.test(webhook)) {
    throw validationError("body.webhook", `Not match in '${webhookPattern.source}'`, webhook);
  }

  // Checked as D-ID checks it, then ignored: the fake always keeps the video itself.
  const resultUrl = optionalString("body.result_url", body.result_url);
  if (resultUrl !== undefined && !/^(https|s3):\/\/.+/.test(resultUrl)) {
    throw validationError("body.result_url", "Not match in '(https|s3):\\/\\/.+'", resultUrl);
  }

  const { echo, padAudioSeconds } = parseConfig(body.config);
  return {
    script,
    source_url: sourceUrl,
    driver_url: optionalString("body.driver_url", body.driver_url) ?? "bank://lively/",
    config: echo,
    padAudioSeconds,
    user_data: userData,
    name: optionalString("body.name", body.name),
    webhook,
  };
}
