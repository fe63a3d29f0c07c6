/**
 * `gbrain doctor` as a built binary against a real Postgres 15: exit codes, the human table, the
 * JSON report, every CI format, usage errors, faults (a hung query, a refused and a blackholed
 * server), a planted password that must appear nowhere, and read-only-ness (a SELECT-only role,
 * an unchanged GBRAIN_HOME tree and database, and a run as another OS user that cannot write).
 *
 * One cluster for the file; every scenario gets its own database and its own GBRAIN_HOME.
 */
import {existsSync, readdirSync, readFileSync, statSync, writeFileSync, chmodSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/checks/types.js'
import {gbrain, type CliResult} from '../helpers/cli.js'
import {destroyAll, waitFor} from '../helpers/cleanup.js'
import {
  brainPaths,
  type ClusterBrain,
  CATALOGUE_ORDER,
  check,
  DATABASE_CHECKS,
  FILE_CHECKS,
  filesUnder,
  gbrainAs,
  holdLock,
  LOCALE_ENV,
  parseReport,
  plantAuditTrail,
  plantExhausted,
  plantSpoolEntry,
  STALE_SPOOL_AGE_MS,
  removeHomes,
  snapshotTree,
  statuses,
  tableRows,
  tempDir,
  type TreeEntry,
} from '../helpers/doctor-kit.js'
import {startProxy} from '../helpers/fault-proxy.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {freePort, run} from '../helpers/proc.js'

const VAULT = path.resolve('examples/vault')
const PW = 'Pl4nted-S3cret!x'
const WRONG_PW = 'Wr0ng-Pl4nted-S3cret!x'
const FORMATS = ['table', 'json', 'junit', 'github', 'nagios', 'prometheus', 'html'] as const

let cluster: PgCluster
let dbSeq = 0

type Brain = ClusterBrain

beforeAll(async () => {
  cluster = await startCluster()
  // Password auth for the planted-password role and the read-only role (trust for everyone else).
  await cluster.psql(`create role pwuser login password '${PW}'`)
  await cluster.psql(`create role ro login password 'ro-Passw0rd'`)
  const hba = path.join(cluster.dir, 'data', 'pg_hba.conf')
  writeFileSync(hba, `host all pwuser 127.0.0.1/32 scram-sha-256\nhost all ro 127.0.0.1/32 scram-sha-256\n` + readFileSync(hba, 'utf8'))
  await cluster.psql('select pg_reload_conf()')
}, 60_000)

afterAll(async () => {
  removeHomes()
  await destroyAll()
})

/** A Postgres brain of its own: database, GBRAIN_HOME, init, the sample source, a cycle just now. */
async function makeBrain(opts: {cycledHoursAgo?: number} = {}): Promise<Brain> {
  const db = `doctor_${++dbSeq}`
  await cluster.psql(`create database ${db}`)
  const url = cluster.urlFor(db)
  const home = tempDir()
  const env = {...LOCALE_ENV, GBRAIN_HOME: home, GBRAIN_DATABASE_URL: url}
  const init = await gbrain(['init'], env)
  expect(init.code, init.stderr).toBe(0)
  const add = await gbrain(['sources', 'add', 'notes', '--path', VAULT], env)
  expect(add.code, add.stderr).toBe(0)
  const cycle = await gbrain(['cycle'], env)
  expect(cycle.code, cycle.stderr + cycle.stdout).toBe(0)
  if (opts.cycledHoursAgo !== undefined) await setCycledAgo(db, opts.cycledHoursAgo)
  return {home, db, url, env, paths: brainPaths(home)}
}

async function setCycledAgo(db: string, hours: number): Promise<void> {
  await cluster.psql(
    `update sources set config = config || jsonb_build_object('last_full_cycle_at', ` +
      `to_char((now() - interval '${hours} hours') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) where id = 'notes'`,
    db,
  )
}

/** The brain's content tables, fingerprinted. */
async function dbFingerprint(db: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const table of ['sources', 'pages', 'timeline_entries', 'links']) {
    out[table] = await cluster.psql(
      `select count(*) || ':' || coalesce(md5(string_agg(t::text, ',' order by t::text)), '-') from ${table} t`,
      db,
    )
  }
  return out
}

function expectNoStack(r: CliResult): void {
  expect(r.stderr).not.toMatch(/\n\s+at /)
  expect(r.stdout).not.toMatch(/\n\s+at /)
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? ''
}

