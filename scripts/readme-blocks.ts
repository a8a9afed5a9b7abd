/** The fenced code blocks of a Markdown document, and what `check-readme-blocks` does with each. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface Block {
  document: string;
  line: number;
  language: string;
  flags: string[];
  code: string;
}

/**
 * Every fenced block, as CommonMark reads them: backtick or tilde fences of three or more, closed by
 * a fence of the same character at least as long, indented or not (a block under a list item is
 * indented); the code loses the opening fence's indentation.
 */
export function extractBlocks(document: string, text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/.exec(lines[index] ?? '');
    if (open === null) continue;
    const indent = open[1]?.length ?? 0;
    const marker = open[2] ?? '```';
    const close = new RegExp(`^\\s*${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`);
    const start = index;
    const body: string[] = [];
    for (index++; index < lines.length && !close.test(lines[index] ?? ''); index++) {
      const line = lines[index] ?? '';
      const leading = /^\s*/.exec(line)?.[0].length ?? 0;
      body.push(line.slice(Math.min(indent, leading)));
    }
    blocks.push({
      document,
      line: start + 1,
      language: open[3] ?? '',
      flags: (open[4] ?? '').split(/\s+/).filter(Boolean),
      code: body.join('\n'),
    });
  }
  return blocks;
}

/** What is done with a block: see `check-readme-blocks.ts`. */
export type BlockAction = 'run-ts' | 'typecheck' | 'run-sh' | 'show';

const TYPESCRIPT = new Set(['ts', 'typescript']);
const SHELL = new Set(['sh', 'bash', 'shell']);

export function actionOf(block: Block): BlockAction {
  const language = block.language.toLowerCase();
  if (TYPESCRIPT.has(language)) return block.flags.includes('typecheck') ? 'typecheck' : 'run-ts';
  if (SHELL.has(language) && !block.flags.includes('no-run')) return 'run-sh';
  return 'show';
}

/**
 * tsc's diagnostics with each block's scratch file (`block-N.ts`, `.readme-block-N.ts`, N its index
 * in `blocks`) and position replaced by the document and line the code stands at.
 */
export function placeDiagnostics(output: string, blocks: readonly Block[]): string {
  return output.replace(
    /(?:[^\s(]*[\\/])?\.?(?:readme-)?block-(\d+)\.ts\((\d+),(\d+)\)/g,
    (found, index: string, row: string, column: string) => {
      const block = blocks[Number(index)];
      return block === undefined ? found : `${block.document}:${block.line + Number(row)}:${column}`;
    },
  );
}

/**
 * Where a TypeScript block is written to be checked: the scratch directory, or the directory its
 * first line `// in: DIR` names (relative to the checkout); a problem when DIR is not a directory.
 */
export function blockFile(root: string, scratch: string, index: number, block: Block): { file: string } | { problem: string } {
  const into = /^\/\/ in: (\S+)/.exec(block.code)?.[1];
  if (into === undefined) return { file: join(scratch, `block-${index}.ts`) };
  const directory = join(root, into);
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    return { problem: `${block.document}:${block.line + 1}: '// in: ${into}' names no directory of the checkout` };
  }
  return { file: join(directory, `.readme-block-${index}.ts`) };
}
