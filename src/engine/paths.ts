/**
 * Where a brain's files live. `<home>` is `$GBRAIN_HOME/.gbrain` when GBRAIN_HOME is set
 * (absolute, no `..` segments), else `~/.gbrain`. The audit directory is GBRAIN_AUDIT_DIR when
 * non-blank, else `<home>/audit`.
 */
import os from 'node:os'
import path from 'node:path'
import {ConfigError} from '../shared/errors.js'

export interface BrainPaths {
  home: string
  auditDir: string
  spoolDir: string
  runDir: string
  homeSource: 'env:GBRAIN_HOME' | 'default'
  auditDirSource: 'flag' | 'env:GBRAIN_AUDIT_DIR' | 'default'
}

function checkAbsolute(value: string, variable: string): string {
  if (!path.isAbsolute(value)) {
    throw new ConfigError(`${variable} must be an absolute path, got ${JSON.stringify(value)}`, `export ${variable}=${path.resolve(value)}`)
  }
  if (value.split(/[\\/]+/).includes('..')) {
    throw new ConfigError(
      `${variable} must not contain '..' segments, got ${JSON.stringify(value)}`,
      `export ${variable}=${path.resolve(value)}`,
    )
  }
  return path.normalize(value)
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env, flags: {auditDir?: string} = {}): BrainPaths {
  const rawHome = env.GBRAIN_HOME
  const homeSet = rawHome !== undefined && rawHome.trim() !== ''
  const home = homeSet ? path.join(checkAbsolute(rawHome.trim(), 'GBRAIN_HOME'), '.gbrain') : path.join(os.homedir(), '.gbrain')
  let auditDir = path.join(home, 'audit')
  let auditDirSource: BrainPaths['auditDirSource'] = 'default'
  if (flags.auditDir !== undefined && flags.auditDir.trim() !== '') {
    auditDir = path.resolve(flags.auditDir.trim())
    auditDirSource = 'flag'
  } else if (env.GBRAIN_AUDIT_DIR !== undefined && env.GBRAIN_AUDIT_DIR.trim() !== '') {
    auditDir = checkAbsolute(env.GBRAIN_AUDIT_DIR.trim(), 'GBRAIN_AUDIT_DIR')
    auditDirSource = 'env:GBRAIN_AUDIT_DIR'
  }
  return {
    home,
    auditDir,
    spoolDir: path.join(home, 'dead-letter'),
    runDir: path.join(home, 'run'),
    homeSource: homeSet ? 'env:GBRAIN_HOME' : 'default',
    auditDirSource,
  }
}
