/**
 * Repair's decisions outside the command: which checks the actions concern, what counts as fixed
 * and remaining, and that an interrupt starts no further action.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {summarize} from '../../../src/checks/report.js'
import type {CheckResult, CheckStatus, Report} from '../../../src/checks/types.js'
import type {ResolvedTarget} from '../../../src/config/resolve.js'
import {resolvePaths} from '../../../src/engine/paths.js'
import {concernedChecks, judgeRepair, runActions} from '../../../src/repair/run.js'
import type {ActionResult, RepairContext} from '../../../src/repair/types.js'

const home = mkdtempSync(path.join(os.tmpdir(), 'gbrain-repair-run-'))
afterAll(() => rmSync(home, {recursive: true, force: true}))

function result(name: string, status: CheckStatus): CheckResult {
  return {name, category: 'storage', status, message: `${name} ${status}`, duration_ms: 1}
}

function report(...checks: CheckResult[]): Report {
  return {checks, summary: summarize(checks)} as Report
}

const action = (status: ActionResult['status']): ActionResult => ({name: 'replay', status, detail: ''})

describe('concernedChecks', () => {
  it('lists each concerned check once, in the order the actions name them', () => {
    expect(concernedChecks(['unlock', 'reconnect'])).toEqual(['pglite_lock', 'connection', 'engine_processes'])
    expect(concernedChecks([])).toEqual([])
  })
})

describe('judgeRepair', () => {
  const before = report(result('dead_letter', 'fail'), result('batch_retry_health', 'fail'), result('audit_log', 'fail'))
  const concerned = ['dead_letter', 'batch_retry_health']

  it('fixed: concerned checks failing before and not after; remaining: concerned checks still failing', () => {
    const after = report(result('dead_letter', 'ok'), result('batch_retry_health', 'fail'), result('audit_log', 'fail'))
    expect(judgeRepair(before, after, concerned, [action('applied')], false)).toEqual({
      fixed: ['dead_letter'],
      remaining: ['batch_retry_health'],
      ok: false,
    })
  })

  it('a warning the actions cleared is fixed too; one still warning is neither fixed nor remaining', () => {
    const warned = report(result('dead_letter', 'warn'), result('batch_retry_health', 'warn'), result('audit_log', 'fail'))
    const after = report(result('dead_letter', 'ok'), result('batch_retry_health', 'warn'), result('audit_log', 'fail'))
    expect(judgeRepair(warned, after, concerned, [action('applied')], false)).toEqual({fixed: ['dead_letter'], remaining: [], ok: true})
  })

  it('ok only when every action succeeded and nothing concerned still fails (a dry run ignores what remains)', () => {
    const healed = report(result('dead_letter', 'ok'), result('batch_retry_health', 'warn'), result('audit_log', 'fail'))
    expect(judgeRepair(before, healed, concerned, [action('applied')], false).ok).toBe(true)
    expect(judgeRepair(before, healed, concerned, [action('failed')], false).ok).toBe(false)
    expect(judgeRepair(before, before, concerned, [action('would_apply')], true)).toEqual({
      fixed: [],
      remaining: ['dead_letter', 'batch_retry_health'],
      ok: true,
    })
  })
})

describe('runActions', () => {
  const paths = resolvePaths({GBRAIN_HOME: home})
  const target = {engine: 'postgres', paths} as unknown as ResolvedTarget
  const ctx = (signal?: AbortSignal): RepairContext => ({dryRun: true, progress: () => {}, ...(signal ? {signal} : {})})
  const input = {
    before: report(result('audit_log', 'ok')),
    target,
    timeoutMs: 1000,
    olderThanMs: 30 * 86_400_000,
    openEngine: () => Promise.reject(new Error('no engine in this test')),
  }

  it('runs the requested actions in order and tells the caller after each', async () => {
    const told: string[] = []
    const actions = await runActions({...input, requested: ['prune-audit'], afterAction: (n) => told.push(n)}, ctx())
    expect(actions.map((a) => a.name)).toEqual(['prune-audit'])
    expect(told).toEqual(['prune-audit'])
  })

  it('an interrupt before an action starts it not', async () => {
    const stop = new AbortController()
    stop.abort('SIGINT')
    expect(await runActions({...input, requested: ['prune-audit', 'replay']}, ctx(stop.signal))).toEqual([])
  })
})
