import * as fs from 'node:fs'
import * as path from 'node:path'
import {describe, expect, it} from 'vitest'
import {gatherBatchRetry, gatherPoolRecovery} from '../../../src/checks/facts/audit-windows.js'
import {fileGatherers} from '../../../src/checks/facts/index.js'
import {gatherProcesses} from '../../../src/checks/facts/processes.js'
import {shellQuote} from '../../../src/shared/shell-quote.js'
import {AbortedError} from '../../../src/shared/errors.js'
import {tempBrains} from '../../helpers/temp-brain.js'

const HOUR = 3_600_000
const NOW = Date.parse('2026-01-07T12:00:00.000Z')
const iso = (ms: number): string => new Date(ms).toISOString()

const brains = tempBrains('gbrain-check-facts-')
const brain = brains.brain

const exhausted = (site: string) =>
  JSON.stringify({ts: iso(NOW - HOUR), site, batch_size: 5, attempt: 4, outcome: 'exhausted', delay_ms: 0, error_message_summary: 'x'}) +
  '\n'

describe('the file gatherers', () => {
  it('nothing is read before a gatherer is called', async () => {
    const p = brain()
    const gather = fileGatherers({paths: p, now: NOW, env: {}})
    fs.mkdirSync(p.auditDir, {recursive: true})
    fs.writeFileSync(path.join(p.auditDir, 'batch-retry-2026-W02.jsonl'), exhausted('late'))
    expect((await gather.batchRetry(new AbortController().signal)).by_site).toHaveProperty('late')
  })

  it('an aborted signal rejects with AbortedError', async () => {
    const p = brain()
    fs.mkdirSync(p.auditDir, {recursive: true})
    fs.writeFileSync(path.join(p.auditDir, 'batch-retry-2026-W02.jsonl'), exhausted('a'))
    const ac = new AbortController()
    ac.abort('budget')
    await expect(fileGatherers({paths: p, now: NOW, env: {}}).batchRetry(ac.signal)).rejects.toBeInstanceOf(AbortedError)
  })

  it('the window is echoed', async () => {
    const f = await gatherPoolRecovery(brain().auditDir, NOW)
    expect(f.window).toEqual({from: iso(NOW - HOUR), to: iso(NOW), hours: 1})
  })

  it('processes: a missing run dir is empty; a file in its place is a list error', async () => {
    const p = brain()
    expect(await gatherProcesses(p.runDir)).toEqual({run_dir: p.runDir, list_error: null, processes: []})
    fs.writeFileSync(p.runDir, 'x')
    const f = await gatherProcesses(p.runDir)
    expect(f.list_error).toMatch(/ENOTDIR/)
  })

  it('site names that look like object keys are data, not prototypes', async () => {
    const p = brain()
    fs.mkdirSync(p.auditDir, {recursive: true})
    fs.writeFileSync(path.join(p.auditDir, 'batch-retry-2026-W02.jsonl'), exhausted('__proto__') + exhausted('constructor'))
    const f = await gatherBatchRetry(p.auditDir, NOW)
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
