import * as fs from 'node:fs'
import * as path from 'node:path'
import {describe, expect, it} from 'vitest'
import {auditLogCheck, chmodCommands} from '../../../src/checks/audit-log.js'
import {evaluate} from '../../../src/checks/runner.js'
import {fileGatherers} from '../../../src/checks/facts/index.js'
import {validateThresholds} from '../../../src/checks/thresholds.js'
import type {CheckOutcome} from '../../../src/checks/types.js'
import type {BrainPaths} from '../../../src/engine/paths.js'
import {DeadLetterSpool, SPOOL_FORMAT_VERSION} from '../../../src/engine/spool/dead-letter.js'
import {tempBrains} from '../../helpers/temp-brain.js'

const HOUR = 3_600_000
const NOW = Date.parse('2026-01-07T12:00:00.000Z') // Wednesday of 2026-W02; cutoff 2025-12-08T12:00Z (W50)
const iso = (ms: number): string => new Date(ms).toISOString()

const brains = tempBrains('gbrain-check-audit-')
const brain = brains.brain

function put(p: BrainPaths, name: string, content: string, mode = 0o600): string {
  fs.mkdirSync(p.auditDir, {recursive: true, mode: 0o700})
  const file = path.join(p.auditDir, name)
  fs.writeFileSync(file, content, {mode})
  fs.chmodSync(file, mode)
  return file
}

async function run(p: BrainPaths): Promise<CheckOutcome> {
  return evaluate(auditLogCheck, fileGatherers({paths: p, now: NOW, env: {}}), {now: NOW, thresholds: validateThresholds({})})
}

const row = JSON.stringify({ts: iso(NOW - HOUR), kind: 'reap_detected', pid: 1}) + '\n'

