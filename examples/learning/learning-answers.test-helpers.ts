/** Three sound questions on photosynthesis, as the model answers them. */
export const PHOTOSYNTHESIS = {
  questions: [
    {
      question: 'Which gas do plants take in for photosynthesis?',
      options: ['Oxygen', 'Carbon dioxide', 'Nitrogen', 'Helium'],
      correctIndex: 1,
      explanation: 'Plants fix carbon dioxide from the air into sugars.',
    },
    {
      question: 'Where in the plant cell does photosynthesis take place?',
      options: ['Mitochondria', 'Nucleus', 'Chloroplasts', 'Ribosomes'],
      correctIndex: 2,
      explanation: 'Chloroplasts hold chlorophyll, which captures light.',
    },
    {
      question: 'Which of these is a product of photosynthesis?',
      options: ['Glucose', 'Carbon dioxide', 'Salt', 'Ammonia'],
      correctIndex: 0,
      explanation: 'Light energy is stored as glucose; oxygen is released.',
    },
  ],
};

/** The first answer with a broken question: two options the same once normalised. */
export const WITH_REPEATED_OPTIONS = {
  questions: [
    PHOTOSYNTHESIS.questions[0],
    { ...PHOTOSYNTHESIS.questions[1], options: ['Chloroplasts', 'chloroplasts.', 'Nucleus', 'Ribosomes'] },
  ],
};

/** An answer whose correctIndex names no option. */
export const WITH_INDEX_OUT_OF_RANGE = {
  questions: [{ ...PHOTOSYNTHESIS.questions[0], correctIndex: 4 }],
};
