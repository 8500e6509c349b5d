// Talks in the fake D-ID: the created → started → done|error|rejected clock, concurrency slots, credits, GET bodies.
import type { TalkRequest } from "./d-id-talk-request.js";
import type { UploadStore } from "./d-id-uploads.js";
import { DIdError, isoTime, isoTimeWithoutZone, newDIdId, validationError } from "./d-id-wire.js";

export type TalkStatus = "created" | "started" | "done" | "error" | "rejected";

/** Read live on every transition, so setBehavior() reaches talks already under way. */
export interface TalkSettings {
  queueMs: number;
  renderMs: number;
  /** Talks allowed in created/started at once; undefined = unlimited. */
  maxInProgress: number | undefined;
  overCapacity: "queue" | "reject";
}

export interface TalkCounters {
  talksCreated: number;
  creditsCharged: number;
  inProgress: number;
  maxInProgress: number;
  /** Talks created but waiting in "created" for a slot (not part of inProgress). */
  waiting: number;
  talksByUserData: Record<string, number>;
  createOrder: string[];
}

interface TalkError {
  kind: string;
  description: string;
}

interface Talk {
  seq: number;
  id: string;
  request: TalkRequest;
  status: TalkStatus;
  /** Where the talk is headed, decided at creation from the triggers. */
  ending: { status: "done" } | { status: "error" | "rejected"; error: TalkError };
  duration: number;
  createdAt: number;
  startedAt?: number;
  modifiedAt: number;
}

export interface TalkStoreOptions {
  /** The account's user id, as `user_id` / `created_by` show it. */
  userId: string;
  settings: TalkSettings;
  credits: number;
  uploads: UploadStore;
  signResultUrl: (talkId: string) => string;
  /** Called once per talk on reaching done/error/rejected, with its GET body and a stale "started" copy. */
  onFinal: (webhook: string | undefined, final: object, stale: object) => void;
}

// Test triggers, looked for in a text script's input and in user_data.
const TRIGGER_MODERATION = "[[moderation]]";
const TRIGGER_ERROR = "[[error]]";
const TRIGGER_REJECTED = "[[rejected]]";
const MODERATION_DESCRIPTION =
  "Automatic content moderation - contact support if you would like to submit for manual review";
// Speech runs about 2.5 words a second; frames are 25 a second (research doc §7).
const WORDS_PER_SECOND = 2.5;
const FRAMES_PER_SECOND = 25;
// An audio_url the fake did not upload has no length it can know.
const UNKNOWN_AUDIO_SECONDS = 5;
const RESULT_KIB = 334.2;

const round2 = (value: number) => Math.round(value * 100) / 100;

