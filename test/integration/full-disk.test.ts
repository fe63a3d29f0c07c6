/**
 * Issue 10, class 5, on a really full filesystem: the home (audit trail, spool, run files) on a
 * 1 MiB tmpfs filled to the last block. A batch that fails then can be neither spooled nor
 * audited — before, the doctor afterwards reported 100/100. Now the preallocated loss ledger
 * records it in place and the doctor fails `dead_letter` (ROWS LOST) and `disk_space` (full).
 * The database is a real PGlite brain on the normal disk; the batch fails on a real SQL error.
 * Needs root to mount the tmpfs (the test command runs as root here and in CI).
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {AuditWriter} from '../../src/engine/audit/writer.js'
import {BatchFailedError} from '../../src/engine/base-engine.js'
import {resolvePaths} from '../../src/engine/paths.js'
import {PGliteEngine} from '../../src/engine/pglite-engine.js'
import {DeadLetterSpool} from '../../src/engine/spool/dead-letter.js'
import {gbrain} from '../helpers/cli.js'

let root: string
let mnt: string

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'gbrain-full-'))
  mnt = path.join(root, 'home')
  mkdirSync(mnt)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', mnt])
})
afterAll(() => {
  try {
    execFileSync('umount', [mnt])
  } finally {
    rmSync(root, {recursive: true, force: true})
  }
})

/** Fill the filesystem until write fails with ENOSPC. */
function fill(dir: string): void {
  const chunk = Buffer.alloc(64 * 1024, 1)
  for (let i = 0; ; i++) {
    try {
      writeFileSync(path.join(dir, `filler-${i}`), chunk)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e
      for (let j = 0; ; j++) {
        try {
          writeFileSync(path.join(dir, `crumb-${i}-${j}`), Buffer.alloc(512, 1))
        } catch (e2) {
          if ((e2 as NodeJS.ErrnoException).code === 'ENOSPC') return
          throw e2
        }
      }
    }
  }
}

describe('rows lost on a full disk leave a trace the doctor reads', () => {
  it('the loss is recorded in the preallocated ledger; the doctor fails dead_letter (ROWS LOST) and disk_space', async () => {
    const paths = resolvePaths({GBRAIN_HOME: mnt})
    const errors: string[] = []
    const engine = new PGliteEngine({
      dataDir: path.join(root, 'brain.pglite'),
      audit: new AuditWriter({dir: paths.auditDir, onError: (l) => errors.push(l)}),
      spool: new DeadLetterSpool(paths.spoolDir),
      retry: {maxRetries: 0, baseMs: 1, maxMs: 1, jitter: 'none'},
    })
    try {
      await engine.connect()
      await engine.query('create table t (id int primary key)')
      const ok = {
        target: 't',
        write: async (db: {query: (s: string, p?: unknown[]) => Promise<unknown>}, rows: readonly number[]) => (
          await db.query(`insert into t select unnest($1::int[])`, [rows]),
          rows.length
        ),
      }
      await engine.batch('first', [1, 2], ok) // the first batch preallocates the ledger
      fill(paths.home)
      const broken = {
        target: 'nope',
        write: async (db: {query: (s: string) => Promise<unknown>}) => (await db.query('insert into missing_table values (1)'), 0),
      }
      const failure = await engine.batch('cycle.pages', [1, 2, 3], broken as never).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(failure).toBeInstanceOf(BatchFailedError)
      expect((failure as BatchFailedError).code).toBe('BATCH_LOST')
      expect((failure as Error).message).toMatch(/ENOSPC.*the loss is recorded in .*loss\.ledger/)
    } finally {
      await engine.disconnect({reason: 'test'})
    }
    expect(readdirSync(paths.spoolDir)).toEqual(['loss.ledger'])

    const r = await gbrain(['doctor', '--json', '--fast'], {GBRAIN_HOME: mnt})
    const rep = JSON.parse(r.stdout) as {checks: {name: string; status: string; message: string}[]}
    const check = (n: string): {status: string; message: string} => rep.checks.find((c) => c.name === n)!
    expect(check('dead_letter').status, JSON.stringify(rep.checks.map((c) => [c.name, c.status, c.message.slice(0, 200)]))).toBe('fail')
    expect(check('dead_letter').message).toMatch(
      /^ROWS LOST: 3 rows in 1 batch could be neither landed nor spooled \(1 process; last at .*, site cycle\.pages: /,
    )
    expect(check('disk_space').status).toBe('fail')
    expect(check('disk_space').message).toMatch(/audit, spool, run \(.*\): \d+ KB free/)
    expect(r.code).toBe(1)
  }, 120_000)
})
