/**
 * Small process/port utilities shared by the cluster and pooler helpers.
 * Everything is execFile-based (argv arrays, no shell) so paths and SQL never need shell quoting.
 */
import {execFile, execFileSync} from 'node:child_process'
import {chownSync, existsSync} from 'node:fs'
import path from 'node:path'
import net from 'node:net'

/** Result of {@link run}. */
export interface RunResult {
  stdout: string
  stderr: string
}

/** Error from {@link run}, with the command line and captured output in the message. */
export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`command failed (${code}): ${argv.join(' ')}\n${stderr.trim() || stdout.trim()}`)
    this.name = 'CommandError'
  }
}

/**
 * Run a command without a shell. Rejects with {@link CommandError} on non-zero exit or timeout.
 * `timeoutMs` kills the child (SIGKILL) so a wedged psql/pg_ctl never hangs a test.
 */
export function run(file: string, args: string[], opts: {timeoutMs?: number; env?: NodeJS.ProcessEnv} = {}): Promise<RunResult> {
  const {timeoutMs = 30_000, env} = opts
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {timeout: timeoutMs, killSignal: 'SIGKILL', env: env ?? process.env, maxBuffer: 16 << 20},
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException & {code?: number | string}).code ?? null
          reject(new CommandError([file, ...args], err.killed ? 'killed/timeout' : code, stdout, stderr))
        } else {
          resolve({stdout, stderr})
        }
      },
    )
  })
}

/** Run a command as the `postgres` OS user (initdb, postgres and pgbouncer refuse root). */
export function runAsPostgres(file: string, args: string[], opts: {timeoutMs?: number} = {}): Promise<RunResult> {
  // runuser reports a missing program as "Permission denied": name it instead.
  const found = path.isAbsolute(file)
    ? existsSync(file)
    : [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin'].some((d) => d !== '' && existsSync(path.join(d, file)))
  if (!found) return Promise.reject(new Error(`${file} is not installed: npm test installs it when run as root (scripts/provision.sh)`))
  return run('runuser', ['-u', 'postgres', '--', file, ...args], opts)
}

let pgIds: {uid: number; gid: number} | undefined
/** uid/gid of the `postgres` OS user (cached). */
export function postgresIds(): {uid: number; gid: number} {
  if (!pgIds) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], {encoding: 'utf8'}).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], {encoding: 'utf8'}).trim())
    pgIds = {uid, gid}
  }
  return pgIds
}

/** chown a path to the postgres user. */
export function chownToPostgres(path: string): void {
  const {uid, gid} = postgresIds()
  chownSync(path, uid, gid)
}

/**
 * Pick a free TCP port on 127.0.0.1 by binding port 0 and closing again. There is a small race
 * (another process may grab it before we use it); callers retry their start on a bind failure.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => (port ? resolve(port) : reject(new Error('freePort: no port'))))
    })
  })
}

/** Quote a value as a SQL string literal (standard_conforming_strings=on, the PG ≥ 9.1 default). */
export function sqlLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('sqlLiteral: NUL byte not allowed')
  return `'${value.replace(/'/g, "''")}'`
}
