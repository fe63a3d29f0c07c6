/**
 * Live process state: a long-running engine user publishes `<home>/run/engine-<pid>.json`
 * (0600, written atomically) on every state change and as a heartbeat, and removes it on clean
 * exit. SIGUSR2 makes it `reconnect({force: true})` and record the outcome — this is how
 * `repair --reconnect` heals a live process without restarting it.
 */
import {safeInterval, type SafeTimer} from '../shared/timer.js'
import {promises as fs} from 'node:fs'
import path from 'node:path'
import {ensurePrivateDir, writeFileAtomic} from '../shared/fs-atomic.js'
import {redactForStorage, summarizeError} from '../shared/redact.js'
import {pidAlive} from '../shared/pid.js'
import type {Engine, HealthSnapshot} from './types.js'
import {safeLine} from '../shared/safe-text.js'
import {readSmallFileSync} from '../shared/fs-read.js'
import {myUid} from '../shared/trust.js'

export const STATE_FILE_PREFIX = 'engine-'

export interface SignalRecord {
  signal: 'SIGUSR2'
  received_at: string
  outcome: 'in_progress' | 'ok' | 'failed'
  finished_at?: string
  error?: string
  /** Engine generation after the reconnect (proves a new pool was swapped in). */
  generation?: number
}

export interface EngineProcessState {
  version: 1
  pid: number
  /** e.g. `gbrain cycle --watch` — human label. */
  command: string
  /** process.argv, redacted; `repair` matches it against /proc/<pid>/cmdline before signalling. */
  argv: string[]
  started_at: string
  heartbeat_at: string
  health: HealthSnapshot
  last_signal?: SignalRecord
}

export interface PublisherOptions {
  runDir: string
  command: string
  heartbeatMs?: number
  /** Install the SIGUSR2 handler (default true). */
  handleSignal?: boolean
  /** Where a failed write is reported, one line (default: stderr). */
  onError?: (line: string) => void
}

export class ProcessStatePublisher {
  readonly file: string
  private readonly startedAt = new Date().toISOString()
  private timer: SafeTimer | null = null
  private unsubscribe: (() => void) | null = null
  private lastSignal: SignalRecord | undefined
  private writing: Promise<void> = Promise.resolve()
  private stopped = false
  /** A failing disk is reported once, not on every heartbeat, until a write succeeds again. */
  private failing = false
  private readonly onSignal = (): void => {
    void this.handleReconnectSignal()
  }

  constructor(
    private readonly engine: Engine,
    private readonly options: PublisherOptions,
  ) {
    this.file = path.join(options.runDir, `${STATE_FILE_PREFIX}${process.pid}.json`)
  }

  async start(): Promise<void> {
    await ensurePrivateDir(this.options.runDir)
    this.unsubscribe = this.engine.onChange(() => void this.publish())
    if (this.options.handleSignal !== false) process.on('SIGUSR2', this.onSignal)
    this.timer = safeInterval(() => void this.publish(), this.options.heartbeatMs ?? 5000).unref()
    await this.publish()
  }

  /** Serialise writes so the file always holds the latest state. */
  publish(): Promise<void> {
    if (this.stopped) return this.writing
    const state: EngineProcessState = {
      version: 1,
      pid: process.pid,
      command: redactForStorage(this.options.command),
      argv: process.argv.map((a) => redactForStorage(a)),
      started_at: this.startedAt,
      heartbeat_at: new Date().toISOString(),
      health: this.engine.health(),
      ...(this.lastSignal ? {last_signal: this.lastSignal} : {}),
    }
    this.writing = this.writing
      .then(async () => {
        if (this.stopped) return
        await writeFileAtomic(this.file, JSON.stringify(state, null, 2) + '\n', {fsync: false})
        this.failing = false
      })
      .catch((e: unknown) => {
        if (this.failing) return
        this.failing = true
        const report = this.options.onError ?? ((line: string) => void process.stderr.write(`${safeLine(line)}\n`))
        report(`gbrain: could not write process state ${this.file}: ${summarizeError(e)}`)
      })
    return this.writing
  }

  async handleReconnectSignal(): Promise<void> {
    this.lastSignal = {signal: 'SIGUSR2', received_at: new Date().toISOString(), outcome: 'in_progress'}
    await this.publish()
    try {
      await this.engine.reconnect({force: true})
      this.lastSignal = {
        ...this.lastSignal,
        outcome: 'ok',
        finished_at: new Date().toISOString(),
        generation: this.engine.health().generation,
      }
    } catch (e) {
      this.lastSignal = {...this.lastSignal, outcome: 'failed', finished_at: new Date().toISOString(), error: summarizeError(e)}
    }
    await this.publish()
  }

  /** Stop publishing and remove the file (clean exit). */
  async stop(): Promise<void> {
    this.timer?.clear()
    this.timer = null
    this.unsubscribe?.()
    process.off('SIGUSR2', this.onSignal)
    this.stopped = true
    await this.writing
    await fs.rm(this.file, {force: true})
  }
}

export interface ReadProcessState {
  file: string
  pid: number
  alive: boolean
  state?: EngineProcessState
  error?: string
  /** The file is a symlink, not a regular file, or another user's: never acted on. */
  untrusted?: true
}

/** A state file holds argv and a health snapshot: far below this. */
export const STATE_FILE_MAX_BYTES = 1024 * 1024

/** Every state file under runDir, parsed, with whether its pid is alive. A missing dir is empty. */
export async function readProcessStates(runDir: string, uid = myUid()): Promise<ReadProcessState[]> {
  let names: string[]
  try {
    names = await fs.readdir(runDir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  const out: ReadProcessState[] = []
  for (const name of names.sort()) {
    const m = /^engine-(\d+)\.json$/.exec(name)
    if (!m) continue
    const pid = Number(m[1])
    const file = path.join(runDir, name)
    try {
      // Bounded, never through a symlink or a FIFO, and only a file this user owns: another
      // user's file here is not a state file of ours, whatever it says.
      const state = JSON.parse(readSmallFileSync(file, STATE_FILE_MAX_BYTES, {ownerUid: uid})) as EngineProcessState
      out.push({file, pid, alive: pidAlive(pid), state})
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      const untrusted = code === 'EOWNER' || code === 'ELOOP' || code === 'ENOTREG'
      out.push({
        file,
        pid,
        alive: pidAlive(pid),
        error: untrusted ? `not trusted: ${code === 'ELOOP' ? `${file} is a symlink` : (e as Error).message}` : summarizeError(e),
        ...(untrusted ? {untrusted: true} : {}),
      })
    }
  }
  return out
}
