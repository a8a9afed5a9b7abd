import { LLM_PROVIDERS, type LlmProviderName } from '../../config/variables.js';
import type {
  AssistantMessage,
  ChatMessage,
  ChatRequest,
  FunctionTool,
  ReasoningBlock,
  ReasoningEffort,
  ResponseFormat,
  TextPart,
  ToolCall,
  ToolChoice,
  UserContentPart,
} from '../types.js';
import type { ResponsesBody } from './responses-types.js';
import { ResponsesUnsupportedError } from './responses-unsupported-error.js';

/** A Responses request as a chat request, and whether it streams. */
export interface TranslatedRequest {
  request: ChatRequest;
  stream: boolean;
}

type Problem = { field: string; why: string };
type Json = Record<string, unknown>;

/** Top-level fields that carry no meaning for a translated call when absent, null or at their default. */
const NEUTRAL: Readonly<Record<string, (value: unknown) => boolean>> = {
  previous_response_id: (value) => value === null,
  conversation: (value) => value === null,
  background: (value) => value === false || value === null,
  prompt: (value) => value === null,
  truncation: (value) => value === 'disabled' || value === null,
  max_tool_calls: (value) => value === null,
  include: (value) => value === null || (Array.isArray(value) && value.length === 0),
  top_logprobs: (value) => value === null || value === 0,
  store: (value) => value === false || value === null,
  stream_options: () => true,
  context_management: (value) => value === null,
};

/** Why a top-level field cannot be translated. */
const WHY: Readonly<Record<string, string>> = {
  previous_response_id: 'responses are not stored without a Responses API upstream; send the whole conversation in `input`',
  conversation: 'conversations are not stored without a Responses API upstream',
  background: 'background mode needs a Responses API upstream',
  prompt: 'stored prompt templates live in OpenAI',
  truncation: 'only `disabled` can be honoured',
  max_tool_calls: 'applies to built-in tools only',
  include: 'extra output (logprobs, encrypted reasoning, tool results) has no chat counterpart here',
  top_logprobs: 'log probabilities are not translated',
  store: 'translated responses are not stored; send `store: false` or leave it out',
  context_management: 'needs a Responses API upstream',
};

/**
 * Translates a Responses API body (OpenAI's `CreateResponse`) to Groundwork's chat request, for a
 * provider without the Responses API. What maps: `instructions`, `input` as text or items
 * (messages with text, image and file parts, `function_call` and `function_call_output` items,
 * `image_generation_call` items, which a translated answer gives, as the images of the assistant
 * turn they follow; `reasoning` items, which it gives too, are answer-only and skipped, see
 * {@link ANSWER_ONLY_ITEMS}),
 * function `tools`, `tool_choice`, `parallel_tool_calls`, `text.format` (`text`, `json_object`,
 * `json_schema`) and `text.verbosity`, `temperature`, `top_p`, `max_output_tokens`,
 * `reasoning.effort`, `user`, `metadata`, `service_tier`, `safety_identifier`, `prompt_cache_key`.
 * Anything else is refused with one {@link ResponsesUnsupportedError} naming every field at fault.
 */
