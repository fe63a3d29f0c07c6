import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {isUtf8} from 'node:buffer'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import fc from 'fast-check'
import {listAuditFiles, readWindow, scanWindow} from '../../../../src/engine/audit/reader.js'
import type {AuditRow} from '../../../../src/engine/audit/types.js'
import {isBatchRetryRow, isDbDisconnectRow, isPoolRecoveryRow} from '../../../../src/engine/audit/guards.js'
import {AbortedError} from '../../../../src/shared/errors.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const NOW = Date.parse('2026-01-07T12:00:00.000Z') // Wednesday of 2026-W02
const iso = (ms: number): string => new Date(ms).toISOString()

let root: string
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gbrain-audit-reader-'))
})
afterAll(() => {
  fs.rmSync(root, {recursive: true, force: true})
})
let n = 0
const freshDir = (): string => {
  const dir = path.join(root, `case-${++n}`)
  fs.mkdirSync(dir, {recursive: true})
  return dir
}

/** Our writer's shape: ts first. */
const ours = (tsMs: number, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    ts: iso(tsMs),
    site: 'import',
    batch_size: 10,
    attempt: 1,
    outcome: 'success',
    delay_ms: 5,
    error_message_summary: 'x',
    ...extra,
  })
/** gbrain's writer shape: `{...event, ts}`, ts last. */
const gbrains = (tsMs: number, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    site: 'import',
    batch_size: 10,
    attempt: 1,
    outcome: 'exhausted',
    delay_ms: 0,
    error_message_summary: 'y',
    ...extra,
    ts: iso(tsMs),
  })

function write(dir: string, name: string, content: string | Buffer | Array<string | Buffer>): string {
  const file = path.join(dir, name)
  const data = Array.isArray(content)
    ? Buffer.concat(content.map((c) => (typeof c === 'string' ? Buffer.from(`${c}\n`) : Buffer.concat([c, Buffer.from('\n')]))))
    : content
  fs.writeFileSync(file, data)
  return file
}

const W02 = 'batch-retry-2026-W02.jsonl'
const W01 = 'batch-retry-2026-W01.jsonl'
const W52 = 'batch-retry-2025-W52.jsonl'
const opts = (dir: string, windowMs = DAY) => ({dir, feature: 'batch-retry', windowMs, now: NOW})

describe('readWindow: which files', () => {
  it('a 24 h window opens only the current week file', async () => {
    const dir = freshDir()
    // A row whose ts is inside the window but sits in an older week's file: must not be seen.
    write(dir, W01, [ours(NOW - HOUR, {site: 'misplaced'})])
    const w02 = write(dir, W02, [ours(NOW - HOUR), gbrains(NOW - 2 * HOUR)])
    const r = await readWindow(opts(dir))
    expect(r.files_scanned).toEqual([w02])
    expect(r.rows.map((x) => x.site)).toEqual(['import', 'import'])
    expect(r.unreadable_files).toEqual([])
  })

  it('a 7 d window opens the previous and the current week, nothing older', async () => {
    const dir = freshDir()
    write(dir, W52, [ours(NOW - HOUR, {site: 'too-old-file'})])
    const w01 = write(dir, W01, [ours(NOW - 6 * DAY, {site: 'w01'})])
    const w02 = write(dir, W02, [ours(NOW - DAY, {site: 'w02'})])
    write(dir, 'pool-recovery-2026-W02.jsonl', [ours(NOW - HOUR, {site: 'other-feature'})])
    const r = await readWindow(opts(dir, 7 * DAY))
    expect(r.files_scanned).toEqual([w01, w02])
    expect(r.rows.map((x) => x.site)).toEqual(['w01', 'w02'])
    expect(r.bytes_read).toBe(fs.statSync(w01).size + fs.statSync(w02).size)
  })

  it('absent files (ENOENT) are not unreadable', async () => {
    const r = await readWindow(opts(freshDir()))
    expect(r).toEqual({rows: [], corrupt_lines: 0, bad_ts_rows: 0, unreadable_files: [], files_scanned: [], bytes_read: 0})
    const missing = await readWindow(opts(path.join(root, 'no-such-dir')))
    expect(missing.unreadable_files).toEqual([])
  })
})

