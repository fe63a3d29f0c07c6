/**
 * The progress line (issue 12, item 5): the pure formatter (rate, ETA, unknown total, zero rate,
 * width by display columns, hostile text) on a fake clock; the writer on a fake terminal and a
 * fake log (throttled in-place redraws, erased at the end, a few stable lines when piped, never
 * one per item; a wait told after a second); and the engine's events (retrying, spooled,
 * recovered) from a hand-written engine whose database is down.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {ProgressWriter, type ProgressStream} from '../../../src/cli/progress.js'
import {BaseEngine, BatchFailedError, type EngineEvent} from '../../../src/engine/base-engine.js'
import {DeadLetterSpool} from '../../../src/engine/spool/dead-letter.js'
import type {BatchWriter, DisconnectOptions, Executor} from '../../../src/engine/types.js'
import {
  engineNote,
  etaMs,
  fitWidth,
  formatEta,
  formatFinished,
  formatProgress,
  ratePerSecond,
  type ProgressFrame,
} from '../../../src/render/progress.js'
import {countOf, formatCount} from '../../../src/shared/counts.js'
import {displayWidth} from '../../../src/render/wrap.js'
import {FakeClock} from '../../helpers/fake-clock.js'

const ERASE = '\r\u001b[2K'
const wide = {width: 200, unicode: true}

function frame(clock: FakeClock, over: Partial<ProgressFrame> = {}): ProgressFrame {
  return {label: 'notes: pass 1/2 (pages)', done: 0, total: 300, unit: 'files', startedAt: clock.now(), ...over}
}

describe('formatProgress', () => {
  it('shows done/total, extra counts, the rate per second and the ETA from the elapsed time', () => {
    const clock = new FakeClock(Date.parse('2026-11-28T00:00:00Z'), false)
    const f = frame(clock, {done: 120, extra: '240 rows'})
    clock.advance(2000)
    // 120 files in 2 s = 60/s; 180 left = 3 s.
    expect(formatProgress(f, clock.now(), wide)).toBe('notes: pass 1/2 (pages) 120/300 files, 240 rows, 60 files/s, ETA 3s')
    clock.advance(58_000)
    // 120 in 60 s = 2/s; 180 left = 90 s.
    expect(formatProgress(f, clock.now(), wide)).toBe('notes: pass 1/2 (pages) 120/300 files, 240 rows, 2 files/s, ETA 1m30s')
  })

  it('with an unknown total shows the count and the rate, and no ETA', () => {
    const clock = new FakeClock(0, false)
    const f = frame(clock, {label: 'replay', done: 10, total: undefined, unit: 'entries'})
    clock.advance(4000)
    // Below ten a second the rate keeps one decimal.
    expect(formatProgress(f, clock.now(), wide)).toBe('replay 10 entries, 2.5 entries/s')
    expect(formatProgress({...f, done: 50}, clock.now(), wide)).toBe('replay 50 entries, 13 entries/s')
  })

  it('with nothing done yet shows a zero rate and no ETA (no NaN, no Infinity)', () => {
    const clock = new FakeClock(0, false)
    const f = frame(clock, {done: 0})
    clock.advance(5000)
    const line = formatProgress(f, clock.now(), wide)
    expect(line).toBe('notes: pass 1/2 (pages) 0/300 files, 0 files/s')
    expect(etaMs(0, 300, 5000)).toBeUndefined()
  })

  it('shows no rate before half a second (and none at all for a zero or negative elapsed time)', () => {
    const clock = new FakeClock(0, false)
    const f = frame(clock, {done: 10})
    clock.advance(100)
    expect(formatProgress(f, clock.now(), wide)).toBe('notes: pass 1/2 (pages) 10/300 files')
    expect(ratePerSecond(10, 0)).toBeUndefined()
    expect(ratePerSecond(10, -5)).toBeUndefined()
    expect(ratePerSecond(10, 500)).toBe(20)
  })

  it('a note (the database went away) takes the place of the rate and the ETA', () => {
    const clock = new FakeClock(0, false)
    const f = frame(clock, {done: 40, extra: '80 rows', note: 'database down — spooling, 500 rows so far'})
    clock.advance(2000)
    expect(formatProgress(f, clock.now(), wide)).toBe(
      'notes: pass 1/2 (pages) 40/300 files, 80 rows — database down — spooling, 500 rows so far',
    )
  })

  it('is never wider than the width, counting wide characters as two columns, and says it was cut', () => {
    const clock = new FakeClock(0, false)
    for (const label of ['notes: pass 1/2 (pages)', '笔记本: pass 1/2 (pages)', 'x'.repeat(300)]) {
      for (const width of [10, 29, 30, 41, 79]) {
        const line = formatProgress(frame(clock, {label, done: 7}), clock.now() + 3000, {width, unicode: true})
        expect(displayWidth(line), `${label} @ ${width}: ${line}`).toBeLessThanOrEqual(width)
      }
    }
    const cut = formatProgress(frame(clock, {label: '笔记本笔记本笔记本', done: 7}), clock.now() + 3000, {width: 12, unicode: true})
    expect(cut).toBe('笔记本笔记…')
    expect(displayWidth(cut)).toBe(11)
    expect(fitWidth('abcdefghij', 8, false)).toBe('abcde...')
    expect(fitWidth('abc', 8, false)).toBe('abc')
  })

  it('takes control characters, escape sequences and newlines out of a hostile label, and folds to ASCII when asked', () => {
    const line = formatProgress(
      {label: 'evil\u001b[2J\u001b]0;title\u0007\nname\r::set-output', done: 1, total: 2, unit: 'files', startedAt: 0},
      0,
      {width: 80, unicode: false},
    )
    expect(line).not.toMatch(/[\u0000-\u001f\u007f]/)
    expect(line).toContain('evil')
    expect(line).toContain('name')
    expect(fitWidth('database down — spooling…', 80, false)).toBe('database down - spooling...')
  })
})

describe('counts, durations, engine notes', () => {
  it('groups counts by thousands, says one in the singular, and rounds ETAs up to whole seconds, minutes, hours', () => {
    expect(formatCount(1639)).toBe('1,639')
    expect(countOf(1, 'entries')).toBe('1 entry')
    expect(countOf(1, 'files')).toBe('1 file')
    expect(countOf(0, 'files')).toBe('0 files')
    expect(countOf(2000, 'entries')).toBe('2,000 entries')
    expect(formatCount(1_234_567)).toBe('1,234,567')
    expect(formatCount(12)).toBe('12')
    expect(formatEta(400)).toBe('1s')
    expect(formatEta(45_000)).toBe('45s')
    expect(formatEta(185_000)).toBe('3m05s')
    expect(formatEta(2 * 3600_000 + 7 * 60_000)).toBe('2h07m')
  })

  it('the final line of a task: counts, elapsed time and average rate', () => {
    expect(formatFinished({label: 'replay', done: 1639, total: 1639, unit: 'entries', extra: '3,278 rows', startedAt: 0}, 4000)).toBe(
      'replay 1,639/1,639 entries, 3,278 rows in 4.0s (410 entries/s)',
    )
  })

  it('says what an engine event means, with the attempt and a wait of a second or more', () => {
    const retry = (delayMs: number, connectionLevel = true): EngineEvent => ({
      type: 'retrying',
      label: 'batch cycle.pages',
      attempt: 3,
      delayMs,
      kind: connectionLevel ? 'refused' : 'serialization',
      connectionLevel,
    })
    expect(engineNote(retry(0))).toBe('database unreachable — retrying (attempt 3)')
    expect(engineNote(retry(4000))).toBe('database unreachable — retrying (attempt 3 in 4s)')
    expect(engineNote(retry(200, false))).toBe('database serialization — retrying (attempt 3)')
    // Waiting for another process's lock on the embedded brain is not a database outage.
    expect(engineNote({type: 'retrying', label: 'open', attempt: 3, delayMs: 1000, kind: 'locked', connectionLevel: false})).toBe(
      'the embedded brain is held by another process — retrying (attempt 3 in 1s)',
    )
    expect(engineNote({type: 'spooled', site: 'cycle.pages', rows: 500, spooledRows: 1500, kind: 'refused', connectionLevel: true})).toBe(
      'database down — spooling, 1,500 rows so far',
    )
    expect(engineNote({type: 'recovered'})).toBeUndefined()
  })
})

/** A stream that records what was written; a terminal when `columns` is given. */
class FakeStream implements ProgressStream {
  chunks: string[] = []
  constructor(
    readonly isTTY: boolean,
    readonly columns?: number,
  ) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk)
    return true
  }
  get text(): string {
    return this.chunks.join('')
  }
  /** Complete lines (a log). */
  get lines(): string[] {
    return this.text.split('\n').filter((l) => l !== '')
  }
  /** What the terminal shows on the current line after the last erase. */
  get currentLine(): string {
    const t = this.text
    return t.slice(t.lastIndexOf(ERASE) + ERASE.length)
  }
}

