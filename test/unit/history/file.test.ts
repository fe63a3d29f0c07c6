/**
 * The history file on disk: appends are whole lines at 0600, the tail read costs what was asked
 * for and not the file's size, hostile lines are skipped and counted, a symlink or FIFO is
 * refused (never followed, never blocked on), and compaction keeps the newest lines within every
 * bound and swaps the file atomically.
 */
import {execFileSync} from 'node:child_process'
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {appendLine, historyPath, readTail} from '../../../src/history/file.js'
import {compact, keepNewest, needsCompaction} from '../../../src/history/compact.js'
import {recordRun} from '../../../src/history/record.js'
import {serializeLine, type HistoryLine} from '../../../src/history/line.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
})
function home(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gbrain-history-'))
  dirs.push(d)
  return d
}

const T0 = Date.parse('2026-11-28T00:00:00Z')
const DAY = 86_400_000
const at = (ms: number, score: number | null = 100, checks: Record<string, string> = {connection: 'ok'}): HistoryLine => ({
  ts: new Date(ms).toISOString(),
  score,
  status: 'healthy',
  checks,
})

describe('appendLine', () => {
  it('appends whole lines, 0600, and reports the size for the compaction trigger', async () => {
    const h = home()
    const a = await appendLine(h, at(T0, 100))
    const b = await appendLine(h, at(T0 + 1, 80))
    const text = readFileSync(historyPath(h), 'utf8')
    expect(text).toBe(serializeLine(at(T0, 100)) + serializeLine(at(T0 + 1, 80)))
    expect(b).toEqual({written: true, size: Buffer.byteLength(text), headTs: at(T0).ts})
    expect(a.written).toBe(true)
    expect(statSync(historyPath(h)).mode & 0o777).toBe(0o600)
  })

  it('writes nothing when the home does not exist (no brain, no history)', async () => {
    const h = path.join(home(), 'missing')
    expect(await appendLine(h, at(T0))).toEqual({written: false, reason: `${h} does not exist (no brain yet)`})
    expect(existsSync(h)).toBe(false)
  })

  it('starts a new line after a torn one, so its own line stays whole', async () => {
    const h = home()
    writeFileSync(historyPath(h), '{"ts":"2026-11-2')
    await appendLine(h, at(T0, 50))
    const tail = await readTail(historyPath(h), 5)
    expect(tail.lines).toEqual([at(T0, 50)])
    expect(tail.skipped).toBe(1)
  })

  it('refuses a symlink planted at the file, and leaves its target alone', async () => {
    const h = home()
    const target = path.join(h, 'elsewhere')
    writeFileSync(target, 'precious\n')
    symlinkSync(target, historyPath(h))
    const r = await appendLine(h, at(T0))
    expect(r.written).toBe(false)
    expect(readFileSync(target, 'utf8')).toBe('precious\n')
    expect((await readTail(historyPath(h), 1)).reason).toMatch(/cannot read .*ELOOP/)
  })

  it('refuses a FIFO without blocking', async () => {
    const h = home()
    execFileSync('mkfifo', [historyPath(h)])
    expect(await appendLine(h, at(T0))).toMatchObject({written: false})
    expect((await readTail(historyPath(h), 1)).reason).toBeDefined()
  })
})

describe('readTail', () => {
  it('reads only the tail of a large file: bytes read do not grow with the history', async () => {
    const h = home()
    const file = historyPath(h)
    const line = (i: number) => serializeLine(at(T0 + i * 1000, i % 101))
    writeFileSync(file, Array.from({length: 20_000}, (_, i) => line(i)).join(''))
    const size = statSync(file).size
    const tail = await readTail(file, 3)
    expect(tail.lines.map((l) => l.score)).toEqual([19_997 % 101, 19_998 % 101, 19_999 % 101])
    expect(tail.skipped).toBe(0)
    expect(tail.bytesRead).toBeLessThanOrEqual(64 * 1024)
    expect(tail.bytesRead).toBeLessThan(size / 10)
  })

  it('skips and counts hostile lines between good ones', async () => {
    const h = home()
    const file = historyPath(h)
    writeFileSync(
      file,
      serializeLine(at(T0, 10)) + 'not json\n\u0000\u001b[2J\n' + 'x'.repeat(200_000) + '\n' + serializeLine(at(T0 + 1, 20)),
    )
    const tail = await readTail(file, 2)
    expect(tail.lines.map((l) => l.score)).toEqual([10, 20])
    expect(tail.skipped).toBe(3)
  })

  it('gives an empty history for a missing file, with no reason', async () => {
    expect(await readTail(path.join(home(), 'none.jsonl'), 1)).toEqual({lines: [], skipped: 0, bytesRead: 0})
  })
})

