import {Flags} from '@oclif/core'
import {runCycle, DEFAULT_BATCH_SIZE, type CycleReport} from '../brain/cycle.js'
import {listSources, type SourceRow} from '../brain/sources.js'
import {BaseCommand} from '../cli/base-command.js'
import {DURATION_RANGES, parseDuration} from '../cli/duration.js'
import {EXIT, needsInit, UsageError} from '../cli/errors.js'
import {classify} from '../engine/classify.js'
import {sleep, systemClock} from '../engine/clock.js'
import {AbortedError, ConfigError} from '../engine/errors.js'
import {findOpenFailure} from '../engine/pglite/open-errors.js'
import {ProcessStatePublisher} from '../engine/process-state.js'
import type {Engine} from '../engine/types.js'
import {workflowSafe} from '../engine/safe-text.js'
import {COUNT_RANGES, parseCount} from '../cli/count.js'

export default class Cycle extends BaseCommand<typeof Cycle> {
  static override summary = 'Run the cycle: each source’s markdown into pages, timeline entries and links'
  // Paragraphs without line breaks: oclif wraps them to the terminal's width.
  static override description = [
    'Writes in retried, idempotent batches through the engine; what retries cannot land goes to the dead-letter spool (gbrain repair --replay) and the cycle is reported partial and not stamped. --watch cycles until SIGTERM or SIGINT, publishing its state for gbrain doctor and answering SIGUSR2 with a reconnect.',
    'Exit status: 0 complete, 1 partial or failed, 64 usage error, 75 the embedded brain is held by another process (nothing written; run it again later).',
  ].join('\n\n')
  static override examples = ['<%= config.bin %> cycle', '<%= config.bin %> cycle --source notes --json', '<%= config.bin %> cycle --watch --interval 5m']
  static override flags = {
    source: Flags.string({description: 'cycle only this source id'}),
    watch: Flags.boolean({description: 'keep cycling every --interval until SIGTERM/SIGINT'}),
    interval: Flags.string({description: 'time between cycles with --watch', default: '5m'}),
    'batch-size': Flags.string({description: `rows per batch (${COUNT_RANGES.batchSize.min}–${COUNT_RANGES.batchSize.max})`, default: String(DEFAULT_BATCH_SIZE)}),
  }

  private batchSize = DEFAULT_BATCH_SIZE

  async run(): Promise<CycleReport | undefined> {
    const interval = parseDuration(this.flags.interval, '--interval', DURATION_RANGES.cycleInterval)
    this.batchSize = parseCount(this.flags['batch-size'], '--batch-size', COUNT_RANGES.batchSize)
    const target = this.target()
    const engine = await this.engine(target)
    const controller = new AbortController()
    const stop = (signal: NodeJS.Signals): void => {
      if (!controller.signal.aborted) {
        this.progress(`gbrain: ${signal} received, stopping after the current statement\n`, true)
        controller.abort(signal)
      }
    }
    const onTerm = (): void => stop('SIGTERM')
    const onInt = (): void => stop('SIGINT')
    process.on('SIGTERM', onTerm)
    process.on('SIGINT', onInt)
    this.onCleanup(async () => {
      process.off('SIGTERM', onTerm)
      process.off('SIGINT', onInt)
    })

    if (!this.flags.watch) {
      const report = await this.once(engine, controller.signal)
      if (report.status !== 'complete') process.exitCode = EXIT.failure
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
    while (!controller.signal.aborted) {
      try {
        const report = await this.once(engine, controller.signal)
        if (this.jsonEnabled()) process.stdout.write(`${workflowSafe(JSON.stringify(report), 'json')}\n`)
      } catch (e) {
        if (e instanceof AbortedError) break
        // Only a cycle that could not start for a passing reason (database down) is retried next
        // interval; a usage error or a brain that needs `gbrain init` ends the watch with its line.
        if (!transient(e)) throw e
        this.progress(`gbrain: cycle failed: ${classify(e).message}\n`, true)
      }
      await sleep(systemClock, interval, controller.signal).catch(() => {})
    }
    return undefined
  }

  private async once(engine: Engine, signal: AbortSignal): Promise<CycleReport> {
    let sources: SourceRow[]
    try {
      sources = await listSources(engine, signal)
    } catch (e) {
      if (classify(e).code === '42P01') throw needsInit('this brain has no gbrain tables yet (no sources table)')
      throw e
    }
    if (this.flags.source !== undefined) {
      sources = sources.filter((s) => s.id === this.flags.source)
      if (sources.length === 0) throw new UsageError(`no source with id ${JSON.stringify(this.flags.source)}`, 'gbrain sources list')
    } else {
      sources = sources.filter((s) => s.local_path !== null && !s.archived)
    }
    let lastDraw = 0
    const report = await runCycle(engine, sources, {
      batchSize: this.batchSize,
      signal,
      onProgress: (p) => {
        const now = Date.now()
        if (now - lastDraw < 100 && p.done !== p.total) return
        lastDraw = now
        this.progress(`${p.source}: ${p.phase} ${p.done}/${p.total} files`)
      },
    })
    this.endProgress()
    if (!this.jsonEnabled() && !this.flags.watch) this.printSummary(report)
    else if (!this.jsonEnabled()) this.log(summaryLine(report))
    return report
  }

  private printSummary(report: CycleReport): void {
    for (const s of report.sources) {
      const r = s.rows
      const skipped = s.skipped_files.binary + s.skipped_files.huge + s.skipped_files.unreadable
      this.log(
        `${s.id}: ${s.status}${s.stamped ? '' : ' (not stamped)'} — ${s.files} files` +
          (skipped ? `, ${skipped} skipped (binary ${s.skipped_files.binary}, huge ${s.skipped_files.huge}, unreadable ${s.skipped_files.unreadable})` : '') +
          `; pages ${r.pages.inserted}/${r.pages.sent}, timeline ${r.timeline.inserted}/${r.timeline.sent}, links ${r.links.inserted}/${r.links.sent} new/sent` +
          (s.invalid_dates ? `; ${s.invalid_dates} invalid dates` : '') +
          (s.unterminated_links ? `; ${s.unterminated_links} unterminated [[` : '') +
          (s.duplicates ? `; ${s.duplicates} duplicates dropped` : '') +
          (s.dangling_links ? `; ${s.dangling_links} links to missing notes` : '') +
          (s.reason ? `; ${s.reason}` : ''),
      )
    }
    this.log(summaryLine(report))
  }
}

/**
 * A failure the next interval may not meet (the database down or restarting, the embedded brain
 * held by another process), as opposed to one only a person can fix: a usage or settings error,
 * no brain or no tables yet (`gbrain init`), a brain that cannot be opened.
 */
function transient(e: unknown): boolean {
  if (e instanceof UsageError || e instanceof ConfigError) return false
  const open = findOpenFailure(e)
  return open === undefined || open.openCause === 'locked'
}

function summaryLine(report: CycleReport): string {
  const t = report.totals
  return `cycle ${report.status}: ${report.sources.length} source${report.sources.length === 1 ? '' : 's'}, ${t.files} files, ${t.rows_sent} rows sent, ${t.rows_inserted} new, ${t.retries} retries, ${t.spooled_rows} spooled, ${(report.duration_ms / 1000).toFixed(1)}s`
}
