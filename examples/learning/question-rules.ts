/** The fewest and most options a question may have. */
export const MIN_OPTIONS = 2;
export const MAX_OPTIONS = 6;

/** The shape every rule reads. */
export interface QuestionShape {
  question: string;
  options: readonly string[];
  correctIndex: number;
}

/** An option as a reader tells options apart: Unicode-normalised, lower case, spacing and final punctuation ignored. */
export function normalizeOption(option: string): string {
  return option
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/gu, ' ')
    .replace(/[\s.!?;:,]+$/u, '')
    .trim();
}

/**
 * What is wrong with a multiple-choice question beyond its JSON shape: a blank question,
 * fewer than {@link MIN_OPTIONS} or more than {@link MAX_OPTIONS} options, a blank option,
 * options that are the same once normalised, or a `correctIndex` that names no option.
 * Empty when the question is sound.
 */
export function questionProblems(question: QuestionShape): string[] {
  const problems: string[] = [];
  if (question.question.trim() === '') problems.push('the question is blank');
  const count = question.options.length;
  if (count < MIN_OPTIONS || count > MAX_OPTIONS)
    problems.push(`has ${count} options; between ${MIN_OPTIONS} and ${MAX_OPTIONS} are needed`);
  const normalized = question.options.map(normalizeOption);
  if (normalized.some((option) => option === '')) problems.push('an option is blank');
  const duplicates = normalized.filter((option, index) => option !== '' && normalized.indexOf(option) !== index);
  if (duplicates.length > 0) problems.push(`options repeat: ${[...new Set(duplicates)].map((option) => `"${option}"`).join(', ')}`);
  if (!Number.isInteger(question.correctIndex) || question.correctIndex < 0 || question.correctIndex >= count) {
    problems.push(`correctIndex ${question.correctIndex} names no option (0 to ${count - 1})`);
  }
  return problems;
}
