import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import ts from 'typescript'
import {afterAll, afterEach, beforeAll, describe, expect, it, vi} from 'vitest'
import {AuditWriter} from '../../../../src/engine/audit/writer.js'
import type {BatchRetryRow, DbDisconnectRow} from '../../../../src/engine/audit/types.js'
import {FakeClock} from '../../../helpers/fake-clock.js'

const PW = 'S3cr3t-PW!x'
const here = path.dirname(fileURLToPath(import.meta.url))
const srcRoot = path.resolve(here, '../../../../src')

let root: string
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gbrain-audit-writer-'))
})
afterAll(() => {
  fs.rmSync(root, {recursive: true, force: true})
})
afterEach(() => {
  vi.restoreAllMocks()
})

let n = 0
const freshDir = (): string => path.join(root, `case-${++n}`, 'nested', 'audit')

function batchRow(over: Partial<BatchRetryRow> = {}): BatchRetryRow {
  return {
    ts: '2026-01-07T12:00:00.000Z',
    site: 'import.pages',
    batch_size: 100,
    attempt: 1,
    outcome: 'success',
    delay_ms: 1000,
    error_message_summary: 'read ECONNRESET',
    error_code: 'ECONNRESET',
    ...over,
  }
}

function lines(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
}

describe('AuditWriter: files and modes', () => {
  it('creates the directory 0700 and the file 0600', async () => {
    const dir = freshDir()
    const w = new AuditWriter({dir, onError: () => {}})
    await w.append('batch-retry', batchRow())
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    const file = path.join(dir, 'batch-retry-2026-W02.jsonl')
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
  })

  it('leaves the mode of an existing directory alone (the doctor reports it)', async () => {
    const dir = freshDir()
    fs.mkdirSync(dir, {recursive: true})
    fs.chmodSync(dir, 0o755)
    await new AuditWriter({dir}).append('batch-retry', batchRow())
    expect(fs.statSync(dir).mode & 0o777).toBe(0o755)
  })

  it('chooses the file from the row ts, one line per row, ts first', async () => {
    const dir = freshDir()
    const w = new AuditWriter({dir, clock: new FakeClock(Date.parse('2030-06-01T00:00:00Z'))})
    await w.append('batch-retry', batchRow({ts: '2027-01-01T10:00:00.000Z'}))
    await w.append('batch-retry', batchRow({ts: '2024-01-01T00:00:00.000Z'}))
    await w.append('batch-retry', batchRow({ts: '2027-01-02T10:00:00.000Z', attempt: 2}))
    expect(fs.readdirSync(dir).sort()).toEqual(['batch-retry-2024-W01.jsonl', 'batch-retry-2026-W53.jsonl'])
    const l53 = lines(path.join(dir, 'batch-retry-2026-W53.jsonl'))
    expect(l53).toHaveLength(2)
    for (const l of l53) expect(l.startsWith('{"ts":"')).toBe(true)
    expect(JSON.parse(l53[1]!)).toMatchObject({attempt: 2, site: 'import.pages', outcome: 'success'})
  })

  it('a row with an unparseable ts goes to the clock week file, unchanged; a missing ts is filled in', async () => {
    const dir = freshDir()
    const w = new AuditWriter({dir, clock: new FakeClock(Date.parse('2026-01-05T08:00:00Z'))})
    await w.append('batch-retry', batchRow({ts: 'not a date'}))
    await w.append('batch-retry', {...batchRow(), ts: undefined} as unknown as BatchRetryRow)
    const rows = lines(path.join(dir, 'batch-retry-2026-W02.jsonl')).map((l) => JSON.parse(l) as BatchRetryRow)
    expect(rows.map((r) => r.ts)).toEqual(['not a date', '2026-01-05T08:00:00.000Z'])
  })

  it('recreates a directory removed after the first write', async () => {
    const dir = freshDir()
    const w = new AuditWriter({dir})
    await w.append('batch-retry', batchRow())
    fs.rmSync(dir, {recursive: true})
    await w.append('batch-retry', batchRow())
    expect(lines(path.join(dir, 'batch-retry-2026-W02.jsonl'))).toHaveLength(1)
    expect(w.stats).toEqual({written: 2, failed: 0})
  })
})