function writer(tty: boolean, columns?: number): {w: ProgressWriter; out: FakeStream; clock: FakeClock} {
  const clock = new FakeClock(0, false)
  const out = new FakeStream(tty, columns)
  return {w: new ProgressWriter({stream: out, clock, unicode: true}), out, clock}
}

describe('ProgressWriter on a terminal', () => {
  it('redraws one line in place at most ten times a second, and erases it at the end', () => {
    const {w, out, clock} = writer(true, 100)
    for (let i = 1; i <= 300; i++) {
      w.update({label: 'notes: pass 1/2 (pages)', done: i, total: 300, unit: 'files'})
      clock.advance(10) // 300 files over 3 s
    }
    const draws = out.chunks.filter((c) => c.startsWith(ERASE) && c.length > ERASE.length)
    // The first draw, then at most one per 100 ms of the 3 s.
    expect(draws.length).toBeGreaterThanOrEqual(20)
    expect(draws.length).toBeLessThanOrEqual(31)
    expect(out.text).not.toContain('\n')
    w.end({log: true})
    expect(out.text.endsWith(ERASE)).toBe(true)
    expect(out.currentLine).toBe('')
  })

  it('says at once that the database went away, and drops the note when calls land again', () => {
    const {w, out, clock} = writer(true, 120)
    w.update({label: 'notes: pass 2/2 (entries and links)', done: 10, total: 300, unit: 'files'})
    clock.advance(1)
    w.engineEvent({type: 'spooled', site: 'cycle.links', rows: 500, spooledRows: 500, kind: 'refused', connectionLevel: true})
    expect(out.currentLine).toBe('notes: pass 2/2 (entries and links) 10/300 files — database down — spooling, 500 rows so far')
    clock.advance(1)
    w.engineEvent({type: 'spooled', site: 'cycle.links', rows: 500, spooledRows: 1000, kind: 'refused', connectionLevel: true})
    expect(out.currentLine).toContain('1,000 rows so far')
    w.engineEvent({type: 'recovered'})
    expect(out.currentLine).toBe('notes: pass 2/2 (entries and links) 10/300 files')
    expect(out.text).not.toContain('\n')
  })

  it('never draws a line wider than the terminal (one column spare), nor 80 columns when it does not say', () => {
    for (const columns of [40, undefined]) {
      const {w, out, clock} = writer(true, columns)
      w.update({label: `${'long-source-name-'.repeat(10)}: pass 1/2 (pages)`, done: 1, total: 9, unit: 'files'})
      clock.advance(1000)
      w.engineEvent({type: 'retrying', label: 'batch cycle.pages', attempt: 2, delayMs: 0, kind: 'refused', connectionLevel: true})
      const limit = (columns ?? 80) - 1
      for (const c of out.chunks.filter((x) => x.startsWith(ERASE))) expect(displayWidth(c.slice(ERASE.length))).toBeLessThanOrEqual(limit)
      expect(displayWidth(out.currentLine)).toBe(limit)
    }
  })

  it('prints a notice on its own line and draws the progress line again below it', () => {
    const {w, out} = writer(true, 100)
    w.update({label: 'replay', done: 3, total: 9, unit: 'entries'})
    w.notice('gbrain: removed a stale lock')
    expect(out.text).toContain(`${ERASE}gbrain: removed a stale lock\n`)
    expect(out.currentLine).toBe('replay 3/9 entries')
  })

  it('shows a wait at once, and what was there before once it ends', () => {
    const {w, out} = writer(true, 100)
    const done = w.wait('the embedded brain to open')
    expect(out.currentLine).toBe('waiting for the embedded brain to open…')
    done()
    expect(out.currentLine).toBe('')
  })
})

