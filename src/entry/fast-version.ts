/**
 * `gbrain --version` without oclif: the line oclif would print (`config.userAgent`, which the
 * init hook sets to gbrain's line, src/cli/version.ts), made from the same package.json fields
 * and platform rules as oclif's Config — `wsl` under WSL (is-wsl, what oclif asks), `x86` for
 * ia32. bin/run.js calls it only when the first word is `--version`, oclif's only version flag
 * here (package.json sets no `additionalVersionFlags`; a test holds both to that), so the
 * answer costs a Node start and one small file instead of loading oclif.
 */
import {readFileSync} from 'node:fs'
import {arch, platform} from 'node:os'
import isWsl from 'is-wsl'
import {versionLine} from '../cli/version.js'

interface PackageJson {
  name: string
  version: string
  oclif: {bin: string}
}

/** gbrain's version line, for the package.json at `packageJsonPath`. */
export function fastVersionLine(packageJsonPath: string | URL): string {
  const pjson = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as PackageJson
  return versionLine({
    name: pjson.oclif.bin,
    package: pjson.name,
    version: pjson.version,
    platform: isWsl ? 'wsl' : platform(),
    arch: arch() === 'ia32' ? 'x86' : arch(),
    node: process.version,
  })
}
