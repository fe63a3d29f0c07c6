/**
 * Shared by the CLI tests: throwaway dirs and GBRAIN_HOMEs (fresh, or copied from a template brain), planting audit rows and spool entries,
 * parsing the JSON report, snapshotting a directory tree, running the built binary as another OS
 * user, and holding a table lock from a separate session.
 */
import {createHash} from 'node:crypto'
import {chmodSync, cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import type {CheckResult, Report} from '../../src/checks/types.js'
import {AuditWriter} from '../../src/engine/audit/writer.js'
import {DeadLetterSpool, SPOOL_FORMAT_VERSION} from '../../src/engine/spool/dead-letter.js'
import {BIN, capture, type CliResult} from './cli.js'
import {register} from './cleanup.js'

/** The catalogue, in its fixed order (checks.md). */
export const CATALOGUE_ORDER = [
  'connection',
  'pglite_lock',
  'batch_retry_health',
  'cycle_freshness',
  'sync_freshness',
  'pool_reap_health',
  'engine_processes',
  'retry_config',
  'dead_letter',
  'disk_space',
  'connection_slots',
  'idle_transactions',
  'audit_log',
] as const

export const DATABASE_CHECKS = ['cycle_freshness', 'sync_freshness', 'connection_slots', 'idle_transactions'] as const
export const FILE_CHECKS = [
  'batch_retry_health',
  'pool_reap_health',
  'engine_processes',
  'retry_config',
  'dead_letter',
  'disk_space',
  'audit_log',
] as const

/** Env that makes human output deterministic: UTF-8 glyphs, no colour. */
export const LOCALE_ENV = {LANG: 'C.UTF-8', LC_ALL: '', LC_CTYPE: '', NO_COLOR: '1', FORCE_COLOR: ''}

const homes: string[] = []

/** A fresh temp dir (0755, so another OS user can traverse it), removed by {@link removeHomes}. */
export function tempDir(prefix = 'gbrain-doctor-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  // mkdtemp makes 0700; the read-only scenario runs the binary as `postgres`, which must traverse it.
  chmodSync(dir, 0o755)
  homes.push(dir)
  return dir
}

export function removeHomes(): void {
  for (const h of homes.splice(0)) rmSync(h, {recursive: true, force: true})
}

/** A test brain on a shared cluster: its home, database, URL, env and paths. */
export interface ClusterBrain {
  home: string
  db: string
  url: string
  env: Record<string, string>
  paths: ReturnType<typeof brainPaths>
}

export function brainPaths(home: string): {gbrain: string; audit: string; spool: string; run: string} {
  const gbrain = path.join(home, '.gbrain')
  return {gbrain, audit: path.join(gbrain, 'audit'), spool: path.join(gbrain, 'dead-letter'), run: path.join(gbrain, 'run')}
}

/** A GBRAIN_HOME made by {@link homeFrom}: the home, its embedded brain's data dir, its paths. */
export interface CopiedHome {
  home: string
  dataDir: string
  paths: ReturnType<typeof brainPaths>
}

/**
 * A fresh GBRAIN_HOME (`home-…`, mkdtemp's 0700) under `parent`, copied from a template made once
 * per file: a whole home (`{home}`: what `gbrain init` and `sources add` left), or an embedded
 * brain's data dir (`{dataDir}`: one gbrain made) put where the home's brain lives. Removed with
 * `parent`.
 */
export function homeFrom(parent: string, template: {home: string} | {dataDir: string}): CopiedHome {
  const home = mkdtempSync(path.join(parent, 'home-'))
  const paths = brainPaths(home)
  const dataDir = path.join(paths.gbrain, 'brain.pglite')
  if ('home' in template) cpSync(template.home, home, {recursive: true})
  else {
    mkdirSync(paths.gbrain, {recursive: true, mode: 0o700})
    cpSync(template.dataDir, dataDir, {recursive: true})
  }
  return {home, dataDir, paths}
}

/** Parse the doctor's JSON report (with a helpful failure message). */
export function parseReport(r: CliResult): Report {
  try {
    return JSON.parse(r.stdout) as Report
  } catch (e) {
    throw new Error(`stdout is not JSON (${(e as Error).message}); exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`, {cause: e})
  }
}

export function check(report: Report, name: string): CheckResult {
  const c = report.checks.find((x) => x.name === name)
  if (!c) throw new Error(`no check ${name} in the report`)
  return c
}

export function statuses(report: Report): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.name, c.status]))
}

