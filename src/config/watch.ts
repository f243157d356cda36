import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface WatchOptions {
  /** Quiet time after the last change before `onChange` runs, in milliseconds; default 200. */
  debounce?: number;
  /** Called when the watcher itself fails (the directory vanished, inotify limits). */
  onError?: (error: Error) => void;
}

/** A running file watch; {@link close} stops it and cancels a pending call. */
export interface ConfigWatch {
  close(): void;
}

/**
 * Calls `onChange` after the config file may have changed. It watches the file's directory, not
 * the file: a Kubernetes ConfigMap update writes a new timestamped directory and swaps the
 * `..data` symlink, so the file's own inode never changes and a watch on it would never fire.
 * Events for the file's own name and for the kubelet's `..`-prefixed entries count, others are
 * ignored; bursts collapse into one call after `debounce` ms, and the caller compares contents,
 * so a spurious call costs one read.
 */
export function watchConfigFile(
  path: string,
  onChange: () => void,
  options: WatchOptions = {},
): ConfigWatch {
  const debounce = options.debounce ?? 200;
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounce);
    timer.unref();
  };

  const watcher: FSWatcher = watch(dirname(path), { persistent: false }, (_event, file) => {
    // Other files in the same directory (logs, data) must not cost a read each time they change.
    if (file === null || file === name || file.startsWith('..')) schedule();
  });
  watcher.on('error', (error) => options.onError?.(error));

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}
