// A navigation blocker for pages with unsaved edits. While `active`:
// - closing or reloading the browser tab asks the browser's own question
//   (beforeunload);
// - a click on a hash link to another page is held back and reported
//   through onBlocked (the page asks, then calls leave(target));
// - any other hash change to another page (back button, typed URL, a
//   navigate() call) is undone before the router renders it, then reported
//   the same way.
// Hash changes that stay on the same page (query changes such as tabs) pass.
import { useCallback, useEffect, useRef } from 'react';
import { parseHash } from '../../app/router';

export interface LeaveGuard {
  /** Leaves to target (a "#/…" hash) without asking. */
  leave: (target: string) => void;
}

export function useLeaveGuard(active: boolean, onBlocked: (target: string) => void): LeaveGuard {
  const activeRef = useRef(active);
  const blockedRef = useRef(onBlocked);
  const bypass = useRef(false);
  useEffect(() => {
    activeRef.current = active;
    blockedRef.current = onBlocked;
  });

  useEffect(() => {
    const home = parseHash(window.location.hash).path;
    // The last URL this page accepted, to go back to when a change is refused.
    let lastUrl = window.location.href;
    const leaving = (hash: string) => parseHash(hash).path !== home;

    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (!activeRef.current || bypass.current) return;
      // preventDefault is what current browsers need to ask.
      e.preventDefault();
    };
    const onClick = (e: MouseEvent) => {
      if (!activeRef.current || bypass.current || e.defaultPrevented || e.button !== 0) return;
      if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
      if (!(a instanceof HTMLAnchorElement) || (a.target && a.target !== '_self')) return;
      const href = a.getAttribute('href') ?? '';
      if (!href.startsWith('#') || !leaving(href)) return;
      e.preventDefault();
      e.stopPropagation();
      blockedRef.current(href);
    };
    const onHashChange = () => {
      const hash = window.location.hash;
      if (activeRef.current && !bypass.current && leaving(hash)) {
        // Registered in the capture phase, so this runs before the router's
        // listener: it then reads the restored hash and stays on this page.
        window.history.replaceState(window.history.state, '', lastUrl);
        blockedRef.current(hash);
        return;
      }
      lastUrl = window.location.href;
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    document.addEventListener('click', onClick, true);
    window.addEventListener('hashchange', onHashChange, true);
    return () => {
      window.removeEventListener('beforeunload', onBeforeUnload);
      document.removeEventListener('click', onClick, true);
      window.removeEventListener('hashchange', onHashChange, true);
    };
  }, []);

  const leave = useCallback((target: string) => {
    bypass.current = true;
    window.location.hash = target.startsWith('#') ? target.slice(1) : target;
  }, []);
  return { leave };
}
