/**
 * The progress line of long work (cycle, replay) on stderr.
 *
 * On a terminal: one line redrawn in place at most every 100 ms, redrawn at once when something
 * matters more than the rate (the database went away, a wait), never wider than the terminal,
 * erased when the work ends. Piped (a log): a few stable lines only — a task's start line, the
 * database going away and coming back (once each), a final line — never one line per item.
 */
import type {EngineEvent} from '../engine/index.js'
import {systemClock, type Clock} from '../shared/clock.js'
import {countOf, type ProgressCounts} from '../shared/counts.js'
import {engineNote, fitWidth, formatFinished, formatProgress, type ProgressFrame} from '../render/progress.js'
import {humanText, SHOWN_CHARS} from '../render/text.js'
import {decideUnicode} from '../render/terminal.js'

/** The part of a stream the writer uses (process.stderr; a fake in tests). */
export interface ProgressStream {
  isTTY?: boolean
  columns?: number
  write(chunk: string): unknown
}

export interface ProgressWriterOptions {
  stream?: ProgressStream
  clock?: Clock
  /** UTF-8 terminal (default: decided from the locale, as every human output is). */
  unicode?: boolean
  /** Least time between two redraws of the terminal line (default 100 ms: ten a second). */
  redrawMs?: number
}

/** Carriage return, then erase the line: the cursor is back at column 0 of an empty line. */
const ERASE = '\r\u001b[2K'
/** The width when the stream does not say (not a terminal, or a pty without a size). */
const FALLBACK_COLUMNS = 80

export class ProgressWriter {
  private readonly stream: ProgressStream
  private readonly clock: Clock
  private readonly unicode: boolean
  private readonly redrawMs: number
  private frame: ProgressFrame | undefined
  private note: string | undefined
  /** The kind of trouble a log was last told about (told once per kind until it is over). */
  private loggedTrouble: string | undefined
  private waitText: string | undefined
  /** A partial line is on the terminal. */
  private shown = false
  private lastDraw = -Infinity

  constructor(options: ProgressWriterOptions = {}) {
    this.stream = options.stream ?? process.stderr
    this.clock = options.clock ?? systemClock
    this.unicode = options.unicode ?? decideUnicode(process.env)
    this.redrawMs = options.redrawMs ?? 100
  }

  /** Whether lines are redrawn in place (stderr is a terminal). */
  get tty(): boolean {
    return this.stream.isTTY === true
  }

  /**
   * Where the task stands. A new label begins a new task: its clock starts and a log gets a start
   * line (`gbrain: notes: pass 1/2 (pages), 300 files`). A terminal is redrawn at most every
   * `redrawMs`.
   */
  update(counts: ProgressCounts): void {
    const now = this.clock.now()
    if (this.frame?.label !== counts.label) {
      this.frame = {...counts, startedAt: now}
      if (!this.tty) this.log(`${counts.label}${counts.total === undefined ? '' : `, ${countOf(counts.total, counts.unit)}`}`)
      this.draw(true)
      return
    }
    this.frame = {...this.frame, ...counts}
    this.draw(false)
  }

  /**
   * The task ended: the terminal line is erased. A log gets `log` when it is a line, or with
   * `true` the task's own final line (`gbrain: replay 1,639/1,639 entries, 3,278 rows in 4.1s (400 entries/s)`).
   */
  end(options: {log?: string | true} = {}): void {
    const final = options.log === true ? (this.frame ? formatFinished(this.frame, this.clock.now()) : undefined) : options.log
    this.frame = undefined
    if (!this.tty && final !== undefined) this.log(final)
    this.erase()
  }

  /**
   * An engine event: the database went away (calls retrying, batches spooling) or is back. The
   * terminal says so at once; a log is told once when the trouble starts and once when it ends.
   */
  engineEvent(event: EngineEvent): void {
    const text = engineNote(event)
    if (text === undefined) {
      if (this.loggedTrouble !== undefined && !this.tty) this.log('the database answers again; continuing')
      this.loggedTrouble = undefined
      this.note = undefined
    } else {
      this.note = text
      if (!this.tty && this.loggedTrouble !== event.type) this.log(text)
      this.loggedTrouble = event.type
    }
    this.draw(true)
  }

  /**
   * Waiting for something (the embedded brain to open, the current statement after Ctrl-C): the
   * terminal says so at once, in place. A log gets no line for it: the waits that matter there
   * have their own (another process's lock, retry backoffs in the retrying line), and a usage
   * error found after the brain opened stays one line. Returns the end of the wait.
   */
  wait(what: string): () => void {
    const text = `waiting for ${what}…`
    this.waitText = text
    this.draw(true)
    return () => {
      if (this.waitText !== text) return
      this.waitText = undefined
      if (this.frame) this.draw(true)
      else this.erase()
    }
  }

  /** A whole line (a notice, a warning) above the progress line, which is drawn again below it. */
  notice(line: string): void {
    const text = humanText(line)
    if (this.tty) {
      this.stream.write(`${ERASE}${text}\n`)
      this.shown = false
      this.draw(true)
    } else {
      this.stream.write(`${text}\n`)
    }
  }

  /** Erase the terminal line (before other output); the task, if any, goes on. */
  erase(): void {
    if (!this.shown) return
    this.stream.write(ERASE)
    this.shown = false
  }

  /** The line as the terminal shows it now, fitted to its width (read each time: it may be resized). */
  private current(): string | undefined {
    const width = Math.max(1, (this.stream.columns || FALLBACK_COLUMNS) - 1)
    const options = {width, unicode: this.unicode}
    const note = this.waitText ?? this.note
    if (this.frame) return formatProgress({...this.frame, ...(note ? {note} : {})}, this.clock.now(), options)
    return note === undefined ? undefined : fitWidth(note, width, this.unicode)
  }

  private draw(force: boolean): void {
    if (!this.tty) return
    const now = this.clock.now()
    if (!force && now - this.lastDraw < this.redrawMs) return
    const line = this.current()
    if (line === undefined) return this.erase()
    this.stream.write(`${ERASE}${line}`)
    this.shown = true
    this.lastDraw = now
  }

  /** One stable line for a log: `gbrain: <text>`, as long as a data value may be shown. */
  private log(text: string): void {
    this.stream.write(`${fitWidth(`gbrain: ${text}`, SHOWN_CHARS, this.unicode)}\n`)
  }
}
