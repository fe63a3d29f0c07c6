/**
 * A generated markdown vault with known contents, so a cycle's result can be checked exactly:
 * `files` notes, each with `entries` distinct timeline lines and `links` distinct wikilinks to
 * other existing notes, plus a few bad files (binary, invalid dates, unterminated links) that the
 * cycle must skip or count.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

export interface VaultSpec {
  files: number
  entries: number
  links: number
  /** Add the bad-input files (default true). */
  bad?: boolean
}

export interface VaultExpectation {
  pages: number
  timeline: number
  links: number
  total: number
  binaryFiles: number
  invalidDates: number
  unterminatedLinks: number
}

export function generateVault(dir: string, spec: VaultSpec): VaultExpectation {
  const perDir = 100
  for (let i = 0; i < spec.files; i++) {
    const sub = path.join(dir, `d${Math.floor(i / perDir)}`)
    if (i % perDir === 0) mkdirSync(sub, {recursive: true})
    const lines = [`# Note ${i}`, '']
    for (let e = 0; e < spec.entries; e++) {
      const day = new Date(Date.UTC(2020, 0, 1) + ((i * 7 + e) % 1500) * 86_400_000).toISOString().slice(0, 10)
      lines.push(`- ${day}: event ${e} of note ${i}`)
    }
    for (let l = 1; l <= spec.links; l++) {
      const target = (i + l * 37) % spec.files
      lines.push(`Related: [[d${Math.floor(target / perDir)}/n${target}]]`)
    }
    writeFileSync(path.join(sub, `n${i}.md`), lines.join('\n') + '\n')
  }
  const exp: VaultExpectation = {
    pages: spec.files,
    timeline: spec.files * spec.entries,
    links: 0,
    total: 0,
    binaryFiles: 0,
    invalidDates: 0,
    unterminatedLinks: 0,
  }
  // distinct targets per note (l*37 mod files differ while links*37 < files), never itself
  exp.links = spec.files * spec.links
  if (spec.bad !== false) {
    mkdirSync(path.join(dir, 'bad'), {recursive: true})
    writeFileSync(path.join(dir, 'bad', 'binary.md'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01]))
    exp.binaryFiles = 1
    writeFileSync(
      path.join(dir, 'bad', 'dates.md'),
      '# Dates\n- 2024-13-45: impossible\n- 2023-02-29: not leap\n- 2024-02-29: fine\n- 2024-02-29: fine\n',
    )
    exp.pages += 1
    exp.timeline += 1
    exp.invalidDates = 2
    writeFileSync(path.join(dir, 'bad', 'links.md'), '# Links\nbroken [[never closed\nand [[d0/n0]] ok\n')
    exp.pages += 1
    exp.links += 1
    exp.unterminatedLinks = 1
  }
  exp.total = exp.pages + exp.timeline + exp.links
  return exp
}
