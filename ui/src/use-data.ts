import { useCallback, useEffect, useState } from 'preact/hooks';
import { get } from './api.js';

/** What `path` answered last, or why it did not. */
interface Loaded<T> {
  path: string;
  data?: T | undefined;
  error?: unknown;
}

/**
 * GETs `path` (again when it changes, and `refreshMs` after each answer when given). A slow answer
 * is waited for, not dropped: the next request starts only once the previous one settled. Only a
 * change of `path` (or leaving the page) drops, and aborts, a request in flight; the data of the
 * previous path is not shown under the new one, even when the new one fails.
 */
export function useData<T>(path: string, refreshMs?: number): { data: T | undefined; error: unknown; reload: () => void } {
  const [loaded, setLoaded] = useState<Loaded<T>>({ path });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((value) => value + 1), []);
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () => {
      get<T>(path, controller.signal)
        .then(
          (value) => {
            if (!controller.signal.aborted) setLoaded({ path, data: value });
          },
          (failure: unknown) => {
            if (!controller.signal.aborted)
              setLoaded((previous) => ({ path, data: previous.path === path ? previous.data : undefined, error: failure }));
          },
        )
        .finally(() => {
          if (!controller.signal.aborted && refreshMs !== undefined) timer = setTimeout(load, refreshMs);
        });
    };
    load();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [path, tick, refreshMs]);
  const current = loaded.path === path ? loaded : undefined;
  return { data: current?.data, error: current?.error, reload };
}
