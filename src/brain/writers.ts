/**
 * The cycle's batch writers. Each is one atomic `INSERT … ON CONFLICT` over rows with natural
 * keys, so a retry after an in-doubt commit, or a replay from the dead-letter spool, never
 * duplicates a row. Rows are plain JSON (they go to the spool as they are) and a batch travels
 * as one JSON text parameter, so the statement text never changes with the batch.
 */
import type {BatchWriter, Executor} from '../engine/index.js'

export interface PageRow {
  source_id: string
  slug: string
  title: string
  content_hash: string
}

export interface TimelineRow {
  source_id: string
  slug: string
  date: string
  summary: string
}

export interface LinkRow {
  source_id: string
  from_slug: string
  to_slug: string
}

/**
 * The batch as one JSON text parameter, read back with `json_to_recordset`: the statement text is
 * the same for every batch and small to parse and plan (~2 ms), where a VALUES list of 4
 * parameters a row took ~7.5 ms to plan and was bound parameter by parameter. A lone UTF-16
 * surrogate (a summary cut mid-pair) is written as U+FFFD, as the driver's UTF-8 encoding of a
 * text parameter does; PostgreSQL's JSON parser would reject its `\udXXX` escape.
 */
export function rowsParam(rows: readonly object[]): string {
  const json = JSON.stringify(rows)
  // JSON.stringify escapes a surrogate only when it is unpaired; an even run of backslashes
  // before it is escaped text, not an escape.
  return json.includes('\\ud') ? json.replace(LONE_SURROGATE_ESCAPE, '$1\ufffd') : json
}

const LONE_SURROGATE_ESCAPE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g

/** The rows of a batch as a relation with typed columns (the statements call it `v`). */
function rowsOf(columns: string): string {
  return `select * from json_to_recordset($1::text::json) as x(${columns})`
}

/** Pages: upsert by (source_id, slug); unchanged content is left alone. */
export const pagesWriter: BatchWriter<PageRow> = {
  target: 'brain.pages',
  async write(db: Executor, rows: readonly PageRow[]): Promise<number> {
    const res = await db.query(PAGES_SQL, [rowsParam(rows)])
    return res.count
  },
}

const PAGES_SQL = `insert into pages (source_id, slug, type, title, content_hash)
       select v.source_id, v.slug, 'note', v.title, v.content_hash
       from (${rowsOf('source_id text, slug text, title text, content_hash text')}) as v
       on conflict (source_id, slug) do update
         set title = excluded.title, content_hash = excluded.content_hash, updated_at = now()
         where pages.content_hash is distinct from excluded.content_hash`

/**
 * Timeline entries and links name their pages by slug. Each statement first ensures those pages
 * exist (a stub titled by its slug, `on conflict do nothing`), so the rows land whatever order
 * batches land in: if the pages batch went to the spool, its replay later fills in the titles.
 * Each distinct slug is looked up once; only those the statement's snapshot does not see are
 * offered for a stub, and their ids come from the CTE's RETURNING (the snapshot cannot see them).
 */
function pagesCte(slugColumns: readonly string[]): string {
  const slugs = slugColumns.map((c) => `select source_id, ${c} as slug from v`).join(' union all ')
  return `wanted as (select distinct source_id, slug from (${slugs}) as s),
       looked as (
         select w.source_id, w.slug, p.id from wanted w
         left join pages p on p.source_id = w.source_id and p.slug = w.slug),
       created as (
         insert into pages (source_id, slug, type, title)
         select source_id, slug, 'note', slug from looked where id is null
         on conflict (source_id, slug) do nothing
         returning id, source_id, slug),
       known as (
         select id, source_id, slug from created
         union all
         select id, source_id, slug from looked where id is not null)`
}

const TIMELINE_SQL = `with v as (${rowsOf('source_id text, slug text, date date, summary text')}),
       ${pagesCte(['slug'])}
       insert into timeline_entries (page_id, date, summary)
       select k.id, v.date, v.summary from v join known k on k.source_id = v.source_id and k.slug = v.slug
       on conflict do nothing`

/** Timeline entries: keyed by (page, date, summary), gbrain's dedup index. */
export const timelineWriter: BatchWriter<TimelineRow> = {
  target: 'brain.timeline',
  async write(db: Executor, rows: readonly TimelineRow[]): Promise<number> {
    const res = await db.query(TIMELINE_SQL, [rowsParam(rows)])
    return res.count
  },
}

const LINKS_SQL = `with v as (${rowsOf('source_id text, from_slug text, to_slug text')}),
       ${pagesCte(['from_slug', 'to_slug'])}
       insert into links (from_page_id, to_page_id, link_type, link_source)
       select f.id, t.id, '', 'markdown'
       from v
       join known f on f.source_id = v.source_id and f.slug = v.from_slug
       join known t on t.source_id = v.source_id and t.slug = v.to_slug
       on conflict do nothing`

/** Links between pages of one source (the cycle only sends links whose target is a note). */
export const linksWriter: BatchWriter<LinkRow> = {
  target: 'brain.links',
  async write(db: Executor, rows: readonly LinkRow[]): Promise<number> {
    const res = await db.query(LINKS_SQL, [rowsParam(rows)])
    return res.count
  },
}

/** Every writer the cycle uses, by target: what `repair --replay` needs to land spooled rows. */
export const BRAIN_WRITERS: ReadonlyMap<string, BatchWriter<unknown>> = new Map<string, BatchWriter<unknown>>(
  [pagesWriter, timelineWriter, linksWriter].map((w) => [w.target, w as BatchWriter<unknown>]),
)

/**
 * The largest batch: 16,382 rows (what kept rows × 4 columns under PostgreSQL's 65534 bind
 * parameters when each value was a parameter; kept as the documented `--batch-size` bound).
 */
export const MAX_BATCH_ROWS = Math.floor(65534 / 4) - 1
