/**
 * The built binary, end to end on the embedded PGlite brain: init (twice), sources, cycle, and
 * bad input (one line, the fix, exit 64, no stack, no credential).
 */
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {gbrain} from '../helpers/cli.js'
import {removeHomes, tempDir} from '../helpers/doctor-kit.js'

const VAULT = path.resolve('examples/vault')
const PW = 'Pl4nted-S3cret!x'
let home: string
let env: Record<string, string>

beforeAll(() => {
  home = tempDir('gbrain-cli-')
  env = {GBRAIN_HOME: home}
})
afterAll(removeHomes)

describe('gbrain on the embedded brain', () => {
  it('--version prints the version and exits 0', async () => {
    const r = await gbrain(['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^gbrain \d+\.\d+\.\d+ \(gbrain-doctor\) /)
  })

  it('init creates the brain; a second init is a no-op', async () => {
    const first = await gbrain(['init', '--json'], env)
    expect(first.code).toBe(0)
    const a = JSON.parse(first.stdout) as {engine: string; tables_created: string[]; tables_existing: string[]}
    expect(a.engine).toBe('pglite')
    expect(a.tables_created).toEqual(['sources', 'pages', 'timeline_entries', 'links', 'config'])
    const second = JSON.parse((await gbrain(['init', '--json'], env)).stdout) as typeof a
    expect(second.tables_created).toEqual([])
    expect(second.tables_existing).toHaveLength(5)
    const mode = statSync(path.join(home, '.gbrain')).mode & 0o777
    expect(mode).toBe(0o700)
  }, 90_000)

  it('init --write-config on a home another user can write takes their write bit away; the config is 0600 (issue 10, class 9)', async () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'gbrain-open-home-'))
    try {
      const h = path.join(other, '.gbrain')
      mkdirSync(h)
      chmodSync(h, 0o777)
      const r = await gbrain(['init', '--write-config'], {GBRAIN_HOME: other})
      expect(r.code, r.stderr).toBe(0)
      expect(statSync(h).mode & 0o777).toBe(0o755)
      expect(statSync(path.join(h, 'config.json')).mode & 0o777).toBe(0o600)
    } finally {
      rmSync(other, {recursive: true, force: true})
    }
  }, 90_000)

  it('sources add + list, then cycle lands the sample vault and a rerun adds nothing', async () => {
    const add = await gbrain(['sources', 'add', 'notes', '--path', VAULT, '--name', 'Sample'], env)
    expect(add.code).toBe(0)
    expect(add.stdout).toContain('Added source notes')
    const list = JSON.parse((await gbrain(['sources', 'list', '--json'], env)).stdout) as {sources: {id: string; local_path: string}[]}
    expect(list.sources.find((s) => s.id === 'notes')?.local_path).toBe(VAULT)

    const c1 = await gbrain(['cycle', '--json'], env)
    expect(c1.code).toBe(0)
    const r1 = JSON.parse(c1.stdout) as {
      status: string
      totals: {rows_sent: number; rows_inserted: number}
      sources: {stamped: boolean; invalid_dates: number; unterminated_links: number}[]
    }
    expect(r1.status).toBe('complete')
    expect(r1.totals.rows_sent).toBe(20) // 4 pages + 8 timeline entries + 8 links
    expect(r1.totals.rows_inserted).toBe(20)
    expect(r1.sources[0]).toMatchObject({stamped: true, invalid_dates: 1, unterminated_links: 1})

    const c2 = JSON.parse((await gbrain(['cycle', '--json'], env)).stdout) as typeof r1
    expect(c2.totals.rows_inserted).toBe(0)

    const human = await gbrain(['cycle'], env)
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/cycle complete: 1 source, 4 files, 20 rows sent, 0 new, 0 retries, 0 spooled/)
  }, 90_000)
})