describe('doctor: verdicts and exit codes', () => {
  it('a healthy brain: exit 0, summary line; --json shape; -q; --list', async () => {
    const b = await makeBrain()
    const t = await gbrain(['doctor'], b.env)
    expect(t.code, t.stdout + t.stderr).toBe(0)
    expect(t.stderr).toBe('')
    // Nothing needs attention, so the table is just the summary line.
    expect(t.stdout).toMatch(/^healthy: 12 ok, 1 skipped — health 100\/100 \(\d+ ms\)\n$/)

    const j = await gbrain(['doctor', '--json'], b.env)
    expect(j.code).toBe(0)
    expect(j.stderr).toBe('')
    const report = parseReport(j)
    expect(report.schema_version).toBe(2)
    expect(report.status).toBe('healthy')
    expect(report.health_score).toBe(100)
    expect(report.tool.name).toBe('gbrain-doctor')
    expect(report.target.engine).toBe('postgres')
    expect(report.target.sources.database).toBe('env:GBRAIN_DATABASE_URL')
    expect(report.target.audit_dir).toBe(b.paths.audit)
    expect(Number.isNaN(Date.parse(report.generated_at))).toBe(false)
    expect(report.checks.map((c) => c.name)).toEqual([...CATALOGUE_ORDER])
    for (const c of report.checks) {
      expect(['connectivity', 'retry', 'freshness', 'pool', 'storage']).toContain(c.category)
      expect(typeof c.message).toBe('string')
      expect(typeof c.duration_ms).toBe('number')
      expect(c).not.toHaveProperty('debug_stack')
    }
    const s = report.summary
    expect(s.ok + s.warn + s.fail + s.unknown + s.skipped).toBe(13)
    for (const st of ['ok', 'warn', 'fail', 'unknown', 'skipped'] as const) {
      expect(s[st], st).toBe(report.checks.filter((c) => c.status === st).length)
    }
    expect(report.health_score).toBe(Math.max(0, 100 - 20 * s.fail - 5 * s.warn))
    expect(s.ok).toBe(12)
    expect(check(report, 'pglite_lock')).toMatchObject({status: 'skipped'}) // Postgres: no data-dir lock
    expect(report.top_issues).toEqual([])
    expect(check(report, 'connection').details).toMatchObject({server_version: expect.stringMatching(/^15\./)})
    expect(check(report, 'connection').details).not.toHaveProperty('cause')

    const q = await gbrain(['doctor', '-q'], b.env)
    expect(q.code).toBe(0)
    expect(q.stdout.split('\n').filter(Boolean)).toHaveLength(1)
    expect(q.stdout).toMatch(/^healthy: 12 ok, 1 skipped — health 100\/100/)

    // --list: the catalogue explained (test/cli/doctor-list.test.ts has the rest); its first column names each check in order.
    const list = await gbrain(['doctor', '--list'], b.env)
    expect(list.code).toBe(0)
    const firstColumn = list.stdout.split('\n').map((l) => l.split('│')[1]?.trim() ?? '')
    expect(firstColumn.filter((cell) => (CATALOGUE_ORDER as readonly string[]).includes(cell))).toEqual([...CATALOGUE_ORDER])
  }, 90_000)

  it('warnings: a source cycled 10 h ago → exit 0; --fail-on warn → 1; --fail-on never with a fail → 0', async () => {
    const b = await makeBrain({cycledHoursAgo: 10})
    const t = await gbrain(['doctor'], b.env)
    expect(t.code, t.stdout).toBe(0)
    expect(t.stdout).toMatch(/\nwarnings: 1 warn, 11 ok, 1 skipped — health 95\/100 \(\d+ ms\)\n$/)
    expect(tableRows(t.stdout)).toEqual([['warn', 'cycle_freshness']])
    expect(t.stdout).toContain('notes 10.0 h ago')

    const strict = await gbrain(['doctor', '--fail-on', 'warn'], b.env)
    expect(strict.code).toBe(1)
    expect(strict.stdout).toMatch(/warnings: 1 warn/)

    await setCycledAgo(b.db, 48)
    const failing = await gbrain(['doctor', '-q'], b.env)
    expect(failing.code).toBe(1)
    expect(failing.stdout).toMatch(/^unhealthy: 1 fail, 11 ok, 1 skipped/)
    const never = await gbrain(['doctor', '--fail-on', 'never', '-q'], b.env)
    expect(never.code).toBe(0)
    expect(never.stdout).toMatch(/^unhealthy: 1 fail, 11 ok, 1 skipped/)
  }, 90_000)

  it('unhealthy: a source cycled 48 h ago → exit 1, the failing check first, the fix in top issues', async () => {
    const b = await makeBrain({cycledHoursAgo: 48})
    const t = await gbrain(['doctor'], b.env)
    expect(t.code).toBe(1)
    expect(t.stderr).toBe('')
    const rows = tableRows(t.stdout)
    expect(rows[0]).toEqual(['fail', 'cycle_freshness'])
    const top = t.stdout.slice(t.stdout.indexOf('Top issues'))
    expect(top).toMatch(/1\. ✗ cycle_freshness/)
    expect(top).toContain('$ gbrain cycle --source notes')
    expect(t.stdout).toMatch(/\nunhealthy: 1 fail, 11 ok, 1 skipped — health 80\/100/)

    const report = parseReport(await gbrain(['doctor', '--json'], b.env))
    const c = check(report, 'cycle_freshness')
    expect(c.status).toBe('fail')
    expect(c.threshold).toEqual({warn: 6, fail: 24})
    expect(c.observed_value).toBeGreaterThan(47.9)
    expect(c.fix?.commands).toContain('gbrain cycle --source notes')
    expect(report.top_issues[0]).toMatchObject({rank: 1, check: 'cycle_freshness', status: 'fail'})
  }, 90_000)

  it('unhealthy: 20 exhausted batch retries in the audit dir → exit 1, batch_retry_health first with its fix', async () => {
    const b = await makeBrain()
    await plantExhausted(b.paths.audit, 20)
    const t = await gbrain(['doctor'], b.env)
    expect(t.code).toBe(1)
    expect(tableRows(t.stdout)[0]).toEqual(['fail', 'batch_retry_health'])
    const top = t.stdout.slice(t.stdout.indexOf('Top issues'))
    expect(top).toMatch(/1\. ✗ batch_retry_health/)
    expect(top).toMatch(/fix: Check the pooler and the database/)
    expect(top).toContain('$ export GBRAIN_BULK_MAX_RETRIES=5')

    const report = parseReport(await gbrain(['doctor', '--json'], b.env))
    const c = check(report, 'batch_retry_health')
    expect(c.status).toBe('fail')
    expect(c.details).toMatchObject({exhausted_total: 20, rows_lost: 500, rows_spooled: 0})
    expect(c.observed_value).toBe(20)
    expect(c.threshold).toEqual({warn: 5, fail: 20})
  }, 90_000)
})

