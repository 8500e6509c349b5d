// The budget shared by every process through Redis: one Lua script decides atomically, on the server's clock.
import type { Redis } from "ioredis";
import type { BlockedBy, BudgetLimits, Decision } from "./budget.js";

// KEYS: 1 leases (ZSET member = lease id, score = expiry), 2 request log (ZSET member = "id:tokens",
// score = start), 3 tokens in the log (string). ARGV: id, tokens, maxConcurrent, rpm, tpm, windowMs, leaseMs.
// Time is the server's TIME, so processes with skewed clocks still agree on expiries and windows.
// Returns {1, 0, "ok", active} or {0, waitMs, blockedBy, active}.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id, tokens = ARGV[1], tonumber(ARGV[2])
local maxConcurrent, rpm, tpm = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local windowMs, leaseMs = tonumber(ARGV[6]), tonumber(ARGV[7])

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local active = redis.call('ZCARD', KEYS[1])
if active >= maxConcurrent then
  local earliest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, math.max(1, tonumber(earliest[2]) - now), 'concurrency', active}
end

local function tokensOf(member) return tonumber(string.match(member, ':(%d+)$')) or 0 end

if rpm > 0 or tpm > 0 then
  local since = now - windowMs
  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', since)
  if #expired > 0 then
    local freed = 0
    for _, member in ipairs(expired) do freed = freed + tokensOf(member) end
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', since)
    redis.call('DECRBY', KEYS[3], freed)
  end
  local count = redis.call('ZCARD', KEYS[2])
  local used = tonumber(redis.call('GET', KEYS[3]) or '0')
  -- An empty log means nothing is in the window, whatever the counter says (it heals any drift).
  if count == 0 or used < 0 then used = 0 end
  if rpm > 0 and count >= rpm then
    local freeing = redis.call('ZRANGE', KEYS[2], count - rpm, count - rpm, 'WITHSCORES')
    return {0, math.max(1, tonumber(freeing[2]) + windowMs - now), 'rpm', active}
  end
  -- A call estimated above the whole tpm only needs an otherwise empty window, or it would wait forever.
  local need = math.min(tokens, tpm)
  if tpm > 0 and used + need > tpm then
    local entries = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
    local freed = 0
    for i = 1, #entries, 2 do
      freed = freed + tokensOf(entries[i])
      if used - freed + need <= tpm then
        return {0, math.max(1, tonumber(entries[i + 1]) + windowMs - now), 'tpm', active}
      end
    end
    return {0, windowMs, 'tpm', active}
  end
  redis.call('ZADD', KEYS[2], now, id .. ':' .. tokens)
  if count == 0 then redis.call('SET', KEYS[3], tokens) else redis.call('INCRBY', KEYS[3], tokens) end
  redis.call('PEXPIRE', KEYS[2], windowMs + 1000)
  redis.call('PEXPIRE', KEYS[3], windowMs + 1000)
end

redis.call('ZADD', KEYS[1], now + leaseMs, id)
redis.call('PEXPIRE', KEYS[1], leaseMs + 1000)
return {1, 0, 'ok', active + 1}
`;

// KEYS: 1 leases. ARGV: id, leaseMs. Extends a live lease; a lease Redis lost (a restart, or expiry
// while Redis was unreachable) is added back, because its holder really is still using the slot, and
// the budget must count it. Returns 1 when it was present, 0 when it was added back.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local present = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
if present then return 1 end
return 0
`;

// KEYS: 1 leases. ARGV: leaseMs, ids... Records leases this process holds but Redis does not know of
// (taken from memory during an outage, or lost in a restart), before Redis decides anything again.
const ADOPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) + 1000)
return #ARGV - 1
`;

// ioredis' defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT, so a restarted (or
// SCRIPT FLUSHed) Redis needs nothing from us. The names are ours alone on a possibly shared client.
interface Scripted {
  kogiUpstreamAcquire(...args: (string | number)[]): Promise<[number, number, string, number]>;
  kogiUpstreamRenew(...args: (string | number)[]): Promise<number>;
  kogiUpstreamAdopt(...args: (string | number)[]): Promise<number>;
}

export class RedisBudget {
  readonly #redis: Redis & Scripted;
  readonly #keys: [leases: string, log: string, tokens: string];
  /** Set on every (re)connection: the caller must adopt() its held leases before the next decision. */
  needsAdoption = true;

  constructor(
    redis: Redis,
    keyBase: string,
    private readonly limits: BudgetLimits,
  ) {
    if (typeof (redis as Partial<Scripted>).kogiUpstreamAcquire !== "function") {
      redis.defineCommand("kogiUpstreamAcquire", { numberOfKeys: 3, lua: ACQUIRE });
      redis.defineCommand("kogiUpstreamRenew", { numberOfKeys: 1, lua: RENEW });
      redis.defineCommand("kogiUpstreamAdopt", { numberOfKeys: 1, lua: ADOPT });
    }
    // A (re)connection may be to an empty Redis (a restart without persistence): re-register our leases.
    redis.on("ready", () => {
      this.needsAdoption = true;
    });
    this.#redis = redis as Redis & Scripted;
    this.#keys = [`${keyBase}leases`, `${keyBase}log`, `${keyBase}tokens`];
  }

  /** Commands are only sent while connected; otherwise the caller falls back to memory at once. */
  get ready(): boolean {
    return this.#redis.status === "ready";
  }

  async tryAcquire(id: string, tokens: number): Promise<Decision> {
    const { maxConcurrent, rpm, tpm, windowMs, leaseMs } = this.limits;
    const [ok, waitMs, blockedBy, active] = await this.#redis.kogiUpstreamAcquire(
      ...this.#keys,
      id,
      tokens,
      maxConcurrent,
      rpm,
      tpm,
      windowMs,
      leaseMs,
    );
    return ok === 1 ? { ok: true, active } : { ok: false, waitMs, blockedBy: blockedBy as BlockedBy, active };
  }

  async renew(id: string): Promise<boolean> {
    return (await this.#redis.kogiUpstreamRenew(this.#keys[0], id, this.limits.leaseMs)) === 1;
  }

  async adopt(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.#redis.kogiUpstreamAdopt(this.#keys[0], this.limits.leaseMs, ...ids);
    this.needsAdoption = false;
  }

  async release(id: string): Promise<void> {
    await this.#redis.zrem(this.#keys[0], id);
  }
}
