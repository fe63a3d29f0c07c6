/**
 * `audit_log` (storage). Size and age of the audit directory per feature; files older than the
 * retention (30 d, by the ISO week in the name) → warn with `gbrain repair --prune-audit`;
 * unreadable files (and entries that are not regular files) → warn naming them; directories
 * (audit, spool, run) wider than 0700 or their files wider than 0600 → warn with the `chmod`.
 * Corrupt lines seen by the windowed scans (batch-retry 24 h, pool-recovery 1 h) are reported,
 * not judged: the whole history is never read. A missing audit directory is ok.
 */
import * as path from 'node:path'
import {defineCheck} from './check.js'
import type {AuditFilesFacts, ModeProblem} from './facts/audit-files.js'
import type {AuditScanFacts} from './facts/audit-windows.js'
import {shellQuote} from '../shared/shell-quote.js'
import {Findings} from './findings.js'
import {octal, plural, unreadableAuditFiles, unreadableAuditFix, unreadableFileCommand} from './wording.js'
import type {CheckOutcome} from './types.js'
import {fixed} from './listing.js'
import {AUDIT_RETENTION_DAYS} from './facts/audit-files.js'

/** `audit_log` details (what the repair plan reads). */
export interface AuditLogDetails {
  dir: string
  exists: boolean
  list_error: string | null
  retention_days: number
  cutoff: string
  features: AuditFilesFacts['features']
  total_files: number
  total_bytes: number
  expired_files: AuditFilesFacts['expired_files']
  unreadable_files: Array<{file: string; error: string}>
  corrupt_lines: Record<string, number>
  wide_permissions: Array<{path: string; kind: ModeProblem['kind']; mode: string; expected: string}>
}

export interface AuditLogInput {
  files: AuditFilesFacts
  /** The windowed scans of the features the doctor reads, for corrupt and unreadable counts. */
  scans: ReadonlyArray<{feature: string; facts: AuditScanFacts}>
}

