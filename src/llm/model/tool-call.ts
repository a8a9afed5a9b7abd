/** A call the model asked for. `arguments` is the model's JSON text, as it wrote it (it may be invalid). */
export interface ToolCall {
  /** The provider's id for the call (`call_…`, `toolu_…`); a tool result answers it by this id. */
  id: string;
  type: 'function';
  /** The function's name. */
  name: string;
  /** The arguments, as JSON text. */
  arguments: string;
  /**
   * An opaque signature the provider attached to the call (Gemini's `thoughtSignature`, which
   * Gemini 3 requires back on the same call in the next turn of a tool loop). Sent back only to
   * the provider family that reads it; keep it when repeating the call in an assistant message.
   */
  signature?: string;
}
