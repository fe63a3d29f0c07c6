/**
 * A damaged acknowledgements file is a warning of its own, `doctor_baselines`, present only when
 * something is wrong with the file: never a crash, never ignored silently. The entries that could
 * be read still apply; the run says which could not and why.
 */
import type {BaselinesRead} from '../baselines/file.js'
import {shellQuote} from '../shared/shell-quote.js'
import type {CheckResult} from './types.js'

export const BASELINES_CHECK = 'doctor_baselines'

/** At most this many problems are named (the rest counted). */
const NAMED = 5

export function baselinesProblem(read: Pick<BaselinesRead, 'file' | 'problems' | 'baselines'>): CheckResult {
  const applied = Object.keys(read.baselines).length
  const named = read.problems.slice(0, NAMED).join('; ')
  const more = read.problems.length > NAMED ? `; and ${read.problems.length - NAMED} more` : ''
  return {
    name: BASELINES_CHECK,
    category: 'storage',
    status: 'warn',
    message: `Acknowledgements file ${read.file}: ${named}${more}. ${
      applied > 0 ? `The ${applied} readable acknowledgements apply; the rest do not.` : 'No acknowledgement applies.'
    }`,
    details: {file: read.file, problems: read.problems, applied},
    duration_ms: 0,
    fix: {
      text: 'Correct the file by hand, or move it aside and acknowledge the checks again.',
      commands: ['gbrain doctor --baselines', `mv ${shellQuote(read.file)} ${shellQuote(`${read.file}.damaged`)}`],
    },
  }
}
