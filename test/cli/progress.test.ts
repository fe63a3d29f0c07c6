/**
 * Progress people expect, and Ctrl-C (issue 12, item 5), on the built binary:
 *  - piped, `gbrain cycle` and `gbrain repair --replay` print a few stable lines, never one per
 *    file or entry;
 *  - on a terminal (a pty from util-linux `script`), one line redrawn in place, never wider than
 *    the terminal, erased at the end;
 *  - SIGINT / SIGTERM end the work after the statement in flight with exit 130 / 143 and one
 *    "interrupted" line (or the --json document), never an error line; nothing is lost: a later
 *    run finishes with exactly the rows the vault holds;
 *  - against Postgres, the database going away mid-cycle is said at once, once.
 *
 * Interrupts are sent when the child has printed a progress marker (a pass or the replay has
 * begun), never after a sleep.
 */
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {CycleReport} from '../../src/brain/cycle.js'
import {shellCommand} from '../../src/shared/shell-quote.js'
import {displayWidth} from '../../src/render/wrap.js'
import {BIN, capture, cliEnv, gbrain, spawnGbrain, type CliResult} from '../helpers/cli.js'
import {destroyAll, waitFor} from '../helpers/cleanup.js'
import {homeFrom, plantSpoolEntry, removeHomes, tempDir} from '../helpers/doctor-kit.js'
import {startProxy} from '../helpers/fault-proxy.js'
import {gbrainQuery} from '../helpers/gbrain-sim.js'
import {startCluster} from '../helpers/pg-cluster.js'
import {generateVault, type VaultExpectation} from '../helpers/vault-gen.js'

const ERASE = '\r\u001b[2K'
const SCRIPT = '/usr/bin/script'
const FILES = 300

let root: string
let vault: string
let expected: VaultExpectation
let template: string

beforeAll(async () => {
  root = tempDir('gbrain-progress-')
  vault = path.join(root, 'vault')
  mkdirSync(vault)
  expected = generateVault(vault, {files: FILES, entries: 2, links: 2})
  // One brain with the source added and nothing cycled yet, copied per test.
  template = path.join(root, 'template')
  mkdirSync(template)
  const init = await gbrain(['init'], {GBRAIN_HOME: template})
  expect(init.code, init.stderr).toBe(0)
  const add = await gbrain(['sources', 'add', 'notes', '--path', vault], {GBRAIN_HOME: template})
  expect(add.code, add.stderr).toBe(0)
}, 120_000)

afterAll(async () => {
  await destroyAll()
  removeHomes()
})

function home(): {home: string; env: Record<string, string>; dataDir: string; spool: string} {
  const {home: h, dataDir, paths} = homeFrom(root, {home: template})
  return {home: h, env: {GBRAIN_HOME: h, LANG: 'C.UTF-8', LC_ALL: ''}, dataDir, spool: paths.spool}
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '')

async function interruptAt(args: string[], env: Record<string, string>, marker: string, signal: NodeJS.Signals): Promise<CliResult> {
  const run = spawnGbrain(args, env)
  await waitFor(() => run.stderr().includes(marker), {
    timeoutMs: 60_000,
    intervalMs: 10,
    what: `the marker ${JSON.stringify(marker)} (stderr: ${run.stderr()})`,
  })
  run.kill(signal)
  return run.done
}

async function counts(dataDir: string): Promise<{pages: number; timeline: number; links: number; stamped: number}> {
  const [row] = await gbrainQuery<{pages: number; timeline: number; links: number; stamped: number}>(
    dataDir,
    `select (select count(*)::int from pages) as pages, (select count(*)::int from timeline_entries) as timeline,
            (select count(*)::int from links) as links,
            (select count(*)::int from sources where config ? 'last_full_cycle_at') as stamped`,
  )
  return row!
}

