/**
 * `doctor --auto-heal`'s policy over hand-built reports: only warnings are healed, a failure is
 * reported with its repair command, reconnect only for a live process, nothing that needs the
 * database while the connection does not answer, and nothing healed within the minimum interval.
 */
import {describe, expect, it} from 'vitest'
import type {CheckResult, CheckStatus} from '../../../src/checks/types.js'
import {planHeal, type HealPolicyInput} from '../../../src/repair/heal-plan.js'
import {planRepairs} from '../../../src/repair/plan.js'
import type {Report} from '../../../src/checks/types.js'

const NOW = Date.parse('2026-01-07T12:00:00.000Z')
const HOUR = 3_600_000
const ago = (ms: number): string => new Date(NOW - ms).toISOString()

function check(name: string, status: CheckStatus, details: Record<string, unknown> = {}, fix?: string): CheckResult {
  return {
    name,
    category: 'storage',
    status,
    message: `${name} is ${status}`,
    duration_ms: 1,
    details,
    ...(fix ? {fix: {text: 'do it', commands: [fix]}} : {}),
  }
}

const liveBroken = {pid: 42, alive: true, state: 'broken', consecutive_failures: 3, failing_for_s: 10}
const deadStale = {pid: 43, alive: false, state: 'connected', consecutive_failures: 0, failing_for_s: null}

type Spec = Partial<Record<string, [CheckStatus, Record<string, unknown>?, string?]>>

/** The checks the planner and the policy read, healthy unless `spec` says otherwise. */
function report(spec: Spec = {}): Report {
  const base: Spec = {
    connection: ['ok', {engine: 'postgres'}],
    batch_retry_health: ['ok', {exhausted_total: 0}],
    engine_processes: ['ok', {processes: [], failing: [], stale: []}],
    dead_letter: ['ok', {entries: 0, rows: 0}],
    audit_log: ['ok', {expired_files: []}],
    cycle_freshness: ['ok', {}],
  }
  const all = {...base, ...spec}
  return {checks: Object.entries(all).map(([name, v]) => check(name, v![0], v![1], v![2]))} as Report
}

const spoolWarn: Spec = {dead_letter: ['warn', {entries: 2, rows: 7}, 'gbrain repair --replay']}
const spoolFail: Spec = {dead_letter: ['fail', {entries: 2, rows: 7}, 'gbrain repair --replay']}
const expiredAudit: Spec = {audit_log: ['warn', {expired_files: ['a-2025-W01.jsonl']}, 'gbrain repair --prune-audit --older-than 30d']}

function run(r: Report, over: Partial<HealPolicyInput> = {}) {
  return planHeal({report: r, plan: planRepairs(r), lastHealed: {}, nowMs: NOW, minIntervalMs: 6 * HOUR, ...over})
}

describe('planHeal', () => {
  it.each<{name: string; spec: Spec; heal: string[]; skipped?: string[]; attention?: [string, string | null][]}>([
    {name: 'healthy: nothing to heal, nothing needs attention', spec: {}, heal: []},
    {name: 'a young intact spool (warn) is replayed', spec: spoolWarn, heal: ['replay']},
    {
      name: 'a failing spool is never replayed: it needs attention with its repair command',
      spec: spoolFail,
      heal: [],
      attention: [['dead_letter', 'gbrain repair --replay']],
    },
    {
      name: 'a warning spool whose other concerned check fails (batch_retry_health) is not replayed',
      spec: {...spoolWarn, batch_retry_health: ['fail', {exhausted_total: 25}, 'gbrain doctor --only connection']},
      heal: [],
      attention: [['batch_retry_health', 'gbrain repair --replay']],
    },
    {
      name: 'replay needs the database: skipped while the connection fails, and the connection needs attention',
      spec: {...spoolWarn, connection: ['fail', {cause: 'refused'}, 'pg_ctl start']},
      heal: [],
      skipped: ['replay:database_unreachable'],
      attention: [['connection', 'gbrain repair --reconnect']],
    },
    {
      name: 'replay while the connection was not checked (--fast): skipped',
      spec: {...spoolWarn, connection: ['skipped', {}]},
      heal: [],
      skipped: ['replay:database_unreachable'],
    },
    {
      name: 'expired audit files (warn) are pruned, with no database',
      spec: {...expiredAudit, connection: ['fail', {cause: 'refused'}]},
      heal: ['prune-audit'],
      attention: [['connection', 'gbrain repair --reconnect']],
    },
    {
      name: 'a live process needing a reconnect while a concerned check warns: reconnected',
      spec: {engine_processes: ['warn', {processes: [liveBroken, deadStale], failing: [], stale: [43]}]},
      heal: ['reconnect'],
    },
    {
      name: 'only a dead process’s stale state file: no reconnect (live processes only)',
      spec: {engine_processes: ['warn', {processes: [deadStale], failing: [], stale: [43]}, 'rm -f /run/engine-43.json']},
      heal: [],
      skipped: ['reconnect:no_live_process'],
    },
    {
      name: 'a live process failing past 60 s (fail): never reconnected automatically',
      spec: {engine_processes: ['fail', {processes: [{...liveBroken, failing_for_s: 120}], failing: [42], stale: []}]},
      heal: [],
      attention: [['engine_processes', 'gbrain repair --reconnect']],
    },
    {
      name: 'a failure no repair action concerns needs attention with its own fix',
      spec: {...spoolWarn, cycle_freshness: ['fail', {}, 'gbrain cycle --source notes']},
      heal: ['replay'],
      attention: [['cycle_freshness', 'gbrain cycle --source notes']],
    },
    {
      name: 'a failure without a fix: command null',
      spec: {cycle_freshness: ['fail', {}]},
      heal: [],
      attention: [['cycle_freshness', null]],
    },
  ])('$name', ({spec, heal, skipped = [], attention = []}) => {
    const p = run(report(spec))
    expect(p.heal.map((h) => h.action)).toEqual(heal)
    expect(p.skipped.map((s) => `${s.action}:${s.reason}`)).toEqual(skipped)
    expect(p.needs_attention.map((n) => [n.check, n.command])).toEqual(attention)
  })

  it.each([
    {last: undefined, heals: true},
    {last: ago(6 * HOUR - 1), heals: false},
    {last: ago(6 * HOUR), heals: true},
    {last: ago(30 * 86_400_000), heals: true},
    {last: new Date(NOW + HOUR).toISOString(), heals: false}, // dated in the future: counts as recent
    {last: 'not a date', heals: true},
  ])('the minimum interval (6 h): last replay $last → heals $heals', ({last, heals}) => {
    const p = run(report(spoolWarn), {lastHealed: last === undefined ? {} : {replay: last}})
    expect(p.heal.map((h) => h.action)).toEqual(heals ? ['replay'] : [])
    if (!heals) expect(p.skipped).toEqual([expect.objectContaining({action: 'replay', reason: 'healed_recently', last_healed_at: last})])
  })

  it('a heal of another action does not hold this one back', () => {
    expect(run(report(spoolWarn), {lastHealed: {'prune-audit': ago(60_000)}}).heal.map((h) => h.action)).toEqual(['replay'])
  })

  it('an unreadable history: nothing is healed (the interval cannot be honoured), failures still reported', () => {
    const p = run(report({...spoolWarn, cycle_freshness: ['fail', {}, 'gbrain cycle']}), {lastHealed: null})
    expect(p.heal).toEqual([])
    expect(p.skipped.map((s) => s.reason)).toEqual(['history_unreadable'])
    expect(p.needs_attention.map((n) => n.check)).toEqual(['cycle_freshness'])
  })
})
