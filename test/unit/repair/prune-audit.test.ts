/**
 * `repair --prune-audit` on a real temp directory: files of every feature whose whole ISO week
 * ended before now − retention are deleted, judged by the week in the NAME (never the mtime);
 * --dry-run deletes nothing; anything that is not an audit file is left alone.
 */
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {auditFileName} from '../../../src/engine/audit/index.js'
import {pruneAudit} from '../../../src/repair/prune-audit.js'
import type {RepairContext} from '../../../src/repair/types.js'

const DAY = 86_400_000
const THIRTY_DAYS = 30 * DAY
const NOW = Date.parse('2026-01-07T12:00:00.000Z') // 2026-W02; cutoff 2025-12-08T12:00Z

let dir: string
const progress: string[] = []
const ctx = (dryRun = false): RepairContext => ({dryRun, progress: (l) => progress.push(l)})

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gbrain-prune-'))
  progress.length = 0
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

function put(name: string, body = '{"ts":"2025-10-01T00:00:00.000Z"}\n', mtimeMs?: number): string {
  const file = path.join(dir, name)
  writeFileSync(file, body)
  if (mtimeMs !== undefined) utimesSync(file, mtimeMs / 1000, mtimeMs / 1000)
  return file
}

const names = (): string[] => readdirSync(dir).sort()

describe('pruneAudit', () => {
  it('deletes old weeks of every feature, keeps the current week and non-audit files', async () => {
    put('batch-retry-2025-W40.jsonl')
    put('pool-recovery-2025-W40.jsonl')
    put('db-disconnect-2025-W41.jsonl')
    put('connection-events-2024-W52.jsonl')
    put('batch-retry-2026-W02.jsonl') // the current week
    put('notes.txt')
    put('batch-retry-2025-W40.jsonl.bak') // not an audit name
    put('batch-retry-2025-W00.jsonl') // not a real week: not an audit file, kept
    const r = await pruneAudit(dir, THIRTY_DAYS, NOW, ctx())
    expect(r.name).toBe('prune-audit')
    expect(r.status).toBe('applied')
    expect(r.detail).toMatch(/^deleted 4 audit files \(\d+ bytes\) whose week ended before 2025-12-08$/)
    expect((r.data as {files: string[]}).files.sort()).toEqual(
      [
        'batch-retry-2025-W40.jsonl',
        'connection-events-2024-W52.jsonl',
        'db-disconnect-2025-W41.jsonl',
        'pool-recovery-2025-W40.jsonl',
      ].sort(),
    )
    expect(names()).toEqual(['batch-retry-2025-W00.jsonl', 'batch-retry-2025-W40.jsonl.bak', 'batch-retry-2026-W02.jsonl', 'notes.txt'])
  })

  it('judges by the name, not the mtime: an old-named file touched to now is still pruned; a current one with an ancient mtime is kept', async () => {
    put('batch-retry-2025-W40.jsonl', undefined, NOW)
    put('batch-retry-2026-W02.jsonl', undefined, Date.parse('2001-01-01T00:00:00Z'))
    const r = await pruneAudit(dir, THIRTY_DAYS, NOW, ctx())
    expect(r.status).toBe('applied')
    expect(names()).toEqual(['batch-retry-2026-W02.jsonl'])
  })

  it('with the real clock: 2025-W40 goes, the current week stays (even when touched to now)', async () => {
    const current = auditFileName('batch-retry', new Date())
    put(current)
    const old = put('batch-retry-2025-W40.jsonl')
    utimesSync(old, new Date(), new Date())
    const r = await pruneAudit(dir, THIRTY_DAYS, Date.now(), ctx())
    expect(r.status).toBe('applied')
    expect(names()).toEqual([current])
  })

  it('the boundary: a week is pruned only when it ENDED at or before now − retention', async () => {
    put('batch-retry-2025-W49.jsonl') // Mon 2025-12-01 … ends 2025-12-08T00:00Z ≤ cutoff 2025-12-08T12:00Z
    put('batch-retry-2025-W50.jsonl') // ends 2025-12-15: partly inside the retention → kept
    await pruneAudit(dir, THIRTY_DAYS, NOW, ctx())
    expect(names()).toEqual(['batch-retry-2025-W50.jsonl'])
    // a shorter retention reaches it
    const r = await pruneAudit(dir, 1 * DAY, Date.parse('2025-12-16T00:00:00Z'), ctx())
    expect(r.status).toBe('applied')
    expect(names()).toEqual([])
  })

  it('--dry-run deletes nothing and says exactly what it would delete', async () => {
    put('batch-retry-2025-W40.jsonl', 'x'.repeat(10))
    put('pool-recovery-2025-W40.jsonl', 'y'.repeat(5))
    put('batch-retry-2026-W02.jsonl')
    const before = names()
    const r = await pruneAudit(dir, THIRTY_DAYS, NOW, ctx(true))
    expect(r.status).toBe('would_apply')
    expect(r.detail).toBe('would delete 2 audit files (15 bytes) whose week ended before 2025-12-08')
    expect(names()).toEqual(before)
  })

  it('nothing old: skipped, nothing touched (twice in a row is a no-op)', async () => {
    put('batch-retry-2026-W02.jsonl')
    put('batch-retry-2025-W40.jsonl')
    expect((await pruneAudit(dir, THIRTY_DAYS, NOW, ctx())).status).toBe('applied')
    const again = await pruneAudit(dir, THIRTY_DAYS, NOW, ctx())
    expect(again.status).toBe('skipped')
    expect(again.detail).toBe('no audit file older than 2025-12-08')
    expect(names()).toEqual(['batch-retry-2026-W02.jsonl'])
  })

  it('a missing audit directory is skipped, not an error, and is not created', async () => {
    const missing = path.join(dir, 'nope')
    const r = await pruneAudit(missing, THIRTY_DAYS, NOW, ctx())
    expect(r.status).toBe('skipped')
    expect(existsSync(missing)).toBe(false)
  })

  it('a directory that carries an old audit name is not a file: left alone', async () => {
    mkdirSync(path.join(dir, 'batch-retry-2025-W40.jsonl'))
    writeFileSync(path.join(dir, 'batch-retry-2025-W40.jsonl', 'inside'), 'keep me')
    const r = await pruneAudit(dir, THIRTY_DAYS, NOW, ctx())
    expect(r.status).toBe('skipped')
    expect(existsSync(path.join(dir, 'batch-retry-2025-W40.jsonl', 'inside'))).toBe(true)
  })
})