describe('readWindow: the window', () => {
  it('keeps [now − window, now] inclusive and drops everything else', async () => {
    const dir = freshDir()
    write(dir, W02, [
      ours(NOW - DAY - 1, {site: 'just-before'}),
      ours(NOW - DAY, {site: 'start'}),
      gbrains(NOW - DAY, {site: 'start-g'}),
      ours(NOW, {site: 'end'}),
      ours(NOW + 1, {site: 'just-after'}),
      gbrains(NOW + DAY, {site: 'future'}),
      ours(Date.parse('2026-01-05T00:00:00Z'), {site: 'monday'}),
    ])
    const r = await readWindow(opts(dir))
    expect(r.rows.map((x) => x.site)).toEqual(['start', 'start-g', 'end'])
    expect(r.corrupt_lines).toBe(0)
    expect(r.bad_ts_rows).toBe(0)
  })

  it('understands non-canonical timestamps, gbrain key order, CRLF, blank lines and padding', async () => {
    const dir = freshDir()
    write(dir, W02, [
      '{"ts":"2026-01-07T13:00:00+02:00","site":"offset"}', // 11:00Z: inside
      '{"ts":"2026-01-07T11:00:00Z","site":"no-millis"}',
      '{"site":"spaced", "ts": "2026-01-07T11:30:00.000Z"}',
      `${gbrains(NOW - HOUR, {site: 'crlf'})}\r`,
      '',
      '   ',
      `  ${ours(NOW - HOUR, {site: 'padded'})}\t`,
      '{"ts":"2026-01-07T15:00:00+02:00","site":"offset-outside"}', // 13:00Z: after now
    ])
    const r = await readWindow(opts(dir))
    expect(r.rows.map((x) => x.site)).toEqual(['offset', 'no-millis', 'spaced', 'crlf', 'padded'])
    expect(r.corrupt_lines).toBe(0)
  })
})

