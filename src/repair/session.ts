/**
 * What `gbrain repair` and `gbrain doctor --auto-heal` share once they know what to do: a doctor
 * run whose database handle is closed before anything acts, the actions run in order against
 * an engine opened only when one first needs it (and released before re-checking: the embedded
 * brain admits one opener), the checks the actions concern run again, and the verdict. The
 * commands parse, draw progress, handle interrupts and print.
 */
import {runDoctor, type DoctorOptions} from '../checks/doctor.js'
import type {Report} from '../checks/types.js'
import type {ResolvedTarget} from '../config/resolve.js'
import type {Engine} from '../engine/index.js'
import {concernedChecks, judgeRepair, runActions, type ActionsInput, type RepairVerdict} from './run.js'
import type {ActionResult, RepairContext} from './types.js'

/** A doctor run whose database handle is closed before it returns (so an action may open the brain). */
export async function diagnose(options: Omit<DoctorOptions, 'onCleanup'>): Promise<Report> {
  const cleanups: (() => Promise<void>)[] = []
  try {
    const {report} = await runDoctor({...options, onCleanup: (fn) => cleanups.push(fn)})
    return report
  } finally {
    for (const fn of cleanups) await fn().catch(() => {})
  }
}

/** The doctor run repair uses (fixed budgets; `only`: the checks to run again). */
export function repairDiagnosis(target: ResolvedTarget, version: string, only?: string[]): Promise<Report> {
  return diagnose({target, env: process.env, timeoutMs: 5000, deadlineMs: 30_000, fast: false, only, version})
}

/** What runActions takes, with the engine opener the session wraps (opened at most once, released before re-checking). */
export interface SessionInput extends Omit<ActionsInput, 'openEngine'> {
  /** Opens the engine (the command's: lock wait, progress events); called at most once. */
  open: () => Promise<Engine>
  /** Told once every action has run (or the interrupt stopped them), before anything else. */
  afterActions?: () => void
  /** The doctor run after acting, given the concerned checks (not called on a dry run). */
  recheck: (concerned: string[]) => Promise<Report>
}

export type SessionResult =
  | {interrupted: true; actions: ActionResult[]}
  | {interrupted: false; actions: ActionResult[]; after: Report; concerned: string[]; verdict: RepairVerdict}

/** Act, release the engine, re-check the concerned checks (the before-report on a dry run), judge. */
export async function runSession(input: SessionInput, ctx: RepairContext): Promise<SessionResult> {
  const {open, afterActions, recheck, ...actionsInput} = input
  const held: {engine?: Engine} = {}
  const openEngine = async (): Promise<Engine> => (held.engine ??= await open())
  const actions = await runActions({...actionsInput, openEngine}, ctx)
  afterActions?.()
  if (ctx.signal?.aborted) return {interrupted: true, actions}
  // Release our own engine before re-checking (the embedded brain admits one opener).
  const opened = held.engine
  delete held.engine
  if (opened) await opened.disconnect({reason: 'exit'})
  const concerned = concernedChecks(input.requested)
  const after = ctx.dryRun ? input.before : await recheck(concerned)
  return {interrupted: false, actions, after, concerned, verdict: judgeRepair(input.before, after, concerned, actions, ctx.dryRun)}
}
