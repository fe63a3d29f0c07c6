/**
 * Runs the catalogue: every check starts at once, each under its own budget, the whole run
 * under a deadline; a check that throws or hangs becomes `unknown` with the reason (its signal
 * is aborted so a hung query is cancelled); results come back in catalogue order. Database
 * checks wait for `connection` and are `skipped` (downstream of it) when it did not succeed.
 * Never throws for a check's sake.
 */
import {setMaxListeners} from 'node:events'
import {redactForDisplay as redactFull} from '../engine/redact.js'
import {safeTimeout, type SafeTimer} from '../engine/timer.js'
import type {CheckDef} from './check.js'
import type {CheckOutcome, CheckResult} from './types.js'

export interface RunnerOptions {
  timeoutMs: number
  deadlineMs: number
  fast: boolean
  source?: string
  /** Resolves to why database checks cannot run (undefined: they can). */
  databaseGate: () => Promise<string | undefined>
  /** Called once per check still running after `slowAfterMs`. */
  onSlow?: (name: string) => void
  slowAfterMs?: number
  now?: () => number
}

class Timeout extends Error {}

export async function runChecks<F>(defs: readonly CheckDef<F>[], facts: F, options: RunnerOptions): Promise<CheckResult[]> {
  const now = options.now ?? (() => performance.now())
  const deadline = new AbortController()
  setMaxListeners(0, deadline.signal) // one listener per check, by design
  const deadlineTimer = safeTimeout(() => deadline.abort(new Timeout('run deadline')), options.deadlineMs).unref()
  const slowTimers: SafeTimer[] = []

  const runOne = async (def: CheckDef<F>): Promise<CheckResult> => {
    const started = now()
    const result = (outcome: CheckOutcome, extra: Partial<CheckResult> = {}): CheckResult => ({
      name: def.name,
      category: def.category,
      ...outcome,
      duration_ms: Math.round((now() - started) * 10) / 10,
      ...(def.downstreamOf?.length ? {downstream_of: def.downstreamOf} : {}),
      ...extra,
    })
    let settled = false
    if (options.onSlow) {
      const t = safeTimeout(() => {
        if (!settled) options.onSlow?.(def.name)
      }, options.slowAfterMs ?? 10_000)
      t.unref()
      slowTimers.push(t)
    }
    try {
      if (def.database) {
        if (options.fast) return result({status: 'skipped', message: 'skipped under --fast (needs the database)'})
        const gate = await raceAbort(options.databaseGate(), deadline.signal)
        if (gate !== undefined) return result({status: 'skipped', message: `not checked: ${gate}`}, {downstream_of: ['connection']})
      }
      // The check's own budget starts when it can actually run.
      const budget = new AbortController()
      const onDeadline = (): void => budget.abort(deadline.signal.reason)
      deadline.signal.addEventListener('abort', onDeadline, {once: true})
      const timer = safeTimeout(() => budget.abort(new Timeout(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs).unref()
      try {
        const outcome = await raceAbort(def.judge(facts, {fast: options.fast, source: options.source, signal: budget.signal}), budget.signal)
        return result(outcome)
      } finally {
        timer.clear()
        deadline.signal.removeEventListener('abort', onDeadline)
      }
    } catch (e) {
      if (e instanceof Timeout) {
        return result({status: 'unknown', message: `did not finish: ${e.message === 'run deadline' ? `the run deadline (${options.deadlineMs} ms) passed` : e.message}`})
      }
      const message = e instanceof Error ? e.message : String(e)
      return result({status: 'unknown', message: `could not be evaluated: ${redactFull(message).split('\n')[0]}`}, {
        debug_stack: redactFull(e instanceof Error ? e.stack ?? message : message),
      })
    } finally {
      settled = true
    }
  }

  try {
    return await Promise.all(defs.map(runOne))
  } finally {
    deadlineTimer.clear()
    for (const t of slowTimers) t.clear()
  }
}

/** Settle with `p`, or reject with the signal's reason as soon as it aborts. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  p.catch(() => {})
  if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Timeout(String(signal.reason)))
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Timeout(String(signal.reason)))
    signal.addEventListener('abort', onAbort, {once: true})
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}
