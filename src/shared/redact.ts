/**
 * Redaction of credentials and addresses in free text (audit-formats.md "Redaction").
 *
 * Every free-text field that is stored (audit rows, dead-letter entries, state files) or
 * printed (every renderer, error messages, `--debug`) goes through one of two functions first:
 * {@link redactForStorage} (audit rows, spool, state files: credentials and addresses, one line,
 * cut to 200 characters) or {@link redactForDisplay} (what a person reads: credentials only,
 * host and port kept, nothing cut).
 */

/** Maximum length of a redacted one-line text, in UTF-16 code units. */
export const REDACT_MAX_CHARS = 200

/** The closed vocabulary of redaction tokens. */
export type RedactionKind = 'pg_url' | 'password' | 'user' | 'host' | 'ipv4'

const token = (kind: RedactionKind): string => `<REDACTED:${kind}>`

/**
 * `postgres://…` / `postgresql://…` (any case, also inside `jdbc:postgresql://…`), as a whole up
 * to the next whitespace. A URL ends at whitespace only: a raw `'`, `"` or `#` can be part of a
 * (badly encoded) password, so stopping there could leak its tail. Over-redacting a trailing
 * quote or comma is the cheaper mistake.
 */
const PG_URL_RE = /postgres(?:ql)?:\/\/\S*/gi

/**
 * A libpq-style value: single- or double-quoted (backslash escapes; an unterminated quote runs to
 * the end of the text so a cut-off secret never survives) or unquoted up to whitespace. A value
 * that already is a redaction token matches just the token, so a second pass keeps what follows.
 */
const VALUE = String.raw`(?:<REDACTED:[a-z0-9_]+>|'(?:[^'\\]|\\[\s\S])*(?:'|$)|"(?:[^"\\]|\\[\s\S])*(?:"|$)|\S+)`

/**
 * `password=` / `pwd=` (any case, spaces allowed around `=`), and the `password: …` /
 * `"password":"…"` forms of logs, YAML and JSON. No left boundary on purpose: `PGPASSWORD=…`,
 * `sslpassword=…` and `db_password=…` are secrets too.
 */
const PASSWORD_RE = new RegExp(String.raw`((?:password|pwd)["']?\s*[=:]\s*)${VALUE}`, 'gi')

/**
 * `user=` / `host=` / `hostaddr=` in libpq key/value strings (also `PGUSER=`, `PGHOST=`), but not
 * at the end of a longer word (`superuser=`, `localhost=` are not libpq keys).
 */
const USER_RE = new RegExp(String.raw`((?<![A-Za-z0-9_])(?:pg)?user\s*=\s*)${VALUE}`, 'gi')
const HOST_RE = new RegExp(String.raw`((?<![A-Za-z0-9_])(?:pg)?host(?:addr)?\s*=\s*)${VALUE}`, 'gi')

/**
 * A dotted quad that is not part of a version string: not preceded by a letter, digit, `.`, `_`
 * or `@` (`v3.1.4.0`, `pkg@0.26.3.1`, `1.2.3.4.5`) and not followed by a letter, digit, `_` or
 * `.digit` (`0.40.4.0a`).
 */
const IPV4_RE = /(?<![A-Za-z0-9_.@])(?:\d{1,3}\.){3}\d{1,3}(?![A-Za-z0-9_]|\.\d)/g

/** One pass of the credential replacements, in a fixed order (URLs first: they contain the other patterns). */
function replaceCredentials(text: string): string {
  return text
    .replace(PG_URL_RE, token('pg_url'))
    .replace(PASSWORD_RE, (_m, key: string) => key + token('password'))
    .replace(USER_RE, (_m, key: string) => key + token('user'))
}

/** What is stored (gbrain's audit contract): credentials, and addresses too. */
function replaceSecrets(text: string): string {
  return replaceCredentials(text)
    .replace(HOST_RE, (_m, key: string) => key + token('host'))
    .replace(IPV4_RE, token('ipv4'))
}

/**
 * Cut to {@link REDACT_MAX_CHARS} without splitting a `<REDACTED:…>` token (a partial token is
 * dropped whole) or a surrogate pair.
 */
function cut(text: string): string {
  if (text.length <= REDACT_MAX_CHARS) return text
  let end = REDACT_MAX_CHARS
  const code = text.charCodeAt(end - 1)
  if (code >= 0xd800 && code <= 0xdbff) end -= 1
  let out = text.slice(0, end)
  const open = out.lastIndexOf('<REDACTED:')
  if (open !== -1 && out.indexOf('>', open) === -1) out = out.slice(0, open)
  // A partial token prefix such as "<REDAC" at the very end is dropped too.
  const lt = out.lastIndexOf('<')
  if (lt !== -1 && lt >= out.length - '<REDACTED:'.length && '<REDACTED:'.startsWith(out.slice(lt))) {
    out = out.slice(0, lt)
  }
  return out.trimEnd()
}

function step(text: string): string {
  return cut(replaceSecrets(text).replace(/\s+/g, ' ').trim())
}

