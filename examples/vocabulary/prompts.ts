import { definePrompt } from 'groundwork';
import { z } from 'zod';

/** The translation of one word, as the model answers it. */
export const translationSchema = z.object({
  word: z.string().min(1),
  translations: z.array(z.string().min(1)).min(1),
  examples: z.array(z.object({ source: z.string().min(1), target: z.string().min(1) })),
  wordForms: z.array(z.object({ form: z.string().min(1), value: z.string().min(1) })),
});

/** A verdict on a learner's answer, as the model answers it. */
export const verdictSchema = z.object({
  isCorrect: z.boolean(),
  comment: z.string(),
});

/** Translates one word with examples and word forms. */
export const translateWordPrompt = definePrompt({
  name: 'vocabulary.translate-word',
  version: 1,
  system:
    'You are a careful bilingual dictionary. Answer with JSON only: ' +
    '{"word": string, "translations": string[], "examples": [{"source": string, "target": string}], ' +
    '"wordForms": [{"form": string, "value": string}]}.',
  template:
    'Translate the {{sourceLanguage}} word "{{word}}" into {{targetLanguage}}. ' +
    'Give the common translations (most frequent first), two or three short example sentences ' +
    'in {{sourceLanguage}} with their {{targetLanguage}} translation, and the main grammatical forms ' +
    'of the {{sourceLanguage}} word (e.g. plural, past tense) as form/value pairs.',
  schema: translationSchema,
  temperature: 0,
});

/** Judges whether a learner's answer to a vocabulary question is right. */
export const validateAnswerPrompt = definePrompt({
  name: 'vocabulary.validate-answer',
  version: 1,
  system:
    'You check answers in a vocabulary exercise. Accept synonyms, other valid translations and ' +
    'small spelling mistakes; reject answers with a different meaning. Answer with JSON only: ' +
    '{"isCorrect": boolean, "comment": string}; write the comment in {{targetLanguage}}, one short sentence.',
  template:
    'The learner was asked to translate the {{sourceLanguage}} "{{question}}" into {{targetLanguage}}.\n' +
    'Expected answer: "{{expectedAnswer}}"\nLearner\'s answer: "{{userAnswer}}"',
  schema: verdictSchema,
  temperature: 0,
});
