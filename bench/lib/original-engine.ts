/**
 * The recovery benchmark's baseline: a small engine-like batch loop over postgres.js whose retry
 * policy is modelled on the original gbrain engine (spec README: it "retried against a dead
 * pool …; its reconnect tore the old pool down before building the new one, so a single failed
 * reconnect left the engine unusable for the rest of the process"):
 *
 * - on a retryable connection error it reconnects **before** sleeping;
 * - the reconnect ends the old pool first, then builds and tries a new one;
 * - a failed reconnect ends the loop (the batch is lost) and leaves no pool behind, so every
 *   later call fails with "No database connection", which this policy does not retry;
 * - backoff base·2^(n−1) capped, no jitter; no per-attempt timer, no dead-letter spool.
 *
 * It runs the same idempotent writer as the engine under test, so the comparison isolates the
 * retry policy.
 */
import postgres from 'postgres'
import type {BatchWriter, Executor} from '../../src/engine/types.js'

type Sql = postgres.Sql<Record<string, never>>

export interface OriginalPolicy {
  maxRetries: number
  baseMs: number
  maxMs: number
  /**
   * Bound (seconds) on tearing the old pool down. The original awaited `sql.end()` with no
   * timeout, which in postgres.js 3.4.9 can hang after a connection error (#1097); 0 destroys
   * the sockets at once, so the reconnect follows the failure immediately, as the policy says.
   */
  teardownTimeoutS: number
}

const RETRYABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  'CONNECTION_ENDED',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
])

function retryable(e: unknown): boolean {
  const code = (e as {code?: unknown} | null)?.code
  return typeof code === 'string' && (RETRYABLE_CODES.has(code) || code.startsWith('08'))
}

function executor(sql: Sql): Executor {
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      const r = await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])
      return {rows: [...r] as unknown as T[], count: r.count}
    },
  }
}

export class OriginalEngine {
  private sql: Sql | null = null
  /** Counters for the report. */
  readonly stats = {
    retries: 0,
    reconnects: 0,
    failedReconnects: 0,
    teardownMs: [] as number[],
    reconnectMs: [] as number[],
    errors: [] as string[],
  }

  constructor(
    private readonly url: string,
    private readonly policy: OriginalPolicy,
    private readonly applicationName = 'bench-original',
  ) {}

  private build(): Sql {
    return postgres(this.url, {max: 10, fetch_types: false, onnotice: () => {}, connection: {application_name: this.applicationName}})
  }

  async connect(): Promise<void> {
    const sql = this.build()
    await sql.unsafe('select 1')
    this.sql = sql
  }

  async batch<R>(rows: readonly R[], writer: BatchWriter<R>): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        const sql = this.sql
        if (!sql) throw Object.assign(new Error('No database connection'), {code: 'NO_CONNECTION'})
        return await writer.write(executor(sql), rows)
      } catch (e) {
        this.stats.errors.push(errorLabel(e))
        if (attempt > this.policy.maxRetries || !retryable(e)) throw e
        this.stats.retries += 1
        // Reconnect before sleeping: tear the old pool down, then build a new one.
        const old = this.sql
        this.sql = null
        const t0 = performance.now()
        if (old) await old.end({timeout: this.policy.teardownTimeoutS}).catch(() => {})
        this.stats.teardownMs.push(performance.now() - t0)
        this.stats.reconnects += 1
        const fresh = this.build()
        const t1 = performance.now()
        try {
          await fresh.unsafe('select 1')
          this.stats.reconnectMs.push(performance.now() - t1)
        } catch (reconnectError) {
          this.stats.reconnectMs.push(performance.now() - t1)
          this.stats.errors.push(`reconnect: ${errorLabel(reconnectError)}`)
          this.stats.failedReconnects += 1
          void fresh.end({timeout: 0}).catch(() => {})
          throw reconnectError // a failed reconnect ends the loop; no pool is left
        }
        this.sql = fresh
        const delay = Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** (attempt - 1))
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
  }

  async disconnect(): Promise<void> {
    const sql = this.sql
    this.sql = null
    await sql?.end({timeout: 1}).catch(() => {})
  }
}

/** An error's code when it has one (a string, as postgres.js sets it), else its message. */
function errorLabel(e: unknown): string {
  const code = (e as {code?: unknown}).code
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e)
}
