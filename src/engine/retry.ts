/**
 * withRetry: one visible place where retry, per-attempt timeout, backoff and reconnect compose.
 *
 * Order per failed attempt (engine.md):
 *   classify → not retryable: throw at once → out of attempts or past the deadline: throw
 *   → await onRetry → yield ≥ 1 timer tick → (retry ≥ 2: sleep the backoff) → await reconnect
 *   → next attempt.
 * After a connection-level failure a readiness probe (`probe`, probe-sleep.ts) may end a backoff
 * sleep early, once the server accepts connections again. It changes neither the attempts nor
 * the deadline. An attempt woken by the probe that fails on the connection again stops the probing
 * for the rest of the call, and the part of the sleep that was skipped is added to the next one.
 * So the total wait stays the policy's unless that happens on the last retry.
 * The tick matters: postgres.js routes a query issued in the same tick as a connection error to
 * the dying connection, where it never settles. A failed reconnect consumes an attempt instead of
 * ending the loop, and its error (e.g. auth failed) is preferred over the symptom it causes
 * (`No database connection`).
 */
import {createBackoff, type Backoff, type Jitter} from './backoff.js'
import {classify, type Classified} from './classify.js'
import {sleep, systemClock, withTimer, type Clock, type Rng} from '../shared/clock.js'
import {AttemptTimeoutError} from './errors.js'
import {AbortedError} from '../shared/errors.js'
import {DEFAULT_RETRY_POLICY} from './retry-policy.js'
import {DEFAULT_PROBE_INTERVAL_MS, sleepUntilReady, type ReadinessProbe} from './probe-sleep.js'

export interface AttemptContext {
  /** 1-based attempt number. */
  attempt: number
  /** Aborted when the attempt times out or the caller aborts. */
  signal: AbortSignal
}

export interface RetryEvent {
  /** The attempt that failed (1-based). */
  attempt: number
  /** The retry about to happen (1-based). */
  retry: number
  error: unknown
  classified: Classified
  /** The sleep planned before the next attempt (0 for the first retry); a readiness probe may end it early. */
  delayMs: number
}

export interface ReconnectContext {
  attempt: number
  error: unknown
  classified: Classified
  signal: AbortSignal | undefined
}

export interface RetryOptions {
  maxRetries?: number
  baseMs?: number
  maxMs?: number
  jitter?: Jitter
  signal?: AbortSignal
  /** Overall budget in ms from the call; no attempt or sleep starts past it. */
  deadlineMs?: number
  /** Each attempt runs under this timer (default 30 s). */
  attemptTimeoutMs?: number
  clock?: Clock
  rng?: Rng
  classify?: (error: unknown) => Classified
  onRetry?: (event: RetryEvent) => void | Promise<void>
  reconnect?: (ctx: ReconnectContext) => Promise<void>
  /** Ends a backoff sleep after a connection-level failure once the server is ready (none: sleep it out). */
  probe?: ReadinessProbe
  /** Spacing of the probes on `clock` (default 100 ms: at most 10 per second). */
  probeIntervalMs?: number
  /** Names the operation in timeout messages. */
  label?: string
}

export class RetryExhaustedError extends Error {
  readonly code = 'RETRY_EXHAUSTED'
  constructor(
    readonly attempts: number,
    readonly lastError: unknown,
    readonly classified: Classified,
    readonly reason: 'retries' | 'deadline',
  ) {
    super(
      `${reason === 'deadline' ? 'deadline passed' : 'retries exhausted'} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${classified.message}`,
      {cause: lastError},
    )
    this.name = 'RetryExhaustedError'
  }
}

export const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000