describe('AuditWriter: redaction', () => {
  it('redacts every free-text field and keeps labels and keys', async () => {
    const dir = freshDir()
    const w = new AuditWriter({dir})
    await w.append(
      'batch-retry',
      batchRow({
        error_message_summary: `connect to postgres://bob:${PW}@10.0.0.1/brain failed\n  password=${PW}`,
        outcome: 'exhausted',
        spooled: true,
        dead_letter_id: '20260107T120000000Z-import.pages-1a2b3c4d',
      }),
    )
    const stack = Array.from({length: 30}, (_, i) => `at f${i} (postgres://u:${PW}@h/db)`)
    const row: DbDisconnectRow = {
      ts: '2026-01-07T12:00:00.000Z',
      engine_kind: 'postgres',
      connection_style: 'instance',
      caller_stack: stack,
      command: `postgres://u:${PW}@h/db`,
      pid: 123,
      reason: 'exit',
    }
    await w.append('db-disconnect', row)
    const raw = fs
      .readdirSync(dir)
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
      .join('')
    expect(raw).not.toContain(PW)
    expect(raw).not.toContain('10.0.0.1')
    const b = JSON.parse(lines(path.join(dir, 'batch-retry-2026-W02.jsonl'))[0]!) as BatchRetryRow
    expect(b.error_message_summary).toBe('connect to <REDACTED:pg_url> failed password=<REDACTED:password>')
    expect(b.site).toBe('import.pages')
    expect(b.dead_letter_id).toBe('20260107T120000000Z-import.pages-1a2b3c4d')
    expect(b.spooled).toBe(true)
    const dd = JSON.parse(lines(path.join(dir, 'db-disconnect-2026-W02.jsonl'))[0]!) as DbDisconnectRow
    expect(dd.caller_stack).toHaveLength(20)
    expect(dd.caller_stack[0]).toBe('at f0 (<REDACTED:pg_url>')
    expect(dd.command).toBe('<REDACTED:pg_url>')
    expect(dd.pid).toBe(123)
  })
})

describe('AuditWriter: ordering and sync', () => {
  it('rows from one writer land in call order', async () => {
    const dir = freshDir()
    const w = new AuditWriter({dir})
    for (let i = 1; i <= 200; i++) void w.append('batch-retry', batchRow({attempt: i}))
    await w.flush()
    const attempts = lines(path.join(dir, 'batch-retry-2026-W02.jsonl')).map((l) => (JSON.parse(l) as BatchRetryRow).attempt)
    expect(attempts).toEqual(Array.from({length: 200}, (_, i) => i + 1))
  })

  it('appendSync writes before it returns', () => {
    const dir = freshDir()
    const w = new AuditWriter({dir})
    w.appendSync('pool-recovery', {ts: '2026-01-07T12:00:00.000Z', kind: 'reconnect_failed', pid: 1, error_summary: `pwd=${PW}`})
    const got = lines(path.join(dir, 'pool-recovery-2026-W02.jsonl'))
    expect(got).toHaveLength(1)
    expect(got[0]).not.toContain(PW)
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
  })

  it('flush with nothing pending resolves', async () => {
    await expect(new AuditWriter({dir: freshDir()}).flush()).resolves.toBeUndefined()
  })
})