describe('readWindow: bad content is counted, never thrown', () => {
  it('corrupt lines: not JSON, not an object, truncated, garbage bytes, invalid UTF-8', async () => {
    const dir = freshDir()
    const inWindow = iso(NOW - HOUR)
    write(dir, W02, [
      ours(NOW - HOUR, {site: 'good-1'}),
      'not json at all',
      '[1,2,3]',
      '42',
      'null',
      `{"ts":"${inWindow}","site":`,
      Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x7b, 0x22]),
      Buffer.concat([Buffer.from(`{"ts":"${inWindow}","site":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"site":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(`","ts":"${inWindow}"}`)]),
      gbrains(NOW - HOUR, {site: 'good-2'}),
    ])
    const r = await readWindow(opts(dir))
    expect(r.rows.map((x) => x.site)).toEqual(['good-1', 'good-2'])
    expect(r.corrupt_lines).toBe(8)
  })

  it('rows whose ts is missing, not a string or not a date are bad_ts rows', async () => {
    const dir = freshDir()
    write(dir, W02, [
      '{"site":"no-ts"}',
      '{"ts":1767787200000,"site":"number"}',
      '{"ts":"garbage","site":"garbage"}',
      '{"ts":null,"site":"null"}',
      '{"ts":"","site":"empty"}',
      '{"site":"last","ts":"2026-13-45T99:99:99.999Z"}',
      ours(NOW - HOUR, {site: 'ok'}),
    ])
    const r = await readWindow(opts(dir))
    expect(r.bad_ts_rows).toBe(6)
    expect(r.corrupt_lines).toBe(0)
    expect(r.rows.map((x) => x.site)).toEqual(['ok'])
  })

  it('a truncated last line is a row if it parses, else corrupt', async () => {
    const dir = freshDir()
    write(dir, W02, `${ours(NOW - 2 * HOUR, {site: 'a'})}\n${ours(NOW - HOUR, {site: 'last-no-newline'})}`)
    const r1 = await readWindow(opts(dir))
    expect(r1.rows.map((x) => x.site)).toEqual(['a', 'last-no-newline'])
    expect(r1.corrupt_lines).toBe(0)
    write(dir, W02, `${ours(NOW - 2 * HOUR, {site: 'a'})}\n${ours(NOW - HOUR).slice(0, 40)}`)
    const r2 = await readWindow(opts(dir))
    expect(r2.rows.map((x) => x.site)).toEqual(['a'])
    expect(r2.corrupt_lines).toBe(1)
  })

  it('a 10 MB single line is counted corrupt without being buffered; the next line is read', async () => {
    const dir = freshDir()
    const huge = `{"ts":"${iso(NOW - HOUR)}","pad":"${'x'.repeat(10 * 1024 * 1024)}"}`
    write(dir, W02, [ours(NOW - 3 * HOUR, {site: 'before'}), huge, ours(NOW - 2 * HOUR, {site: 'after'}), huge.slice(0, 5_000_000)])
    const r = await readWindow(opts(dir))
    expect(r.rows.map((x) => x.site)).toEqual(['before', 'after'])
    expect(r.corrupt_lines).toBe(2)
    // Without a trailing newline too.
    write(dir, W02, `${ours(NOW - 3 * HOUR, {site: 'before'})}\n${huge}`)
    expect((await readWindow(opts(dir))).corrupt_lines).toBe(1)
    // With a higher limit the same line is a row.
    const big = await readWindow({...opts(dir), maxLineBytes: 16 * 1024 * 1024})
    expect(big.rows).toHaveLength(2)
    expect(big.corrupt_lines).toBe(0)
  })

  it('an empty file is scanned and yields nothing', async () => {
    const dir = freshDir()
    const f = write(dir, W02, '')
    const r = await readWindow(opts(dir))
    expect(r.files_scanned).toEqual([f])
    expect(r.rows).toEqual([])
    expect(r.corrupt_lines).toBe(0)
  })

  it('wrong field types and unknown outcomes are kept as rows; the guards tell them apart', async () => {
    const dir = freshDir()
    write(dir, W02, [
      ours(NOW - HOUR),
      ours(NOW - HOUR, {outcome: 'exploded'}),
      ours(NOW - HOUR, {batch_size: '10'}),
      ours(NOW - HOUR, {attempt: 0}),
      ours(NOW - HOUR, {spooled: 'yes'}),
    ])
    const r = await readWindow(opts(dir))
    expect(r.rows).toHaveLength(5)
    expect(r.rows.map(isBatchRetryRow)).toEqual([true, false, false, false, false])
  })
})

describe('readWindow: unreadable files', () => {
  it('a directory where the file should be', async () => {
    const dir = freshDir()
    fs.mkdirSync(path.join(dir, W02))
    const w01 = write(dir, W01, [ours(Date.parse('2026-01-04T20:00:00Z'), {site: 'w01'})])
    const r = await readWindow({...opts(dir), now: Date.parse('2026-01-05T06:00:00Z')})
    expect(r.unreadable_files).toEqual([{file: path.join(dir, W02), error: expect.stringMatching(/EISDIR|directory/)}])
    expect(r.files_scanned).toEqual([w01])
    expect(r.rows.map((x) => x.site)).toEqual(['w01'])
  })

  it('a symlink loop (ELOOP, which root cannot bypass)', async () => {
    const dir = freshDir()
    fs.symlinkSync(path.join(dir, W02), path.join(dir, W02))
    const r = await readWindow(opts(dir))
    expect(r.unreadable_files).toHaveLength(1)
    expect(r.unreadable_files[0]!.error).toMatch(/ELOOP/)
    expect(r.files_scanned).toEqual([])
  })

  it('EACCES (injected: tests run as root, where chmod 000 does not block reads)', async () => {
    const dir = freshDir()
    const w01 = write(dir, W01, [ours(NOW - 6 * DAY, {site: 'w01'})])
    const w02 = write(dir, W02, [ours(NOW - HOUR, {site: 'w02'})])
    const r = await readWindow({
      ...opts(dir, 7 * DAY),
      open: async (file, flags) => {
        if (file === w02) {
          throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), {
            code: 'EACCES',
            errno: -13,
            syscall: 'open',
            path: file,
          })
        }
        return fs.promises.open(file, flags)
      },
    })
    expect(r.unreadable_files).toEqual([{file: w02, error: expect.stringMatching(/^EACCES: permission denied/)}])
    expect(r.files_scanned).toEqual([w01])
    expect(r.rows.map((x) => x.site)).toEqual(['w01'])
  })

  it('a FIFO in place of the file does not hang', async () => {
    const dir = freshDir()
    const {execFileSync} = await import('node:child_process')
    execFileSync('mkfifo', [path.join(dir, W02)])
    const r = await readWindow(opts(dir))
    expect(r.unreadable_files).toHaveLength(1)
    expect(r.unreadable_files[0]!.error).toMatch(/not a regular file/)
  })
})

