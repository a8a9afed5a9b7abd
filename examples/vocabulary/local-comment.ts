import type { LocalCheck } from './local-check.js';

/** The comment for a local verdict; it always says the check was local. */
export function localComment(check: LocalCheck): string {
  const prefix = 'Checked locally (the language model is unavailable): ';
  switch (check.match) {
    case 'exact':
      return `${prefix}correct.`;
    case 'accents':
      return `${prefix}correct, but mind the accents: "${check.closest}".`;
    case 'typo':
      return `${prefix}correct with a small typo (${check.distance} ${check.distance === 1 ? 'letter' : 'letters'}); the spelling is "${check.closest}".`;
    case 'none':
      return `${prefix}incorrect; expected "${check.closest}".`;
  }
}
