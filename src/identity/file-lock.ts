// A cross-process lock file (O_EXCL create) guarding read-modify-write of small state files that
// the proxy and the CLI (`--data DIR`) change at the same time. Holders keep it for milliseconds,
// so a lock older than STALE_MS, or whose holder process is gone (same host), is taken over.
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const STALE_MS = 30_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function stale(lockPath: string): Promise<boolean> {
  try {
    const [st, text] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    if (Date.now() - st.mtimeMs > STALE_MS) return true;
    const pid = Number(text.split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid);
  } catch {
    return false; // vanished or unreadable mid-check: just retry
  }
}

/** Runs `fn` holding `lockPath`; waits up to `timeoutMs` for another holder. */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let wait = 5;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx', 0o600);
      try {
        await fh.writeFile(`${process.pid}\n${new Date().toISOString()}\n`);
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await stale(lockPath)) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockPath}; remove it if no wiretrail process is running`);
      await sleep(wait);
      wait = Math.min(wait * 2, 100);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}