describe('readWindow: options and abort', () => {
  it('rejects invalid options with "expected X, got Y"', async () => {
    await expect(readWindow({...opts(freshDir()), windowMs: -1})).rejects.toThrow(/expected windowMs/)
    await expect(readWindow({...opts(freshDir()), now: Number.NaN})).rejects.toThrow(/expected a finite now/)
    await expect(readWindow({...opts(freshDir()), feature: '../etc'})).rejects.toThrow(/expected a feature name/)
  })

  it('an aborted signal rejects with AbortedError', async () => {
    const dir = freshDir()
    write(dir, W02, [ours(NOW - HOUR)])
    const ac = new AbortController()
    ac.abort('SIGTERM')
    await expect(readWindow({...opts(dir), signal: ac.signal})).rejects.toBeInstanceOf(AbortedError)
  })

  it('scanWindow streams rows with their parsed time', async () => {
    const dir = freshDir()
    write(dir, W02, [ours(NOW - HOUR), gbrains(NOW - 2 * HOUR)])
    const seen: number[] = []
    const stats = await scanWindow(opts(dir), (_row, tsMs) => seen.push(tsMs))
    expect(seen).toEqual([NOW - HOUR, NOW - 2 * HOUR])
    expect(stats).not.toHaveProperty('rows')
  })
})

describe('readWindow: large files', () => {
  /** ~9.5 MiB of rows spread evenly from Monday 00:00Z to NOW, in time order. */
  function bigWeek(dir: string, plantEvery = 0): {file: string; expected: number} {
    const monday = Date.parse('2026-01-05T00:00:00.000Z')
    const count = 60_000
    const parts: string[] = []
    let expected = 0
    for (let i = 0; i < count; i++) {
      const t = monday + Math.floor(((NOW - monday) * i) / count)
      const planted = plantEvery > 0 && i % plantEvery === 0 && t < NOW - DAY
      const ts = planted ? NOW - HOUR : t
      parts.push(i % 3 === 0 ? gbrains(ts, {n: i, pad: 'p'.repeat(60)}) : ours(ts, {n: i, pad: 'p'.repeat(60)}))
      if (ts >= NOW - DAY && ts <= NOW) expected++
    }
    const file = write(dir, W02, `${parts.join('\n')}\n`)
    return {file, expected}
  }

  it('a 24 h window skips the head of an ordered file and finds every row', async () => {
    const dir = freshDir()
    const {file, expected} = bigWeek(dir)
    const size = fs.statSync(file).size
    expect(size).toBeGreaterThan(8 << 20)
    const fast = await readWindow(opts(dir))
    expect(fast.rows).toHaveLength(expected)
    expect(fast.bytes_read).toBeLessThan(size * 0.6) // the window is ~24 of 60 hours, plus 1 h slack
    const full = await readWindow({...opts(dir), seek: false})
    expect(full.bytes_read).toBe(size)
    expect(full.rows).toEqual(fast.rows)
  })

  it('an out-of-order file falls back to a full scan and misses nothing', async () => {
    const dir = freshDir()
    const {file, expected} = bigWeek(dir, 500)
    const r = await readWindow(opts(dir))
    expect(r.rows).toHaveLength(expected)
    expect(r.bytes_read).toBeGreaterThanOrEqual(fs.statSync(file).size) // the whole file, plus the probes
  })
})

