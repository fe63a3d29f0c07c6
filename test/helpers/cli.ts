/** Run the built `gbrain` binary (bin/run.js) and capture stdout, stderr and the exit code. */
import {spawn, type SpawnOptions} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {register} from './cleanup.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const BIN = path.join(root, 'bin/run.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

export function gbrain(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return capture(process.execPath, [BIN, ...args], {env: cliEnv(env)}, timeoutMs, `gbrain ${args.join(' ')}`)
}

/** The environment every CLI test runs the binary in: no colour, no database URL from the host. */
export function cliEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return {...process.env, NO_COLOR: '1', GBRAIN_DATABASE_URL: '', DATABASE_URL: '', ...env}
}

/** The built binary running as a child: its output so far (to wait for a marker), signals, its end. */
export interface RunningCli {
  pid: number
  stdout(): string
  stderr(): string
  kill(signal: NodeJS.Signals): void
  /** Resolves once the child has exited and its output is read to the end. */
  done: Promise<CliResult>
}

/** Start `gbrain args` (same environment as {@link gbrain}); SIGKILLed by the cleanup registry if left running. */
export function spawnGbrain(args: string[], env: Record<string, string | undefined> = {}): RunningCli {
  const t0 = performance.now()
  const child = spawn(process.execPath, [BIN, ...args], {env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe']})
  const unregister = register({
    name: `gbrain ${args.join(' ')}`,
    destroy: async () => void child.kill('SIGKILL'),
    killSync: () => void child.kill('SIGKILL'),
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code) => {
      unregister()
      resolve({code, stdout, stderr, ms: performance.now() - t0})
    }),
  )
  return {pid: child.pid!, stdout: () => stdout, stderr: () => stderr, kill: (s) => void child.kill(s), done}
}

/** Run a command to completion, bounded: stdout, stderr, exit code and wall time. */
export function capture(cmd: string, argv: string[], options: SpawnOptions, timeoutMs: number, what: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, argv, {...options, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${what} did not exit within ${timeoutMs} ms; stderr: ${stderr}`))
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr, ms: performance.now() - t0})
    })
  })
}
