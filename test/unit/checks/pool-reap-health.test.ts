import * as fs from 'node:fs'
import * as path from 'node:path'
import {describe, expect, it} from 'vitest'
import {evaluate} from '../../../src/checks/runner.js'
import {fileGatherers} from '../../../src/checks/facts/index.js'
import {poolReapHealthCheck} from '../../../src/checks/pool-reap-health.js'
import {validateThresholds} from '../../../src/checks/thresholds.js'
import type {CheckOutcome} from '../../../src/checks/types.js'
import type {BrainPaths} from '../../../src/engine/paths.js'
import {tempBrains} from '../../helpers/temp-brain.js'

const MIN = 60_000
const NOW = Date.parse('2026-01-07T12:00:00.000Z') // 2026-W02
const iso = (ms: number): string => new Date(ms).toISOString()
const FILE = 'pool-recovery-2026-W02.jsonl'

const brains = tempBrains('gbrain-check-pool-')
const brain = brains.brain

type Kind = 'reap_detected' | 'reconnect_other' | 'reconnect_succeeded' | 'reconnect_failed'
const LIVE = process.pid
const DEAD = 2_147_483_646 // above any pid_max
const ev = (kind: Kind, pid: number, agoMs: number, extra: Record<string, unknown> = {}) => ({ts: iso(NOW - agoMs), kind, pid, ...extra})

function write(p: BrainPaths, rows: Array<Record<string, unknown> | string>, name = FILE): string {
  fs.mkdirSync(p.auditDir, {recursive: true, mode: 0o700})
  const file = path.join(p.auditDir, name)
  fs.appendFileSync(file, rows.map((r) => `${typeof r === 'string' ? r : JSON.stringify(r)}\n`).join(''), {mode: 0o600})
  return file
}

async function run(p: BrainPaths): Promise<CheckOutcome> {
  return evaluate(poolReapHealthCheck, fileGatherers({paths: p, now: NOW, env: {}}), {now: NOW, thresholds: validateThresholds({})})
}

describe('pool_reap_health', () => {
  it('no audit → ok, reported (not omitted)', async () => {
    const r = await run(brain())
    expect(r.status).toBe('ok')
    expect(r.message).toBe('No pool reaps or reconnects in last 1h.')
    expect(r.details).toMatchObject({reaps: 0, recoveries: 0, failures: 0, unrecovered_pids: [], last_event: null})
    expect(r.threshold).toEqual({warn: 10})
  })

  it('a few reaps, each recovered → ok with the counts', async () => {
    const p = brain()
    write(p, [
      ev('reap_detected', 100, 30 * MIN),
      ev('reconnect_succeeded', 100, 30 * MIN - 50),
      ev('reap_detected', 100, 10 * MIN),
      ev('reconnect_succeeded', 100, 10 * MIN - 50),
    ])
    const r = await run(p)
    expect(r.status).toBe('ok')
    expect(r.message).toBe('2 pooler reaps detected and 2 successful reconnects in last 1h, no failures.')
    expect(r.details!.last_event).toEqual({ts: iso(NOW - 10 * MIN + 50), kind: 'reconnect_succeeded', pid: 100})
  })

  it('a failure followed by a success of the same pid → warn "N failed reconnects, recovered at T"', async () => {
    const p = brain()
    write(p, [
      ev('reap_detected', 100, 20 * MIN),
      ev('reconnect_failed', 100, 20 * MIN - 10, {error_summary: 'connect ECONNREFUSED 10.0.0.5:6543'}),
      ev('reconnect_failed', 100, 19 * MIN, {error_summary: 'refused'}),
      ev('reconnect_succeeded', 100, 18 * MIN, {duration_ms: 31}),
    ])
    const r = await run(p)
    expect(r.status).toBe('warn')
    expect(r.message).toBe(`2 failed reconnects in last 1h, recovered at ${iso(NOW - 18 * MIN)} (1 pooler reap detected).`)
    expect(r.details).toMatchObject({failures: 2, recoveries: 1, unrecovered_pids: []})
    expect(r.fix?.commands).toEqual(['gbrain doctor --only connection'])
  })

  it('a failure with no later success of that pid → fail naming the pid, with repair --reconnect', async () => {
    const p = brain()
    write(p, [
      ev('reconnect_succeeded', LIVE, 30 * MIN), // before the failure: does not count
      ev('reconnect_failed', LIVE, 5 * MIN, {error_summary: 'password authentication failed for user=alice'}),
      ev('reconnect_succeeded', 200, 1 * MIN), // another process: does not count either
    ])
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.message).toContain(`pid ${LIVE} last failed at ${iso(NOW - 5 * MIN)}`)
    expect(r.message).toContain('reconnect is throwing')
    expect(r.message).not.toContain('alice')
    expect(r.details!.unrecovered_pids).toEqual([LIVE])
    expect(r.fix?.commands).toEqual(['gbrain doctor --only connection', 'gbrain repair --reconnect'])
  })

  it('an unrecovered failure of a pid that has exited → ok, reported (history: nothing is failing now, the outage is over)', async () => {
    const p = brain()
    write(p, [ev('reconnect_failed', DEAD, 5 * MIN, {error_summary: 'connect ECONNREFUSED'}), ev('reconnect_succeeded', 200, 1 * MIN)])
    const r = await run(p)
    expect(r.status).toBe('ok')
    expect(r.fix).toBeUndefined()
    expect(r.message).toContain(`pid ${DEAD} last failed at ${iso(NOW - 5 * MIN)}`)
    expect(r.message).toContain('no running process is failing')
    expect(r.details).toMatchObject({unrecovered_pids: [], exited_pids: [DEAD]})
  })

  it('a success logged at the same ms after a failure (file order) counts as recovery', async () => {
    const p = brain()
    write(p, [ev('reconnect_failed', 7, MIN), ev('reconnect_succeeded', 7, MIN)])
    expect((await run(p)).status).toBe('warn')
  })

  it('10 reaps all recovered → warn (pooler thrash); 9 → ok', async () => {
    const nine = brain()
    write(
      nine,
      Array.from({length: 9}, (_, i) => [ev('reap_detected', 1, (i + 1) * MIN), ev('reconnect_succeeded', 1, (i + 1) * MIN - 10)]).flat(),
    )
    expect((await run(nine)).status).toBe('ok')
    const ten = brain()
    write(
      ten,
      Array.from({length: 10}, (_, i) => [ev('reap_detected', 1, (i + 1) * MIN), ev('reconnect_succeeded', 1, (i + 1) * MIN - 10)]).flat(),
    )
    const r = await run(ten)
    expect(r.status).toBe('warn')
    expect(r.message).toBe('DB pool reaped 10× in last 1h (self-heal recovered each) — pooler thrash.')
    expect(r.observed_value).toBe(10)
  })

  it('rows older than one hour are ignored', async () => {
    const p = brain()
    write(p, [ev('reconnect_failed', 100, 61 * MIN)])
    expect((await run(p)).status).toBe('ok')
  })

  it('corrupt lines are reported; an unreadable file → at least warn', async () => {
    const p = brain()
    write(p, ['garbage', ev('reap_detected', 1, MIN)])
    const r = await run(p)
    expect(r.status).toBe('ok')
    expect(r.message).toContain('(note: 1 corrupt JSONL line skipped)')

    const q = brain()
    fs.mkdirSync(path.join(q.auditDir, FILE), {recursive: true})
    const r2 = await run(q)
    expect(r2.status).toBe('warn')
    expect(r2.message).toContain(`1 audit file unreadable: ${path.join(q.auditDir, FILE)}`)
  })
})
