/**
 * Throwaway PostgreSQL 15 cluster for integration tests (see shared/spec/test-harness.md §5.1).
 *
 * We run as root but initdb/postgres refuse root, so every server binary runs through
 * `runuser -u postgres`. The cluster lives in a fresh mkdtemp dir (chmod 777 so the postgres user
 * can write the log; socket dir chowned to postgres).
 *
 * Server options (listen_addresses=127.0.0.1, port, unix socket dir, fsync=off, max_connections,
 * caller settings) are appended to the cluster's postgresql.conf instead of passed as `pg_ctl -o
 * "-c …"`: same effect, but start/restart/startNoWait need no option string (pg_ctl hands `-o`
 * to /bin/sh, so values would need shell quoting) and a restart cannot silently drop them.
 */
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, appendFileSync, chmodSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {register, pidAlive, sleepSync} from './cleanup.js'
import {probeUntilReady} from './pg-probe.js'
import {chownToPostgres, freePort, run, runAsPostgres, sqlLiteral} from './proc.js'

export {probeReadiness} from './pg-probe.js'

const BIN = '/usr/lib/postgresql/15/bin'
const PSQL = '/usr/bin/psql'

/** Options for {@link startCluster}. */
export interface ClusterOptions {
  /** TCP port on 127.0.0.1; default: a free port picked automatically. */
  port?: number
  /** `max_connections` (default PostgreSQL's 100). */
  maxConnections?: number
  /** Extra postgresql.conf settings, e.g. `{ idle_session_timeout: '300ms' }`. */
  settings?: Record<string, string>
}

/** Shutdown mode for pg_ctl stop/restart. */
export type StopMode = 'fast' | 'immediate'

/** A running (or stopped) throwaway cluster. */
export interface PgCluster {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string
  readonly port: number
  /** Temp dir holding `data/`, `sock/` and `pg.log`. */
  readonly dir: string
  /** Connection URL for another database / user (password optional; trust auth ignores it). */
  urlFor(db: string, user?: string, password?: string): string
  /** `pg_ctl stop -m <mode> -w`. */
  stop(mode: StopMode): Promise<void>
  /** `pg_ctl start -w` (returns once the server accepts connections). */
  start(): Promise<void>
  /** `pg_ctl start -W`: returns at once. `invokedAt`/`returnedAt` are performance.now(). */
  startNoWait(): Promise<{invokedAt: number; returnedAt: number}>
  /** `pg_ctl restart -m <mode> -w`. */
  restart(mode: StopMode): Promise<void>
  /** Run SQL via `psql -Atc` as postgres over TCP; returns trimmed stdout. */
  psql(sql: string, db?: string): Promise<string>
  /** pg_terminate_backend every client backend with this application_name; returns the count. */
  terminateBackends(applicationName: string): Promise<number>
  /** Wait until a raw startup reaches ReadyForQuery; resolves with performance.now() of that moment. */
  waitReady(timeoutMs: number): Promise<number>
  /** Server log contents (useful in failure messages). */
  log(): string
  /** Stop (immediate) if running, then remove the temp dir. Idempotent. */
  destroy(): Promise<void>
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * initdb a fresh cluster into a temp dir and start it (`-w`). Registered with the cleanup registry
 * so it is killed even if the test forgets `destroy()`.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<PgCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gbrain-pg-'))
  chmodSync(dir, 0o777)
  const dataDir = path.join(dir, 'data')
  const sockDir = path.join(dir, 'sock')
  const logFile = path.join(dir, 'pg.log')
  mkdirSync(sockDir)
  chownToPostgres(sockDir)

  const ctl = (args: string[], timeoutMs = 60_000): Promise<unknown> =>
    runAsPostgres(path.join(BIN, 'pg_ctl'), ['-D', dataDir, '-l', logFile, ...args], {timeoutMs})

  let port = opts.port ?? (await freePort())
  let destroyed = false

  // Sync kill for the process 'exit' hook: SIGQUIT = immediate shutdown of the postmaster.
  const killSync = (): void => {
    const pid = postmasterPid(dataDir)
    if (pid && pidAlive(pid)) {
      try {
        process.kill(pid, 'SIGQUIT')
      } catch {
        /* gone */
      }
      for (let i = 0; i < 100 && pidAlive(pid); i++) sleepSync(20)
    }
    rmSync(dir, {recursive: true, force: true})
  }

