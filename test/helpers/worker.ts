/**
 * Runs test/fixtures/engine-worker.mjs (the built engine in a real child process) and lets a test
 * wait for its `MARK` lines. Requires `npm run build` (npm test builds first).
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {register} from './cleanup.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const script = path.join(root, 'test/fixtures/engine-worker.mjs')

export interface Mark {
  word: string
  data: Record<string, unknown>
  at: number
}

export interface Worker {
  child: ChildProcess
  marks: Mark[]
  stderr: () => string
  /** Resolves with the first mark (already seen or future) matching the predicate. */
  waitMark(pred: (m: Mark) => boolean, timeoutMs: number, what: string): Promise<Mark>
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null; at: number}>
  /** Let a worker held by WORKER_HOLD_AT_WRITE go on (one line on its stdin). */
  release(): void
}

export function startWorker(env: Record<string, string>): Worker {
  if (!existsSync(path.join(root, 'dist/engine/index.js'))) throw new Error('dist/ is missing: run `npm run build` first')
  const child = spawn(process.execPath, [script], {env: {...process.env, ...env}, stdio: ['pipe', 'pipe', 'pipe']})
  child.stdin.on('error', () => undefined) // a worker that already exited: nothing to release
  const unregister = register({
    name: `worker ${child.pid}`,
    destroy: async () => void child.kill('SIGKILL'),
    killSync: () => void child.kill('SIGKILL'),
  })
  const marks: Mark[] = []
  const waiters: {pred: (m: Mark) => boolean; resolve: (m: Mark) => void}[] = []
  let err = ''
  let buf = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      const m = /^MARK (\S+) (.*)$/.exec(line)
      if (!m) continue
      const mark = {word: m[1]!, data: JSON.parse(m[2]!) as Record<string, unknown>, at: performance.now()}
      marks.push(mark)
      for (const w of [...waiters]) {
        if (w.pred(mark)) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(mark)
        }
      }
    }
  })
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c))
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null; at: number}>((resolve) =>
    child.on('exit', (code, signal) => {
      unregister()
      resolve({code, signal, at: performance.now()})
    }),
  )
  return {
    child,
    marks,
    stderr: () => err,
    exited,
    release() {
      child.stdin.write('go\n')
    },
    waitMark(pred, timeoutMs, what) {
      const seen = marks.find(pred)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${err.slice(-2000)}`)),
          timeoutMs,
        )
        waiters.push({pred, resolve: (m) => (clearTimeout(timer), resolve(m))})
        void exited.then(() => {
          clearTimeout(timer)
          const late = marks.find(pred)
          if (late) resolve(late)
          else reject(new Error(`worker exited before ${what}; stderr: ${err.slice(-2000)}`))
        })
      })
    },
  }
}
