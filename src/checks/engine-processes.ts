/**
 * `engine_processes` (pool). Judges the per-process engine state files (`<home>/run/engine-<pid>.json`):
 *
 * - A live process whose pool has been failing for more than 60 s (`health.failing_since`, or —
 *   for a `broken` pool with consecutive failures but no `failing_since` — its last error's time)
 *   → fail with `gbrain repair --reconnect` (SIGUSR2 makes it rebuild its pool in place).
 * - A state file whose pid is dead → warn (stale; removing it is safe).
 * - A state file that cannot be read or is not in the expected shape → warn.
 * - No processes → ok.
 */
import {redactForStorage as redact} from '../shared/redact.js'
import type {ReadProcessState} from '../engine/index.js'
import {defineCheck} from './check.js'
import type {ProcessFacts} from './facts/processes.js'
import {plural} from './wording.js'
import {shellQuote} from '../shared/shell-quote.js'
import {Findings} from './findings.js'
import {isPoolFailing, parseMs, poolFailingSince, PROCESS_FAILING_FAIL_MS} from './pool-health.js'
import type {CheckOutcome} from './types.js'
import {fixed} from './listing.js'

export type ProcessVerdict = 'healthy' | 'recovering' | 'failing' | 'stale' | 'unreadable'

export interface ProcessDetail {
  pid: number
  file: string
  alive: boolean
  verdict: ProcessVerdict
  command: string | null
  state: string | null
  last_ok_at: string | null
  consecutive_failures: number | null
  reconnects: {ok: number; failed: number} | null
  heartbeat_age_s: number | null
  /** How long the pool has been failing, or null when it is not. */
  failing_for_s: number | null
  last_error: {kind: string; code?: string; message: string} | null
  last_signal: {received_at: string; outcome: string; finished_at?: string; error?: string} | null
  error?: string
}

/** `engine_processes` details (what the repair plan reads). */
export interface EngineProcessesDetails {
  processes: ProcessDetail[]
  live: number
  failing: number[]
  stale: number[]
  unreadable: string[]
  run_dir: string
  run_dir_error: string | null
  failing_after_s: number
}

export interface EngineProcessesInput {
  facts: ProcessFacts
  now: number
  /** Default {@link PROCESS_FAILING_FAIL_MS}. */
  failingAfterMs?: number
}

type Obj = Record<string, unknown>
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x)
const str = (x: unknown): string | null => (typeof x === 'string' ? x : null)
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null)
const seconds = (ms: number): number => Math.round(ms / 100) / 10

/** One state file, judged on its own. Never trusts the file's shape. */
export function describeProcess(p: ReadProcessState, now: number, failingAfterMs = PROCESS_FAILING_FAIL_MS): ProcessDetail {
  const base: ProcessDetail = {
    pid: p.pid,
    file: p.file,
    alive: p.alive,
    verdict: 'unreadable',
    command: null,
    state: null,
    last_ok_at: null,
    consecutive_failures: null,
    reconnects: null,
    heartbeat_age_s: null,
    failing_for_s: null,
    last_error: null,
    last_signal: null,
  }
  const s: unknown = p.state
  if (p.error !== undefined || !isObj(s) || !isObj(s.health) || typeof s.health.state !== 'string') {
    return {...base, error: p.error !== undefined ? redact(p.error) : 'unexpected format (no health snapshot)'}
  }
  const h = s.health
  const heartbeat = parseMs(s.heartbeat_at)
  const reconnects = isObj(h.reconnects) ? {ok: num(h.reconnects.ok) ?? 0, failed: num(h.reconnects.failed) ?? 0} : null
  const lastError = isObj(h.last_error)
    ? {
        kind: str(h.last_error.kind) ?? 'unknown',
        ...(typeof h.last_error.code === 'string' ? {code: h.last_error.code} : {}),
        message: redact(str(h.last_error.message) ?? ''),
      }
    : null
  const sig = isObj(s.last_signal) ? s.last_signal : null
  const lastSignal = sig
    ? {
        received_at: str(sig.received_at) ?? '',
        outcome: str(sig.outcome) ?? 'unknown',
        ...(typeof sig.finished_at === 'string' ? {finished_at: sig.finished_at} : {}),
        ...(typeof sig.error === 'string' ? {error: redact(sig.error)} : {}),
      }
    : null
  const failures = num(h.consecutive_failures)
  const since = poolFailingSince({
    state: h.state as string,
    consecutive_failures: failures,
    failing_since: h.failing_since,
    last_error_at: isObj(h.last_error) ? h.last_error.at : undefined,
  })
  const failingFor = since === null ? null : Math.max(0, now - since)
  let verdict: ProcessVerdict
  if (!p.alive) verdict = 'stale'
  else if (failingFor === null) verdict = 'healthy'
  else verdict = isPoolFailing(p.alive, failingFor, failingAfterMs) ? 'failing' : 'recovering'
  return {
    ...base,
    verdict,
    command: str(s.command) === null ? null : redact(s.command as string),
    state: h.state as string,
    last_ok_at: str(h.last_ok_at),
    consecutive_failures: failures,
    reconnects,
    heartbeat_age_s: heartbeat === null ? null : seconds(Math.max(0, now - heartbeat)),
    failing_for_s: failingFor === null ? null : seconds(failingFor),
    last_error: lastError,
    last_signal: lastSignal,
  }
}

