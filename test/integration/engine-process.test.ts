/**
 * The engine inside a real process: SIGTERM during a backoff, SIGKILL mid-batch then replay,
 * the published process state file and SIGUSR2 forced reconnect.
 */
import {mkdtempSync, readdirSync, readFileSync, rmSync, existsSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, beforeEach, afterEach, describe, expect, it} from 'vitest'
import {AuditWriter, readWindow} from '../../src/engine/audit/index.js'
import {PostgresEngine} from '../../src/engine/postgres-engine.js'
import type {EngineProcessState} from '../../src/engine/process-state.js'
import {DeadLetterSpool} from '../../src/engine/spool/dead-letter.js'
import {replayDeadLetters} from '../../src/engine/spool/replay.js'
import {destroyAll, waitFor} from '../helpers/cleanup.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {account, createTable, rowsWriter} from '../helpers/workload.js'
import {startWorker} from '../helpers/worker.js'

let cluster: PgCluster
let home: string

beforeAll(async () => {
  cluster = await startCluster()
})
afterAll(async () => {
  await destroyAll()
})
beforeEach(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'gbrain-proc-'))
  await createTable(cluster.url)
})
afterEach(async () => {
  rmSync(home, {recursive: true, force: true})
})

const spoolCount = (): number => {
  const dir = path.join(home, 'dead-letter')
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')).length : 0
}

