/**
 * The cycle's write pipeline: a `Batcher` per site buffers rows and hands each full batch to the
 * source's one `WriteLane`, which keeps at most one statement in flight. The cycle goes on
 * reading and parsing notes while the database writes the previous batch, and no two of its
 * statements ever run at once (a timeline batch and a links batch creating the same stub page
 * concurrently could each miss the other's row: see writers.ts). Memory stays bounded by one
 * batch in flight plus one being filled per site.
 */
import {setImmediate as nextTurn} from 'node:timers/promises'
import {BatchFailedError, type BatchWriter, type Engine} from '../engine/index.js'
import type {RowCounts, SourceCycleReport} from './cycle.js'

/**
 * Whether the database was lost during this cycle: after a batch is spooled on a
 * connection-level error, the following batches get one attempt each (no retry budget) until one
 * lands, so a cycle against a dead database ends in seconds instead of one full retry budget per
 * batch. Every batch still gets a real attempt (the database may be back).
 */
export class Outage {
  active = false
}

/** One statement in flight at a time; a failure (abort, rows lost) is thrown by the next wait. */
export class WriteLane {
  private inflight: Promise<void> = Promise.resolve()
  private failure: {error: unknown} | undefined

  /** Wait for the statement in flight; throw what it failed with. */
  async idle(): Promise<void> {
    await this.inflight
    if (this.failure) throw this.failure.error
  }

  /** Wait for the statement in flight to settle, whatever its outcome (an abort's cleanup). */
  settled(): Promise<void> {
    return this.inflight
  }

  /** Start a write once the previous one has landed (callers `idle()` first). */
  start(write: () => Promise<void>): void {
    this.inflight = write().catch((e: unknown) => {
      this.failure ??= {error: e}
    })
  }
}

export interface BatcherContext {
  engine: Engine
  report: SourceCycleReport
  signal: AbortSignal | undefined
  outage: Outage
  lane: WriteLane
  size: number
}

/** Buffers rows and writes them one batch at a time; spooled batches are counted, not fatal. */
export class Batcher<R> {
  private rows: R[] = []
  constructor(
    private readonly ctx: BatcherContext,
    private readonly site: string,
    private readonly writer: BatchWriter<R>,
    private readonly counts: RowCounts,
  ) {}

  /** Add a row; when the batch is full, wait for the lane and send it (not waiting for it to land). */
  async add(row: R): Promise<void> {
    this.rows.push(row)
    if (this.rows.length >= this.ctx.size) await this.flush()
  }

  /** Send what is buffered once the statement in flight has landed. */
  async flush(): Promise<void> {
    if (this.rows.length === 0) return
    const rows = this.rows
    this.rows = []
    const {lane} = this.ctx
    // A turn of the event loop between batches: the embedded engine runs statements in this
    // thread, and a signal handler or timer must get its turn between two of them.
    await nextTurn()
    await lane.idle()
    this.counts.sent += rows.length
    lane.start(() => this.write(rows))
  }

  private async write(rows: R[]): Promise<void> {
    const {engine, outage, report, signal} = this.ctx
    try {
      const out = await engine.batch(this.site, rows, this.writer, {
        signal,
        ...(outage.active ? {maxRetries: 0} : {}),
      })
      this.counts.inserted += out.inserted
      outage.active = false
    } catch (e) {
      if (e instanceof BatchFailedError && e.code === 'BATCH_SPOOLED') {
        if (e.classified.connectionLevel) outage.active = true
        report.spooled_batches += 1
        report.spooled_rows += rows.length
        return
      }
      throw e
    }
  }
}
