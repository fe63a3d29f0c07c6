/**
 * The cycle's batch writers. Each is one atomic `INSERT … ON CONFLICT` over rows with natural
 * keys, so a retry after an in-doubt commit, or a replay from the dead-letter spool, never
 * duplicates a row. Rows are plain JSON (they go to the spool as they are). Every batch stays
 * under 65534 bind parameters.
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

function valuesList(rowCount: number, casts: readonly string[]): string {
  const width = casts.length
  return Array.from({length: rowCount}, (_, r) => `(${casts.map((c, i) => `$${r * width + i + 1}::${c}`).join(', ')})`).join(', ')
}

/** Pages: upsert by (source_id, slug); unchanged content is left alone. */
export const pagesWriter: BatchWriter<PageRow> = {
  target: 'brain.pages',
  async write(db: Executor, rows: readonly PageRow[]): Promise<number> {
    const params = rows.flatMap((r) => [r.source_id, r.slug, r.title, r.content_hash])
    const res = await db.query(
      `insert into pages (source_id, slug, type, title, content_hash)
       select v.source_id, v.slug, 'note', v.title, v.content_hash
       from (values ${valuesList(rows.length, ['text', 'text', 'text', 'text'])}) as v(source_id, slug, title, content_hash)
       on conflict (source_id, slug) do update
         set title = excluded.title, content_hash = excluded.content_hash, updated_at = now()
         where pages.content_hash is distinct from excluded.content_hash`,
      params,
    )
    return res.count
  },
}

/**
 * Timeline entries and links name their pages by slug. Each statement first ensures those pages
 * exist (a stub titled by its slug, `on conflict do nothing`), so the rows land whatever order
 * batches land in: if the pages batch went to the spool, its replay later fills in the titles.
 * New pages come from the CTE's RETURNING (the statement's snapshot cannot see them), existing
 * ones from the table.
 */
function pagesCte(slugColumns: readonly string[]): string {
  const wanted = slugColumns.map((c) => `select source_id, ${c} as slug from v`).join(' union ')
  return `wanted as (${wanted}),
       created as (
         insert into pages (source_id, slug, type, title)
         select source_id, slug, 'note', slug from wanted
         on conflict (source_id, slug) do nothing
         returning id, source_id, slug),
       known as (
         select id, source_id, slug from created
         union all
         select p.id, p.source_id, p.slug from pages p join wanted w on p.source_id = w.source_id and p.slug = w.slug)`
}

/** Timeline entries: keyed by (page, date, summary), gbrain's dedup index. */
export const timelineWriter: BatchWriter<TimelineRow> = {
  target: 'brain.timeline',
  async write(db: Executor, rows: readonly TimelineRow[]): Promise<number> {
    const params = rows.flatMap((r) => [r.source_id, r.slug, r.date, r.summary])
    const res = await db.query(
      `with v(source_id, slug, date, summary) as (values ${valuesList(rows.length, ['text', 'text', 'date', 'text'])}),
       ${pagesCte(['slug'])}
       insert into timeline_entries (page_id, date, summary)
       select k.id, v.date, v.summary from v join known k on k.source_id = v.source_id and k.slug = v.slug
       on conflict do nothing`,
      params,
    )
    return res.count
  },
}

/** Links between pages of one source (the cycle only sends links whose target is a note). */
export const linksWriter: BatchWriter<LinkRow> = {
  target: 'brain.links',
  async write(db: Executor, rows: readonly LinkRow[]): Promise<number> {
    const params = rows.flatMap((r) => [r.source_id, r.from_slug, r.to_slug])
    const res = await db.query(
      `with v(source_id, from_slug, to_slug) as (values ${valuesList(rows.length, ['text', 'text', 'text'])}),
       ${pagesCte(['from_slug', 'to_slug'])}
       insert into links (from_page_id, to_page_id, link_type, link_source)
       select f.id, t.id, '', 'markdown'
       from v
       join known f on f.source_id = v.source_id and f.slug = v.from_slug
       join known t on t.source_id = v.source_id and t.slug = v.to_slug
       on conflict do nothing`,
      params,
    )
    return res.count
  },
}

/** Every writer the cycle uses, by target: what `repair --replay` needs to land spooled rows. */
export const BRAIN_WRITERS: ReadonlyMap<string, BatchWriter<unknown>> = new Map<string, BatchWriter<unknown>>(
  [pagesWriter, timelineWriter, linksWriter].map((w) => [w.target, w as BatchWriter<unknown>]),
)

/** Rows per batch so that rows × columns stays under the 65534-parameter limit. */
export const MAX_BATCH_ROWS = Math.floor(65534 / 4) - 1
