// Preact with htm's tagged templates: components without a JSX compiler or a bundler.
import { h, render } from './vendor/preact.mjs';
import htm from './vendor/htm.mjs';

export { render };
export { useCallback, useEffect, useRef, useState } from './vendor/hooks.mjs';
export const html = htm.bind(h);
