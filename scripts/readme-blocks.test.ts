import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { actionOf, blockFile, extractBlocks } from './readme-blocks.js';

const fence = '```';

describe('the README blocks check', () => {
  it('finds a block indented under a list item, with its code unindented', () => {
    const text = ['1. Start it:', '', `   ${fence}sh`, '   groundwork doctor', '   echo done', `   ${fence}`, '', 'After.'].join('\n');
    const blocks = extractBlocks('README.md', text);
    expect(blocks).toEqual([{ document: 'README.md', line: 3, language: 'sh', flags: [], code: 'groundwork doctor\necho done' }]);
  });

  it('finds tilde fences and a longer fence holding a shorter one', () => {
    const text = ['~~~ts', 'const a = 1;', '~~~', '````md', `${fence}ts`, 'inner', fence, '````'].join('\n');
    const blocks = extractBlocks('README.md', text);
    expect(blocks.map((block) => [block.line, block.language, block.code])).toEqual([
      [1, 'ts', 'const a = 1;'],
      [4, 'md', `${fence}ts\ninner\n${fence}`],
    ]);
  });

  it('runs bash and shell blocks as it runs sh ones, and TypeScript by either name', () => {
    const blocks = extractBlocks(
      'README.md',
      [
        `${fence}bash`,
        'echo 1',
        fence,
        `${fence}shell`,
        'echo 2',
        fence,
        `${fence}bash no-run`,
        'serve',
        fence,
        `${fence}typescript`,
        'x',
        fence,
      ].join('\n'),
    );
    expect(blocks.map(actionOf)).toEqual(['run-sh', 'run-sh', 'show', 'run-ts']);
  });

  it('shows other languages, and flagged blocks, without running them', () => {
    const blocks = extractBlocks(
      'README.md',
      [`${fence}python`, 'print(1)', fence, `${fence}ts typecheck`, 'x', fence, fence, 'out', fence].join('\n'),
    );
    expect(blocks.map(actionOf)).toEqual(['show', 'typecheck', 'show']);
  });
});

describe("the README blocks check's type errors", () => {
  it('name the document and line of the code, not the scratch file', async () => {
    const { placeDiagnostics } = await import('./readme-blocks.js');
    const blocks = extractBlocks('README.md', ['# Title', '', `${fence}ts`, 'const a = 1;', 'const b: string = a;', fence].join('\n'));
    const examples = extractBlocks('examples/README.md', ['', `${fence}ts`, 'import x from "./x.js";', fence].join('\n'));
    const output = [
      ".readme-check/block-0.ts(2,7): error TS2322: Type 'number' is not assignable to type 'string'.",
      'examples/vocabulary/.readme-block-1.ts(1,15): error TS2307: Cannot find module',
    ].join('\n');
    expect(placeDiagnostics(output, [...blocks, ...examples])).toBe(
      [
        "README.md:5:7: error TS2322: Type 'number' is not assignable to type 'string'.",
        'examples/README.md:3:15: error TS2307: Cannot find module',
      ].join('\n'),
    );
  });
});

describe("a README block's '// in:' directory", () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const block = (code: string) => extractBlocks('README.md', [`${fence}ts`, code, 'const a = 1;', fence].join('\n'))[0]!;

  it('writes the block into a directory of the checkout', () => {
    expect(blockFile(root, '/scratch', 4, block('// in: examples'))).toEqual({ file: join(root, 'examples', '.readme-block-4.ts') });
    expect(blockFile(root, '/scratch', 4, block('// a comment'))).toEqual({ file: join('/scratch', 'block-4.ts') });
  });

  it('names the line of a directory that does not exist, rather than stopping the check with a stack trace', () => {
    expect(blockFile(root, '/scratch', 4, block('// in: examples/no-such-place'))).toEqual({
      problem: "README.md:2: '// in: examples/no-such-place' names no directory of the checkout",
    });
  });
});
