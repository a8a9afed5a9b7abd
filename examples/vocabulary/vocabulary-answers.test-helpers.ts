/** A realistic answer to `translateWordPrompt` for hello → Russian. */
export const HELLO_IN_RUSSIAN = {
  word: 'hello',
  translations: ['привет', 'здравствуйте'],
  examples: [
    { source: 'Hello, how are you?', target: 'Привет, как дела?' },
    { source: 'She said hello to the teacher.', target: 'Она поздоровалась с учителем.' },
  ],
  wordForms: [
    { form: 'plural', value: 'hellos' },
    { form: 'verb', value: 'to hello' },
  ],
};

/** The model's verdict on a right answer. */
export const RIGHT = { isCorrect: true, comment: 'Правильно!' };

/** The model's verdict on a synonym the local check would reject. */
export const SYNONYM_ACCEPTED = { isCorrect: true, comment: 'Верно: «здравствуйте» — вежливый вариант.' };
