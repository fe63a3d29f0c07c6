/**
 * The first minutes of a new user (issue 12, items 1, 3, 4, 7, 8), through the built binary:
 * usage errors keep their reason; a doctor that could not check the brain it was asked about
 * never says healthy; commands that need the tables stop before making anything; connection
 * errors name the host and port tried and fill them into the fix; repair points at the command
 * that fixes what it cannot.
 */
import {existsSync, readdirSync, rmSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {RepairOutput} from '../../src/commands/repair.js'
import {gbrain, type CliResult} from '../helpers/cli.js'
import {destroyAll} from '../helpers/cleanup.js'
import {brainPaths, check, LOCALE_ENV, parseReport, plantSpoolEntry, removeHomes, tempDir} from '../helpers/doctor-kit.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'

const VAULT = path.resolve('examples/vault')
const SECRET = 'Pl4nted-S3cret'

let cluster: PgCluster

beforeAll(async () => {
  cluster = await startCluster()
}, 60_000)

afterAll(async () => {
  removeHomes()
  await destroyAll()
})

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

/** One stderr line, nothing on stdout: the shape of every usage error. */
function oneErrorLine(r: CliResult): string {
  expect(r.stdout).toBe('')
  const lines = r.stderr.trim().split('\n')
  expect(lines, r.stderr).toHaveLength(1)
  expect(r.stderr).not.toMatch(/\n\s+at /) // no stack without --debug
  return lines[0]!
}

const jsonError = (r: CliResult): {code: string; message: string; hint: string | null} => {
  const o = JSON.parse(r.stdout) as {schema_version: number; status: string; error: {code: string; message: string; hint: string | null}}
  expect(o).toMatchObject({schema_version: 2, status: 'error'})
  return o.error
}

describe('item 1: usage errors keep their reason, in text, --json and --debug', () => {
  const env = (): Record<string, string> => ({...LOCALE_ENV, GBRAIN_HOME: tempDir()})

  it('a missing required flag is named as typed', async () => {
    const e = env()
    const r = await gbrain(['sources', 'add', 'notes'], e)
    expect(r.code).toBe(64)
    expect(oneErrorLine(r)).toBe('gbrain: --path is required (fix: see: gbrain sources add --help)')
    const j = await gbrain(['sources', 'add', 'notes', '--json'], e)
    expect(j.code).toBe(64)
    expect(jsonError(j)).toEqual({code: 'USAGE', message: '--path is required', hint: 'see: gbrain sources add --help'})
    const d = await gbrain(['sources', 'add', 'notes', '--debug'], e)
    expect(d.code).toBe(64)
    expect(d.stderr).toContain('gbrain: --path is required')
    expect(d.stderr).toMatch(/\n\s+at /) // --debug adds the stack
  })

  it('a missing argument names the argument; a bad count says its range; never oclif’s header alone', async () => {
    const e = env()
    const a = await gbrain(['sources', 'add'], e)
    expect(a.code).toBe(64)
    expect(oneErrorLine(a)).toMatch(/^gbrain: missing argument ID \(stable id: .*\) \(fix: see: gbrain sources add --help\)$/)
    const b = await gbrain(['cycle', '--batch-size', '0'], e)
    expect(b.code).toBe(64)
    expect(oneErrorLine(b)).toMatch(/^gbrain: --batch-size 0 is out of range: it must be a whole number from 1 to 16,000/)
    for (const r of [a, b]) {
      expect(r.stderr).not.toMatch(/The following error occurred|Missing 1 required arg:|^gbrain: Parsing/)
      expect(r.stderr).not.toContain('sources:add')
    }
  })
})

describe('item 3: not checked is never healthy', () => {
  it('no brain yet: the status line says the database was not checked, exit 3, no score; nothing created', async () => {
    const home = tempDir()
    const env = {...LOCALE_ENV, GBRAIN_HOME: home}
    const t = await gbrain(['doctor'], env)
    expect(t.code).toBe(3)
    const status = t.stdout.trim().split('\n').at(-1)!
    expect(status).toMatch(/^unknown: database not checked \(no brain yet\) — \d+ ok, \d+ skipped — health not scored \(/)
    expect(t.stdout).not.toMatch(/healthy|100\/100/)
    // Every skipped check says why, in the table's "Not checked" part and in JSON.
    expect(t.stdout).toContain('$ gbrain init')
    const j = await gbrain(['doctor', '--json'], env)
    expect(j.code).toBe(3)
    const rep = parseReport(j)
    expect(rep).toMatchObject({
      status: 'unknown',
      health_score: null,
      coverage: {database: 'not_reached', fix: {commands: ['gbrain init']}},
    })
    expect(rep.coverage.reason).toBe('no brain yet')
    for (const c of rep.checks.filter((x) => x.status === 'skipped')) expect(c.message, c.name).not.toBe('')
    expect(check(rep, 'cycle_freshness').message).toBe('not checked: no brain yet')
    // Nagios says UNKNOWN with the reason; Prometheus has no score and a 0 database_checked.
    const n = await gbrain(['doctor', '--format', 'nagios'], env)
    expect(n.code).toBe(3)
    expect(n.stdout.split('\n')[0]).toMatch(/^GBRAIN DOCTOR UNKNOWN - database not checked \(no brain yet\) - /)
    expect(n.stdout).not.toContain("'health_score'")
    const p = await gbrain(['doctor', '--format', 'prometheus'], env)
    expect(p.stdout).toContain('\ngbrain_doctor_database_checked 0\n')
    expect(p.stdout).not.toMatch(/^gbrain_doctor_health_score /m)
    expect(existsSync(path.join(home, '.gbrain', 'brain.pglite'))).toBe(false)
  })

  it('--fast and --only of file checks did not ask about the database: exit 0, scored, said so', async () => {
    const env = {...LOCALE_ENV, GBRAIN_HOME: tempDir()}
    const fast = await gbrain(['doctor', '--fast', '--json'], env)
    expect(fast.code).toBe(0)
    expect(parseReport(fast)).toMatchObject({status: 'healthy', health_score: 100, coverage: {database: 'not_asked'}})
    const only = await gbrain(['doctor', '--only', 'dead_letter,audit_log'], env)
    expect(only.code).toBe(0)
    expect(only.stdout.trim().split('\n').at(-1)).toMatch(/^healthy: 2 ok — health 100\/100 /)
    // A selection that checks nothing is refused rather than called healthy.
    const none = await gbrain(['doctor', '--only', 'connection', '--skip', 'connection'], env)
    expect(none.code).toBe(64)
    expect(oneErrorLine(none)).toBe('gbrain: --only and --skip leave no check to run (fix: gbrain doctor --list)')
    const fastDb = await gbrain(['doctor', '--fast', '--only', 'connection,cycle_freshness'], env)
    expect(fastDb.code).toBe(64)
    expect(oneErrorLine(fastDb)).toMatch(
      /^gbrain: --fast skips every selected check \(connection, cycle_freshness: they need the database\)/,
    )
    // …but --only connection did ask: not checked, exit 3.
    const conn = await gbrain(['doctor', '--only', 'connection', '--json'], env)
    expect(conn.code).toBe(3)
    expect(parseReport(conn).coverage.database).toBe('not_reached')
  })
})

describe('item 3: two doctors started together', () => {
  it('on one embedded brain both check it (the second waits for gbrain’s lock, within its connect budget), neither says held', async () => {
    const env = {...LOCALE_ENV, GBRAIN_HOME: tempDir()}
    expect((await gbrain(['init'], env)).code).toBe(0)
    // --timeout 10s: each waits at most connectTimerFor(10 s) − min(1.5 s, half) = 6.5 s for the lock.
    const [a, b] = await Promise.all([
      gbrain(['doctor', '--json', '--timeout', '10s'], env),
      gbrain(['doctor', '--json', '--timeout', '10s'], env),
    ])
    for (const r of [a, b]) {
      expect(r.code, r.stdout).toBe(0)
      const rep = parseReport(r)
      expect(rep.coverage.database).toBe('checked')
      expect(check(rep, 'connection').status).toBe('ok')
    }
  }, 120_000)
})

describe('exit codes survive the embedded brain closing', () => {
  it('a cycle whose source directory is gone fails with exit 1 on PGlite (its close no longer resets the code)', async () => {
    const home = tempDir()
    const env = {...LOCALE_ENV, GBRAIN_HOME: home}
    const dir = tempDir('gbrain-gone-')
    expect((await gbrain(['init'], env)).code).toBe(0)
    expect((await gbrain(['sources', 'add', 'gone', '--path', dir], env)).code).toBe(0)
    rmSync(dir, {recursive: true, force: true})
    const r = await gbrain(['cycle'], env)
    expect(r.stdout).toMatch(/cycle (failed|partial)/)
    expect(r.code, r.stdout + r.stderr).toBe(1)
  }, 120_000)
})

describe('item 4: nothing half-made', () => {
  it('cycle, cycle --watch, sources list/add and repair on a home without a brain: exit 64, gbrain init, nothing created', async () => {
    const home = tempDir()
    const env = {...LOCALE_ENV, GBRAIN_HOME: home}
    for (const args of [
      ['cycle'],
      ['cycle', '--watch', '--interval', '1s'],
      ['sources', 'list'],
      ['sources', 'add', 'notes', '--path', VAULT],
      ['repair'],
      ['repair', '--replay'],
    ]) {
      const r = await gbrain(args, env, 30_000)
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(64)
      expect(oneErrorLine(r), args.join(' ')).toMatch(/^gbrain: no (embedded )?brain .*(at|yet).*\(fix: .*gbrain init\)$/)
      expect(readdirSync(home), `${args.join(' ')} created something`).toEqual([])
    }
    const j = await gbrain(['repair', '--json'], env)
    expect(j.code).toBe(64)
    expect(jsonError(j)).toMatchObject({hint: 'gbrain init'})
  }, 120_000)

  it('a Postgres database without gbrain’s tables: cycle and sources stop with gbrain init and create no table; the doctor fails with the same fix', async () => {
    const db = `newcomer_empty_${process.pid}`
    await cluster.psql(`create database ${db}`)
    const env = {...LOCALE_ENV, GBRAIN_HOME: tempDir(), GBRAIN_DATABASE_URL: cluster.urlFor(db)}
    for (const args of [['cycle'], ['cycle', '--watch', '--interval', '1s'], ['sources', 'list'], ['repair']]) {
      const r = await gbrain(args, env, 30_000)
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(64)
      expect(oneErrorLine(r)).toMatch(/no gbrain tables yet.*\(fix: gbrain init\)$/)
    }
    const tables = await cluster.psql(`select count(*) from information_schema.tables where table_schema = 'public'`, db)
    expect(tables.trim()).toBe('0')
    const rep = parseReport(await gbrain(['doctor', '--json'], env))
    expect(check(rep, 'cycle_freshness')).toMatchObject({status: 'fail', details: {cause: 'no_tables'}, fix: {commands: ['gbrain init']}})
    expect(check(rep, 'cycle_freshness').message).not.toContain('could not be evaluated')
  }, 120_000)
})

describe('item 7: errors that help', () => {
  it('nothing listening: host and port, where the URL came from, a filled-in pg_isready; never the password', async () => {
    const port = await closedPort()
    const home = tempDir()
    const url = `postgres://gb:${SECRET}@127.0.0.1:${port}/brain`
    const c = await gbrain(['cycle'], {...LOCALE_ENV, GBRAIN_HOME: home, GBRAIN_DATABASE_URL: url}, 60_000)
    expect(c.code).toBe(1)
    expect(c.stdout).toBe('')
    // Piped, the retries say so as they happen (progress notices); the error is the last line.
    const lines = c.stderr.trim().split('\n')
    for (const l of lines.slice(0, -1)) expect(l).toMatch(/^gbrain: database unreachable — retrying \(attempt \d+\)$/)
    const line = lines.at(-1)!
    expect(line).toContain(`cannot reach 127.0.0.1:${port}: nothing is listening there (URL from GBRAIN_DATABASE_URL)`)
    expect(line).toContain(`pg_isready -h 127.0.0.1 -p ${port}`)
    expect(line).not.toContain('HOST')
    expect(line).not.toContain(SECRET)

    const d = await gbrain(['doctor', '--only', 'connection', '--json', '--database-url', url], {...LOCALE_ENV, GBRAIN_HOME: home})
    expect(d.stdout).not.toContain(SECRET)
    const conn = check(parseReport(d), 'connection')
    expect(conn.status).toBe('fail')
    expect(conn.message).toBe(`Postgres: cannot reach 127.0.0.1:${port}: nothing is listening there (URL from --database-url)`)
    expect(conn.fix?.commands).toEqual([`pg_isready -h 127.0.0.1 -p ${port}`, 'gbrain repair --reconnect'])
  }, 90_000)

  it('a server that was reached says so: no such database / no such role is not "cannot reach"', async () => {
    const home = tempDir()
    const noDb = parseReport(
      await gbrain(['doctor', '--only', 'connection', '--json', '--database-url', cluster.urlFor('no_such_db')], {
        ...LOCALE_ENV,
        GBRAIN_HOME: home,
      }),
    )
    const c1 = check(noDb, 'connection')
    expect(c1.message).toMatch(
      new RegExp(
        `^Postgres: the server at 127\\.0\\.0\\.1:${cluster.port} was reached but has no database "no_such_db" — .*does not exist.* \\(URL from --database-url\\)$`,
      ),
    )
    expect(c1.fix?.commands).toEqual([`createdb -h 127.0.0.1 -p ${cluster.port} no_such_db`, 'gbrain init'])
    const noRole = await gbrain(['cycle', '--database-url', `postgres://no_such_role@127.0.0.1:${cluster.port}/postgres`], {
      ...LOCALE_ENV,
      GBRAIN_HOME: home,
    })
    expect(noRole.code).toBe(1)
    const line = oneErrorLine(noRole)
    expect(line).toContain(`the server at 127.0.0.1:${cluster.port} was reached but has no such role`)
    expect(line).toContain('(URL from --database-url)')
    expect(line).not.toContain('cannot reach')
  }, 90_000)

  it('--source naming no source is an error like cycle’s; conflicting flags are refused', async () => {
    const db = `newcomer_src_${process.pid}`
    await cluster.psql(`create database ${db}`)
    const env = {...LOCALE_ENV, GBRAIN_HOME: tempDir(), GBRAIN_DATABASE_URL: cluster.urlFor(db)}
    expect((await gbrain(['init'], env)).code).toBe(0)
    const d = await gbrain(['doctor', '--source', 'nosuch'], env)
    expect(d.code).toBe(64)
    expect(oneErrorLine(d)).toBe('gbrain: no source with id "nosuch" (fix: gbrain sources list)')
    const c = await gbrain(['cycle', '--source', 'nosuch'], env)
    expect(c.code).toBe(64)
    expect(oneErrorLine(c)).toBe('gbrain: no source with id "nosuch" (fix: gbrain sources list)')
    const dj = await gbrain(['doctor', '--source', 'nosuch', '--json'], env)
    expect(jsonError(dj)).toEqual({code: 'USAGE', message: 'no source with id "nosuch"', hint: 'gbrain sources list'})

    const qv = await gbrain(['doctor', '-q', '-v'], env)
    expect(qv.code).toBe(64)
    expect(oneErrorLine(qv)).toMatch(/^gbrain: --quiet and --verbose cannot be used together/)
    const jf = await gbrain(['doctor', '--json', '--format', 'table'], env)
    expect(jf.code).toBe(64)
    expect(jsonError(jf).message).toBe('--json and --format table cannot be used together')
    expect((await gbrain(['doctor', '--json', '--format', 'json'], env)).code).toBe(0) // the same thing twice is fine
  }, 120_000)
})

describe('item 8: repair leads to green', () => {
  it('a source never cycled: repair names gbrain cycle --source; after a replay it says the sources stay unstamped; --json keeps one shape', async () => {
    const db = `newcomer_repair_${process.pid}`
    await cluster.psql(`create database ${db}`)
    const home = tempDir()
    const env = {...LOCALE_ENV, GBRAIN_HOME: home, GBRAIN_DATABASE_URL: cluster.urlFor(db)}
    expect((await gbrain(['init'], env)).code).toBe(0)
    expect((await gbrain(['sources', 'add', 'notes', '--path', VAULT], env)).code).toBe(0)

    const plan = await gbrain(['repair'], env)
    expect(plan.code).toBe(0)
    expect(plan.stdout).toContain('Nothing for repair to do now.')
    // cycle_freshness and sync_freshness share the command: one step, both named.
    expect(plan.stdout).toMatch(
      /Not for repair — this command fixes it:\n {2}cycle_freshness, sync_freshness: 1 of 1 source needs attention: notes never cycled\n {6}gbrain cycle --source notes\n/,
    )

    const shape = (o: RepairOutput): string[] => Object.keys(o)
    const planJson = JSON.parse((await gbrain(['repair', '--json'], env)).stdout) as RepairOutput
    expect(planJson.next).toEqual(
      expect.arrayContaining([
        expect.objectContaining({checks: ['cycle_freshness', 'sync_freshness'], commands: ['gbrain cycle --source notes']}),
      ]),
    )

    await plantSpoolEntry(brainPaths(home).spool)
    const replayJson = JSON.parse((await gbrain(['repair', '--replay', '--json'], env)).stdout) as RepairOutput
    expect(shape(replayJson)).toEqual(shape(planJson))
    expect(shape(planJson)).toEqual(['schema_version', 'dry_run', 'plan', 'actions', 'fixed', 'remaining', 'next', 'checks'])
    expect(replayJson.actions.find((a) => a.name === 'replay')?.status).toBe('applied')
    expect(replayJson.plan.map((p) => p.action)).toContain('replay')

    // Cycled now; a replay afterwards says the sources wait for the next cycle.
    expect((await gbrain(['cycle'], env)).code).toBe(0)
    await plantSpoolEntry(brainPaths(home).spool)
    const replay = await gbrain(['repair', '--replay'], env)
    expect(replay.code).toBe(0)
    expect(replay.stdout).toMatch(/stay unstamped until the next full cycle\n {6}gbrain cycle\n/)
  }, 180_000)
})
