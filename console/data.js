import { html, useCallback, useEffect, useRef, useState } from './html.js';
import { describeError } from './format.js';

/**
 * Loads data with `load()`, again on `reload()` and every `refreshMs` if given (not while the tab is hidden, nor while
 * `refreshWhile()` says no). A 401 goes to `onUnauthorized`, which asks for a key again; other failures are kept in
 * `error` beside the last data.
 */
export function useData(load, deps, { refreshMs = 0, onUnauthorized, refreshWhile } = {}) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const generation = useRef(0);
  const keepRefreshing = useRef(refreshWhile);
  keepRefreshing.current = refreshWhile;
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const data = await load();
      if (mine === generation.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (error.status === 401 && onUnauthorized) return onUnauthorized();
      if (mine === generation.current)
        setState((old) => ({ data: old.data, error: describeError(error), loading: false }));
    }
  }, deps);
  useEffect(() => {
    setState({ data: null, error: null, loading: true });
    reload();
    if (!refreshMs) return () => generation.current++;
    const timer = setInterval(() => {
      if (document.visibilityState !== 'hidden' && (!keepRefreshing.current || keepRefreshing.current())) reload();
    }, refreshMs);
    return () => {
      clearInterval(timer);
      generation.current++;
    };
  }, [reload, refreshMs]);
  return { ...state, reload };
}

export function LoadError({ error }) {
  return error ? html`<p class="notice error" role="alert">Could not load: ${error}</p>` : null;
}