export function toChatRequest(body: ResponsesBody, provider: LlmProviderName): TranslatedRequest {
  const problems: Problem[] = [];
  const request: ChatRequest = { model: typeof body['model'] === 'string' ? body['model'] : '', messages: [] };
  if (request.model === '') problems.push({ field: 'model', why: 'a model name is required' });
  let stream = false;
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined) continue;
    switch (key) {
      case 'model':
      case 'input':
      case 'instructions':
      case 'tools':
        break;
      case 'stream':
        stream = value === true;
        break;
      case 'temperature':
        if (typeof value === 'number') request.temperature = value;
        else if (value !== null) problems.push({ field: key, why: 'must be a number' });
        break;
      case 'top_p':
        if (typeof value === 'number') request.topP = value;
        else if (value !== null) problems.push({ field: key, why: 'must be a number' });
        break;
      case 'max_output_tokens':
        if (typeof value === 'number') request.maxTokens = value;
        else if (value !== null) problems.push({ field: key, why: 'must be a number' });
        break;
      case 'parallel_tool_calls':
        if (typeof value === 'boolean') request.parallelToolCalls = value;
        else if (value !== null) problems.push({ field: key, why: 'must be a boolean' });
        break;
      case 'user':
        if (typeof value === 'string') request.user = value;
        else if (value !== null) problems.push({ field: key, why: 'must be a string' });
        break;
      case 'metadata':
        if (isObject(value)) request.metadata = value as Record<string, string>;
        else if (value !== null) problems.push({ field: key, why: 'must be an object' });
        break;
      case 'service_tier':
        if (typeof value === 'string') request.serviceTier = value;
        else if (value !== null) problems.push({ field: key, why: 'must be a string' });
        break;
      case 'safety_identifier':
      case 'prompt_cache_key':
        if (value !== null) request.passthrough = { ...request.passthrough, [key]: value };
        break;
      case 'tool_choice':
        translateToolChoice(value, request, problems);
        break;
      case 'text':
        translateText(value, request, problems);
        break;
      case 'reasoning':
        translateReasoning(value, request, problems);
        break;
      default: {
        const neutral = NEUTRAL[key];
        if (neutral === undefined) problems.push({ field: key, why: 'not a field that can be translated to a chat API' });
        else if (!neutral(value)) problems.push({ field: key, why: WHY[key] ?? 'cannot be translated' });
      }
    }
  }
  const instructions = body['instructions'];
  if (typeof instructions === 'string') request.messages.push({ role: 'system', content: instructions });
  else if (instructions !== undefined && instructions !== null)
    problems.push({ field: 'instructions', why: 'only text instructions can be translated' });
  translateInput(body['input'], request.messages, problems);
  const tools = body['tools'];
  if (Array.isArray(tools)) {
    const functions = tools.flatMap((tool, index) => translateTool(tool, index, problems));
    if (functions.length > 0) request.tools = functions;
  } else if (tools !== undefined && tools !== null) problems.push({ field: 'tools', why: 'must be an array' });
  if (problems.length > 0) throw new ResponsesUnsupportedError(provider, problems);
  return { request, stream };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function translateToolChoice(value: unknown, request: ChatRequest, problems: Problem[]): void {
  if (value === null) return;
  if (value === 'auto' || value === 'none' || value === 'required') {
    request.toolChoice = value;
    return;
  }
  if (isObject(value) && value['type'] === 'function' && typeof value['name'] === 'string') {
    request.toolChoice = { type: 'function', name: value['name'] } satisfies ToolChoice;
    return;
  }
  const type = isObject(value) ? String(value['type']) : typeof value;
  problems.push({ field: 'tool_choice', why: `a choice of type ${type} has no chat counterpart` });
}

function translateText(value: unknown, request: ChatRequest, problems: Problem[]): void {
  if (value === null) return;
  if (!isObject(value)) {
    problems.push({ field: 'text', why: 'must be an object' });
    return;
  }
  for (const [key, entry] of Object.entries(value)) {
    if (entry === undefined || entry === null) continue;
    if (key === 'verbosity') {
      if (entry === 'low' || entry === 'medium' || entry === 'high') request.verbosity = entry;
      else problems.push({ field: 'text.verbosity', why: 'must be low, medium or high' });
    } else if (key === 'format') {
      const format = toResponseFormat(entry, problems);
      if (format === undefined) problems.push({ field: 'text.format', why: 'must be text, json_object or json_schema with a schema' });
      else if (format.type !== 'text') request.responseFormat = format;
    } else problems.push({ field: `text.${key}`, why: 'cannot be translated' });
  }
}

/** `text.format` as a chat answer format; undefined when it is none; a problem for each of its fields of the wrong type. */
function toResponseFormat(value: unknown, problems: Problem[]): ResponseFormat | undefined {
  if (!isObject(value)) return undefined;
  if (value['type'] === 'text' || value['type'] === 'json_object') return { type: value['type'] };
  if (value['type'] !== 'json_schema' || !isObject(value['schema'])) return undefined;
  const { name, strict, description } = value;
  const format: ResponseFormat = { type: 'json_schema', name: typeof name === 'string' ? name : 'response', schema: value['schema'] };
  if (name !== undefined && name !== null && typeof name !== 'string')
    problems.push({ field: 'text.format.name', why: 'must be a string' });
  if (typeof strict === 'boolean') format.strict = strict;
  else if (strict !== undefined && strict !== null) problems.push({ field: 'text.format.strict', why: 'must be a boolean' });
  if (typeof description === 'string') format.description = description;
  else if (description !== undefined && description !== null) problems.push({ field: 'text.format.description', why: 'must be a string' });
  return format;
}

