/**
 * The Postgres brain that doctor-latency and doctor-down read: a `brain` database on the shared
 * cluster, initialised and filled by the real CLI (`init`, `sources add` × N, `cycle`), plus a
 * generated audit trail of D days × R rows per day ending now (batch-retry and pool-recovery,
 * real row format, ISO-week files). A second home holds the brain as the cycle left it (its own
 * audit trail only): the healthy brain a user runs the doctor on. Built once per run.
 */
import {cpSync} from 'node:fs'
import path from 'node:path'
import {generateVault} from '../../test/helpers/vault-gen.js'
import {generateAudit, type GeneratedAudit} from '../lib/audit-gen.js'
import type {BenchContext} from '../lib/context.js'

export interface PgBrain {
  url: string
  port: number
  env: Record<string, string>
  home: string
  /** The same brain as a user has it after its cycle: its own audit trail, no generated rows. */
  lightEnv: Record<string, string>
  sources: number
  days: number
  rowsPerDay: number
  audit: GeneratedAudit
  setupMs: number
}

let brain: Promise<PgBrain> | undefined

const DAY_MS = 86_400_000

export function pgBrain(ctx: BenchContext): Promise<PgBrain> {
  brain ??= build(ctx)
  return brain
}

async function build(ctx: BenchContext): Promise<PgBrain> {
  const t0 = performance.now()
  const cluster = await ctx.pg()
  await cluster.psql('create database brain')
  const url = cluster.urlFor('brain')
  const home = ctx.dir('pg-home')
  const env = {GBRAIN_HOME: home, GBRAIN_DATABASE_URL: url}
  const sources = ctx.quick ? 2 : 20
  const days = 7
  const rowsPerDay = ctx.quick ? 1_000 : 100_000

  await ctx.gbrainOk(['init', '--json'], env)
  for (let i = 1; i <= sources; i++) {
    const id = `s${String(i).padStart(2, '0')}`
    const vault = ctx.dir(`pg-vaults/${id}`)
    generateVault(vault, {files: 5, entries: 3, links: 2, bad: false})
    await ctx.gbrainOk(['sources', 'add', id, '--path', vault, '--name', `Source ${i}`], env)
  }
  await ctx.gbrainOk(['cycle', '--json'], env)
  const lightHome = ctx.dir('pg-home-light')
  cpSync(path.join(home, '.gbrain'), path.join(lightHome, '.gbrain'), {recursive: true})
  const lightEnv = {GBRAIN_HOME: lightHome, GBRAIN_DATABASE_URL: url}

  const now = Date.now()
  const audit = generateAudit(path.join(home, '.gbrain', 'audit'), {
    fromMs: now - days * DAY_MS,
    toMs: now - 60_000,
    rows: days * rowsPerDay,
    poolRecovery: true,
  })
  return {url, port: cluster.port, env, home, lightEnv, sources, days, rowsPerDay, audit, setupMs: performance.now() - t0}
}

/** The doctor's JSON report, parsed, with the status of the `connection` check. */
export function parseDoctor(stdout: string): {
  status: string
  connection: string | undefined
  durationMs: number
  /** When the run began (its `generated_at`: the clock read as the checks start), epoch ms. */
  startedAt: number
  checks: Array<{name: string; status: string; duration_ms: number}>
} {
  const r = JSON.parse(stdout) as {
    status: string
    duration_ms: number
    generated_at: string
    checks: Array<{name: string; status: string; duration_ms: number}>
  }
  return {
    status: r.status,
    connection: r.checks.find((c) => c.name === 'connection')?.status,
    durationMs: r.duration_ms,
    startedAt: Date.parse(r.generated_at),
    checks: r.checks,
  }
}
