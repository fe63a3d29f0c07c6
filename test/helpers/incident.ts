/**
 * The incident the end-to-end tests share: the database goes away in the middle of a
 * `gbrain cycle`, deterministically. A separate session holds `LOCK TABLE links`, so the cycle
 * lands its pages and then blocks on its first links batch; once that session is seen waiting on
 * the lock (a `gbrain-cycle-<pid>` backend with wait_event_type `Lock`), the server is stopped.
 * Every batch from there on exhausts its retries and goes to the dead-letter spool.
 */
import path from 'node:path'
import type {CycleReport} from '../../src/brain/cycle.js'
import {gbrain, spawnGbrain, type CliResult} from './cli.js'
import {waitFor} from './cleanup.js'
import {brainPaths, holdLock, LOCALE_ENV, tempDir} from './doctor-kit.js'
import type {PgCluster} from './pg-cluster.js'
import {generateVault, type VaultExpectation, type VaultSpec} from './vault-gen.js'

export interface Outage {
  /** The cycle's exit, output and wall time. */
  result: CliResult
  /** Its `--json` report. */
  report: CycleReport
  /** Pages in the database when the server was stopped (the cycle had landed them). */
  pagesBeforeStop: number
}

/** Run `gbrain cycle --json …args` and stop the server once it blocks on its first links batch. */
export async function stopServerMidCycle(cluster: PgCluster, env: Record<string, string>, args: string[] = []): Promise<Outage> {
  const lock = await holdLock(cluster.url, ['links'])
  const cycle = spawnGbrain(['cycle', '--json', ...args], env)
  // Marker: the cycle landed its pages and is now blocked on its first links batch.
  await waitFor(
    async () =>
      (await cluster.psql(
        `select count(*) from pg_stat_activity where application_name = 'gbrain-cycle-${cycle.pid}' and wait_event_type = 'Lock'`,
      )) === '1',
    {timeoutMs: 30_000, intervalMs: 25, what: 'the cycle blocked on the links lock'},
  )
  const pagesBeforeStop = Number(await cluster.psql(`select count(*) from pages where source_id = 'notes'`)) // (links is locked)
  await cluster.stop('fast')
  await lock.release() // its session died with the server
  const result = await cycle.done
  return {result, report: JSON.parse(result.stdout) as CycleReport, pagesBeforeStop}
}

export interface IncidentBrain {
  home: string
  paths: ReturnType<typeof brainPaths>
  /** The environment every command of the story runs in: this brain, a small retry budget. */
  env: Record<string, string>
  /** What the generated vault lands when a cycle completes. */
  expected: VaultExpectation
}

/**
 * A brain on `cluster` with one source, `notes`, a generated vault of `vault` notes, and a small
 * retry budget (1 retry, 50–100 ms), so batches exhaust quickly once the server is gone.
 */
export async function incidentBrain(cluster: PgCluster, vault: VaultSpec, prefix = 'gbrain-incident-'): Promise<IncidentBrain> {
  const home = tempDir(prefix)
  const dir = path.join(tempDir(`${prefix}vault-`), 'vault')
  const expected = generateVault(dir, vault)
  const env = {
    ...LOCALE_ENV,
    GBRAIN_HOME: home,
    GBRAIN_DATABASE_URL: cluster.url,
    GBRAIN_BULK_MAX_RETRIES: '1',
    GBRAIN_BULK_RETRY_BASE_MS: '50',
    GBRAIN_BULK_RETRY_MAX_MS: '100',
  }
  for (const args of [['init'], ['sources', 'add', 'notes', '--path', dir]]) {
    const r = await gbrain(args, env)
    if (r.code !== 0) throw new Error(`gbrain ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  }
  return {home, paths: brainPaths(home), env, expected}
}
