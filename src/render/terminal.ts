/** Terminal decisions for human output (no chalk, no table: cheap to import). */

/** Environment variables the colour and Unicode decisions read. */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * Whether to colour human output: an explicit `--color` / `--no-color` wins; else a non-empty
 * `NO_COLOR` turns colour off (no-color.org); else a non-empty `FORCE_COLOR` other than `0` turns
 * it on; else colour only on a TTY whose `TERM` is not `dumb`.
 */
export function decideColor(input: {flag: boolean | undefined; env: Env; isTTY: boolean}): boolean {
  if (input.flag !== undefined) return input.flag
  const noColor = input.env.NO_COLOR
  if (noColor !== undefined && noColor !== '') return false
  const force = input.env.FORCE_COLOR
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false'
  return input.isTTY && input.env.TERM !== 'dumb'
}

/**
 * Whether the terminal takes UTF-8. The locale decides as the C library decides it: the first
 * non-empty of `LC_ALL`, `LC_CTYPE`, `LANG`; UTF-8 when it names `UTF-8`/`utf8` (any case).
 * Conservative when unset: POSIX's default locale is `C`, which is ASCII, so a bare cron job or
 * systemd unit gets ASCII (readable everywhere) rather than mojibake. The exception is Windows
 * Terminal (`WT_SESSION` set, no locale variables), which is UTF-8. A plain `LANG=C` or `POSIX`
 * gets ASCII; CI images usually set `LANG=C.UTF-8`.
 */
export function decideUnicode(env: Env): boolean {
  for (const key of ['LC_ALL', 'LC_CTYPE', 'LANG']) {
    const value = env[key]
    if (value !== undefined && value !== '') return /utf-?8/i.test(value)
  }
  return env.WT_SESSION !== undefined && env.WT_SESSION !== ''
}

/** The narrowest and widest layout human output is drawn for, and the width when nothing says. */
const MIN_WIDTH = 40
const MAX_WIDTH = 1000
const DEFAULT_WIDTH = 100

/**
 * Columns to lay human output out in: a terminal's own width wins (it is what the reader sees);
 * otherwise — a pipe, a file, `--output-file` — `COLUMNS` when it is a positive whole number
 * (so `COLUMNS=60 gbrain doctor | less` asks for a width), else {@link DEFAULT_WIDTH}. Clamped to
 * {@link MIN_WIDTH}–{@link MAX_WIDTH}: below 40 nothing is readable, and a huge value must not
 * make every table border a megabyte. A malformed `COLUMNS` is ignored, not an error: shells set
 * it, and it is not ours.
 */
export function decideWidth(input: {isTTY: boolean; columns: number | undefined; env: Env}): number {
  const tty =
    input.isTTY && input.columns !== undefined && Number.isFinite(input.columns) && input.columns > 0
      ? Math.floor(input.columns)
      : undefined
  const raw = input.env.COLUMNS?.trim() ?? ''
  const fromEnv = /^\d{1,9}$/.test(raw) && Number(raw) > 0 ? Number(raw) : undefined
  return Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, tty ?? fromEnv ?? DEFAULT_WIDTH))
}