describe('readWindow: property', () => {
  /** The obvious, slow reader: parse every line. */
  function reference(lines: Buffer[], from: number, to: number): AuditRow[] {
    const out: AuditRow[] = []
    for (const b of lines) {
      if (!isUtf8(b)) continue
      let v: unknown
      try {
        v = JSON.parse(b.toString('utf8'))
      } catch {
        continue
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) continue
      const ts = (v as AuditRow).ts
      const ms = typeof ts === 'string' ? Date.parse(ts) : Number.NaN
      if (Number.isFinite(ms) && ms >= from && ms <= to) out.push(v as AuditRow)
    }
    return out
  }

  const tsMs = fc.integer({min: NOW - 3 * DAY, max: NOW + DAY})
  const line = fc.oneof(
    tsMs.map((t) => Buffer.from(ours(t))),
    tsMs.map((t) => Buffer.from(gbrains(t))),
    tsMs.map((t) => Buffer.from(`{"ts":"${new Date(t).toISOString().replace('Z', '+00:00')}","k":1}`)),
    fc.string({maxLength: 40}).map((s) => Buffer.from(s.replace(/\n/g, ' '))),
    fc.uint8Array({maxLength: 40}).map((a) => Buffer.from(a.filter((x) => x !== 0x0a))),
    tsMs.map((t) => Buffer.from(ours(t).slice(0, 30))),
  )

  it('returns exactly the rows a parse-everything reader returns, and never throws', async () => {
    const dir = freshDir()
    await fc.assert(
      fc.asyncProperty(fc.array(line, {maxLength: 40}), fc.boolean(), async (lines, trailingNewline) => {
        const body = Buffer.concat(lines.flatMap((l, i) => (i < lines.length - 1 || trailingNewline ? [l, Buffer.from('\n')] : [l])))
        fs.writeFileSync(path.join(dir, W02), body)
        const r = await readWindow(opts(dir))
        const split =
          body.length === 0
            ? []
            : body
                .toString('latin1')
                .split('\n')
                .map((s) => Buffer.from(s, 'latin1'))
        expect(r.rows).toEqual(reference(split, NOW - DAY, NOW))
      }),
      {numRuns: 300},
    )
  })
})

describe('listAuditFiles', () => {
  it('lists audit files with size, mtime and mode, sorted; ignores the rest', async () => {
    const dir = freshDir()
    write(dir, W02, 'abc\n')
    write(dir, W52, '')
    write(dir, 'pool-recovery-2026-W01.jsonl', 'x\n')
    write(dir, 'notes.txt', 'hello')
    write(dir, 'batch-retry-2025-W53.jsonl', '') // 2025 has no week 53
    fs.chmodSync(path.join(dir, W02), 0o644)
    fs.symlinkSync(path.join(dir, 'batch-retry-2026-W03.jsonl'), path.join(dir, 'batch-retry-2026-W03.jsonl'))
    const files = await listAuditFiles(dir)
    expect(files.map((f) => f.name)).toEqual([W52, W02, 'batch-retry-2026-W03.jsonl', 'pool-recovery-2026-W01.jsonl'])
    expect(files[1]).toMatchObject({
      feature: 'batch-retry',
      isoYear: 2026,
      week: 2,
      size: 4,
      mode: 0o644,
      isFile: true,
      path: path.join(dir, W02),
    })
    expect(files[2]!.error).toMatch(/ELOOP/)
  })

  it('an absent directory gives []', async () => {
    expect(await listAuditFiles(path.join(root, 'absent'))).toEqual([])
  })
})

describe('row guards', () => {
  it('accept well-formed rows of each feature and reject others', () => {
    const ts = iso(NOW)
    expect(isPoolRecoveryRow({ts, kind: 'reap_detected', pid: 1})).toBe(true)
    expect(isPoolRecoveryRow({ts, kind: 'reaped', pid: 1})).toBe(false)
    expect(
      isDbDisconnectRow({ts, engine_kind: 'postgres', connection_style: 'module', caller_stack: ['at x'], command: 'doctor', pid: 2}),
    ).toBe(true)
    expect(
      isDbDisconnectRow({ts, engine_kind: 'postgres', connection_style: 'module', caller_stack: 'at x', command: 'doctor', pid: 2}),
    ).toBe(false)
    expect(isBatchRetryRow(null)).toBe(false)
  })
})
