/**
 * How a check assembles its outcome from findings: each `add(level, message, fix)` is one thing
 * the check found. The status is the worst level found; the fix gathers the fix texts and the
 * commands (each command once) of every finding that is not ok — nothing for an ok outcome.
 * Messages and fixes keep the order findings were added, or, with `worstFirst`, put worse
 * findings first (ties keep their order). One builder, so every check words its verdict alike.
 */
import type {CheckOutcome, Fix} from './types.js'

export type Level = 'ok' | 'warn' | 'fail'

const RANK: Record<Level, number> = {ok: 0, warn: 1, fail: 2}

export interface FindingFix {
  /** One sentence: what to do (absent: this finding only adds commands). */
  text?: string
  commands?: readonly string[]
}

interface Finding {
  level: Level
  message: string
  fix?: FindingFix
}

export class Findings {
  private readonly list: Finding[] = []

  constructor(private readonly order: {worstFirst?: boolean} = {}) {}

  add(level: Level, message: string, fix?: FindingFix): this {
    this.list.push({level, message, ...(fix ? {fix} : {})})
    return this
  }

  /** Whether anything but ok was found. */
  get any(): boolean {
    return this.list.some((f) => f.level !== 'ok')
  }

  /** The worst level found (ok when nothing was). */
  get status(): Level {
    return this.list.reduce<Level>((w, f) => (RANK[f.level] > RANK[w] ? f.level : w), 'ok')
  }

  /** The findings' messages, in the builder's order. */
  get messages(): string[] {
    return this.ordered().map((f) => f.message)
  }

  /** The fix of every finding that is not ok: texts joined, commands de-duplicated; undefined when ok. */
  get fix(): Fix | undefined {
    const bad = this.ordered().filter((f) => f.level !== 'ok')
    if (bad.length === 0) return undefined
    return {
      text: bad
        .map((f) => f.fix?.text)
        .filter((t): t is string => t !== undefined)
        .join(' '),
      commands: [...new Set(bad.flatMap((f) => f.fix?.commands ?? []))],
    }
  }

  /** The outcome: status and fix from the findings, `message` and the rest as given (in that field order). */
  outcome(message: string, rest: Omit<CheckOutcome, 'status' | 'message' | 'fix'> = {}): CheckOutcome {
    const fix = this.fix
    return {status: this.status, message, ...rest, ...(fix ? {fix} : {})}
  }

  private ordered(): Finding[] {
    if (!this.order.worstFirst) return this.list
    return this.list
      .map((f, i) => ({f, i}))
      .sort((a, b) => RANK[b.f.level] - RANK[a.f.level] || a.i - b.i)
      .map((x) => x.f)
  }
}
