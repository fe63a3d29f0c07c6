/**
 * `GBRAIN_POOL_SIZE` (src/engine/open.ts poolSizeFromEnv) as the built binary sees it, against a
 * real PostgreSQL 15 (issue 11, item 5): a valid value sizes the engine's pool (published in a live
 * `cycle --watch`'s state file, and no more sessions than that on the server); unset or blank is
 * the default 10; an invalid value is a one-line usage error (exit 64) with the fix, the JSON
 * envelope under --json, and nothing written to the database.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {EngineProcessState} from '../../src/engine/process-state.js'
import {BIN, gbrain} from '../helpers/cli.js'
import {destroyAll, register, waitFor} from '../helpers/cleanup.js'
import {removeHomes, tempDir} from '../helpers/doctor-kit.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'

const VAULT = path.resolve('examples/vault')

let cluster: PgCluster
let root: string
let dbn = 0

beforeAll(async () => {
  cluster = await startCluster()
  root = tempDir('gbrain-pool-size-')
}, 60_000)

afterAll(async () => {
  removeHomes()
  await destroyAll()
})

async function freshDb(): Promise<{db: string; env: Record<string, string>}> {
  const db = `pool_${process.pid}_${++dbn}`
  await cluster.psql(`create database ${db}`)
  const home = mkdtempSync(path.join(root, 'home-'))
  return {db, env: {GBRAIN_HOME: home, GBRAIN_DATABASE_URL: cluster.urlFor(db)}}
}

const tablesIn = async (db: string): Promise<number> =>
  Number(await cluster.psql(`select count(*) from pg_tables where schemaname = 'public'`, db))

/** Run `cycle --watch` with this GBRAIN_POOL_SIZE until its state file shows a completed cycle; returns the published pool size and the server sessions it held. */
async function watchPoolSize(env: Record<string, string>, value: string | undefined): Promise<{poolSize: number; sessions: number}> {
  const childEnv: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', DATABASE_URL: '', ...env}
  if (value === undefined) delete childEnv.GBRAIN_POOL_SIZE
  else childEnv.GBRAIN_POOL_SIZE = value
  const child = spawn(process.execPath, [BIN, 'cycle', '--watch', '--interval', '200ms', '--json', '--batch-size', '5'], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  register({name: `watch ${child.pid}`, destroy: async () => void child.kill('SIGKILL'), killSync: () => void child.kill('SIGKILL')})
  let err = ''
  let cycles = 0
  child.stdout.setEncoding('utf8').on('data', (c: string) => (cycles += c.split('\n').filter((l) => l.startsWith('{')).length))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  try {
    const file = path.join(env.GBRAIN_HOME!, '.gbrain', 'run', `engine-${child.pid}.json`)
    // Marker: a cycle completed (its NDJSON report), so the pool has done real, concurrent-capable work.
    await waitFor(() => existsSync(file) && cycles >= 1, {timeoutMs: 20_000, intervalMs: 20, what: `a completed cycle (stderr: ${err})`})
    const state = JSON.parse(readFileSync(file, 'utf8')) as EngineProcessState
    const sessions = Number(
      await cluster.psql(`select count(*) from pg_stat_activity where application_name = 'gbrain-cycle-${child.pid}'`),
    )
    return {poolSize: state.health.pool_size, sessions}
  } finally {
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  }
}

describe('GBRAIN_POOL_SIZE', () => {
  it('a valid value sizes the pool (surrounding blanks allowed); unset or blank is the default 10', async () => {
    const {env} = await freshDb()
    expect((await gbrain(['init'], env)).code).toBe(0)
    expect((await gbrain(['sources', 'add', 'notes', '--path', VAULT], env)).code).toBe(0)

    const three = await watchPoolSize(env, '3')
    expect(three.poolSize).toBe(3)
    expect(three.sessions).toBeGreaterThanOrEqual(1)
    expect(three.sessions).toBeLessThanOrEqual(3) // never more sessions than the pool allows
    expect((await watchPoolSize(env, ' 1 ')).poolSize).toBe(1)
    expect((await watchPoolSize(env, '9999')).poolSize).toBe(9999) // the largest value the parser takes
    expect((await watchPoolSize(env, undefined)).poolSize).toBe(10)
    expect((await watchPoolSize(env, '')).poolSize).toBe(10)
  }, 120_000)

  it.each(['abc', '0', '-1', '1.5', '12345', '0x10', '1e3', '3 4'])(
    'GBRAIN_POOL_SIZE=%j: exit 64, one line with the fix, nothing written (and, for two of them, the --json envelope)',
    async (value) => {
      const {db, env} = await freshDb()
      const bad = {...env, GBRAIN_POOL_SIZE: value}
      const r = await gbrain(['init'], bad)
      expect(r.code).toBe(64)
      expect(r.stdout).toBe('')
      const lines = r.stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toBe(
        `gbrain: GBRAIN_POOL_SIZE must be an integer ≥ 1, got ${JSON.stringify(value)} (fix: export GBRAIN_POOL_SIZE=10)`,
      )
      expect(r.stderr).not.toMatch(/\n\s+at /)
      expect(await tablesIn(db)).toBe(0) // init created nothing: the engine was never built
      if (!['abc', '0'].includes(value)) return // the JSON envelope is the same code path: two values suffice

      const j = await gbrain(['init', '--json'], bad)
      expect(j.code).toBe(64)
      expect(JSON.parse(j.stdout)).toEqual({
        schema_version: 2,
        status: 'error',
        error: {
          code: 'CONFIG_INVALID',
          message: `GBRAIN_POOL_SIZE must be an integer ≥ 1, got ${JSON.stringify(value)}`,
          hint: 'export GBRAIN_POOL_SIZE=10',
        },
      })
      expect(await tablesIn(db)).toBe(0)
    },
    60_000,
  )

  it('every command that opens the Postgres engine refuses a bad value the same way (cycle, sources add, sources list); with a good one they work', async () => {
    const {db, env} = await freshDb()
    expect((await gbrain(['init'], env)).code).toBe(0)
    const bad = {...env, GBRAIN_POOL_SIZE: 'lots'}
    for (const args of [['cycle'], ['sources', 'add', 'notes', '--path', VAULT], ['sources', 'list']]) {
      const r = await gbrain(args, bad)
      expect(r.code, args.join(' ')).toBe(64)
      expect(r.stderr.trim()).toBe('gbrain: GBRAIN_POOL_SIZE must be an integer ≥ 1, got "lots" (fix: export GBRAIN_POOL_SIZE=10)')
    }
    expect(await cluster.psql(`select count(*) from sources where id = 'notes'`, db)).toBe('0')
    const good = {...env, GBRAIN_POOL_SIZE: '2'}
    expect((await gbrain(['sources', 'add', 'notes', '--path', VAULT], good)).code).toBe(0)
    const c = await gbrain(['cycle', '--json'], good)
    expect(c.code, c.stderr).toBe(0)
    expect(Number(await cluster.psql(`select count(*) from pages where source_id = 'notes'`, db))).toBeGreaterThan(0)
  }, 60_000)
})