describe('ProgressWriter piped (a log)', () => {
  it('prints a start line per task and one final line, never one line per item', () => {
    const {w, out, clock} = writer(false)
    for (const label of ['notes: pass 1/2 (pages)', 'notes: pass 2/2 (entries and links)']) {
      for (let i = 0; i <= 1000; i++) {
        w.update({label, done: i, total: 1000, unit: 'files', extra: `${i * 2} rows`})
        clock.advance(2)
      }
    }
    w.end({log: 'notes: complete 1,000 files, 2,000 rows sent in 4.0s'})
    expect(out.lines).toEqual([
      'gbrain: notes: pass 1/2 (pages), 1,000 files',
      'gbrain: notes: pass 2/2 (entries and links), 1,000 files',
      'gbrain: notes: complete 1,000 files, 2,000 rows sent in 4.0s',
    ])
    expect(out.text).not.toContain('\r')
    expect(out.text).not.toContain('\u001b')
  })

  it('end({log: true}) prints the task’s own final line; end() nothing', () => {
    const {w, out, clock} = writer(false)
    w.update({label: 'replay', done: 0, total: 1639, unit: 'entries'})
    clock.advance(2000)
    w.update({label: 'replay', done: 1639, total: 1639, unit: 'entries', extra: '3,278 rows'})
    w.end({log: true})
    w.update({label: 'replay', done: 0, total: 5, unit: 'entries'})
    w.end()
    expect(out.lines).toEqual([
      'gbrain: replay, 1,639 entries',
      'gbrain: replay 1,639/1,639 entries, 3,278 rows in 2.0s (820 entries/s)',
      'gbrain: replay, 5 entries',
    ])
  })

  it('tells the database going away once per kind of trouble, and once that it answers again', () => {
    const {w, out} = writer(false)
    w.update({label: 'notes: pass 1/2 (pages)', done: 0, total: 10, unit: 'files'})
    for (let a = 2; a <= 4; a++)
      w.engineEvent({type: 'retrying', label: 'batch cycle.pages', attempt: a, delayMs: 0, kind: 'refused', connectionLevel: true})
    for (let n = 1; n <= 50; n++)
      w.engineEvent({type: 'spooled', site: 'cycle.pages', rows: 10, spooledRows: n * 10, kind: 'refused', connectionLevel: true})
    w.engineEvent({type: 'recovered'})
    w.engineEvent({type: 'recovered'})
    expect(out.lines).toEqual([
      'gbrain: notes: pass 1/2 (pages), 10 files',
      'gbrain: database unreachable — retrying (attempt 2)',
      'gbrain: database down — spooling, 10 rows so far',
      'gbrain: the database answers again; continuing',
    ])
  })

  it('prints no line for a wait (a usage error found after the brain opened stays one line)', () => {
    const {w, out} = writer(false)
    const done = w.wait('the embedded brain to open')
    done()
    w.wait('the current statement to finish')
    expect(out.text).toBe('')
  })
})