describe('audit_log', () => {
  it('no audit directory → ok ("no audit trail yet")', async () => {
    const p = brain()
    const r = await run(p)
    expect(r.status).toBe('ok')
    expect(r.message).toBe(`No audit trail yet (${p.auditDir} does not exist).`)
    expect(r.details).toMatchObject({exists: false, total_files: 0, features: []})
  })

  it('per-feature count, size and weeks; non-audit files ignored', async () => {
    const p = brain()
    put(p, 'batch-retry-2026-W01.jsonl', 'x'.repeat(1000))
    put(p, 'batch-retry-2026-W02.jsonl', '\n'.repeat(24)) // blank lines: not rows, not corrupt
    put(p, 'pool-recovery-2026-W02.jsonl', row)
    put(p, 'notes.txt', 'ignored')
    put(p, 'batch-retry-2026-W54.jsonl', 'not a real week')
    const r = await run(p)
    expect(r.status).toBe('ok')
    expect(r.details!.features).toEqual([
      {feature: 'batch-retry', count: 2, bytes: 1024, oldest_week: '2026-W01', newest_week: '2026-W02', expired: 0},
      {feature: 'pool-recovery', count: 1, bytes: row.length, oldest_week: '2026-W02', newest_week: '2026-W02', expired: 0},
    ])
    expect(r.message).toBe(
      `Audit trail: 3 files, 1.1 KiB (batch-retry: 2 files, 1.0 KiB, 2026-W01…2026-W02; pool-recovery: 1 file, ${row.length} B, 2026-W02).`,
    )
    expect(r.observed_value).toBe(1024 + row.length)
    expect(r.observed_unit).toBe('bytes')
  })

  it('files whose whole week is older than 30 d → warn with prune-audit', async () => {
    const p = brain()
    // Cutoff 2025-12-08T12:00Z: W49 ends 2025-12-08T00:00Z (expired); W50 holds the cutoff (kept).
    const w49 = put(p, 'batch-retry-2025-W49.jsonl', '')
    put(p, 'batch-retry-2025-W50.jsonl', '')
    const old = put(p, 'db-disconnect-2024-W10.jsonl', '')
    const r = await run(p)
    expect(r.status).toBe('warn')
    expect(r.message).toMatch(/^2 audit files older than the 30 d retention \(batch-retry = 1, db-disconnect = 1\)\./)
    expect(r.fix?.commands).toEqual(['gbrain repair --prune-audit --older-than 30d'])
    expect(r.details!.expired_files).toEqual([
      {path: w49, feature: 'batch-retry', week: '2025-W49'},
      {path: old, feature: 'db-disconnect', week: '2024-W10'},
    ])
  })

  it('permissions wider than the owner → warn naming the path, with chmod', async () => {
    const p = brain()
    const f = put(p, 'pool-recovery-2026-W02.jsonl', row, 0o644)
    fs.chmodSync(p.auditDir, 0o755)
    await new DeadLetterSpool(p.spoolDir).write({
      version: SPOOL_FORMAT_VERSION,
      id: 'e1',
      site: 's',
      target: 't',
      created_at: iso(NOW),
      attempts: 1,
      error: {kind: 'connection', message: 'x'},
      row_count: 0,
      rows: [],
    })
    const entry = path.join(p.spoolDir, 'e1.json')
    fs.chmodSync(entry, 0o640)
    const r = await run(p)
    expect(r.status).toBe('warn')
    expect(r.message).toContain(
      `Permissions wider than the owner: ${p.auditDir} (0755, expected 0700), ${f} (0644, expected 0600), ${entry} (0640, expected 0600).`,
    )
    expect(r.fix?.commands).toEqual([`chmod 700 ${p.auditDir}`, `chmod 600 ${f} ${entry}`])
    expect(r.details!.wide_permissions).toEqual([
      {path: p.auditDir, kind: 'dir', mode: '0755', expected: '0700'},
      {path: f, kind: 'file', mode: '0644', expected: '0600'},
      {path: entry, kind: 'file', mode: '0640', expected: '0600'},
    ])
  })

  it('a directory in place of a week file → warn naming it; corrupt lines are reported', async () => {
    const p = brain()
    fs.mkdirSync(path.join(p.auditDir, 'batch-retry-2026-W02.jsonl'), {recursive: true, mode: 0o700})
    fs.chmodSync(p.auditDir, 0o700)
    put(p, 'pool-recovery-2026-W02.jsonl', `${row}garbage\n`)
    const r = await run(p)
    expect(r.status).toBe('warn')
    const bad = path.join(p.auditDir, 'batch-retry-2026-W02.jsonl')
    expect(r.message).toContain(`1 audit file unreadable: ${bad} (not a regular file).`)
    expect(r.message).toContain('(note: 1 corrupt JSONL line skipped: pool-recovery 1 in last 1h)')
    expect(r.fix?.commands).toEqual([`mv ${bad} ${bad}.not-audit`])
    expect(r.details!.corrupt_lines).toEqual({'batch-retry': 0, 'pool-recovery': 1})
  })

  it('an audit path that is a file → warn', async () => {
    const p = brain()
    fs.writeFileSync(p.auditDir, 'oops', {mode: 0o600})
    const r = await run(p)
    expect(r.status).toBe('warn')
    expect(r.message).toBe(`Audit directory ${p.auditDir} unreadable (not a directory).`)
    expect(r.fix?.commands).toEqual([`mv ${p.auditDir} ${p.auditDir}.not-audit`])
    expect(r.details!.unreadable_files).toEqual([])
  })

  it('paths with spaces are quoted; many files use a glob', () => {
    expect(chmodCommands([{path: "/a b/it's.jsonl", kind: 'file', mode: 0o644, expected: 0o600}])).toEqual([
      `chmod 600 '/a b/it'\\''s.jsonl'`,
    ])
    const many = Array.from({length: 51}, (_, i) => ({path: `/d/x-${i}.jsonl`, kind: 'file' as const, mode: 0o644, expected: 0o600}))
    expect(chmodCommands(many)).toEqual(['chmod 600 /d/*.jsonl'])
  })
})
