/**
 * Throwaway brain directories for unit tests that read files the way the doctor does: one temp
 * root per test file (made before its tests, removed after), and a fresh home under it per call,
 * with every path a check gathers from. Nothing is created inside the home: each test lays out
 * exactly the audit files, spool entries or state files it is about.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll} from 'vitest'
import type {BrainPaths} from '../../src/engine/index.js'

export interface TempBrains {
  /** A fresh, empty home and its paths (audit, dead-letter and run directories not yet made). */
  brain: () => BrainPaths
  /** The file's temp root, for things that live beside the homes (symlink targets, blockers). */
  root: () => string
}

/** Register the temp root's lifecycle for the calling test file; `prefix` names its directory. */
export function tempBrains(prefix: string): TempBrains {
  let root: string | undefined
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), prefix))
  })
  afterAll(() => {
    if (root !== undefined) rmSync(root, {recursive: true, force: true})
  })
  const rootDir = (): string => {
    if (root === undefined) throw new Error('tempBrains: the temp root exists only while the file’s tests run')
    return root
  }
  return {
    root: rootDir,
    brain: () => {
      const home = mkdtempSync(path.join(rootDir(), 'home-'))
      return {
        home,
        auditDir: path.join(home, 'audit'),
        spoolDir: path.join(home, 'dead-letter'),
        runDir: path.join(home, 'run'),
        homeSource: 'default',
        auditDirSource: 'default',
      }
    },
  }
}
