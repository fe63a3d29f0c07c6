/**
 * Module loader hooks for the cli-startup import census (registered by trace-modules.ts): every
 * module URL the ESM loader loads is appended to the file named in `initialize`'s data.
 * Runs on the loader thread; only used in an untimed diagnostic run.
 */
import {appendFileSync} from 'node:fs'

let out: string | undefined

export async function initialize(data: {out?: string} | undefined): Promise<void> {
  out = data?.out
}

export async function load(url: string, context: unknown, nextLoad: (url: string, context: unknown) => Promise<unknown>): Promise<unknown> {
  if (out) appendFileSync(out, `${url}\n`)
  return nextLoad(url, context)
}