/** Above this many files, `chmod` uses a per-directory glob instead of naming each file. */
const MAX_NAMED_PATHS = 50

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`
}

/** Paste-ready chmod commands for the permission findings: dirs 700, files 600. */
export function chmodCommands(problems: readonly ModeProblem[]): string[] {
  const out: string[] = []
  const dirs = problems.filter((p) => p.kind === 'dir')
  const files = problems.filter((p) => p.kind === 'file')
  if (dirs.length > 0) out.push(`chmod 700 ${dirs.map((d) => shellQuote(d.path)).join(' ')}`)
  if (files.length > 0 && files.length <= MAX_NAMED_PATHS) out.push(`chmod 600 ${files.map((f) => shellQuote(f.path)).join(' ')}`)
  else if (files.length > 0) {
    for (const dir of [...new Set(files.map((f) => path.dirname(f.path)))]) {
      const ext = path.extname(files.find((f) => path.dirname(f.path) === dir)!.path)
      out.push(`chmod 600 ${shellQuote(dir)}/*${ext === '' ? '' : shellQuote(ext)}`) // the glob stays unquoted, the name parts never
    }
  }
  return out
}

export function judgeAuditLog(input: AuditLogInput): CheckOutcome {
  const f = input.files
  const found = new Findings()

  // Unreadable: listed entries that are not regular files, plus what the scans could not read.
  const unreadable = new Map<string, string>()
  for (const n of f.not_regular) unreadable.set(n.path, n.error)
  for (const s of input.scans) {
    for (const u of s.facts.unreadable_files) {
      // An unusable audit directory explains every file in it: reported once, below.
      if (f.list_error !== null && path.dirname(u.file) === f.dir) continue
      if (!unreadable.has(u.file)) unreadable.set(u.file, u.error)
    }
  }
  const corrupt = input.scans.reduce((n, s) => n + s.facts.corrupt_lines, 0)

  if (f.list_error !== null) {
    const message = `Audit directory ${f.dir} unreadable (${f.list_error}).`
    if (/not a directory|ENOTDIR/.test(f.list_error)) {
      found.add('warn', message, {
        text: 'Move the file that sits where the audit directory should be out of the way (the engine recreates the directory).',
        commands: [`mv ${shellQuote(f.dir)} ${shellQuote(`${f.dir}.not-audit`)}`],
      })
    } else
      found.add('warn', message, {text: 'Make the audit directory readable by its owner.', commands: [`chmod 700 ${shellQuote(f.dir)}`]})
  }
  if (unreadable.size > 0) {
    const files = [...unreadable].map(([file, error]) => ({file, error}))
    found.add('warn', `${unreadableAuditFiles(files)}.`, {
      text: unreadableAuditFix('each'),
      commands: files.map((u) => unreadableFileCommand(u.file, u.error)),
    })
  }
  if (f.expired_files.length > 0) {
    const byFeature = f.features.filter((x) => x.expired > 0).map((x) => `${x.feature} = ${x.expired}`)
    found.add(
      'warn',
      `${plural(f.expired_files.length, 'audit file')} older than the ${f.retention_days} d retention (${byFeature.join(', ')}).`,
      {
        text: `Prune audit files whose whole week is older than ${f.retention_days} days.`,
        commands: [`gbrain repair --prune-audit --older-than ${f.retention_days}d`],
      },
    )
  }
  if (f.wide_modes.length > 0) {
    const shown = f.wide_modes
      .slice(0, 5)
      .map(
        (m) =>
          `${m.path} (${m.owner_uid !== undefined ? `owned by uid ${m.owner_uid}, ` : ''}${octal(m.mode)}, expected ${octal(m.expected)})`,
      )
    const more = f.wide_modes.length > 5 ? ` and ${f.wide_modes.length - 5} more` : ''
    const home = f.wide_modes.some((m) => m.what !== undefined)
    const texts = [
      home
        ? 'Another user who can write the home directory can replace config.json (where every command connects), and one who can read the config reads its database URL: restrict them, and the audit and spool files, to their owner.'
        : 'Audit and spool files hold operational data: restrict them to their owner.',
    ]
    if (f.wide_modes.some((m) => m.owner_uid !== undefined))
      texts.push(
        'A path another user owns cannot be made private by chmod: move it aside and let gbrain recreate it, or have its owner fix it.',
      )
    found.add('warn', `Permissions wider than the owner: ${shown.join(', ')}${more}.`, {
      text: texts.join(' '),
      commands: chmodCommands(f.wide_modes.filter((m) => m.owner_uid === undefined)),
    })
  }

  let summary: string
  if (!f.exists) summary = `No audit trail yet (${f.dir} does not exist).`
  else if (f.list_error !== null) summary = ''
  else if (f.total_files === 0) summary = `Audit directory ${f.dir} holds no audit files yet.`
  else {
    const perFeature = f.features
      .map(
        (x) =>
          `${x.feature}: ${plural(x.count, 'file')}, ${size(x.bytes)}, ${x.oldest_week === x.newest_week ? x.oldest_week : `${x.oldest_week}…${x.newest_week}`}`,
      )
      .join('; ')
    summary = `Audit trail: ${plural(f.total_files, 'file')}, ${size(f.total_bytes)} (${perFeature}).`
  }
  if (corrupt > 0) {
    const where = input.scans
      .filter((s) => s.facts.corrupt_lines > 0)
      .map((s) => `${s.feature} ${s.facts.corrupt_lines} in last ${s.facts.window.hours}h`)
    summary += ` (note: ${plural(corrupt, 'corrupt JSONL line')} skipped: ${where.join(', ')})`
  }

  return found.outcome(
    [...found.messages, summary]
      .filter((x) => x !== '')
      .join(' ')
      .trim(),
    {
      details: {
        dir: f.dir,
        exists: f.exists,
        list_error: f.list_error,
        retention_days: f.retention_days,
        cutoff: f.cutoff,
        features: f.features,
        total_files: f.total_files,
        total_bytes: f.total_bytes,
        expired_files: f.expired_files,
        unreadable_files: [...unreadable].map(([file, error]) => ({file, error})),
        corrupt_lines: Object.fromEntries(input.scans.map((s) => [s.feature, s.facts.corrupt_lines])),
        wide_permissions: f.wide_modes.map((m) => ({path: m.path, kind: m.kind, mode: octal(m.mode), expected: octal(m.expected)})),
      } satisfies AuditLogDetails,
      observed_value: f.total_bytes,
      observed_unit: 'bytes',
    },
  )
}

export const auditLogCheck = defineCheck({
  name: 'audit_log',
  category: 'storage',
  gatedOnConnection: false,
  needs: ['auditFiles', 'batchRetry', 'poolRecovery'],
  judge: (f) =>
    judgeAuditLog({
      files: f.auditFiles,
      scans: [
        {feature: 'batch-retry', facts: f.batchRetry},
        {feature: 'pool-recovery', facts: f.poolRecovery},
      ],
    }),
  explain: {
    looksAt: `The audit directory: files and size per feature, files past the ${AUDIT_RETENTION_DAYS}-day retention, unreadable files, and permissions wider than the owner on the brain’s home, config.json and the audit, spool and run directories.`,
    thresholds: () => [
      fixed(AUDIT_RETENTION_DAYS, {
        level: 'warn',
        comparison: '>',
        unit: 'd',
        measure: 'old: audit files past the retention (by the ISO week in their name)',
      }),
    ],
  },
})
