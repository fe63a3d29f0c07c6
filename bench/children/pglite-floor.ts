/**
 * The embedded floor: open an existing PGlite data dir, `SELECT 1`, close — nothing else.
 * `node pglite-floor.js [--extensions] <dataDir>`; prints
 * {"extensions", "import_ms", "open_ms", "query_ms", "close_ms"} on stdout.
 *
 * The data dir must be a PostgreSQL 17 one (what `gbrain init` makes): `@electric-sql/pglite`
 * 0.4.3 embeds PostgreSQL 17 and opens only that major, so the script checks `PG_VERSION` first
 * and exits 65 with a clear message for any other major (PGlite itself would only say "failed to
 * initialize properly").
 *
 * `--extensions` loads `vector` and `pg_trgm` with the instance, exactly as the app's PG 17 build
 * does (src/engine/pglite/builds.ts), so the floor pays what the doctor must pay. Their modules
 * are imported only under the flag (timed as import_ms); the bare floor is unchanged.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {PGlite, type Extensions} from '@electric-sql/pglite'

const EXPECTED_MAJOR = '17'

const args = process.argv.slice(2)
const withExtensions = args.includes('--extensions')
const rest = args.filter((a) => a !== '--extensions')
const dir = rest[0]
if (!dir || rest.length !== 1 || rest[0]!.startsWith('--')) {
  process.stderr.write('usage: pglite-floor.js [--extensions] <dataDir>\n')
  process.exit(64)
}

let major: string
try {
  major = readFileSync(path.join(dir, 'PG_VERSION'), 'utf8').trim()
} catch (e) {
  process.stderr.write(`pglite-floor: cannot read ${path.join(dir, 'PG_VERSION')}: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(65)
}
if (major !== EXPECTED_MAJOR) {
  process.stderr.write(
    `pglite-floor: ${dir} is a PostgreSQL ${JSON.stringify(major)} data dir; this floor opens it with @electric-sql/pglite 0.4.3, which embeds PostgreSQL ${EXPECTED_MAJOR} (the major gbrain init makes)\n`,
  )
  process.exit(65)
}

const tImport = performance.now()
let extensions: Extensions | undefined
if (withExtensions) {
  const [{vector}, {pg_trgm}] = await Promise.all([import('@electric-sql/pglite/vector'), import('@electric-sql/pglite/contrib/pg_trgm')])
  extensions = {vector, pg_trgm}
}
const t0 = performance.now()
const pg = extensions ? new PGlite(dir, {extensions}) : new PGlite(dir)
await pg.waitReady
const t1 = performance.now()
const r = await pg.query<{one: number}>('select 1 as one')
const t2 = performance.now()
await pg.close()
const t3 = performance.now()
if (r.rows[0]?.one !== 1) throw new Error('SELECT 1 did not return 1')
process.stdout.write(
  `${JSON.stringify({extensions: extensions ? Object.keys(extensions) : [], import_ms: t0 - tImport, open_ms: t1 - t0, query_ms: t2 - t1, close_ms: t3 - t2})}\n`,
)
