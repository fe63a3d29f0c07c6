/**
 * Throwaway PgBouncer (1.18 from Debian) in front of a {@link PgCluster} (test-harness.md §5.2).
 *
 * PgBouncer refuses root, so it runs as `postgres` via runuser with `-d` (daemonize). Its config
 * dir is a fresh temp dir chowned to postgres *before* start: a root-owned pre-existing logfile makes
 * the daemon exit 0 without running, so we never create the log ourselves.
 *
 * postgres.js cannot drive the admin console (extended protocol + type fetch), so `admin()` uses psql.
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {pidAlive, register, sleepSync, waitFor} from './cleanup.js'
import type {PgCluster} from './pg-cluster.js'
import {chownToPostgres, freePort, run, runAsPostgres} from './proc.js'

/** Options for {@link startPgBouncer}. */
export interface PgBouncerOptions {
  /** Default 'transaction' (the mode that breaks prepared statements). */
  poolMode?: 'transaction' | 'session'
  /** Default 4. */
  defaultPoolSize?: number
  /** Listen port on 127.0.0.1; default: picked automatically. */
  port?: number
  /** Users allowed in userlist.txt (trust auth still requires listed users). Default ['postgres']. */
  users?: string[]
  /** Extra `[pgbouncer]` settings, e.g. `{ query_wait_timeout: '5' }`; override the defaults. */
  extra?: Record<string, string>
}

/** A running PgBouncer daemon. */
export interface PgBouncer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` — no params added; tests append `?prepare=false` etc. */
  readonly url: string
  readonly port: number
  readonly dir: string
  /** URL for another database (served by the `*` wildcard entry) and user. */
  urlFor(db: string, user?: string): string
  /** Run an admin console command (SHOW POOLS, PAUSE, RESUME, KILL, RECONNECT, SHUTDOWN, SUSPEND…). */
  admin(cmd: string): Promise<string>
  /** Pid of the daemon, from the pidfile (undefined when not running). */
  pid(): number | undefined
  /** Start again after stop()/SHUTDOWN (same port and config). */
  start(): Promise<void>
  /** SIGTERM (immediate shutdown) and wait until the process is gone. */
  stop(): Promise<void>
  /** Log contents. */
  log(): string
  /** stop() + rm -rf the config dir. Idempotent. */
  destroy(): Promise<void>
}

/** Start PgBouncer in front of `cluster` and wait until the admin console answers `SHOW VERSION`. */
export async function startPgBouncer(cluster: PgCluster, opts: PgBouncerOptions = {}): Promise<PgBouncer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gbrain-pgb-'))
  chmodSync(dir, 0o755)
  const ini = path.join(dir, 'pgbouncer.ini')
  const logFile = path.join(dir, 'pgbouncer.log')
  const pidFile = path.join(dir, 'pgbouncer.pid')
  let port = opts.port ?? (await freePort())
  let destroyed = false

  const writeConfig = (): void => {
    const settings: Record<string, string> = {
      listen_addr: '127.0.0.1',
      listen_port: String(port),
      unix_socket_dir: dir,
      auth_type: 'trust',
      auth_file: path.join(dir, 'userlist.txt'),
      admin_users: 'postgres',
      pool_mode: opts.poolMode ?? 'transaction',
      default_pool_size: String(opts.defaultPoolSize ?? 4),
      max_client_conn: '200',
      server_reset_query: '',
      ignore_startup_parameters: 'extra_float_digits,options',
      logfile: logFile,
      pidfile: pidFile,
      server_login_retry: '1',
      ...opts.extra,
    }
    const lines = [
      '[databases]',
      `postgres = host=127.0.0.1 port=${cluster.port} dbname=postgres`,
      // Wildcard: any other database name is forwarded to the same server under that name.
      `* = host=127.0.0.1 port=${cluster.port}`,
      '',
      '[pgbouncer]',
      ...Object.entries(settings).map(([k, v]) => `${k} = ${v}`),
      '',
    ]
    writeFileSync(ini, lines.join('\n'))
    const users = opts.users ?? ['postgres']
    writeFileSync(path.join(dir, 'userlist.txt'), users.map((u) => `"${u.replace(/"/g, '""')}" ""`).join('\n') + '\n')
    for (const f of [dir, ini, path.join(dir, 'userlist.txt')]) chownToPostgres(f)
  }

  const readPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').trim())
      return Number.isInteger(pid) && pid > 0 ? pid : undefined
    } catch {
      return undefined
    }
  }

  const killSync = (): void => {
    const pid = readPid()
    if (pid && pidAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        /* gone */
      }
      for (let i = 0; i < 50 && pidAlive(pid); i++) sleepSync(10)
    }
    rmSync(dir, {recursive: true, force: true})
  }

  const bouncer: PgBouncer = {
    get url() {
      return `postgres://postgres@127.0.0.1:${port}/postgres`
    },
    get port() {
      return port
    },
    dir,
    urlFor(db, user = 'postgres') {
      return `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${encodeURIComponent(db)}`
    },
    async admin(cmd) {
      const {stdout} = await run(
        '/usr/bin/psql',
        ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'pgbouncer', '-Atc', cmd],
        {timeoutMs: 15_000, env: {...process.env, PGCONNECT_TIMEOUT: '5'}},
      )
      return stdout.trim()
    },
    pid: readPid,
    async start() {
      // -d daemonizes: runuser returns when the parent exits; readiness = admin console answers.
      await runAsPostgres('pgbouncer', ['-d', ini], {timeoutMs: 15_000})
      await waitFor(async () => (await bouncer.admin('SHOW VERSION')).includes('PgBouncer'), {
        timeoutMs: 10_000,
        intervalMs: 10,
        what: `pgbouncer admin console on ${port}`,
      })
    },
    async stop() {
      const pid = readPid()
      if (pid === undefined || !pidAlive(pid)) return
      process.kill(pid, 'SIGTERM') // SIGTERM = immediate shutdown (SIGINT would wait for clients)
      await waitFor(() => !pidAlive(pid), {timeoutMs: 5000, intervalMs: 10, what: `pgbouncer ${pid} exit`}).catch(() =>
        process.kill(pid, 'SIGKILL'),
      )
      rmSync(pidFile, {force: true})
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
      await bouncer.stop().catch(() => killSync())
      rmSync(dir, {recursive: true, force: true})
    },
  }
  const unregister = register({
    name: `pgbouncer ${dir}`,
    destroy: () => bouncer.destroy(),
    killSync,
    reap: {pidFile, signal: 'SIGKILL', dir},
  })

  try {
    for (let attempt = 1; ; attempt++) {
      writeConfig()
      try {
        await bouncer.start()
        break
      } catch (e) {
        // Auto-picked port stolen between freePort() and bind: pick another one.
        const busy = /Address already in use|bind/i.test(bouncer.log())
        if (opts.port !== undefined || !busy || attempt >= 3) throw e
        rmSync(logFile, {force: true})
        port = await freePort()
      }
    }
    return bouncer
  } catch (e) {
    const logTail = bouncer.log().slice(-2000)
    await bouncer.destroy().catch(() => undefined)
    throw new Error(`startPgBouncer failed: ${(e as Error).message}\n--- pgbouncer.log ---\n${logTail}`, {cause: e})
  }
}
