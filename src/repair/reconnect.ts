/**
 * `--reconnect`: wait for the database with the engine's retry/backoff (bounded), prove a fresh
 * validated connection (build-then-swap), then heal every live engine process on this host whose
 * state shows a broken pool: verify it is the process that wrote the state file (pid alive,
 * /proc cmdline matches), send SIGUSR2, and wait (bounded) for its state file to report the
 * outcome. State files of dead processes are removed.
 */
import {promises as fs} from 'node:fs'
import {poolNeedsReconnect} from '../checks/pool-health.js'
import {classify, readProcessStates, type ReadProcessState, withRetry, type Engine} from '../engine/index.js'
import {sleep, systemClock} from '../shared/clock.js'
import {shellQuote} from '../shared/shell-quote.js'
import {dirDistrust} from '../shared/trust.js'
import {verifyOwner} from './process-owner.js'
import type {ActionResult, RepairContext} from './types.js'
import {plural} from '../shared/plural.js'

export interface ProcessOutcome {
  pid: number
  command: string
  /** deferred: not signalled because the database is still down (its reconnect would fail too). */
  action: 'removed_stale' | 'signalled' | 'healthy' | 'refused' | 'unreadable' | 'deferred'
  outcome: 'ok' | 'failed' | 'timeout' | 'skipped' | 'would_apply'
  detail: string
  generation_before?: number
  generation_after?: number
  /** Signalled: how long repair waited for the process's answer, from the signal on. */
  waited_ms?: number
}

export interface ReconnectOptions {
  runDir: string
  timeoutMs: number
  /** Opens the engine for the database proof; undefined when there is no database to prove. */
  engine: (() => Promise<Engine>) | undefined
  /** Why the database part is skipped (e.g. the embedded brain is held by another process). */
  skipDatabase?: string
  /** The doctor could not prove the connection before this repair (failed, unknown): wait for it and prove it; otherwise there is nothing to re-establish. */
  wasFailing: boolean
}

/** Whether a state file shows a pool `--reconnect` heals (the rule in checks/pool-health.ts). */
export function needsReconnect(p: ReadProcessState): boolean {
  const h = p.state?.health
  if (!h) return false
  return poolNeedsReconnect({state: h.state, consecutive_failures: h.consecutive_failures, failing: h.failing_since !== null})
}

export async function reconnect(o: ReconnectOptions, ctx: RepairContext): Promise<ActionResult> {
  const clock = ctx.clock ?? systemClock
  const deadline = clock.now() + o.timeoutMs
  const parts: string[] = []
  let failed = false
  let changed = false
  let databaseDown = false
  const data: Record<string, unknown> = {}

  // 1. The database, with the engine's own retry and build-then-swap reconnect.
  if (o.skipDatabase) {
    parts.push(`database: skipped (${o.skipDatabase})`)
  } else if (!o.engine) {
    parts.push('database: nothing configured to prove')
  } else if (!o.wasFailing) {
    // The doctor run that planned this repair has just connected: nothing to re-establish (and
    // nothing to write: opening an engine here would append audit rows on a no-op run).
    parts.push('database: healthy, nothing to do')
  } else if (ctx.dryRun) {
    parts.push('database: would wait for it and prove a fresh connection')
    changed = true
  } else {
    const engine = await o.engine()
    const t0 = clock.now()
    try {
      await withRetry(() => engine.reconnect({force: true}), {
        maxRetries: 1_000_000,
        baseMs: 250,
        maxMs: 5000,
        jitter: 'decorrelated',
        deadlineMs: o.timeoutMs,
        signal: ctx.signal,
        label: 'reconnect',
        clock,
        onRetry: (ev) =>
          ctx.progress(
            `reconnect: waiting for the database (${ev.classified.kind}: ${ev.classified.message.slice(0, 80)}); attempt ${ev.attempt + 1}`,
          ),
      })
      const ms = clock.now() - t0
      data.database = {ok: true, ms}
      parts.push(`database: fresh validated connection in ${ms} ms`)
      changed = true
    } catch (e) {
      const c = classify(e)
      data.database = {ok: false, cause: c.kind, message: c.message}
      parts.push(`database: still unreachable after ${Math.round((clock.now() - t0) / 1000)} s (${c.kind}: ${c.message}) — ${c.hint}`)
      failed = true
      databaseDown = true
    }
  }

  // 2. Live engine processes on this host — only from a run directory no one else can write
  // (the doctor's audit_log check warns about one that is open; repair does not act there).
  const outcomes: ProcessOutcome[] = []
  const distrust = dirDistrust(o.runDir)
  if (distrust) {
    parts.push(
      `processes: not acted on, the run directory is not trusted: ${distrust} (fix: chmod 700 ${shellQuote(o.runDir)}, owned by you)`,
    )
    failed = true
  }
  for (const p of distrust ? [] : await readProcessStates(o.runDir)) {
    if (p.untrusted) {
      outcomes.push({
        pid: p.pid,
        command: '(untrusted state file)',
        action: 'refused',
        outcome: 'failed',
        detail: `not acted on: ${p.error ?? 'untrusted state file'}`,
      })
      failed = true
      continue
    }
    const command = p.state?.command ?? '(unreadable state)'
    if (!p.alive) {
      if (ctx.dryRun)
        outcomes.push({
          pid: p.pid,
          command,
          action: 'removed_stale',
          outcome: 'would_apply',
          detail: `would remove the state file of dead pid ${p.pid}`,
        })
      else {
        await fs.rm(p.file, {force: true})
        outcomes.push({pid: p.pid, command, action: 'removed_stale', outcome: 'ok', detail: `removed the state file of dead pid ${p.pid}`})
      }
      changed = true
      continue
    }
    if (!p.state) {
      outcomes.push({
        pid: p.pid,
        command,
        action: 'unreadable',
        outcome: 'skipped',
        detail: `state file of live pid ${p.pid} is unreadable (${p.error ?? 'unknown'})`,
      })
      continue
    }
    if (!needsReconnect(p)) {
      outcomes.push({pid: p.pid, command, action: 'healthy', outcome: 'skipped', detail: `pid ${p.pid} (${command}) is healthy`})
      continue
    }
    if (databaseDown) {
      // Its reconnect would fail the same way: say so rather than spend no time waiting for it.
      outcomes.push({
        pid: p.pid,
        command,
        action: 'deferred',
        outcome: 'skipped',
        detail: `pid ${p.pid} (${command}) not signalled: the database is still unreachable, its reconnect would fail too (run gbrain repair --reconnect again once the database is up)`,
      })
      continue
    }
    const refusal = verifyOwner(p)
    if (refusal) {
      outcomes.push({pid: p.pid, command, action: 'refused', outcome: 'failed', detail: `not signalled: ${refusal}`})
      failed = true
      continue
    }
    changed = true
    if (ctx.dryRun) {
      outcomes.push({
        pid: p.pid,
        command,
        action: 'signalled',
        outcome: 'would_apply',
        detail: `would send SIGUSR2 to pid ${p.pid} (${command}) and wait for its reconnect`,
      })
      continue
    }
    outcomes.push(await signalAndWait(p, deadline, ctx))
    if (outcomes.at(-1)!.outcome !== 'ok') failed = true
  }
  data.processes = outcomes
  for (const x of outcomes) if (x.action !== 'healthy') parts.push(x.detail)
  if (outcomes.every((x) => x.action === 'healthy') && outcomes.length > 0)
    parts.push(`${plural(outcomes.length, 'live process', 'live processes')} healthy`)

  const status = failed ? 'failed' : ctx.dryRun ? (changed ? 'would_apply' : 'skipped') : changed ? 'applied' : 'skipped'
  return {name: 'reconnect', status, detail: parts.join('; '), data}
}

