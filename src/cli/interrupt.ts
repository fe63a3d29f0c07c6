/**
 * Ctrl-C (SIGINT) and SIGTERM for a command that writes. The first signal aborts the work: the
 * statement in flight is cancelled, retries and waits end at once, nothing half-done is kept
 * (every statement is atomic; spooled rows stay in the spool). The command then ends with one
 * line — `gbrain: interrupted; rerun \`gbrain cycle\` to finish — nothing lost` — and the
 * shell's status for that signal (130, 143), not an error. Later signals are ignored: stopping is
 * already under way and takes at most the statement in flight.
 */
import {classify} from '../engine/index.js'
import {AbortedError} from '../shared/errors.js'

export type StopSignal = 'SIGINT' | 'SIGTERM'

/** 128 + the signal's number, as a shell reports a process the signal ended. */
export const SIGNAL_EXIT: Readonly<Record<StopSignal, number>> = {SIGINT: 130, SIGTERM: 143}

export class Interrupt {
  private readonly controller = new AbortController()
  /** The signal that stopped the work, once one arrived. */
  received: StopSignal | undefined

  /** `onSignal` runs once, on the first signal, before the work is aborted. */
  constructor(private readonly onSignal?: (signal: StopSignal) => void) {}

  /** Aborted on the first SIGINT or SIGTERM: pass it to everything the command waits on. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** Listen for SIGINT and SIGTERM (instead of dying on them); returns the way to stop listening. */
  listen(): () => void {
    const onInt = (): void => this.stop('SIGINT')
    const onTerm = (): void => this.stop('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    return () => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
    }
  }

  /** Stop as `signal` would (the signal handlers call this; so can a test). */
  stop(signal: StopSignal): void {
    if (this.received) return
    this.received = signal
    this.onSignal?.(signal)
    this.controller.abort(signal)
  }

  /** Whether `error` is the work ending because of our signal (not a failure of its own). */
  caused(error: unknown): boolean {
    return this.received !== undefined && (error instanceof AbortedError || classify(error).kind === 'aborted')
  }
}

/** What an interrupted command says, as one stderr line and as its `--json` document. */
export function interruptedOutput(signal: StopSignal, rerun: string): {line: string; json: Record<string, unknown>} {
  const message = `${signal === 'SIGINT' ? 'interrupted' : 'stopped by SIGTERM'}; rerun \`${rerun}\` to finish — nothing lost`
  return {
    line: `gbrain: ${message}`,
    json: {schema_version: 2, status: 'interrupted', signal, exit_code: SIGNAL_EXIT[signal], rerun, message},
  }
}