const EFFORTS: ReadonlySet<string> = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']);
/** The efforts as a refusal names them. */
const EFFORT_LIST = [...EFFORTS].join(', ').replace(/, (?=[^,]*$)/, ' or ');

function translateReasoning(value: unknown, request: ChatRequest, problems: Problem[]): void {
  if (value === null) return;
  if (!isObject(value)) {
    problems.push({ field: 'reasoning', why: 'must be an object' });
    return;
  }
  for (const [key, entry] of Object.entries(value)) {
    if (entry === undefined || entry === null) continue;
    if (key === 'effort') {
      if (typeof entry === 'string' && EFFORTS.has(entry)) request.reasoningEffort = entry as ReasoningEffort;
      else problems.push({ field: 'reasoning.effort', why: `must be ${EFFORT_LIST}` });
    } else problems.push({ field: `reasoning.${key}`, why: 'only reasoning.effort can be translated' });
  }
}

function translateTool(tool: unknown, index: number, problems: Problem[]): FunctionTool[] {
  const where = `tools[${index}]`;
  if (!isObject(tool)) {
    problems.push({ field: where, why: 'must be an object' });
    return [];
  }
  if (tool['type'] !== 'function') {
    problems.push({
      field: where,
      why: `the built-in tool ${String(tool['type'])} needs a Responses API upstream; only function tools translate`,
    });
    return [];
  }
  const name = requiredText(tool, 'name', where, problems);
  const result: FunctionTool = { type: 'function', name };
  const { description, parameters, strict } = tool;
  if (typeof description === 'string') result.description = description;
  else if (description !== undefined && description !== null) problems.push({ field: `${where}.description`, why: 'must be a string' });
  if (isObject(parameters)) result.parameters = parameters;
  else if (parameters !== undefined && parameters !== null)
    problems.push({ field: `${where}.parameters`, why: 'must be a JSON schema object' });
  if (typeof strict === 'boolean') result.strict = strict;
  else if (strict !== undefined && strict !== null) problems.push({ field: `${where}.strict`, why: 'must be a boolean' });
  return [result];
}

function translateInput(input: unknown, messages: ChatMessage[], problems: Problem[]): void {
  if (typeof input === 'string') {
    messages.push({ role: 'user', content: input });
    return;
  }
  if (!Array.isArray(input)) {
    problems.push({ field: 'input', why: 'must be text or a list of items' });
    return;
  }
  for (const [index, item] of input.entries()) translateItem(item, `input[${index}]`, messages, problems);
}

/**
 * Items a translated answer gives that a client appending the output sends back, but that carry
 * nothing a chat provider reads, so they are accepted and not sent on (as the chat route accepts an
 * answer's echoed `reasoning_content`): a `reasoning` item's text is the reasoning to read (what a
 * provider needs back of it travels as `reasoning_blocks` on the `function_call` item).
 */
const ANSWER_ONLY_ITEMS: ReadonlySet<unknown> = new Set(['reasoning']);

/** The first bytes of the image formats an image model answers in, as base64, with their media types. */
const IMAGE_SIGNATURES: ReadonlyArray<readonly [prefix: string, mediaType: string]> = [
  ['iVBORw0KGgo', 'image/png'],
  ['/9j/', 'image/jpeg'],
  ['UklGR', 'image/webp'],
  ['R0lGOD', 'image/gif'],
];

/**
 * An `image_generation_call` item a translated answer gave, back as an image of the assistant turn
 * it follows (`AssistantMessage.images`), so that an image model can go on editing it: Gemini takes
 * it back as the model turn's inline data, and a provider whose assistant turns hold no images names
 * it unsupported (`messages[i].images`). The item has its base64 bytes but not their media type,
 * which is read from the bytes; a result in no format an image model answers in is refused.
 */
