/**
 * The embedded floor: open an existing PGlite data dir, `SELECT 1`, close — nothing else.
 * `node pglite-floor.js <dataDir>`; prints {"open_ms", "query_ms", "close_ms"} on stdout.
 */
import {PGlite} from '@electric-sql/pglite'

const dir = process.argv[2]
if (!dir) {
  process.stderr.write('usage: pglite-floor.js <dataDir>\n')
  process.exit(64)
}
const t0 = performance.now()
const pg = new PGlite(dir)
await pg.waitReady
const t1 = performance.now()
const r = await pg.query<{one: number}>('select 1 as one')
const t2 = performance.now()
await pg.close()
const t3 = performance.now()
if (r.rows[0]?.one !== 1) throw new Error('SELECT 1 did not return 1')
process.stdout.write(`${JSON.stringify({open_ms: t1 - t0, query_ms: t2 - t1, close_ms: t3 - t2})}\n`)