/** The rows of the human table (`│ ✗ fail    │ cycle_freshness │ …`), as [status word, check]. */
export function tableRows(table: string): [string, string][] {
  const rows: [string, string][] = []
  for (const line of table.split('\n')) {
    const m = /^[│|]\s*\S+\s+(ok|warn|fail|unknown|skipped)\s*[│|]\s*([a-z_]+)\s*[│|]/.exec(line)
    if (m) rows.push([m[1]!, m[2]!])
  }
  return rows
}

/** Write `n` exhausted batch-retry rows (not spooled: their rows count as lost) into the audit dir. */
export async function plantExhausted(auditDir: string, n: number, opts: {site?: string; agoMs?: number} = {}): Promise<void> {
  const w = new AuditWriter({dir: auditDir})
  const ts = new Date(Date.now() - (opts.agoMs ?? 3_600_000)).toISOString()
  for (let i = 0; i < n; i++) {
    await w.append('batch-retry', {
      ts,
      site: opts.site ?? `cycle.links.${i % 4}`,
      batch_size: 25,
      attempt: 4,
      outcome: 'exhausted',
      delay_ms: 0,
      error_message_summary: 'connect ECONNREFUSED',
      error_code: 'ECONNREFUSED',
    })
  }
  await w.flush()
}

/** A recovered pool-recovery pair and a scheduled retry: an audit trail with several features. */
export async function plantAuditTrail(auditDir: string): Promise<void> {
  const w = new AuditWriter({dir: auditDir})
  const ts = new Date(Date.now() - 600_000).toISOString()
  await w.append('pool-recovery', {ts, kind: 'reap_detected', pid: 4242})
  await w.append('pool-recovery', {ts, kind: 'reconnect_succeeded', pid: 4242, duration_ms: 12})
  await w.append('batch-retry', {
    ts,
    site: 'cycle.pages',
    batch_size: 10,
    attempt: 1,
    outcome: 'success',
    delay_ms: 0,
    error_message_summary: 'reset',
  })
  await w.append('batch-retry', {
    ts,
    site: 'cycle.pages',
    batch_size: 10,
    attempt: 2,
    outcome: 'recovered',
    delay_ms: 0,
    error_message_summary: 'landed after retry',
  })
  await w.flush()
}

/** Older than GBRAIN_DEAD_LETTER_FAIL_HOURS' default (24 h): an entry this old makes dead_letter fail. */
export const STALE_SPOOL_AGE_MS = 25 * 3_600_000

/**
 * One valid dead-letter entry (a pages batch of `rows` rows), spooled `ageMs` ago: at the default
 * two minutes dead_letter warns (an intact young spool), at {@link STALE_SPOOL_AGE_MS} it fails.
 */
export async function plantSpoolEntry(
  spoolDir: string,
  id = `20260101T000000000Z-cycle_pages-${Math.random().toString(16).slice(2, 10)}`,
  rows = 2,
  ageMs = 120_000,
): Promise<string> {
  const spool = new DeadLetterSpool(spoolDir)
  await spool.write({
    version: SPOOL_FORMAT_VERSION,
    id,
    site: 'cycle.pages',
    target: 'brain.pages',
    created_at: new Date(Date.now() - ageMs).toISOString(),
    attempts: 4,
    error: {kind: 'connection', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED'},
    row_count: rows,
    rows: Array.from({length: rows}, (_, i) => ({source_id: 'notes', slug: `spooled-${i}`, title: `Spooled ${i}`, content_hash: `h${i}`})),
  })
  return id
}

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink' | 'other'
  mode: number
  uid: number
  size: number
  mtimeMs: number
  ctimeMs: number
  sha1?: string
  link?: string
}

