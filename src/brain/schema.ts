/**
 * The tables this tool reads and writes, compatible with gbrain's: `sources`, `pages`,
 * `timeline_entries`, `links`, `config`. `init` creates only what is missing
 * (CREATE … IF NOT EXISTS); it never drops, alters or rewrites a table gbrain already made.
 * Readers tolerate gbrain versions without our optional columns (e.g. `archived`).
 */
import type {Engine} from '../engine/index.js'

const SCHEMA_STATEMENTS: readonly string[] = [
  `create table if not exists sources (
     id text primary key,
     name text not null unique,
     local_path text,
     last_commit text,
     last_sync_at timestamptz,
     config jsonb not null default '{}'::jsonb,
     chunker_version text,
     archived boolean not null default false,
     created_at timestamptz not null default now()
   )`,
  `insert into sources (id, name, config) values ('default', 'default', '{"federated": true}'::jsonb)
     on conflict do nothing`,
  `create table if not exists pages (
     id serial primary key,
     source_id text not null default 'default' references sources(id) on delete cascade,
     slug text not null,
     type text not null,
     page_kind text not null default 'markdown',
     title text not null,
     compiled_truth text not null default '',
     timeline text not null default '',
     frontmatter jsonb not null default '{}',
     content_hash text,
     created_at timestamptz not null default now(),
     updated_at timestamptz not null default now(),
     constraint pages_source_slug_key unique (source_id, slug)
   )`,
  `create table if not exists timeline_entries (
     id serial primary key,
     page_id integer not null references pages(id) on delete cascade,
     date date not null,
     source text not null default '',
     summary text not null,
     detail text not null default '',
     created_at timestamptz not null default now()
   )`,
  `create unique index if not exists idx_timeline_dedup on timeline_entries(page_id, date, summary)`,
  `create table if not exists links (
     id serial primary key,
     from_page_id integer not null references pages(id) on delete cascade,
     to_page_id integer not null references pages(id) on delete cascade,
     link_type text not null default '',
     context text not null default '',
     link_source text,
     origin_page_id integer references pages(id) on delete set null,
     origin_field text,
     resolution_type text,
     created_at timestamptz not null default now(),
     constraint links_from_to_type_source_origin_unique
       unique nulls not distinct (from_page_id, to_page_id, link_type, link_source, origin_page_id)
   )`,
  `create table if not exists config (key text primary key, value text not null)`,
  `insert into config (key, value) values ('version', '1') on conflict do nothing`,
]

export interface SchemaReport {
  created: string[]
  existing: string[]
}

const TABLES = ['sources', 'pages', 'timeline_entries', 'links', 'config'] as const

/** Create what is missing; report which tables were created and which already existed. */
export async function ensureSchema(engine: Engine, signal?: AbortSignal): Promise<SchemaReport> {
  const before = await existingTables(engine, signal)
  for (const statement of SCHEMA_STATEMENTS) {
    await engine.run('init.schema', (db) => db.query(statement), {signal})
  }
  return {created: TABLES.filter((t) => !before.has(t)), existing: TABLES.filter((t) => before.has(t))}
}

async function existingTables(engine: Engine, signal?: AbortSignal): Promise<Set<string>> {
  const r = await engine.run(
    'schema.tables',
    // Array parameters are not portable across our two drivers (fetch_types is off): use a list.
    (db) =>
      db.query<{name: string}>(
        `select table_name as name from information_schema.tables where table_schema = current_schema() and table_name in (${TABLES.map((_, i) => `$${i + 1}`).join(', ')})`,
        [...TABLES],
      ),
    {signal},
  )
  return new Set(r.rows.map((x) => x.name))
}