async function signalAndWait(p: ReadProcessState, deadline: number, ctx: RepairContext): Promise<ProcessOutcome> {
  const clock = ctx.clock ?? systemClock
  const command = p.state!.command
  const before = p.state!.health.generation
  const sentAt = clock.now()
  try {
    process.kill(p.pid, 'SIGUSR2')
  } catch (e) {
    return {
      pid: p.pid,
      command,
      action: 'signalled',
      outcome: 'failed',
      detail: `could not signal pid ${p.pid}: ${(e as NodeJS.ErrnoException).code}`,
    }
  }
  ctx.progress(`reconnect: SIGUSR2 sent to pid ${p.pid}, waiting for its state file`)
  const until = Math.min(deadline, sentAt + 30_000)
  while (clock.now() < until) {
    await sleep(clock, 100, ctx.signal).catch(() => {})
    const now = (await readProcessStates(p.file.replace(/\/[^/]+$/, ''))).find((x) => x.pid === p.pid)
    const sig = now?.state?.last_signal
    if (!now?.alive)
      return {
        pid: p.pid,
        command,
        action: 'signalled',
        outcome: 'failed',
        detail: `pid ${p.pid} exited while reconnecting`,
        waited_ms: clock.now() - sentAt,
      }
    if (sig && Date.parse(sig.received_at) >= sentAt - 1000 && sig.outcome !== 'in_progress') {
      const after = now.state!.health.generation
      return sig.outcome === 'ok'
        ? {
            pid: p.pid,
            command,
            action: 'signalled',
            outcome: 'ok',
            detail: `pid ${p.pid} (${command}) reconnected (pool generation ${before} → ${after})`,
            generation_before: before,
            generation_after: after,
            waited_ms: clock.now() - sentAt,
          }
        : {
            pid: p.pid,
            command,
            action: 'signalled',
            outcome: 'failed',
            detail: `pid ${p.pid} (${command}) tried and failed: ${sig.error ?? 'unknown error'}`,
            generation_before: before,
            waited_ms: clock.now() - sentAt,
          }
    }
  }
  return {
    pid: p.pid,
    command,
    action: 'signalled',
    outcome: 'timeout',
    detail: `pid ${p.pid} (${command}) did not report a reconnect within ${Math.round((until - sentAt) / 1000)} s`,
    waited_ms: clock.now() - sentAt,
  }
}