/** Every path under `root` with type, mode, owner, size, mtime, ctime and (files) sha1 of contents. */
export function snapshotTree(root: string): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {}
  const walk = (p: string): void => {
    const st = lstatSync(p)
    const rel = path.relative(root, p) || '.'
    const e: TreeEntry = {
      type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other',
      mode: st.mode & 0o7777,
      uid: st.uid,
      size: st.isDirectory() ? 0 : st.size,
      mtimeMs: st.mtimeMs,
      ctimeMs: st.ctimeMs,
    }
    if (st.isFile()) e.sha1 = createHash('sha1').update(readFileSync(p)).digest('hex')
    if (st.isSymbolicLink()) e.link = readlinkSync(p)
    out[rel] = e
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(path.join(p, n))
  }
  walk(root)
  return out
}

/** Every regular file under `root` (for scanning outputs for a secret). */
export function filesUnder(root: string): string[] {
  const files: string[] = []
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n)
      const st = lstatSync(p)
      if (st.isDirectory()) walk(p)
      else if (st.isFile()) files.push(p)
    }
  }
  walk(root)
  return files
}

/**
 * Run the built binary as another OS user (`runuser -u USER -- env … node bin/run.js …`): the
 * environment is passed explicitly with `env`, so runuser's own resets do not matter.
 */
export function gbrainAs(user: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  const vars = Object.entries({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...LOCALE_ENV,
    GBRAIN_DATABASE_URL: '',
    DATABASE_URL: '',
    ...env,
  }).map(([k, v]) => `${k}=${v}`)
  return capture(
    'runuser',
    ['-u', user, '--', 'env', '-i', ...vars, process.execPath, BIN, ...args],
    {cwd: '/'},
    timeoutMs,
    `runuser ${user} gbrain ${args.join(' ')}`,
  )
}

/** A lock held in an open transaction on its own session until `release()`. */
export interface HeldLock {
  /** Backend pid of the holding session. */
  pid: number
  /** Roll back and close the session (idempotent; never throws). */
  release(): Promise<void>
  /** Settles when the transaction ends (rolled back, or the session was killed). */
  done: Promise<void>
}

/** `LOCK TABLE <tables> IN ACCESS EXCLUSIVE MODE` in a transaction kept open on a separate session. */
export async function holdLock(url: string, tables: string[], applicationName = 'doctor-test-locker'): Promise<HeldLock> {
  const sql = postgres(url, {max: 1, onnotice: () => {}, connection: {application_name: applicationName}, connect_timeout: 5})
  let releaseTx!: () => void
  const gate = new Promise<void>((r) => (releaseTx = r))
  let lockedPid!: (pid: number) => void
  let failed!: (e: unknown) => void
  const locked = new Promise<number>((res, rej) => {
    lockedPid = res
    failed = rej
  })
  const done = sql
    .begin(async (tx) => {
      await tx.unsafe(`lock table ${tables.join(', ')} in access exclusive mode`)
      const [row] = await tx<{pid: number}[]>`select pg_backend_pid() as pid`
      lockedPid(row!.pid)
      await gate
      throw new Error('rollback') // end the transaction without committing anything
    })
    .then(
      () => undefined,
      (e: unknown) => {
        failed(e)
      },
    )
  let released = false
  const release = async (): Promise<void> => {
    if (released) return
    released = true
    unregister()
    releaseTx()
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000))])
    await sql.end({timeout: 1}).catch(() => {})
  }
  const unregister = register({name: `lock ${tables.join(',')}`, destroy: release})
  const pid = await locked
  return {pid, release, done}
}
