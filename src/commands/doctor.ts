/**
 * `gbrain doctor`: one flag set, one validation, and its modes (the run, `--auto-heal`, `--list`,
 * `--trend`, the acknowledgements), each mode's logic in its own module; this file wires them.
 * Over 300 lines on purpose: the modes share the flags and their cross-checks, and splitting the
 * class would scatter one command's usage rules (issue 14 added --auto-heal's wiring).
 */
import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {DURATION_RANGES, parseDuration} from '../cli/duration.js'
import {OperationalError, UsageError} from '../cli/errors.js'
import {checkName, checkSelection} from '../cli/check-selection.js'
import {checkOutputFile} from '../cli/output-file.js'
import {runDoctor, type DoctorOptions} from '../checks/doctor.js'
import {CATALOGUE, describeChecks} from '../checks/catalogue.js'
import {countOf} from '../checks/acknowledge.js'
import {acknowledge, expired, reasonProblem} from '../baselines/acknowledge.js'
import {readBaselines, writeBaselines, type BaselinesRead} from '../baselines/file.js'
import {renderBaselines, type BaselinesListing} from '../render/baselines.js'
import {plural} from '../shared/plural.js'
import {exitCode, nagiosCode, type FailOn} from '../checks/report.js'
import {writeFileAtomic} from '../shared/fs-atomic.js'
import {FORMATS, RENDERERS, renderFormat, type Format, type Picture} from '../render/formats.js'
import {Interrupt, interruptedOutput, SIGNAL_EXIT} from '../cli/interrupt.js'
import {ProgressWriter} from '../cli/progress.js'
import type {Report} from '../checks/types.js'
import {readLastHeals} from '../history/heals.js'
import {runHeal, type HealSection} from '../repair/heal.js'
import {diagnose} from '../repair/session.js'
import type {RepairContext} from '../repair/types.js'
import {shellQuote} from '../shared/shell-quote.js'
import {decideColor, decideUnicode, decideWidth} from '../render/terminal.js'
import {appendFile} from 'node:fs/promises'
import {resolvePaths} from '../engine/index.js'
import {recordRun} from '../history/record.js'
import {historyPath, readTail} from '../history/file.js'
import {buildTrend, FLAP_WINDOW, TREND_LAST} from '../history/trend.js'
import {auditHoursWithin} from '../checks/facts/audit-hours.js'
import {pictureTrend} from '../history/picture-trend.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Diagnose the brain: connectivity, retries, freshness, pool and storage'
  // Paragraphs without line breaks: oclif wraps them to the terminal's width.
  static override description = [
    'The checks (gbrain doctor --list names them) cover the connection and the embedded brain’s lock, batch retries and their settings, cycle and sync freshness, the pool and live engine processes, the dead-letter spool, disk space, connection slots, idle transactions and the audit trail. Read-only: it never writes to the database, the audit trail or the spool. It writes --output-file (whose directory must exist) and appends one line per run to <home>/doctor-history.jsonl when the brain home exists (--no-history: neither read nor written); --json reports the score’s change since the previous run. A finding acknowledged with --acknowledge (kept in <home>/doctor-baselines.json) reports ok while it stays at or below what it was, until the acknowledgement expires.',
    '--auto-heal fixes warnings with repair’s own safe, idempotent actions (replay a young intact dead-letter spool, prune expired audit files, unlock a dead process’s lock, reconnect a live process), never a failure: each failure is listed as needing attention with its repair command. It runs the checks again and reports each heal’s checks before and after; a heal applied within --min-interval (default 6h) is skipped, each heal is recorded in the history (so --no-history is refused), and --dry-run says what it would heal and changes nothing. The exit status follows the report after healing.',
    'Exit status: 0 healthy (warnings allowed unless --fail-on warn), 1 unhealthy, 3 nothing failed but something could not be evaluated, 64 usage error, 70 internal error. --format nagios uses the plugin contract instead (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).',
  ].join('\n\n')
  static override examples = [
    {description: 'Every check; the table lists what needs attention (-v: every check, with timings)', command: '<%= config.bin %> doctor'},
    {description: 'The report as JSON (schema_version 2)', command: '<%= config.bin %> doctor --json'},
    {
      description: 'A CI gate: annotations, and a non-zero exit on any warning',
      command: '<%= config.bin %> doctor --format github --fail-on warn',
    },
    {
      // Two lines to paste: the directory node_exporter's --collector.textfile.directory names, then the report into it.
      description: 'Metrics for node_exporter’s textfile collector (its directory made once, then the report written into it)',
      command:
        'mkdir -p /var/lib/node_exporter/textfile\n<%= config.bin %> doctor --format prometheus --output-file /var/lib/node_exporter/textfile/gbrain.prom',
    },
    {
      description: 'One self-contained page: each check and its fix, the score over the history, the last 24 h of retries per hour',
      command: '<%= config.bin %> doctor --format html --output-file report.html',
    },
    {
      description: 'Two checks on files only, without touching the database',
      command: '<%= config.bin %> doctor --fast --only batch_retry_health,dead_letter',
    },
    {
      description:
        'Heal what only warns (a young dead-letter spool, expired audit files), then check again; failures are listed with their fix',
      command: '<%= config.bin %> doctor --auto-heal',
    },
    {
      description: 'What --auto-heal would do now, changing nothing',
      command: '<%= config.bin %> doctor --auto-heal --dry-run',
    },
    {
      description: 'Accept a known warning for 30 days: ok while it does not grow (--baselines lists them, --unacknowledge removes one)',
      command: "<%= config.bin %> doctor --acknowledge dead_letter --reason 'OPS-42'",
    },
    {
      description: 'The last 5 runs from the history: scores, each check’s status, flapping checks (runs no check)',
      command: '<%= config.bin %> doctor --trend --last 5',
    },
  ]
  static override flags = {
    format: Flags.string({description: 'renderer', options: [...FORMATS]}),
    'output-file': Flags.string({description: 'write the rendered report here atomically instead of stdout'}),
    only: Flags.string({description: 'comma-separated check names to run'}),
    skip: Flags.string({description: 'comma-separated check names to leave out'}),
    list: Flags.boolean({description: 'print the check catalogue and exit'}),
    fast: Flags.boolean({description: 'skip checks that need the database'}),
    source: Flags.string({description: 'limit source-scoped checks to this source id'}),
    'fail-on': Flags.string({description: 'what makes the exit status non-zero', options: ['fail', 'warn', 'never'], default: 'fail'}),
    timeout: Flags.string({description: 'budget per check', default: '5s'}),
    deadline: Flags.string({description: 'budget for the whole run', default: '30s'}),
    quiet: Flags.boolean({char: 'q', description: 'summary line only'}),
    verbose: Flags.boolean({char: 'v', description: 'every check, with timings'}),
    color: Flags.boolean({description: 'force colour on (--no-color: off)', allowNo: true}),
    trend: Flags.boolean({description: 'show the score and check statuses over the last runs from the history; runs no check'}),
    last: Flags.string({description: `with --trend: how many runs (${TREND_LAST.min}-${TREND_LAST.max}, default ${TREND_LAST.default})`}),
    'auto-heal': Flags.boolean({
      description: 'heal warnings with repair’s own safe, idempotent actions (never failures), run the checks again, report before/after',
    }),
    'dry-run': Flags.boolean({description: 'with --auto-heal: say what would be healed, change nothing'}),
    'min-interval': Flags.string({description: 'with --auto-heal: skip an action healed within this long (default 6h)'}),
    acknowledge: Flags.string({
      description: 'accept CHECK’s current warning (or, with --for ≤ 7d, failure): ok while it stays at or below what it is now',
      helpValue: 'CHECK',
    }),
    reason: Flags.string({description: 'with --acknowledge: why, one line kept in the file'}),
    for: Flags.string({description: 'with --acknowledge: how long it holds (default 30d; required for a failure, at most 7d)'}),
    unacknowledge: Flags.string({description: 'remove CHECK’s acknowledgement', helpValue: 'CHECK'}),
    baselines: Flags.boolean({description: 'list the acknowledgements (<home>/doctor-baselines.json); runs no check'}),
    history: Flags.boolean({
      description: 'read and append <home>/doctor-history.jsonl (--no-history: neither)',
      allowNo: true,
      default: true,
    }),
  }

  async run(): Promise<void> {
    const f = this.flags
    const width = decideWidth({
      isTTY: f['output-file'] ? false : Boolean(process.stdout.isTTY),
      columns: process.stdout.columns,
      env: process.env,
    })
    const modes = [
      f.list && '--list',
      f.trend && '--trend',
      f.baselines && '--baselines',
      f.acknowledge !== undefined && '--acknowledge',
      f.unacknowledge !== undefined && '--unacknowledge',
    ].filter((m): m is string => typeof m === 'string')
    if (modes.length > 1) throw new UsageError(`${modes[0]} and ${modes[1]} cannot be used together`, `pick one: ${modes.join(' or ')}`)
    for (const flag of ['reason', 'for'] as const)
      if (f[flag] !== undefined && f.acknowledge === undefined)
        throw new UsageError(
          `--${flag} needs --acknowledge`,
          `gbrain doctor --acknowledge CHECK --${flag} ${flag === 'for' ? '7d' : "'why'"}`,
        )
    if (f['auto-heal'] && modes.length > 0) throw new UsageError(`--auto-heal cannot be used with ${modes[0]}`, 'gbrain doctor --auto-heal')
    for (const flag of ['dry-run', 'min-interval'] as const)
      if (f[flag] !== undefined && f[flag] !== false && !f['auto-heal'])
        throw new UsageError(
          `--${flag} needs --auto-heal`,
          `gbrain doctor --auto-heal --${flag}${flag === 'min-interval' ? ` ${shellQuote(String(f[flag]))}` : ''}`,
        )
    if (f['auto-heal'] && !f.history)
      throw new UsageError(
        '--auto-heal needs the history: it records each heal there and skips one done within --min-interval',
        'gbrain doctor --auto-heal (or gbrain repair --replay for a one-off repair without the history)',
      )
    if (f.list) return this.list(width)
    if (f.baselines) return this.listBaselines()
    if (f.acknowledge !== undefined) return this.acknowledge(f.acknowledge)
    if (f.unacknowledge !== undefined) return this.unacknowledge(f.unacknowledge)
    if (f.last !== undefined && !f.trend) throw new UsageError('--last needs --trend', `gbrain doctor --trend --last ${f.last}`)
    if (f.trend) return this.trend()
    if (f.quiet && f.verbose)
      throw new UsageError('--quiet and --verbose cannot be used together', 'pick one: -q for the summary line, -v for every check')
    if (this.jsonEnabled() && f.format !== undefined && f.format !== 'json') {
      throw new UsageError(`--json and --format ${f.format} cannot be used together`, `pick one: --json, or --format ${f.format}`)
    }
    if (f['output-file']) await checkOutputFile(f['output-file'])
    const timeoutMs = parseDuration(f.timeout, '--timeout', DURATION_RANGES.doctorTimeout)
    const deadlineMs = parseDuration(f.deadline, '--deadline', DURATION_RANGES.doctorDeadline)
    const {only, skip} = checkSelection(f)
    const format: Format = this.jsonEnabled() ? 'json' : ((f.format as Format | undefined) ?? 'table')

    const target = this.target()
    const options: DoctorOptions = {
      target,
      acknowledgements: readBaselines(resolvePaths(process.env).home),
      env: process.env,
      timeoutMs,
      deadlineMs,
      fast: f.fast,
      source: f.source,
      only,
      skip,
      version: this.config.version,
      onSlow: (name) => process.stderr.write(`gbrain doctor: still running: ${name}\n`),
      onCleanup: (fn) => this.onCleanup(fn),
    }
    const healed = f['auto-heal'] ? await this.autoHeal(options) : undefined
    const report = healed ? healed.report : (await runDoctor(options)).report
    this.refuseUnknownSource(report)
    if (f.history) {
      const {comparison, problems} = await recordRun({
        home: resolvePaths(process.env).home,
        report,
        nowMs: Date.now(),
        ...(healed?.heals ? {heals: healed.heals} : {}),
      })
      Object.assign(report, comparison)
      if (f.verbose) for (const p of problems) process.stderr.write(`gbrain doctor: history not kept: ${p}\n`)
    }
    const picture = RENDERERS[format].needs === 'picture' ? await this.picture(f.history, target.paths.auditDir, deadlineMs) : undefined
    const out = await renderFormat(format, report, {
      picture,
      color: decideColor({flag: f.color, env: process.env, isTTY: f['output-file'] ? false : Boolean(process.stdout.isTTY)}),
      unicode: decideUnicode(process.env),
      verbose: f.verbose,
      quiet: f.quiet,
      debug: f.debug,
      width,
    })
    if (f['output-file']) await writeFileAtomic(f['output-file'], out, {fsync: true})
    else process.stdout.write(out.endsWith('\n') ? out : `${out}\n`)
    // The heal's own lines: after the table on stdout; on stderr beside any other format (its stdout stays parseable).
    if (healed && format !== 'json') {
      const {healLines} = await import('../render/heal.js')
      const text = `${healLines(healed.section).join('\n')}\n`
      if (format === 'table' && !f['output-file']) process.stdout.write(text)
      else process.stderr.write(text)
    }
    const {appendTo, nagiosExit} = RENDERERS[format]
    const appendPath = appendTo ? process.env[appendTo.env] : undefined
    if (appendTo && appendPath) await appendFile(appendPath, (await appendTo.load())(report)).catch(() => {})
    const code = nagiosExit ? nagiosCode(report) : exitCode(report, f['fail-on'] as FailOn)
    await this.exitAfterCleanup(code)
  }

  /**
   * `--source` naming no source is a usage error, as it is for `gbrain cycle` (the checks that
   * looked say so in their details; nothing else is printed, and nothing is healed).
   */
  private refuseUnknownSource(report: Report): void {
    const unknownSource = report.checks.find((c) => (c.details as {cause?: unknown} | undefined)?.cause === 'unknown_source')
    if (unknownSource && this.flags.source !== undefined)
      throw new UsageError(`no source with id ${JSON.stringify(this.flags.source)}`, 'gbrain sources list')
  }

  /**
   * `--auto-heal`: the checks (their database handle closed before anything acts), the heals the
   * policy allows, the checks again; the report returned is the one after, with its `heal`.
   */
  private async autoHeal(options: DoctorOptions): Promise<{report: Report; section: HealSection; heals?: Record<string, string>}> {
    const f = this.flags
    const dryRun = f['dry-run'] === true
    const minIntervalMs = parseDuration(f['min-interval'] ?? '6h', '--min-interval', DURATION_RANGES.healInterval)
    const bar = new ProgressWriter()
    // Ctrl-C / SIGTERM as repair handles them: the action in flight stops after its statement
    // (a replay keeps every entry it has not landed), no other starts, nothing is recorded.
    const stop = new Interrupt()
    const unlisten = stop.listen()
    this.onCleanup(async () => unlisten())
    const {onCleanup: _, ...run} = options
    const before = await diagnose(run)
    this.refuseUnknownSource(before)
    const history = await readLastHeals(historyPath(resolvePaths(process.env).home))
    const ctx: RepairContext = {
      dryRun,
      progress: (line) => {
        if (bar.tty) bar.notice(line)
      },
      counts: (c) => bar.update(c),
      wait: (what) => bar.wait(what),
      signal: stop.signal,
    }
    const outcome = stop.received
      ? ({interrupted: true, actions: []} as const)
      : await runHeal(
          {
            before,
            target: options.target,
            lastHealed: history.reason ? null : history.last,
            nowMs: Date.now(),
            minIntervalMs,
            open: () => this.engine(options.target, {lock: {signal: stop.signal}, onEvent: (e) => bar.engineEvent(e)}),
            recheck: () => diagnose(run),
            afterAction: (name) => {
              if (name === 'replay') bar.end(stop.received ? {} : {log: true})
            },
            afterActions: () => bar.end(),
          },
          ctx,
        )
    if (outcome.interrupted || stop.received) {
      bar.end()
      const out = interruptedOutput(stop.received ?? 'SIGINT', `gbrain doctor --auto-heal${dryRun ? ' --dry-run' : ''}`)
      if (this.jsonEnabled() || f.format === 'json') this.logJson(out.json)
      else this.logToStderr(out.line)
      return this.exitAfterCleanup(SIGNAL_EXIT[stop.received ?? 'SIGINT'])
    }
    const report = outcome.after
    report.heal = outcome.heal as unknown as Record<string, unknown>
    const attempted = outcome.heal.actions.filter((a) => a.status !== 'would_apply')
    return {
      report,
      section: outcome.heal,
      ...(attempted.length > 0 ? {heals: Object.fromEntries(attempted.map((a) => [a.name, a.status]))} : {}),
    }
  }

  /** What a picture format draws besides the report: the history's last runs (this one included) and the audit trail by hour. */
  private async picture(history: boolean, auditDir: string, deadlineMs: number): Promise<Picture> {
    const audit = await auditHoursWithin(auditDir, Date.now(), deadlineMs, this.flags.deadline)
    return {...(await pictureTrend(resolvePaths(process.env).home, history)), ...audit}
  }

  /** `--trend`: a view of the history (its tail only); no check runs, nothing is written. */
  private async trend(): Promise<void> {
    const f = this.flags
    const last = f.last === undefined ? TREND_LAST.default : Number(f.last)
    if (f.last !== undefined && (!/^\d{1,3}$/.test(f.last) || last < TREND_LAST.min || last > TREND_LAST.max))
      throw new UsageError(
        `--last must be a whole number from ${TREND_LAST.min} to ${TREND_LAST.max}, got ${JSON.stringify(f.last)}`,
        'gbrain doctor --trend --last 10',
      )
    if (!f.history) throw new UsageError('--trend reads the history; --no-history turns it off', 'gbrain doctor --trend')
    const file = historyPath(resolvePaths(process.env).home)
    const tail = await readTail(file, Math.max(last, FLAP_WINDOW))
    if (tail.reason) throw new UsageError(`cannot read the doctor history: ${tail.reason}`, `ls -l ${file}`)
    const trend = buildTrend(tail.lines, last, tail.skipped)
    if (this.jsonEnabled() || f.format === 'json') return this.logJson(trend)
    const {renderTrend} = await import('../render/trend.js')
    process.stdout.write(renderTrend(trend, {unicode: decideUnicode(process.env)}))
  }

  /** `--baselines`: the acknowledgements as they are on disk; nothing is checked or written. */
  private async listBaselines(): Promise<void> {
    const read = readBaselines(resolvePaths(process.env).home)
    const now = Date.now()
    const listing: BaselinesListing = {
      schema_version: 2,
      file: read.file,
      exists: read.exists,
      acknowledgements: Object.entries(read.baselines).map(([check, b]) => {
        const def = CATALOGUE.find((c) => c.name === check)
        return {check, ...b, expired: expired(b, now), known: def !== undefined, ...(def?.counts ? {noun: def.counts.noun} : {})}
      }),
      problems: read.problems,
    }
    if (this.jsonEnabled() || this.flags.format === 'json') return this.logJson(listing)
    process.stdout.write(renderBaselines(listing))
  }

  /** `--acknowledge CHECK`: run that check alone, as it is, and record its finding as the baseline. */
  private async acknowledge(value: string): Promise<void> {
    const f = this.flags
    const check = checkName(value, '--acknowledge')
    const forMs = f.for === undefined ? undefined : parseDuration(f.for, '--for', DURATION_RANGES.acknowledgement)
    const reasonIssue = f.reason === undefined ? undefined : reasonProblem(f.reason)
    if (reasonIssue) throw new UsageError(reasonIssue, `gbrain doctor --acknowledge ${check} --reason 'one line of text'`)
    const home = resolvePaths(process.env).home
    const current = this.writableBaselines(home)
    const {report} = await runDoctor({
      target: this.target(),
      env: process.env,
      timeoutMs: parseDuration(f.timeout, '--timeout', DURATION_RANGES.doctorTimeout),
      deadlineMs: parseDuration(f.deadline, '--deadline', DURATION_RANGES.doctorDeadline),
      fast: false,
      only: [check],
      version: this.config.version,
      onCleanup: (fn) => this.onCleanup(fn),
    })
    const result = report.checks.find((c) => c.name === check)
    if (!result) throw new Error(`the doctor did not run ${check}`)
    const counted = CATALOGUE.find((c) => c.name === check)?.counts
    const count = countOf(result, counted)
    const decided = acknowledge({check, status: result.status, count, message: result.message, now: Date.now(), forMs, reason: f.reason})
    if ('refused' in decided) throw new UsageError(decided.refused, decided.fix)
    await writeBaselines(home, {...current.baselines, [check]: decided})
    if (this.jsonEnabled()) return this.logJson({schema_version: 2, file: current.file, acknowledged: {check, ...decided}})
    const known = count !== null && counted ? `${plural(count, counted.noun[0], counted.noun[1])} known` : `its ${decided.status}`
    const holds = count !== null && counted ? `while it stays at or below ${count}` : `while it does not get worse than ${decided.status}`
    this.log(
      `Acknowledged ${check} (${known}) until ${decided.expires_at.slice(0, 10)}${decided.reason ? `: ${decided.reason}` : ''}. It reports ok ${holds}; undo: gbrain doctor --unacknowledge ${check}`,
    )
  }

  /** `--unacknowledge CHECK`: remove its entry (nothing to remove is not an error). */
  private async unacknowledge(value: string): Promise<void> {
    const check = checkName(value, '--unacknowledge')
    const home = resolvePaths(process.env).home
    const current = this.writableBaselines(home)
    const had = Object.hasOwn(current.baselines, check)
    if (had) {
      const rest = {...current.baselines}
      delete rest[check]
      await writeBaselines(home, rest)
    }
    if (this.jsonEnabled()) return this.logJson({schema_version: 2, file: current.file, removed: had ? [check] : []})
    this.log(had ? `Removed the acknowledgement of ${check}.` : `${check} was not acknowledged: nothing to remove.`)
  }

  /** The acknowledgements, when the file may be rewritten: a damaged one is never overwritten (its entries would be lost). */
  private writableBaselines(home: string): BaselinesRead {
    const current = readBaselines(home)
    if (current.problems.length > 0)
      throw new OperationalError(
        `${current.file} is not used as it is (${current.problems.join('; ')}); it is left untouched`,
        'gbrain doctor --baselines',
      )
    return current
  }

  /** `--list`: the catalogue explained (table or JSON); nothing is checked. */
  private async list(width: number): Promise<void> {
    const f = this.flags
    const budget = Doctor.flags.timeout.default
    if (typeof budget !== 'string') throw new Error('doctor --timeout has no default')
    const checks = describeChecks({flag: '--timeout', default: budget, ms: parseDuration(budget, '--timeout')})
    if (this.jsonEnabled() || f.format === 'json') return this.logJson(checks)
    if (f.format !== undefined && f.format !== 'table')
      throw new UsageError(`--list prints a table or JSON, not --format ${f.format}`, 'gbrain doctor --list --json')
    const {renderCheckList} = await import('../render/check-list.js')
    process.stdout.write(
      renderCheckList(checks, {
        color: decideColor({flag: f.color, env: process.env, isTTY: Boolean(process.stdout.isTTY)}),
        unicode: decideUnicode(process.env),
        width,
      }),
    )
  }
}
