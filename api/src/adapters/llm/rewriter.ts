// Question -> ideal course description, through an OpenAI-compatible chat model, or passed through unchanged.
import OpenAI from "openai";
import type { CallGuard, CallOptions } from "./guard.js";
import { toUpstreamError } from "./openai-errors.js";

export interface Rewriter {
  readonly provider: "openai" | "passthrough";
  readonly model: string;
  /** Part of every cache key: a new prompt never reuses answers of the old one. */
  readonly promptVersion: string;
  rewrite(question: string, options?: CallOptions): Promise<string>;
  /** Throws when a rewrite could not be admitted right now (upstream queue full). */
  refuseEarly(): void;
}

export const REWRITE_PROMPT_VERSION = "rewrite-v1";
const SYSTEM_PROMPT = `You turn a student's question into the catalog description of the ideal course for it.
Write 1-3 sentences in the style of a university course catalog: the subject, the topics covered,
the level, and how it is taught (lectures, labs, projects, online). Do not mention schedules,
days or times. Answer with the description only. Keep the question's language.`;

export class PassThroughRewriter implements Rewriter {
  readonly provider = "passthrough" as const;
  readonly model = "none";
  readonly promptVersion = "none";
  async rewrite(question: string): Promise<string> {
    return question;
  }

  refuseEarly(): void {}
}

export class OpenAIRewriter implements Rewriter {
  readonly provider = "openai" as const;
  readonly promptVersion = REWRITE_PROMPT_VERSION;
  readonly #client: OpenAI;

  constructor(
    options: { apiKey: string; baseURL?: string; model: string },
    private readonly guard: CallGuard,
  ) {
    this.model = options.model;
    // The toolkit owns retries and deadlines: exactly one retry loop (the SDK's is off).
    this.#client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      maxRetries: 0,
      timeout: 60_000,
    });
  }

  readonly model: string;

  refuseEarly(): void {
    this.guard.refuseEarly();
  }

  async rewrite(question: string, options: CallOptions = {}): Promise<string> {
    const completion = await this.guard.call(
      ({ signal }) =>
        this.#client.chat.completions
          .create(
            {
              model: this.model,
              temperature: 0,
              max_tokens: 160,
              messages: [
                { role: "system", content: SYSTEM_PROMPT },
                { role: "user", content: question },
              ],
            },
            { signal },
          )
          .catch((error: unknown) => {
            throw toUpstreamError(error);
          }),
      { tokens: Math.ceil((SYSTEM_PROMPT.length + question.length) / 4) + 160, ...options },
    );
    const text = completion.choices[0]?.message.content?.trim();
    return text || question;
  }
}
