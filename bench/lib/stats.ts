/**
 * Summaries and the interleaved runner. Every comparison in the suite is measured side by side:
 * contenders run in rounds (A B C, A B C, …) after one unrecorded warm-up each, so a noisy
 * neighbour slows every contender of a round alike; figures are medians.
 */

export interface Summary {
  n: number
  median: number
  p90: number
  min: number
  max: number
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b)
  return {n: s.length, median: quantile(s, 0.5), p90: quantile(s, 0.9), min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN}
}

export function median(samples: readonly number[]): number {
  return summarize(samples).median
}

/** One contender of an interleaved comparison: `run` returns the measured figure (ms unless stated). */
export interface Contender<D = unknown> {
  name: string
  run: () => Promise<{value: number; detail?: D}>
}

export interface ContenderResult<D = unknown> {
  name: string
  samples: number[]
  summary: Summary
  /** Detail of the last recorded round (exit code, RSS, counts…). */
  details: D[]
}

export interface InterleaveOptions {
  rounds: number
  /** Unrecorded runs of each contender before round 1 (default 1). */
  warmup?: number
  /** Called after each round (progress on stderr). */
  onRound?: (round: number) => void
}

/**
 * Run the contenders in rounds, in the same order each round. Returns per-contender samples and
 * summaries; `ratioOfMedians(results, a, b)` gives the reported ratio.
 */
export async function interleave<D>(
  contenders: readonly Contender<D>[],
  options: InterleaveOptions,
): Promise<Map<string, ContenderResult<D>>> {
  const results = new Map<string, ContenderResult<D>>()
  for (const c of contenders) results.set(c.name, {name: c.name, samples: [], summary: summarize([]), details: []})
  for (let w = 0; w < (options.warmup ?? 1); w++) for (const c of contenders) await c.run()
  for (let r = 0; r < options.rounds; r++) {
    for (const c of contenders) {
      const {value, detail} = await c.run()
      const res = results.get(c.name)!
      res.samples.push(value)
      if (detail !== undefined) res.details.push(detail)
    }
    options.onRound?.(r + 1)
  }
  for (const res of results.values()) res.summary = summarize(res.samples)
  return results
}

/** Median of contender `a` over median of contender `b`. */
export function ratioOfMedians(results: Map<string, ContenderResult<unknown>>, a: string, b: string): number {
  return results.get(a)!.summary.median / results.get(b)!.summary.median
}

/** Median of the per-round ratios a_i / b_i (robust to drift across rounds). */
export function medianPairRatio(results: Map<string, ContenderResult<unknown>>, a: string, b: string): number {
  const as = results.get(a)!.samples
  const bs = results.get(b)!.samples
  return median(as.map((v, i) => v / bs[i]!))
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000
}