function translateImageCall(item: Record<string, unknown>, where: string, messages: ChatMessage[], problems: Problem[]): void {
  const result = item['result'];
  if (typeof result !== 'string' || result === '') {
    problems.push({ field: `${where}.result`, why: 'must be the image, base64' });
    return;
  }
  const mediaType = IMAGE_SIGNATURES.find(([prefix]) => result.startsWith(prefix))?.[1];
  if (mediaType === undefined) {
    problems.push({ field: `${where}.result`, why: 'must be a PNG, JPEG, WebP or GIF image, base64' });
    return;
  }
  const last = messages.at(-1);
  const turn: AssistantMessage = last?.role === 'assistant' ? last : { role: 'assistant', content: null };
  turn.images = [...(turn.images ?? []), { type: 'image', url: `data:${mediaType};base64,${result}` }];
  if (turn !== last) messages.push(turn);
}

function translateItem(item: unknown, where: string, messages: ChatMessage[], problems: Problem[]): void {
  if (!isObject(item)) {
    problems.push({ field: where, why: 'must be an object' });
    return;
  }
  const type = item['type'] ?? 'message';
  if (type === 'message') {
    const message = translateMessage(item, where, problems);
    if (message !== undefined) messages.push(message);
    return;
  }
  if (type === 'function_call') {
    const id = requiredText(item, 'call_id', where, problems);
    const name = requiredText(item, 'name', where, problems);
    const given = item['arguments'];
    if (given !== undefined && given !== null && typeof given !== 'string')
      problems.push({ field: `${where}.arguments`, why: 'must be the arguments as JSON text' });
    const call: ToolCall = { id, type: 'function', name, arguments: typeof given === 'string' ? given : '{}' };
    // Groundwork's extension, as the translated answer gave it: the provider's signature of the call.
    if (typeof item['signature'] === 'string' && item['signature'] !== '') call.signature = item['signature'];
    const reasoning = reasoningBlocks(item['reasoning_blocks'], `${where}.reasoning_blocks`, problems);
    const last = messages.at(-1);
    // A turn's text and its tool calls are one assistant message in chat; consecutive calls join it.
    const turn: AssistantMessage = last?.role === 'assistant' ? last : { role: 'assistant', content: null };
    turn.toolCalls = [...(turn.toolCalls ?? []), call];
    if (reasoning !== undefined) turn.reasoning = [...(turn.reasoning ?? []), ...reasoning];
    if (turn !== last) messages.push(turn);
    return;
  }
  if (type === 'function_call_output') {
    const output = item['output'];
    const content =
      typeof output === 'string' ? output : Array.isArray(output) ? textParts(output, `${where}.output`, problems) : undefined;
    const id = requiredText(item, 'call_id', where, problems);
    if (content === undefined) problems.push({ field: `${where}.output`, why: 'must be text or text parts' });
    else messages.push({ role: 'tool', toolCallId: id, content });
    return;
  }
  if (ANSWER_ONLY_ITEMS.has(type)) return;
  if (type === 'image_generation_call') {
    translateImageCall(item, where, messages, problems);
    return;
  }
  problems.push({ field: `${where}.type`, why: `${String(type)} items need a Responses API upstream` });
}

/** `item[field]` as non-empty text; else '' and a problem naming it (a provider cannot pair a call with its output without it). */
function requiredText(item: Json, field: string, where: string, problems: Problem[]): string {
  const value = item[field];
  if (typeof value === 'string' && value !== '') return value;
  problems.push({ field: `${where}.${field}`, why: 'must be a non-empty string' });
  return '';
}

/**
 * Groundwork's `reasoning_blocks` extension of a `function_call` item, as a translated answer gave
 * it (see `withReasoning`); undefined when absent or malformed (then a problem names it).
 */
function reasoningBlocks(value: unknown, where: string, problems: Problem[]): ReasoningBlock[] | undefined {
  if (value === undefined || value === null) return undefined;
  const blocks = Array.isArray(value) ? value.map(reasoningBlock) : [undefined];
  if (blocks.every((block) => block !== undefined)) return blocks as ReasoningBlock[];
  problems.push({ field: where, why: 'must be the reasoning_blocks an answer gave, as they were' });
  return undefined;
}