describe('compaction', () => {
  it('runs only past the size threshold or when the first line is 99 days old', () => {
    const recent = new Date(T0 - 98 * DAY).toISOString()
    expect(needsCompaction(100, recent, T0, 100)).toBe(false)
    expect(needsCompaction(101, recent, T0, 100)).toBe(true)
    expect(needsCompaction(100, new Date(T0 - 99 * DAY - 1).toISOString(), T0, 100)).toBe(true)
    expect(needsCompaction(100, undefined, T0, 100)).toBe(false)
    expect(needsCompaction(100, 'garbage', T0, 100)).toBe(false)
  })

  it('keeps the newest lines within the line, age and byte bounds, dropping hostile ones', () => {
    const text =
      [at(T0 - 100 * DAY), at(T0 - 91 * DAY), at(T0 - 89 * DAY, 1), at(T0 - 2, 2), at(T0 - 1, 3)].map(serializeLine).join('') + 'junk\n'
    expect(keepNewest(text, T0).map((l) => l.score)).toEqual([1, 2, 3])
    expect(keepNewest(text, T0, {lines: 2, ageDays: 90, bytes: 1e9}).map((l) => l.score)).toEqual([2, 3])
    const one = Buffer.byteLength(serializeLine(at(T0 - 1, 3)))
    expect(keepNewest(text, T0, {lines: 10, ageDays: 90, bytes: one}).map((l) => l.score)).toEqual([3])
  })

  it('keeps at most 10,000 lines by default', () => {
    const text = Array.from({length: 10_050}, (_, i) => serializeLine(at(T0 - (10_050 - i) * 1000, i % 101))).join('')
    const kept = keepNewest(text, T0)
    expect(kept).toHaveLength(10_000)
    expect(kept.at(-1)?.score).toBe(10_049 % 101)
  })

  it('reads only the tail it can keep: a 3 GiB file (sparse, past what one read can hold) compacts to its newest lines', async () => {
    const h = home()
    const file = historyPath(h)
    writeFileSync(file, '')
    truncateSync(file, 3 * 1024 ** 3)
    appendFileSync(file, `\n${serializeLine(at(T0 - 2, 41))}${serializeLine(at(T0 - 1, 42))}`)
    expect(await compact(file, T0)).toEqual({kept: 2})
    expect(readFileSync(file, 'utf8')).toBe(serializeLine(at(T0 - 2, 41)) + serializeLine(at(T0 - 1, 42)))
  })

  it('rewrites the file atomically (a new inode, no temp file left, mode 0600)', async () => {
    const h = home()
    const file = historyPath(h)
    writeFileSync(file, serializeLine(at(T0 - 200 * DAY)) + serializeLine(at(T0 - 1, 42)), {mode: 0o644})
    const ino = statSync(file).ino
    expect(await compact(file, T0)).toEqual({kept: 1})
    expect(readFileSync(file, 'utf8')).toBe(serializeLine(at(T0 - 1, 42)))
    expect(statSync(file).ino).not.toBe(ino)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readdirSync(h)).toEqual(['doctor-history.jsonl'])
  })
})

describe('recordRun', () => {
  const report = (score: number, dead: 'ok' | 'fail') => ({
    generated_at: new Date(T0).toISOString(),
    health_score: score,
    status: dead === 'ok' ? ('healthy' as const) : ('unhealthy' as const),
    checks: [{name: 'dead_letter', status: dead}] as never,
  })

  it('compares with the last line, appends, and compacts once the file passes the threshold', async () => {
    const h = home()
    const first = await recordRun({home: h, report: report(100, 'ok'), nowMs: T0})
    expect(first).toEqual({comparison: {previous_score: null, delta: null, changed: []}, problems: []})
    const second = await recordRun({home: h, report: report(80, 'fail'), nowMs: T0})
    expect(second.comparison).toEqual({previous_score: 100, delta: -20, changed: [{check: 'dead_letter', from: 'ok', to: 'fail'}]})
    appendFileSync(historyPath(h), serializeLine(at(T0 - 200 * DAY)).repeat(3))
    await recordRun({home: h, report: report(100, 'ok'), nowMs: T0, compactAt: 100})
    expect(readFileSync(historyPath(h), 'utf8').trimEnd().split('\n')).toHaveLength(3)
  })

  it('compacts a small file whose first line has aged out, and leaves a young one alone', async () => {
    const h = home()
    writeFileSync(historyPath(h), serializeLine(at(T0 - 50 * DAY, 7)))
    await recordRun({home: h, report: report(100, 'ok'), nowMs: T0})
    expect(readFileSync(historyPath(h), 'utf8').trimEnd().split('\n')).toHaveLength(2)
    await recordRun({home: h, report: report(100, 'ok'), nowMs: T0 + 50 * DAY})
    expect((await readTail(historyPath(h), 10)).lines.map((l) => l.score)).toEqual([100, 100])
  })

  it('costs only the history when the home is not writable', async () => {
    const h = home()
    mkdirSync(path.join(h, 'ro'), {mode: 0o500})
    const r = await recordRun({home: path.join(h, 'ro'), report: report(100, 'ok'), nowMs: T0})
    if (process.getuid?.() === 0) return // root writes anyway
    expect(r.comparison.previous_score).toBeNull()
    expect(r.problems).toEqual([expect.stringMatching(/cannot append to .*EACCES/)])
  })
})
