import { definePrompt } from 'groundwork';
import { z } from 'zod';
import { questionProblems } from './question-rules.js';

/** One multiple-choice question, checked by {@link questionProblems} as well as by shape. */
export const questionSchema = z
  .object({
    question: z.string(),
    options: z.array(z.string()),
    correctIndex: z.number().int(),
    explanation: z.string(),
  })
  .superRefine((question, context) => {
    for (const problem of questionProblems(question)) context.addIssue({ code: 'custom', message: problem });
  });

/**
 * The model's answer: an object holding the questions (providers' structured output wants an
 * object at the root). The rules run inside the schema, so a broken question is sent back to the
 * model with the exact problem (Groundwork's repair request) before anything fails.
 */
export const questionsSchema = z.object({ questions: z.array(questionSchema).min(1) });

const GENERATE_QUESTIONS = {
  name: 'learning.generate-mcq',
  version: 1,
  system:
    'You write multiple-choice questions for learners. Each question has 4 options (never fewer than 2 or more than 6), ' +
    'all different, exactly one of them correct; correctIndex is the 0-based index of the correct option; ' +
    'the explanation says in one or two sentences why it is correct. Answer with JSON only: ' +
    '{"questions": [{"question": string, "options": string[], "correctIndex": number, "explanation": string}]}.',
  template: 'Write {{count}} multiple-choice questions about "{{topic}}" for a {{level}} learner.',
  defaults: { level: 'beginner' },
  temperature: 0.7,
} as const;

/** Writes multiple-choice questions on a topic; {@link generateQuestionsPromptFor} also holds the model to the count. */
export const generateQuestionsPrompt = definePrompt({ ...GENERATE_QUESTIONS, schema: questionsSchema });

const byCount = new Map<number, typeof generateQuestionsPrompt>();

/**
 * {@link generateQuestionsPrompt} whose schema also wants at least `count` questions, so a batch
 * that comes back short is sent back for repair (`2 questions; 3 were asked for`) rather than
 * stored short. Same name, version and text: the ledger counts both as one prompt.
 */
export function generateQuestionsPromptFor(count: number): typeof generateQuestionsPrompt {
  let prompt = byCount.get(count);
  if (prompt === undefined) {
    const schema = z.object({
      questions: z
        .array(questionSchema)
        .min(1)
        .superRefine((questions, context) => {
          if (questions.length < count)
            context.addIssue({ code: 'custom', message: `${questions.length} questions; ${count} were asked for` });
        }),
    });
    prompt = definePrompt({ ...GENERATE_QUESTIONS, schema });
    byCount.set(count, prompt);
  }
  return prompt;
}
