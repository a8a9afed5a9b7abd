import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { PromptVariableError } from './llm-errors.js';
import { definePrompt } from './prompt.js';
import { PromptRegistry } from './prompt-registry.js';

describe('definePrompt', () => {
  const registry = new PromptRegistry();
  const translate = definePrompt(
    {
      name: 'translate-word',
      version: 1,
      system: 'You translate from {{source}}.',
      template: 'Translate "{{ word }}" to {{target}}.',
      schema: z.object({ translations: z.array(z.string()) }),
      defaults: { source: 'English' },
      temperature: 0,
    },
    { registry },
  );

  it('renders system and user messages with defaults', () => {
    expect(translate.render({ word: 'hello', target: 'German' })).toEqual([
      { role: 'system', content: 'You translate from English.' },
      { role: 'user', content: 'Translate "hello" to German.' },
    ]);
    expect(translate.variables).toEqual(['source', 'word', 'target']);
  });

  it('names every missing variable', () => {
    const render = (): unknown => translate.render({} as never);
    expect(render).toThrow(PromptVariableError);
    expect(render).toThrow(/missing variables "word", "target"/);
    try {
      render();
    } catch (error) {
      expect((error as PromptVariableError).missing).toEqual(['word', 'target']);
    }
  });

  it('infers variables and output from the definition', () => {
    expectTypeOf(translate.render)
      .parameter(0)
      .toEqualTypeOf<{ word: string | number | boolean; target: string | number | boolean } & { source?: string | number | boolean }>();
    // @ts-expect-error `target` is required
    expect(() => translate.render({ word: 'x' })).toThrow(PromptVariableError);
  });

  it('derives a strict json_schema response format from the schema', () => {
    expect(translate.responseFormat).toMatchObject({ type: 'json_schema', name: 'translate-word', strict: true });
    const loose = definePrompt({ name: 'loose', version: 1, template: 'x', schema: z.object({ a: z.string().optional() }) }, { registry });
    expect(loose.responseFormat).toMatchObject({ strict: false });
  });

  it('leaves strict off for a schema strict mode would refuse, and on for a closed recursive one', () => {
    const formats = new PromptRegistry();
    const format = (name: string, schema: z.ZodType) =>
      definePrompt({ name, version: 1, template: 'x', schema }, { registry: formats }).responseFormat;
    // `unknown`, `any` and a transform become `{}`, which says nothing of the value; `never` becomes `not`.
    expect(format('free-field', z.object({ note: z.string(), extra: z.unknown() }))).toMatchObject({ strict: false });
    expect(format('any-items', z.object({ tags: z.array(z.any()) }))).toMatchObject({ strict: false });
    expect(format('transformed', z.object({ size: z.string().transform((text) => text.length) }))).toMatchObject({ strict: false });
    expect(format('never', z.object({ a: z.string(), b: z.never() }))).toMatchObject({ strict: false });
    interface Node {
      name: string;
      children: Node[];
    }
    const node: z.ZodType<Node> = z.object({ name: z.string(), children: z.array(z.lazy(() => node)) });
    expect(format('tree', node)).toMatchObject({ strict: true });
    expect(format('choice', z.object({ a: z.union([z.string(), z.number()]).nullable(), b: z.enum(['x', 'y']) }))).toMatchObject({
      strict: true,
    });
  });

  it('lists defined prompts and refuses new text under an old version', () => {
    expect(registry.list().map((prompt) => `${prompt.name}@${prompt.version}`)).toEqual(['loose@1', 'translate-word@1']);
    expect(() => definePrompt({ name: 'translate-word', version: 1, template: 'changed {{word}}' }, { registry })).toThrow(/new version/);
    definePrompt({ name: 'translate-word', version: 2, template: 'changed {{word}}' }, { registry });
    expect(registry.get('translate-word')?.version).toBe('2');
  });

  it('gets the last registered version of a name, and lists versions in numeric order', () => {
    const versions = new PromptRegistry();
    for (const version of [2, 9, 10]) definePrompt({ name: 'grade', version, template: `v${version} {{answer}}` }, { registry: versions });
    expect(versions.get('grade')?.version).toBe('10');
    expect(versions.list().map((prompt) => prompt.version)).toEqual(['2', '9', '10']);
    definePrompt({ name: 'grade', version: '1.5', template: 'v1.5 {{answer}}' }, { registry: versions });
    expect(versions.get('grade')?.version).toBe('1.5');
  });
});
