import {Flags} from '@oclif/core'
import {runCycle, DEFAULT_BATCH_SIZE, type CycleReport} from '../brain/cycle.js'
import {cycleSources, listSources, type SourceRow} from '../brain/sources.js'
import {BaseCommand} from '../cli/base-command.js'
import {DURATION_RANGES, parseDuration} from '../cli/duration.js'
import {EXIT, isNoTables, UsageError} from '../cli/errors.js'
import {Interrupt, interruptedOutput, SIGNAL_EXIT} from '../cli/interrupt.js'
import {ProgressWriter} from '../cli/progress.js'
import {classify, findOpenFailure, ProcessStatePublisher, type Engine} from '../engine/index.js'
import {sleep, systemClock} from '../shared/clock.js'
import {AbortedError, ConfigError} from '../shared/errors.js'
import {workflowSafe} from '../shared/safe-text.js'
import {flagArgs, shellCommand} from '../shared/shell-quote.js'
import {CYCLE_PASS, cycleSummaryLine, renderCycle} from '../render/cycle.js'
import {formatCount} from '../shared/counts.js'
import {formatFinished} from '../render/progress.js'
import {COUNT_RANGES, parseCount} from '../cli/count.js'

export default class Cycle extends BaseCommand<typeof Cycle> {
  static override summary = 'Run the cycle: each source’s markdown into pages, timeline entries and links'
  // Paragraphs without line breaks: oclif wraps them to the terminal's width.
  static override description = [
    'Writes in retried, idempotent batches through the engine; what retries cannot land goes to the dead-letter spool (gbrain repair --replay) and the cycle is reported partial and not stamped. --watch cycles until SIGTERM or SIGINT, publishing its state for gbrain doctor and answering SIGUSR2 with a reconnect.',
    'Exit status: 0 complete, 1 partial or failed, 64 usage error, 75 the embedded brain is held by another process (nothing written; run it again later), 130 interrupted by Ctrl-C (143 SIGTERM): nothing lost, run it again to finish.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> cycle',
    '<%= config.bin %> cycle --source notes --json',
    '<%= config.bin %> cycle --watch --interval 5m',
  ]
  static override flags = {
    source: Flags.string({description: 'cycle only this source id'}),
    watch: Flags.boolean({description: 'keep cycling every --interval until SIGTERM/SIGINT'}),
    interval: Flags.string({description: 'time between cycles with --watch', default: '5m'}),
    'batch-size': Flags.string({
      description: `rows per batch (${COUNT_RANGES.batchSize.min}–${COUNT_RANGES.batchSize.max})`,
      default: String(DEFAULT_BATCH_SIZE),
    }),
  }

  private batchSize = DEFAULT_BATCH_SIZE