describe('engine in a real process', () => {
  it('SIGTERM during a 10 s backoff exits promptly: no exhausted row, no partial batch, spool intact', async () => {
    const w = startWorker({
      WORKER_MODE: 'batches', WORKER_HOME: home, WORKER_URL: cluster.url, WORKER_BATCHES: '50', WORKER_SIZE: '100',
      WORKER_RETRY: JSON.stringify({maxRetries: 5, baseMs: 10_000, maxMs: 10_000, jitter: 'none'}),
    })
    try {
      await w.waitMark((m) => m.word === 'landed' && m.data.batch === 2, 15_000, 'batch 2 landed')
      await cluster.stop('fast')
      // The second retry sleeps 10 s before reconnecting: wait for its audit row, then signal.
      await w.waitMark((m) => m.word === 'audit' && m.data.feature === 'batch-retry' && m.data.delay_ms === 10_000, 15_000, 'a 10 s backoff scheduled')
      const sent = performance.now()
      w.child.kill('SIGTERM')
      const exit = await w.exited
      const exitMs = exit.at - sent
      console.log(`[measure] SIGTERM during backoff: exited ${Math.round(exitMs)} ms after the signal`)
      expect(exitMs).toBeLessThan(1000)
      expect(exit.code).toBe(0)
      expect(w.marks.some((m) => m.word === 'aborted')).toBe(true)
      expect(w.marks.filter((m) => m.word === 'audit' && m.data.outcome === 'exhausted')).toEqual([])
      expect(spoolCount()).toBe(0)
    } finally {
      await cluster.start()
    }
    const landed = w.marks.filter((m) => m.word === 'landed').length
    const acc = await account(cluster.url, path.join(home, 'dead-letter'))
    expect(acc.inTable).toBe(landed * 100) // whole batches only
    expect(acc.distinctInTable).toBe(acc.inTable)
  })

  it('SIGKILL mid-batch, then rerun + replay: exactly-once rows', async () => {
    // Phase 1: server down at start → every batch exhausts into the spool.
    await cluster.stop('fast')
    let w = startWorker({WORKER_MODE: 'batches', WORKER_HOME: home, WORKER_URL: cluster.url, WORKER_BATCHES: '4', WORKER_SIZE: '100', WORKER_CONNECT_MS: '300'})
    await w.exited
    await cluster.start()
    expect(spoolCount()).toBe(4)
    // Phase 2: a replay killed after its first entry landed (the next may be in flight: in doubt).
    w = startWorker({WORKER_MODE: 'replay', WORKER_HOME: home, WORKER_URL: cluster.url})
    await w.waitMark((m) => m.word === 'replayed' && m.data.done === 1, 15_000, 'first entry replayed')
    w.child.kill('SIGKILL')
    await w.exited
    expect(spoolCount()).toBeGreaterThan(0)
    expect(spoolCount()).toBeLessThan(4)
    // Phase 3: a batch run killed mid-run (SIGKILL right after a batch landed; the next is in flight).
    w = startWorker({WORKER_MODE: 'batches', WORKER_HOME: home, WORKER_URL: cluster.url, WORKER_BATCHES: '40', WORKER_SIZE: '100'})
    await w.waitMark((m) => m.word === 'landed' && m.data.batch === 10, 15_000, 'batch 10 landed')
    w.child.kill('SIGKILL')
    await w.exited
    // Recovery: a fresh engine replays the spool and reruns the workload (same keys).
    const engine = new PostgresEngine({url: cluster.url, applicationName: 'recover', spool: new DeadLetterSpool(path.join(home, 'dead-letter')), audit: new AuditWriter({dir: path.join(home, 'audit')})})
    try {
      const writer = rowsWriter()
      const report = await replayDeadLetters({spool: engine.spool!, engine, writers: new Map([[writer.target, writer as never]])})
      expect(report.failed).toEqual([])
      expect(report.corrupt).toEqual([])
      expect(spoolCount()).toBe(0)
      for (let b = 0; b < 40; b++) {
        await engine.batch('rerun', Array.from({length: 100}, (_, i) => ({key: `w-${b}-${i}`, batch: b, payload: `row ${b}/${i}`})), writer)
      }
    } finally {
      await engine.disconnect({reason: 'exit'})
    }
    const acc = await account(cluster.url, path.join(home, 'dead-letter'))
    expect(acc.inTable).toBe(4000)
    expect(acc.distinctInTable).toBe(4000)
    expect(acc.inSpool).toBe(0)
  })

  it('publishes a state file with a heartbeat; SIGUSR2 forces a reconnect recorded there; removed on clean exit', async () => {
    const app = `watcher-${Date.now()}`
    const w = startWorker({WORKER_MODE: 'watch', WORKER_HOME: home, WORKER_URL: cluster.url, WORKER_APP: app})
    const ready = await w.waitMark((m) => m.word === 'ready', 15_000, 'watcher ready')
    const file = String(ready.data.file)
    const read = (): EngineProcessState => JSON.parse(readFileSync(file, 'utf8')) as EngineProcessState
    expect(file).toBe(path.join(home, 'run', `engine-${w.child.pid}.json`))
    expect((readFileSync(file).length > 0)).toBe(true)
    const first = read()
    expect(first.pid).toBe(w.child.pid)
    expect(first.health.state).toBe('connected')
    const {mode} = await import('node:fs').then((fs) => fs.statSync(file))
    expect(mode & 0o777).toBe(0o600)
    // heartbeat advances
    await waitFor(() => read().heartbeat_at !== first.heartbeat_at, {timeoutMs: 3000, intervalMs: 50, what: 'heartbeat'})

    // Break it: server down; the process's own calls fail and its state shows it.
    await cluster.stop('immediate')
    await waitFor(() => read().health.consecutive_failures > 0, {timeoutMs: 5000, intervalMs: 50, what: 'failures recorded'})
    await cluster.start()
    const genBefore = read().health.generation
    w.child.kill('SIGUSR2')
    await waitFor(() => read().last_signal?.outcome === 'ok', {timeoutMs: 10_000, intervalMs: 50, what: 'SIGUSR2 reconnect ok'})
    const after = read()
    expect(after.last_signal?.generation).toBeGreaterThan(genBefore)
    expect(after.health.state).toBe('connected')
    await waitFor(() => read().health.consecutive_failures === 0, {timeoutMs: 5000, intervalMs: 50, what: 'recovered'})

    w.child.kill('SIGTERM')
    const exit = await w.exited
    expect(exit.code).toBe(0)
    expect(existsSync(file)).toBe(false)
    const rows = (await readWindow({dir: path.join(home, 'audit'), feature: 'pool-recovery', windowMs: 3600_000, now: Date.now()})).rows as {kind: string; error_summary?: string}[]
    expect(rows.some((r) => r.kind === 'reconnect_succeeded')).toBe(true)
  })
})
