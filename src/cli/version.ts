/**
 * The version as gbrain says it, the same for `gbrain version`, `gbrain --version` and the root
 * help: the command users type first (`gbrain 0.1.0 (gbrain-doctor) linux-x64 node-v20.20.2`),
 * not oclif's `<package>/<version>`.
 */
import type {Interfaces} from '@oclif/core'

export interface VersionInfo {
  /** The command users type. */
  name: string
  /** The npm package it comes from. */
  package: string
  version: string
  platform: string
  arch: string
  node: string
}

export function versionInfo(config: Interfaces.Config): VersionInfo {
  return {
    name: config.bin,
    package: config.name,
    version: config.version,
    platform: config.platform,
    arch: config.arch,
    node: process.version,
  }
}

export function versionLine(v: VersionInfo): string {
  return `${v.name} ${v.version} (${v.package}) ${v.platform}-${v.arch} node-${v.node}`
}

/**
 * Make oclif say gbrain's line wherever it prints `config.userAgent` (`--version`, the root
 * help's VERSION). Readonly in oclif's interface, a plain field on its Config; a command runs on
 * a fresh copy of the config, so the help command sets it again.
 */
export function useVersionLine(config: Interfaces.Config): void {
  ;(config as {userAgent: string}).userAgent = versionLine(versionInfo(config))
}
