import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/*
 * Every type a facade signature names — a method's parameter or result, an option of
 * `createInfrastructure`, a part of a response or of a stream — can be imported from the package
 * root, so an application annotates its own code without reaching into a subpath for it.
 */
const FACADE_TYPES = [
  // Infrastructure: initDb(), migrationStatus(), health(), clock, the options' migrations and providers
  'MigrationReport',
  'MigrationState',
  'AppMigrations',
  'Clock',
  'HealthCheck',
  'ConfigSourceOptions',
  'AzureTokenProvider',
  'LlmProvider',
  'PoolStats',
  // LlmResponse, LlmStreamEvent, LlmCallOptions and EmbedResult
  'FinishReason',
  'AttemptRecord',
  'LlmStreamStart',
  'TextDelta',
  'RefusalDelta',
  'ToolCallDelta',
  'LogprobsDelta',
  'ReasoningDelta',
  // ChatMessage's parts: the images an assistant message gives back
  'AnswerImagePart',
  'CacheOption',
  'UsageAttribution',
  'EmbeddingUsage',
  // definePrompt's variables
  'PromptValue',
  'TemplateVariables',
];

describe('the package root', () => {
  it('exports every type the facade names', () => {
    const root = fileURLToPath(new URL('./', import.meta.url));
    const probe = `${root}root-types-probe.ts`;
    const source = `import type { ${FACADE_TYPES.join(', ')} } from './index.js';\nexport type Probe = [${FACADE_TYPES.map((name) => (name === 'TemplateVariables' ? `${name}<'x'>` : name)).join(', ')}];\n`;
    const configFile = ts.readConfigFile(fileURLToPath(new URL('../tsconfig.json', import.meta.url)), (path) => ts.sys.readFile(path));
    const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, fileURLToPath(new URL('../', import.meta.url)));
    const host = ts.createCompilerHost({ ...options, noEmit: true });
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, languageVersion, ...rest) =>
      fileName === probe ? ts.createSourceFile(fileName, source, languageVersion) : getSourceFile(fileName, languageVersion, ...rest);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (fileName) => fileName === probe || fileExists(fileName);
    const program = ts.createProgram([probe], { ...options, noEmit: true }, host);
    const problems = ts
      .getPreEmitDiagnostics(program, program.getSourceFile(probe))
      .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    expect(problems).toEqual([]);
  }, 60_000);
});
