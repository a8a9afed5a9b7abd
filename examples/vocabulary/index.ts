/**
 * The vocabulary example: word translation and answer checking on Groundwork.
 * @module
 */
export { editDistance } from './edit-distance.js';
export { checkAnswerLocally, type LocalCheck, type LocalMatch, typoAllowance } from './local-check.js';
export { localComment } from './local-comment.js';
export { normalizeAnswer, stripDiacritics } from './normalize-answer.js';
export { translateWordPrompt, translationSchema, validateAnswerPrompt, verdictSchema } from './prompts.js';
export { type PromptRunner, type Translation, translateWord } from './translate-word.js';
export { type AnswerVerdict, validateAnswer } from './validate-answer.js';