describe('doctor under faults', () => {
  it('a check hung on a lock becomes unknown at --timeout 1s, the others are unaffected, exit 3, and the query is cancelled', async () => {
    const b = await makeBrain()
    const lock = await holdLock(b.url, ['sources'])
    try {
      const r = await gbrain(['doctor', '--timeout', '1s', '--json'], b.env)
      const report = parseReport(r)
      const st = statuses(report)
      console.log(
        `[measure] doctor with a hung check (--timeout 1s): ${Math.round(r.ms)} ms wall, report ${report.duration_ms} ms; ` +
          `cycle_freshness ${check(report, 'cycle_freshness').duration_ms} ms, sync_freshness ${check(report, 'sync_freshness').duration_ms} ms`,
      )
      expect(st.cycle_freshness, check(report, 'cycle_freshness').message).toBe('unknown')
      expect(st.sync_freshness).toBe('unknown')
      // Cut at --timeout 1s; + 1 s of stated slack for the timer firing late on a loaded machine (a hang would be 30 s).
      for (const name of ['cycle_freshness', 'sync_freshness']) expect(check(report, name).duration_ms).toBeLessThanOrEqual(1000 + 1000)
      // Every other check is unaffected: the hung query must not starve them of connections.
      const others = Object.fromEntries(Object.entries(st).filter(([n]) => n !== 'cycle_freshness' && n !== 'sync_freshness'))
      expect(others).toEqual(Object.fromEntries(Object.keys(others).map((n) => [n, n === 'pglite_lock' ? 'skipped' : 'ok'])))
      expect(report.status).toBe('unknown')
      expect(r.code).toBe(3)
      // The run answers within --timeout + 1 s; the process around it gets slack.
      expect(report.duration_ms).toBeLessThan(1000 + 1000)
      expect(r.ms).toBeLessThan(3000 + 6000) // + 6 s of stated slack for Node's start-up and exit on a loaded 2-core CI machine

      // The hung statement was cancelled on the server: no doctor session is left waiting on the lock.
      const waiting = (): Promise<string> =>
        cluster.psql(`select count(*) from pg_stat_activity where application_name = 'gbrain-doctor' and wait_event_type = 'Lock'`)
      await waitFor(async () => (await waiting()) === '0', {
        timeoutMs: 2000,
        intervalMs: 50,
        what: 'no gbrain-doctor session waiting on the lock',
      })
      expect(await cluster.psql(`select count(*) from pg_locks where pid = ${lock.pid} and granted`)).not.toBe('0')
    } finally {
      await lock.release()
    }
    // The human table for the same situation shows `? unknown` (and the exit code is still 3).
    const lock2 = await holdLock(b.url, ['sources'])
    try {
      const t = await gbrain(['doctor', '--timeout', '1s'], b.env)
      expect(t.code).toBe(3)
      expect(tableRows(t.stdout).slice(0, 2)).toEqual([
        ['unknown', 'cycle_freshness'],
        ['unknown', 'sync_freshness'],
      ])
      expect(t.stdout).toMatch(/\nunknown: 2 unknown, 10 ok/)
    } finally {
      await lock2.release()
    }
  }, 90_000)

  it('database down (refused): connection fails with cause refused, file checks still run, exit 1, fast', async () => {
    const home = tempDir()
    await plantExhausted(brainPaths(home).audit, 2)
    const port = await freePort()
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`
    const env = {...LOCALE_ENV, GBRAIN_HOME: home}
    const r = await gbrain(['doctor', '--json', '--database-url', url], env)
    console.log(`[measure] doctor, database refused (closed port): ${Math.round(r.ms)} ms wall`)
    expect(r.code).toBe(1)
    const report = parseReport(r)
    expect(report.duration_ms).toBeLessThan(5000 / 2) // refused is answered at once, not waited out: under half the 5 s budget
    expect(r.ms).toBeLessThan(1500 + 6000) // + 6 s of stated slack for Node's start-up and exit on a loaded 2-core CI machine
    const conn = check(report, 'connection')
    expect(conn.status).toBe('fail')
    expect(conn.details).toMatchObject({cause: 'refused'})
    expect(conn.fix?.text).toMatch(/start the database/)
    for (const name of FILE_CHECKS) expect(['ok', 'warn', 'fail'], name).toContain(check(report, name).status)
    expect(check(report, 'batch_retry_health').details).toMatchObject({exhausted_total: 2})
    for (const name of DATABASE_CHECKS) {
      expect(check(report, name)).toMatchObject({status: 'skipped', downstream_of: ['connection']})
    }
    expect(report.top_issues[0]).toMatchObject({check: 'connection', status: 'fail'})

    const t = await gbrain(['doctor', '--database-url', url], env)
    console.log(`[measure] doctor (table), database refused: ${Math.round(t.ms)} ms wall`)
    expect(t.code).toBe(1)
    expect(t.ms).toBeLessThan(1500 + 6000) // + 6 s of stated slack for Node's start-up and exit on a loaded 2-core CI machine
    expect(tableRows(t.stdout)[0]).toEqual(['fail', 'connection'])
    expect(t.stdout).toMatch(/\nunhealthy: database not checked \(the connection failed \(refused\)\) — 1 fail, 7 ok, 5 skipped/)
  }, 60_000)

  it('database down (blackholed): answers within --timeout + 1 s, connection fails with cause timeout, exit 1', async () => {
    const b = await makeBrain()
    const proxy = await startProxy(cluster.port)
    try {
      await proxy.setMode('blackhole')
      const r = await gbrain(['doctor', '--json', '--database-url', proxy.urlFor(b.db), '--timeout', '2s'], b.env)
      console.log(
        `[measure] doctor, database blackholed (--timeout 2s): ${Math.round(r.ms)} ms wall, report ${parseReport(r).duration_ms} ms`,
      )
      expect(r.code).toBe(1)
      const report = parseReport(r)
      expect(report.duration_ms).toBeLessThan(2000 + 1000) // --timeout + 1 s
      expect(r.ms).toBeLessThan(3000 + 6000) // + 6 s of stated slack for Node's start-up and exit on a loaded 2-core CI machine
      const conn = check(report, 'connection')
      expect(conn.status).toBe('fail')
      expect(conn.details).toMatchObject({cause: 'timeout'})
      for (const name of FILE_CHECKS) expect(['ok', 'warn', 'fail'], name).toContain(check(report, name).status)
      for (const name of DATABASE_CHECKS) expect(check(report, name).status).toBe('skipped')
    } finally {
      await proxy.close()
    }
  }, 60_000)
})

describe('doctor: usage errors', () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['unknown check in --only', ['--only', 'nope'], {}, /unknown check "nope" in --only/],
    ['invalid threshold env', [], {GBRAIN_BATCH_RETRY_FAIL_TOTAL: 'abc'}, /GBRAIN_BATCH_RETRY_FAIL_TOTAL/],
    ['malformed --timeout', ['--timeout', 'soon'], {}, /--timeout "soon" is not a duration/],
    ['unknown format', ['--format', 'xml'], {}, /--format/],
    ['bad --fail-on', ['--fail-on', 'sometimes'], {}, /--fail-on/],
  ]
  it.each(cases)(
    '%s: JSON error on stdout with --json, one line with the fix on stderr without; exit 64',
    async (_n, args, extra, pattern) => {
      const home = tempDir()
      const env = {
        ...LOCALE_ENV,
        GBRAIN_HOME: home,
        GBRAIN_DATABASE_URL: `postgres://postgres@127.0.0.1:${cluster.port}/postgres`,
        ...extra,
      }
      const j = await gbrain(['doctor', '--json', ...args], env)
      expect(j.code).toBe(64)
      const doc = JSON.parse(j.stdout) as Record<string, unknown>
      expect(Object.keys(doc).sort()).toEqual(['error', 'schema_version', 'status'])
      expect(doc).toMatchObject({schema_version: 2, status: 'error'})
      const err = doc.error as Record<string, unknown>
      expect(Object.keys(err).sort()).toEqual(['code', 'hint', 'message'])
      expect(err.message).toMatch(pattern)
      expect(typeof err.hint).toBe('string')
      expect(String(err.hint).length).toBeGreaterThan(0)
      expectNoStack(j)

      const h = await gbrain(['doctor', ...args], env)
      expect(h.code).toBe(64)
      expect(h.stdout).toBe('')
      const lines = h.stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^gbrain: /)
      expect(lines[0]).toMatch(pattern)
      expect(lines[0]).toContain('(fix: ')
      expectNoStack(h)
      expect(readdirSync(home)).toEqual([]) // a usage error creates nothing
    },
    60_000,
  )
})

