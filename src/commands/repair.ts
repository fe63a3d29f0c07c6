import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {DURATION_RANGES, parseDuration} from '../cli/duration.js'
import {EXIT, needsInit, NO_TABLES} from '../cli/errors.js'
import {Interrupt, interruptedOutput, SIGNAL_EXIT} from '../cli/interrupt.js'
import {ProgressWriter} from '../cli/progress.js'
import type {CheckResult} from '../checks/types.js'
import {planRepairs, type PlannedRepair} from '../repair/plan.js'
import {nextSteps, type NextStep} from '../repair/next-steps.js'
import {ACTIONS, type ActionName, type ActionResult, type RepairContext} from '../repair/types.js'
import {brief} from '../repair/run.js'
import {repairDiagnosis, runSession} from '../repair/session.js'
import {repairPlanLines, repairResultLines} from '../render/repair.js'

/** `repair --json`: always this shape, whether it only planned or acted. */
export interface RepairOutput {
  schema_version: 2
  dry_run: boolean
  /** The repairs that applied before acting (what `gbrain repair` alone prints). */
  plan: PlannedRepair[]
  actions: ActionResult[]
  fixed: string[]
  remaining: string[]
  /** What other commands fix (a stale source → `gbrain cycle --source ID`). */
  next: NextStep[]
  checks: Pick<CheckResult, 'name' | 'status' | 'message'>[]
}

export default class Repair extends BaseCommand<typeof Repair> {
  static override summary = 'Act on what the doctor found: unlock, reconnect, replay, prune the audit trail'
  // Paragraphs without line breaks: oclif wraps them to the terminal's width.
  static override description = [
    '--unlock removes the embedded brain’s lock left by a dead process (never a live holder’s); --reconnect waits for the database, proves a fresh connection and heals live engine processes; --replay lands the dead-letter spool; --prune-audit deletes old audit files. With no action flag, prints the plan (the repairs that apply now) and changes nothing. Every action is idempotent; --dry-run prints exactly what would happen. After acting, the checks the actions concern are run again: "N fixed, M remaining".',
    'Exit status: 0 every requested action succeeded and its checks no longer fail; 1 otherwise; 64 usage error; 75 an action could not run because another process holds the embedded brain; 130 interrupted by Ctrl-C (143 SIGTERM): nothing lost, run it again to finish.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> repair',
    '<%= config.bin %> repair --reconnect --replay',
    '<%= config.bin %> repair --all --dry-run',
    '<%= config.bin %> repair --unlock',
    '<%= config.bin %> repair --prune-audit --older-than 30d --json',
  ]
  static override flags = {
    unlock: Flags.boolean({description: 'remove the embedded brain’s lock left by a dead process (never a live holder’s)'}),
    reconnect: Flags.boolean({description: 'wait for the database, prove a fresh connection, heal live engine processes (SIGUSR2)'}),
    replay: Flags.boolean({description: 'land the dead-letter spool through the engine, idempotently'}),
    'prune-audit': Flags.boolean({description: 'delete audit files whose week ended before --older-than'}),
    'older-than': Flags.string({description: 'retention for --prune-audit', default: '30d'}),
    all: Flags.boolean({description: 'every safe repair'}),
    'dry-run': Flags.boolean({description: 'print what would happen, change nothing'}),
    timeout: Flags.string({description: 'how long --reconnect waits for the database', default: '60s'}),
  }

  async run(): Promise<RepairOutput> {
    const f = this.flags
    const timeoutMs = parseDuration(f.timeout, '--timeout', DURATION_RANGES.repairTimeout)
    const olderThanMs = parseDuration(f['older-than'], '--older-than', DURATION_RANGES.retention)
    const target = this.target()
    const requested: ActionName[] = f.all ? [...ACTIONS] : ACTIONS.filter((a) => f[a])

    const bar = new ProgressWriter()
    // Ctrl-C / SIGTERM: the action in flight stops after its statement (a replay keeps every
    // entry it has not landed), the rest are not started, and the command ends interrupted.
    const stop = new Interrupt()
    const unlisten = stop.listen()
    this.onCleanup(async () => unlisten())
    const interrupted = async (): Promise<never> => {
      bar.end()
      const rerun = ['gbrain repair', ...(f.all ? ['--all'] : requested.map((a) => `--${a}`)), ...(f['dry-run'] ? ['--dry-run'] : [])].join(
        ' ',
      )
      const out = interruptedOutput(stop.received!, rerun)
      if (this.jsonEnabled()) this.logJson(out.json)
      else this.logToStderr(out.line)
      return this.exitAfterCleanup(SIGNAL_EXIT[stop.received!])
    }

    const before = await repairDiagnosis(target, this.config.version)
    if (stop.received) return interrupted()
    // No brain yet (or no tables): nothing to repair, and nothing is created here.
    const conn = before.checks.find((c) => c.name === 'connection')
    if (before.coverage.database === 'not_reached' && conn?.status === 'skipped') throw needsInit(`no brain yet at ${target.display}`)
    if (before.checks.some((c) => (c.details as {cause?: unknown} | undefined)?.cause === 'no_tables')) throw needsInit(NO_TABLES)
    const plan = planRepairs(before)
    if (requested.length === 0) {
      const next = nextSteps(before)
      if (!this.jsonEnabled()) for (const line of repairPlanLines(plan, next)) this.log(line)
      return {
        schema_version: 2,
        dry_run: f['dry-run'] === true,
        plan,
        actions: [],
        fixed: [],
        remaining: [],
        next,
        checks: brief(before.checks),
      }
    }

    const ctx: RepairContext = {
      dryRun: f['dry-run'],
      // Step lines (reconnect's waits) on a terminal only, as before; counts drawn in place.
      progress: (line) => {
        if (bar.tty) bar.notice(line)
      },
      counts: (c) => bar.update(c),
      wait: (what) => bar.wait(what),
      signal: stop.signal,
    }
    const session = await runSession(
      {
        requested,
        before,
        target,
        timeoutMs,
        olderThanMs,
        open: () => this.engine(target, {lock: {signal: stop.signal}, onEvent: (e) => bar.engineEvent(e)}),
        // A log gets the replay's final line; an interrupted one gets the interrupted line alone.
        afterAction: (name) => {
          if (name === 'replay') bar.end(stop.received ? {} : {log: true})
        },
        afterActions: () => bar.end(),
        recheck: (concerned) => repairDiagnosis(target, this.config.version, concerned),
      },
      ctx,
    )
    if (session.interrupted) return interrupted()
    const {actions, after, concerned} = session
    const {fixed, remaining, ok} = session.verdict

    const next = nextSteps(after, f['dry-run'] ? [] : actions)
    if (!this.jsonEnabled()) for (const line of repairResultLines({actions, dryRun: f['dry-run'], fixed, remaining, next})) this.log(line)
    // An action that could not run because another process holds the brain: try again later (75).
    if (actions.some((a) => a.data?.open_cause === 'locked')) this.setExitCode(EXIT.locked)
    else if (!ok) this.setExitCode(EXIT.failure)
    return {
      schema_version: 2,
      dry_run: f['dry-run'] === true,
      plan,
      actions,
      fixed,
      remaining,
      next,
      checks: brief(after.checks.filter((c) => concerned.includes(c.name))),
    }
  }
}
