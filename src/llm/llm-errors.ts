import { GroundworkError } from '../errors/groundwork-error.js';

/** A prompt was rendered without values for some of its variables. */
export class PromptVariableError extends GroundworkError {
  readonly promptName: string;
  /** Every variable that had no value, in template order. */
  readonly missing: readonly string[];

  constructor(promptName: string, missing: readonly string[]) {
    const list = missing.map((name) => `"${name}"`).join(', ');
    super(
      'prompt_variables_missing',
      `Prompt "${promptName}" is missing ${missing.length === 1 ? 'variable' : 'variables'} ${list}: pass them in the context or give defaults.`,
    );
    this.promptName = promptName;
    this.missing = missing;
  }
}

/**
 * The model's answer was not valid JSON or did not match the prompt's schema, even after the
 * repair requests. `content` holds the last raw answer; it is not enumerable, so logging the
 * error does not log the answer.
 */
export class StructuredOutputError extends GroundworkError {
  readonly promptName: string | undefined;
  /** What was wrong with the last answer. */
  readonly problem: string;
  /** Answers received, the first included. */
  readonly answers: number;
  declare readonly content: string;

  constructor(options: { promptName?: string | undefined; problem: string; content: string; answers: number }) {
    const where = options.promptName === undefined ? 'The answer' : `The answer to prompt "${options.promptName}"`;
    super(
      'structured_output_invalid',
      `${where} did not match its schema after ${options.answers} ${options.answers === 1 ? 'answer' : 'answers'}: ${options.problem}. The raw answer is on error.content.`,
    );
    this.promptName = options.promptName;
    this.problem = options.problem;
    this.answers = options.answers;
    Object.defineProperty(this, 'content', { value: options.content, enumerable: false });
  }
}

/** The LLM client was closed; create a new one. */
export class LlmClientClosedError extends GroundworkError {
  constructor() {
    super('llm_client_closed', 'The LLM client is closed; create a new one (or a new Groundwork instance).');
  }
}

/** A call was refused before reaching any provider because its input is invalid. */
export class LlmRequestError extends GroundworkError {
  /** Every problem found, e.g. `messages: must not be empty`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('llm_invalid_request', `Invalid LLM request: ${problems.join('; ')}.`);
    this.problems = problems;
  }
}

/**
 * The model refused, so a prompt with a schema has no `data`. `refusal` holds the model's words;
 * like an answer's text, it is not enumerable, so logging the error does not log it.
 */
export class LlmRefusalError extends GroundworkError {
  readonly promptName: string | undefined;
  declare readonly refusal: string;

  constructor(options: { promptName?: string | undefined; refusal: string }) {
    const where = options.promptName === undefined ? 'the request' : `prompt "${options.promptName}"`;
    super(
      'llm_refusal',
      `The model refused to answer ${where}, so there is no structured data; its words are on error.refusal. Rephrase the input or handle the refusal.`,
    );
    this.promptName = options.promptName;
    Object.defineProperty(this, 'refusal', { value: options.refusal, enumerable: false });
  }
}