describe('doctor: every format on an unhealthy brain', () => {
  let b: Brain
  beforeAll(async () => {
    b = await makeBrain({cycledHoursAgo: 48})
    await plantExhausted(b.paths.audit, 20)
  }, 60_000)

  const plausible = (format: (typeof FORMATS)[number], out: string): void => {
    switch (format) {
      case 'table':
        expect(tableRows(out).slice(0, 2)).toEqual([
          ['fail', 'batch_retry_health'],
          ['fail', 'cycle_freshness'],
        ])
        expect(out).toMatch(/\nunhealthy: 2 fail, 10 ok, 1 skipped — health 60\/100 \(\d+ ms\)\n$/)
        break
      case 'json': {
        const r = JSON.parse(out) as Report
        expect(r).toMatchObject({schema_version: 2, status: 'unhealthy', health_score: 60, summary: {fail: 2, ok: 10}})
        expect(r.top_issues.map((i) => i.check)).toEqual(['batch_retry_health', 'cycle_freshness'])
        break
      }
      case 'junit':
        expect(out).toMatch(/^<\?xml /)
        expect(out).toMatch(/<testsuite [^>]*tests="13"[^>]*failures="2"/)
        expect(out.match(/<testcase /g)).toHaveLength(13)
        expect(out.match(/<failure /g)).toHaveLength(2)
        expect(out).toMatch(/<testcase [^>]*name="cycle_freshness"[^>]*>\s*<failure /)
        break
      case 'github':
        expect(out).toMatch(/^::error title=gbrain doctor%3A batch_retry_health::/)
        expect(out).toMatch(/\n::error title=gbrain doctor%3A cycle_freshness::/)
        expect(out).not.toContain('::warning')
        break
      case 'nagios':
        expect(firstLine(out)).toMatch(/^GBRAIN DOCTOR CRITICAL - 2 fail \| /)
        expect(firstLine(out)).toMatch(/'batch_retry_health'=20;5;20;0/)
        break
      case 'prometheus':
        expect(out).toMatch(/^gbrain_doctor_check_status\{check="cycle_freshness"[^}]*\} 2$/m)
        expect(out).toMatch(/^gbrain_doctor_check_status\{check="batch_retry_health"[^}]*\} 2$/m)
        expect(out).toMatch(/^gbrain_doctor_check_status\{check="connection"[^}]*\} 0$/m)
        expect(out).toMatch(/^gbrain_doctor_check_observed\{/m)
        expect(out).not.toMatch(/^gbrain_doctor_\S+ \S+ \d{10,}$/m) // no timestamps
        break
      case 'html': {
        expect(out).toMatch(/^<!doctype html>\n/)
        expect(out).toContain('<section id="summary" data-status="unhealthy">')
        expect(out.match(/<tr data-check="/g)).toHaveLength(13)
        expect(out.match(/<tr data-check="[a-z_]+" data-status="fail"/g)).toHaveLength(2)
        // The 20 planted exhausted rows, drawn as hourly bars.
        const exhausted = [...out.matchAll(/data-series="exhausted" [^>]*data-count="(\d+)"/g)].reduce((n, m) => n + Number(m[1]), 0)
        expect(exhausted).toBe(20)
        break
      }
    }
  }

  it.each(FORMATS)(
    '--format %s: plausible content and exit code; --output-file writes atomically, nothing on stdout',
    async (format) => {
      const r = await gbrain(['doctor', '--format', format], b.env)
      expect(r.code).toBe(format === 'nagios' ? 2 : 1)
      expect(r.stderr).toBe('')
      plausible(format, r.stdout)

      const outDir = tempDir('gbrain-doctor-out-')
      const file = path.join(outDir, `report.${format}`)
      writeFileSync(file, 'old content\n')
      const before = statSync(file)
      const o = await gbrain(['doctor', '--format', format, '--output-file', file], b.env)
      expect(o.code).toBe(format === 'nagios' ? 2 : 1)
      expect(o.stdout).toBe('')
      expect(o.stderr).toBe('')
      const written = readFileSync(file, 'utf8')
      plausible(format, written)
      expect(written.endsWith('\n')).toBe(true)
      // Replaced by rename (a new inode), not rewritten in place; no temp file left behind.
      expect(statSync(file).ino).not.toBe(before.ino)
      expect(readdirSync(outDir)).toEqual([`report.${format}`])
    },
    60_000,
  )

  it('--json with another --format is refused (they conflict); GITHUB_STEP_SUMMARY gets a Markdown table appended with --format github', async () => {
    const j = await gbrain(['doctor', '--json', '--format', 'junit'], b.env)
    expect(j.code).toBe(64)
    expect(JSON.parse(j.stdout)).toMatchObject({
      status: 'error',
      error: {code: 'USAGE', message: '--json and --format junit cannot be used together'},
    })

    const dir = tempDir('gbrain-doctor-gh-')
    const summary = path.join(dir, 'step-summary.md')
    writeFileSync(summary, '# earlier step\n')
    const g = await gbrain(['doctor', '--format', 'github'], {...b.env, GITHUB_STEP_SUMMARY: summary})
    expect(g.code).toBe(1)
    plausible('github', g.stdout)
    const md = readFileSync(summary, 'utf8')
    expect(md.startsWith('# earlier step\n')).toBe(true)
    expect(md).toMatch(/\| status \| check \| message \| fix \|\n\| --- \| --- \| --- \| --- \|/)
    expect(md).toMatch(/\| ✗ fail \| `batch_retry_health` \|/)
    expect(md).toMatch(/\| ✗ fail \| `cycle_freshness` \|/)
    expect(md).toMatch(/unhealthy: 2 fail, 10 ok/)

    // Other formats leave the step summary alone.
    const before = readFileSync(summary, 'utf8')
    await gbrain(['doctor', '--format', 'junit'], {...b.env, GITHUB_STEP_SUMMARY: summary})
    expect(readFileSync(summary, 'utf8')).toBe(before)
  }, 60_000)
})

