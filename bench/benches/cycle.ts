/**
 * cycle (issue 15 item 3): `gbrain cycle --json` as a whole process (spawn → exit) on a vault
 * whose cycle writes 10 rows a note — 1 page, 6 timeline entries, 3 links — into a fresh Postgres
 * brain, interleaved with the raw batch insert of the same rows by postgres.js (same tables, made
 * by `gbrain init`; same batch size; plain multi-row INSERTs, sequential, page ids from the pages
 * inserts' RETURNING). Target: the cycle ≥ 1/3 of the raw rows/s.
 * Also the embedded engine: the same cycle on a PGlite brain against a raw insert of the same rows
 * by @electric-sql/pglite 0.4.3 in a child (bench/children/pglite-insert.ts); and memory: peak RSS
 * of the Postgres cycle at N and 10·N notes (target: 10× the vault < 10× the memory).
 * Every run's rows are checked: exactly the vault's rows, no duplicates.
 */
import {cpSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import postgres from 'postgres'
import {generateVault} from '../../test/helpers/vault-gen.js'
import type {BenchContext} from '../lib/context.js'
import {timed} from '../lib/proc.js'
import {ms, type BenchResult, type Row} from '../lib/report.js'
import {interleave, median, medianPairRatio, round1, type Contender, type ContenderResult} from '../lib/stats.js'
import {vaultRows, type VaultRows} from './cycle-rows.js'

const BATCH = 500
const ENTRIES = 6
const LINKS = 3

type Sql = postgres.Sql<Record<string, never>>

interface CycleJson {
  status: string
  duration_ms: number
  totals: {rows_sent: number; rows_inserted: number; spooled_rows: number; retries: number}
}

/** What a brain must hold after one cycle of the vault: exactly its rows, each once. */
async function checkBrain(sql: Sql, want: VaultRows, label: string): Promise<void> {
  const [c] = await sql.unsafe<{pages: number; timeline: number; links: number; dup: number}[]>(
    `select (select count(*) from pages where source_id = 'v')::int as pages,
            (select count(*) from timeline_entries)::int as timeline,
            (select count(*) from links)::int as links,
            ((select count(*) - count(distinct (source_id, slug)) from pages)
              + (select count(*) - count(distinct (page_id, date, summary)) from timeline_entries)
              + (select count(*) - count(distinct (from_page_id, to_page_id)) from links))::int as dup`,
  )
  const got = `${c!.pages}/${c!.timeline}/${c!.links}`
  const exp = `${want.pages.length}/${want.timeline.length}/${want.links.length}`
  if (got !== exp || c!.dup !== 0)
    throw new Error(`cycle: ${label} holds pages/timeline/links ${got} (${c!.dup} duplicated), expected ${exp}`)
}

function checkReport(stdout: string, total: number, label: string): CycleJson {
  const r = JSON.parse(stdout) as CycleJson
  if (r.status !== 'complete' || r.totals.rows_sent !== total || r.totals.rows_inserted !== total || r.totals.spooled_rows !== 0)
    throw new Error(
      `cycle: ${label} reported ${r.status}, ${r.totals.rows_sent} sent, ${r.totals.rows_inserted} inserted; expected ${total} each`,
    )
  return r
}

const chunks = <T>(xs: readonly T[]): T[][] =>
  Array.from({length: Math.ceil(xs.length / BATCH)}, (_, i) => xs.slice(i * BATCH, (i + 1) * BATCH))
const values = (rows: number, width: number, row: (base: number) => string): string =>
  Array.from({length: rows}, (_, r) => row(r * width)).join(', ')

/** The raw baseline: plain multi-row INSERTs of the same rows, batch by batch, sequential. */
async function rawInsert(sql: Sql, rows: VaultRows): Promise<void> {
  const ids = new Map<string, number>()
  for (const batch of chunks(rows.pages)) {
    const text = `insert into pages (source_id, slug, type, title, content_hash) values ${values(batch.length, 4, (b) => `($${b + 1}, $${b + 2}, 'note', $${b + 3}, $${b + 4})`)} returning id, slug`
    const got = await sql.unsafe<{id: number; slug: string}[]>(
      text,
      batch.flatMap((p) => ['v', p.slug, p.title, p.content_hash]),
    )
    for (const r of got) ids.set(r.slug, r.id)
  }
  for (const batch of chunks(rows.timeline)) {
    const text = `insert into timeline_entries (page_id, date, summary) values ${values(batch.length, 3, (b) => `($${b + 1}::int, $${b + 2}::date, $${b + 3})`)}`
    await sql.unsafe(
      text,
      batch.flatMap((t) => [ids.get(t.slug)!, t.date, t.summary]),
    )
  }
  for (const batch of chunks(rows.links)) {
    const text = `insert into links (from_page_id, to_page_id, link_type, link_source) values ${values(batch.length, 2, (b) => `($${b + 1}::int, $${b + 2}::int, '', 'markdown')`)}`
    await sql.unsafe(
      text,
      batch.flatMap((l) => [ids.get(l.from_slug)!, ids.get(l.to_slug)!]),
    )
  }
}

const rate = (rows: number, elapsedMs: number): number => rows / (elapsedMs / 1000)
const perSec = (x: number): string => `${Math.round(x).toLocaleString('en')} rows/s`
const mb = (kb: number | undefined): string => (kb === undefined ? 'n/a' : `${Math.round(kb / 1024)} MB`)

/**
 * The rate rows of one engine: the cycle as a whole process against the raw inserts (the target
 * when `met` is not null), and the cycle's own duration_ms against the same.
 */
function rateRows(
  res: Map<string, ContenderResult<unknown>>,
  cycle: string,
  raw: string,
  inside: number,
  engine: string,
  met: boolean | null,
): Row[] {
  const c = res.get(cycle)!.summary.median
  const r = res.get(raw)!.summary.median
  return [
    {
      bench: 'cycle',
      measure: cycle,
      value: perSec(c),
      baseline: raw,
      baselineValue: perSec(r),
      ratio: c / r,
      target: met === null ? 'report' : '≥ 1/3 (0.33×) of the raw rows/s',
      met,
    },
    {
      bench: 'cycle',
      measure: `gbrain cycle, ${engine}, inside the process (the report’s duration_ms)`,
      value: perSec(inside),
      baseline: raw,
      baselineValue: perSec(r),
      ratio: inside / r,
      target: 'report',
      met: null,
    },
  ]
}

export async function cycleBench(ctx: BenchContext): Promise<BenchResult> {
  const t0 = performance.now()
  const notes = ctx.quick ? 200 : 5_000
  const vault = ctx.dir('cycle-vault')
  const exp = generateVault(vault, {files: notes, entries: ENTRIES, links: LINKS, bad: false})
  const rows = await vaultRows(ctx, vault)
  const total = exp.total
  if (rows.pages.length !== exp.pages || rows.timeline.length !== exp.timeline || rows.links.length !== exp.links)
    throw new Error(
      `cycle: the vault reads as ${rows.pages.length}/${rows.timeline.length}/${rows.links.length} rows, generated ${exp.pages}/${exp.timeline}/${exp.links}`,
    )

  const cluster = await ctx.pg()
  const admin = postgres(cluster.url, {max: 1, fetch_types: false, onnotice: () => {}, connection: {application_name: 'bench-admin'}})
  // The tables as `gbrain init` makes them, once: every raw sample starts from a copy.
  await admin.unsafe('create database cycle_tpl')
  await ctx.gbrainOk(['init', '--json'], {GBRAIN_HOME: ctx.dir('cycle-tpl-home'), GBRAIN_DATABASE_URL: cluster.urlFor('cycle_tpl')})
  let k = 0
  const brains: Sql[] = []
  const open = (db: string): Sql => {
    const sql = postgres(cluster.urlFor(db), {
      max: 10,
      prepare: true,
      fetch_types: false,
      onnotice: () => {},
      connection: {application_name: 'bench-raw'},
    })
    brains.push(sql)
    return sql
  }
  const drop = async (sql: Sql, db: string): Promise<void> => {
    await sql.end({timeout: 1})
    await admin.unsafe(`drop database ${db}`)
  }
  type Detail = {inside?: number; rssKb?: number}
  /** One Postgres cycle of `vaultDir` on a fresh brain, checked; wall ms, report and peak RSS. */
  const pgCycle = async (vaultDir: string, want: VaultRows, wantTotal: number, timeoutMs: number) => {
    const db = `cycle_${++k}`
    await admin.unsafe(`create database ${db}`)
    const env = {GBRAIN_HOME: ctx.dir(`cycle-home-${k}`), GBRAIN_DATABASE_URL: cluster.urlFor(db)}
    await ctx.gbrainOk(['init', '--json'], env)
    await ctx.gbrainOk(['sources', 'add', 'v', '--path', vaultDir], env)
    const r = await ctx.gbrain(['cycle', '--json'], env, {rss: true, timeoutMs})
    if (r.code !== 0) throw new Error(`cycle: gbrain cycle exited ${r.code}: ${r.stderr.slice(-400)}`)
    const report = checkReport(r.stdout, wantTotal, db)
    const sql = open(db)
    await checkBrain(sql, want, db)
    await drop(sql, db)
    return {ms: r.ms, report, rssKb: r.maxRssKb}
  }
  const viaCycle: Contender<Detail> = {
    name: 'gbrain cycle --json (whole process), Postgres',
    run: async () => {
      const r = await pgCycle(vault, rows, total, 300_000)
      return {value: rate(total, r.ms), detail: {inside: rate(total, r.report.duration_ms), rssKb: r.rssKb}}
    },
  }
  const viaRaw: Contender<Detail> = {
    name: `raw postgres.js multi-row INSERTs, same rows, batches of ${BATCH}`,
    run: async () => {
      const db = `cycle_raw_${++k}`
      await admin.unsafe(`create database ${db} template cycle_tpl`)
      const sql = open(db)
      await sql.unsafe(`insert into sources (id, name, local_path) values ('v', 'v', $1)`, [vault])
      const t = performance.now()
      await rawInsert(sql, rows)
      const elapsed = performance.now() - t
      await checkBrain(sql, rows, db)
      await drop(sql, db)
      return {value: rate(total, elapsed)}
    },
  }
  try {
    const rounds = ctx.rounds(5, 1)
    const res = await interleave([viaCycle, viaRaw], {rounds, warmup: ctx.warmup, onRound: (r) => ctx.log(`cycle round ${r}/${rounds}`)})
    const C = res.get(viaCycle.name)!
    const R = res.get(viaRaw.name)!
    const inside = median(C.details.map((d) => d.inside!))
    const rssN = median(C.details.flatMap((d) => (d.rssKb === undefined ? [] : [d.rssKb])))

    // Memory: the same cycle on a vault 10× larger (one run).
    const bigVault = ctx.dir('cycle-vault-10x')
    const bigExp = generateVault(bigVault, {files: notes * 10, entries: ENTRIES, links: LINKS, bad: false})
    const bigRows = await vaultRows(ctx, bigVault)
    const big = await pgCycle(bigVault, bigRows, bigExp.total, 900_000)
    const rssRatio = big.rssKb !== undefined && rssN > 0 ? big.rssKb / rssN : Number.NaN

    const lite = await embedded(ctx, vault, rows, total)
    const ratio = C.summary.median / R.summary.median
    const out: Row[] = [
      ...rateRows(res, viaCycle.name, viaRaw.name, inside, 'Postgres', ratio >= 1 / 3),
      {
        bench: 'cycle',
        measure: `gbrain cycle peak RSS, ${(notes * 10).toLocaleString('en')} notes (${bigExp.total.toLocaleString('en')} rows)`,
        value: mb(big.rssKb),
        baseline: `the same at ${notes.toLocaleString('en')} notes (${total.toLocaleString('en')} rows)`,
        baselineValue: mb(rssN),
        ratio: rssRatio,
        target: '< 10× (10× the vault)',
        met: rssRatio < 10,
      },
      ...lite.rows,
    ]
    return {
      name: 'cycle',
      input: `a generated vault of ${notes.toLocaleString('en')} notes in ${Math.ceil(notes / 100)} folders → ${total.toLocaleString('en')} rows (${exp.pages.toLocaleString('en')} pages, ${exp.timeline.toLocaleString('en')} timeline entries, ${exp.links.toLocaleString('en')} links); batches of ${BATCH}; every sample a fresh brain (Postgres: a new database, \`init\` + \`sources add\` untimed; raw: a copy of an \`init\`ed database); ${rounds} interleaved rounds after ${ctx.warmup} warm-up; memory: one cycle of ${(notes * 10).toLocaleString('en')} notes (${bigExp.total.toLocaleString('en')} rows); embedded: ${lite.input}`,
      rows: out,
      data: {
        rounds,
        notes,
        total,
        cycle: {...C.summary, samples: C.samples.map(round1), details: C.details},
        raw: {...R.summary, samples: R.samples.map(round1)},
        pairRatio: medianPairRatio(res, viaCycle.name, viaRaw.name),
        insideRowsPerSec: inside,
        rss: {notes: rssN, tenTimes: big.rssKb, ratio: rssRatio, tenTimesMs: big.ms, tenTimesInsideMs: big.report.duration_ms},
        embedded: lite.data,
      },
      notes: [
        `cycle: ${total.toLocaleString('en')} rows in ${ms((total / C.summary.median) * 1000)} as a whole process (${ms((total / inside) * 1000)} inside it), raw inserts ${ms((total / R.summary.median) * 1000)}; the 10× vault (${bigExp.total.toLocaleString('en')} rows) took ${ms(big.ms)} (${perSec(rate(bigExp.total, big.ms))})`,
        ...lite.notes,
      ],
      durationMs: performance.now() - t0,
    }
  } finally {
    await Promise.all(brains.map((b) => b.end({timeout: 1}).catch(() => {})))
    await admin.end({timeout: 1}).catch(() => {})
  }
}

/** The embedded engine: the cycle on a PGlite brain, and a raw PGlite insert of the same rows. */
async function embedded(
  ctx: BenchContext,
  vault: string,
  rows: VaultRows,
  total: number,
): Promise<{rows: Row[]; input: string; notes: string[]; data: Record<string, unknown>}> {
  // One `init` (seconds on PGlite), copied for every sample.
  const template = ctx.dir('cycle-lite-tpl')
  await ctx.gbrainOk(['init', '--json'], {GBRAIN_HOME: template})
  const rowsFile = path.join(ctx.dir('cycle-lite-rows'), 'rows.json')
  writeFileSync(rowsFile, JSON.stringify(rows))
  let k = 0
  const fresh = (): string => {
    const home = path.join(ctx.tmp, `cycle-lite-${++k}`)
    cpSync(template, home, {recursive: true})
    return home
  }
  const viaCycle: Contender<{inside: number}> = {
    name: 'gbrain cycle --json (whole process), PGlite',
    run: async () => {
      const env = {GBRAIN_HOME: fresh()}
      await ctx.gbrainOk(['sources', 'add', 'v', '--path', vault], env)
      const r = await ctx.gbrain(['cycle', '--json'], env, {timeoutMs: 600_000})
      if (r.code !== 0) throw new Error(`cycle: gbrain cycle (PGlite) exited ${r.code}: ${r.stderr.slice(-400)}`)
      const report = checkReport(r.stdout, total, 'the PGlite brain')
      return {value: rate(total, r.ms), detail: {inside: rate(total, report.duration_ms)}}
    },
  }
  const viaRaw: Contender<{inside: number}> = {
    name: `raw PGlite 0.4.3 multi-row INSERTs, same rows, batches of ${BATCH} (inside the process)`,
    run: async () => {
      const home = fresh()
      const r = await timed(
        process.execPath,
        [ctx.child('children/pglite-insert.js'), path.join(home, '.gbrain', 'brain.pglite'), rowsFile],
        {
          env: ctx.env(),
          timeoutMs: 600_000,
        },
      )
      if (r.code !== 0) throw new Error(`cycle: pglite-insert exited ${r.code}: ${r.stderr.slice(-400)}`)
      const out = JSON.parse(r.stdout) as {insert_ms: number; pages: number; timeline: number; links: number; dup: number}
      if (out.pages !== rows.pages.length || out.timeline !== rows.timeline.length || out.links !== rows.links.length || out.dup !== 0)
        throw new Error(`cycle: pglite-insert left ${out.pages}/${out.timeline}/${out.links} rows (${out.dup} duplicated)`)
      return {value: rate(total, out.insert_ms), detail: {inside: rate(total, out.insert_ms)}}
    },
  }
  const rounds = ctx.rounds(3, 1)
  const res = await interleave([viaCycle, viaRaw], {rounds, warmup: 0, onRound: (r) => ctx.log(`cycle (PGlite) round ${r}/${rounds}`)})
  const C = res.get(viaCycle.name)!
  const R = res.get(viaRaw.name)!
  const inside = median(C.details.map((d) => d.inside))
  return {
    rows: rateRows(res, viaCycle.name, viaRaw.name, inside, 'PGlite', null),
    input: `a copy of one \`init\`ed PGlite home per sample, ${rounds} interleaved rounds, no warm-up`,
    notes: [],
    data: {
      rounds,
      cycle: {...C.summary, samples: C.samples.map(round1)},
      raw: {...R.summary, samples: R.samples.map(round1)},
      insideRowsPerSec: inside,
    },
  }
}
