// The steerable knobs of the fake D-ID (timings, capacity, webhooks, scripted per-route faults): check, merge, consume.
import type { WebhookKnobs } from "./d-id-webhooks.js";

export type FakeDIdRoute =
  | "createTalk"
  | "getTalk"
  | "listTalks"
  | "deleteTalk"
  | "uploadImage"
  | "uploadAudio"
  | "deleteImage"
  | "deleteAudio"
  | "credits";

export const FAKE_D_ID_ROUTES: readonly FakeDIdRoute[] = [
  "createTalk",
  "getTalk",
  "listTalks",
  "deleteTalk",
  "uploadImage",
  "uploadAudio",
  "deleteImage",
  "deleteAudio",
  "credits",
];

/**
 * One scripted outcome. "ok"; "hang" (never answer); "drop" (destroy the socket, no response); a status answered
 * with D-ID's error body for it; or a 429 (any status) with a `Retry-After` header. "hang" and "drop" let the
 * route run first (for createTalk: the talk exists, the outcome-unknown case); "drop-before" cuts before it runs.
 */
export type FakeDIdStep =
  | "ok"
  | "hang"
  | "drop"
  | "drop-before"
  | number
  | { status: number; retryAfterSeconds?: number };

export interface FakeRouteBehavior {
  /** Extra delay for this route, on top of the fake-wide latencyMs. */
  latencyMs: number;
  /** Consumed one per request, then "ok". Setting it replaces what is left of the previous one. */
  sequence: FakeDIdStep[];
}

export interface FakeDIdBehaviorPatch {
  routes?: Partial<Record<FakeDIdRoute, Partial<FakeRouteBehavior>>>;
  /** Delay before every API answer (not /__fake). */
  latencyMs?: number;
  /** created → started, counted from when the talk gets a slot. */
  queueMs?: number;
  /** started → done | error | rejected. */
  renderMs?: number;
  /** Talks allowed in created/started at once; null (JSON's way to say unset) = unlimited. */
  maxInProgress?: number | null;
  /** Beyond maxInProgress: "queue" keeps the talk in "created" until a slot frees; "reject" answers 429. */
  overCapacity?: "queue" | "reject";
  /** Sets the balance (remaining and total). */
  credits?: number;
  /** Lifetime of a freshly signed result_url. */
  resultTtlMs?: number;
  webhook?: Partial<WebhookKnobs>;
}

export interface FakeDIdBehavior {
  latencyMs: number;
  queueMs: number;
  renderMs: number;
  maxInProgress: number | undefined;
  overCapacity: "queue" | "reject";
  resultTtlMs: number;
  webhook: WebhookKnobs;
  routes: Record<FakeDIdRoute, FakeRouteBehavior>;
}

export function defaultBehavior(): FakeDIdBehavior {
  const routes = Object.fromEntries(
    FAKE_D_ID_ROUTES.map((route) => [route, { latencyMs: 0, sequence: [] }]),
  ) as unknown as Record<FakeDIdRoute, FakeRouteBehavior>;
  return {
    latencyMs: 0,
    queueMs: 1000,
    renderMs: 1500,
    maxInProgress: undefined,
    overCapacity: "queue",
    // Real result URLs expire 24 h after signing (research doc §7).
    resultTtlMs: 86_400_000,
    webhook: { duplicates: 0, staleAfterFinal: false, delayMs: 0 },
    routes,
  };
}

function nonNegative(name: string, value: unknown, integer = false): void {
  if (value === undefined) return;
  const ok = typeof value === "number" && Number.isFinite(value) && value >= 0;
  if (!ok || (integer && !Number.isInteger(value))) {
    throw new RangeError(`fake D-ID: ${name} must be a non-negative ${integer ? "integer" : "number"}`);
  }
}

function checkStep(route: string, step: unknown): void {
  if (step === "ok" || step === "hang" || step === "drop" || step === "drop-before") return;
  const status = typeof step === "number" ? step : (step as { status?: unknown } | null)?.status;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`fake D-ID ${route}: unknown sequence step ${JSON.stringify(step)}`);
  }
  if (typeof step === "object") {
    nonNegative(`${route} retryAfterSeconds`, (step as { retryAfterSeconds?: unknown }).retryAfterSeconds);
  }
}

/** Throws a RangeError for anything a patch (from code or from POST /__fake/behavior) should not contain. */
export function checkPatch(patch: FakeDIdBehaviorPatch): void {
  if (typeof patch !== "object" || patch === null)
    throw new RangeError("fake D-ID: behavior must be an object");
  for (const name of ["latencyMs", "queueMs", "renderMs", "resultTtlMs"] as const)
    nonNegative(name, patch[name]);
  if (patch.maxInProgress !== null) nonNegative("maxInProgress", patch.maxInProgress, true);
  nonNegative("credits", patch.credits, true);
  if (patch.overCapacity !== undefined && patch.overCapacity !== "queue" && patch.overCapacity !== "reject") {
    throw new RangeError('fake D-ID: overCapacity must be "queue" or "reject"');
  }
  if (patch.webhook !== undefined) {
    nonNegative("webhook.duplicates", patch.webhook.duplicates, true);
    nonNegative("webhook.delayMs", patch.webhook.delayMs);
    const stale = patch.webhook.staleAfterFinal;
    if (stale !== undefined && typeof stale !== "boolean") {
      throw new RangeError("fake D-ID: webhook.staleAfterFinal must be a boolean");
    }
  }
  for (const [route, part] of Object.entries(patch.routes ?? {})) {
    if (!FAKE_D_ID_ROUTES.includes(route as FakeDIdRoute))
      throw new RangeError(`fake D-ID: unknown route ${route}`);
    if (typeof part !== "object" || part === null)
      throw new RangeError(`fake D-ID ${route}: must be an object`);
    nonNegative(`${route} latencyMs`, part.latencyMs);
    const sequence = part.sequence;
    if (sequence !== undefined && !Array.isArray(sequence)) {
      throw new RangeError(`fake D-ID ${route}: sequence must be an array`);
    }
    for (const step of sequence ?? []) checkStep(route, step);
  }
}

/** Merges a checked patch into `behavior`; credits are the talk store's business and are left to the caller. */
export function applyPatch(behavior: FakeDIdBehavior, patch: FakeDIdBehaviorPatch): void {
  checkPatch(patch);
  for (const name of ["latencyMs", "queueMs", "renderMs", "resultTtlMs", "overCapacity"] as const) {
    if (patch[name] !== undefined) Object.assign(behavior, { [name]: patch[name] });
  }
  if ("maxInProgress" in patch) behavior.maxInProgress = patch.maxInProgress ?? undefined;
  for (const name of ["duplicates", "staleAfterFinal", "delayMs"] as const) {
    const value = patch.webhook?.[name];
    if (value !== undefined) Object.assign(behavior.webhook, { [name]: value });
  }
  for (const [route, part] of Object.entries(patch.routes ?? {}) as [
    FakeDIdRoute,
    Partial<FakeRouteBehavior>,
  ][]) {
    const current = behavior.routes[route];
    if (part.latencyMs !== undefined) current.latencyMs = part.latencyMs;
    if (part.sequence) current.sequence = [...part.sequence];
  }
}

export function nextStep(behavior: FakeDIdBehavior, route: FakeDIdRoute): FakeDIdStep {
  return behavior.routes[route].sequence.shift() ?? "ok";
}