export class TalkStore {
  readonly counters: TalkCounters = {
    talksCreated: 0,
    creditsCharged: 0,
    inProgress: 0,
    maxInProgress: 0,
    waiting: 0,
    talksByUserData: {},
    createOrder: [],
  };
  /** Balance left, after the credit each unfinished talk holds. */
  creditsRemaining: number;
  creditsTotal: number;
  // Map order is creation order; list() walks it backwards.
  private readonly talks = new Map<string, Talk>();
  private readonly waiting: Talk[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private seq = 0;

  constructor(private readonly options: TalkStoreOptions) {
    this.creditsRemaining = options.credits;
    this.creditsTotal = options.credits;
  }

  /** `POST /talks` after validation: the 201 body, or 451/402/429 as D-ID would answer. */
  create(request: TalkRequest): object {
    const text = [request.script.type === "text" ? request.script.input : "", request.user_data ?? ""].join(
      "\n",
    );
    if (text.includes(TRIGGER_MODERATION)) {
      throw new DIdError(451, "TextModerationError", MODERATION_DESCRIPTION);
    }
    if (this.creditsRemaining <= 0) throw new DIdError(402, "InsufficientCreditsError", "not enough credits");
    if (this.options.settings.overCapacity === "reject" && !this.slotFree()) {
      throw new DIdError(429, "TooManyRequestsError", "too many talks in progress");
    }

    const now = Date.now();
    this.seq += 1;
    const talk: Talk = {
      seq: this.seq,
      id: `tlk_${newDIdId()}`,
      request,
      status: "created",
      ending: this.ending(request, text),
      duration: this.duration(request),
      createdAt: now,
      modifiedAt: now,
    };
    this.talks.set(talk.id, talk);
    // D-ID returns credits for failed talks ("you are not billed for errors"), so a talk holds one until it ends.
    this.creditsRemaining -= 1;
    const counters = this.counters;
    counters.talksCreated += 1;
    counters.createOrder.push(request.user_data ?? "");
    if (request.user_data !== undefined) {
      counters.talksByUserData[request.user_data] = (counters.talksByUserData[request.user_data] ?? 0) + 1;
    }
    if (this.slotFree()) this.admit(talk);
    else {
      this.waiting.push(talk);
      counters.waiting = this.waiting.length;
    }
    return {
      id: talk.id,
      object: "talk",
      created_at: isoTime(now),
      created_by: this.options.userId,
      status: "created",
    };
  }

  /** The GET representation, or undefined for an unknown id. */
  view(id: string): object | undefined {
    const talk = this.talks.get(id);
    return talk && this.represent(talk);
  }

  /** `GET /talks`: newest first; the token names the last talk returned and is left out on the last page. */
  list(limitParam: string | null, tokenParam: string | null): { talks: object[]; token?: string } {
    const limit = limitParam === null ? 100 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1)
      throw validationError("query.limit", "invalid integer number", limitParam);
    let before = Number.POSITIVE_INFINITY;
    if (tokenParam !== null) {
      before = Number(Buffer.from(tokenParam, "base64url").toString("utf8"));
      if (!Number.isInteger(before))
        throw validationError("query.token", "invalid pagination token", tokenParam);
    }
    const older = [...this.talks.values()].reverse().filter((talk) => talk.seq < before);
    const page = older.slice(0, limit);
    const last = page[page.length - 1];
    const talks = page.map((talk) => this.represent(talk));
    if (older.length <= limit || !last) return { talks };
    return { talks, token: Buffer.from(String(last.seq)).toString("base64url") };
  }

  /** `DELETE /talks/{id}`: the deleted talk, 409 while it is still in process, 404 when unknown. */
  remove(id: string): object {
    const talk = this.talks.get(id);
    if (!talk) throw new DIdError(404, "NotFoundError", "not found");
    if (talk.status === "created" || talk.status === "started") {
      throw new DIdError(409, "NotReadyError", "talk is in process, try again later");
    }
    this.talks.delete(id);
    return this.represent(talk);
  }

  /** A done talk's id is downloadable; deleted or unfinished ones are not. */
  hasResult(id: string): boolean {
    return this.talks.get(id)?.status === "done";
  }

  /** `GET /credits`: one credit line carrying the whole balance, and the totals. */
  creditsBody(): object {
    const now = Date.now();
    const line = {
      owner_id: this.options.userId,
      remaining: this.creditsRemaining,
      total: this.creditsTotal,
      expire_at: isoTime(now + 30 * 86_400_000),
      created_at: isoTime(now),
      modified_at: isoTime(now),
      product_billing_interval: "month",
    };
    return { credits: [line], remaining: this.creditsRemaining, total: this.creditsTotal };
  }

  setCredits(credits: number): void {
    this.creditsRemaining = credits;
    this.creditsTotal = credits;
  }

  /** Lets waiting talks into slots freed by a finished talk or a raised maxInProgress. */
  admitWaiting(): void {
    while (this.waiting.length > 0 && this.slotFree()) {
      const next = this.waiting.shift();
      if (next) this.admit(next);
    }
    this.counters.waiting = this.waiting.length;
  }

  /** Stops every clock (reset, close): talks stay where they are and no webhook fires. */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private slotFree(): boolean {
    const max = this.options.settings.maxInProgress;
    return max === undefined || this.counters.inProgress < max;
  }

