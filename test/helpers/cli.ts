/** Run the built `gbrain` binary (bin/run.js) and capture stdout, stderr and the exit code. */
import {spawn, type SpawnOptions} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const BIN = path.join(root, 'bin/run.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

export function gbrain(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return capture(process.execPath, [BIN, ...args], {env: {...process.env, NO_COLOR: '1', GBRAIN_DATABASE_URL: '', DATABASE_URL: '', ...env} as NodeJS.ProcessEnv}, timeoutMs, `gbrain ${args.join(' ')}`)
}

/** Run a command to completion, bounded: stdout, stderr, exit code and wall time. */
export function capture(cmd: string, argv: string[], options: SpawnOptions, timeoutMs: number, what: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, argv, {...options, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c))
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
