/**
 * The `sources` table: add, list, and the one query that reads every source for the cycle and
 * the doctor. `archived` is read through to_jsonb so a gbrain table without that column works.
 */
import type {Engine} from '../engine/index.js'

export interface SourceRow {
  id: string
  name: string
  local_path: string | null
  last_sync_at: string | null
  /** The raw `config` value: usually an object, but gbrain data may hold anything. */
  config: unknown
  archived: boolean
  created_at: string | null
}

const SOURCE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/

/** The source gbrain makes in every brain for pages with no source of their own; it has no local path. */
export const INTERNAL_SOURCE_ID = 'default'

/** Whether a person's listing leaves the source out without `--all`: gbrain's internal `default`, unless it was given a local path. */
export function isHiddenSource(s: SourceRow): boolean {
  return s.id === INTERNAL_SOURCE_ID && (s.local_path === null || s.local_path === '')
}

/** The stored `last_full_cycle_at` as text: `never` when there is none. */
export function lastCycle(s: SourceRow): string {
  const c = s.config
  const v = c && typeof c === 'object' && !Array.isArray(c) ? (c as Record<string, unknown>).last_full_cycle_at : undefined
  return typeof v === 'string' ? v : v === undefined || v === null ? 'never' : JSON.stringify(v)
}

class SourceError extends Error {
  readonly code = 'SOURCE_INVALID'
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message)
    this.name = 'SourceError'
  }
}

/**
 * The sources a cycle works on: the one whose id is `id` (none when there is no such source),
 * else every source with a local path that is not archived.
 */
export function cycleSources(sources: readonly SourceRow[], id?: string): SourceRow[] {
  return id !== undefined ? sources.filter((s) => s.id === id) : sources.filter((s) => s.local_path !== null && !s.archived)
}

/** Every source in one query (never one per source). */
export async function listSources(engine: Engine, signal?: AbortSignal): Promise<SourceRow[]> {
  const r = await engine.run(
    'sources.list',
    (db) =>
      db.query<Record<string, unknown>>(
        `select s.id, s.name, s.local_path,
                to_char(s.last_sync_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as last_sync_at,
                s.config,
                coalesce((to_jsonb(s) ->> 'archived')::boolean, false) as archived,
                to_char(s.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
         from sources s order by s.id`,
        [],
        {signal},
      ),
    {signal},
  )
  return r.rows.map((row) => {
    // A text column: as String() gives it, null when absent.
    const localPath: {toString(): string} | null = row.local_path ?? null
    return {
      id: String(row.id),
      name: String(row.name),
      local_path: localPath === null ? null : String(localPath),
      last_sync_at: (row.last_sync_at as string | null) ?? null,
      config: typeof row.config === 'string' ? tryJson(row.config) : row.config,
      archived: row.archived === true,
      created_at: (row.created_at as string | null) ?? null,
    }
  })
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export interface AddSourceResult {
  created: boolean
  source: SourceRow
}

/**
 * Add a source, or update its path and name if it exists (idempotent). Its config JSON is kept.
 */
export async function addSource(engine: Engine, input: {id: string; name?: string; localPath: string}): Promise<AddSourceResult> {
  if (!SOURCE_ID_PATTERN.test(input.id)) {
    throw new SourceError(
      `source id ${JSON.stringify(input.id)} is not valid`,
      'use 1–32 characters of a-z, 0-9 and -, starting with a letter or digit',
    )
  }
  const name = input.name ?? input.id
  const r = await engine.run('sources.add', (db) =>
    db.query<{inserted: boolean}>(
      `insert into sources (id, name, local_path) values ($1, $2, $3)
       on conflict (id) do update set local_path = excluded.local_path, name = excluded.name
       returning (xmax = 0) as inserted`,
      [input.id, name, input.localPath],
    ),
  )
  const all = await listSources(engine)
  const source = all.find((s) => s.id === input.id)
  if (!source) throw new Error(`source ${input.id} vanished after insert`)
  return {created: r.rows[0]?.inserted === true, source}
}

/** Stamp a finished full cycle: an atomic JSONB merge, through the retried path. */
export async function stampCycle(engine: Engine, sourceId: string, at: Date, signal?: AbortSignal): Promise<void> {
  await engine.run(
    'cycle.stamp',
    (db) =>
      db.query(
        `update sources
            set last_sync_at = $2::timestamptz,
                config = (case when jsonb_typeof(config) = 'object' then config else '{}'::jsonb end)
                         || jsonb_build_object('last_full_cycle_at', $3::text)
          where id = $1`,
        [sourceId, at.toISOString(), at.toISOString()],
      ),
    {signal},
  )
}