describe('AuditWriter: best effort', () => {
  it('an unwritable path reports one stderr line per failed write and never throws', async () => {
    const blocker = path.join(root, `blocker-${++n}`)
    fs.writeFileSync(blocker, 'a file where a directory should be')
    const dir = path.join(blocker, 'audit') // ENOTDIR, even for root
    const reported: string[] = []
    const w = new AuditWriter({dir, onError: (l) => reported.push(l)})
    await expect(w.append('batch-retry', batchRow({error_message_summary: `postgres://u:${PW}@h/db`}))).resolves.toBeUndefined()
    expect(reported).toHaveLength(1)
    expect(reported[0]).toMatch(/^gbrain: audit write failed \(batch-retry\): .*ENOTDIR/)
    expect(reported[0]).not.toContain('\n')
    expect(() => w.appendSync('batch-retry', batchRow())).not.toThrow()
    expect(reported).toHaveLength(2)
    expect(reported.join('')).not.toContain(PW)
    expect(w.stats).toEqual({written: 0, failed: 2})
  })

  it('by default the line goes to stderr, nothing to stdout', async () => {
    const blocker = path.join(root, `blocker-${++n}`)
    fs.writeFileSync(blocker, 'x')
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const out = vi.spyOn(process.stdout, 'write')
    const w = new AuditWriter({dir: path.join(blocker, 'audit')})
    await w.append('pool-recovery', {ts: '2026-01-07T12:00:00.000Z', kind: 'reconnect_other', pid: 1})
    expect(err).toHaveBeenCalledTimes(1)
    expect(String(err.mock.calls[0]![0])).toMatch(/^gbrain: audit write failed \(pool-recovery\): .+\n$/)
    expect(out).not.toHaveBeenCalled()
  })

  it('a throwing reporter, an invalid feature or an unserialisable row cannot break the caller', async () => {
    const dir = freshDir()
    const thrower = new AuditWriter({
      dir: path.join(root, 'nope-file'),
      onError: () => {
        throw new Error('reporter broke')
      },
    })
    fs.writeFileSync(path.join(root, 'nope-file'), 'x')
    await expect(thrower.append('batch-retry', batchRow())).resolves.toBeUndefined()

    const reported: string[] = []
    const w = new AuditWriter({dir, onError: (l) => reported.push(l)})
    await (w.append as (feature: string, row: unknown) => Promise<void>).call(w, '../escape', batchRow())
    await w.append('batch-retry', {...batchRow(), batch_size: 10n} as unknown as BatchRetryRow)
    expect(reported).toHaveLength(2)
    expect(reported[0]).toMatch(/invalid feature name/)
    expect(reported[1]).toMatch(/BigInt/)
    expect(fs.existsSync(path.join(root, 'escape'))).toBe(false)
    expect(fs.existsSync(dir)).toBe(false)
  })
})

/**
 * Many processes appending to one file. The children run the real writer: writer.ts and the modules
 * it imports are transpiled (typescript.transpileModule, no type check) into a temp dir,
 * because plain `node` cannot import TypeScript. Rows are ~4 KB so that interleaving, if the
 * single-write strategy were broken, would be visible.
 */
