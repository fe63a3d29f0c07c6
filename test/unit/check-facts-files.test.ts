import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createFileFacts} from '../../src/checks/facts-files.js'
import {shellQuote} from '../../src/engine/shell-quote.js'
import {AbortedError} from '../../src/engine/errors.js'
import type {BrainPaths} from '../../src/engine/paths.js'

const HOUR = 3_600_000
const NOW = Date.parse('2026-01-07T12:00:00.000Z')
const iso = (ms: number): string => new Date(ms).toISOString()

let root: string
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gbrain-check-facts-'))
})
afterAll(() => {
  fs.rmSync(root, {recursive: true, force: true})
})

function brain(): BrainPaths {
  const home = fs.mkdtempSync(path.join(root, 'home-'))
  return {home, auditDir: path.join(home, 'audit'), spoolDir: path.join(home, 'dead-letter'), runDir: path.join(home, 'run'), homeSource: 'default', auditDirSource: 'default'}
}

const exhausted = (site: string) =>
  JSON.stringify({ts: iso(NOW - HOUR), site, batch_size: 5, attempt: 4, outcome: 'exhausted', delay_ms: 0, error_message_summary: 'x'}) + '\n'

describe('createFileFacts', () => {
  it('gathers each fact at most once, on first call (memoized)', async () => {
    const p = brain()
    fs.mkdirSync(p.auditDir, {recursive: true})
    const file = path.join(p.auditDir, 'batch-retry-2026-W02.jsonl')
    fs.writeFileSync(file, exhausted('a'))
    const facts = createFileFacts({paths: p, now: NOW})
    const first = facts.batchRetry()
    expect(facts.batchRetry()).toBe(first)
    expect((await first).exhausted_total).toBe(1)
    fs.appendFileSync(file, exhausted('b'))
    expect((await facts.batchRetry()).exhausted_total).toBe(1) // not re-read
    // A fresh snapshot sees the new row.
    expect((await createFileFacts({paths: p, now: NOW}).batchRetry()).exhausted_total).toBe(2)
  })

  it('nothing is read before a getter is called', async () => {
    const p = brain()
    const facts = createFileFacts({paths: p, now: NOW})
    fs.mkdirSync(p.auditDir, {recursive: true})
    fs.writeFileSync(path.join(p.auditDir, 'batch-retry-2026-W02.jsonl'), exhausted('late'))
    expect((await facts.batchRetry()).by_site).toHaveProperty('late')
  })

  it('an aborted signal rejects with AbortedError', async () => {
    const p = brain()
    fs.mkdirSync(p.auditDir, {recursive: true})
    fs.writeFileSync(path.join(p.auditDir, 'batch-retry-2026-W02.jsonl'), exhausted('a'))
    const ac = new AbortController()
    ac.abort('budget')
    await expect(createFileFacts({paths: p, now: NOW, signal: ac.signal}).batchRetry()).rejects.toBeInstanceOf(AbortedError)
  })

  it('the window is echoed', async () => {
    const f = await createFileFacts({paths: brain(), now: NOW}).poolRecovery()
    expect(f.window).toEqual({from: iso(NOW - HOUR), to: iso(NOW), hours: 1})
  })

  it('processes: a missing run dir is empty; a file in its place is a list error', async () => {
    const p = brain()
    expect(await createFileFacts({paths: p, now: NOW}).processes()).toEqual({run_dir: p.runDir, list_error: null, processes: []})
    fs.writeFileSync(p.runDir, 'x')
    const f = await createFileFacts({paths: p, now: NOW}).processes()
    expect(f.list_error).toMatch(/ENOTDIR/)
  })

  it('site names that look like object keys are data, not prototypes', async () => {
    const p = brain()
    fs.mkdirSync(p.auditDir, {recursive: true})
    fs.writeFileSync(path.join(p.auditDir, 'batch-retry-2026-W02.jsonl'), exhausted('__proto__') + exhausted('constructor'))
    const f = await createFileFacts({paths: p, now: NOW}).batchRetry()
    expect(Object.keys(f.by_site)).toEqual(['__proto__', 'constructor'])
    expect(f.by_site['__proto__']!.exhausted).toBe(1)
  })
})

describe('shellQuote', () => {
  it('leaves plain paths alone and single-quotes the rest', () => {
    expect(shellQuote('/home/u/.gbrain/audit')).toBe('/home/u/.gbrain/audit')
    expect(shellQuote('/a b')).toBe(`'/a b'`)
    expect(shellQuote(`/it's`)).toBe(`'/it'\\''s'`)
    expect(shellQuote('/x;rm -rf ~')).toBe(`'/x;rm -rf ~'`)
  })
})