describe('bad input: one line, the fix, exit 64, no stack, no credential', () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['relative GBRAIN_HOME', ['sources', 'list'], {GBRAIN_HOME: 'relative/dir'}, /GBRAIN_HOME must be an absolute path/],
    ['malformed URL with a password', ['sources', 'list', '--database-url', `postgres://u:${PW}@`], {}, /database URL/],
    ['unsupported scheme', ['init', '--database-url', `mysql://u:${PW}@127.0.0.1/db`], {}, /unsupported database URL scheme/],
    ['invalid retry env', ['sources', 'list'], {GBRAIN_BULK_MAX_RETRIES: '-1'}, /GBRAIN_BULK_MAX_RETRIES must be/],
    ['unknown flag', ['cycle', '--nope'], {}, /Nonexistent flag|nope/],
    ['bad interval', ['cycle', '--interval', 'soon'], {}, /not a duration/],
    ['missing path', ['sources', 'add', 'x', '--path', '/definitely/not/here'], {}, /not a directory/],
    ['bad source id', ['sources', 'add', 'Bad Id!', '--path', '.'], {}, /source id/],
    // Issue 10, class 10: the range, not just "Parsing --batch-size"; the command as typed.
    [
      'batch size 0',
      ['cycle', '--batch-size', '0'],
      {},
      /--batch-size 0 is out of range: it must be a whole number from 1 to 16,000 \(fix: for example --batch-size 500\)/,
    ],
    ['batch size -1', ['cycle', '--batch-size=-1'], {}, /--batch-size "-1" is not a whole number from 1 to 16,000/],
    ['batch size 1e9', ['cycle', '--batch-size', '1e9'], {}, /--batch-size "1e9" is not a whole number from 1 to 16,000/],
    [
      'sources add without an id',
      ['sources', 'add'],
      {},
      /^gbrain: missing argument ID \(stable id: [^)]*\) \(fix: see: gbrain sources add --help\)$/,
    ],
    [
      'a config path through a file (ENOTDIR)',
      ['sources', 'list'],
      {GBRAIN_HOME: '/etc/hostname'},
      /a part of its path is a file, not a directory \(fix: point GBRAIN_HOME at a directory/,
    ],
  ]
  it.each(cases)(
    '%s',
    async (_name, args, extra, pattern) => {
      const r = await gbrain(args, {...env, ...extra})
      expect(r.code).toBe(64)
      expect(r.stdout).toBe('')
      const lines = r.stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^gbrain: /)
      expect(lines[0]).toMatch(pattern)
      expect(lines[0]).toContain('fix:')
      expect(r.stderr).not.toContain(PW)
      expect(r.stderr).not.toMatch(/\n\s+at /)
    },
    60_000,
  )

  it('--json errors are JSON on stdout with exit 64', async () => {
    const r = await gbrain(['sources', 'list', '--json'], {...env, GBRAIN_HOME: 'rel'})
    expect(r.code).toBe(64)
    const j = JSON.parse(r.stdout) as {schema_version: number; status: string; error: {code: string; message: string; hint: string}}
    expect(j).toMatchObject({schema_version: 2, status: 'error', error: {code: 'CONFIG_INVALID'}})
    expect(j.error.hint).toContain('export GBRAIN_HOME=')
  }, 60_000)

  it('--debug adds a redacted stack', async () => {
    const r = await gbrain(['init', '--debug', '--database-url', `mysql://u:${PW}@127.0.0.1/db`], env)
    expect(r.code).toBe(64)
    expect(r.stderr).toMatch(/\n\s+at /)
    expect(r.stderr).not.toContain(PW)
  }, 60_000)

  it('no file the commands wrote holds a planted password', async () => {
    await gbrain(['cycle', '--database-url', `postgres://u:${encodeURIComponent(PW)}@127.0.0.1:1/db`], env)
    const files: string[] = []
    const walk = (d: string): void => {
      for (const n of readdirSync(d)) {
        const p = path.join(d, n)
        if (statSync(p).isDirectory()) {
          if (n !== 'brain.pglite') walk(p)
        } else files.push(p)
      }
    }
    walk(home)
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) expect(readFileSync(f, 'utf8'), f).not.toContain(PW)
  }, 60_000)
})