describe('doctor: a planted password appears nowhere', () => {
  it('right and wrong password, raw and percent-encoded, flag and env, every format, --debug -v and --output-file', async () => {
    const b = await makeBrain()
    await cluster.psql(`grant select on all tables in schema public to pwuser`, b.db)
    const encoded = (pw: string): string => encodeURIComponent(pw)
    const urls = [
      {label: 'right, raw', pw: PW, url: `postgres://pwuser:${PW}@127.0.0.1:${cluster.port}/${b.db}`},
      {label: 'right, encoded', pw: PW, url: `postgres://pwuser:${encoded(PW)}@127.0.0.1:${cluster.port}/${b.db}`},
      {label: 'wrong, raw', pw: WRONG_PW, url: `postgres://pwuser:${WRONG_PW}@127.0.0.1:${cluster.port}/${b.db}`},
      {label: 'wrong, encoded', pw: WRONG_PW, url: `postgres://pwuser:${encoded(WRONG_PW)}@127.0.0.1:${cluster.port}/${b.db}`},
    ]
    const needles = [PW, encoded(PW), WRONG_PW, encoded(WRONG_PW), 'S3cret']
    const outDir = tempDir('gbrain-doctor-pw-')
    const scan = (where: string, text: string): void => {
      for (const n of needles) expect(text.includes(n), `${where} contains ${n}:\n${text}`).toBe(false)
    }
    let n = 0
    for (const u of urls) {
      const runs = FORMATS.flatMap((format) => {
        const file = path.join(outDir, `out-${++n}.${format}`)
        const viaFlag = n % 2 === 0
        const env = viaFlag ? b.env : {...b.env, GBRAIN_DATABASE_URL: u.url}
        const target = viaFlag ? ['--database-url', u.url] : []
        return [
          gbrain(['doctor', '--format', format, '--debug', '-v', ...target], env),
          // Output files for the raw variants (the renderers are the same; this bounds the run time).
          ...(u.label.endsWith('raw') ? [gbrain(['doctor', '--format', format, '--debug', '--output-file', file, ...target], env)] : []),
        ]
      })
      const results = await Promise.all(runs)
      for (const [i, r] of results.entries()) {
        scan(`${u.label} run ${i} stdout`, r.stdout)
        scan(`${u.label} run ${i} stderr`, r.stderr)
        expect([0, 1, 2], `${u.label} run ${i}: ${r.stderr}`).toContain(r.code)
        expectNoStack(r)
      }
      // The doctor really authenticated (right) or really failed auth (wrong).
      const j = parseReport(await gbrain(['doctor', '--json', '--debug', '--database-url', u.url], b.env))
      if (u.pw === PW) expect(check(j, 'connection').status).toBe('ok')
      else expect(check(j, 'connection')).toMatchObject({status: 'fail', details: {cause: 'auth'}})
      expect(j.target.database).toBe(`postgres://***@127.0.0.1:${cluster.port}/${b.db}`)
    }
    // JSON and table of the wrong-password run name the cause without the secret.
    // 200 columns: the message (said once, in the table) stays on one line.
    const t = await gbrain(['doctor', '--debug', '-v', '--database-url', urls[2]!.url], {...b.env, COLUMNS: '200'})
    // The server's own words follow the phrase; read across the table's wrapped cell.
    const cells = t.stdout
      .split('\n')
      .map((l) => l.split('│')[4]?.trim() ?? '')
      .join(' ')
    expect(cells).toMatch(/was reached but rejected the password .* password authentication failed for user "pwuser"/)
    scan('table', t.stdout + t.stderr)
    const files = filesUnder(outDir)
    expect(files).toHaveLength(2 * FORMATS.length)
    for (const f of files) scan(f, readFileSync(f, 'utf8'))
    for (const f of filesUnder(b.home)) scan(f, readFileSync(f, 'utf8'))
  }, 90_000)
})

