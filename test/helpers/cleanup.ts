/**
 * Process-wide registry of everything the harness starts (clusters, poolers, proxies), so that
 * a failing test, a forgotten `afterAll` or an aborted run never leaves a postmaster or pgbouncer
 * daemon behind. Both daemons detach from our process tree, so nothing kills them automatically.
 *
 * - `register()` is called by every `start*` helper; the returned function unregisters (called by
 *   the resource's own `destroy()`).
 * - `destroyAll()` is the async, orderly teardown for `afterAll`.
 * - On `process.on('exit')` (no async work possible there) every still-registered resource gets its
 *   synchronous `killSync()` (signal the daemon, remove its temp dir).
 * - vitest stops fork workers with SIGTERM/SIGKILL, where no 'exit' hook runs (measured: daemons
 *   survived). So resources that declare `reap` are also handed to an out-of-process reaper
 *   (reaper.mjs, one detached child per worker, spawned lazily) which kills them when its stdin
 *   closes, i.e. whenever this process dies, however it dies.
 */

import {spawn, type ChildProcess} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

/** One registered resource. */
export interface Registered {
  /** Human-readable label used in error messages. */
  name: string
  /** Orderly async teardown; must be idempotent. */
  destroy: () => Promise<void>
  /** Synchronous best-effort kill for the `exit` hook; must never throw. */
  killSync?: () => void
  /** For the out-of-process reaper: signal the pid in `pidFile` (first line), then rm -rf `dir`. */
  reap?: {pidFile: string; signal: NodeJS.Signals; dir: string}
}

const registry = new Set<Registered>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const r of registry) {
      try {
        r.killSync?.()
      } catch {
        // best effort: the process is exiting anyway
      }
    }
    registry.clear()
  })
}

let reaper: ChildProcess | undefined
let reaperIds = 0

/** Send one JSON line to the reaper (spawned on first use). Best effort: never throws. */
function toReaper(msg: object): void {
  try {
    if (!reaper) {
      const script = fileURLToPath(new URL('./reaper.mjs', import.meta.url))
      // detached: own process group, so a Ctrl-C to the test run does not kill it before it cleans up.
      reaper = spawn(process.execPath, [script], {detached: true, stdio: ['pipe', 'ignore', 'ignore']})
      reaper.on('error', () => undefined)
      reaper.stdin?.on('error', () => undefined)
      reaper.unref() // neither the child nor its pipe may keep the worker alive
      ;(reaper.stdin as unknown as {unref?: () => void} | null)?.unref?.()
    }
    reaper.stdin?.write(JSON.stringify(msg) + '\n')
  } catch {
    // no reaper: the exit hook and destroyAll remain
  }
}

/** Register a resource; returns an `unregister` function (call it from the resource's destroy). */
export function register(entry: Registered): () => void {
  installExitHook()
  registry.add(entry)
  const id = ++reaperIds
  if (entry.reap) toReaper({op: 'add', id, ...entry.reap})
  return () => {
    registry.delete(entry)
    if (entry.reap) toReaper({op: 'del', id})
  }
}

/**
 * Destroy every registered resource, newest first (a proxy or pooler before the cluster behind it).
 * Errors are collected and rethrown as one AggregateError after everything was attempted.
 */
export async function destroyAll(timeoutMs = 20_000): Promise<void> {
  const entries = [...registry].reverse()
  const errors: unknown[] = []
  for (const r of entries) {
    try {
      await withTimeout(r.destroy(), timeoutMs, `destroy ${r.name}`)
    } catch (e) {
      errors.push(e)
      try {
        r.killSync?.()
      } catch {
        // already reported above
      }
    }
    registry.delete(r)
  }
  if (errors.length > 0) throw new AggregateError(errors, `destroyAll: ${errors.length} failure(s)`)
}

/** Number of resources still registered (tests assert 0 after teardown). */
export function registeredCount(): number {
  return registry.size
}

/** Error thrown by {@link withTimeout}; `what` names the operation that did not settle. */
export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`timeout: ${what} did not settle within ${ms} ms`)
    this.name = 'TimeoutError'
  }
}

/**
 * Race `promise` against a timer. Needed because several postgres.js 3.4.9 paths never settle
 * (frozen socket, FIN during startup, `end()` without timeout). The timer is cleared on settle
 * so it does not keep the process alive.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Sleep helper (only for pacing loops; tests should wait for markers, not sleep). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Poll `predicate` until it returns true (or a truthy promise), or reject with a TimeoutError.
 * Exceptions thrown by the predicate count as "not yet" and the last one is attached as `cause`.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  opts: {timeoutMs?: number; intervalMs?: number; what?: string} = {},
): Promise<void> {
  const {timeoutMs = 10_000, intervalMs = 20, what = 'condition'} = opts
  const deadline = performance.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      if (await predicate()) return
    } catch (e) {
      lastError = e
    }
    if (performance.now() >= deadline) {
      const err = new TimeoutError(`waitFor(${what})`, timeoutMs)
      if (lastError !== undefined) (err as Error & {cause?: unknown}).cause = lastError
      throw err
    }
    await delay(intervalMs)
  }
}

/** Synchronous sleep for the `exit` hook only (blocks the thread). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** True if `pid` exists and is not a zombie (a reparented daemon may linger as a zombie in containers). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..." — state letter after the closing paren.
    const stat = readFileSyncSafe(`/proc/${pid}/stat`)
    const state = stat?.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return true
  }
}

function readFileSyncSafe(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}
