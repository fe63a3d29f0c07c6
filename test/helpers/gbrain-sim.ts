/**
 * Drive test/fixtures/gbrain-sim.mjs, the stand-in for gbrain's own CLI on an embedded brain:
 * make a gbrain-shaped PostgreSQL 17 brain, hold it as `serve` / `sync` do, wait for its stdout
 * markers (never a sleep), read back what it wrote.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {capture} from './cli.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const SIM = path.join(root, 'test/fixtures/gbrain-sim.mjs')

export interface SimSource {
  id: string
  name?: string
  local_path?: string | null
  cycled_hours_ago?: number
  synced_hours_ago?: number
  config?: Record<string, unknown>
}

/** Make a brain the way gbrain makes it (PGlite 0.4.3, vector, pg_trgm, gbrain's tables). */
export async function makeGbrainBrain(dataDir: string, spec: {sources?: SimSource[]; pages?: number} = {}): Promise<void> {
  const r = await capture(
    process.execPath,
    [SIM, 'make', '--data-dir', dataDir, '--spec', JSON.stringify(spec)],
    {},
    90_000,
    'gbrain-sim make',
  )
  if (r.code !== 0) throw new Error(`gbrain-sim make exited ${r.code}: ${r.stderr}`)
}

export interface SimHolder {
  child: ChildProcess
  pid: number
  /** Resolves with the first stdout line matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>
  stdout(): string
  exited: Promise<number | null>
  /** Close stdin (how an agent session ends its `serve`), wait for exit; the rows it reported writing. */
  stop(timeoutMs?: number): Promise<number>
}

/** Start `serve` or `sync` holding the brain; resolves once it says `ready` (or exits). */
export async function startHolder(sub: 'serve' | 'sync', dataDir: string, extra: string[] = []): Promise<SimHolder> {
  const child = spawn(process.execPath, [SIM, sub, '--data-dir', dataDir, ...extra], {stdio: ['pipe', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  const waiters: {re: RegExp; resolve: (l: string) => void}[] = []
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c
    for (const w of [...waiters]) {
      const line = out.split('\n').find((l) => w.re.test(l))
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(line)
      }
    }
  })
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const waitFor = (re: RegExp, timeoutMs = 60_000): Promise<string> => {
    const line = out.split('\n').find((l) => re.test(l))
    if (line !== undefined) return Promise.resolve(line)
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`gbrain-sim ${sub}: no ${re} within ${timeoutMs} ms; stdout ${out} stderr ${err}`)),
        timeoutMs,
      )
      waiters.push({re, resolve: (l) => (clearTimeout(t), resolve(l))})
      void exited.then((code) => {
        clearTimeout(t)
        const l = out.split('\n').find((x) => re.test(x))
        if (l !== undefined) resolve(l)
        else reject(new Error(`gbrain-sim ${sub} exited ${code} before ${re}; stdout ${out} stderr ${err}`))
      })
    })
  }
  const holder: SimHolder = {
    child,
    pid: child.pid!,
    waitFor,
    stdout: () => out,
    exited,
    async stop(timeoutMs = 30_000) {
      child.stdin.end()
      if (sub === 'sync') child.kill('SIGTERM')
      const line = await waitFor(/^rows \d+$/, timeoutMs)
      await exited
      return Number(line.split(' ')[1])
    },
  }
  await waitFor(/^(ready|locked-by) /)
  return holder
}

/** Rows a holder process wrote into sim_writes, read back with gbrain's PGlite (takes the lock). */
export async function simRowsByPid(dataDir: string): Promise<Map<number, number>> {
  const code = `
    const {PGlite} = await import('@electric-sql/pglite')
    const {vector} = await import('@electric-sql/pglite/vector')
    const {pg_trgm} = await import('@electric-sql/pglite/contrib/pg_trgm')
    const pg = new PGlite(process.argv[1], {extensions: {vector, pg_trgm}})
    const r = await pg.query('select pid, count(*)::int as n from sim_writes group by pid')
    await pg.close()
    process.stdout.write(JSON.stringify(r.rows))`
  const r = await capture(process.execPath, ['--input-type=module', '-e', code, dataDir], {cwd: root}, 60_000, 'read sim_writes')
  if (r.code !== 0) throw new Error(`reading sim_writes failed: ${r.stderr}`)
  return new Map((JSON.parse(r.stdout) as {pid: number; n: number}[]).map((x) => [x.pid, x.n]))
}

/** Run SQL against a brain with gbrain's PGlite 0.4.3 (+ extensions), in a child; returns rows. */
export async function gbrainQuery<T = Record<string, unknown>>(dataDir: string, sql: string): Promise<T[]> {
  const code = `
    const {PGlite} = await import('@electric-sql/pglite')
    const {vector} = await import('@electric-sql/pglite/vector')
    const {pg_trgm} = await import('@electric-sql/pglite/contrib/pg_trgm')
    const pg = new PGlite(process.argv[1], {extensions: {vector, pg_trgm}})
    const r = await pg.query(process.argv[2])
    await pg.close()
    process.stdout.write(JSON.stringify(r.rows))`
  const r = await capture(process.execPath, ['--input-type=module', '-e', code, dataDir, sql], {cwd: root}, 60_000, 'gbrain query')
  if (r.code !== 0) throw new Error(`gbrain query failed (${r.code}): ${r.stderr}`)
  return JSON.parse(r.stdout) as T[]
}
