/** Real pids for lock tests: a live process that is not us (and not gbrain), and a surely dead one. */
import {spawn, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'

export interface PidKit {
  /** `sleep 30`, alive until `killAll()`. */
  liveChild(): Promise<number>
  /** A child that has exited and been reaped. */
  deadPid(): Promise<number>
  killAll(): void
}

export function pidKit(): PidKit {
  const children: ChildProcess[] = []
  return {
    async liveChild() {
      const c = spawn('sleep', ['30'], {stdio: 'ignore'})
      children.push(c)
      await once(c, 'spawn')
      return c.pid!
    },
    async deadPid() {
      const c = spawn('true', [], {stdio: 'ignore'})
      const pid = c.pid!
      await once(c, 'exit')
      return pid
    },
    killAll() {
      for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    },
  }
}
