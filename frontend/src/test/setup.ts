// jsdom lacks matchMedia, which antd's responsive components use.
if (!window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({ matches: false, media: query, onchange: null, addListener() {}, removeListener() {}, addEventListener() {}, removeEventListener() {}, dispatchEvent: () => false }) as MediaQueryList;
}

// Unmount what each test rendered (vitest runs without globals, so no automatic cleanup).
import { afterEach } from 'vitest';
import { cleanup, configure } from '@testing-library/react';
afterEach(() => cleanup());

// Lazy screens and antd take a while to render on a loaded 2-core machine: give the
// findBy*/waitFor queries room (they still fail when the element never appears).
configure({ asyncUtilTimeout: 8000 });

// jsdom does not implement pseudo-element styles (antd measures scrollbars with them).
const computedStyle = window.getComputedStyle.bind(window);
window.getComputedStyle = (elt: Element) => computedStyle(elt);
