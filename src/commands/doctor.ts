import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {DURATION_RANGES, parseDuration} from '../cli/duration.js'
import {UsageError} from '../cli/errors.js'
import {checkSelection} from '../cli/check-selection.js'
import {checkOutputFile} from '../cli/output-file.js'
import {runDoctor, type DoctorOptions} from '../checks/doctor.js'
import {Interrupt, interruptedOutput, SIGNAL_EXIT} from '../cli/interrupt.js'
import {ProgressWriter} from '../cli/progress.js'
import type {Report} from '../checks/types.js'
import {readLastHeals} from '../history/heals.js'
import {runHeal, type HealSection} from '../repair/heal.js'
import {diagnose} from '../repair/session.js'
import type {RepairContext} from '../repair/types.js'
import {describeChecks} from '../checks/catalogue.js'
import {exitCode, nagiosCode, type FailOn} from '../checks/report.js'
import {writeFileAtomic} from '../shared/fs-atomic.js'
import {shellQuote} from '../shared/shell-quote.js'
import {FORMATS, RENDERERS, renderFormat, type Format} from '../render/formats.js'
import {decideColor, decideUnicode, decideWidth} from '../render/terminal.js'
import {appendFile} from 'node:fs/promises'
import {resolvePaths} from '../engine/index.js'
import {recordRun} from '../history/record.js'
import {historyPath, readTail} from '../history/file.js'
import {buildTrend, FLAP_WINDOW, TREND_LAST} from '../history/trend.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Diagnose the brain: connectivity, retries, freshness, pool and storage'
  // Paragraphs without line breaks: oclif wraps them to the terminal's width.
  static override description = [
    'The checks (gbrain doctor --list names them) cover the connection and the embedded brain’s lock, batch retries and their settings, cycle and sync freshness, the pool and live engine processes, the dead-letter spool, disk space, connection slots, idle transactions and the audit trail. Read-only: it never writes to the database, the audit trail or the spool. It writes --output-file (whose directory must exist) and appends one line per run to <home>/doctor-history.jsonl when the brain home exists (--no-history: neither read nor written); --json reports the score’s change since the previous run.',
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
    if (f['auto-heal'] && (f.list || f.trend))
      throw new UsageError(`--auto-heal cannot be used with --${f.list ? 'list' : 'trend'}`, 'gbrain doctor --auto-heal')
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

    const options: DoctorOptions = {
      target: this.target(),
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
    const out = await renderFormat(format, report, {
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
