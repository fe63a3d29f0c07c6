import * as fs from 'node:fs'
import * as path from 'node:path'
import {describe, expect, it} from 'vitest'
import {engineProcessesCheck, judgeEngineProcesses} from '../../../src/checks/engine-processes.js'
import {evaluate} from '../../../src/checks/runner.js'
import {fileGatherers} from '../../../src/checks/facts/index.js'
import {validateThresholds} from '../../../src/checks/thresholds.js'
import type {CheckOutcome} from '../../../src/checks/types.js'
import type {BrainPaths} from '../../../src/engine/paths.js'
import type {EngineProcessState} from '../../../src/engine/process-state.js'
import type {HealthSnapshot} from '../../../src/engine/types.js'
import {tempBrains} from '../../helpers/temp-brain.js'

const S = 1000
const NOW = Date.parse('2026-01-07T12:00:00.000Z')
const iso = (ms: number): string => new Date(ms).toISOString()
const LIVE = process.pid
const DEAD = 2_147_483_646 // above any pid_max: kill(pid, 0) gives ESRCH

const brains = tempBrains('gbrain-check-procs-')
const brain = brains.brain

function health(over: Partial<HealthSnapshot> = {}): HealthSnapshot {
  return {
    engine: 'postgres',
    style: 'instance',
    state: 'connected',
    connected_at: iso(NOW - 3600 * S),
    last_ok_at: iso(NOW - 2 * S),
    last_error: null,
    failing_since: null,
    consecutive_failures: 0,
    reconnects: {ok: 1, failed: 0},
    generation: 2,
    pool_size: 10,
    prepare: true,
    ...over,
  }
}

function writeState(p: BrainPaths, pid: number, h: HealthSnapshot | string, extra: Partial<EngineProcessState> = {}): string {
  fs.mkdirSync(p.runDir, {recursive: true, mode: 0o700})
  const file = path.join(p.runDir, `engine-${pid}.json`)
  const state: EngineProcessState | string =
    typeof h === 'string'
      ? h
      : {
          version: 1,
          pid,
          command: 'gbrain cycle --watch',
          argv: ['node', 'gbrain', 'cycle', '--watch'],
          started_at: iso(NOW - 7200 * S),
          heartbeat_at: iso(NOW - 3 * S),
          health: h,
          ...extra,
        }
  fs.writeFileSync(file, typeof state === 'string' ? state : JSON.stringify(state), {mode: 0o600})
  return file
}

async function run(p: BrainPaths): Promise<CheckOutcome> {
  return evaluate(engineProcessesCheck, fileGatherers({paths: p, now: NOW, env: {}}), {now: NOW, thresholds: validateThresholds({})})
}

const failingHealth = (sinceAgoMs: number): HealthSnapshot =>
  health({
    state: 'broken',
    failing_since: iso(NOW - sinceAgoMs),
    consecutive_failures: 7,
    last_error: {kind: 'refused', code: 'ECONNREFUSED', retryable: true, message: 'connect ECONNREFUSED', at: iso(NOW - S)},
    reconnects: {ok: 1, failed: 6},
  })

