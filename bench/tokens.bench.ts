import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { approximateTokens } from '../src/resilience/approximate-tokens.js';
import { countTokens, estimateTokens, reserveTokens } from '../src/resilience/estimate-tokens.js';
import { type BenchResult, round } from './harness.js';

const ROUNDS = 7;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Texts of several kinds, from this repository and a few languages. */
function samples() {
  return {
    english_markdown: readFileSync(join(root, 'README.md'), 'utf8'),
    typescript: readFileSync(join(root, 'src/db/session-runner.ts'), 'utf8'),
    json: readFileSync(join(root, 'package-lock.json'), 'utf8').slice(0, 30_000),
    chinese: '人工智能是计算机科学的一个分支，它企图了解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器。'.repeat(20),
    russian:
      'Искусственный интеллект — свойство интеллектуальных систем выполнять творческие функции, которые традиционно считаются прерогативой человека. '.repeat(
        20,
      ),
    german:
      'Künstliche Intelligenz ist ein Teilgebiet der Informatik, das sich mit der Automatisierung intelligenten Verhaltens befasst. '.repeat(
        20,
      ),
    french:
      "L'intelligence artificielle est un ensemble de théories et de techniques mises en œuvre en vue de réaliser des machines capables de simuler l'intelligence humaine. ".repeat(
        20,
      ),
    emoji_chat: 'Great job 🎉🎉 see you 👋 tomorrow! '.repeat(30),
  };
}

function syncMs(operation: () => unknown): number {
  const started = performance.now();
  operation();
  return performance.now() - started;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

/** The first call in a fresh process, where js-tiktoken loads its ranks: milliseconds of event-loop block. */
function firstCallMs(): { approximate: number; tiktoken: number } {
  const script = `
    const { reserveTokens, estimateTokens } = await import('./src/resilience/estimate-tokens.ts');
    const messages = [{ role: 'user', content: 'Translate "hello" into French.' }];
    let started = performance.now(); reserveTokens(messages, 256); const approximate = performance.now() - started;
    started = performance.now(); estimateTokens(messages, 'gpt-4o', 256); const tiktoken = performance.now() - started;
    console.log(JSON.stringify({ approximate, tiktoken }));`;
  const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  return JSON.parse(output.trim().split('\n').pop() as string) as { approximate: number; tiktoken: number };
}

/**
 * The tokens-per-minute reservation: js-tiktoken (`estimateTokens`, exact) against the
 * tokenizer-free estimate (`reserveTokens`) that `LLM_TOKENS_PER_MINUTE` now uses.
 */
export default async function benchTokens(): Promise<BenchResult> {
  const texts = samples();
  const prompt = texts.english_markdown.repeat(2).slice(0, 32 * 1024);
  const messages = [{ role: 'user' as const, content: prompt }];
  const firstRuns = [firstCallMs(), firstCallMs(), firstCallMs()];
  // Warm both (the tokenizer's load is measured above, in fresh processes).
  estimateTokens(messages, 'gpt-4o', 256);
  reserveTokens(messages, 256);
  const tiktokenMs: number[] = [];
  const approximateMs: number[] = [];
  for (let index = 0; index < ROUNDS; index++) {
    tiktokenMs.push(syncMs(() => estimateTokens(messages, 'gpt-4o', 256)));
    approximateMs.push(syncMs(() => reserveTokens(messages, 256)));
  }
  const rows: BenchResult['rows'] = [
    {
      subject: 'js-tiktoken (estimateTokens): 32 KB prompt',
      block_ms_median: round(median(tiktokenMs)),
      block_ms_max: round(Math.max(...tiktokenMs)),
      first_call_ms: round(median(firstRuns.map((run) => run.tiktoken))),
    },
    {
      subject: 'approximate (reserveTokens): 32 KB prompt',
      block_ms_median: round(median(approximateMs)),
      block_ms_max: round(Math.max(...approximateMs)),
      first_call_ms: round(median(firstRuns.map((run) => run.approximate))),
    },
  ];
  const ratios: BenchResult['ratios'] = {
    ratio_block_tiktoken_over_approximate: round(median(tiktokenMs) / median(approximateMs)),
    approximate_block_ms_32kb: round(median(approximateMs)),
    approximate_first_call_ms: rows[1]?.first_call_ms as number,
    tiktoken_first_call_ms: rows[0]?.first_call_ms as number,
  };
  for (const [name, text] of Object.entries(texts)) {
    const exact = countTokens(text, 'gpt-4o');
    rows.push({
      subject: `accuracy: ${name}`,
      o200k_tokens: exact,
      approximate_tokens: approximateTokens(text),
      chars_div_4: Math.ceil(text.length / 4),
    });
    ratios[`accuracy_${name}_approximate_over_o200k`] = round(approximateTokens(text) / exact);
    ratios[`accuracy_${name}_chars4_over_o200k`] = round(Math.ceil(text.length / 4) / exact);
  }
  return {
    name: 'tokens',
    description: `Event-loop block of the tokens-per-minute reservation for a 32 KB prompt (median and max of ${ROUNDS} alternating rounds), its first call in a fresh process (median of 3), and the estimate's accuracy against js-tiktoken's o200k_base.`,
    rows,
    ratios,
  };
}