  async run(): Promise<CycleReport | undefined> {
    const interval = parseDuration(this.flags.interval, '--interval', DURATION_RANGES.cycleInterval)
    this.batchSize = parseCount(this.flags['batch-size'], '--batch-size', COUNT_RANGES.batchSize)
    const target = this.target()
    const bar = new ProgressWriter()
    // Watch mode runs as a service: a signal is its ordinary end (exit 0), said as a notice.
    // Otherwise the work stops after the statement in flight and the command ends interrupted.
    let stopping = (): void => {}
    const stop = new Interrupt((signal) => {
      if (this.flags.watch) bar.notice(`gbrain: ${signal} received, stopping after the current statement`)
      else stopping = bar.wait('the current statement to finish')
    })
    const unlisten = stop.listen()
    this.onCleanup(async () => unlisten())
    const engine = await this.engine(target, {lock: {signal: stop.signal}, onEvent: (e) => bar.engineEvent(e)})

    if (!this.flags.watch) {
      let report: CycleReport
      try {
        report = await this.once(engine, stop.signal, bar)
      } catch (e) {
        if (!stop.caused(e)) throw e
        stopping()
        bar.end()
        const rerun = shellCommand('gbrain', 'cycle', ...(this.flags.source === undefined ? [] : flagArgs('--source', this.flags.source)))
        const out = interruptedOutput(stop.received!, rerun)
        if (this.jsonEnabled()) this.logJson(out.json)
        else this.logToStderr(out.line)
        return this.exitAfterCleanup(SIGNAL_EXIT[stop.received!])
      }
      stopping()
      if (report.status !== 'complete') this.setExitCode(EXIT.failure)
      return report
    }

    // A database that is down is reported by the state file and retried each interval; a brain
    // that cannot work at all (none yet, no tables, wrong major, bad settings) stops the watch now.
    await engine.connect().catch((e: unknown) => {
      if (!transient(e)) throw e
    })
    const publisher = new ProcessStatePublisher(engine, {runDir: target.paths.runDir, command: `gbrain cycle --watch`})
    this.onCleanup(() => publisher.stop())
    await publisher.start()
    // With --json, watch mode streams one report per line (NDJSON) and prints nothing at exit.
    while (!stop.signal.aborted) {
      try {
        const report = await this.once(engine, stop.signal, bar)
        if (this.jsonEnabled()) process.stdout.write(`${workflowSafe(JSON.stringify(report), 'json')}\n`)
      } catch (e) {
        if (e instanceof AbortedError) break
        // Only a cycle that could not start for a passing reason (database down) is retried next
        // interval; a usage error or a brain that needs `gbrain init` ends the watch with its line.
        if (!transient(e)) throw e
        bar.notice(`gbrain: cycle failed: ${classify(e).message}`)
      }
      await sleep(systemClock, interval, stop.signal).catch(() => {})
    }
    return undefined
  }

  private async once(engine: Engine, signal: AbortSignal, bar: ProgressWriter): Promise<CycleReport> {
    let sources: SourceRow[]
    // Opening the embedded brain takes seconds; a database may be slow to answer: say so.
    const opened =
      engine.health().state === 'connected' ? () => {} : bar.wait(engine.kind === 'pglite' ? 'the embedded brain to open' : 'the database')
    try {
      sources = await listSources(engine, signal)
    } finally {
      opened()
    }
    sources = cycleSources(sources, this.flags.source)
    if (this.flags.source !== undefined && sources.length === 0)
      throw new UsageError(`no source with id ${JSON.stringify(this.flags.source)}`, 'gbrain sources list')
    // A watch's log gets only its trouble and its summary lines, not a start line per pass.
    const counts = !this.flags.watch || bar.tty
    const started = new Map<string, number>()
    const report = await runCycle(engine, sources, {
      batchSize: this.batchSize,
      signal,
      onProgress: (p) => {
        if (!started.has(p.source)) started.set(p.source, Date.now())
        if (counts)
          bar.update({
            label: `${p.source}: ${CYCLE_PASS[p.phase]}`,
            done: p.done,
            total: p.total,
            unit: 'files',
            extra: `${formatCount(p.rows)} rows`,
          })
      },
      onSourceDone: (s) => {
        const since = started.get(s.id)
        if (since === undefined || !counts) return
        const rows = s.rows.pages.sent + s.rows.timeline.sent + s.rows.links.sent
        const extra = `${formatCount(rows)} rows sent${s.spooled_rows ? `, ${formatCount(s.spooled_rows)} spooled` : ''}`
        bar.end({log: formatFinished({label: `${s.id}: ${s.status}`, done: s.files, unit: 'files', extra, startedAt: since}, Date.now())})
      },
    })
    bar.end()
    if (!this.jsonEnabled() && !this.flags.watch) for (const line of renderCycle(report)) this.log(line)
    else if (!this.jsonEnabled()) this.log(cycleSummaryLine(report))
    return report
  }
}

/**
 * A failure the next interval may not meet (the database down or restarting, the embedded brain
 * held by another process), as opposed to one only a person can fix: a usage or settings error,
 * no brain or no tables yet (`gbrain init`), a brain that cannot be opened.
 */
function transient(e: unknown): boolean {
  if (e instanceof UsageError || e instanceof ConfigError || isNoTables(e)) return false
  const open = findOpenFailure(e)
  return open === undefined || open.openCause === 'locked'
}