describe('cycle progress', () => {
  it('piped: a start line per pass and one final line for the source — not one line per file', async () => {
    const h = home()
    const r = await gbrain(['cycle'], h.env, 120_000)
    console.log(`--- gbrain cycle 2>&1 | cat (exit ${r.code}) ---\n${r.stderr}${r.stdout}`)
    expect(r.code, r.stderr).toBe(0)
    const files = FILES + 3 // the vault's three bad-input files are files too
    const progress = lines(r.stderr)
    expect(progress[0]).toBe(`gbrain: notes: pass 1/2 (pages), ${files} files`)
    expect(progress[1]).toBe(`gbrain: notes: pass 2/2 (entries and links), ${files} files`)
    expect(progress[2]).toMatch(
      new RegExp(
        `^gbrain: notes: complete ${files} files, ${expected.total.toLocaleString('en-US')} rows sent in \\d+\\.\\ds \\(\\d[\\d,.]* files/s\\)$`,
      ),
    )
    expect(progress).toHaveLength(3)
    expect(r.stderr).not.toContain('\r')
    expect(r.stderr).not.toContain('\u001b')
    expect(r.stdout).toContain('cycle complete: 1 source')
  }, 120_000)

  it('on a terminal: one line redrawn in place, never wider than the terminal, erased at the end', async () => {
    expect(existsSync(SCRIPT), 'util-linux script gives the child a pty').toBe(true)
    const h = home()
    const stdoutFile = path.join(h.home, 'stdout.txt')
    // stderr is the pty (60 columns); stdout goes to a file, so what the pty shows is stderr alone.
    const cmd = `stty cols 60 rows 24; exec ${shellCommand(process.execPath, BIN, 'cycle')} > ${shellCommand(stdoutFile)}`
    const r = await capture(SCRIPT, ['-qfec', cmd, '/dev/null'], {env: cliEnv(h.env)}, 120_000, 'script gbrain cycle')
    expect(r.code, r.stdout).toBe(0)
    const tty = r.stdout
    const drawn = tty.split(ERASE).slice(1)
    const passes = drawn.filter((d) => d.startsWith('notes: pass '))
    expect(passes.length, tty).toBeGreaterThanOrEqual(2)
    expect(drawn.some((d) => d.startsWith('notes: pass 2/2 (entries and links) '))).toBe(true)
    for (const d of drawn) expect(displayWidth(d), JSON.stringify(d)).toBeLessThanOrEqual(59)
    // Redrawn in place: no line feed at all, and nothing left on the line at the end.
    expect(tty).not.toContain('\n')
    expect(tty.endsWith(ERASE), JSON.stringify(tty.slice(-120))).toBe(true)
    expect(readFileSync(stdoutFile, 'utf8')).toContain('cycle complete: 1 source')
  }, 120_000)

  it('Ctrl-C mid-cycle: exit 130, one "interrupted" line, no error; nothing stamped; a rerun lands every row once', async () => {
    const h = home()
    // One row per statement, so the second pass is still running when the signal lands.
    const r = await interruptAt(['cycle', '--batch-size', '1'], h.env, 'gbrain: notes: pass 2/2 (entries and links)', 'SIGINT')
    console.log(`--- gbrain cycle, SIGINT in pass 2 (exit ${r.code}) ---\n${r.stderr}${r.stdout}`)
    expect(r.code, r.stderr).toBe(130)
    // The progress lines of the run so far, then the one line that says what happened.
    expect(lines(r.stderr)).toEqual([
      `gbrain: notes: pass 1/2 (pages), ${FILES + 3} files`,
      `gbrain: notes: pass 2/2 (entries and links), ${FILES + 3} files`,
      'gbrain: interrupted; rerun `gbrain cycle` to finish — nothing lost',
    ])
    expect(r.stderr).not.toMatch(/fix:|aborted|error/i)
    expect(r.stdout).toBe('')
    const partial = await counts(h.dataDir)
    expect(partial.pages).toBe(expected.pages)
    expect(partial.timeline + partial.links).toBeLessThan(expected.timeline + expected.links)
    expect(partial.stamped).toBe(0)

    const again = await gbrain(['cycle', '--json'], h.env, 120_000)
    expect(again.code, again.stderr).toBe(0)
    expect((JSON.parse(again.stdout) as CycleReport).status).toBe('complete')
    expect(await counts(h.dataDir)).toEqual({pages: expected.pages, timeline: expected.timeline, links: expected.links, stamped: 1})
  }, 180_000)

  it('SIGTERM with --json: exit 143, the interrupted document on stdout, no error object', async () => {
    const h = home()
    const r = await interruptAt(
      ['cycle', '--json', '--source', 'notes', '--batch-size', '1'],
      h.env,
      'gbrain: notes: pass 1/2 (pages)',
      'SIGTERM',
    )
    expect(r.code, r.stderr).toBe(143)
    expect(JSON.parse(r.stdout)).toEqual({
      schema_version: 2,
      status: 'interrupted',
      signal: 'SIGTERM',
      exit_code: 143,
      rerun: 'gbrain cycle --source notes',
      message: 'stopped by SIGTERM; rerun `gbrain cycle --source notes` to finish — nothing lost',
    })
    expect(r.stderr).not.toMatch(/fix:|error/i)
  }, 120_000)
})

