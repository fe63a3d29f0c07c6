/**
 * Parse and check a Postgres URL once, before any client sees it. Our own query parameters
 * (`prepare`) are removed: postgres.js would forward unknown parameters to the server as
 * startup settings, which fails the connection.
 */
import {ConfigError} from '../shared/errors.js'
import {redactUrl} from '../shared/redact.js'

export interface ParsedDatabaseUrl {
  /** The URL handed to postgres.js. Holds credentials: never print it. */
  clientUrl: string
  /** Safe to show: userinfo replaced by `***@`. */
  display: string
  host: string
  port: number
  database: string
  prepare: {value: boolean; reason: string}
}

const FIX = 'use postgres://USER:PASSWORD@HOST:PORT/DATABASE (percent-encode @ : / % in the password)'

export function parseDatabaseUrl(raw: string, env: NodeJS.ProcessEnv = process.env): ParsedDatabaseUrl {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new ConfigError('the database URL is malformed', FIX)
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`unsupported database URL scheme ${JSON.stringify(url.protocol.replace(/:$/, ''))}`, FIX)
  }
  if (url.hostname === '') throw new ConfigError('the database URL has no host', FIX)
  const port = url.port === '' ? 5432 : Number(url.port)
  try {
    if (url.password) decodeURIComponent(url.password)
    if (url.username) decodeURIComponent(url.username)
  } catch {
    throw new ConfigError('the database URL has a badly percent-encoded user or password', FIX)
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username) || 'postgres'

  const prepareParam = url.searchParams.get('prepare')
  url.searchParams.delete('prepare')
  let prepare: ParsedDatabaseUrl['prepare']
  if (prepareParam !== null) {
    const value = parseBool(prepareParam)
    if (value === undefined)
      throw new ConfigError(
        `prepare=${JSON.stringify(prepareParam)} in the database URL is not a boolean`,
        'use ?prepare=false or ?prepare=true',
      )
    prepare = {value, reason: `url:prepare=${prepareParam}`}
  } else if (env.GBRAIN_PREPARE !== undefined && env.GBRAIN_PREPARE.trim() !== '') {
    const value = parseBool(env.GBRAIN_PREPARE.trim())
    if (value === undefined)
      throw new ConfigError(
        `GBRAIN_PREPARE must be true or false, got ${JSON.stringify(env.GBRAIN_PREPARE)}`,
        'export GBRAIN_PREPARE=false',
      )
    prepare = {value, reason: 'env:GBRAIN_PREPARE'}
  } else if (port === 6543) {
    prepare = {value: false, reason: 'port 6543 (transaction pooler convention)'}
  } else {
    prepare = {value: true, reason: 'default'}
  }
  return {clientUrl: url.toString(), display: redactUrl(url.toString()), host: url.hostname, port, database, prepare}
}

function parseBool(v: string): boolean | undefined {
  const s = v.toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(s)) return true
  if (['0', 'false', 'no', 'off'].includes(s)) return false
  return undefined
}
