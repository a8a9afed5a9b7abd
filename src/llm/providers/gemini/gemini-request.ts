import type { FunctionCallingConfigMode, GenerateContentConfig, GenerateContentParameters, ThinkingConfig } from '@google/genai';
import type { ChatRequest, ReasoningEffort } from '../../types.js';
import { withJsonInstructions } from '../structured-instructions.js';
import { toGeminiContents } from './convert-to-gemini-contents.js';

/**
 * `reasoningEffort` as a Gemini thinking budget, in tokens: `none` turns thinking off (0), `max`
 * lets the model decide (-1, dynamic thinking).
 */
export const GEMINI_THINKING_BUDGETS: Readonly<Record<ReasoningEffort, number>> = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24_576,
  xhigh: 32_768,
  max: -1,
};

/**
 * The thinking budget for `effort`, and, when thinking is on, `includeThoughts`: without it Gemini
 * thinks but sends no thought parts, and the answer has no `reasoning_content`.
 */
function thinkingConfig(effort: ReasoningEffort): ThinkingConfig {
  const thinkingBudget = GEMINI_THINKING_BUDGETS[effort];
  return thinkingBudget === 0 ? { thinkingBudget } : { thinkingBudget, includeThoughts: true };
}

/** `tool_choice` as Gemini's function-calling mode (the SDK's enum values are these strings). */
function functionCalling(request: ChatRequest): GenerateContentConfig['toolConfig'] {
  const choice = request.toolChoice;
  if (choice === undefined) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' as FunctionCallingConfigMode } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' as FunctionCallingConfigMode } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' as FunctionCallingConfigMode } };
  return { functionCallingConfig: { mode: 'ANY' as FunctionCallingConfigMode, allowedFunctionNames: [choice.name] } };
}

/**
 * Whether `model` takes a JSON response mime type alongside function declarations: Gemini 3 and
 * later do; earlier models (Gemini 2.5 included) answer 400 "Tool use with a response mime type:
 * 'application/json' is unsupported". A name without a version counts as earlier.
 */
export function geminiJsonWithTools(model: string): boolean {
  const version = /gemini-(\d+)/i.exec(model);
  return version !== null && Number(version[1]) >= 3;
}

/**
 * The `generateContent` parameters for `request` (without the abort signal): contents and system
 * instruction, sampling settings, `candidateCount` for `n`, tools as function declarations with
 * their JSON Schema as it is (`parametersJsonSchema`), `tool_choice` as the function-calling mode,
 * structured output natively (`responseMimeType: application/json`, and `responseJsonSchema` for a
 * schema) — or, with tools on a model before Gemini 3 ({@link geminiJsonWithTools}), as an
 * instruction in the system instruction that carries the schema — and `reasoningEffort` as a
 * thinking budget, asking for the thoughts when thinking is on. Fields Gemini lacks are refused before this
 * runs ({@link geminiUnsupportedFields}).
 */
export function toGeminiParams(request: ChatRequest, model: string): GenerateContentParameters {
  const format = request.responseFormat;
  const tools = request.tools ?? [];
  const hasTools = tools.length > 0;
  const native = format !== undefined && format.type !== 'text' && (!hasTools || geminiJsonWithTools(model));
  const messages = native ? request.messages : withJsonInstructions(request.messages, format);
  const { systemInstruction, contents } = toGeminiContents(messages);
  const config: GenerateContentConfig = {};
  if (systemInstruction !== undefined) config.systemInstruction = systemInstruction;
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.topP !== undefined) config.topP = request.topP;
  if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens;
  if (request.stop !== undefined && request.stop.length > 0) config.stopSequences = request.stop;
  if (request.seed !== undefined) config.seed = request.seed;
  if (request.presencePenalty !== undefined) config.presencePenalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) config.frequencyPenalty = request.frequencyPenalty;
  if (request.n !== undefined && request.n > 1) config.candidateCount = request.n;
  if (native && format.type === 'json_object') config.responseMimeType = 'application/json';
  if (native && format.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    config.responseJsonSchema = format.schema;
  }
  if (hasTools) {
    config.tools = [
      {
        functionDeclarations: tools.map((tool) => ({
          name: tool.name,
          ...(tool.description === undefined ? {} : { description: tool.description }),
          parametersJsonSchema: tool.parameters ?? { type: 'object', properties: {} },
        })),
      },
    ];
  }
  const toolConfig = functionCalling(request);
  if (toolConfig !== undefined) config.toolConfig = toolConfig;
  if (request.reasoningEffort !== undefined) config.thinkingConfig = thinkingConfig(request.reasoningEffort);
  return { model, contents, config };
}