export async function withRetry<T>(fn: (ctx: AttemptContext) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const clock = options.clock ?? systemClock
  const classifyError = options.classify ?? classify
  const maxRetries = options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries
  // Made at the first retry: a call that lands at once (nearly every call) allocates no schedule.
  let backoff: Backoff | undefined
  const nextDelay = (): number =>
    (backoff ??= createBackoff(
      {
        baseMs: options.baseMs ?? DEFAULT_RETRY_POLICY.baseMs,
        maxMs: options.maxMs ?? DEFAULT_RETRY_POLICY.maxMs,
        jitter: options.jitter ?? DEFAULT_RETRY_POLICY.jitter,
      },
      options.rng,
    )).next()
  const attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS
  const started = clock.now()
  const deadlineAt = options.deadlineMs === undefined ? Infinity : started + options.deadlineMs
  const {signal} = options

  let attempt = 0
  let retries = 0
  let pendingReconnect: ReconnectContext | undefined
  let reconnectError: {error: unknown; classified: Classified} | undefined
  // The last failure that was not an attempt cut short by the deadline: what a run that ends
  // on the deadline reports (a 5 ms last attempt timing out says nothing about the cause).
  let lastCause: {error: unknown; classified: Classified} | undefined
  // The readiness probe: trusted until an attempt it woke fails on the connection again; then
  // the part of that sleep it skipped is owed to the next sleep.
  let probeTrusted = options.probe !== undefined
  let woke: {skippedMs: number} | undefined
  let owedMs = 0

  for (;;) {
    if (signal?.aborted) throw new AbortedError(signal.reason)
    attempt += 1
    let error: unknown
    let failed = false
    let cutShort = false

    if (pendingReconnect && options.reconnect) {
      try {
        await options.reconnect(pendingReconnect)
        reconnectError = undefined
      } catch (e) {
        // The reconnect's failure consumes this attempt; it is the real cause of what follows.
        failed = true
        error = e
        if (!(e instanceof AbortedError)) reconnectError = {error: e, classified: classifyError(e)}
      }
    }

    if (!failed) {
      const remaining = deadlineAt - clock.now()
      const budget = Math.max(1, Math.min(attemptTimeoutMs, remaining))
      cutShort = budget < attemptTimeoutMs
      const controller = new AbortController()
      const onOuterAbort = (): void => controller.abort(signal?.reason)
      signal?.addEventListener('abort', onOuterAbort, {once: true})
      try {
        let run: Promise<T>
        try {
          run = fn({attempt, signal: controller.signal})
        } catch (e) {
          // What fn threw, unchanged, as an async fn would have rejected with it.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          run = Promise.reject(e)
        }
        return await withTimer(
          clock,
          run,
          budget,
          () => {
            controller.abort(new AttemptTimeoutError(budget, options.label))
            return new AttemptTimeoutError(budget, options.label)
          },
          signal,
        )
      } catch (e) {
        error = e
      } finally {
        signal?.removeEventListener('abort', onOuterAbort)
      }
    }

    if (signal?.aborted || error instanceof AbortedError) {
      throw error instanceof AbortedError ? error : new AbortedError(signal?.reason)
    }
    let classified = classifyError(error)
    // Prefer the reconnect's real cause over the symptom it produced.
    if (reconnectError && (classified.kind === 'no_connection' || !classified.retryable || error === reconnectError.error)) {
      error = reconnectError.error
      classified = reconnectError.classified
    }
    if (woke && classified.connectionLevel) {
      probeTrusted = false
      owedMs = woke.skippedMs
    }
    woke = undefined
    if (!classified.retryable) throw error
    const deadlineCut = cutShort && error instanceof AttemptTimeoutError
    if (!deadlineCut) lastCause = {error, classified}
    const cause = deadlineCut && lastCause ? lastCause : {error, classified}
    if (retries >= maxRetries) throw new RetryExhaustedError(attempt, cause.error, cause.classified, 'retries')

    retries += 1
    const drawn = nextDelay()
    const delayMs = retries === 1 ? 0 : drawn
    if (clock.now() + delayMs >= deadlineAt) throw new RetryExhaustedError(attempt, cause.error, cause.classified, 'deadline')
    const sleepMs = delayMs + Math.max(0, Math.min(owedMs, deadlineAt - clock.now() - delayMs - 1))
    owedMs = 0

    await options.onRetry?.({attempt, retry: retries, error, classified, delayMs: sleepMs})
    // At least one timer tick before anything touches the pool again (same-tick hang).
    if (options.probe && probeTrusted && classified.connectionLevel && sleepMs > 0) {
      const from = clock.now()
      const interval = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS
      if (await sleepUntilReady(clock, sleepMs, signal, options.probe, interval)) {
        woke = {skippedMs: Math.max(0, sleepMs - (clock.now() - from))}
      }
    } else {
      await sleep(clock, sleepMs, signal)
    }
    pendingReconnect = {attempt, error, classified, signal}
  }
}
