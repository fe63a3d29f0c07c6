/**
 * One `gbrain repair` with actions: run the requested actions in order against what the doctor
 * found, then judge the result against a second doctor run — which of the checks the actions
 * concern were failing and are not any more. The command parses flags, draws progress, opens the
 * engine and prints; the decisions are here.
 */
import {detailsOf} from '../checks/details.js'
import type {CheckResult, Report} from '../checks/types.js'
import type {ResolvedTarget} from '../config/resolve.js'
import type {Engine} from '../engine/index.js'
import {pruneAudit} from './prune-audit.js'
import {reconnect} from './reconnect.js'
import {replay} from './replay.js'
import {ACTION_CHECKS, type ActionName, type ActionResult, type RepairContext} from './types.js'
import {unlock} from './unlock.js'

export interface ActionsInput {
  requested: readonly ActionName[]
  /** The doctor's report before acting. */
  before: Report
  target: ResolvedTarget
  /** How long `--reconnect` waits for the database. */
  timeoutMs: number
  /** `--prune-audit`'s retention. */
  olderThanMs: number
  /** Opens the engine once, when an action first needs it. */
  openEngine: () => Promise<Engine>
  /** Told after each action (the replay's progress line ends there). */
  afterAction?: (name: ActionName) => void
}

/** Run the requested actions in order; an interrupt (ctx.signal) starts no further action. */
export async function runActions(input: ActionsInput, ctx: RepairContext): Promise<ActionResult[]> {
  const {requested, before, target} = input
  const conn = before.checks.find((c) => c.name === 'connection')
  const connection = detailsOf(before.checks, 'connection')
  const actions: ActionResult[] = []
  for (const name of requested) {
    if (ctx.signal?.aborted) break
    if (name === 'unlock') {
      actions.push(await unlock(target, ctx))
    } else if (name === 'reconnect') {
      // A brain held by a live process is not ours to open; one whose stale lock was just
      // removed (unlock ran first) is proven like any other.
      const unlocked = actions.some((a) => a.name === 'unlock' && a.status === 'applied')
      const heldLive = connection.cause === 'locked' && connection.lock_state === 'held' && connection.holder_alive === true && !unlocked
      const r = await reconnect(
        {
          runDir: target.paths.runDir,
          timeoutMs: input.timeoutMs,
          engine: target.engine === 'pglite' && conn?.status === 'skipped' ? undefined : input.openEngine,
          ...(heldLive ? {skipDatabase: `the embedded brain is held by pid ${String(connection.holder_pid ?? 'unknown')}`} : {}),
          wasFailing: conn?.status !== 'ok',
        },
        ctx,
      )
      // Not done for the database part: another process holds the brain (exit 75).
      actions.push(heldLive ? {...r, data: {...r.data, open_cause: 'locked'}} : r)
    } else if (name === 'replay') {
      actions.push(await replay(target.paths.spoolDir, input.openEngine, ctx))
    } else {
      actions.push(await pruneAudit(target.paths.auditDir, input.olderThanMs, (ctx.clock ?? {now: Date.now}).now(), ctx))
    }
    input.afterAction?.(name)
  }
  return actions
}

/** The checks the requested actions are meant to heal: what repair runs again afterwards. */
export function concernedChecks(requested: readonly ActionName[]): string[] {
  return [...new Set(requested.flatMap((a) => ACTION_CHECKS[a]))]
}

export interface RepairVerdict {
  /** Concerned checks that failed or warned before and do neither now. */
  fixed: string[]
  /** Concerned checks that still fail. */
  remaining: string[]
  /** Every action succeeded and (unless a dry run) nothing concerned still fails. */
  ok: boolean
}

const ATTENTION = new Set<CheckResult['status']>(['fail', 'warn'])
const FAILING = new Set<CheckResult['status']>(['fail'])

/**
 * Judge a repair: what the actions fixed, what still fails, and whether it all went well. A
 * warning the actions cleared counts as fixed (a young intact dead-letter spool warns: issue 14).
 */
export function judgeRepair(
  before: Report,
  after: Report,
  concerned: readonly string[],
  actions: readonly ActionResult[],
  dryRun: boolean,
): RepairVerdict {
  const named = (r: Report, statuses: ReadonlySet<CheckResult['status']>): Set<string> =>
    new Set(r.checks.filter((c) => statuses.has(c.status) && concerned.includes(c.name)).map((c) => c.name))
  const was = named(before, ATTENTION)
  const still = named(after, ATTENTION)
  const fixed = [...was].filter((n) => !still.has(n))
  const remaining = [...named(after, FAILING)]
  return {fixed, remaining, ok: actions.every((a) => a.status !== 'failed') && (dryRun || remaining.length === 0)}
}

/** A check as repair's JSON lists it: its name, status and message. */
export function brief(checks: readonly CheckResult[]): Pick<CheckResult, 'name' | 'status' | 'message'>[] {
  return checks.map((c) => ({name: c.name, status: c.status, message: c.message}))
}