/** An engine whose database is down until `up` is set: every statement is refused. */
class DownEngine extends BaseEngine {
  readonly kind = 'postgres' as const
  up = false
  constructor(spoolDir: string, onEvent: (e: EngineEvent) => void, clock: FakeClock) {
    super({retry: {maxRetries: 2, baseMs: 1500, maxMs: 1500, jitter: 'none'}, spool: new DeadLetterSpool(spoolDir), clock, onEvent})
  }
  async disconnect(_options?: DisconnectOptions): Promise<void> {}
  protected hasClient(): boolean {
    return true
  }
  protected async replaceClient(): Promise<void> {}
  protected async afterFailedRebuild(): Promise<void> {}
  protected poolSize(): number {
    return 1
  }
  protected prepareEnabled(): boolean {
    return false
  }
  protected async acquire(): Promise<{db: Executor; generation: number}> {
    const db: Executor = {
      query: async () => {
        if (!this.up) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {code: 'ECONNREFUSED'})
        return {rows: [], count: 1}
      },
    }
    return {db, generation: this.generation}
  }
}

const rowsWriter: BatchWriter<{id: number}> = {
  target: 'test.rows',
  write: async (db, rows) => (await db.query('insert', [rows.length])).count,
}

describe('engine events', () => {
  let dir: string | undefined
  afterEach(() => {
    if (dir) rmSync(dir, {recursive: true, force: true})
    dir = undefined
  })

  it('a database that is down: retrying (with the backoff), then spooled with the running total, then recovered when a call lands', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gbrain-progress-events-'))
    const events: EngineEvent[] = []
    const engine = new DownEngine(dir, (e) => events.push(e), new FakeClock())
    await expect(engine.batch('cycle.pages', [{id: 1}, {id: 2}], rowsWriter)).rejects.toBeInstanceOf(BatchFailedError)
    await expect(engine.batch('cycle.pages', [{id: 3}], rowsWriter, {maxRetries: 0})).rejects.toBeInstanceOf(BatchFailedError)
    engine.up = true
    await engine.batch('cycle.pages', [{id: 4}], rowsWriter)
    await engine.batch('cycle.pages', [{id: 5}], rowsWriter)
    expect(events).toEqual([
      {type: 'retrying', label: 'batch cycle.pages', attempt: 2, delayMs: 0, kind: 'refused', connectionLevel: true},
      {type: 'retrying', label: 'batch cycle.pages', attempt: 3, delayMs: 1500, kind: 'refused', connectionLevel: true},
      {type: 'spooled', site: 'cycle.pages', rows: 2, spooledRows: 2, kind: 'refused', connectionLevel: true},
      {type: 'spooled', site: 'cycle.pages', rows: 1, spooledRows: 3, kind: 'refused', connectionLevel: true},
      {type: 'recovered'},
    ])
    expect(events.map(engineNote)).toEqual([
      'database unreachable — retrying (attempt 2)',
      'database unreachable — retrying (attempt 3 in 2s)',
      'database down — spooling, 2 rows so far',
      'database down — spooling, 3 rows so far',
      undefined,
    ])
  })

  it('a healthy database tells nothing, and an observer that throws does not break the engine', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gbrain-progress-events-'))
    const events: EngineEvent[] = []
    const quiet = new DownEngine(dir, (e) => events.push(e), new FakeClock())
    quiet.up = true
    expect(await quiet.batch('cycle.pages', [{id: 1}], rowsWriter)).toEqual({inserted: 1, attempts: 1})
    expect(events).toEqual([])
    const throwing = new DownEngine(
      dir,
      () => {
        throw new Error('observer bug')
      },
      new FakeClock(),
    )
    const failed = await throwing.batch('cycle.pages', [{id: 1}], rowsWriter).catch((e: unknown) => e)
    expect(failed).toBeInstanceOf(BatchFailedError)
    expect((failed as BatchFailedError).code).toBe('BATCH_SPOOLED')
  })
})