describe('engine_processes', () => {
  it('no processes (no run dir) → ok', async () => {
    const r = await run(brain())
    expect(r.status).toBe('ok')
    expect(r.message).toBe('No engine processes running.')
    expect(r.details).toMatchObject({processes: [], live: 0})
  })

  it('a live, healthy process → ok with its details', async () => {
    const p = brain()
    const file = writeState(p, LIVE, health(), {
      last_signal: {signal: 'SIGUSR2', received_at: iso(NOW - 60 * S), outcome: 'ok', finished_at: iso(NOW - 59 * S), generation: 2},
    })
    const r = await run(p)
    expect(r.status).toBe('ok')
    expect(r.message).toBe('1 live engine process, 1 healthy.')
    expect(r.details!.processes).toEqual([
      {
        pid: LIVE,
        file,
        alive: true,
        verdict: 'healthy',
        command: 'gbrain cycle --watch',
        state: 'connected',
        last_ok_at: iso(NOW - 2 * S),
        consecutive_failures: 0,
        reconnects: {ok: 1, failed: 0},
        heartbeat_age_s: 3,
        failing_for_s: null,
        last_error: null,
        last_signal: {received_at: iso(NOW - 60 * S), outcome: 'ok', finished_at: iso(NOW - 59 * S)},
      },
    ])
  })

  it('a live process whose pool has failed for more than 60 s → fail with repair --reconnect', async () => {
    const p = brain()
    writeState(p, LIVE, failingHealth(90 * S))
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.message).toContain(
      `pid ${LIVE} (gbrain cycle --watch): pool failing for 90 s (state broken, 7 consecutive failures, last error: connect ECONNREFUSED)`,
    )
    expect(r.fix?.commands).toEqual(['gbrain doctor --only connection', 'gbrain repair --reconnect'])
    expect(r.details).toMatchObject({failing: [LIVE]})
  })

  it('failing for 60 s or less → ok, reported as recovering', async () => {
    const p = brain()
    writeState(p, LIVE, failingHealth(60 * S))
    const r = await run(p)
    expect(r.status).toBe('ok')
    expect(r.message).toContain(`pid ${LIVE} (gbrain cycle --watch) failing for 60 s (under 60 s)`)
  })

  it('broken with consecutive failures but no failing_since: the last error dates it', async () => {
    const p = brain()
    writeState(
      p,
      LIVE,
      health({
        state: 'broken',
        consecutive_failures: 2,
        last_error: {kind: 'refused', retryable: true, message: 'x', at: iso(NOW - 120 * S)},
      }),
    )
    expect((await run(p)).status).toBe('fail')
  })

  it('the state file of a dead pid → warn (stale), with the removal', async () => {
    const p = brain()
    const file = writeState(p, DEAD, failingHealth(3600 * S))
    const r = await run(p)
    expect(r.status).toBe('warn')
    expect(r.message).toContain(`Stale state file of dead pid ${DEAD} (gbrain cycle --watch).`)
    expect(r.fix?.commands).toEqual([`rm -f ${file}`])
    expect(r.details).toMatchObject({stale: [DEAD], failing: []})
  })

  it('an unreadable or malformed state file → warn naming it', async () => {
    const p = brain()
    const garbage = writeState(p, LIVE, '{"pid": 1, "hea')
    const r = await run(p)
    expect(r.status).toBe('warn')
    expect(r.message).toContain(`state file ${garbage} unreadable`)

    const q = brain()
    const odd = writeState(q, DEAD, JSON.stringify({pid: DEAD, health: 'fine'}))
    const r2 = await run(q)
    expect(r2.status).toBe('warn')
    expect(r2.message).toContain(`state file ${odd} unreadable (unexpected format (no health snapshot)), pid not running`)
    expect(r2.fix?.commands).toEqual([`rm -f ${odd}`])
  })

  it('a failing process and a stale file: fail, both named', () => {
    const r = judgeEngineProcesses({
      now: NOW,
      facts: {
        run_dir: '/run',
        list_error: null,
        processes: [
          {
            file: '/run/engine-1.json',
            pid: 1,
            alive: true,
            state: {
              version: 1,
              pid: 1,
              command: 'a',
              argv: [],
              started_at: iso(NOW),
              heartbeat_at: iso(NOW),
              health: failingHealth(61 * S),
            },
          },
          {
            file: '/run/engine-2.json',
            pid: 2,
            alive: false,
            state: {version: 1, pid: 2, command: 'b', argv: [], started_at: iso(NOW), heartbeat_at: iso(NOW), health: health()},
          },
        ],
      },
    })
    expect(r.status).toBe('fail')
    expect(r.message).toContain('pid 1 (a): pool failing for 61 s')
    expect(r.message).toContain('Stale state file of dead pid 2 (b).')
    expect(r.fix?.commands).toEqual(['gbrain doctor --only connection', 'gbrain repair --reconnect', 'rm -f /run/engine-2.json'])
  })
})
