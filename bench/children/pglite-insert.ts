/**
 * The embedded baseline of the cycle bench: open a PGlite brain made by `gbrain init`
 * (`@electric-sql/pglite` 0.4.3 with `vector` and `pg_trgm`, as the app opens it), add the
 * source `v`, then insert the rows of `rows.json` (bench/benches/cycle-rows.ts) as plain
 * multi-row INSERTs in batches of 500, sequentially, page ids from the pages inserts' RETURNING.
 * `node pglite-insert.js <dataDir> <rows.json>`; prints {"insert_ms", "pages", "timeline",
 * "links", "dup"} (the inserts alone are timed; the counts are checked by the bench).
 */
import {readFileSync} from 'node:fs'
import {PGlite} from '@electric-sql/pglite'
import {vector} from '@electric-sql/pglite/vector'
import {pg_trgm} from '@electric-sql/pglite/contrib/pg_trgm'
import type {VaultRows} from '../benches/cycle-rows.js'

const [dir, rowsFile] = process.argv.slice(2)
if (!dir || !rowsFile) {
  process.stderr.write('usage: pglite-insert.js <dataDir> <rows.json>\n')
  process.exit(64)
}
const rows = JSON.parse(readFileSync(rowsFile, 'utf8')) as VaultRows
const BATCH = 500
const chunks = <T>(xs: readonly T[]): T[][] =>
  Array.from({length: Math.ceil(xs.length / BATCH)}, (_, i) => xs.slice(i * BATCH, (i + 1) * BATCH))
const values = (n: number, width: number, row: (base: number) => string): string =>
  Array.from({length: n}, (_, r) => row(r * width)).join(', ')

const pg = new PGlite(dir, {extensions: {vector, pg_trgm}})
await pg.waitReady
await pg.query(`insert into sources (id, name, local_path) values ('v', 'v', '/bench')`)
const t = performance.now()
const ids = new Map<string, number>()
for (const batch of chunks(rows.pages)) {
  const r = await pg.query<{id: number; slug: string}>(
    `insert into pages (source_id, slug, type, title, content_hash) values ${values(batch.length, 4, (b) => `($${b + 1}, $${b + 2}, 'note', $${b + 3}, $${b + 4})`)} returning id, slug`,
    batch.flatMap((p) => ['v', p.slug, p.title, p.content_hash]),
  )
  for (const x of r.rows) ids.set(x.slug, x.id)
}
for (const batch of chunks(rows.timeline)) {
  await pg.query(
    `insert into timeline_entries (page_id, date, summary) values ${values(batch.length, 3, (b) => `($${b + 1}::int, $${b + 2}::date, $${b + 3})`)}`,
    batch.flatMap((x) => [ids.get(x.slug)!, x.date, x.summary]),
  )
}
for (const batch of chunks(rows.links)) {
  await pg.query(
    `insert into links (from_page_id, to_page_id, link_type, link_source) values ${values(batch.length, 2, (b) => `($${b + 1}::int, $${b + 2}::int, '', 'markdown')`)}`,
    batch.flatMap((l) => [ids.get(l.from_slug)!, ids.get(l.to_slug)!]),
  )
}
const insertMs = performance.now() - t
const c = await pg.query<{pages: number; timeline: number; links: number; dup: number}>(
  `select (select count(*) from pages where source_id = 'v')::int as pages,
          (select count(*) from timeline_entries)::int as timeline,
          (select count(*) from links)::int as links,
          ((select count(*) - count(distinct (page_id, date, summary)) from timeline_entries)
            + (select count(*) - count(distinct (from_page_id, to_page_id)) from links))::int as dup`,
)
await pg.close()
process.stdout.write(`${JSON.stringify({insert_ms: insertMs, ...c.rows[0]})}\n`)