describe('AuditWriter: concurrent processes', () => {
  function transpile(outRoot: string): void {
    for (const rel of [
      'shared/redact.ts',
      'shared/safe-text.ts',
      'shared/clock.ts',
      'shared/timer.ts',
      'shared/errors.ts',
      'engine/audit/iso-week.ts',
      'engine/audit/types.ts',
      'engine/audit/writer.ts',
    ]) {
      const source = fs.readFileSync(path.join(srcRoot, rel), 'utf8')
      const out = ts.transpileModule(source, {
        compilerOptions: {module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022},
      }).outputText
      const dest = path.join(outRoot, rel.replace(/\.ts$/, '.js'))
      fs.mkdirSync(path.dirname(dest), {recursive: true})
      fs.writeFileSync(dest, out)
    }
    fs.writeFileSync(path.join(outRoot, 'package.json'), '{"type":"module"}')
    fs.writeFileSync(
      path.join(outRoot, 'child.mjs'),
      `import {AuditWriter} from './engine/audit/writer.js'
const [dir, id, count] = process.argv.slice(2)
const w = new AuditWriter({dir, onError: (l) => { process.stderr.write(l + '\\n'); process.exitCode = 3 }})
for (let i = 0; i < Number(count); i++) {
  const frames = i % 2 === 0 ? 20 : 1
  w.append('db-disconnect', {
    ts: '2026-01-07T12:00:00.000Z', engine_kind: 'postgres', connection_style: 'instance',
    caller_stack: Array.from({length: frames}, (_, k) => 'at frame' + k + ' (' + 'x'.repeat(180) + ')'),
    command: 'p' + id, pid: process.pid, reason: String(i),
  })
}
await w.flush()
`,
    )
  }

  it('8 processes × 200 rows into one file: every line parses, nothing lost, per-process order kept', async () => {
    const work = path.join(root, `procs-${++n}`)
    transpile(work)
    const dir = path.join(work, 'audit')
    const PROCS = 8
    const ROWS = 200
    const codes = await Promise.all(
      Array.from(
        {length: PROCS},
        (_, id) =>
          new Promise<number | null>((resolve) => {
            const child = spawn(process.execPath, [path.join(work, 'child.mjs'), dir, String(id), String(ROWS)], {
              stdio: ['ignore', 'ignore', 'inherit'],
            })
            child.on('exit', (code) => resolve(code))
          }),
      ),
    )
    expect(codes).toEqual(Array(PROCS).fill(0))
    expect(fs.readdirSync(dir)).toEqual(['db-disconnect-2026-W02.jsonl'])
    const file = path.join(dir, 'db-disconnect-2026-W02.jsonl')
    const raw = fs.readFileSync(file, 'utf8')
    expect(raw.endsWith('\n')).toBe(true)
    const all = raw.split('\n').slice(0, -1)
    expect(all).toHaveLength(PROCS * ROWS)
    const perProc = new Map<string, number[]>()
    for (const l of all) {
      const row = JSON.parse(l) as DbDisconnectRow
      const seq = perProc.get(row.command) ?? []
      seq.push(Number(row.reason))
      perProc.set(row.command, seq)
    }
    expect(perProc.size).toBe(PROCS)
    for (const seq of perProc.values()) expect(seq).toEqual(Array.from({length: ROWS}, (_, i) => i))
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
  }, 60_000)
})

describe('a hostile audit directory (issue 10, class 8): no symlink followed, no non-regular file written', () => {
  const row = (): DbDisconnectRow => ({
    ts: new Date().toISOString(),
    engine_kind: 'pglite',
    connection_style: 'instance',
    caller_stack: [],
    command: 'x',
    pid: process.pid,
  })
  /** The file the writer appends to now (learned from a first write, then removed). */
  async function targetFile(dir: string): Promise<string> {
    const w = new AuditWriter({dir, onError: () => {}})
    await w.append('db-disconnect', row())
    await w.flush()
    const [name] = fs.readdirSync(dir)
    const file = path.join(dir, name!)
    fs.rmSync(file)
    return file
  }

  it.each([['append'], ['appendSync']] as const)(
    '%s: a symlink planted at the audit file is not followed; the failure is reported',
    async (how) => {
      const dir = freshDir()
      const file = await targetFile(dir)
      const victim = path.join(root, `victim-${n}.txt`)
      fs.writeFileSync(victim, 'precious\n')
      fs.symlinkSync(victim, file)
      const errors: string[] = []
      const w = new AuditWriter({dir, onError: (l) => errors.push(l)})
      if (how === 'append') {
        await w.append('db-disconnect', row())
        await w.flush()
      } else {
        w.appendSync('db-disconnect', row())
      }
      expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n')
      expect(w.stats).toMatchObject({written: 0, failed: 1})
      expect(errors.join('\n')).toMatch(/audit write failed/)
    },
  )

  it('a FIFO planted at the audit file is refused at once (no hang waiting for a reader)', async () => {
    const dir = freshDir()
    const file = await targetFile(dir)
    const {execFileSync} = await import('node:child_process')
    execFileSync('mkfifo', [file])
    const w = new AuditWriter({dir, onError: () => {}})
    const t0 = performance.now()
    await w.append('db-disconnect', row())
    await w.flush()
    expect(performance.now() - t0).toBeLessThan(5000) // without O_NONBLOCK the open blocks forever
    expect(w.stats).toMatchObject({written: 0, failed: 1})
  })
})