describe('repair --replay progress', () => {
  const ENTRIES = 400

  async function planted(): Promise<ReturnType<typeof home>> {
    const h = home()
    for (let i = 0; i < ENTRIES; i++)
      await plantSpoolEntry(h.spool, `20260101T000000000Z-cycle_pages-${i.toString(16).padStart(8, '0')}`, 2)
    return h
  }
  const entryFiles = (spool: string): string[] => readdirSync(spool).filter((f) => f.endsWith('.json'))

  it('piped: a start line and a final line, not one line per entry', async () => {
    const h = await planted()
    const r = await gbrain(['repair', '--replay'], h.env, 120_000)
    console.log(`--- gbrain repair --replay, ${ENTRIES} entries (exit ${r.code}) ---\n${r.stderr}${r.stdout}`)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`replayed ${ENTRIES} of ${ENTRIES} entries`)
    const replayLines = lines(r.stderr)
    expect(replayLines[0]).toBe(`gbrain: replay, ${ENTRIES} entries`)
    expect(replayLines[1]).toMatch(new RegExp(`^gbrain: replay ${ENTRIES}/${ENTRIES} entries, ${ENTRIES * 2} rows in \\d+\\.\\ds`))
    expect(replayLines).toHaveLength(2)
    expect(entryFiles(h.spool)).toEqual([])
  }, 180_000)

  it('Ctrl-C mid-replay: exit 130, one "interrupted" line; the entries not landed stay; a rerun lands them', async () => {
    const h = await planted()
    const r = await interruptAt(['repair', '--replay'], h.env, 'gbrain: replay, ', 'SIGINT')
    console.log(`--- gbrain repair --replay, SIGINT (exit ${r.code}) ---\n${r.stderr}${r.stdout}`)
    expect(r.code, r.stderr).toBe(130)
    expect(lines(r.stderr)).toEqual([
      `gbrain: replay, ${ENTRIES} entries`,
      'gbrain: interrupted; rerun `gbrain repair --replay` to finish — nothing lost',
    ])
    expect(r.stderr).not.toMatch(/fix:|error/i)
    expect(r.stdout).toBe('')
    const left = entryFiles(h.spool).length
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThanOrEqual(ENTRIES)

    const again = await gbrain(['repair', '--replay'], h.env, 120_000)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain(`replayed ${left} of ${left} entries`)
    expect(entryFiles(h.spool)).toEqual([])
  }, 180_000)
})

describe('the database going away (Postgres)', () => {
  it('piped: said at once and once — retrying, then spooling with the rows so far — and the cycle is partial', async () => {
    const cluster = await startCluster()
    await cluster.psql('create database progress')
    const proxy = await startProxy(cluster.port)
    const h = mkdtempSync(path.join(root, 'pg-home-'))
    const env = {
      GBRAIN_HOME: h,
      GBRAIN_DATABASE_URL: proxy.urlFor('progress'),
      LANG: 'C.UTF-8',
      LC_ALL: '',
      GBRAIN_BULK_MAX_RETRIES: '2',
      GBRAIN_BULK_RETRY_BASE_MS: '50',
      GBRAIN_BULK_RETRY_MAX_MS: '100',
    }
    expect((await gbrain(['init'], env)).code).toBe(0)
    expect((await gbrain(['sources', 'add', 'notes', '--path', vault], env)).code).toBe(0)
    // The first pages statement is cut (never executed) and the proxy stops taking connections:
    // the database is gone from the cycle's point of view for the rest of the run.
    const arm = proxy.armResetOnNextQuery({predicate: (sql) => /insert into pages/i.test(sql), phase: 'before'})
    void arm.whenFired.then(() => proxy.setMode('refuse'))
    const r = await gbrain(['cycle', '--batch-size', '100'], env, 120_000)
    console.log(`--- gbrain cycle, database gone mid-cycle (exit ${r.code}) ---\n${r.stderr}${r.stdout}`)
    expect(arm.fired).toBe(true)
    expect(r.code).toBe(1)
    const said = lines(r.stderr)
    expect(said.filter((l) => l.includes('retrying'))).toEqual(['gbrain: database unreachable — retrying (attempt 2)'])
    expect(said.filter((l) => l.includes('spooling'))).toEqual(['gbrain: database down — spooling, 100 rows so far'])
    expect(said.at(-1)).toMatch(/^gbrain: notes: partial 303 files, [\d,]+ rows sent, [\d,]+ spooled in /)
    // Bounded: start lines, the two trouble lines, the final line — whatever the number of batches.
    expect(said.length).toBeLessThanOrEqual(6)
    expect(r.stdout).toMatch(/cycle partial: .* spooled/)
    await proxy.close()
  }, 180_000)
})
