/** One server-sent event: its `event:` name, if any, and its `data:` lines joined. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * Reads server-sent events from a byte stream, as the event-stream format defines them: fields up
 * to a blank line, `data` lines joined with newlines, comments (`:`) skipped, `\r\n` accepted.
 */
export async function* readSseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent, void, undefined> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: string | undefined;
  let data: string[] = [];
  const take = (line: string): SseEvent | undefined => {
    if (line === '') {
      const done = data.length > 0 ? { event, data: data.join('\n') } : undefined;
      event = undefined;
      data = [];
      return done;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    return undefined;
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n');
    while (end !== -1) {
      const line = buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      const done = take(line);
      if (done !== undefined) yield done;
      end = buffer.indexOf('\n');
    }
  }
  const last = take(buffer.replace(/\r$/, '')) ?? take('');
  if (last !== undefined) yield last;
}