function reasoningBlock(block: unknown): ReasoningBlock | undefined {
  if (!isObject(block) || typeof block['provider'] !== 'string' || !isProvider(block['provider'])) return undefined;
  const provider = block['provider'];
  if (block['type'] === 'redacted' && typeof block['data'] === 'string') return { type: 'redacted', provider, data: block['data'] };
  if (block['type'] !== 'thinking' || typeof block['text'] !== 'string') return undefined;
  const signature = block['signature'];
  if (signature === undefined) return { type: 'thinking', provider, text: block['text'] };
  return typeof signature === 'string' ? { type: 'thinking', provider, text: block['text'], signature } : undefined;
}

function isProvider(name: string): name is LlmProviderName {
  return (LLM_PROVIDERS as readonly string[]).includes(name);
}

function translateMessage(item: Json, where: string, problems: Problem[]): ChatMessage | undefined {
  const role = item['role'];
  const content = item['content'];
  if (role === 'assistant') {
    const message: AssistantMessage = { role: 'assistant', content: null };
    if (typeof content === 'string') message.content = content;
    else if (Array.isArray(content)) {
      const texts: string[] = [];
      content.forEach((part, index) => {
        const at = `${where}.content[${index}]`;
        if (isObject(part) && (part['type'] === 'output_text' || part['type'] === 'input_text') && typeof part['text'] === 'string')
          texts.push(part['text']);
        else if (isObject(part) && part['type'] === 'refusal' && typeof part['refusal'] === 'string') message.refusal = part['refusal'];
        else problems.push({ field: at, why: 'assistant content must be output_text or refusal parts' });
      });
      message.content = texts.join('');
    } else problems.push({ field: `${where}.content`, why: 'must be text or a list of parts' });
    return message;
  }
  if (role !== 'user' && role !== 'system' && role !== 'developer') {
    problems.push({ field: `${where}.role`, why: 'must be user, assistant, system or developer' });
    return undefined;
  }
  if (typeof content === 'string') return { role, content };
  if (!Array.isArray(content)) {
    problems.push({ field: `${where}.content`, why: 'must be text or a list of parts' });
    return undefined;
  }
  if (role !== 'user') {
    const parts = textParts(content, `${where}.content`, problems);
    return parts === undefined ? undefined : { role, content: parts };
  }
  const parts: UserContentPart[] = [];
  content.forEach((part, index) => {
    const translated = userPart(part, `${where}.content[${index}]`, problems);
    if (translated !== undefined) parts.push(translated);
  });
  return { role: 'user', content: parts };
}

function textParts(content: unknown[], where: string, problems: Problem[]): TextPart[] | undefined {
  const parts: TextPart[] = [];
  for (const [index, part] of content.entries()) {
    if (isObject(part) && (part['type'] === 'input_text' || part['type'] === 'output_text') && typeof part['text'] === 'string') {
      parts.push({ type: 'text', text: part['text'] });
    } else {
      problems.push({ field: `${where}[${index}]`, why: 'only text parts can be translated here' });
      return undefined;
    }
  }
  return parts;
}

function userPart(part: unknown, where: string, problems: Problem[]): UserContentPart | undefined {
  if (!isObject(part)) {
    problems.push({ field: where, why: 'must be an object' });
    return undefined;
  }
  switch (part['type']) {
    case 'input_text':
      if (typeof part['text'] === 'string') return { type: 'text', text: part['text'] };
      break;
    case 'input_image': {
      if (typeof part['image_url'] !== 'string') {
        problems.push({ field: where, why: 'an image by file_id needs a Responses API upstream; send image_url' });
        return undefined;
      }
      const detail = part['detail'];
      if (detail !== undefined && detail !== null && detail !== 'low' && detail !== 'high' && detail !== 'auto') {
        problems.push({ field: `${where}.detail`, why: 'must be low, high or auto; chat APIs have no other image detail' });
        return undefined;
      }
      return {
        type: 'image',
        url: part['image_url'],
        ...(detail === 'low' || detail === 'high' || detail === 'auto' ? { detail } : {}),
      };
    }
    case 'input_file': {
      const file: UserContentPart = { type: 'file' };
      if (typeof part['file_id'] === 'string') file.fileId = part['file_id'];
      if (typeof part['file_data'] === 'string') file.data = part['file_data'];
      if (typeof part['filename'] === 'string') file.filename = part['filename'];
      if (file.fileId !== undefined || file.data !== undefined) return file;
      break;
    }
  }
  problems.push({ field: where, why: `a ${String(part['type'])} part cannot be translated` });
  return undefined;
}