describe('doctor: read-only', () => {
  it('(a) works with a role that may only SELECT', async () => {
    const b = await makeBrain()
    await cluster.psql(`grant select on all tables in schema public to ro`, b.db)
    const url = `postgres://ro:ro-Passw0rd@127.0.0.1:${cluster.port}/${b.db}`
    const r = await gbrain(['doctor', '--json', '--database-url', url], b.env)
    const report = parseReport(r)
    const st = statuses(report)
    // Every check answers (pglite_lock does not apply to Postgres: skipped).
    for (const [name, s] of Object.entries(st))
      expect(name === 'pglite_lock' ? ['skipped'] : ['ok', 'warn'], `${name}: ${check(report, name).message}`).toContain(s)
    expect(st.connection).toBe('ok')
    expect(st.cycle_freshness).toBe('ok')
    expect(r.code).toBe(0)
    // …and the role really cannot write.
    await expect(
      run('/usr/bin/psql', ['-X', '-h', '127.0.0.1', '-p', String(cluster.port), '-U', 'ro', '-d', b.db, '-Atc', `delete from links`], {
        env: {...process.env, PGPASSWORD: 'ro-Passw0rd'},
      }),
    ).rejects.toThrow(/permission denied/)
  }, 90_000)

  it('(b) the GBRAIN_HOME tree and the database are byte-for-byte unchanged by doctor runs (audit trail and spool present)', async () => {
    const b = await makeBrain({cycledHoursAgo: 10})
    await plantAuditTrail(b.paths.audit)
    await plantExhausted(b.paths.audit, 3)
    await plantSpoolEntry(b.paths.spool, undefined, 2, STALE_SPOOL_AGE_MS)
    const tree0 = snapshotTree(b.home)
    const db0 = await dbFingerprint(b.db)
    expect(Object.keys(tree0).some((p) => p.startsWith('.gbrain/dead-letter/'))).toBe(true)
    expect(Object.keys(tree0).filter((p) => p.startsWith('.gbrain/audit/')).length).toBeGreaterThanOrEqual(3)

    const runs: CliResult[] = []
    runs.push(await gbrain(['doctor'], b.env))
    runs.push(await gbrain(['doctor', '--json', '-v', '--debug'], b.env))
    runs.push(await gbrain(['doctor', '--format', 'prometheus'], b.env))
    runs.push(await gbrain(['doctor', '--fast'], b.env))
    for (const r of runs) expect(r.code, r.stderr).toBe(1) // dead_letter fails: one entry waits, unreplayed for 25 h
    const report = parseReport(runs[1]!)
    expect(check(report, 'dead_letter').status).toBe('fail')
    expect(check(report, 'batch_retry_health').details).toMatchObject({exhausted_total: 3, recovered: 1})
    expect(check(report, 'pool_reap_health').details).toMatchObject({reaps: 1, recoveries: 1})

    // The one file a run adds to the home is its history line (docs/cli.md, "History").
    // Its directory's times move with it (a new entry); nothing else does.
    const {'.gbrain/doctor-history.jsonl': history, ...tree1} = snapshotTree(b.home)
    const untimed = ({mtimeMs: _m, ctimeMs: _c, ...e}: TreeEntry): object => e
    expect({...tree1, '.gbrain': untimed(tree1['.gbrain']!)}).toEqual({...tree0, '.gbrain': untimed(tree0['.gbrain']!)})
    expect(history).toBeDefined()
    expect(readFileSync(path.join(b.paths.gbrain, 'doctor-history.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(runs.length)
    expect(await dbFingerprint(b.db)).toEqual(db0)

    // A brain home that does not exist yet stays that way (the doctor creates nothing).
    const empty = tempDir()
    const e = await gbrain(['doctor', '-q'], {...LOCALE_ENV, GBRAIN_HOME: empty, GBRAIN_DATABASE_URL: b.url})
    expect(e.code).toBe(0) // 10 h stale → warn only
    expect(readdirSync(empty)).toEqual([])
    const embedded = tempDir()
    const p = await gbrain(['doctor', '--json'], {...LOCALE_ENV, GBRAIN_HOME: embedded})
    expect(check(parseReport(p), 'connection')).toMatchObject({status: 'skipped'})
    expect(check(parseReport(p), 'connection').fix?.commands).toContain('gbrain init')
    expect(readdirSync(embedded)).toEqual([])
  }, 90_000)

  it('(c) as an OS user that cannot write GBRAIN_HOME (root-owned, 0755 dirs, 0644 files) it completes with no write error', async () => {
    // Tests run as root, and root ignores a chmod'd read-only directory, so this runs the doctor
    // as `postgres` (runuser), for whom root-owned 0755/0644 really is read-only.
    const b = await makeBrain()
    await plantAuditTrail(b.paths.audit)
    await plantSpoolEntry(b.paths.spool, undefined, 2, STALE_SPOOL_AGE_MS)
    const walk = (p: string): void => {
      const st = statSync(p)
      chmodSync(p, st.isDirectory() ? 0o755 : 0o644)
      if (st.isDirectory()) for (const n of readdirSync(p)) walk(path.join(p, n))
    }
    walk(b.home)
    const probe = await run('runuser', ['-u', 'postgres', '--', 'touch', path.join(b.paths.gbrain, 'probe')]).catch((e: Error) => e)
    expect(probe).toBeInstanceOf(Error) // postgres really cannot write there
    expect(existsSync(path.join(b.paths.gbrain, 'probe'))).toBe(false)

    const tree0 = snapshotTree(b.home)
    const db0 = await dbFingerprint(b.db)
    const env = {GBRAIN_HOME: b.home, GBRAIN_DATABASE_URL: b.url, HOME: '/nonexistent'}
    const t = await gbrainAs('postgres', ['doctor', '-v'], env)
    const j = await gbrainAs('postgres', ['doctor', '--json'], env)
    for (const r of [t, j]) {
      // The history is the one thing such a user loses; -v says so in one line, nothing else fails.
      const stderr = r.stderr.replace(/^gbrain doctor: history not kept: .*\n/m, '')
      expect(stderr).not.toMatch(/EACCES|EPERM|EROFS|permission denied|read-only|could not write|write failed/i)
      expectNoStack(r)
      expect(r.code, r.stdout + r.stderr).toBe(1) // dead_letter: one entry waits, unreplayed for 25 h
    }
    const report = parseReport(j)
    const st = statuses(report)
    expect(Object.values(st)).not.toContain('unknown')
    expect(st.connection).toBe('ok')
    expect(check(report, 'dead_letter')).toMatchObject({status: 'fail', details: {entries: 1, rows: 2}})
    expect(st.audit_log).toBe('warn') // 0755/0644 is wider than the owner
    expect(t.stdout).toMatch(/\nunhealthy: 1 fail/)
    expect(t.stderr).toMatch(/^gbrain doctor: history not kept: cannot append to .*doctor-history\.jsonl \(EACCES\)$/m)

    expect(snapshotTree(b.home)).toEqual(tree0)
    expect(await dbFingerprint(b.db)).toEqual(db0)
  }, 90_000)
})