  const cluster: PgCluster = {
    get url() {
      return `postgres://postgres@127.0.0.1:${port}/postgres`
    },
    get port() {
      return port
    },
    dir,
    urlFor(db, user = 'postgres', password) {
      const auth = encodeURIComponent(user) + (password !== undefined ? `:${encodeURIComponent(password)}` : '')
      return `postgres://${auth}@127.0.0.1:${port}/${encodeURIComponent(db)}`
    },
    async stop(mode) {
      await ctl(['-m', mode, '-w', 'stop'])
    },
    async start() {
      await ctl(['-w', '-t', '30', 'start'])
    },
    async startNoWait() {
      const invokedAt = performance.now()
      await ctl(['-W', 'start'])
      return {invokedAt, returnedAt: performance.now()}
    },
    async restart(mode) {
      await ctl(['-m', mode, '-w', '-t', '30', 'restart'])
    },
    async psql(sql, db = 'postgres') {
      const {stdout} = await run(
        PSQL,
        ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-Atc', sql],
        {timeoutMs: 30_000, env: {...process.env, PGCONNECT_TIMEOUT: '5', PGAPPNAME: 'harness-psql'}},
      )
      return stdout.trim()
    },
    async terminateBackends(applicationName) {
      const out = await cluster.psql(
        `select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity ` +
          `where application_name = ${sqlLiteral(applicationName)} and backend_type = 'client backend'`,
      )
      return Number(out)
    },
    waitReady(timeoutMs) {
      return probeUntilReady(port, {timeoutMs})
    },
    log() {
      try {
        return readFileSync(logFile, 'utf8')
      } catch {
        return ''
      }
    },
    async destroy() {
      if (destroyed) return
      destroyed = true
      unregister()
      if (postmasterPid(dataDir) !== undefined) {
        await ctl(['-m', 'immediate', '-w', 'stop']).catch(() => killSync())
      }
      rmSync(dir, {recursive: true, force: true})
    },
  }
  const unregister = register({
    name: `pg cluster ${dir}`,
    destroy: () => cluster.destroy(),
    killSync,
    reap: {pidFile: path.join(dataDir, 'postmaster.pid'), signal: 'SIGQUIT', dir},
  })

  try {
    await runAsPostgres(path.join(BIN, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], {
      timeoutMs: 60_000,
    })
    const settings: Record<string, string> = {
      listen_addresses: "'127.0.0.1'",
      unix_socket_directories: sqlLiteral(sockDir),
      fsync: 'off',
      ...(opts.maxConnections !== undefined ? {max_connections: String(opts.maxConnections)} : {}),
      ...Object.fromEntries(Object.entries(opts.settings ?? {}).map(([k, v]) => [k, confValue(v)])),
    }
    appendConf(dataDir, settings)
    // An auto-picked port can be stolen between freePort() and bind: retry with a new one.
    for (let attempt = 1; ; attempt++) {
      appendConf(dataDir, {port: String(port)})
      try {
        await cluster.start()
        break
      } catch (e) {
        const busy = /could not (bind|create listen)|already in use/i.test(cluster.log())
        if (opts.port !== undefined || !busy || attempt >= 3) throw e
        port = await freePort()
      }
    }
    return cluster
  } catch (e) {
    const logTail = cluster.log().slice(-2000)
    await cluster.destroy().catch(() => undefined)
    throw new Error(`startCluster failed: ${(e as Error).message}\n--- pg.log ---\n${logTail}`, {cause: e})
  }
}

/** Quote a conf value unless it is a plain number/identifier-ish token. */
function confValue(v: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(v) ? v : sqlLiteral(v)
}

/** Append settings to postgresql.conf (later lines win, so re-appending `port` is fine). */
function appendConf(dataDir: string, settings: Record<string, string>): void {
  const conf = path.join(dataDir, 'postgresql.conf')
  if (!existsSync(conf)) throw new Error(`missing ${conf}`)
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${v}`)
  appendFileSync(conf, `\n# gbrain test harness\n${lines.join('\n')}\n`)
}
