import { validateOpenAiSchema } from '../../test/openai-spec.js';

/** A `fetch` for clients under test that checks every chat answer it receives against OpenAI's spec. */
export interface SpecCheckingFetch {
  fetch: typeof fetch;
  /** Answers and chunks checked so far. */
  readonly checked: number;
  /** Waits for the checks of every answer received so far; returns their problems (empty: all valid). */
  problems(): Promise<string[]>;
}

/**
 * Wraps `fetch`: each `/chat/completions` answer is read a second time (the client reads its own
 * copy), and validated as `CreateChatCompletionResponse`, or chunk by chunk as
 * `CreateChatCompletionStreamResponse` when it is an event stream. Error answers are left to the tests.
 */
export function specCheckingFetch(): SpecCheckingFetch {
  const pending: Array<Promise<string[]>> = [];
  let checked = 0;
  const check = async (response: Response): Promise<string[]> => {
    const text = await response.text();
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      checked++;
      return validateOpenAiSchema('CreateChatCompletionResponse', JSON.parse(text)).map((problem) => `answer ${problem}`);
    }
    const problems: string[] = [];
    for (const event of text.split('\n\n')) {
      const data = event.startsWith('data: ') ? event.slice('data: '.length) : undefined;
      if (data === undefined || data === '[DONE]') continue;
      checked++;
      problems.push(
        ...validateOpenAiSchema('CreateChatCompletionStreamResponse', JSON.parse(data)).map((problem) => `chunk ${problem}: ${data}`),
      );
    }
    return problems;
  };
  return {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (response.ok && new URL(url).pathname.endsWith('/chat/completions')) pending.push(check(response.clone()));
      return response;
    },
    get checked() {
      return checked;
    },
    async problems() {
      return (await Promise.all(pending)).flat();
    },
  };
}
