/**
 * Runs the catalogue: every check starts at once, each under its own budget, the whole run
 * under a deadline. A check's facts are gathered first — each fact once per run, shared by every
 * check that needs it, in parallel — then its pure judge decides. A gatherer or judge that throws
 * or hangs makes the check `unknown` with the reason (its signal is aborted so a hung query is
 * cancelled, once no check waits for that fact any more); results come back in catalogue order.
 * Checks gated on the connection wait for it and are `skipped` (downstream of it) when it did not
 * succeed. Time comes from a Clock (tests drive a fake one). Never throws for a check's sake.
 */
import {setMaxListeners} from 'node:events'
import {systemClock, type Clock} from '../shared/clock.js'
import {redactForDisplay as redactFull} from '../shared/redact.js'
import type {CheckDef, JudgeContext} from './check.js'
import type {Gatherers} from './facts/index.js'
import type {CheckOutcome, CheckResult} from './types.js'

export interface RunnerOptions {
  timeoutMs: number
  deadlineMs: number
  fast: boolean
  /** Resolves to why checks gated on the connection cannot run (undefined: they can). */
  databaseGate: () => Promise<string | undefined>
  /** Called once per check still running after `slowAfterMs`. */
  onSlow?: (name: string) => void
  slowAfterMs?: number
  /** Timers and durations; default the system clock (durations to a tenth of a millisecond). */
  clock?: Clock
}

/** The system clock, reading the high-resolution timer so durations keep their tenths. */
const runClock: Clock = {...systemClock, now: () => performance.timeOrigin + performance.now()}

class Timeout extends Error {}

export async function runChecks<F>(
  defs: readonly CheckDef<F>[],
  gather: Gatherers<F>,
  ctx: JudgeContext,
  options: RunnerOptions,
): Promise<CheckResult[]> {
  const clock = options.clock ?? runClock
  const deadline = new AbortController()
  setMaxListeners(0, deadline.signal) // one listener per check, by design
  const after = (ms: number, fn: () => void): (() => void) => {
    const handle = clock.setTimeout(fn, ms)
    return () => clock.clearTimeout(handle)
  }
  const clearDeadline = after(options.deadlineMs, () => deadline.abort(new Timeout('run deadline')))
  const clearSlow: (() => void)[] = []
  const facts = sharedGathering(gather)

  const runOne = async (def: CheckDef<F>): Promise<CheckResult> => {
    const started = clock.now()
    const result = (outcome: CheckOutcome, extra: Partial<CheckResult> = {}): CheckResult => ({
      name: def.name,
      category: def.category,
      ...outcome,
      duration_ms: Math.round((clock.now() - started) * 10) / 10,
      ...(def.downstreamOf?.length ? {downstream_of: def.downstreamOf} : {}),
      ...extra,
    })
    let settled = false
    if (options.onSlow) {
      clearSlow.push(
        after(options.slowAfterMs ?? 10_000, () => {
          if (!settled) options.onSlow?.(def.name)
        }),
      )
    }
    try {
      if (options.fast && def.opensConnection) return result({status: 'skipped', message: 'skipped under --fast'})
      if (def.gatedOnConnection) {
        if (options.fast) return result({status: 'skipped', message: 'skipped under --fast (needs the database)'})
        const gate = await raceAbort(options.databaseGate(), deadline.signal)
        if (gate !== undefined) return result({status: 'skipped', message: `not checked: ${gate}`}, {downstream_of: ['connection']})
      }
      // The check's own budget starts when it can actually run.
      const budget = new AbortController()
      const onDeadline = (): void => budget.abort(deadline.signal.reason)
      deadline.signal.addEventListener('abort', onDeadline, {once: true})
      const clearBudget = after(options.timeoutMs, () => budget.abort(new Timeout(`no answer within ${options.timeoutMs} ms`)))
      try {
        const gathered = await raceAbort(facts(def.needs, budget.signal), budget.signal)
        return result(def.judge(gathered, ctx))
      } finally {
        clearBudget()
        deadline.signal.removeEventListener('abort', onDeadline)
      }
    } catch (e) {
      if (e instanceof Timeout) {
        return result({
          status: 'unknown',
          message: `did not finish: ${e.message === 'run deadline' ? `the run deadline (${options.deadlineMs} ms) passed` : e.message}`,
        })
      }
      const message = e instanceof Error ? e.message : String(e)
      return result(
        {status: 'unknown', message: `could not be evaluated: ${redactFull(message).split('\n')[0]}`},
        {
          debug_stack: redactFull(e instanceof Error ? (e.stack ?? message) : message),
        },
      )
    } finally {
      settled = true
    }
  }

  try {
    return await Promise.all(defs.map(runOne))
  } finally {
    clearDeadline()
    for (const clear of clearSlow) clear()
  }
}

/**
 * Gather what one check needs and judge it, with no budget: for tests and tools that judge a
 * single check outside a run.
 */
export async function evaluate<F, K extends keyof F>(
  def: CheckDef<F, K>,
  gather: Pick<Gatherers<F>, K>,
  ctx: JudgeContext,
): Promise<CheckOutcome> {
  const facts = sharedGathering(gather as Gatherers<Pick<F, K>>)
  return def.judge(await facts(def.needs, new AbortController().signal), ctx)
}

interface Running {
  promise: Promise<unknown>
  controller: AbortController
  waiting: number
}

/**
 * Each fact gathered at most once, on first need, and shared. Its signal aborts when every check
 * that waited for it has given up (its budget or the run's deadline), so a hung query is
 * cancelled on the server without cutting short a check that still waits.
 */
function sharedGathering<F>(gather: Gatherers<F>): <K extends keyof F>(keys: readonly K[], signal: AbortSignal) => Promise<Pick<F, K>> {
  const running = new Map<keyof F, Running>()
  const one = async (key: keyof F, signal: AbortSignal): Promise<unknown> => {
    let r = running.get(key)
    if (r === undefined) {
      const controller = new AbortController()
      const promise = (async () => gather[key](controller.signal))()
      promise.catch(() => {})
      r = {promise, controller, waiting: 0}
      running.set(key, r)
    }
    const shared = r
    shared.waiting += 1
    const giveUp = (): void => {
      shared.waiting -= 1
      if (shared.waiting === 0) shared.controller.abort(signal.reason)
    }
    if (signal.aborted) giveUp()
    else signal.addEventListener('abort', giveUp, {once: true})
    try {
      return await shared.promise
    } finally {
      signal.removeEventListener('abort', giveUp)
    }
  }
  return async (keys, signal) =>
    Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await one(k, signal)] as const))) as Pick<F, (typeof keys)[number]>
}

/** Settle with `p`, or reject with the signal's reason as soon as it aborts. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  p.catch(() => {})
  const reason = (): Error => (signal.reason instanceof Error ? signal.reason : new Timeout(String(signal.reason)))
  if (signal.aborted) return Promise.reject(reason())
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(reason())
    signal.addEventListener('abort', onAbort, {once: true})
  })
  return Promise.race([p, aborted]).finally(() => signal.removeEventListener('abort', onAbort))
}
