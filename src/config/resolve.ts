/**
 * Where the brain is (cli.md "Where the brain is"), first hit wins:
 *   1. --database-url   2. GBRAIN_DATABASE_URL, then DATABASE_URL
 *   3. <home>/config.json {engine, database_url, database_path}   4. PGlite at <home>/brain.pglite
 * Every setting carries where it came from; URLs are shown redacted. Anything malformed is a
 * ConfigError (exit 64) naming the fix.
 */
import path from 'node:path'
import {parseDatabaseUrl, type ParsedDatabaseUrl, resolvePaths, type BrainPaths} from '../engine/index.js'
import {ConfigError} from '../shared/errors.js'
import {readSmallFileSync, SMALL_FILE_MAX_BYTES} from '../shared/fs-read.js'
import {shellQuote} from '../shared/shell-quote.js'

export type TargetSource = 'flag' | 'env:GBRAIN_DATABASE_URL' | 'env:DATABASE_URL' | 'config-file' | 'default'

export interface ConfigFile {
  engine?: 'postgres' | 'pglite'
  database_url?: string
  database_path?: string
  [key: string]: unknown
}

interface TargetBase {
  /** Safe to print: a redacted URL or the data directory. */
  display: string
  source: TargetSource
  paths: BrainPaths
  configFile: {path: string; exists: boolean}
}

export interface PostgresTarget extends TargetBase {
  engine: 'postgres'
  url: ParsedDatabaseUrl
}

export interface PGliteTarget extends TargetBase {
  engine: 'pglite'
  dataDir: string
}

export type ResolvedTarget = PostgresTarget | PGliteTarget

export interface ResolveInput {
  databaseUrl?: string
  auditDir?: string
  env?: NodeJS.ProcessEnv
}

export function configFilePath(paths: BrainPaths): string {
  return path.join(paths.home, 'config.json')
}

/** Read `<home>/config.json`; a missing file is `undefined`, anything else wrong is a ConfigError. */
export function readConfigFile(file: string): ConfigFile | undefined {
  let text: string
  try {
    text = readSmallFileSync(file, SMALL_FILE_MAX_BYTES, {followSymlink: true})
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    throw configReadError(file, code)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new ConfigError(`the config file ${file} is not valid JSON`, `fix or remove it, then run: gbrain init`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`the config file ${file} must hold a JSON object`, `fix or remove it, then run: gbrain init`)
  }
  const cfg = parsed as ConfigFile
  if (cfg.engine !== undefined && cfg.engine !== 'postgres' && cfg.engine !== 'pglite') {
    throw new ConfigError(`the config file ${file} has engine ${JSON.stringify(cfg.engine)}`, `set "engine" to "postgres" or "pglite"`)
  }
  for (const key of ['database_url', 'database_path'] as const) {
    if (cfg[key] !== undefined && typeof cfg[key] !== 'string') {
      throw new ConfigError(`the config file ${file} has a non-string ${key}`, `set "${key}" to a string or remove it`)
    }
  }
  return cfg
}

export function resolveTarget(input: ResolveInput = {}): ResolvedTarget {
  const env = input.env ?? process.env
  const paths = resolvePaths(env, {auditDir: input.auditDir})
  const file = configFilePath(paths)

  const pg = (raw: string, source: TargetSource, exists: boolean): PostgresTarget => {
    let url: ParsedDatabaseUrl
    try {
      url = parseDatabaseUrl(raw, env)
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`${e.message} (from ${source})`, e.fix)
      throw e
    }
    return {engine: 'postgres', url, display: url.display, source, paths, configFile: {path: file, exists}}
  }
  const nonBlank = (v: string | undefined): v is string => v !== undefined && v.trim() !== ''

  if (input.databaseUrl !== undefined) {
    if (!nonBlank(input.databaseUrl)) throw new ConfigError('--database-url is empty', 'pass a postgres:// URL or drop the flag')
    return pg(input.databaseUrl, 'flag', false)
  }
  if (nonBlank(env.GBRAIN_DATABASE_URL)) return pg(env.GBRAIN_DATABASE_URL, 'env:GBRAIN_DATABASE_URL', false)
  if (nonBlank(env.DATABASE_URL)) return pg(env.DATABASE_URL, 'env:DATABASE_URL', false)

  const cfg = readConfigFile(file)
  if (cfg) {
    const engine = cfg.engine ?? (cfg.database_url ? 'postgres' : 'pglite')
    if (engine === 'postgres') {
      if (!nonBlank(cfg.database_url))
        throw new ConfigError(
          `the config file ${file} says engine "postgres" but has no database_url`,
          'add "database_url": "postgres://…" or run: gbrain init --database-url URL --write-config',
        )
      return pg(cfg.database_url, 'config-file', true)
    }
    const dataDir = nonBlank(cfg.database_path) ? path.resolve(paths.home, cfg.database_path) : path.join(paths.home, 'brain.pglite')
    return {engine: 'pglite', dataDir, display: dataDir, source: 'config-file', paths, configFile: {path: file, exists: true}}
  }
  const dataDir = path.join(paths.home, 'brain.pglite')
  return {engine: 'pglite', dataDir, display: dataDir, source: 'default', paths, configFile: {path: file, exists: false}}
}

/**
 * Why the config file cannot be read, and the fix that matches the cause: a permission problem
 * gets a chmod, a path through a file or a non-file gets where to look, never a chmod that
 * cannot help.
 */
function configReadError(file: string, code: string | undefined): ConfigError {
  const q = shellQuote(file)
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new ConfigError(
        `cannot read the config file ${file} (permission denied)`,
        `make it yours and readable (chmod 600 ${q}) or remove it`,
      )
    case 'ENOTDIR':
      return new ConfigError(
        `cannot read the config file ${file}: a part of its path is a file, not a directory`,
        'point GBRAIN_HOME at a directory (or remove the file in the way)',
      )
    case 'ENOTREG':
    case 'EISDIR':
      return new ConfigError(
        `the config file ${file} is not a regular file`,
        `remove or rename it (rm -r ${q}), then run: gbrain init --write-config`,
      )
    case 'EFBIG':
      return new ConfigError(
        `the config file ${file} is larger than ${SMALL_FILE_MAX_BYTES / 1024} KiB`,
        'it holds a few settings: fix or remove it, then run: gbrain init --write-config',
      )
    case 'ELOOP':
      return new ConfigError(`the config file ${file} is a symlink loop`, `remove it (rm ${q}) or point it at a file`)
    default:
      return new ConfigError(
        `cannot read the config file ${file} (${code ?? 'error'})`,
        `check the file and its directory, or remove it (rm ${q})`,
      )
  }
}
