/**
 * Timing whole processes: wall time from spawn to exit (the cost a user or a monitoring system
 * pays), optional peak RSS through GNU time, bounded by a kill timer. Every child is tracked so
 * that an aborted run kills what it started.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'

const live = new Set<ChildProcess>()

/** Kill every child still running (used by the harness's teardown and exit hook). */
export function killAllChildren(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
  live.clear()
}

export const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
const RSS_MARK = 'BENCH_MAXRSS_KB='

export interface TimedRun {
  /** Wall time spawn → exit, ms. */
  ms: number
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Peak RSS of the command in KiB (GNU time), when asked for and available. */
  maxRssKb?: number
}

export interface TimedOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  timeoutMs?: number
  /** Measure peak RSS through /usr/bin/time (adds the same small fork/exec to every contender). */
  rss?: boolean
  /** Keep at most this many characters of stdout (default 4 MiB); the rest is drained. */
  maxStdout?: number
}

/** Run `file args` and time it. Never rejects for a non-zero exit; rejects on spawn failure or timeout. */
export function timed(file: string, args: readonly string[], options: TimedOptions = {}): Promise<TimedRun> {
  const {timeoutMs = 120_000, maxStdout = 4 << 20} = options
  const wrap = options.rss === true && GNU_TIME !== undefined
  const argv0 = wrap ? GNU_TIME! : file
  const argv = wrap ? ['-f', `${RSS_MARK}%M`, file, ...args] : [...args]
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(argv0, argv, {env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe']})
    live.add(child)
    let stdout = ''
    let stderr = ''
    let exitAt = 0
    let exit: {code: number | null; signal: NodeJS.Signals | null} | undefined
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      if (stdout.length < maxStdout) stdout += c
    })
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      if (stderr.length < 1 << 20) stderr += c
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      live.delete(child)
      reject(new Error(`${file} ${args.join(' ')}: no exit within ${timeoutMs} ms; stderr: ${stderr.slice(-500)}`))
    }, timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      live.delete(child)
      reject(e)
    })
    child.on('exit', (code, signal) => {
      exitAt = performance.now()
      exit = {code, signal}
    })
    child.on('close', () => {
      clearTimeout(timer)
      live.delete(child)
      let maxRssKb: number | undefined
      if (wrap) {
        const at = stderr.lastIndexOf(RSS_MARK)
        if (at >= 0) {
          maxRssKb = Number(
            stderr
              .slice(at + RSS_MARK.length)
              .trim()
              .split(/\s/)[0],
          )
          stderr = stderr.slice(0, at)
        }
        // GNU time reports a non-zero exit of the command as a "Command exited" line; drop it.
        stderr = stderr.replace(/Command (exited with non-zero status|terminated by signal) \d+\n?$/, '')
      }
      resolve({
        ms: (exitAt || performance.now()) - t0,
        code: exit?.code ?? null,
        signal: exit?.signal ?? null,
        stdout,
        stderr,
        ...(maxRssKb !== undefined ? {maxRssKb} : {}),
      })
    })
  })
}

/** Like {@link timed} but rejects unless the exit code is one of `ok` (default [0]). */
export async function mustRun(file: string, args: readonly string[], options: TimedOptions & {ok?: number[]} = {}): Promise<TimedRun> {
  const r = await timed(file, args, options)
  if (r.code === null || !(options.ok ?? [0]).includes(r.code)) {
    throw new Error(`${file} ${args.join(' ')} exited ${r.code ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(-800)}`)
  }
  return r
}

/** First existing executable among `candidates`, or undefined. */
export function which(candidates: readonly string[]): string | undefined {
  const dirs = (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')
  for (const c of candidates) {
    if (c.includes('/')) {
      if (existsSync(c)) return c
      continue
    }
    for (const d of dirs) if (d && existsSync(`${d}/${c}`)) return `${d}/${c}`
  }
  return undefined
}
