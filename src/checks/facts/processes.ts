/** The engine process state files of the run directory, read once (engine/process-state.ts). */
import {readProcessStates, type ReadProcessState} from '../../engine/index.js'
import {summarizeError} from '../../shared/redact.js'

export interface ProcessFacts {
  run_dir: string
  /** Why the run directory could not be listed (ENOENT is not an error), or null. */
  list_error: string | null
  processes: ReadProcessState[]
}

export async function gatherProcesses(runDir: string): Promise<ProcessFacts> {
  try {
    return {run_dir: runDir, list_error: null, processes: await readProcessStates(runDir)}
  } catch (e) {
    return {run_dir: runDir, list_error: summarizeError(e), processes: []}
  }
}
