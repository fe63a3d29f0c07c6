/**
 * `cycle` on the embedded PGlite engine over the same generated vault as the Postgres test:
 * exact rows, idempotent rerun, and a disconnect mid-run that the engine heals by itself.
 */
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runCycle} from '../../src/brain/cycle.js'
import {ensureSchema} from '../../src/brain/schema.js'
import {addSource, listSources} from '../../src/brain/sources.js'
import {AuditWriter} from '../../src/engine/audit/index.js'
import {PGliteEngine} from '../../src/engine/pglite-engine.js'
import {DeadLetterSpool} from '../../src/engine/spool/dead-letter.js'
import {removeHomes, tempDir} from '../helpers/doctor-kit.js'
import {trackUncaught} from '../helpers/uncaught.js'
import {generateVault, type VaultExpectation} from '../helpers/vault-gen.js'

let dir: string
let vault: string
let expected: VaultExpectation
let engine: PGliteEngine

beforeAll(async () => {
  dir = tempDir('gbrain-pgl-')
  vault = path.join(dir, 'vault')
  expected = generateVault(vault, {files: 2000, entries: 20, links: 5})
  engine = new PGliteEngine({
    dataDir: path.join(dir, 'home', 'brain.pglite'),
    retry: {maxRetries: 3, baseMs: 50, maxMs: 200, jitter: 'none'},
    audit: new AuditWriter({dir: path.join(dir, 'home', 'audit')}),
    spool: new DeadLetterSpool(path.join(dir, 'home', 'dead-letter')),
  })
  await ensureSchema(engine)
  await addSource(engine, {id: 'vault', localPath: vault})
}, 120_000)

afterAll(async () => {
  await engine.disconnect({reason: 'exit'})
  removeHomes()
})

async function counts(): Promise<{pages: number; timeline: number; links: number}> {
  const r = await engine.query<{pages: number; timeline: number; links: number}>(
    `select (select count(*)::int from pages where source_id = 'vault') as pages,
            (select count(*)::int from timeline_entries) as timeline,
            (select count(*)::int from links) as links`,
  )
  return r.rows[0]!
}

describe('cycle on PGlite', () => {
  it('lands exactly the vault’s rows and a rerun adds nothing', async () => {
    const t = trackUncaught()
    const t0 = performance.now()
    const report = await runCycle(
      engine,
      (await listSources(engine)).filter((s) => s.id === 'vault'),
    )
    const seconds = (performance.now() - t0) / 1000
    console.log(
      `[measure] cycle pglite: ${expected.total} rows in ${seconds.toFixed(2)} s = ${Math.round(expected.total / seconds)} rows/s`,
    )
    expect(report.status).toBe('complete')
    expect(report.sources[0]!.stamped).toBe(true)
    expect(report.totals.rows_inserted).toBe(expected.total)
    expect(await counts()).toEqual({pages: expected.pages, timeline: expected.timeline, links: expected.links})
    const again = await runCycle(
      engine,
      (await listSources(engine)).filter((s) => s.id === 'vault'),
    )
    expect(again.totals.rows_inserted).toBe(0)
    expect(await counts()).toEqual({pages: expected.pages, timeline: expected.timeline, links: expected.links})
    t.stop()
    t.assertNone()
  }, 180_000)

  it('a disconnect in the middle of a cycle is healed by the next batch', async () => {
    await engine.query('truncate timeline_entries, links')
    let fired = false
    const report = await runCycle(
      engine,
      (await listSources(engine)).filter((s) => s.id === 'vault'),
      {
        onProgress: (p) => {
          if (!fired && p.phase === 'entries' && p.done === 700) {
            fired = true
            void engine.disconnect()
          }
        },
      },
    )
    expect(fired).toBe(true)
    expect(report.status).toBe('complete')
    expect(await counts()).toEqual({pages: expected.pages, timeline: expected.timeline, links: expected.links})
  }, 180_000)
})