const label = (d: ProcessDetail): string => `pid ${d.pid}${d.command ? ` (${d.command})` : ''}`

export function judgeEngineProcesses(input: EngineProcessesInput): CheckOutcome {
  const {facts, now} = input
  const after = input.failingAfterMs ?? PROCESS_FAILING_FAIL_MS
  const procs = facts.processes.map((p) => describeProcess(p, now, after))
  const failing = procs.filter((d) => d.verdict === 'failing')
  const stale = procs.filter((d) => d.verdict === 'stale')
  const unreadable = procs.filter((d) => d.verdict === 'unreadable')
  const recovering = procs.filter((d) => d.verdict === 'recovering')
  const live = procs.filter((d) => d.alive && d.verdict !== 'unreadable')

  const found = new Findings()
  if (failing.length > 0) {
    found.add(
      'fail',
      failing
        .map(
          (d) =>
            `${label(d)}: pool failing for ${Math.round(d.failing_for_s ?? 0)} s (state ${d.state}, ${plural(d.consecutive_failures ?? 0, 'consecutive failure')}` +
            `${d.last_error ? `, last error: ${d.last_error.message}` : ''})`,
        )
        .join('; ') + '.',
      {
        text: 'Check that the database is reachable, then make the live processes rebuild their pools in place.',
        commands: ['gbrain doctor --only connection', 'gbrain repair --reconnect'],
      },
    )
  }
  if (facts.list_error !== null) {
    found.add('warn', `Run directory ${facts.run_dir} unreadable: ${facts.list_error}.`, {
      text: 'Make the run directory readable by its owner.',
      commands: [`chmod 700 ${shellQuote(facts.run_dir)}`],
    })
  }
  if (unreadable.length > 0) {
    found.add(
      'warn',
      unreadable.map((d) => `state file ${d.file} unreadable (${d.error})${d.alive ? '' : ', pid not running'}`).join('; ') + '.',
      {
        text: "A live process rewrites its state file on its next heartbeat; a dead one's file can be removed.",
        commands: unreadable.filter((d) => !d.alive).map((d) => `rm -f ${shellQuote(d.file)}`),
      },
    )
  }
  if (stale.length > 0) {
    found.add('warn', `Stale state ${stale.length === 1 ? 'file' : 'files'} of dead ${stale.map(label).join(', ')}.`, {
      text: 'The process exited without cleaning up; removing its state file is safe.',
      commands: stale.map((d) => `rm -f ${shellQuote(d.file)}`),
    })
  }

  let summary: string
  if (procs.length === 0 && facts.list_error === null) summary = 'No engine processes running.'
  else {
    const healthyCount = live.length - failing.length - recovering.length
    summary = `${plural(live.length, 'live engine process', 'live engine processes')}`
    if (live.length > 0) summary += `, ${healthyCount} healthy`
    if (recovering.length > 0)
      summary += `, ${recovering.map((d) => `${label(d)} failing for ${Math.round(d.failing_for_s ?? 0)} s`).join(', ')} (under ${Math.round(after / 1000)} s)`
    summary += '.'
  }
  return found.outcome(found.any ? `${found.messages.join(' ')} ${summary}` : summary, {
    details: {
      processes: procs,
      live: live.length,
      failing: failing.map((d) => d.pid),
      stale: stale.map((d) => d.pid),
      unreadable: unreadable.map((d) => d.file),
      run_dir: facts.run_dir,
      run_dir_error: facts.list_error,
      failing_after_s: after / 1000,
    } satisfies EngineProcessesDetails,
    observed_value: failing.length,
    observed_unit: 'count',
    threshold: {fail: 1},
  })
}

export const engineProcessesCheck = defineCheck({
  name: 'engine_processes',
  category: 'pool',
  gatedOnConnection: false,
  downstreamOf: ['connection'],
  needs: ['processes'],
  judge: (f, ctx) => judgeEngineProcesses({facts: f.processes, now: ctx.now}),
  counts: {noun: ['process with a failing pool', 'processes with a failing pool']},
  explain: {
    looksAt:
      'The state file of each running gbrain process (pool health, failing since when). State files of processes that are gone, or that cannot be read, are a warning.',
    thresholds: () => [
      fixed(PROCESS_FAILING_FAIL_MS / 1000, {
        level: 'fail',
        comparison: '>',
        unit: 's',
        measure: 'that a live process’s pool has been failing',
      }),
    ],
  },
})