  private ending(request: TalkRequest, text: string): Talk["ending"] {
    if (text.includes(TRIGGER_ERROR)) {
      return { status: "error", error: { kind: "FaceError", description: "No valid face detected" } };
    }
    if (text.includes(TRIGGER_REJECTED)) {
      return {
        status: "rejected",
        error: { kind: "TextModerationError", description: MODERATION_DESCRIPTION },
      };
    }
    // A deleted upload is a URL D-ID can no longer load: the talk is accepted and fails later, as real ones do.
    const { uploads } = this.options;
    if (uploads.isUploadUrl(request.source_url) && !uploads.byUrl(request.source_url)) {
      return {
        status: "error",
        error: { kind: "SourceError", description: "source image could not be loaded" },
      };
    }
    if (request.script.type === "audio") {
      const audio = request.script.audio_url;
      if (uploads.isUploadUrl(audio) && !uploads.byUrl(audio)) {
        return { status: "error", error: { kind: "UnknownError", description: "audio could not be loaded" } };
      }
    }
    return { status: "done" };
  }

  private duration(request: TalkRequest): number {
    const script = request.script;
    const spoken =
      script.type === "text"
        ? script.input.trim().split(/\s+/).length / WORDS_PER_SECOND
        : (this.options.uploads.byUrl(script.audio_url)?.duration ?? UNKNOWN_AUDIO_SECONDS);
    return round2(spoken + request.padAudioSeconds);
  }

  private later(ms: number, step: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      step();
    }, ms);
    this.timers.add(timer);
  }

  // The queue clock starts only once the talk holds a slot, so a capped fake never runs more than the cap.
  private admit(talk: Talk): void {
    const counters = this.counters;
    counters.inProgress += 1;
    counters.maxInProgress = Math.max(counters.maxInProgress, counters.inProgress);
    this.later(this.options.settings.queueMs, () => this.start(talk));
  }

  private start(talk: Talk): void {
    const now = Date.now();
    talk.status = "started";
    talk.startedAt = now;
    talk.modifiedAt = now;
    this.later(this.options.settings.renderMs, () => this.finish(talk));
  }

  private finish(talk: Talk): void {
    talk.status = talk.ending.status;
    talk.modifiedAt = Date.now();
    this.counters.inProgress -= 1;
    if (talk.status === "done") this.counters.creditsCharged += 1;
    else this.creditsRemaining += 1;
    this.options.onFinal(talk.request.webhook, this.represent(talk), this.represent(talk, "started"));
    this.admitWaiting();
  }

  /** GetTalkDto as real bodies show it (research doc §2.4); `asStarted` rebuilds the body as it was mid-render. */
  private represent(talk: Talk, asStarted?: "started"): object {
    const { request } = talk;
    const status = asStarted ?? talk.status;
    const body: Record<string, unknown> = {
      id: talk.id,
      user_id: this.options.userId,
      created_by: this.options.userId,
      status,
      created_at: isoTime(talk.createdAt),
      modified_at: isoTime(asStarted && talk.startedAt !== undefined ? talk.startedAt : talk.modifiedAt),
      source_url: request.source_url,
      driver_url: request.driver_url,
      config: request.config,
      subtitles: request.script.subtitles,
    };
    if (talk.startedAt !== undefined) body.started_at = isoTimeWithoutZone(talk.startedAt);
    if (request.script.type === "audio") body.audio_url = request.script.audio_url;
    if (request.user_data !== undefined) body.user_data = request.user_data;
    if (request.name !== undefined) body.name = request.name;
    if (request.webhook !== undefined) body.webhook = request.webhook;
    if (status === "done") Object.assign(body, this.doneFields(talk));
    if ((status === "error" || status === "rejected") && talk.ending.status !== "done") {
      body.error = { ...talk.ending.error };
    }
    return body;
  }

  private doneFields(talk: Talk): Record<string, unknown> {
    const frames = Math.max(1, Math.round(talk.duration * FRAMES_PER_SECOND));
    const renderSeconds = Math.max(this.options.settings.renderMs, 1) / 1000;
    return {
      result_url: this.options.signResultUrl(talk.id),
      duration: talk.duration,
      metadata: {
        driver_url: "bank://lively/driver-02/flipped",
        mouth_open: false,
        num_faces: 1,
        num_frames: frames,
        processing_fps: round2(frames / renderSeconds),
        resolution: [512, 512],
        size_kib: RESULT_KIB,
      },
      face: {
        mask_confidence: -1,
        detection: [224, 198, 484, 553],
        overlap: "no",
        size: 512,
        top_left: [98, 119],
        face_id: 0,
        detect_confidence: 0.9998,
      },
    };
  }
}