/**
 * Redact credentials without cutting or collapsing, for what is shown to a person (the CLI's
 * one-line errors, --debug stacks, every renderer): a database URL keeps its scheme, host,
 * port, database and query with the userinfo masked as `***@` (cli.md: "a URL shown to a user"),
 * passwords and users are replaced as `redactForStorage` does, but host names and addresses stay: the host
 * and port a command tried are what a person needs to act, and they are not secrets. Audit rows
 * use `redactForStorage`, which also replaces whole URLs and addresses (gbrain's format). Idempotent: a
 * masked URL masks to itself.
 */
export function redactForDisplay(text: string): string {
  const input = typeof text === 'string' ? text : String(text)
  let out = ''
  let last = 0
  for (const m of input.matchAll(PG_URL_RE)) {
    out += replaceToFixedPoint(input.slice(last, m.index))
    // The URL pattern runs to whitespace, so text glued after it (`…/db",(password=x)`) is part
    // of the match: key/value secrets are replaced inside it too.
    out += redactUrl(m[0])
      .replace(PASSWORD_RE, (_m, key: string) => key + token('password'))
      .replace(USER_RE, (_m, key: string) => key + token('user'))
    last = m.index + m[0].length
  }
  return out + replaceToFixedPoint(input.slice(last))
}

function replaceToFixedPoint(text: string): string {
  let current = text
  for (let i = 0; i < 8; i++) {
    const next = replaceCredentials(current)
    if (next === current) return next
    current = next
  }
  return current
}

/**
 * Redact credentials and addresses from free text, collapse whitespace runs to one space, trim,
 * and cut to 200 characters.
 *
 * Idempotent by construction: the single step (replace → collapse → cut) is applied until it
 * reaches a fixed point. A step can expose a new match only through the cut (e.g. `1.2.3.4.5`
 * cut after `1.2.3.4` becomes an address), so this converges in two or three passes.
 */
export function redactForStorage(text: string): string {
  let current = typeof text === 'string' ? text : String(text)
  for (let i = 0; i < 8; i++) {
    const next = step(current)
    if (next === current) return next
    current = next
  }
  return current
}

const SECRET_QUERY_KEY = /pass|pwd|secret|token|^user(?:name)?$/i

/**
 * A database URL as it may be shown to a user: scheme, host, port, database and query kept, the
 * userinfo replaced by `***@`, values of secret-looking query parameters (`password`, `user`,
 * `sslpassword`, …) replaced by `***`, and the fragment dropped. A URL without userinfo and
 * without secret parameters comes back unchanged. Anything that does not look like
 * `scheme://…` comes back as `<REDACTED:pg_url>`.
 *
 * The userinfo ends at the **last** `@`, so passwords containing a raw `@`, `:`, `/`, `?` or `#`
 * are still hidden (at worst, an `@` inside the query hides more than needed).
 */
export function redactUrl(url: string): string {
  if (typeof url !== 'string') return token('pg_url')
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:)\/\/([\s\S]*)$/.exec(url.trim())
  if (!m) return token('pg_url')
  const scheme = m[1] ?? ''
  let rest = m[2] ?? ''
  let userinfo = false
  const at = rest.lastIndexOf('@')
  if (at !== -1) {
    userinfo = true
    rest = rest.slice(at + 1)
  }
  if (/\s/.test(rest)) return token('pg_url')
  const hash = rest.indexOf('#')
  if (hash !== -1) rest = rest.slice(0, hash)
  const q = rest.indexOf('?')
  let query = ''
  if (q !== -1) {
    query = rest
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=')
        if (eq === -1) return pair
        let key = pair.slice(0, eq)
        try {
          key = decodeURIComponent(key)
        } catch {
          // keep the raw key
        }
        return SECRET_QUERY_KEY.test(key) ? `${pair.slice(0, eq)}=***` : pair
      })
      .join('&')
    rest = rest.slice(0, q)
  }
  return `${scheme}//${userinfo ? '***@' : ''}${rest}${q !== -1 ? `?${query}` : ''}`
}

function safeString(value: unknown): string | undefined {
  try {
    if (typeof value === 'string') return value
    if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value)
    return undefined
  } catch {
    return undefined
  }
}

function get(obj: object, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key]
  } catch {
    return undefined
  }
}

/**
 * A redacted one-line summary of a thrown value: its message, with ` (CODE)` appended when it
 * carries a `code` the message does not already mention. Unwraps nothing (see `classify`).
 * Never throws, whatever is passed.
 */
export function summarizeError(err: unknown): string {
  try {
    if (err === null || err === undefined) return String(err)
    if (typeof err !== 'object' && typeof err !== 'function') return redactForStorage(safeString(err) ?? typeof err)
    const message = safeString(get(err, 'message')) ?? ''
    const code = safeString(get(err, 'code'))
    let text = message.trim()
    if (text === '') {
      const name = safeString(get(err, 'name'))
      text = name && name.trim() !== '' ? name : Array.isArray(err) ? 'array' : 'error'
    }
    if (code !== undefined && code !== '' && !text.includes(code)) text = `${text} (${code})`
    return redactForStorage(text)
  } catch {
    return 'error'
  }
}
