/** A call the model asked for. `arguments` is the model's JSON text, as it wrote it (it may be invalid). */
export interface ToolCall {
  /** The provider's id for the call (`call_…`, `toolu_…`); a tool result answers it by this id. */
  id: string;
  type: 'function';
  /** The function's name. */
  name: string;
  /** The arguments, as JSON text. */
  arguments: string;
}
