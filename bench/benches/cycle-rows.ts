/**
 * The rows a cycle of a vault writes, read with the app's own reader (the snapshot's
 * `dist/brain/vault.js`), so the raw baselines insert exactly the rows the cycle sends: a page per
 * note, its timeline entries, and its links to other notes of the vault.
 */
import type {BenchContext} from '../lib/context.js'

type VaultModule = typeof import('../../src/brain/vault.js')

export interface VaultRows {
  pages: Array<{slug: string; title: string; content_hash: string}>
  timeline: Array<{slug: string; date: string; summary: string}>
  links: Array<{from_slug: string; to_slug: string}>
}

export async function vaultRows(ctx: BenchContext, root: string): Promise<VaultRows> {
  const vault = (await import(ctx.distUrl('brain/vault.js'))) as VaultModule
  const {files} = await vault.listMarkdownFiles(root)
  const out: VaultRows = {pages: [], timeline: [], links: []}
  const notes = []
  for (const file of files) {
    // Awaited: the reader was asynchronous before the cycle's optimisation, so a bench of the
    // old code reads its rows the same way.
    const note = await Promise.resolve(vault.readNote(root, file))
    if (note.kind !== 'note') throw new Error(`cycle: ${file} was skipped (${note.reason})`)
    notes.push(note)
  }
  const slugs = new Set(notes.map((n) => n.slug))
  for (const n of notes) {
    out.pages.push({slug: n.slug, title: n.note.title, content_hash: n.hash})
    for (const t of n.note.timeline) out.timeline.push({slug: n.slug, date: t.date, summary: t.summary})
    for (const to of n.note.links) if (slugs.has(to)) out.links.push({from_slug: n.slug, to_slug: to})
  }
  return out
}
